/*
 * The provider layer (DESIGN.md §5): one driver per resource type behind one interface. A
 * driver talks to AWS through the client (aws/aws.h) and knows nothing of plans, state or
 * configuration files: it is given properties and identifiers, and returns what AWS has.
 *
 * Conventions shared by every driver:
 *
 *   id        a JSON object of the type's primaryIdentifier properties, e.g.
 *             {"RepositoryName": "stage-api"} or {"ServiceArn": "...", "Cluster": "..."}.
 *   props     the declared properties, resolved: no unknown values remain at create/update
 *             time. Sensitive values arrive unwrapped (config/value.h marks are removed by
 *             the executor); a driver never logs a property value.
 *   observed  what read returns: every managed property AWS reports, normalised so that it
 *             compares equal to what a user would declare (IAM policy documents decoded and
 *             parsed, defaults AWS fills in present with their values), plus the read-only
 *             attributes of the schema (Arn, DNSName, ...). A property the API does not
 *             return at all is left out: the planner treats a missing property as unknown,
 *             not as drift. write-only properties (passwords) are never in observed.
 *   tags      the schema's tags property (list of {Key, Value} or map) in props and observed
 *             holds the user's tags plus plumb's own (plumb:project, plumb:env,
 *             plumb:address), which the executor adds to props before create and update.
 *
 * Every function returns 0 or a negative plumb error; AWS errors keep their code and request
 * id in the message (aws/aws.h), so a failing apply names them.
 */
#ifndef PLUMB_PROVIDER_PROVIDER_H
#define PLUMB_PROVIDER_PROVIDER_H

#include <jansson.h>

#include "aws/aws.h"

/* Progress for long waits: the executor prints "db: still creating... [1m30s elapsed]". */
struct plumb_progress {
    void (*report)(void *ctx, const char *status); /* status: "creating", "modifying" ... */
    void *ctx;
    long timeout_seconds;  /* give up after this long: PLUMB_ERROR "timed out ..." */
    long poll_interval_ms; /* between describes; 0: the driver's default */
};

/* remove() flags, from the resource's lifecycle block */
#define PLUMB_REMOVE_FORCE          1u /* empty a non-empty bucket, delete a repository's images */
#define PLUMB_REMOVE_FINAL_SNAPSHOT 2u /* RDS: take a final snapshot before deleting */

struct plumb_resource_type {
    const char *type_name; /* "AWS::ECR::Repository" */

    /* The resource `id`, or *observed = NULL (and 0) when it does not exist. */
    int (*read)(struct plumb_aws *aws, const json_t *id, json_t **observed);
    /*
     * Optional: many at once. `ids` is an array; *observed becomes an array of the same
     * length and order, with null for those that do not exist. Must cost fewer calls than
     * one read each (a describe taking lists, a filter), chunked to the API's limits.
     *
     * `wanted` (NULL: everything) is an object whose keys are the properties the caller
     * compares: refresh passes those declared at the last apply, and Tags only when the user
     * declared tags of their own. A property that costs a call of its own (S3 website, ECR
     * lifecycle policy, tags) may be left unread when not wanted: missing from observed, it
     * stays as last applied (what CloudFormation's drift detection does with undeclared
     * properties). Read-only attributes are always returned, except those named in
     * fixed_attributes.
     */
    int (*read_many)(struct plumb_aws *aws, const json_t *ids, const json_t *wanted,
                     json_t **observed);
    /*
     * Optional: an existing resource that these props would create — by its name property,
     * or for types AWS names, by its plumb:address tag in props' tags. *id = NULL when none.
     * How an interrupted apply adopts what it created instead of creating it twice; needed
     * because some services (and moto) do not refuse a duplicate create.
     */
    int (*lookup)(struct plumb_aws *aws, const json_t *props, json_t **id);
    /*
     * Creates the resource and returns it as read would. When a later step fails (a policy
     * attachment, a tag), what was made is removed before returning the error.
     */
    int (*create)(struct plumb_aws *aws, const json_t *props, json_t **observed);
    /* Changes `before` into `after` in place (only properties that are not create-only
     * differ); returns the resource as read would. */
    int (*update)(struct plumb_aws *aws, const json_t *id, const json_t *before,
                  const json_t *after, json_t **observed);
    /* Deletes it, doing first what AWS requires. Gone already is success. */
    int (*remove)(struct plumb_aws *aws, const json_t *id, unsigned flags);
    /*
     * Optional: waits until the resource is usable (RDS available, service steady). apply
     * reads the resource again after it, for what settles meanwhile (an RDS endpoint), unless
     * waits_only is set.
     */
    int (*wait_stable)(struct plumb_aws *aws, const json_t *id, struct plumb_progress *p);
    /* Optional: waits until a removed resource is really gone. */
    int (*wait_deleted)(struct plumb_aws *aws, const json_t *id, struct plumb_progress *p);
    /*
     * Optional: the declared properties in the form read reports them, when AWS accepts
     * several spellings of one value (App Runner "1 vCPU" is "1024"; RDS identifiers are
     * lower case). The planner compares through it, so a declaration AWS would store
     * unchanged never shows as a change. Returns a new value; must keep config/value.h
     * marks as they are.
     */
    json_t *(*normalize)(const json_t *props);
    /*
     * Optional, NULL-terminated: read-only attributes fixed for the resource's whole life (a
     * VPC's default security group), which read_many leaves unread unless `wanted` names
     * them. Create, import and read report them; refresh keeps the value recorded then.
     */
    const char *const *fixed_attributes;
    /* 1: wait_stable only waits (a VPC becoming available, an IAM role becoming visible):
     * what create and update returned is final, and no read follows the wait. */
    unsigned waits_only : 1;
    /* 1: the Resource Groups Tagging API lists it by the plumb:* tags create gives it, so
     * apply need not look it up before creating it when that API shows nothing carrying its
     * address (apply.c, tagged_addresses). Types the API misses (IAM) keep their lookup. */
    unsigned found_by_tags : 1;
};

/* The driver for `type_name`, or NULL. */
const struct plumb_resource_type *plumb_provider_find(const char *type_name);
/* Every driver, NULL-terminated (for docs and tests). */
const struct plumb_resource_type *const *plumb_provider_all(void);

#endif
