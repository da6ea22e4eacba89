/*
 * AWS::AppRunner::AutoScalingConfiguration against the App Runner emulator
 * (tests/emulators/apprunner_server.py; moto has no App Runner). Every outcome is checked with
 * boto3 as well as with the driver's own read. AWS_ENDPOINT_URL points at a closed port, so
 * only a client honouring AWS_ENDPOINT_URL_APPRUNNER reaches the emulator.
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

TestSuite(driver_apprunner_autoscalingconfiguration, .init = setup, .fini = teardown,
          .timeout = 120);

static const struct plumb_resource_type *driver(void)
{
    const struct plumb_resource_type *t =
        plumb_provider_find("AWS::AppRunner::AutoScalingConfiguration");
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

/* The configuration as boto3 sees it, with its tags as a map (none for an inactive one). */
static json_t *boto3_asc(const char *arn)
{
    return boto3("a = ar.describe_auto_scaling_configuration(AutoScalingConfigurationArn='%s')"
                 "['AutoScalingConfiguration']\n"
                 "if a['Status'] == 'ACTIVE':\n"
                 "    a['Tags'] = {t['Key']: t['Value'] for t in "
                 "ar.list_tags_for_resource(ResourceArn='%s')['Tags']}\n"
                 "print(json.dumps(a, default=str))\n",
                 arn, arn);
}

static const char *str_of(const json_t *v, const char *key)
{
    return json_string_value(json_object_get(v, key));
}

static json_int_t int_of(const json_t *v, const char *key)
{
    return json_integer_value(json_object_get(v, key));
}

static json_t *id_of(const json_t *observed)
{
    return json_pack("{s:O}", "AutoScalingConfigurationArn",
                     json_object_get(observed, "AutoScalingConfigurationArn"));
}

Test(driver_apprunner_autoscalingconfiguration, lifecycle)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = client();
    json_t *props, *after, *second, *observed = NULL, *observed2 = NULL, *again = NULL;
    json_t *id, *id2, *found = NULL, *seen;

    props = json_pack("{s:s, s:i, s:i, s:i, s:[{s:s, s:s}, {s:s, s:s}]}",
                      "AutoScalingConfigurationName", "astro-ai-scaling", "MinSize", 1, "MaxSize",
                      25, "MaxConcurrency", 100, "Tags", "Key", "plumb:address", "Value", "scaling",
                      "Key", "team", "Value", "astro");
    cr_assert_eq(t->lookup(aws, props, &found), 0, "%s", plumb_error_message());
    cr_expect_null(found, "nothing to adopt yet");
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    test_expect_props(props, observed);
    cr_expect_eq(int_of(observed, "AutoScalingConfigurationRevision"), 1);
    cr_expect(json_is_true(json_object_get(observed, "Latest")));
    cr_expect(strstr(str_of(observed, "AutoScalingConfigurationArn"),
                     ":autoscalingconfiguration/astro-ai-scaling/1/") != NULL);
    id = id_of(observed);
    cr_assert_eq(t->read(aws, id, &again), 0, "%s", plumb_error_message());
    test_expect_props(props, again);
    json_decref(again);

    seen = boto3_asc(str_of(id, "AutoScalingConfigurationArn"));
    cr_expect_str_eq(str_of(seen, "Status"), "ACTIVE");
    cr_expect_eq(int_of(seen, "MinSize"), 1);
    cr_expect_eq(int_of(seen, "MaxSize"), 25);
    cr_expect_eq(int_of(seen, "MaxConcurrency"), 100);
    cr_expect_str_eq(str_of(json_object_get(seen, "Tags"), "team"), "astro");
    cr_expect_str_eq(str_of(json_object_get(seen, "Tags"), "plumb:address"), "scaling");
    json_decref(seen);

    /* update: tags are all AWS changes in place */
    after = json_deep_copy(props);
    /* in key order, as read lists them (the schema says Tags are unordered) */
    json_object_set_new(after, "Tags",
                        json_pack("[{s:s, s:s}, {s:s, s:s}]", "Key", "owner", "Value", "ml", "Key",
                                  "plumb:address", "Value", "scaling"));
    json_decref(observed);
    cr_assert_eq(t->update(aws, id, props, after, &observed), 0, "%s", plumb_error_message());
    test_expect_props(after, observed);
    seen = boto3_asc(str_of(id, "AutoScalingConfigurationArn"));
    cr_expect_str_eq(str_of(json_object_get(seen, "Tags"), "owner"), "ml");
    cr_expect_null(json_object_get(json_object_get(seen, "Tags"), "team"), "the old tag is gone");
    json_decref(seen);

    /* lookup: by name, the latest revision */
    cr_assert_eq(t->lookup(aws, after, &found), 0, "%s", plumb_error_message());
    cr_expect(json_equal(found, id));
    json_decref(found);

    /* a replacement under the same name is a new revision; lookup now finds that one, and
     * the old one is no longer Latest */
    second = json_deep_copy(after);
    json_object_set_new(second, "MaxSize", json_integer(10));
    cr_assert_eq(t->create(aws, second, &observed2), 0, "%s", plumb_error_message());
    test_expect_props(second, observed2);
    cr_expect_eq(int_of(observed2, "AutoScalingConfigurationRevision"), 2);
    id2 = id_of(observed2);
    cr_assert_eq(t->lookup(aws, second, &found), 0, "%s", plumb_error_message());
    cr_expect(json_equal(found, id2));
    json_decref(found);
    again = NULL;
    cr_assert_eq(t->read(aws, id, &again), 0, "%s", plumb_error_message());
    cr_expect(json_is_false(json_object_get(again, "Latest")));
    json_decref(again);

    /* remove the old revision: gone for the driver, INACTIVE for boto3; again is fine */
    cr_assert_eq(t->remove(aws, id, 0), 0, "%s", plumb_error_message());
    again = NULL;
    cr_assert_eq(t->read(aws, id, &again), 0, "%s", plumb_error_message());
    cr_expect_null(again, "a deleted revision reads as gone");
    seen = boto3_asc(str_of(id, "AutoScalingConfigurationArn"));
    cr_expect_str_eq(str_of(seen, "Status"), "INACTIVE");
    json_decref(seen);
    cr_expect_eq(t->remove(aws, id, 0), 0, "%s", plumb_error_message());
    seen = boto3_asc(str_of(id2, "AutoScalingConfigurationArn"));
    cr_expect_str_eq(str_of(seen, "Status"), "ACTIVE", "only that revision was deleted");
    json_decref(seen);

    cr_assert_eq(t->remove(aws, id2, 0), 0, "%s", plumb_error_message());
    cr_assert_eq(t->lookup(aws, second, &found), 0, "%s", plumb_error_message());
    cr_expect_null(found, "no active revision is left to adopt");

    json_decref(props);
    json_decref(after);
    json_decref(second);
    json_decref(observed);
    json_decref(observed2);
    json_decref(id);
    json_decref(id2);
    plumb_aws_free(aws);
}

