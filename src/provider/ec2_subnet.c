/*
 * AWS::EC2::Subnet — subnets of a VPC.
 *
 * AWS names subnets (SubnetId): an interrupted apply finds the one it made by its plumb:*
 * tags, attached by CreateSubnet itself (TagSpecifications), together with the create-only
 * VpcId and CidrBlock, which a replacement's predecessor does not share. MapPublicIpOnLaunch
 * is the one setting that changes in place (ModifySubnetAttribute). DescribeSubnets returns
 * everything read needs, so read_many is one call per chunk of ids, by a subnet-id filter
 * (SubnetIds would fail the whole call for one unknown id).
 *
 * DeleteSubnet fails with DependencyViolation while network interfaces remain in the subnet;
 * those of deleted load balancers and Fargate tasks linger after their owner is gone, so
 * remove retries that error for a while.
 *
 * Not reported: NetworkAclAssociationId (DescribeNetworkAcls is not in the embedded EC2
 * model).
 */
#include <stdlib.h>
#include <string.h>

#include "provider/ec2_common.h"
#include "provider/provider.h"
#include "provider/util.h"
#include "util/error.h"
#include "util/sys.h"

/* One DescribeSubnets entry → the CloudFormation shape. */
static json_t *observe(const json_t *subnet)
{
    static const char *const same[] = {"SubnetId",
                                       "VpcId",
                                       "CidrBlock",
                                       "AvailabilityZone",
                                       "AvailabilityZoneId",
                                       "MapPublicIpOnLaunch",
                                       NULL};
    const char *const *k;
    json_t *o = json_object(), *tags, *v;

    if (!o)
        return NULL;
    for (k = same; *k; k++)
        if ((v = json_object_get(subnet, *k)))
            json_object_set(o, *k, v);
    tags = plumb_provider_tags_to_map(json_object_get(subnet, "Tags"));
    json_object_set_new(o, "Tags", plumb_provider_tags_to_list(tags, "Key", "Value"));
    json_decref(tags);
    return o;
}

static const struct plumb_ec2_kind kind = {
    .what = "subnet",
    .id_keys = {"SubnetId", NULL},
    .describe = "DescribeSubnets",
    .list = "Subnets",
    .item_id = "SubnetId",
    .id_filter = "subnet-id",
    .delete = "DeleteSubnet",
    .observe = observe,
};

static int subnet_read(struct plumb_aws *aws, const json_t *id, json_t **observed)
{
    return plumb_ec2__read(aws, &kind, id, observed);
}

/* One DescribeSubnets per chunk of ids, by filter. */
static int subnet_read_many(struct plumb_aws *aws, const json_t *ids, const json_t *wanted,
                            json_t **observed)
{
    (void)wanted;
    return plumb_ec2__read_many(aws, &kind, ids, observed);
}

static void add_filter(json_t *filters, const char *name, const json_t *value)
{
    if (json_is_string(value))
        json_array_append_new(filters,
                              json_pack("{s:s, s:[O]}", "Name", name, "Values", (json_t *)value));
}

/* By plumb:* tags and the create-only VpcId and CidrBlock. */
static int subnet_lookup(struct plumb_aws *aws, const json_t *props, json_t **id)
{
    json_t *filters = plumb_ec2__plumb_tag_filters(props), *subnets = NULL;
    int error = 0;

    *id = NULL;
    if (!filters)
        return 0;
    add_filter(filters, "vpc-id", json_object_get(props, "VpcId"));
    add_filter(filters, "cidr-block", json_object_get(props, "CidrBlock"));
    PLUMB_TRY(plumb_ec2__describe(aws, kind.describe, kind.list, filters, &subnets));
    if (json_array_size(subnets) > 1) {
        error = plumb_error_set(
            PLUMB_ECONFLICT,
            "%zu subnets carry the same plumb tags: '%s' and '%s'; delete the one not in use",
            json_array_size(subnets),
            json_string_value(json_object_get(json_array_get(subnets, 0), "SubnetId")),
            json_string_value(json_object_get(json_array_get(subnets, 1), "SubnetId")));
        goto done;
    }
    if (json_array_size(subnets) == 1)
        *id =
            json_pack("{s:O}", "SubnetId", json_object_get(json_array_get(subnets, 0), "SubnetId"));
done:
    json_decref(filters);
    json_decref(subnets);
    return error;
}

static int set_map_public_ip(struct plumb_aws *aws, const char *subnet_id, int value)
{
    json_t *in, *out = NULL;
    int error;

    in = json_pack("{s:s, s:{s:b}}", "SubnetId", subnet_id, "MapPublicIpOnLaunch", "Value", value);
    if (!in)
        return plumb_error_oom();
    error = plumb_ec2__call_retrying(aws, "ModifySubnetAttribute", in, &out, NULL,
                                     PLUMB_EC2_SETTLE_ATTEMPTS);
    json_decref(in);
    json_decref(out);
    return error;
}

