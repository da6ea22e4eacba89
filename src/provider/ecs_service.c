/*
 * AWS::ECS::Service — ECS services.
 *
 * Identified by ServiceArn and Cluster (the schema's primaryIdentifier); Cluster is kept as
 * the user wrote it (a name or an ARN), so the identifier stays the one the user's
 * references produce. DescribeServices reads up to 10 services of one cluster per call with
 * their tags: read_many groups the ids by cluster and chunks them by 10. A service deleted
 * stays visible as INACTIVE for a while: that reads as gone (DRAINING is still there, being
 * deleted). CreateService under a name in use is refused by AWS while the service is
 * ACTIVE, but moto 5.2.1 silently replaces it: lookup finds the ACTIVE service of that name
 * before the executor creates one.
 *
 * In place, with one UpdateService call carrying only what changed: TaskDefinition,
 * DesiredCount, CapacityProviderStrategy, NetworkConfiguration, LoadBalancers,
 * HealthCheckGracePeriodSeconds, DeploymentConfiguration, DeploymentController,
 * EnableExecuteCommand, EnableECSManagedTags, PropagateTags, PlatformVersion,
 * PlacementConstraints, PlacementStrategies, ServiceRegistries, AvailabilityZoneRebalancing;
 * tags with TagResource/UntagResource. A property no longer declared is put back to ECS's
 * default where it has one (lists emptied, flags off, PropagateTags NONE, the default
 * deployment configuration); TaskDefinition, DesiredCount, NetworkConfiguration and
 * HealthCheckGracePeriodSeconds have none and stay as they are. UpdateService cannot change
 * LaunchType: that is refused with a message rather than ignored. A replica service created
 * without DesiredCount gets 1, as CloudFormation does.
 *
 * What the API does not return is left out of what read reports: moto 5.2.1 does not keep
 * DeploymentConfiguration, HealthCheckGracePeriodSeconds, EnableExecuteCommand,
 * EnableECSManagedTags, PlacementConstraints/Strategies, CapacityProviderStrategy or
 * AvailabilityZoneRebalancing at creation (it does after UpdateService), so they are
 * unknown there rather than drift.
 *
 * wait_stable follows the SDK's ServicesStable waiter (one deployment, runningCount ==
 * desiredCount) and fails as soon as the primary deployment's rolloutState is FAILED (the
 * deployment circuit breaker), with its reason. remove scales the service to 0 first, then
 * deletes it with force; wait_deleted waits for INACTIVE.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/model.h"
#include "provider/ecs_common.h"
#include "provider/provider.h"
#include "provider/util.h"
#include "schema/schema.h"
#include "util/error.h"
#include "util/sys.h"

#define TYPE_NAME "AWS::ECS::Service"
/* DescribeServices takes at most 10 services (of one cluster) per call. */
#define DESCRIBE_CHUNK 10

/* ---- the driver ----------------------------------------------------------------------- */

/* Properties read back from a Service, and sent by CreateService. */
static const struct field fields[] = {
    {"ServiceName", "serviceName"},
    {"Name", "serviceName"},
    {"ServiceArn", "serviceArn"},
    {"TaskDefinition", "taskDefinition"},
    {"DesiredCount", "desiredCount"},
    {"LaunchType", "launchType"},
    {"CapacityProviderStrategy", "capacityProviderStrategy"},
    {"NetworkConfiguration", "networkConfiguration"},
    {"LoadBalancers", "loadBalancers"},
    {"HealthCheckGracePeriodSeconds", "healthCheckGracePeriodSeconds"},
    {"DeploymentConfiguration", "deploymentConfiguration"},
    {"DeploymentController", "deploymentController"},
    {"EnableExecuteCommand", "enableExecuteCommand"},
    {"EnableECSManagedTags", "enableECSManagedTags"},
    {"PropagateTags", "propagateTags"},
    {"PlatformVersion", "platformVersion"},
    {"PlacementConstraints", "placementConstraints"},
    {"PlacementStrategies", "placementStrategy"},
    {"SchedulingStrategy", "schedulingStrategy"},
    {"ServiceRegistries", "serviceRegistries"},
    {"AvailabilityZoneRebalancing", "availabilityZoneRebalancing"},
    {NULL, NULL},
};

/* What UpdateService changes, and the value that stands for "no longer declared" (CloudFormation
 * shape, JSON text), or NULL when there is none to send. */
