/*
 * AWS::IAM::Role against moto with signature checking on (and AWS managed policies loaded);
 * every outcome checked with the aws CLI as well as the driver's own read.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "helpers/driver.h"
#include "helpers/moto.h"
#include "provider/provider.h"
#include "provider/util.h"
#include "util/error.h"

#define ECS_EXEC      "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
#define APPRUNNER_ECR "arn:aws:iam::aws:policy/service-role/AWSAppRunnerServicePolicyForECRAccess"
#define BOUNDARY      "arn:aws:iam::aws:policy/PowerUserAccess"

static struct test_moto moto;

static void setup(void)
{
    cr_assert_eq(test_moto_start(&moto, 1), 0);
}

static void teardown(void)
{
    test_moto_stop(&moto);
}

TestSuite(driver_iam_role, .init = setup, .fini = teardown, .timeout = 180);

static const struct plumb_resource_type *driver(void)
{
    const struct plumb_resource_type *t = plumb_provider_find("AWS::IAM::Role");
    cr_assert_not_null(t);
    return t;
}

static json_t *trust(const char *service)
{
    return json_pack("{s:s, s:[{s:s, s:{s:s}, s:s}]}", "Version", "2012-10-17", "Statement",
                     "Effect", "Allow", "Principal", "Service", service, "Action",
                     "sts:AssumeRole");
}

static json_t *allow(const char *action, const char *resource)
{
    return json_pack("{s:s, s:{s:s, s:s, s:s}}", "Version", "2012-10-17", "Statement", "Effect",
                     "Allow", "Action", action, "Resource", resource);
}

/* The declared properties as a read must report them: through the driver's normalize, whose
 * documents must be those plumb_provider_policy_normalize makes. */
static json_t *expected(const json_t *props)
{
    json_t *e = driver()->normalize(props), *doc, *p;
    size_t i;

    doc = plumb_provider_policy_normalize(json_object_get(props, "AssumeRolePolicyDocument"));
    cr_expect(json_equal(json_object_get(e, "AssumeRolePolicyDocument"), doc));
    json_decref(doc);
    json_array_foreach(json_object_get(props, "Policies"), i, p)
    {
        doc = plumb_provider_policy_normalize(json_object_get(p, "PolicyDocument"));
        cr_expect(json_equal(
            json_object_get(json_array_get(json_object_get(e, "Policies"), i), "PolicyDocument"),
            doc));
        json_decref(doc);
    }
    return e;
}

static json_t *cli_role(const char *name)
{
    json_t *out = NULL, *role;

    if (test_aws_cli(&out, "iam get-role --role-name '%s' 2>/dev/null", name) != 0) {
        json_decref(out);
        return NULL;
    }
    role = json_incref(json_object_get(out, "Role"));
    json_decref(out);
    return role;
}

/* The managed policy ARNs attached, as the CLI lists them, joined by spaces. */
static char *cli_attached(const char *name)
{
    json_t *out = NULL, *p;
    size_t i;
    char *s = calloc(1, 4096);

    cr_assert_eq(test_aws_cli(&out, "iam list-attached-role-policies --role-name '%s'", name), 0);
    json_array_foreach(json_object_get(out, "AttachedPolicies"), i, p)
    {
        if (i)
            strcat(s, " ");
        strncat(s, json_string_value(json_object_get(p, "PolicyArn")), 4000 - strlen(s));
    }
    json_decref(out);
    return s;
}

/* The inline policy document as the CLI decodes it, normalised. */
static json_t *cli_inline(const char *name, const char *policy)
{
    json_t *out = NULL, *doc;

    if (test_aws_cli(&out, "iam get-role-policy --role-name '%s' --policy-name '%s' 2>/dev/null",
                     name, policy) != 0) {
        json_decref(out);
        return NULL;
    }
    doc = plumb_provider_policy_normalize(json_object_get(out, "PolicyDocument"));
    json_decref(out);
    return doc;
}

static json_t *cli_tags(const char *name)
{
    json_t *out = NULL, *map;

    cr_assert_eq(test_aws_cli(&out, "iam list-role-tags --role-name '%s'", name), 0);
    map = plumb_provider_tags_to_map(json_object_get(out, "Tags"));
    json_decref(out);
    return map;
}

