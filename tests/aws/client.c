/*
 * The AWS client as a whole: region and endpoint resolution, error reporting, and retries
 * against a scripted local server (tests/tools/flaky_server.py) with the sleep and the
 * jitter redirected, so back-off is checked exactly and without waiting.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aws/aws.h"
#include "aws/model.h"
#include "helpers/server.h"
#include "util/error.h"
#include "util/sys.h"

extern char **environ;

static char home[256];

/* Each test starts from an empty AWS environment and an empty HOME. */
static void clean_env(void)
{
    char **e;
    int again = 1;

    while (again) {
        again = 0;
        for (e = environ; *e; e++) {
            if (strncmp(*e, "AWS_", 4) == 0) {
                char name[256];
                size_t n = strcspn(*e, "=");
                snprintf(name, sizeof(name), "%.*s", (int)n, *e);
                unsetenv(name);
                again = 1;
                break;
            }
        }
    }
    snprintf(home, sizeof(home), "/tmp/plumb-client-test-%d", (int)getpid());
    mkdir(home, 0700);
    setenv("HOME", home, 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
}

static void teardown_env(void)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", home);
}

static char *endpoint_of(struct plumb_aws *aws, const char *service, const char **source)
{
    struct plumb_buf b = PLUMB_BUF_INIT;

    cr_assert_eq(plumb_aws_endpoint(&b, source, aws, service), 0, "%s", plumb_error_message());
    return plumb_buf_detach(&b);
}

static void expect_endpoint(struct plumb_aws *aws, const char *service, const char *url,
                            const char *source)
{
    const char *got_source = NULL;
    char *got = endpoint_of(aws, service, &got_source);

    cr_expect_str_eq(got, url, "%s: %s", service, got);
    cr_expect_str_eq(got_source, source, "%s: %s", service, got_source);
    free(got);
}

TestSuite(endpoint, .init = clean_env, .fini = teardown_env);

Test(endpoint, public_endpoints_by_region)
{
    struct plumb_aws *aws;

    setenv("AWS_REGION", "eu-west-1", 1);
    cr_assert_eq(plumb_aws_new(&aws, NULL), 0, "%s", plumb_error_message());
    expect_endpoint(aws, "sts", "https://sts.eu-west-1.amazonaws.com", "default");
    expect_endpoint(aws, "iam", "https://iam.amazonaws.com", "default");
    expect_endpoint(aws, "ecr", "https://api.ecr.eu-west-1.amazonaws.com", "default");
    expect_endpoint(aws, "elbv2", "https://elasticloadbalancing.eu-west-1.amazonaws.com",
                    "default");
    expect_endpoint(aws, "s3", "https://s3.eu-west-1.amazonaws.com", "default");
    expect_endpoint(aws, "logs", "https://logs.eu-west-1.amazonaws.com", "default");
    plumb_aws_free(aws);
}

Test(endpoint, global_endpoints_in_us_east_1)
{
    struct plumb_aws *aws;

    setenv("AWS_REGION", "us-east-1", 1);
    cr_assert_eq(plumb_aws_new(&aws, NULL), 0);
    expect_endpoint(aws, "s3", "https://s3.amazonaws.com", "default");
    expect_endpoint(aws, "sts", "https://sts.us-east-1.amazonaws.com", "default");
    plumb_aws_free(aws);
    setenv("AWS_STS_REGIONAL_ENDPOINTS", "legacy", 1);
    cr_assert_eq(plumb_aws_new(&aws, NULL), 0);
    expect_endpoint(aws, "sts", "https://sts.amazonaws.com", "default");
    plumb_aws_free(aws);
}

Test(endpoint, china_partition_suffix)
{
    struct plumb_aws *aws;

    setenv("AWS_REGION", "cn-north-1", 1);
    cr_assert_eq(plumb_aws_new(&aws, NULL), 0);
    expect_endpoint(aws, "ecs", "https://ecs.cn-north-1.amazonaws.com.cn", "default");
    plumb_aws_free(aws);
}

