#include "schema/schema.h"

#include <pthread.h>
#include <regex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "config/value.h"
#include "util/buf.h"
#include "util/embedded.h"
#include "util/error.h"

#define MAX_TYPES 64

static struct plumb_schema_type types[MAX_TYPES];
static json_t *docs[MAX_TYPES];
static size_t ntypes;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_result;
static char load_message[256];

static long timeout_of(const json_t *timeouts, const char *key, long dflt)
{
    const json_t *v = json_object_get(timeouts, key);

    return json_is_integer(v) ? (long)json_integer_value(v) : dflt;
}

static int load_one(const struct plumb_embedded *e)
{
    struct plumb_schema_type *t = &types[ntypes];
    const json_t *plumb, *tagging;
    json_error_t jerr;
    json_t *doc;

    doc = json_loadb((const char *)e->data, e->len, 0, &jerr);
    if (!doc) {
        snprintf(load_message, sizeof(load_message), "embedded schema '%s': %s at line %d", e->name,
                 jerr.text, jerr.line);
        return -1;
    }
    docs[ntypes] = doc;
    memset(t, 0, sizeof(*t));
    t->doc = doc;
    t->type_name = json_string_value(json_object_get(doc, "typeName"));
    t->properties = json_object_get(doc, "properties");
    t->definitions = json_object_get(doc, "definitions");
    if (!t->type_name || !json_is_object(t->properties)) {
        snprintf(load_message, sizeof(load_message),
                 "embedded schema '%s' lacks typeName or properties", e->name);
        return -1;
    }
    plumb = json_object_get(doc, "plumb");
    t->service = json_string_value(json_object_get(plumb, "service"));
    t->stateful = json_is_true(json_object_get(plumb, "stateful"));
    tagging = json_object_get(plumb, "tagging");
    if (json_is_object(tagging)) {
        const char *format = json_string_value(json_object_get(tagging, "format"));
        t->tags_property = json_string_value(json_object_get(tagging, "property"));
        t->tags_as_map = format && strcmp(format, "map") == 0;
    }
    t->name_property = json_string_value(json_object_get(plumb, "nameProperty"));
    t->defaults = json_object_get(plumb, "defaults");
    t->timeout_create = timeout_of(json_object_get(plumb, "timeouts"), "create", 1800);
    t->timeout_update = timeout_of(json_object_get(plumb, "timeouts"), "update", 1800);
    t->timeout_delete = timeout_of(json_object_get(plumb, "timeouts"), "delete", 1800);
    ntypes++;
    return 0;
}

static void load_all(void)
{
    const struct plumb_embedded *e;

    for (e = plumb_embedded_schemas; e->name; e++) {
        /* plumb.schema.json describes plumb.yaml itself, not a resource type */
        if (strncmp(e->name, "aws-", 4) != 0)
            continue;
        if (ntypes == MAX_TYPES) {
            snprintf(load_message, sizeof(load_message), "too many embedded schemas");
            load_result = -1;
            return;
        }
        if (load_one(e) < 0) {
            load_result = -1;
            return;
        }
    }
}

int plumb_schema_load(void)
{
    pthread_once(&load_once, load_all);
    if (load_result < 0)
        return plumb_error_set(PLUMB_ERROR, "%s", load_message);
    return 0;
}

const struct plumb_schema_type *plumb_schema_find(const char *type_name)
{
    size_t i;

    if (plumb_schema_load() < 0)
        return NULL;
    for (i = 0; i < ntypes; i++)
        if (strcmp(types[i].type_name, type_name) == 0)
            return &types[i];
    return NULL;
}

size_t plumb_schema_count(void)
{
    return plumb_schema_load() < 0 ? 0 : ntypes;
}

const struct plumb_schema_type *plumb_schema_at(size_t i)
{
    return i < plumb_schema_count() ? &types[i] : NULL;
}

