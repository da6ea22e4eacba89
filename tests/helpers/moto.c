#include "helpers/moto.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/error.h"

extern char **environ;

static void clear_aws_env(void)
{
    char **e;
    int again = 1;

    while (again) {
        again = 0;
        for (e = environ; *e; e++) {
            if (strncmp(*e, "AWS_", 4) == 0) {
                char name[256];
                snprintf(name, sizeof(name), "%.*s", (int)strcspn(*e, "="), *e);
                unsetenv(name);
                again = 1;
                break;
            }
        }
    }
}

/* Runs a shell command, collecting stdout. */
static int run_capture(struct plumb_buf *out, const char *cmd)
{
    char chunk[4096];
    size_t n;
    FILE *f = popen(cmd, "r");
    int status;

    if (!f)
        return -1;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        plumb_buf_put(out, chunk, n);
    status = pclose(f);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int test_boto3(json_t **out, const char *code)
{
    struct plumb_buf cmd = PLUMB_BUF_INIT, got = PLUMB_BUF_INIT, script = PLUMB_BUF_INIT;
    char path[300];
    FILE *f;
    int rc;

    *out = NULL;
    snprintf(path, sizeof(path), "%s/boto3-%d.py", getenv("HOME") ? getenv("HOME") : "/tmp",
             (int)getpid());
    plumb_buf_printf(&script,
                     "import json, os, boto3\n"
                     "def c(name):\n"
                     "    return boto3.client(name, endpoint_url=os.environ['AWS_ENDPOINT_URL'],"
                     " region_name=os.environ.get('AWS_REGION', 'us-east-1'))\n"
                     "%s\n",
                     code);
    f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(script.ptr, f);
    fclose(f);
    plumb_buf_printf(&cmd, "python3 '%s'", path);
    rc = run_capture(&got, cmd.ptr);
    if (got.len)
        *out = json_loads(got.ptr, JSON_DECODE_ANY, NULL);
    unlink(path);
    plumb_buf_release(&cmd);
    plumb_buf_release(&got);
    plumb_buf_release(&script);
    return rc;
}

int test_aws_cli(json_t **out, const char *fmt, ...)
{
    struct plumb_buf cmd = PLUMB_BUF_INIT, got = PLUMB_BUF_INIT;
    va_list ap;
    int rc;

    *out = NULL;
    plumb_buf_puts(&cmd, "aws ");
    va_start(ap, fmt);
    plumb_buf_vprintf(&cmd, fmt, ap);
    va_end(ap);
    plumb_buf_puts(&cmd, " --output json");
    rc = run_capture(&got, cmd.ptr);
    if (got.len)
        *out = json_loads(got.ptr, 0, NULL);
    if (rc != 0)
        fprintf(stderr, "test_aws_cli: '%s' exited %d\n", cmd.ptr, rc);
    plumb_buf_release(&cmd);
    plumb_buf_release(&got);
    return rc;
}

int test_moto_start(struct test_moto *m, int auth)
{
    json_t *key = NULL;
    struct plumb_buf cmd = PLUMB_BUF_INIT;
    int rc = -1;

    memset(m, 0, sizeof(*m));
    clear_aws_env();
    snprintf(m->home, sizeof(m->home), "/tmp/plumb-moto-test-%d", (int)getpid());
    mkdir(m->home, 0700);
    setenv("HOME", m->home, 1);
    if (test_server_start(&m->server, "moto_server.py", NULL) < 0) {
        fprintf(stderr, "test_moto_start: moto_server did not start\n");
        return -1;
    }
    setenv("AWS_ENDPOINT_URL", m->server.url, 1);
    setenv("AWS_REGION", "us-east-1", 1);
    setenv("AWS_DEFAULT_REGION", "us-east-1", 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIAMOTOBOOTSTRAP000", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "bootstrap", 1);
    if (!auth)
        return 0;
    if (test_boto3(
            &key,
            "iam = c('iam')\n"
            "iam.create_user(UserName='plumb-test')\n"
            "iam.put_user_policy(UserName='plumb-test', PolicyName='all', PolicyDocument="
            "json.dumps({'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', "
            "'Action': '*', 'Resource': '*'}]}))\n"
            "k = iam.create_access_key(UserName='plumb-test')['AccessKey']\n"
            "print(json.dumps({'id': k['AccessKeyId'], 'secret': k['SecretAccessKey']}))\n") != 0 ||
        !key) {
        fprintf(stderr, "test_moto_start: could not create the test user\n");
        goto done;
    }
    setenv("AWS_ACCESS_KEY_ID", json_string_value(json_object_get(key, "id")), 1);
    setenv("AWS_SECRET_ACCESS_KEY", json_string_value(json_object_get(key, "secret")), 1);
    plumb_buf_printf(&cmd,
                     "curl -sf -X POST -H 'Content-Type: text/plain' --data 0 "
                     "%s/moto-api/reset-auth >/dev/null",
                     m->server.url);
    if (system(cmd.ptr) != 0) {
        fprintf(stderr, "test_moto_start: could not turn on signature checking\n");
        goto done;
    }
    rc = 0;
done:
    json_decref(key);
    plumb_buf_release(&cmd);
    return rc;
}

void test_moto_stop(struct test_moto *m)
{
    char cmd[300];

    test_server_stop(&m->server);
    if (m->home[0]) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", m->home);
        if (system(cmd) != 0)
            fprintf(stderr, "test_moto_stop: could not remove %s\n", m->home);
    }
}

struct plumb_aws *test_moto_client(void)
{
    struct plumb_aws *aws = NULL;

    if (plumb_aws_new(&aws, NULL) < 0) {
        fprintf(stderr, "test_moto_client: %s\n", plumb_error_message());
        abort();
    }
    return aws;
}
