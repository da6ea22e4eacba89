/*
 * Loading a project: plumb.yaml and its modules, checked for shape. Nothing is evaluated
 * here (no variables, no expressions): that is resolve.c's job, per environment.
 */
#include <ctype.h>
#include <stdarg.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/expr.h"
#include "config/model.h"
#include "config/scope.h"
#include "util/buf.h"
#include "util/error.h"

#define MAX_MODULE_DEPTH 16

#ifndef PLUMB_MODULES_DIR
#define PLUMB_MODULES_DIR "modules"
#endif

/* Names that start an expression root: a resource or module cannot take them. */
static const char *const reserved_names[] = {"env", "var", "aws", "module", "secret", NULL};

static const char *const top_keys[] = {"project", "region",  "vars",      "environments",
                                       "state",   "modules", "resources", "checks",
                                       "outputs", "audit",   "bootstrap", NULL};
static const char *const module_keys[] = {"inputs", "resources", "outputs", "modules", NULL};
static const char *const resource_keys[] = {"type",         "properties", "depends_on", "lifecycle",
                                            "environments", "timeouts",   NULL};
static const char *const lifecycle_keys[] = {"prevent_destroy", "create_before_destroy",
                                             "ignore_changes",  "force_destroy",
                                             "final_snapshot",  NULL};
static const char *const timeout_keys[] = {"create", "update", "delete", NULL};
static const char *const env_keys[] = {"vars", "protect", NULL};
static const char *const state_keys[] = {"backend",    "bucket", "key_prefix",
                                         "lock_table", "region", NULL};
static const char *const module_call_keys[] = {"source", "inputs", NULL};
static const char *const check_entry_keys[] = {"http", "expect", "within", NULL};
static const char *const input_keys[] = {"default", "description", "sensitive", NULL};

struct loader {
    struct plumb_project *p;
    struct plumb_diags *diags;
    const char *modules_dir;
    int failed;
};

static void err(struct loader *l, const struct plumb_loc *loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void err(struct loader *l, const struct plumb_loc *loc, const char *fmt, ...)
{
    struct plumb_buf b = PLUMB_BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    plumb_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    plumb_diags_error(l->diags, loc, "%s", plumb_buf_cstr(&b));
    plumb_buf_release(&b);
    l->failed = 1;
}

static const char *closest_word(const char *word, const char *const *words)
{
    size_t best = (size_t)-1, d, limit = strlen(word) / 3 + 1;
    const char *found = NULL;

    for (; *words; words++) {
        d = plumb_schema_distance(word, *words);
        if (d < best) {
            best = d;
            found = *words;
        }
    }
    return best <= limit ? found : NULL;
}

static void list_words(struct plumb_buf *out, const char *const *words)
{
    for (; *words; words++) {
        plumb_buf_puts(out, *words);
        if (words[1])
            plumb_buf_puts(out, ", ");
    }
}

/* Refuses keys of `map` not in `allowed`, with a "did you mean". */
static void check_keys(struct loader *l, const struct plumb_node *map, const char *const *allowed,
                       const char *what)
{
    size_t i;

    for (i = 0; map && i < map->n; i++) {
        const char *k = map->pairs[i].key->scalar, *const * a, *hint;
        for (a = allowed; *a; a++)
            if (strcmp(*a, k) == 0)
                break;
        if (*a)
            continue;
        hint = closest_word(k, allowed);
        if (hint) {
            err(l, &map->pairs[i].key->loc, "unknown key '%s' in %s (did you mean '%s'?)", k, what,
                hint);
        } else {
            struct plumb_buf list = PLUMB_BUF_INIT;
            list_words(&list, allowed);
            err(l, &map->pairs[i].key->loc, "unknown key '%s' in %s; expected one of: %s", k, what,
                plumb_buf_cstr(&list));
            plumb_buf_release(&list);
        }
    }
}

static int is_map(const struct plumb_node *n)
{
    return n && n->type == PLUMB_NODE_MAP;
}

static int is_string(const struct plumb_node *n)
{
    return n && n->type == PLUMB_NODE_SCALAR && n->kind != PLUMB_SCALAR_NULL;
}

static int is_null(const struct plumb_node *n)
{
    return n && n->type == PLUMB_NODE_SCALAR && n->kind == PLUMB_SCALAR_NULL;
}

/* Checks `n` has the wanted shape; NULL (absent) passes. Returns 1 when usable. */
static int want(struct loader *l, const struct plumb_node *n, enum plumb_node_type type,
                const char *what)
{
    static const char *const words[] = {"a string", "a mapping", "a list"};

    if (!n)
        return 0;
    if (n->type == type && (type != PLUMB_NODE_SCALAR || n->kind != PLUMB_SCALAR_NULL))
        return 1;
    err(l, &n->loc, "%s must be %s, not %s", what, words[type], plumb_node_type_name(n));
    return 0;
}

static int want_bool(struct loader *l, const struct plumb_node *n, const char *what, int *out)
{
    *out = 0;
    if (!n)
        return 0;
    if (n->type == PLUMB_NODE_SCALAR && n->kind == PLUMB_SCALAR_BOOL) {
        *out = n->scalar[0] == 't' || n->scalar[0] == 'T';
        return 1;
    }
    err(l, &n->loc, "%s must be true or false, not %s", what, plumb_node_type_name(n));
    return 0;
}

static int valid_name(const char *s, int allow_upper)
{
    const char *p = s;

    if (!*p || !(isalpha((unsigned char)*p) || *p == '_'))
        return 0;
    for (; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '-'))
            return 0;
    (void)allow_upper;
    return 1;
}

