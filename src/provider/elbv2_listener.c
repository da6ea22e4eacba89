/*
 * AWS::ElasticLoadBalancingV2::Listener — a port and protocol of a load balancer, and what it
 * does with a request no rule takes (DefaultActions).
 *
 * AWS names the resource (ListenerArn) and a load balancer has one listener per port, so
 * lookup asks DescribeListeners for the balancer's listeners and picks the port. AWS refuses
 * a second listener on a port (DuplicateListener); moto accepts it, so adoption must not rely
 * on that refusal. Everything but LoadBalancerArn changes in place with one ModifyListener.
 *
 * A read is one DescribeListeners call; read_many asks for 20 ARNs a call. One unknown ARN
 * fails the whole call (ListenerNotFound); that chunk is then read per load balancer (the
 * balancer's ARN is part of the listener's), one call per balancer.
 *
 * Actions have the same members in CloudFormation and the API; read keeps those the schema
 * declares and what AWS adds (Order, a ForwardConfig mirroring TargetGroupArn), which the
 * planner ignores when they were not declared. SslPolicy, Certificates and AlpnPolicy belong
 * to HTTPS and TLS listeners only (ALPN to TLS): they are not reported for others (moto
 * reports a default policy on every listener, and keeps all three when a listener turns HTTP
 * or TCP; on AWS that change removes the policy and certificate). On a listener that is
 * neither, a refresh of declared ones (read_many's `wanted`) reads them as null
 * (plumb_provider_not_set): left out, the values last applied would stand in for them, a
 * listener turned HTTP or TCP outside plumb would not show them gone, and an update turning
 * it TLS again would not send the ALPN policy.
 */
#include <stdlib.h>
#include <string.h>

#include "provider/elbv2_common.h"
#include "provider/provider.h"
#include "provider/util.h"
#include "util/buf.h"
#include "util/error.h"

static const struct plumb_elbv2_kind kind = {
    .what = "listener",
    .describe = "DescribeListeners",
    .list = "Listeners",
    .arn = "ListenerArn",
    .arns = "ListenerArns",
    .parent = "LoadBalancerArn",
    .own_part = ":listener/",
    .parent_part = ":loadbalancer/",
};

static int is_secure(const json_t *listener)
{
    const char *p = json_string_value(json_object_get(listener, "Protocol"));

    return p && (strcmp(p, "HTTPS") == 0 || strcmp(p, "TLS") == 0);
}

/* One DescribeListeners entry → the CloudFormation shape; `wanted` as read_many's (provider.h). */
static json_t *observe(const json_t *l, const json_t *wanted)
{
    static const char *const same[] = {"ListenerArn", "LoadBalancerArn", "Port", "Protocol", NULL};
    json_t *o = json_object(), *certs, *c;
    const json_t *x;
    size_t i;

    if (!o)
        return NULL;
    plumb_elbv2__copy_members(o, l, same);
    if (is_secure(l)) {
        if (json_object_get(l, "SslPolicy"))
            json_object_set(o, "SslPolicy", json_object_get(l, "SslPolicy"));
        /* DescribeListeners lists the default certificate only: CloudFormation's Certificates */
        if (json_array_size(json_object_get(l, "Certificates")) && (certs = json_array())) {
            json_array_foreach(json_object_get(l, "Certificates"), i, x)
            {
                c = json_pack("{s:O?}", "CertificateArn", json_object_get(x, "CertificateArn"));
                if (c)
                    json_array_append_new(certs, c);
            }
            json_object_set_new(o, "Certificates", certs);
        }
        if (json_array_size(json_object_get(l, "AlpnPolicy")))
            json_object_set(o, "AlpnPolicy", json_object_get(l, "AlpnPolicy"));
    } else {
        plumb_provider_not_set(o, wanted, "SslPolicy");
        plumb_provider_not_set(o, wanted, "Certificates");
        plumb_provider_not_set(o, wanted, "AlpnPolicy");
    }
    json_object_set_new(
        o, "DefaultActions",
        plumb_elbv2__map_list(json_object_get(l, "DefaultActions"), plumb_elbv2__action_of));
    return o;
}

static int lst_read(struct plumb_aws *aws, const json_t *id, json_t **observed)
{
    return plumb_elbv2__child_read(aws, &kind, id, observe, observed);
}

static int lst_read_many(struct plumb_aws *aws, const json_t *ids, const json_t *wanted,
                         json_t **observed)
{
    return plumb_elbv2__child_read_many(aws, &kind, ids, wanted, observe, observed);
}

