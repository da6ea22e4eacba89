/*
 * AWS::ECS::Cluster — ECS clusters.
 *
 * Named by the user (ClusterName is the primary identifier). DescribeClusters takes up to 100
 * names with their tags, settings and configuration, which is what read and read_many use.
 * A deleted cluster stays visible as INACTIVE for a while: that reads as gone. CreateCluster
 * does not refuse a name in use (AWS returns the existing cluster, moto replaces it), so
 * lookup must find an ACTIVE cluster of that name before the executor creates one.
 *
 * In place: ClusterSettings and Configuration with UpdateCluster (one call; moto 5.2.1 has no
 * UpdateClusterSettings, and UpdateCluster takes settings too), CapacityProviders and
 * DefaultCapacityProviderStrategy with PutClusterCapacityProviders (both at once, as the API
 * wants), tags with TagResource/UntagResource. Removing a setting from the declaration turns
 * it off ("disabled": containerInsights is the only cluster setting); removing Configuration
 * puts back ECS's default (executeCommandConfiguration logging DEFAULT).
 *
 * remove: AWS refuses to delete a cluster that still has services; moto 5.2.1 deletes it
 * anyway and leaves the services behind. The driver lists the cluster's services first and
 * refuses with their names, so the error is the same (and names what to delete) on both.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/model.h"
#include "provider/ecs_common.h"
#include "provider/provider.h"
#include "provider/util.h"
#include "schema/schema.h"
#include "util/buf.h"
#include "util/error.h"

#define TYPE_NAME "AWS::ECS::Cluster"
/* DescribeClusters takes at most 100 clusters per call. */
#define DESCRIBE_CHUNK 100

/* ---- the driver ----------------------------------------------------------------------- */

static const struct field fields[] = {
    {"ClusterName", "clusterName"},
    {"Arn", "clusterArn"},
    {"ClusterSettings", "settings"},
    {"Configuration", "configuration"},
    {"CapacityProviders", "capacityProviders"},
    {"DefaultCapacityProviderStrategy", "defaultCapacityProviderStrategy"},
    {NULL, NULL},
};

/* A DescribeClusters entry → the CloudFormation shape. */
static int observe(const json_t *cluster, json_t **out)
{
    const struct plumb_aws_service *svc;
    const struct plumb_schema_type *t;
    json_t *o = NULL, *tags = NULL;
    int error = 0;

    *out = NULL;
    PLUMB_TRY(plumb_ecs__ecs_model(&svc, &t, TYPE_NAME));
    o = json_object();
    PLUMB_ALLOC_CHECK(o);
    plumb_ecs__fields_from_api(o, t, fields, cluster);
    /* asked with include TAGS: no "tags" member means no tags */
    tags = plumb_provider_tags_to_map(json_object_get(cluster, "tags"));
    PLUMB_ALLOC_CHECK(tags);
    json_object_set_new(o, "Tags", plumb_provider_tags_to_list(tags, "Key", "Value"));
    *out = o;
    o = NULL;
done:
    json_decref(o);
    json_decref(tags);
    return error;
}

/* DescribeClusters of `names` (at most DESCRIBE_CHUNK): the clusters that exist. */
static int describe(struct plumb_aws *aws, const json_t *names, json_t **clusters)
{
    json_t *in, *out = NULL;
    int error = 0;

    *clusters = NULL;
    in = json_pack("{s:O, s:[s,s,s]}", "clusters", names, "include", "TAGS", "SETTINGS",
                   "CONFIGURATIONS");
    PLUMB_ALLOC_CHECK(in);
    PLUMB_TRY(plumb_aws_call(aws, "ecs", "DescribeClusters", in, &out));
    *clusters = json_incref(json_object_get(out, "clusters"));
    if (!*clusters)
        *clusters = json_array();
done:
    json_decref(in);
    json_decref(out);
    return error;
}

/* The cluster called `name` (or with that ARN) in `clusters`, whatever its status. */
static const json_t *find_any(const json_t *clusters, const char *name)
{
    const json_t *c;
    size_t i;

    json_array_foreach(clusters, i, c)
    {
        const char *n = json_string_value(json_object_get(c, "clusterName"));
        if (n && name && strcmp(n, plumb_ecs__base_name(name)) == 0)
            return c;
    }
    return NULL;
}

