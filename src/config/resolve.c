/*
 * Resolving one environment of a project: variables, expressions, module inputs and outputs,
 * dependencies, schema validation. Two passes, so that values flow in dependency order
 * without recursion through the resource graph:
 *
 *   1. collect: every expression is parsed and every reference checked (unknown variables,
 *      resources, attributes, modules, outputs); references to resources — direct, or through
 *      module inputs and outputs — become graph edges. All reporting happens here.
 *   2. evaluate: resources in topological order, each property tree evaluated with the
 *      values of what it depends on already known (or marked unknown until apply).
 */
#include <stdlib.h>
#include <string.h>

#include "config/expr.h"
#include "config/model.h"
#include "config/scope.h"
#include "config/value.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/sys.h"

#define MAX_EVAL_DEPTH 64

struct edge_list {
    size_t *to;
    size_t n, cap;
};

struct resolver {
    const struct plumb_project *p;
    const struct plumb_resolve_options *opts;
    struct plumb_diags *diags;
    struct plumb_diags scratch; /* pass 2 re-parses: its findings were reported in pass 1 */
    struct plumb_model *m;
    json_t *index;           /* address → index in m->resources (included resources) */
    json_t *decl_index;      /* address → index in p->resources (all declarations) */
    json_t *inputs;          /* "prefix|name" → evaluated module input */
    json_t *outputs;         /* "prefix|name" → evaluated module output */
    json_t *var_names;       /* root variable names → true */
    struct edge_list *edges; /* per included resource */
    int failed;
};

static void error_at(struct resolver *r, const struct plumb_loc *loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void error_at(struct resolver *r, const struct plumb_loc *loc, const char *fmt, ...)
{
    struct plumb_buf b = PLUMB_BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    plumb_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    plumb_diags_error(r->diags, loc, "%s", plumb_buf_cstr(&b));
    plumb_buf_release(&b);
    r->failed = 1;
}

static int add_edge(struct resolver *r, size_t from, size_t to)
{
    struct edge_list *e = &r->edges[from];

    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 4;
        size_t *v = realloc(e->to, cap * sizeof(*v));
        if (!v)
            return plumb_error_oom();
        e->to = v;
        e->cap = cap;
    }
    e->to[e->n++] = to;
    return 0;
}

static int in_env(const struct plumb_resource_decl *d, const char *env)
{
    size_t i;

    if (!d->environments)
        return 1;
    for (i = 0; i < d->environments->n; i++)
        if (d->environments->items[i]->type == PLUMB_NODE_SCALAR &&
            strcmp(d->environments->items[i]->scalar, env) == 0)
            return 1;
    return 0;
}

static const char *closest_key(const char *word, const struct plumb_node *map)
{
    size_t i, best = (size_t)-1, d, limit = strlen(word) / 3 + 1;
    const char *found = NULL;

    for (i = 0; map && map->type == PLUMB_NODE_MAP && i < map->n; i++) {
        d = plumb_schema_distance(word, map->pairs[i].key->scalar);
        if (d < best) {
            best = d;
            found = map->pairs[i].key->scalar;
        }
    }
    return best <= limit ? found : NULL;
}

static const char *closest_json_key(const char *word, const json_t *obj)
{
    size_t best = (size_t)-1, d, limit = strlen(word) / 3 + 1;
    const char *found = NULL, *k;
    json_t *v;

    json_object_foreach((json_t *)obj, k, v)
    {
        d = plumb_schema_distance(word, k);
        if (d < best) {
            best = d;
            found = k;
        }
    }
    return best <= limit ? found : NULL;
}

static long decl_index_of(struct resolver *r, const char *address)
{
    const json_t *v = json_object_get(r->decl_index, address);

    return v ? (long)json_integer_value(v) : -1;
}

static long index_of(struct resolver *r, const char *address)
{
    const json_t *v = json_object_get(r->index, address);

    return v ? (long)json_integer_value(v) : -1;
}

/* ---- pass 1: collect ----------------------------------------------------------------- */

static void collect(struct resolver *r, const struct plumb_scope *s, const struct plumb_node *n,
                    long self, int report, json_t *visited);

