/*
 * Refresh: what AWS really has for every resource in state, read through the drivers —
 * batched with read_many where a driver can (one describe for many), and concurrently across
 * batches on a pool of threads. Changes nothing in AWS.
 */
#ifndef PLUMB_PLAN_REFRESH_H
#define PLUMB_PLAN_REFRESH_H

#include <jansson.h>

#include "aws/aws.h"

/*
 * Reads every record of `records` (address → state record with "type" and "id"), or only
 * those named in `only` (an array of addresses; NULL: all). *out becomes an object
 * address → observed properties, or null for a resource that no longer exists.
 * `parallelism` worker threads (at least 1). The first failure stops the refresh and is
 * returned, naming the resource.
 */
int plumb_refresh(json_t **out, struct plumb_aws *aws, const json_t *records, const json_t *only,
                  int parallelism);

#endif