static int is_status(const json_t *x, const char *status)
{
    const char *s = json_string_value(json_object_get(x, "status"));

    return s && strcmp(s, status) == 0;
}

/* The live cluster called `name`: INACTIVE ones are deleted clusters AWS still shows for a
 * while. */
static const json_t *find_cluster(const json_t *clusters, const char *name)
{
    const json_t *c = find_any(clusters, name);

    return c && !is_status(c, "INACTIVE") ? c : NULL;
}

static int cl_read(struct plumb_aws *aws, const json_t *id, json_t **observed)
{
    const char *name = plumb_provider_id_str(id, "ClusterName");
    json_t *names = NULL, *clusters = NULL;
    const json_t *c;
    int error = 0;

    *observed = NULL;
    if (!name)
        return plumb_error_set(PLUMB_EINVALID, "cluster id lacks ClusterName");
    names = json_pack("[s]", name);
    PLUMB_ALLOC_CHECK(names);
    PLUMB_TRY(describe(aws, names, &clusters));
    if ((c = find_cluster(clusters, name)))
        error = observe(c, observed);
done:
    json_decref(names);
    json_decref(clusters);
    return error;
}

/* DescribeClusters takes 100 names a call: ceil(N / 100) calls, tags and settings included. */
static int cl_read_many(struct plumb_aws *aws, const json_t *ids, const json_t *wanted,
                        json_t **observed)
{
    json_t *out = json_array(), *names = NULL, *clusters = NULL, *all = json_array(), *o;
    const json_t *id, *c;
    size_t i, start;
    int error = 0;

    *observed = NULL;
    PLUMB_ALLOC_CHECK(out && all);
    for (start = 0; start < json_array_size(ids); start += DESCRIBE_CHUNK) {
        names = json_array();
        PLUMB_ALLOC_CHECK(names);
        for (i = start; i < json_array_size(ids) && i < start + DESCRIBE_CHUNK; i++) {
            const char *name = plumb_provider_id_str(json_array_get(ids, i), "ClusterName");
            if (name)
                json_array_append_new(names, json_string(name));
        }
        if (json_array_size(names)) {
            PLUMB_TRY(describe(aws, names, &clusters));
            json_array_extend(all, clusters);
            json_decref(clusters);
            clusters = NULL;
        }
        json_decref(names);
        names = NULL;
    }
    json_array_foreach(ids, i, id)
    {
        const char *name = plumb_provider_id_str(id, "ClusterName");
        o = NULL;
        if (name && (c = find_cluster(all, name)))
            PLUMB_TRY(observe(c, &o));
        json_array_append_new(out, o ? o : json_null());
    }
    *observed = out;
    out = NULL;
done:
    json_decref(out);
    json_decref(names);
    json_decref(clusters);
    json_decref(all);
    return error;
}

static int cl_lookup(struct plumb_aws *aws, const json_t *props, json_t **id)
{
    const char *name = json_string_value(json_object_get(props, "ClusterName"));
    json_t *observed = NULL, *want;
    int error;

    *id = NULL;
    if (!name)
        return 0;
    want = json_pack("{s:s}", "ClusterName", name);
    if (!want)
        return plumb_error_oom();
    error = cl_read(aws, want, &observed);
    if (error == 0 && observed)
        *id = json_incref(want);
    json_decref(want);
    json_decref(observed);
    return error;
}

