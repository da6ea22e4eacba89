/*
 * AWS::ECS::TaskDefinition — ECS task definition revisions.
 *
 * A revision is immutable: every property but Tags is create-only, so a change is a
 * replacement (a new revision registered, the old one deregistered); update only retags.
 * Identified by TaskDefinitionArn ("...:task-definition/family:3"). There is no batched read
 * (DescribeTaskDefinition takes one revision), so no read_many: refresh reads one by one.
 *
 * Gone: a revision that DescribeTaskDefinition does not know, or that is INACTIVE
 * (deregistered) or DELETE_IN_PROGRESS — neither can be used again. remove deregisters the
 * revision, then asks DeleteTaskDefinitions to delete it; the second step is housekeeping
 * (an INACTIVE revision already reads as gone), so its failure does not fail the remove.
 *
 * lookup adopts what an interrupted apply registered: the latest ACTIVE revision of the
 * Family (DescribeTaskDefinition of the bare family), if it carries the same plumb:address
 * tag as props (or, when props carry none, no plumb:address at all) and its properties match
 * what is declared. moto 5.2.1 answers the bare family with the latest revision even when it
 * is INACTIVE, and ignores ListTaskDefinitions' sort: the driver then lists the ACTIVE ones
 * and takes the highest revision itself, which is also right on AWS.
 *
 * Normalisation (what ECS fills in that a user would not declare, reported the same whether
 * the API echoes it or not — moto 5.2.1 omits some, AWS fills them in):
 *   - Cpu and Memory in the units DescribeTaskDefinition uses: "1 vCPU" is "1024",
 *     "0.5 GB" is "512" (AWS accepts both forms; normalize() does the same to declarations);
 *   - a container without Essential is essential (true);
 *   - a port mapping without Protocol is "tcp", and in awsvpc and host network modes one
 *     without HostPort has HostPort = ContainerPort, as AWS sets it.
 * Other members AWS adds (Cpu 0, empty Environment/MountPoints/VolumesFrom lists) are
 * reported as AWS returns them; the planner compares only what is declared inside each
 * container. Container members outside the schema (versionConsistency, ...) are dropped.
 */
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

#define TYPE_NAME "AWS::ECS::TaskDefinition"

/* ---- the driver ----------------------------------------------------------------------- */

static const struct field fields[] = {
    {"TaskDefinitionArn", "taskDefinitionArn"},
    {"Family", "family"},
    {"ContainerDefinitions", "containerDefinitions"},
    {"Cpu", "cpu"},
    {"Memory", "memory"},
    {"EphemeralStorage", "ephemeralStorage"},
    {"ExecutionRoleArn", "executionRoleArn"},
    {"TaskRoleArn", "taskRoleArn"},
    {"IpcMode", "ipcMode"},
    {"PidMode", "pidMode"},
    {"NetworkMode", "networkMode"},
    {"PlacementConstraints", "placementConstraints"},
    {"RequiresCompatibilities", "requiresCompatibilities"},
    {"RuntimePlatform", "runtimePlatform"},
    {"Volumes", "volumes"},
    {NULL, NULL},
};

/*
 * Task-level Cpu or Memory in the unit DescribeTaskDefinition reports: "1 vCPU" (any case,
 * space optional) → "1024" CPU units; "2 GB" → "2048" MiB. Anything else as it is.
 */
static json_t *in_units(const json_t *v, const char *unit)
{
    const char *s = json_string_value(v);
    char *end, text[32];
    double n;

    if (!s)
        return json_deep_copy(v);
    n = strtod(s, &end);
    if (end == s)
        return json_deep_copy(v);
    while (*end == ' ')
        end++;
    /* whole units only: "0.3 vCPU" is not a number of CPU units, AWS refuses it */
    if (strcasecmp(end, unit) != 0 || n <= 0 || n > 1e6 || n * 1024 != (double)(long)(n * 1024))
        return json_deep_copy(v);
    snprintf(text, sizeof(text), "%ld", (long)(n * 1024));
    return json_string(text);
}