size_t plumb_schema_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), i, j, *row, result;

    row = malloc((lb + 1) * sizeof(*row));
    if (!row)
        return (size_t)-1;
    for (j = 0; j <= lb; j++)
        row[j] = j;
    for (i = 1; i <= la; i++) {
        size_t diag = row[0], up;
        row[0] = i;
        for (j = 1; j <= lb; j++) {
            char ca = a[i - 1], cb = b[j - 1];
            /* case differences cost less than other edits: 'dbinstanceclass' is a typo */
            size_t cost = ca == cb ? 0 : ((ca | 32) == (cb | 32) ? 0 : 1);
            up = row[j];
            row[j] = diag + cost;
            if (up + 1 < row[j])
                row[j] = up + 1;
            if (row[j - 1] + 1 < row[j])
                row[j] = row[j - 1] + 1;
            diag = up;
        }
    }
    result = row[lb];
    free(row);
    return result;
}

/* The candidate closest to `word`, if close enough to be a plausible typo. */
static const char *closest(const char *word, const char *const *candidates, size_t n)
{
    size_t i, best = (size_t)-1, d, limit = strlen(word) / 3 + 1;
    const char *found = NULL;

    for (i = 0; i < n; i++) {
        d = plumb_schema_distance(word, candidates[i]);
        if (d < best) {
            best = d;
            found = candidates[i];
        }
    }
    return best <= limit ? found : NULL;
}

const char *plumb_schema_suggest_type(const char *type_name)
{
    const char *names[MAX_TYPES];
    size_t i;

    if (plumb_schema_load() < 0)
        return NULL;
    for (i = 0; i < ntypes; i++)
        names[i] = types[i].type_name;
    return closest(type_name, names, ntypes);
}

static int pointer_in(const json_t *list, const char *path)
{
    struct plumb_buf want = PLUMB_BUF_INIT;
    const json_t *v;
    const char *p;
    size_t i;
    int found = 0;

    plumb_buf_puts(&want, "/properties/");
    for (p = path; *p; p++)
        plumb_buf_putc(&want, *p == '.' ? '/' : *p);
    json_array_foreach(list, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), plumb_buf_cstr(&want)) == 0) {
            found = 1;
            break;
        }
    }
    plumb_buf_release(&want);
    return found;
}

int plumb_schema_is_create_only(const struct plumb_schema_type *t, const char *path)
{
    return pointer_in(json_object_get(t->doc, "createOnlyProperties"), path);
}

int plumb_schema_is_read_only(const struct plumb_schema_type *t, const char *path)
{
    return pointer_in(json_object_get(t->doc, "readOnlyProperties"), path);
}

int plumb_schema_is_write_only(const struct plumb_schema_type *t, const char *path)
{
    return pointer_in(json_object_get(t->doc, "writeOnlyProperties"), path);
}

int plumb_schema_is_sensitive(const struct plumb_schema_type *t, const char *path)
{
    return plumb_schema_is_write_only(t, path) ||
           pointer_in(json_object_get(json_object_get(t->doc, "plumb"), "sensitiveProperties"),
                      path);
}

/* Follows "$ref": "#/definitions/X" (a chain of them, bounded). */
static const json_t *deref(const struct plumb_schema_type *t, const json_t *s)
{
    int hops = 0;
    const char *ref;

    while (s && (ref = json_string_value(json_object_get(s, "$ref"))) && hops++ < 16) {
        if (strncmp(ref, "#/definitions/", 14) != 0)
            return s;
        s = json_object_get(t->definitions, ref + 14);
    }
    return s;
}

const json_t *plumb_schema_property(const struct plumb_schema_type *t, const char *path)
{
    const json_t *s = NULL, *props = t->properties;
    char name[256];
    const char *p = path;
    size_t n;

    while (*p) {
        n = strcspn(p, ".");
        if (n >= sizeof(name))
            return NULL;
        memcpy(name, p, n);
        name[n] = '\0';
        s = deref(t, json_object_get(props, name));
        if (!s)
            return NULL;
        p += n;
        if (*p == '.')
            p++;
        props = json_object_get(s, "properties");
    }
    return s;
}

/* ---- validation ----------------------------------------------------------------------- */

struct vctx {
    const char *address;
    const struct plumb_schema_type *t;
    struct plumb_diags *diags;
    const struct plumb_loc *fallback;
    int failed;
};

