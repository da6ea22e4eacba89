/*
 * AWS::ElasticLoadBalancingV2::TargetGroup — where a load balancer sends traffic, and how it
 * checks the targets' health.
 *
 * AWS names the resource (TargetGroupArn); the user names it too (Name, unique per region),
 * so lookup asks DescribeTargetGroups by name. The health check settings change in place
 * with ModifyTargetGroup, TargetGroupAttributes with ModifyTargetGroupAttributes, Targets by
 * registering and deregistering the difference; everything else is create-only.
 *
 * A read is four calls: DescribeTargetGroups, DescribeTags, DescribeTargetGroupAttributes
 * and DescribeTargetHealth (the last two take one group a call). read_many describes and
 * tags 20 groups a call; an unknown ARN fails a whole DescribeTargetGroups call
 * (TargetGroupNotFound), and then one listing of every group answers that chunk instead.
 *
 * TargetGroupAttributes come back with every attribute AWS knows; read reports those a user
 * can declare, sorted by key, and update sends only the declared ones that changed. A setting
 * update's `after` does not declare is left as it is; so are the targets when Targets is not
 * declared (an ECS service registers its tasks itself). Targets being deregistered
 * (draining) are not reported: they are on their way out.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider/elbv2_common.h"
#include "provider/provider.h"
#include "provider/util.h"
#include "util/error.h"
#include "util/sys.h"

/* DeleteTargetGroup answers ResourceInUse for a moment after the listener or rule that used
 * the group is deleted: tries, with waits doubling from 1 s. */
#define IN_USE_ATTEMPTS 4

/* What ModifyTargetGroupAttributes accepts (botocore's TargetGroupAttribute), sorted. */
static const char *const declarable_keys[] = {
    "deregistration_delay.connection_termination.enabled",
    "deregistration_delay.timeout_seconds",
    "lambda.multi_value_headers.enabled",
    "load_balancing.algorithm.anomaly_mitigation",
    "load_balancing.algorithm.type",
    "load_balancing.cross_zone.enabled",
    "preserve_client_ip.enabled",
    "proxy_protocol_v2.enabled",
    "slow_start.duration_seconds",
    "stickiness.app_cookie.cookie_name",
    "stickiness.app_cookie.duration_seconds",
    "stickiness.enabled",
    "stickiness.lb_cookie.duration_seconds",
    "stickiness.type",
    "target_failover.on_deregistration",
    "target_failover.on_unhealthy",
    "target_group_health.dns_failover.minimum_healthy_targets.count",
    "target_group_health.dns_failover.minimum_healthy_targets.percentage",
    "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count",
    "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage",
    "target_health_state.unhealthy.connection_termination.enabled",
    "target_health_state.unhealthy.draining_interval_seconds",
    NULL,
};

static const struct plumb_elbv2_kind kind = {
    .what = "target group",
    .describe = "DescribeTargetGroups",
    .list = "TargetGroups",
    .arn = "TargetGroupArn",
    .arns = "TargetGroupArns",
    .modify_attributes = "ModifyTargetGroupAttributes",
    .attribute_keys = declarable_keys,
};

/* Members of a DescribeTargetGroups entry that are CloudFormation properties as they are. */
static const char *const same_members[] = {
    "TargetGroupArn",
    "HealthCheckEnabled",
    "HealthCheckIntervalSeconds",
    "HealthCheckPath",
    "HealthCheckPort",
    "HealthCheckProtocol",
    "HealthCheckTimeoutSeconds",
    "HealthyThresholdCount",
    "UnhealthyThresholdCount",
    "Port",
    "Protocol",
    "ProtocolVersion",
    "TargetType",
    "VpcId",
    "IpAddressType",
    NULL,
};

/* The health check settings ModifyTargetGroup changes. */
static const char *const health_members[] = {
    "HealthCheckEnabled",
    "HealthCheckIntervalSeconds",
    "HealthCheckPath",
    "HealthCheckPort",
    "HealthCheckProtocol",
    "HealthCheckTimeoutSeconds",
    "HealthyThresholdCount",
    "UnhealthyThresholdCount",
    "Matcher",
    NULL,
};