static const struct updatable {
    const char *cfn, *api, *unset;
} updatable[] = {
    {"TaskDefinition", "taskDefinition", NULL},
    {"DesiredCount", "desiredCount", NULL},
    {"CapacityProviderStrategy", "capacityProviderStrategy", "[]"},
    {"NetworkConfiguration", "networkConfiguration", NULL},
    {"LoadBalancers", "loadBalancers", "[]"},
    /* AWS refuses a grace period on a service without load balancers: nothing to send */
    {"HealthCheckGracePeriodSeconds", "healthCheckGracePeriodSeconds", NULL},
    {"DeploymentConfiguration", "deploymentConfiguration",
     "{\"MaximumPercent\": 200, \"MinimumHealthyPercent\": 100, \"DeploymentCircuitBreaker\": "
     "{\"Enable\": false, \"Rollback\": false}}"},
    {"DeploymentController", "deploymentController", "{\"Type\": \"ECS\"}"},
    {"EnableExecuteCommand", "enableExecuteCommand", "false"},
    {"EnableECSManagedTags", "enableECSManagedTags", "false"},
    {"PropagateTags", "propagateTags", "\"NONE\""},
    {"PlatformVersion", "platformVersion", "\"LATEST\""},
    {"PlacementConstraints", "placementConstraints", "[]"},
    {"PlacementStrategies", "placementStrategy", "[]"},
    {"ServiceRegistries", "serviceRegistries", "[]"},
    {"AvailabilityZoneRebalancing", "availabilityZoneRebalancing", "\"ENABLED\""},
    {NULL, NULL, NULL},
};

/* 1 when `cluster` (a name or an ARN, NULL for the default cluster) names the cluster whose
 * ARN is `arn`. */
static int same_cluster(const char *cluster, const char *arn)
{
    if (!arn)
        return 0;
    if (!cluster)
        return strcmp(plumb_ecs__base_name(arn), "default") == 0;
    return strcmp(cluster, arn) == 0 ||
           strcmp(plumb_ecs__base_name(cluster), plumb_ecs__base_name(arn)) == 0;
}

/*
 * A DescribeServices entry → the CloudFormation shape. Cluster is `cluster` (the spelling of
 * the identifier) when it names the service's cluster, else the cluster's ARN.
 */
static int observe(const json_t *svc_obj, const char *cluster, json_t **out)
{
    const struct plumb_aws_service *svc;
    const struct plumb_schema_type *t;
    const char *arn = json_string_value(json_object_get(svc_obj, "clusterArn"));
    json_t *o = NULL, *tags = NULL;
    int error = 0;

    *out = NULL;
    PLUMB_TRY(plumb_ecs__ecs_model(&svc, &t, TYPE_NAME));
    o = json_object();
    PLUMB_ALLOC_CHECK(o);
    plumb_ecs__fields_from_api(o, t, fields, svc_obj);
    if (cluster && same_cluster(cluster, arn))
        json_object_set_new(o, "Cluster", json_string(cluster));
    else if (arn)
        json_object_set_new(o, "Cluster", json_string(arn));
    /* asked with include TAGS: no "tags" member means no tags */
    tags = plumb_provider_tags_to_map(json_object_get(svc_obj, "tags"));
    PLUMB_ALLOC_CHECK(tags);
    json_object_set_new(o, "Tags", plumb_provider_tags_to_list(tags, "Key", "Value"));
    *out = o;
    o = NULL;
done:
    json_decref(o);
    json_decref(tags);
    return error;
}

/*
 * DescribeServices of `services` (names or ARNs, at most DESCRIBE_CHUNK) in `cluster` (NULL:
 * the default cluster): the services AWS returned; [] when the cluster does not exist.
 */
static int describe(struct plumb_aws *aws, const char *cluster, const json_t *services,
                    json_t **found)
{
    json_t *in, *out = NULL;
    int error = 0;

    *found = NULL;
    in = json_pack("{s:O, s:[s]}", "services", services, "include", "TAGS");
    PLUMB_ALLOC_CHECK(in);
    if (cluster)
        json_object_set_new(in, "cluster", json_string(cluster));
    error = plumb_aws_call(aws, "ecs", "DescribeServices", in, &out);
    if (error == PLUMB_ENOTFOUND) /* ClusterNotFoundException: no cluster, no services */
        error = 0;
    if (error < 0)
        goto done;
    *found = json_incref(json_object_get(out, "services"));
    if (!*found)
        *found = json_array();
done:
    json_decref(in);
    json_decref(out);
    return error;
}

