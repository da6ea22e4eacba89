#include "plan/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "config/value.h"
#include "provider/provider.h"
#include "schema/schema.h"
#include "util/error.h"

/* ---- comparing ------------------------------------------------------------------------ */

static int fingerprint_of(const json_t *v, const char **out)
{
    *out = json_string_value(json_object_get(v, PLUMB_STATE_FINGERPRINT_KEY));
    return *out != NULL;
}

/*
 * Does what exists (`actual`) satisfy what is declared (`desired`)? Objects: every declared
 * member matches, members AWS adds (defaults) do not matter. Arrays: same length, in order
 * unless the schema says the order is AWS's own choice. `pointer` is the schema pointer of
 * `desired` ("/properties/Tags", items as "*").
 */
static int satisfies(struct plumb_state *st, const struct plumb_schema_type *t, const char *pointer,
                     const json_t *desired, const json_t *actual)
{
    struct plumb_buf sub = PLUMB_BUF_INIT;
    const char *k, *fp_have;
    json_t *v;
    size_t i, j, n;
    int ok = 1;

    if (plumb_value_is_unknown(desired))
        return 0;
    if (plumb_value_is_sensitive(desired)) {
        char fp[80];
        if (!fingerprint_of(actual, &fp_have) ||
            plumb_state_fingerprint(st, plumb_value_unwrap(desired), fp) < 0)
            return 0;
        return strcmp(fp, fp_have) == 0;
    }
    if (!actual || json_is_null(actual))
        /* APIs leave out what is empty (and a driver reads a declared setting found unset as
         * null: plumb_provider_not_set): an empty list or map declared is not a change */
        return json_is_null(desired) || (json_is_array(desired) && !json_array_size(desired)) ||
               (json_is_object(desired) && !json_object_size(desired));
    if (json_is_object(desired)) {
        if (!json_is_object(actual))
            return 0;
        json_object_foreach((json_t *)desired, k, v)
        {
            plumb_buf_clear(&sub);
            plumb_buf_printf(&sub, "%s/%s", pointer, k);
            if (!satisfies(st, t, sub.ptr, v, json_object_get(actual, k))) {
                ok = 0;
                break;
            }
        }
        goto done;
    }
    if (json_is_array(desired)) {
        int partial = t && plumb_schema_is_partial(t, pointer);
        size_t m;
        n = json_array_size(desired);
        m = json_array_size(actual);
        if (!json_is_array(actual) || (partial ? m < n : m != n)) {
            ok = 0;
            goto done;
        }
        plumb_buf_printf(&sub, "%s/*", pointer);
        if (t && (partial || plumb_schema_is_unordered(t, pointer))) {
            /* a multiset match: each declared item takes one distinct item of AWS's (which
             * may have more, for a partial array) */
            unsigned char *used = calloc(m ? m : 1, 1);
            if (!used) {
                ok = 0;
                goto done;
            }
            for (i = 0; ok && i < n; i++) {
                int found = 0;
                for (j = 0; j < m && !found; j++)
                    if (!used[j] && satisfies(st, t, sub.ptr, json_array_get(desired, i),
                                              json_array_get(actual, j)))
                        used[j] = 1, found = 1;
                ok = found;
            }
            free(used);
        } else {
            for (i = 0; ok && i < n; i++)
                ok = satisfies(st, t, sub.ptr, json_array_get(desired, i),
                               json_array_get(actual, i));
        }
        goto done;
    }
    ok = json_equal(desired, actual);
done:
    plumb_buf_release(&sub);
    return ok;
}

static int ignored(const struct plumb_resource_decl *d, const char *prop)
{
    size_t i;

    for (i = 0; d && d->ignore_changes && i < d->ignore_changes->n; i++) {
        const char *x = d->ignore_changes->items[i]->scalar;
        size_t n = strlen(x);
        /* "Tags" ignores Tags; "DeploymentConfiguration.X" is matched at its top level here */
        if (x && (strcmp(x, prop) == 0 || (strncmp(x, prop, strlen(prop)) == 0 &&
                                           x[strlen(prop)] == '.' && n > strlen(prop))))
            return 1;
    }
    return 0;
}

