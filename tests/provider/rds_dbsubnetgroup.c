/*
 * AWS::RDS::DBSubnetGroup against moto with signature checking on; every outcome checked with
 * the aws CLI as well as the driver's own read.
 *
 * Two moto 5.2.1 gaps, tolerated only where they show:
 *   - ModifyDBSubnetGroup answers with the modified group but drops it from moto's registry
 *     (RDSBackend.modify_db_subnet_group pops it and never stores it back): afterwards the
 *     group is gone for every client. The change itself is checked in moto's answer.
 *   - CreateDBSubnetGroup with a name that exists replaces the group silently (AWS refuses
 *     with DBSubnetGroupAlreadyExists): the executor's lookup before create is what finds it.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/value.h"
#include "helpers/driver.h"
#include "helpers/moto.h"
#include "provider/provider.h"
#include "util/error.h"

static struct test_moto moto;
static char subnets[3][64]; /* sorted, in three zones of one VPC */

/*
 * The aws CLI on rds. CLI v1 points rds in us-east-1 at https://rds.amazonaws.com whatever
 * AWS_ENDPOINT_URL says (awscli/customizations/overridesslcommonname.py); only an explicit
 * --endpoint-url wins over that.
 */
static int cli_rds(json_t **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int cli_rds(json_t **out, const char *fmt, ...)
{
    char args[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(args, sizeof(args), fmt, ap);
    va_end(ap);
    return test_aws_cli(out, "--endpoint-url %s rds %s", moto.server.url, args);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void setup(void)
{
    static const char *const zones[] = {"us-east-1a", "us-east-1b", "us-east-1c"};
    json_t *out = NULL;
    char vpc[64];
    int i;

    cr_assert_eq(test_moto_start(&moto, 1), 0);
    cr_assert_eq(test_aws_cli(&out, "ec2 create-vpc --cidr-block 10.50.0.0/16"), 0);
    snprintf(vpc, sizeof(vpc), "%s",
             json_string_value(json_object_get(json_object_get(out, "Vpc"), "VpcId")));
    json_decref(out);
    for (i = 0; i < 3; i++) {
        cr_assert_eq(test_aws_cli(&out,
                                  "ec2 create-subnet --vpc-id %s --cidr-block 10.50.%d.0/24 "
                                  "--availability-zone %s",
                                  vpc, i + 1, zones[i]),
                     0);
        snprintf(subnets[i], sizeof(subnets[i]), "%s",
                 json_string_value(json_object_get(json_object_get(out, "Subnet"), "SubnetId")));
        json_decref(out);
    }
    qsort(subnets, 3, sizeof(subnets[0]), cmp_str);
}

static void teardown(void)
{
    test_moto_stop(&moto);
}

TestSuite(driver_rds_dbsubnetgroup, .init = setup, .fini = teardown, .timeout = 120);

static const struct plumb_resource_type *driver(void)
{
    const struct plumb_resource_type *t = plumb_provider_find("AWS::RDS::DBSubnetGroup");
    cr_assert_not_null(t);
    return t;
}

/* The group as the aws CLI lists it, or NULL. */
static json_t *cli_group(const char *name)
{
    json_t *out = NULL, *g, *found = NULL;
    size_t i;

    cr_assert_eq(cli_rds(&out, "describe-db-subnet-groups"), 0);
    json_array_foreach(json_object_get(out, "DBSubnetGroups"), i, g)
    {
        if (strcmp(json_string_value(json_object_get(g, "DBSubnetGroupName")), name) == 0)
            found = json_incref(g);
    }
    json_decref(out);
    return found;
}

/* The group's subnet ids as the CLI sees them, sorted, as one "a,b" string. */
static void cli_subnets(char *out, size_t n, const json_t *group)
{
    char ids[3][64] = {{0}};
    const json_t *s;
    size_t i, k = 0;

    json_array_foreach(json_object_get(group, "Subnets"), i, s)
    {
        if (k < 3)
            snprintf(ids[k++], sizeof(ids[0]), "%s",
                     json_string_value(json_object_get(s, "SubnetIdentifier")));
    }
    qsort(ids, k, sizeof(ids[0]), cmp_str);
    out[0] = 0;
    for (i = 0; i < k; i++)
        snprintf(out + strlen(out), n - strlen(out), "%s%s", i ? "," : "", ids[i]);
}

/* The value of tag `key` as the CLI lists the tags of `arn`, or NULL (caller frees). */
static char *cli_tag(const char *arn, const char *key)
{
    json_t *out = NULL, *t;
    char *value = NULL;
    size_t i;

    cr_assert_eq(cli_rds(&out, "list-tags-for-resource --resource-name '%s'", arn), 0);
    json_array_foreach(json_object_get(out, "TagList"), i, t)
    {
        if (strcmp(json_string_value(json_object_get(t, "Key")), key) == 0)
            value = strdup(json_string_value(json_object_get(t, "Value")));
    }
    json_decref(out);
    return value;
}

Test(driver_rds_dbsubnetgroup, lifecycle)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *after, *declared, *observed = NULL, *again = NULL, *id, *g, *found = NULL;
    char ids[200], want[200], *v;
    const char *arn;

    /* a mixed-case name: RDS stores it in lower case, and normalize says so */
    props = json_pack("{s:s, s:s, s:[s, s], s:[{s:s, s:s}, {s:s, s:s}]}", "DBSubnetGroupName",
                      "Stage-DB-Subnets", "DBSubnetGroupDescription", "stage database subnets",
                      "SubnetIds", subnets[0], subnets[1], "Tags", "Key", "plumb:env", "Value",
                      "stage", "Key", "team", "Value", "shop");
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    declared = t->normalize(props);
    cr_expect_str_eq(json_string_value(json_object_get(declared, "DBSubnetGroupName")),
                     "stage-db-subnets");
    test_expect_props(declared, observed);
    json_decref(declared);

    g = cli_group("stage-db-subnets");
    cr_assert_not_null(g, "the aws CLI sees the group under its lower-case name");
    cr_expect_str_eq(json_string_value(json_object_get(g, "DBSubnetGroupDescription")),
                     "stage database subnets");
    cli_subnets(ids, sizeof(ids), g);
    snprintf(want, sizeof(want), "%s,%s", subnets[0], subnets[1]);
    cr_expect_str_eq(ids, want);
    arn = json_string_value(json_object_get(g, "DBSubnetGroupArn"));
    v = cli_tag(arn, "team");
    cr_expect_str_eq(v ? v : "(none)", "shop");
    free(v);

    /* read under the declared (mixed-case) name */
    id = json_pack("{s:s}", "DBSubnetGroupName", "Stage-DB-Subnets");
    cr_assert_eq(t->read(aws, id, &again), 0, "%s", plumb_error_message());
    declared = t->normalize(props);
    test_expect_props(declared, again);
    json_decref(declared);
    json_decref(again);

    /* update: tags in place (subnets and description: see update_subnets_and_description) */
    after = json_pack("{s:s, s:s, s:[s, s], s:[{s:s, s:s}]}", "DBSubnetGroupName",
                      "Stage-DB-Subnets", "DBSubnetGroupDescription", "stage database subnets",
                      "SubnetIds", subnets[1], subnets[0], "Tags", "Key", "team", "Value", "web");
    json_decref(observed);
    cr_assert_eq(t->update(aws, id, props, after, &observed), 0, "%s", plumb_error_message());
    cr_expect_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(observed, "Tags"), 0), "Value")),
                     "web");
    cr_expect_eq(json_array_size(json_object_get(observed, "Tags")), 1);
    v = cli_tag(arn, "team");
    cr_expect_str_eq(v ? v : "(none)", "web");
    free(v);
    v = cli_tag(arn, "plumb:env");
    cr_expect_null(v, "the removed tag is gone");
    free(v);

    /* lookup finds it by name, whatever its case */
    cr_assert_eq(t->lookup(aws, after, &found), 0);
    cr_expect_str_eq(json_string_value(json_object_get(found, "DBSubnetGroupName")),
                     "stage-db-subnets");
    json_decref(found);

    /* remove, then gone for the driver and the CLI; removing again is fine */
    cr_assert_eq(t->remove(aws, id, 0), 0, "%s", plumb_error_message());
    again = NULL;
    cr_assert_eq(t->read(aws, id, &again), 0);
    cr_expect_null(again);
    cr_expect_null(cli_group("stage-db-subnets"));
    cr_expect_eq(t->remove(aws, id, 0), 0, "%s", plumb_error_message());
    found = NULL;
    cr_assert_eq(t->lookup(aws, after, &found), 0);
    cr_expect_null(found);

    json_decref(g);
    json_decref(props);
    json_decref(after);
    json_decref(observed);
    json_decref(id);
    plumb_aws_free(aws);
}