static pthread_mutex_t regex_lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *regex_index; /* pattern → index into regexes, -1 when untranslatable */
struct compiled {
    regex_t re;
    size_t min, max; /* the length a string must have besides matching re */
};
static struct compiled *regexes;
static size_t nregexes, capregexes;

/*
 * A bracket expression "[...]" of an ECMAScript pattern → POSIX, from just after '[' ; `*pp`
 * ends after the closing ']'. In POSIX brackets a backslash is an ordinary character and
 * ']' and '-' are literal only first and last, so the items are collected and re-laid.
 */
static int translate_bracket(struct plumb_buf *out, const char **pp)
{
    struct plumb_buf items = PLUMB_BUF_INIT;
    const char *p = *pp;
    int negate = 0, close = 0, dash = 0, rc = 0;

    if (*p == '^') {
        negate = 1;
        p++;
    }
    for (; *p && *p != ']'; p++) {
        if (*p == '\\') {
            p++;
            switch (*p) {
            case 'w':
                plumb_buf_puts(&items, "A-Za-z0-9_");
                break;
            case 'd':
                plumb_buf_puts(&items, "0-9");
                break;
            case 's':
                plumb_buf_puts(&items, "[:space:]");
                break;
            case ']':
                close = 1;
                break;
            case '-':
                dash = 1;
                break;
            case 'n':
                plumb_buf_putc(&items, '\n');
                break;
            case 't':
                plumb_buf_putc(&items, '\t');
                break;
            case '\0':
            case 'W':
            case 'D':
            case 'S':
            case 'u':
            case 'x':
            case 'b':
                rc = -1;
                goto done;
            default:
                plumb_buf_putc(&items, *p); /* \. \/ \\ \^ ... are the character itself */
            }
        } else if (*p == '-' && (p[1] == ']' || p == *pp + negate)) {
            dash = 1;
        } else if (*p == '[' && p[1] != ':') {
            plumb_buf_putc(&items, '[');
        } else {
            plumb_buf_putc(&items, *p);
        }
    }
    if (*p != ']') {
        rc = -1;
        goto done;
    }
    plumb_buf_putc(out, '[');
    if (negate)
        plumb_buf_putc(out, '^');
    if (close)
        plumb_buf_putc(out, ']');
    plumb_buf_puts(out, plumb_buf_cstr(&items));
    if (dash)
        plumb_buf_putc(out, '-');
    plumb_buf_putc(out, ']');
    *pp = p + 1;
done:
    plumb_buf_release(&items);
    return rc;
}

/* ECMAScript pattern → POSIX ERE, or -1 when it uses what ERE lacks. */
static int translate_pattern(struct plumb_buf *out, const char *p)
{
    while (*p) {
        if (p[0] == '(' && p[1] == '?')
            return -1; /* non-capturing groups, lookarounds */
        if (*p == '[') {
            p++;
            if (translate_bracket(out, &p) < 0)
                return -1;
            continue;
        }
        if (*p != '\\') {
            plumb_buf_putc(out, *p++);
            continue;
        }
        p++;
        switch (*p) {
        case 'd':
            plumb_buf_puts(out, "[0-9]");
            break;
        case 'w':
            plumb_buf_puts(out, "[A-Za-z0-9_]");
            break;
        case 's':
            plumb_buf_puts(out, "[[:space:]]");
            break;
        case 'A':
            plumb_buf_putc(out, '^');
            break;
        case 'Z':
        case 'z':
            plumb_buf_putc(out, '$');
            break;
        case 'n':
            plumb_buf_putc(out, '\n');
            break;
        case 't':
            plumb_buf_putc(out, '\t');
            break;
        case 'D':
        case 'W':
        case 'S':
        case 'b':
        case 'B':
        case 'u':
        case 'x':
        case '\0':
            return -1;
        default:
            plumb_buf_putc(out, '\\');
            plumb_buf_putc(out, *p);
        }
        p++;
    }
    return 0;
}

