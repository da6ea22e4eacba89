/*
 * AWS::ElasticLoadBalancingV2::ListenerRule against moto with signature checking on; every
 * outcome checked with the aws CLI as well as the driver's own read. The VPC, subnets, load
 * balancer, target groups and listener are made with the aws CLI.
 *
 * Conditions and actions are compared as the planner compares them (declared members only):
 * AWS reports path and host conditions in both forms and adds Order to actions. ListenerArn
 * is write-only (DescribeRules does not return it): read leaves it out.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "helpers/driver.h"
#include "helpers/moto.h"
#include "provider/provider.h"
#include "util/error.h"

static struct test_moto moto;
static char listener[300], tg_1[256], tg_2[256];

static void cli_value(char *out, size_t n, const char *args, const char *list, const char *member)
{
    json_t *o = NULL, *x;
    const char *v;

    cr_assert_eq(test_aws_cli(&o, "%s", args), 0, "%s", args);
    x = json_array_get(json_object_get(o, list), 0);
    if (!x)
        x = json_object_get(o, list);
    v = json_string_value(json_object_get(x, member));
    cr_assert_not_null(v, "%s: no %s", args, member);
    snprintf(out, n, "%s", v);
    json_decref(o);
}

static void setup(void)
{
    char vpc[64], sa[64], sb[64], lb[256], args[700];

    cr_assert_eq(test_moto_start(&moto, 1), 0);
    cli_value(vpc, sizeof(vpc), "ec2 create-vpc --cidr-block 10.80.0.0/16", "Vpc", "VpcId");
    snprintf(args, sizeof(args),
             "ec2 create-subnet --vpc-id %s --cidr-block 10.80.1.0/24 "
             "--availability-zone us-east-1a",
             vpc);
    cli_value(sa, sizeof(sa), args, "Subnet", "SubnetId");
    snprintf(args, sizeof(args),
             "ec2 create-subnet --vpc-id %s --cidr-block 10.80.2.0/24 "
             "--availability-zone us-east-1b",
             vpc);
    cli_value(sb, sizeof(sb), args, "Subnet", "SubnetId");
    snprintf(args, sizeof(args), "elbv2 create-load-balancer --name rules-alb --subnets %s %s", sa,
             sb);
    cli_value(lb, sizeof(lb), args, "LoadBalancers", "LoadBalancerArn");
    snprintf(args, sizeof(args),
             "elbv2 create-target-group --name api --protocol HTTP --port 8000 --vpc-id %s "
             "--target-type ip",
             vpc);
    cli_value(tg_1, sizeof(tg_1), args, "TargetGroups", "TargetGroupArn");
    snprintf(args, sizeof(args),
             "elbv2 create-target-group --name web --protocol HTTP --port 8000 --vpc-id %s "
             "--target-type ip",
             vpc);
    cli_value(tg_2, sizeof(tg_2), args, "TargetGroups", "TargetGroupArn");
    snprintf(args, sizeof(args),
             "elbv2 create-listener --load-balancer-arn '%s' --protocol HTTP --port 80 "
             "--default-actions Type=forward,TargetGroupArn=%s",
             lb, tg_2);
    cli_value(listener, sizeof(listener), args, "Listeners", "ListenerArn");
}

static void teardown(void)
{
    test_moto_stop(&moto);
}

TestSuite(driver_elbv2_listenerrule, .init = setup, .fini = teardown, .timeout = 180);

static const struct plumb_resource_type *driver(void)
{
    const struct plumb_resource_type *t =
        plumb_provider_find("AWS::ElasticLoadBalancingV2::ListenerRule");
    cr_assert_not_null(t);
    return t;
}

/* As the planner compares: every declared member of an object, lists element by element. */
static int satisfies(const json_t *d, const json_t *o)
{
    const char *k;
    json_t *v;
    size_t i;

    if (json_is_object(d)) {
        if (!json_is_object(o))
            return 0;
        json_object_foreach((json_t *)d, k, v)
        {
            if (!satisfies(v, json_object_get(o, k)))
                return 0;
        }
        return 1;
    }
    if (json_is_array(d)) {
        if (!json_is_array(o) || json_array_size(o) != json_array_size(d))
            return 0;
        json_array_foreach(d, i, v)
        {
            if (!satisfies(v, json_array_get(o, i)))
                return 0;
        }
        return 1;
    }
    return o && json_equal(d, o);
}

