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

#include "provider/provider.h"
#include "provider/util.h"
#include "util/buf.h"
#include "util/error.h"

/* RuleArns per DescribeRules call. */
#define CHUNK 20

/* Copies the members `names` (NULL-terminated) of `from` that are present into `to`. */
static void copy_members(json_t *to, const json_t *from, const char *const *names)
{
    json_t *v;

    for (; *names; names++)
        if ((v = json_object_get(from, *names)))
            json_object_set(to, *names, v);
}

/* A copy of the object `from` (if it is one) with only the members `names`, set in `to`. */
static void copy_object(json_t *to, const char *member, const json_t *from,
                        const char *const *names)
{
    json_t *x;

    if (!json_is_object(json_object_get(from, member)) || !(x = json_object()))
        return;
    copy_members(x, json_object_get(from, member), names);
    json_object_set_new(to, member, x);
}

/* A list of objects with only the members `names`, set in `to` as `member`. */
static void copy_list(json_t *to, const char *member, const json_t *from, const char *const *names)
{
    json_t *list, *y;
    const json_t *t;
    size_t i;

    if (!json_is_array(json_object_get(from, member)) || !(list = json_array()))
        return;
    json_array_foreach(json_object_get(from, member), i, t)
    {
        if ((y = json_object())) {
            copy_members(y, t, names);
            json_array_append_new(list, y);
        }
    }
    json_object_set_new(to, member, list);
}

/* One action of the API in the schema's shape (the same names, fewer members). */
static json_t *action_of(const json_t *a)
{
    static const char *const top[] = {"Type", "TargetGroupArn", "Order", NULL};
    static const char *const redirect[] = {"Host",  "Path",       "Port", "Protocol",
                                           "Query", "StatusCode", NULL};
    static const char *const fixed[] = {"ContentType", "MessageBody", "StatusCode", NULL};
    static const char *const tuple[] = {"TargetGroupArn", "Weight", NULL};
    static const char *const sticky[] = {"DurationSeconds", "Enabled", NULL};
    const json_t *fc = json_object_get(a, "ForwardConfig");
    json_t *o = json_object(), *x;

    if (!o)
        return NULL;
    copy_members(o, a, top);
    copy_object(o, "RedirectConfig", a, redirect);
    copy_object(o, "FixedResponseConfig", a, fixed);
    if (json_is_object(fc) && (x = json_object())) {
        copy_list(x, "TargetGroups", fc, tuple);
        copy_object(x, "TargetGroupStickinessConfig", fc, sticky);
        json_object_set_new(o, "ForwardConfig", x);
    }
    return o;
}

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
    copy_members(o, c, top);
    copy_object(o, "HostHeaderConfig", c, values);
    copy_object(o, "HttpHeaderConfig", c, header);
    copy_object(o, "HttpRequestMethodConfig", c, values);
    copy_object(o, "PathPatternConfig", c, values);
    copy_object(o, "SourceIpConfig", c, values);
    if (json_is_object(qs) && (x = json_object())) {
        copy_list(x, "Values", qs, pair);
        json_object_set_new(o, "QueryStringConfig", x);
    }
    return o;
}

static json_t *map_list(const json_t *list, json_t *(*fn)(const json_t *))
{
    json_t *out = json_array();
    const json_t *a;
    size_t i;

    json_array_foreach(list, i, a)
    {
        if (out)
            json_array_append_new(out, fn(a));
    }
    return out;
}

/* One DescribeRules entry → the CloudFormation shape. */
static json_t *observe(const json_t *r)
{
    json_t *o = json_object();
    const char *priority = json_string_value(json_object_get(r, "Priority"));
    char *end = NULL;
    long n;

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
    json_object_set_new(o, "Conditions", map_list(json_object_get(r, "Conditions"), condition_of));
    json_object_set_new(o, "Actions", map_list(json_object_get(r, "Actions"), action_of));
    return o;
}

/* DescribeRules by ARNs (an array) or of one listener; every page. */
static int describe(struct plumb_aws *aws, const json_t *arns, const char *listener_arn,
                    json_t **rules)
{
    json_t *in = arns ? json_pack("{s:O}", "RuleArns", arns)
                      : json_pack("{s:s}", "ListenerArn", listener_arn);
    json_t *out = NULL;
    int error = 0;

    *rules = NULL;
    PLUMB_ALLOC_CHECK(in);
    PLUMB_TRY(plumb_aws_paginate(aws, "elbv2", "DescribeRules", in, &out));
    *rules = json_incref(json_object_get(out, "Rules"));
    if (!*rules)
        *rules = json_array();
done:
    json_decref(in);
    json_decref(out);
    return error;
}

static const json_t *find_by(const json_t *list, const char *member, const char *value)
{
    const json_t *x;
    const char *s;
    size_t i;

    json_array_foreach(list, i, x)
    {
        s = json_string_value(json_object_get(x, member));
        if (s && value && strcmp(s, value) == 0)
            return x;
    }
    return NULL;
}

