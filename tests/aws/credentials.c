/*
 * The credential chain: each source in the SDKs' order, the rules between them (what falls
 * through, what is an error at once), and refresh. The instance's link is played by
 * tests/tools/metadata_server.py (IMDSv2 and the ECS endpoint, counting requests); STS by
 * moto (tests/tools/moto_server.py), checked with GetCallerIdentity under the credentials
 * the chain returned.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "aws/aws.h"
#include "aws/client.h"
#include "aws/credentials.h"
#include "aws/http.h"
#include "aws/sharedconfig.h"
#include "helpers/server.h"
#include "util/error.h"
#include "util/sys.h"

extern char **environ;

static char dir[256];
static struct test_server meta, moto;
static time_t fake_now;

static time_t fake_clock(void)
{
    return fake_now;
}

static void unset_aws_env(void)
{
    char name[256];
    char **e;
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

/*
 * Each test: no AWS_* variables from the developer's shell, a fresh HOME with an empty
 * ~/.aws, and instance metadata off unless the test turns it on (nothing here may wait on
 * the real 169.254.169.254).
 */
static void setup(void)
{
    char path[300];

    unset_aws_env();
    snprintf(dir, sizeof(dir), "/tmp/plumb-credentials-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    setenv("HOME", dir, 1);
    snprintf(path, sizeof(path), "%s/.aws", dir);
    cr_assert_eq(mkdir(path, 0700), 0);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    plumb_clock_set(NULL);
    memset(&meta, 0, sizeof(meta));
    memset(&moto, 0, sizeof(moto));
}

static void teardown(void)
{
    char cmd[600];

    test_server_stop(&meta);
    test_server_stop(&moto);
    plumb_aws__credentials_set_ecs_host(NULL);
    plumb_clock_set(NULL);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

/* Writes `text` to `name` under HOME; the path stays valid until the fourth next call. */
static const char *put(const char *name, const char *text)
{
    static char paths[4][512];
    static int next;
    char *path = paths[next++ % 4];
    FILE *fp;

    snprintf(path, 512, "%s/%s", dir, name);
    fp = fopen(path, "w");
    cr_assert_not_null(fp, "cannot write %s", path);
    fputs(text, fp);
    fclose(fp);
    return path;
}

/* The chain for `profile` over HOME's files, resolved once. */
static int get(struct plumb_aws_credentials *out, struct plumb_aws *aws, const char *profile)
{
    struct plumb_aws_shared_config *cfg = NULL;
    struct plumb_aws_credentials_chain *chain = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = plumb_aws_shared_config_load(&cfg);
    cr_assert_eq(rc, 0, "%s", plumb_error_message());
    rc = plumb_aws_credentials_chain_new(&chain, aws, cfg, profile);
    if (rc == 0)
        rc = plumb_aws_credentials_chain_get(out, chain);
    plumb_aws_credentials_chain_free(chain);
    plumb_aws_shared_config_free(cfg);
    return rc;
}

static void expect_ok(int rc)
{
    cr_assert_eq(rc, 0, "chain failed (%d): %s", rc, plumb_error_message());
}

static void expect_error(int rc, int code, const char *needle)
{
    cr_assert_eq(rc, code, "expected %d, got %d: %s", code, rc,
                 rc ? plumb_error_message() : "(success)");
    cr_assert_not_null(strstr(plumb_error_message(), needle), "'%s' not in '%s'", needle,
                       plumb_error_message());
    cr_assert_null(strchr(plumb_error_message(), '\n'), "message is not one line");
}

/* A loopback port nothing listens on: connections are refused at once. */
static int closed_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    getsockname(fd, (struct sockaddr *)&a, &len);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* ---- environment, files, errors (no servers) ------------------------------------------- */

TestSuite(credentials, .init = setup, .fini = teardown);

Test(credentials, environment_keys)
{
    struct plumb_aws_credentials c;

    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secret-env", 1);
    setenv("AWS_SESSION_TOKEN", "token-env", 1);
    expect_ok(get(&c, NULL, NULL));
    cr_expect_str_eq(c.access_key_id, "AKIDENV");
    cr_expect_str_eq(c.secret_access_key, "secret-env");
    cr_expect_str_eq(c.session_token, "token-env");
    cr_expect_eq(c.expiration, 0);
    cr_expect_str_eq(c.source, "environment (AWS_ACCESS_KEY_ID)");
    plumb_aws_credentials_release(&c);

    /* An empty session token is none. */
    setenv("AWS_SESSION_TOKEN", "", 1);
    expect_ok(get(&c, NULL, NULL));
    cr_expect_null(c.session_token);
    plumb_aws_credentials_release(&c);
}

Test(credentials, environment_incomplete_is_an_error)
{
    struct plumb_aws_credentials c;

    put(".aws/credentials", "[default]\naws_access_key_id = AKIDFILE\n"
                            "aws_secret_access_key = secret-file\n");
    setenv("AWS_SECRET_ACCESS_KEY", "secret-env-only", 1);
    expect_error(get(&c, NULL, NULL), PLUMB_EINVALID,
                 "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
    cr_expect_null(strstr(plumb_error_message(), "secret-env-only"));
}

Test(credentials, environment_wins_over_profile)
{
    struct plumb_aws_credentials c;

    put(".aws/credentials", "[default]\naws_access_key_id = AKIDFILE\n"
                            "aws_secret_access_key = secret-file\n");
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secret-env", 1);
    expect_ok(get(&c, NULL, NULL));
    cr_expect_str_eq(c.access_key_id, "AKIDENV");
    plumb_aws_credentials_release(&c);
}

Test(credentials, profile_keys_from_either_file)
{
    struct plumb_aws_credentials c;
    char want[600];

    put(".aws/credentials", "[default]\naws_access_key_id = AKIDFILE\n"
                            "aws_secret_access_key = secret-file\n"
                            "aws_session_token = token-file\n");
    put(".aws/config", "[profile cfg]\naws_access_key_id = AKIDCONFIG\n"
                       "aws_secret_access_key = secret-config\n");
    expect_ok(get(&c, NULL, NULL));
    cr_expect_str_eq(c.access_key_id, "AKIDFILE");
    cr_expect_str_eq(c.secret_access_key, "secret-file");
    cr_expect_str_eq(c.session_token, "token-file");
    snprintf(want, sizeof(want), "shared credentials file %s/.aws/credentials, profile 'default'",
             dir);
    cr_expect_str_eq(c.source, want);
    plumb_aws_credentials_release(&c);

    expect_ok(get(&c, NULL, "cfg"));
    cr_expect_str_eq(c.access_key_id, "AKIDCONFIG");
    cr_expect_null(c.session_token);
    snprintf(want, sizeof(want), "shared config file %s/.aws/config, profile 'cfg'", dir);
    cr_expect_str_eq(c.source, want);
    plumb_aws_credentials_release(&c);
}

Test(credentials, profile_precedence)
{
    struct plumb_aws_credentials c;

    put(".aws/credentials", "[default]\naws_access_key_id = AKIDDEFAULT\n"
                            "aws_secret_access_key = s\n"
                            "[dev]\naws_access_key_id = AKIDDEVCREDS\n"
                            "aws_secret_access_key = s\n"
                            "[prod]\naws_access_key_id = AKIDPROD\n"
                            "aws_secret_access_key = s\n");
    put(".aws/config", "[profile dev]\naws_access_key_id = AKIDDEVCONFIG\n"
                       "aws_secret_access_key = s\nregion = eu-west-1\n");
    setenv("AWS_PROFILE", "dev", 1);
    /* AWS_PROFILE picks the profile; its credentials-file keys win over the config's. */
    expect_ok(get(&c, NULL, NULL));
    cr_expect_str_eq(c.access_key_id, "AKIDDEVCREDS");
    cr_expect_not_null(strstr(c.source, "profile 'dev'"));
    plumb_aws_credentials_release(&c);
    /* A profile given by the caller (plumb's --profile) wins over AWS_PROFILE. */
    expect_ok(get(&c, NULL, "prod"));
    cr_expect_str_eq(c.access_key_id, "AKIDPROD");
    plumb_aws_credentials_release(&c);
}

Test(credentials, missing_named_profile_is_an_error)
{
    struct plumb_aws_credentials c;
    char want[600];

    put(".aws/credentials", "[default]\naws_access_key_id = AKIDDEFAULT\n"
                            "aws_secret_access_key = s\n");
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secret-env", 1);
    setenv("AWS_PROFILE", "staging", 1);
    snprintf(want, sizeof(want),
             "AWS profile 'staging' not found in '%s/.aws/config' or '%s/.aws/credentials'", dir,
             dir);
    expect_error(get(&c, NULL, NULL), PLUMB_EINVALID, want);
}

Test(credentials, source_profile_loop_is_refused)
{
    struct plumb_aws_credentials c;

    put(".aws/config", "[profile a]\nrole_arn = arn:aws:iam::123456789012:role/a\n"
                       "source_profile = b\n"
                       "[profile b]\nrole_arn = arn:aws:iam::123456789012:role/b\n"
                       "source_profile = c\n"
                       "[profile c]\nrole_arn = arn:aws:iam::123456789012:role/c\n"
                       "source_profile = a\n"
                       "[profile self]\nrole_arn = arn:aws:iam::123456789012:role/s\n"
                       "source_profile = self\n");
    expect_error(get(&c, NULL, "a"), PLUMB_EINVALID,
                 "source_profile loop in AWS profiles: 'a' -> 'b' -> 'c' -> 'a'");
    /* Naming itself is allowed only to use its own keys, which this one has not. */
    expect_error(get(&c, NULL, "self"), PLUMB_EINVALID,
                 "source_profile loop in AWS profiles: 'self' -> 'self'");
}

Test(credentials, broken_profiles_are_errors_not_fall_through)
{
    struct plumb_aws_credentials c;
    char want[600];

    /* Instance metadata would answer if the chain went on: it must not get that far. */
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1", 1);
    unsetenv("AWS_EC2_METADATA_DISABLED");
    put(".aws/config", "[profile orphan]\nrole_arn = arn:aws:iam::123456789012:role/o\n"
                       "source_profile = gone\n"
                       "[profile bare]\nrole_arn = arn:aws:iam::123456789012:role/b\n"
                       "[profile both]\nrole_arn = arn:aws:iam::123456789012:role/b\n"
                       "source_profile = bare\ncredential_source = Environment\n"
                       "[profile odd]\nrole_arn = arn:aws:iam::123456789012:role/x\n"
                       "credential_source = Laptop\n"
                       "[profile proc]\ncredential_process = /bin/get-creds\n"
                       "[profile half]\naws_access_key_id = AKIDHALF\n"
                       "[profile mfa]\nrole_arn = arn:aws:iam::123456789012:role/m\n"
                       "source_profile = half\nmfa_serial = arn:aws:iam::1:mfa/u\n"
                       "[profile long]\nrole_arn = arn:aws:iam::123456789012:role/l\n"
                       "source_profile = half\nduration_seconds = 99\n");
    snprintf(want, sizeof(want), "source_profile 'gone' of AWS profile 'orphan' (%s/.aws/config:3)",
             dir);
    expect_error(get(&c, NULL, "orphan"), PLUMB_EINVALID, want);
    expect_error(get(&c, NULL, "bare"), PLUMB_EINVALID, "AWS profile 'bare' has role_arn (");
    expect_error(get(&c, NULL, "both"), PLUMB_EINVALID, "sets both source_profile");
    expect_error(get(&c, NULL, "odd"), PLUMB_EINVALID, "unsupported credential_source 'Laptop'");
    expect_error(get(&c, NULL, "proc"), PLUMB_EINVALID,
                 "AWS profile 'proc' uses credential_process (");
    expect_error(get(&c, NULL, "half"), PLUMB_EINVALID,
                 "incomplete credentials in AWS profile 'half': aws_access_key_id is set");
    expect_error(get(&c, NULL, "mfa"), PLUMB_EINVALID, "needs an MFA code");
    expect_error(get(&c, NULL, "long"), PLUMB_EINVALID, "invalid duration_seconds '99'");
}

Test(credentials, secrets_stay_out_of_messages)
{
    struct plumb_aws_credentials c;

    put(".aws/credentials", "[default]\naws_secret_access_key = wJalrXUtnFEMIK7MDENGbPxRfiCY\n");
    expect_error(get(&c, NULL, NULL), PLUMB_EINVALID, "aws_secret_access_key is set");
    cr_expect_null(strstr(plumb_error_message(), "wJalrXUtnFEMIK7MDENGbPxRfiCY"));
}

Test(credentials, unreadable_web_identity_token_is_an_error)
{
    struct plumb_aws_credentials c;
    char want[600];

    put(".aws/credentials", "[default]\naws_access_key_id = AKIDFILE\n"
                            "aws_secret_access_key = s\n");
    setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/ci", 1);
    snprintf(want, sizeof(want), "%s/no-such-token", dir);
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", want, 1);
    snprintf(want, sizeof(want),
             "unable to read web identity token file '%s/no-such-token': No such file", dir);
    expect_error(get(&c, NULL, NULL), PLUMB_EINVALID, want);
}

Test(credentials, nothing_found_names_every_source)
{
    struct plumb_aws_credentials c;
    char want[1200], imds[64];

    put(".aws/config", "[default]\nregion = eu-west-1\n");
    snprintf(imds, sizeof(imds), "http://127.0.0.1:%d", closed_port());
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds, 1);
    unsetenv("AWS_EC2_METADATA_DISABLED");
    snprintf(want, sizeof(want),
             "no AWS credentials found: tried environment (AWS_ACCESS_KEY_ID not set), "
             "web identity (AWS_ROLE_ARN not set), "
             "profile 'default' in %s/.aws/credentials and %s/.aws/config (no credentials in it), "
             "ECS container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and "
             "AWS_CONTAINER_CREDENTIALS_FULL_URI not set), "
             "EC2 instance metadata (no answer from %s)",
             dir, dir, imds);
    cr_assert_eq(get(&c, NULL, NULL), PLUMB_EAUTH, "%s", plumb_error_message());
    cr_expect_str_eq(plumb_error_message(), want);

    /* Without any file, and with the web identity half set up. */
    unlink(put(".aws/config", ""));
    setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/ci", 1);
    setenv("AWS_EC2_METADATA_DISABLED", "TRUE", 1);
    cr_assert_eq(get(&c, NULL, NULL), PLUMB_EAUTH, "%s", plumb_error_message());
    cr_expect_not_null(strstr(plumb_error_message(),
                              "web identity (AWS_WEB_IDENTITY_TOKEN_FILE not set), profile "
                              "'default' in "),
                       "%s", plumb_error_message());
    cr_expect_not_null(strstr(plumb_error_message(), "/.aws/config (not found)"), "%s",
                       plumb_error_message());
    cr_expect_not_null(strstr(plumb_error_message(),
                              "EC2 instance metadata (disabled by AWS_EC2_METADATA_DISABLED)"),
                       "%s", plumb_error_message());
}

Test(credentials, copy_and_release)
{
    struct plumb_aws_credentials a, b;

    memset(&a, 0, sizeof(a));
    a.access_key_id = strdup("AKID");
    a.secret_access_key = strdup("secret");
    a.expiration = 1234;
    snprintf(a.source, sizeof(a.source), "somewhere");
    cr_assert_eq(plumb_aws_credentials_copy(&b, &a), 0);
    cr_expect_str_eq(b.access_key_id, "AKID");
    cr_expect_neq(b.access_key_id, a.access_key_id);
    cr_expect_str_eq(b.secret_access_key, "secret");
    cr_expect_null(b.session_token);
    cr_expect_eq(b.expiration, 1234);
    cr_expect_str_eq(b.source, "somewhere");
    plumb_aws_credentials_release(&a);
    cr_expect_null(a.access_key_id);
    cr_expect_str_eq(b.access_key_id, "AKID");
    plumb_aws_credentials_release(&b);
    plumb_aws_credentials_release(&b);
}

/* ---- ECS and EC2 instance metadata (tests/tools/metadata_server.py) -------------------- */

static void start_metadata(const char *const *args)
{
    cr_assert_eq(test_server_start(&meta, "metadata_server.py", args), 0,
                 "metadata server did not start");
}

/* The server's counters (GET /_stats). */
static json_t *meta_stats(void)
{
    struct plumb_http_request req;
    struct plumb_http_response resp;
    json_t *doc;

    plumb_http_request_init(&req);
    plumb_http_response_init(&resp);
    req.method = "GET";
    req.url_base = strdup(meta.url);
    req.path = strdup("/_stats");
    cr_assert_eq(plumb_http_send(&resp, &req, NULL), 0, "%s", plumb_error_message());
    cr_assert_eq(resp.status, 200);
    doc = json_loadb(plumb_buf_cstr(&resp.body), resp.body.len, 0, NULL);
    cr_assert(json_is_object(doc));
    plumb_http_request_release(&req);
    plumb_http_response_release(&resp);
    return doc;
}

static long meta_count(const char *kind)
{
    json_t *doc = meta_stats();
    long n = (long)json_integer_value(json_object_get(doc, kind));

    json_decref(doc);
    return n;
}

static void use_imds(void)
{
    unsetenv("AWS_EC2_METADATA_DISABLED");
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", meta.url, 1);
}

TestSuite(credentials_metadata, .init = setup, .fini = teardown, .timeout = 60);

Test(credentials_metadata, ecs_relative_uri_with_token)
{
    const char *args[] = {"--ecs-token", "Bearer task-token", "--expiration",
                          "2030-01-01T00:00:00Z", NULL};
    struct plumb_aws_credentials c;
    json_t *stats;

    start_metadata(args);
    plumb_aws__credentials_set_ecs_host(meta.url);
    setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/ecs/v2/credentials/4f1c-task", 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer task-token", 1);
    expect_ok(get(&c, NULL, NULL));
    cr_expect_str_eq(c.access_key_id, "ASIAECS0001");
    cr_expect_str_eq(c.secret_access_key, "ecs-secret-1");
    cr_expect_str_eq(c.session_token, "ecs-session-1");
    cr_expect_eq(c.expiration, 1893456000);
    cr_expect_str_eq(c.source, "ECS container credentials");
    plumb_aws_credentials_release(&c);
    stats = meta_stats();
    cr_expect_str_eq(json_string_value(json_object_get(stats, "last_ecs_path")),
                     "/ecs/v2/credentials/4f1c-task");
    cr_expect_eq(json_integer_value(json_object_get(stats, "unauthorized")), 0);
    json_decref(stats);
}

Test(credentials_metadata, ecs_refused_token_is_an_error)
{
    const char *args[] = {"--ecs-token", "Bearer task-token", NULL};
    struct plumb_aws_credentials c;

    start_metadata(args);
    plumb_aws__credentials_set_ecs_host(meta.url);
    setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/ecs/v2/credentials/x", 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer wrong-token", 1);
    expect_error(get(&c, NULL, NULL), PLUMB_EAUTH,
                 "unable to get ECS container credentials: HTTP 401");
    cr_expect_null(strstr(plumb_error_message(), "wrong-token"));
    cr_expect_eq(meta_count("unauthorized"), 1);
}