/*
 * "^[class]{m,n}$" (the shape of most AWS name patterns) → "^[class]*$" and the bounds on
 * the length: glibc compiles a bounded repetition into a copy of the class per count, so
 * {1,512} made every match cost tens of thousands of instructions. 0 when rewritten, -1 when
 * the pattern has another shape.
 */
static int translate_bounded_class(struct plumb_buf *out, const char *p, size_t *min, size_t *max)
{
    struct plumb_buf bracket = PLUMB_BUF_INIT;
    const char *q;
    char *end;
    unsigned long lo, hi;
    int rc = -1;

    if (p[0] != '^' || p[1] != '[')
        return -1;
    q = p + 2;
    if (translate_bracket(&bracket, &q) < 0 || *q != '{')
        goto done;
    lo = strtoul(q + 1, &end, 10);
    if (end == q + 1)
        goto done;
    hi = lo;
    if (*end == ',') {
        q = end + 1;
        hi = strtoul(q, &end, 10);
        if (end == q)
            hi = (unsigned long)-1; /* {m,} */
    }
    if (*end != '}' || hi < lo ||
        !(strcmp(end + 1, "$") == 0 || strcmp(end + 1, "\\Z") == 0 || strcmp(end + 1, "\\z") == 0))
        goto done;
    plumb_buf_putc(out, '^');
    plumb_buf_puts(out, plumb_buf_cstr(&bracket));
    plumb_buf_puts(out, "*$");
    *min = lo;
    *max = hi;
    rc = 0;
done:
    plumb_buf_release(&bracket);
    return rc;
}

/* 1 match, 0 no match, -1 not checkable. */
static int pattern_match(const char *pattern, const char *s)
{
    struct plumb_buf ere = PLUMB_BUF_INIT;
    json_int_t idx = -1;
    const json_t *found;
    int rc = -1;

    pthread_mutex_lock(&regex_lock);
    if (!regex_index)
        regex_index = json_object();
    found = json_object_get(regex_index, pattern);
    if (found) {
        idx = json_integer_value(found);
    } else {
        size_t min = 0, max = (size_t)-1;
        if ((translate_bounded_class(&ere, pattern, &min, &max) == 0 ||
             (plumb_buf_clear(&ere), translate_pattern(&ere, pattern) == 0)) &&
            nregexes < 4096) {
            if (nregexes == capregexes) {
                size_t cap = capregexes ? capregexes * 2 : 32;
                struct compiled *r = realloc(regexes, cap * sizeof(*r));
                if (r) {
                    regexes = r;
                    capregexes = cap;
                }
            }
            if (nregexes < capregexes && regcomp(&regexes[nregexes].re, plumb_buf_cstr(&ere),
                                                 REG_EXTENDED | REG_NOSUB) == 0) {
                regexes[nregexes].min = min;
                regexes[nregexes].max = max;
                idx = (json_int_t)nregexes++;
            }
        }
        json_object_set_new(regex_index, pattern, json_integer(idx));
    }
    if (idx >= 0) {
        size_t n = strlen(s);
        rc = n >= regexes[idx].min && n <= regexes[idx].max &&
             regexec(&regexes[idx].re, s, 0, NULL, 0) == 0;
    }
    pthread_mutex_unlock(&regex_lock);
    plumb_buf_release(&ere);
    return rc;
}

