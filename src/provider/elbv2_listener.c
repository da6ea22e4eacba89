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

#include "provider/provider.h"
#include "provider/util.h"
#include "util/buf.h"
#include "util/error.h"

/* ListenerArns per DescribeListeners call. */
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

static json_t *actions_of(const json_t *actions)
{
    json_t *out = json_array();
    const json_t *a;
    size_t i;

    json_array_foreach(actions, i, a)
    {
        if (out)
            json_array_append_new(out, action_of(a));
    }
    return out;
}

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
    copy_members(o, l, same);
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
    json_object_set_new(o, "DefaultActions", actions_of(json_object_get(l, "DefaultActions")));
    return o;
}

/* DescribeListeners by ARNs (an array) or of one load balancer; every page. */
static int describe(struct plumb_aws *aws, const json_t *arns, const char *lb_arn,
                    json_t **listeners)
{
    json_t *in = arns ? json_pack("{s:O}", "ListenerArns", arns)
                      : json_pack("{s:s}", "LoadBalancerArn", lb_arn);
    json_t *out = NULL;
    int error = 0;

    *listeners = NULL;
    PLUMB_ALLOC_CHECK(in);
    PLUMB_TRY(plumb_aws_paginate(aws, "elbv2", "DescribeListeners", in, &out));
    *listeners = json_incref(json_object_get(out, "Listeners"));
    if (!*listeners)
        *listeners = json_array();
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

/* The load balancer's ARN inside a listener's: "...:listener/app/n/lb/l" → "...:loadbalancer/
 * app/n/lb". Caller frees. */
static char *balancer_of(const char *listener_arn)
{
    const char *p = listener_arn ? strstr(listener_arn, ":listener/") : NULL;
    const char *end = listener_arn ? strrchr(listener_arn, '/') : NULL;
    struct plumb_buf b = PLUMB_BUF_INIT;

    if (!p || !end || end < p + strlen(":listener/"))
        return NULL;
    plumb_buf_put(&b, listener_arn, (size_t)(p - listener_arn));
    plumb_buf_puts(&b, ":loadbalancer/");
    p += strlen(":listener/");
    plumb_buf_put(&b, p, (size_t)(end - p));
    return plumb_buf_detach(&b);
}

static int lst_read(struct plumb_aws *aws, const json_t *id, json_t **observed)
{
    const char *arn = plumb_provider_id_str(id, "ListenerArn");
    json_t *arns = NULL, *ls = NULL;
    const json_t *l;
    int error = 0;

    *observed = NULL;
    if (!arn)
        return plumb_error_set(PLUMB_EINVALID, "listener id lacks ListenerArn");
    arns = json_pack("[s]", arn);
    PLUMB_ALLOC_CHECK(arns);
    error = describe(aws, arns, NULL, &ls);
    if (error == PLUMB_ENOTFOUND) {
        error = 0; /* ListenerNotFound */
        goto done;
    }
    if (error < 0)
        goto done;
    if ((l = find_by(ls, "ListenerArn", arn))) {
        *observed = observe(l, NULL);
        PLUMB_ALLOC_CHECK(*observed);
    }
done:
    json_decref(arns);
    json_decref(ls);
    return error;
}

/* The listeners of `chunk` (ARNs) that exist, one DescribeListeners per load balancer. */
static int describe_by_balancer(struct plumb_aws *aws, const json_t *chunk, json_t *found)
{
    json_t *seen = json_object(), *ls = NULL;
    const json_t *x, *y, *l;
    size_t i, j;
    char *lb = NULL;
    int error = 0;

    PLUMB_ALLOC_CHECK(seen);
    json_array_foreach(chunk, i, x)
    {
        free(lb);
        lb = balancer_of(json_string_value(x));
        if (!lb || json_object_get(seen, lb))
            continue;
        json_object_set_new(seen, lb, json_true());
        error = describe(aws, NULL, lb, &ls);
        if (error == PLUMB_ENOTFOUND) {
            error = 0; /* the balancer is gone, and its listeners with it */
            continue;
        }
        if (error < 0)
            goto done;
        json_array_foreach(chunk, j, y)
        {
            if ((l = find_by(ls, "ListenerArn", json_string_value(y))))
                json_array_append(found, (json_t *)l);
        }
        json_decref(ls);
        ls = NULL;
    }
done:
    free(lb);
    json_decref(seen);
    json_decref(ls);
    return error;
}

static int lst_read_many(struct plumb_aws *aws, const json_t *ids, const json_t *wanted,
                         json_t **observed)
{
    json_t *found = json_array(), *chunk = NULL, *ls = NULL, *out = json_array(), *o;
    const json_t *l;
    size_t i, j, n = json_array_size(ids);
    int error = 0;

    *observed = NULL;
    PLUMB_ALLOC_CHECK(found);
    PLUMB_ALLOC_CHECK(out);
    for (i = 0; i < n; i += CHUNK) {
        chunk = json_array();
        PLUMB_ALLOC_CHECK(chunk);
        for (j = i; j < n && j < i + CHUNK; j++) {
            const char *arn = plumb_provider_id_str(json_array_get(ids, j), "ListenerArn");
            if (arn)
                json_array_append_new(chunk, json_string(arn));
        }
        if (json_array_size(chunk)) {
            error = describe(aws, chunk, NULL, &ls);
            if (error == PLUMB_ENOTFOUND)
                error = describe_by_balancer(aws, chunk, found);
            else if (error == 0)
                json_array_extend(found, ls);
            if (error < 0)
                goto done;
        }
        json_decref(chunk);
        json_decref(ls);
        chunk = ls = NULL;
    }
    for (i = 0; i < n; i++) {
        l = find_by(found, "ListenerArn",
                    plumb_provider_id_str(json_array_get(ids, i), "ListenerArn"));
        o = l ? observe(l, wanted) : json_null();
        PLUMB_ALLOC_CHECK(o);
        json_array_append_new(out, o);
    }
    *observed = out;
    out = NULL;
done:
    json_decref(found);
    json_decref(chunk);
    json_decref(ls);
    json_decref(out);
    return error;
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
    error = describe(aws, NULL, lb, &ls);
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
    copy_members(in, props, settable);
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
        copy_members(in, after, secure);
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
