/*
 * AWS::EC2::VPC against moto with signature checking on; every outcome checked with the aws
 * CLI as well as the driver's own read.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "helpers/driver.h"
#include "helpers/moto.h"
#include "provider/provider.h"
#include "util/error.h"

static struct test_moto moto;

static void setup(void)
{
    cr_assert_eq(test_moto_start(&moto, 1), 0);
}

static void teardown(void)
{
    test_moto_stop(&moto);
}

TestSuite(driver_ec2_vpc, .init = setup, .fini = teardown, .timeout = 120);

static const struct plumb_resource_type *driver(void)
{
    const struct plumb_resource_type *t = plumb_provider_find("AWS::EC2::VPC");
    cr_assert_not_null(t);
    return t;
}

/* The VPC as the aws CLI sees it, or NULL. */
static json_t *cli_vpc(const char *vpc_id)
{
    json_t *out = NULL, *found;

    cr_assert_eq(test_aws_cli(&out, "ec2 describe-vpcs --filters Name=vpc-id,Values=%s", vpc_id),
                 0);
    found = json_incref(json_array_get(json_object_get(out, "Vpcs"), 0));
    json_decref(out);
    return found;
}

/* A DNS attribute as the aws CLI sees it: 1, 0, or -1 when unreadable. */
static int cli_attribute(const char *vpc_id, const char *attribute, const char *member)
{
    json_t *out = NULL, *v;
    int rc = -1;

    if (test_aws_cli(&out, "ec2 describe-vpc-attribute --vpc-id %s --attribute %s", vpc_id,
                     attribute) == 0 &&
        (v = json_object_get(json_object_get(out, member), "Value")) && json_is_boolean(v))
        rc = json_is_true(v);
    json_decref(out);
    return rc;
}

/* The value of tag `key` in a describe output's Tags, or NULL. */
static const char *tag_of(const json_t *item, const char *key)
{
    const json_t *t;
    size_t i;

    json_array_foreach(json_object_get(item, "Tags"), i, t)
    {
        if (strcmp(json_string_value(json_object_get(t, "Key")), key) == 0)
            return json_string_value(json_object_get(t, "Value"));
    }
    return NULL;
}

/* Creates a VPC with the aws CLI; returns its id (caller frees). */
static char *cli_create_vpc(const char *cidr)
{
    json_t *out = NULL;
    char *id;

    cr_assert_eq(test_aws_cli(&out, "ec2 create-vpc --cidr-block %s", cidr), 0);
    id = strdup(json_string_value(json_object_get(json_object_get(out, "Vpc"), "VpcId")));
    json_decref(out);
    return id;
}

