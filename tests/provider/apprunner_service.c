/*
 * AWS::AppRunner::Service against the App Runner emulator (tests/emulators/apprunner_server.py;
 * moto has no App Runner): requests validated against botocore's model, services passing
 * through OPERATION_IN_PROGRESS. Every outcome is checked with boto3 as well as with the
 * driver's own read. AWS_ENDPOINT_URL points at a closed port, so only a client honouring
 * AWS_ENDPOINT_URL_APPRUNNER reaches the emulator.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers/driver.h"
#include "helpers/moto.h"
#include "helpers/server.h"
#include "provider/provider.h"
#include "schema/schema.h"
#include "util/buf.h"
#include "util/error.h"

#define ROLE          "arn:aws:iam::123456789012:role/AppRunnerECRAccessRole"
#define INSTANCE_ROLE "arn:aws:iam::123456789012:role/astro-ai-instance"
#define IMAGE         "123456789012.dkr.ecr.us-east-1.amazonaws.com/blog-api"
#define OBSERVABILITY                                                                              \
    "arn:aws:apprunner:us-east-1:123456789012:observabilityconfiguration/xray/1/"                  \
    "0123456789abcdef0123456789abcdef"

static struct test_server emulator;
static char home[64];

static void clear_aws_env(void)
{
    extern char **environ;
    char name[256], **e;
    int again = 1;

    while (again) {
        again = 0;
        for (e = environ; *e; e++) {
            if (strncmp(*e, "AWS_", 4) == 0) {
                snprintf(name, sizeof(name), "%.*s", (int)strcspn(*e, "="), *e);
                unsetenv(name);
                again = 1;
                break;
            }
        }
    }
}

static void setup(void)
{
    const char *args[] = {"--port", "0", NULL};

    clear_aws_env();
    snprintf(home, sizeof(home), "/tmp/plumb-apprunner-XXXXXX");
    cr_assert_not_null(mkdtemp(home));
    setenv("HOME", home, 1);
    cr_assert_eq(test_server_start(&emulator, "../emulators/apprunner_server.py", args), 0,
                 "the app runner emulator did not start");
    setenv("AWS_ENDPOINT_URL_APPRUNNER", emulator.url, 1);
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9", 1);
    setenv("AWS_REGION", "us-east-1", 1);
    setenv("AWS_DEFAULT_REGION", "us-east-1", 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIAEMULATOR00000000", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "emulator", 1);
}

static void teardown(void)
{
    char cmd[128];

    test_server_stop(&emulator);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", home);
}

TestSuite(driver_apprunner_service, .init = setup, .fini = teardown, .timeout = 120);

static const struct plumb_resource_type *driver(void)
{
    const struct plumb_resource_type *t = plumb_provider_find("AWS::AppRunner::Service");
    cr_assert_not_null(t);
    return t;
}

static struct plumb_aws *client(void)
{
    struct plumb_aws *aws = NULL;

    cr_assert_eq(plumb_aws_new(&aws, NULL), 0, "%s", plumb_error_message());
    return aws;
}

/* Runs Python with `ar`, a boto3 App Runner client pointed at the emulator; the code prints
 * JSON, returned parsed (asserts that it ran). */
