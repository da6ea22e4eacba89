#include "provider/ecs_common.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "aws/model.h"
#include "provider/provider.h"
#include "provider/util.h"
#include "schema/schema.h"
#include "util/buf.h"
#include "util/error.h"

/* ---- CloudFormation <-> API shapes -----------------------------------------------------
 * Shared by ecs_cluster.c, ecs_service.c and ecs_taskdefinition.c. Below the top level, ECS
 * member names are CloudFormation's with a lower-case first letter, or differ only in case
 * (efsVolumeConfiguration/EFSVolumeConfiguration, fileSystemId/FilesystemId): members are
 * matched case-insensitively, driven by the schema one way and by the API model the other.
 * Maps (DockerLabels, LogConfiguration.Options) are user data and copied as they are. */

const json_t *plumb_ecs__cfn_deref(const struct plumb_schema_type *t, const json_t *s)
{
    const char *ref = json_string_value(json_object_get(s, "$ref"));

    if (ref && strncmp(ref, "#/definitions/", 14) == 0)
        return json_object_get(t->definitions, ref + 14);
    return s;
}

/* The key of `obj` equal to `name` but for case, or NULL. */
const char *plumb_ecs__member_ci(const json_t *obj, const char *name)
{
    const char *k;
    json_t *v;

    json_object_foreach((json_t *)obj, k, v)
    {
        if (strcasecmp(k, name) == 0)
            return k;
    }
    return NULL;
}

/* An API value in CloudFormation's shape `s`; what the schema does not declare is dropped:
 * plumb manages exactly the schema's properties. */
json_t *plumb_ecs__cfn_from_api(const struct plumb_schema_type *t, const json_t *s, const json_t *v)
{
    const json_t *props, *items, *x;
    const char *k, *name;
    json_t *out;
    size_t i;

    s = plumb_ecs__cfn_deref(t, s);
    props = json_object_get(s, "properties");
    items = json_object_get(s, "items");
    if (json_is_object(v) && json_is_object(props)) {
        out = json_object();
        json_object_foreach((json_t *)v, k, x)
        {
            if ((name = plumb_ecs__member_ci(props, k)))
                json_object_set_new(out, name,
                                    plumb_ecs__cfn_from_api(t, json_object_get(props, name), x));
        }
        return out;
    }
    if (json_is_array(v) && items) {
        out = json_array();
        json_array_foreach(v, i, x)
            json_array_append_new(out, plumb_ecs__cfn_from_api(t, items, x));
        return out;
    }
    return json_deep_copy(v);
}

/* A declared value in the API's shape `shape` (botocore model), scalars in the model's
 * types (CloudFormation lets "8000" stand for 8000). A member the model does not know is
 * passed on as it is: the client refuses it, naming it. */
json_t *plumb_ecs__api_from_cfn(const struct plumb_aws_service *svc, const json_t *shape,
                                const json_t *v)
{
    const char *type = json_string_value(json_object_get(shape, "type"));
    const json_t *members, *x;
    const char *k, *name;
    json_t *out;
    size_t i;

    if (!type)
        return json_deep_copy(v);
    if (strcmp(type, "structure") == 0 && json_is_object(v)) {
        members = json_object_get(shape, "members");
        out = json_object();
        json_object_foreach((json_t *)v, k, x)
        {
            name = plumb_ecs__member_ci(members, k);
            json_object_set_new(
                out, name ? name : k,
                name ? plumb_ecs__api_from_cfn(
                           svc, plumb_aws_model_ref_shape(svc, json_object_get(members, name)), x)
                     : json_deep_copy(x));
        }
        return out;
    }
    if (strcmp(type, "list") == 0 && json_is_array(v)) {
        const json_t *item = plumb_aws_model_ref_shape(svc, json_object_get(shape, "member"));
        out = json_array();
        json_array_foreach(v, i, x)
            json_array_append_new(out, plumb_ecs__api_from_cfn(svc, item, x));
        return out;
    }
    if (strcmp(type, "string") == 0 && json_is_number(v)) {
        char text[64];
        if (json_is_integer(v))
            snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        else
            snprintf(text, sizeof(text), "%g", json_real_value(v));
        return json_string(text);
    }
    if ((strcmp(type, "integer") == 0 || strcmp(type, "long") == 0) && json_is_string(v)) {
        char *end;
        long long n = strtoll(json_string_value(v), &end, 10);
        if (*json_string_value(v) && !*end)
            return json_integer(n);
    }
    if (strcmp(type, "boolean") == 0 && json_is_string(v)) {
        if (strcmp(json_string_value(v), "true") == 0)
            return json_true();
        if (strcmp(json_string_value(v), "false") == 0)
            return json_false();
    }
    return json_deep_copy(v);
}

