/*
 * AWS::AppRunner::AutoScalingConfiguration — App Runner auto scaling configurations.
 *
 * A configuration is a numbered revision of a name: creating one under a name that exists
 * adds a revision (AWS never refuses it as a duplicate), and a revision's settings never
 * change, so every setting is create-only and the planner replaces. The primary identifier
 * is the revision's ARN. Deleted revisions stay describable as INACTIVE, which read reports
 * as gone. App Runner has no batch describe (ListAutoScalingConfigurations returns summaries
 * without the settings), so there is no read_many: a read is DescribeAutoScalingConfiguration
 * and ListTagsForResource.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "provider/provider.h"
#include "provider/util.h"
#include "util/buf.h"
#include "util/error.h"

#define NAME_MAX_LEN 32 /* AutoScalingConfigurationName: [A-Za-z0-9][A-Za-z0-9\-_]{3,31} */

static const char *const settings[] = {"MaxConcurrency", "MaxSize", "MinSize", NULL};
static const char *const create_only[] = {"AutoScalingConfigurationName", "MaxConcurrency",
                                          "MaxSize", "MinSize", NULL};

/*
 * The name CloudFormation would generate when none is declared, but derived from the
 * plumb:address tag alone, so that lookup finds what an interrupted apply created: the
 * address with what the pattern refuses made '-', cut to fit, then a hash of the whole
 * address (two addresses cut to the same text still differ). Shared shape with the App
 * Runner service driver, which has its own copy (util.h has no such helper).
 */
static char *generated_name(const json_t *props, size_t max)
{
    json_t *tags = plumb_provider_tags_to_map(json_object_get(props, "Tags"));
    const char *address = json_string_value(json_object_get(tags, "plumb:address"));
    struct plumb_buf b = PLUMB_BUF_INIT;
    unsigned long hash = 2166136261u; /* FNV-1a */
    size_t i, keep;
    char *name = NULL;

    if (!address || !*address)
        goto done;
    for (i = 0; address[i]; i++)
        hash = ((hash ^ (unsigned char)address[i]) * 16777619u) & 0xffffffffu;
    if (!isalnum((unsigned char)address[0]))
        plumb_buf_putc(&b, 'p');
    keep = max - 9 - b.len;
    for (i = 0; address[i] && i < keep; i++)
        plumb_buf_putc(&b,
                       isalnum((unsigned char)address[i]) || address[i] == '_' ? address[i] : '-');
    plumb_buf_printf(&b, "-%08lx", hash);
    name = plumb_buf_detach(&b);
done:
    plumb_buf_release(&b);
    json_decref(tags);
    return name;
}

/* The declared name, or the generated one; the caller frees. */
static char *name_of(const json_t *props)
{
    const char *name = json_string_value(json_object_get(props, "AutoScalingConfigurationName"));

    return name ? strdup(name) : generated_name(props, NAME_MAX_LEN);
}

/* One configuration (DescribeAutoScalingConfiguration's) and its tags → the schema's shape;
 * *out = NULL when the revision was deleted. */
static int observe(struct plumb_aws *aws, const json_t *asc, json_t **out)
{
    static const char *const copied[] = {"AutoScalingConfigurationArn",
                                         "AutoScalingConfigurationName",
                                         "AutoScalingConfigurationRevision",
                                         "Latest",
                                         "MaxConcurrency",
                                         "MaxSize",
                                         "MinSize",
                                         NULL};
    const char *status = json_string_value(json_object_get(asc, "Status"));
    json_t *o = NULL, *in = NULL, *tags = NULL, *v;
    size_t i;
    int error = 0;

    *out = NULL;
    if (status && strcmp(status, "ACTIVE") != 0)
        goto done; /* INACTIVE: deleted */
    o = json_object();
    PLUMB_ALLOC_CHECK(o);
    for (i = 0; copied[i]; i++)
        if ((v = json_object_get(asc, copied[i])))
            json_object_set(o, copied[i], v);
    in = json_pack("{s:O}", "ResourceArn", json_object_get(asc, "AutoScalingConfigurationArn"));
    PLUMB_ALLOC_CHECK(in);
    PLUMB_TRY(plumb_aws_call(aws, "apprunner", "ListTagsForResource", in, &tags));
    {
        /* through a map: sorted by key, whatever order AWS lists them in */
        json_t *map = plumb_provider_tags_to_map(json_object_get(tags, "Tags"));
        json_object_set_new(o, "Tags", plumb_provider_tags_to_list(map, "Key", "Value"));
        json_decref(map);
    }
    *out = o;
    o = NULL;
done:
    json_decref(o);
    json_decref(in);
    json_decref(tags);
    return error;
}