static const char *str_at(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

Test(driver_iam_role, lifecycle)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *after, *after2, *want, *observed = NULL, *again = NULL, *id, *role, *doc, *tags;
    json_t *made = NULL, *found = NULL;
    char *arns;

    props = json_pack(
        "{s:s, s:s, s:s, s:i, s:o, s:[s], s:[{s:s, s:o}], s:[{s:s, s:s}, {s:s, s:s}]}", "RoleName",
        "stage-task-exec", "Path", "/service/", "Description", "task-execution",
        "MaxSessionDuration", 7200, "AssumeRolePolicyDocument", trust("ecs-tasks.amazonaws.com"),
        "ManagedPolicyArns", ECS_EXEC, "Policies", "PolicyName", "read-secret", "PolicyDocument",
        allow("secretsmanager:GetSecretValue", "*"), "Tags", "Key", "plumb:env", "Value", "stage",
        "Key", "team", "Value", "shop");
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    want = expected(props);
    test_expect_props(want, observed);
    json_decref(want);
    cr_expect_str_eq(str_at(observed, "Arn"),
                     "arn:aws:iam::123456789012:role/service/stage-task-exec");
    cr_expect(json_is_string(json_object_get(observed, "RoleId")));

    /* the CLI sees the same role */
    role = cli_role("stage-task-exec");
    cr_assert_not_null(role, "the aws CLI sees the role");
    cr_expect_str_eq(str_at(role, "Description"), "task-execution");
    cr_expect_eq(json_integer_value(json_object_get(role, "MaxSessionDuration")), 7200);
    cr_expect_str_eq(str_at(role, "Path"), "/service/");
    doc = plumb_provider_policy_normalize(json_object_get(role, "AssumeRolePolicyDocument"));
    cr_expect(json_equal(doc, json_object_get(observed, "AssumeRolePolicyDocument")));
    json_decref(doc);
    json_decref(role);
    arns = cli_attached("stage-task-exec");
    cr_expect_str_eq(arns, ECS_EXEC);
    free(arns);
    doc = cli_inline("stage-task-exec", "read-secret");
    cr_expect_not_null(doc, "the inline policy is there");
    json_decref(doc);
    tags = cli_tags("stage-task-exec");
    cr_expect_str_eq(str_at(tags, "team"), "shop");
    cr_expect_str_eq(str_at(tags, "plumb:env"), "stage");
    json_decref(tags);

    id = json_pack("{s:s}", "RoleName", "stage-task-exec");
    cr_assert_eq(t->read(aws, id, &again), 0, "%s", plumb_error_message());
    cr_expect(json_equal(again, observed), "read agrees with create");
    json_decref(again);

    /* update every updatable property */
    after = json_pack(
        "{s:s, s:s, s:s, s:i, s:o, s:[s], s:[{s:s, s:o}, {s:s, s:o}], s:s, s:[{s:s, s:s}, {s:s, "
        "s:s}]}",
        "RoleName", "stage-task-exec", "Path", "/service/", "Description", "app-runner-access",
        "MaxSessionDuration", 3600, "AssumeRolePolicyDocument",
        trust("build.apprunner.amazonaws.com"), "ManagedPolicyArns", APPRUNNER_ECR, "Policies",
        "PolicyName", "logs", "PolicyDocument", allow("logs:PutLogEvents", "*"), "PolicyName",
        "read-secret", "PolicyDocument",
        allow("secretsmanager:GetSecretValue",
              "arn:aws:secretsmanager:us-east-1:123456789012:secret:astro-ai/prod-*"),
        "PermissionsBoundary", BOUNDARY, "Tags", "Key", "owner", "Value", "ai", "Key", "plumb:env",
        "Value", "stage");
    cr_assert_eq(t->update(aws, id, observed, after, &again), 0, "%s", plumb_error_message());
    want = expected(after);
    test_expect_props(want, again);
    json_decref(want);
    role = cli_role("stage-task-exec");
    cr_assert_not_null(role);
    cr_expect_str_eq(str_at(role, "Description"), "app-runner-access");
    cr_expect_eq(json_integer_value(json_object_get(role, "MaxSessionDuration")), 3600);
    cr_expect_str_eq(str_at(json_object_get(role, "PermissionsBoundary"), "PermissionsBoundaryArn"),
                     BOUNDARY);
    doc = plumb_provider_policy_normalize(json_object_get(role, "AssumeRolePolicyDocument"));
    want = plumb_provider_policy_normalize(json_object_get(after, "AssumeRolePolicyDocument"));
    cr_expect(json_equal(doc, want), "the trust policy changed");
    json_decref(doc);
    json_decref(want);
    json_decref(role);
    arns = cli_attached("stage-task-exec");
    cr_expect_str_eq(arns, APPRUNNER_ECR, "attached by difference");
    free(arns);
    doc = cli_inline("stage-task-exec", "read-secret");
    want = plumb_provider_policy_normalize(
        json_object_get(json_array_get(json_object_get(after, "Policies"), 1), "PolicyDocument"));
    cr_expect(json_equal(doc, want), "the inline policy was put again");
    json_decref(doc);
    json_decref(want);
    doc = cli_inline("stage-task-exec", "logs");
    cr_expect_not_null(doc, "the new inline policy is there");
    json_decref(doc);
    tags = cli_tags("stage-task-exec");
    cr_expect_str_eq(str_at(tags, "owner"), "ai");
    cr_expect_null(json_object_get(tags, "team"), "the removed tag is gone");
    json_decref(tags);

    /* and back: no boundary, no description, one inline policy less */
    after2 = json_deep_copy(after);
    json_object_del(after2, "PermissionsBoundary");
    json_object_del(after2, "Description");
    json_array_remove(json_object_get(after2, "Policies"), 0);
    json_decref(observed);
    observed = again;
    again = NULL;
    cr_assert_eq(t->update(aws, id, observed, after2, &again), 0, "%s", plumb_error_message());
    cr_expect_null(json_object_get(again, "PermissionsBoundary"));
    cr_expect_null(json_object_get(again, "Description"));
    role = cli_role("stage-task-exec");
    cr_expect_null(json_object_get(role, "PermissionsBoundary"), "the boundary is gone");
    cr_expect(json_string_length(json_object_get(role, "Description")) == 0);
    cr_expect_eq(json_integer_value(json_object_get(role, "MaxSessionDuration")), 3600);
    json_decref(role);
    doc = cli_inline("stage-task-exec", "logs");
    cr_expect_null(doc, "the dropped inline policy is deleted");
    json_decref(doc);

    /* lookup finds it by name */
    cr_assert_eq(t->lookup(aws, after2, &found), 0, "%s", plumb_error_message());
    cr_expect(json_equal(found, id));
    json_decref(found);

    /* remove takes it out of its instance profile and detaches its policies first */
    cr_assert_eq(test_aws_cli(&made, "iam create-instance-profile --instance-profile-name ip"), 0);
    json_decref(made);
    cr_assert_eq(test_aws_cli(&made, "iam add-role-to-instance-profile --instance-profile-name ip "
                                     "--role-name stage-task-exec"),
                 0);
    json_decref(made);
    cr_assert_eq(t->remove(aws, id, 0), 0, "%s", plumb_error_message());
    json_decref(again);
    again = NULL;
    cr_assert_eq(t->read(aws, id, &again), 0);
    cr_expect_null(again);
    cr_expect_null(cli_role("stage-task-exec"), "the CLI agrees it is gone");
    cr_assert_eq(test_aws_cli(&made, "iam get-instance-profile --instance-profile-name ip"), 0);
    cr_expect_eq(
        json_array_size(json_object_get(json_object_get(made, "InstanceProfile"), "Roles")), 0);
    json_decref(made);
    cr_expect_eq(t->remove(aws, id, 0), 0, "removing again is fine: %s", plumb_error_message());

    json_decref(props);
    json_decref(after);
    json_decref(after2);
    json_decref(observed);
    json_decref(id);
    plumb_aws_free(aws);
}