static json_t *boto3(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_t *boto3(const char *fmt, ...)
{
    struct plumb_buf code = PLUMB_BUF_INIT;
    json_t *out = NULL;
    va_list ap;

    plumb_buf_puts(&code, "from botocore.exceptions import ClientError\n"
                          "ar = boto3.client('apprunner', region_name='us-east-1', "
                          "endpoint_url=os.environ['AWS_ENDPOINT_URL_APPRUNNER'])\n");
    va_start(ap, fmt);
    plumb_buf_vprintf(&code, fmt, ap);
    va_end(ap);
    cr_assert_eq(test_boto3(&out, code.ptr), 0, "boto3 failed:\n%s", code.ptr);
    plumb_buf_release(&code);
    cr_assert_not_null(out);
    return out;
}

/* The service as boto3 sees it with its tags, or {"error": code}. */
static json_t *boto3_service(const char *arn)
{
    return boto3("try:\n"
                 "    s = ar.describe_service(ServiceArn='%s')['Service']\n"
                 "    s['Tags'] = {t['Key']: t['Value'] for t in "
                 "ar.list_tags_for_resource(ResourceArn='%s')['Tags']}\n"
                 "    print(json.dumps(s, default=str))\n"
                 "except ClientError as e:\n"
                 "    print(json.dumps({'error': e.response['Error']['Code']}))\n",
                 arn, arn);
}

static json_t *load(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, 0, &err);

    cr_assert_not_null(v, "bad test JSON: %s", err.text);
    return v;
}

/* `props` as read would report it: write-only Tags (and AutoScalingConfigurationArn) left
 * out, Cpu and Memory in units. */
static json_t *expected(const json_t *props, const char *cpu, const char *memory)
{
    json_t *e = json_deep_copy(props), *inst;

    json_object_del(e, "Tags");
    json_object_del(e, "AutoScalingConfigurationArn");
    if ((inst = json_object_get(e, "InstanceConfiguration"))) {
        json_object_set_new(inst, "Cpu", json_string(cpu));
        json_object_set_new(inst, "Memory", json_string(memory));
    }
    return e;
}

static const char *str_at(const json_t *v, const char *path)
{
    char key[128];
    const char *dot;

    while ((dot = strchr(path, '.'))) {
        snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
        v = json_object_get(v, key);
        path = dot + 1;
    }
    v = json_object_get(v, path);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static json_t *at(const json_t *v, const char *path)
{
    char key[128];
    const char *dot;

    while ((dot = strchr(path, '.'))) {
        snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
        v = json_object_get(v, key);
        path = dot + 1;
    }
    return json_object_get(v, path);
}

static void count_report(void *ctx, const char *status)
{
    (void)status;
    ++*(int *)ctx;
}

static const char *const declared =
    "{\"ServiceName\": \"django-blog-api\","
    " \"SourceConfiguration\": {"
    "   \"AuthenticationConfiguration\": {\"AccessRoleArn\": \"" ROLE "\"},"
    "   \"AutoDeploymentsEnabled\": false,"
    "   \"ImageRepository\": {\"ImageIdentifier\": \"" IMAGE ":v1\", \"ImageRepositoryType\": "
    "\"ECR\","
    "     \"ImageConfiguration\": {\"Port\": \"8080\","
    "       \"RuntimeEnvironmentVariables\": [{\"Name\": \"DEBUG\", \"Value\": \"0\"},"
    "         {\"Name\": \"DJANGO_SETTINGS_MODULE\", \"Value\": \"blog.settings\"}],"
    "       \"RuntimeEnvironmentSecrets\": [{\"Name\": \"DB_PASSWORD\", \"Value\": "
    "\"arn:aws:secretsmanager:us-east-1:123456789012:secret:blog/db-AbCdEf\"}]}}},"
    " \"InstanceConfiguration\": {\"Cpu\": \"1 vCPU\", \"Memory\": \"2 GB\"},"
    " \"HealthCheckConfiguration\": {\"Protocol\": \"HTTP\", \"Path\": \"/api/v1/healthcheck/\","
    "   \"Interval\": 10, \"Timeout\": 5, \"HealthyThreshold\": 1},"
    " \"Tags\": [{\"Key\": \"plumb:address\", \"Value\": \"blog_api\"},"
    "   {\"Key\": \"team\", \"Value\": \"blog\"}]}";

/* Creates `props` and waits until it runs; returns its id. */
static json_t *create_running(struct plumb_aws *aws, const json_t *props)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_progress p = {NULL, NULL, 60, 10};
    json_t *observed = NULL, *id;

    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    id = json_pack("{s:O}", "ServiceArn", json_object_get(observed, "ServiceArn"));
    cr_assert_eq(t->wait_stable(aws, id, &p), 0, "%s", plumb_error_message());
    json_decref(observed);
    return id;
}