static int reserved(const char *s)
{
    const char *const *r;

    for (r = reserved_names; *r; r++)
        if (strcmp(*r, s) == 0)
            return 1;
    return 0;
}

long plumb_parse_duration(const char *s)
{
    long total = 0, n;
    const char *p = s;
    char *end;
    int any = 0;

    if (!s || !*s)
        return -1;
    n = strtol(p, &end, 10);
    if (*end == '\0' && end != p)
        return n >= 0 ? n : -1;
    while (*p) {
        if (!isdigit((unsigned char)*p))
            return -1;
        n = strtol(p, &end, 10);
        if (n < 0 || n > 1000000)
            return -1;
        switch (*end) {
        case 'h':
            total += n * 3600;
            break;
        case 'm':
            total += n * 60;
            break;
        case 's':
            total += n;
            break;
        default:
            return -1;
        }
        any = 1;
        p = end + 1;
    }
    return any ? total : -1;
}

static long want_duration(struct loader *l, const struct plumb_node *n, const char *what)
{
    long d;

    if (!n)
        return 0;
    if (n->type != PLUMB_NODE_SCALAR || (d = plumb_parse_duration(n->scalar)) < 0) {
        err(l, &n->loc, "%s must be a duration such as 90s, 5m or 1h30m", what);
        return 0;
    }
    return d;
}

/* ---- modules ------------------------------------------------------------------------ */

struct plumb_scope *plumb_scope__child(const struct plumb_scope *s, const char *name)
{
    size_t i;

    for (i = 0; i < s->nchildren; i++)
        if (strcmp(s->children[i]->name, name) == 0)
            return s->children[i];
    return NULL;
}

static struct plumb_scope *new_scope(struct loader *l, struct plumb_scope *parent, const char *name,
                                     const char *dir, const char *file)
{
    struct plumb_project *p = l->p;
    struct plumb_scope *s, **v;
    struct plumb_buf prefix = PLUMB_BUF_INIT;

    v = realloc(p->scopes, (p->nscopes + 1) * sizeof(*v));
    if (!v)
        return NULL;
    p->scopes = v;
    s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    p->scopes[p->nscopes++] = s;
    if (parent) {
        plumb_buf_printf(&prefix, "%smodule.%s.", parent->prefix, name);
        v = realloc(parent->children, (parent->nchildren + 1) * sizeof(*v));
        if (!v)
            return NULL;
        parent->children = v;
        parent->children[parent->nchildren++] = s;
    }
    s->prefix = plumb_buf_detach(&prefix);
    s->name = name;
    s->parent = parent;
    s->dir = strdup(dir);
    s->file = file;
    return s;
}