static int is_status(const json_t *x, const char *status)
{
    const char *s = json_string_value(json_object_get(x, "status"));

    return s && strcmp(s, status) == 0;
}

/* The service `arn_or_name` in `services`, whatever its status. */
static const json_t *find_any(const json_t *services, const char *arn_or_name)
{
    const json_t *s;
    size_t i;

    if (!arn_or_name)
        return NULL;
    json_array_foreach(services, i, s)
    {
        const char *arn = json_string_value(json_object_get(s, "serviceArn"));
        const char *name = json_string_value(json_object_get(s, "serviceName"));
        if ((arn && strcmp(arn, arn_or_name) == 0) ||
            (name && strcmp(name, plumb_ecs__base_name(arn_or_name)) == 0))
            return s;
    }
    return NULL;
}

/* The service if it exists: INACTIVE ones are deleted services AWS still shows. */
static const json_t *find_service(const json_t *services, const char *arn_or_name)
{
    const json_t *s = find_any(services, arn_or_name);

    return s && !is_status(s, "INACTIVE") ? s : NULL;
}

/* The service of `id` as DescribeServices returns it (any status), or NULL. */
static int describe_one(struct plumb_aws *aws, const json_t *id, json_t **found)
{
    const char *arn = plumb_provider_id_str(id, "ServiceArn");
    json_t *names = NULL, *services = NULL;
    int error = 0;

    *found = NULL;
    if (!arn)
        return plumb_error_set(PLUMB_EINVALID, "service id lacks ServiceArn");
    names = json_pack("[s]", arn);
    PLUMB_ALLOC_CHECK(names);
    PLUMB_TRY(describe(aws, plumb_provider_id_str(id, "Cluster"), names, &services));
    *found = json_incref((json_t *)find_any(services, arn));
done:
    json_decref(names);
    json_decref(services);
    return error;
}

static int svc_read(struct plumb_aws *aws, const json_t *id, json_t **observed)
{
    json_t *s = NULL;
    int error = 0;

    *observed = NULL;
    PLUMB_TRY(describe_one(aws, id, &s));
    if (s && !is_status(s, "INACTIVE"))
        error = observe(s, plumb_provider_id_str(id, "Cluster"), observed);
done:
    json_decref(s);
    return error;
}

/* Ids grouped by cluster, chunks of 10: one DescribeServices per chunk. */
static int svc_read_many(struct plumb_aws *aws, const json_t *ids, const json_t *wanted,
                         json_t **observed)
{
    json_t *out = json_array(), *done_ = json_array(), *chunk = NULL, *found = NULL, *o;
    const json_t *id, *other, *s;
    size_t i, j;
    int error = 0;

    *observed = NULL;
    PLUMB_ALLOC_CHECK(out && done_);
    for (i = 0; i < json_array_size(ids); i++) {
        json_array_append_new(out, json_null());
        json_array_append_new(done_, json_false());
    }
    for (i = 0; i < json_array_size(ids); i++) {
        const char *cluster;
        size_t members[DESCRIBE_CHUNK], n = 0;

        if (json_is_true(json_array_get(done_, i)))
            continue;
        id = json_array_get(ids, i);
        cluster = plumb_provider_id_str(id, "Cluster");
        json_decref(chunk);
        chunk = json_array();
        PLUMB_ALLOC_CHECK(chunk);
        /* this id and the next ones of the same cluster, up to the API's limit */
        for (j = i; j < json_array_size(ids) && n < DESCRIBE_CHUNK; j++) {
            const char *c2, *arn;
            other = json_array_get(ids, j);
            c2 = plumb_provider_id_str(other, "Cluster");
            arn = plumb_provider_id_str(other, "ServiceArn");
            if (json_is_true(json_array_get(done_, j)) ||
                !((!cluster && !c2) || (cluster && c2 && strcmp(cluster, c2) == 0)))
                continue;
            json_array_set_new(done_, j, json_true());
            if (!arn)
                continue;
            json_array_append_new(chunk, json_string(arn));
            members[n++] = j;
        }
        if (!n)
            continue;
        json_decref(found);
        found = NULL;
        PLUMB_TRY(describe(aws, cluster, chunk, &found));
        for (j = 0; j < n; j++) {
            o = NULL;
            other = json_array_get(ids, members[j]);
            if ((s = find_service(found, plumb_provider_id_str(other, "ServiceArn"))))
                PLUMB_TRY(observe(s, cluster, &o));
            if (o)
                json_array_set_new(out, members[j], o);
        }
    }
    *observed = out;
    out = NULL;
done:
    json_decref(out);
    json_decref(done_);
    json_decref(chunk);
    json_decref(found);
    return error;
}