static int asc_read(struct plumb_aws *aws, const json_t *id, json_t **observed)
{
    const char *arn = plumb_provider_id_str(id, "AutoScalingConfigurationArn");
    json_t *in = NULL, *out = NULL;
    int error = 0;

    *observed = NULL;
    if (!arn)
        return plumb_error_set(PLUMB_EINVALID,
                               "auto scaling configuration id lacks AutoScalingConfigurationArn");
    in = json_pack("{s:s}", "AutoScalingConfigurationArn", arn);
    PLUMB_ALLOC_CHECK(in);
    error = plumb_aws_call(aws, "apprunner", "DescribeAutoScalingConfiguration", in, &out);
    if (error == PLUMB_ENOTFOUND) {
        error = 0;
        goto done;
    }
    if (error < 0)
        goto done;
    error = observe(aws, json_object_get(out, "AutoScalingConfiguration"), observed);
    /* deleted between the two calls */
    if (error == PLUMB_ENOTFOUND)
        error = 0;
done:
    json_decref(in);
    json_decref(out);
    return error;
}

/* The latest active revision of the name these props would create. */
static int asc_lookup(struct plumb_aws *aws, const json_t *props, json_t **id)
{
    char *name = name_of(props);
    json_t *in = NULL, *out = NULL, *s;
    size_t i;
    int error = 0;

    *id = NULL;
    if (!name)
        goto done;
    in = json_pack("{s:s, s:b}", "AutoScalingConfigurationName", name, "LatestOnly", 1);
    PLUMB_ALLOC_CHECK(in);
    PLUMB_TRY(plumb_aws_paginate(aws, "apprunner", "ListAutoScalingConfigurations", in, &out));
    json_array_foreach(json_object_get(out, "AutoScalingConfigurationSummaryList"), i, s)
    {
        const char *n = json_string_value(json_object_get(s, "AutoScalingConfigurationName"));
        const char *status = json_string_value(json_object_get(s, "Status"));
        if (n && strcmp(n, name) == 0 && (!status || strcmp(status, "ACTIVE") == 0)) {
            *id = json_pack("{s:O}", "AutoScalingConfigurationArn",
                            json_object_get(s, "AutoScalingConfigurationArn"));
            PLUMB_ALLOC_CHECK(*id);
            break;
        }
    }
done:
    free(name);
    json_decref(in);
    json_decref(out);
    return error;
}

static int asc_remove(struct plumb_aws *aws, const json_t *id, unsigned flags);

static int asc_create(struct plumb_aws *aws, const json_t *props, json_t **observed)
{
    char *name = name_of(props);
    json_t *in = NULL, *out = NULL, *tags = NULL, *id = NULL, *v;
    const json_t *asc;
    size_t i;
    int error = 0;

    *observed = NULL;
    if (!name) {
        error = plumb_error_set(PLUMB_EINVALID, "an auto scaling configuration needs "
                                                "AutoScalingConfigurationName or a plumb:address "
                                                "tag to name it after");
        goto done;
    }
    in = json_pack("{s:s}", "AutoScalingConfigurationName", name);
    PLUMB_ALLOC_CHECK(in);
    for (i = 0; settings[i]; i++)
        if ((v = json_object_get(props, settings[i])))
            json_object_set(in, settings[i], v);
    tags = plumb_provider_tags_to_map(json_object_get(props, "Tags"));
    PLUMB_ALLOC_CHECK(tags);
    if (json_object_size(tags))
        json_object_set_new(in, "Tags", plumb_provider_tags_to_list(tags, "Key", "Value"));
    PLUMB_TRY(plumb_aws_call(aws, "apprunner", "CreateAutoScalingConfiguration", in, &out));
    asc = json_object_get(out, "AutoScalingConfiguration");
    if ((error = observe(aws, asc, observed)) < 0) {
        /* do not leave a revision behind that the apply will report as failed */
        id = json_pack("{s:O}", "AutoScalingConfigurationArn",
                       json_object_get(asc, "AutoScalingConfigurationArn"));
        if (id)
            asc_remove(aws, id, 0);
    }
done:
    free(name);
    json_decref(in);
    json_decref(out);
    json_decref(tags);
    json_decref(id);
    return error;
}

