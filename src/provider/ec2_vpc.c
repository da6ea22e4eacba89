/*
 * AWS::EC2::VPC — virtual private clouds.
 *
 * AWS names VPCs (VpcId), so an interrupted apply finds the one it made by its plumb:* tags,
 * which CreateVpc attaches in the same call (TagSpecifications): a crash never leaves an
 * untagged VPC behind. The two DNS settings live outside the VPC object: DescribeVpcAttribute
 * and ModifyVpcAttribute take one attribute per call, so a read costs a DescribeVpcs, two
 * attribute reads and one DescribeSecurityGroups (the default group is a read-only
 * attribute). read_many batches the two describes with filters; the attribute reads cannot
 * be batched.
 *
 * DescribeVpcs with VpcIds fails the whole call when one id is unknown
 * (InvalidVpcID.NotFound); a vpc-id filter returns those that exist, which is what reads use.
 *
 * Not reported: DefaultNetworkAcl (DescribeNetworkAcls is not in the embedded EC2 model).
 * InstanceTenancy can only change through ModifyVpcTenancy, also missing: update refuses it.
 */
#include <stdlib.h>
#include <string.h>

#include "provider/ec2_common.h"
#include "provider/provider.h"
#include "provider/util.h"
#include "util/error.h"
#include "util/sys.h"

/* observe needs more than the described item (DNS attributes, the default group): this
 * driver's reads are its own. */
static const struct plumb_ec2_kind kind = {
    .what = "vpc",
    .id_keys = {"VpcId", NULL},
    .describe = "DescribeVpcs",
    .list = "Vpcs",
    .item_id = "VpcId",
    .id_filter = "vpc-id",
    .delete = "DeleteVpc",
};

/* The default security groups of `vpc_ids`: {"vpc-...": "sg-..."}. */
static int default_groups(struct plumb_aws *aws, json_t *vpc_ids, json_t **out)
{
    json_t *in, *res = NULL, *g, *map = json_object();
    size_t i;
    int error = 0;

    *out = NULL;
    in = json_pack("{s:[{s:s, s:[s]}, {s:s, s:O}]}", "Filters", "Name", "group-name", "Values",
                   "default", "Name", "vpc-id", "Values", vpc_ids);
    PLUMB_ALLOC_CHECK(in);
    PLUMB_ALLOC_CHECK(map);
    PLUMB_TRY(plumb_aws_paginate(aws, "ec2", "DescribeSecurityGroups", in, &res));
    json_array_foreach(json_object_get(res, "SecurityGroups"), i, g)
    {
        const char *vpc = json_string_value(json_object_get(g, "VpcId"));
        if (vpc)
            json_object_set(map, vpc, json_object_get(g, "GroupId"));
    }
    *out = map;
    map = NULL;
done:
    json_decref(in);
    json_decref(res);
    json_decref(map);
    return error;
}

static int read_attribute(struct plumb_aws *aws, const char *vpc_id, const char *attribute,
                          const char *member, json_t *o, const char *property)
{
    json_t *in = json_pack("{s:s, s:s}", "VpcId", vpc_id, "Attribute", attribute), *out = NULL;
    json_t *v;
    int error = 0;

    PLUMB_ALLOC_CHECK(in);
    PLUMB_TRY(plumb_aws_call(aws, "ec2", "DescribeVpcAttribute", in, &out));
    v = json_object_get(json_object_get(out, member), "Value");
    if (json_is_boolean(v))
        json_object_set(o, property, v);
done:
    json_decref(in);
    json_decref(out);
    return error;
}