static int cl_create(struct plumb_aws *aws, const json_t *props, json_t **observed)
{
    const char *name = json_string_value(json_object_get(props, "ClusterName"));
    const struct plumb_aws_service *svc;
    const struct plumb_schema_type *t;
    json_t *in = NULL, *out = NULL, *tags = NULL, *id = NULL;
    int error = 0;

    *observed = NULL;
    if (!name)
        return plumb_error_set(PLUMB_EINVALID, "a cluster needs ClusterName");
    PLUMB_TRY(plumb_ecs__ecs_model(&svc, &t, TYPE_NAME));
    in = json_object();
    PLUMB_ALLOC_CHECK(in);
    plumb_ecs__fields_to_api(in, svc, "CreateCluster", fields, props);
    tags = plumb_ecs__ecs_tags(json_object_get(props, "Tags"));
    if (json_array_size(tags))
        json_object_set(in, "tags", tags);
    /* one call: nothing half-made to clean up when it fails */
    PLUMB_TRY(plumb_aws_call(aws, "ecs", "CreateCluster", in, &out));
    id = json_pack("{s:s}", "ClusterName", name);
    PLUMB_ALLOC_CHECK(id);
    PLUMB_TRY(cl_read(aws, id, observed));
    if (!*observed)
        error =
            plumb_error_set(PLUMB_ERROR, "cluster '%s' was created but cannot be read back", name);
done:
    json_decref(in);
    json_decref(out);
    json_decref(tags);
    json_decref(id);
    return error;
}

/* Settings to send so that `before` becomes `after`: those declared, and those no longer
 * declared turned off. */
static json_t *settings_to_send(const json_t *before, const json_t *after)
{
    json_t *out = json_is_array(after) ? json_deep_copy(after) : json_array();
    const json_t *b, *a;
    size_t i, j;

    json_array_foreach(before, i, b)
    {
        const char *n = json_string_value(json_object_get(b, "Name"));
        int kept = 0;
        json_array_foreach(out, j, a)
        {
            const char *m = json_string_value(json_object_get(a, "Name"));
            if (n && m && strcmp(n, m) == 0)
                kept = 1;
        }
        if (n && !kept)
            json_array_append_new(out, json_pack("{s:s, s:s}", "Name", n, "Value", "disabled"));
    }
    return out;
}

static int cl_update(struct plumb_aws *aws, const json_t *id, const json_t *before,
                     const json_t *after, json_t **observed)
{
    const char *name = plumb_provider_id_str(id, "ClusterName");
    const struct plumb_aws_service *svc;
    const struct plumb_schema_type *t;
    json_t *in = NULL, *out = NULL, *current = NULL, *x = NULL;
    const json_t *v;
    int error = 0;

    *observed = NULL;
    if (!name)
        return plumb_error_set(PLUMB_EINVALID, "cluster id lacks ClusterName");
    PLUMB_TRY(plumb_ecs__ecs_model(&svc, &t, TYPE_NAME));
    if (plumb_provider_changed(before, after, "ClusterSettings") ||
        plumb_provider_changed(before, after, "Configuration")) {
        in = json_pack("{s:s}", "cluster", name);
        PLUMB_ALLOC_CHECK(in);
        if (plumb_provider_changed(before, after, "ClusterSettings")) {
            x = settings_to_send(json_object_get(before, "ClusterSettings"),
                                 json_object_get(after, "ClusterSettings"));
            PLUMB_ALLOC_CHECK(x);
            if (json_array_size(x))
                json_object_set_new(
                    in, "settings",
                    plumb_ecs__api_from_cfn(
                        svc, plumb_ecs__input_member(svc, "UpdateCluster", "settings"), x));
            json_decref(x);
            x = NULL;
        }
        if (plumb_provider_changed(before, after, "Configuration")) {
            if ((v = json_object_get(after, "Configuration")))
                x = json_deep_copy(v);
            else /* ECS's own default: a declaration left out means that */
                x = json_pack("{s:{s:s}}", "ExecuteCommandConfiguration", "Logging", "DEFAULT");
            PLUMB_ALLOC_CHECK(x);
            json_object_set_new(
                in, "configuration",
                plumb_ecs__api_from_cfn(
                    svc, plumb_ecs__input_member(svc, "UpdateCluster", "configuration"), x));
            json_decref(x);
            x = NULL;
        }
        if (json_object_size(in) > 1)
            PLUMB_TRY(plumb_aws_call(aws, "ecs", "UpdateCluster", in, &out));
        json_decref(in);
        json_decref(out);
        in = out = NULL;
    }
    if (plumb_provider_changed(before, after, "CapacityProviders") ||
        plumb_provider_changed(before, after, "DefaultCapacityProviderStrategy")) {
        /* the call replaces both lists: send the whole declared state, [] for none */
        const json_t *cp = json_object_get(after, "CapacityProviders");
        const json_t *st = json_object_get(after, "DefaultCapacityProviderStrategy");
        x = json_array();
        PLUMB_ALLOC_CHECK(x);
        in = json_pack(
            "{s:s, s:o, s:o}", "cluster", name, "capacityProviders",
            plumb_ecs__api_from_cfn(
                svc,
                plumb_ecs__input_member(svc, "PutClusterCapacityProviders", "capacityProviders"),
                cp ? cp : x),
            "defaultCapacityProviderStrategy",
            plumb_ecs__api_from_cfn(svc,
                                    plumb_ecs__input_member(svc, "PutClusterCapacityProviders",
                                                            "defaultCapacityProviderStrategy"),
                                    st ? st : x));
        PLUMB_ALLOC_CHECK(in);
        PLUMB_TRY(plumb_aws_call(aws, "ecs", "PutClusterCapacityProviders", in, &out));
        json_decref(in);
        json_decref(out);
        in = out = NULL;
    }
    if (plumb_ecs__tags_changed(before, after)) {
        PLUMB_TRY(cl_read(aws, id, &current));
        if (!current) {
            error = plumb_error_set(PLUMB_ENOTFOUND, "cluster '%s' does not exist", name);
            goto done;
        }
        PLUMB_TRY(plumb_ecs__update_tags(aws, json_string_value(json_object_get(current, "Arn")),
                                         json_object_get(before, "Tags"),
                                         json_object_get(after, "Tags")));
    }
    PLUMB_TRY(cl_read(aws, id, observed));
    if (!*observed)
        error = plumb_error_set(PLUMB_ENOTFOUND, "cluster '%s' does not exist", name);
done:
    json_decref(in);
    json_decref(out);
    json_decref(x);
    json_decref(current);
    return error;
}

