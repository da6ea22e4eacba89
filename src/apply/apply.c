#include "apply/apply.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "config/value.h"
#include "graph/graph.h"
#include "provider/provider.h"
#include "schema/schema.h"
#include "util/error.h"
#include "util/log.h"
#include "util/sys.h"

static volatile sig_atomic_t interrupted;

void plumb_apply_interrupt(void)
{
    interrupted = 1;
}

json_t *plumb_apply_plain(const json_t *v)
{
    const char *k;
    json_t *out, *x;
    size_t i;

    v = plumb_value_unwrap(v);
    if (json_is_object(v)) {
        out = json_object();
        json_object_foreach((json_t *)v, k, x) json_object_set_new(out, k, plumb_apply_plain(x));
        return out;
    }
    if (json_is_array(v)) {
        out = json_array();
        json_array_foreach(v, i, x) json_array_append_new(out, plumb_apply_plain(x));
        return out;
    }
    return json_deep_copy(v);
}

static double now_s(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

static void human(char *out, size_t n, double secs)
{
    long s = (long)(secs + 0.5);

    if (s >= 60)
        snprintf(out, n, "%ldm%lds", s / 60, s % 60);
    else
        snprintf(out, n, "%lds", s);
}

/* ---- one action, on a worker ------------------------------------------------------------- */

enum step { STEP_CREATE, STEP_UPDATE, STEP_REPLACE, STEP_DELETE, STEP_RESTORE };

struct task {
    size_t node;
    enum step step;
    const char *address;
    const struct plumb_resource_type *driver;
    const struct plumb_schema_type *schema;
    json_t *props;    /* plain, with plumb's tags: create, update, replace, restore */
    json_t *declared; /* the same with its marks: what state records (secrets as fingerprints) */
    json_t *before;   /* plain: update's and restore's starting point */
    json_t *id;       /* existing resource: update, replace, delete, restore */
    unsigned remove_flags;
    int create_before_destroy;
    int may_adopt;   /* an earlier run began creating this and did not finish */
    int skip_lookup; /* nothing carries its plumb:address tag: no lookup before creating */
    const struct plumb_apply_options *opts;
    long timeout;
    /* results */
    int error;
    char *message;
    json_t *observed;
    json_t *new_id;
    int adopted;
    int lost_creates; /* creates whose answer was lost (and that were then looked for) */
    double seconds;
    unsigned long requests; /* AWS requests this action made, waits included */
    struct task *next;      /* queues */
};

struct progress_ctx {
    const char *address;
    const char *verb;
    double start, last;
    long every;
    int quiet;
};

static void report(void *ctx, const char *status)
{
    struct progress_ctx *p = ctx;
    double t = now_s();
    char el[32];

    (void)status;
    if (p->quiet || t - p->last < (double)p->every)
        return;
    p->last = t;
    human(el, sizeof(el), t - p->start);
    plumb_log_info("%s: still %s... [%s elapsed]", p->address, p->verb, el);
}

/* The identifier of an observed resource, from the schema's primaryIdentifier. */
static json_t *id_of(const struct plumb_schema_type *t, const json_t *observed)
{
    const json_t *pid = json_object_get(t->doc, "primaryIdentifier"), *p, *v;
    json_t *id = json_object();
    size_t i;

    json_array_foreach(pid, i, p)
    {
        const char *ptr = json_string_value(p);
        if (!ptr || strncmp(ptr, "/properties/", 12) != 0 ||
            !(v = json_object_get(observed, ptr + 12))) {
            json_decref(id);
            return NULL;
        }
        json_object_set(id, ptr + 12, (json_t *)v);
    }
    return id;
}

/* The plumb:address tag of an observed resource, or NULL. */
static const char *address_tag(const struct plumb_schema_type *t, const json_t *observed)
{
    const json_t *tags = t->tags_property ? json_object_get(observed, t->tags_property) : NULL, *x;
    size_t i;

    if (json_is_object(tags))
        return json_string_value(json_object_get(tags, "plumb:address"));
    json_array_foreach(tags, i, x)
    {
        const char *k = json_string_value(json_object_get(x, "Key"));
        if (k && strcmp(k, "plumb:address") == 0)
            return json_string_value(json_object_get(x, "Value"));
    }
    return NULL;
}

static int has_our_tag(const struct plumb_schema_type *t, const json_t *observed,
                       const char *address)
{
    const char *tag = address_tag(t, observed);

    return tag && strcmp(tag, address) == 0;
}

static int wait_for(struct plumb_aws *aws, struct task *t, int deleted, const json_t *id,
                    const char *verb)
{
    struct progress_ctx pc = {t->address,    verb, now_s(), now_s(), t->opts->progress_every,
                              t->opts->quiet};
    struct plumb_progress p = {report, &pc, t->timeout, t->opts->poll_ms};
    int (*fn)(struct plumb_aws *, const json_t *, struct plumb_progress *) =
        deleted ? t->driver->wait_deleted : t->driver->wait_stable;

    if (!pc.every)
        pc.every = 10;
    return fn ? fn(aws, id, &p) : 0;
}

/*
 * Looks for the resource t->props would create. Returns 1 with it adopted into t->observed
 * when it is this address's own: an interrupted earlier run began creating it (may_adopt), it
 * carries this address's tag, or, just after a create of ours whose answer was lost
 * (after_lost_create), it carries no plumb address at all (tags a create adds in a later call
 * may be missing) and the lookup before that create found nothing: without that lookup
 * (skip_lookup) an untagged one may be someone else's that was there all along, and the
 * types that skip it tag in the create call itself. 0 when there is none; PLUMB_ECONFLICT when
 * it belongs to something else (import it instead).
 */
static int find_existing(struct plumb_aws *aws, struct task *t, int after_lost_create)
{
    json_t *found = NULL, *existing = NULL;
    int error = 0;

    PLUMB_TRY(t->driver->lookup(aws, t->props, &found));
    if (!found)
        goto done;
    PLUMB_TRY(t->driver->read(aws, found, &existing));
    if (!existing)
        goto done;
    if (t->may_adopt || has_our_tag(t->schema, existing, t->address) ||
        (after_lost_create && !t->skip_lookup && !address_tag(t->schema, existing))) {
        t->observed = existing;
        existing = NULL;
        t->adopted = 1;
        error = 1;
        goto done;
    }
    {
        char *text = json_dumps(found, JSON_COMPACT | JSON_ENCODE_ANY);
        error = plumb_error_set(PLUMB_ECONFLICT,
                                "%s %s already exists and is not managed by plumb: "
                                "'plumb import' it, or rename it",
                                t->schema->type_name, text ? text : "");
        free(text);
    }
done:
    json_decref(found);
    json_decref(existing);
    return error;
}

/*
 * An adopted resource may lack what its create does after the first call (a VPC's DNS
 * settings, a group's rules, a role's policies, a bucket's website and tags) when that create
 * was cut short, by a crash or by a lost answer. It is compared with the declaration as the
 * plan compares, and updated in place to match. A property AWS does not report counts as set
 * only when no update could set it anyway (write-only, create-only: the create sent it);
 * plumb's own tags count too, so the resource is found by them from now on. What only a
 * replacement could change is left to the next plan.
 */
static int converge(struct plumb_aws *aws, struct task *t)
{
    const struct plumb_schema_type *schema = t->schema;
    struct plumb_change c;
    json_t *given = NULL, *record = NULL, *before = NULL, *id = NULL, *observed = NULL, *d, *v;
    struct plumb_buf what = PLUMB_BUF_INIT;
    const char *k;
    size_t i;
    int error = 0, tags_differ = 0;

    memset(&c, 0, sizeof(c));
    c.type = (char *)schema->type_name;
    given = json_object();
    PLUMB_ALLOC_CHECK(given);
    json_object_foreach(t->props, k, v)
    {
        if (plumb_schema_is_write_only(schema, k) || plumb_schema_is_create_only(schema, k))
            json_object_set(given, k, v);
    }
    record = json_pack("{s:O}", "properties", given);
    PLUMB_ALLOC_CHECK(record);
    /* t->props holds plain values, no secret marks: the comparison needs no state key (and so
     * no state, which belongs to the scheduler thread) */
    plumb_plan_compare(&c, NULL, t->props, record, t->observed, NULL, NULL);
    if (c.action == PLUMB_ACTION_REPLACE || !(id = id_of(schema, t->observed)))
        goto done;
    /* the driver's `before`, as make_task builds it for an update */
    before = json_deep_copy(t->props);
    PLUMB_ALLOC_CHECK(before);
    json_array_foreach(c.diffs, i, d)
    {
        const char *path = json_string_value(json_object_get(d, "path"));
        const json_t *was = json_object_get(d, "before");
        if (!path)
            continue;
        json_object_del(before, path);
        if (was && !json_is_null(was))
            json_object_set(before, path, (json_t *)was);
        plumb_buf_printf(&what, "%s%s", what.len ? ", " : "", path);
        tags_differ |= schema->tags_property && strcmp(path, schema->tags_property) == 0;
    }
    /* plumb's own tags, which the comparison leaves aside */
    if (schema->tags_property && json_object_get(t->props, schema->tags_property) &&
        !has_our_tag(schema, t->observed, t->address)) {
        if (!tags_differ)
            plumb_buf_printf(&what, "%splumb's tags", what.len ? ", " : "");
        json_object_del(before, schema->tags_property);
        if ((v = json_object_get(t->observed, schema->tags_property)))
            json_object_set(before, schema->tags_property, v);
    }
    if (!what.len)
        goto done;
    if (!t->opts->quiet)
        plumb_log_info("%s: making what was found match its declaration: %s", t->address, what.ptr);
    PLUMB_TRY(t->driver->update(aws, id, before, t->props, &observed));
    json_decref(t->observed);
    t->observed = observed;
    observed = NULL;
done:
    json_decref(c.before);
    json_decref(c.diffs);
    json_decref(c.replace_because);
    json_decref(given);
    json_decref(record);
    json_decref(before);
    json_decref(id);
    json_decref(observed);
    plumb_buf_release(&what);
    return error;
}

/* Creates sent again after a lost answer showed nothing made, before giving up. */
#define CREATE_TRIES 3

static int do_create(struct plumb_aws *aws, struct task *t)
{
    int error = 0, found = 0, tries;

    /* Before creating: does it exist already? An interrupted earlier run may have made it
     * (adopt it), or someone else did (refuse: import it instead). */
    if (t->driver->lookup && !t->skip_lookup)
        PLUMB_TRY(found = find_existing(aws, t, 0));
    for (tries = 1; !found; tries++) {
        error = t->driver->create(aws, t->props, &t->observed);
        if (error != PLUMB_EUNCERTAIN || !t->driver->lookup || tries >= CREATE_TRIES)
            goto done;
        /*
         * The create went out and its answer was lost (a dropped connection, a 5xx): it may
         * have made the resource. The client does not resend a create (client.c,
         * resend_is_safe), because a second one would make a second VPC or fail on the name
         * the first one took: look for it first, and create again only when it is not there.
         * The wait gives a new resource time to show in describes (EC2 is eventually
         * consistent).
         */
        json_decref(t->observed);
        t->observed = NULL;
        t->lost_creates++;
        if (!t->opts->quiet)
            plumb_log_info("%s: %s; looking for what it made", t->address, plumb_error_message());
        plumb_sleep_ms(1000L * tries);
        PLUMB_TRY(found = find_existing(aws, t, 1));
    }
    error = converge(aws, t);
done:
    return error;
}

static int run_task(struct plumb_aws *aws, struct task *t)
{
    json_t *id = NULL, *observed = NULL;
    int error = 0;

    switch (t->step) {
    case STEP_CREATE:
        PLUMB_TRY(do_create(aws, t));
        break;
    case STEP_UPDATE:
    case STEP_RESTORE:
        PLUMB_TRY(t->driver->update(aws, t->id, t->before, t->props, &t->observed));
        break;
    case STEP_REPLACE:
        if (t->create_before_destroy) {
            PLUMB_TRY(do_create(aws, t));
            id = id_of(t->schema, t->observed);
            if (id)
                PLUMB_TRY(wait_for(aws, t, 0, id, "creating"));
            PLUMB_TRY(t->driver->remove(aws, t->id, t->remove_flags));
            PLUMB_TRY(wait_for(aws, t, 1, t->id, "destroying"));
        } else {
            PLUMB_TRY(t->driver->remove(aws, t->id, t->remove_flags));
            PLUMB_TRY(wait_for(aws, t, 1, t->id, "destroying"));
            PLUMB_TRY(do_create(aws, t));
        }
        break;
    case STEP_DELETE:
        PLUMB_TRY(t->driver->remove(aws, t->id, t->remove_flags));
        PLUMB_TRY(wait_for(aws, t, 1, t->id, "destroying"));
        goto done;
    }
    if (!t->observed) {
        error = plumb_error_set(PLUMB_ERROR, "the driver returned nothing");
        goto done;
    }
    t->new_id = id_of(t->schema, t->observed);
    if (!t->new_id) {
        error = plumb_error_set(PLUMB_ERROR, "no identifier in what AWS returned");
        goto done;
    }
    if (t->step != STEP_REPLACE || !t->create_before_destroy)
        PLUMB_TRY(
            wait_for(aws, t, 0, t->new_id,
                     t->step == STEP_CREATE || t->step == STEP_REPLACE ? "creating" : "modifying"));
    /* what AWS settled on, after the wait */
    if (t->driver->wait_stable && !t->driver->waits_only) {
        PLUMB_TRY(t->driver->read(aws, t->new_id, &observed));
        if (observed) {
            json_decref(t->observed);
            t->observed = observed;
            observed = NULL;
        }
    }
done:
    json_decref(id);
    json_decref(observed);
    return error;
}

/* ---- the pool ------------------------------------------------------------------------------ */

struct pool {
    struct plumb_aws *aws;
    pthread_mutex_t lock;
    pthread_cond_t work, done;
    struct task *queue, *finished;
    int stopping;
};

static void push(struct task **q, struct task *t)
{
    t->next = NULL;
    while (*q)
        q = &(*q)->next;
    *q = t;
}

static void *worker(void *arg)
{
    struct pool *p = arg;
    struct task *t;
    double start;

    for (;;) {
        pthread_mutex_lock(&p->lock);
        while (!p->queue && !p->stopping)
            pthread_cond_wait(&p->work, &p->lock);
        if (!p->queue) {
            pthread_mutex_unlock(&p->lock);
            return NULL;
        }
        t = p->queue;
        p->queue = t->next;
        pthread_mutex_unlock(&p->lock);

        start = now_s();
        t->requests = plumb_aws_thread_requests();
        t->error = run_task(p->aws, t);
        t->requests = plumb_aws_thread_requests() - t->requests;
        t->seconds = now_s() - start;
        if (t->error < 0)
            t->message = strdup(plumb_error_message());

        pthread_mutex_lock(&p->lock);
        push(&p->finished, t);
        pthread_cond_signal(&p->done);
        pthread_mutex_unlock(&p->lock);
    }
}

/* ---- the scheduler ------------------------------------------------------------------------- */

struct run {
    struct plumb_aws *aws;
    struct plumb_state *st;
    const struct plumb_plan *plan;
    const struct plumb_apply_options *opts;
    struct plumb_apply_result *res;
    json_t *records;
    json_t *done_log; /* what finished, in order: for rollback */
    json_t *restore;  /* address → the plain properties an update replaced (memory only) */
    json_t *pending;  /* addresses with an unfinished create in an earlier run */
    json_t *tagged;   /* plumb:address tags existing resources carry; NULL when unknown */
    char *failure;
    int failed_code;
};

static const struct plumb_resource_decl *decl_for(const struct plumb_model *m, const char *addr)
{
    long i = m ? plumb_model_find(m, addr) : -1;

    return i >= 0 ? m->resources[i].decl : NULL;
}

/* Appends to this run's journal; `extra` (members to add, may be NULL) is stolen. */
static void journal(struct run *r, const char *address, const char *action, const char *phase,
                    json_t *extra)
{
    json_t *e = json_pack("{s:s, s:s, s:s, s:f}", "address", address, "action", action, "phase",
                          phase, "time", now_s());
    const char *k;
    json_t *v;

    json_object_foreach(extra, k, v) json_object_set(e, k, v);
    if (plumb_state_journal_append(r->st, r->res->run_id, e, NULL) < 0)
        plumb_log_warn("journal: %s", plumb_error_message());
    json_decref(e);
    json_decref(extra);
}

/* Desired properties of change `c`, with values that were unknown at plan time resolved. */
static int final_props(struct run *r, const struct plumb_change *c, json_t **out)
{
    const struct plumb_model *m = NULL;
    const struct plumb_schema_type *t = plumb_schema_find(c->type);
    json_t *after = c->after;
    long i;

    *out = NULL;
    if (plumb_value_has_unknown(after) && r->opts->resolve) {
        if (r->opts->resolve(r->opts->resolve_ctx, r->records, &m) < 0)
            return -1;
        i = plumb_model_find(m, c->address);
        if (i < 0)
            return plumb_error_set(PLUMB_ERROR, "%s is no longer in the configuration", c->address);
        after = m->resources[i].properties;
        *out = plumb_schema_normalize(t, after);
        plumb_schema_add_plumb_tags(t, *out, r->opts->project, r->opts->env, c->address);
    } else {
        *out = json_incref(after);
    }
    if (plumb_value_has_unknown(*out)) {
        json_t *x = *out;
        *out = NULL;
        json_decref(x);
        return plumb_error_set(PLUMB_ERROR,
                               "%s: a value is still unknown after its dependencies were applied",
                               c->address);
    }
    return 0;
}

static int diff_touches(const json_t *diffs, const char *key)
{
    const json_t *d;
    size_t i;

    json_array_foreach(diffs, i, d)
    {
        const char *path = json_string_value(json_object_get(d, "path"));
        if (path && strcmp(path, key) == 0)
            return 1;
    }
    return 0;
}

static struct task *make_task(struct run *r, size_t node, int *err)
{
    const struct plumb_change *c = &r->plan->changes[node];
    const struct plumb_schema_type *t = plumb_schema_find(c->type);
    const struct plumb_resource_type *d = plumb_provider_find(c->type);
    const json_t *rec = json_object_get(r->records, c->address);
    struct task *task;
    json_t *desired = NULL;
    const struct plumb_resource_decl *decl = NULL;

    *err = 0;
    if (!t || !d) {
        *err = plumb_error_set(PLUMB_ERROR, "%s: no driver for type '%s'", c->address, c->type);
        return NULL;
    }
    task = calloc(1, sizeof(*task));
    task->node = node;
    task->address = c->address;
    task->driver = d;
    task->schema = t;
    task->opts = r->opts;
    task->create_before_destroy = c->create_before_destroy;
    task->timeout = t->timeout_create;
    if (r->opts->resolve) {
        const struct plumb_model *m = NULL;
        if (r->opts->resolve(r->opts->resolve_ctx, r->records, &m) == 0)
            decl = decl_for(m, c->address);
    }
    if (decl) {
        task->remove_flags = (decl->force_destroy ? PLUMB_REMOVE_FORCE : 0) |
                             (decl->final_snapshot ? PLUMB_REMOVE_FINAL_SNAPSHOT : 0);
        task->timeout = c->action == PLUMB_ACTION_UPDATE   ? decl->timeout_update
                        : c->action == PLUMB_ACTION_DELETE ? decl->timeout_delete
                                                           : decl->timeout_create;
    } else {
        /* deleted from the configuration: the flags it had when last applied */
        task->remove_flags = (unsigned)json_integer_value(json_object_get(rec, "remove_flags"));
        task->timeout = t->timeout_delete;
    }
    if (rec)
        task->id = json_incref(json_object_get(rec, "id"));
    switch (c->action) {
    case PLUMB_ACTION_CREATE:
        task->step = STEP_CREATE;
        task->may_adopt = json_object_get(r->pending, c->address) != NULL;
        task->skip_lookup = !task->may_adopt && task->driver->found_by_tags && r->tagged &&
                            !json_object_get(r->tagged, c->address);
        break;
    case PLUMB_ACTION_UPDATE:
        task->step = STEP_UPDATE;
        break;
    case PLUMB_ACTION_REPLACE:
        task->step = STEP_REPLACE;
        break;
    case PLUMB_ACTION_DELETE:
        task->step = STEP_DELETE;
        return task;
    default:
        break;
    }
    if (c->action == PLUMB_ACTION_CREATE && c->gone) {
        json_decref(task->id);
        task->id = NULL;
    }
    if ((*err = final_props(r, c, &desired)) < 0) {
        free(task);
        return NULL;
    }
    task->props = plumb_apply_plain(desired);
    if (c->action == PLUMB_ACTION_UPDATE) {
        /* The driver's `before` holds what the plan compared and nothing else: for a property
         * the plan found different, what AWS has (drift included); for the other declared
         * ones, `after` itself. Undeclared settings AWS has are absent from both, so a driver
         * that works by difference changes exactly what the plan showed. */
        const json_t *actual = c->before ? c->before : json_object_get(rec, "properties"), *dd;
        const char *k;
        json_t *v;
        size_t di;
        task->before = json_object();
        json_object_foreach(task->props, k, v)
        {
            if (!diff_touches(c->diffs, k))
                json_object_set(task->before, k, v);
        }
        json_array_foreach(c->diffs, di, dd)
        {
            const char *path = json_string_value(json_object_get(dd, "path"));
            const json_t *was = path ? json_object_get(actual, path) : NULL;
            if (was)
                json_object_set_new(task->before, path, plumb_apply_plain(was));
        }
    }
    /* the record keeps the declared values (secrets as fingerprints), not the plain ones */
    task->declared = desired;
    return task;
}

static const char *verb_done(enum step s)
{
    switch (s) {
    case STEP_CREATE:
        return "creation";
    case STEP_UPDATE:
        return "modifications";
    case STEP_REPLACE:
        return "replacement";
    case STEP_RESTORE:
        return "restore";
    default:
        return "destruction";
    }
}

/* Commits a finished task to state before anything that depends on it starts. */
static int commit(struct run *r, struct task *t)
{
    const struct plumb_change *c = &r->plan->changes[t->node];
    json_t *declared = t->declared;
    json_t *rec = NULL, *puts = NULL, *removes = NULL, *entry;
    char now[21], el[32];
    int error = 0;

    json_t *old_props =
        json_incref(json_object_get(json_object_get(r->records, t->address), "properties"));

    plumb_time_iso8601(now, plumb_clock_now());
    human(el, sizeof(el), t->seconds);
    if (t->step == STEP_UPDATE && t->before)
        json_object_set(r->restore, t->address, t->before);
    if (t->step == STEP_DELETE) {
        removes = json_pack("[s]", t->address);
        PLUMB_TRY(plumb_state_write(r->st, NULL, removes));
        json_object_del(r->records, t->address);
        r->res->deleted++;
    } else {
        const json_t *old = json_object_get(r->records, t->address);
        json_t *safe = plumb_state_protect(r->st, declared);
        rec =
            json_pack("{s:s, s:O, s:o, s:o, s:O, s:s, s:s, s:I}", "type", c->type, "id", t->new_id,
                      "properties", safe, "observed", plumb_state_mask(r->st, t->observed, safe),
                      "dependencies", c->depends_on ? c->depends_on : json_array(), "updated_at",
                      now, "refreshed_at", now, "remove_flags", (json_int_t)t->remove_flags);
        json_object_set_new(rec, "created_at",
                            json_string(old && t->step == STEP_UPDATE
                                            ? json_string_value(json_object_get(old, "created_at"))
                                            : now));
        puts = json_object();
        json_object_set(puts, t->address, rec);
        PLUMB_TRY(plumb_state_write(r->st, puts, NULL));
        json_object_set(r->records, t->address, rec);
        if (t->step == STEP_CREATE)
            r->res->created++;
        else if (t->step == STEP_UPDATE)
            r->res->updated++;
        else if (t->step == STEP_REPLACE)
            r->res->replaced++;
    }
    entry = json_pack("{s:s, s:s, s:O?, s:O?, s:b, s:I, s:f, s:O}", "address", t->address, "step",
                      plumb_action_name(c->action), "id", t->new_id, "old_id", t->id, "adopted",
                      t->adopted, "requests", (json_int_t)t->requests, "seconds", t->seconds,
                      "depends_on", c->depends_on ? c->depends_on : json_null());
    /* what rollback needs to restore an update: the last applied values, secrets as
     * fingerprints (a secret cannot be restored from a journal, and must not be in one) */
    if (t->step == STEP_UPDATE && old_props)
        json_object_set(entry, "restore", old_props);
    json_array_append(r->done_log, entry);
    journal(r, t->address, plumb_action_name(c->action), "done", entry);
    if (!r->opts->quiet)
        plumb_log_info("%s: %s complete after %s%s", t->address, verb_done(t->step), el,
                       t->adopted && t->lost_creates
                           ? " (found what its create had made before the answer was lost)"
                       : t->adopted ? " (adopted what an interrupted run had created)"
                                    : "");
done:
    json_decref(old_props);
    json_decref(rec);
    json_decref(puts);
    json_decref(removes);
    return error;
}

static void free_task(struct task *t)
{
    json_decref(t->declared);
    json_decref(t->props);
    json_decref(t->before);
    json_decref(t->id);
    json_decref(t->observed);
    json_decref(t->new_id);
    free(t->message);
    free(t);
}

/* Runs the nodes of `plan` marked in `phase_nodes` through the pool; returns 0 or -1 when
 * something failed (r->failure set). */
static int run_phase(struct run *r, struct pool *p, const unsigned char *in_phase, int deletes)
{
    const struct plumb_plan *plan = r->plan;
    struct plumb_graph *g = NULL;
    struct plumb_sched *s = NULL;
    json_t *index = json_object();
    size_t i, k, running = 0;
    long n;
    int error = 0, stop = 0;

    PLUMB_TRY(plumb_graph_new(&g, plan->nchanges));
    for (i = 0; i < plan->nchanges; i++) {
        plumb_graph_set_name(g, i, plan->changes[i].address);
        json_object_set_new(index, plan->changes[i].address, json_integer((json_int_t)i));
    }
    for (i = 0; i < plan->nchanges; i++) {
        const json_t *deps = plan->changes[i].depends_on, *d;
        if (!in_phase[i])
            continue;
        json_array_foreach(deps, k, d)
        {
            const json_t *j = json_object_get(index, json_string_value(d));
            size_t other;
            if (!j)
                continue;
            other = (size_t)json_integer_value(j);
            if (!in_phase[other])
                continue;
            /* creates: after what they depend on; deletes: before what they depended on */
            if (deletes)
                PLUMB_TRY(plumb_graph_add_edge(g, other, i));
            else
                PLUMB_TRY(plumb_graph_add_edge(g, i, other));
        }
    }
    PLUMB_TRY(plumb_sched_new(&s, g, in_phase));

    for (;;) {
        while (!stop && !interrupted && (n = plumb_sched_next(s)) >= 0) {
            int err = 0;
            struct task *t = make_task(r, (size_t)n, &err);
            if (!t) {
                r->failure = strdup(plumb_error_message());
                r->failed_code = err;
                plumb_sched_fail(s, (size_t)n);
                r->res->failed++;
                stop = 1;
                break;
            }
            journal(r, t->address, plumb_action_name(plan->changes[n].action), "intent",
                    t->id ? json_pack("{s:O}", "id", t->id) : NULL);
            if (!r->opts->quiet)
                plumb_log_info("%s: %s...", t->address,
                               t->step == STEP_CREATE    ? "creating"
                               : t->step == STEP_UPDATE  ? "modifying"
                               : t->step == STEP_REPLACE ? "replacing"
                                                         : "destroying");
            pthread_mutex_lock(&p->lock);
            push(&p->queue, t);
            pthread_cond_signal(&p->work);
            pthread_mutex_unlock(&p->lock);
            running++;
        }
        if (interrupted && !r->res->interrupted) {
            r->res->interrupted = 1;
            stop = 1;
            if (!r->failure) {
                r->failure = strdup("interrupted: no new action started; running ones finished");
                r->failed_code = PLUMB_ERROR;
            }
        }
        if (!running)
            break;
        pthread_mutex_lock(&p->lock);
        while (!p->finished)
            pthread_cond_wait(&p->done, &p->lock);
        {
            struct task *t = p->finished;
            p->finished = t->next;
            pthread_mutex_unlock(&p->lock);
            running--;
            if (t->error == 0 && commit(r, t) < 0) {
                t->error = -1;
                t->message = strdup(plumb_error_message());
            } else if (t->error == 0 && r->opts->committed &&
                       r->opts->committed(r->opts->committed_ctx) < 0) {
                plumb_log_warn("checkpointing the state: %s", plumb_error_message());
            }
            if (t->error < 0) {
                journal(r, t->address, plumb_action_name(plan->changes[t->node].action), "failed",
                        json_pack("{s:s}", "error", t->message ? t->message : ""));
                if (!r->failure) {
                    struct plumb_buf b = PLUMB_BUF_INIT;
                    plumb_buf_printf(&b, "%s: %s", t->address, t->message ? t->message : "failed");
                    r->failure = plumb_buf_detach(&b);
                    r->failed_code = t->error;
                }
                plumb_sched_fail(s, t->node);
                r->res->failed++;
                stop = 1;
            } else {
                plumb_sched_done(s, t->node);
            }
            free_task(t);
        }
    }
    for (i = 0; i < plan->nchanges; i++)
        if (in_phase[i] && plumb_sched_skipped(s, i))
            r->res->skipped++;
    if (r->failure)
        error = -1;
done:
    json_decref(index);
    plumb_sched_free(s);
    plumb_graph_free(g);
    return error;
}

/* ---- rollback ------------------------------------------------------------------------------ */

/* What undoing one journal entry does, decided in one place for the rollback and for the
 * preview `plumb rollback` shows before asking. */
enum undo_kind {
    UNDO_NOTHING,   /* not an entry of a change (no address or step) */
    UNDO_LOST,      /* the run destroyed it: it cannot be brought back */
    UNDO_NOT_THERE, /* no longer in state (destroyed or forgotten since) */
    UNDO_DESTROY,   /* the run created it (or adopted what an interrupted run created) */
    UNDO_RESTORE,   /* the run updated it */
};

static enum undo_kind undo_kind(const json_t *e, const json_t *records)
{
    const char *addr = json_string_value(json_object_get(e, "address"));
    const char *step = json_string_value(json_object_get(e, "step"));
    const json_t *rec = json_object_get(records, addr ? addr : "");
    const char *type = json_string_value(json_object_get(rec, "type"));

    if (!addr || !step)
        return UNDO_NOTHING;
    if (strcmp(step, "delete") == 0)
        return UNDO_LOST;
    if (!rec || !type || !plumb_provider_find(type))
        return UNDO_NOT_THERE;
    if (strcmp(step, "create") == 0 || strcmp(step, "replace") == 0)
        return UNDO_DESTROY;
    if (strcmp(step, "update") == 0)
        return UNDO_RESTORE;
    return UNDO_NOTHING;
}

/* Undoes `done` (journal "done" entries, in the order they finished) in reverse: deletes what
 * was created, restores what was updated. `plain` may hold the plain properties an update
 * replaced (in-run rollback); otherwise the journal's values are used, secrets excepted. */
static int undo(struct plumb_aws *aws, struct plumb_state *st, json_t *records, const json_t *done,
                const json_t *plain, const struct plumb_apply_options *opts,
                struct plumb_apply_result *res)
{
    size_t i = json_array_size(done);
    int error = 0, rc;

    while (i-- > 0) {
        const json_t *e = json_array_get(done, i);
        const char *addr = json_string_value(json_object_get(e, "address"));
        const char *step = json_string_value(json_object_get(e, "step"));
        const json_t *rec = json_object_get(records, addr ? addr : "");
        const char *type = json_string_value(json_object_get(rec, "type"));
        const struct plumb_resource_type *d = type ? plumb_provider_find(type) : NULL;
        const json_t *id = json_object_get(e, "id");
        json_t *observed = NULL;
        enum undo_kind kind = undo_kind(e, records);

        switch (kind) {
        case UNDO_NOTHING:
            continue;
        case UNDO_LOST:
            plumb_log_warn("rollback: %s was destroyed and cannot be brought back", addr);
            continue;
        case UNDO_NOT_THERE:
            plumb_log_warn("rollback: %s is no longer in state; nothing to undo", addr);
            continue;
        case UNDO_DESTROY:
        case UNDO_RESTORE:
            break;
        }
        if (kind == UNDO_DESTROY) {
            /* an adopted create (made by an earlier, interrupted run) is this apply's to undo
             * all the same */
            if (!opts->quiet)
                plumb_log_info("rollback: destroying %s...", addr);
            rc = d->remove(aws, id,
                           (unsigned)json_integer_value(json_object_get(rec, "remove_flags")));
            if (rc == 0 && d->wait_deleted) {
                struct plumb_progress p = {NULL, NULL, 1800, opts->poll_ms};
                rc = d->wait_deleted(aws, id, &p);
            }
            if (rc < 0) {
                plumb_log_warn("rollback: %s could not be destroyed: %s", addr,
                               plumb_error_message());
                error = rc;
                continue;
            }
            plumb_state_remove(st, addr);
            json_object_del(records, addr);
            res->rolled_back++;
            if (strcmp(step, "replace") == 0)
                plumb_log_warn("rollback: %s was replaced; the old one is gone, the new one "
                               "destroyed: the next apply creates it again",
                               addr);
        } else {
            const json_t *target = json_object_get(plain, addr);
            json_t *to = target ? json_incref((json_t *)target)
                                : plumb_apply_plain(json_object_get(e, "restore"));
            json_t *from = plumb_apply_plain(json_object_get(rec, "properties"));
            const char *k;
            json_t *v;
            /* a secret's old value is not kept anywhere: leave secrets as they are now */
            json_object_foreach(json_object_get(e, "restore"), k, v)
            {
                if (json_object_get(v, PLUMB_STATE_FINGERPRINT_KEY) && !target)
                    json_object_set(to, k, json_object_get(from, k));
            }
            if (!opts->quiet)
                plumb_log_info("rollback: restoring %s...", addr);
            rc = d->update(aws, json_object_get(rec, "id"), from, to, &observed);
            if (rc < 0) {
                plumb_log_warn("rollback: %s could not be restored: %s", addr,
                               plumb_error_message());
                error = rc;
            } else {
                json_t *copy = json_deep_copy(rec);
                json_object_set(copy, "properties", json_object_get(e, "restore"));
                json_object_set_new(copy, "observed", plumb_state_protect(st, observed));
                plumb_state_put(st, addr, copy);
                json_object_set_new(records, addr, copy);
                res->rolled_back++;
            }
            json_decref(observed);
            json_decref(to);
            json_decref(from);
        }
    }
    return error;
}

static void record_run(struct plumb_state *st, const struct plumb_apply_result *res,
                       const struct plumb_apply_options *opts, double started, const char *outcome,
                       const char *failure, const struct plumb_plan *plan)
{
    char who[300];
    json_t *run;

    plumb_who(who, sizeof(who));
    run =
        json_pack("{s:s, s:f, s:f, s:s, s:s, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}}", "kind",
                  opts->kind ? opts->kind : "apply", "started", started, "finished", now_s(),
                  "outcome", outcome, "who", who, "summary", "created", (json_int_t)res->created,
                  "updated", (json_int_t)res->updated, "replaced", (json_int_t)res->replaced,
                  "deleted", (json_int_t)res->deleted, "failed", (json_int_t)res->failed, "skipped",
                  (json_int_t)res->skipped, "rolled_back", (json_int_t)res->rolled_back);
    if (failure)
        json_object_set_new(run, "error", json_string(failure));
    if (plan)
        json_object_set_new(run, "plan",
                            json_pack("{s:I, s:I, s:I}", "add", (json_int_t)plan->add, "change",
                                      (json_int_t)plan->change, "destroy",
                                      (json_int_t)plan->destroy));
    if (plumb_state_run_put(st, res->run_id, run) < 0)
        plumb_log_warn("recording the run: %s", plumb_error_message());
    json_decref(run);
}

/* Addresses whose create began in an earlier run and never finished: what it made may exist
 * (a crash between the create call and its commit) and is adopted rather than made twice. */
/*
 * The plumb:address tags of what exists with this environment's plumb:project and plumb:env
 * tags, from one Resource Groups Tagging API query; NULL when the query failed (then every
 * create looks first). A create whose address no resource carries needs no lookup, for the
 * types that query finds (found_by_tags): one call instead of one per create, and none on
 * the dependency chain. After a lost state, what exists is found, and adopted, all the same.
 */
static json_t *tagged_addresses(struct plumb_aws *aws, const struct plumb_apply_options *opts,
                                const struct plumb_plan *plan)
{
    json_t *in, *out = NULL, *found, *m, *t;
    size_t i, j, creates = 0;

    for (i = 0; i < plan->nchanges; i++)
        creates += plan->changes[i].action == PLUMB_ACTION_CREATE;
    if (!creates || !opts->project || !opts->env)
        return NULL;
    in = json_pack("{s:[{s:s, s:[s]}, {s:s, s:[s]}], s:i}", "TagFilters", "Key", "plumb:project",
                   "Values", opts->project, "Key", "plumb:env", "Values", opts->env,
                   "ResourcesPerPage", 100);
    if (!in || plumb_aws_paginate(aws, "resourcegroupstaggingapi", "GetResources", in, &out) < 0) {
        plumb_log_debug("tagging API: %s; every create looks for an existing resource first",
                        in ? plumb_error_message() : "out of memory");
        json_decref(in);
        return NULL;
    }
    json_decref(in);
    found = json_object();
    json_array_foreach(json_object_get(out, "ResourceTagMappingList"), i, m)
        json_array_foreach(json_object_get(m, "Tags"), j, t)
    {
        const char *k = json_string_value(json_object_get(t, "Key"));
        const char *v = json_string_value(json_object_get(t, "Value"));
        if (found && k && v && strcmp(k, "plumb:address") == 0)
            json_object_set_new(found, v, json_true());
    }
    json_decref(out);
    return found;
}

static json_t *pending_creates(struct plumb_state *st)
{
    json_t *runs = NULL, *pending = json_object(), *run, *j = NULL, *e;
    size_t i, k;

    if (plumb_state_runs(st, &runs) < 0)
        return pending;
    json_array_foreach(runs, i, run)
    {
        const char *id = json_string_value(json_object_get(run, "id"));
        if (plumb_state_journal(st, id, &j) < 0)
            continue;
        json_array_foreach(j, k, e)
        {
            const char *addr = json_string_value(json_object_get(e, "address"));
            const char *phase = json_string_value(json_object_get(e, "phase"));
            const char *action = json_string_value(json_object_get(e, "action"));
            if (!addr || !phase || !action)
                continue;
            if (strcmp(phase, "intent") == 0 &&
                (strcmp(action, "create") == 0 || strcmp(action, "replace") == 0))
                json_object_set_new(pending, addr, json_true());
            else if (strcmp(phase, "done") == 0)
                json_object_del(pending, addr);
        }
        json_decref(j);
        j = NULL;
    }
    json_decref(runs);
    return pending;
}

int plumb_apply_run(struct plumb_apply_result *out, struct plumb_aws *aws, struct plumb_state *st,
                    const struct plumb_plan *plan, const struct plumb_apply_options *opts)
{
    struct run r;
    struct pool p;
    pthread_t *threads = NULL;
    unsigned char *phase = NULL;
    size_t i, nthreads = 0;
    double started = now_s();
    int error = 0, any_delete = 0;

    memset(out, 0, sizeof(*out));
    memset(&r, 0, sizeof(r));
    memset(&p, 0, sizeof(p));
    plumb_state_new_run_id(out->run_id);
    r.aws = aws;
    r.st = st;
    r.plan = plan;
    r.opts = opts;
    r.res = out;
    r.done_log = json_array();
    r.restore = json_object();
    r.pending = pending_creates(st);
    r.tagged = tagged_addresses(aws, opts, plan);
    PLUMB_TRY(plumb_state_all(st, &r.records));
    record_run(st, out, opts, started, "running", NULL, plan);

    p.aws = aws;
    pthread_mutex_init(&p.lock, NULL);
    pthread_cond_init(&p.work, NULL);
    pthread_cond_init(&p.done, NULL);
    nthreads = (size_t)(opts->parallelism < 1 ? 1 : opts->parallelism);
    threads = calloc(nthreads, sizeof(*threads));
    phase = calloc(plan->nchanges ? plan->nchanges : 1, 1);
    PLUMB_ALLOC_CHECK(threads && phase);
    for (i = 0; i < nthreads; i++)
        if (pthread_create(&threads[i], NULL, worker, &p) != 0) {
            nthreads = i;
            break;
        }
    if (!nthreads) {
        error = plumb_error_set(PLUMB_ERROR, "unable to start worker threads");
        goto done;
    }

    /* Creates, updates and replaces in dependency order; then deletes, dependents first. */
    for (i = 0; i < plan->nchanges; i++) {
        enum plumb_action a = plan->changes[i].action;
        phase[i] =
            a == PLUMB_ACTION_CREATE || a == PLUMB_ACTION_UPDATE || a == PLUMB_ACTION_REPLACE;
        any_delete |= a == PLUMB_ACTION_DELETE;
    }
    error = run_phase(&r, &p, phase, 0);
    if (error == 0 && any_delete) {
        for (i = 0; i < plan->nchanges; i++)
            phase[i] = plan->changes[i].action == PLUMB_ACTION_DELETE;
        error = run_phase(&r, &p, phase, 1);
    }

done:
    pthread_mutex_lock(&p.lock);
    p.stopping = 1;
    pthread_cond_broadcast(&p.work);
    pthread_mutex_unlock(&p.lock);
    for (i = 0; i < nthreads; i++)
        pthread_join(threads[i], NULL);

    if (r.failure) {
        char *failure = strdup(r.failure);
        int code = r.failed_code < 0 ? r.failed_code : PLUMB_ERROR;
        if (!opts->no_rollback && !out->interrupted && json_array_size(r.done_log)) {
            plumb_log_warn("%s", r.failure);
            plumb_log_warn("rolling back what this run did...");
            undo(aws, st, r.records, r.done_log, r.restore, opts, out);
        }
        record_run(st, out, opts, started,
                   out->interrupted                                    ? "interrupted"
                   : opts->no_rollback || !json_array_size(r.done_log) ? "failed"
                                                                       : "rolled back",
                   failure, plan);
        error = plumb_error_set(code, "%s", failure);
        free(failure);
    } else if (error == 0) {
        record_run(st, out, opts, started, "success", NULL, plan);
    }
    pthread_mutex_destroy(&p.lock);
    pthread_cond_destroy(&p.work);
    pthread_cond_destroy(&p.done);
    free(threads);
    free(phase);
    free(r.failure);
    json_decref(r.done_log);
    json_decref(r.restore);
    json_decref(r.pending);
    json_decref(r.tagged);
    json_decref(r.records);
    return error;
}

/* The journal entries of `run_id`'s finished actions, in the order they finished. */
static int finished_actions(struct plumb_state *st, const char *run_id, json_t **done)
{
    json_t *journal = NULL, *e;
    size_t i;
    int error = 0;

    *done = json_array();
    PLUMB_ALLOC_CHECK(*done);
    PLUMB_TRY(plumb_state_journal(st, run_id, &journal));
    if (!json_array_size(journal)) {
        error = plumb_error_set(PLUMB_ENOTFOUND,
                                "no journal for run '%s' ('plumb runs' lists "
                                "them)",
                                run_id);
        goto done;
    }
    json_array_foreach(journal, i, e)
    {
        const char *phase = json_string_value(json_object_get(e, "phase"));
        if (phase && strcmp(phase, "done") == 0)
            json_array_append(*done, e);
    }
done:
    json_decref(journal);
    return error;
}

int plumb_apply_rollback_preview(struct plumb_state *st, const char *run_id, json_t **out)
{
    static const char *const names[] = {[UNDO_LOST] = "lost",
                                        [UNDO_NOT_THERE] = "not_there",
                                        [UNDO_DESTROY] = "destroy",
                                        [UNDO_RESTORE] = "restore"};
    json_t *done = NULL, *records = NULL, *e, *step, *rec;
    size_t i;
    int error = 0;
    enum undo_kind k;

    *out = json_array();
    PLUMB_ALLOC_CHECK(*out);
    PLUMB_TRY(finished_actions(st, run_id, &done));
    PLUMB_TRY(plumb_state_all(st, &records));
    for (i = json_array_size(done); i-- > 0;) {
        e = json_array_get(done, i);
        if ((k = undo_kind(e, records)) == UNDO_NOTHING)
            continue;
        rec = json_object_get(records, json_string_value(json_object_get(e, "address")));
        step = json_pack("{s:O, s:s, s:O?, s:O?}", "address", json_object_get(e, "address"), "undo",
                         names[k], "id", json_object_get(e, "id"), "type",
                         json_object_get(rec, "type"));
        PLUMB_ALLOC_CHECK(step);
        json_array_append_new(*out, step);
    }
done:
    json_decref(done);
    json_decref(records);
    if (error < 0) {
        json_decref(*out);
        *out = NULL;
    }
    return error;
}

int plumb_apply_rollback_run(struct plumb_apply_result *out, struct plumb_aws *aws,
                             struct plumb_state *st, const char *run_id,
                             const struct plumb_apply_options *opts)
{
    json_t *done = NULL, *records = NULL;
    double started = now_s();
    int error = 0;

    memset(out, 0, sizeof(*out));
    PLUMB_TRY(finished_actions(st, run_id, &done));
    PLUMB_TRY(plumb_state_all(st, &records));
    plumb_state_new_run_id(out->run_id);
    error = undo(aws, st, records, done, NULL, opts, out);
    {
        struct plumb_apply_options o = *opts;
        char what[80];
        snprintf(what, sizeof(what), "rollback of %s", run_id);
        o.kind = what;
        record_run(st, out, &o, started, error < 0 ? "failed" : "success",
                   error < 0 ? plumb_error_message() : NULL, NULL);
    }
done:
    json_decref(done);
    json_decref(records);
    return error;
}