/* One DescribeVpcs entry (with its DNS attributes and default group) → CloudFormation. */
static int observe(struct plumb_aws *aws, const json_t *vpc, const json_t *default_sg,
                   const json_t *wanted, json_t **out)
{
    const char *vpc_id = json_string_value(json_object_get(vpc, "VpcId"));
    json_t *o = json_object(), *assoc = json_array(), *ipv6 = json_array(), *tags = NULL, *a, *v;
    size_t i;
    int error = 0;

    *out = NULL;
    PLUMB_ALLOC_CHECK(o);
    PLUMB_ALLOC_CHECK(assoc);
    PLUMB_ALLOC_CHECK(ipv6);
    json_object_set(o, "VpcId", json_object_get(vpc, "VpcId"));
    if ((v = json_object_get(vpc, "CidrBlock")))
        json_object_set(o, "CidrBlock", v);
    if ((v = json_object_get(vpc, "InstanceTenancy")))
        json_object_set(o, "InstanceTenancy", v);
    tags = plumb_provider_tags_to_map(json_object_get(vpc, "Tags"));
    PLUMB_ALLOC_CHECK(tags);
    json_object_set_new(o, "Tags", plumb_provider_tags_to_list(tags, "Key", "Value"));
    /* only blocks in use: a disassociated block lingers in the set for a while */
    json_array_foreach(json_object_get(vpc, "CidrBlockAssociationSet"), i, a)
    {
        const char *state =
            json_string_value(json_object_get(json_object_get(a, "CidrBlockState"), "State"));
        if ((!state || strcmp(state, "associated") == 0) && json_object_get(a, "AssociationId"))
            json_array_append(assoc, json_object_get(a, "AssociationId"));
    }
    json_array_foreach(json_object_get(vpc, "Ipv6CidrBlockAssociationSet"), i, a)
    {
        const char *state =
            json_string_value(json_object_get(json_object_get(a, "Ipv6CidrBlockState"), "State"));
        if ((!state || strcmp(state, "associated") == 0) && json_object_get(a, "Ipv6CidrBlock"))
            json_array_append(ipv6, json_object_get(a, "Ipv6CidrBlock"));
    }
    json_object_set(o, "CidrBlockAssociations", assoc);
    json_object_set(o, "Ipv6CidrBlocks", ipv6);
    if (json_is_string(default_sg))
        json_object_set(o, "DefaultSecurityGroup", (json_t *)default_sg);
    /* a call each: not read is not "false" (provider.h) */
    if (plumb_provider_wants(wanted, "EnableDnsSupport"))
        PLUMB_TRY(read_attribute(aws, vpc_id, "enableDnsSupport", "EnableDnsSupport", o,
                                 "EnableDnsSupport"));
    if (plumb_provider_wants(wanted, "EnableDnsHostnames"))
        PLUMB_TRY(read_attribute(aws, vpc_id, "enableDnsHostnames", "EnableDnsHostnames", o,
                                 "EnableDnsHostnames"));
    *out = o;
    o = NULL;
done:
    json_decref(o);
    json_decref(assoc);
    json_decref(ipv6);
    json_decref(tags);
    return error;
}

static int vpc_read(struct plumb_aws *aws, const json_t *id, json_t **observed)
{
    const char *vpc_id = plumb_provider_id_str(id, "VpcId");
    json_t *vpc = NULL, *ids = NULL, *sgs = NULL;
    int error = 0;

    *observed = NULL;
    if (!vpc_id)
        return plumb_error_set(PLUMB_EINVALID, "vpc id lacks VpcId");
    PLUMB_TRY(plumb_ec2__describe_one(aws, &kind, vpc_id, &vpc));
    if (!vpc)
        goto done;
    ids = json_pack("[s]", vpc_id);
    PLUMB_TRY(default_groups(aws, ids, &sgs));
    error = observe(aws, vpc, json_object_get(sgs, vpc_id), NULL, observed);
    if (error == PLUMB_ENOTFOUND)
        error = 0; /* deleted between the describe and the attribute reads */
done:
    json_decref(vpc);
    json_decref(ids);
    json_decref(sgs);
    return error;
}

/* Per chunk of ids: one DescribeVpcs, and one DescribeSecurityGroups for the default groups
 * when they are wanted, both by filter. */
static int vpc_read_many(struct plumb_aws *aws, const json_t *ids, const json_t *wanted,
                         json_t **observed)
{
    json_t *result = json_array(), *chunk = NULL, *vpcs = NULL, *found = NULL;
    json_t *sgs = NULL, *o;
    const json_t *vpc;
    size_t start, i, n = json_array_size(ids);
    int error = 0;

    *observed = NULL;
    PLUMB_ALLOC_CHECK(result);
    for (start = 0; start < n; start += PLUMB_EC2_CHUNK) {
        chunk = json_array();
        found = json_array();
        PLUMB_ALLOC_CHECK(chunk);
        PLUMB_ALLOC_CHECK(found);
        for (i = start; i < n && i < start + PLUMB_EC2_CHUNK; i++) {
            const char *vpc_id = plumb_provider_id_str(json_array_get(ids, i), "VpcId");
            if (vpc_id)
                json_array_append_new(chunk, json_string(vpc_id));
        }
        if (json_array_size(chunk)) {
            PLUMB_TRY(plumb_ec2__describe_ids(aws, &kind, chunk, &vpcs));
            json_array_foreach(vpcs, i, vpc)
                json_array_append(found, json_object_get(vpc, "VpcId"));
            /* the default group is fixed for the VPC's life (fixed_attributes below) */
            if (json_array_size(found) && plumb_provider_wants(wanted, "DefaultSecurityGroup"))
                PLUMB_TRY(default_groups(aws, found, &sgs));
        }
        for (i = start; i < n && i < start + PLUMB_EC2_CHUNK; i++) {
            const char *vpc_id = plumb_provider_id_str(json_array_get(ids, i), "VpcId");
            o = NULL;
            if (vpc_id && vpcs && (vpc = plumb_ec2__find(&kind, vpcs, vpc_id))) {
                error = observe(aws, vpc, json_object_get(sgs, vpc_id), wanted, &o);
                if (error == PLUMB_ENOTFOUND)
                    error = 0; /* deleted meanwhile */
                else if (error < 0)
                    goto done;
            }
            json_array_append_new(result, o ? o : json_null());
        }
        json_decref(chunk);
        json_decref(vpcs);
        json_decref(found);
        json_decref(sgs);
        chunk = vpcs = found = sgs = NULL;
    }
    *observed = result;
    result = NULL;
done:
    json_decref(result);
    json_decref(chunk);
    json_decref(vpcs);
    json_decref(found);
    json_decref(sgs);
    return error;
}

