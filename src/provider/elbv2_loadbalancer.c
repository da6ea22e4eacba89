/*
 * AWS::ElasticLoadBalancingV2::LoadBalancer — Application, Network and Gateway Load
 * Balancers.
 *
 * AWS names the resource (LoadBalancerArn) but the user names it too (Name), and a name is
 * unique per region: lookup asks DescribeLoadBalancers by name. AWS answers a second
 * CreateLoadBalancer with the same name and settings with the existing balancer; moto creates
 * another one, so an interrupted apply must look up before creating again.
 *
 * A read is three calls: DescribeLoadBalancers, DescribeTags and DescribeLoadBalancerAttributes
 * (the only per-balancer one). read_many describes and tags 20 balancers a call; one unknown
 * ARN fails a whole DescribeLoadBalancers call (LoadBalancerNotFound), and then one listing
 * of every balancer of the region answers that chunk instead.
 *
 * LoadBalancerAttributes come back with every attribute AWS knows for the type; read reports
 * those a user can declare (the keys of ModifyLoadBalancerAttributes), sorted by key, and
 * update sends only the declared ones that changed. update's `before` holds what AWS reports,
 * declared or not: a property or attribute `after` does not declare is left as it is (AWS's
 * default for it depends on the type).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider/elbv2_common.h"
#include "provider/provider.h"
#include "provider/util.h"
#include "util/error.h"

/* Load balancers take minutes to provision on AWS. */
#define POLL_MS 10000

/* What ModifyLoadBalancerAttributes accepts (botocore's LoadBalancerAttribute), sorted. */
static const char *const declarable_keys[] = {
    "access_logs.s3.bucket",
    "access_logs.s3.enabled",
    "access_logs.s3.prefix",
    "client_keep_alive.seconds",
    "connection_logs.s3.bucket",
    "connection_logs.s3.enabled",
    "connection_logs.s3.prefix",
    "deletion_protection.enabled",
    "dns_record.client_routing_policy",
    "health_check_logs.s3.bucket",
    "health_check_logs.s3.enabled",
    "health_check_logs.s3.prefix",
    "idle_timeout.timeout_seconds",
    "ipv6.deny_all_igw_traffic",
    "load_balancing.cross_zone.enabled",
    "routing.http.desync_mitigation_mode",
    "routing.http.drop_invalid_header_fields.enabled",
    "routing.http.preserve_host_header.enabled",
    "routing.http.x_amzn_tls_version_and_cipher_suite.enabled",
    "routing.http.xff_client_port.enabled",
    "routing.http.xff_header_processing.mode",
    "routing.http2.enabled",
    "secondary_ips.auto_assigned.per_subnet",
    "waf.fail_open.enabled",
    "zonal_shift.config.enabled",
    NULL,
};

static const struct plumb_elbv2_kind kind = {
    .what = "load balancer",
    .describe = "DescribeLoadBalancers",
    .list = "LoadBalancers",
    .arn = "LoadBalancerArn",
    .arns = "LoadBalancerArns",
    .modify_attributes = "ModifyLoadBalancerAttributes",
    .attribute_keys = declarable_keys,
};

/* 1 when the string sets `a` and `b` differ (NULL is the empty set). */
static int set_changed(const json_t *a, const json_t *b)
{
    json_t *x = plumb_elbv2__sorted_strings(a), *y = plumb_elbv2__sorted_strings(b);
    int changed = !json_equal(x, y);

    json_decref(x);
    json_decref(y);
    return changed;
}

/* "app/name/id" from "arn:aws:elasticloadbalancing:...:loadbalancer/app/name/id". */
static json_t *full_name_of(const char *arn)
{
    const char *p = arn ? strstr(arn, ":loadbalancer/") : NULL;

    return p ? json_string(p + strlen(":loadbalancer/")) : NULL;
}