/* Declared props, but ListenerArn (write-only), satisfied by observed. */
static void expect_satisfies(const json_t *declared, const json_t *observed)
{
    json_t *d = json_deep_copy(declared);
    char *ds, *os;

    json_object_del(d, "ListenerArn");
    ds = json_dumps(d, JSON_SORT_KEYS);
    os = json_dumps(observed, JSON_SORT_KEYS);
    cr_expect(satisfies(d, observed), "declared: %s\nobserved: %s", ds, os);
    cr_expect_null(json_object_get(observed, "ListenerArn"), "write-only: never read back");
    free(ds);
    free(os);
    json_decref(d);
}

/* The rule as the aws CLI sees it, or NULL when the listener lists no such ARN. */
static json_t *cli_rule(const char *arn)
{
    json_t *out = NULL, *r, *found = NULL;
    size_t i;

    cr_assert_eq(test_aws_cli(&out, "elbv2 describe-rules --listener-arn '%s'", listener), 0);
    json_array_foreach(json_object_get(out, "Rules"), i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "RuleArn")), arn) == 0)
            found = json_incref(r);
    }
    json_decref(out);
    return found;
}

static char *cli_make_rule(int priority, const char *path)
{
    char args[900], arn[400];

    snprintf(args, sizeof(args),
             "elbv2 create-rule --listener-arn '%s' --priority %d "
             "--conditions Field=path-pattern,Values=%s "
             "--actions Type=forward,TargetGroupArn=%s",
             listener, priority, path, tg_1);
    cli_value(arn, sizeof(arn), args, "Rules", "RuleArn");
    return strdup(arn);
}

Test(driver_elbv2_listenerrule, lifecycle)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *after, *observed = NULL, *again = NULL, *id, *r, *c, *a, *found = NULL;
    char *arn;

    props = json_pack("{s:s, s:i, s:[{s:s, s:[s]}], s:[{s:s, s:s}]}", "ListenerArn", listener,
                      "Priority", 10, "Conditions", "Field", "path-pattern", "Values", "/api/*",
                      "Actions", "Type", "forward", "TargetGroupArn", tg_1);
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    expect_satisfies(props, observed);
    cr_expect(json_is_false(json_object_get(observed, "IsDefault")));
    cr_assert(json_is_string(json_object_get(observed, "RuleArn")));
    arn = strdup(json_string_value(json_object_get(observed, "RuleArn")));
    id = json_pack("{s:s}", "RuleArn", arn);

    r = cli_rule(arn);
    cr_assert_not_null(r, "the aws CLI sees the rule");
    cr_expect_str_eq(json_string_value(json_object_get(r, "Priority")), "10");
    c = json_array_get(json_object_get(r, "Conditions"), 0);
    cr_expect_str_eq(json_string_value(json_object_get(c, "Field")), "path-pattern");
    cr_expect_str_eq(json_string_value(json_array_get(json_object_get(c, "Values"), 0)), "/api/*");
    a = json_array_get(json_object_get(r, "Actions"), 0);
    cr_expect_str_eq(json_string_value(json_object_get(a, "TargetGroupArn")), tg_1);
    json_decref(r);

    cr_assert_eq(t->read(aws, id, &again), 0);
    expect_satisfies(props, again);
    json_decref(again);

    /* update: priority, conditions (the *Config forms) and actions */
    after =
        json_pack("{s:s, s:i, s:[{s:s, s:{s:[s]}}, {s:s, s:{s:[s, s]}}],"
                  " s:[{s:s, s:{s:s, s:s, s:s}}]}",
                  "ListenerArn", listener, "Priority", 20, "Conditions", "Field", "host-header",
                  "HostHeaderConfig", "Values", "api.example.com", "Field", "http-request-method",
                  "HttpRequestMethodConfig", "Values", "GET", "HEAD", "Actions", "Type", "redirect",
                  "RedirectConfig", "Protocol", "HTTPS", "Port", "443", "StatusCode", "HTTP_301");
    json_decref(observed);
    cr_assert_eq(t->update(aws, id, props, after, &observed), 0, "%s", plumb_error_message());
    expect_satisfies(after, observed);
    r = cli_rule(arn);
    cr_assert_not_null(r);
    cr_expect_str_eq(json_string_value(json_object_get(r, "Priority")), "20");
    cr_expect_eq(json_array_size(json_object_get(r, "Conditions")), 2);
    c = json_array_get(json_object_get(r, "Conditions"), 0);
    cr_expect_str_eq(json_string_value(json_array_get(
                         json_object_get(json_object_get(c, "HostHeaderConfig"), "Values"), 0)),
                     "api.example.com");
    a = json_array_get(json_object_get(r, "Actions"), 0);
    cr_expect_str_eq(json_string_value(json_object_get(a, "Type")), "redirect");
    cr_expect_str_eq(
        json_string_value(json_object_get(json_object_get(a, "RedirectConfig"), "StatusCode")),
        "HTTP_301");
    json_decref(r);

    /* lookup finds it by listener and priority */
    cr_assert_eq(t->lookup(aws, after, &found), 0, "%s", plumb_error_message());
    cr_expect(json_equal(found, id));
    json_decref(found);

    /* remove, then gone for the driver and the CLI; removing again is fine */
    cr_assert_eq(t->remove(aws, id, 0), 0, "%s", plumb_error_message());
    again = NULL;
    cr_assert_eq(t->read(aws, id, &again), 0, "%s", plumb_error_message());
    cr_expect_null(again);
    cr_expect_null(cli_rule(arn), "the aws CLI no longer lists it");
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

