/*
 * AWS::EC2::SecurityGroup against moto with signature checking on; every outcome checked with
 * the aws CLI as well as the driver's own read.
 *
 * moto deletes a group that other groups' rules still reference (AWS refuses with
 * DependencyViolation) and leaves those rules dangling; the driver revokes them first as AWS
 * needs, and the test checks with the CLI that it did.
 *
 * Descriptions here have no spaces: moto checks a form POST's signature against the form
 * re-encoded by Python (a space as "+"), while plumb's client sends "%20" (which AWS takes),
 * so moto rejects any request with a space in a value (AuthFailure).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "helpers/driver.h"
#include "helpers/moto.h"
#include "provider/provider.h"
#include "util/error.h"

static struct test_moto moto;
static char *vpc_id;

static char *cli_create(const char *fmt_args, const char *member)
{
    json_t *out = NULL;
    char *id;

    cr_assert_eq(test_aws_cli(&out, "ec2 %s", fmt_args), 0);
    id = strdup(json_string_value(json_object_get(out, member)));
    json_decref(out);
    return id;
}

static void setup(void)
{
    json_t *out = NULL;

    cr_assert_eq(test_moto_start(&moto, 1), 0);
    cr_assert_eq(test_aws_cli(&out, "ec2 create-vpc --cidr-block 10.60.0.0/16"), 0);
    vpc_id = strdup(json_string_value(json_object_get(json_object_get(out, "Vpc"), "VpcId")));
    json_decref(out);
}

static void teardown(void)
{
    free(vpc_id);
    vpc_id = NULL;
    test_moto_stop(&moto);
}

TestSuite(driver_ec2_securitygroup, .init = setup, .fini = teardown, .timeout = 120);

static const struct plumb_resource_type *driver(void)
{
    const struct plumb_resource_type *t = plumb_provider_find("AWS::EC2::SecurityGroup");
    cr_assert_not_null(t);
    return t;
}

/* A group made with the aws CLI in the test VPC; its id (caller frees). */
static char *cli_group(const char *name)
{
    char args[256];

    snprintf(args, sizeof(args),
             "create-security-group --group-name %s --description '%s' --vpc-id %s", name, name,
             vpc_id);
    return cli_create(args, "GroupId");
}

/* The group as the aws CLI sees it, or NULL. */
static json_t *cli_describe(const char *group_id)
{
    json_t *out = NULL, *found;

    cr_assert_eq(test_aws_cli(&out,
                              "ec2 describe-security-groups --filters Name=group-id,Values=%s",
                              group_id),
                 0);
    found = json_incref(json_array_get(json_object_get(out, "SecurityGroups"), 0));
    json_decref(out);
    return found;
}

/*
 * Whether the CLI's view of `perms` (IpPermissions or IpPermissionsEgress) holds a permission
 * for protocol and from-port with the given peer value under `list`/`member` (e.g.
 * "IpRanges"/"CidrIp") and, when desc is not NULL, that description ("" for none).
 */
static int cli_has(const json_t *perms, const char *protocol, int from, const char *list,
                   const char *member, const char *value, const char *desc)
{
    const json_t *p, *e;
    size_t i, j;

    json_array_foreach(perms, i, p)
    {
        if (strcmp(json_string_value(json_object_get(p, "IpProtocol")), protocol) != 0)
            continue;
        if (from != -1 && json_integer_value(json_object_get(p, "FromPort")) != from)
            continue;
        json_array_foreach(json_object_get(p, list), j, e)
        {
            const char *d = json_string_value(json_object_get(e, "Description"));
            if (strcmp(json_string_value(json_object_get(e, member)), value) != 0)
                continue;
            if (!desc || strcmp(d ? d : "", desc) == 0)
                return 1;
        }
    }
    return 0;
}

/* The number of (peer) entries over all permissions of `perms`. */
static size_t cli_count(const json_t *perms)
{
    static const char *const lists[] = {"IpRanges", "Ipv6Ranges", "UserIdGroupPairs",
                                        "PrefixListIds", NULL};
    const char *const *l;
    const json_t *p;
    size_t i, n = 0;

    json_array_foreach(perms, i, p) for (l = lists; *l; l++) n +=
        json_array_size(json_object_get(p, *l));
    return n;
}

