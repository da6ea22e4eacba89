#include "provider/util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/sys.h"

int plumb_provider_call(struct plumb_aws *aws, const char *service, const char *operation,
                        json_t *in, json_t **out)
{
    json_t *res = NULL;
    int error;

    if (out)
        *out = NULL;
    if (!in)
        return plumb_error_oom();
    error = plumb_aws_call(aws, service, operation, in, &res);
    json_decref(in);
    if (error == 0 && out)
        *out = res;
    else
        json_decref(res);
    return error;
}

int plumb_provider_last_code_is(const char *code)
{
    const struct plumb_aws_error_info *e = plumb_aws_last_error();

    return e && strcmp(e->code, code) == 0;
}

json_t *plumb_provider_sorted_tags(const json_t *list)
{
    json_t *map = plumb_provider_tags_to_map(list);
    json_t *out = plumb_provider_tags_to_list(map, "Key", "Value");

    json_decref(map);
    return out;
}

int plumb_provider_covers(const json_t *declared, const json_t *actual)
{
    const char *k;
    json_t *v;
    size_t i;

    if (json_is_object(declared)) {
        if (!json_is_object(actual))
            return 0;
        json_object_foreach((json_t *)declared, k, v)
        {
            if (!plumb_provider_covers(v, json_object_get(actual, k)))
                return 0;
        }
        return 1;
    }
    if (json_is_array(declared)) {
        if (!json_is_array(actual) || json_array_size(actual) != json_array_size(declared))
            return 0;
        json_array_foreach(declared, i, v)
        {
            if (!plumb_provider_covers(v, json_array_get(actual, i)))
                return 0;
        }
        return 1;
    }
    return actual ? json_equal(declared, actual) : json_is_null(declared);
}

int plumb_provider_needs(const json_t *before, const json_t *current, const json_t *want,
                         const char *key)
{
    const json_t *w = json_object_get(want, key);

    if (w)
        return !plumb_provider_covers(w, json_object_get(current, key));
    /* null: found unset (plumb_provider_not_set), so there is nothing to put back */
    w = json_object_get(before, key);
    return w && !json_is_null(w);
}

json_t *plumb_provider_tags_to_map(const json_t *list)
{
    json_t *map = json_object(), *t;
    size_t i;

    if (!map)
        return NULL;
    json_array_foreach(list, i, t)
    {
        const char *k = json_string_value(json_object_get(t, "Key"));
        const json_t *v = json_object_get(t, "Value");
        if (!k) {
            k = json_string_value(json_object_get(t, "key"));
            v = json_object_get(t, "value");
        }
        if (k)
            json_object_set_new(map, k, json_string(json_is_string(v) ? json_string_value(v) : ""));
    }
    return map;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

json_t *plumb_provider_tags_to_list(const json_t *map, const char *key, const char *value)
{
    json_t *list = json_array(), *v;
    const char **keys, *k;
    size_t n = json_object_size(map), i = 0;

    if (!list)
        return NULL;
    keys = calloc(n ? n : 1, sizeof(*keys));
    if (!keys) {
        json_decref(list);
        return NULL;
    }
    json_object_foreach((json_t *)map, k, v) keys[i++] = k;
    qsort(keys, n, sizeof(*keys), cmp_str);
    for (i = 0; i < n; i++) {
        v = json_object_get(map, keys[i]);
        json_array_append_new(list, json_pack("{s:s, s:s}", key, keys[i], value,
                                              json_is_string(v) ? json_string_value(v) : ""));
    }
    free(keys);
    return list;
}

void plumb_provider_tags_diff(const json_t *before, const json_t *after, json_t **add,
                              json_t **remove_keys)
{
    const char *k;
    json_t *v;

    *add = json_object();
    *remove_keys = json_array();
    json_object_foreach((json_t *)after, k, v)
    {
        if (!json_equal(json_object_get(before, k), v))
            json_object_set(*add, k, v);
    }
    json_object_foreach((json_t *)before, k, v)
    {
        if (!json_object_get(after, k))
            json_array_append_new(*remove_keys, json_string(k));
    }
}

char *plumb_provider_url_decode(const char *s)
{
    struct plumb_buf b = PLUMB_BUF_INIT;

    for (; *s; s++) {
        if (*s == '%' && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2])) {
            char hex[3] = {s[1], s[2], 0};
            plumb_buf_putc(&b, (char)strtol(hex, NULL, 16));
            s += 2;
        } else if (*s == '+') {
            plumb_buf_putc(&b, ' ');
        } else {
            plumb_buf_putc(&b, *s);
        }
    }
    return plumb_buf_detach(&b);
}