Test(endpoint, endpoint_url_variables)
{
    struct plumb_aws *aws;

    setenv("AWS_REGION", "us-east-1", 1);
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000/", 1);
    setenv("AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2", "http://localhost:6000", 1);
    setenv("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "https://logs.example.test", 1);
    setenv("AWS_ENDPOINT_URL_RESOURCE_GROUPS_TAGGING_API", "http://[::1]:7000", 1);
    cr_assert_eq(plumb_aws_new(&aws, NULL), 0, "%s", plumb_error_message());
    expect_endpoint(aws, "sts", "http://127.0.0.1:5000", "AWS_ENDPOINT_URL");
    expect_endpoint(aws, "elbv2", "http://localhost:6000", "AWS_ENDPOINT_URL_<SERVICE>");
    expect_endpoint(aws, "logs", "https://logs.example.test", "AWS_ENDPOINT_URL_<SERVICE>");
    expect_endpoint(aws, "resourcegroupstaggingapi", "http://[::1]:7000",
                    "AWS_ENDPOINT_URL_<SERVICE>");
    plumb_aws_free(aws);
}

Test(endpoint, every_service_has_an_env_name)
{
    static const char *const expected[][2] = {
        {"ecr", "ECR"},
        {"ecs", "ECS"},
        {"elbv2", "ELASTIC_LOAD_BALANCING_V2"},
        {"rds", "RDS"},
        {"s3", "S3"},
        {"iam", "IAM"},
        {"sts", "STS"},
        {"ec2", "EC2"},
        {"secretsmanager", "SECRETS_MANAGER"},
        {"logs", "CLOUDWATCH_LOGS"},
        {"apprunner", "APPRUNNER"},
        {"dynamodb", "DYNAMODB"},
        {"resourcegroupstaggingapi", "RESOURCE_GROUPS_TAGGING_API"},
    };
    const struct plumb_aws_service *svc;
    size_t i;

    for (i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        cr_assert_eq(plumb_aws_model_service(&svc, expected[i][0]), 0);
        cr_expect_str_eq(svc->env_name, expected[i][1]);
    }
}

static void expect_bad_endpoint(const char *var, const char *value, const char *words)
{
    struct plumb_aws *aws = NULL;
    int rc;

    setenv("AWS_REGION", "us-east-1", 1);
    setenv(var, value, 1);
    rc = plumb_aws_new(&aws, NULL);
    cr_expect_eq(rc, PLUMB_EINVALID, "%s=%s accepted", var, value);
    cr_expect_null(aws);
    cr_expect(strstr(plumb_error_message(), var) != NULL, "%s", plumb_error_message());
    cr_expect(strstr(plumb_error_message(), words) != NULL, "%s", plumb_error_message());
    cr_expect(strchr(plumb_error_message(), '\n') == NULL, "message is not one line");
    unsetenv(var);
}

Test(endpoint, malformed_urls_are_refused)
{
    expect_bad_endpoint("AWS_ENDPOINT_URL", "localhost:5000", "expected http:// or https://");
    expect_bad_endpoint("AWS_ENDPOINT_URL", "http://", "no host");
    expect_bad_endpoint("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:70000", "bad port");
    expect_bad_endpoint("AWS_ENDPOINT_URL_ECS", "http://host:/", "empty port");
    expect_bad_endpoint("AWS_ENDPOINT_URL_S3", "https://a.test/x?y=1", "no query");
    expect_bad_endpoint("AWS_ENDPOINT_URL_IAM", "http://user@host", "bad character");
}

Test(endpoint, region_order)
{
    struct plumb_aws *aws;
    struct plumb_aws_options opts = {.region = "ap-south-1"};
    FILE *f;
    char path[300];

    snprintf(path, sizeof(path), "%s/config", home);
    f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("[default]\nregion = eu-central-1\n", f);
    fclose(f);
    setenv("AWS_CONFIG_FILE", path, 1);

    cr_assert_eq(plumb_aws_new(&aws, &opts), 0, "%s", plumb_error_message());
    cr_expect_str_eq(plumb_aws_region(aws), "eu-central-1");
    cr_expect_str_eq(plumb_aws_region_source(aws), "profile");
    plumb_aws_free(aws);

    setenv("AWS_DEFAULT_REGION", "us-west-1", 1);
    cr_assert_eq(plumb_aws_new(&aws, &opts), 0);
    cr_expect_str_eq(plumb_aws_region(aws), "us-west-1");
    plumb_aws_free(aws);

    setenv("AWS_REGION", "us-west-2", 1);
    cr_assert_eq(plumb_aws_new(&aws, &opts), 0);
    cr_expect_str_eq(plumb_aws_region(aws), "us-west-2");
    cr_expect_str_eq(plumb_aws_region_source(aws), "AWS_REGION");
    plumb_aws_free(aws);

    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");
    unsetenv("AWS_CONFIG_FILE");
    cr_assert_eq(plumb_aws_new(&aws, &opts), 0);
    cr_expect_str_eq(plumb_aws_region(aws), "ap-south-1");
    cr_expect_str_eq(plumb_aws_region_source(aws), "plumb.yaml");
    plumb_aws_free(aws);
}

Test(endpoint, bad_retry_settings_are_refused)
{
    struct plumb_aws *aws = NULL;

    setenv("AWS_MAX_ATTEMPTS", "zero", 1);
    cr_expect_eq(plumb_aws_new(&aws, NULL), PLUMB_EINVALID);
    cr_expect(strstr(plumb_error_message(), "AWS_MAX_ATTEMPTS") != NULL);
    unsetenv("AWS_MAX_ATTEMPTS");
    setenv("AWS_RETRY_MODE", "eager", 1);
    cr_expect_eq(plumb_aws_new(&aws, NULL), PLUMB_EINVALID);
    cr_expect(strstr(plumb_error_message(), "AWS_RETRY_MODE") != NULL);
}

/* ---- retries against a scripted server ---------------------------------------------------- */

static long sleeps[16];
static int nsleeps;
static uint64_t fixed_random;

static void record_sleep(long ms)
{
    if (nsleeps < 16)
        sleeps[nsleeps++] = ms;
}

static uint64_t fake_random(void)
{
    return fixed_random;
}

static struct test_server server;
static char log_path[300];

static void start_flaky(const char *const *answers)
{
    const char *args[12];
    int i = 0;

    snprintf(log_path, sizeof(log_path), "%s/requests.log", home);
    args[i++] = "--log";
    args[i++] = log_path;
    for (; *answers && i < 11; answers++)
        args[i++] = *answers;
    args[i] = NULL;
    cr_assert_eq(test_server_start(&server, "flaky_server.py", args), 0);
    setenv("AWS_ENDPOINT_URL", server.url, 1);
    setenv("AWS_REGION", "us-east-1", 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", 1);
    plumb_sleep_set(record_sleep);
    plumb_random_set(fake_random);
    nsleeps = 0;
}

static int requests_seen(void)
{
    FILE *f = fopen(log_path, "r");
    int n = 0, c;

    if (!f)
        return 0;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

static void stop_flaky(void)
{
    test_server_stop(&server);
    teardown_env();
}

TestSuite(client, .init = clean_env, .fini = stop_flaky);

Test(client, retries_throttling_5xx_and_dropped_connections)
{
    static const char *const answers[] = {"throttle", "503", "drop", "500", "ok", NULL};
    struct plumb_aws *aws;
    json_t *out = NULL;

    start_flaky(answers);
    setenv("AWS_MAX_ATTEMPTS", "5", 1);
    fixed_random = UINT64_MAX; /* jitter at its top: each wait is the cap for its attempt */
    cr_assert_eq(plumb_aws_new(&aws, NULL), 0, "%s", plumb_error_message());
    cr_assert_eq(plumb_aws_call(aws, "sts", "GetCallerIdentity", NULL, &out), 0, "%s",
                 plumb_error_message());
    cr_expect_str_eq(json_string_value(json_object_get(out, "Account")), "123456789012");
    cr_expect_eq(requests_seen(), 5);
    cr_expect_eq(plumb_aws_stats_calls(aws, "sts"), 5, "%lu", plumb_aws_stats_calls(aws, "sts"));
    cr_assert_eq(nsleeps, 4, "%d", nsleeps);
    /* capped exponential: just under 1 s, 2 s, 4 s, 8 s */
    cr_expect(sleeps[0] >= 999 && sleeps[0] <= 1000, "%ld", sleeps[0]);
    cr_expect(sleeps[1] >= 1999 && sleeps[1] <= 2000, "%ld", sleeps[1]);
    cr_expect(sleeps[2] >= 3999 && sleeps[2] <= 4000, "%ld", sleeps[2]);
    cr_expect(sleeps[3] >= 7999 && sleeps[3] <= 8000, "%ld", sleeps[3]);
    json_decref(out);
    plumb_aws_free(aws);
}

Test(client, full_jitter_can_wait_nothing)
{
    static const char *const answers[] = {"throttle", "ok", NULL};
    struct plumb_aws *aws;
    json_t *out = NULL;

    start_flaky(answers);
    fixed_random = 0;
    cr_assert_eq(plumb_aws_new(&aws, NULL), 0);
    cr_assert_eq(plumb_aws_call(aws, "sts", "GetCallerIdentity", NULL, &out), 0);
    cr_assert_eq(nsleeps, 1);
    cr_expect_eq(sleeps[0], 0);
    json_decref(out);
    plumb_aws_free(aws);
}

Test(client, gives_up_after_max_attempts)
{
    static const char *const answers[] = {"throttle", NULL};
    const struct plumb_aws_error_info *e;
    struct plumb_aws *aws;
    json_t *out = NULL;

    start_flaky(answers);
    setenv("AWS_MAX_ATTEMPTS", "3", 1);
    cr_assert_eq(plumb_aws_new(&aws, NULL), 0);
    cr_expect_eq(plumb_aws_call(aws, "sts", "GetCallerIdentity", NULL, &out), PLUMB_ETHROTTLED);
    cr_expect_null(out);
    cr_expect_eq(requests_seen(), 3);
    cr_expect(strstr(plumb_error_message(), "Throttling: Rate exceeded") != NULL, "%s",
              plumb_error_message());
    cr_expect(strstr(plumb_error_message(), "after 3 attempts") != NULL, "%s",
              plumb_error_message());
    e = plumb_aws_last_error();
    cr_assert_not_null(e);
    cr_expect_str_eq(e->code, "Throttling");
    cr_expect_eq(e->status, 400);
    plumb_aws_free(aws);
}

Test(client, ten_attempts_unless_told_otherwise)
{
    static const char *const answers[] = {"throttle", NULL};
    static const long caps[] = {1000, 2000, 4000, 8000, 16000, 20000, 20000, 20000, 20000};
    struct plumb_aws *aws;
    json_t *out = NULL;
    int i;

    start_flaky(answers);
    fixed_random = UINT64_MAX;
    cr_assert_eq(plumb_aws_new(&aws, NULL), 0);
    cr_expect_eq(plumb_aws_call(aws, "sts", "GetCallerIdentity", NULL, &out), PLUMB_ETHROTTLED);
    cr_expect_eq(requests_seen(), 10);
    cr_expect(strstr(plumb_error_message(), "after 10 attempts") != NULL, "%s",
              plumb_error_message());
    cr_assert_eq(nsleeps, 9, "%d", nsleeps);
    for (i = 0; i < 9; i++) /* the exponential meets its 20 s cap at the sixth wait */
        cr_expect(sleeps[i] >= caps[i] - 1 && sleeps[i] <= caps[i], "wait %d: %ld", i, sleeps[i]);
    plumb_aws_free(aws);
}

/* A certificate or CA problem is the same on every try: reported at once, not after every
 * back-off (the server here speaks plain HTTP, and the CA bundle is no certificate at all). */
Test(client, tls_set_up_failures_are_not_retried)
{
    static const char *const answers[] = {"ok", NULL};
    char url[300], bundle[300];
    struct plumb_aws *aws;
    json_t *out = NULL;
    FILE *f;

    start_flaky(answers);
    snprintf(url, sizeof(url), "https://%s", server.url + strlen("http://"));
    setenv("AWS_ENDPOINT_URL", url, 1);
    snprintf(bundle, sizeof(bundle), "%s/not-a-bundle.pem", home);
    f = fopen(bundle, "w");
    cr_assert_not_null(f);
    fputs("this is not a certificate\n", f);
    fclose(f);
    setenv("AWS_CA_BUNDLE", bundle, 1);
    cr_assert_eq(plumb_aws_new(&aws, NULL), 0, "%s", plumb_error_message());
    cr_expect_eq(plumb_aws_call(aws, "sts", "GetCallerIdentity", NULL, &out), PLUMB_ENET);
    cr_expect_null(out);
    cr_expect_eq(nsleeps, 0, "retried %d times: %s", nsleeps, plumb_error_message());
    cr_expect(strstr(plumb_error_message(), "after 1 attempt") != NULL, "%s",
              plumb_error_message());
    unsetenv("AWS_CA_BUNDLE");
    plumb_aws_free(aws);
}

/* An endpoint that never answered and cannot be reached (a wrong AWS_ENDPOINT_URL) is given up
 * after the SDKs' 3 attempts rather than ten; one that answered before gets every attempt. */
Test(client, an_endpoint_never_reached_gets_three_attempts)
{
    static const char *const answers[] = {"ok", NULL};
    struct plumb_aws *aws;
    json_t *out = NULL;

    start_flaky(answers);
    test_server_stop(&server);
    cr_assert_eq(plumb_aws_new(&aws, NULL), 0, "%s", plumb_error_message());
    cr_expect_eq(plumb_aws_call(aws, "sts", "GetCallerIdentity", NULL, &out), PLUMB_ENET);
    cr_expect_eq(nsleeps, 2, "%d waits: %s", nsleeps, plumb_error_message());
    cr_expect(strstr(plumb_error_message(), "after 3 attempts") != NULL, "%s",
              plumb_error_message());
    cr_expect(strstr(plumb_error_message(), "has not answered once") != NULL, "%s",
              plumb_error_message());
    cr_expect_eq(plumb_aws_stats_calls(aws, "sts"), 3);
    plumb_aws_free(aws);
}

Test(client, an_endpoint_that_answered_gets_every_attempt)
{
    static const char *const answers[] = {"ok", NULL};
    struct plumb_aws *aws;
    json_t *out = NULL;

    start_flaky(answers);
    setenv("AWS_MAX_ATTEMPTS", "5", 1);
    cr_assert_eq(plumb_aws_new(&aws, NULL), 0, "%s", plumb_error_message());
    cr_assert_eq(plumb_aws_call(aws, "sts", "GetCallerIdentity", NULL, &out), 0, "%s",
                 plumb_error_message());
    json_decref(out);
    out = NULL;
    test_server_stop(&server); /* the port now refuses */
    cr_expect_eq(plumb_aws_call(aws, "sts", "GetCallerIdentity", NULL, &out), PLUMB_ENET);
    cr_expect_eq(nsleeps, 4, "%d waits: %s", nsleeps, plumb_error_message());
    cr_expect(strstr(plumb_error_message(), "after 5 attempts") != NULL, "%s",
              plumb_error_message());
    plumb_aws_free(aws);
}

static void clean_env_stderr(void)
{
    clean_env();
    cr_redirect_stderr();
}

/* Ten attempts can take a minute or two: after the third failure plumb says why it waits. */
Test(client, says_why_it_is_still_trying, .init = clean_env_stderr)
{
    static const char *const answers[] = {"throttle", "throttle", "throttle", "ok", NULL};
    struct plumb_aws *aws;
    json_t *out = NULL;
    char text[4096];
    size_t n;
    FILE *f;

    start_flaky(answers);
    cr_assert_eq(plumb_aws_new(&aws, NULL), 0);
    cr_assert_eq(plumb_aws_call(aws, "sts", "GetCallerIdentity", NULL, &out), 0, "%s",
                 plumb_error_message());
    fflush(stderr);
    f = cr_get_redirected_stderr();
    n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    cr_expect(strstr(text, "sts GetCallerIdentity: Throttling; still trying (7 attempts left)") !=
                  NULL,
              "%s", text);
    json_decref(out);
    plumb_aws_free(aws);
}

Test(client, exists_and_in_use_are_conflicts)
{
    static const char *const answers[] = {"exists", "inuse", NULL};
    struct plumb_aws *aws;
    json_t *out = NULL;

    start_flaky(answers);
    cr_assert_eq(plumb_aws_new(&aws, NULL), 0);
    cr_expect_eq(plumb_aws_call(aws, "sts", "GetCallerIdentity", NULL, &out), PLUMB_ECONFLICT);
    cr_expect(strstr(plumb_error_message(), "ResourceExistsException") != NULL, "%s",
              plumb_error_message());
    cr_expect_eq(plumb_aws_call(aws, "sts", "GetCallerIdentity", NULL, &out), PLUMB_ECONFLICT);
    cr_expect(strstr(plumb_error_message(), "ResourceInUse") != NULL, "%s", plumb_error_message());
    cr_expect_eq(requests_seen(), 2, "conflicts are not retried");
    plumb_aws_free(aws);
}

Test(client, other_errors_fail_at_once_with_code_and_request_id)
{
    static const char *const answers[] = {"denied", "ok", NULL};
    struct plumb_aws *aws;
    json_t *out = NULL;

    start_flaky(answers);
    cr_assert_eq(plumb_aws_new(&aws, NULL), 0);
    cr_expect_eq(plumb_aws_call(aws, "sts", "GetCallerIdentity", NULL, &out), PLUMB_EAUTH);
    cr_expect_eq(requests_seen(), 1);
    cr_expect_eq(nsleeps, 0);
    cr_expect(strstr(plumb_error_message(), "sts GetCallerIdentity: AccessDenied: not allowed") !=
                  NULL,
              "%s", plumb_error_message());
    cr_expect(strstr(plumb_error_message(), "HTTP 403") != NULL, "%s", plumb_error_message());
    cr_expect(strstr(plumb_error_message(), "request id req-accessdenied") != NULL, "%s",
              plumb_error_message());
    plumb_aws_free(aws);
}

Test(client, legacy_mode_and_timeouts)
{
    static const char *const answers[] = {"slow", "ok", NULL};
    struct plumb_aws_options opts = {.timeout_ms = 500};
    struct plumb_aws *aws;
    json_t *out = NULL;

    start_flaky(answers);
    setenv("AWS_RETRY_MODE", "legacy", 1);
    fixed_random = UINT64_MAX;
    cr_assert_eq(plumb_aws_new(&aws, &opts), 0);
    cr_assert_eq(plumb_aws_call(aws, "sts", "GetCallerIdentity", NULL, &out), 0, "%s",
                 plumb_error_message());
    cr_expect_eq(requests_seen(), 2);
    cr_assert_eq(nsleeps, 1);
    cr_expect(sleeps[0] >= 99 && sleeps[0] <= 100, "legacy base is 100 ms: %ld", sleeps[0]);
    json_decref(out);
    plumb_aws_free(aws);
}

Test(client, requests_are_signed)
{
    static const char *const answers[] = {"ok", NULL};
    struct plumb_aws *aws;
    json_t *out = NULL;
    char line[512] = "";
    FILE *f;

    start_flaky(answers);
    cr_assert_eq(plumb_aws_new(&aws, NULL), 0);
    cr_assert_eq(plumb_aws_call(aws, "sts", "GetCallerIdentity", NULL, &out), 0);
    f = fopen(log_path, "r");
    cr_assert_not_null(f);
    cr_assert_not_null(fgets(line, sizeof(line), f));
    fclose(f);
    cr_expect(
        strncmp(line, "POST / auth=yes body=Action=GetCallerIdentity&Version=2011-06-15", 64) == 0,
        "%s", line);
    json_decref(out);
    plumb_aws_free(aws);
}

/* ---- creates whose outcome is unknown ------------------------------------------------------ */

/* CreateRole's input; the flaky server answers it like any call */
static json_t *create_role_input(void)
{
    return json_pack("{s:s, s:s}", "RoleName", "r", "AssumeRolePolicyDocument", "{}");
}

/* The `n`-th line (from 0) of the server's request log, or "". */
static void request_line(int n, char *out, size_t size)
{
    FILE *f = fopen(log_path, "r");
    char line[2048];
    int i = 0;

    out[0] = '\0';
    if (!f)
        return;
    while (fgets(line, sizeof(line), f))
        if (i++ == n)
            snprintf(out, size, "%s", line);
    fclose(f);
}

/* A create whose connection dropped after it was sent may have worked: a second one could make
 * a second resource, so it is not resent; the caller is told the outcome is unknown. */
Test(client, create_not_resent_after_a_dropped_connection)
{
    static const char *const answers[] = {"drop", "ok", NULL};
    struct plumb_aws *aws;
    json_t *in = create_role_input(), *out = NULL;

    start_flaky(answers);
    cr_assert_eq(plumb_aws_new(&aws, NULL), 0);
    cr_expect_eq(plumb_aws_call(aws, "iam", "CreateRole", in, &out), PLUMB_EUNCERTAIN, "%s",
                 plumb_error_message());
    cr_expect_null(out);
    cr_expect_eq(requests_seen(), 1);
    cr_expect_eq(nsleeps, 0);
    cr_expect(strstr(plumb_error_message(), "iam CreateRole: ") != NULL, "%s",
              plumb_error_message());
    cr_expect(strstr(plumb_error_message(), "whether it took effect is unknown") != NULL, "%s",
              plumb_error_message());
    json_decref(in);
    plumb_aws_free(aws);
}

/* A 5xx can come after the work was done: the same doubt, with the AWS error kept. */
Test(client, create_not_resent_after_a_5xx)
{
    static const char *const answers[] = {"500", "ok", NULL};
    const struct plumb_aws_error_info *e;
    struct plumb_aws *aws;
    json_t *in = create_role_input(), *out = NULL;

    start_flaky(answers);
    cr_assert_eq(plumb_aws_new(&aws, NULL), 0);
    cr_expect_eq(plumb_aws_call(aws, "iam", "CreateRole", in, &out), PLUMB_EUNCERTAIN, "%s",
                 plumb_error_message());
    cr_expect_eq(requests_seen(), 1);
    cr_expect(strstr(plumb_error_message(), "InternalFailure: oops (HTTP 500") != NULL, "%s",
              plumb_error_message());
    e = plumb_aws_last_error();
    cr_assert_not_null(e);
    cr_expect_eq(e->status, 500);
    json_decref(in);
    plumb_aws_free(aws);
}

/* plumb_aws_create_settled: a create whose answer was lost is settled by reading what it would
 * have made: found, done (the read's answer); not found, created once more. */
Test(client, a_lost_create_is_settled_by_a_read)
{
    static const char *const found[] = {"drop", "ok", NULL};
    static const char *const missing[] = {"drop", "notfound", "ok", NULL};
    struct plumb_aws *aws;
    json_t *in = create_role_input(), *check = json_pack("{s:s}", "RoleName", "r"), *out = NULL;
    char line[256];

    start_flaky(found);
    cr_assert_eq(plumb_aws_new(&aws, NULL), 0);
    cr_expect_eq(plumb_aws_create_settled(aws, "iam", "CreateRole", in, "GetRole", check, &out), 0,
                 "%s", plumb_error_message());
    cr_expect_eq(requests_seen(), 2, "the create, then the read that found it");
    request_line(1, line, sizeof(line));
    cr_expect(strstr(line, "GetRole") != NULL, "%s", line);
    json_decref(out);
    out = NULL;
    plumb_aws_free(aws);
    test_server_stop(&server);
    unlink(log_path); /* the second server's requests alone */

    start_flaky(missing);
    cr_assert_eq(plumb_aws_new(&aws, NULL), 0);
    cr_expect_eq(plumb_aws_create_settled(aws, "iam", "CreateRole", in, "GetRole", check, &out), 0,
                 "%s", plumb_error_message());
    cr_expect_eq(requests_seen(), 3, "the create, the read that did not find it, the create");
    request_line(2, line, sizeof(line));
    cr_expect(strstr(line, "CreateRole") != NULL, "%s", line);
    json_decref(out);
    json_decref(in);
    json_decref(check);
    plumb_aws_free(aws);
}

/* A throttle refuses the request before any work: a create is resent after it; and so after a
 * connection that never opened (nothing was sent). */
Test(client, create_resent_after_a_throttle_or_a_failed_connect)
{
    static const char *const answers[] = {"throttle", "ok", NULL};
    struct plumb_aws *aws;
    json_t *in = create_role_input(), *out = NULL;

    start_flaky(answers);
    cr_assert_eq(plumb_aws_new(&aws, NULL), 0);
    cr_expect_eq(plumb_aws_call(aws, "iam", "CreateRole", in, &out), 0, "%s",
                 plumb_error_message());
    cr_expect_eq(requests_seen(), 2);
    json_decref(out);
    out = NULL;
    plumb_aws_free(aws);

    /* port 1 on loopback: refused, nothing sent */
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1", 1);
    setenv("AWS_MAX_ATTEMPTS", "2", 1);
    nsleeps = 0;
    cr_assert_eq(plumb_aws_new(&aws, NULL), 0);
    cr_expect_eq(plumb_aws_call(aws, "iam", "CreateRole", in, &out), PLUMB_ENET, "%s",
                 plumb_error_message());
    cr_expect_eq(nsleeps, 1, "the create was tried again");
    cr_expect(strstr(plumb_error_message(), "after 2 attempts") != NULL, "%s",
              plumb_error_message());
    json_decref(in);
    plumb_aws_free(aws);
}

/* A create carrying an idempotency token is resent: the token is made once per call, so AWS
 * sees the same one twice and answers the second with the first one's result. */
Test(client, create_with_an_idempotency_token_is_resent_with_the_same_token)
{
    static const char *const answers[] = {"drop", "json", NULL};
    struct plumb_aws *aws;
    json_t *in = json_pack("{s:s}", "Name", "s"), *out = NULL;
    char first[2048], second[2048];
    const char *a, *b;

    start_flaky(answers);
    cr_assert_eq(plumb_aws_new(&aws, NULL), 0);
    cr_expect_eq(plumb_aws_call(aws, "secretsmanager", "CreateSecret", in, &out), 0, "%s",
                 plumb_error_message());
    cr_assert_eq(requests_seen(), 2);
    request_line(0, first, sizeof(first));
    request_line(1, second, sizeof(second));
    a = strstr(first, "\"ClientRequestToken\"");
    b = strstr(second, "\"ClientRequestToken\"");
    cr_assert(a && b, "%s / %s", first, second);
    cr_expect_eq(strncmp(a, b, 60), 0, "%.60s / %.60s", a, b);
    json_decref(out);
    json_decref(in);
    plumb_aws_free(aws);
}

/*
 * On a kept-alive connection that dies before any answer, libcurl sends the request again by
 * itself. --stats counts that request (it reached the server); for a create, the second
 * sending is refused: the first one may have worked.
 */
Test(client, libcurl_resends_are_counted_and_refused_for_creates)
{
    static const char *const answers[] = {"--keep-alive", "ok",   "drop", "ok",
                                          "ok",           "drop", "ok",   NULL};
    struct plumb_aws *aws;
    json_t *in = create_role_input(), *out = NULL;

    start_flaky(answers);
    cr_assert_eq(plumb_aws_new(&aws, NULL), 0);
    cr_assert_eq(plumb_aws_call(aws, "sts", "GetCallerIdentity", NULL, &out), 0, "%s",
                 plumb_error_message());
    json_decref(out);
    cr_assert_eq(plumb_aws_call(aws, "sts", "GetCallerIdentity", NULL, &out), 0, "%s",
                 plumb_error_message());
    json_decref(out);
    cr_expect_eq(requests_seen(), 3);
    cr_expect_eq(plumb_aws_stats_calls(aws, "sts"), 3, "%lu", plumb_aws_stats_calls(aws, "sts"));
    cr_expect_eq(nsleeps, 0, "libcurl's resend is not one of plumb's retries");

    /* the 4th answer (ok) keeps the connection; CreateRole meets the 5th (drop) on it */
    cr_assert_eq(plumb_aws_call(aws, "sts", "GetCallerIdentity", NULL, &out), 0, "%s",
                 plumb_error_message());
    json_decref(out);
    out = NULL;
    cr_expect_eq(plumb_aws_call(aws, "iam", "CreateRole", in, &out), PLUMB_EUNCERTAIN, "%s",
                 plumb_error_message());
    cr_expect_eq(requests_seen(), 5, "the create reached the server once");
    cr_expect_eq(plumb_aws_stats_calls(aws, "iam"), 1);
    json_decref(in);
    plumb_aws_free(aws);
}

/* TLS is always verified: a self-signed server is refused until AWS_CA_BUNDLE trusts it. */
Test(client, tls_verified_and_ca_bundle_honoured)
{
    char cert[300], key[300], cmd[1024], url[128];
    const char *args[8];
    struct plumb_aws *aws;
    json_t *out = NULL;

    snprintf(cert, sizeof(cert), "%s/cert.pem", home);
    snprintf(key, sizeof(key), "%s/key.pem", home);
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey rsa:2048 -nodes -keyout '%s' -out '%s' -days 1 "
             "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1",
             key, cert);
    cr_assert_eq(system(cmd), 0, "openssl could not make a certificate");
    snprintf(log_path, sizeof(log_path), "%s/requests.log", home);
    args[0] = "--log";
    args[1] = log_path;
    args[2] = "--cert";
    args[3] = cert;
    args[4] = "--key";
    args[5] = key;
    args[6] = "ok";
    args[7] = NULL;
    cr_assert_eq(test_server_start(&server, "flaky_server.py", args), 0);
    snprintf(url, sizeof(url), "https://127.0.0.1:%d", server.port);
    setenv("AWS_ENDPOINT_URL", url, 1);
    setenv("AWS_REGION", "us-east-1", 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
    setenv("AWS_MAX_ATTEMPTS", "1", 1);

    cr_assert_eq(plumb_aws_new(&aws, NULL), 0);
    cr_expect_eq(plumb_aws_call(aws, "sts", "GetCallerIdentity", NULL, &out), PLUMB_ENET,
                 "an untrusted certificate must be refused");
    cr_expect(strstr(plumb_error_message(), "certificate") != NULL, "%s", plumb_error_message());
    plumb_aws_free(aws);

    setenv("AWS_CA_BUNDLE", cert, 1);
    cr_assert_eq(plumb_aws_new(&aws, NULL), 0);
    cr_expect_eq(plumb_aws_call(aws, "sts", "GetCallerIdentity", NULL, &out), 0, "%s",
                 plumb_error_message());
    cr_expect_str_eq(json_string_value(json_object_get(out, "Account")), "123456789012");
    json_decref(out);
    plumb_aws_free(aws);
}