Test(driver_ec2_vpc, lifecycle)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *after, *observed = NULL, *again = NULL, *id, *v, *sgs = NULL;
    char *vpc_id;

    props = json_pack("{s:s, s:b, s:b, s:s, s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}]}",
                      "CidrBlock", "10.20.0.0/16", "EnableDnsSupport", 1, "EnableDnsHostnames", 1,
                      "InstanceTenancy", "default", "Tags", "Key", "plumb:address", "Value", "net",
                      "Key", "plumb:env", "Value", "stage", "Key", "plumb:project", "Value", "shop",
                      "Key", "team", "Value", "net");
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    test_expect_props(props, observed);
    cr_assert(json_is_string(json_object_get(observed, "VpcId")));
    vpc_id = strdup(json_string_value(json_object_get(observed, "VpcId")));
    cr_expect_eq(json_array_size(json_object_get(observed, "CidrBlockAssociations")), 1);
    cr_expect(json_is_array(json_object_get(observed, "Ipv6CidrBlocks")) &&
              json_array_size(json_object_get(observed, "Ipv6CidrBlocks")) == 0);

    /* the aws CLI sees the block, the tags (attached at creation) and hostnames on */
    v = cli_vpc(vpc_id);
    cr_assert_not_null(v, "the aws CLI sees the vpc");
    cr_expect_str_eq(json_string_value(json_object_get(v, "CidrBlock")), "10.20.0.0/16");
    cr_expect_str_eq(tag_of(v, "plumb:address"), "net");
    cr_expect_str_eq(tag_of(v, "team"), "net");
    json_decref(v);
    cr_expect_eq(cli_attribute(vpc_id, "enableDnsHostnames", "EnableDnsHostnames"), 1);
    cr_expect_eq(cli_attribute(vpc_id, "enableDnsSupport", "EnableDnsSupport"), 1);
    /* DefaultSecurityGroup is the group the CLI finds as "default" in this VPC */
    cr_assert_eq(test_aws_cli(&sgs,
                              "ec2 describe-security-groups --filters Name=vpc-id,Values=%s "
                              "Name=group-name,Values=default",
                              vpc_id),
                 0);
    cr_expect_str_eq(json_string_value(json_object_get(observed, "DefaultSecurityGroup")),
                     json_string_value(json_object_get(
                         json_array_get(json_object_get(sgs, "SecurityGroups"), 0), "GroupId")));
    json_decref(sgs);

    id = json_pack("{s:s}", "VpcId", vpc_id);
    cr_assert_eq(t->read(aws, id, &again), 0);
    test_expect_props(props, again);
    json_decref(again);

    /* update: both DNS settings off (hostnames first, AWS's order), tags by difference */
    after = json_pack("{s:s, s:b, s:b, s:s, s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}]}",
                      "CidrBlock", "10.20.0.0/16", "EnableDnsSupport", 0, "EnableDnsHostnames", 0,
                      "InstanceTenancy", "default", "Tags", "Key", "owner", "Value", "ops", "Key",
                      "plumb:address", "Value", "net", "Key", "plumb:env", "Value", "stage", "Key",
                      "plumb:project", "Value", "shop");
    json_decref(observed);
    cr_assert_eq(t->update(aws, id, props, after, &observed), 0, "%s", plumb_error_message());
    test_expect_props(after, observed);
    cr_expect_eq(cli_attribute(vpc_id, "enableDnsHostnames", "EnableDnsHostnames"), 0);
    cr_expect_eq(cli_attribute(vpc_id, "enableDnsSupport", "EnableDnsSupport"), 0);
    v = cli_vpc(vpc_id);
    cr_expect_str_eq(tag_of(v, "owner"), "ops");
    cr_expect_null(tag_of(v, "team"), "the removed tag is gone");
    cr_expect_str_eq(tag_of(v, "plumb:address"), "net");
    json_decref(v);

    /* and back on: support before hostnames */
    json_decref(observed);
    cr_assert_eq(t->update(aws, id, after, props, &observed), 0, "%s", plumb_error_message());
    cr_expect_eq(cli_attribute(vpc_id, "enableDnsHostnames", "EnableDnsHostnames"), 1);
    cr_expect_eq(cli_attribute(vpc_id, "enableDnsSupport", "EnableDnsSupport"), 1);

    /* drift: hostnames turned off and a tag added outside plumb are put back, though before
     * and after agree (the executor passes what was last applied as before) */
    {
        json_t *out = NULL;
        cr_assert_eq(test_aws_cli(&out,
                                  "ec2 modify-vpc-attribute --vpc-id %s "
                                  "--no-enable-dns-hostnames",
                                  vpc_id),
                     0);
        json_decref(out);
        cr_assert_eq(
            test_aws_cli(&out, "ec2 create-tags --resources %s --tags Key=extra,Value=x", vpc_id),
            0);
        json_decref(out);
        cr_assert_eq(cli_attribute(vpc_id, "enableDnsHostnames", "EnableDnsHostnames"), 0);
        json_decref(observed);
        cr_assert_eq(t->update(aws, id, props, props, &observed), 0, "%s", plumb_error_message());
        cr_expect_eq(cli_attribute(vpc_id, "enableDnsHostnames", "EnableDnsHostnames"), 1);
        v = cli_vpc(vpc_id);
        cr_expect_null(tag_of(v, "extra"), "the drifted tag is removed");
        json_decref(v);
        test_expect_props(props, observed);
    }

    /* lookup: by its plumb tags and block; not another environment's, not without tags */
    {
        json_t *found = NULL, *other = json_deep_copy(props), *bare;
        cr_assert_eq(t->lookup(aws, props, &found), 0, "%s", plumb_error_message());
        cr_expect(json_equal(found, id));
        json_decref(found);
        found = NULL;
        json_object_set_new(json_array_get(json_object_get(other, "Tags"), 1), "Value",
                            json_string("prod"));
        cr_assert_eq(t->lookup(aws, other, &found), 0);
        cr_expect_null(found, "another environment's vpc is not adopted");
        bare = json_pack("{s:s}", "CidrBlock", "10.20.0.0/16");
        cr_assert_eq(t->lookup(aws, bare, &found), 0);
        cr_expect_null(found, "no plumb:address tag, nothing to find by");
        json_decref(other);
        json_decref(bare);
    }

    /* remove, then gone for the driver and the CLI; removing again is fine */
    cr_assert_eq(t->remove(aws, id, 0), 0, "%s", plumb_error_message());
    again = NULL;
    cr_assert_eq(t->read(aws, id, &again), 0, "%s", plumb_error_message());
    cr_expect_null(again);
    cr_expect_null(cli_vpc(vpc_id));
    cr_expect_eq(t->remove(aws, id, 0), 0, "%s", plumb_error_message());

    json_decref(props);
    json_decref(after);
    json_decref(observed);
    json_decref(id);
    free(vpc_id);
    plumb_aws_free(aws);
}

