/*
 * AWS::ElasticLoadBalancingV2::ListenerRule — a rule of a listener: conditions on the
 * request (path, host, header, method, query string, source address) and what to do then.
 *
 * AWS names the resource (RuleArn) and a listener has one rule per priority, so lookup asks
 * DescribeRules for the listener's rules and picks the priority. Priority changes with
 * SetRulePriorities, Conditions and Actions with ModifyRule; ListenerArn is create-only.
 * DescribeRules does not say which listener a rule belongs to, which is why CloudFormation
 * makes ListenerArn write-only: read leaves it out.
 *
 * A read is one DescribeRules call; read_many asks for 20 ARNs a call. One unknown ARN fails
 * the whole call (RuleNotFound); that chunk is then read per listener (the listener's ARN is
 * part of the rule's), one call per listener.
 *
 * Conditions and Actions have the same members in CloudFormation and the API; read keeps
 * those the schema declares. AWS reports a host-header or path-pattern condition in both
 * forms (Values and the *Config) and adds Order to actions; the planner ignores what was not
 * declared.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider/elbv2_common.h"
#include "provider/provider.h"
#include "provider/util.h"
#include "util/buf.h"
#include "util/error.h"

static const struct plumb_elbv2_kind kind = {
    .what = "listener rule",
    .describe = "DescribeRules",
    .list = "Rules",
    .arn = "RuleArn",
    .arns = "RuleArns",
    .parent = "ListenerArn",
    .own_part = ":listener-rule/",
    .parent_part = ":listener/",
};

/* One condition of the API in the schema's shape (RegexValues are not declared). */
static json_t *condition_of(const json_t *c)
{
    static const char *const top[] = {"Field", "Values", NULL};
    static const char *const values[] = {"Values", NULL};
    static const char *const header[] = {"HttpHeaderName", "Values", NULL};
    static const char *const pair[] = {"Key", "Value", NULL};
    const json_t *qs = json_object_get(c, "QueryStringConfig");
    json_t *o = json_object(), *x;

    if (!o)
        return NULL;
    plumb_elbv2__copy_members(o, c, top);
    plumb_elbv2__copy_object(o, "HostHeaderConfig", c, values);
    plumb_elbv2__copy_object(o, "HttpHeaderConfig", c, header);
    plumb_elbv2__copy_object(o, "HttpRequestMethodConfig", c, values);
    plumb_elbv2__copy_object(o, "PathPatternConfig", c, values);
    plumb_elbv2__copy_object(o, "SourceIpConfig", c, values);
    if (json_is_object(qs) && (x = json_object())) {
        plumb_elbv2__copy_list(x, "Values", qs, pair);
        json_object_set_new(o, "QueryStringConfig", x);
    }
    return o;
}

/* One DescribeRules entry → the CloudFormation shape (everything: `wanted` is not needed). */
static json_t *observe(const json_t *r, const json_t *wanted)
{
    json_t *o = json_object();
    const char *priority = json_string_value(json_object_get(r, "Priority"));
    char *end = NULL;
    long n;

    (void)wanted;
    if (!o)
        return NULL;
    json_object_set(o, "RuleArn", json_object_get(r, "RuleArn"));
    if (json_is_boolean(json_object_get(r, "IsDefault")))
        json_object_set(o, "IsDefault", json_object_get(r, "IsDefault"));
    /* the API's priority is text, "default" for the listener's own rule */
    if (priority) {
        n = strtol(priority, &end, 10);
        if (end && end != priority && *end == '\0')
            json_object_set_new(o, "Priority", json_integer(n));
    }
    json_object_set_new(o, "Conditions",
                        plumb_elbv2__map_list(json_object_get(r, "Conditions"), condition_of));
    json_object_set_new(
        o, "Actions", plumb_elbv2__map_list(json_object_get(r, "Actions"), plumb_elbv2__action_of));
    return o;
}

static int rule_read(struct plumb_aws *aws, const json_t *id, json_t **observed)
{
    return plumb_elbv2__child_read(aws, &kind, id, observe, observed);
}

static int rule_read_many(struct plumb_aws *aws, const json_t *ids, const json_t *wanted,
                          json_t **observed)
{
    return plumb_elbv2__child_read_many(aws, &kind, ids, wanted, observe, observed);
}