Test(driver_iam_role, failed_attachment_leaves_nothing_behind)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *observed = NULL, *role;

    props = json_pack("{s:s, s:o, s:[s, s], s:[{s:s, s:o}]}", "RoleName", "half-made",
                      "AssumeRolePolicyDocument", trust("ecs-tasks.amazonaws.com"),
                      "ManagedPolicyArns", ECS_EXEC, "arn:aws:iam::aws:policy/DoesNotExist",
                      "Policies", "PolicyName", "p", "PolicyDocument", allow("s3:GetObject", "*"));
    cr_expect_eq(t->create(aws, props, &observed), PLUMB_ENOTFOUND);
    cr_expect(strstr(plumb_error_message(), "NoSuchEntity") != NULL, "%s", plumb_error_message());
    cr_expect(strstr(plumb_error_message(), "request id") != NULL, "%s", plumb_error_message());
    cr_expect_null(observed);
    role = cli_role("half-made");
    cr_expect_null(role, "the role was deleted again");
    json_decref(role);
    json_decref(props);

    /* an inline policy AWS refuses, after one it took and a managed policy attached */
    props = json_pack("{s:s, s:o, s:[s], s:[{s:s, s:o}, {s:s, s:{s:s, s:[{s:s}]}}]}", "RoleName",
                      "half-made", "AssumeRolePolicyDocument", trust("ecs-tasks.amazonaws.com"),
                      "ManagedPolicyArns", ECS_EXEC, "Policies", "PolicyName", "good",
                      "PolicyDocument", allow("s3:GetObject", "*"), "PolicyName", "bad",
                      "PolicyDocument", "Version", "2012-10-17", "Statement", "Effect", "Allow");
    cr_expect_lt(t->create(aws, props, &observed), 0);
    cr_expect(strstr(plumb_error_message(), "MalformedPolicyDocument") != NULL, "%s",
              plumb_error_message());
    cr_expect_null(observed);
    role = cli_role("half-made");
    cr_expect_null(role, "the role was deleted again, its policies first");
    json_decref(role);
    json_decref(props);
    plumb_aws_free(aws);
}