/* Settings cannot change (the planner replaces); tags, which TagResource changes on any
 * App Runner resource, are brought to `after` by difference. */
static int asc_update(struct plumb_aws *aws, const json_t *id, const json_t *before,
                      const json_t *after, json_t **observed)
{
    const char *arn = plumb_provider_id_str(id, "AutoScalingConfigurationArn");
    json_t *in = NULL, *out = NULL, *tb = NULL, *ta = NULL, *add = NULL, *del = NULL;
    size_t i;
    int error = 0;

    *observed = NULL;
    if (!arn) {
        error = plumb_error_set(PLUMB_EINVALID, "auto scaling configuration id lacks "
                                                "AutoScalingConfigurationArn");
        goto done;
    }
    /* the planner replaces on these; being asked to change one in place is a bug upstream,
     * and silently keeping the old value would report success for what did not happen */
    for (i = 0; create_only[i]; i++) {
        if (plumb_provider_changed(before, after, create_only[i])) {
            error = plumb_error_set(PLUMB_EINVALID,
                                    "'%s' of an auto scaling configuration cannot change in "
                                    "place: a new configuration replaces it",
                                    create_only[i]);
            goto done;
        }
    }
    tb = plumb_provider_tags_to_map(json_object_get(before, "Tags"));
    ta = plumb_provider_tags_to_map(json_object_get(after, "Tags"));
    PLUMB_ALLOC_CHECK(tb && ta);
    plumb_provider_tags_diff(tb, ta, &add, &del);
    PLUMB_ALLOC_CHECK(add && del);
    if (json_object_size(add)) {
        in = json_pack("{s:s, s:o}", "ResourceArn", arn, "Tags",
                       plumb_provider_tags_to_list(add, "Key", "Value"));
        PLUMB_ALLOC_CHECK(in);
        PLUMB_TRY(plumb_aws_call(aws, "apprunner", "TagResource", in, &out));
        json_decref(in);
        json_decref(out);
        in = out = NULL;
    }
    if (json_array_size(del)) {
        in = json_pack("{s:s, s:O}", "ResourceArn", arn, "TagKeys", del);
        PLUMB_ALLOC_CHECK(in);
        PLUMB_TRY(plumb_aws_call(aws, "apprunner", "UntagResource", in, &out));
    }
    PLUMB_TRY(asc_read(aws, id, observed));
    if (!*observed)
        error =
            plumb_error_set(PLUMB_ENOTFOUND, "auto scaling configuration '%s' does not exist", arn);
done:
    json_decref(in);
    json_decref(out);
    json_decref(tb);
    json_decref(ta);
    json_decref(add);
    json_decref(del);
    return error;
}

/* Deletes this revision only: other revisions of the name are other resources. */
static int asc_remove(struct plumb_aws *aws, const json_t *id, unsigned flags)
{
    const char *arn = plumb_provider_id_str(id, "AutoScalingConfigurationArn");
    json_t *in = NULL, *out = NULL;
    int error = 0;

    (void)flags;
    if (!arn)
        return plumb_error_set(PLUMB_EINVALID,
                               "auto scaling configuration id lacks AutoScalingConfigurationArn");
    in = json_pack("{s:s}", "AutoScalingConfigurationArn", arn);
    PLUMB_ALLOC_CHECK(in);
    error = plumb_aws_call(aws, "apprunner", "DeleteAutoScalingConfiguration", in, &out);
    if (error == PLUMB_ENOTFOUND)
        error = 0; /* gone already */
done:
    json_decref(in);
    json_decref(out);
    return error;
}

const struct plumb_resource_type plumb_driver_apprunner_autoscalingconfiguration = {
    .type_name = "AWS::AppRunner::AutoScalingConfiguration",
    .read = asc_read,
    .lookup = asc_lookup,
    .create = asc_create,
    .update = asc_update,
    .remove = asc_remove,
};
