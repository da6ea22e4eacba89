/*
 * AWS::Logs::LogGroup — CloudWatch Logs log groups.
 *
 * The reference driver: small, but it shows every part of the interface. Log groups are
 * named by the user (LogGroupName is the primary identifier), retention is the one setting
 * that changes in place, and DescribeLogGroups lists many groups in one call, which is what
 * read_many uses.
 */
#include <string.h>

#include "provider/provider.h"
#include "provider/util.h"
#include "util/error.h"

/* CloudFormation's Arn for a log group has no ":*" suffix; DescribeLogGroups' has one. */
static json_t *arn_of(const json_t *group)
{
    const char *arn = json_string_value(json_object_get(group, "arn"));
    size_t n;

    if (!arn)
        return NULL;
    n = strlen(arn);
    if (n > 2 && strcmp(arn + n - 2, ":*") == 0)
        n -= 2;
    return json_stringn(arn, n);
}

/* One DescribeLogGroups entry (and its tags, when wanted: provider.h) → the CloudFormation
 * shape. */
static int observe(struct plumb_aws *aws, const json_t *group, const json_t *wanted, json_t **out)
{
    json_t *o = json_object(), *tags_in = NULL, *tags = NULL, *arn = arn_of(group), *v;
    int error = 0;

    PLUMB_ALLOC_CHECK(o);
    json_object_set(o, "LogGroupName", json_object_get(group, "logGroupName"));
    /* No retention means "never expire": CloudFormation leaves RetentionInDays out then. */
    if ((v = json_object_get(group, "retentionInDays")))
        json_object_set(o, "RetentionInDays", v);
    else
        plumb_provider_not_set(o, wanted, "RetentionInDays");
    if ((v = json_object_get(group, "kmsKeyId")))
        json_object_set(o, "KmsKeyId", v);
    else
        plumb_provider_not_set(o, wanted, "KmsKeyId");
    if ((v = json_object_get(group, "logGroupClass")))
        json_object_set(o, "LogGroupClass", v);
    if ((v = json_object_get(group, "deletionProtectionEnabled")))
        json_object_set(o, "DeletionProtectionEnabled", v);
    if (arn)
        json_object_set(o, "Arn", arn);
    if (arn && plumb_provider_wants(wanted, "Tags")) {
        tags_in = json_pack("{s:O}", "resourceArn", arn);
        PLUMB_TRY(plumb_aws_call(aws, "logs", "ListTagsForResource", tags_in, &tags));
        json_object_set_new(
            o, "Tags", plumb_provider_tags_to_list(json_object_get(tags, "tags"), "Key", "Value"));
    }
    *out = o;
    o = NULL;
done:
    json_decref(o);
    json_decref(arn);
    json_decref(tags_in);
    json_decref(tags);
    return error;
}

static int describe(struct plumb_aws *aws, const char *prefix, json_t **groups)
{
    json_t *in = prefix ? json_pack("{s:s}", "logGroupNamePrefix", prefix) : json_object();
    json_t *out = NULL;
    int error;

    *groups = NULL;
    error = plumb_aws_paginate(aws, "logs", "DescribeLogGroups", in, &out);
    if (error == 0) {
        *groups = json_incref(json_object_get(out, "logGroups"));
        if (!*groups)
            *groups = json_array();
    }
    json_decref(in);
    json_decref(out);
    return error;
}

static const json_t *find_group(const json_t *groups, const char *name)
{
    const json_t *g;
    size_t i;

    json_array_foreach(groups, i, g)
    {
        if (json_is_string(json_object_get(g, "logGroupName")) &&
            strcmp(json_string_value(json_object_get(g, "logGroupName")), name) == 0)
            return g;
    }
    return NULL;
}

static int lg_read(struct plumb_aws *aws, const json_t *id, json_t **observed)
{
    const char *name = plumb_provider_id_str(id, "LogGroupName");
    json_t *groups = NULL;
    const json_t *g;
    int error = 0;

    *observed = NULL;
    if (!name)
        return plumb_error_set(PLUMB_EINVALID, "log group id lacks LogGroupName");
    /* The prefix filter returns the group and any whose name extends it: pick ours. */
    PLUMB_TRY(describe(aws, name, &groups));
    if ((g = find_group(groups, name)))
        error = observe(aws, g, NULL, observed);
done:
    json_decref(groups);
    return error;
}

/* One listing of every log group (paginated) serves any number of ids; one id is looked up by
 * its name as a prefix, which does not page through the whole account. */
static int lg_read_many(struct plumb_aws *aws, const json_t *ids, const json_t *wanted,
                        json_t **observed)
{
    json_t *groups = NULL, *out = json_array(), *o;
    const json_t *id, *g;
    size_t i;
    int error = 0;

    *observed = NULL;
    PLUMB_ALLOC_CHECK(out);
    PLUMB_TRY(describe(aws,
                       json_array_size(ids) == 1
                           ? plumb_provider_id_str(json_array_get(ids, 0), "LogGroupName")
                           : NULL,
                       &groups));
    json_array_foreach(ids, i, id)
    {
        const char *name = plumb_provider_id_str(id, "LogGroupName");
        o = NULL;
        if (name && (g = find_group(groups, name)))
            PLUMB_TRY(observe(aws, g, wanted, &o));
        json_array_append_new(out, o ? o : json_null());
    }
    *observed = out;
    out = NULL;
done:
    json_decref(groups);
    json_decref(out);
    return error;
}

static int lg_lookup(struct plumb_aws *aws, const json_t *props, json_t **id)
{
    const char *name = json_string_value(json_object_get(props, "LogGroupName"));
    json_t *observed = NULL, *want;
    int error;

    *id = NULL;
    if (!name)
        return 0;
    want = json_pack("{s:s}", "LogGroupName", name);
    error = lg_read(aws, want, &observed);
    if (error == 0 && observed)
        *id = json_incref(want);
    json_decref(want);
    json_decref(observed);
    return error;
}