Test(driver_iam_role, read_many_in_two_listings)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *a, *b, *oa = NULL, *ob = NULL, *ids, *observed = NULL, *one = NULL;
    unsigned long before;

    a = json_pack("{s:s, s:o, s:[s], s:[{s:s, s:o}], s:[{s:s, s:s}]}", "RoleName", "role-a",
                  "AssumeRolePolicyDocument", trust("ecs-tasks.amazonaws.com"), "ManagedPolicyArns",
                  ECS_EXEC, "Policies", "PolicyName", "p", "PolicyDocument",
                  allow("s3:GetObject", "*"), "Tags", "Key", "plumb:env", "Value", "prod");
    b = json_pack("{s:s, s:o, s:s, s:i}", "RoleName", "role-b", "AssumeRolePolicyDocument",
                  trust("tasks.apprunner.amazonaws.com"), "Description", "instance-role",
                  "MaxSessionDuration", 7200);
    cr_assert_eq(t->create(aws, a, &oa), 0, "%s", plumb_error_message());
    cr_assert_eq(t->create(aws, b, &ob), 0, "%s", plumb_error_message());

    ids = json_pack("[{s:s}, {s:s}, {s:s}]", "RoleName", "role-a", "RoleName", "missing",
                    "RoleName", "role-b");
    before = plumb_aws_stats_calls(aws, "iam");
    cr_assert_eq(t->read_many(aws, ids, NULL, &observed), 0, "%s", plumb_error_message());
    /* GetAccountAuthorizationDetails and ListRoles, one page each, for any number of roles;
     * a read costs at least three */
    cr_expect_eq(plumb_aws_stats_calls(aws, "iam") - before, 2);
    cr_assert_eq(json_array_size(observed), 3);
    cr_expect(json_equal(json_array_get(observed, 0), oa), "the batch reads what read reads");
    cr_expect(json_is_null(json_array_get(observed, 1)), "a missing role reads as null");
    cr_expect(json_equal(json_array_get(observed, 2), ob), "the batch reads what read reads");

    /* refresh's `wanted` without Description and MaxSessionDuration: no ListRoles, and one
     * role with its managed policies is one call, not GetRole and ListAttachedRolePolicies */
    {
        json_t *wanted = json_pack("{s:b, s:b}", "RoleName", 1, "ManagedPolicyArns", 1);
        json_t *first = json_pack("[O]", json_array_get(ids, 0)), *got = NULL, *want;
        before = plumb_aws_stats_calls(aws, "iam");
        cr_assert_eq(t->read_many(aws, first, wanted, &got), 0, "%s", plumb_error_message());
        cr_expect_eq(plumb_aws_stats_calls(aws, "iam") - before, 1);
        want = json_copy(oa);
        json_object_del(want, "MaxSessionDuration"); /* left unread: stays as last applied */
        cr_expect(json_equal(json_array_get(got, 0), want), "the same but for the unread");
        json_decref(want);
        json_decref(got);
        json_decref(first);
        json_decref(wanted);
    }

    /* without the right to the account-wide listing, one read each */
    cr_assert_eq(test_aws_cli(&one, "iam create-user --user-name narrow"), 0);
    json_decref(one);
    cr_assert_eq(test_aws_cli(&one, "iam put-user-policy --user-name narrow --policy-name p "
                                    "--policy-document '{\"Version\": \"2012-10-17\", "
                                    "\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\", "
                                    "\"Resource\": \"*\"}, {\"Effect\": \"Deny\", \"Action\": "
                                    "\"iam:GetAccountAuthorizationDetails\", \"Resource\": "
                                    "\"*\"}]}'"),
                 0);
    json_decref(one);
    cr_assert_eq(test_aws_cli(&one, "iam create-access-key --user-name narrow"), 0);
    setenv("AWS_ACCESS_KEY_ID",
           json_string_value(json_object_get(json_object_get(one, "AccessKey"), "AccessKeyId")), 1);
    setenv("AWS_SECRET_ACCESS_KEY",
           json_string_value(json_object_get(json_object_get(one, "AccessKey"), "SecretAccessKey")),
           1);
    json_decref(one);
    {
        struct plumb_aws *narrow = test_moto_client();
        json_t *got = NULL;
        cr_assert_eq(t->read_many(narrow, ids, NULL, &got), 0, "%s", plumb_error_message());
        cr_expect(json_equal(got, observed), "the fallback reads the same");
        json_decref(got);
        plumb_aws_free(narrow);
    }

    json_decref(a);
    json_decref(b);
    json_decref(oa);
    json_decref(ob);
    json_decref(ids);
    json_decref(observed);
    plumb_aws_free(aws);
}

