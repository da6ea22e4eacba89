/*
 * AWS::RDS::DBSubnetGroup — the subnets an RDS instance may be placed in.
 *
 * Named by the user (DBSubnetGroupName is the primary identifier), but RDS stores the name in
 * lower case: "Stage-Subnets" is created as "stage-subnets". Every call sends the name lower
 * case, read reports AWS's form, and normalize lower-cases a declared name, so a mixed-case
 * declaration compares equal to what AWS holds and never plans a replacement.
 *
 * DescribeDBSubnetGroups does not carry tags, and the tagging API (GetResources) does not
 * cover subnet groups: tags cost one ListTagsForResource per group. A read is therefore two
 * calls; read_many lists every group of the region once (DescribeDBSubnetGroups without a
 * name, paginated; its Filters parameter is not supported by RDS) and reads the tags of those
 * found: 1 listing + N tag reads.
 *
 * Description and subnets change in place with ModifyDBSubnetGroup, tags with
 * AddTagsToResource / RemoveTagsFromResource. Creating and deleting are synchronous: no wait.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "provider/provider.h"
#include "provider/util.h"
#include "util/error.h"

/* `s` in lower case, as RDS stores names. Caller frees. */
static char *lower(const char *s)
{
    char *out = strdup(s ? s : "");
    char *p;

    for (p = out; p && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return out;
}

static int cmp_json_str(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

/* The string items of `arr`, sorted: subnets are a set (unorderedArrays in the schema), and a
 * stable order keeps observed values diffable. */
static json_t *sorted_strings(const json_t *arr)
{
    json_t *out = json_array(), **items;
    size_t i, n = 0;

    if (!out)
        return NULL;
    items = calloc(json_array_size(arr) + 1, sizeof(*items));
    if (!items) {
        json_decref(out);
        return NULL;
    }
    for (i = 0; i < json_array_size(arr); i++)
        if (json_is_string(json_array_get(arr, i)))
            items[n++] = json_array_get(arr, i);
    qsort(items, n, sizeof(*items), cmp_json_str);
    for (i = 0; i < n; i++)
        json_array_append(out, items[i]);
    free(items);
    return out;
}

/* 1 when the two lists hold different sets of strings. */
static int set_changed(const json_t *a, const json_t *b)
{
    json_t *x = sorted_strings(a), *y = sorted_strings(b);
    int changed = !json_equal(x, y);

    json_decref(x);
    json_decref(y);
    return changed;
}

/* The subnet ids of a DBSubnetGroup, sorted. */
static json_t *subnet_ids_of(const json_t *group)
{
    json_t *ids = json_array(), *sorted;
    const json_t *s;
    size_t i;

    json_array_foreach(json_object_get(group, "Subnets"), i, s)
    {
        const json_t *id = json_object_get(s, "SubnetIdentifier");
        if (json_is_string(id))
            json_array_append(ids, (json_t *)id);
    }
    sorted = sorted_strings(ids);
    json_decref(ids);
    return sorted;
}

/*
 * The tags of the group with `arn`, as the schema's sorted list. *tags = NULL (and 0) when the
 * group went away since it was described.
 */
static int read_tags(struct plumb_aws *aws, const char *arn, json_t **tags)
{
    json_t *out = NULL, *map = NULL;
    int error;

    *tags = NULL;
    error = plumb_provider_call(aws, "rds", "ListTagsForResource",
                                json_pack("{s:s}", "ResourceName", arn), &out);
    if (error == PLUMB_ENOTFOUND) {
        error = 0;
        goto done;
    }
    if (error < 0)
        goto done;
    map = plumb_provider_tags_to_map(json_object_get(out, "TagList"));
    *tags = plumb_provider_tags_to_list(map, "Key", "Value");
    if (!*tags)
        error = plumb_error_oom();
done:
    json_decref(out);
    json_decref(map);
    return error;
}

/* One DBSubnetGroup (and its tags, a call of their own, when wanted: provider.h) → the
 * CloudFormation shape; *out = NULL when the group went away meanwhile. */
static int observe(struct plumb_aws *aws, const json_t *group, const json_t *wanted, json_t **out)
{
    const char *arn = json_string_value(json_object_get(group, "DBSubnetGroupArn"));
    json_t *o = json_object(), *tags = NULL, *v;
    int error = 0;

    *out = NULL;
    PLUMB_ALLOC_CHECK(o);
    if ((v = json_object_get(group, "DBSubnetGroupName")))
        json_object_set(o, "DBSubnetGroupName", v);
    if ((v = json_object_get(group, "DBSubnetGroupDescription")))
        json_object_set(o, "DBSubnetGroupDescription", v);
    if (json_object_get(group, "Subnets"))
        json_object_set_new(o, "SubnetIds", subnet_ids_of(group));
    if (arn && plumb_provider_wants(wanted, "Tags")) {
        PLUMB_TRY(read_tags(aws, arn, &tags));
        if (!tags)
            goto done; /* deleted between the two calls */
        json_object_set(o, "Tags", tags);
    }
    *out = o;
    o = NULL;
done:
    json_decref(o);
    json_decref(tags);
    return error;
}

/* The DBSubnetGroup named `name` (lower-cased here), or *group = NULL when there is none. */
static int describe_one(struct plumb_aws *aws, const char *name, json_t **group)
{
    char *low = lower(name);
    json_t *out = NULL;
    int error;

    *group = NULL;
    if (!low)
        return plumb_error_oom();
    error = plumb_provider_call(aws, "rds", "DescribeDBSubnetGroups",
                                json_pack("{s:s}", "DBSubnetGroupName", low), &out);
    if (error == PLUMB_ENOTFOUND)
        error = 0; /* DBSubnetGroupNotFoundFault */
    else if (error == 0)
        *group = json_incref(json_array_get(json_object_get(out, "DBSubnetGroups"), 0));
    json_decref(out);
    free(low);
    return error;
}

static int sg_read(struct plumb_aws *aws, const json_t *id, json_t **observed)
{
    const char *name = plumb_provider_id_str(id, "DBSubnetGroupName");
    json_t *group = NULL;
    int error = 0;

    *observed = NULL;
    if (!name)
        return plumb_error_set(PLUMB_EINVALID, "db subnet group id lacks DBSubnetGroupName");
    PLUMB_TRY(describe_one(aws, name, &group));
    if (group)
        error = observe(aws, group, NULL, observed);
done:
    json_decref(group);
    return error;
}

/* The group of `groups` named `name`, compared as RDS does: case-insensitively. */
static const json_t *find_group(const json_t *groups, const char *name)
{
    const json_t *g;
    size_t i;

    json_array_foreach(groups, i, g)
    {
        const char *have = json_string_value(json_object_get(g, "DBSubnetGroupName"));
        if (have && strcasecmp(have, name) == 0)
            return g;
    }
    return NULL;
}

/* One listing of every subnet group of the region serves any number of ids. */
static int sg_read_many(struct plumb_aws *aws, const json_t *ids, const json_t *wanted,
                        json_t **observed)
{
    json_t *in = json_object(), *listing = NULL, *out = json_array(), *o;
    const json_t *id, *g, *groups;
    size_t i;
    int error = 0;

    *observed = NULL;
    PLUMB_ALLOC_CHECK(in);
    PLUMB_ALLOC_CHECK(out);
    PLUMB_TRY(plumb_aws_paginate(aws, "rds", "DescribeDBSubnetGroups", in, &listing));
    groups = json_object_get(listing, "DBSubnetGroups");
    json_array_foreach(ids, i, id)
    {
        const char *name = plumb_provider_id_str(id, "DBSubnetGroupName");
        o = NULL;
        if (name && (g = find_group(groups, name)))
            PLUMB_TRY(observe(aws, g, wanted, &o));
        json_array_append_new(out, o ? o : json_null());
    }
    *observed = out;
    out = NULL;
done:
    json_decref(in);
    json_decref(listing);
    json_decref(out);
    return error;
}

static int sg_lookup(struct plumb_aws *aws, const json_t *props, json_t **id)
{
    const char *name = json_string_value(json_object_get(props, "DBSubnetGroupName"));
    json_t *group = NULL;
    int error = 0;

    *id = NULL;
    if (!name)
        return 0;
    PLUMB_TRY(describe_one(aws, name, &group));
    if (group) {
        *id = json_pack("{s:O}", "DBSubnetGroupName", json_object_get(group, "DBSubnetGroupName"));
        PLUMB_ALLOC_CHECK(*id);
    }
done:
    json_decref(group);
    return error;
}

/* The declared properties as read reports them: the name in lower case. Values known only at
 * apply time (and secrets) keep their marks. */
static json_t *sg_normalize(const json_t *props)
{
    json_t *out = json_deep_copy(props);
    const json_t *name = json_object_get(props, "DBSubnetGroupName");

    if (out && json_is_string(name)) {
        char *low = lower(json_string_value(name));
        if (low)
            json_object_set_new(out, "DBSubnetGroupName", json_string(low));
        free(low);
    }
    return out;
}

static int sg_remove(struct plumb_aws *aws, const json_t *id, unsigned flags);

static int sg_create(struct plumb_aws *aws, const json_t *props, json_t **observed)
{
    const char *name = json_string_value(json_object_get(props, "DBSubnetGroupName"));
    const json_t *tags = json_object_get(props, "Tags");
    json_t *in = NULL, *out = NULL, *id = NULL;
    char *low = NULL;
    int error = 0;

    *observed = NULL;
    if (!name)
        return plumb_error_set(PLUMB_EINVALID, "a db subnet group needs DBSubnetGroupName");
    low = lower(name);
    PLUMB_ALLOC_CHECK(low);
    in = json_pack("{s:s, s:O?, s:O?}", "DBSubnetGroupName", low, "DBSubnetGroupDescription",
                   json_object_get(props, "DBSubnetGroupDescription"), "SubnetIds",
                   json_object_get(props, "SubnetIds"));
    PLUMB_ALLOC_CHECK(in);
    if (json_array_size(tags))
        json_object_set(in, "Tags", (json_t *)tags); /* plumb:* tags included */
    PLUMB_TRY(plumb_provider_call(aws, "rds", "CreateDBSubnetGroup", json_incref(in), &out));
    /* the answer carries the group; only its tags need a call */
    error = observe(aws, json_object_get(out, "DBSubnetGroup"), NULL, observed);
    if (error == 0 && !*observed)
        error =
            plumb_error_set(PLUMB_ERROR, "db subnet group '%s' vanished after its creation", low);
    if (error < 0) {
        /* do not leave a group behind that the apply will report as failed */
        id = json_pack("{s:s}", "DBSubnetGroupName", low);
        if (id)
            sg_remove(aws, id, 0);
    }
done:
    json_decref(in);
    json_decref(out);
    json_decref(id);
    free(low);
    return error;
}

static int update_tags(struct plumb_aws *aws, const char *arn, const json_t *current,
                       const json_t *after)
{
    json_t *tb = plumb_provider_tags_to_map(json_object_get(current, "Tags"));
    json_t *ta = plumb_provider_tags_to_map(json_object_get(after, "Tags"));
    json_t *add = NULL, *del = NULL, *list = NULL;
    int error = 0;

    PLUMB_ALLOC_CHECK(tb);
    PLUMB_ALLOC_CHECK(ta);
    plumb_provider_tags_diff(tb, ta, &add, &del);
    PLUMB_ALLOC_CHECK(add);
    PLUMB_ALLOC_CHECK(del);
    if (json_object_size(add)) {
        list = plumb_provider_tags_to_list(add, "Key", "Value");
        PLUMB_TRY(plumb_provider_call(aws, "rds", "AddTagsToResource",
                                      json_pack("{s:s, s:O}", "ResourceName", arn, "Tags", list),
                                      NULL));
    }
    if (json_array_size(del))
        PLUMB_TRY(plumb_provider_call(aws, "rds", "RemoveTagsFromResource",
                                      json_pack("{s:s, s:O}", "ResourceName", arn, "TagKeys", del),
                                      NULL));
done:
    json_decref(tb);
    json_decref(ta);
    json_decref(add);
    json_decref(del);
    json_decref(list);
    return error;
}

/*
 * Changes are computed against what AWS holds now, not against `before` (the last applied
 * declaration): a change made outside plumb is what a refresh plans to undo, and `before`
 * would not show it.
 */
static int sg_update(struct plumb_aws *aws, const json_t *id, const json_t *before,
                     const json_t *after, json_t **observed)
{
    const char *name = plumb_provider_id_str(id, "DBSubnetGroupName");
    json_t *group = NULL, *current = NULL, *in = NULL, *out = NULL;
    const json_t *latest, *subnets, *description;
    const char *arn;
    int error = 0;

    (void)before;
    *observed = NULL;
    if (!name)
        return plumb_error_set(PLUMB_EINVALID, "db subnet group id lacks DBSubnetGroupName");
    PLUMB_TRY(describe_one(aws, name, &group));
    if (group)
        PLUMB_TRY(observe(aws, group, NULL, &current));
    if (!current) {
        error = plumb_error_set(PLUMB_ENOTFOUND, "db subnet group '%s' does not exist", name);
        goto done;
    }
    arn = json_string_value(json_object_get(group, "DBSubnetGroupArn"));
    latest = group;
    subnets = json_object_get(after, "SubnetIds");
    description = json_object_get(after, "DBSubnetGroupDescription");
    if ((subnets && set_changed(json_object_get(current, "SubnetIds"), subnets)) ||
        (description && plumb_provider_changed(current, after, "DBSubnetGroupDescription"))) {
        /* SubnetIds is required by ModifyDBSubnetGroup even when only the description
         * changes: send the declared ones, or those it has */
        in = json_pack("{s:O, s:O, s:O?}", "DBSubnetGroupName",
                       json_object_get(group, "DBSubnetGroupName"), "SubnetIds",
                       subnets ? subnets : json_object_get(current, "SubnetIds"),
                       "DBSubnetGroupDescription", description);
        PLUMB_TRY(plumb_provider_call(aws, "rds", "ModifyDBSubnetGroup", json_incref(in), &out));
        if (json_object_get(out, "DBSubnetGroup"))
            latest = json_object_get(out, "DBSubnetGroup");
    }
    if (arn && plumb_provider_changed(current, after, "Tags"))
        PLUMB_TRY(update_tags(aws, arn, current, after));
    /* ModifyDBSubnetGroup answers with the group as it now is: no describe needed */
    PLUMB_TRY(observe(aws, latest, NULL, observed));
    if (!*observed)
        error = plumb_error_set(PLUMB_ENOTFOUND, "db subnet group '%s' does not exist", name);
done:
    json_decref(group);
    json_decref(current);
    json_decref(in);
    json_decref(out);
    return error;
}

static int sg_remove(struct plumb_aws *aws, const json_t *id, unsigned flags)
{
    const char *name = plumb_provider_id_str(id, "DBSubnetGroupName");
    char *low;
    int error;

    (void)flags;
    if (!name)
        return plumb_error_set(PLUMB_EINVALID, "db subnet group id lacks DBSubnetGroupName");
    low = lower(name);
    if (!low)
        return plumb_error_oom();
    /* a group still used by an instance fails with InvalidDBSubnetGroupStateFault, whose
     * message names the instance: returned as it is */
    error = plumb_provider_call(aws, "rds", "DeleteDBSubnetGroup",
                                json_pack("{s:s}", "DBSubnetGroupName", low), NULL);
    if (error == PLUMB_ENOTFOUND)
        error = 0; /* gone already */
    free(low);
    return error;
}

const struct plumb_resource_type plumb_driver_rds_dbsubnetgroup = {
    .type_name = "AWS::RDS::DBSubnetGroup",
    .read = sg_read,
    .read_many = sg_read_many,
    .lookup = sg_lookup,
    .create = sg_create,
    .update = sg_update,
    .remove = sg_remove,
    .normalize = sg_normalize,
};
