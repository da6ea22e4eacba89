#include "config/yaml.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <yaml.h>

#include "util/buf.h"
#include "util/error.h"

#define CORE_TAG    "tag:yaml.org,2002:"
#define ARENA_BLOCK (32u << 10)
/* Past this many errors in one file the rest is noise (and an adversarial file could make
 * millions of them): stop and say so. */
#define MAX_ERRORS 100
/* Longest part of a key or value quoted in a message. */
#define MSG_QUOTE_MAX 60

/*
 * Every node is allocated as one of these. The public node comes first, so a node handed out
 * can be turned back into its extension: nodes are only ever made here.
 */
struct xnode {
    struct plumb_node node;
    size_t weight; /* nodes in the subtree, aliased subtrees counted in full */
    int complete;  /* 0 while a collection is being parsed: an alias to it would be recursive */
    int bad;       /* stands in for something already reported: no follow-up errors */
    int merge;     /* a plain untagged "<<": the merge key */
    int text_line; /* where a one-line scalar's text starts in the file; 0 when unknown */
    int text_col;
};

/* The arena every node, array and string of a document lives in, freed at once. */
struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    max_align_t data[];
};

struct plumb_doc {
    struct arena_block *blocks;
    char *file;
    struct plumb_node *root;
};

struct anchor {
    char *name; /* NULL: free slot */
    struct xnode *node;
};

/* Anchors by name, open addressing: documents with many anchors and aliases stay linear. */
struct anchors {
    struct anchor *v;
    size_t n, cap;
};

/* A child of a collection being parsed, with where it was written: for an alias that is not
 * where the node it refers to is. */
struct kid {
    struct xnode *x;
    int line, col;
};

/* A collection being parsed: its children are ld->kids[start..] (key, value, key, value
 * for a mapping). */
struct frame {
    struct xnode *node;
    size_t start;
};

struct loader {
    struct plumb_doc *doc;
    struct plumb_diags *diags;
    size_t errors0; /* diags->errors when we started: diags may hold other files' problems */
    const char *data;
    size_t len;
    yaml_parser_t parser;
    struct frame frames[PLUMB_YAML_MAX_DEPTH];
    size_t depth;
    struct kid *kids;
    size_t nkids, capkids;
    struct anchors anchors;
    size_t count; /* nodes so far, aliases counted in full */
    int documents;
};

/* One key/value of a mapping being finished (see finish_map). */
struct entry {
    struct xnode *key, *value;
    size_t pos;    /* index of the pair in the file (of the "<<" pair for merged ones) */
    size_t sub;    /* 0 for an explicit pair, 1.. in merge order for merged ones */
    int rank;      /* 0 explicit, 1 merged: explicit keys win */
    int keep;      /* ends up in the mapping */
    int line, col; /* where an explicit key was written */
    int dup;       /* an explicit key written before, at first_line:first_col */
    int first_line, first_col;
};

static struct xnode *xnode_of(const struct plumb_node *n)
{
    return (struct xnode *)n;
}

static void *arena_alloc(struct plumb_doc *doc, size_t n)
{
    const size_t align = _Alignof(max_align_t);
    struct arena_block *b = doc->blocks;
    void *p = NULL;
    size_t cap;

    if (n > SIZE_MAX / 2)
        goto done;
    n = (n + align - 1) & ~(align - 1);
    if (!b || b->cap - b->used < n) {
        cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
        b = malloc(sizeof(*b) + cap);
        if (!b)
            goto done;
        b->cap = cap;
        b->used = 0;
        /* A big allocation gets a block of its own behind the current one, which keeps
         * serving the small ones. */
        if (doc->blocks && n > ARENA_BLOCK / 4) {
            b->next = doc->blocks->next;
            doc->blocks->next = b;
        } else {
            b->next = doc->blocks;
            doc->blocks = b;
        }
    }
    p = (char *)b->data + b->used;
    b->used += n;
done:
    return p;
}