Test(driver_rds_dbsubnetgroup, update_subnets_and_description)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *after, *observed = NULL, *id, *g, *expect;
    char ids[200], want[200];
    unsigned long before;

    props = json_pack("{s:s, s:s, s:[s, s]}", "DBSubnetGroupName", "moving",
                      "DBSubnetGroupDescription", "first", "SubnetIds", subnets[0], subnets[1]);
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    json_decref(observed);
    id = json_pack("{s:s}", "DBSubnetGroupName", "moving");
    after = json_pack("{s:s, s:s, s:[s, s]}", "DBSubnetGroupName", "moving",
                      "DBSubnetGroupDescription", "second", "SubnetIds", subnets[2], subnets[1]);
    before = plumb_aws_stats_calls(aws, "rds");
    cr_assert_eq(t->update(aws, id, props, after, &observed), 0, "%s", plumb_error_message());
    /* describe + tags before; ModifyDBSubnetGroup (its answer is the group); tags after */
    cr_expect_eq(plumb_aws_stats_calls(aws, "rds") - before, 4);
    /* what ModifyDBSubnetGroup answered: the change AWS (here moto) made */
    expect = json_pack("{s:s, s:s, s:[s, s]}", "DBSubnetGroupName", "moving",
                       "DBSubnetGroupDescription", "second", "SubnetIds", subnets[1], subnets[2]);
    test_expect_props(expect, observed);

    g = cli_group("moving");
    if (g) {
        cr_expect_str_eq(json_string_value(json_object_get(g, "DBSubnetGroupDescription")),
                         "second");
        cli_subnets(ids, sizeof(ids), g);
        snprintf(want, sizeof(want), "%s,%s", subnets[1], subnets[2]);
        cr_expect_str_eq(ids, want);
    } else {
        /* moto 5.2.1: ModifyDBSubnetGroup drops the group from its registry (see the top).
         * Said on stderr, not with cr_log_warn: criterion 2.4 counts a logged warning against
         * the run and exits 1 although every test passed. */
        fprintf(stderr, "note: moto lost the modified subnet group (known moto 5.2.1 gap); "
                        "checked ModifyDBSubnetGroup's answer only\n");
    }

    json_decref(g);
    json_decref(expect);
    json_decref(props);
    json_decref(after);
    json_decref(observed);
    json_decref(id);
    plumb_aws_free(aws);
}