/* Cpu and Memory of `o` (CloudFormation shape) in DescribeTaskDefinition's units. */
static void normalize_units(json_t *o)
{
    const json_t *v;

    if ((v = json_object_get(o, "Cpu")))
        json_object_set_new(o, "Cpu", in_units(v, "vcpu"));
    if ((v = json_object_get(o, "Memory")))
        json_object_set_new(o, "Memory", in_units(v, "gb"));
}

/* The defaults ECS fills in a container, for a task in network mode `mode`. */
static void container_defaults(json_t *c, const char *mode)
{
    int host_is_container = mode && (strcmp(mode, "awsvpc") == 0 || strcmp(mode, "host") == 0);
    json_t *pm;
    size_t i;

    if (!json_object_get(c, "Essential"))
        json_object_set_new(c, "Essential", json_true());
    json_array_foreach(json_object_get(c, "PortMappings"), i, pm)
    {
        if (!json_object_get(pm, "Protocol"))
            json_object_set_new(pm, "Protocol", json_string("tcp"));
        if (host_is_container && !json_object_get(pm, "HostPort") &&
            json_object_get(pm, "ContainerPort"))
            json_object_set(pm, "HostPort", json_object_get(pm, "ContainerPort"));
    }
}

/* A TaskDefinition (and its tags) → the CloudFormation shape. */
static int observe(const json_t *td, const json_t *tags, json_t **out)
{
    const struct plumb_aws_service *svc;
    const struct plumb_schema_type *t;
    json_t *o = NULL, *map = NULL, *c;
    size_t i;
    int error = 0;

    *out = NULL;
    PLUMB_TRY(plumb_ecs__ecs_model(&svc, &t, TYPE_NAME));
    o = json_object();
    PLUMB_ALLOC_CHECK(o);
    plumb_ecs__fields_from_api(o, t, fields, td);
    normalize_units(o);
    json_array_foreach(json_object_get(o, "ContainerDefinitions"), i, c)
        container_defaults(c, json_string_value(json_object_get(o, "NetworkMode")));
    map = plumb_provider_tags_to_map(tags);
    PLUMB_ALLOC_CHECK(map);
    json_object_set_new(o, "Tags", plumb_provider_tags_to_list(map, "Key", "Value"));
    *out = o;
    o = NULL;
done:
    json_decref(o);
    json_decref(map);
    return error;
}

/* 1 when the last failed call said the task definition does not exist: ECS answers
 * ClientException "Unable to describe task definition." (moto too). */
static int missing_error(int error)
{
    const struct plumb_aws_error_info *e = plumb_aws_last_error();

    if (error == PLUMB_ENOTFOUND)
        return 1;
    return error < 0 && e && strcmp(e->code, "ClientException") == 0 &&
           (strcasestr(e->message, "unable to describe task definition") ||
            strcasestr(e->message, "does not exist"));
}

/* DescribeTaskDefinition of `which` (an ARN, family:revision or a bare family) with its
 * tags: *out = {"taskDefinition": ..., "tags": [...]} whatever its status, NULL when ECS
 * does not know it. */
static int describe(struct plumb_aws *aws, const char *which, json_t **out)
{
    json_t *in = json_pack("{s:s, s:[s]}", "taskDefinition", which, "include", "TAGS");
    int error = 0;

    *out = NULL;
    PLUMB_ALLOC_CHECK(in);
    error = plumb_aws_call(aws, "ecs", "DescribeTaskDefinition", in, out);
    if (missing_error(error)) {
        plumb_error_clear();
        error = 0;
        json_decref(*out);
        *out = NULL;
    }
done:
    json_decref(in);
    return error;
}

static int is_active(const json_t *described)
{
    const char *s =
        json_string_value(json_object_get(json_object_get(described, "taskDefinition"), "status"));

    return s && strcmp(s, "ACTIVE") == 0;
}