Test(driver_elbv2_listenerrule, read_many_in_batches)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    char *a = cli_make_rule(1, "/a"), *b = cli_make_rule(2, "/b"), *c = cli_make_rule(3, "/c");
    char missing[500];
    json_t *ids, *observed = NULL;
    unsigned long before;

    /* an ARN of the right form, on the same listener, that names no rule */
    snprintf(missing, sizeof(missing), "%.*s/0123456789abcdef", (int)(strrchr(a, '/') - a), a);
    ids = json_pack("[{s:s}, {s:s}, {s:s}, {s:s}]", "RuleArn", a, "RuleArn", missing, "RuleArn", b,
                    "RuleArn", c);
    before = plumb_aws_stats_calls(aws, "elbv2");
    cr_assert_eq(t->read_many(aws, ids, NULL, &observed), 0, "%s", plumb_error_message());
    cr_assert_eq(json_array_size(observed), 4);
    cr_expect_eq(json_integer_value(json_object_get(json_array_get(observed, 0), "Priority")), 1);
    cr_expect(json_is_null(json_array_get(observed, 1)), "a missing rule reads as null");
    cr_expect_eq(json_integer_value(json_object_get(json_array_get(observed, 2), "Priority")), 2);
    cr_expect_eq(json_integer_value(json_object_get(json_array_get(observed, 3), "Priority")), 3);
    /* the unknown ARN fails the batch describe (RuleNotFound); the listener's rules answer */
    cr_expect_eq(plumb_aws_stats_calls(aws, "elbv2") - before, 2);

    json_decref(observed);
    json_array_remove(ids, 1);
    before = plumb_aws_stats_calls(aws, "elbv2");
    cr_assert_eq(t->read_many(aws, ids, NULL, &observed), 0, "%s", plumb_error_message());
    cr_expect_eq(json_array_size(observed), 3);
    cr_expect_eq(plumb_aws_stats_calls(aws, "elbv2") - before, 1);

    free(a);
    free(b);
    free(c);
    json_decref(ids);
    json_decref(observed);
    plumb_aws_free(aws);
}

Test(driver_elbv2_listenerrule, aws_errors_keep_their_code)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    char *taken = cli_make_rule(50, "/taken");
    json_t *props, *observed = NULL, *found = NULL;

    /* the priority is in use on this listener */
    props = json_pack("{s:s, s:i, s:[{s:s, s:[s]}], s:[{s:s, s:s}]}", "ListenerArn", listener,
                      "Priority", 50, "Conditions", "Field", "path-pattern", "Values", "/other",
                      "Actions", "Type", "forward", "TargetGroupArn", tg_1);
    cr_expect_lt(t->create(aws, props, &observed), 0);
    cr_expect(strstr(plumb_error_message(), "PriorityInUse") != NULL, "%s", plumb_error_message());
    cr_expect(strstr(plumb_error_message(), "request id") != NULL, "%s", plumb_error_message());
    cr_expect_null(observed);
    /* and lookup by listener and priority finds the rule holding it */
    cr_assert_eq(t->lookup(aws, props, &found), 0, "%s", plumb_error_message());
    cr_assert_not_null(found);
    cr_expect_str_eq(json_string_value(json_object_get(found, "RuleArn")), taken);
    json_decref(found);
    json_decref(props);
    free(taken);
    plumb_aws_free(aws);
}
