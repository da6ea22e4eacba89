/*
 * AWS::ElasticLoadBalancingV2::TargetGroup against moto with signature checking on; every
 * outcome checked with the aws CLI as well as the driver's own read. The VPC is made with the
 * aws CLI; targets are IP addresses in it (target type ip, as for Fargate tasks).
 *
 * moto gaps met here (DESIGN.md §8):
 *   - ModifyTargetGroup takes only Matcher.HttpCode (a GrpcCode is ignored): the test changes
 *     HttpCode only.
 *   - moto reports only the attributes it has defaults for or was given; the driver reports
 *     whatever declarable ones come back.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "helpers/driver.h"
#include "helpers/moto.h"
#include "provider/provider.h"
#include "util/error.h"

static struct test_moto moto;
static char vpc[64];

static void setup(void)
{
    json_t *out = NULL;

    cr_assert_eq(test_moto_start(&moto, 1), 0);
    cr_assert_eq(test_aws_cli(&out, "ec2 create-vpc --cidr-block 10.50.0.0/16"), 0);
    snprintf(vpc, sizeof(vpc), "%s",
             json_string_value(json_object_get(json_object_get(out, "Vpc"), "VpcId")));
    json_decref(out);
}

static void teardown(void)
{
    test_moto_stop(&moto);
}

TestSuite(driver_elbv2_targetgroup, .init = setup, .fini = teardown, .timeout = 180);

static const struct plumb_resource_type *driver(void)
{
    const struct plumb_resource_type *t =
        plumb_provider_find("AWS::ElasticLoadBalancingV2::TargetGroup");
    cr_assert_not_null(t);
    return t;
}

/* The group as the aws CLI sees it, or NULL when it lists no such ARN. */
static json_t *cli_tg(const char *arn)
{
    json_t *out = NULL, *tg, *found = NULL;
    size_t i;

    cr_assert_eq(test_aws_cli(&out, "elbv2 describe-target-groups"), 0);
    json_array_foreach(json_object_get(out, "TargetGroups"), i, tg)
    {
        if (strcmp(json_string_value(json_object_get(tg, "TargetGroupArn")), arn) == 0)
            found = json_incref(tg);
    }
    json_decref(out);
    return found;
}

/* The value of attribute `key` as the aws CLI sees it (caller frees), or NULL. */
static char *cli_attribute(const char *arn, const char *key)
{
    json_t *out = NULL, *a;
    char *value = NULL;
    size_t i;

    cr_assert_eq(
        test_aws_cli(&out, "elbv2 describe-target-group-attributes --target-group-arn '%s'", arn),
        0);
    json_array_foreach(json_object_get(out, "Attributes"), i, a)
    {
        if (strcmp(json_string_value(json_object_get(a, "Key")), key) == 0)
            value = strdup(json_string_value(json_object_get(a, "Value")));
    }
    json_decref(out);
    return value;
}

/* The registered target ids as the aws CLI sees them, joined by spaces (caller frees). */
static char *cli_targets(const char *arn)
{
    json_t *out = NULL, *h;
    char buf[512] = "";
    size_t i;

    cr_assert_eq(test_aws_cli(&out, "elbv2 describe-target-health --target-group-arn '%s'", arn),
                 0);
    json_array_foreach(json_object_get(out, "TargetHealthDescriptions"), i, h)
    {
        const json_t *target = json_object_get(h, "Target");
        snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s:%lld", *buf ? " " : "",
                 json_string_value(json_object_get(target, "Id")),
                 (long long)json_integer_value(json_object_get(target, "Port")));
    }
    json_decref(out);
    return strdup(buf);
}

static json_t *cli_tags(const char *arn)
{
    json_t *out = NULL, *map = json_object(), *t;
    size_t i;

    cr_assert_eq(test_aws_cli(&out, "elbv2 describe-tags --resource-arns '%s'", arn), 0);
    json_array_foreach(
        json_object_get(json_array_get(json_object_get(out, "TagDescriptions"), 0), "Tags"), i, t)
        json_object_set(map, json_string_value(json_object_get(t, "Key")),
                        json_object_get(t, "Value"));
    json_decref(out);
    return map;
}