/* A resource reference: check it, and make it an edge of `self`. */
static void collect_resource_ref(struct resolver *r, const struct plumb_scope *s,
                                 const struct plumb_ref *ref, long self, int report)
{
    struct plumb_buf addr = PLUMB_BUF_INIT, first = PLUMB_BUF_INIT;
    const struct plumb_resource_decl *d;
    long di, idx;

    plumb_buf_printf(&addr, "%s%s", s->prefix, ref->name);
    di = decl_index_of(r, addr.ptr);
    if (di < 0) {
        if (report) {
            const char *hint = closest_key(ref->name, s->resources);
            error_at(r, &ref->loc, "'${%s}' refers to unknown resource '%s'%s%s%s", ref->text,
                     ref->name, hint ? " (did you mean '" : "", hint ? hint : "",
                     hint ? "'?)" : "");
        }
        goto done;
    }
    d = &r->p->resources[di];
    idx = index_of(r, addr.ptr);
    if (idx < 0) {
        if (report)
            error_at(r, &ref->loc, "'${%s}' refers to '%s', which is not in environment '%s'",
                     ref->text, addr.ptr, r->opts->env);
        goto done;
    }
    if (report && d->schema && ref->attr) {
        plumb_buf_put(&first, ref->attr, strcspn(ref->attr, "."));
        if (!plumb_schema_property(d->schema, ref->attr)) {
            const char *hint = closest_json_key(first.ptr, d->schema->properties);
            error_at(r, &ref->loc, "'${%s}': %s has no attribute '%s'%s%s%s", ref->text,
                     d->type_name, ref->attr, hint ? " (did you mean '" : "", hint ? hint : "",
                     hint ? "'?)" : "");
        }
    }
    if (self >= 0 && self != idx)
        add_edge(r, (size_t)self, (size_t)idx);
    else if (self >= 0 && report)
        error_at(r, &ref->loc, "'${%s}': a resource cannot refer to itself", ref->text);
done:
    plumb_buf_release(&addr);
    plumb_buf_release(&first);
}

/* Follows a module input or output to what it depends on, once per walk. */
static void follow(struct resolver *r, const struct plumb_scope *s, const struct plumb_node *n,
                   const char *kind, const char *name, long self, json_t *visited)
{
    struct plumb_buf key = PLUMB_BUF_INIT;

    plumb_buf_printf(&key, "%s|%s|%s", s->prefix, kind, name);
    if (!json_object_get(visited, key.ptr)) {
        json_object_set_new(visited, key.ptr, json_true());
        collect(r, s, n, self, 0, visited);
    }
    plumb_buf_release(&key);
}

static void collect_ref(struct resolver *r, const struct plumb_scope *s,
                        const struct plumb_ref *ref, long self, int report, json_t *visited)
{
    const struct plumb_scope *child;
    const struct plumb_node *n;

    switch (ref->kind) {
    case PLUMB_REF_ENV:
    case PLUMB_REF_SECRET_ENV:
        break;
    case PLUMB_REF_AWS:
        if (report && strcmp(ref->name, "account_id") != 0 && strcmp(ref->name, "region") != 0)
            error_at(r, &ref->loc, "'${%s}': aws has account_id and region only", ref->text);
        break;
    case PLUMB_REF_VAR:
        if (!s->parent) {
            if (report && !json_object_get(r->var_names, ref->name)) {
                const char *hint = closest_json_key(ref->name, r->var_names);
                error_at(r, &ref->loc, "unknown variable '%s' in environment '%s'%s%s%s", ref->name,
                         r->opts->env, hint ? " (did you mean '" : "", hint ? hint : "",
                         hint ? "'?)" : "");
            }
            break;
        }
        /* In a module, var.X is the module's input X, given by the caller. */
        if (!plumb_node_get(s->inputs, ref->name)) {
            if (report) {
                const char *hint = closest_key(ref->name, s->inputs);
                error_at(r, &ref->loc, "module '%s' declares no input '%s'%s%s%s", s->name,
                         ref->name, hint ? " (did you mean '" : "", hint ? hint : "",
                         hint ? "'?)" : "");
            }
            break;
        }
        if ((n = plumb_node_get(s->given, ref->name)))
            follow(r, s->parent, n, "in", ref->name, self, visited);
        break;
    case PLUMB_REF_RESOURCE:
        collect_resource_ref(r, s, ref, self, report);
        break;
    case PLUMB_REF_MODULE:
        child = plumb_scope__child(s, ref->name);
        if (!child) {
            if (report)
                error_at(r, &ref->loc, "'${%s}' refers to unknown module '%s'", ref->text,
                         ref->name);
            break;
        }
        if (!ref->attr || !(n = plumb_node_get(child->outputs, ref->attr))) {
            if (report) {
                const char *hint = ref->attr ? closest_key(ref->attr, child->outputs) : NULL;
                error_at(r, &ref->loc, "module '%s' has no output '%s'%s%s%s", ref->name,
                         ref->attr ? ref->attr : "", hint ? " (did you mean '" : "",
                         hint ? hint : "", hint ? "'?)" : "");
            }
            break;
        }
        follow(r, child, n, "out", ref->attr, self, visited);
        break;
    }
}