static int td_read(struct plumb_aws *aws, const json_t *id, json_t **observed)
{
    const char *arn = plumb_provider_id_str(id, "TaskDefinitionArn");
    json_t *d = NULL;
    int error = 0;

    *observed = NULL;
    if (!arn)
        return plumb_error_set(PLUMB_EINVALID, "task definition id lacks TaskDefinitionArn");
    PLUMB_TRY(describe(aws, arn, &d));
    /* INACTIVE (deregistered) and DELETE_IN_PROGRESS revisions cannot be used: gone */
    if (d && is_active(d))
        error = observe(json_object_get(d, "taskDefinition"), json_object_get(d, "tags"), observed);
done:
    json_decref(d);
    return error;
}

/* The revision number at the end of a task definition ARN, or -1. */
static long revision_of(const char *arn)
{
    const char *colon = arn ? strrchr(arn, ':') : NULL;
    char *end;
    long n;

    if (!colon)
        return -1;
    n = strtol(colon + 1, &end, 10);
    return *end ? -1 : n;
}

/* 1 when the task definition ARN `arn` ("...:task-definition/web:3") is of `family`. */
static int family_is(const char *arn, const char *family)
{
    const char *b = plumb_ecs__base_name(arn), *colon = b ? strrchr(b, ':') : NULL;

    return colon && (size_t)(colon - b) == strlen(family) &&
           strncmp(b, family, strlen(family)) == 0;
}

/* The latest ACTIVE revision of `family`, described, or NULL. */
static int latest_active(struct plumb_aws *aws, const char *family, json_t **out)
{
    json_t *in = NULL, *list = NULL;
    const json_t *a;
    const char *best = NULL;
    size_t i;
    int error = 0;

    *out = NULL;
    PLUMB_TRY(describe(aws, family, out));
    if (!*out || is_active(*out))
        goto done;
    /* moto answered with a revision that is not ACTIVE; AWS never does: list them */
    json_decref(*out);
    *out = NULL;
    in = json_pack("{s:s, s:s, s:s}", "familyPrefix", family, "status", "ACTIVE", "sort", "DESC");
    PLUMB_ALLOC_CHECK(in);
    PLUMB_TRY(plumb_aws_paginate(aws, "ecs", "ListTaskDefinitions", in, &list));
    json_array_foreach(json_object_get(list, "taskDefinitionArns"), i, a)
    {
        const char *arn = json_string_value(a);
        if (family_is(arn, family) && revision_of(arn) > revision_of(best))
            best = arn;
    }
    if (best) {
        PLUMB_TRY(describe(aws, best, out));
        if (*out && !is_active(*out)) {
            json_decref(*out);
            *out = NULL;
        }
    }
done:
    json_decref(in);
    json_decref(list);
    return error;
}

/* 1 when scalars are equal, numbers and their text alike (CloudFormation lets "8000" stand
 * for 8000). */
static int same_scalar(const json_t *a, const json_t *b)
{
    char ta[64], tb[64];

    if (json_equal(a, b))
        return 1;
    if (!((json_is_string(a) || json_is_integer(a)) && (json_is_string(b) || json_is_integer(b))))
        return 0;
    if (json_is_string(a))
        snprintf(ta, sizeof(ta), "%s", json_string_value(a));
    else
        snprintf(ta, sizeof(ta), "%" JSON_INTEGER_FORMAT, json_integer_value(a));
    if (json_is_string(b))
        snprintf(tb, sizeof(tb), "%s", json_string_value(b));
    else
        snprintf(tb, sizeof(tb), "%" JSON_INTEGER_FORMAT, json_integer_value(b));
    return strcmp(ta, tb) == 0;
}

/*
 * Does what exists (`have`) hold what is declared (`want`)? Objects: every declared member
 * (members ECS adds do not matter); arrays: as many items, each declared one matching a
 * distinct existing one in any order; an empty list or map matches its absence.
 */
