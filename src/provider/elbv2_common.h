/*
 * Internal to the ELBv2 drivers (elbv2_loadbalancer.c, elbv2_targetgroup.c, elbv2_listener.c,
 * elbv2_listenerrule.c): what they read, tag and name the same way. Load balancers and target
 * groups are described 20 ARNs a call, and one unknown ARN fails the whole call (then one
 * listing of every item answers the chunk); listeners and rules are children, described by
 * ARNs or by their parent (a balancer, a listener), whose ARN is part of theirs.
 */
#ifndef PLUMB_PROVIDER_ELBV2_COMMON_H
#define PLUMB_PROVIDER_ELBV2_COMMON_H

#include <jansson.h>
#include <stddef.h>

#include "aws/aws.h"

/* ARNs per describe (DescribeLoadBalancers, DescribeTargetGroups, DescribeTags, ...). */
#define PLUMB_ELBV2_CHUNK 20

/* What the drivers' describes and reads differ by. */
struct plumb_elbv2_kind {
    const char *what;     /* "load balancer", in messages */
    const char *describe; /* "DescribeLoadBalancers" */
    const char *list;     /* "LoadBalancers": the describe's answer */
    const char *arn;      /* "LoadBalancerArn": the id's member, and each item's */
    const char *arns;     /* "LoadBalancerArns": the describe's input */
    /* load balancers and target groups: their attributes */
    const char *modify_attributes;     /* "ModifyLoadBalancerAttributes" */
    const char *const *attribute_keys; /* what that call accepts, sorted, NULL-terminated */
    /* listeners and rules: the parent that describes them all */
    const char *parent;      /* "LoadBalancerArn": the describe's input for all of a parent's */
    const char *own_part;    /* ":listener/": in the item's ARN */
    const char *parent_part; /* ":loadbalancer/": in the parent's */
};

const json_t *plumb_elbv2__find_by(const json_t *list, const char *member, const char *value);
/* A new array of the strings of `arr`, sorted: AWS keeps no order for subnets and groups. */
json_t *plumb_elbv2__sorted_strings(const json_t *arr);
int plumb_elbv2__name_for(const json_t *props, char *out, size_t n, const char *what);

/* The kind's describe by `member` ("LoadBalancerArns", "Names") = `values` (an array); with
 * member NULL, every item. */
int plumb_elbv2__describe(struct plumb_aws *aws, const struct plumb_elbv2_kind *k,
                          const char *member, const json_t *values, json_t **items);
/* The described items of `ids` (resource ids) that exist, 20 a call. */
int plumb_elbv2__describe_ids(struct plumb_aws *aws, const struct plumb_elbv2_kind *k,
                              const json_t *ids, json_t **found);
/* read through read_many's observe step: `observe_all` takes the ids and the described items
 * and gives one observed (or null) per id. */
int plumb_elbv2__read(struct plumb_aws *aws, const struct plumb_elbv2_kind *k, const json_t *id,
                      int (*observe_all)(struct plumb_aws *, const json_t *ids, const json_t *items,
                                         const json_t *wanted, json_t **),
                      json_t **observed);
int plumb_elbv2__describe_tags(struct plumb_aws *aws, const json_t *arns, json_t **tags);
/* The declarable attributes (k->attribute_keys) of a Describe*Attributes answer, by key. */
json_t *plumb_elbv2__declarable_attributes(const struct plumb_elbv2_kind *k, const json_t *attrs);
/* Sends the declared attributes of `after` that differ from `before` (NULL: all of them). */
int plumb_elbv2__put_attributes(struct plumb_aws *aws, const struct plumb_elbv2_kind *k,
                                const char *arn, const json_t *before, const json_t *after);
int plumb_elbv2__update_tags(struct plumb_aws *aws, const char *arn, const json_t *before,
                             const json_t *after);

/* Listeners' and rules' actions and conditions: members copied by name (the schema's are
 * the API's, fewer). */
void plumb_elbv2__copy_members(json_t *to, const json_t *from, const char *const *names);
void plumb_elbv2__copy_object(json_t *to, const char *member, const json_t *from,
                              const char *const *names);
void plumb_elbv2__copy_list(json_t *to, const char *member, const json_t *from,
                            const char *const *names);
/* One action of the API in the schema's shape. */
json_t *plumb_elbv2__action_of(const json_t *a);
/* A new array of fn(item) for each item of `list`. */
json_t *plumb_elbv2__map_list(const json_t *list, json_t *(*fn)(const json_t *));
/* Every item of the parent `parent_arn` (a listener's rules, a balancer's listeners). */
int plumb_elbv2__describe_children(struct plumb_aws *aws, const struct plumb_elbv2_kind *k,
                                   const char *parent_arn, json_t **items);
/* read and read_many of a child kind (k->parent set): by ARNs, 20 a call; a chunk with an
 * ARN gone is read per parent. */
int plumb_elbv2__child_read(struct plumb_aws *aws, const struct plumb_elbv2_kind *k,
                            const json_t *id,
                            json_t *(*observe)(const json_t *item, const json_t *wanted),
                            json_t **observed);
int plumb_elbv2__child_read_many(struct plumb_aws *aws, const struct plumb_elbv2_kind *k,
                                 const json_t *ids, const json_t *wanted,
                                 json_t *(*observe)(const json_t *item, const json_t *wanted),
                                 json_t **observed);

#endif
