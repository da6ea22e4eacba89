/*
 * An ordered list of name/value string pairs: HTTP headers, query parameters, INI entries.
 * Order is kept as added; lookups by name are linear, which is right for the handful of
 * entries these lists hold.
 */
#ifndef PLUMB_UTIL_KV_H
#define PLUMB_UTIL_KV_H

#include <stddef.h>

struct plumb_kv {
    char *name;
    char *value;
};

struct plumb_kvlist {
    struct plumb_kv *v;
    size_t n;
    size_t cap;
};

#define PLUMB_KVLIST_INIT                                                                          \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void plumb_kvlist_init(struct plumb_kvlist *l);
void plumb_kvlist_release(struct plumb_kvlist *l);
int plumb_kvlist_add(struct plumb_kvlist *l, const char *name, const char *value);
int plumb_kvlist_addn(struct plumb_kvlist *l, const char *name, size_t name_len, const char *value,
                      size_t value_len);
/* Replaces every entry named `name` (case-insensitively) by one with `value`. */
int plumb_kvlist_set(struct plumb_kvlist *l, const char *name, const char *value);
/* The first value named `name`, case-insensitively; NULL when absent. */
const char *plumb_kvlist_get(const struct plumb_kvlist *l, const char *name);
void plumb_kvlist_remove(struct plumb_kvlist *l, const char *name);

#endif
