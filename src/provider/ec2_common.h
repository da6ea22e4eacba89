/*
 * Internal to the EC2 drivers (ec2_vpc.c, ec2_subnet.c, ec2_securitygroup.c,
 * ec2_internetgateway.c): the calls, retries, tags and filters they all make the same way.
 * EC2 tags every resource with CreateTags / DeleteTags and TagSpecifications, is eventually
 * consistent (hence the retrying call), and its describes are read by filters (ids would fail
 * the whole call for one unknown id), so the four drivers share one copy of each.
 */
#ifndef PLUMB_PROVIDER_EC2_COMMON_H
#define PLUMB_PROVIDER_EC2_COMMON_H

#include <jansson.h>

#include "aws/aws.h"
#include "provider/provider.h"

int plumb_ec2__call_retrying(struct plumb_aws *aws, const char *operation, const json_t *in,
                             json_t **out, const char *code, int attempts);
json_t *plumb_ec2__tag_specifications(const json_t *props, const char *resource_type);
int plumb_ec2__sync_tags(struct plumb_aws *aws, const char *resource_id, const json_t *current,
                         const json_t *after);
json_t *plumb_ec2__plumb_tag_filters(const json_t *props);
int plumb_ec2__describe(struct plumb_aws *aws, const char *operation, const char *key,
                        json_t *filters, json_t **items);

/* Filter values per describe: AWS takes at most 200, all filters together. */
#define PLUMB_EC2_CHUNK 100
/* EC2 is eventually consistent: an id a Create call just returned can be unknown to the next
 * call for a moment; a DependencyViolation can outlive what caused it (network interfaces of
 * deleted load balancers and tasks linger in a subnet). */
#define PLUMB_EC2_SETTLE_ATTEMPTS     6
#define PLUMB_EC2_DEPENDENCY_ATTEMPTS 10

/* What the drivers' reads, waits and deletes differ by. */
struct plumb_ec2_kind {
    const char *what;       /* "subnet", in messages */
    const char *id_keys[2]; /* the id's member ("SubnetId"); a second spelling, or NULL */
    const char *describe;   /* "DescribeSubnets" */
    const char *list;       /* "Subnets": the describe's answer */
    const char *item_id;    /* "SubnetId": each described item's id */
    const char *id_filter;  /* "subnet-id": describes go by filter, as ids would fail the
                               whole call for one unknown id */
    const char *delete;     /* "DeleteSubnet", taking {item_id: id} */
    json_t *(*observe)(const json_t *item); /* one described item → the CloudFormation shape;
                                               NULL where the driver reads more (a VPC) */
};

/* The resource id's string, or NULL. */
const char *plumb_ec2__id(const struct plumb_ec2_kind *k, const json_t *id);
/* The item of `items` with id `item_id`, or NULL. */
const json_t *plumb_ec2__find(const struct plumb_ec2_kind *k, const json_t *items,
                              const char *item_id);
/* The described items whose ids are among `item_ids` (strings), by one filtered describe. */
int plumb_ec2__describe_ids(struct plumb_aws *aws, const struct plumb_ec2_kind *k,
                            const json_t *item_ids, json_t **items);
/* One described item, or *item = NULL when it does not exist. */
int plumb_ec2__describe_one(struct plumb_aws *aws, const struct plumb_ec2_kind *k,
                            const char *item_id, json_t **item);
/* read and read_many for kinds with an observe. */
int plumb_ec2__read(struct plumb_aws *aws, const struct plumb_ec2_kind *k, const json_t *id,
                    json_t **observed);
int plumb_ec2__read_many(struct plumb_aws *aws, const struct plumb_ec2_kind *k, const json_t *ids,
                         json_t **observed);
/* Reads what was just created with `read`, again while it does not show yet. */
int plumb_ec2__read_new(struct plumb_aws *aws, const struct plumb_ec2_kind *k,
                        int (*read)(struct plumb_aws *, const json_t *, json_t **),
                        const json_t *id, json_t **observed);
/* Removes with `remove` what a failed create made; returns `error`, its message kept. */
int plumb_ec2__undo_create(struct plumb_aws *aws,
                           int (*remove)(struct plumb_aws *, const json_t *, unsigned),
                           const json_t *id, int error);
/* The kind's delete, again while DependencyViolation lasts; gone already is success. */
int plumb_ec2__delete(struct plumb_aws *aws, const struct plumb_ec2_kind *k, const char *item_id);
/* Waits until the item's State is "available". */
int plumb_ec2__wait_available(struct plumb_aws *aws, const struct plumb_ec2_kind *k,
                              const json_t *id, struct plumb_progress *p);

#endif
