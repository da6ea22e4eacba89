#include "provider/elbv2_common.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider/provider.h"
#include "provider/util.h"
#include "util/buf.h"
#include "util/error.h"

const json_t *plumb_elbv2__find_by(const json_t *list, const char *member, const char *value)
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

static int cmp_json_str(const void *a, const void *b)
{
    const char *x = json_string_value(*(json_t *const *)a);
    const char *y = json_string_value(*(json_t *const *)b);

    return strcmp(x ? x : "", y ? y : "");
}

json_t *plumb_elbv2__sorted_strings(const json_t *arr)
{
    size_t i, n = json_array_size(arr);
    json_t **v = calloc(n ? n : 1, sizeof(*v)), *out = json_array();

    if (!v || !out) {
        free(v);
        json_decref(out);
        return NULL;
    }
    for (i = 0; i < n; i++)
        v[i] = json_array_get(arr, i);
    qsort(v, n, sizeof(*v), cmp_json_str);
    for (i = 0; i < n; i++)
        json_array_append(out, v[i]);
    free(v);
    return out;
}

int plumb_elbv2__name_for(const json_t *props, char *out, size_t n, const char *what)
{
    static const char *const keys[] = {"plumb:project", "plumb:env", "plumb:address"};
    const char *name = json_string_value(json_object_get(props, "Name")), *v;
    json_t *tags;
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    size_t k;
    int found = 0;

    if (name) {
        snprintf(out, n, "%s", name);
        return 0;
    }
    tags = plumb_provider_tags_to_map(json_object_get(props, "Tags"));
    for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        v = json_string_value(json_object_get(tags, keys[k]));
        found |= k == 2 && v;
        for (; v && *v; v++)
            h = (h ^ (unsigned char)*v) * 1099511628211ULL;
        h = (h ^ '/') * 1099511628211ULL;
    }
    json_decref(tags);
    if (!found)
        return plumb_error_set(PLUMB_EINVALID, "a %s needs Name (or plumb's tags to derive one)",
                               what);
    snprintf(out, n, "plumb-%016llx", (unsigned long long)h);
    return 0;
}

int plumb_elbv2__describe(struct plumb_aws *aws, const struct plumb_elbv2_kind *k,
                          const char *member, const json_t *values, json_t **items)
{
    json_t *in = member ? json_pack("{s:O}", member, values) : json_object();
    json_t *out = NULL;
    int error = 0;

    *items = NULL;
    PLUMB_ALLOC_CHECK(in);
    PLUMB_TRY(plumb_aws_paginate(aws, "elbv2", k->describe, in, &out));
    *items = json_incref(json_object_get(out, k->list));
    if (!*items)
        *items = json_array();
done:
    json_decref(in);
    json_decref(out);
    return error;
}

/* The ARNs of ids[start .. start + PLUMB_ELBV2_CHUNK), the ids that have one: one describe's
 * worth. */
static json_t *chunk_arns(const struct plumb_elbv2_kind *k, const json_t *ids, size_t start)
{
    json_t *chunk = json_array();
    const char *arn;
    size_t j;

    for (j = start; chunk && j < json_array_size(ids) && j < start + PLUMB_ELBV2_CHUNK; j++)
        if ((arn = plumb_provider_id_str(json_array_get(ids, j), k->arn)))
            json_array_append_new(chunk, json_string(arn));
    return chunk;
}

int plumb_elbv2__describe_ids(struct plumb_aws *aws, const struct plumb_elbv2_kind *k,
                              const json_t *ids, json_t **found)
{
    json_t *chunk = NULL, *items = NULL, *every = NULL;
    const json_t *item, *x;
    size_t i, j, n = json_array_size(ids);
    int error = 0;

    *found = json_array();
    PLUMB_ALLOC_CHECK(*found);
    for (i = 0; i < n; i += PLUMB_ELBV2_CHUNK) {
        chunk = chunk_arns(k, ids, i);
        PLUMB_ALLOC_CHECK(chunk);
        if (json_array_size(chunk)) {
            error = plumb_elbv2__describe(aws, k, k->arns, chunk, &items);
            if (error == PLUMB_ENOTFOUND) {
                /* one of them is gone: pick this chunk's items out of a full listing */
                if (!every)
                    PLUMB_TRY(plumb_elbv2__describe(aws, k, NULL, NULL, &every));
                json_array_foreach(chunk, j, x)
                {
                    if ((item = plumb_elbv2__find_by(every, k->arn, json_string_value(x))))
                        json_array_append(*found, (json_t *)item);
                }
                error = 0;
            } else if (error < 0) {
                goto done;
            } else {
                json_array_extend(*found, items);
            }
        }
        json_decref(chunk);
        json_decref(items);
        chunk = items = NULL;
    }
done:
    if (error < 0) {
        json_decref(*found);
        *found = NULL;
    }
    json_decref(chunk);
    json_decref(items);
    json_decref(every);
    return error;
}