/* By plumb:* tags and the create-only CidrBlock (a replacement's predecessor carries the same
 * tags but, being replaced, a different block). */
static int vpc_lookup(struct plumb_aws *aws, const json_t *props, json_t **id)
{
    json_t *filters = plumb_ec2__plumb_tag_filters(props), *vpcs = NULL, *v;
    int error = 0;

    *id = NULL;
    if (!filters)
        return 0;
    if ((v = json_object_get(props, "CidrBlock")))
        json_array_append_new(filters, json_pack("{s:s, s:[O]}", "Name", "cidr", "Values", v));
    PLUMB_TRY(plumb_ec2__describe(aws, kind.describe, kind.list, filters, &vpcs));
    if (json_array_size(vpcs) > 1) {
        error =
            plumb_error_set(PLUMB_ECONFLICT,
                            "%zu vpcs carry the same plumb tags: '%s' and '%s'; delete the "
                            "one that is not in use",
                            json_array_size(vpcs),
                            json_string_value(json_object_get(json_array_get(vpcs, 0), "VpcId")),
                            json_string_value(json_object_get(json_array_get(vpcs, 1), "VpcId")));
        goto done;
    }
    if (json_array_size(vpcs) == 1)
        *id = json_pack("{s:O}", "VpcId", json_object_get(json_array_get(vpcs, 0), "VpcId"));
done:
    json_decref(filters);
    json_decref(vpcs);
    return error;
}

/* The value of a DNS setting: declared, observed, or AWS's default for a new VPC. */
static int dns_value(const json_t *props, const char *key)
{
    const json_t *v = json_object_get(props, key);

    if (json_is_boolean(v))
        return json_is_true(v);
    return strcmp(key, "EnableDnsSupport") == 0; /* support on, hostnames off */
}

static int modify_attribute(struct plumb_aws *aws, const char *vpc_id, const char *key, int value)
{
    json_t *in = json_pack("{s:s, s:{s:b}}", "VpcId", vpc_id, key, "Value", value), *out = NULL;
    int error;

    if (!in)
        return plumb_error_oom();
    error = plumb_ec2__call_retrying(aws, "ModifyVpcAttribute", in, &out, NULL,
                                     PLUMB_EC2_SETTLE_ATTEMPTS);
    json_decref(in);
    json_decref(out);
    return error;
}

/*
 * The DNS settings, one attribute per call (ModifyVpcAttribute takes one). Hostnames need
 * support: support is turned on before hostnames, hostnames off before support.
 */
static int set_dns(struct plumb_aws *aws, const char *vpc_id, const json_t *before,
                   const json_t *after)
{
    int sb = dns_value(before, "EnableDnsSupport"), sa = dns_value(after, "EnableDnsSupport");
    int hb = dns_value(before, "EnableDnsHostnames"), ha = dns_value(after, "EnableDnsHostnames");
    int error = 0;

    if (sa != sb && sa)
        PLUMB_TRY(modify_attribute(aws, vpc_id, "EnableDnsSupport", sa));
    if (ha != hb)
        PLUMB_TRY(modify_attribute(aws, vpc_id, "EnableDnsHostnames", ha));
    if (sa != sb && !sa)
        PLUMB_TRY(modify_attribute(aws, vpc_id, "EnableDnsSupport", sa));
done:
    return error;
}

static int vpc_remove(struct plumb_aws *aws, const json_t *id, unsigned flags);