/* A description and a permissions boundary removed outside plumb: "" and null when wanted
 * (declared), so the plan sees them gone rather than take the values last applied, through
 * GetRole (one role) and through the account-wide listings (two); a whole read (import)
 * leaves them out. */
Test(driver_iam_role, settings_removed_outside_read_as_not_set)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *made = NULL, *ids, *one, *wanted, *observed = NULL, *o;
    const char *names[] = {"unset-a", "unset-b"};
    size_t i, n;

    for (i = 0; i < 2; i++) {
        props = json_pack("{s:s, s:o, s:s, s:s}", "RoleName", names[i], "AssumeRolePolicyDocument",
                          trust("ecs-tasks.amazonaws.com"), "Description", "kept",
                          "PermissionsBoundary", BOUNDARY);
        cr_assert_eq(t->create(aws, props, &made), 0, "%s", plumb_error_message());
        json_decref(made);
        made = NULL;
        json_decref(props);
    }
    ids = json_pack("[{s:s}, {s:s}]", "RoleName", names[0], "RoleName", names[1]);
    one = json_pack("[O]", json_array_get(ids, 0));
    wanted = json_pack("{s:b, s:b}", "Description", 1, "PermissionsBoundary", 1);
    cr_assert_eq(t->read_many(aws, ids, wanted, &observed), 0, "%s", plumb_error_message());
    json_array_foreach(observed, i, o)
    {
        cr_expect_str_eq(json_string_value(json_object_get(o, "Description")), "kept");
        cr_expect_str_eq(json_string_value(json_object_get(o, "PermissionsBoundary")), BOUNDARY);
    }
    json_decref(observed);
    observed = NULL;

    for (i = 0; i < 2; i++) {
        cr_assert_eq(
            test_aws_cli(&made, "iam update-role --role-name %s --description ''", names[i]), 0);
        json_decref(made);
        cr_assert_eq(
            test_aws_cli(&made, "iam delete-role-permissions-boundary --role-name %s", names[i]),
            0);
        json_decref(made);
    }
    for (n = 1; n <= 2; n++) {
        json_t *which = n == 1 ? one : ids;
        cr_assert_eq(t->read_many(aws, which, wanted, &observed), 0, "%s", plumb_error_message());
        cr_assert_eq(json_array_size(observed), n);
        json_array_foreach(observed, i, o)
        {
            cr_expect_str_eq(json_string_value(json_object_get(o, "Description")), "",
                             "%zu role(s): IAM's own form of none", n);
            cr_expect(json_is_null(json_object_get(o, "PermissionsBoundary")), "%zu role(s)", n);
        }
        json_decref(observed);
        observed = NULL;
        cr_assert_eq(t->read_many(aws, which, NULL, &observed), 0, "%s", plumb_error_message());
        json_array_foreach(observed, i, o)
        {
            cr_expect_null(json_object_get(o, "Description"), "%zu role(s), import", n);
            cr_expect_null(json_object_get(o, "PermissionsBoundary"), "%zu role(s), import", n);
        }
        json_decref(observed);
        observed = NULL;
    }
    json_decref(ids);
    json_decref(one);
    json_decref(wanted);
    plumb_aws_free(aws);
}