/* The value at a "/properties/A/B" pointer, or NULL ("*" segments are not followed). */
static const json_t *at_pointer(const json_t *props, const char *pointer)
{
    char seg[256];
    const char *p = pointer + strlen("/properties/");
    size_t n;

    while (props && *p) {
        n = strcspn(p, "/");
        if (n >= sizeof(seg) || (n == 1 && *p == '*'))
            return NULL;
        memcpy(seg, p, n);
        seg[n] = '\0';
        props = json_object_get(plumb_value_unwrap(props), seg);
        p += n;
        if (*p == '/')
            p++;
    }
    return props;
}

/* Create-only paths under top-level property `prop` whose values differ. */
static void forcing_paths(json_t *out, const struct plumb_schema_type *t, const char *prop,
                          const json_t *desired, const json_t *actual, struct plumb_state *st)
{
    const json_t *list = json_object_get(t->doc, "createOnlyProperties"), *p;
    char top[300];
    size_t i;

    snprintf(top, sizeof(top), "/properties/%s", prop);
    json_array_foreach(list, i, p)
    {
        const char *ptr = json_string_value(p);
        if (!ptr)
            continue;
        if (strcmp(ptr, top) == 0) {
            json_array_append_new(out, json_string(prop));
        } else if (strncmp(ptr, top, strlen(top)) == 0 && ptr[strlen(top)] == '/' &&
                   !strchr(ptr, '*')) {
            const json_t *dv = at_pointer(desired, ptr), *av = at_pointer(actual, ptr);
            if (dv && !satisfies(st, t, ptr, dv, av)) {
                char dotted[300], *c;
                snprintf(dotted, sizeof(dotted), "%s", ptr + strlen("/properties/"));
                for (c = dotted; *c; c++)
                    if (*c == '/')
                        *c = '.';
                json_array_append_new(out, json_string(dotted));
            }
        }
    }
}

/* ---- building ------------------------------------------------------------------------- */

static int add_change(struct plumb_plan *p, struct plumb_change **out)
{
    struct plumb_change *v = realloc(p->changes, (p->nchanges + 1) * sizeof(*v));

    if (!v)
        return plumb_error_oom();
    p->changes = v;
    *out = &p->changes[p->nchanges++];
    memset(*out, 0, sizeof(**out));
    return 0;
}

/* What exists, as compared: observed where AWS reports a property, last applied elsewhere. */
static json_t *merged_actual(const json_t *record, const json_t *observed)
{
    json_t *m = json_deep_copy(json_object_get(record, "properties"));
    const char *k;
    json_t *v;

    if (!m)
        m = json_object();
    json_object_foreach((json_t *)observed, k, v) json_object_set(m, k, v);
    return m;
}

/* Tags without plumb's own: those are bookkeeping, written with every create and update,
 * but their absence (an imported resource) is not by itself a change to plan. */
static json_t *without_plumb_tags(const json_t *tags)
{
    json_t *out, *x;
    const char *k;
    size_t i;

    if (json_is_object(tags)) {
        out = json_object();
        json_object_foreach((json_t *)tags, k, x) if (strncmp(k, "plumb:", 6) != 0)
            json_object_set(out, k, x);
        return out;
    }
    if (!json_is_array(tags))
        return json_incref((json_t *)tags);
    out = json_array();
    json_array_foreach(tags, i, x)
    {
        const char *key = json_string_value(json_object_get(x, "Key"));
        if (!key || strncmp(key, "plumb:", 6) != 0)
            json_array_append(out, x);
    }
    return out;
}