Test(driver_apprunner_service, lifecycle)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = client();
    int reports = 0;
    struct plumb_progress p = {count_report, &reports, 60, 10};
    json_t *props = load(declared), *after, *after2, *after3, *want, *observed = NULL;
    json_t *again = NULL, *id, *seen, *asc, *found = NULL;
    unsigned long calls;

    /* create: Cpu and Memory declared as "1 vCPU" / "2 GB" read back in units */
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    want = expected(props, "1024", "2048");
    test_expect_props(want, observed);
    cr_expect_str_eq(str_at(observed, "Status"), "OPERATION_IN_PROGRESS");
    cr_expect_null(json_object_get(observed, "Tags"), "Tags are write-only");
    id = json_pack("{s:O}", "ServiceArn", json_object_get(observed, "ServiceArn"));
    cr_assert_eq(t->wait_stable(aws, id, &p), 0, "%s", plumb_error_message());
    cr_expect_geq(reports, 1, "progress was reported while the service was being created");

    cr_assert_eq(t->read(aws, id, &again), 0, "%s", plumb_error_message());
    test_expect_props(want, again);
    cr_expect_str_eq(str_at(again, "Status"), "RUNNING");
    cr_expect(strstr(str_at(again, "ServiceUrl"), ".us-east-1.awsapprunner.com") != NULL);
    cr_expect_eq(strlen(str_at(again, "ServiceId")), 32);
    json_decref(again);
    json_decref(want);

    /* what boto3 sees: the API's map of variables, units, the health check, the tags */
    seen = boto3_service(str_at(id, "ServiceArn"));
    cr_expect_str_eq(str_at(seen, "Status"), "RUNNING");
    cr_expect_str_eq(str_at(seen, "SourceConfiguration.ImageRepository.ImageConfiguration."
                                  "RuntimeEnvironmentVariables.DJANGO_SETTINGS_MODULE"),
                     "blog.settings");
    cr_expect_str_eq(str_at(seen, "SourceConfiguration.ImageRepository.ImageConfiguration."
                                  "RuntimeEnvironmentSecrets.DB_PASSWORD"),
                     "arn:aws:secretsmanager:us-east-1:123456789012:secret:blog/db-AbCdEf");
    cr_expect_str_eq(str_at(seen, "SourceConfiguration.AuthenticationConfiguration.AccessRoleArn"),
                     ROLE);
    cr_expect(json_is_false(at(seen, "SourceConfiguration.AutoDeploymentsEnabled")));
    cr_expect_str_eq(str_at(seen, "InstanceConfiguration.Cpu"), "1024");
    cr_expect_str_eq(str_at(seen, "HealthCheckConfiguration.Path"), "/api/v1/healthcheck/");
    cr_expect_eq(json_integer_value(at(seen, "HealthCheckConfiguration.Interval")), 10);
    cr_expect_str_eq(str_at(seen, "Tags.team"), "blog");
    cr_expect_str_eq(str_at(seen, "Tags.plumb:address"), "blog_api");
    cr_expect_str_eq(str_at(seen, "AutoScalingConfigurationSummary.AutoScalingConfigurationName"),
                     "DefaultConfiguration");
    json_decref(seen);

    /* update every updatable property at once */
    asc = boto3("a = ar.create_auto_scaling_configuration(AutoScalingConfigurationName="
                "'astro-ai-scaling', MinSize=1, MaxSize=25, MaxConcurrency=100)\n"
                "print(json.dumps(a['AutoScalingConfiguration'], default=str))\n");
    after = load(
        "{\"ServiceName\": \"django-blog-api\","
        " \"SourceConfiguration\": {"
        "   \"AuthenticationConfiguration\": {\"AccessRoleArn\": \"" ROLE "\"},"
        "   \"AutoDeploymentsEnabled\": true,"
        "   \"ImageRepository\": {\"ImageIdentifier\": \"" IMAGE ":v2\", \"ImageRepositoryType\": "
        "\"ECR\","
        "     \"ImageConfiguration\": {\"Port\": \"8000\", \"StartCommand\": \"gunicorn "
        "blog.wsgi\","
        "       \"RuntimeEnvironmentVariables\": [{\"Name\": \"DEBUG\", \"Value\": \"1\"},"
        "         {\"Name\": \"WORKERS\", \"Value\": \"4\"}]}}},"
        " \"InstanceConfiguration\": {\"Cpu\": \"2 vCPU\", \"Memory\": \"4 GB\","
        "   \"InstanceRoleArn\": \"" INSTANCE_ROLE "\"},"
        " \"HealthCheckConfiguration\": {\"Protocol\": \"HTTP\", \"Path\": \"/healthz\","
        "   \"Interval\": 20, \"HealthyThreshold\": 2, \"UnhealthyThreshold\": 3},"
        " \"NetworkConfiguration\": {\"IngressConfiguration\": {\"IsPubliclyAccessible\": false},"
        "   \"EgressConfiguration\": {\"EgressType\": \"DEFAULT\"}, \"IpAddressType\": "
        "\"DUAL_STACK\"},"
        " \"ObservabilityConfiguration\": {\"ObservabilityEnabled\": true,"
        "   \"ObservabilityConfigurationArn\": \"" OBSERVABILITY "\"},"
        " \"Tags\": [{\"Key\": \"plumb:address\", \"Value\": \"blog_api\"},"
        "   {\"Key\": \"team\", \"Value\": \"web\"}]}");
    json_object_set(after, "AutoScalingConfigurationArn",
                    json_object_get(asc, "AutoScalingConfigurationArn"));
    json_decref(observed);
    cr_assert_eq(t->update(aws, id, props, after, &observed), 0, "%s", plumb_error_message());
    want = expected(after, "2048", "4096");
    test_expect_props(want, observed);
    reports = 0;
    cr_assert_eq(t->wait_stable(aws, id, &p), 0, "%s", plumb_error_message());
    cr_expect_geq(reports, 1, "the update was waited for");

    seen = boto3_service(str_at(id, "ServiceArn"));
    cr_expect_str_eq(str_at(seen, "SourceConfiguration.ImageRepository.ImageIdentifier"),
                     IMAGE ":v2");
    cr_expect_str_eq(str_at(seen, "SourceConfiguration.ImageRepository.ImageConfiguration.Port"),
                     "8000");
    cr_expect_str_eq(
        str_at(seen, "SourceConfiguration.ImageRepository.ImageConfiguration.StartCommand"),
        "gunicorn blog.wsgi");
    {
        json_t *vars = at(seen, "SourceConfiguration.ImageRepository.ImageConfiguration."
                                "RuntimeEnvironmentVariables");
        json_t *want_vars = json_pack("{s:s, s:s}", "DEBUG", "1", "WORKERS", "4");
        cr_expect(json_equal(vars, want_vars), "the variables are exactly the declared ones");
        json_decref(want_vars);
    }
    cr_expect_null(at(seen, "SourceConfiguration.ImageRepository.ImageConfiguration."
                            "RuntimeEnvironmentSecrets"),
                   "the secret no longer declared is gone");
    cr_expect(json_is_true(at(seen, "SourceConfiguration.AutoDeploymentsEnabled")));
    cr_expect_str_eq(str_at(seen, "InstanceConfiguration.Cpu"), "2048");
    cr_expect_str_eq(str_at(seen, "InstanceConfiguration.Memory"), "4096");
    cr_expect_str_eq(str_at(seen, "InstanceConfiguration.InstanceRoleArn"), INSTANCE_ROLE);
    cr_expect_str_eq(str_at(seen, "HealthCheckConfiguration.Path"), "/healthz");
    cr_expect_eq(json_integer_value(at(seen, "HealthCheckConfiguration.Interval")), 20);
    cr_expect_eq(json_integer_value(at(seen, "HealthCheckConfiguration.Timeout")), 2,
                 "Timeout no longer declared is back to AWS's default");
    cr_expect_eq(json_integer_value(at(seen, "HealthCheckConfiguration.UnhealthyThreshold")), 3);
    cr_expect(
        json_is_false(at(seen, "NetworkConfiguration.IngressConfiguration.IsPubliclyAccessible")));
    cr_expect_str_eq(str_at(seen, "NetworkConfiguration.IpAddressType"), "DUAL_STACK");
    cr_expect(json_is_true(at(seen, "ObservabilityConfiguration.ObservabilityEnabled")));
    cr_expect_str_eq(str_at(seen, "AutoScalingConfigurationSummary.AutoScalingConfigurationArn"),
                     str_at(asc, "AutoScalingConfigurationArn"));
    cr_expect_str_eq(str_at(seen, "Tags.team"), "web");
    json_decref(seen);
    json_decref(want);

    /* the same declaration in the other Cpu/Memory form is no change: no UpdateService */
    after2 = json_deep_copy(after);
    json_object_set_new(json_object_get(after2, "InstanceConfiguration"), "Cpu",
                        json_string("2048"));
    json_object_set_new(json_object_get(after2, "InstanceConfiguration"), "Memory",
                        json_string("4096"));
    calls = plumb_aws_stats_calls(aws, "apprunner");
    json_decref(observed);
    cr_assert_eq(t->update(aws, id, after, after2, &observed), 0, "%s", plumb_error_message());
    cr_expect_eq(plumb_aws_stats_calls(aws, "apprunner") - calls, 1, "only the read");
    cr_expect_str_eq(str_at(observed, "Status"), "RUNNING");

    /* properties no longer declared go back to AWS's defaults */
    after3 = json_deep_copy(after2);
    json_object_del(after3, "AutoScalingConfigurationArn");
    json_object_del(after3, "HealthCheckConfiguration");
    json_decref(observed);
    cr_assert_eq(t->update(aws, id, after2, after3, &observed), 0, "%s", plumb_error_message());
    cr_assert_eq(t->wait_stable(aws, id, &p), 0, "%s", plumb_error_message());
    seen = boto3_service(str_at(id, "ServiceArn"));
    cr_expect_str_eq(str_at(seen, "AutoScalingConfigurationSummary.AutoScalingConfigurationName"),
                     "DefaultConfiguration");
    cr_expect_str_eq(str_at(seen, "HealthCheckConfiguration.Protocol"), "TCP");
    cr_expect_eq(json_integer_value(at(seen, "HealthCheckConfiguration.Interval")), 5);
    json_decref(seen);

    /* lookup finds it by name (adoption after a crash) */
    cr_assert_eq(t->lookup(aws, after3, &found), 0, "%s", plumb_error_message());
    cr_expect(json_equal(found, id));
    json_decref(found);

    /* remove, wait until gone; gone for the driver and for boto3; removing again is fine */
    cr_assert_eq(t->remove(aws, id, 0), 0, "%s", plumb_error_message());
    reports = 0;
    cr_assert_eq(t->wait_deleted(aws, id, &p), 0, "%s", plumb_error_message());
    cr_expect_geq(reports, 1, "the deletion was waited for");
    again = NULL;
    cr_assert_eq(t->read(aws, id, &again), 0, "%s", plumb_error_message());
    cr_expect_null(again);
    seen = boto3_service(str_at(id, "ServiceArn"));
    cr_expect_str_eq(str_at(seen, "error"), "ResourceNotFoundException");
    json_decref(seen);
    cr_expect_eq(t->remove(aws, id, 0), 0, "%s", plumb_error_message());
    found = NULL;
    cr_assert_eq(t->lookup(aws, after3, &found), 0);
    cr_expect_null(found, "a deleted service is not found by name");

    json_decref(props);
    json_decref(after);
    json_decref(after2);
    json_decref(after3);
    json_decref(asc);
    json_decref(observed);
    json_decref(id);
    plumb_aws_free(aws);
}