/* One subnet mapping per availability zone, with the addresses a user can fix. */
static json_t *subnet_mappings_of(const json_t *azs)
{
    static const char *const members[] = {"AllocationId", "PrivateIPv4Address", "IPv6Address"};
    json_t *out = json_array(), *m, *ids = json_array(), *sorted = NULL;
    const json_t *az, *addr, *id;
    size_t i, k;

    if (!out || !ids)
        goto done;
    json_array_foreach(azs, i, az)
    {
        json_array_append(ids, json_object_get(az, "SubnetId"));
    }
    sorted = plumb_elbv2__sorted_strings(ids);
    json_array_foreach(sorted, i, id)
    {
        az = plumb_elbv2__find_by(azs, "SubnetId", json_string_value(id));
        addr = json_array_get(json_object_get(az, "LoadBalancerAddresses"), 0);
        m = json_pack("{s:O}", "SubnetId", id);
        for (k = 0; m && k < sizeof(members) / sizeof(members[0]); k++)
            if (json_is_string(json_object_get(addr, members[k])))
                json_object_set(m, members[k], json_object_get(addr, members[k]));
        json_array_append_new(out, m);
    }
done:
    json_decref(ids);
    json_decref(sorted);
    return out;
}

/* One DescribeLoadBalancers entry, its tags and attributes → the CloudFormation shape. */
static int observe(const json_t *lb, const json_t *tags, const json_t *attrs, json_t **out)
{
    static const char *const same[] = {
        "LoadBalancerArn", "LoadBalancerName", "DNSName", "Scheme", "Type", "IpAddressType"};
    const char *arn = json_string_value(json_object_get(lb, "LoadBalancerArn"));
    json_t *o = json_object(), *subnets = json_array(), *v;
    const json_t *az, *azs = json_object_get(lb, "AvailabilityZones");
    size_t i;
    int error = 0;

    PLUMB_ALLOC_CHECK(o);
    PLUMB_ALLOC_CHECK(subnets);
    for (i = 0; i < sizeof(same) / sizeof(same[0]); i++)
        if ((v = json_object_get(lb, same[i])))
            json_object_set(o, same[i], v);
    json_object_set(o, "Name", json_object_get(lb, "LoadBalancerName"));
    if ((v = json_object_get(lb, "CanonicalHostedZoneId")))
        json_object_set(o, "CanonicalHostedZoneID", v);
    if ((v = full_name_of(arn)))
        json_object_set_new(o, "LoadBalancerFullName", v);
    /* Network and Gateway Load Balancers made without groups report none */
    if (json_is_array(json_object_get(lb, "SecurityGroups")))
        json_object_set_new(o, "SecurityGroups",
                            plumb_elbv2__sorted_strings(json_object_get(lb, "SecurityGroups")));
    if (json_is_array(azs)) {
        json_array_foreach(azs, i, az)
        {
            json_array_append(subnets, json_object_get(az, "SubnetId"));
        }
        json_object_set_new(o, "Subnets", plumb_elbv2__sorted_strings(subnets));
        json_object_set_new(o, "SubnetMappings", subnet_mappings_of(azs));
    }
    if (attrs)
        json_object_set_new(o, "LoadBalancerAttributes",
                            plumb_elbv2__declarable_attributes(&kind, attrs));
    if (tags) {
        v = plumb_provider_tags_to_map(tags);
        json_object_set_new(o, "Tags", plumb_provider_tags_to_list(v, "Key", "Value"));
        json_decref(v);
    }
    *out = o;
    o = NULL;
done:
    json_decref(o);
    json_decref(subnets);
    return error;
}

/* DescribeLoadBalancerAttributes; *attrs = NULL when the balancer is gone. */
static int describe_attributes(struct plumb_aws *aws, const char *arn, json_t **attrs)
{
    json_t *in = json_pack("{s:s}", "LoadBalancerArn", arn), *out = NULL;
    int error = 0;

    *attrs = NULL;
    PLUMB_ALLOC_CHECK(in);
    error = plumb_aws_call(aws, "elbv2", "DescribeLoadBalancerAttributes", in, &out);
    if (error == PLUMB_ENOTFOUND)
        error = 0;
    else if (error == 0)
        *attrs = json_incref(json_object_get(out, "Attributes"));
    if (error == 0 && out && !*attrs)
        *attrs = json_array();
done:
    json_decref(in);
    json_decref(out);
    return error;
}

/* Tags and attributes (when wanted: provider.h) of the described balancers `lbs`, then
 * observed per id (null: gone). */