static int holds(const json_t *want, const json_t *have)
{
    const char *k;
    json_t *v;
    size_t i, j, n;
    int ok = 1;

    if (!have)
        return (json_is_array(want) && !json_array_size(want)) ||
               (json_is_object(want) && !json_object_size(want));
    if (json_is_object(want)) {
        if (!json_is_object(have))
            return 0;
        json_object_foreach((json_t *)want, k, v)
        {
            if (!holds(v, json_object_get(have, k)))
                return 0;
        }
        return 1;
    }
    if (json_is_array(want)) {
        unsigned char *used;
        n = json_array_size(want);
        if (!json_is_array(have) || json_array_size(have) != n)
            return 0;
        used = calloc(n ? n : 1, 1);
        if (!used)
            return 0;
        for (i = 0; ok && i < n; i++) {
            int found = 0;
            for (j = 0; j < n && !found; j++)
                if (!used[j] && holds(json_array_get(want, i), json_array_get(have, j)))
                    used[j] = 1, found = 1;
            ok = found;
        }
        free(used);
        return ok;
    }
    return same_scalar(want, have);
}

/* The value of tag `key` in a schema-shaped tag list, or NULL. */
static const char *tag_value(const json_t *tags, const char *key)
{
    const json_t *t;
    size_t i;

    json_array_foreach(tags, i, t)
    {
        const char *k = json_string_value(json_object_get(t, "Key"));
        if (k && strcmp(k, key) == 0)
            return json_string_value(json_object_get(t, "Value"));
    }
    return NULL;
}

static json_t *td_normalize(const json_t *props);

static int td_lookup(struct plumb_aws *aws, const json_t *props, json_t **id)
{
    const char *family = json_string_value(json_object_get(props, "Family"));
    const char *want_addr, *have_addr, *k;
    json_t *d = NULL, *observed = NULL, *want = NULL, *v;
    int error = 0;

    *id = NULL;
    if (!family)
        return 0; /* AWS names nothing here without a family */
    PLUMB_TRY(latest_active(aws, family, &d));
    if (!d)
        goto done;
    PLUMB_TRY(observe(json_object_get(d, "taskDefinition"), json_object_get(d, "tags"), &observed));
    /* ours only: the same plumb:address, or none on either side */
    want_addr = tag_value(json_object_get(props, "Tags"), "plumb:address");
    have_addr = tag_value(json_object_get(observed, "Tags"), "plumb:address");
    if (want_addr ? !have_addr || strcmp(want_addr, have_addr) != 0 : have_addr != NULL)
        goto done;
    /* and what it registered is what is declared now (a changed declaration registers anew) */
    want = td_normalize(props);
    PLUMB_ALLOC_CHECK(want);
    json_object_del(want, "Tags");
    json_object_foreach(want, k, v)
    {
        /* a property the API does not return is unknown, not a difference */
        if (json_object_get(observed, k) && !holds(v, json_object_get(observed, k)))
            goto done;
    }
    *id = json_pack("{s:O}", "TaskDefinitionArn", json_object_get(observed, "TaskDefinitionArn"));
    PLUMB_ALLOC_CHECK(*id);
done:
    json_decref(d);
    json_decref(observed);
    json_decref(want);
    return error;
}