static void collect_scalar(struct resolver *r, const struct plumb_scope *s,
                           const struct plumb_node *n, long self, int report, json_t *visited)
{
    struct plumb_template t;
    size_t i;

    if (n->kind != PLUMB_SCALAR_STRING || !plumb_expr_has_refs(n->scalar, n->len))
        return;
    memset(&t, 0, sizeof(t));
    if (plumb_expr_parse_node(&t, n, report ? r->diags : &r->scratch) < 0) {
        if (report)
            r->failed = 1;
        plumb_template_release(&t);
        return;
    }
    for (i = 0; i < t.n; i++)
        if (t.parts[i].ref)
            collect_ref(r, s, t.parts[i].ref, self, report, visited);
    plumb_template_release(&t);
}

static void collect(struct resolver *r, const struct plumb_scope *s, const struct plumb_node *n,
                    long self, int report, json_t *visited)
{
    size_t i;

    if (!n)
        return;
    switch (n->type) {
    case PLUMB_NODE_SCALAR:
        collect_scalar(r, s, n, self, report, visited);
        break;
    case PLUMB_NODE_MAP:
        for (i = 0; i < n->n; i++)
            collect(r, s, n->pairs[i].value, self, report, visited);
        break;
    case PLUMB_NODE_SEQ:
        for (i = 0; i < n->n; i++)
            collect(r, s, n->items[i], self, report, visited);
        break;
    }
}

/* Variables may use ${env}, ${aws.*} and ${secret.env.*}: nothing that could loop. */
static void check_var_refs(struct resolver *r, const struct plumb_node *n)
{
    struct plumb_template t;
    size_t i;

    if (!n)
        return;
    if (n->type != PLUMB_NODE_SCALAR) {
        for (i = 0; i < n->n; i++)
            check_var_refs(r, n->type == PLUMB_NODE_MAP ? n->pairs[i].value : n->items[i]);
        return;
    }
    if (n->kind != PLUMB_SCALAR_STRING || !plumb_expr_has_refs(n->scalar, n->len))
        return;
    memset(&t, 0, sizeof(t));
    if (plumb_expr_parse_node(&t, n, r->diags) < 0) {
        r->failed = 1;
    } else {
        for (i = 0; i < t.n; i++) {
            const struct plumb_ref *ref = t.parts[i].ref;
            if (!ref)
                continue;
            if (ref->kind == PLUMB_REF_VAR || ref->kind == PLUMB_REF_RESOURCE ||
                ref->kind == PLUMB_REF_MODULE)
                error_at(r, &ref->loc,
                         "'${%s}': variables may use ${env}, ${aws.*} and ${secret.env.*} only",
                         ref->text);
            else
                collect_ref(r, NULL, ref, -1, 1, NULL);
        }
    }
    plumb_template_release(&t);
}

/* ---- pass 2: evaluate ---------------------------------------------------------------- */

static json_t *eval(struct resolver *r, const struct plumb_scope *s, const struct plumb_node *n,
                    int depth);