/* Each declared attribute is in observed with its value. */
static void expect_attributes(const json_t *declared, const json_t *observed)
{
    const json_t *d, *o;
    size_t i, j;

    json_array_foreach(json_object_get(declared, "TargetGroupAttributes"), i, d)
    {
        const char *key = json_string_value(json_object_get(d, "Key"));
        int found = 0;
        json_array_foreach(json_object_get(observed, "TargetGroupAttributes"), j, o)
        {
            if (strcmp(json_string_value(json_object_get(o, "Key")), key) == 0) {
                found = 1;
                cr_expect(json_equal(json_object_get(o, "Value"), json_object_get(d, "Value")),
                          "attribute %s", key);
            }
        }
        cr_expect(found, "attribute %s is reported", key);
    }
}

/* Props without TargetGroupAttributes, which read reports in full (compared separately). */
static json_t *without_attributes(const json_t *props)
{
    json_t *p = json_deep_copy(props);

    json_object_del(p, "TargetGroupAttributes");
    return p;
}

static json_t *declared(const char *path, int interval, int timeout, int healthy, int unhealthy,
                        const char *codes, const char *hc_port, json_t *attributes, json_t *targets,
                        json_t *tags)
{
    return json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:b, s:s, s:i, s:i, s:i, s:i, s:{s:s},"
                     " s:s, s:o, s:o, s:o}",
                     "Name", "stage-api", "Port", 8000, "Protocol", "HTTP", "TargetType", "ip",
                     "VpcId", vpc, "HealthCheckProtocol", "HTTP", "HealthCheckEnabled", 1,
                     "HealthCheckPath", path, "HealthCheckIntervalSeconds", interval,
                     "HealthCheckTimeoutSeconds", timeout, "HealthyThresholdCount", healthy,
                     "UnhealthyThresholdCount", unhealthy, "Matcher", "HttpCode", codes,
                     "HealthCheckPort", hc_port, "TargetGroupAttributes", attributes, "Targets",
                     targets, "Tags", tags);
}

static char *cli_make_tg(const char *name)
{
    json_t *out = NULL;
    char *arn;

    cr_assert_eq(test_aws_cli(&out,
                              "elbv2 create-target-group --name %s --protocol HTTP --port 80 "
                              "--vpc-id %s --target-type ip --tags Key=made-by,Value=cli",
                              name, vpc),
                 0);
    arn = strdup(json_string_value(json_object_get(
        json_array_get(json_object_get(out, "TargetGroups"), 0), "TargetGroupArn")));
    json_decref(out);
    return arn;
}

