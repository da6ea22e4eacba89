/*
 * AWS::EC2::InternetGateway against moto with signature checking on; every outcome checked
 * with the aws CLI as well as the driver's own read.
 */
#include <criterion/criterion.h>
#include <stdio.h>
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

TestSuite(driver_ec2_internetgateway, .init = setup, .fini = teardown, .timeout = 120);

static const struct plumb_resource_type *driver(void)
{
    const struct plumb_resource_type *t = plumb_provider_find("AWS::EC2::InternetGateway");
    cr_assert_not_null(t);
    return t;
}

/* The gateway as the aws CLI sees it, or NULL. */
static json_t *cli_gateway(const char *gateway_id)
{
    json_t *out = NULL, *found;

    cr_assert_eq(test_aws_cli(&out,
                              "ec2 describe-internet-gateways --filters "
                              "Name=internet-gateway-id,Values=%s",
                              gateway_id),
                 0);
    found = json_incref(json_array_get(json_object_get(out, "InternetGateways"), 0));
    json_decref(out);
    return found;
}

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

static char *cli_create(const char *what, const char *args, const char *object, const char *key)
{
    json_t *out = NULL;
    char *id;

    cr_assert_eq(test_aws_cli(&out, "ec2 %s %s", what, args), 0);
    id = strdup(json_string_value(json_object_get(json_object_get(out, object), key)));
    json_decref(out);
    return id;
}

Test(driver_ec2_internetgateway, lifecycle)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *after, *observed = NULL, *again = NULL, *id, *g, *out = NULL;
    char *gateway_id, *vpc;

    props = json_pack("{s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}]}", "Tags", "Key", "Name",
                      "Value", "stage-igw", "Key", "plumb:address", "Value", "igw", "Key",
                      "plumb:env", "Value", "stage", "Key", "plumb:project", "Value", "shop");
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    test_expect_props(props, observed);
    cr_assert(json_is_string(json_object_get(observed, "InternetGatewayId")));
    gateway_id = strdup(json_string_value(json_object_get(observed, "InternetGatewayId")));

    g = cli_gateway(gateway_id);
    cr_assert_not_null(g, "the aws CLI sees the gateway");
    cr_expect_str_eq(tag_of(g, "Name"), "stage-igw");
    cr_expect_str_eq(tag_of(g, "plumb:address"), "igw");
    json_decref(g);

    id = json_pack("{s:s}", "InternetGatewayId", gateway_id);
    cr_assert_eq(t->read(aws, id, &again), 0);
    test_expect_props(props, again);
    json_decref(again);

    /* update: tags by difference (Name changed, team added) */
    after = json_pack("{s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}]}", "Tags",
                      "Key", "Name", "Value", "stage-gw", "Key", "plumb:address", "Value", "igw",
                      "Key", "plumb:env", "Value", "stage", "Key", "plumb:project", "Value", "shop",
                      "Key", "team", "Value", "net");
    json_decref(observed);
    cr_assert_eq(t->update(aws, id, props, after, &observed), 0, "%s", plumb_error_message());
    test_expect_props(after, observed);
    g = cli_gateway(gateway_id);
    cr_expect_str_eq(tag_of(g, "Name"), "stage-gw");
    cr_expect_str_eq(tag_of(g, "team"), "net");
    json_decref(g);

    /* and a tag removed */
    json_decref(observed);
    cr_assert_eq(t->update(aws, id, after, props, &observed), 0, "%s", plumb_error_message());
    g = cli_gateway(gateway_id);
    cr_expect_null(tag_of(g, "team"), "the removed tag is gone");
    json_decref(g);

    /* drift: a tag added outside plumb goes, though before and after agree (the executor
     * passes what was last applied as before) */
    cr_assert_eq(
        test_aws_cli(&out, "ec2 create-tags --resources %s --tags Key=extra,Value=x", gateway_id),
        0);
    json_decref(out);
    json_decref(observed);
    cr_assert_eq(t->update(aws, id, props, props, &observed), 0, "%s", plumb_error_message());
    g = cli_gateway(gateway_id);
    cr_expect_null(tag_of(g, "extra"), "the drifted tag is removed");
    cr_expect_str_eq(tag_of(g, "Name"), "stage-igw");
    json_decref(g);

    /* lookup by plumb tags; not another environment's */
    {
        json_t *found = NULL, *other = json_deep_copy(props);
        cr_assert_eq(t->lookup(aws, props, &found), 0, "%s", plumb_error_message());
        cr_expect(json_equal(found, id));
        json_decref(found);
        found = NULL;
        json_object_set_new(json_array_get(json_object_get(other, "Tags"), 2), "Value",
                            json_string("prod"));
        cr_assert_eq(t->lookup(aws, other, &found), 0);
        cr_expect_null(found);
        json_decref(other);
    }

    /* attached (as a VPCGatewayAttachment would): remove detaches it first */
    vpc = cli_create("create-vpc", "--cidr-block 10.50.0.0/16", "Vpc", "VpcId");
    cr_assert_eq(test_aws_cli(&out,
                              "ec2 attach-internet-gateway --internet-gateway-id %s "
                              "--vpc-id %s",
                              gateway_id, vpc),
                 0);
    json_decref(out);
    cr_assert_eq(t->remove(aws, id, 0), 0, "%s", plumb_error_message());
    again = NULL;
    cr_assert_eq(t->read(aws, id, &again), 0);
    cr_expect_null(again);
    cr_expect_null(cli_gateway(gateway_id), "the aws CLI no longer sees it");
    cr_expect_eq(t->remove(aws, id, 0), 0, "%s", plumb_error_message());

    json_decref(props);
    json_decref(after);
    json_decref(observed);
    json_decref(id);
    free(gateway_id);
    free(vpc);
    plumb_aws_free(aws);
}

