/*
 * Resource schemas (DESIGN.md §4): the CloudFormation resource-schema documents in schemas/,
 * embedded in the binary, and validation of a resource's properties against them.
 *
 * Validation understands the subset of JSON Schema the documents use (type, enum, items,
 * properties, required, additionalProperties, pattern, minimum/maximum, minLength/maxLength,
 * minItems/maxItems, $ref to #/definitions). Values marked unknown (config/value.h) are
 * skipped; sensitive ones are checked through their wrapper. Patterns are ECMAScript in
 * CloudFormation: the common escapes (\d \w \s) are translated to POSIX classes; a pattern
 * POSIX cannot express is not checked (AWS will check it).
 */
#ifndef PLUMB_SCHEMA_SCHEMA_H
#define PLUMB_SCHEMA_SCHEMA_H

#include <jansson.h>

#include "config/yaml.h"
#include "util/diag.h"

struct plumb_schema_type {
    const char *type_name; /* "AWS::ECR::Repository" */
    const json_t *doc;     /* the whole schema document */
    const json_t *properties;
    const json_t *definitions;
    /* from the "plumb" block */
    const char *service;
    int stateful;
    const char *tags_property; /* NULL when the type takes no tags */
    int tags_as_map;           /* 1: {"k": "v"}; 0: [{"Key": k, "Value": v}] */
    const char *name_property; /* NULL when AWS names it */
    const json_t *defaults;    /* object, may be NULL */
    long timeout_create, timeout_update, timeout_delete; /* seconds */
};

/* Loads every embedded schema on first use (thread-safe). PLUMB_ERROR when one is broken. */
int plumb_schema_load(void);
/* The type called `type_name`, or NULL. */
const struct plumb_schema_type *plumb_schema_find(const char *type_name);
size_t plumb_schema_count(void);
const struct plumb_schema_type *plumb_schema_at(size_t i);
/* The known type name closest to `type_name`, or NULL when none is close. */
const char *plumb_schema_suggest_type(const char *type_name);

/* JSON pointer lists as sets: 1 when "/properties/<path with / for .>" is in the list. */
int plumb_schema_is_create_only(const struct plumb_schema_type *t, const char *path);
int plumb_schema_is_read_only(const struct plumb_schema_type *t, const char *path);
int plumb_schema_is_write_only(const struct plumb_schema_type *t, const char *path);
/* Sensitive: write-only, or named in plumb.sensitiveProperties. */
int plumb_schema_is_sensitive(const struct plumb_schema_type *t, const char *path);
/* The schema of property `path` ("Endpoint.Address", dots between levels), $refs resolved;
 * NULL when the type has no such property. */
const json_t *plumb_schema_property(const struct plumb_schema_type *t, const char *path);

/*
 * Checks `props` (an object: the resolved properties of resource `address`) against `t`. Every
 * problem goes to `diags`, located at the matching YAML node under `node` (the `properties:` map;
 * may be NULL) or at `fallback`. Returns PLUMB_EINVALID when it found an error, else 0.
 * Read-only properties set by the user are errors ("'Arn' is read-only").
 */
int plumb_schema_validate(const struct plumb_schema_type *t, const char *address,
                          const json_t *props, const struct plumb_node *node,
                          const struct plumb_loc *fallback, struct plumb_diags *diags);

/*
 * A copy of `props` with scalars in the types the schema gives them, the way CloudFormation
 * reads a template: 8000 where a string is wanted becomes "8000", "20" where an integer is
 * wanted becomes 20, "true" a boolean. Marks (config/value.h) are kept. What the schema does
 * not describe is copied as it is.
 */
json_t *plumb_schema_normalize(const struct plumb_schema_type *t, const json_t *props);
/* 1 when the array at JSON pointer `pointer` is unordered; array items are written "*". */
int plumb_schema_is_unordered(const struct plumb_schema_type *t, const char *pointer);
/* 1 when AWS reports every item of the array at `pointer` while the user declares those they
 * manage (a load balancer's attributes): each declared item must be among AWS's, in any
 * order, and the rest are not drift. */
int plumb_schema_is_partial(const struct plumb_schema_type *t, const char *pointer);

/*
 * Puts plumb's own tags (plumb:project, plumb:env, plumb:address) in `props`' tags property,
 * in the type's tag shape, replacing any earlier plumb:* tags. Nothing for untaggable types.
 * This is how drift finds unmanaged resources and how an interrupted apply finds what it made.
 */
void plumb_schema_add_plumb_tags(const struct plumb_schema_type *t, json_t *props,
                                 const char *project, const char *env, const char *address);

/* Edit distance, for "did you mean". */
size_t plumb_schema_distance(const char *a, const char *b);

#endif