Test(driver_elbv2_targetgroup, lifecycle)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *after, *observed = NULL, *again = NULL, *id, *tg, *tags, *cmp, *found = NULL;
    char *arn, *v;

    props = declared(
        "/health", 30, 5, 3, 2, "200", "traffic-port",
        json_pack("[{s:s, s:s}]", "Key", "deregistration_delay.timeout_seconds", "Value", "30"),
        json_pack("[{s:s, s:i}, {s:s, s:i}]", "Id", "10.50.1.10", "Port", 8000, "Id", "10.50.1.11",
                  "Port", 8000),
        json_pack("[{s:s, s:s}, {s:s, s:s}]", "Key", "plumb:address", "Value", "tg", "Key", "team",
                  "Value", "shop"));
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    cmp = without_attributes(props);
    test_expect_props(cmp, observed);
    json_decref(cmp);
    expect_attributes(props, observed);
    cr_assert(json_is_string(json_object_get(observed, "TargetGroupArn")));
    arn = strdup(json_string_value(json_object_get(observed, "TargetGroupArn")));
    id = json_pack("{s:s}", "TargetGroupArn", arn);
    cr_expect_str_eq(json_string_value(json_object_get(observed, "TargetGroupName")), "stage-api");
    cr_expect_eq(strncmp(json_string_value(json_object_get(observed, "TargetGroupFullName")),
                         "targetgroup/stage-api/", 22),
                 0);
    cr_expect(json_is_array(json_object_get(observed, "LoadBalancerArns")));

    /* the aws CLI sees what was declared */
    tg = cli_tg(arn);
    cr_assert_not_null(tg, "the aws CLI sees the group");
    cr_expect_str_eq(json_string_value(json_object_get(tg, "HealthCheckPath")), "/health");
    cr_expect_eq(json_integer_value(json_object_get(tg, "HealthyThresholdCount")), 3);
    cr_expect_str_eq(json_string_value(json_object_get(tg, "TargetType")), "ip");
    json_decref(tg);
    v = cli_attribute(arn, "deregistration_delay.timeout_seconds");
    cr_expect(v && strcmp(v, "30") == 0, "deregistration delay: %s", v ? v : "(none)");
    free(v);
    v = cli_targets(arn);
    cr_expect_str_eq(v, "10.50.1.10:8000 10.50.1.11:8000");
    free(v);
    tags = cli_tags(arn);
    cr_expect_str_eq(json_string_value(json_object_get(tags, "team")), "shop");
    json_decref(tags);

    cr_assert_eq(t->read(aws, id, &again), 0);
    cmp = without_attributes(props);
    test_expect_props(cmp, again);
    json_decref(cmp);
    json_decref(again);

    /* update: every health check setting, attributes, targets and tags in place */
    after = declared("/ready", 15, 10, 4, 3, "200-299", "8080",
                     json_pack("[{s:s, s:s}, {s:s, s:s}]", "Key",
                               "deregistration_delay.timeout_seconds", "Value", "60", "Key",
                               "stickiness.enabled", "Value", "true"),
                     json_pack("[{s:s, s:i}, {s:s, s:i}]", "Id", "10.50.1.11", "Port", 8000, "Id",
                               "10.50.1.12", "Port", 8000),
                     json_pack("[{s:s, s:s}, {s:s, s:s}]", "Key", "env", "Value", "stage", "Key",
                               "plumb:address", "Value", "tg"));
    json_object_set_new(after, "HealthCheckEnabled", json_false());
    json_decref(observed);
    cr_assert_eq(t->update(aws, id, props, after, &observed), 0, "%s", plumb_error_message());
    cmp = without_attributes(after);
    test_expect_props(cmp, observed);
    json_decref(cmp);
    expect_attributes(after, observed);
    tg = cli_tg(arn);
    cr_assert_not_null(tg);
    cr_expect_str_eq(json_string_value(json_object_get(tg, "HealthCheckPath")), "/ready");
    cr_expect_eq(json_integer_value(json_object_get(tg, "HealthCheckIntervalSeconds")), 15);
    cr_expect_eq(json_integer_value(json_object_get(tg, "HealthCheckTimeoutSeconds")), 10);
    cr_expect_eq(json_integer_value(json_object_get(tg, "HealthyThresholdCount")), 4);
    cr_expect_eq(json_integer_value(json_object_get(tg, "UnhealthyThresholdCount")), 3);
    cr_expect_str_eq(json_string_value(json_object_get(tg, "HealthCheckPort")), "8080");
    cr_expect(json_is_false(json_object_get(tg, "HealthCheckEnabled")));
    cr_expect_str_eq(json_string_value(json_object_get(json_object_get(tg, "Matcher"), "HttpCode")),
                     "200-299");
    json_decref(tg);
    v = cli_attribute(arn, "stickiness.enabled");
    cr_expect(v && strcmp(v, "true") == 0, "stickiness: %s", v ? v : "(none)");
    free(v);
    v = cli_targets(arn);
    cr_expect_str_eq(v, "10.50.1.11:8000 10.50.1.12:8000");
    free(v);
    tags = cli_tags(arn);
    cr_expect_str_eq(json_string_value(json_object_get(tags, "env")), "stage");
    cr_expect_null(json_object_get(tags, "team"), "the removed tag is gone");
    json_decref(tags);

    /* lookup finds it by name (adoption after a crash) */
    cr_assert_eq(t->lookup(aws, after, &found), 0, "%s", plumb_error_message());
    cr_expect(json_equal(found, id));
    json_decref(found);

    /* remove, then gone for the driver and the CLI; removing again is fine */
    cr_assert_eq(t->remove(aws, id, 0), 0, "%s", plumb_error_message());
    again = NULL;
    cr_assert_eq(t->read(aws, id, &again), 0, "%s", plumb_error_message());
    cr_expect_null(again);
    cr_expect_null(cli_tg(arn), "the aws CLI no longer lists it");
    cr_expect_eq(t->remove(aws, id, 0), 0, "%s", plumb_error_message());
    found = NULL;
    cr_assert_eq(t->lookup(aws, after, &found), 0);
    cr_expect_null(found, "lookup finds nothing once it is gone");

    json_decref(props);
    json_decref(after);
    json_decref(observed);
    json_decref(id);
    free(arn);
    plumb_aws_free(aws);
}

