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

int plumb_ec2__last_code_is(const char *code);
int plumb_ec2__call_retrying(struct plumb_aws *aws, const char *operation, const json_t *in,
                             json_t **out, const char *code, int attempts);
int plumb_ec2__call(struct plumb_aws *aws, const char *operation, json_t *in);
json_t *plumb_ec2__tag_specifications(const json_t *props, const char *resource_type);
int plumb_ec2__sync_tags(struct plumb_aws *aws, const char *resource_id, const json_t *current,
                         const json_t *after);
json_t *plumb_ec2__plumb_tag_filters(const json_t *props);
int plumb_ec2__describe(struct plumb_aws *aws, const char *operation, const char *key,
                        json_t *filters, json_t **items);

#endif