/* "targetgroup/name/id" from "arn:aws:elasticloadbalancing:...:targetgroup/name/id". */
static json_t *full_name_of(const char *arn)
{
    const char *p = arn ? strstr(arn, ":targetgroup/") : NULL;

    return p ? json_string(p + 1) : NULL;
}

static int cmp_target(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    int c = strcmp(json_string_value(json_object_get(x, "Id")),
                   json_string_value(json_object_get(y, "Id")));
    json_int_t px = json_integer_value(json_object_get(x, "Port"));
    json_int_t py = json_integer_value(json_object_get(y, "Port"));

    return c ? c : (px > py) - (px < py);
}

/* The registered targets of a DescribeTargetHealth answer, sorted by id and port. */
static json_t *targets_of(const json_t *health)
{
    static const char *const members[] = {"Id", "Port", "AvailabilityZone"};
    size_t i, k, n = 0;
    json_t **v = calloc(json_array_size(health) + 1, sizeof(*v)), *out = json_array();
    const json_t *h, *target;
    const char *state;

    if (!v || !out)
        goto done;
    json_array_foreach(health, i, h)
    {
        target = json_object_get(h, "Target");
        state = json_string_value(json_object_get(json_object_get(h, "TargetHealth"), "State"));
        if (!json_is_string(json_object_get(target, "Id")) ||
            (state && strcmp(state, "draining") == 0))
            continue;
        v[n] = json_object();
        for (k = 0; v[n] && k < sizeof(members) / sizeof(members[0]); k++)
            if (json_object_get(target, members[k]))
                json_object_set(v[n], members[k], json_object_get(target, members[k]));
        if (v[n])
            n++;
    }
    qsort(v, n, sizeof(*v), cmp_target);
    for (i = 0; i < n; i++)
        json_array_append_new(out, v[i]);
done:
    free(v);
    return out;
}

/* One DescribeTargetGroups entry, its tags, attributes and targets → the CloudFormation
 * shape. */
static int observe(const json_t *tg, const json_t *tags, const json_t *attrs, const json_t *health,
                   json_t **out)
{
    const char *arn = json_string_value(json_object_get(tg, "TargetGroupArn"));
    json_t *o = json_object(), *v, *m;
    const json_t *matcher = json_object_get(tg, "Matcher");
    size_t i;
    int error = 0;

    PLUMB_ALLOC_CHECK(o);
    for (i = 0; same_members[i]; i++)
        if ((v = json_object_get(tg, same_members[i])))
            json_object_set(o, same_members[i], v);
    json_object_set(o, "Name", json_object_get(tg, "TargetGroupName"));
    json_object_set(o, "TargetGroupName", json_object_get(tg, "TargetGroupName"));
    if ((v = full_name_of(arn)))
        json_object_set_new(o, "TargetGroupFullName", v);
    /* an attribute others refer to: no load balancer is an empty list, not unknown */
    v = plumb_elbv2__sorted_strings(json_object_get(tg, "LoadBalancerArns"));
    PLUMB_ALLOC_CHECK(v);
    json_object_set_new(o, "LoadBalancerArns", v);
    if (json_is_object(matcher)) {
        m = json_object();
        PLUMB_ALLOC_CHECK(m);
        if (json_is_string(json_object_get(matcher, "HttpCode")))
            json_object_set(m, "HttpCode", json_object_get(matcher, "HttpCode"));
        if (json_is_string(json_object_get(matcher, "GrpcCode")))
            json_object_set(m, "GrpcCode", json_object_get(matcher, "GrpcCode"));
        json_object_set_new(o, "Matcher", m);
    }
    if (attrs)
        json_object_set_new(o, "TargetGroupAttributes",
                            plumb_elbv2__declarable_attributes(&kind, attrs));
    if (health)
        json_object_set_new(o, "Targets", targets_of(health));
    if (tags) {
        v = plumb_provider_tags_to_map(tags);
        json_object_set_new(o, "Tags", plumb_provider_tags_to_list(v, "Key", "Value"));
        json_decref(v);
    }
    *out = o;
    o = NULL;
done:
    json_decref(o);
    return error;
}