static int cmp_json_text(const void *a, const void *b)
{
    char *x = json_dumps(*(json_t *const *)a, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
    char *y = json_dumps(*(json_t *const *)b, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
    int c = strcmp(x ? x : "", y ? y : "");

    free(x);
    free(y);
    return c;
}

/* A list, sorted by canonical text, from a value that may be a lone item. */
static json_t *as_sorted_list(json_t *v)
{
    json_t *list, **items;
    size_t i, n;

    if (json_is_array(v)) {
        list = json_incref(v);
    } else {
        list = json_array();
        json_array_append(list, v);
    }
    n = json_array_size(list);
    items = calloc(n ? n : 1, sizeof(*items));
    if (!items)
        return list;
    for (i = 0; i < n; i++)
        items[i] = json_incref(json_array_get(list, i));
    qsort(items, n, sizeof(*items), cmp_json_text);
    json_decref(list);
    list = json_array();
    for (i = 0; i < n; i++)
        json_array_append_new(list, items[i]);
    free(items);
    return list;
}

static const char *const listy[] = {"Action", "NotAction", "Resource", "NotResource", NULL};

static json_t *normalize_principal(json_t *p)
{
    const char *k;
    json_t *v, *out;

    if (!json_is_object(p))
        return json_incref(p); /* "*" */
    out = json_object();
    json_object_foreach(p, k, v) json_object_set_new(out, k, as_sorted_list(v));
    return out;
}

static json_t *normalize_statement(json_t *st)
{
    json_t *out = json_deep_copy(st), *v;
    const char *const *key;

    if (!json_is_object(out))
        return out;
    for (key = listy; *key; key++)
        if ((v = json_object_get(out, *key)))
            json_object_set_new(out, *key, as_sorted_list(v));
    if ((v = json_object_get(out, "Principal")))
        json_object_set_new(out, "Principal", normalize_principal(v));
    if ((v = json_object_get(out, "NotPrincipal")))
        json_object_set_new(out, "NotPrincipal", normalize_principal(v));
    return out;
}

json_t *plumb_provider_policy_normalize(const json_t *doc)
{
    json_t *parsed = NULL, *out, *st, *list;
    size_t i;

    if (json_is_string(doc)) {
        const char *s = json_string_value(doc);
        char *decoded = NULL;
        parsed = json_loads(s, 0, NULL);
        if (!parsed && strchr(s, '%')) {
            decoded = plumb_provider_url_decode(s);
            parsed = decoded ? json_loads(decoded, 0, NULL) : NULL;
        }
        free(decoded);
        if (!parsed)
            return NULL;
    } else if (json_is_object(doc)) {
        parsed = json_incref((json_t *)doc);
    } else {
        return NULL;
    }
    out = json_deep_copy(parsed);
    json_decref(parsed);
    st = json_object_get(out, "Statement");
    if (st) {
        list = json_array();
        if (json_is_array(st)) {
            json_array_foreach(st, i, parsed)
                json_array_append_new(list, normalize_statement(parsed));
        } else {
            json_array_append_new(list, normalize_statement(st));
        }
        json_object_set_new(out, "Statement", list);
    }
    return out;
}

int plumb_provider_changed(const json_t *before, const json_t *after, const char *key)
{
    const json_t *a = json_object_get(before, key), *b = json_object_get(after, key);

    if (!a && !b)
        return 0;
    return !json_equal(a, b);
}

const char *plumb_provider_id_str(const json_t *id, const char *name)
{
    return json_string_value(json_object_get(id, name));
}

static void human_elapsed(char *out, size_t n, long secs)
{
    if (secs >= 60)
        snprintf(out, n, "%ldm%02lds", secs / 60, secs % 60);
    else
        snprintf(out, n, "%lds", secs);
}

int plumb_provider_wait(struct plumb_progress *p, long default_poll_ms,
                        int (*check)(void *ctx, const char **status), void *ctx, const char *what)
{
    time_t start = plumb_clock_now();
    long poll = p && p->poll_interval_ms ? p->poll_interval_ms : default_poll_ms;
    long timeout = p && p->timeout_seconds ? p->timeout_seconds : 1800;
    const char *status = NULL;
    char elapsed[32];
    int rc;

    for (;;) {
        status = NULL;
        rc = check(ctx, &status);
        if (rc != 0)
            return rc < 0 ? rc : 0;
        if (plumb_clock_now() - start >= timeout) {
            human_elapsed(elapsed, sizeof(elapsed), (long)(plumb_clock_now() - start));
            return plumb_error_set(PLUMB_ERROR, "timed out after %s waiting for %s%s%s%s", elapsed,
                                   what, status ? " (last status: " : "", status ? status : "",
                                   status ? ")" : "");
        }
        if (p && p->report)
            p->report(p->ctx, status ? status : "waiting");
        plumb_sleep_ms(poll);
    }
}

int plumb_provider_wants(const json_t *wanted, const char *name)
{
    return !wanted || json_object_get(wanted, name) != NULL;
}

void plumb_provider_not_set(json_t *observed, const json_t *wanted, const char *name)
{
    if (wanted && json_object_get(wanted, name))
        json_object_set_new(observed, name, json_null());
}