/* The listener's ARN inside a rule's: "...:listener-rule/app/n/lb/l/r" → "...:listener/app/
 * n/lb/l". Caller frees. */
static char *listener_of(const char *rule_arn)
{
    const char *p = rule_arn ? strstr(rule_arn, ":listener-rule/") : NULL;
    const char *end = rule_arn ? strrchr(rule_arn, '/') : NULL;
    struct plumb_buf b = PLUMB_BUF_INIT;

    if (!p || !end || end < p + strlen(":listener-rule/"))
        return NULL;
    plumb_buf_put(&b, rule_arn, (size_t)(p - rule_arn));
    plumb_buf_puts(&b, ":listener/");
    p += strlen(":listener-rule/");
    plumb_buf_put(&b, p, (size_t)(end - p));
    return plumb_buf_detach(&b);
}

static int rule_read(struct plumb_aws *aws, const json_t *id, json_t **observed)
{
    const char *arn = plumb_provider_id_str(id, "RuleArn");
    json_t *arns = NULL, *rules = NULL;
    const json_t *r;
    int error = 0;

    *observed = NULL;
    if (!arn)
        return plumb_error_set(PLUMB_EINVALID, "listener rule id lacks RuleArn");
    arns = json_pack("[s]", arn);
    PLUMB_ALLOC_CHECK(arns);
    error = describe(aws, arns, NULL, &rules);
    if (error == PLUMB_ENOTFOUND) {
        error = 0; /* RuleNotFound */
        goto done;
    }
    if (error < 0)
        goto done;
    if ((r = find_by(rules, "RuleArn", arn))) {
        *observed = observe(r);
        PLUMB_ALLOC_CHECK(*observed);
    }
done:
    json_decref(arns);
    json_decref(rules);
    return error;
}

/* The rules of `chunk` (ARNs) that exist, one DescribeRules per listener. */
static int describe_by_listener(struct plumb_aws *aws, const json_t *chunk, json_t *found)
{
    json_t *seen = json_object(), *rules = NULL;
    const json_t *x, *y, *r;
    size_t i, j;
    char *listener = NULL;
    int error = 0;

    PLUMB_ALLOC_CHECK(seen);
    json_array_foreach(chunk, i, x)
    {
        free(listener);
        listener = listener_of(json_string_value(x));
        if (!listener || json_object_get(seen, listener))
            continue;
        json_object_set_new(seen, listener, json_true());
        error = describe(aws, NULL, listener, &rules);
        if (error == PLUMB_ENOTFOUND) {
            error = 0; /* the listener is gone, and its rules with it */
            continue;
        }
        if (error < 0)
            goto done;
        json_array_foreach(chunk, j, y)
        {
            if ((r = find_by(rules, "RuleArn", json_string_value(y))))
                json_array_append(found, (json_t *)r);
        }
        json_decref(rules);
        rules = NULL;
    }
done:
    free(listener);
    json_decref(seen);
    json_decref(rules);
    return error;
}

static int rule_read_many(struct plumb_aws *aws, const json_t *ids, const json_t *wanted,
                          json_t **observed)
{
    json_t *found = json_array(), *chunk = NULL, *rules = NULL, *out = json_array(), *o;
    const json_t *r;
    size_t i, j, n = json_array_size(ids);
    int error = 0;

    *observed = NULL;
    PLUMB_ALLOC_CHECK(found);
    PLUMB_ALLOC_CHECK(out);
    for (i = 0; i < n; i += CHUNK) {
        chunk = json_array();
        PLUMB_ALLOC_CHECK(chunk);
        for (j = i; j < n && j < i + CHUNK; j++) {
            const char *arn = plumb_provider_id_str(json_array_get(ids, j), "RuleArn");
            if (arn)
                json_array_append_new(chunk, json_string(arn));
        }
        if (json_array_size(chunk)) {
            error = describe(aws, chunk, NULL, &rules);
            if (error == PLUMB_ENOTFOUND)
                error = describe_by_listener(aws, chunk, found);
            else if (error == 0)
                json_array_extend(found, rules);
            if (error < 0)
                goto done;
        }
        json_decref(chunk);
        json_decref(rules);
        chunk = rules = NULL;
    }
    for (i = 0; i < n; i++) {
        r = find_by(found, "RuleArn", plumb_provider_id_str(json_array_get(ids, i), "RuleArn"));
        o = r ? observe(r) : json_null();
        PLUMB_ALLOC_CHECK(o);
        json_array_append_new(out, o);
    }
    *observed = out;
    out = NULL;
done:
    json_decref(found);
    json_decref(chunk);
    json_decref(rules);
    json_decref(out);
    return error;
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
    error = describe(aws, NULL, listener, &rules);
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
    copy_members(in, props, members);
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