/*
 * The cluster's services that are not deleted, as "a, b" in `names`; how many there are.
 * ListServices names ACTIVE and DRAINING services on AWS; moto lists deleted (INACTIVE)
 * ones too, so their status is read back (DescribeServices, 10 at a time).
 */
static int live_services(struct plumb_aws *aws, const char *cluster, struct plumb_buf *names,
                         size_t *count)
{
    json_t *in = NULL, *out = NULL, *chunk = NULL, *described = NULL;
    const json_t *arns, *s;
    size_t i, j;
    int error = 0;

    *count = 0;
    in = json_pack("{s:s}", "cluster", cluster);
    PLUMB_ALLOC_CHECK(in);
    error = plumb_aws_paginate(aws, "ecs", "ListServices", in, &out);
    if (error == PLUMB_ENOTFOUND) {
        error = 0; /* no cluster, no services */
        goto done;
    }
    if (error < 0)
        goto done;
    arns = json_object_get(out, "serviceArns");
    for (i = 0; i < json_array_size(arns); i += 10) {
        json_decref(chunk);
        chunk = json_array();
        PLUMB_ALLOC_CHECK(chunk);
        for (j = i; j < json_array_size(arns) && j < i + 10; j++)
            json_array_append(chunk, json_array_get(arns, j));
        json_decref(in);
        in = json_pack("{s:s, s:O}", "cluster", cluster, "services", chunk);
        PLUMB_ALLOC_CHECK(in);
        json_decref(described);
        described = NULL;
        PLUMB_TRY(plumb_aws_call(aws, "ecs", "DescribeServices", in, &described));
        json_array_foreach(json_object_get(described, "services"), j, s)
        {
            const char *status = json_string_value(json_object_get(s, "status"));
            if (status && strcmp(status, "INACTIVE") == 0)
                continue;
            if ((*count)++ < 5)
                plumb_buf_printf(names, "%s'%s'", *count > 1 ? ", " : "",
                                 json_string_value(json_object_get(s, "serviceName")));
        }
    }
    if (*count > 5)
        plumb_buf_printf(names, " and %zu more", *count - 5);
done:
    json_decref(in);
    json_decref(out);
    json_decref(chunk);
    json_decref(described);
    return error;
}