/* `operation` on one group, the list member `member` of its answer; NULL when gone. */
static int describe_one(struct plumb_aws *aws, const char *operation, const char *arn,
                        const char *member, json_t **list)
{
    json_t *in = json_pack("{s:s}", "TargetGroupArn", arn), *out = NULL;
    int error = 0;

    *list = NULL;
    PLUMB_ALLOC_CHECK(in);
    error = plumb_aws_call(aws, "elbv2", operation, in, &out);
    if (error == PLUMB_ENOTFOUND) {
        error = 0;
    } else if (error == 0) {
        *list = json_incref(json_object_get(out, member));
        if (!*list)
            *list = json_array();
    }
done:
    json_decref(in);
    json_decref(out);
    return error;
}

/* Tags, attributes and targets (those wanted: provider.h) of the described groups `tgs`, then
 * observed per id (null: gone). */
static int observe_all(struct plumb_aws *aws, const json_t *ids, const json_t *tgs,
                       const json_t *wanted, json_t **observed)
{
    json_t *arns = json_array(), *tags = NULL, *out = json_array(), *attrs = NULL;
    json_t *health = NULL, *o;
    const json_t *id, *tg;
    size_t i;
    int error = 0;

    *observed = NULL;
    PLUMB_ALLOC_CHECK(arns);
    PLUMB_ALLOC_CHECK(out);
    json_array_foreach(ids, i, id)
    {
        tg = plumb_elbv2__find_by(tgs, "TargetGroupArn",
                                  plumb_provider_id_str(id, "TargetGroupArn"));
        if (tg)
            json_array_append(arns, json_object_get(tg, "TargetGroupArn"));
    }
    if (plumb_provider_wants(wanted, "Tags"))
        PLUMB_TRY(plumb_elbv2__describe_tags(aws, arns, &tags));
    json_array_foreach(ids, i, id)
    {
        const char *arn = plumb_provider_id_str(id, "TargetGroupArn");
        o = NULL;
        tg = plumb_elbv2__find_by(tgs, "TargetGroupArn", arn);
        /* a described group without tags, attributes or health: deleted meanwhile */
        if (tg && (!tags || json_object_get(tags, arn))) {
            if (plumb_provider_wants(wanted, "TargetGroupAttributes")) {
                PLUMB_TRY(
                    describe_one(aws, "DescribeTargetGroupAttributes", arn, "Attributes", &attrs));
                if (!attrs)
                    tg = NULL;
            }
            if (tg && plumb_provider_wants(wanted, "Targets")) {
                PLUMB_TRY(describe_one(aws, "DescribeTargetHealth", arn, "TargetHealthDescriptions",
                                       &health));
                if (!health)
                    tg = NULL;
            }
            if (tg)
                PLUMB_TRY(observe(tg, tags ? json_object_get(tags, arn) : NULL, attrs, health, &o));
            json_decref(attrs);
            json_decref(health);
            attrs = health = NULL;
        }
        json_array_append_new(out, o ? o : json_null());
    }
    *observed = out;
    out = NULL;
done:
    json_decref(arns);
    json_decref(tags);
    json_decref(out);
    json_decref(attrs);
    json_decref(health);
    return error;
}

static int tg_read(struct plumb_aws *aws, const json_t *id, json_t **observed)
{
    return plumb_elbv2__read(aws, &kind, id, observe_all, observed);
}

static int tg_read_many(struct plumb_aws *aws, const json_t *ids, const json_t *wanted,
                        json_t **observed)
{
    json_t *found = NULL;
    int error = plumb_elbv2__describe_ids(aws, &kind, ids, &found);

    *observed = NULL;
    if (error == 0)
        error = observe_all(aws, ids, found, wanted, observed);
    json_decref(found);
    return error;
}

static int tg_lookup(struct plumb_aws *aws, const json_t *props, json_t **id)
{
    char name[64];
    json_t *names = NULL, *tgs = NULL;
    const json_t *tg;
    int error = 0;

    *id = NULL;
    if (plumb_elbv2__name_for(props, name, sizeof(name), "target group") < 0) {
        plumb_error_clear();
        return 0; /* nothing to find it by */
    }
    names = json_pack("[s]", name);
    PLUMB_ALLOC_CHECK(names);
    error = plumb_elbv2__describe(aws, &kind, "Names", names, &tgs);
    if (error == PLUMB_ENOTFOUND) {
        error = 0; /* TargetGroupNotFound: none under that name */
        goto done;
    }
    if (error < 0)
        goto done;
    if ((tg = plumb_elbv2__find_by(tgs, "TargetGroupName", name)))
        *id = json_pack("{s:O}", "TargetGroupArn", json_object_get(tg, "TargetGroupArn"));
done:
    json_decref(names);
    json_decref(tgs);
    return error;
}