Test(driver_rds_dbsubnetgroup, read_many_in_one_listing)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *ids, *observed = NULL, *made = NULL;
    unsigned long before;

    cr_assert_eq(cli_rds(&made,
                         "create-db-subnet-group --db-subnet-group-name group-a "
                         "--db-subnet-group-description a --subnet-ids %s %s",
                         subnets[0], subnets[1]),
                 0);
    json_decref(made);
    cr_assert_eq(cli_rds(&made,
                         "create-db-subnet-group --db-subnet-group-name Group-B "
                         "--db-subnet-group-description b --subnet-ids %s %s "
                         "--tags Key=team,Value=shop",
                         subnets[1], subnets[2]),
                 0);
    json_decref(made);
    ids = json_pack("[{s:s}, {s:s}, {s:s}]", "DBSubnetGroupName", "group-a", "DBSubnetGroupName",
                    "missing", "DBSubnetGroupName", "GROUP-B");
    before = plumb_aws_stats_calls(aws, "rds");
    cr_assert_eq(t->read_many(aws, ids, NULL, &observed), 0, "%s", plumb_error_message());
    cr_assert_eq(json_array_size(observed), 3);
    cr_expect_str_eq(
        json_string_value(json_object_get(json_array_get(observed, 0), "DBSubnetGroupName")),
        "group-a");
    cr_expect(json_is_null(json_array_get(observed, 1)), "a missing group reads as null");
    cr_expect_str_eq(
        json_string_value(json_object_get(json_array_get(observed, 2), "DBSubnetGroupName")),
        "group-b");
    cr_expect_str_eq(
        json_string_value(json_object_get(
            json_array_get(json_object_get(json_array_get(observed, 2), "Tags"), 0), "Value")),
        "shop");
    cr_expect_str_eq(
        json_string_value(json_object_get(json_array_get(observed, 0), "DBSubnetGroupDescription")),
        "a");
    /* one listing, plus one tag read per group found: fewer than 2 calls a group */
    cr_expect_eq(plumb_aws_stats_calls(aws, "rds") - before, 3);
    json_decref(ids);
    json_decref(observed);
    plumb_aws_free(aws);
}