/* cr_expect that two rule lists hold the same rules, in any order. */
static void expect_same_rules(const json_t *want, const json_t *got)
{
    const json_t *w, *g;
    size_t i, j;
    char *ws = json_dumps(want, JSON_SORT_KEYS), *gs = json_dumps(got, JSON_SORT_KEYS);

    cr_expect_eq(json_array_size(want), json_array_size(got), "want %s\ngot %s", ws, gs);
    json_array_foreach(want, i, w)
    {
        int found = 0;
        json_array_foreach(got, j, g) found |= json_equal(w, g);
        cr_expect(found, "rule %zu of %s missing from %s", i, ws, gs);
    }
    free(ws);
    free(gs);
}

/* props without the rule lists, which test_expect_props would compare in order */
static json_t *without_rules(const json_t *props)
{
    json_t *p = json_copy((json_t *)props);

    json_object_del(p, "SecurityGroupIngress");
    json_object_del(p, "SecurityGroupEgress");
    return p;
}

Test(driver_ec2_securitygroup, lifecycle)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    char *peer = cli_group("peer"), *group_id;
    json_t *props, *after, *observed = NULL, *again = NULL, *id, *g, *plain, *want, *out = NULL;

    props = json_pack("{s:s, s:s, s:s, s:[{s:s, s:i, s:i, s:s, s:s}, {s:s, s:i, s:i, s:s},"
                      " {s:s, s:i, s:i, s:s}], s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}]}",
                      "GroupName", "web", "GroupDescription", "web-servers", "VpcId", vpc_id,
                      "SecurityGroupIngress", "IpProtocol", "tcp", "FromPort", 80, "ToPort", 80,
                      "CidrIp", "0.0.0.0/0", "Description", "http", "IpProtocol", "tcp", "FromPort",
                      443, "ToPort", 443, "CidrIp", "0.0.0.0/0", "IpProtocol", "tcp", "FromPort",
                      8080, "ToPort", 8080, "SourceSecurityGroupId", peer, "Tags", "Key",
                      "plumb:address", "Value", "web_sg", "Key", "plumb:env", "Value", "stage",
                      "Key", "plumb:project", "Value", "shop");
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    plain = without_rules(props);
    test_expect_props(plain, observed);
    json_decref(plain);
    expect_same_rules(json_object_get(props, "SecurityGroupIngress"),
                      json_object_get(observed, "SecurityGroupIngress"));
    /* no egress declared: AWS's allow-all rule stays, as in CloudFormation */
    want = json_pack("[{s:s, s:s}]", "IpProtocol", "-1", "CidrIp", "0.0.0.0/0");
    expect_same_rules(want, json_object_get(observed, "SecurityGroupEgress"));
    json_decref(want);
    cr_assert(json_is_string(json_object_get(observed, "Id")));
    group_id = strdup(json_string_value(json_object_get(observed, "Id")));
    cr_expect_str_eq(json_string_value(json_object_get(observed, "GroupId")), group_id);

    g = cli_describe(group_id);
    cr_assert_not_null(g, "the aws CLI sees the group");
    cr_expect_str_eq(json_string_value(json_object_get(g, "GroupName")), "web");
    cr_expect_str_eq(json_string_value(json_object_get(g, "Description")), "web-servers");
    cr_expect_str_eq(json_string_value(json_object_get(g, "VpcId")), vpc_id);
    cr_expect(cli_has(json_object_get(g, "IpPermissions"), "tcp", 80, "IpRanges", "CidrIp",
                      "0.0.0.0/0", "http"));
    cr_expect(cli_has(json_object_get(g, "IpPermissions"), "tcp", 443, "IpRanges", "CidrIp",
                      "0.0.0.0/0", ""));
    cr_expect(cli_has(json_object_get(g, "IpPermissions"), "tcp", 8080, "UserIdGroupPairs",
                      "GroupId", peer, NULL));
    cr_expect_eq(cli_count(json_object_get(g, "IpPermissions")), 3);
    cr_expect(cli_has(json_object_get(g, "IpPermissionsEgress"), "-1", -1, "IpRanges", "CidrIp",
                      "0.0.0.0/0", NULL));
    json_decref(g);

    id = json_pack("{s:s}", "Id", group_id);
    cr_assert_eq(t->read(aws, id, &again), 0);
    cr_expect(json_equal(again, observed), "read is deterministic");
    json_decref(again);

    /*
     * update: 443 revoked, 80 described anew in place, udp 53 added (declared as protocol
     * "17", read back as "udp"), egress declared (replacing allow-all), a tag added
     */
    after = json_pack("{s:s, s:s, s:s, s:[{s:s, s:i, s:i, s:s, s:s}, {s:s, s:i, s:i, s:s},"
                      " {s:s, s:i, s:i, s:s}], s:[{s:s, s:i, s:i, s:s}],"
                      " s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}]}",
                      "GroupName", "web", "GroupDescription", "web-servers", "VpcId", vpc_id,
                      "SecurityGroupIngress", "IpProtocol", "tcp", "FromPort", 80, "ToPort", 80,
                      "CidrIp", "0.0.0.0/0", "Description", "plain-http", "IpProtocol", "17",
                      "FromPort", 53, "ToPort", 53, "CidrIp", "10.0.0.0/8", "IpProtocol", "tcp",
                      "FromPort", 8080, "ToPort", 8080, "SourceSecurityGroupId", peer,
                      "SecurityGroupEgress", "IpProtocol", "tcp", "FromPort", 443, "ToPort", 443,
                      "CidrIp", "0.0.0.0/0", "Tags", "Key", "plumb:address", "Value", "web_sg",
                      "Key", "plumb:env", "Value", "stage", "Key", "plumb:project", "Value", "shop",
                      "Key", "team", "Value", "web");
    json_decref(observed);
    cr_assert_eq(t->update(aws, id, props, after, &observed), 0, "%s", plumb_error_message());
    plain = without_rules(after);
    test_expect_props(plain, observed);
    json_decref(plain);
    want = json_pack("[{s:s, s:i, s:i, s:s, s:s}, {s:s, s:i, s:i, s:s}, {s:s, s:i, s:i, s:s}]",
                     "IpProtocol", "tcp", "FromPort", 80, "ToPort", 80, "CidrIp", "0.0.0.0/0",
                     "Description", "plain-http", "IpProtocol", "udp", "FromPort", 53, "ToPort", 53,
                     "CidrIp", "10.0.0.0/8", "IpProtocol", "tcp", "FromPort", 8080, "ToPort", 8080,
                     "SourceSecurityGroupId", peer);
    expect_same_rules(want, json_object_get(observed, "SecurityGroupIngress"));
    json_decref(want);
    expect_same_rules(json_object_get(after, "SecurityGroupEgress"),
                      json_object_get(observed, "SecurityGroupEgress"));
    g = cli_describe(group_id);
    cr_expect(cli_has(json_object_get(g, "IpPermissions"), "tcp", 80, "IpRanges", "CidrIp",
                      "0.0.0.0/0", "plain-http"),
              "the description changed in place");
    cr_expect(!cli_has(json_object_get(g, "IpPermissions"), "tcp", 443, "IpRanges", "CidrIp",
                       "0.0.0.0/0", NULL),
              "the rule left out is revoked");
    cr_expect(cli_has(json_object_get(g, "IpPermissions"), "udp", 53, "IpRanges", "CidrIp",
                      "10.0.0.0/8", NULL));
    cr_expect_eq(cli_count(json_object_get(g, "IpPermissions")), 3);
    cr_expect(cli_has(json_object_get(g, "IpPermissionsEgress"), "tcp", 443, "IpRanges", "CidrIp",
                      "0.0.0.0/0", NULL));
    cr_expect_eq(cli_count(json_object_get(g, "IpPermissionsEgress")), 1,
                 "declared egress replaces allow-all");
    json_decref(g);
    cr_assert_eq(test_aws_cli(&out,
                              "ec2 describe-tags --filters Name=resource-id,Values=%s "
                              "Name=key,Values=team",
                              group_id),
                 0);
    cr_expect_eq(json_array_size(json_object_get(out, "Tags")), 1, "the tag was added");
    json_decref(out);

    /* egress no longer declared: allow-all comes back, as CloudFormation does */
    again = observed;
    json_object_del(after, "SecurityGroupEgress");
    cr_assert_eq(t->update(aws, id, again, after, &observed), 0, "%s", plumb_error_message());
    g = cli_describe(group_id);
    cr_expect(cli_has(json_object_get(g, "IpPermissionsEgress"), "-1", -1, "IpRanges", "CidrIp",
                      "0.0.0.0/0", NULL));
    cr_expect_eq(cli_count(json_object_get(g, "IpPermissionsEgress")), 1);
    json_decref(g);
    json_decref(again);

    /* drift: a rule revoked and one added outside plumb are put right, though before and
     * after agree (the executor passes what was last applied as before) */
    cr_assert_eq(test_aws_cli(&out,
                              "ec2 revoke-security-group-ingress --group-id %s --protocol udp "
                              "--port 53 --cidr 10.0.0.0/8",
                              group_id),
                 0);
    json_decref(out);
    cr_assert_eq(test_aws_cli(&out,
                              "ec2 authorize-security-group-ingress --group-id %s --protocol tcp "
                              "--port 22 --cidr 0.0.0.0/0",
                              group_id),
                 0);
    json_decref(out);
    json_decref(observed);
    cr_assert_eq(t->update(aws, id, after, after, &observed), 0, "%s", plumb_error_message());
    g = cli_describe(group_id);
    cr_expect(cli_has(json_object_get(g, "IpPermissions"), "udp", 53, "IpRanges", "CidrIp",
                      "10.0.0.0/8", NULL),
              "the revoked rule is back");
    cr_expect(!cli_has(json_object_get(g, "IpPermissions"), "tcp", 22, "IpRanges", "CidrIp",
                       "0.0.0.0/0", NULL),
              "the rule added outside plumb is gone");
    cr_expect_eq(cli_count(json_object_get(g, "IpPermissions")), 3);
    json_decref(g);

    /* lookup by name within the VPC */
    {
        json_t *found = NULL, *other = json_deep_copy(after);
        char *vpc2 = cli_create("create-vpc --cidr-block 10.61.0.0/16 --query Vpc", "VpcId");
        cr_assert_eq(t->lookup(aws, after, &found), 0, "%s", plumb_error_message());
        cr_expect(json_equal(found, id));
        json_decref(found);
        found = NULL;
        json_object_set_new(other, "VpcId", json_string(vpc2));
        cr_assert_eq(t->lookup(aws, other, &found), 0, "%s", plumb_error_message());
        cr_expect_null(found, "the same name in another VPC is another group");
        json_decref(other);
        free(vpc2);
    }

    /* other groups' rules that reference it: revoked before the delete, as AWS requires */
    cr_assert_eq(
        test_aws_cli(&out,
                     "ec2 authorize-security-group-ingress --group-id %s --ip-permissions "
                     "IpProtocol=tcp,FromPort=5432,ToPort=5432,UserIdGroupPairs=[{GroupId=%s}] "
                     "IpProtocol=tcp,FromPort=22,ToPort=22,IpRanges=[{CidrIp=10.0.0.0/8}]",
                     peer, group_id),
        0);
    json_decref(out);
    cr_assert_eq(
        test_aws_cli(&out,
                     "ec2 authorize-security-group-egress --group-id %s --ip-permissions "
                     "IpProtocol=tcp,FromPort=8080,ToPort=8080,UserIdGroupPairs=[{GroupId=%s}]",
                     peer, group_id),
        0);
    json_decref(out);
    cr_assert_eq(t->remove(aws, id, 0), 0, "%s", plumb_error_message());
    g = cli_describe(peer);
    cr_expect(!cli_has(json_object_get(g, "IpPermissions"), "tcp", 5432, "UserIdGroupPairs",
                       "GroupId", group_id, NULL),
              "the peer's ingress rule naming the group is revoked");
    cr_expect(!cli_has(json_object_get(g, "IpPermissionsEgress"), "tcp", 8080, "UserIdGroupPairs",
                       "GroupId", group_id, NULL),
              "the peer's egress rule naming the group is revoked");
    cr_expect(cli_has(json_object_get(g, "IpPermissions"), "tcp", 22, "IpRanges", "CidrIp",
                      "10.0.0.0/8", NULL),
              "the peer's other rules stay");
    json_decref(g);
    again = NULL;
    cr_assert_eq(t->read(aws, id, &again), 0);
    cr_expect_null(again);
    cr_expect_null(cli_describe(group_id), "the aws CLI no longer sees it");
    cr_expect_eq(t->remove(aws, id, 0), 0, "%s", plumb_error_message());

    json_decref(props);
    json_decref(after);
    json_decref(observed);
    json_decref(id);
    free(group_id);
    free(peer);
    plumb_aws_free(aws);
}