/*
 * update's `before` holds what AWS reports: what `after` does not declare is left alone, the
 * targets above all (an ECS service registers its tasks in a group that declares none).
 */
Test(driver_elbv2_targetgroup, undeclared_settings_are_left_alone)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *before = NULL, *after, *observed = NULL, *id, *tg, *out = NULL;
    char *arn = cli_make_tg("left-alone"), *v;

    cr_assert_eq(test_aws_cli(&out,
                              "elbv2 modify-target-group --target-group-arn '%s' "
                              "--health-check-path /deep --health-check-interval-seconds 60",
                              arn),
                 0);
    json_decref(out);
    cr_assert_eq(test_aws_cli(&out,
                              "elbv2 register-targets --target-group-arn '%s' "
                              "--targets Id=10.50.3.3,Port=80",
                              arn),
                 0);
    json_decref(out);
    id = json_pack("{s:s}", "TargetGroupArn", arn);
    cr_assert_eq(t->read(aws, id, &before), 0, "%s", plumb_error_message());
    after = json_pack("{s:s, s:i, s:s, s:s, s:s, s:i, s:[{s:s, s:s}]}", "Name", "left-alone",
                      "Port", 80, "Protocol", "HTTP", "TargetType", "ip", "VpcId", vpc,
                      "UnhealthyThresholdCount", 4, "Tags", "Key", "made-by", "Value", "cli");
    cr_assert_eq(t->update(aws, id, before, after, &observed), 0, "%s", plumb_error_message());
    tg = cli_tg(arn);
    cr_assert_not_null(tg);
    cr_expect_eq(json_integer_value(json_object_get(tg, "UnhealthyThresholdCount")), 4);
    cr_expect_str_eq(json_string_value(json_object_get(tg, "HealthCheckPath")), "/deep");
    cr_expect_eq(json_integer_value(json_object_get(tg, "HealthCheckIntervalSeconds")), 60);
    json_decref(tg);
    v = cli_targets(arn);
    cr_expect_str_eq(v, "10.50.3.3:80", "the targets stay registered");
    free(v);
    json_decref(before);
    json_decref(after);
    json_decref(observed);
    json_decref(id);
    free(arn);
    plumb_aws_free(aws);
}