Test(driver_rds_dbsubnetgroup, aws_errors_keep_their_code)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *observed = NULL;

    props = json_pack("{s:s, s:s, s:[s, s]}", "DBSubnetGroupName", "broken",
                      "DBSubnetGroupDescription", "d", "SubnetIds", subnets[0], "subnet-00000000");
    cr_expect_lt(t->create(aws, props, &observed), 0);
    cr_expect_null(observed);
    /* moto says InvalidSubnetID.NotFound, AWS InvalidSubnet: the code reaches the message */
    cr_expect(strstr(plumb_error_message(), "InvalidSubnet") != NULL, "%s", plumb_error_message());
    cr_expect(strstr(plumb_error_message(), "request id") != NULL, "%s", plumb_error_message());
    cr_expect_null(cli_group("broken"), "nothing was left behind");
    json_decref(props);
    plumb_aws_free(aws);
}

Test(driver_rds_dbsubnetgroup, lookup_finds_what_a_second_create_would_replace)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *made = NULL, *found = NULL;

    /* moto 5.2.1 replaces an existing group on a second create (see the top): a crashed
     * apply must find the group it made before creating it again */
    cr_assert_eq(cli_rds(&made,
                         "create-db-subnet-group --db-subnet-group-name adopted "
                         "--db-subnet-group-description mine --subnet-ids %s %s",
                         subnets[0], subnets[1]),
                 0);
    json_decref(made);
    props = json_pack("{s:s, s:s, s:[s, s]}", "DBSubnetGroupName", "Adopted",
                      "DBSubnetGroupDescription", "mine", "SubnetIds", subnets[0], subnets[1]);
    cr_assert_eq(t->lookup(aws, props, &found), 0, "%s", plumb_error_message());
    cr_assert_not_null(found);
    cr_expect_str_eq(json_string_value(json_object_get(found, "DBSubnetGroupName")), "adopted");
    json_decref(found);
    json_decref(props);
    plumb_aws_free(aws);
}

Test(driver_rds_dbsubnetgroup, normalize_keeps_marks)
{
    const struct plumb_resource_type *t = driver();
    json_t *props, *n;

    props = json_pack("{s:o, s:s}", "DBSubnetGroupName", plumb_value_unknown("env.name"),
                      "DBSubnetGroupDescription", "Mixed Case Stays");
    n = t->normalize(props);
    cr_expect(json_equal(n, props), "an unknown name and the description are left as they are");
    json_decref(n);
    json_decref(props);
}