/* The same target: one id, and the same port and zone where both say one. */
static int same_target(const json_t *a, const json_t *b)
{
    const json_t *pa = json_object_get(a, "Port"), *pb = json_object_get(b, "Port");
    const json_t *za = json_object_get(a, "AvailabilityZone");
    const json_t *zb = json_object_get(b, "AvailabilityZone");

    return json_equal(json_object_get(a, "Id"), json_object_get(b, "Id")) &&
           (!pa || !pb || json_equal(pa, pb)) && (!za || !zb || json_equal(za, zb));
}

/* The targets of `from` that `in` does not have, in RegisterTargets' shape. */
static json_t *targets_missing(const json_t *from, const json_t *in)
{
    json_t *out = json_array();
    const json_t *t, *u;
    size_t i, j;
    int found;

    json_array_foreach(from, i, t)
    {
        found = 0;
        json_array_foreach(in, j, u)
        {
            found |= same_target(t, u);
        }
        if (!found && out)
            json_array_append(out, (json_t *)t);
    }
    return out;
}

/* Registers what `after` adds, then deregisters what it drops, so traffic has somewhere to go
 * throughout. */
static int update_targets(struct plumb_aws *aws, const char *arn, const json_t *before,
                          const json_t *after)
{
    json_t *add = targets_missing(after, before), *drop = targets_missing(before, after);
    int error = 0;

    PLUMB_ALLOC_CHECK(add);
    PLUMB_ALLOC_CHECK(drop);
    if (json_array_size(add))
        PLUMB_TRY(plumb_provider_call(
            aws, "elbv2", "RegisterTargets",
            json_pack("{s:s, s:O}", "TargetGroupArn", arn, "Targets", add), NULL));
    if (json_array_size(drop)) {
        error = plumb_provider_call(aws, "elbv2", "DeregisterTargets",
                                    json_pack("{s:s, s:O}", "TargetGroupArn", arn, "Targets", drop),
                                    NULL);
        /* InvalidTarget: not registered any more, which is what was wanted */
        if (error < 0 && plumb_aws_last_error() &&
            strcmp(plumb_aws_last_error()->code, "InvalidTarget") == 0)
            error = 0;
    }
done:
    json_decref(add);
    json_decref(drop);
    return error;
}

static int tg_remove(struct plumb_aws *aws, const json_t *id, unsigned flags);

static int tg_create(struct plumb_aws *aws, const json_t *props, json_t **observed)
{
    char name[64];
    json_t *in = json_object(), *out = NULL, *tags = NULL, *id = NULL, *v;
    const char *arn;
    size_t i;
    int error = 0;

    *observed = NULL;
    PLUMB_ALLOC_CHECK(in);
    PLUMB_TRY(plumb_elbv2__name_for(props, name, sizeof(name), "target group"));
    json_object_set_new(in, "Name", json_string(name));
    for (i = 0; same_members[i]; i++)
        if (strcmp(same_members[i], "TargetGroupArn") != 0 &&
            (v = json_object_get(props, same_members[i])))
            json_object_set(in, same_members[i], v);
    if ((v = json_object_get(props, "Matcher")))
        json_object_set(in, "Matcher", v);
    tags = plumb_provider_tags_to_map(json_object_get(props, "Tags"));
    if (json_object_size(tags))
        json_object_set_new(in, "Tags", plumb_provider_tags_to_list(tags, "Key", "Value"));
    PLUMB_TRY(plumb_aws_call(aws, "elbv2", "CreateTargetGroup", in, &out));
    arn = json_string_value(
        json_object_get(json_array_get(json_object_get(out, "TargetGroups"), 0), "TargetGroupArn"));
    if (!arn) {
        error = plumb_error_set(PLUMB_ERROR, "CreateTargetGroup returned no target group");
        goto done;
    }
    id = json_pack("{s:s}", "TargetGroupArn", arn);
    PLUMB_ALLOC_CHECK(id);
    if ((v = json_object_get(props, "TargetGroupAttributes")))
        error = plumb_elbv2__put_attributes(aws, &kind, arn, NULL, v);
    if (error == 0 && json_array_size(json_object_get(props, "Targets")))
        error = update_targets(aws, arn, NULL, json_object_get(props, "Targets"));
    if (error < 0) {
        /* do not leave a group behind that the apply will report as failed */
        tg_remove(aws, id, 0);
        goto done;
    }
    error = tg_read(aws, id, observed);
done:
    json_decref(in);
    json_decref(out);
    json_decref(tags);
    json_decref(id);
    return error;
}