static int rule_lookup(struct plumb_aws *aws, const json_t *props, json_t **id)
{
    const char *listener = json_string_value(json_object_get(props, "ListenerArn"));
    const json_t *priority = json_object_get(props, "Priority"), *r;
    json_t *rules = NULL;
    char want[32];
    size_t i;
    int error = 0;

    *id = NULL;
    if (!listener || !json_is_integer(priority))
        return 0;
    snprintf(want, sizeof(want), "%lld", (long long)json_integer_value(priority));
    error = plumb_elbv2__describe_children(aws, &kind, listener, &rules);
    if (error == PLUMB_ENOTFOUND) {
        error = 0; /* no listener, no rule */
        goto done;
    }
    if (error < 0)
        goto done;
    json_array_foreach(rules, i, r)
    {
        if (json_is_string(json_object_get(r, "Priority")) &&
            strcmp(json_string_value(json_object_get(r, "Priority")), want) == 0) {
            *id = json_pack("{s:O}", "RuleArn", json_object_get(r, "RuleArn"));
            break;
        }
    }
done:
    json_decref(rules);
    return error;
}

static int rule_create(struct plumb_aws *aws, const json_t *props, json_t **observed)
{
    static const char *const members[] = {"ListenerArn", "Priority", "Conditions", "Actions", NULL};
    json_t *in = json_object(), *out = NULL, *id = NULL;
    const char *arn;
    int error = 0;

    *observed = NULL;
    PLUMB_ALLOC_CHECK(in);
    if (!json_is_string(json_object_get(props, "ListenerArn"))) {
        error = plumb_error_set(PLUMB_EINVALID, "a listener rule needs ListenerArn");
        goto done;
    }
    plumb_elbv2__copy_members(in, props, members);
    PLUMB_TRY(plumb_aws_call(aws, "elbv2", "CreateRule", in, &out));
    arn = json_string_value(
        json_object_get(json_array_get(json_object_get(out, "Rules"), 0), "RuleArn"));
    if (!arn) {
        error = plumb_error_set(PLUMB_ERROR, "CreateRule returned no rule");
        goto done;
    }
    id = json_pack("{s:s}", "RuleArn", arn);
    PLUMB_ALLOC_CHECK(id);
    error = rule_read(aws, id, observed);
done:
    json_decref(in);
    json_decref(out);
    json_decref(id);
    return error;
}

static int rule_update(struct plumb_aws *aws, const json_t *id, const json_t *before,
                       const json_t *after, json_t **observed)
{
    const char *arn = plumb_provider_id_str(id, "RuleArn");
    json_t *in = NULL, *out = NULL;
    int error = 0;

    *observed = NULL;
    if (!arn)
        return plumb_error_set(PLUMB_EINVALID, "listener rule id lacks RuleArn");
    if (plumb_provider_changed(before, after, "Priority") &&
        json_is_integer(json_object_get(after, "Priority"))) {
        in = json_pack("{s:[{s:s, s:O}]}", "RulePriorities", "RuleArn", arn, "Priority",
                       json_object_get(after, "Priority"));
        PLUMB_ALLOC_CHECK(in);
        PLUMB_TRY(plumb_aws_call(aws, "elbv2", "SetRulePriorities", in, &out));
        json_decref(in);
        json_decref(out);
        in = out = NULL;
    }
    in = json_pack("{s:s}", "RuleArn", arn);
    PLUMB_ALLOC_CHECK(in);
    /* ModifyRule replaces each list it is given whole */
    if (plumb_provider_changed(before, after, "Conditions") && json_object_get(after, "Conditions"))
        json_object_set(in, "Conditions", json_object_get(after, "Conditions"));
    if (plumb_provider_changed(before, after, "Actions") && json_object_get(after, "Actions"))
        json_object_set(in, "Actions", json_object_get(after, "Actions"));
    if (json_object_size(in) > 1)
        PLUMB_TRY(plumb_aws_call(aws, "elbv2", "ModifyRule", in, &out));
    PLUMB_TRY(rule_read(aws, id, observed));
    if (!*observed)
        error = plumb_error_set(PLUMB_ENOTFOUND, "listener rule '%s' does not exist", arn);
done:
    json_decref(in);
    json_decref(out);
    return error;
}

static int rule_remove(struct plumb_aws *aws, const json_t *id, unsigned flags)
{
    json_t *in = json_pack("{s:s?}", "RuleArn", plumb_provider_id_str(id, "RuleArn"));
    json_t *out = NULL;
    int error;

    (void)flags;
    if (!in)
        return plumb_error_oom();
    error = plumb_aws_call(aws, "elbv2", "DeleteRule", in, &out);
    if (error == PLUMB_ENOTFOUND)
        error = 0; /* gone already, or its listener is */
    json_decref(in);
    json_decref(out);
    return error;
}

const struct plumb_resource_type plumb_driver_elbv2_listenerrule = {
    .type_name = "AWS::ElasticLoadBalancingV2::ListenerRule",
    .read = rule_read,
    .read_many = rule_read_many,
    .lookup = rule_lookup,
    .create = rule_create,
    .update = rule_update,
    .remove = rule_remove,
};
