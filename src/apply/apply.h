/*
 * The executor (DESIGN.md §5, §6): runs a plan's actions on a pool of worker threads in
 * dependency order, commits every finished action to state before anything that depends on
 * it starts, journals each action (intent before the first AWS call, outcome after), and when
 * something fails rolls back by destroying what this run created and restoring what it
 * updated. Workers only talk to AWS; the scheduler thread alone writes state.
 */
#ifndef PLUMB_APPLY_APPLY_H
#define PLUMB_APPLY_APPLY_H

#include <jansson.h>

#include "aws/aws.h"
#include "config/model.h"
#include "plan/plan.h"
#include "state/state.h"

/* Re-resolves the configuration against the current state, so that values unknown at plan
 * time (a new resource's ARN) are known when the resources depending on them run. */
typedef int (*plumb_apply_resolve_fn)(void *ctx, const json_t *records,
                                      const struct plumb_model **model);

struct plumb_apply_options {
    int parallelism;           /* workers, at least 1 */
    int no_rollback;           /* leave things as they are on failure */
    int quiet;                 /* no progress lines */
    const char *project, *env; /* for plumb:project and plumb:env tags */
    const char *kind;          /* "apply", "destroy": recorded in runs */
    plumb_apply_resolve_fn resolve;
    void *resolve_ctx;
    long progress_every; /* seconds between "still creating" lines; 0: 10 */
    long poll_ms;        /* waits' poll interval; 0: driver default */
    /* Optional: called on the scheduling thread after each action is committed to state
     * (the shared backend pushes its checkpoints from here); its failure is only warned of. */
    int (*committed)(void *ctx);
    void *committed_ctx;
};

struct plumb_apply_result {
    char run_id[32];
    size_t created, updated, replaced, deleted, failed, skipped;
    size_t rolled_back;
    int interrupted;
};

/*
 * Executes `plan`. The state must be locked by the caller. Returns 0, or the first failure
 * (after rolling back unless no_rollback), with the message naming the resource and the AWS
 * error. SIGINT (set plumb_apply_interrupt) stops scheduling new actions, lets running ones
 * finish, records everything and returns PLUMB_ERROR.
 */
int plumb_apply_run(struct plumb_apply_result *out, struct plumb_aws *aws, struct plumb_state *st,
                    const struct plumb_plan *plan, const struct plumb_apply_options *opts);

/*
 * What plumb_apply_rollback_run would do for `run_id`, in its order, without doing it: an array
 * of {address, type, id, undo}, undo being "destroy" (the run created it), "restore" (the run
 * updated it), "lost" (the run destroyed it: it cannot come back) or "not_there" (no longer in
 * state: nothing to undo).
 */
int plumb_apply_rollback_preview(struct plumb_state *st, const char *run_id, json_t **out);

/* Undoes a past run from its journal: deletes what it created, restores what it updated. */
int plumb_apply_rollback_run(struct plumb_apply_result *out, struct plumb_aws *aws,
                             struct plumb_state *st, const char *run_id,
                             const struct plumb_apply_options *opts);

/* Runs the configuration's post-apply checks; the first failing one is an error. */
int plumb_apply_checks(const struct plumb_model *m, const json_t *records, int quiet);

/* Called from a SIGINT handler: stop scheduling. Async-signal-safe. */
void plumb_apply_interrupt(void);

/* A copy of `v` without marks: sensitive values unwrapped (for the driver only). */
json_t *plumb_apply_plain(const json_t *v);

#endif