/* Declared with nothing but a name, AWS's values are the schema's plumb.defaults. */
Test(driver_apprunner_autoscalingconfiguration, defaults)
{
    const struct plumb_resource_type *t = driver();
    const struct plumb_schema_type *schema;
    struct plumb_aws *aws = client();
    json_t *props = json_pack("{s:s}", "AutoScalingConfigurationName", "blog-scaling");
    json_t *observed = NULL, *seen;
    char why[512] = "";

    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    cr_assert_eq(plumb_schema_load(), 0);
    schema = plumb_schema_find("AWS::AppRunner::AutoScalingConfiguration");
    cr_assert_not_null(schema);
    cr_expect(test_props_match(schema->defaults, observed, why, sizeof(why)), "%s", why);
    cr_expect(json_is_array(json_object_get(observed, "Tags")) &&
                  json_array_size(json_object_get(observed, "Tags")) == 0,
              "no tags");
    seen = boto3_asc(str_of(observed, "AutoScalingConfigurationArn"));
    cr_expect_eq(int_of(seen, "MaxConcurrency"), 100);
    cr_expect_eq(int_of(seen, "MinSize"), 1);
    cr_expect_eq(int_of(seen, "MaxSize"), 25);
    json_decref(seen);
    json_decref(props);
    json_decref(observed);
    plumb_aws_free(aws);
}

/* Reads: two calls each (describe, tags), an unknown ARN reads as gone; App Runner has no
 * batch describe, so the driver has no read_many. */
Test(driver_apprunner_autoscalingconfiguration, reads)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = client();
    json_t *made, *ids, *id, *observed;
    unsigned long calls;
    size_t i;

    cr_expect_null(t->read_many, "no batch API: refresh reads one by one");
    made = boto3("out = []\n"
                 "for n in ('a-scaling', 'b-scaling'):\n"
                 "    out.append(ar.create_auto_scaling_configuration("
                 "AutoScalingConfigurationName=n, MinSize=2, MaxSize=5)"
                 "['AutoScalingConfiguration']['AutoScalingConfigurationArn'])\n"
                 "print(json.dumps(out))\n");
    ids = json_pack("[{s:O}, {s:s}, {s:O}]", "AutoScalingConfigurationArn", json_array_get(made, 0),
                    "AutoScalingConfigurationArn",
                    "arn:aws:apprunner:us-east-1:123456789012:autoscalingconfiguration/"
                    "missing-scaling/1/00000000000000000000000000000000",
                    "AutoScalingConfigurationArn", json_array_get(made, 1));
    calls = plumb_aws_stats_calls(aws, "apprunner");
    json_array_foreach(ids, i, id)
    {
        observed = NULL;
        cr_assert_eq(t->read(aws, id, &observed), 0, "%s", plumb_error_message());
        if (i == 1) {
            cr_expect_null(observed, "an unknown configuration reads as gone");
        } else {
            cr_assert_not_null(observed);
            cr_expect_str_eq(str_of(observed, "AutoScalingConfigurationName"),
                             i == 0 ? "a-scaling" : "b-scaling");
            cr_expect_eq(int_of(observed, "MinSize"), 2);
            cr_expect_eq(int_of(observed, "MaxSize"), 5);
        }
        json_decref(observed);
    }
    cr_expect_eq(plumb_aws_stats_calls(aws, "apprunner") - calls, 5, "2 + 1 + 2 calls");
    json_decref(made);
    json_decref(ids);
    plumb_aws_free(aws);
}

