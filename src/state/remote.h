/*
 * The shared state backend (state: { backend: s3 }): an environment's state as one snapshot
 * object in a (versioned) S3 bucket, and in a DynamoDB table two items per environment: the
 * writer lock (a conditional write naming its holder) and the snapshot's digest (SHA-256,
 * serial, lineage and the S3 version id). LMDB under state/<env>/ stays the local cache.
 *
 * A reader takes the snapshot version the digest names and checks its SHA-256: a
 * half-written, damaged or stale object is refused, never imported. A writer holds the lock
 * for its whole run and pushes (object, then digest) when it changed the state.
 *
 * Table: partition key "LockID" (string), as Terraform's S3 backend uses, so one table can
 * serve both. Items: "<bucket>/<key>" (the lock) and "<bucket>/<key>-digest".
 */
#ifndef PLUMB_STATE_REMOTE_H
#define PLUMB_STATE_REMOTE_H

#include <jansson.h>

#include "aws/aws.h"
#include "state/state.h"
#include "util/buf.h"

struct plumb_remote;

/* Where an environment's state lives: key is "<key_prefix>/<env>/state.json". */
int plumb_remote_open(struct plumb_remote **out, struct plumb_aws *aws, const char *bucket,
                      const char *key_prefix, const char *table, const char *env);
void plumb_remote_free(struct plumb_remote *r);
const char *plumb_remote_url(const struct plumb_remote *r); /* "s3://bucket/key" */

/*
 * Takes the writer lock for `operation`. PLUMB_ELOCKED when someone holds it, the message
 * naming the holder (who, host, pid, operation, since) and the lock id for `state unlock`.
 */
int plumb_remote_lock(struct plumb_remote *r, const char *operation);
int plumb_remote_is_locked(const struct plumb_remote *r);
/* Releases our lock (only ours: a conditional delete on our lock id). */
int plumb_remote_unlock(struct plumb_remote *r);
/* The lock's holder ({ID, Operation, Who, Host, Pid, Created}), or *holder = NULL. */
int plumb_remote_holder(struct plumb_remote *r, json_t **holder);
/* Removes the lock whose id is `lock_id` (a holder that is gone). PLUMB_ENOTFOUND when that
 * lock is not held. */
int plumb_remote_force_unlock(struct plumb_remote *r, const char *lock_id);

/*
 * Brings the local cache up to the remote state: imports the snapshot when its serial is
 * newer or its lineage differs. *pulled = 1 when it did. The local state must be locked.
 * A snapshot that does not match its digest is an error and is not imported.
 */
int plumb_remote_pull(struct plumb_remote *r, struct plumb_state *st, int *pulled);
/* Whether the local state holds what the remote does not (a newer serial, or runs and
 * journal entries written since the last push or pull). */
int plumb_remote_behind(struct plumb_remote *r, struct plumb_state *st, int *behind);
/* Uploads the local state as the new snapshot, then its digest. Needs our lock. */
int plumb_remote_push(struct plumb_remote *r, struct plumb_state *st);

/*
 * What the backend needs, made when missing: the bucket (versioning on, public access
 * blocked, default encryption) and the lock table (partition key LockID, on demand). Adds a
 * line to `report` per thing made or found. Running it again changes nothing.
 */
int plumb_remote_provision(struct plumb_aws *aws, const char *bucket, const char *table,
                           const char *region, struct plumb_buf *report);

#endif