static int put_retention(struct plumb_aws *aws, const char *name, const json_t *days)
{
    json_t *in, *out = NULL;
    int error;

    if (json_is_integer(days))
        in = json_pack("{s:s, s:O}", "logGroupName", name, "retentionInDays", days);
    else
        in = json_pack("{s:s}", "logGroupName", name);
    error = plumb_aws_call(aws, "logs",
                           json_is_integer(days) ? "PutRetentionPolicy" : "DeleteRetentionPolicy",
                           in, &out);
    json_decref(in);
    json_decref(out);
    return error;
}

static int lg_remove(struct plumb_aws *aws, const json_t *id, unsigned flags);

static int lg_create(struct plumb_aws *aws, const json_t *props, json_t **observed)
{
    const char *name = json_string_value(json_object_get(props, "LogGroupName"));
    json_t *in = NULL, *out = NULL, *tags = NULL, *id = NULL, *v;
    int error = 0;

    *observed = NULL;
    if (!name)
        return plumb_error_set(PLUMB_EINVALID, "a log group needs LogGroupName");
    in = json_pack("{s:s}", "logGroupName", name);
    PLUMB_ALLOC_CHECK(in);
    if ((v = json_object_get(props, "KmsKeyId")))
        json_object_set(in, "kmsKeyId", v);
    if ((v = json_object_get(props, "LogGroupClass")))
        json_object_set(in, "logGroupClass", v);
    if ((v = json_object_get(props, "DeletionProtectionEnabled")))
        json_object_set(in, "deletionProtectionEnabled", v);
    tags = plumb_provider_tags_to_map(json_object_get(props, "Tags"));
    if (json_object_size(tags))
        json_object_set(in, "tags", tags);
    PLUMB_TRY(plumb_aws_call(aws, "logs", "CreateLogGroup", in, &out));
    id = json_pack("{s:s}", "LogGroupName", name);
    if ((v = json_object_get(props, "RetentionInDays")) &&
        (error = put_retention(aws, name, v)) < 0) {
        /* do not leave a group behind that the apply will report as failed */
        lg_remove(aws, id, 0);
        goto done;
    }
    error = lg_read(aws, id, observed);
done:
    json_decref(in);
    json_decref(out);
    json_decref(tags);
    json_decref(id);
    return error;
}

static int lg_update(struct plumb_aws *aws, const json_t *id, const json_t *before,
                     const json_t *after, json_t **observed)
{
    const char *name = plumb_provider_id_str(id, "LogGroupName");
    json_t *in = NULL, *out = NULL, *add = NULL, *del = NULL, *current = NULL;
    json_t *tb = NULL, *ta = NULL;
    const json_t *arn;
    int error = 0;

    *observed = NULL;
    if (plumb_provider_changed(before, after, "RetentionInDays"))
        PLUMB_TRY(put_retention(aws, name, json_object_get(after, "RetentionInDays")));
    if (plumb_provider_changed(before, after, "DeletionProtectionEnabled")) {
        in = json_pack("{s:s, s:b}", "logGroupIdentifier", name, "deletionProtectionEnabled",
                       json_is_true(json_object_get(after, "DeletionProtectionEnabled")));
        PLUMB_TRY(plumb_aws_call(aws, "logs", "PutLogGroupDeletionProtection", in, &out));
        json_decref(in);
        json_decref(out);
        in = out = NULL;
    }
    tb = plumb_provider_tags_to_map(json_object_get(before, "Tags"));
    ta = plumb_provider_tags_to_map(json_object_get(after, "Tags"));
    plumb_provider_tags_diff(tb, ta, &add, &del);
    if (json_object_size(add) || json_array_size(del)) {
        PLUMB_TRY(lg_read(aws, id, &current));
        if (!current) {
            error = plumb_error_set(PLUMB_ENOTFOUND, "log group '%s' does not exist", name);
            goto done;
        }
        arn = json_object_get(current, "Arn");
        if (json_object_size(add)) {
            in = json_pack("{s:O, s:O}", "resourceArn", arn, "tags", add);
            PLUMB_TRY(plumb_aws_call(aws, "logs", "TagResource", in, &out));
            json_decref(in);
            json_decref(out);
            in = out = NULL;
        }
        if (json_array_size(del)) {
            in = json_pack("{s:O, s:O}", "resourceArn", arn, "tagKeys", del);
            PLUMB_TRY(plumb_aws_call(aws, "logs", "UntagResource", in, &out));
        }
    }
    error = lg_read(aws, id, observed);
done:
    json_decref(in);
    json_decref(out);
    json_decref(add);
    json_decref(del);
    json_decref(tb);
    json_decref(ta);
    json_decref(current);
    return error;
}

static int lg_remove(struct plumb_aws *aws, const json_t *id, unsigned flags)
{
    json_t *in = json_pack("{s:s?}", "logGroupName", plumb_provider_id_str(id, "LogGroupName"));
    json_t *out = NULL;
    int error;

    (void)flags;
    error = plumb_aws_call(aws, "logs", "DeleteLogGroup", in, &out);
    if (error == PLUMB_ENOTFOUND)
        error = 0; /* gone already */
    json_decref(in);
    json_decref(out);
    return error;
}

const struct plumb_resource_type plumb_driver_logs_loggroup = {
    .type_name = "AWS::Logs::LogGroup",
    .read = lg_read,
    .read_many = lg_read_many,
    .lookup = lg_lookup,
    .create = lg_create,
    .update = lg_update,
    .remove = lg_remove,
    .found_by_tags = 1,
};
