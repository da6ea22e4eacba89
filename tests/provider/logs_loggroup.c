/*
 * AWS::Logs::LogGroup against moto with signature checking on; every outcome checked with
 * the aws CLI as well as the driver's own read.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "helpers/driver.h"
#include "helpers/moto.h"
#include "provider/provider.h"
#include "util/error.h"

static struct test_moto moto;

static void setup(void)
{
    cr_assert_eq(test_moto_start(&moto, 1), 0);
}

static void teardown(void)
{
    test_moto_stop(&moto);
}

TestSuite(driver_logs_loggroup, .init = setup, .fini = teardown, .timeout = 120);

static const struct plumb_resource_type *driver(void)
{
    const struct plumb_resource_type *t = plumb_provider_find("AWS::Logs::LogGroup");
    cr_assert_not_null(t);
    return t;
}

/* The group as the aws CLI sees it, or NULL. */
static json_t *cli_group(const char *name)
{
    json_t *out = NULL, *g, *found = NULL;
    size_t i;

    cr_assert_eq(test_aws_cli(&out, "logs describe-log-groups --log-group-name-prefix '%s'", name),
                 0);
    json_array_foreach(json_object_get(out, "logGroups"), i, g)
    {
        if (strcmp(json_string_value(json_object_get(g, "logGroupName")), name) == 0)
            found = json_incref(g);
    }
    json_decref(out);
    return found;
}

Test(driver_logs_loggroup, lifecycle)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *after, *observed = NULL, *again = NULL, *id, *g, *tags = NULL;

    props = json_pack("{s:s, s:i, s:[{s:s, s:s}]}", "LogGroupName", "/ecs/stage/api",
                      "RetentionInDays", 14, "Tags", "Key", "plumb:env", "Value", "stage");
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    test_expect_props(props, observed);
    cr_expect(json_is_string(json_object_get(observed, "Arn")));

    g = cli_group("/ecs/stage/api");
    cr_assert_not_null(g, "the aws CLI sees the group");
    cr_expect_eq(json_integer_value(json_object_get(g, "retentionInDays")), 14);
    json_decref(g);

    id = json_pack("{s:s}", "LogGroupName", "/ecs/stage/api");
    cr_assert_eq(t->read(aws, id, &again), 0);
    test_expect_props(props, again);
    json_decref(again);

    /* update: retention and tags in place */
    after = json_pack("{s:s, s:i, s:[{s:s, s:s}]}", "LogGroupName", "/ecs/stage/api",
                      "RetentionInDays", 90, "Tags", "Key", "team", "Value", "shop");
    json_decref(observed);
    cr_assert_eq(t->update(aws, id, props, after, &observed), 0, "%s", plumb_error_message());
    test_expect_props(after, observed);
    g = cli_group("/ecs/stage/api");
    cr_expect_eq(json_integer_value(json_object_get(g, "retentionInDays")), 90);
    cr_assert_eq(test_aws_cli(&tags, "logs list-tags-for-resource --resource-arn '%s'",
                              json_string_value(json_object_get(observed, "Arn"))),
                 0);
    cr_expect_str_eq(json_string_value(json_object_get(json_object_get(tags, "tags"), "team")),
                     "shop");
    cr_expect_null(json_object_get(json_object_get(tags, "tags"), "plumb:env"),
                   "the removed tag is gone");
    json_decref(g);
    json_decref(tags);

    /* lookup finds it by name (adoption after a crash) */
    {
        json_t *found = NULL;
        cr_assert_eq(t->lookup(aws, after, &found), 0);
        cr_expect(json_equal(found, id));
        json_decref(found);
    }

    /* remove, then gone for the driver and the CLI; removing again is fine */
    cr_assert_eq(t->remove(aws, id, 0), 0, "%s", plumb_error_message());
    again = NULL;
    cr_assert_eq(t->read(aws, id, &again), 0);
    cr_expect_null(again);
    cr_expect_null(cli_group("/ecs/stage/api"));
    cr_expect_eq(t->remove(aws, id, 0), 0);

    json_decref(props);
    json_decref(after);
    json_decref(observed);
    json_decref(id);
    plumb_aws_free(aws);
}

Test(driver_logs_loggroup, read_many_in_one_listing)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *ids, *observed = NULL, *made = NULL;
    unsigned long before;

    cr_assert_eq(test_aws_cli(&made, "logs create-log-group --log-group-name /a"), 0);
    cr_assert_eq(test_aws_cli(&made, "logs create-log-group --log-group-name /b"), 0);
    ids = json_pack("[{s:s}, {s:s}, {s:s}]", "LogGroupName", "/a", "LogGroupName", "/missing",
                    "LogGroupName", "/b");
    before = plumb_aws_stats_calls(aws, "logs");
    cr_assert_eq(t->read_many(aws, ids, NULL, &observed), 0, "%s", plumb_error_message());
    cr_assert_eq(json_array_size(observed), 3);
    cr_expect_str_eq(
        json_string_value(json_object_get(json_array_get(observed, 0), "LogGroupName")), "/a");
    cr_expect(json_is_null(json_array_get(observed, 1)), "a missing group reads as null");
    cr_expect_str_eq(
        json_string_value(json_object_get(json_array_get(observed, 2), "LogGroupName")), "/b");
    /* one listing, plus one tag read per group found */
    cr_expect_eq(plumb_aws_stats_calls(aws, "logs") - before, 3);
    json_decref(ids);
    json_decref(observed);
    plumb_aws_free(aws);
}

Test(driver_logs_loggroup, a_retention_removed_outside_reads_as_null)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *ids, *wanted, *observed = NULL, *made = NULL;

    cr_assert_eq(test_aws_cli(&made, "logs create-log-group --log-group-name /r"), 0);
    cr_assert_eq(test_aws_cli(&made, "logs delete-retention-policy --log-group-name /r"), 0);
    ids = json_pack("[{s:s}]", "LogGroupName", "/r");
    wanted = json_pack("{s:b}", "RetentionInDays", 1);
    /* declared (wanted): null, so the plan sees it gone rather than take the value applied */
    cr_assert_eq(t->read_many(aws, ids, wanted, &observed), 0, "%s", plumb_error_message());
    cr_expect(json_is_null(json_object_get(json_array_get(observed, 0), "RetentionInDays")));
    cr_expect_null(json_object_get(json_array_get(observed, 0), "KmsKeyId"), "not wanted");
    json_decref(observed);
    observed = NULL;
    /* a whole read (import) leaves it out, as CloudFormation does */
    cr_assert_eq(t->read_many(aws, ids, NULL, &observed), 0, "%s", plumb_error_message());
    cr_expect_null(json_object_get(json_array_get(observed, 0), "RetentionInDays"));
    json_decref(ids);
    json_decref(wanted);
    json_decref(observed);
    json_decref(made);
    plumb_aws_free(aws);
}

Test(driver_logs_loggroup, aws_errors_keep_their_code)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *observed = NULL, *made = NULL;

    cr_assert_eq(test_aws_cli(&made, "logs create-log-group --log-group-name /taken"), 0);
    props = json_pack("{s:s}", "LogGroupName", "/taken");
    cr_expect_eq(t->create(aws, props, &observed), PLUMB_ECONFLICT);
    cr_expect(strstr(plumb_error_message(), "ResourceAlreadyExistsException") != NULL, "%s",
              plumb_error_message());
    cr_expect(strstr(plumb_error_message(), "request id") != NULL, "%s", plumb_error_message());
    json_decref(props);
    plumb_aws_free(aws);
}