Test(driver_ec2_securitygroup, declared_egress_and_a_made_up_name)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *observed = NULL, *g, *found = NULL, *id;
    const char *name;

    /* all protocols written as -1 with ports: ports mean nothing for "-1" and are dropped */
    props =
        json_pack("{s:s, s:s, s:[{s:s, s:i, s:i, s:s}], s:[{s:s, s:s, s:s}],"
                  " s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}]}",
                  "GroupDescription", "db", "VpcId", vpc_id, "SecurityGroupIngress", "IpProtocol",
                  "tcp", "FromPort", 5432, "ToPort", 5432, "CidrIp", "10.60.0.0/16",
                  "SecurityGroupEgress", "IpProtocol", "-1", "CidrIp", "10.60.0.0/16",
                  "Description", "vpc-only", "Tags", "Key", "plumb:address", "Value", "db_sg",
                  "Key", "plumb:env", "Value", "stage", "Key", "plumb:project", "Value", "shop");
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    test_expect_props(props, observed);
    name = json_string_value(json_object_get(observed, "GroupName"));
    cr_assert_not_null(name);
    cr_expect(strncmp(name, "shop-stage-db_sg-", 17) == 0, "made-up name '%s'", name);

    g = cli_describe(json_string_value(json_object_get(observed, "Id")));
    cr_expect(cli_has(json_object_get(g, "IpPermissionsEgress"), "-1", -1, "IpRanges", "CidrIp",
                      "10.60.0.0/16", "vpc-only"));
    cr_expect_eq(cli_count(json_object_get(g, "IpPermissionsEgress")), 1,
                 "the allow-all rule is replaced by the declared one");
    json_decref(g);

    /* what the planner compares: the declaration in read's form ("6" is "tcp", "-1" has no
     * ports, an empty description is none) equals what was read */
    {
        json_t *decl =
            json_pack("{s:[{s:s, s:i, s:i, s:s, s:s}], s:[{s:i, s:i, s:i, s:s}]}",
                      "SecurityGroupIngress", "IpProtocol", "6", "FromPort", 5432, "ToPort", 5432,
                      "CidrIp", "10.60.0.0/16", "Description", "", "SecurityGroupEgress",
                      "IpProtocol", -1, "FromPort", -1, "ToPort", -1, "CidrIp", "10.60.0.0/16");
        json_t *n = t->normalize(decl), *want;
        expect_same_rules(json_object_get(observed, "SecurityGroupIngress"),
                          json_object_get(n, "SecurityGroupIngress"));
        want = json_pack("[{s:s, s:s}]", "IpProtocol", "-1", "CidrIp", "10.60.0.0/16");
        expect_same_rules(want, json_object_get(n, "SecurityGroupEgress"));
        json_decref(want);
        json_decref(n);
        /* an empty egress list means allow-all, as read reports a group left with it */
        json_object_set_new(decl, "SecurityGroupEgress", json_array());
        n = t->normalize(decl);
        want = json_pack("[{s:s, s:s}]", "IpProtocol", "-1", "CidrIp", "0.0.0.0/0");
        expect_same_rules(want, json_object_get(n, "SecurityGroupEgress"));
        json_decref(want);
        json_decref(n);
        json_decref(decl);
    }

    /* found again by its plumb tags */
    cr_assert_eq(t->lookup(aws, props, &found), 0, "%s", plumb_error_message());
    id = json_pack("{s:O}", "Id", json_object_get(observed, "Id"));
    cr_expect(json_equal(found, id));
    cr_assert_eq(t->remove(aws, id, 0), 0, "%s", plumb_error_message());
    json_decref(found);
    json_decref(id);
    json_decref(props);
    json_decref(observed);
    plumb_aws_free(aws);
}