Test(driver_iam_role, aws_errors_keep_their_code)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *observed = NULL, *made = NULL, *role;

    cr_assert_eq(test_aws_cli(&made, "iam create-role --role-name taken --description theirs "
                                     "--assume-role-policy-document '{\"Version\": \"2012-10-17\", "
                                     "\"Statement\": []}'"),
                 0);
    json_decref(made);
    props = json_pack("{s:s, s:o}", "RoleName", "taken", "AssumeRolePolicyDocument",
                      trust("ecs-tasks.amazonaws.com"));
    cr_expect_eq(t->create(aws, props, &observed), PLUMB_ECONFLICT);
    cr_expect(strstr(plumb_error_message(), "EntityAlreadyExists") != NULL, "%s",
              plumb_error_message());
    /* the failed create did not remove what was there */
    role = cli_role("taken");
    cr_expect_not_null(role);
    cr_expect_str_eq(str_at(role, "Description"), "theirs");
    json_decref(role);
    json_decref(props);
    plumb_aws_free(aws);
}

Test(driver_iam_role, unnamed_role_is_named_after_its_address)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *observed = NULL, *found = NULL, *role;
    const char *name;

    props =
        json_pack("{s:o, s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}]}", "AssumeRolePolicyDocument",
                  trust("tasks.apprunner.amazonaws.com"), "Tags", "Key", "plumb:project", "Value",
                  "astro-ai", "Key", "plumb:env", "Value", "prod", "Key", "plumb:address", "Value",
                  "module.service.instance_role_with_a_name_long_enough_to_be_cut");
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    name = str_at(observed, "RoleName");
    cr_assert_not_null(name);
    cr_expect_leq(strlen(name), 64);
    cr_expect(strncmp(name, "astro-ai-prod-module.service.", 29) == 0, "%s", name);
    role = cli_role(name);
    cr_expect_not_null(role, "the CLI sees '%s'", name);
    json_decref(role);
    cr_assert_eq(t->lookup(aws, props, &found), 0, "%s", plumb_error_message());
    cr_expect_str_eq(str_at(found, "RoleName"), name, "an interrupted apply finds it again");
    json_decref(found);
    json_decref(props);
    json_decref(observed);
    plumb_aws_free(aws);
}