static int add_doc(struct loader *l, struct plumb_doc *doc)
{
    struct plumb_doc **v = realloc(l->p->docs, (l->p->ndocs + 1) * sizeof(*v));

    if (!v) {
        plumb_doc_free(doc);
        return plumb_error_oom();
    }
    l->p->docs = v;
    l->p->docs[l->p->ndocs++] = doc;
    return 0;
}

static void load_scope_body(struct loader *l, struct plumb_scope *s, const struct plumb_node *root,
                            int depth);

static void load_module(struct loader *l, struct plumb_scope *parent, const char *name,
                        const struct plumb_node *call, int depth)
{
    const struct plumb_node *source = plumb_node_get(call, "source");
    struct plumb_buf dir = PLUMB_BUF_INIT, file = PLUMB_BUF_INIT, chain = PLUMB_BUF_INIT;
    char real[PATH_MAX];
    struct plumb_doc *doc = NULL;
    const struct plumb_node *root;
    struct plumb_scope *s, *a;
    struct stat st;

    check_keys(l, call, module_call_keys, "a module");
    if (!source) {
        err(l, &call->loc,
            "module '%s' needs a 'source': a directory, or the name of a shipped "
            "module",
            name);
        goto done;
    }
    if (!want(l, source, PLUMB_NODE_SCALAR, "a module's 'source'"))
        goto done;
    want(l, plumb_node_get(call, "inputs"), PLUMB_NODE_MAP, "a module's 'inputs'");
    if (source->scalar[0] == '/') {
        plumb_buf_puts(&dir, source->scalar);
    } else if (strchr(source->scalar, '/') || source->scalar[0] == '.') {
        /* relative to the including file; "./x" and a project in "." read as "x" */
        const char *rel = source->scalar;
        while (strncmp(rel, "./", 2) == 0)
            rel += 2;
        if (strcmp(parent->dir, ".") == 0 && strncmp(rel, "../", 3) != 0)
            plumb_buf_puts(&dir, rel);
        else
            plumb_buf_printf(&dir, "%s/%s", parent->dir, rel);
    } else {
        plumb_buf_printf(&dir, "%s/%s", l->modules_dir, source->scalar);
    }
    plumb_buf_printf(&file, "%s/plumb.yaml", dir.ptr);
    if (stat(file.ptr, &st) < 0 || !realpath(dir.ptr, real)) {
        err(l, &source->loc, "module '%s': no plumb.yaml in '%s'", name, dir.ptr);
        goto done;
    }
    /* A module that includes itself, directly or not, would never end. */
    for (a = parent; a; a = a->parent) {
        char other[PATH_MAX];
        if (realpath(a->dir, other) && strcmp(other, real) == 0) {
            struct plumb_scope *b;
            plumb_buf_printf(&chain, "%s", real);
            for (b = parent; b && b != a->parent; b = b->parent)
                plumb_buf_printf(&chain, " <- %s", b->dir);
            err(l, &source->loc, "module cycle: '%s' includes itself (%s)", name, chain.ptr);
            goto done;
        }
    }
    if (depth >= MAX_MODULE_DEPTH) {
        err(l, &source->loc, "modules nested more than %d deep", MAX_MODULE_DEPTH);
        goto done;
    }
    if (plumb_yaml_load_file(&doc, file.ptr, l->diags) < 0) {
        l->failed = 1;
        plumb_doc_free(doc);
        goto done;
    }
    if (add_doc(l, doc) < 0)
        goto done;
    root = plumb_doc_root(doc);
    s = new_scope(l, parent, name, real, plumb_doc_file(doc));
    if (!s)
        goto done;
    s->call = call;
    s->given = plumb_node_get(call, "inputs");
    if (!root) {
        err(l, &source->loc, "module '%s': '%s' is empty", name, file.ptr);
        goto done;
    }
    if (!want(l, root, PLUMB_NODE_MAP, "a module's plumb.yaml"))
        goto done;
    check_keys(l, root, module_keys, "a module's plumb.yaml");
    s->inputs = plumb_node_get(root, "inputs");
    if (want(l, s->inputs, PLUMB_NODE_MAP, "'inputs'")) {
        size_t i;
        for (i = 0; i < s->inputs->n; i++) {
            const struct plumb_node *d = s->inputs->pairs[i].value;
            if (is_map(d))
                check_keys(l, d, input_keys, "an input declaration");
            else if (!is_null(d))
                err(l, &d->loc,
                    "input '%s' must be declared as null or a mapping with default, "
                    "description",
                    s->inputs->pairs[i].key->scalar);
        }
    } else {
        s->inputs = NULL;
    }
    /* Inputs given must be declared; declared ones without a default must be given. */
    if (is_map(s->given)) {
        size_t i;
        for (i = 0; i < s->given->n; i++) {
            const char *k = s->given->pairs[i].key->scalar;
            if (!plumb_node_get(s->inputs, k))
                err(l, &s->given->pairs[i].key->loc, "module '%s' has no input '%s'", name, k);
        }
    }
    if (s->inputs) {
        size_t i;
        for (i = 0; i < s->inputs->n; i++) {
            const char *k = s->inputs->pairs[i].key->scalar;
            const struct plumb_node *d = s->inputs->pairs[i].value;
            if (!plumb_node_get(d, "default") && !plumb_node_get(s->given, k))
                err(l, &call->loc, "module '%s' needs input '%s'", name, k);
        }
    }
    load_scope_body(l, s, root, depth + 1);
done:
    plumb_buf_release(&dir);
    plumb_buf_release(&file);
    plumb_buf_release(&chain);
}