/* The ACTIVE service of props' ServiceName in props' Cluster: DRAINING ones are being
 * deleted, INACTIVE ones are gone. */
static int svc_lookup(struct plumb_aws *aws, const json_t *props, json_t **id)
{
    const char *name = json_string_value(json_object_get(props, "ServiceName"));
    const char *cluster = json_string_value(json_object_get(props, "Cluster"));
    json_t *names = NULL, *services = NULL;
    const json_t *s;
    int error = 0;

    *id = NULL;
    if (!name)
        return 0;
    names = json_pack("[s]", name);
    PLUMB_ALLOC_CHECK(names);
    PLUMB_TRY(describe(aws, cluster, names, &services));
    s = find_any(services, name);
    if (s && is_status(s, "ACTIVE")) {
        *id = json_pack("{s:O, s:s?}", "ServiceArn", json_object_get(s, "serviceArn"), "Cluster",
                        cluster ? cluster : json_string_value(json_object_get(s, "clusterArn")));
        PLUMB_ALLOC_CHECK(*id);
    }
done:
    json_decref(names);
    json_decref(services);
    return error;
}

static int svc_create(struct plumb_aws *aws, const json_t *props, json_t **observed)
{
    const char *name = json_string_value(json_object_get(props, "ServiceName"));
    const char *cluster = json_string_value(json_object_get(props, "Cluster"));
    const struct plumb_aws_service *svc;
    const struct plumb_schema_type *t;
    json_t *in = NULL, *out = NULL, *tags = NULL, *id = NULL;
    const json_t *made;
    int error = 0;

    *observed = NULL;
    if (!name)
        return plumb_error_set(PLUMB_EINVALID, "a service needs ServiceName");
    PLUMB_TRY(plumb_ecs__ecs_model(&svc, &t, TYPE_NAME));
    in = json_object();
    PLUMB_ALLOC_CHECK(in);
    plumb_ecs__fields_to_api(in, svc, "CreateService", fields, props);
    /* CloudFormation starts a replica service with one task when DesiredCount is left out */
    if (!json_object_get(in, "desiredCount") &&
        !(json_is_string(json_object_get(in, "schedulingStrategy")) &&
          strcmp(json_string_value(json_object_get(in, "schedulingStrategy")), "DAEMON") == 0))
        json_object_set_new(in, "desiredCount", json_integer(1));
    if (cluster)
        json_object_set_new(in, "cluster", json_string(cluster));
    tags = plumb_ecs__ecs_tags(json_object_get(props, "Tags"));
    if (json_array_size(tags))
        json_object_set(in, "tags", tags);
    /* ECS's idempotency token (the model does not mark it, so the client does not fill it):
     * the client may then resend CreateService after a lost answer, and AWS answers a resend
     * with the service the first one made instead of refusing the name. */
    {
        char token[33];
        snprintf(token, sizeof(token), "%016" PRIx64 "%016" PRIx64, plumb_random_u64(),
                 plumb_random_u64());
        json_object_set_new(in, "clientToken", json_string(token));
    }
    /* one call: nothing half-made to clean up when it fails */
    PLUMB_TRY(plumb_aws_call(aws, "ecs", "CreateService", in, &out));
    made = json_object_get(out, "service");
    id = json_pack("{s:O?, s:s?}", "ServiceArn", json_object_get(made, "serviceArn"), "Cluster",
                   cluster ? cluster : json_string_value(json_object_get(made, "clusterArn")));
    PLUMB_ALLOC_CHECK(id);
    PLUMB_TRY(svc_read(aws, id, observed));
    if (!*observed)
        error =
            plumb_error_set(PLUMB_ERROR, "service '%s' was created but cannot be read back", name);
done:
    json_decref(in);
    json_decref(out);
    json_decref(tags);
    json_decref(id);
    return error;
}