int plumb_elbv2__read(struct plumb_aws *aws, const struct plumb_elbv2_kind *k, const json_t *id,
                      int (*observe_all)(struct plumb_aws *, const json_t *ids, const json_t *items,
                                         const json_t *wanted, json_t **),
                      json_t **observed)
{
    const char *arn = plumb_provider_id_str(id, k->arn);
    json_t *arns = NULL, *items = NULL, *ids = NULL, *all = NULL;
    int error = 0;

    *observed = NULL;
    if (!arn)
        return plumb_error_set(PLUMB_EINVALID, "%s id lacks %s", k->what, k->arn);
    arns = json_pack("[s]", arn);
    ids = json_pack("[O]", id);
    PLUMB_ALLOC_CHECK(arns);
    PLUMB_ALLOC_CHECK(ids);
    error = plumb_elbv2__describe(aws, k, k->arns, arns, &items);
    if (error == PLUMB_ENOTFOUND) {
        error = 0;
        goto done;
    }
    if (error < 0)
        goto done;
    PLUMB_TRY(observe_all(aws, ids, items, NULL, &all));
    if (json_is_object(json_array_get(all, 0)))
        *observed = json_incref(json_array_get(all, 0));
done:
    json_decref(arns);
    json_decref(items);
    json_decref(ids);
    json_decref(all);
    return error;
}

int plumb_elbv2__describe_tags(struct plumb_aws *aws, const json_t *arns, json_t **tags)
{
    json_t *all = json_object(), *chunk = NULL, *in = NULL, *out = NULL;
    const json_t *d;
    size_t i, j, n = json_array_size(arns);
    int error = 0;

    *tags = NULL;
    PLUMB_ALLOC_CHECK(all);
    for (i = 0; i < n; i += PLUMB_ELBV2_CHUNK) {
        chunk = json_array();
        PLUMB_ALLOC_CHECK(chunk);
        for (j = i; j < n && j < i + PLUMB_ELBV2_CHUNK; j++)
            json_array_append(chunk, json_array_get(arns, j));
        in = json_pack("{s:O}", "ResourceArns", chunk);
        PLUMB_ALLOC_CHECK(in);
        error = plumb_aws_call(aws, "elbv2", "DescribeTags", in, &out);
        if (error == PLUMB_ENOTFOUND && json_array_size(chunk) > 1) {
            for (j = 0; j < json_array_size(chunk); j++) {
                json_t *one = json_pack("[O]", json_array_get(chunk, j)), *sub = NULL;
                error = one ? plumb_elbv2__describe_tags(aws, one, &sub) : plumb_error_oom();
                json_decref(one);
                if (error < 0)
                    goto done;
                json_object_update(all, sub);
                json_decref(sub);
            }
        } else if (error == PLUMB_ENOTFOUND) {
            error = 0;
        } else if (error < 0) {
            goto done;
        } else {
            /* a resource the answer leaves out has no tags (it was just described) */
            json_array_foreach(chunk, j, d)
            {
                json_object_set_new(all, json_string_value(d), json_array());
            }
            json_array_foreach(json_object_get(out, "TagDescriptions"), j, d)
            {
                const char *arn = json_string_value(json_object_get(d, "ResourceArn"));
                json_t *tl = json_object_get(d, "Tags");
                if (arn)
                    json_object_set_new(all, arn, tl ? json_incref(tl) : json_array());
            }
        }
        json_decref(chunk);
        json_decref(in);
        json_decref(out);
        chunk = in = out = NULL;
    }
    *tags = all;
    all = NULL;
done:
    json_decref(all);
    json_decref(chunk);
    json_decref(in);
    json_decref(out);
    return error;
}

json_t *plumb_elbv2__declarable_attributes(const struct plumb_elbv2_kind *k, const json_t *attrs)
{
    json_t *out = json_array();
    const json_t *a;
    const char *value;
    size_t i;

    for (i = 0; out && k->attribute_keys[i]; i++) {
        if (!(a = plumb_elbv2__find_by(attrs, "Key", k->attribute_keys[i])))
            continue;
        value = json_string_value(json_object_get(a, "Value"));
        json_array_append_new(
            out, json_pack("{s:s, s:s}", "Key", k->attribute_keys[i], "Value", value ? value : ""));
    }
    return out;
}