static char *arena_strndup(struct plumb_doc *doc, const char *s, size_t len)
{
    char *p = arena_alloc(doc, len + 1);

    if (p) {
        if (len)
            memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

void plumb_doc_free(struct plumb_doc *doc)
{
    struct arena_block *b, *next;

    if (!doc)
        return;
    for (b = doc->blocks; b; b = next) {
        next = b->next;
        free(b);
    }
    free(doc->file);
    free(doc);
}

const struct plumb_node *plumb_doc_root(const struct plumb_doc *doc)
{
    return doc ? doc->root : NULL;
}

const char *plumb_doc_file(const struct plumb_doc *doc)
{
    return doc ? doc->file : NULL;
}

/* Code points in s[0..len): libyaml counts columns in characters, not bytes. */
static size_t utf8_chars(const char *s, size_t len)
{
    size_t i, n = 0;

    for (i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

/* Appends `s` for a message: printable text as is, control bytes escaped, long text cut. */
static int put_quoted(struct plumb_buf *b, const char *s, size_t len)
{
    size_t i, n = len > MSG_QUOTE_MAX ? MSG_QUOTE_MAX : len;
    int error = 0;

    /* Do not cut a UTF-8 sequence in half. */
    while (n < len && n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    for (i = 0; i < n && error == 0; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7F)
            error = plumb_buf_printf(b, "\\x%02x", c);
        else
            error = plumb_buf_putc(b, (char)c);
    }
    if (error == 0 && n < len)
        error = plumb_buf_puts(b, "...");
    return error;
}

static struct plumb_loc mark_loc(const struct loader *ld, const yaml_mark_t *m)
{
    struct plumb_loc loc;

    loc.file = ld->doc->file;
    loc.line = m->line >= INT32_MAX ? INT32_MAX : (int)m->line + 1;
    loc.col = m->column >= INT32_MAX ? INT32_MAX : (int)m->column + 1;
    return loc;
}

/*
 * Records an error that does not stop parsing. Returns 0, or negative when parsing must stop:
 * out of memory, or too many errors already.
 */
static int report(struct loader *ld, const struct plumb_loc *loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int report(struct loader *ld, const struct plumb_loc *loc, const char *fmt, ...)
{
    struct plumb_buf b = PLUMB_BUF_INIT;
    struct plumb_loc fileloc = {ld->doc->file, 0, 0};
    va_list ap;
    int error = 0;

    va_start(ap, fmt);
    error = plumb_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (error < 0)
        goto done;
    if (plumb_diags_error(ld->diags, loc, "%s", b.ptr) == -1) {
        error = -1;
        goto done;
    }
    if (ld->diags->errors - ld->errors0 >= MAX_ERRORS) {
        error = plumb_diags_error(ld->diags, &fileloc, "too many errors in '%s', giving up",
                                  ld->doc->file);
        goto done;
    }
done:
    plumb_buf_release(&b);
    return error;
}

/* "!!int" for the core tags, the tag as resolved by libyaml otherwise. */
static int put_tag(struct plumb_buf *b, const char *tag)
{
    if (!strncmp(tag, CORE_TAG, strlen(CORE_TAG)))
        return plumb_buf_printf(b, "!!%s", tag + strlen(CORE_TAG));
    return plumb_buf_puts(b, tag);
}

static int report_tag(struct loader *ld, const struct plumb_loc *loc, const char *what,
                      const char *tag, const char *rest)
{
    struct plumb_buf b = PLUMB_BUF_INIT;
    int error = 0;

    PLUMB_TRY(plumb_buf_puts(&b, what));
    PLUMB_TRY(plumb_buf_puts(&b, " '"));
    PLUMB_TRY(put_tag(&b, tag));
    PLUMB_TRY(plumb_buf_puts(&b, "'"));
    PLUMB_TRY(plumb_buf_puts(&b, rest));
    error = report(ld, loc, "%s", b.ptr);
done:
    plumb_buf_release(&b);
    return error;
}

/* ---- anchors ---- */

static size_t hash_str(const char *s)
{
    size_t h = 1469598103934665603u;

    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211u;
    return h;
}

static struct anchor *anchor_slot(struct anchor *v, size_t cap, const char *name)
{
    size_t i = hash_str(name) & (cap - 1);

    while (v[i].name && strcmp(v[i].name, name))
        i = (i + 1) & (cap - 1);
    return &v[i];
}

static struct xnode *anchor_get(const struct anchors *a, const char *name)
{
    struct anchor *slot;

    if (!a->cap)
        return NULL;
    slot = anchor_slot(a->v, a->cap, name);
    return slot->name ? slot->node : NULL;
}

/* Defines or redefines `name`: an alias refers to the latest anchor of that name. */
static int anchor_set(struct anchors *a, const char *name, struct xnode *node)
{
    struct anchor *slot, *v;
    size_t i, cap;
    int error = 0;

    if ((a->n + 1) * 2 > a->cap) {
        cap = a->cap ? a->cap * 2 : 64;
        v = calloc(cap, sizeof(*v));
        PLUMB_ALLOC_CHECK(v);
        for (i = 0; i < a->cap; i++)
            if (a->v[i].name)
                *anchor_slot(v, cap, a->v[i].name) = a->v[i];
        free(a->v);
        a->v = v;
        a->cap = cap;
    }
    slot = anchor_slot(a->v, a->cap, name);
    if (!slot->name) {
        slot->name = strdup(name);
        PLUMB_ALLOC_CHECK(slot->name);
        a->n++;
    }
    slot->node = node;
done:
    return error;
}

static void anchors_release(struct anchors *a)
{
    size_t i;

    for (i = 0; i < a->cap; i++)
        free(a->v[i].name);
    free(a->v);
    memset(a, 0, sizeof(*a));
}

/* ---- scalar types (YAML 1.2 core schema) ---- */

#define DEC "0123456789"

/* s[0..len) is one or more characters of `set`. */
static int is_digits(const char *s, size_t len, const char *set)
{
    size_t i = 0;

    while (i < len && s[i] && strchr(set, s[i]))
        i++;
    return len > 0 && i == len;
}

/* How many decimal digits start at s[*i]; *i moves past them. */
static size_t skip_digits(const char *s, size_t len, size_t *i)
{
    size_t start = *i;

    while (*i < len && s[*i] >= '0' && s[*i] <= '9')
        (*i)++;
    return *i - start;
}

static int is_null(const char *s, size_t len)
{
    return len == 0 || (len == 1 && s[0] == '~') ||
           (len == 4 && (!memcmp(s, "null", 4) || !memcmp(s, "Null", 4) || !memcmp(s, "NULL", 4)));
}

/* The core schema's spellings only: "yes", "on" and "tRuE" are strings. */
static int is_bool(const char *s, size_t len)
{
    static const char *const words[] = {"true", "True", "TRUE", "false", "False", "FALSE"};
    size_t i;
    int found = 0;

    for (i = 0; !found && i < sizeof(words) / sizeof(words[0]); i++)
        found = len == strlen(words[i]) && !memcmp(s, words[i], len);
    return found;
}

/* [-+]?[0-9]+ | 0o[0-7]+ | 0x[0-9a-fA-F]+ */
static int is_int(const char *s, size_t len)
{
    const char *set = DEC;

    if (len > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x')) {
        set = s[1] == 'o' ? "01234567" : DEC "abcdefABCDEF";
        s += 2;
        len -= 2;
    } else if (len && (s[0] == '-' || s[0] == '+')) {
        s++;
        len--;
    }
    return is_digits(s, len, set);
}

static int is_special_float(const char *s, size_t len)
{
    if (len && (s[0] == '-' || s[0] == '+')) {
        s++;
        len--;
    }
    return len == 4 && (!memcmp(s, ".inf", 4) || !memcmp(s, ".Inf", 4) || !memcmp(s, ".INF", 4));
}

static int is_nan(const char *s, size_t len)
{
    return len == 4 && (!memcmp(s, ".nan", 4) || !memcmp(s, ".NaN", 4) || !memcmp(s, ".NAN", 4));
}

/* [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?, or .inf and .nan */
static int is_float(const char *s, size_t len)
{
    size_t i = 0, whole, frac = 0;
    int ok;

    if (i < len && (s[i] == '-' || s[i] == '+'))
        i++;
    whole = skip_digits(s, len, &i);
    if (i < len && s[i] == '.') {
        i++;
        frac = skip_digits(s, len, &i);
    }
    ok = whole || frac;
    if (ok && i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '-' || s[i] == '+'))
            i++;
        ok = skip_digits(s, len, &i) > 0;
    }
    return (ok && i == len) || is_special_float(s, len) || is_nan(s, len);
}

static enum plumb_scalar_kind resolve_plain(const char *s, size_t len)
{
    enum plumb_scalar_kind kind = PLUMB_SCALAR_STRING;

    if (is_null(s, len))
        kind = PLUMB_SCALAR_NULL;
    else if (is_bool(s, len))
        kind = PLUMB_SCALAR_BOOL;
    else if (is_int(s, len))
        kind = PLUMB_SCALAR_INT;
    else if (is_float(s, len))
        kind = PLUMB_SCALAR_FLOAT;
    return kind;
}

/* The value of an INT scalar (s is NUL-terminated and passed is_int). 0 or -1 (range). */
static int parse_int(long long *out, const char *s)
{
    int base = 10;

    if (s[0] == '0' && (s[1] == 'o' || s[1] == 'x')) {
        base = s[1] == 'o' ? 8 : 16;
        s += 2;
    }
    errno = 0;
    *out = strtoll(s, NULL, base);
    return errno == ERANGE ? -1 : 0;
}

/* The value of a FLOAT scalar; 0, or -1 when it is too large for a double. */
static int parse_float(double *out, const char *s, size_t len)
{
    int error = 0;

    if (is_nan(s, len)) {
        *out = NAN;
    } else if (is_special_float(s, len)) {
        *out = s[0] == '-' ? -INFINITY : INFINITY;
    } else {
        errno = 0;
        *out = strtod(s, NULL);
        if (errno == ERANGE && isinf(*out))
            error = -1;
    }
    return error;
}

/* ---- nodes ---- */

static struct xnode *new_node(struct loader *ld, enum plumb_node_type type, const yaml_mark_t *mark)
{
    struct xnode *x = arena_alloc(ld->doc, sizeof(*x));

    if (x) {
        memset(x, 0, sizeof(*x));
        x->node.type = type;
        x->node.loc = mark_loc(ld, mark);
        x->weight = 1;
        x->complete = 1;
    }
    return x;
}

/* One more node (or an aliased subtree of `weight` nodes): refuses documents that would
 * expand past the limit, before anything is expanded. */
static int count_nodes(struct loader *ld, size_t weight, const yaml_mark_t *mark)
{
    struct plumb_loc loc = mark_loc(ld, mark);
    int error = 0;

    if (weight > PLUMB_YAML_MAX_NODES - ld->count) {
        error = plumb_diags_error(ld->diags, &loc,
                                  "document too large: more than %u nodes once aliases are "
                                  "expanded",
                                  PLUMB_YAML_MAX_NODES);
        goto done;
    }
    ld->count += weight;
done:
    return error;
}

static int push_kid(struct loader *ld, struct xnode *x, const struct plumb_loc *loc)
{
    struct kid *v;
    size_t cap;
    int error = 0;

    if (ld->nkids == ld->capkids) {
        cap = ld->capkids ? ld->capkids * 2 : 64;
        v = realloc(ld->kids, cap * sizeof(*v));
        PLUMB_ALLOC_CHECK(v);
        ld->kids = v;
        ld->capkids = cap;
    }
    ld->kids[ld->nkids].x = x;
    ld->kids[ld->nkids].line = loc->line;
    ld->kids[ld->nkids].col = loc->col;
    ld->nkids++;
done:
    return error;
}

/* The parent is a mapping and the next child is a key. */
static int expects_key(const struct loader *ld)
{
    const struct frame *f = ld->depth ? &ld->frames[ld->depth - 1] : NULL;

    return f && f->node->node.type == PLUMB_NODE_MAP && (ld->nkids - f->start) % 2 == 0;
}

/* Hands a finished node to its parent (or makes it the root). `loc`: where it was written,
 * which for an alias is the alias, not the anchored node. */
static int add_node(struct loader *ld, struct xnode *x, const struct plumb_loc *loc)
{
    int error = 0;

    if (!ld->depth) {
        ld->doc->root = &x->node;
        goto done;
    }
    if (expects_key(ld) && x->node.type != PLUMB_NODE_SCALAR && !x->bad)
        PLUMB_TRY(report(ld, loc, "mapping keys must be scalars, not a %s",
                         plumb_node_type_name(&x->node)));
    PLUMB_TRY(push_kid(ld, x, loc));
done:
    return error;
}

/*
 * Where a one-line scalar's text starts. libyaml's start mark is at the node's anchor or tag
 * when it has one, so then the start is counted back from the end mark (exact for plain and
 * single-quoted scalars; escapes in double-quoted ones make it approximate).
 */
static void set_text_loc(struct xnode *x, const yaml_event_t *ev)
{
    yaml_scalar_style_t style = ev->data.scalar.style;
    int quoted =
        style == YAML_SINGLE_QUOTED_SCALAR_STYLE || style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    size_t chars, i, end = ev->end_mark.column;

    if (ev->start_mark.line != ev->end_mark.line || (!quoted && style != YAML_PLAIN_SCALAR_STYLE))
        return;
    if (!ev->data.scalar.anchor && !ev->data.scalar.tag) {
        x->text_col = x->node.loc.col + quoted;
    } else {
        chars = utf8_chars(x->node.scalar, x->node.len);
        if (style == YAML_SINGLE_QUOTED_SCALAR_STYLE)
            for (i = 0; i < x->node.len; i++)
                chars += x->node.scalar[i] == '\'';
        if (chars + quoted > end)
            return;
        x->text_col = (int)(end - quoted - chars) + 1;
    }
    x->text_line = x->node.loc.line;
}

static int check_scalar_tag(struct loader *ld, struct xnode *x, const char *tag)
{
    struct plumb_node *n = &x->node;
    struct plumb_buf rest = PLUMB_BUF_INIT;
    const char *name;
    enum plumb_scalar_kind want, got = resolve_plain(n->scalar, n->len);
    int error = 0;

    if (!strcmp(tag, "!")) { /* the non-specific tag: a string, whatever it looks like */
        n->kind = PLUMB_SCALAR_STRING;
        goto done;
    }
    if (strncmp(tag, CORE_TAG, strlen(CORE_TAG))) {
        error = report_tag(ld, &n->loc, "unknown tag", tag, "");
        goto done;
    }
    name = tag + strlen(CORE_TAG);
    if (!strcmp(name, "str")) {
        n->kind = PLUMB_SCALAR_STRING;
        goto done;
    } else if (!strcmp(name, "null")) {
        want = PLUMB_SCALAR_NULL;
    } else if (!strcmp(name, "bool")) {
        want = PLUMB_SCALAR_BOOL;
    } else if (!strcmp(name, "int")) {
        want = PLUMB_SCALAR_INT;
    } else if (!strcmp(name, "float")) {
        want = PLUMB_SCALAR_FLOAT;
        if (got == PLUMB_SCALAR_INT) /* "!!float 1" is 1.0 */
            got = PLUMB_SCALAR_FLOAT;
    } else if (!strcmp(name, "map") || !strcmp(name, "seq")) {
        error = report_tag(ld, &n->loc, "tag", tag, " cannot be used on a scalar");
        goto done;
    } else {
        error = report_tag(ld, &n->loc, "unknown tag", tag, "");
        goto done;
    }
    if (got != want) {
        PLUMB_TRY(plumb_buf_puts(&rest, " value '"));
        PLUMB_TRY(put_quoted(&rest, n->scalar, n->len));
        PLUMB_TRY(plumb_buf_puts(&rest, "'"));
        error = report_tag(ld, &n->loc, "invalid", tag, rest.ptr);
        goto done;
    }
    n->kind = want;
done:
    plumb_buf_release(&rest);
    return error;
}

/* Numbers that do not fit are refused here, so plumb_node_to_json cannot meet them. */
static int check_range(struct loader *ld, struct xnode *x)
{
    struct plumb_node *n = &x->node;
    struct plumb_buf b = PLUMB_BUF_INIT;
    long long i;
    double d;
    int error = 0;

    if ((n->kind == PLUMB_SCALAR_INT && parse_int(&i, n->scalar) < 0) ||
        (n->kind == PLUMB_SCALAR_FLOAT && parse_float(&d, n->scalar, n->len) < 0)) {
        PLUMB_TRY(put_quoted(&b, n->scalar, n->len));
        error = report(ld, &n->loc, "number '%s' is out of range", b.ptr);
    }
done:
    plumb_buf_release(&b);
    return error;
}

static int on_scalar(struct loader *ld, const yaml_event_t *ev)
{
    const char *tag = (const char *)ev->data.scalar.tag;
    const char *anchor = (const char *)ev->data.scalar.anchor;
    struct xnode *x = NULL;
    struct plumb_node *n;
    int error = 0;

    PLUMB_TRY(count_nodes(ld, 1, &ev->start_mark));
    x = new_node(ld, PLUMB_NODE_SCALAR, &ev->start_mark);
    PLUMB_ALLOC_CHECK(x);
    n = &x->node;
    n->len = ev->data.scalar.length;
    n->scalar = arena_strndup(ld->doc, (const char *)ev->data.scalar.value, n->len);
    PLUMB_ALLOC_CHECK(n->scalar);
    n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
    n->kind = PLUMB_SCALAR_STRING;
    if (tag) {
        PLUMB_TRY(check_scalar_tag(ld, x, tag));
    } else if (!n->quoted) {
        n->kind = resolve_plain(n->scalar, n->len);
        x->merge = n->len == 2 && !memcmp(n->scalar, "<<", 2);
    }
    PLUMB_TRY(check_range(ld, x));
    set_text_loc(x, ev);
    if (anchor)
        PLUMB_TRY(anchor_set(&ld->anchors, anchor, x));
    PLUMB_TRY(add_node(ld, x, &n->loc));
done:
    return error;
}

static int on_alias(struct loader *ld, const yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    struct plumb_loc loc = mark_loc(ld, &ev->start_mark);
    struct plumb_buf b = PLUMB_BUF_INIT;
    struct xnode *x = anchor_get(&ld->anchors, name);
    int error = 0;

    if (x && x->complete) {
        PLUMB_TRY(count_nodes(ld, x->weight, &ev->start_mark));
        PLUMB_TRY(add_node(ld, x, &loc));
        goto done;
    }
    PLUMB_TRY(put_quoted(&b, name, strlen(name)));
    PLUMB_TRY(report(ld, &loc,
                     x ? "recursive alias '%s': it refers to a node that contains it"
                       : "undefined alias '%s'",
                     b.ptr));
    /* A null stands in, so the rest of the file is still checked. */
    PLUMB_TRY(count_nodes(ld, 1, &ev->start_mark));
    x = new_node(ld, PLUMB_NODE_SCALAR, &ev->start_mark);
    PLUMB_ALLOC_CHECK(x);
    x->node.scalar = arena_strndup(ld->doc, "", 0);
    PLUMB_ALLOC_CHECK(x->node.scalar);
    x->node.kind = PLUMB_SCALAR_NULL;
    x->bad = 1;
    PLUMB_TRY(add_node(ld, x, &loc));
done:
    plumb_buf_release(&b);
    return error;
}

static int on_collection_start(struct loader *ld, const yaml_event_t *ev, enum plumb_node_type type)
{
    const char *tag, *anchor, *own = type == PLUMB_NODE_MAP ? CORE_TAG "map" : CORE_TAG "seq";
    struct plumb_loc loc = mark_loc(ld, &ev->start_mark);
    struct xnode *x;
    int error = 0;

    if (type == PLUMB_NODE_MAP) {
        tag = (const char *)ev->data.mapping_start.tag;
        anchor = (const char *)ev->data.mapping_start.anchor;
    } else {
        tag = (const char *)ev->data.sequence_start.tag;
        anchor = (const char *)ev->data.sequence_start.anchor;
    }
    if (ld->depth == PLUMB_YAML_MAX_DEPTH) {
        error = plumb_diags_error(ld->diags, &loc, "nesting too deep: more than %d levels",
                                  PLUMB_YAML_MAX_DEPTH);
        goto done;
    }
    PLUMB_TRY(count_nodes(ld, 1, &ev->start_mark));
    x = new_node(ld, type, &ev->start_mark);
    PLUMB_ALLOC_CHECK(x);
    x->complete = 0;
    if (tag && strcmp(tag, "!") && strcmp(tag, own)) {
        if (!strcmp(tag, CORE_TAG "map") || !strcmp(tag, CORE_TAG "seq") ||
            !strcmp(tag, CORE_TAG "str") || !strcmp(tag, CORE_TAG "int") ||
            !strcmp(tag, CORE_TAG "float") || !strcmp(tag, CORE_TAG "bool") ||
            !strcmp(tag, CORE_TAG "null"))
            PLUMB_TRY(report_tag(ld, &loc, "tag", tag,
                                 type == PLUMB_NODE_MAP ? " cannot be used on a mapping"
                                                        : " cannot be used on a sequence"));
        else
            PLUMB_TRY(report_tag(ld, &loc, "unknown tag", tag, ""));
    }
    if (anchor)
        PLUMB_TRY(anchor_set(&ld->anchors, anchor, x));
    ld->frames[ld->depth].node = x;
    ld->frames[ld->depth].start = ld->nkids;
    ld->depth++;
done:
    return error;
}

static size_t add_weight(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static int finish_seq(struct loader *ld)
{
    struct frame *f = &ld->frames[ld->depth - 1];
    struct plumb_node *n = &f->node->node;
    size_t i;
    int error = 0;

    n->n = ld->nkids - f->start;
    if (n->n) {
        n->items = arena_alloc(ld->doc, n->n * sizeof(*n->items));
        PLUMB_ALLOC_CHECK(n->items);
        for (i = 0; i < n->n; i++) {
            n->items[i] = &ld->kids[f->start + i].x->node;
            f->node->weight = add_weight(f->node->weight, ld->kids[f->start + i].x->weight);
        }
    }
done:
    return error;
}

/* The merge key is a key of its own: a quoted '<<' is an ordinary one. */
static int cmp_key(const struct xnode *a, const struct xnode *b)
{
    size_t la = a->node.len, lb = b->node.len;
    int c = a->merge - b->merge;

    if (!c)
        c = memcmp(a->node.scalar, b->node.scalar, la < lb ? la : lb);
    return c ? c : (la > lb) - (la < lb);
}

static int cmp_pos(size_t a, size_t b)
{
    return (a > b) - (a < b);
}

/* Equal keys together, the winner first: explicit before merged, then file and merge order. */
static int cmp_entry_key(const void *pa, const void *pb)
{
    const struct entry *a = pa, *b = pb;
    int c = cmp_key(a->key, b->key);

    if (!c)
        c = a->rank - b->rank;
    if (!c)
        c = cmp_pos(a->pos, b->pos);
    return c ? c : cmp_pos(a->sub, b->sub);
}

static int cmp_entry_pos(const void *pa, const void *pb)
{
    const struct entry *a = pa, *b = pb;
    int c = cmp_pos(a->pos, b->pos);

    return c ? c : cmp_pos(a->sub, b->sub);
}

static int report_merge_value(struct loader *ld, const struct xnode *v)
{
    int error = 0;

    if (!v->bad) /* a stand-in was reported already */
        error = report(ld, &v->node.loc,
                       "merge value must be a mapping or a list of mappings, not a %s",
                       plumb_node_type_name(&v->node));
    return error;
}

/* The entries of a mapping: its pairs, and what "<<" pairs merge in. `out` NULL: count. */
static int collect_entries(struct entry *out, size_t *n, struct loader *ld, size_t start,
                           size_t npairs)
{
    struct xnode *k, *v, *item;
    const struct kid *kid;
    const struct plumb_node *src;
    size_t i, j, m, sub;
    int error = 0;

    *n = 0;
    for (i = 0; i < npairs; i++) {
        kid = &ld->kids[start + 2 * i];
        k = kid->x;
        v = ld->kids[start + 2 * i + 1].x;
        if (k->node.type != PLUMB_NODE_SCALAR) /* reported when it was added */
            continue;
        if (out)
            out[*n] =
                (struct entry){.key = k, .value = v, .pos = i, .line = kid->line, .col = kid->col};
        (*n)++;
        if (!k->merge)
            continue;
        /* The sources: one mapping, or a list of mappings, earlier ones winning. */
        sub = 1;
        m = v->node.type == PLUMB_NODE_SEQ ? v->node.n : 1;
        for (j = 0; j < m; j++) {
            item = v->node.type == PLUMB_NODE_SEQ ? xnode_of(v->node.items[j]) : v;
            if (item->node.type != PLUMB_NODE_MAP) {
                if (out)
                    PLUMB_TRY(report_merge_value(ld, item));
                continue;
            }
            src = &item->node;
            if (out) {
                size_t p;
                for (p = 0; p < src->n; p++)
                    out[*n + p] = (struct entry){.key = xnode_of(src->pairs[p].key),
                                                 .value = xnode_of(src->pairs[p].value),
                                                 .pos = i,
                                                 .sub = sub++,
                                                 .rank = 1};
            }
            *n += src->n;
        }
    }
done:
    return error;
}

/*
 * A mapping is done: duplicate keys are reported, merge keys are applied (their pairs go
 * where the "<<" was, explicit keys win, then earlier merged mappings) and complex keys are
 * dropped (reported when they were added).
 */
static int finish_map(struct loader *ld)
{
    struct frame *f = &ld->frames[ld->depth - 1];
    struct xnode *x = f->node;
    struct plumb_node *n = &x->node;
    struct plumb_buf kb = PLUMB_BUF_INIT;
    struct entry *e = NULL, *first;
    size_t npairs = (ld->nkids - f->start) / 2, ne, i, j, kept = 0;
    int error = 0;

    PLUMB_TRY(collect_entries(NULL, &ne, ld, f->start, npairs));
    if (!ne)
        goto done;
    e = malloc(ne * sizeof(*e));
    PLUMB_ALLOC_CHECK(e);
    PLUMB_TRY(collect_entries(e, &ne, ld, f->start, npairs));
    qsort(e, ne, sizeof(*e), cmp_entry_key);
    for (i = 0; i < ne; i = j) {
        first = &e[i];
        first->keep = !first->key->merge;
        for (j = i + 1; j < ne && !cmp_key(e[j].key, first->key); j++)
            if (e[j].rank == 0) {
                e[j].dup = 1;
                e[j].first_line = first->line;
                e[j].first_col = first->col;
            }
    }
    /* Back to file order, so duplicates are reported in the order they were written. */
    qsort(e, ne, sizeof(*e), cmp_entry_pos);
    for (i = 0; i < ne; i++) {
        if (e[i].dup) {
            struct plumb_loc loc = {ld->doc->file, e[i].line, e[i].col};
            plumb_buf_clear(&kb);
            PLUMB_TRY(put_quoted(&kb, e[i].key->node.scalar, e[i].key->node.len));
            PLUMB_TRY(report(ld, &loc, "duplicate key '%s' (first at %s:%d:%d)",
                             plumb_buf_cstr(&kb), ld->doc->file, e[i].first_line, e[i].first_col));
        }
        kept += e[i].keep;
    }
    if (!kept)
        goto done;
    n->pairs = arena_alloc(ld->doc, kept * sizeof(*n->pairs));
    PLUMB_ALLOC_CHECK(n->pairs);
    for (i = 0; i < ne; i++) {
        if (!e[i].keep)
            continue;
        n->pairs[n->n].key = &e[i].key->node;
        n->pairs[n->n].value = &e[i].value->node;
        n->n++;
        x->weight = add_weight(x->weight, add_weight(e[i].key->weight, e[i].value->weight));
    }
done:
    free(e);
    plumb_buf_release(&kb);
    return error;
}

static int on_collection_end(struct loader *ld)
{
    struct frame *f = &ld->frames[ld->depth - 1];
    struct xnode *x = f->node;
    int error = 0;

    if (x->node.type == PLUMB_NODE_MAP)
        PLUMB_TRY(finish_map(ld));
    else
        PLUMB_TRY(finish_seq(ld));
    x->complete = 1;
    ld->nkids = f->start;
    ld->depth--;
    PLUMB_TRY(add_node(ld, x, &x->node.loc));
done:
    return error;
}

/* Line and column of byte `offset` of the input, for reader errors which only have that. */
static struct plumb_loc offset_loc(const struct loader *ld, size_t offset)
{
    struct plumb_loc loc = {ld->doc->file, 1, 1};
    size_t i, line_start = 0;

    if (offset > ld->len)
        offset = ld->len;
    for (i = 0; i < offset; i++) {
        if (ld->data[i] == '\n') {
            loc.line++;
            line_start = i + 1;
        }
    }
    loc.col = (int)utf8_chars(ld->data + line_start, offset - line_start) + 1;
    return loc;
}

static int syntax_error(struct loader *ld)
{
    const yaml_parser_t *p = &ld->parser;
    struct plumb_loc loc;
    int error = 0;

    switch (p->error) {
    case YAML_MEMORY_ERROR:
        error = plumb_error_oom();
        break;
    case YAML_READER_ERROR:
        loc = offset_loc(ld, p->problem_offset);
        if (p->problem_value != -1)
            error = plumb_diags_error(ld->diags, &loc, "%s (0x%02x)", p->problem,
                                      (unsigned)p->problem_value);
        else
            error = plumb_diags_error(ld->diags, &loc, "%s", p->problem);
        break;
    case YAML_SCANNER_ERROR:
    case YAML_PARSER_ERROR:
        loc = mark_loc(ld, &p->problem_mark);
        /* The context is worth saying when it points somewhere else: "while parsing a
         * block mapping" started where the problem is not. */
        if (p->context && (p->context_mark.line != p->problem_mark.line ||
                           p->context_mark.column != p->problem_mark.column))
            error =
                plumb_diags_error(ld->diags, &loc, "%s (%s at %d:%d)", p->problem, p->context,
                                  (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
        else
            error = plumb_diags_error(ld->diags, &loc, "%s", p->problem);
        break;
    default:
        loc = mark_loc(ld, &p->mark);
        error = plumb_diags_error(ld->diags, &loc, "unable to parse YAML: %s",
                                  p->problem ? p->problem : "unknown error");
        break;
    }
    return error;
}

/* 0 to go on, 1 at the end of the stream, negative to stop. */
static int on_event(struct loader *ld, const yaml_event_t *ev)
{
    struct plumb_loc loc;
    int error = 0;

    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (ld->documents++) {
            loc = mark_loc(ld, &ev->start_mark);
            error = plumb_diags_error(ld->diags, &loc,
                                      "multiple documents in one file are not supported");
        }
        break;
    case YAML_SCALAR_EVENT:
        error = on_scalar(ld, ev);
        break;
    case YAML_ALIAS_EVENT:
        error = on_alias(ld, ev);
        break;
    case YAML_SEQUENCE_START_EVENT:
        error = on_collection_start(ld, ev, PLUMB_NODE_SEQ);
        break;
    case YAML_MAPPING_START_EVENT:
        error = on_collection_start(ld, ev, PLUMB_NODE_MAP);
        break;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        error = on_collection_end(ld);
        break;
    case YAML_STREAM_END_EVENT:
        error = 1;
        break;
    default:
        break;
    }
    return error;
}

static int load(struct plumb_doc **out, const char *name, const char *data, size_t len,
                struct plumb_diags *diags)
{
    struct loader ld;
    struct plumb_loc fileloc = {name, 0, 0};
    yaml_event_t ev;
    int error = 0, parser_ready = 0;

    memset(&ld, 0, sizeof(ld));
    ld.diags = diags;
    ld.errors0 = diags->errors;
    ld.data = data;
    ld.len = len;
    if (len > PLUMB_YAML_MAX_FILE_SIZE) {
        error =
            plumb_diags_error(diags, &fileloc, "file too large: '%s' is %zu bytes, the limit is %u",
                              name, len, PLUMB_YAML_MAX_FILE_SIZE);
        goto done;
    }
    ld.doc = calloc(1, sizeof(*ld.doc));
    PLUMB_ALLOC_CHECK(ld.doc);
    ld.doc->file = strdup(name);
    PLUMB_ALLOC_CHECK(ld.doc->file);
    if (!yaml_parser_initialize(&ld.parser)) {
        error = plumb_error_oom();
        goto done;
    }
    parser_ready = 1;
    yaml_parser_set_input_string(&ld.parser, (const unsigned char *)data, len);
    for (;;) {
        if (!yaml_parser_parse(&ld.parser, &ev)) {
            error = syntax_error(&ld);
            goto done;
        }
        error = on_event(&ld, &ev);
        yaml_event_delete(&ev);
        if (error)
            break;
    }
    if (error > 0)
        error = 0;
done:
    if (error == 0 && diags->errors > ld.errors0)
        error = PLUMB_EINVALID;
    if (parser_ready)
        yaml_parser_delete(&ld.parser);
    anchors_release(&ld.anchors);
    free(ld.kids);
    if (error < 0) {
        plumb_doc_free(ld.doc);
        ld.doc = NULL;
    }
    *out = ld.doc;
    return error;
}

int plumb_yaml_load_string(struct plumb_doc **out, const char *name, const char *data, size_t len,
                           struct plumb_diags *diags)
{
    return load(out, name, data ? data : "", data ? len : 0, diags);
}

int plumb_yaml_load_file(struct plumb_doc **out, const char *path, struct plumb_diags *diags)
{
    struct plumb_loc loc = {path, 0, 0};
    struct plumb_buf b = PLUMB_BUF_INIT;
    struct stat st;
    FILE *f = NULL;
    size_t got;
    int error = 0;

    *out = NULL;
    f = fopen(path, "rb");
    if (!f) {
        error = plumb_diags_error(diags, &loc, "unable to open '%s': %s", path, strerror(errno));
        goto done;
    }
    /* The size is checked before reading anything, where the file says what it is. */
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) &&
        (unsigned long long)st.st_size > PLUMB_YAML_MAX_FILE_SIZE) {
        error =
            plumb_diags_error(diags, &loc, "file too large: '%s' is %lld bytes, the limit is %u",
                              path, (long long)st.st_size, PLUMB_YAML_MAX_FILE_SIZE);
        goto done;
    }
    /* Pipes and the like have no size: read at most one byte past the limit. */
    for (;;) {
        PLUMB_TRY(plumb_buf_grow(&b, 64u << 10));
        got = fread(b.ptr + b.len, 1, b.cap - b.len - 1, f);
        b.len += got;
        b.ptr[b.len] = '\0';
        if (b.len > PLUMB_YAML_MAX_FILE_SIZE) {
            error = plumb_diags_error(diags, &loc, "file too large: '%s' is more than %u bytes",
                                      path, PLUMB_YAML_MAX_FILE_SIZE);
            goto done;
        }
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        error = plumb_diags_error(diags, &loc, "unable to read '%s': %s", path, strerror(errno));
        goto done;
    }
    error = load(out, path, b.ptr, b.len, diags);
done:
    if (f)
        fclose(f);
    plumb_buf_release(&b);
    return error;
}

const struct plumb_node_pair *plumb_node_get_pair(const struct plumb_node *map, const char *key)
{
    const struct plumb_node_pair *found = NULL;
    size_t i, len;

    if (!map || map->type != PLUMB_NODE_MAP || !key)
        goto done;
    len = strlen(key);
    for (i = 0; !found && i < map->n; i++) {
        const struct plumb_node *k = map->pairs[i].key;
        if (k->len == len && !memcmp(k->scalar, key, len))
            found = &map->pairs[i];
    }
done:
    return found;
}

const struct plumb_node *plumb_node_get(const struct plumb_node *map, const char *key)
{
    const struct plumb_node_pair *p = plumb_node_get_pair(map, key);

    return p ? p->value : NULL;
}

const char *plumb_node_type_name(const struct plumb_node *node)
{
    static const char *const scalars[] = {
        [PLUMB_SCALAR_NULL] = "null",     [PLUMB_SCALAR_BOOL] = "boolean",
        [PLUMB_SCALAR_INT] = "integer",   [PLUMB_SCALAR_FLOAT] = "number",
        [PLUMB_SCALAR_STRING] = "string",
    };
    const char *name = "null";

    if (node && node->type == PLUMB_NODE_MAP)
        name = "mapping";
    else if (node && node->type == PLUMB_NODE_SEQ)
        name = "sequence";
    else if (node && (size_t)node->kind < sizeof(scalars) / sizeof(scalars[0]))
        name = scalars[node->kind];
    return name;
}

int plumb_node_text_loc(struct plumb_loc *out, const struct plumb_node *node)
{
    const struct xnode *x = xnode_of(node);
    int exact = node->type == PLUMB_NODE_SCALAR && x->text_line;

    *out = node->loc;
    if (exact) {
        out->line = x->text_line;
        out->col = x->text_col;
    }
    return exact;
}

static json_t *scalar_to_json(const struct plumb_node *n)
{
    json_t *j = NULL;
    long long i;
    double d;

    if (n->kind == PLUMB_SCALAR_NULL)
        j = json_null();
    else if (n->kind == PLUMB_SCALAR_BOOL)
        j = json_boolean(n->scalar[0] == 't' || n->scalar[0] == 'T');
    else if (n->kind == PLUMB_SCALAR_INT && parse_int(&i, n->scalar) == 0)
        j = json_integer((json_int_t)i);
    /* JSON has no infinities or NaN: those stay as written. */
    else if (n->kind == PLUMB_SCALAR_FLOAT && parse_float(&d, n->scalar, n->len) == 0 &&
             isfinite(d))
        j = json_real(d);
    else
        j = json_stringn(n->scalar, n->len);
    return j;
}

json_t *plumb_node_to_json(const struct plumb_node *node)
{
    json_t *j = NULL, *v;
    size_t i;

    if (!node)
        return json_null();
    switch (node->type) {
    case PLUMB_NODE_SCALAR:
        j = scalar_to_json(node);
        break;
    case PLUMB_NODE_SEQ:
        j = json_array();
        for (i = 0; j && i < node->n; i++) {
            v = plumb_node_to_json(node->items[i]);
            if (!v || json_array_append_new(j, v) < 0) {
                json_decref(j);
                j = NULL;
            }
        }
        break;
    case PLUMB_NODE_MAP:
        j = json_object();
        for (i = 0; j && i < node->n; i++) {
            const struct plumb_node *k = node->pairs[i].key;
            v = plumb_node_to_json(node->pairs[i].value);
            if (!v || json_object_setn_new(j, k->scalar, k->len, v) < 0) {
                json_decref(j);
                j = NULL;
            }
        }
        break;
    }
    return j;
}
