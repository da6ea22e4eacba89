#include "provider/ec2_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider/provider.h"
#include "provider/util.h"
#include "util/error.h"
#include "util/sys.h"

/* Whether the last AWS error has code `code`. */
int plumb_ec2__last_code_is(const char *code)
{
    const struct plumb_aws_error_info *e = plumb_aws_last_error();

    return e && strcmp(e->code, code) == 0;
}

/* plumb_aws_call, again while it fails with AWS error `code` (or, with code NULL, while it
 * fails with not found), up to `attempts` times. */
int plumb_ec2__call_retrying(struct plumb_aws *aws, const char *operation, const json_t *in,
                             json_t **out, const char *code, int attempts)
{
    long wait_ms = 500;
    int error, i;

    for (i = 1;; i++) {
        *out = NULL;
        error = plumb_aws_call(aws, "ec2", operation, in, out);
        if (error == 0 || i >= attempts)
            break;
        if (code ? !plumb_ec2__last_code_is(code) : error != PLUMB_ENOTFOUND)
            break;
        plumb_sleep_ms(wait_ms);
        wait_ms = wait_ms * 2 > 10000 ? 10000 : wait_ms * 2;
    }
    return error;
}

/* plumb_aws_call on EC2 for its error alone: takes `in`, drops the answer. */
int plumb_ec2__call(struct plumb_aws *aws, const char *operation, json_t *in)
{
    json_t *out = NULL;
    int error = plumb_aws_call(aws, "ec2", operation, in, &out);

    json_decref(in);
    json_decref(out);
    return error;
}

/* [{"ResourceType": type, "Tags": [...]}] for props' tags, or NULL when there are none. */
json_t *plumb_ec2__tag_specifications(const json_t *props, const char *resource_type)
{
    const json_t *tags = json_object_get(props, "Tags");

    if (!json_array_size(tags))
        return NULL;
    return json_pack("[{s:s, s:O}]", "ResourceType", resource_type, "Tags", tags);
}

/*
 * CreateTags / DeleteTags turning the Tags of `current` (as read) into after's. Tags AWS
 * reserves ("aws:...") stay: they cannot be removed. An `after` without Tags leaves them.
 */
int plumb_ec2__sync_tags(struct plumb_aws *aws, const char *resource_id, const json_t *current,
                         const json_t *after)
{
    json_t *tb = plumb_provider_tags_to_map(json_object_get(current, "Tags"));
    json_t *ta = plumb_provider_tags_to_map(json_object_get(after, "Tags"));
    json_t *add = NULL, *del = NULL, *list = NULL, *k;
    const char *key;
    size_t i;
    int error = 0;

    PLUMB_ALLOC_CHECK(tb);
    PLUMB_ALLOC_CHECK(ta);
    if (!json_object_get(after, "Tags"))
        goto done;
    json_object_foreach(tb, key, k) if (strncmp(key, "aws:", 4) == 0) json_object_set(ta, key, k);
    plumb_provider_tags_diff(tb, ta, &add, &del);
    PLUMB_ALLOC_CHECK(add);
    PLUMB_ALLOC_CHECK(del);
    if (json_object_size(add)) {
        list = plumb_provider_tags_to_list(add, "Key", "Value");
        PLUMB_TRY(plumb_ec2__call(
            aws, "CreateTags", json_pack("{s:[s], s:O}", "Resources", resource_id, "Tags", list)));
    }
    if (json_array_size(del)) {
        json_decref(list);
        list = json_array();
        PLUMB_ALLOC_CHECK(list);
        json_array_foreach(del, i, k) json_array_append_new(list, json_pack("{s:O}", "Key", k));
        PLUMB_TRY(plumb_ec2__call(
            aws, "DeleteTags", json_pack("{s:[s], s:O}", "Resources", resource_id, "Tags", list)));
    }
done:
    json_decref(tb);
    json_decref(ta);
    json_decref(add);
    json_decref(del);
    json_decref(list);
    return error;
}

/*
 * Filters matching the plumb:* tags of props (address, project, env: the same address can
 * exist in two environments of one account), or NULL when props carry no plumb:address.
 */
json_t *plumb_ec2__plumb_tag_filters(const json_t *props)
{
    json_t *filters, *tags = plumb_provider_tags_to_map(json_object_get(props, "Tags")), *v;
    const char *k;
    char name[300];

    if (!tags || !json_object_get(tags, "plumb:address")) {
        json_decref(tags);
        return NULL;
    }
    filters = json_array();
    json_object_foreach(tags, k, v)
    {
        if (strncmp(k, "plumb:", 6) != 0)
            continue;
        snprintf(name, sizeof(name), "tag:%s", k);
        json_array_append_new(filters, json_pack("{s:s, s:[O]}", "Name", name, "Values", v));
    }
    json_decref(tags);
    return filters;
}

/* The `key` array of a (paginated) EC2 describe `operation` by `filters`; an empty array when
 * the answer has none. */
int plumb_ec2__describe(struct plumb_aws *aws, const char *operation, const char *key,
                        json_t *filters, json_t **items)
{
    json_t *in = json_pack("{s:O}", "Filters", filters), *out = NULL;
    int error = 0;

    *items = NULL;
    PLUMB_ALLOC_CHECK(in);
    PLUMB_TRY(plumb_aws_paginate(aws, "ec2", operation, in, &out));
    *items = json_incref(json_object_get(out, key));
    if (!*items)
        *items = json_array();
done:
    json_decref(in);
    json_decref(out);
    return error;
}