int plumb_elbv2__put_attributes(struct plumb_aws *aws, const struct plumb_elbv2_kind *k,
                                const char *arn, const json_t *before, const json_t *after)
{
    json_t *changed = json_array();
    const json_t *a, *b;
    size_t i;
    int error = 0;

    PLUMB_ALLOC_CHECK(changed);
    json_array_foreach(after, i, a)
    {
        const char *key = json_string_value(json_object_get(a, "Key"));
        const char *value = json_string_value(json_object_get(a, "Value"));
        b = plumb_elbv2__find_by(before, "Key", key);
        if (key && (!b || !json_equal(json_object_get(a, "Value"), json_object_get(b, "Value"))))
            json_array_append_new(changed,
                                  json_pack("{s:s, s:s}", "Key", key, "Value", value ? value : ""));
    }
    if (json_array_size(changed))
        error =
            plumb_provider_call(aws, "elbv2", k->modify_attributes,
                                json_pack("{s:s, s:O}", k->arn, arn, "Attributes", changed), NULL);
done:
    json_decref(changed);
    return error;
}

int plumb_elbv2__update_tags(struct plumb_aws *aws, const char *arn, const json_t *before,
                             const json_t *after)
{
    json_t *tb = plumb_provider_tags_to_map(json_object_get(before, "Tags"));
    json_t *ta = plumb_provider_tags_to_map(json_object_get(after, "Tags"));
    json_t *add = NULL, *del = NULL;
    int error = 0;

    plumb_provider_tags_diff(tb, ta, &add, &del);
    if (json_object_size(add))
        PLUMB_TRY(plumb_provider_call(aws, "elbv2", "AddTags",
                                      json_pack("{s:[s], s:o}", "ResourceArns", arn, "Tags",
                                                plumb_provider_tags_to_list(add, "Key", "Value")),
                                      NULL));
    if (json_array_size(del))
        PLUMB_TRY(plumb_provider_call(
            aws, "elbv2", "RemoveTags",
            json_pack("{s:[s], s:O}", "ResourceArns", arn, "TagKeys", del), NULL));
done:
    json_decref(tb);
    json_decref(ta);
    json_decref(add);
    json_decref(del);
    return error;
}

/* ---- listeners and rules -------------------------------------------------------------- */

/* Copies the members `names` (NULL-terminated) of `from` that are present into `to`. */
void plumb_elbv2__copy_members(json_t *to, const json_t *from, const char *const *names)
{
    json_t *v;

    for (; *names; names++)
        if ((v = json_object_get(from, *names)))
            json_object_set(to, *names, v);
}

/* A copy of the object `from` (if it is one) with only the members `names`, set in `to`. */
void plumb_elbv2__copy_object(json_t *to, const char *member, const json_t *from,
                              const char *const *names)
{
    json_t *x;

    if (!json_is_object(json_object_get(from, member)) || !(x = json_object()))
        return;
    plumb_elbv2__copy_members(x, json_object_get(from, member), names);
    json_object_set_new(to, member, x);
}

/* A list of objects with only the members `names`, set in `to` as `member`. */
void plumb_elbv2__copy_list(json_t *to, const char *member, const json_t *from,
                            const char *const *names)
{
    json_t *list, *y;
    const json_t *t;
    size_t i;

    if (!json_is_array(json_object_get(from, member)) || !(list = json_array()))
        return;
    json_array_foreach(json_object_get(from, member), i, t)
    {
        if ((y = json_object())) {
            plumb_elbv2__copy_members(y, t, names);
            json_array_append_new(list, y);
        }
    }
    json_object_set_new(to, member, list);
}

/* One action of the API in the schema's shape (the same names, fewer members). */
json_t *plumb_elbv2__action_of(const json_t *a)
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
    plumb_elbv2__copy_members(o, a, top);
    plumb_elbv2__copy_object(o, "RedirectConfig", a, redirect);
    plumb_elbv2__copy_object(o, "FixedResponseConfig", a, fixed);
    if (json_is_object(fc) && (x = json_object())) {
        plumb_elbv2__copy_list(x, "TargetGroups", fc, tuple);
        plumb_elbv2__copy_object(x, "TargetGroupStickinessConfig", fc, sticky);
        json_object_set_new(o, "ForwardConfig", x);
    }
    return o;
}

json_t *plumb_elbv2__map_list(const json_t *list, json_t *(*fn)(const json_t *))
{
    json_t *out = json_array();
    const json_t *a;
    size_t i;

    json_array_foreach(list, i, a)
    {
        if (out)
            json_array_append_new(out, fn(a));
    }
    return out;
}

/* The parent's ARN inside an item's: "...:listener/app/n/lb/l" → "...:loadbalancer/app/n/lb".
 * Caller frees. */
static char *parent_of(const struct plumb_elbv2_kind *k, const char *arn)
{
    const char *p = arn ? strstr(arn, k->own_part) : NULL;
    const char *end = arn ? strrchr(arn, '/') : NULL;
    struct plumb_buf b = PLUMB_BUF_INIT;

    if (!p || !end || end < p + strlen(k->own_part))
        return NULL;
    plumb_buf_put(&b, arn, (size_t)(p - arn));
    plumb_buf_puts(&b, k->parent_part);
    p += strlen(k->own_part);
    plumb_buf_put(&b, p, (size_t)(end - p));
    return plumb_buf_detach(&b);
}

