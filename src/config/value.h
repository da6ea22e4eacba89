/*
 * Values of resolved configuration are jansson trees, with two marks that plain JSON has no
 * room for, carried as one-key objects whose key no AWS property can have:
 *
 *   {"$plumb:unknown": "cluster.Arn"}   known only after apply (shown "(known after apply)")
 *   {"$plumb:sensitive": <value>}       a secret: shown "(sensitive)", stored as a fingerprint
 *
 * A string built from a sensitive part is sensitive as a whole; one built from an unknown
 * part is unknown as a whole.
 */
#ifndef PLUMB_CONFIG_VALUE_H
#define PLUMB_CONFIG_VALUE_H

#include <jansson.h>

#define PLUMB_VALUE_UNKNOWN_KEY   "$plumb:unknown"
#define PLUMB_VALUE_SENSITIVE_KEY "$plumb:sensitive"

/* A new unknown value; `why` says what it waits for ("cluster.Arn"). */
json_t *plumb_value_unknown(const char *why);
int plumb_value_is_unknown(const json_t *v);
/* What an unknown value waits for, or NULL. */
const char *plumb_value_unknown_why(const json_t *v);
/* Wraps `v` (reference stolen) as sensitive; an unknown or already sensitive value is
 * returned as it is. */
json_t *plumb_value_sensitive(json_t *v);
int plumb_value_is_sensitive(const json_t *v);
/* The value inside a sensitive wrapper, else `v` itself. */
const json_t *plumb_value_unwrap(const json_t *v);
/* 1 when `v` or anything inside it is unknown / sensitive. */
int plumb_value_has_unknown(const json_t *v);
int plumb_value_has_sensitive(const json_t *v);

#endif