static int vpc_create(struct plumb_aws *aws, const json_t *props, json_t **observed)
{
    const char *cidr = json_string_value(json_object_get(props, "CidrBlock"));
    json_t *in = NULL, *out = NULL, *id = NULL, *specs, *v;
    const char *vpc_id;
    int error = 0;

    *observed = NULL;
    if (!cidr)
        return plumb_error_set(PLUMB_EINVALID, "a vpc needs CidrBlock");
    in = json_pack("{s:s}", "CidrBlock", cidr);
    PLUMB_ALLOC_CHECK(in);
    if ((v = json_object_get(props, "InstanceTenancy")))
        json_object_set(in, "InstanceTenancy", v);
    if ((specs = plumb_ec2__tag_specifications(props, "vpc")))
        json_object_set_new(in, "TagSpecifications", specs);
    PLUMB_TRY(plumb_aws_call(aws, "ec2", "CreateVpc", in, &out));
    vpc_id = json_string_value(json_object_get(json_object_get(out, "Vpc"), "VpcId"));
    if (!vpc_id) {
        error = plumb_error_set(PLUMB_ERROR, "ec2 CreateVpc: no VpcId in the response");
        goto done;
    }
    id = json_pack("{s:s}", "VpcId", vpc_id);
    PLUMB_ALLOC_CHECK(id);
    /* what CreateVpc gave: the defaults */
    if ((error = set_dns(aws, vpc_id, NULL, props)) < 0) {
        plumb_ec2__undo_create(aws, vpc_remove, id, error);
        goto done;
    }
    error = plumb_ec2__read_new(aws, &kind, vpc_read, id, observed);
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
static int vpc_update(struct plumb_aws *aws, const json_t *id, const json_t *before,
                      const json_t *after, json_t **observed)
{
    const char *vpc_id = plumb_provider_id_str(id, "VpcId");
    json_t *current = NULL;
    int error = 0;

    (void)before;
    *observed = NULL;
    if (!vpc_id)
        return plumb_error_set(PLUMB_EINVALID, "vpc id lacks VpcId");
    PLUMB_TRY(vpc_read(aws, id, &current));
    if (!current) {
        error = plumb_error_set(PLUMB_ENOTFOUND, "vpc '%s' does not exist", vpc_id);
        goto done;
    }
    if (json_object_get(after, "InstanceTenancy") &&
        plumb_provider_changed(current, after, "InstanceTenancy")) {
        /* AWS changes tenancy only with ModifyVpcTenancy (dedicated → default) */
        error = plumb_error_set(PLUMB_EINVALID,
                                "vpc '%s': changing InstanceTenancy in place needs ec2 "
                                "ModifyVpcTenancy, which plumb does not call yet",
                                vpc_id);
        goto done;
    }
    PLUMB_TRY(set_dns(aws, vpc_id, current, after));
    if (plumb_provider_changed(current, after, "Tags"))
        PLUMB_TRY(plumb_ec2__sync_tags(aws, vpc_id, current, after));
    PLUMB_TRY(vpc_read(aws, id, observed));
    if (!*observed)
        error = plumb_error_set(PLUMB_ENOTFOUND, "vpc '%s' does not exist", vpc_id);
done:
    json_decref(current);
    return error;
}

/* Subnets, gateways and groups go first (the graph orders that); what AWS still holds for a
 * moment after they are gone shows as DependencyViolation, retried. */
static int vpc_remove(struct plumb_aws *aws, const json_t *id, unsigned flags)
{
    const char *vpc_id = plumb_ec2__id(&kind, id);

    (void)flags;
    if (!vpc_id)
        return plumb_error_set(PLUMB_EINVALID, "vpc id lacks VpcId");
    return plumb_ec2__delete(aws, &kind, vpc_id);
}

static int vpc_wait_stable(struct plumb_aws *aws, const json_t *id, struct plumb_progress *p)
{
    return plumb_ec2__wait_available(aws, &kind, id, p);
}

/* AWS makes the default group with the VPC and refuses to delete it while the VPC lives. */
static const char *const fixed_attributes[] = {"DefaultSecurityGroup", NULL};

const struct plumb_resource_type plumb_driver_ec2_vpc = {
    .type_name = "AWS::EC2::VPC",
    .read = vpc_read,
    .read_many = vpc_read_many,
    .lookup = vpc_lookup,
    .create = vpc_create,
    .update = vpc_update,
    .remove = vpc_remove,
    .wait_stable = vpc_wait_stable,
    .waits_only = 1,
    .fixed_attributes = fixed_attributes,
    .found_by_tags = 1,
};