static int observe_all(struct plumb_aws *aws, const json_t *ids, const json_t *lbs,
                       const json_t *wanted, json_t **observed)
{
    json_t *arns = json_array(), *tags = NULL, *out = json_array(), *attrs = NULL, *o;
    const json_t *id, *lb;
    size_t i;
    int error = 0;

    *observed = NULL;
    PLUMB_ALLOC_CHECK(arns);
    PLUMB_ALLOC_CHECK(out);
    json_array_foreach(ids, i, id)
    {
        lb = plumb_elbv2__find_by(lbs, "LoadBalancerArn",
                                  plumb_provider_id_str(id, "LoadBalancerArn"));
        if (lb)
            json_array_append(arns, json_object_get(lb, "LoadBalancerArn"));
    }
    if (plumb_provider_wants(wanted, "Tags"))
        PLUMB_TRY(plumb_elbv2__describe_tags(aws, arns, &tags));
    json_array_foreach(ids, i, id)
    {
        const char *arn = plumb_provider_id_str(id, "LoadBalancerArn");
        o = NULL;
        lb = plumb_elbv2__find_by(lbs, "LoadBalancerArn", arn);
        /* no tags or attributes for a balancer that was described: deleted meanwhile */
        if (lb && (!tags || json_object_get(tags, arn))) {
            if (plumb_provider_wants(wanted, "LoadBalancerAttributes")) {
                PLUMB_TRY(describe_attributes(aws, arn, &attrs));
                if (!attrs)
                    lb = NULL;
            }
            if (lb)
                PLUMB_TRY(observe(lb, tags ? json_object_get(tags, arn) : NULL, attrs, &o));
            json_decref(attrs);
            attrs = NULL;
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
    return error;
}

static int lb_read(struct plumb_aws *aws, const json_t *id, json_t **observed)
{
    return plumb_elbv2__read(aws, &kind, id, observe_all, observed);
}

static int lb_read_many(struct plumb_aws *aws, const json_t *ids, const json_t *wanted,
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

static int lb_lookup(struct plumb_aws *aws, const json_t *props, json_t **id)
{
    char name[64];
    json_t *names = NULL, *lbs = NULL;
    const json_t *lb;
    int error = 0;

    *id = NULL;
    if (plumb_elbv2__name_for(props, name, sizeof(name), "load balancer") < 0) {
        plumb_error_clear();
        return 0; /* nothing to find it by */
    }
    names = json_pack("[s]", name);
    PLUMB_ALLOC_CHECK(names);
    error = plumb_elbv2__describe(aws, &kind, "Names", names, &lbs);
    if (error == PLUMB_ENOTFOUND) {
        error = 0; /* LoadBalancerNotFound: none under that name */
        goto done;
    }
    if (error < 0)
        goto done;
    if ((lb = plumb_elbv2__find_by(lbs, "LoadBalancerName", name)))
        *id = json_pack("{s:O}", "LoadBalancerArn", json_object_get(lb, "LoadBalancerArn"));
done:
    json_decref(names);
    json_decref(lbs);
    return error;
}

static int lb_remove(struct plumb_aws *aws, const json_t *id, unsigned flags);

static int lb_create(struct plumb_aws *aws, const json_t *props, json_t **observed)
{
    static const char *const same[] = {"Subnets", "SubnetMappings", "SecurityGroups",
                                       "Scheme",  "Type",           "IpAddressType"};
    json_t *in = json_object(), *out = NULL, *tags = NULL, *id = NULL, *v;
    const char *arn;
    char name[64];
    size_t i;
    int error = 0;

    *observed = NULL;
    PLUMB_ALLOC_CHECK(in);
    PLUMB_TRY(plumb_elbv2__name_for(props, name, sizeof(name), "load balancer"));
    json_object_set_new(in, "Name", json_string(name));
    for (i = 0; i < sizeof(same) / sizeof(same[0]); i++)
        if ((v = json_object_get(props, same[i])))
            json_object_set(in, same[i], v);
    tags = plumb_provider_tags_to_map(json_object_get(props, "Tags"));
    if (json_object_size(tags))
        json_object_set_new(in, "Tags", plumb_provider_tags_to_list(tags, "Key", "Value"));
    PLUMB_TRY(plumb_aws_call(aws, "elbv2", "CreateLoadBalancer", in, &out));
    arn = json_string_value(json_object_get(
        json_array_get(json_object_get(out, "LoadBalancers"), 0), "LoadBalancerArn"));
    if (!arn) {
        error = plumb_error_set(PLUMB_ERROR, "CreateLoadBalancer returned no load balancer");
        goto done;
    }
    id = json_pack("{s:s}", "LoadBalancerArn", arn);
    PLUMB_ALLOC_CHECK(id);
    if ((v = json_object_get(props, "LoadBalancerAttributes")) &&
        (error = plumb_elbv2__put_attributes(aws, &kind, arn, NULL, v)) < 0) {
        /* do not leave a balancer behind that the apply will report as failed */
        lb_remove(aws, id, 0);
        goto done;
    }
    error = lb_read(aws, id, observed);
done:
    json_decref(in);
    json_decref(out);
    json_decref(tags);
    json_decref(id);
    return error;
}

static int lb_update(struct plumb_aws *aws, const json_t *id, const json_t *before,
                     const json_t *after, json_t **observed)
{
    const char *arn = plumb_provider_id_str(id, "LoadBalancerArn");
    const json_t *v;
    int error = 0;

    *observed = NULL;
    if (!arn)
        return plumb_error_set(PLUMB_EINVALID, "load balancer id lacks LoadBalancerArn");
    /* `before` holds what AWS reports: only what `after` declares is changed */
    if ((v = json_object_get(after, "SecurityGroups")) &&
        set_changed(json_object_get(before, "SecurityGroups"), v))
        PLUMB_TRY(plumb_provider_call(
            aws, "elbv2", "SetSecurityGroups",
            json_pack("{s:s, s:O}", "LoadBalancerArn", arn, "SecurityGroups", v), NULL));
    /* SubnetMappings also says which addresses to use: it wins when both are declared */
    if (json_object_get(after, "SubnetMappings") &&
        plumb_provider_changed(before, after, "SubnetMappings"))
        PLUMB_TRY(
            plumb_provider_call(aws, "elbv2", "SetSubnets",
                                json_pack("{s:s, s:O}", "LoadBalancerArn", arn, "SubnetMappings",
                                          json_object_get(after, "SubnetMappings")),
                                NULL));
    else if (!json_object_get(after, "SubnetMappings") && json_object_get(after, "Subnets") &&
             set_changed(json_object_get(before, "Subnets"), json_object_get(after, "Subnets")))
        PLUMB_TRY(plumb_provider_call(aws, "elbv2", "SetSubnets",
                                      json_pack("{s:s, s:O}", "LoadBalancerArn", arn, "Subnets",
                                                json_object_get(after, "Subnets")),
                                      NULL));
    if ((v = json_object_get(after, "IpAddressType")) &&
        plumb_provider_changed(before, after, "IpAddressType"))
        PLUMB_TRY(plumb_provider_call(
            aws, "elbv2", "SetIpAddressType",
            json_pack("{s:s, s:O}", "LoadBalancerArn", arn, "IpAddressType", v), NULL));
    if (plumb_provider_changed(before, after, "LoadBalancerAttributes"))
        PLUMB_TRY(plumb_elbv2__put_attributes(aws, &kind, arn,
                                              json_object_get(before, "LoadBalancerAttributes"),
                                              json_object_get(after, "LoadBalancerAttributes")));
    if (plumb_provider_changed(before, after, "Tags"))
        PLUMB_TRY(plumb_elbv2__update_tags(aws, arn, before, after));
    PLUMB_TRY(lb_read(aws, id, observed));
    if (!*observed)
        error = plumb_error_set(PLUMB_ENOTFOUND, "load balancer '%s' does not exist", arn);
done:
    return error;
}

static int lb_remove(struct plumb_aws *aws, const json_t *id, unsigned flags)
{
    const char *arn = plumb_provider_id_str(id, "LoadBalancerArn");
    int error = 0;

    if (!arn)
        return plumb_error_set(PLUMB_EINVALID, "load balancer id lacks LoadBalancerArn");
    /* deletion protection refuses a delete (OperationNotPermitted): only a forced one lifts it */
    if (flags & PLUMB_REMOVE_FORCE) {
        error = plumb_provider_call(aws, "elbv2", "ModifyLoadBalancerAttributes",
                                    json_pack("{s:s, s:[{s:s, s:s}]}", "LoadBalancerArn", arn,
                                              "Attributes", "Key", "deletion_protection.enabled",
                                              "Value", "false"),
                                    NULL);
        if (error == PLUMB_ENOTFOUND)
            return 0;
        if (error < 0)
            return error;
    }
    /* AWS deletes the listeners (and their rules) with the balancer */
    error = plumb_provider_call(aws, "elbv2", "DeleteLoadBalancer",
                                json_pack("{s:s}", "LoadBalancerArn", arn), NULL);
    if (error == PLUMB_ENOTFOUND)
        error = 0; /* gone already */
    return error;
}

struct lb_wait {
    struct plumb_aws *aws;
    const char *arn;
    int want_gone;
    char status[64];
};

static int check_state(void *ctx, const char **status)
{
    struct lb_wait *w = ctx;
    json_t *arns = json_pack("[s]", w->arn), *lbs = NULL;
    const json_t *state;
    const char *code;
    int error;

    if (!arns)
        return plumb_error_oom();
    error = plumb_elbv2__describe(w->aws, &kind, kind.arns, arns, &lbs);
    json_decref(arns);
    if (error == PLUMB_ENOTFOUND) {
        error = w->want_gone
                    ? 1
                    : plumb_error_set(PLUMB_ENOTFOUND, "load balancer '%s' disappeared", w->arn);
        goto done;
    }
    if (error < 0)
        goto done;
    state = json_object_get(json_array_get(lbs, 0), "State");
    code = json_string_value(json_object_get(state, "Code"));
    snprintf(w->status, sizeof(w->status), "%s", w->want_gone ? "deleting" : code ? code : "");
    *status = w->status;
    if (w->want_gone) {
        error = json_array_size(lbs) == 0;
    } else if (code && strcmp(code, "failed") == 0) {
        const char *reason = json_string_value(json_object_get(state, "Reason"));
        error = plumb_error_set(PLUMB_ERROR, "load balancer '%s' failed: %s", w->arn,
                                reason ? reason : "no reason given");
    } else {
        /* active_impaired: serving, with some zones degraded */
        error = code && (strcmp(code, "active") == 0 || strcmp(code, "active_impaired") == 0);
    }
done:
    json_decref(lbs);
    return error;
}

static int lb_wait(struct plumb_aws *aws, const json_t *id, struct plumb_progress *p, int want_gone)
{
    struct lb_wait w = {
        .aws = aws, .arn = plumb_provider_id_str(id, "LoadBalancerArn"), .want_gone = want_gone};
    char what[300];

    if (!w.arn)
        return plumb_error_set(PLUMB_EINVALID, "load balancer id lacks LoadBalancerArn");
    snprintf(what, sizeof(what), "load balancer '%s' to be %s", w.arn,
             want_gone ? "deleted" : "active");
    return plumb_provider_wait(p, POLL_MS, check_state, &w, what);
}

static int lb_wait_stable(struct plumb_aws *aws, const json_t *id, struct plumb_progress *p)
{
    return lb_wait(aws, id, p, 0);
}

/* DescribeLoadBalancers answers until the balancer is really gone (the SDKs'
 * LoadBalancersDeleted waiter); its subnets and groups cannot be deleted before. */
static int lb_wait_deleted(struct plumb_aws *aws, const json_t *id, struct plumb_progress *p)
{
    return lb_wait(aws, id, p, 1);
}

const struct plumb_resource_type plumb_driver_elbv2_loadbalancer = {
    .type_name = "AWS::ElasticLoadBalancingV2::LoadBalancer",
    .read = lb_read,
    .read_many = lb_read_many,
    .lookup = lb_lookup,
    .create = lb_create,
    .update = lb_update,
    .remove = lb_remove,
    .wait_stable = lb_wait_stable,
    .wait_deleted = lb_wait_deleted,
    .found_by_tags = 1,
};