static void verr(struct vctx *c, const struct plumb_loc *loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Every message names the resource: the location alone is shared by all environments and
 * by every instance of a module. */
static void verr(struct vctx *c, const struct plumb_loc *loc, const char *fmt, ...)
{
    struct plumb_buf b = PLUMB_BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    plumb_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    plumb_diags_error(c->diags, loc, "resource '%s': %s", c->address, plumb_buf_cstr(&b));
    plumb_buf_release(&b);
}

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "a mapping";
    case JSON_ARRAY:
        return "a list";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

static int is_int_string(const char *s)
{
    char *end;

    if (!*s)
        return 0;
    strtoll(s, &end, 10);
    return *end == '\0';
}

static int is_num_string(const char *s)
{
    char *end;

    if (!*s)
        return 0;
    strtod(s, &end);
    return *end == '\0';
}

/* Does `v` fit JSON Schema type `type`? Scalars are accepted across the YAML/JSON seams
 * CloudFormation accepts them: a number where a string is wanted, "8000" for an integer. */
static int fits_type(const json_t *v, const char *type)
{
    if (strcmp(type, "string") == 0)
        return json_is_string(v) || json_is_number(v) || json_is_boolean(v);
    if (strcmp(type, "integer") == 0)
        return json_is_integer(v) || (json_is_string(v) && is_int_string(json_string_value(v)));
    if (strcmp(type, "number") == 0)
        return json_is_number(v) || (json_is_string(v) && is_num_string(json_string_value(v)));
    if (strcmp(type, "boolean") == 0)
        return json_is_boolean(v) ||
               (json_is_string(v) && (strcmp(json_string_value(v), "true") == 0 ||
                                      strcmp(json_string_value(v), "false") == 0));
    if (strcmp(type, "object") == 0)
        return json_is_object(v);
    if (strcmp(type, "array") == 0)
        return json_is_array(v);
    if (strcmp(type, "null") == 0)
        return json_is_null(v);
    return 1;
}

static const char *type_words(const char *type)
{
    if (strcmp(type, "object") == 0)
        return "a mapping";
    if (strcmp(type, "array") == 0)
        return "a list";
    if (strcmp(type, "integer") == 0)
        return "an integer";
    if (strcmp(type, "number") == 0)
        return "a number";
    if (strcmp(type, "boolean") == 0)
        return "a boolean";
    return "a string";
}

static const struct plumb_loc *loc_of(const struct vctx *c, const struct plumb_node *node)
{
    return node ? &node->loc : c->fallback;
}

static void scalar_text(struct plumb_buf *out, const json_t *v)
{
    if (json_is_string(v))
        plumb_buf_puts(out, json_string_value(v));
    else if (json_is_integer(v))
        plumb_buf_printf(out, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        plumb_buf_printf(out, "%g", json_real_value(v));
    else if (json_is_boolean(v))
        plumb_buf_puts(out, json_is_true(v) ? "true" : "false");
}

static void validate_value(struct vctx *c, const json_t *s, const json_t *v,
                           const struct plumb_node *node, const char *path);

static void validate_object(struct vctx *c, const json_t *s, const json_t *v,
                            const struct plumb_node *node, const char *path)
{
    const json_t *props = json_object_get(s, "properties"), *req = json_object_get(s, "required");
    const json_t *additional = json_object_get(s, "additionalProperties");
    struct plumb_buf sub = PLUMB_BUF_INIT;
    const char *key;
    json_t *val, *r;
    size_t i;

    json_object_foreach((json_t *)v, key, val)
    {
        const json_t *ps = json_object_get(props, key);
        const struct plumb_node_pair *pair =
            node && node->type == PLUMB_NODE_MAP ? plumb_node_get_pair(node, key) : NULL;
        plumb_buf_clear(&sub);
        plumb_buf_printf(&sub, "%s%s%s", path, *path ? "." : "", key);
        if (!ps) {
            if (json_is_false(additional) || (props && !additional)) {
                const char *names[512];
                const char *k2, *hint;
                json_t *x;
                size_t n = 0;
                json_object_foreach((json_t *)props, k2, x)
                {
                    if (n < 512)
                        names[n++] = k2;
                }
                hint = closest(key, names, n);
                verr(c, pair ? &pair->key->loc : loc_of(c, node),
                     "unknown property '%s' of %s%s%s%s", sub.ptr, c->t->type_name,
                     hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
                c->failed = 1;
            }
            continue;
        }
        if (!*path && plumb_schema_is_read_only(c->t, key)) {
            verr(c, pair ? &pair->key->loc : loc_of(c, node),
                 "'%s' is read-only: AWS sets it, it cannot be declared", key);
            c->failed = 1;
            continue;
        }
        validate_value(c, ps, val, pair ? pair->value : node, sub.ptr);
    }
    json_array_foreach(req, i, r)
    {
        if (json_is_string(r) && !json_object_get(v, json_string_value(r))) {
            plumb_buf_clear(&sub);
            plumb_buf_printf(&sub, "%s%s%s", path, *path ? "." : "", json_string_value(r));
            verr(c, loc_of(c, node), "missing required property '%s' of %s", sub.ptr,
                 c->t->type_name);
            c->failed = 1;
        }
    }
    plumb_buf_release(&sub);
}

static void validate_value(struct vctx *c, const json_t *s, const json_t *v,
                           const struct plumb_node *node, const char *path)
{
    struct plumb_buf text = PLUMB_BUF_INIT;
    const json_t *type, *x, *e;
    size_t i;
    int ok;

    if (plumb_value_is_unknown(v))
        return;
    v = plumb_value_unwrap(v);
    if (plumb_value_is_unknown(v))
        return;
    s = deref(c->t, s);
    if (!s)
        return;

    type = json_object_get(s, "type");
    if (json_is_string(type)) {
        if (!fits_type(v, json_string_value(type))) {
            verr(c, loc_of(c, node), "'%s' must be %s, not %s", path,
                 type_words(json_string_value(type)), json_kind(v));
            c->failed = 1;
            goto done;
        }
    } else if (json_is_array(type)) {
        ok = 0;
        json_array_foreach(type, i, x) ok |= fits_type(v, json_string_value(x));
        if (!ok) {
            verr(c, loc_of(c, node), "'%s' has the wrong type (%s)", path, json_kind(v));
            c->failed = 1;
            goto done;
        }
    }

    if (!json_is_object(v) && !json_is_array(v) && (e = json_object_get(s, "enum"))) {
        ok = 0;
        scalar_text(&text, v);
        json_array_foreach(e, i, x)
        {
            struct plumb_buf alt = PLUMB_BUF_INIT;
            scalar_text(&alt, x);
            ok |= strcmp(plumb_buf_cstr(&alt), plumb_buf_cstr(&text)) == 0;
            plumb_buf_release(&alt);
        }
        if (!ok) {
            struct plumb_buf list = PLUMB_BUF_INIT;
            json_array_foreach(e, i, x)
            {
                if (i)
                    plumb_buf_puts(&list, ", ");
                if (i == 12) {
                    plumb_buf_puts(&list, "...");
                    break;
                }
                scalar_text(&list, x);
            }
            verr(c, loc_of(c, node), "'%s' is '%s'; expected one of: %s", path,
                 plumb_buf_cstr(&text), plumb_buf_cstr(&list));
            plumb_buf_release(&list);
            c->failed = 1;
        }
    }

    if (json_is_string(v)) {
        const char *str = json_string_value(v);
        size_t len = json_string_length(v);
        const json_t *pat = json_object_get(s, "pattern");
        if (json_is_integer(json_object_get(s, "minLength")) &&
            (json_int_t)len < json_integer_value(json_object_get(s, "minLength"))) {
            verr(c, loc_of(c, node), "'%s' is shorter than %lld characters", path,
                 (long long)json_integer_value(json_object_get(s, "minLength")));
            c->failed = 1;
        }
        if (json_is_integer(json_object_get(s, "maxLength")) &&
            (json_int_t)len > json_integer_value(json_object_get(s, "maxLength"))) {
            verr(c, loc_of(c, node), "'%s' is longer than %lld characters", path,
                 (long long)json_integer_value(json_object_get(s, "maxLength")));
            c->failed = 1;
        }
        /* a number given for a string property is not pattern-checked as text */
        if (json_is_string(pat) && json_is_string(v) &&
            pattern_match(json_string_value(pat), str) == 0) {
            /* a long value is cut in the message, at a character boundary */
            int shown = len > 64 ? 64 : (int)len;
            while (shown > 0 && shown < (int)len && ((unsigned char)str[shown] & 0xC0) == 0x80)
                shown--;
            verr(c, loc_of(c, node), "'%s' value '%.*s%s' does not match %s", path, shown, str,
                 shown < (int)len ? "..." : "", json_string_value(pat));
            c->failed = 1;
        }
    }
    if (json_is_number(v) ||
        (json_is_string(v) && is_num_string(json_string_value(v)) &&
         (json_is_string(type) && strcmp(json_string_value(type), "string")))) {
        double d = json_is_number(v) ? json_number_value(v) : strtod(json_string_value(v), NULL);
        const json_t *mn = json_object_get(s, "minimum"), *mx = json_object_get(s, "maximum");
        if (json_is_number(mn) && d < json_number_value(mn)) {
            verr(c, loc_of(c, node), "'%s' is %g, below the minimum %g", path, d,
                 json_number_value(mn));
            c->failed = 1;
        }
        if (json_is_number(mx) && d > json_number_value(mx)) {
            verr(c, loc_of(c, node), "'%s' is %g, above the maximum %g", path, d,
                 json_number_value(mx));
            c->failed = 1;
        }
    }
    if (json_is_array(v)) {
        const json_t *items = json_object_get(s, "items");
        const json_t *mn = json_object_get(s, "minItems"), *mx = json_object_get(s, "maxItems");
        struct plumb_buf sub = PLUMB_BUF_INIT;
        if (json_is_integer(mn) && (json_int_t)json_array_size(v) < json_integer_value(mn)) {
            verr(c, loc_of(c, node), "'%s' needs at least %lld items", path,
                 (long long)json_integer_value(mn));
            c->failed = 1;
        }
        if (json_is_integer(mx) && (json_int_t)json_array_size(v) > json_integer_value(mx)) {
            verr(c, loc_of(c, node), "'%s' takes at most %lld items", path,
                 (long long)json_integer_value(mx));
            c->failed = 1;
        }
        if (items) {
            json_array_foreach(v, i, x)
            {
                const struct plumb_node *item =
                    node && node->type == PLUMB_NODE_SEQ && i < node->n ? node->items[i] : node;
                plumb_buf_clear(&sub);
                plumb_buf_printf(&sub, "%s[%zu]", path, i);
                validate_value(c, items, x, item, sub.ptr);
            }
        }
        plumb_buf_release(&sub);
    }
    if (json_is_object(v))
        validate_object(c, s, v, node, path);
done:
    plumb_buf_release(&text);
}

int plumb_schema_validate(const struct plumb_schema_type *t, const char *address,
                          const json_t *props, const struct plumb_node *node,
                          const struct plumb_loc *fallback, struct plumb_diags *diags)
{
    struct vctx c = {address, t, diags, fallback, 0};
    json_t *root = json_object();
    const char *key;
    json_t *x;

    /* The top level is an object of t->properties with the document's required list. */
    json_object_set_new(root, "type", json_string("object"));
    json_object_set(root, "properties", (json_t *)t->properties);
    json_object_set_new(root, "additionalProperties", json_false());
    if ((x = json_object_get(t->doc, "required")))
        json_object_set(root, "required", x);
    (void)key;
    validate_object(&c, root, props, node, "");
    json_decref(root);
    return c.failed ? PLUMB_EINVALID : 0;
}

/* ---- normalisation -------------------------------------------------------------------- */

static const char *schema_type(const json_t *s)
{
    const json_t *type = json_object_get(s, "type");

    if (json_is_string(type))
        return json_string_value(type);
    return NULL; /* absent, or a list of types: leave the value alone */
}

static json_t *normalize_value(const struct plumb_schema_type *t, const json_t *s, const json_t *v)
{
    const char *type, *k;
    json_t *out, *x;
    size_t i;

    if (plumb_value_is_unknown(v))
        return json_deep_copy(v);
    if (plumb_value_is_sensitive(v))
        return plumb_value_sensitive(normalize_value(t, s, plumb_value_unwrap(v)));
    s = deref(t, s);
    type = s ? schema_type(s) : NULL;
    if (type && strcmp(type, "string") == 0) {
        struct plumb_buf b = PLUMB_BUF_INIT;
        if (json_is_number(v) || json_is_boolean(v)) {
            scalar_text(&b, v);
            out = json_string(plumb_buf_cstr(&b));
            plumb_buf_release(&b);
            return out;
        }
    } else if (type && strcmp(type, "integer") == 0 && json_is_string(v) &&
               is_int_string(json_string_value(v))) {
        return json_integer(strtoll(json_string_value(v), NULL, 10));
    } else if (type && strcmp(type, "number") == 0 && json_is_string(v) &&
               is_num_string(json_string_value(v))) {
        double d = strtod(json_string_value(v), NULL);
        return d == (double)(json_int_t)d ? json_integer((json_int_t)d) : json_real(d);
    } else if (type && strcmp(type, "boolean") == 0 && json_is_string(v)) {
        if (strcmp(json_string_value(v), "true") == 0)
            return json_true();
        if (strcmp(json_string_value(v), "false") == 0)
            return json_false();
    }
    if (json_is_object(v)) {
        const json_t *props = s ? json_object_get(s, "properties") : NULL;
        const json_t *extra = s ? json_object_get(s, "additionalProperties") : NULL;
        out = json_object();
        json_object_foreach((json_t *)v, k, x)
        {
            const json_t *ps = json_object_get(props, k);
            if (!ps && json_is_object(extra))
                ps = extra;
            json_object_set_new(out, k, ps ? normalize_value(t, ps, x) : json_deep_copy(x));
        }
        return out;
    }
    if (json_is_array(v)) {
        const json_t *items = s ? json_object_get(s, "items") : NULL;
        out = json_array();
        json_array_foreach(v, i, x)
            json_array_append_new(out, items ? normalize_value(t, items, x) : json_deep_copy(x));
        return out;
    }
    return json_deep_copy(v);
}

json_t *plumb_schema_normalize(const struct plumb_schema_type *t, const json_t *props)
{
    const char *k;
    json_t *out = json_object(), *x;

    json_object_foreach((json_t *)props, k, x)
    {
        const json_t *ps = json_object_get(t->properties, k);
        json_object_set_new(out, k, ps ? normalize_value(t, ps, x) : json_deep_copy(x));
    }
    return out;
}

/* Whether `pointer` is in the plumb block's list `key`. */
static int plumb_listed(const struct plumb_schema_type *t, const char *key, const char *pointer)
{
    const json_t *list = json_object_get(json_object_get(t->doc, "plumb"), key);
    const json_t *p;
    size_t i;

    json_array_foreach(list, i, p)
    {
        if (json_is_string(p) && strcmp(json_string_value(p), pointer) == 0)
            return 1;
    }
    return 0;
}

int plumb_schema_is_unordered(const struct plumb_schema_type *t, const char *pointer)
{
    return plumb_listed(t, "unorderedArrays", pointer);
}

int plumb_schema_is_partial(const struct plumb_schema_type *t, const char *pointer)
{
    return plumb_listed(t, "partialArrays", pointer);
}

void plumb_schema_add_plumb_tags(const struct plumb_schema_type *t, json_t *props,
                                 const char *project, const char *env, const char *address)
{
    const char *keys[3] = {"plumb:project", "plumb:env", "plumb:address"};
    const char *vals[3] = {project, env, address};
    json_t *tags, *kept, *x;
    size_t i;
    int k;

    if (!t->tags_property || !json_is_object(props))
        return;
    tags = json_object_get(props, t->tags_property);
    if (plumb_value_is_unknown(tags))
        return;
    if (t->tags_as_map) {
        if (!json_is_object(tags)) {
            tags = json_object();
            json_object_set_new(props, t->tags_property, tags);
        }
        for (k = 0; k < 3; k++)
            if (vals[k])
                json_object_set_new(tags, keys[k], json_string(vals[k]));
        return;
    }
    kept = json_array();
    json_array_foreach(tags, i, x)
    {
        const char *key = json_string_value(json_object_get(x, "Key"));
        if (!key || strncmp(key, "plumb:", 6) != 0)
            json_array_append(kept, x);
    }
    for (k = 0; k < 3; k++)
        if (vals[k])
            json_array_append_new(kept, json_pack("{s:s, s:s}", "Key", keys[k], "Value", vals[k]));
    json_object_set_new(props, t->tags_property, kept);
}
