#include "config/expr.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "config/yaml.h"
#include "util/buf.h"
#include "util/error.h"

/* Longest part of a reference quoted in a message. */
#define MSG_QUOTE_MAX 60
/* Past this many errors in one scalar the rest is noise: stop there. */
#define MAX_ERRORS 20

#define EXPECTED_FORMS                                                                             \
    "env, var.NAME, aws.account_id, aws.region, RESOURCE.ATTR, module.NAME.OUTPUT or "             \
    "secret.env.NAME"

struct scan {
    const char *s;
    size_t len;
    struct plumb_loc base; /* where s[0] is */
    int map_cols;          /* columns inside s follow the file */
    struct plumb_diags *diags;
    struct plumb_template *t;
    size_t cap;           /* of t->parts */
    struct plumb_buf lit; /* literal text not yet made a part */
    int errors;
    /* Column of s[col_off], kept so that counting columns stays linear in long scalars. */
    size_t col_off;
    int col;
};

/* A name inside a reference: s[off..off+len). */
struct seg {
    size_t off, len;
};

static int is_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9') || c == '-';
}

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Code points, as the YAML loader counts columns in characters. */
static size_t utf8_chars(const char *s, size_t len)
{
    size_t i, n = 0;

    for (i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

static struct plumb_loc loc_at(struct scan *sc, size_t off)
{
    struct plumb_loc loc = sc->base;

    if (sc->map_cols && loc.col > 0) {
        if (off < sc->col_off) {
            sc->col_off = 0;
            sc->col = loc.col;
        }
        sc->col += (int)utf8_chars(sc->s + sc->col_off, off - sc->col_off);
        sc->col_off = off;
        loc.col = sc->col;
    }
    return loc;
}

/* Appends s[0..len) for a message: control bytes escaped, long text cut. */
static int put_quoted(struct plumb_buf *b, const char *s, size_t len)
{
    size_t i, n = len > MSG_QUOTE_MAX ? MSG_QUOTE_MAX : len;
    int error = 0;

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

/* Reports an error at byte `off` of the scalar. Returns 0 (the scan goes on to find more
 * problems), PLUMB_EINVALID when there were too many to go on, or -1 when out of memory. */
static int fail(struct scan *sc, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct scan *sc, size_t off, const char *fmt, ...)
{
    struct plumb_buf b = PLUMB_BUF_INIT;
    struct plumb_loc loc = loc_at(sc, off);
    va_list ap;
    int error;

    sc->errors++;
    va_start(ap, fmt);
    error = plumb_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (error == 0 && plumb_diags_error(sc->diags, &loc, "%s", b.ptr) == -1)
        error = -1;
    if (error == 0 && sc->errors == MAX_ERRORS)
        error = plumb_diags_error(sc->diags, &loc, "too many errors in one value, giving up");
    plumb_buf_release(&b);
    return error;
}

/* "${...}" as written, s[start..end] with end at the '}', for messages. */
static int put_ref_text(struct plumb_buf *b, const struct scan *sc, size_t start, size_t end)
{
    int error = 0;

    PLUMB_TRY(plumb_buf_puts(b, "'"));
    PLUMB_TRY(put_quoted(b, sc->s + start, end + 1 - start));
    PLUMB_TRY(plumb_buf_puts(b, "'"));
done:
    return error;
}

/* The character at s[off] for a message: a whole UTF-8 sequence, or an escaped byte. */
static int put_char(struct plumb_buf *b, const struct scan *sc, size_t off, size_t end)
{
    unsigned char c = (unsigned char)sc->s[off];
    size_t n = 1;

    if (c >= 0xC0)
        while (off + n < end && n < 4 && ((unsigned char)sc->s[off + n] & 0xC0) == 0x80)
            n++;
    return put_quoted(b, sc->s + off, n);
}

static int add_part(struct plumb_template_part **out, struct scan *sc)
{
    struct plumb_template *t = sc->t;
    struct plumb_template_part *v;
    size_t cap;
    int error = 0;

    if (t->n == sc->cap) {
        cap = sc->cap ? sc->cap * 2 : 4;
        v = realloc(t->parts, cap * sizeof(*v));
        PLUMB_ALLOC_CHECK(v);
        t->parts = v;
        sc->cap = cap;
    }
    *out = &t->parts[t->n++];
    memset(*out, 0, sizeof(**out));
done:
    return error;
}

/* Makes the pending literal text a part; with `always`, even when there is none. */
static int flush_literal(struct scan *sc, int always)
{
    struct plumb_template_part *p;
    size_t len = sc->lit.len;
    int error = 0;

    if (!len && !always)
        goto done;
    PLUMB_TRY(add_part(&p, sc));
    p->literal = len ? plumb_buf_detach(&sc->lit) : strdup("");
    PLUMB_ALLOC_CHECK(p->literal);
    p->literal_len = len;
done:
    return error;
}

static char *dup_range(const char *s, size_t from, size_t to)
{
    return plumb_strndup(s + from, to - from);
}

static int is_seg(const struct scan *sc, const struct seg *g, const char *word)
{
    return g->len == strlen(word) && !memcmp(sc->s + g->off, word, g->len);
}

/*
 * What the names of a well-formed reference mean. `g` holds the first three names, `n` how
 * many there are, `last` the end of the last; start/end: the "${" and the '}'.
 */
static int resolve(struct scan *sc, const struct seg *g, size_t n, size_t last, size_t start,
                   size_t end)
{
    struct plumb_buf rt = PLUMB_BUF_INIT;
    struct plumb_template_part *p;
    struct plumb_ref *ref = NULL;
    enum plumb_ref_kind kind;
    size_t name_seg = 1, attr_seg = 0;
    const char *expected = NULL;
    int error = 0;

    PLUMB_TRY(put_ref_text(&rt, sc, start, end));
    if (is_seg(sc, &g[0], "env")) {
        kind = PLUMB_REF_ENV;
        name_seg = 0;
        if (n > 1)
            expected = "env";
    } else if (is_seg(sc, &g[0], "var")) {
        kind = PLUMB_REF_VAR;
        if (n == 1) {
            error = fail(sc, start, "missing variable name in %s: expected var.NAME", rt.ptr);
            goto done;
        }
        if (n > 2)
            expected = "var.NAME";
    } else if (is_seg(sc, &g[0], "aws")) {
        kind = PLUMB_REF_AWS;
        if (n == 1) {
            error =
                fail(sc, start,
                     "missing aws attribute in %s: expected aws.account_id or aws.region", rt.ptr);
            goto done;
        }
        if (!is_seg(sc, &g[1], "account_id") && !is_seg(sc, &g[1], "region")) {
            error = fail(sc, g[1].off,
                         "unknown aws attribute '%.*s': expected aws.account_id or aws.region",
                         (int)g[1].len, sc->s + g[1].off);
            goto done;
        }
        if (n > 2)
            expected = "aws.account_id or aws.region";
    } else if (is_seg(sc, &g[0], "module")) {
        kind = PLUMB_REF_MODULE;
        attr_seg = 2;
        if (n < 3) {
            error =
                fail(sc, start, "missing module output in %s: expected module.NAME.OUTPUT", rt.ptr);
            goto done;
        }
    } else if (is_seg(sc, &g[0], "secret")) {
        kind = PLUMB_REF_SECRET_ENV;
        name_seg = 2;
        if (n >= 2 && !is_seg(sc, &g[1], "env")) {
            error = fail(sc, g[1].off, "unknown secret source '%.*s': expected secret.env.NAME",
                         (int)g[1].len, sc->s + g[1].off);
            goto done;
        }
        if (n < 3) {
            error = fail(sc, start, "missing secret name in %s: expected secret.env.NAME", rt.ptr);
            goto done;
        }
        if (n > 3)
            expected = "secret.env.NAME";
    } else {
        kind = PLUMB_REF_RESOURCE;
        name_seg = 0;
        attr_seg = 1;
        if (n == 1) {
            error = fail(sc, start, "unknown reference '%.*s': expected " EXPECTED_FORMS,
                         (int)g[0].len, sc->s + g[0].off);
            goto done;
        }
    }
    if (expected) {
        error = fail(sc, start, "too many parts in %s: expected %s", rt.ptr, expected);
        goto done;
    }

    ref = calloc(1, sizeof(*ref));
    PLUMB_ALLOC_CHECK(ref);
    ref->kind = kind;
    ref->loc = loc_at(sc, start);
    ref->text = dup_range(sc->s, g[0].off, last);
    PLUMB_ALLOC_CHECK(ref->text);
    if (kind != PLUMB_REF_ENV) {
        ref->name = plumb_strndup(sc->s + g[name_seg].off, g[name_seg].len);
        PLUMB_ALLOC_CHECK(ref->name);
    }
    if (attr_seg) {
        ref->attr = dup_range(sc->s, g[attr_seg].off, last);
        PLUMB_ALLOC_CHECK(ref->attr);
    }
    PLUMB_TRY(flush_literal(sc, 0));
    PLUMB_TRY(add_part(&p, sc));
    p->ref = ref;
    ref = NULL;
done:
    if (ref) {
        free(ref->text);
        free(ref->name);
        free(ref->attr);
        free(ref);
    }
    plumb_buf_release(&rt);
    return error;
}

/*
 * The reference whose "${" is at `start`. `next` gets where the scan goes on: past the '}',
 * or the end when the rest cannot be read (no '}', or a nested "${").
 */
static int scan_ref(size_t *next, struct scan *sc, size_t start)
{
    struct plumb_buf m = PLUMB_BUF_INIT;
    const char *s = sc->s;
    struct seg g[3];
    size_t end, p, k, n = 0;
    int error = 0;

    *next = sc->len;
    for (end = start + 2; end < sc->len && s[end] != '}'; end++) {
        if (s[end] == '$' && end + 1 < sc->len && s[end + 1] == '{') {
            error = fail(sc, end, "nested '${' in a reference: references cannot contain others");
            goto done;
        }
    }
    if (end == sc->len) {
        error = fail(sc, start, "unterminated '${': missing '}'");
        goto done;
    }
    *next = end + 1;
    for (p = start + 2; p < end && is_space(s[p]); p++)
        ;
    if (p == end) {
        error = fail(sc, start, "empty reference '${}'");
        goto done;
    }
    for (;;) {
        if (p == end || !is_name_start(s[p])) {
            PLUMB_TRY(put_ref_text(&m, sc, start, end));
            if (p == end || s[p] == '.') {
                error = fail(sc, p, "missing name in reference %s", m.ptr);
            } else {
                struct plumb_buf c = PLUMB_BUF_INIT;
                error = put_char(&c, sc, p, end);
                if (error == 0)
                    error = fail(sc, p, "unexpected character '%s' in reference %s", c.ptr, m.ptr);
                plumb_buf_release(&c);
            }
            goto done;
        }
        for (k = p; p < end && is_name_char(s[p]); p++)
            ;
        if (n < 3)
            g[n] = (struct seg){k, p - k};
        n++;
        if (p < end && s[p] == '.') {
            p++;
            continue;
        }
        break;
    }
    for (k = p; p < end && is_space(s[p]); p++)
        ;
    if (p != end) {
        struct plumb_buf c = PLUMB_BUF_INIT;
        PLUMB_TRY(put_ref_text(&m, sc, start, end));
        error = put_char(&c, sc, p, end);
        if (error == 0)
            error = fail(sc, p, "unexpected character '%s' in reference %s", c.ptr, m.ptr);
        plumb_buf_release(&c);
        goto done;
    }
    error = resolve(sc, g, n, k, start, end);
done:
    plumb_buf_release(&m);
    return error;
}

static int parse(struct plumb_template *out, const char *s, size_t len, const struct plumb_loc *loc,
                 int map_cols, struct plumb_diags *diags)
{
    struct scan sc;
    size_t i = 0;
    int error = 0;

    memset(out, 0, sizeof(*out));
    memset(&sc, 0, sizeof(sc));
    sc.s = s ? s : "";
    sc.len = s ? len : 0;
    if (loc)
        sc.base = *loc;
    sc.map_cols = map_cols;
    sc.col = sc.base.col;
    sc.diags = diags;
    sc.t = out;
    while (i < sc.len) {
        if (sc.s[i] == '$' && i + 2 < sc.len && sc.s[i + 1] == '$' && sc.s[i + 2] == '{') {
            PLUMB_TRY(plumb_buf_put(&sc.lit, "${", 2));
            i += 3;
        } else if (sc.s[i] == '$' && i + 1 < sc.len && sc.s[i + 1] == '{') {
            PLUMB_TRY(scan_ref(&i, &sc, i));
        } else {
            PLUMB_TRY(plumb_buf_putc(&sc.lit, sc.s[i]));
            i++;
        }
    }
    PLUMB_TRY(flush_literal(&sc, out->n == 0));
    out->whole = out->n == 1 && out->parts[0].ref;
    if (sc.errors)
        error = PLUMB_EINVALID;
done:
    plumb_buf_release(&sc.lit);
    if (error < 0)
        plumb_template_release(out);
    return error;
}

int plumb_expr_parse(struct plumb_template *out, const char *s, size_t len,
                     const struct plumb_loc *loc, struct plumb_diags *diags)
{
    /* Without the node, a newline is the only sign the text does not sit on one line. */
    return parse(out, s, len, loc, s && !memchr(s, '\n', len), diags);
}

int plumb_expr_parse_node(struct plumb_template *out, const struct plumb_node *node,
                          struct plumb_diags *diags)
{
    struct plumb_loc loc;
    int error, map_cols;

    if (!node || node->type != PLUMB_NODE_SCALAR) {
        memset(out, 0, sizeof(*out));
        error = plumb_error_set(PLUMB_EINVALID, "expressions are only found in scalars");
        goto done;
    }
    map_cols = plumb_node_text_loc(&loc, node);
    error = parse(out, node->scalar, node->len, &loc, map_cols, diags);
done:
    return error;
}

void plumb_template_release(struct plumb_template *t)
{
    size_t i;

    if (!t)
        return;
    for (i = 0; i < t->n; i++) {
        struct plumb_ref *r = t->parts[i].ref;
        free(t->parts[i].literal);
        if (r) {
            free(r->name);
            free(r->attr);
            free(r->text);
            free(r);
        }
    }
    free(t->parts);
    memset(t, 0, sizeof(*t));
}

int plumb_expr_has_refs(const char *s, size_t len)
{
    size_t i;
    int found = 0;

    /* The same left-to-right reading as the parser: "$${" is skipped whole. */
    for (i = 0; s && !found && i + 1 < len; i++) {
        if (s[i] != '$')
            continue;
        if (s[i + 1] == '{')
            found = 1;
        else if (s[i + 1] == '$' && i + 2 < len && s[i + 2] == '{')
            i += 2;
    }
    return found;
}