static void compare(struct plumb_change *c, const struct plumb_resource_decl *decl,
                    const struct plumb_schema_type *t, const json_t *desired, const json_t *actual,
                    const json_t *last, struct plumb_state *st)
{
    const char *k;
    json_t *v;
    char ptr[300];

    c->diffs = json_array();
    c->replace_because = json_array();
    /* declared properties */
    json_object_foreach((json_t *)desired, k, v)
    {
        const json_t *a = json_object_get(actual, k);
        if (ignored(decl, k))
            continue;
        snprintf(ptr, sizeof(ptr), "/properties/%s", k);
        if (t && t->tags_property && strcmp(k, t->tags_property) == 0) {
            json_t *dt = without_plumb_tags(v), *at = a ? without_plumb_tags(a) : NULL;
            int same = satisfies(st, t, ptr, dt, at) ||
                       (!at && !json_array_size(dt) && !json_object_size(dt));
            json_decref(dt);
            json_decref(at);
            if (same)
                continue;
        } else if (satisfies(st, t, ptr, v, a)) {
            continue;
        }
        {
            size_t before = json_array_size(c->replace_because);
            forcing_paths(c->replace_because, t, k, desired, actual, st);
            json_array_append_new(c->diffs,
                                  json_pack("{s:s, s:o, s:o, s:b}", "path", k, "before",
                                            a ? plumb_state_protect(st, a) : json_null(), "after",
                                            json_deep_copy(v), "forces_replacement",
                                            json_array_size(c->replace_because) > before));
        }
    }
    /* properties applied before and now left out: unset them */
    json_object_foreach((json_t *)last, k, v)
    {
        /* null: nothing was set (a setting found removed outside plumb reads as null) */
        if (json_object_get(desired, k) || ignored(decl, k) || json_is_null(v))
            continue;
        if (t && plumb_schema_is_read_only(t, k))
            continue;
        json_array_append_new(c->diffs, json_pack("{s:s, s:O, s:n, s:b}", "path", k, "before", v,
                                                  "after", "forces_replacement",
                                                  t && plumb_schema_is_create_only(t, k)));
        if (t && plumb_schema_is_create_only(t, k))
            json_array_append_new(c->replace_because, json_string(k));
    }
    if (json_array_size(c->replace_because))
        c->action = PLUMB_ACTION_REPLACE;
    else if (json_array_size(c->diffs))
        c->action = PLUMB_ACTION_UPDATE;
    else
        c->action = PLUMB_ACTION_NOOP;
}

void plumb_plan_compare(struct plumb_change *c, const struct plumb_resource_decl *decl,
                        const json_t *desired, const json_t *record, const json_t *observed,
                        const json_t *last, struct plumb_state *st)
{
    const struct plumb_schema_type *t = decl ? decl->schema : plumb_schema_find(c->type);
    const struct plumb_resource_type *d = plumb_provider_find(c->type);
    json_t *actual, *as_read;

    c->before = merged_actual(record, observed);
    actual = t ? plumb_schema_normalize(t, c->before) : json_incref(c->before);
    as_read = d && d->normalize ? d->normalize(desired) : json_incref((json_t *)desired);
    compare(c, decl, t, as_read, actual, last, st);
    json_decref(as_read);
    json_decref(actual);
}

static json_t *deps_of(const struct plumb_model *m, size_t i)
{
    json_t *deps = json_array();
    const size_t *d;
    size_t n, k;

    d = plumb_graph_deps(m->graph, i, &n);
    for (k = 0; k < n; k++)
        json_array_append_new(deps, json_string(m->resources[d[k]].address));
    return deps;
}

static int in_array(const json_t *arr, const char *s)
{
    const json_t *x;
    size_t i;

    json_array_foreach(arr, i,
                       x) if (json_is_string(x) && strcmp(json_string_value(x), s) == 0) return 1;
    return 0;
}