static int svc_update(struct plumb_aws *aws, const json_t *id, const json_t *before,
                      const json_t *after, json_t **observed)
{
    const char *arn = plumb_provider_id_str(id, "ServiceArn");
    const char *cluster = plumb_provider_id_str(id, "Cluster");
    const struct plumb_aws_service *svc;
    const struct plumb_schema_type *t;
    const struct updatable *u;
    json_t *in = NULL, *out = NULL, *unset = NULL;
    const json_t *v;
    int error = 0;

    *observed = NULL;
    if (!arn)
        return plumb_error_set(PLUMB_EINVALID, "service id lacks ServiceArn");
    PLUMB_TRY(plumb_ecs__ecs_model(&svc, &t, TYPE_NAME));
    if (plumb_provider_changed(before, after, "LaunchType")) {
        error = plumb_error_set(PLUMB_EINVALID,
                                "the launch type of service '%s' cannot change in place "
                                "(UpdateService has no launchType): use "
                                "CapacityProviderStrategy, or a new ServiceName to replace it",
                                plumb_ecs__base_name(arn));
        goto done;
    }
    in = json_pack("{s:s}", "service", arn);
    PLUMB_ALLOC_CHECK(in);
    if (cluster)
        json_object_set_new(in, "cluster", json_string(cluster));
    for (u = updatable; u->cfn; u++) {
        if (!plumb_provider_changed(before, after, u->cfn))
            continue;
        v = json_object_get(after, u->cfn);
        if (!v && u->unset) {
            json_decref(unset);
            v = unset = json_loads(u->unset, JSON_DECODE_ANY, NULL);
        }
        if (v)
            json_object_set_new(in, u->api,
                                plumb_ecs__api_from_cfn(
                                    svc, plumb_ecs__input_member(svc, "UpdateService", u->api), v));
    }
    /* service and cluster alone: nothing to change but tags */
    if (json_object_size(in) > (cluster ? 2u : 1u))
        PLUMB_TRY(plumb_aws_call(aws, "ecs", "UpdateService", in, &out));
    if (plumb_ecs__tags_changed(before, after))
        PLUMB_TRY(plumb_ecs__update_tags(aws, arn, json_object_get(before, "Tags"),
                                         json_object_get(after, "Tags")));
    PLUMB_TRY(svc_read(aws, id, observed));
    if (!*observed)
        error = plumb_error_set(PLUMB_ENOTFOUND, "service '%s' does not exist",
                                plumb_ecs__base_name(arn));
done:
    json_decref(in);
    json_decref(out);
    json_decref(unset);
    return error;
}

/* An error of a service that is gone: not found, or deleted (ServiceNotActiveException). */
static int gone_error(int error)
{
    const struct plumb_aws_error_info *e = plumb_aws_last_error();

    return error == PLUMB_ENOTFOUND ||
           (error < 0 && e && strcmp(e->code, "ServiceNotActiveException") == 0);
}

static int svc_remove(struct plumb_aws *aws, const json_t *id, unsigned flags)
{
    const char *arn = plumb_provider_id_str(id, "ServiceArn");
    const char *cluster = plumb_provider_id_str(id, "Cluster");
    json_t *current = NULL, *in = NULL, *out = NULL;
    int error = 0;

    (void)flags;
    PLUMB_TRY(describe_one(aws, id, &current));
    if (!current || is_status(current, "INACTIVE"))
        goto done; /* gone already */
    /* AWS wants a replica service scaled to zero before it is deleted; daemon services have
     * no desired count to set */
    if (json_integer_value(json_object_get(current, "desiredCount")) > 0 &&
        !(json_is_string(json_object_get(current, "schedulingStrategy")) &&
          strcmp(json_string_value(json_object_get(current, "schedulingStrategy")), "DAEMON") ==
              0) &&
        is_status(current, "ACTIVE")) {
        in = json_pack("{s:s, s:i}", "service", arn, "desiredCount", 0);
        PLUMB_ALLOC_CHECK(in);
        if (cluster)
            json_object_set_new(in, "cluster", json_string(cluster));
        error = plumb_aws_call(aws, "ecs", "UpdateService", in, &out);
        if (gone_error(error)) {
            error = 0;
            goto done;
        }
        if (error < 0)
            goto done;
        json_decref(in);
        json_decref(out);
        in = out = NULL;
    }
    /* force: tasks still stopping do not hold the delete back */
    in = json_pack("{s:s, s:b}", "service", arn, "force", 1);
    PLUMB_ALLOC_CHECK(in);
    if (cluster)
        json_object_set_new(in, "cluster", json_string(cluster));
    error = plumb_aws_call(aws, "ecs", "DeleteService", in, &out);
    if (gone_error(error))
        error = 0;
done:
    json_decref(current);
    json_decref(in);
    json_decref(out);
    return error;
}