static int subnet_remove(struct plumb_aws *aws, const json_t *id, unsigned flags);

static int subnet_create(struct plumb_aws *aws, const json_t *props, json_t **observed)
{
    static const char *const same[] = {"VpcId", "CidrBlock", "AvailabilityZone",
                                       "AvailabilityZoneId", NULL};
    const char *const *k;
    json_t *in = NULL, *out = NULL, *id = NULL, *specs, *v;
    const char *subnet_id;
    int error = 0;

    *observed = NULL;
    if (!json_is_string(json_object_get(props, "VpcId")) ||
        !json_is_string(json_object_get(props, "CidrBlock")))
        return plumb_error_set(PLUMB_EINVALID, "a subnet needs VpcId and CidrBlock");
    in = json_object();
    PLUMB_ALLOC_CHECK(in);
    for (k = same; *k; k++)
        if ((v = json_object_get(props, *k)))
            json_object_set(in, *k, v);
    if ((specs = plumb_ec2__tag_specifications(props, "subnet")))
        json_object_set_new(in, "TagSpecifications", specs);
    PLUMB_TRY(plumb_aws_call(aws, "ec2", "CreateSubnet", in, &out));
    subnet_id = json_string_value(json_object_get(json_object_get(out, "Subnet"), "SubnetId"));
    if (!subnet_id) {
        error = plumb_error_set(PLUMB_ERROR, "ec2 CreateSubnet: no SubnetId in the response");
        goto done;
    }
    id = json_pack("{s:s}", "SubnetId", subnet_id);
    PLUMB_ALLOC_CHECK(id);
    /* a new subnet maps no public addresses */
    if (json_is_true(json_object_get(props, "MapPublicIpOnLaunch")) &&
        (error = set_map_public_ip(aws, subnet_id, 1)) < 0) {
        plumb_ec2__undo_create(aws, subnet_remove, id, error);
        goto done;
    }
    error = plumb_ec2__read_new(aws, &kind, subnet_read, id, observed);
done:
    json_decref(in);
    json_decref(out);
    json_decref(id);
    return error;
}

/*
 * Against what AWS has now (read first), not `before`: the executor's `before` is what was
 * last applied, which equals `after` when the change to make is a repair of drift.
 */
static int subnet_update(struct plumb_aws *aws, const json_t *id, const json_t *before,
                         const json_t *after, json_t **observed)
{
    const char *subnet_id = plumb_provider_id_str(id, "SubnetId");
    json_t *current = NULL;
    int want;
    int error = 0;

    (void)before;
    *observed = NULL;
    if (!subnet_id)
        return plumb_error_set(PLUMB_EINVALID, "subnet id lacks SubnetId");
    PLUMB_TRY(subnet_read(aws, id, &current));
    if (!current) {
        error = plumb_error_set(PLUMB_ENOTFOUND, "subnet '%s' does not exist", subnet_id);
        goto done;
    }
    /* left out means AWS's default, false */
    want = json_is_true(json_object_get(after, "MapPublicIpOnLaunch"));
    if (json_is_true(json_object_get(current, "MapPublicIpOnLaunch")) != want)
        PLUMB_TRY(set_map_public_ip(aws, subnet_id, want));
    if (plumb_provider_changed(current, after, "Tags"))
        PLUMB_TRY(plumb_ec2__sync_tags(aws, subnet_id, current, after));
    PLUMB_TRY(subnet_read(aws, id, observed));
    if (!*observed)
        error = plumb_error_set(PLUMB_ENOTFOUND, "subnet '%s' does not exist", subnet_id);
done:
    json_decref(current);
    return error;
}

static int subnet_remove(struct plumb_aws *aws, const json_t *id, unsigned flags)
{
    const char *subnet_id = plumb_ec2__id(&kind, id);

    (void)flags;
    if (!subnet_id)
        return plumb_error_set(PLUMB_EINVALID, "subnet id lacks SubnetId");
    return plumb_ec2__delete(aws, &kind, subnet_id);
}

static int subnet_wait_stable(struct plumb_aws *aws, const json_t *id, struct plumb_progress *p)
{
    return plumb_ec2__wait_available(aws, &kind, id, p);
}

const struct plumb_resource_type plumb_driver_ec2_subnet = {
    .type_name = "AWS::EC2::Subnet",
    .read = subnet_read,
    .read_many = subnet_read_many,
    .lookup = subnet_lookup,
    .create = subnet_create,
    .update = subnet_update,
    .remove = subnet_remove,
    .wait_stable = subnet_wait_stable,
    .waits_only = 1,
    .found_by_tags = 1,
};