/*
 * ModifyTargetGroup with the declared health check settings that changed; nothing when none
 * did. `before` holds what AWS reports, declared or not: a setting `after` does not declare
 * is left as it is, since AWS's default for it depends on the protocol and the balancer.
 */
static int update_health_check(struct plumb_aws *aws, const char *arn, const json_t *before,
                               const json_t *after)
{
    json_t *in = json_pack("{s:s}", "TargetGroupArn", arn), *v;
    size_t i;
    int error = 0;

    PLUMB_ALLOC_CHECK(in);
    for (i = 0; health_members[i]; i++)
        if ((v = json_object_get(after, health_members[i])) &&
            plumb_provider_changed(before, after, health_members[i]))
            json_object_set(in, health_members[i], v);
    if (json_object_size(in) > 1) {
        error = plumb_provider_call(aws, "elbv2", "ModifyTargetGroup", in, NULL);
        in = NULL;
    }
done:
    json_decref(in);
    return error;
}

static int tg_update(struct plumb_aws *aws, const json_t *id, const json_t *before,
                     const json_t *after, json_t **observed)
{
    const char *arn = plumb_provider_id_str(id, "TargetGroupArn");
    int error = 0;

    *observed = NULL;
    if (!arn)
        return plumb_error_set(PLUMB_EINVALID, "target group id lacks TargetGroupArn");
    PLUMB_TRY(update_health_check(aws, arn, before, after));
    if (plumb_provider_changed(before, after, "TargetGroupAttributes"))
        PLUMB_TRY(plumb_elbv2__put_attributes(aws, &kind, arn,
                                              json_object_get(before, "TargetGroupAttributes"),
                                              json_object_get(after, "TargetGroupAttributes")));
    /* undeclared, the targets are someone else's (an ECS service registers its tasks) */
    if (json_object_get(after, "Targets") && plumb_provider_changed(before, after, "Targets"))
        PLUMB_TRY(update_targets(aws, arn, json_object_get(before, "Targets"),
                                 json_object_get(after, "Targets")));
    if (plumb_provider_changed(before, after, "Tags"))
        PLUMB_TRY(plumb_elbv2__update_tags(aws, arn, before, after));
    PLUMB_TRY(tg_read(aws, id, observed));
    if (!*observed)
        error = plumb_error_set(PLUMB_ENOTFOUND, "target group '%s' does not exist", arn);
done:
    return error;
}

static int tg_remove(struct plumb_aws *aws, const json_t *id, unsigned flags)
{
    const char *arn = plumb_provider_id_str(id, "TargetGroupArn");
    const struct plumb_aws_error_info *e;
    long wait_ms = 1000;
    int error = 0, attempt;

    (void)flags;
    if (!arn)
        return plumb_error_set(PLUMB_EINVALID, "target group id lacks TargetGroupArn");
    for (attempt = 1;; attempt++) {
        error = plumb_provider_call(aws, "elbv2", "DeleteTargetGroup",
                                    json_pack("{s:s}", "TargetGroupArn", arn), NULL);
        e = plumb_aws_last_error();
        if (error == 0 || attempt >= IN_USE_ATTEMPTS || !e || strcmp(e->code, "ResourceInUse") != 0)
            break;
        plumb_sleep_ms(wait_ms);
        wait_ms *= 2;
    }
    if (error == PLUMB_ENOTFOUND)
        error = 0; /* gone already */
    return error;
}

const struct plumb_resource_type plumb_driver_elbv2_targetgroup = {
    .type_name = "AWS::ElasticLoadBalancingV2::TargetGroup",
    .read = tg_read,
    .read_many = tg_read_many,
    .lookup = tg_lookup,
    .create = tg_create,
    .update = tg_update,
    .remove = tg_remove,
    .found_by_tags = 1,
};