/* An apply's rollback removes what it just created, and a retried apply may update a service
 * still being changed: AWS refuses both while an operation runs, so the driver waits. */
Test(driver_apprunner_service, changes_wait_for_the_operation_in_progress)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = client();
    struct plumb_progress p = {NULL, NULL, 60, 10};
    json_t *props = load(declared), *after, *observed = NULL, *id, *seen;

    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    id = json_pack("{s:O}", "ServiceArn", json_object_get(observed, "ServiceArn"));
    after = json_deep_copy(props);
    json_object_set_new(
        json_object_get(json_object_get(after, "SourceConfiguration"), "ImageRepository"),
        "ImageIdentifier", json_string(IMAGE ":v2"));
    json_decref(observed);
    cr_assert_eq(t->update(aws, id, props, after, &observed), 0, "%s", plumb_error_message());
    seen = boto3_service(str_at(id, "ServiceArn"));
    cr_expect_str_eq(str_at(seen, "SourceConfiguration.ImageRepository.ImageIdentifier"),
                     IMAGE ":v2");
    cr_expect_str_eq(str_at(seen, "Status"), "OPERATION_IN_PROGRESS");
    json_decref(seen);

    cr_assert_eq(t->remove(aws, id, 0), 0, "%s", plumb_error_message());
    cr_assert_eq(t->wait_deleted(aws, id, &p), 0, "%s", plumb_error_message());
    seen = boto3_service(str_at(id, "ServiceArn"));
    cr_expect_str_eq(str_at(seen, "error"), "ResourceNotFoundException");
    json_decref(seen);

    json_decref(props);
    json_decref(after);
    json_decref(observed);
    json_decref(id);
    plumb_aws_free(aws);
}