static int lst_lookup(struct plumb_aws *aws, const json_t *props, json_t **id)
{
    const char *lb = json_string_value(json_object_get(props, "LoadBalancerArn"));
    const json_t *port = json_object_get(props, "Port"), *l;
    json_t *ls = NULL;
    size_t i;
    int error = 0;

    *id = NULL;
    if (!lb || !json_is_integer(port))
        return 0;
    error = plumb_elbv2__describe_children(aws, &kind, lb, &ls);
    if (error == PLUMB_ENOTFOUND) {
        error = 0; /* no balancer, no listener */
        goto done;
    }
    if (error < 0)
        goto done;
    json_array_foreach(ls, i, l)
    {
        if (json_equal(json_object_get(l, "Port"), port)) {
            *id = json_pack("{s:O}", "ListenerArn", json_object_get(l, "ListenerArn"));
            break;
        }
    }
done:
    json_decref(ls);
    return error;
}

/* The members CreateListener and ModifyListener take as the schema has them. */
static const char *const settable[] = {"Port",       "Protocol",       "SslPolicy", "Certificates",
                                       "AlpnPolicy", "DefaultActions", NULL};

static int lst_create(struct plumb_aws *aws, const json_t *props, json_t **observed)
{
    json_t *in = json_object(), *out = NULL, *id = NULL;
    const char *arn;
    int error = 0;

    *observed = NULL;
    PLUMB_ALLOC_CHECK(in);
    if (!json_is_string(json_object_get(props, "LoadBalancerArn"))) {
        error = plumb_error_set(PLUMB_EINVALID, "a listener needs LoadBalancerArn");
        goto done;
    }
    json_object_set(in, "LoadBalancerArn", json_object_get(props, "LoadBalancerArn"));
    plumb_elbv2__copy_members(in, props, settable);
    PLUMB_TRY(plumb_aws_call(aws, "elbv2", "CreateListener", in, &out));
    arn = json_string_value(
        json_object_get(json_array_get(json_object_get(out, "Listeners"), 0), "ListenerArn"));
    if (!arn) {
        error = plumb_error_set(PLUMB_ERROR, "CreateListener returned no listener");
        goto done;
    }
    id = json_pack("{s:s}", "ListenerArn", arn);
    PLUMB_ALLOC_CHECK(id);
    error = lst_read(aws, id, observed);
done:
    json_decref(in);
    json_decref(out);
    json_decref(id);
    return error;
}

static int lst_update(struct plumb_aws *aws, const json_t *id, const json_t *before,
                      const json_t *after, json_t **observed)
{
    const char *arn = plumb_provider_id_str(id, "ListenerArn");
    json_t *in = NULL, *out = NULL, *v;
    size_t i;
    int error = 0;

    *observed = NULL;
    if (!arn)
        return plumb_error_set(PLUMB_EINVALID, "listener id lacks ListenerArn");
    in = json_pack("{s:s}", "ListenerArn", arn);
    PLUMB_ALLOC_CHECK(in);
    for (i = 0; settable[i]; i++)
        if (plumb_provider_changed(before, after, settable[i]) &&
            (v = json_object_get(after, settable[i])))
            json_object_set(in, settable[i], v);
    /* a listener turning HTTPS/TLS needs its certificate and policy in the same call */
    if (plumb_provider_changed(before, after, "Protocol") && is_secure(after)) {
        static const char *const secure[] = {"Certificates", "SslPolicy", NULL};
        plumb_elbv2__copy_members(in, after, secure);
    }
    if (json_object_size(in) > 1)
        PLUMB_TRY(plumb_aws_call(aws, "elbv2", "ModifyListener", in, &out));
    PLUMB_TRY(lst_read(aws, id, observed));
    if (!*observed)
        error = plumb_error_set(PLUMB_ENOTFOUND, "listener '%s' does not exist", arn);
done:
    json_decref(in);
    json_decref(out);
    return error;
}

static int lst_remove(struct plumb_aws *aws, const json_t *id, unsigned flags)
{
    json_t *in = json_pack("{s:s?}", "ListenerArn", plumb_provider_id_str(id, "ListenerArn"));
    json_t *out = NULL;
    int error;

    (void)flags;
    if (!in)
        return plumb_error_oom();
    /* AWS deletes the listener's rules with it */
    error = plumb_aws_call(aws, "elbv2", "DeleteListener", in, &out);
    if (error == PLUMB_ENOTFOUND)
        error = 0; /* gone already, or its load balancer is */
    json_decref(in);
    json_decref(out);
    return error;
}

const struct plumb_resource_type plumb_driver_elbv2_listener = {
    .type_name = "AWS::ElasticLoadBalancingV2::Listener",
    .read = lst_read,
    .read_many = lst_read_many,
    .lookup = lst_lookup,
    .create = lst_create,
    .update = lst_update,
    .remove = lst_remove,
};