/* Without a name the driver names the configuration after its plumb:address, so that lookup
 * finds what an interrupted apply created. */
Test(driver_apprunner_autoscalingconfiguration, generated_name_is_found_again)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = client();
    json_t *props, *observed = NULL, *found = NULL, *seen;
    const char *name;

    props = json_pack("{s:i, s:[{s:s, s:s}]}", "MaxSize", 3, "Tags", "Key", "plumb:address",
                      "Value", "module.astro.scaling");
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    name = str_of(observed, "AutoScalingConfigurationName");
    cr_assert_not_null(name);
    cr_expect_eq(strncmp(name, "module-astro-scaling-", 21), 0, "%s", name);
    cr_expect_leq(strlen(name), 32);
    cr_assert_eq(t->lookup(aws, props, &found), 0, "%s", plumb_error_message());
    cr_assert_not_null(found);
    cr_expect_str_eq(str_of(found, "AutoScalingConfigurationArn"),
                     str_of(observed, "AutoScalingConfigurationArn"));
    seen = boto3_asc(str_of(observed, "AutoScalingConfigurationArn"));
    cr_expect_str_eq(str_of(seen, "AutoScalingConfigurationName"), name);
    cr_expect_eq(int_of(seen, "MaxSize"), 3);
    json_decref(seen);
    json_decref(props);
    json_decref(observed);
    json_decref(found);
    plumb_aws_free(aws);
}

Test(driver_apprunner_autoscalingconfiguration, aws_errors_keep_their_code)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = client();
    json_t *props, *observed = NULL, *svc, *after, *id, *seen;
    unsigned long calls;

    /* values AWS refuses: out of the model's range, and MinSize above MaxSize */
    props = json_pack("{s:s, s:i}", "AutoScalingConfigurationName", "astro-ai-scaling",
                      "MaxConcurrency", 500);
    cr_expect_eq(t->create(aws, props, &observed), PLUMB_EAWS);
    cr_expect(strstr(plumb_error_message(), "InvalidRequestException") != NULL, "%s",
              plumb_error_message());
    cr_expect(strstr(plumb_error_message(), "MaxConcurrency") != NULL, "%s", plumb_error_message());
    cr_expect(strstr(plumb_error_message(), "request id") != NULL, "%s", plumb_error_message());
    json_decref(props);
    props = json_pack("{s:s, s:i, s:i}", "AutoScalingConfigurationName", "astro-ai-scaling",
                      "MinSize", 5, "MaxSize", 2);
    cr_expect_eq(t->create(aws, props, &observed), PLUMB_EAWS);
    cr_expect(strstr(plumb_error_message(), "InvalidRequestException") != NULL, "%s",
              plumb_error_message());
    seen =
        boto3("print(json.dumps([a['AutoScalingConfigurationName'] for a in "
              "ar.list_auto_scaling_configurations()['AutoScalingConfigurationSummaryList']]))\n");
    cr_expect(json_array_size(seen) == 1 &&
                  strcmp(json_string_value(json_array_get(seen, 0)), "DefaultConfiguration") == 0,
              "nothing was created by the refused calls");
    json_decref(seen);

    /* a configuration a service uses cannot be deleted: AWS's refusal surfaces */
    json_object_set_new(props, "MinSize", json_integer(1));
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    id = id_of(observed);
    svc = boto3("s = ar.create_service(ServiceName='astro-ai-service', SourceConfiguration="
                "{'ImageRepository': {'ImageIdentifier': 'public.ecr.aws/nginx/nginx:latest',"
                " 'ImageRepositoryType': 'ECR_PUBLIC'}}, AutoScalingConfigurationArn='%s')"
                "['Service']\n"
                "print(json.dumps(s, default=str))\n",
                str_of(id, "AutoScalingConfigurationArn"));
    cr_expect_eq(t->remove(aws, id, 0), PLUMB_EAWS);
    cr_expect(strstr(plumb_error_message(), "InvalidRequestException") != NULL, "%s",
              plumb_error_message());
    seen = boto3_asc(str_of(id, "AutoScalingConfigurationArn"));
    cr_expect_str_eq(str_of(seen, "Status"), "ACTIVE");
    json_decref(seen);

    /* settings are create-only: asked to change one in place, the driver refuses and calls
     * nothing */
    after = json_deep_copy(props);
    json_object_set_new(after, "MaxSize", json_integer(4));
    calls = plumb_aws_stats_calls(aws, "apprunner");
    json_decref(observed);
    observed = NULL;
    cr_expect_eq(t->update(aws, id, props, after, &observed), PLUMB_EINVALID);
    cr_expect(strstr(plumb_error_message(), "MaxSize") != NULL, "%s", plumb_error_message());
    cr_expect_eq(plumb_aws_stats_calls(aws, "apprunner"), calls);

    json_decref(props);
    json_decref(after);
    json_decref(svc);
    json_decref(id);
    json_decref(observed);
    plumb_aws_free(aws);
}
