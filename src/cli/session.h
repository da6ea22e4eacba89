/*
 * What the commands that work on one environment share: the project resolved for -e ENV,
 * its state, the AWS client and the caller's account, opened once in the right order.
 */
#ifndef PLUMB_CLI_SESSION_H
#define PLUMB_CLI_SESSION_H

#include <time.h>

#include "cli/cli.h"
#include "config/model.h"
#include "state/remote.h"
#include "state/state.h"
#include "util/diag.h"

#define PLUMB_SESSION_AWS       1u  /* ask STS for the account (plan with refresh, apply) */
#define PLUMB_SESSION_LOCK      2u  /* take the writer lock; create the state if missing */
#define PLUMB_SESSION_SECRETS   4u  /* ${secret.env.X} must be set */
#define PLUMB_SESSION_MODEL     8u  /* resolve the configuration */
#define PLUMB_SESSION_PROVISION 16u /* s3 backend: make the bucket and lock table if missing */
#define PLUMB_SESSION_CREATE    32u /* create the state if missing, without the lock */

struct plumb_session {
    struct plumb_cli *cli;
    const char *env;
    struct plumb_project *project;
    struct plumb_model *model;
    struct plumb_state *state;
    json_t *records; /* address → state record */
    struct plumb_aws *aws;
    struct plumb_remote *remote; /* the s3 state backend, or NULL for local state */
    struct plumb_aws *state_aws; /* the state bucket's region when it is another, or NULL */
    time_t pushed_at;            /* the last checkpoint (plumb_session_checkpoint) */
    char *account_id;
    char identity_key[80];    /* see identify() in session.c */
    int identity_known;       /* state's meta holds identity_key with account_id */
    struct plumb_kvlist vars; /* --var */
    struct plumb_diags diags;
};

/*
 * Opens what `flags` ask for; on failure prints the problem and returns PLUMB_EXIT_ERROR.
 * With the s3 state backend, the remote lock is taken with the local one and the newer
 * remote state pulled into the local cache; plumb_session_close pushes what changed.
 */
int plumb_session_open(struct plumb_session *s, struct plumb_cli *cli, unsigned flags);
/* Resolves (again) the model, using state's observed attributes for references. */
int plumb_session_resolve(struct plumb_session *s, unsigned flags);
/* Takes the writer lock (local, and the remote one with the s3 backend) for the command. */
int plumb_session_lock(struct plumb_session *s);
/* With the s3 backend and its lock held: uploads the local state if it changed. */
int plumb_session_push(struct plumb_session *s);
/* The apply engine's `committed` hook: pushes the shared state when the last push is more
 * than a few seconds old, so a run killed midway leaves most of its progress shared. */
int plumb_session_checkpoint(void *ctx);
/* Re-reads every state record. */
int plumb_session_reload(struct plumb_session *s);
/* Reads every managed resource from AWS and caches it in state (takes the lock). *gone
 * counts those that no longer exist. */
int plumb_session_refresh(struct plumb_session *s, int *gone);
void plumb_session_close(struct plumb_session *s);

#endif