/* Without Name, the name derives from plumb's tags: the same resource, the same name. */
Test(driver_elbv2_targetgroup, a_name_is_derived_from_plumb_tags)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *bare, *observed = NULL, *found = NULL, *tg;
    const char *name;

    props = json_pack("{s:i, s:s, s:s, s:s, s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}]}", "Port", 80,
                      "Protocol", "HTTP", "TargetType", "ip", "VpcId", vpc, "Tags", "Key",
                      "plumb:address", "Value", "web_tg", "Key", "plumb:env", "Value", "stage",
                      "Key", "plumb:project", "Value", "shop");
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    name = json_string_value(json_object_get(observed, "Name"));
    cr_assert_not_null(name);
    cr_expect_eq(strncmp(name, "plumb-", 6), 0, "%s", name);
    cr_expect_leq(strlen(name), 32);
    tg = cli_tg(json_string_value(json_object_get(observed, "TargetGroupArn")));
    cr_expect_str_eq(json_string_value(json_object_get(tg, "TargetGroupName")), name);
    json_decref(tg);
    cr_assert_eq(t->lookup(aws, props, &found), 0, "%s", plumb_error_message());
    cr_assert_not_null(found, "lookup derives the same name");
    cr_expect(json_equal(json_object_get(found, "TargetGroupArn"),
                         json_object_get(observed, "TargetGroupArn")));
    json_decref(found);

    /* neither Name nor plumb's tags: nothing to name it by */
    bare = json_pack("{s:i, s:s, s:s, s:s}", "Port", 80, "Protocol", "HTTP", "TargetType", "ip",
                     "VpcId", vpc);
    json_decref(observed);
    observed = NULL;
    cr_expect_eq(t->create(aws, bare, &observed), PLUMB_EINVALID);
    found = NULL;
    cr_expect_eq(t->lookup(aws, bare, &found), 0);
    cr_expect_null(found);
    json_decref(bare);
    json_decref(props);
    json_decref(observed);
    plumb_aws_free(aws);
}

Test(driver_elbv2_targetgroup, read_many_in_batches)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    char *a = cli_make_tg("batch-a"), *b = cli_make_tg("batch-b"), *c = cli_make_tg("batch-c");
    char missing[300];
    json_t *ids, *observed = NULL, *o;
    unsigned long before;

    /* an ARN of the right form that names no group */
    snprintf(missing, sizeof(missing), "%.*s/0123456789abcdef", (int)(strrchr(a, '/') - a), a);
    ids = json_pack("[{s:s}, {s:s}, {s:s}, {s:s}]", "TargetGroupArn", a, "TargetGroupArn", missing,
                    "TargetGroupArn", b, "TargetGroupArn", c);
    before = plumb_aws_stats_calls(aws, "elbv2");
    cr_assert_eq(t->read_many(aws, ids, NULL, &observed), 0, "%s", plumb_error_message());
    cr_assert_eq(json_array_size(observed), 4);
    o = json_array_get(observed, 0);
    cr_expect_str_eq(json_string_value(json_object_get(o, "Name")), "batch-a");
    cr_expect_str_eq(
        json_string_value(json_object_get(json_array_get(json_object_get(o, "Tags"), 0), "Key")),
        "made-by");
    cr_expect(json_is_null(json_array_get(observed, 1)), "a missing group reads as null");
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(observed, 2), "Name")),
                     "batch-b");
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(observed, 3), "Name")),
                     "batch-c");
    /*
     * The unknown ARN fails the batch describe (TargetGroupNotFound), one full listing
     * answers it instead, one DescribeTags for all three; attributes and target health take
     * one group a call. Three single reads would cost 12.
     */
    cr_expect_eq(plumb_aws_stats_calls(aws, "elbv2") - before, 3 + 2 * 3);

    json_decref(observed);
    json_array_remove(ids, 1);
    before = plumb_aws_stats_calls(aws, "elbv2");
    cr_assert_eq(t->read_many(aws, ids, NULL, &observed), 0, "%s", plumb_error_message());
    cr_expect_eq(json_array_size(observed), 3);
    cr_expect_eq(plumb_aws_stats_calls(aws, "elbv2") - before, 2 + 2 * 3);

    free(a);
    free(b);
    free(c);
    json_decref(ids);
    json_decref(observed);
    plumb_aws_free(aws);
}