Test(driver_apprunner_service, create_failed_is_an_error)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = client();
    struct plumb_progress p = {NULL, NULL, 60, 10};
    json_t *props = load(declared), *observed = NULL, *id, *seen;

    /* the emulator's stand-in for an image App Runner cannot pull */
    json_object_set_new(
        json_object_get(json_object_get(props, "SourceConfiguration"), "ImageRepository"),
        "ImageIdentifier", json_string(IMAGE ":fail"));
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    id = json_pack("{s:O}", "ServiceArn", json_object_get(observed, "ServiceArn"));
    cr_expect_eq(t->wait_stable(aws, id, &p), PLUMB_ERROR);
    cr_expect(strstr(plumb_error_message(), "CREATE_FAILED") != NULL, "%s", plumb_error_message());
    cr_expect(strstr(plumb_error_message(), "django-blog-api") != NULL, "%s",
              plumb_error_message());
    seen = boto3_service(str_at(id, "ServiceArn"));
    cr_expect_str_eq(str_at(seen, "Status"), "CREATE_FAILED");
    json_decref(seen);

    /* a failed service is removed like any other */
    cr_assert_eq(t->remove(aws, id, 0), 0, "%s", plumb_error_message());
    cr_assert_eq(t->wait_deleted(aws, id, &p), 0, "%s", plumb_error_message());
    seen = boto3_service(str_at(id, "ServiceArn"));
    cr_expect_str_eq(str_at(seen, "error"), "ResourceNotFoundException");
    json_decref(seen);

    json_decref(props);
    json_decref(observed);
    json_decref(id);
    plumb_aws_free(aws);
}