Test(driver_ec2_internetgateway, read_many_in_one_call)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    char *a = cli_create("create-internet-gateway", "", "InternetGateway", "InternetGatewayId");
    char *b = cli_create("create-internet-gateway", "", "InternetGateway", "InternetGatewayId");
    json_t *ids, *observed = NULL;
    unsigned long before;

    ids = json_pack("[{s:s}, {s:s}, {s:s}]", "InternetGatewayId", a, "InternetGatewayId",
                    "igw-0123456789abcdef0", "InternetGatewayId", b);
    before = plumb_aws_stats_calls(aws, "ec2");
    cr_assert_eq(t->read_many(aws, ids, NULL, &observed), 0, "%s", plumb_error_message());
    cr_assert_eq(json_array_size(observed), 3);
    cr_expect_str_eq(
        json_string_value(json_object_get(json_array_get(observed, 0), "InternetGatewayId")), a);
    cr_expect(json_is_null(json_array_get(observed, 1)), "a missing gateway reads as null");
    cr_expect_str_eq(
        json_string_value(json_object_get(json_array_get(observed, 2), "InternetGatewayId")), b);
    cr_expect_eq(plumb_aws_stats_calls(aws, "ec2") - before, 1,
                 "one DescribeInternetGateways for all");
    json_decref(ids);
    json_decref(observed);
    free(a);
    free(b);
    plumb_aws_free(aws);
}

Test(driver_ec2_internetgateway, aws_errors_keep_their_code)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    char *a = cli_create("create-internet-gateway", "", "InternetGateway", "InternetGatewayId");
    json_t *id, *before, *after, *tags, *observed = NULL, *missing;
    char key[16];
    int i;

    /* more than AWS's 50 tags a resource */
    id = json_pack("{s:s}", "InternetGatewayId", a);
    before = json_pack("{s:[]}", "Tags");
    tags = json_array();
    for (i = 0; i < 60; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        json_array_append_new(tags, json_pack("{s:s, s:s}", "Key", key, "Value", "v"));
    }
    after = json_pack("{s:o}", "Tags", tags);
    cr_expect_eq(t->update(aws, id, before, after, &observed), PLUMB_EAWS);
    cr_expect(strstr(plumb_error_message(), "TagLimitExceeded") != NULL, "%s",
              plumb_error_message());
    cr_expect(strstr(plumb_error_message(), "request id") != NULL, "%s", plumb_error_message());
    cr_expect_null(observed);

    /* a gateway that does not exist: not found, naming it */
    missing = json_pack("{s:s}", "InternetGatewayId", "igw-0123456789abcdef0");
    cr_expect_eq(t->update(aws, missing, before, after, &observed), PLUMB_ENOTFOUND);
    cr_expect(strstr(plumb_error_message(), "igw-0123456789abcdef0") != NULL, "%s",
              plumb_error_message());

    json_decref(id);
    json_decref(missing);
    json_decref(before);
    json_decref(after);
    free(a);
    plumb_aws_free(aws);
}