/* The shape of member `member` of `operation`'s input. */
const json_t *plumb_ecs__input_member(const struct plumb_aws_service *svc, const char *operation,
                                      const char *member)
{
    const json_t *op = plumb_aws_model_operation(svc, operation);
    const json_t *in = op ? plumb_aws_model_ref_shape(svc, json_object_get(op, "input")) : NULL;

    return plumb_aws_model_ref_shape(svc, json_object_get(json_object_get(in, "members"), member));
}

/* Top-level properties and their API member names. */

int plumb_ecs__ecs_model(const struct plumb_aws_service **svc, const struct plumb_schema_type **t,
                         const char *type_name)
{
    int error = 0;

    PLUMB_TRY(plumb_aws_model_service(svc, "ecs"));
    if (!(*t = plumb_schema_find(type_name)))
        error = plumb_error_set(PLUMB_ERROR, "no schema for '%s'", type_name);
done:
    return error;
}

/* The last path segment of an ARN ("arn:...:cluster/name" → "name"), or `s` itself. */
const char *plumb_ecs__base_name(const char *s)
{
    const char *slash = s ? strrchr(s, '/') : NULL;

    return slash ? slash + 1 : s;
}

/* props' tags in ECS's shape: [{"key": k, "value": v}]. */
json_t *plumb_ecs__ecs_tags(const json_t *tags_prop)
{
    json_t *map = plumb_provider_tags_to_map(tags_prop);
    json_t *list = plumb_provider_tags_to_list(map, "key", "value");

    json_decref(map);
    return list;
}

/* Sets in `in` the API member of each field declared in `props`, in `operation`'s shapes. */
void plumb_ecs__fields_to_api(json_t *in, const struct plumb_aws_service *svc,
                              const char *operation, const struct field *fields,
                              const json_t *props)
{
    const struct field *f;
    const json_t *v;

    for (f = fields; f->cfn; f++)
        if (f->api && (v = json_object_get(props, f->cfn)) &&
            plumb_ecs__input_member(svc, operation, f->api))
            json_object_set_new(
                in, f->api,
                plumb_ecs__api_from_cfn(svc, plumb_ecs__input_member(svc, operation, f->api), v));
}

/* Sets in `out` each field the API object `obj` carries, in the schema's shape. */
void plumb_ecs__fields_from_api(json_t *out, const struct plumb_schema_type *t,
                                const struct field *fields, const json_t *obj)
{
    const struct field *f;
    const json_t *v;

    for (f = fields; f->cfn; f++)
        if (f->api && (v = json_object_get(obj, f->api)))
            json_object_set_new(
                out, f->cfn, plumb_ecs__cfn_from_api(t, json_object_get(t->properties, f->cfn), v));
}

/* The tags of `arn` from `before`'s to `after`'s (the schema's tag lists), by difference. */
int plumb_ecs__update_tags(struct plumb_aws *aws, const char *arn, const json_t *before,
                           const json_t *after)
{
    json_t *tb = plumb_provider_tags_to_map(before), *ta = plumb_provider_tags_to_map(after);
    json_t *add = NULL, *del = NULL, *in = NULL, *out = NULL;
    int error = 0;

    PLUMB_ALLOC_CHECK(tb && ta);
    plumb_provider_tags_diff(tb, ta, &add, &del);
    PLUMB_ALLOC_CHECK(add && del);
    if (json_object_size(add)) {
        in = json_pack("{s:s, s:o}", "resourceArn", arn, "tags",
                       plumb_provider_tags_to_list(add, "key", "value"));
        PLUMB_ALLOC_CHECK(in);
        PLUMB_TRY(plumb_aws_call(aws, "ecs", "TagResource", in, &out));
        json_decref(in);
        json_decref(out);
        in = out = NULL;
    }
    if (json_array_size(del)) {
        in = json_pack("{s:s, s:O}", "resourceArn", arn, "tagKeys", del);
        PLUMB_ALLOC_CHECK(in);
        PLUMB_TRY(plumb_aws_call(aws, "ecs", "UntagResource", in, &out));
    }
done:
    json_decref(tb);
    json_decref(ta);
    json_decref(add);
    json_decref(del);
    json_decref(in);
    json_decref(out);
    return error;
}

/* 1 when the tags differ between `before` and `after` (plumb's own included). */
int plumb_ecs__tags_changed(const json_t *before, const json_t *after)
{
    json_t *tb = plumb_provider_tags_to_map(json_object_get(before, "Tags"));
    json_t *ta = plumb_provider_tags_to_map(json_object_get(after, "Tags"));
    int changed = !json_equal(tb, ta);

    json_decref(tb);
    json_decref(ta);
    return changed;
}