/* A failed update is rolled back and the service is RUNNING again: still a failure. */
Test(driver_apprunner_service, rolled_back_update_is_an_error)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = client();
    struct plumb_progress p = {NULL, NULL, 60, 10};
    json_t *props = load(declared), *after, *observed = NULL, *id, *seen;

    id = create_running(aws, props);
    after = json_deep_copy(props);
    json_object_set_new(
        json_object_get(json_object_get(after, "SourceConfiguration"), "ImageRepository"),
        "ImageIdentifier", json_string(IMAGE ":fail"));
    cr_assert_eq(t->update(aws, id, props, after, &observed), 0, "%s", plumb_error_message());
    cr_expect_eq(t->wait_stable(aws, id, &p), PLUMB_ERROR);
    cr_expect(strstr(plumb_error_message(), "ROLLBACK_SUCCEEDED") != NULL, "%s",
              plumb_error_message());
    seen = boto3_service(str_at(id, "ServiceArn"));
    cr_expect_str_eq(str_at(seen, "Status"), "RUNNING");
    cr_expect_str_eq(str_at(seen, "SourceConfiguration.ImageRepository.ImageIdentifier"),
                     IMAGE ":v1", "the previous image runs again");
    json_decref(seen);

    json_decref(props);
    json_decref(after);
    json_decref(observed);
    json_decref(id);
    plumb_aws_free(aws);
}