Test(credentials_metadata, ecs_full_uri_with_token_file)
{
    const char *args[] = {"--ecs-token", "Bearer from-file", NULL};
    struct plumb_aws_credentials c;
    char url[200];
    json_t *stats;

    start_metadata(args);
    snprintf(url, sizeof(url), "%s/ecs/full?x=a%%20b&y=1", meta.url);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    /* The file wins over the variable. */
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer from-variable", 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", put("ecs-token", "Bearer from-file\n"), 1);
    expect_ok(get(&c, NULL, NULL));
    cr_expect_str_eq(c.access_key_id, "ASIAECS0001");
    cr_expect_str_eq(c.source, "ECS container credentials");
    plumb_aws_credentials_release(&c);
    stats = meta_stats();
    cr_expect_str_eq(json_string_value(json_object_get(stats, "last_ecs_path")),
                     "/ecs/full?x=a%20b&y=1");
    json_decref(stats);
}

Test(credentials_metadata, ecs_full_uri_must_be_local_or_https)
{
    struct plumb_aws_credentials c;

    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://metadata.example.com/creds", 1);
    expect_error(get(&c, NULL, NULL), PLUMB_EINVALID,
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI 'http://metadata.example.com' must be https");
}

Test(credentials_metadata, imds_v2)
{
    const char *args[] = {"--expiration", "2030-01-01T00:00:00Z", NULL};
    struct plumb_aws_credentials c;
    json_t *stats;

    start_metadata(args);
    use_imds();
    expect_ok(get(&c, NULL, NULL));
    cr_expect_str_eq(c.access_key_id, "ASIAIMDS0001");
    cr_expect_str_eq(c.secret_access_key, "imds-secret-1");
    cr_expect_str_eq(c.session_token, "imds-session-1");
    cr_expect_eq(c.expiration, 1893456000);
    cr_expect_str_eq(c.source, "EC2 instance metadata (role 'plumb-test-role')");
    plumb_aws_credentials_release(&c);
    /* The server refuses reads without a token it issued: one of each, none refused. */
    stats = meta_stats();
    cr_expect_eq(json_integer_value(json_object_get(stats, "token")), 1);
    cr_expect_eq(json_integer_value(json_object_get(stats, "roles")), 1);
    cr_expect_eq(json_integer_value(json_object_get(stats, "credentials")), 1);
    cr_expect_eq(json_integer_value(json_object_get(stats, "unauthorized")), 0);
    cr_expect_eq(json_integer_value(json_object_get(stats, "bad_request")), 0);
    json_decref(stats);
}

Test(credentials_metadata, imds_refreshes_near_expiry)
{
    const char *args[] = {"--expiration", "2030-01-01T00:00:00Z", NULL};
    struct plumb_aws_credentials_chain *chain;
    struct plumb_aws_shared_config *cfg;
    struct plumb_aws_credentials c;

    start_metadata(args);
    use_imds();
    plumb_clock_set(fake_clock);
    fake_now = 1893456000 - 3600;
    cr_assert_eq(plumb_aws_shared_config_load(&cfg), 0);
    cr_assert_eq(plumb_aws_credentials_chain_new(&chain, NULL, cfg, NULL), 0);

    expect_ok(plumb_aws_credentials_chain_get(&c, chain));
    cr_expect_str_eq(c.access_key_id, "ASIAIMDS0001");
    plumb_aws_credentials_release(&c);
    /* Cached while more than five minutes remain. */
    fake_now = 1893456000 - 301;
    expect_ok(plumb_aws_credentials_chain_get(&c, chain));
    cr_expect_str_eq(c.access_key_id, "ASIAIMDS0001");
    plumb_aws_credentials_release(&c);
    cr_expect_eq(meta_count("credentials"), 1);

    /* Then fetched again. */
    fake_now = 1893456000 - 299;
    expect_ok(plumb_aws_credentials_chain_get(&c, chain));
    cr_expect_str_eq(c.access_key_id, "ASIAIMDS0002");
    plumb_aws_credentials_release(&c);
    cr_expect_eq(meta_count("credentials"), 2);
    cr_expect_eq(meta_count("token"), 2);

    plumb_aws_credentials_chain_free(chain);
    plumb_aws_shared_config_free(cfg);
}

static void *get_in_thread(void *arg)
{
    struct plumb_aws_credentials c;
    char *key = NULL;

    if (plumb_aws_credentials_chain_get(&c, arg) == 0)
        key = strdup(c.access_key_id);
    plumb_aws_credentials_release(&c);
    return key;
}

Test(credentials_metadata, threads_share_one_resolution)
{
    struct plumb_aws_credentials_chain *chain;
    struct plumb_aws_shared_config *cfg;
    pthread_t threads[8];
    char endpoint[80];
    void *key;
    int i;

    start_metadata(NULL);
    use_imds();
    /* A trailing '/' on the endpoint is fine, as in the SDKs' examples. */
    snprintf(endpoint, sizeof(endpoint), "%s/", meta.url);
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", endpoint, 1);
    cr_assert_eq(plumb_aws_shared_config_load(&cfg), 0);
    cr_assert_eq(plumb_aws_credentials_chain_new(&chain, NULL, cfg, NULL), 0);
    for (i = 0; i < 8; i++)
        cr_assert_eq(pthread_create(&threads[i], NULL, get_in_thread, chain), 0);
    for (i = 0; i < 8; i++) {
        pthread_join(threads[i], &key);
        cr_expect_str_eq(key ? key : "(failed)", "ASIAIMDS0001");
        free(key);
    }
    cr_expect_eq(meta_count("credentials"), 1);
    cr_expect_eq(meta_count("token"), 1);
    plumb_aws_credentials_chain_free(chain);
    plumb_aws_shared_config_free(cfg);
}

Test(credentials_metadata, imds_failed_refresh_keeps_valid_credentials)
{
    const char *args[] = {"--expiration", "2030-01-01T00:00:00Z", NULL};
    struct plumb_aws_credentials_chain *chain;
    struct plumb_aws_shared_config *cfg;
    struct plumb_aws_credentials c;

    start_metadata(args);
    use_imds();
    plumb_clock_set(fake_clock);
    fake_now = 1893456000 - 3600;
    cr_assert_eq(plumb_aws_shared_config_load(&cfg), 0);
    cr_assert_eq(plumb_aws_credentials_chain_new(&chain, NULL, cfg, NULL), 0);
    expect_ok(plumb_aws_credentials_chain_get(&c, chain));
    plumb_aws_credentials_release(&c);

    /* The endpoint goes away: the current credentials serve until they expire... */
    test_server_stop(&meta);
    fake_now = 1893456000 - 100;
    expect_ok(plumb_aws_credentials_chain_get(&c, chain));
    cr_expect_str_eq(c.access_key_id, "ASIAIMDS0001");
    plumb_aws_credentials_release(&c);
    /* ...and not after. */
    fake_now = 1893456000 + 1;
    cr_expect_eq(plumb_aws_credentials_chain_get(&c, chain), PLUMB_EAUTH);
    cr_expect_not_null(strstr(plumb_error_message(), "no AWS credentials found"), "%s",
                       plumb_error_message());

    plumb_aws_credentials_chain_free(chain);
    plumb_aws_shared_config_free(cfg);
}

Test(credentials_metadata, imds_expired_credentials_are_fetched_again)
{
    struct plumb_aws_credentials_chain *chain;
    struct plumb_aws_shared_config *cfg;
    struct plumb_aws_credentials c;
    struct plumb_http_request req;
    struct plumb_http_response resp;

    start_metadata(NULL);
    use_imds();
    /* The server hands out credentials that expired already: each get fetches anew. */
    plumb_http_request_init(&req);
    plumb_http_response_init(&resp);
    req.method = "POST";
    req.url_base = strdup(meta.url);
    req.path = strdup("/_expiration");
    plumb_buf_puts(&req.body, "2020-01-01T00:00:00Z");
    cr_assert_eq(plumb_http_send(&resp, &req, NULL), 0);
    cr_assert_eq(resp.status, 200);
    plumb_http_request_release(&req);
    plumb_http_response_release(&resp);

    cr_assert_eq(plumb_aws_shared_config_load(&cfg), 0);
    cr_assert_eq(plumb_aws_credentials_chain_new(&chain, NULL, cfg, NULL), 0);
    expect_ok(plumb_aws_credentials_chain_get(&c, chain));
    cr_expect_eq(c.expiration, 1577836800);
    plumb_aws_credentials_release(&c);
    expect_ok(plumb_aws_credentials_chain_get(&c, chain));
    cr_expect_str_eq(c.access_key_id, "ASIAIMDS0002");
    plumb_aws_credentials_release(&c);
    plumb_aws_credentials_chain_free(chain);
    plumb_aws_shared_config_free(cfg);
}

Test(credentials_metadata, imds_without_role_falls_through)
{
    const char *args[] = {"--no-role", NULL};
    struct plumb_aws_credentials c;

    start_metadata(args);
    use_imds();
    expect_error(get(&c, NULL, NULL), PLUMB_EAUTH,
                 "EC2 instance metadata (no IAM role attached to the instance)");
    cr_expect_eq(meta_count("roles"), 1);
}

Test(credentials_metadata, imds_disabled_is_not_asked)
{
    struct plumb_aws_credentials c;

    start_metadata(NULL);
    use_imds();
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    expect_error(get(&c, NULL, NULL), PLUMB_EAUTH,
                 "EC2 instance metadata (disabled by AWS_EC2_METADATA_DISABLED)");
    cr_expect_eq(meta_count("token"), 0);
}

/* ---- STS: AssumeRole and AssumeRoleWithWebIdentity against moto ------------------------- */

static struct plumb_aws *start_moto(void)
{
    struct plumb_aws *aws = NULL;

    cr_assert_eq(test_server_start(&moto, "moto_server.py", NULL), 0, "moto did not start");
    setenv("AWS_ENDPOINT_URL", moto.url, 1);
    setenv("AWS_REGION", "us-east-1", 1);
    cr_assert_eq(plumb_aws_new(&aws, NULL), 0, "%s", plumb_error_message());
    return aws;
}

/* The ARN STS says the credentials belong to. */
static char *caller_arn(struct plumb_aws *aws, const struct plumb_aws_credentials *c)
{
    json_t *out = NULL;
    char *arn;

    cr_assert_eq(plumb_aws__call_with(aws, c, "sts", "GetCallerIdentity", NULL, &out), 0, "%s",
                 plumb_error_message());
    arn = strdup(json_string_value(json_object_get(out, "Arn")));
    json_decref(out);
    return arn;
}

static void expect_assumed(const struct plumb_aws_credentials *c)
{
    cr_expect_eq(strncmp(c->access_key_id, "ASIA", 4), 0, "key %s", c->access_key_id);
    cr_expect_not_null(c->session_token);
    cr_expect_gt(c->expiration, time(NULL) + 600);
}

TestSuite(credentials_sts, .init = setup, .fini = teardown, .timeout = 120);

Test(credentials_sts, assume_role_via_source_profile)
{
    struct plumb_aws *aws = start_moto();
    struct plumb_aws_credentials c;
    char *arn;

    put(".aws/credentials", "[base]\naws_access_key_id = AKIDBASE\n"
                            "aws_secret_access_key = secret-base\n");
    put(".aws/config", "[profile dev]\nrole_arn = arn:aws:iam::123456789012:role/deployer\n"
                       "source_profile = base\nexternal_id = ext-42\n"
                       "role_session_name = nightly\nduration_seconds = 1800\n");
    expect_ok(get(&c, aws, "dev"));
    expect_assumed(&c);
    cr_expect_str_eq(c.source, "assume role arn:aws:iam::123456789012:role/deployer via "
                               "profile 'dev'");
    /* moto honours DurationSeconds. */
    cr_expect_lt(c.expiration, time(NULL) + 1800 + 60);
    arn = caller_arn(aws, &c);
    cr_expect_str_eq(arn, "arn:aws:sts::123456789012:assumed-role/deployer/nightly");
    free(arn);
    plumb_aws_credentials_release(&c);
    plumb_aws_free(aws);
}

Test(credentials_sts, role_chain_through_two_profiles)
{
    struct plumb_aws *aws = start_moto();
    struct plumb_aws_credentials c;
    char *arn;

    put(".aws/credentials", "[base]\naws_access_key_id = AKIDBASE\n"
                            "aws_secret_access_key = secret-base\n");
    put(".aws/config", "[profile mid]\nrole_arn = arn:aws:iam::123456789012:role/mid\n"
                       "source_profile = base\n"
                       "[profile top]\nrole_arn = arn:aws:iam::123456789012:role/top\n"
                       "source_profile = mid\nrole_session_name = chained\n");
    setenv("AWS_PROFILE", "top", 1);
    expect_ok(get(&c, aws, NULL));
    expect_assumed(&c);
    cr_expect_str_eq(c.source, "assume role arn:aws:iam::123456789012:role/top via profile 'top'");
    arn = caller_arn(aws, &c);
    cr_expect_str_eq(arn, "arn:aws:sts::123456789012:assumed-role/top/chained");
    free(arn);
    plumb_aws_credentials_release(&c);
    plumb_aws_free(aws);
}

Test(credentials_sts, credential_source_environment)
{
    struct plumb_aws *aws = start_moto();
    struct plumb_aws_credentials c;

    put(".aws/config", "[profile ci]\nrole_arn = arn:aws:iam::123456789012:role/ci-deploy\n"
                       "credential_source = Environment\n");
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secret-env", 1);
    /* The profile says: assume the role with the environment's keys, not use them as is. */
    expect_ok(get(&c, aws, "ci"));
    expect_assumed(&c);
    cr_expect_str_eq(c.source,
                     "assume role arn:aws:iam::123456789012:role/ci-deploy via profile 'ci'");
    plumb_aws_credentials_release(&c);
    plumb_aws_free(aws);
}

Test(credentials_sts, credential_source_instance_metadata)
{
    struct plumb_aws *aws = start_moto();
    struct plumb_aws_credentials c;

    start_metadata(NULL);
    use_imds();
    put(".aws/config", "[default]\nrole_arn = arn:aws:iam::123456789012:role/from-instance\n"
                       "credential_source = Ec2InstanceMetadata\n");
    expect_ok(get(&c, aws, NULL));
    expect_assumed(&c);
    cr_expect_neq(strcmp(c.access_key_id, "ASIAIMDS0001"), 0);
    cr_expect_str_eq(c.source, "assume role arn:aws:iam::123456789012:role/from-instance via "
                               "profile 'default'");
    cr_expect_eq(meta_count("credentials"), 1);
    plumb_aws_credentials_release(&c);
    plumb_aws_free(aws);
}

Test(credentials_sts, web_identity_from_environment)
{
    struct plumb_aws *aws = start_moto();
    struct plumb_aws_credentials c;
    char *arn;

    /* Keys in a profile come later in the chain: web identity wins. */
    put(".aws/credentials", "[default]\naws_access_key_id = AKIDFILE\n"
                            "aws_secret_access_key = s\n");
    setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/gha", 1);
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", put("oidc-token", "eyJhbGciOi.eyJzdWIiOi.c2lnbmF0\n"), 1);
    setenv("AWS_ROLE_SESSION_NAME", "gha-run-7", 1);
    expect_ok(get(&c, aws, NULL));
    expect_assumed(&c);
    cr_expect_str_eq(c.source, "web identity (AWS_ROLE_ARN arn:aws:iam::123456789012:role/gha)");
    arn = caller_arn(aws, &c);
    cr_expect_str_eq(arn, "arn:aws:sts::123456789012:assumed-role/gha/gha-run-7");
    free(arn);
    plumb_aws_credentials_release(&c);
    plumb_aws_free(aws);
}

Test(credentials_sts, web_identity_from_profile_with_default_session_name)
{
    struct plumb_aws *aws = start_moto();
    struct plumb_aws_credentials c;
    const char *prefix = "arn:aws:sts::123456789012:assumed-role/pod/plumb-";
    char config[600], *arn;

    snprintf(config, sizeof(config),
             "[profile k8s]\nrole_arn = arn:aws:iam::123456789012:role/pod\n"
             "web_identity_token_file = %s\n",
             put("sa-token", "eyJ.pod.token"));
    put(".aws/config", config);
    expect_ok(get(&c, aws, "k8s"));
    expect_assumed(&c);
    cr_expect_str_eq(c.source,
                     "web identity (role arn:aws:iam::123456789012:role/pod via profile 'k8s')");
    arn = caller_arn(aws, &c);
    cr_expect_eq(strncmp(arn, prefix, strlen(prefix)), 0, "%s", arn);
    free(arn);
    plumb_aws_credentials_release(&c);
    plumb_aws_free(aws);
}

Test(credentials_sts, unreachable_sts_is_an_error_not_fall_through)
{
    struct plumb_aws *aws = NULL;
    struct plumb_aws_credentials c;
    char url[64];

    /* The instance would answer: the chain must stop at the profile that failed. */
    start_metadata(NULL);
    use_imds();
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", closed_port());
    setenv("AWS_ENDPOINT_URL", url, 1);
    setenv("AWS_REGION", "us-east-1", 1);
    setenv("AWS_MAX_ATTEMPTS", "1", 1);
    cr_assert_eq(plumb_aws_new(&aws, NULL), 0, "%s", plumb_error_message());
    put(".aws/credentials", "[base]\naws_access_key_id = AKIDBASE\n"
                            "aws_secret_access_key = secret-base\n");
    put(".aws/config", "[default]\nrole_arn = arn:aws:iam::123456789012:role/deployer\n"
                       "source_profile = base\n");
    expect_error(get(&c, aws, NULL), PLUMB_ENET,
                 "unable to assume role 'arn:aws:iam::123456789012:role/deployer' for AWS "
                 "profile 'default': ");
    cr_expect_null(strstr(plumb_error_message(), "secret-base"));
    cr_expect_eq(meta_count("token"), 0);
    plumb_aws_free(aws);
}

Test(credentials_sts, client_resolves_through_the_chain)
{
    struct plumb_aws *aws;
    struct plumb_aws_credentials c;
    json_t *out = NULL;

    put(".aws/credentials", "[base]\naws_access_key_id = AKIDBASE\n"
                            "aws_secret_access_key = secret-base\n");
    put(".aws/config", "[profile dev]\nrole_arn = arn:aws:iam::123456789012:role/app\n"
                       "source_profile = base\nrole_session_name = via-client\n");
    setenv("AWS_PROFILE", "dev", 1);
    aws = start_moto();
    cr_assert_eq(plumb_aws_get_credentials(&c, aws), 0, "%s", plumb_error_message());
    expect_assumed(&c);
    cr_expect_str_eq(c.source, "assume role arn:aws:iam::123456789012:role/app via profile 'dev'");
    plumb_aws_credentials_release(&c);
    cr_assert_eq(plumb_aws_call(aws, "sts", "GetCallerIdentity", NULL, &out), 0, "%s",
                 plumb_error_message());
    cr_expect_str_eq(json_string_value(json_object_get(out, "Arn")),
                     "arn:aws:sts::123456789012:assumed-role/app/via-client");
    json_decref(out);
    plumb_aws_free(aws);
}