/* A value at `path` ("Endpoint.Address") inside `v`, or NULL. */
static const json_t *at_path(const json_t *v, const char *path)
{
    char name[256];
    size_t len;

    while (v && *path) {
        v = plumb_value_unwrap(v);
        len = strcspn(path, ".");
        if (len >= sizeof(name))
            return NULL;
        memcpy(name, path, len);
        name[len] = '\0';
        v = json_object_get(v, name);
        path += len;
        if (*path == '.')
            path++;
    }
    return v;
}

static json_t *cached(struct resolver *r, json_t *cache, const struct plumb_scope *s,
                      const char *name, const struct plumb_scope *eval_scope,
                      const struct plumb_node *n, int depth)
{
    struct plumb_buf key = PLUMB_BUF_INIT;
    json_t *v;

    plumb_buf_printf(&key, "%s|%s", s->prefix, name);
    v = json_object_get(cache, key.ptr);
    if (v) {
        json_incref(v);
    } else if (depth > MAX_EVAL_DEPTH) {
        /* inputs and outputs that feed each other; collect reported nothing better */
        v = plumb_value_unknown(name);
    } else {
        v = eval(r, eval_scope, n, depth + 1);
        if (v)
            json_object_set(cache, key.ptr, v);
    }
    plumb_buf_release(&key);
    return v;
}

static json_t *ref_value(struct resolver *r, const struct plumb_scope *s,
                         const struct plumb_ref *ref, int depth)
{
    struct plumb_buf addr = PLUMB_BUF_INIT;
    const struct plumb_node *n;
    const struct plumb_scope *child;
    json_t *v = NULL;
    const char *env;
    long idx;

    switch (ref->kind) {
    case PLUMB_REF_ENV:
        v = json_string(r->opts->env);
        break;
    case PLUMB_REF_AWS:
        if (strcmp(ref->name, "account_id") == 0)
            v = r->opts->account_id ? json_string(r->opts->account_id)
                                    : plumb_value_unknown("aws.account_id");
        else if (r->opts->region || r->p->region)
            v = json_string(r->opts->region ? r->opts->region : r->p->region);
        else
            v = plumb_value_unknown("aws.region");
        break;
    case PLUMB_REF_SECRET_ENV:
        env = getenv(ref->name);
        if (env) {
            v = plumb_value_sensitive(json_string(env));
        } else {
            if (r->opts->require_secrets)
                error_at(r, &ref->loc, "'${%s}': the environment variable '%s' is not set",
                         ref->text, ref->name);
            v = plumb_value_sensitive(plumb_value_unknown(ref->text));
        }
        break;
    case PLUMB_REF_VAR:
        if (!s->parent) {
            v = json_object_get(r->m->vars, ref->name);
            v = v ? json_deep_copy(v) : plumb_value_unknown(ref->text);
        } else if ((n = plumb_node_get(s->given, ref->name))) {
            v = cached(r, r->inputs, s, ref->name, s->parent, n, depth);
        } else if ((n = plumb_node_get(plumb_node_get(s->inputs, ref->name), "default"))) {
            v = cached(r, r->inputs, s, ref->name, s, n, depth);
        } else {
            v = plumb_value_unknown(ref->text);
        }
        break;
    case PLUMB_REF_RESOURCE:
        plumb_buf_printf(&addr, "%s%s", s->prefix, ref->name);
        idx = index_of(r, addr.ptr);
        if (idx >= 0) {
            const json_t *props = r->m->resources[idx].properties;
            const json_t *known = props ? at_path(props, ref->attr) : NULL;
            if (known && !plumb_value_is_unknown(known))
                v = json_deep_copy(known);
            else if (r->opts->lookup)
                v = r->opts->lookup(r->opts->lookup_ctx, addr.ptr, ref->attr);
        }
        if (!v) {
            plumb_buf_printf(&addr, ".%s", ref->attr ? ref->attr : "");
            v = plumb_value_unknown(addr.ptr);
        }
        break;
    case PLUMB_REF_MODULE:
        child = plumb_scope__child(s, ref->name);
        n = child && ref->attr ? plumb_node_get(child->outputs, ref->attr) : NULL;
        v = n ? cached(r, r->outputs, child, ref->attr, child, n, depth)
              : plumb_value_unknown(ref->text);
        break;
    }
    plumb_buf_release(&addr);
    return v;
}