Test(driver_apprunner_service, aws_errors_keep_their_code)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = client();
    json_t *props = load(declared), *bad, *observed = NULL, *id;

    /* a second service under a taken name: AWS refuses it (unlike moto for other types) */
    id = create_running(aws, props);
    cr_expect_eq(t->create(aws, props, &observed), PLUMB_EAWS);
    cr_expect_null(observed);
    cr_expect(strstr(plumb_error_message(), "InvalidRequestException") != NULL, "%s",
              plumb_error_message());
    cr_expect(strstr(plumb_error_message(), "request id") != NULL, "%s", plumb_error_message());

    /* a value AWS refuses, named by member */
    bad = json_deep_copy(props);
    json_object_set_new(bad, "ServiceName", json_string("other-api"));
    json_object_set_new(json_object_get(bad, "InstanceConfiguration"), "Cpu",
                        json_string("3 vCPU"));
    cr_expect_eq(t->create(aws, bad, &observed), PLUMB_EAWS);
    cr_expect(strstr(plumb_error_message(), "InvalidRequestException") != NULL, "%s",
              plumb_error_message());
    cr_expect(strstr(plumb_error_message(), "InstanceConfiguration.Cpu") != NULL, "%s",
              plumb_error_message());

    /* a private ECR image needs an access role */
    json_object_set_new(json_object_get(bad, "InstanceConfiguration"), "Cpu",
                        json_string("1 vCPU"));
    json_object_del(json_object_get(bad, "SourceConfiguration"), "AuthenticationConfiguration");
    cr_expect_eq(t->create(aws, bad, &observed), PLUMB_EAWS);
    cr_expect(strstr(plumb_error_message(), "AccessRoleArn") != NULL, "%s", plumb_error_message());
    {
        json_t *seen = boto3("print(json.dumps([s['ServiceName'] for s in "
                             "ar.list_services()['ServiceSummaryList']]))\n");
        cr_expect_eq(json_array_size(seen), 1, "nothing was created by the refused calls");
        json_decref(seen);
    }

    /* a change to a create-only property is not made in place */
    json_object_set_new(bad, "ServiceName", json_string("renamed-api"));
    cr_expect_eq(t->update(aws, id, props, bad, &observed), PLUMB_EINVALID);
    cr_expect(strstr(plumb_error_message(), "ServiceName") != NULL, "%s", plumb_error_message());

    json_decref(props);
    json_decref(bad);
    json_decref(id);
    plumb_aws_free(aws);
}

/*
 * What AWS fills in for a service declared with nothing but its source is what the schema's
 * plumb.defaults say, so an undeclared default is not drift. Reads: one call each; App Runner
 * has no batch describe, so the driver has no read_many.
 */
