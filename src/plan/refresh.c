#include "plan/refresh.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "provider/provider.h"
#include "schema/schema.h"
#include "util/error.h"

/* How many ids one read_many call takes at most; drivers chunk further to API limits. */
#define BATCH 100

struct item {
    const struct plumb_resource_type *driver;
    json_t *addresses; /* array */
    json_t *ids;       /* array, same order */
    json_t *wanted;    /* the properties compared: see read_many in provider.h */
    json_t *observed;  /* result: array, same order */
    int error;
    char *message;
};

struct pool {
    struct plumb_aws *aws;
    struct item *items;
    size_t nitems, next;
    int failed;
    pthread_mutex_t lock;
};

static int run_item(struct plumb_aws *aws, struct item *it)
{
    size_t i, n = json_array_size(it->ids);
    json_t *one;
    int error = 0;

    if (it->driver->read_many)
        return it->driver->read_many(aws, it->ids, it->wanted, &it->observed);
    it->observed = json_array();
    for (i = 0; i < n; i++) {
        one = NULL;
        error = it->driver->read(aws, json_array_get(it->ids, i), &one);
        if (error < 0)
            return error;
        json_array_append_new(it->observed, one ? one : json_null());
    }
    return 0;
}

static void *worker(void *arg)
{
    struct pool *p = arg;
    struct item *it;

    for (;;) {
        pthread_mutex_lock(&p->lock);
        if (p->failed || p->next == p->nitems) {
            pthread_mutex_unlock(&p->lock);
            return NULL;
        }
        it = &p->items[p->next++];
        pthread_mutex_unlock(&p->lock);
        it->error = run_item(p->aws, it);
        if (it->error < 0) {
            /* the message lives in this thread's error slot: carry it out */
            it->message = strdup(plumb_error_message());
            pthread_mutex_lock(&p->lock);
            p->failed = 1;
            pthread_mutex_unlock(&p->lock);
        }
    }
}

/* Whether tags hold any but plumb's own (a list of {Key, Value} or a map). */
static int has_user_tags(const json_t *tags)
{
    const json_t *t;
    const char *k;
    size_t i;

    if (json_is_object(tags)) {
        json_object_foreach((json_t *)tags, k, t) if (strncmp(k, "plumb:", 6) != 0) return 1;
        return 0;
    }
    json_array_foreach(tags, i, t)
    {
        k = json_string_value(json_object_get(t, "Key"));
        if (!k || strncmp(k, "plumb:", 6) != 0)
            return 1;
    }
    return 0;
}

/*
 * Adds to `wanted` what refresh compares of this record: every property applied last time,
 * except tags that are only plumb's own (the planner ignores those). A property never
 * declared is not read where reading it costs a call: like CloudFormation's drift detection,
 * refresh checks what the configuration manages.
 */
static void add_wanted(json_t *wanted, const char *type, const json_t *rec)
{
    const struct plumb_schema_type *t = plumb_schema_find(type);
    const json_t *props = json_object_get(rec, "properties"), *v;
    const char *k;

    json_object_foreach((json_t *)props, k, v)
    {
        if (t && t->tags_property && strcmp(k, t->tags_property) == 0 && !has_user_tags(v))
            continue;
        json_object_set_new(wanted, k, json_true());
    }
}

static int wanted(const json_t *only, const char *address)
{
    const json_t *a;
    size_t i;

    if (!only)
        return 1;
    json_array_foreach(only, i, a) if (strcmp(json_string_value(a), address) == 0) return 1;
    return 0;
}

int plumb_refresh(json_t **out, struct plumb_aws *aws, const json_t *records, const json_t *only,
                  int parallelism)
{
    struct pool p;
    pthread_t *threads = NULL;
    json_t *result = NULL, *rec;
    const char *addr;
    size_t i, j, nthreads = 0;
    int error = 0;

    *out = NULL;
    memset(&p, 0, sizeof(p));
    p.aws = aws;
    pthread_mutex_init(&p.lock, NULL);
    p.items = calloc(json_object_size(records) + 1, sizeof(*p.items));
    PLUMB_ALLOC_CHECK(p.items);

    /* Group by type, in chunks: one work item per batch read (or per resource). */
    json_object_foreach((json_t *)records, addr, rec)
    {
        const char *type = json_string_value(json_object_get(rec, "type"));
        const struct plumb_resource_type *d = type ? plumb_provider_find(type) : NULL;
        struct item *it = NULL;
        if (!wanted(only, addr))
            continue;
        if (!d) {
            error = plumb_error_set(PLUMB_ERROR, "refreshing '%s': no driver for type '%s'", addr,
                                    type ? type : "(none)");
            goto done;
        }
        for (i = 0; i < p.nitems && d->read_many; i++)
            if (p.items[i].driver == d && json_array_size(p.items[i].ids) < BATCH)
                it = &p.items[i];
        if (!it) {
            it = &p.items[p.nitems++];
            it->driver = d;
            it->addresses = json_array();
            it->ids = json_array();
            it->wanted = json_object();
        }
        add_wanted(it->wanted, type, rec);
        json_array_append_new(it->addresses, json_string(addr));
        json_array_append(it->ids, json_object_get(rec, "id"));
    }

    nthreads = (size_t)(parallelism < 1 ? 1 : parallelism);
    if (nthreads > p.nitems)
        nthreads = p.nitems;
    threads = calloc(nthreads + 1, sizeof(*threads));
    PLUMB_ALLOC_CHECK(threads);
    for (i = 0; i < nthreads; i++)
        if (pthread_create(&threads[i], NULL, worker, &p) != 0) {
            nthreads = i;
            break;
        }
    if (nthreads == 0 && p.nitems)
        worker(&p); /* no thread could start: do it here */
    for (i = 0; i < nthreads; i++)
        pthread_join(threads[i], NULL);

    result = json_object();
    PLUMB_ALLOC_CHECK(result);
    for (i = 0; i < p.nitems; i++) {
        struct item *it = &p.items[i];
        if (it->error < 0) {
            error = plumb_error_set(it->error, "refreshing %s: %s",
                                    json_string_value(json_array_get(it->addresses, 0)),
                                    it->message ? it->message : "failed");
            goto done;
        }
        for (j = 0; j < json_array_size(it->addresses); j++) {
            json_t *o = json_array_get(it->observed, j);
            json_object_set(result, json_string_value(json_array_get(it->addresses, j)),
                            o ? o : json_null());
        }
    }
    *out = result;
    result = NULL;
done:
    for (i = 0; i < p.nitems; i++) {
        json_decref(p.items[i].addresses);
        json_decref(p.items[i].ids);
        json_decref(p.items[i].wanted);
        json_decref(p.items[i].observed);
        free(p.items[i].message);
    }
    free(p.items);
    free(threads);
    json_decref(result);
    pthread_mutex_destroy(&p.lock);
    return error;
}