int plumb_elbv2__child_read(struct plumb_aws *aws, const struct plumb_elbv2_kind *k,
                            const json_t *id,
                            json_t *(*observe)(const json_t *item, const json_t *wanted),
                            json_t **observed)
{
    const char *arn = plumb_provider_id_str(id, k->arn);
    json_t *arns = NULL, *items = NULL;
    const json_t *x;
    int error = 0;

    *observed = NULL;
    if (!arn)
        return plumb_error_set(PLUMB_EINVALID, "%s id lacks %s", k->what, k->arn);
    arns = json_pack("[s]", arn);
    PLUMB_ALLOC_CHECK(arns);
    error = plumb_elbv2__describe(aws, k, k->arns, arns, &items);
    if (error == PLUMB_ENOTFOUND) {
        error = 0; /* ListenerNotFound, RuleNotFound */
        goto done;
    }
    if (error < 0)
        goto done;
    if ((x = plumb_elbv2__find_by(items, k->arn, arn))) {
        *observed = observe(x, NULL);
        PLUMB_ALLOC_CHECK(*observed);
    }
done:
    json_decref(arns);
    json_decref(items);
    return error;
}

int plumb_elbv2__describe_children(struct plumb_aws *aws, const struct plumb_elbv2_kind *k,
                                   const char *parent_arn, json_t **items)
{
    json_t *v = json_string(parent_arn);
    int error;

    *items = NULL;
    if (!v)
        return plumb_error_oom();
    error = plumb_elbv2__describe(aws, k, k->parent, v, items);
    json_decref(v);
    return error;
}

/* The items of `chunk` (ARNs) that exist, one describe per parent. */
static int describe_by_parent(struct plumb_aws *aws, const struct plumb_elbv2_kind *k,
                              const json_t *chunk, json_t *found)
{
    json_t *seen = json_object(), *items = NULL;
    const json_t *x, *y, *item;
    size_t i, j;
    char *parent = NULL;
    int error = 0;

    PLUMB_ALLOC_CHECK(seen);
    json_array_foreach(chunk, i, x)
    {
        free(parent);
        parent = parent_of(k, json_string_value(x));
        if (!parent || json_object_get(seen, parent))
            continue;
        json_object_set_new(seen, parent, json_true());
        error = plumb_elbv2__describe_children(aws, k, parent, &items);
        if (error == PLUMB_ENOTFOUND) {
            error = 0; /* the parent is gone, and its items with it */
            continue;
        }
        if (error < 0)
            goto done;
        json_array_foreach(chunk, j, y)
        {
            if ((item = plumb_elbv2__find_by(items, k->arn, json_string_value(y))))
                json_array_append(found, (json_t *)item);
        }
        json_decref(items);
        items = NULL;
    }
done:
    free(parent);
    json_decref(seen);
    json_decref(items);
    return error;
}

int plumb_elbv2__child_read_many(struct plumb_aws *aws, const struct plumb_elbv2_kind *k,
                                 const json_t *ids, const json_t *wanted,
                                 json_t *(*observe)(const json_t *item, const json_t *wanted),
                                 json_t **observed)
{
    json_t *found = json_array(), *chunk = NULL, *items = NULL, *out = json_array(), *o;
    const json_t *x;
    size_t i, n = json_array_size(ids);
    int error = 0;

    *observed = NULL;
    PLUMB_ALLOC_CHECK(found);
    PLUMB_ALLOC_CHECK(out);
    for (i = 0; i < n; i += PLUMB_ELBV2_CHUNK) {
        chunk = chunk_arns(k, ids, i);
        PLUMB_ALLOC_CHECK(chunk);
        if (json_array_size(chunk)) {
            /* one unknown ARN fails the whole call: then the chunk is read per parent */
            error = plumb_elbv2__describe(aws, k, k->arns, chunk, &items);
            if (error == PLUMB_ENOTFOUND)
                error = describe_by_parent(aws, k, chunk, found);
            else if (error == 0)
                json_array_extend(found, items);
            if (error < 0)
                goto done;
        }
        json_decref(chunk);
        json_decref(items);
        chunk = items = NULL;
    }
    for (i = 0; i < n; i++) {
        x = plumb_elbv2__find_by(found, k->arn,
                                 plumb_provider_id_str(json_array_get(ids, i), k->arn));
        o = x ? observe(x, wanted) : json_null();
        PLUMB_ALLOC_CHECK(o);
        json_array_append_new(out, o);
    }
    *observed = out;
    out = NULL;
done:
    json_decref(found);
    json_decref(chunk);
    json_decref(items);
    json_decref(out);
    return error;
}