/* ---- resources ---------------------------------------------------------------------- */

static int add_resource(struct loader *l, struct plumb_scope *s, const struct plumb_node_pair *pair)
{
    struct plumb_project *p = l->p;
    struct plumb_resource_decl *r, *v;
    const struct plumb_node *n = pair->value, *type, *lc, *to, *x;
    const char *name = pair->key->scalar;
    struct plumb_buf addr = PLUMB_BUF_INIT;
    size_t i;

    if (!valid_name(name, 1) || reserved(name)) {
        err(l, &pair->key->loc,
            reserved(name) ? "'%s' is reserved and cannot name a resource"
                           : "resource name '%s' must start with a letter or '_' and hold only "
                             "letters, digits, '_' and '-'",
            name);
        return 0;
    }
    if (!want(l, n, PLUMB_NODE_MAP, "a resource"))
        return 0;
    check_keys(l, n, resource_keys, "a resource");
    v = realloc(p->resources, (p->nresources + 1) * sizeof(*v));
    if (!v)
        return plumb_error_oom();
    p->resources = v;
    r = &p->resources[p->nresources++];
    memset(r, 0, sizeof(*r));
    plumb_buf_printf(&addr, "%s%s", s->prefix, name);
    r->address = plumb_buf_detach(&addr);
    r->name = name;
    r->scope = s;
    r->key = pair->key;
    r->node = n;

    type = plumb_node_get(n, "type");
    if (!type) {
        err(l, &n->loc, "resource '%s' needs a 'type' such as AWS::S3::Bucket", r->address);
    } else if (want(l, type, PLUMB_NODE_SCALAR, "a resource's 'type'")) {
        r->type_name = type->scalar;
        r->schema = plumb_schema_find(type->scalar);
        if (!r->schema) {
            const char *hint = plumb_schema_suggest_type(type->scalar);
            err(l, &type->loc, "unknown resource type '%s'%s%s%s", type->scalar,
                hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
        }
    }
    r->properties = plumb_node_get(n, "properties");
    if (r->properties && is_null(r->properties))
        r->properties = NULL;
    else if (!want(l, r->properties, PLUMB_NODE_MAP, "a resource's 'properties'"))
        r->properties = NULL;
    r->depends_on = plumb_node_get(n, "depends_on");
    if (want(l, r->depends_on, PLUMB_NODE_SEQ, "'depends_on'")) {
        for (i = 0; i < r->depends_on->n; i++)
            want(l, r->depends_on->items[i], PLUMB_NODE_SCALAR, "a 'depends_on' entry");
    } else {
        r->depends_on = NULL;
    }
    lc = plumb_node_get(n, "lifecycle");
    if (want(l, lc, PLUMB_NODE_MAP, "'lifecycle'")) {
        check_keys(l, lc, lifecycle_keys, "'lifecycle'");
        want_bool(l, plumb_node_get(lc, "prevent_destroy"), "'prevent_destroy'",
                  &r->prevent_destroy);
        want_bool(l, plumb_node_get(lc, "create_before_destroy"), "'create_before_destroy'",
                  &r->create_before_destroy);
        want_bool(l, plumb_node_get(lc, "force_destroy"), "'force_destroy'", &r->force_destroy);
        want_bool(l, plumb_node_get(lc, "final_snapshot"), "'final_snapshot'", &r->final_snapshot);
        r->ignore_changes = plumb_node_get(lc, "ignore_changes");
        if (want(l, r->ignore_changes, PLUMB_NODE_SEQ, "'ignore_changes'")) {
            for (i = 0; i < r->ignore_changes->n; i++) {
                x = r->ignore_changes->items[i];
                if (want(l, x, PLUMB_NODE_SCALAR, "an 'ignore_changes' entry") && r->schema &&
                    !plumb_schema_property(r->schema, x->scalar))
                    err(l, &x->loc, "'ignore_changes' names '%s', which is not a property of %s",
                        x->scalar, r->type_name);
            }
        } else {
            r->ignore_changes = NULL;
        }
    }
    r->environments = plumb_node_get(n, "environments");
    if (want(l, r->environments, PLUMB_NODE_SEQ, "a resource's 'environments'")) {
        for (i = 0; i < r->environments->n; i++) {
            x = r->environments->items[i];
            if (want(l, x, PLUMB_NODE_SCALAR, "an 'environments' entry") &&
                !plumb_project_env(p, x->scalar)) {
                struct plumb_buf names = PLUMB_BUF_INIT;
                plumb_project_env_names(&names, p);
                err(l, &x->loc, "unknown environment '%s' (declared: %s)", x->scalar,
                    plumb_buf_cstr(&names));
                plumb_buf_release(&names);
            }
        }
    } else {
        r->environments = NULL;
    }
    r->timeout_create = r->schema ? r->schema->timeout_create : 1800;
    r->timeout_update = r->schema ? r->schema->timeout_update : 1800;
    r->timeout_delete = r->schema ? r->schema->timeout_delete : 1800;
    to = plumb_node_get(n, "timeouts");
    if (want(l, to, PLUMB_NODE_MAP, "'timeouts'")) {
        long d;
        check_keys(l, to, timeout_keys, "'timeouts'");
        if ((d = want_duration(l, plumb_node_get(to, "create"), "'timeouts.create'")) > 0)
            r->timeout_create = d;
        if ((d = want_duration(l, plumb_node_get(to, "update"), "'timeouts.update'")) > 0)
            r->timeout_update = d;
        if ((d = want_duration(l, plumb_node_get(to, "delete"), "'timeouts.delete'")) > 0)
            r->timeout_delete = d;
    }
    return 0;
}

static void load_scope_body(struct loader *l, struct plumb_scope *s, const struct plumb_node *root,
                            int depth)
{
    const struct plumb_node *res = plumb_node_get(root, "resources");
    const struct plumb_node *mods = plumb_node_get(root, "modules");
    size_t i;

    s->outputs = plumb_node_get(root, "outputs");
    if (!want(l, s->outputs, PLUMB_NODE_MAP, "'outputs'"))
        s->outputs = NULL;
    if (want(l, res, PLUMB_NODE_MAP, "'resources'")) {
        s->resources = res;
        for (i = 0; i < res->n; i++)
            add_resource(l, s, &res->pairs[i]);
    }
    if (want(l, mods, PLUMB_NODE_MAP, "'modules'")) {
        for (i = 0; i < mods->n; i++) {
            const char *name = mods->pairs[i].key->scalar;
            if (!valid_name(name, 1)) {
                err(l, &mods->pairs[i].key->loc,
                    "module name '%s' must start with a letter "
                    "and hold only letters, digits, '_' and '-'",
                    name);
                continue;
            }
            if (plumb_node_get(res, name))
                err(l, &mods->pairs[i].key->loc,
                    "'%s' names both a module and a resource: references would be ambiguous", name);
            if (want(l, mods->pairs[i].value, PLUMB_NODE_MAP, "a module"))
                load_module(l, s, name, mods->pairs[i].value, depth);
        }
    }
}

/* ---- the project -------------------------------------------------------------------- */

const struct plumb_env_decl *plumb_project_env(const struct plumb_project *p, const char *name)
{
    size_t i;

    for (i = 0; i < p->nenvs; i++)
        if (strcmp(p->envs[i].name, name) == 0)
            return &p->envs[i];
    return NULL;
}

void plumb_project_env_names(struct plumb_buf *out, const struct plumb_project *p)
{
    size_t i;

    for (i = 0; i < p->nenvs; i++)
        plumb_buf_printf(out, "%s%s", i ? ", " : "", p->envs[i].name);
    if (!p->nenvs)
        plumb_buf_puts(out, "none");
}

static void load_environments(struct loader *l, const struct plumb_node *envs)
{
    struct plumb_project *p = l->p;
    size_t i;

    p->envs = calloc(envs->n ? envs->n : 1, sizeof(*p->envs));
    if (!p->envs)
        return;
    for (i = 0; i < envs->n; i++) {
        struct plumb_env_decl *e = &p->envs[p->nenvs];
        const struct plumb_node *v = envs->pairs[i].value;
        const char *name = envs->pairs[i].key->scalar;
        if (!valid_name(name, 0)) {
            err(l, &envs->pairs[i].key->loc,
                "environment name '%s' must start with a letter "
                "and hold only letters, digits, '_' and '-'",
                name);
            continue;
        }
        e->name = name;
        e->node = v;
        if (is_map(v)) {
            check_keys(l, v, env_keys, "an environment");
            e->vars = plumb_node_get(v, "vars");
            if (!want(l, e->vars, PLUMB_NODE_MAP, "an environment's 'vars'"))
                e->vars = NULL;
            want_bool(l, plumb_node_get(v, "protect"), "'protect'", &e->protect);
        } else if (!is_null(v)) {
            err(l, &v->loc, "environment '%s' must be a mapping (or {}), not %s", name,
                plumb_node_type_name(v));
        }
        p->nenvs++;
    }
}

static void load_state_block(struct loader *l, const struct plumb_node *st)
{
    const struct plumb_node *backend = plumb_node_get(st, "backend");
    size_t i;

    check_keys(l, st, state_keys, "'state'");
    for (i = 0; i < st->n; i++)
        want(l, st->pairs[i].value, PLUMB_NODE_SCALAR, "a 'state' setting");
    if (backend && is_string(backend) && strcmp(backend->scalar, "local") != 0 &&
        strcmp(backend->scalar, "s3") != 0)
        err(l, &backend->loc, "state backend '%s' is not one of: local, s3", backend->scalar);
    if (backend && is_string(backend) && strcmp(backend->scalar, "s3") == 0) {
        if (!plumb_node_get(st, "bucket"))
            err(l, &st->loc, "the s3 state backend needs a 'bucket'");
        if (!plumb_node_get(st, "lock_table"))
            err(l, &st->loc, "the s3 state backend needs a 'lock_table' (a DynamoDB table)");
    }
}

static void load_checks(struct loader *l, const struct plumb_node *checks)
{
    const struct plumb_node *c, *x;
    size_t i;

    for (i = 0; i < checks->n; i++) {
        c = checks->items[i];
        if (!want(l, c, PLUMB_NODE_MAP, "a check"))
            continue;
        check_keys(l, c, check_entry_keys, "a check");
        if (!plumb_node_get(c, "http"))
            err(l, &c->loc, "a check needs 'http': the URL to request");
        else
            want(l, plumb_node_get(c, "http"), PLUMB_NODE_SCALAR, "a check's 'http'");
        x = plumb_node_get(c, "expect");
        if (x && (x->type != PLUMB_NODE_SCALAR || x->kind != PLUMB_SCALAR_INT ||
                  atoi(x->scalar) < 100 || atoi(x->scalar) > 599))
            err(l, &x->loc, "a check's 'expect' must be an HTTP status code (100-599)");
        want_duration(l, plumb_node_get(c, "within"), "a check's 'within'");
    }
}

static void load_audit(struct loader *l, const struct plumb_node *audit)
{
    static const char *const audit_keys[] = {"waive", NULL};
    static const char *const waive_keys[] = {"rule", "resource", "reason", NULL};
    const struct plumb_node *waive = plumb_node_get(audit, "waive"), *w;
    size_t i;

    check_keys(l, audit, audit_keys, "'audit'");
    if (!want(l, waive, PLUMB_NODE_SEQ, "'audit.waive'"))
        return;
    for (i = 0; i < waive->n; i++) {
        w = waive->items[i];
        if (!want(l, w, PLUMB_NODE_MAP, "a waiver"))
            continue;
        check_keys(l, w, waive_keys, "a waiver");
        if (!plumb_node_get(w, "rule") || !plumb_node_get(w, "reason"))
            err(l, &w->loc, "a waiver needs 'rule' and 'reason'");
    }
}

static void load_bootstrap(struct loader *l, const struct plumb_node *b)
{
    static const char *const bootstrap_keys[] = {"github", NULL};
    static const char *const github_keys[] = {"repository", NULL};
    const struct plumb_node *gh = plumb_node_get(b, "github"), *repo;

    check_keys(l, b, bootstrap_keys, "'bootstrap'");
    if (!want(l, gh, PLUMB_NODE_MAP, "'bootstrap.github'"))
        return;
    check_keys(l, gh, github_keys, "'bootstrap.github'");
    repo = plumb_node_get(gh, "repository");
    if (!repo)
        err(l, &gh->loc, "'bootstrap.github' needs 'repository: org/name'");
    else if (want(l, repo, PLUMB_NODE_SCALAR, "'bootstrap.github.repository'") &&
             (!strchr(repo->scalar, '/') || strchr(repo->scalar, '/') == repo->scalar))
        err(l, &repo->loc, "'bootstrap.github.repository' must be 'org/name'");
}

static int cmp_resource(const void *a, const void *b)
{
    return strcmp(((const struct plumb_resource_decl *)a)->address,
                  ((const struct plumb_resource_decl *)b)->address);
}

int plumb_project_load(struct plumb_project **out, const char *dir, const char *modules_dir,
                       struct plumb_diags *diags)
{
    struct loader l;
    struct plumb_project *p;
    struct plumb_doc *doc = NULL;
    const struct plumb_node *root, *x;
    struct plumb_buf file = PLUMB_BUF_INIT;
    struct plumb_loc floc = {NULL, 0, 0};
    struct stat st;
    size_t i;
    int error = 0;

    *out = NULL;
    p = calloc(1, sizeof(*p));
    if (!p)
        return plumb_error_oom();
    memset(&l, 0, sizeof(l));
    l.p = p;
    l.diags = diags;
    l.modules_dir = modules_dir ? modules_dir : PLUMB_MODULES_DIR;
    if (plumb_schema_load() < 0) {
        error = -1;
        goto done;
    }
    p->dir = strdup(dir ? dir : ".");
    /* "plumb.yaml:3:5", not "./plumb.yaml:3:5", for a project in the current directory */
    if (strcmp(p->dir, ".") == 0)
        plumb_buf_puts(&file, "plumb.yaml");
    else
        plumb_buf_printf(&file, "%s/plumb.yaml", p->dir);
    p->file = plumb_buf_detach(&file);
    if (!p->dir || !p->file) {
        error = plumb_error_oom();
        goto done;
    }
    floc.file = p->file;
    if (stat(p->file, &st) < 0) {
        err(&l, NULL, "no plumb.yaml in '%s': run plumb in a project directory or use -C DIR",
            p->dir);
        goto done;
    }
    if (plumb_yaml_load_file(&doc, p->file, diags) < 0) {
        plumb_doc_free(doc);
        l.failed = 1;
        goto done;
    }
    if ((error = add_doc(&l, doc)) < 0)
        goto done;
    root = plumb_doc_root(doc);
    floc.file = plumb_doc_file(doc);
    if (!root) {
        err(&l, &floc,
            "the file is empty: expected a mapping with project, environments and "
            "resources");
        goto done;
    }
    if (!want(&l, root, PLUMB_NODE_MAP, "plumb.yaml"))
        goto done;
    check_keys(&l, root, top_keys, "plumb.yaml");

    x = plumb_node_get(root, "project");
    if (!x)
        err(&l, &root->loc, "missing 'project': the project's name");
    else if (want(&l, x, PLUMB_NODE_SCALAR, "'project'")) {
        p->name = x->scalar;
        if (!valid_name(x->scalar, 0))
            err(&l, &x->loc,
                "project name '%s' must start with a letter and hold only letters, "
                "digits, '_' and '-'",
                x->scalar);
    }
    x = plumb_node_get(root, "region");
    if (want(&l, x, PLUMB_NODE_SCALAR, "'region'"))
        p->region = x->scalar;
    p->vars = plumb_node_get(root, "vars");
    if (!want(&l, p->vars, PLUMB_NODE_MAP, "'vars'"))
        p->vars = NULL;
    x = plumb_node_get(root, "environments");
    if (!x)
        err(&l, &root->loc, "missing 'environments': declare at least one, e.g. 'stage: {}'");
    else if (want(&l, x, PLUMB_NODE_MAP, "'environments'")) {
        if (x->n == 0)
            err(&l, &x->loc, "'environments' is empty: declare at least one, e.g. 'stage: {}'");
        load_environments(&l, x);
    }
    p->state = plumb_node_get(root, "state");
    if (want(&l, p->state, PLUMB_NODE_MAP, "'state'"))
        load_state_block(&l, p->state);
    else
        p->state = NULL;
    p->checks = plumb_node_get(root, "checks");
    if (want(&l, p->checks, PLUMB_NODE_SEQ, "'checks'"))
        load_checks(&l, p->checks);
    else
        p->checks = NULL;
    p->audit = plumb_node_get(root, "audit");
    if (want(&l, p->audit, PLUMB_NODE_MAP, "'audit'"))
        load_audit(&l, p->audit);
    else
        p->audit = NULL;
    p->bootstrap = plumb_node_get(root, "bootstrap");
    if (want(&l, p->bootstrap, PLUMB_NODE_MAP, "'bootstrap'"))
        load_bootstrap(&l, p->bootstrap);
    else
        p->bootstrap = NULL;

    p->root = new_scope(&l, NULL, NULL, p->dir, plumb_doc_file(doc));
    if (!p->root) {
        error = plumb_error_oom();
        goto done;
    }
    load_scope_body(&l, p->root, root, 0);
    p->outputs = p->root->outputs;

    if (p->nresources)
        qsort(p->resources, p->nresources, sizeof(*p->resources), cmp_resource);
    for (i = 1; i < p->nresources; i++)
        if (strcmp(p->resources[i - 1].address, p->resources[i].address) == 0)
            err(&l, &p->resources[i].node->loc, "resource '%s' is declared twice",
                p->resources[i].address);

done:
    plumb_buf_release(&file);
    if (error < 0 && error != PLUMB_EINVALID) {
        plumb_project_free(p);
        return error;
    }
    /* With problems found the project is still handed out, so that validation can go on to
     * resolve what is there and report everything in one run. */
    *out = p;
    return l.failed ? PLUMB_EINVALID : 0;
}

void plumb_project_free(struct plumb_project *p)
{
    size_t i;

    if (!p)
        return;
    for (i = 0; i < p->nresources; i++)
        free(p->resources[i].address);
    free(p->resources);
    for (i = 0; i < p->nscopes; i++) {
        free(p->scopes[i]->prefix);
        free(p->scopes[i]->dir);
        free(p->scopes[i]->children);
        free(p->scopes[i]);
    }
    free(p->scopes);
    for (i = 0; i < p->ndocs; i++)
        plumb_doc_free(p->docs[i]);
    free(p->docs);
    free(p->envs);
    free(p->dir);
    free(p->file);
    free(p);
}