/* Deletes in an order where nothing is deleted before what depends on it. */
static void order_deletes(struct plumb_change *dels, size_t n)
{
    size_t i, j, placed = 0;
    unsigned char *done = calloc(n ? n : 1, 1);
    struct plumb_change *out = calloc(n ? n : 1, sizeof(*out));

    if (!done || !out)
        goto fail;
    while (placed < n) {
        int progress = 0;
        for (i = 0; i < n; i++) {
            int blocked = 0;
            if (done[i])
                continue;
            /* i can go once every not-yet-deleted j that depends on i is gone */
            for (j = 0; j < n && !blocked; j++)
                if (!done[j] && j != i && in_array(dels[j].depends_on, dels[i].address))
                    blocked = 1;
            if (!blocked) {
                out[placed++] = dels[i];
                done[i] = 1;
                progress = 1;
            }
        }
        if (!progress) /* a cycle in recorded dependencies: keep the rest as they are */
            for (i = 0; i < n; i++)
                if (!done[i])
                    out[placed++] = dels[i], done[i] = 1;
    }
    if (n)
        memcpy(dels, out, n * sizeof(*out));
fail:
    free(done);
    free(out);
}

static int compare_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Appends `tag`, n in decimal and ':'. */
static void hash_count(struct plumb_buf *b, char tag, size_t n)
{
    char digits[24];
    size_t i = sizeof(digits);

    do
        digits[--i] = (char)('0' + n % 10);
    while ((n /= 10) > 0);
    plumb_buf_putc(b, tag);
    plumb_buf_put(b, digits + i, sizeof(digits) - i);
    plumb_buf_putc(b, ':');
}

/* Appends `tag`, the length of the n bytes of text, ':' and the text. */
static void hash_text(struct plumb_buf *b, char tag, const char *text, size_t n)
{
    hash_count(b, tag, n);
    plumb_buf_put(b, text, n);
}

/*
 * Writes `v` in an unambiguous encoding (a tag and a length before every piece; object keys
 * sorted), secrets as their fingerprints, as plumb_state_protect would store them, without
 * building that copy.
 */
static int hash_value(struct plumb_buf *b, const json_t *v, struct plumb_state *st)
{
    char num[40], fp[80];
    const char *k, **keys;
    json_t *x;
    size_t i, n;
    int error = 0;

    if (plumb_value_is_sensitive(v) && !plumb_value_is_unknown(plumb_value_unwrap(v))) {
        if (plumb_state_fingerprint(st, plumb_value_unwrap(v), fp) < 0)
            return -1;
        hash_text(b, 'S', fp, strlen(fp));
        return 0;
    }
    v = plumb_value_unwrap(v);
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        n = json_object_size(v);
        keys = malloc((n ? n : 1) * sizeof(*keys));
        if (!keys)
            return plumb_error_oom();
        i = 0;
        json_object_foreach((json_t *)v, k, x) keys[i++] = k;
        qsort(keys, n, sizeof(*keys), compare_keys);
        hash_count(b, '{', n);
        for (i = 0; i < n && error == 0; i++) {
            hash_text(b, 'k', keys[i], strlen(keys[i]));
            error = hash_value(b, json_object_get(v, keys[i]), st);
        }
        free(keys);
        return error;
    case JSON_ARRAY:
        hash_count(b, '[', json_array_size(v));
        json_array_foreach(v, i, x) if ((error = hash_value(b, x, st)) < 0) return error;
        return 0;
    case JSON_STRING:
        hash_text(b, 's', json_string_value(v), json_string_length(v));
        return 0;
    case JSON_INTEGER:
        n = (size_t)snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        hash_text(b, 'i', num, n);
        return 0;
    case JSON_REAL:
        n = (size_t)snprintf(num, sizeof(num), "%.17g", json_real_value(v));
        hash_text(b, 'r', num, n);
        return 0;
    case JSON_TRUE:
        hash_count(b, 't', 0);
        return 0;
    case JSON_FALSE:
        hash_count(b, 'f', 0);
        return 0;
    default:
        hash_count(b, 'n', 0);
        return 0;
    }
}

