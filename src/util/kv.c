#include "util/kv.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"
#include "util/error.h"

void plumb_kvlist_init(struct plumb_kvlist *l)
{
    l->v = NULL;
    l->n = 0;
    l->cap = 0;
}

void plumb_kvlist_release(struct plumb_kvlist *l)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        free(l->v[i].name);
        free(l->v[i].value);
    }
    free(l->v);
    plumb_kvlist_init(l);
}

int plumb_kvlist_addn(struct plumb_kvlist *l, const char *name, size_t name_len, const char *value,
                      size_t value_len)
{
    char *n, *v;

    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        struct plumb_kv *p = realloc(l->v, cap * sizeof(*p));
        if (!p)
            return plumb_error_oom();
        l->v = p;
        l->cap = cap;
    }
    n = plumb_strndup(name, name_len);
    v = plumb_strndup(value, value_len);
    if (!n || !v) {
        free(n);
        free(v);
        return plumb_error_oom();
    }
    l->v[l->n].name = n;
    l->v[l->n].value = v;
    l->n++;
    return 0;
}

int plumb_kvlist_add(struct plumb_kvlist *l, const char *name, const char *value)
{
    return plumb_kvlist_addn(l, name, strlen(name), value, strlen(value));
}

void plumb_kvlist_remove(struct plumb_kvlist *l, const char *name)
{
    size_t i, j = 0;

    for (i = 0; i < l->n; i++) {
        if (strcasecmp(l->v[i].name, name) == 0) {
            free(l->v[i].name);
            free(l->v[i].value);
        } else {
            l->v[j++] = l->v[i];
        }
    }
    l->n = j;
}

int plumb_kvlist_set(struct plumb_kvlist *l, const char *name, const char *value)
{
    plumb_kvlist_remove(l, name);
    return plumb_kvlist_add(l, name, value);
}

const char *plumb_kvlist_get(const struct plumb_kvlist *l, const char *name)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        if (strcasecmp(l->v[i].name, name) == 0)
            return l->v[i].value;
    return NULL;
}