/* The text of a scalar value for interpolation, or -1 for a list or mapping. */
static int put_scalar(struct plumb_buf *out, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        return plumb_buf_put(out, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return plumb_buf_printf(out, "%lld", (long long)json_integer_value(v));
    case JSON_REAL:
        return plumb_buf_printf(out, "%.17g", json_real_value(v));
    case JSON_TRUE:
        return plumb_buf_puts(out, "true");
    case JSON_FALSE:
        return plumb_buf_puts(out, "false");
    case JSON_NULL:
        return 0;
    default:
        return -1;
    }
}

static json_t *eval_scalar(struct resolver *r, const struct plumb_scope *s,
                           const struct plumb_node *n, int depth)
{
    struct plumb_buf text = PLUMB_BUF_INIT, why = PLUMB_BUF_INIT;
    struct plumb_template t;
    json_t *v = NULL, *part;
    int sensitive = 0, unknown = 0;
    size_t i;

    if (n->kind != PLUMB_SCALAR_STRING || !plumb_expr_has_refs(n->scalar, n->len))
        return plumb_node_to_json(n);
    memset(&t, 0, sizeof(t));
    if (plumb_expr_parse_node(&t, n, &r->scratch) < 0) {
        v = plumb_value_unknown(n->scalar);
        goto done;
    }
    if (t.whole && t.n == 1) {
        v = ref_value(r, s, t.parts[0].ref, depth);
        goto done;
    }
    for (i = 0; i < t.n; i++) {
        if (!t.parts[i].ref) {
            plumb_buf_put(&text, t.parts[i].literal, t.parts[i].literal_len);
            continue;
        }
        part = ref_value(r, s, t.parts[i].ref, depth);
        if (!part) {
            v = NULL;
            goto done;
        }
        sensitive |= plumb_value_is_sensitive(part) || plumb_value_has_sensitive(part);
        if (plumb_value_is_unknown(plumb_value_unwrap(part))) {
            unknown = 1;
            plumb_buf_printf(&why, "%s%s", why.len ? ", " : "", t.parts[i].ref->text);
        } else if (put_scalar(&text, plumb_value_unwrap(part)) < 0) {
            error_at(r, &t.parts[i].ref->loc,
                     "'${%s}' is %s and cannot be part of a string; use it alone as the whole "
                     "value",
                     t.parts[i].ref->text,
                     json_is_array(plumb_value_unwrap(part)) ? "a list" : "a mapping");
            unknown = 1;
        }
        json_decref(part);
    }
    v = unknown ? plumb_value_unknown(plumb_buf_cstr(&why)) : json_string(plumb_buf_cstr(&text));
    if (sensitive)
        v = plumb_value_sensitive(v);
done:
    plumb_template_release(&t);
    plumb_buf_release(&text);
    plumb_buf_release(&why);
    return v;
}

static json_t *eval(struct resolver *r, const struct plumb_scope *s, const struct plumb_node *n,
                    int depth)
{
    json_t *v, *x;
    size_t i;

    if (!n)
        return json_null();
    switch (n->type) {
    case PLUMB_NODE_MAP:
        v = json_object();
        for (i = 0; v && i < n->n; i++) {
            x = eval(r, s, n->pairs[i].value, depth);
            if (!x || json_object_set_new(v, n->pairs[i].key->scalar, x) < 0) {
                json_decref(v);
                return NULL;
            }
        }
        return v;
    case PLUMB_NODE_SEQ:
        v = json_array();
        for (i = 0; v && i < n->n; i++) {
            x = eval(r, s, n->items[i], depth);
            if (!x || json_array_append_new(v, x) < 0) {
                json_decref(v);
                return NULL;
            }
        }
        return v;
    default:
        return eval_scalar(r, s, n, depth);
    }
}

/* ---- variables ---------------------------------------------------------------------- */

