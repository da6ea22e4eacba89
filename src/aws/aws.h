/*
 * plumb's AWS client: the one way the rest of plumb talks to AWS (DESIGN.md §7).
 *
 *     struct plumb_aws *aws;
 *     json_t *out;
 *     plumb_aws_new(&aws, &opts);
 *     plumb_aws_call(aws, "sts", "GetCallerIdentity", NULL, &out);
 *
 * Services are named by botocore's keys ("ecs", "elbv2", "s3"), operations and members by the
 * API model's names; protocol.h says how values map to JSON. The handle is safe to share
 * between threads: credentials resolve once (and refresh before they expire) under a lock,
 * and each thread uses its own curl handle over one shared connection cache.
 */
#ifndef PLUMB_AWS_AWS_H
#define PLUMB_AWS_AWS_H

#include <stdbool.h>
#include <time.h>

#include <jansson.h>

#include "aws/protocol.h"
#include "util/buf.h"

struct plumb_aws;

struct plumb_aws_options {
    const char *region;       /* plumb.yaml's region: used only when nothing else names one */
    const char *fixed_region; /* a region that wins over the environment's (the state bucket's) */
    const char *profile;      /* overrides AWS_PROFILE */
    long connect_timeout_ms;  /* 0: 5 s */
    long timeout_ms;          /* per request; 0: 60 s */
};

struct plumb_aws_credentials {
    char *access_key_id;
    char *secret_access_key;
    char *session_token; /* NULL when none */
    time_t expiration;   /* 0 when they do not expire */
    char source[160];    /* where they came from, for `doctor`; never secret */
};

void plumb_aws_credentials_release(struct plumb_aws_credentials *c);
int plumb_aws_credentials_copy(struct plumb_aws_credentials *out,
                               const struct plumb_aws_credentials *in);

/*
 * Resolves region and the shared configuration. Credentials are resolved on first use, not
 * here, so `validate`-like callers never touch the credential chain. Errors in the
 * environment (a malformed AWS_ENDPOINT_URL*, an unreadable config file, a profile that does
 * not exist) are PLUMB_EINVALID with a one-line message saying what and where.
 */
int plumb_aws_new(struct plumb_aws **out, const struct plumb_aws_options *opts);
void plumb_aws_free(struct plumb_aws *aws);

/* The region and where it came from ("AWS_REGION", "profile 'dev'", "plumb.yaml"). */
const char *plumb_aws_region(const struct plumb_aws *aws);
const char *plumb_aws_region_source(const struct plumb_aws *aws);
/* The active profile name ("default" when none was named). */
const char *plumb_aws_profile(const struct plumb_aws *aws);

/*
 * The endpoint `service` resolves to ("https://sts.amazonaws.com", "http://127.0.0.1:5000")
 * and where it came from ("AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL", "default").
 */
int plumb_aws_endpoint(struct plumb_buf *out, const char **source, struct plumb_aws *aws,
                       const char *service);

/* Current credentials, resolving the chain on first use; the copy is the caller's. */
int plumb_aws_get_credentials(struct plumb_aws_credentials *out, struct plumb_aws *aws);

/*
 * Calls `operation` of `service` with `input` (NULL for none) and returns the parsed output
 * in `*out` (the caller's; an object). Retries throttling, 5xx, timeouts and dropped
 * connections with capped exponential back-off and full jitter (AWS_MAX_ATTEMPTS,
 * AWS_RETRY_MODE); other errors fail at once. On an AWS error the message reads
 * "ecs DescribeServices: AccessDeniedException: <message> (HTTP 400, request id <id>)" and
 * plumb_aws_last_error() has the pieces.
 */
int plumb_aws_call(struct plumb_aws *aws, const char *service, const char *operation,
                   const json_t *input, json_t **out);

/*
 * plumb_aws_call for a create that has no idempotency token, settling the one doubt it can
 * leave: when its answer was lost (PLUMB_EUNCERTAIN: client.c, resend_is_safe), `check_op`
 * with `check_in` reads what it would have made. Found: the create took effect (0, *out the
 * read's answer). Not found: the create is sent once more. Any other outcome is returned.
 */
int plumb_aws_create_settled(struct plumb_aws *aws, const char *service, const char *operation,
                             const json_t *input, const char *check_op, const json_t *check_in,
                             json_t **out);

/*
 * Like plumb_aws_call, following the operation's paginator (NextToken, Marker, nextToken, ...)
 * to the last page; the result lists of every page are concatenated into the first page's
 * output. Operations without a paginator make one call.
 */
int plumb_aws_paginate(struct plumb_aws *aws, const char *service, const char *operation,
                       const json_t *input, json_t **out);

/* The AWS error of this thread's last failed call, or NULL when it failed otherwise. */
const struct plumb_aws_error_info *plumb_aws_last_error(void);

/* What `--stats` prints: requests, retries, errors and time per service and per operation
 * since the handle was made. */
void plumb_aws_stats_render(struct plumb_buf *out, const struct plumb_aws *aws);
/* HTTP requests this thread has sent through any client so far (the executor counts each
 * action's calls with it: the apply benchmark's critical path is made of them). */
unsigned long plumb_aws_thread_requests(void);
/* Total calls (attempts included) to `service`, or to all when NULL. */
unsigned long plumb_aws_stats_calls(const struct plumb_aws *aws, const char *service);

#endif
