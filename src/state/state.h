/*
 * State: what plumb manages in one environment, in LMDB (DESIGN.md §6). One LMDB environment
 * per project environment at state/<env>/, with the named databases
 *
 *   meta       format_version, lineage (UUID of this state's history), serial (bumped by
 *              every change)
 *   resources  address → {type, id, properties (last applied), observed (last read),
 *              dependencies, config_hash, created_at, updated_at, refreshed_at}
 *   runs       run id → {started, finished, outcome, summary, who, kind}
 *   journal    run id + sequence → each action's intent, outcome, before/after
 *
 * Writers take an exclusive lock (a file lock, so a killed process never leaves it held);
 * readers never block (LMDB's MVCC). Files are created 0600. Sensitive values never reach
 * state: they are stored as HMAC-SHA256 fingerprints under a key kept beside the data
 * (fingerprint.key, 0600) — enough to see that a secret changed, never the secret.
 */
#ifndef PLUMB_STATE_STATE_H
#define PLUMB_STATE_STATE_H

#include <jansson.h>

#define PLUMB_STATE_FORMAT_VERSION  1
#define PLUMB_STATE_FINGERPRINT_KEY "$plumb:fingerprint"

struct plumb_state;

/*
 * Opens the state in `dir` (state/<env>). With `create`, a missing directory is made (0700)
 * and initialised (new lineage, serial 0); without, a missing state opens empty and
 * read-only, and nothing is written to disk.
 */
int plumb_state_open(struct plumb_state **out, const char *dir, int create);
void plumb_state_close(struct plumb_state *s);
const char *plumb_state_dir(const struct plumb_state *s);
/* 1 when nothing exists on disk yet. */
int plumb_state_is_empty(const struct plumb_state *s);

/*
 * Takes the writer lock for `operation` ("apply", "refresh"...). PLUMB_ELOCKED when another
 * process holds it, naming its pid, host, operation and start time.
 */
int plumb_state_lock(struct plumb_state *s, const char *operation);
void plumb_state_unlock(struct plumb_state *s);
int plumb_state_is_locked(const struct plumb_state *s);

const char *plumb_state_lineage(const struct plumb_state *s); /* NULL for an empty state */
long plumb_state_serial(const struct plumb_state *s);

/* The record of `address`, or *out = NULL. */
int plumb_state_get(struct plumb_state *s, const char *address, json_t **out);
/* Every record: an object address → record ({} for an empty state). */
int plumb_state_all(struct plumb_state *s, json_t **out);

/*
 * One atomic write: `puts` (object address → record, may be NULL) stored and `removes`
 * (array of addresses, may be NULL) deleted, serial bumped once. The state must be locked.
 * Records are stored as given: callers pass them through plumb_state_protect first.
 */
int plumb_state_write(struct plumb_state *s, const json_t *puts, const json_t *removes);
int plumb_state_put(struct plumb_state *s, const char *address, const json_t *record);
int plumb_state_remove(struct plumb_state *s, const char *address);

/* Free-form settings in `meta` (the account id seen at the last refresh, ...): *out is the
 * caller's, NULL when unset. put needs the lock. */
int plumb_state_meta_get(struct plumb_state *s, const char *key, char **out);
int plumb_state_meta_put(struct plumb_state *s, const char *key, const char *value);

/* Runs and the journal. Run ids sort by time ("20261123T093512Z-1a2b"). */
int plumb_state_new_run_id(char out[32]);
int plumb_state_run_put(struct plumb_state *s, const char *run_id, const json_t *run);
/* Every run, oldest first: an array of {id, ...run}. */
int plumb_state_runs(struct plumb_state *s, json_t **out);
/* Appends `entry` to the run's journal (its sequence number is returned in *seq). */
int plumb_state_journal_append(struct plumb_state *s, const char *run_id, const json_t *entry,
                               unsigned *seq);
/* The run's journal entries in order (an array). */
int plumb_state_journal(struct plumb_state *s, const char *run_id, json_t **out);

/* "hmac-sha256:<hex>" of the canonical JSON of `value` under this state's key. */
int plumb_state_fingerprint(struct plumb_state *s, const json_t *value, char out[80]);
/*
 * A copy of `value` with every sensitive mark (config/value.h) replaced by
 * {"$plumb:fingerprint": "hmac-sha256:..."}: what may be stored or printed.
 */
json_t *plumb_state_protect(struct plumb_state *s, const json_t *value);

/*
 * A copy of `observed` (what AWS returned) in which every string whose fingerprint is among
 * the fingerprints in `stored` (a record's protected properties) is replaced by that
 * fingerprint: a secret the user declared and AWS echoes back (a tag, an environment
 * variable) never reaches state or output in clear, and compares equal by fingerprint. Needs
 * no secret: it works from what state already holds.
 */
json_t *plumb_state_mask(struct plumb_state *s, const json_t *observed, const json_t *stored);

/*
 * The whole state as one JSON document, for the remote backend: {format_version, lineage,
 * serial, fingerprint_key (hex: shared states need one key, or every secret would read as
 * changed on the next machine), meta, resources, runs, journal}. One read transaction.
 */
int plumb_state_export(struct plumb_state *s, json_t **out);
/* Replaces everything with a snapshot plumb_state_export made (one transaction; the key
 * file replaced atomically). Needs the lock. */
int plumb_state_import(struct plumb_state *s, const json_t *snapshot);

#endif