static json_t *parse_cli_value(const char *name, const char *value)
{
    struct plumb_diags d = PLUMB_DIAGS_INIT;
    struct plumb_doc *doc = NULL;
    const struct plumb_node *root;
    json_t *v = NULL;

    /* --var n=2 is the number 2, --var flag=true a boolean, as the same text in YAML; quoted,
     * --var 'flag="True"' is the string True (the quotes are YAML's, not the value's) */
    if (plumb_yaml_load_string(&doc, name, value, strlen(value), &d) == 0 &&
        (root = plumb_doc_root(doc)) && root->type == PLUMB_NODE_SCALAR &&
        (root->quoted || root->kind != PLUMB_SCALAR_NULL))
        v = plumb_node_to_json(root);
    if (!v)
        v = json_string(value);
    plumb_doc_free(doc);
    plumb_diags_release(&d);
    return v;
}

static int resolve_vars(struct resolver *r, const struct plumb_env_decl *env)
{
    const struct plumb_node *layers[2] = {r->p->vars, env->vars};
    size_t i, j;

    r->var_names = json_object();
    r->m->vars = json_object();
    if (!r->var_names || !r->m->vars)
        return plumb_error_oom();
    for (j = 0; j < 2; j++) {
        const struct plumb_node *vars = layers[j];
        for (i = 0; vars && i < vars->n; i++) {
            const char *name = vars->pairs[i].key->scalar;
            check_var_refs(r, vars->pairs[i].value);
            json_object_set_new(r->var_names, name, json_true());
            json_object_set_new(r->m->vars, name, eval(r, r->p->root, vars->pairs[i].value, 0));
        }
    }
    for (i = 0; r->opts->cli_vars && i < r->opts->cli_vars->n; i++) {
        const struct plumb_kv *kv = &r->opts->cli_vars->v[i];
        if (!json_object_get(r->var_names, kv->name)) {
            const char *hint = closest_json_key(kv->name, r->var_names);
            error_at(r, NULL, "--var %s: no variable '%s' is declared in 'vars'%s%s%s", kv->name,
                     kv->name, hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
            continue;
        }
        json_object_set_new(r->m->vars, kv->name, parse_cli_value("--var", kv->value));
    }
    return 0;
}

/* ---- the model ---------------------------------------------------------------------- */

static void collect_depends_on(struct resolver *r, size_t i)
{
    const struct plumb_resource_decl *d = r->m->resources[i].decl;
    struct plumb_buf addr = PLUMB_BUF_INIT;
    size_t k, j;

    for (k = 0; d->depends_on && k < d->depends_on->n; k++) {
        const struct plumb_node *x = d->depends_on->items[k];
        long idx;
        if (x->type != PLUMB_NODE_SCALAR)
            continue;
        plumb_buf_clear(&addr);
        plumb_buf_printf(&addr, "%s%s", d->scope->prefix, x->scalar);
        if (strncmp(x->scalar, "module.", 7) == 0) {
            /* a whole module: every resource inside it, nested modules included */
            size_t plen;
            int found = 0;
            plumb_buf_putc(&addr, '.');
            plen = addr.len;
            for (j = 0; j < r->m->nresources; j++)
                if (strncmp(r->m->resources[j].address, addr.ptr, plen) == 0) {
                    add_edge(r, i, j);
                    found = 1;
                }
            if (!found && !plumb_scope__child(d->scope, x->scalar + 7))
                error_at(r, &x->loc, "'depends_on' names unknown module '%s'", x->scalar + 7);
            continue;
        }
        idx = index_of(r, addr.ptr);
        if (idx >= 0) {
            if ((size_t)idx == i)
                error_at(r, &x->loc, "'%s' cannot depend on itself", d->address);
            else
                add_edge(r, i, (size_t)idx);
        } else if (decl_index_of(r, addr.ptr) >= 0) {
            error_at(r, &x->loc, "'depends_on' names '%s', which is not in environment '%s'",
                     x->scalar, r->opts->env);
        } else {
            const char *hint = closest_key(x->scalar, d->scope->resources);
            error_at(r, &x->loc, "'depends_on' names unknown resource '%s'%s%s%s", x->scalar,
                     hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
        }
    }
    plumb_buf_release(&addr);
}

static void report_cycle(struct resolver *r)
{
    const char *msg = plumb_error_message(), *start = strstr(msg, ": ");
    struct plumb_buf first = PLUMB_BUF_INIT;
    long idx = -1;

    if (start) {
        start += 2;
        plumb_buf_put(&first, start, strcspn(start, " "));
        idx = index_of(r, plumb_buf_cstr(&first));
    }
    error_at(r, idx >= 0 ? &r->m->resources[idx].decl->key->loc : NULL, "%s", msg);
    plumb_buf_release(&first);
}

static void resolve_checks(struct resolver *r)
{
    const struct plumb_node *checks = r->p->checks, *c, *x;
    size_t i;

    if (!checks)
        return;
    r->m->checks = calloc(checks->n ? checks->n : 1, sizeof(*r->m->checks));
    if (!r->m->checks)
        return;
    for (i = 0; i < checks->n; i++) {
        struct plumb_check *k = &r->m->checks[r->m->nchecks];
        c = checks->items[i];
        if (c->type != PLUMB_NODE_MAP || !plumb_node_get(c, "http"))
            continue;
        collect(r, r->p->root, c, -1, 1, NULL);
        k->http = eval(r, r->p->root, plumb_node_get(c, "http"), 0);
        x = plumb_node_get(c, "expect");
        k->expect = x && x->type == PLUMB_NODE_SCALAR ? atoi(x->scalar) : 200;
        x = plumb_node_get(c, "within");
        k->within = x && x->type == PLUMB_NODE_SCALAR ? plumb_parse_duration(x->scalar) : 300;
        if (k->within < 0)
            k->within = 300;
        k->loc = c->loc;
        r->m->nchecks++;
    }
}

int plumb_model_resolve(struct plumb_model **out, const struct plumb_project *p,
                        const struct plumb_resolve_options *opts, struct plumb_diags *diags)
{
    struct resolver r;
    const struct plumb_env_decl *env;
    struct plumb_model *m = NULL;
    json_t *visited = NULL;
    size_t i, j, k;
    int error = 0;

    *out = NULL;
    memset(&r, 0, sizeof(r));
    r.p = p;
    r.opts = opts;
    r.diags = diags;
    plumb_diags_init(&r.scratch);
    if (!p->root)
        return PLUMB_EINVALID; /* the file itself was unusable: already reported */
    env = opts->env ? plumb_project_env(p, opts->env) : NULL;
    if (!env) {
        struct plumb_buf names = PLUMB_BUF_INIT;
        plumb_project_env_names(&names, p);
        plumb_diags_error(diags, NULL, "unknown environment '%s' (declared: %s)",
                          opts->env ? opts->env : "", plumb_buf_cstr(&names));
        plumb_buf_release(&names);
        return PLUMB_EINVALID;
    }
    m = calloc(1, sizeof(*m));
    PLUMB_ALLOC_CHECK(m);
    r.m = m;
    m->project = p;
    m->env = env;
    r.index = json_object();
    r.decl_index = json_object();
    r.inputs = json_object();
    r.outputs = json_object();
    m->outputs = json_object();
    m->state = json_object();
    PLUMB_ALLOC_CHECK(r.index && r.decl_index && r.inputs && r.outputs && m->outputs && m->state);

    for (i = 0; i < p->nresources; i++)
        json_object_set_new(r.decl_index, p->resources[i].address, json_integer((json_int_t)i));
    m->resources = calloc(p->nresources ? p->nresources : 1, sizeof(*m->resources));
    r.edges = calloc(p->nresources ? p->nresources : 1, sizeof(*r.edges));
    PLUMB_ALLOC_CHECK(m->resources && r.edges);
    for (i = 0; i < p->nresources; i++) {
        if (!in_env(&p->resources[i], env->name))
            continue;
        m->resources[m->nresources].decl = &p->resources[i];
        m->resources[m->nresources].address = p->resources[i].address;
        json_object_set_new(r.index, p->resources[i].address,
                            json_integer((json_int_t)m->nresources));
        m->nresources++;
    }

    PLUMB_TRY(resolve_vars(&r, env));

    /* pass 1 */
    for (i = 0; i < m->nresources; i++) {
        const struct plumb_resource_decl *d = m->resources[i].decl;
        visited = json_object();
        PLUMB_ALLOC_CHECK(visited);
        collect(&r, d->scope, d->properties, (long)i, 1, visited);
        json_decref(visited);
        visited = NULL;
        collect_depends_on(&r, i);
    }
    /* Module inputs and outputs are checked once each, in their own scope. */
    for (i = 0; i < p->nscopes; i++) {
        const struct plumb_scope *s = p->scopes[i];
        if (s->parent)
            collect(&r, s->parent, s->given, -1, 1, NULL);
        collect(&r, s, s->outputs, -1, 1, NULL);
    }
    for (i = 0; p->state && i < p->state->n; i++)
        collect(&r, p->root, p->state->pairs[i].value, -1, 1, NULL);

    PLUMB_TRY(plumb_graph_new(&m->graph, m->nresources));
    for (i = 0; i < m->nresources; i++) {
        PLUMB_TRY(plumb_graph_set_name(m->graph, i, m->resources[i].address));
        for (k = 0; k < r.edges[i].n; k++)
            PLUMB_TRY(plumb_graph_add_edge(m->graph, i, r.edges[i].to[k]));
    }
    m->order = calloc(m->nresources ? m->nresources : 1, sizeof(*m->order));
    PLUMB_ALLOC_CHECK(m->order);
    if (plumb_graph_toposort(m->order, m->graph) < 0) {
        report_cycle(&r);
        /* evaluate in address order anyway, to report what else is wrong */
        for (i = 0; i < m->nresources; i++)
            m->order[i] = i;
    }

    /* pass 2 */
    for (j = 0; j < m->nresources; j++) {
        struct plumb_resource *res = &m->resources[m->order[j]];
        const struct plumb_resource_decl *d = res->decl;
        res->properties = d->properties ? eval(&r, d->scope, d->properties, 0) : json_object();
        PLUMB_ALLOC_CHECK(res->properties);
        if (d->schema && plumb_schema_validate(d->schema, d->address, res->properties,
                                               d->properties, &d->node->loc, diags) < 0)
            r.failed = 1;
    }
    for (i = 0; p->outputs && i < p->outputs->n; i++)
        json_object_set_new(m->outputs, p->outputs->pairs[i].key->scalar,
                            eval(&r, p->root, p->outputs->pairs[i].value, 0));
    for (i = 0; p->state && i < p->state->n; i++)
        json_object_set_new(m->state, p->state->pairs[i].key->scalar,
                            eval(&r, p->root, p->state->pairs[i].value, 0));
    resolve_checks(&r);

done:
    json_decref(visited);
    json_decref(r.index);
    json_decref(r.decl_index);
    json_decref(r.inputs);
    json_decref(r.outputs);
    json_decref(r.var_names);
    if (r.edges) {
        for (i = 0; i < p->nresources; i++)
            free(r.edges[i].to);
        free(r.edges);
    }
    plumb_diags_release(&r.scratch);
    if (!error && r.failed)
        error = PLUMB_EINVALID;
    if (error < 0) {
        plumb_model_free(m);
        return error;
    }
    *out = m;
    return 0;
}

void plumb_model_free(struct plumb_model *m)
{
    size_t i;

    if (!m)
        return;
    for (i = 0; m->resources && i < m->nresources; i++)
        json_decref(m->resources[i].properties);
    free(m->resources);
    for (i = 0; i < m->nchecks; i++)
        json_decref(m->checks[i].http);
    free(m->checks);
    plumb_graph_free(m->graph);
    free(m->order);
    json_decref(m->vars);
    json_decref(m->outputs);
    json_decref(m->state);
    free(m);
}

long plumb_model_find(const struct plumb_model *m, const char *address)
{
    size_t lo = 0, hi = m->nresources;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(m->resources[mid].address, address);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}