static int td_create(struct plumb_aws *aws, const json_t *props, json_t **observed)
{
    const struct plumb_aws_service *svc;
    const struct plumb_schema_type *t;
    json_t *in = NULL, *out = NULL, *tags = NULL, *id = NULL;
    int error = 0;

    *observed = NULL;
    if (!json_is_string(json_object_get(props, "Family")))
        return plumb_error_set(PLUMB_EINVALID, "a task definition needs Family");
    PLUMB_TRY(plumb_ecs__ecs_model(&svc, &t, TYPE_NAME));
    in = json_object();
    PLUMB_ALLOC_CHECK(in);
    plumb_ecs__fields_to_api(in, svc, "RegisterTaskDefinition", fields, props);
    tags = plumb_ecs__ecs_tags(json_object_get(props, "Tags"));
    if (json_array_size(tags))
        json_object_set(in, "tags", tags);
    PLUMB_TRY(plumb_aws_call(aws, "ecs", "RegisterTaskDefinition", in, &out));
    /* read back rather than trusting the answer: moto 5.2.1 leaves the tags out of it */
    id = json_pack("{s:O?}", "TaskDefinitionArn",
                   json_object_get(json_object_get(out, "taskDefinition"), "taskDefinitionArn"));
    PLUMB_ALLOC_CHECK(id);
    PLUMB_TRY(td_read(aws, id, observed));
    if (!*observed)
        error = plumb_error_set(PLUMB_ERROR,
                                "task definition '%s' was registered but cannot be read back",
                                json_string_value(json_object_get(props, "Family")));
done:
    json_decref(in);
    json_decref(out);
    json_decref(tags);
    json_decref(id);
    return error;
}

/* Only Tags are not create-only: the rest changes by replacement. */
static int td_update(struct plumb_aws *aws, const json_t *id, const json_t *before,
                     const json_t *after, json_t **observed)
{
    const char *arn = plumb_provider_id_str(id, "TaskDefinitionArn");
    int error = 0;

    *observed = NULL;
    if (!arn)
        return plumb_error_set(PLUMB_EINVALID, "task definition id lacks TaskDefinitionArn");
    if (plumb_ecs__tags_changed(before, after))
        PLUMB_TRY(plumb_ecs__update_tags(aws, arn, json_object_get(before, "Tags"),
                                         json_object_get(after, "Tags")));
    PLUMB_TRY(td_read(aws, id, observed));
    if (!*observed)
        error = plumb_error_set(PLUMB_ENOTFOUND, "task definition '%s' does not exist", arn);
done:
    return error;
}

static int td_remove(struct plumb_aws *aws, const json_t *id, unsigned flags)
{
    const char *arn = plumb_provider_id_str(id, "TaskDefinitionArn");
    json_t *d = NULL, *in = NULL, *out = NULL;
    const char *status;
    int error = 0;

    (void)flags;
    if (!arn)
        return plumb_error_set(PLUMB_EINVALID, "task definition id lacks TaskDefinitionArn");
    PLUMB_TRY(describe(aws, arn, &d));
    status = json_string_value(json_object_get(json_object_get(d, "taskDefinition"), "status"));
    if (!d || (status && strcmp(status, "DELETE_IN_PROGRESS") == 0))
        goto done; /* gone already */
    if (is_active(d)) {
        in = json_pack("{s:s}", "taskDefinition", arn);
        PLUMB_ALLOC_CHECK(in);
        error = plumb_aws_call(aws, "ecs", "DeregisterTaskDefinition", in, &out);
        if (missing_error(error)) {
            error = 0;
            goto done;
        }
        if (error < 0)
            goto done;
        json_decref(in);
        json_decref(out);
        in = out = NULL;
    }
    /* housekeeping: the INACTIVE revision already reads as gone, so a refusal here (older
     * accounts, a policy without ecs:DeleteTaskDefinitions) does not fail the remove */
    in = json_pack("{s:[s]}", "taskDefinitions", arn);
    PLUMB_ALLOC_CHECK(in);
    if (plumb_aws_call(aws, "ecs", "DeleteTaskDefinitions", in, &out) < 0)
        plumb_error_clear();
done:
    json_decref(d);
    json_decref(in);
    json_decref(out);
    return error;
}

/* Declarations in the form read reports them: Cpu and Memory in units. */
static json_t *td_normalize(const json_t *props)
{
    json_t *out = json_deep_copy(props);

    if (out)
        normalize_units(out);
    return out;
}

const struct plumb_resource_type plumb_driver_ecs_taskdefinition = {
    .type_name = TYPE_NAME,
    .read = td_read,
    .lookup = td_lookup,
    .create = td_create,
    .update = td_update,
    .remove = td_remove,
    .normalize = td_normalize,
    .found_by_tags = 1,
};
