#include "provider/ec2_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider/provider.h"
#include "provider/util.h"
#include "util/error.h"
#include "util/sys.h"

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
        if (code ? !plumb_provider_last_code_is(code) : error != PLUMB_ENOTFOUND)
            break;
        plumb_sleep_ms(wait_ms);
        wait_ms = wait_ms * 2 > 10000 ? 10000 : wait_ms * 2;
    }
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
        PLUMB_TRY(plumb_provider_call(
            aws, "ec2", "CreateTags",
            json_pack("{s:[s], s:O}", "Resources", resource_id, "Tags", list), NULL));
    }
    if (json_array_size(del)) {
        json_decref(list);
        list = json_array();
        PLUMB_ALLOC_CHECK(list);
        json_array_foreach(del, i, k) json_array_append_new(list, json_pack("{s:O}", "Key", k));
        PLUMB_TRY(plumb_provider_call(
            aws, "ec2", "DeleteTags",
            json_pack("{s:[s], s:O}", "Resources", resource_id, "Tags", list), NULL));
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

const char *plumb_ec2__id(const struct plumb_ec2_kind *k, const json_t *id)
{
    const char *s = plumb_provider_id_str(id, k->id_keys[0]);

    return s || !k->id_keys[1] ? s : plumb_provider_id_str(id, k->id_keys[1]);
}

const json_t *plumb_ec2__find(const struct plumb_ec2_kind *k, const json_t *items,
                              const char *item_id)
{
    const json_t *x;
    size_t i;

    json_array_foreach(items, i, x)
    {
        const char *s = json_string_value(json_object_get(x, k->item_id));
        if (s && strcmp(s, item_id) == 0)
            return x;
    }
    return NULL;
}

int plumb_ec2__describe_ids(struct plumb_aws *aws, const struct plumb_ec2_kind *k,
                            const json_t *item_ids, json_t **items)
{
    json_t *filters = json_pack("[{s:s, s:O}]", "Name", k->id_filter, "Values", item_ids);
    int error;

    *items = NULL;
    if (!filters)
        return plumb_error_oom();
    error = plumb_ec2__describe(aws, k->describe, k->list, filters, items);
    json_decref(filters);
    return error;
}

int plumb_ec2__describe_one(struct plumb_aws *aws, const struct plumb_ec2_kind *k,
                            const char *item_id, json_t **item)
{
    json_t *ids = json_pack("[s]", item_id), *items = NULL;
    int error = 0;

    *item = NULL;
    PLUMB_ALLOC_CHECK(ids);
    PLUMB_TRY(plumb_ec2__describe_ids(aws, k, ids, &items));
    *item = json_incref((json_t *)plumb_ec2__find(k, items, item_id));
done:
    json_decref(ids);
    json_decref(items);
    return error;
}

int plumb_ec2__read(struct plumb_aws *aws, const struct plumb_ec2_kind *k, const json_t *id,
                    json_t **observed)
{
    const char *item_id = plumb_ec2__id(k, id);
    json_t *item = NULL;
    int error = 0;

    *observed = NULL;
    if (!item_id)
        return plumb_error_set(PLUMB_EINVALID, "%s id lacks %s", k->what, k->id_keys[0]);
    PLUMB_TRY(plumb_ec2__describe_one(aws, k, item_id, &item));
    if (item) {
        *observed = k->observe(item);
        PLUMB_ALLOC_CHECK(*observed);
    }
done:
    json_decref(item);
    return error;
}

/* One describe per chunk of ids. */
int plumb_ec2__read_many(struct plumb_aws *aws, const struct plumb_ec2_kind *k, const json_t *ids,
                         json_t **observed)
{
    json_t *result = json_array(), *chunk = NULL, *items = NULL, *o;
    const json_t *x;
    const char *item_id;
    size_t start, i, n = json_array_size(ids);
    int error = 0;

    *observed = NULL;
    PLUMB_ALLOC_CHECK(result);
    for (start = 0; start < n; start += PLUMB_EC2_CHUNK) {
        chunk = json_array();
        PLUMB_ALLOC_CHECK(chunk);
        for (i = start; i < n && i < start + PLUMB_EC2_CHUNK; i++)
            if ((item_id = plumb_ec2__id(k, json_array_get(ids, i))))
                json_array_append_new(chunk, json_string(item_id));
        if (json_array_size(chunk))
            PLUMB_TRY(plumb_ec2__describe_ids(aws, k, chunk, &items));
        for (i = start; i < n && i < start + PLUMB_EC2_CHUNK; i++) {
            item_id = plumb_ec2__id(k, json_array_get(ids, i));
            o = NULL;
            if (item_id && (x = plumb_ec2__find(k, items, item_id))) {
                o = k->observe(x);
                PLUMB_ALLOC_CHECK(o);
            }
            json_array_append_new(result, o ? o : json_null());
        }
        json_decref(chunk);
        json_decref(items);
        chunk = items = NULL;
    }
    *observed = result;
    result = NULL;
done:
    json_decref(result);
    json_decref(chunk);
    json_decref(items);
    return error;
}

int plumb_ec2__read_new(struct plumb_aws *aws, const struct plumb_ec2_kind *k,
                        int (*read)(struct plumb_aws *, const json_t *, json_t **),
                        const json_t *id, json_t **observed)
{
    long wait_ms = 500;
    int error = 0, i;

    for (i = 1;; i++) {
        PLUMB_TRY(read(aws, id, observed));
        if (*observed || i >= PLUMB_EC2_SETTLE_ATTEMPTS)
            break;
        plumb_sleep_ms(wait_ms);
        wait_ms *= 2;
    }
    if (!*observed)
        error = plumb_error_set(PLUMB_ENOTFOUND, "%s '%s' does not show after its creation",
                                k->what, plumb_ec2__id(k, id));
done:
    return error;
}

int plumb_ec2__undo_create(struct plumb_aws *aws,
                           int (*remove)(struct plumb_aws *, const json_t *, unsigned),
                           const json_t *id, int error)
{
    const struct plumb_error *e = plumb_error_last();
    char *saved = e && e->message ? strdup(e->message) : NULL;

    remove(aws, id, 0);
    if (saved)
        plumb_error_set(error, "%s", saved);
    free(saved);
    return error;
}

int plumb_ec2__delete(struct plumb_aws *aws, const struct plumb_ec2_kind *k, const char *item_id)
{
    json_t *in = json_pack("{s:s}", k->item_id, item_id), *out = NULL;
    int error;

    if (!in)
        return plumb_error_oom();
    error = plumb_ec2__call_retrying(aws, k->delete, in, &out, "DependencyViolation",
                                     PLUMB_EC2_DEPENDENCY_ATTEMPTS);
    if (error == PLUMB_ENOTFOUND)
        error = 0; /* gone already */
    json_decref(in);
    json_decref(out);
    return error;
}

struct wait_ctx {
    struct plumb_aws *aws;
    const struct plumb_ec2_kind *k;
    const char *item_id;
};

static int check_available(void *ctx, const char **status)
{
    struct wait_ctx *w = ctx;
    json_t *item = NULL;
    const char *state;
    int error;

    error = plumb_ec2__describe_one(w->aws, w->k, w->item_id, &item);
    if (error == 0) {
        state = json_string_value(json_object_get(item, "State"));
        *status = item ? "pending" : "creating";
        error = state && strcmp(state, "available") == 0;
    }
    json_decref(item);
    return error;
}

int plumb_ec2__wait_available(struct plumb_aws *aws, const struct plumb_ec2_kind *k,
                              const json_t *id, struct plumb_progress *p)
{
    struct wait_ctx w = {aws, k, plumb_ec2__id(k, id)};
    char what[64];

    if (!w.item_id)
        return plumb_error_set(PLUMB_EINVALID, "%s id lacks %s", k->what, k->id_keys[0]);
    snprintf(what, sizeof(what), "%s to become available", k->what);
    return plumb_provider_wait(p, 2000, check_available, &w, what);
}