int plumb_plan_config_hash(char out[72], const struct plumb_model *m, struct plumb_state *st)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0, i;
    struct plumb_buf b = PLUMB_BUF_INIT;
    size_t k;
    int error = 0;

    /* the model keeps resources sorted by address: moving a block in the file is no change */
    for (k = 0; k < m->nresources && error == 0; k++) {
        hash_text(&b, 'a', m->resources[k].address, strlen(m->resources[k].address));
        error = hash_value(&b, m->resources[k].properties, st);
    }
    if (error == 0 && EVP_Digest(b.ptr ? b.ptr : "", b.len, md, &len, EVP_sha256(), NULL) != 1)
        error = plumb_error_set(PLUMB_ERROR, "sha256 is not available");
    plumb_buf_release(&b);
    if (error < 0)
        return error;
    strcpy(out, "sha256:");
    for (i = 0; i < len && 7 + 2 * i + 2 < 72; i++)
        snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
    return 0;
}

int plumb_plan_build(struct plumb_plan **out, const struct plumb_plan_input *in)
{
    const struct plumb_model *m = in->model;
    struct plumb_plan *p;
    struct plumb_change *c, *dels = NULL;
    unsigned char *keep = NULL;
    size_t i, ndels = 0;
    const char *addr;
    json_t *rec;
    char hash[72];
    int error = 0;

    *out = NULL;
    p = calloc(1, sizeof(*p));
    if (!p)
        return plumb_error_oom();
    p->env = strdup(m->env->name);
    p->lineage = plumb_state_lineage(in->state) ? strdup(plumb_state_lineage(in->state)) : NULL;
    p->serial = plumb_state_serial(in->state);
    PLUMB_TRY(plumb_plan_config_hash(hash, m, in->state));
    p->config_hash = strdup(hash);
    p->outputs = json_incref(m->outputs);

    /* --target: those resources and what they depend on */
    if (in->targets && json_array_size(in->targets) && !in->destroy) {
        size_t *roots = calloc(json_array_size(in->targets), sizeof(*roots)), nroots = 0;
        const json_t *t;
        keep = calloc(m->nresources ? m->nresources : 1, 1);
        PLUMB_ALLOC_CHECK(roots && keep);
        json_array_foreach(in->targets, i, t)
        {
            long idx = plumb_model_find(m, json_string_value(t));
            if (idx >= 0)
                roots[nroots++] = (size_t)idx;
            else if (!json_object_get(in->records, json_string_value(t))) {
                free(roots);
                error = plumb_error_set(PLUMB_EINVALID,
                                        "--target '%s' is not a resource of "
                                        "environment '%s'",
                                        json_string_value(t), m->env->name);
                goto done;
            }
        }
        error = plumb_graph_closure(keep, m->graph, roots, nroots);
        free(roots);
        if (error < 0)
            goto done;
    }

    for (i = 0; i < m->nresources && !in->destroy; i++) {
        size_t idx = m->order[i];
        const struct plumb_resource *res = &m->resources[idx];
        const struct plumb_schema_type *t = res->decl->schema;
        const json_t *observed;
        json_t *desired;
        if (keep && !keep[idx])
            continue;
        rec = json_object_get(in->records, res->address);
        PLUMB_TRY(add_change(p, &c));
        c->address = strdup(res->address);
        c->type = strdup(res->decl->type_name);
        c->depends_on = deps_of(m, idx);
        c->create_before_destroy = res->decl->create_before_destroy;
        desired = t ? plumb_schema_normalize(t, res->properties) : json_deep_copy(res->properties);
        if (t)
            plumb_schema_add_plumb_tags(t, desired, m->project->name, m->env->name, res->address);
        c->after = desired;
        if (!rec) {
            c->action = PLUMB_ACTION_CREATE;
            continue;
        }
        c->id = json_incref(json_object_get(rec, "id"));
        observed = in->observed ? json_object_get(in->observed, res->address)
                                : json_object_get(rec, "observed");
        if (in->observed ? json_is_null(observed) : json_is_true(json_object_get(rec, "gone"))) {
            /* deleted outside plumb (refresh found it gone): make it again */
            c->action = PLUMB_ACTION_CREATE;
            c->gone = 1;
            json_decref(c->id);
            c->id = NULL;
            continue;
        }
        if (strcmp(json_string_value(json_object_get(rec, "type"))
                       ? json_string_value(json_object_get(rec, "type"))
                       : "",
                   c->type) != 0) {
            c->before = merged_actual(rec, json_is_object(observed) ? observed : NULL);
            c->action = PLUMB_ACTION_REPLACE;
            c->diffs = json_array();
            c->replace_because = json_pack("[s]", "type");
            continue;
        }
        plumb_plan_compare(c, res->decl, desired, rec, json_is_object(observed) ? observed : NULL,
                           json_object_get(rec, "properties"), in->state);
    }

    /* deletes: in state, not declared for this environment */
    json_object_foreach((json_t *)in->records, addr, rec)
    {
        struct plumb_change *v;
        if (!in->destroy && plumb_model_find(m, addr) >= 0)
            continue;
        if (in->targets && json_array_size(in->targets) && !in_array(in->targets, addr))
            continue;
        v = realloc(dels, (ndels + 1) * sizeof(*v));
        PLUMB_ALLOC_CHECK(v);
        dels = v;
        c = &dels[ndels++];
        memset(c, 0, sizeof(*c));
        c->address = strdup(addr);
        c->type = strdup(json_string_value(json_object_get(rec, "type"))
                             ? json_string_value(json_object_get(rec, "type"))
                             : "");
        c->action = PLUMB_ACTION_DELETE;
        c->id = json_incref(json_object_get(rec, "id"));
        c->before = merged_actual(rec, json_object_get(rec, "observed"));
        c->depends_on = json_incref(json_object_get(rec, "dependencies"));
        if (!c->depends_on)
            c->depends_on = json_array();
    }
    order_deletes(dels, ndels);
    for (i = 0; i < ndels; i++) {
        PLUMB_TRY(add_change(p, &c));
        *c = dels[i];
    }
    free(dels);
    dels = NULL;
    ndels = 0;

    for (i = 0; i < p->nchanges; i++) {
        switch (p->changes[i].action) {
        case PLUMB_ACTION_CREATE:
            p->add++;
            break;
        case PLUMB_ACTION_UPDATE:
            p->change++;
            break;
        case PLUMB_ACTION_REPLACE:
            p->add++;
            p->destroy++;
            break;
        case PLUMB_ACTION_DELETE:
            p->destroy++;
            break;
        default:
            break;
        }
    }
    *out = p;
    p = NULL;
done:
    free(keep);
    for (i = 0; i < ndels; i++) {
        free(dels[i].address);
        free(dels[i].type);
        json_decref(dels[i].id);
        json_decref(dels[i].before);
        json_decref(dels[i].depends_on);
    }
    free(dels);
    plumb_plan_free(p);
    return error;
}

void plumb_plan_free(struct plumb_plan *p)
{
    size_t i;

    if (!p)
        return;
    for (i = 0; i < p->nchanges; i++) {
        struct plumb_change *c = &p->changes[i];
        free(c->address);
        free(c->type);
        json_decref(c->id);
        json_decref(c->before);
        json_decref(c->after);
        json_decref(c->diffs);
        json_decref(c->replace_because);
        json_decref(c->depends_on);
    }
    free(p->changes);
    free(p->env);
    free(p->lineage);
    free(p->config_hash);
    json_decref(p->outputs);
    free(p);
}
