#include "util/diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/error.h"

void plumb_diags_init(struct plumb_diags *d)
{
    memset(d, 0, sizeof(*d));
}

void plumb_diags_release(struct plumb_diags *d)
{
    size_t i;

    for (i = 0; i < d->n; i++) {
        free(d->v[i].file);
        free(d->v[i].message);
    }
    free(d->v);
    plumb_diags_init(d);
}

int plumb_diags_add(struct plumb_diags *d, enum plumb_diag_severity sev,
                    const struct plumb_loc *loc, const char *fmt, ...)
{
    struct plumb_buf b = PLUMB_BUF_INIT;
    struct plumb_diag *diag;
    va_list ap;

    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        struct plumb_diag *v = realloc(d->v, cap * sizeof(*v));
        if (!v)
            return plumb_error_oom();
        d->v = v;
        d->cap = cap;
    }
    va_start(ap, fmt);
    if (plumb_buf_vprintf(&b, fmt, ap) < 0) {
        va_end(ap);
        return -1;
    }
    va_end(ap);
    diag = &d->v[d->n];
    memset(diag, 0, sizeof(*diag));
    diag->severity = sev;
    diag->message = plumb_buf_detach(&b);
    if (loc) {
        diag->file = loc->file ? strdup(loc->file) : NULL;
        diag->line = loc->line;
        diag->col = loc->col;
    }
    d->n++;
    if (sev == PLUMB_DIAG_ERROR) {
        d->errors++;
        return PLUMB_EINVALID;
    }
    return 0;
}

struct indexed_diag {
    struct plumb_diag d;
    size_t i; /* original position: ties keep the order they were found in */
};

static int cmp_diag(const void *a, const void *b)
{
    const struct indexed_diag *x = a, *y = b;
    int c = strcmp(x->d.file ? x->d.file : "", y->d.file ? y->d.file : "");

    if (c)
        return c;
    if (x->d.line != y->d.line)
        return x->d.line < y->d.line ? -1 : 1;
    if (x->d.col != y->d.col)
        return x->d.col < y->d.col ? -1 : 1;
    return x->i < y->i ? -1 : (x->i > y->i);
}

void plumb_diags_sort(struct plumb_diags *d)
{
    struct indexed_diag *tmp;
    size_t i;

    if (d->n < 2 || !(tmp = malloc(d->n * sizeof(*tmp))))
        return;
    for (i = 0; i < d->n; i++) {
        tmp[i].d = d->v[i];
        tmp[i].i = i;
    }
    qsort(tmp, d->n, sizeof(*tmp), cmp_diag);
    for (i = 0; i < d->n; i++)
        d->v[i] = tmp[i].d;
    free(tmp);
}

void plumb_diags_render(FILE *f, const struct plumb_diags *d)
{
    size_t i;

    for (i = 0; i < d->n; i++) {
        const struct plumb_diag *x = &d->v[i];
        const char *sev = x->severity == PLUMB_DIAG_ERROR ? "error" : "warning";
        if (x->file && x->line)
            fprintf(f, "%s:%d:%d: %s: %s\n", x->file, x->line, x->col, sev, x->message);
        else if (x->file)
            fprintf(f, "%s: %s: %s\n", x->file, sev, x->message);
        else
            fprintf(f, "%s: %s\n", sev, x->message);
    }
}