Test(driver_elbv2_targetgroup, aws_errors_keep_their_code)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    char *arn = cli_make_tg("taken");
    json_t *props, *observed = NULL, *found = NULL;

    /* the name is taken (with other settings: AWS would return the same group for the same) */
    props = json_pack("{s:s, s:i, s:s, s:s, s:s}", "Name", "taken", "Port", 8080, "Protocol",
                      "HTTP", "TargetType", "ip", "VpcId", vpc);
    cr_expect_eq(t->create(aws, props, &observed), PLUMB_ECONFLICT);
    cr_expect(strstr(plumb_error_message(), "DuplicateTargetGroupName") != NULL, "%s",
              plumb_error_message());
    cr_expect(strstr(plumb_error_message(), "request id") != NULL, "%s", plumb_error_message());
    cr_expect_null(observed);
    /* which is why adoption looks the name up first */
    cr_assert_eq(t->lookup(aws, props, &found), 0, "%s", plumb_error_message());
    cr_assert_not_null(found);
    cr_expect_str_eq(json_string_value(json_object_get(found, "TargetGroupArn")), arn);
    json_decref(found);
    json_decref(props);

    /* an attribute AWS refuses after the group was made: the group is removed again */
    props = json_pack("{s:s, s:i, s:s, s:s, s:s, s:[{s:s, s:s}]}", "Name", "bad-attr", "Port", 80,
                      "Protocol", "HTTP", "TargetType", "ip", "VpcId", vpc, "TargetGroupAttributes",
                      "Key", "deregistration_delay.timeout_seconds", "Value", "99999");
    cr_expect_lt(t->create(aws, props, &observed), 0);
    cr_expect(strstr(plumb_error_message(), "ValidationError") != NULL, "%s",
              plumb_error_message());
    found = NULL;
    cr_assert_eq(t->lookup(aws, props, &found), 0, "%s", plumb_error_message());
    cr_expect_null(found, "a half-made group is not left behind");
    json_decref(props);
    free(arn);
    plumb_aws_free(aws);
}

/* A group a listener forwards to cannot go (ResourceInUse), after a few tries. */
Test(driver_elbv2_targetgroup, in_use_group_is_refused)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    char *arn = cli_make_tg("in-use"), sa[64], sb[64];
    json_t *out = NULL, *id;
    const char *lb;

    cr_assert_eq(test_aws_cli(&out,
                              "ec2 create-subnet --vpc-id %s --cidr-block 10.50.8.0/24 "
                              "--availability-zone us-east-1a",
                              vpc),
                 0);
    snprintf(sa, sizeof(sa), "%s",
             json_string_value(json_object_get(json_object_get(out, "Subnet"), "SubnetId")));
    json_decref(out);
    cr_assert_eq(test_aws_cli(&out,
                              "ec2 create-subnet --vpc-id %s --cidr-block 10.50.9.0/24 "
                              "--availability-zone us-east-1b",
                              vpc),
                 0);
    snprintf(sb, sizeof(sb), "%s",
             json_string_value(json_object_get(json_object_get(out, "Subnet"), "SubnetId")));
    json_decref(out);
    cr_assert_eq(
        test_aws_cli(&out, "elbv2 create-load-balancer --name uses-it --subnets %s %s", sa, sb), 0);
    lb = json_string_value(json_object_get(json_array_get(json_object_get(out, "LoadBalancers"), 0),
                                           "LoadBalancerArn"));
    {
        json_t *l = NULL;
        cr_assert_eq(test_aws_cli(&l,
                                  "elbv2 create-listener --load-balancer-arn '%s' --protocol "
                                  "HTTP --port 80 --default-actions Type=forward,TargetGroupArn=%s",
                                  lb, arn),
                     0);
        json_decref(l);
    }
    json_decref(out);
    id = json_pack("{s:s}", "TargetGroupArn", arn);
    cr_expect_lt(t->remove(aws, id, 0), 0);
    cr_expect(strstr(plumb_error_message(), "ResourceInUse") != NULL, "%s", plumb_error_message());
    out = cli_tg(arn);
    cr_expect_not_null(out, "the group is still there");
    json_decref(out);
    json_decref(id);
    free(arn);
    plumb_aws_free(aws);
}
