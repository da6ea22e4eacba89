/*
 * Diagnostics: what validation found, each with where (file:line:col) and what. Collected,
 * not returned one at a time, so a single run reports every problem in a configuration
 * (STYLE.md §4, after Terraform). Rendered as "plumb.yaml:41:7: error: message".
 */
#ifndef PLUMB_UTIL_DIAG_H
#define PLUMB_UTIL_DIAG_H

#include <stdio.h>

/* A place in a source file. `file` is borrowed: whoever made the location owns the string
 * (the loaded document keeps its file names alive as long as its nodes). */
struct plumb_loc {
    const char *file;
    int line; /* 1-based; 0 when unknown */
    int col;  /* 1-based; 0 when unknown */
};

enum plumb_diag_severity {
    PLUMB_DIAG_ERROR,
    PLUMB_DIAG_WARNING,
};

struct plumb_diag {
    enum plumb_diag_severity severity;
    char *file; /* owned copy, may be NULL */
    int line, col;
    char *message;
};

struct plumb_diags {
    struct plumb_diag *v;
    size_t n, cap;
    size_t errors; /* how many of v are errors */
};

#define PLUMB_DIAGS_INIT                                                                           \
    {                                                                                              \
        NULL, 0, 0, 0                                                                              \
    }

void plumb_diags_init(struct plumb_diags *d);
void plumb_diags_release(struct plumb_diags *d);
/* Adds a diagnostic at `loc` (NULL: no location). Returns PLUMB_EINVALID for an error and 0
 * for a warning, so `return plumb_diags_add(...)` reads well; -1 only when out of memory. */
int plumb_diags_add(struct plumb_diags *d, enum plumb_diag_severity sev,
                    const struct plumb_loc *loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define plumb_diags_error(d, loc, ...) plumb_diags_add((d), PLUMB_DIAG_ERROR, (loc), __VA_ARGS__)
#define plumb_diags_warn(d, loc, ...)  plumb_diags_add((d), PLUMB_DIAG_WARNING, (loc), __VA_ARGS__)
/* Sorts by file, line, column (stable), so output follows the files. */
void plumb_diags_sort(struct plumb_diags *d);
/* One line each: "file:line:col: error: message". */
void plumb_diags_render(FILE *f, const struct plumb_diags *d);

#endif