Test(driver_ec2_securitygroup, read_many_in_one_call)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    char *a = cli_group("a"), *b = cli_group("b"), *c = cli_group("c");
    json_t *ids, *observed = NULL;
    unsigned long before;

    ids = json_pack("[{s:s}, {s:s}, {s:s}, {s:s}]", "Id", a, "Id", "sg-0123456789abcdef0", "Id", b,
                    "Id", c);
    before = plumb_aws_stats_calls(aws, "ec2");
    cr_assert_eq(t->read_many(aws, ids, NULL, &observed), 0, "%s", plumb_error_message());
    cr_assert_eq(json_array_size(observed), 4);
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(observed, 0), "Id")), a);
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(observed, 0), "GroupName")),
                     "a");
    cr_expect(json_is_null(json_array_get(observed, 1)), "a missing group reads as null");
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(observed, 2), "Id")), b);
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(observed, 3), "Id")), c);
    cr_expect_eq(plumb_aws_stats_calls(aws, "ec2") - before, 1,
                 "one DescribeSecurityGroups for all");
    json_decref(ids);
    json_decref(observed);
    free(a);
    free(b);
    free(c);
    plumb_aws_free(aws);
}

Test(driver_ec2_securitygroup, aws_errors_keep_their_code)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    char *taken = cli_group("taken");
    json_t *props, *observed = NULL, *out = NULL;

    props = json_pack("{s:s, s:s, s:s}", "GroupName", "taken", "GroupDescription", "x", "VpcId",
                      vpc_id);
    cr_expect_eq(t->create(aws, props, &observed), PLUMB_ECONFLICT);
    cr_expect(strstr(plumb_error_message(), "InvalidGroup.Duplicate") != NULL, "%s",
              plumb_error_message());
    cr_expect(strstr(plumb_error_message(), "request id") != NULL, "%s", plumb_error_message());
    json_decref(props);

    /* a rule AWS refuses: the error names it, and the group made for it is removed again */
    props = json_pack("{s:s, s:s, s:s, s:[{s:s, s:i, s:i, s:s}]}", "GroupName", "badrule",
                      "GroupDescription", "x", "VpcId", vpc_id, "SecurityGroupIngress",
                      "IpProtocol", "tcp", "FromPort", 80, "ToPort", 80, "CidrIp", "banana");
    cr_expect_eq(t->create(aws, props, &observed), PLUMB_EAWS);
    cr_expect(strstr(plumb_error_message(), "InvalidParameterValue") != NULL, "%s",
              plumb_error_message());
    cr_expect_null(observed);
    cr_assert_eq(
        test_aws_cli(&out, "ec2 describe-security-groups --filters Name=group-name,Values=badrule"),
        0);
    cr_expect_eq(json_array_size(json_object_get(out, "SecurityGroups")), 0,
                 "the half-made group is gone");
    json_decref(out);
    json_decref(props);

    /* a rule with two peers is refused before it reaches AWS, as CloudFormation does */
    props =
        json_pack("{s:s, s:s, s:s, s:[{s:s, s:i, s:i, s:s, s:s}]}", "GroupName", "twopeers",
                  "GroupDescription", "x", "VpcId", vpc_id, "SecurityGroupIngress", "IpProtocol",
                  "tcp", "FromPort", 80, "ToPort", 80, "CidrIp", "10.0.0.0/8", "CidrIpv6", "::/0");
    cr_expect_eq(t->create(aws, props, &observed), PLUMB_EINVALID);
    cr_expect(strstr(plumb_error_message(), "exactly one of") != NULL, "%s", plumb_error_message());
    cr_assert_eq(
        test_aws_cli(&out,
                     "ec2 describe-security-groups --filters Name=group-name,Values=twopeers"),
        0);
    cr_expect_eq(json_array_size(json_object_get(out, "SecurityGroups")), 0);
    json_decref(out);
    json_decref(props);
    free(taken);
    plumb_aws_free(aws);
}