static int cl_remove(struct plumb_aws *aws, const json_t *id, unsigned flags)
{
    const char *name = plumb_provider_id_str(id, "ClusterName");
    struct plumb_buf services = PLUMB_BUF_INIT;
    const struct plumb_aws_error_info *e;
    json_t *in = NULL, *out = NULL, *current = NULL;
    size_t n = 0;
    int error = 0;

    (void)flags;
    if (!name)
        return plumb_error_set(PLUMB_EINVALID, "cluster id lacks ClusterName");
    PLUMB_TRY(cl_read(aws, id, &current));
    if (!current)
        goto done; /* gone already */
    PLUMB_TRY(live_services(aws, name, &services, &n));
    if (n) {
        error = plumb_error_set(PLUMB_ECONFLICT,
                                "cluster '%s' still has %zu service%s (%s): delete %s first", name,
                                n, n == 1 ? "" : "s", services.ptr, n == 1 ? "it" : "them");
        goto done;
    }
    in = json_pack("{s:s}", "cluster", name);
    PLUMB_ALLOC_CHECK(in);
    error = plumb_aws_call(aws, "ecs", "DeleteCluster", in, &out);
    if (error == PLUMB_ENOTFOUND) {
        error = 0; /* gone already */
    } else if (error < 0 && (e = plumb_aws_last_error()) &&
               strncmp(e->code, "ClusterContains", 15) == 0) {
        /* services, tasks or container instances appeared since we looked */
        plumb_error_wrap("cluster '%s' is not empty: delete its services, tasks and "
                         "container instances first",
                         name);
    }
done:
    json_decref(in);
    json_decref(out);
    json_decref(current);
    plumb_buf_release(&services);
    return error;
}

/* ---- waiting -------------------------------------------------------------------------- */

struct wait_ctx {
    struct plumb_aws *aws;
    const json_t *id;
    int deleted; /* waiting for it to go, not to be ACTIVE */
};

/* A cluster with capacity providers is PROVISIONING, then ACTIVE (or FAILED); one being
 * deleted is DEPROVISIONING, then INACTIVE. */
static int check_cluster(void *ctx, const char **status)
{
    struct wait_ctx *w = ctx;
    const char *name = plumb_provider_id_str(w->id, "ClusterName");
    json_t *names = json_pack("[s?]", name), *clusters = NULL;
    const json_t *c;
    const char *s;
    int error = 0, done_ = 0;

    PLUMB_ALLOC_CHECK(names);
    PLUMB_TRY(describe(w->aws, names, &clusters));
    c = find_any(clusters, name);
    s = json_string_value(json_object_get(c, "status"));
    *status = NULL;
    if (w->deleted) {
        done_ = !c || is_status(c, "INACTIVE");
    } else if (!c || is_status(c, "INACTIVE")) {
        error = plumb_error_set(PLUMB_ENOTFOUND, "cluster '%s' does not exist", name);
    } else if (is_status(c, "FAILED")) {
        error = plumb_error_set(PLUMB_ERROR, "cluster '%s' failed to provision", name);
    } else {
        done_ = is_status(c, "ACTIVE");
    }
    if (!done_ && s)
        *status = strcmp(s, "PROVISIONING") == 0     ? "provisioning"
                  : strcmp(s, "DEPROVISIONING") == 0 ? "deprovisioning"
                                                     : "waiting";
done:
    json_decref(names);
    json_decref(clusters);
    return error < 0 ? error : done_;
}

static int cl_wait_stable(struct plumb_aws *aws, const json_t *id, struct plumb_progress *p)
{
    struct wait_ctx w = {aws, id, 0};

    return plumb_provider_wait(p, 5000, check_cluster, &w, "the cluster to be ACTIVE");
}

static int cl_wait_deleted(struct plumb_aws *aws, const json_t *id, struct plumb_progress *p)
{
    struct wait_ctx w = {aws, id, 1};

    return plumb_provider_wait(p, 5000, check_cluster, &w, "the cluster to be deleted");
}

const struct plumb_resource_type plumb_driver_ecs_cluster = {
    .type_name = TYPE_NAME,
    .read = cl_read,
    .read_many = cl_read_many,
    .lookup = cl_lookup,
    .create = cl_create,
    .update = cl_update,
    .remove = cl_remove,
    .wait_stable = cl_wait_stable,
    .waits_only = 1,
    .wait_deleted = cl_wait_deleted,
    .found_by_tags = 1,
};