Test(driver_apprunner_service, defaults_and_reads)
{
    const struct plumb_resource_type *t = driver();
    const struct plumb_schema_type *schema;
    struct plumb_aws *aws = client();
    json_t *made, *id, *missing, *observed = NULL;
    unsigned long calls;
    char why[512] = "";

    cr_expect_null(t->read_many, "no batch API: refresh reads one by one");
    made = boto3("s = ar.create_service(ServiceName='astro-ai-service', SourceConfiguration="
                 "{'ImageRepository': {'ImageIdentifier': 'public.ecr.aws/nginx/nginx:latest',"
                 " 'ImageRepositoryType': 'ECR_PUBLIC'}})['Service']\n"
                 "print(json.dumps(s, default=str))\n");
    id = json_pack("{s:O}", "ServiceArn", json_object_get(made, "ServiceArn"));
    missing = json_pack("{s:s}", "ServiceArn",
                        "arn:aws:apprunner:us-east-1:123456789012:service/astro-ai-service/"
                        "00000000000000000000000000000000");

    calls = plumb_aws_stats_calls(aws, "apprunner");
    cr_assert_eq(t->read(aws, id, &observed), 0, "%s", plumb_error_message());
    cr_expect_eq(plumb_aws_stats_calls(aws, "apprunner") - calls, 1);
    cr_assert_not_null(observed);
    cr_assert_eq(plumb_schema_load(), 0);
    schema = plumb_schema_find("AWS::AppRunner::Service");
    cr_assert_not_null(schema);
    cr_expect(test_props_match(schema->defaults, observed, why, sizeof(why)), "%s", why);
    cr_expect(json_is_false(at(observed, "SourceConfiguration.AutoDeploymentsEnabled")),
              "AWS turns automatic deployments off for ECR Public");
    cr_expect_null(at(observed, "SourceConfiguration.ImageRepository.ImageConfiguration."
                                "RuntimeEnvironmentVariables"),
                   "no variables: left out, not an empty list");
    json_decref(observed);

    observed = json_true();
    calls = plumb_aws_stats_calls(aws, "apprunner");
    cr_assert_eq(t->read(aws, missing, &observed), 0, "%s", plumb_error_message());
    cr_expect_null(observed, "an unknown service reads as gone");
    cr_expect_eq(plumb_aws_stats_calls(aws, "apprunner") - calls, 1);

    json_decref(made);
    json_decref(id);
    json_decref(missing);
    plumb_aws_free(aws);
}

/* Without ServiceName the driver names the service after its plumb:address, so that lookup
 * finds what an interrupted apply created. */
Test(driver_apprunner_service, generated_name_is_found_again)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = client();
    json_t *props = load(declared), *observed = NULL, *found = NULL, *seen;
    const char *name;

    json_object_del(props, "ServiceName");
    json_object_set_new(props, "Tags",
                        json_pack("[{s:s, s:s}]", "Key", "plumb:address", "Value",
                                  "module.astro.service_with_a_rather_long_address"));
    cr_assert_eq(t->lookup(aws, props, &found), 0, "%s", plumb_error_message());
    cr_expect_null(found);
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    name = str_at(observed, "ServiceName");
    cr_assert_not_null(name);
    cr_expect_eq(strncmp(name, "module-astro-service", 20), 0, "%s", name);
    cr_expect_leq(strlen(name), 40);
    cr_assert_eq(t->lookup(aws, props, &found), 0, "%s", plumb_error_message());
    cr_assert_not_null(found);
    cr_expect_str_eq(str_at(found, "ServiceArn"), str_at(observed, "ServiceArn"));
    seen = boto3_service(str_at(observed, "ServiceArn"));
    cr_expect_str_eq(str_at(seen, "ServiceName"), name);
    json_decref(seen);

    json_decref(props);
    json_decref(observed);
    json_decref(found);
    plumb_aws_free(aws);
}