Test(driver_ec2_vpc, read_many_by_filter)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    char *a = cli_create_vpc("10.31.0.0/16"), *b = cli_create_vpc("10.32.0.0/16");
    json_t *ids, *observed = NULL, *one = NULL;
    unsigned long before, single;

    /* a missing id in the middle: with VpcIds AWS would fail the whole call */
    ids = json_pack("[{s:s}, {s:s}, {s:s}]", "VpcId", a, "VpcId", "vpc-0123456789abcdef0", "VpcId",
                    b);
    before = plumb_aws_stats_calls(aws, "ec2");
    cr_assert_eq(t->read_many(aws, ids, NULL, &observed), 0, "%s", plumb_error_message());
    cr_assert_eq(json_array_size(observed), 3);
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(observed, 0), "VpcId")), a);
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(observed, 0), "CidrBlock")),
                     "10.31.0.0/16");
    cr_expect(json_is_true(json_object_get(json_array_get(observed, 0), "EnableDnsSupport")));
    cr_expect(json_is_string(json_object_get(json_array_get(observed, 0), "DefaultSecurityGroup")));
    cr_expect(json_is_null(json_array_get(observed, 1)), "a missing vpc reads as null");
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(observed, 2), "VpcId")), b);
    /* one DescribeVpcs and one DescribeSecurityGroups for all; the two DNS attributes cannot
     * be batched (DescribeVpcAttribute takes one VPC and one attribute) */
    cr_expect_eq(plumb_aws_stats_calls(aws, "ec2") - before, 2 + 2 * 2);

    /* a single read costs four calls: batching saves the describes of every further VPC */
    before = plumb_aws_stats_calls(aws, "ec2");
    cr_assert_eq(t->read(aws, json_array_get(ids, 0), &one), 0);
    single = plumb_aws_stats_calls(aws, "ec2") - before;
    cr_expect_eq(single, 4);
    test_expect_props(one, json_array_get(observed, 0));

    /* refresh's `wanted`: the default group (fixed for the VPC's life) and an undeclared DNS
     * setting are left unread; one DescribeVpcs and the declared attribute's read remain */
    {
        json_t *wanted = json_pack("{s:b, s:b}", "CidrBlock", 1, "EnableDnsSupport", 1);
        json_t *narrow = NULL, *first;
        before = plumb_aws_stats_calls(aws, "ec2");
        cr_assert_eq(t->read_many(aws, ids, wanted, &narrow), 0, "%s", plumb_error_message());
        cr_expect_eq(plumb_aws_stats_calls(aws, "ec2") - before, 1 + 2);
        first = json_array_get(narrow, 0);
        cr_expect_null(json_object_get(first, "DefaultSecurityGroup"));
        cr_expect_null(json_object_get(first, "EnableDnsHostnames"), "not read is not false");
        cr_expect(json_is_true(json_object_get(first, "EnableDnsSupport")));
        cr_expect_str_eq(json_string_value(json_object_get(first, "CidrBlock")), "10.31.0.0/16");
        json_decref(wanted);
        json_decref(narrow);
    }
    cr_expect_str_eq(t->fixed_attributes[0], "DefaultSecurityGroup");

    json_decref(one);
    json_decref(ids);
    json_decref(observed);
    free(a);
    free(b);
    plumb_aws_free(aws);
}

Test(driver_ec2_vpc, aws_errors_keep_their_code)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *observed = NULL, *vpcs = NULL;

    props = json_pack("{s:s}", "CidrBlock", "10.0.0.0/33");
    cr_expect_eq(t->create(aws, props, &observed), PLUMB_EAWS);
    cr_expect_null(observed);
    cr_expect(strstr(plumb_error_message(), "InvalidParameterValue") != NULL, "%s",
              plumb_error_message());
    cr_expect(strstr(plumb_error_message(), "request id") != NULL, "%s", plumb_error_message());
    /* nothing was made: moto's default VPC only */
    cr_assert_eq(test_aws_cli(&vpcs, "ec2 describe-vpcs"), 0);
    cr_expect_eq(json_array_size(json_object_get(vpcs, "Vpcs")), 1);
    json_decref(vpcs);
    json_decref(props);
    plumb_aws_free(aws);
}

Test(driver_ec2_vpc, tenancy_cannot_change_in_place)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *before, *after, *id, *observed = NULL;
    char *a = cli_create_vpc("10.33.0.0/16");

    id = json_pack("{s:s}", "VpcId", a);
    before = json_pack("{s:s, s:s}", "CidrBlock", "10.33.0.0/16", "InstanceTenancy", "default");
    after = json_pack("{s:s, s:s}", "CidrBlock", "10.33.0.0/16", "InstanceTenancy", "dedicated");
    cr_expect_eq(t->update(aws, id, before, after, &observed), PLUMB_EINVALID);
    cr_expect(strstr(plumb_error_message(), "InstanceTenancy") != NULL, "%s",
              plumb_error_message());
    cr_expect_null(observed);
    json_decref(id);
    json_decref(before);
    json_decref(after);
    free(a);
    plumb_aws_free(aws);
}