/* ---- waiting -------------------------------------------------------------------------- */

struct wait_ctx {
    struct plumb_aws *aws;
    const json_t *id;
    int deleted;     /* waiting for it to go, not to be steady */
    char status[96]; /* what report() shows */
};

/* The PRIMARY deployment of a service, or NULL. */
static const json_t *primary_deployment(const json_t *service)
{
    const json_t *d;
    size_t i;

    json_array_foreach(json_object_get(service, "deployments"), i, d)
    {
        if (is_status(d, "PRIMARY"))
            return d;
    }
    return NULL;
}

/*
 * Steady as the SDK's ServicesStable waiter has it: exactly one deployment (services whose
 * deployments another controller runs have none to count) and runningCount == desiredCount.
 * A FAILED rollout of the primary deployment (the circuit breaker tripped) fails the wait.
 */
static int check_service(void *ctx, const char **status)
{
    struct wait_ctx *w = ctx;
    const char *arn = plumb_provider_id_str(w->id, "ServiceArn");
    const json_t *d, *ctl;
    const char *rollout, *type;
    json_t *s = NULL;
    json_int_t running, desired;
    int error = 0, done_ = 0;
    size_t ndeps;

    *status = NULL;
    PLUMB_TRY(describe_one(w->aws, w->id, &s));
    if (w->deleted) {
        done_ = !s || is_status(s, "INACTIVE");
        if (!done_)
            *status = "draining";
        goto done;
    }
    if (!s || is_status(s, "INACTIVE")) {
        error = plumb_error_set(PLUMB_ENOTFOUND, "service '%s' does not exist",
                                plumb_ecs__base_name(arn));
        goto done;
    }
    if (is_status(s, "DRAINING")) {
        error = plumb_error_set(PLUMB_ERROR, "service '%s' is being deleted",
                                plumb_ecs__base_name(arn));
        goto done;
    }
    d = primary_deployment(s);
    rollout = json_string_value(json_object_get(d, "rolloutState"));
    if (rollout && strcmp(rollout, "FAILED") == 0) {
        const char *why = json_string_value(json_object_get(d, "rolloutStateReason"));
        error = plumb_error_set(PLUMB_ERROR, "deployment of service '%s' failed: %s",
                                plumb_ecs__base_name(arn), why ? why : "rollout state FAILED");
        goto done;
    }
    running = json_integer_value(json_object_get(s, "runningCount"));
    desired = json_integer_value(json_object_get(s, "desiredCount"));
    ndeps = json_array_size(json_object_get(s, "deployments"));
    ctl = json_object_get(s, "deploymentController");
    type = json_string_value(json_object_get(ctl, "type"));
    done_ = running == desired && (ndeps == 1 || (ndeps == 0 && type && strcmp(type, "ECS") != 0));
    if (!done_) {
        snprintf(w->status, sizeof(w->status),
                 "%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT " tasks running%s", running,
                 desired, ndeps > 1 ? ", deployment in progress" : "");
        *status = w->status;
    }
done:
    json_decref(s);
    return error < 0 ? error : done_;
}

static int svc_wait_stable(struct plumb_aws *aws, const json_t *id, struct plumb_progress *p)
{
    struct wait_ctx w = {aws, id, 0, ""};

    /* 15 s between describes, as the SDK's waiter */
    return plumb_provider_wait(p, 15000, check_service, &w, "the service to be steady");
}

static int svc_wait_deleted(struct plumb_aws *aws, const json_t *id, struct plumb_progress *p)
{
    struct wait_ctx w = {aws, id, 1, ""};

    return plumb_provider_wait(p, 15000, check_service, &w, "the service to be deleted");
}

const struct plumb_resource_type plumb_driver_ecs_service = {
    .type_name = TYPE_NAME,
    .read = svc_read,
    .read_many = svc_read_many,
    .lookup = svc_lookup,
    .create = svc_create,
    .update = svc_update,
    .remove = svc_remove,
    .wait_stable = svc_wait_stable,
    .wait_deleted = svc_wait_deleted,
    .found_by_tags = 1,
};
