/*
 * What several drivers need: calls, tags in both AWS shapes, policy documents in a comparable
 * form, waiting with progress, and reading ids. Internal to src/provider/.
 */
#ifndef PLUMB_PROVIDER_UTIL_H
#define PLUMB_PROVIDER_UTIL_H

#include <jansson.h>

#include "provider/provider.h"

/* plumb_aws_call taking `in` (reference stolen; NULL from a failed json_pack is out of
 * memory); the answer goes to *out, or is dropped when out is NULL. */
int plumb_provider_call(struct plumb_aws *aws, const char *service, const char *operation,
                        json_t *in, json_t **out);
/* 1 when this thread's last failed call was the AWS error `code`. */
int plumb_provider_last_code_is(const char *code);

/* [{"Key": k, "Value": v}, ...] → {"k": "v"}; NULL or non-list → {}. */
json_t *plumb_provider_tags_to_map(const json_t *list);
/* {"k": "v"} → [{"Key": k, "Value": v}, ...] sorted by key. `key`/`value` name the members
 * ("Key"/"Value"; ECS uses "key"/"value"). */
json_t *plumb_provider_tags_to_list(const json_t *map, const char *key, const char *value);
/* A tag list (or {Key, Value}s in any order) sorted by key, as read reports tags. */
json_t *plumb_provider_sorted_tags(const json_t *list);
/* Tags to add and keys to remove to turn `before` into `after` (maps). */
void plumb_provider_tags_diff(const json_t *before, const json_t *after, json_t **add,
                              json_t **remove_keys);

/*
 * An IAM/S3/ECR policy document in one canonical form, so the same policy compares equal
 * however AWS or the user wrote it: a string is URL-decoded if needed and parsed; a
 * single-element "Statement" list stays a list, a lone Statement object becomes a list; in
 * each statement, Action/NotAction/Resource/NotResource/Principal values that are a single
 * string become one-element lists... and lists are sorted. Returns a new value, or NULL
 * when `doc` is not a policy (a string that is not JSON).
 */
json_t *plumb_provider_policy_normalize(const json_t *doc);
/* URL-decodes `s` (IAM returns policy documents percent-encoded). Caller frees. */
char *plumb_provider_url_decode(const char *s);

/* 1 when member `key` differs between `before` and `after` (absent on both sides: same;
 * jansson's json_equal says 0 for two NULLs, which would call every update API). */
int plumb_provider_changed(const json_t *before, const json_t *after, const char *key);

/* 1 when `actual` has every member `declared` has, with equal values (objects: members AWS
 * adds do not matter; lists: same length, item by item), as the planner compares. */
int plumb_provider_covers(const json_t *declared, const json_t *actual);
/*
 * For an update against what AWS has now: whether property `key` needs a call: declared
 * (`want`) and not what AWS has (`current`: a change, or drift), or no longer declared but
 * declared before (back to AWS's default). A property never declared is left as it is,
 * whatever it was set to outside plumb.
 */
int plumb_provider_needs(const json_t *before, const json_t *current, const json_t *want,
                         const char *key);

/* The string member `name` of `id`, or NULL. */
const char *plumb_provider_id_str(const json_t *id, const char *name);
/* Whether read_many's `wanted` asks for property `name` (NULL wants everything). */
int plumb_provider_wants(const json_t *wanted, const char *name);
/*
 * For a setting AWS reports as not set (a log group's retention removed, a bucket's website
 * deleted): null in `observed` when `wanted` names it, as a refresh of a declared setting
 * does, else nothing. Left out, the plan would take the value last applied for it and the
 * removal would be neither drift nor a change to apply; a whole read (wanted NULL: import)
 * leaves it out, as CloudFormation's shape does.
 */
void plumb_provider_not_set(json_t *observed, const json_t *wanted, const char *name);

/*
 * Polls `check` until it says done (1), fails (<0) or p->timeout_seconds pass, calling
 * p->report with the status check gives. check returns 0 to keep waiting, 1 when done.
 */
int plumb_provider_wait(struct plumb_progress *p, long default_poll_ms,
                        int (*check)(void *ctx, const char **status), void *ctx, const char *what);

#endif
