/*
 * AWS::ECR::Repository against moto with signature checking on; every outcome checked with
 * the aws CLI (or boto3) as well as the driver's own read.
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

TestSuite(driver_ecr_repository, .init = setup, .fini = teardown, .timeout = 180);

static const struct plumb_resource_type *driver(void)
{
    const struct plumb_resource_type *t = plumb_provider_find("AWS::ECR::Repository");
    cr_assert_not_null(t);
    return t;
}

#define LIFECYCLE_1                                                                                \
    "{\"rules\": [{\"rulePriority\": 1, \"description\": \"keep ten\", \"selection\": "            \
    "{\"tagStatus\": \"untagged\", \"countType\": \"imageCountMoreThan\", \"countNumber\": 10}, "  \
    "\"action\": {\"type\": \"expire\"}}]}"
#define LIFECYCLE_2                                                                                \
    "{\"rules\": [{\"rulePriority\": 1, \"description\": \"keep three\", \"selection\": "          \
    "{\"tagStatus\": \"any\", \"countType\": \"imageCountMoreThan\", \"countNumber\": 3}, "        \
    "\"action\": {\"type\": \"expire\"}}]}"

/* The repository as the aws CLI sees it, or NULL when the CLI says it does not exist. */
static json_t *cli_repo(const char *name)
{
    json_t *out = NULL, *r;

    if (test_aws_cli(&out, "ecr describe-repositories --repository-names '%s'", name) != 0)
        return NULL;
    r = json_incref(json_array_get(json_object_get(out, "repositories"), 0));
    json_decref(out);
    return r;
}

/* The tags the aws CLI sees, as a map. */
static json_t *cli_tags(const char *arn)
{
    json_t *out = NULL, *map = json_object(), *t;
    size_t i;

    cr_assert_eq(test_aws_cli(&out, "ecr list-tags-for-resource --resource-arn '%s'", arn), 0);
    json_array_foreach(json_object_get(out, "tags"), i, t) json_object_set(
        map, json_string_value(json_object_get(t, "Key")), json_object_get(t, "Value"));
    json_decref(out);
    return map;
}

static json_t *declared(void)
{
    return json_pack(
        "{s:s, s:s, s:{s:b}, s:{s:s}, s:{s:s}, s:{s:s, s:[{s:s, s:s, s:[s, s], s:{s:s}}]}, "
        "s:[{s:s, s:s}, {s:s, s:s}]}",
        "RepositoryName", "stage-cloudshop-backend", "ImageTagMutability", "MUTABLE",
        "ImageScanningConfiguration", "ScanOnPush", 1, "EncryptionConfiguration", "EncryptionType",
        "AES256", "LifecyclePolicy", "LifecyclePolicyText", LIFECYCLE_1, "RepositoryPolicyText",
        "Version", "2012-10-17", "Statement", "Sid", "pull", "Effect", "Allow", "Action",
        "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "Principal", "AWS",
        "arn:aws:iam::123456789012:root", "Tags", "Key", "plumb:env", "Value", "stage", "Key",
        "team", "Value", "shop");
}

Test(driver_ecr_repository, lifecycle)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props = declared(), *as_read = t->normalize(props), *after, *after_read;
    json_t *observed = NULL, *again = NULL, *id, *r, *out = NULL, *tags;
    char *arn;

    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    test_expect_props(as_read, observed);
    cr_assert(json_is_string(json_object_get(observed, "Arn")));
    arn = strdup(json_string_value(json_object_get(observed, "Arn")));
    cr_expect(strstr(json_string_value(json_object_get(observed, "RepositoryUri")),
                     "/stage-cloudshop-backend") != NULL);

    /* the aws CLI sees what was declared */
    r = cli_repo("stage-cloudshop-backend");
    cr_assert_not_null(r, "the aws CLI sees the repository");
    cr_expect(json_is_true(
        json_object_get(json_object_get(r, "imageScanningConfiguration"), "scanOnPush")));
    cr_expect_str_eq(json_string_value(json_object_get(r, "imageTagMutability")), "MUTABLE");
    json_decref(r);
    cr_assert_eq(
        test_aws_cli(&out, "ecr get-lifecycle-policy --repository-name stage-cloudshop-backend"),
        0);
    cr_expect(strstr(json_string_value(json_object_get(out, "lifecyclePolicyText")), "keep ten"));
    json_decref(out);
    cr_assert_eq(
        test_aws_cli(&out, "ecr get-repository-policy --repository-name stage-cloudshop-backend"),
        0);
    cr_expect(strstr(json_string_value(json_object_get(out, "policyText")), "ecr:BatchGetImage"));
    json_decref(out);
    tags = cli_tags(arn);
    cr_expect_str_eq(json_string_value(json_object_get(tags, "team")), "shop");
    cr_expect_str_eq(json_string_value(json_object_get(tags, "plumb:env")), "stage");
    json_decref(tags);

    id = json_pack("{s:s}", "RepositoryName", "stage-cloudshop-backend");
    cr_assert_eq(t->read(aws, id, &again), 0);
    test_expect_props(as_read, again);
    json_decref(again);

    /* update every property that changes in place; the repository policy goes */
    after = json_pack(
        "{s:s, s:s, s:[{s:s, s:s}], s:{s:b}, s:{s:s}, s:{s:s}, s:[{s:s, s:s}]}", "RepositoryName",
        "stage-cloudshop-backend", "ImageTagMutability", "IMMUTABLE_WITH_EXCLUSION",
        "ImageTagMutabilityExclusionFilters", "ImageTagMutabilityExclusionFilterType", "WILDCARD",
        "ImageTagMutabilityExclusionFilterValue", "latest*", "ImageScanningConfiguration",
        "ScanOnPush", 0, "EncryptionConfiguration", "EncryptionType", "AES256", "LifecyclePolicy",
        "LifecyclePolicyText", LIFECYCLE_2, "Tags", "Key", "owner", "Value", "ops");
    after_read = t->normalize(after);
    json_decref(observed);
    cr_assert_eq(t->update(aws, id, props, after, &observed), 0, "%s", plumb_error_message());
    test_expect_props(after_read, observed);
    cr_expect_null(json_object_get(observed, "RepositoryPolicyText"), "the policy is gone");

    r = cli_repo("stage-cloudshop-backend");
    cr_assert_not_null(r);
    cr_expect(json_is_false(
        json_object_get(json_object_get(r, "imageScanningConfiguration"), "scanOnPush")));
    cr_expect_str_eq(json_string_value(json_object_get(r, "imageTagMutability")),
                     "IMMUTABLE_WITH_EXCLUSION");
    cr_expect_str_eq(
        json_string_value(json_object_get(
            json_array_get(json_object_get(r, "imageTagMutabilityExclusionFilters"), 0), "filter")),
        "latest*");
    json_decref(r);
    cr_assert_eq(
        test_aws_cli(&out, "ecr get-lifecycle-policy --repository-name stage-cloudshop-backend"),
        0);
    cr_expect(strstr(json_string_value(json_object_get(out, "lifecyclePolicyText")), "keep three"));
    json_decref(out);
    out = NULL;
    cr_expect_neq(test_aws_cli(&out, "ecr get-repository-policy --repository-name "
                                     "stage-cloudshop-backend"),
                  0, "the CLI finds no repository policy");
    json_decref(out);
    tags = cli_tags(arn);
    cr_expect_str_eq(json_string_value(json_object_get(tags, "owner")), "ops");
    cr_expect_null(json_object_get(tags, "team"), "the removed tag is gone");
    cr_expect_null(json_object_get(tags, "plumb:env"), "the removed tag is gone");
    json_decref(tags);

    /* and back, without the lifecycle policy: it is removed, the policy set again */
    {
        json_t *back = json_deep_copy(props), *back_read;
        json_object_del(back, "LifecyclePolicy");
        back_read = t->normalize(back);
        json_decref(observed);
        cr_assert_eq(t->update(aws, id, after, back, &observed), 0, "%s", plumb_error_message());
        test_expect_props(back_read, observed);
        cr_expect_null(json_object_get(observed, "LifecyclePolicy"));
        json_decref(back);
        json_decref(back_read);
    }
    out = NULL;
    cr_expect_neq(test_aws_cli(&out, "ecr get-lifecycle-policy --repository-name "
                                     "stage-cloudshop-backend"),
                  0, "%s", "the CLI finds no lifecycle policy");
    json_decref(out);

    /* lookup finds it by name (adoption after a crash) */
    {
        json_t *found = NULL;
        cr_assert_eq(t->lookup(aws, after, &found), 0);
        cr_expect(json_equal(found, id));
        json_decref(found);
    }

    /* remove, then gone for the driver and the CLI; removing again is fine */
    cr_assert_eq(t->remove(aws, id, 0), 0, "%s", plumb_error_message());
    again = NULL;
    cr_assert_eq(t->read(aws, id, &again), 0);
    cr_expect_null(again);
    cr_expect_null(cli_repo("stage-cloudshop-backend"), "the CLI no longer sees it");
    cr_expect_eq(t->remove(aws, id, 0), 0, "%s", plumb_error_message());
    {
        json_t *found = NULL;
        cr_assert_eq(t->lookup(aws, after, &found), 0);
        cr_expect_null(found);
    }

    json_decref(props);
    json_decref(as_read);
    json_decref(after);
    json_decref(after_read);
    json_decref(observed);
    json_decref(id);
    free(arn);
    plumb_aws_free(aws);
}

/* A change made outside plumb is undone by an update, even when the declaration did not
 * change (the planner saw the drift; `before` does not show it). */
Test(driver_ecr_repository, update_undoes_drift)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *observed = NULL, *id, *out = NULL, *r;

    props = json_pack("{s:s, s:{s:b}, s:[{s:s, s:s}]}", "RepositoryName", "drifty",
                      "ImageScanningConfiguration", "ScanOnPush", 1, "Tags", "Key", "team", "Value",
                      "shop");
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    cr_assert_eq(test_aws_cli(&out, "ecr put-image-scanning-configuration --repository-name "
                                    "drifty --image-scanning-configuration scanOnPush=false"),
                 0);
    json_decref(out);
    cr_assert_eq(test_aws_cli(&out, "ecr put-image-tag-mutability --repository-name drifty "
                                    "--image-tag-mutability IMMUTABLE"),
                 0);
    json_decref(out);
    cr_assert_eq(test_aws_cli(&out, "ecr tag-resource --resource-arn '%s' --tags Key=extra,Value=x",
                              json_string_value(json_object_get(observed, "Arn"))),
                 0);
    json_decref(out);

    id = json_pack("{s:s}", "RepositoryName", "drifty");
    json_decref(observed);
    cr_assert_eq(t->update(aws, id, props, props, &observed), 0, "%s", plumb_error_message());
    test_expect_props(props, observed);
    r = cli_repo("drifty");
    cr_assert_not_null(r);
    cr_expect(json_is_true(
        json_object_get(json_object_get(r, "imageScanningConfiguration"), "scanOnPush")));
    /* ImageTagMutability left out: back to AWS's default */
    cr_expect_str_eq(json_string_value(json_object_get(r, "imageTagMutability")), "MUTABLE");
    json_decref(r);
    r = cli_tags(json_string_value(json_object_get(observed, "Arn")));
    cr_expect_null(json_object_get(r, "extra"), "a tag added outside plumb goes");
    json_decref(r);

    json_decref(props);
    json_decref(observed);
    json_decref(id);
    plumb_aws_free(aws);
}

/* A policy written another way (a lone Statement, a lone Action) compares equal. */
Test(driver_ecr_repository, policy_compares_as_json)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *observed = NULL, *as_read;

    props = json_pack("{s:s, s:{s:s, s:{s:s, s:s, s:s, s:s}}}", "RepositoryName", "policied",
                      "RepositoryPolicyText", "Version", "2012-10-17", "Statement", "Sid", "all",
                      "Effect", "Allow", "Principal", "*", "Action", "ecr:BatchGetImage");
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    as_read = t->normalize(props);
    cr_expect(json_equal(json_object_get(as_read, "RepositoryPolicyText"),
                         json_object_get(observed, "RepositoryPolicyText")),
              "declared and read policies compare equal");
    cr_expect(json_is_array(json_object_get(
        json_array_get(
            json_object_get(json_object_get(observed, "RepositoryPolicyText"), "Statement"), 0),
        "Action")));
    json_decref(as_read);
    json_decref(props);
    json_decref(observed);
    plumb_aws_free(aws);
}

static void push_image(const char *repo)
{
    char code[1024];
    json_t *out = NULL;

    snprintf(code, sizeof(code),
             "import json\n"
             "m = {'schemaVersion': 2, 'mediaType': "
             "'application/vnd.docker.distribution.manifest.v2+json', 'config': {'mediaType': "
             "'application/vnd.docker.container.image.v1+json', 'size': 7023, 'digest': "
             "'sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7'}, "
             "'layers': []}\n"
             "r = c('ecr').put_image(repositoryName='%s', imageManifest=json.dumps(m), "
             "imageTag='v1')\n"
             "print(json.dumps(r['image']['imageId']))\n",
             repo);
    cr_assert_eq(test_boto3(&out, code), 0);
    json_decref(out);
}

Test(driver_ecr_repository, remove_with_images_needs_force)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *observed = NULL, *id, *r;

    props = json_pack("{s:s}", "RepositoryName", "full");
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    push_image("full");
    id = json_pack("{s:s}", "RepositoryName", "full");

    cr_expect_lt(t->remove(aws, id, 0), 0, "a repository with images stays");
    cr_expect(strstr(plumb_error_message(), "RepositoryNotEmptyException") != NULL, "%s",
              plumb_error_message());
    cr_expect(strstr(plumb_error_message(), "force_destroy") != NULL, "%s", plumb_error_message());
    r = cli_repo("full");
    cr_expect_not_null(r, "the CLI still sees it");
    json_decref(r);

    cr_assert_eq(t->remove(aws, id, PLUMB_REMOVE_FORCE), 0, "%s", plumb_error_message());
    cr_expect_null(cli_repo("full"), "forced: gone with its images");

    json_decref(props);
    json_decref(observed);
    json_decref(id);
    plumb_aws_free(aws);
}

Test(driver_ecr_repository, read_many_batches_describes)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *ids, *observed = NULL, *made = NULL;
    unsigned long before;
    int i;

    for (i = 0; i < 4; i++) {
        cr_assert_eq(test_aws_cli(&made, "ecr create-repository --repository-name repo-%d", i), 0);
        json_decref(made);
    }
    cr_assert_eq(test_aws_cli(&made,
                              "ecr put-lifecycle-policy --repository-name repo-2 "
                              "--lifecycle-policy-text '%s'",
                              LIFECYCLE_1),
                 0);
    json_decref(made);

    /* all there: one DescribeRepositories for the four, then 3 calls each (lifecycle
     * policy, repository policy, tags: ECR has no batch form of those) */
    ids = json_pack("[{s:s}, {s:s}, {s:s}, {s:s}]", "RepositoryName", "repo-0", "RepositoryName",
                    "repo-1", "RepositoryName", "repo-2", "RepositoryName", "repo-3");
    before = plumb_aws_stats_calls(aws, "ecr");
    cr_assert_eq(t->read_many(aws, ids, NULL, &observed), 0, "%s", plumb_error_message());
    cr_expect_eq(plumb_aws_stats_calls(aws, "ecr") - before, 1 + 3 * 4);
    cr_assert_eq(json_array_size(observed), 4);
    for (i = 0; i < 4; i++) {
        char name[16];
        snprintf(name, sizeof(name), "repo-%d", i);
        cr_expect_str_eq(json_string_value(json_object_get(json_array_get(observed, (size_t)i),
                                                           "RepositoryName")),
                         name);
    }
    {
        /* read reports the text as normalize puts the declared one */
        json_t *lp = json_pack("{s:{s:s}}", "LifecyclePolicy", "LifecyclePolicyText", LIFECYCLE_1);
        json_t *lp_read = t->normalize(lp);
        test_expect_props(lp_read, json_array_get(observed, 2));
        json_decref(lp);
        json_decref(lp_read);
    }
    json_decref(ids);
    json_decref(observed);

    /* one missing: that DescribeRepositories fails whole (RepositoryNotFoundException), and
     * one listing of the registry answers instead */
    ids = json_pack("[{s:s}, {s:s}, {s:s}]", "RepositoryName", "repo-1", "RepositoryName",
                    "missing", "RepositoryName", "repo-3");
    before = plumb_aws_stats_calls(aws, "ecr");
    cr_assert_eq(t->read_many(aws, ids, NULL, &observed), 0, "%s", plumb_error_message());
    cr_assert_eq(json_array_size(observed), 3);
    cr_expect_str_eq(
        json_string_value(json_object_get(json_array_get(observed, 0), "RepositoryName")),
        "repo-1");
    cr_expect(json_is_null(json_array_get(observed, 1)), "a missing repository reads as null");
    cr_expect_str_eq(
        json_string_value(json_object_get(json_array_get(observed, 2), "RepositoryName")),
        "repo-3");
    cr_expect_eq(plumb_aws_stats_calls(aws, "ecr") - before, 2 + 3 * 2);
    json_decref(ids);
    json_decref(observed);
    plumb_aws_free(aws);
}

/* Policies deleted outside plumb: null when wanted (declared), so the plan sees them gone
 * rather than take the ones last applied; a whole read (import) leaves them out. */
Test(driver_ecr_repository, policies_deleted_outside_read_as_null)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *ids, *wanted, *observed = NULL, *made = NULL, *o;

    cr_assert_eq(test_aws_cli(&made, "ecr create-repository --repository-name gone-policies"), 0);
    json_decref(made);
    cr_assert_eq(test_aws_cli(&made,
                              "ecr put-lifecycle-policy --repository-name gone-policies "
                              "--lifecycle-policy-text '%s'",
                              LIFECYCLE_1),
                 0);
    json_decref(made);
    cr_assert_eq(test_aws_cli(&made, "ecr set-repository-policy --repository-name gone-policies "
                                     "--policy-text '{\"Version\": \"2012-10-17\", \"Statement\": "
                                     "[{\"Effect\": \"Allow\", \"Principal\": {\"AWS\": "
                                     "\"arn:aws:iam::123456789012:root\"}, \"Action\": "
                                     "\"ecr:BatchGetImage\"}]}'"),
                 0);
    json_decref(made);
    ids = json_pack("[{s:s}]", "RepositoryName", "gone-policies");
    wanted = json_pack("{s:b, s:b}", "LifecyclePolicy", 1, "RepositoryPolicyText", 1);
    cr_assert_eq(t->read_many(aws, ids, wanted, &observed), 0, "%s", plumb_error_message());
    o = json_array_get(observed, 0);
    cr_expect(json_is_object(json_object_get(o, "LifecyclePolicy")), "set: read as it is");
    cr_expect(json_is_object(json_object_get(o, "RepositoryPolicyText")), "set: read as it is");
    json_decref(observed);
    observed = NULL;

    cr_assert_eq(test_aws_cli(&made, "ecr delete-lifecycle-policy --repository-name gone-policies"),
                 0);
    json_decref(made);
    cr_assert_eq(
        test_aws_cli(&made, "ecr delete-repository-policy --repository-name gone-policies"), 0);
    json_decref(made);
    cr_assert_eq(t->read_many(aws, ids, wanted, &observed), 0, "%s", plumb_error_message());
    o = json_array_get(observed, 0);
    cr_expect(json_is_null(json_object_get(o, "LifecyclePolicy")));
    cr_expect(json_is_null(json_object_get(o, "RepositoryPolicyText")));
    cr_expect_null(json_object_get(o, "Tags"), "not wanted: not read");
    json_decref(observed);
    observed = NULL;

    cr_assert_eq(t->read_many(aws, ids, NULL, &observed), 0, "%s", plumb_error_message());
    o = json_array_get(observed, 0);
    cr_expect_str_eq(json_string_value(json_object_get(o, "RepositoryName")), "gone-policies");
    cr_expect_null(json_object_get(o, "LifecyclePolicy"));
    cr_expect_null(json_object_get(o, "RepositoryPolicyText"));
    json_decref(ids);
    json_decref(wanted);
    json_decref(observed);
    plumb_aws_free(aws);
}

Test(driver_ecr_repository, aws_errors_keep_their_code)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *observed = NULL, *made = NULL;

    cr_assert_eq(test_aws_cli(&made, "ecr create-repository --repository-name taken"), 0);
    json_decref(made);
    props = json_pack("{s:s}", "RepositoryName", "taken");
    cr_expect_eq(t->create(aws, props, &observed), PLUMB_ECONFLICT);
    cr_expect(strstr(plumb_error_message(), "RepositoryAlreadyExistsException") != NULL, "%s",
              plumb_error_message());
    cr_expect(strstr(plumb_error_message(), "request id") != NULL, "%s", plumb_error_message());
    json_decref(props);

    /* a policy AWS refuses: the error names it, and the repository made first is gone */
    props = json_pack("{s:s, s:{s:s, s:[{s:s}]}}", "RepositoryName", "half-made",
                      "RepositoryPolicyText", "Version", "2012-10-17", "Statement", "Effect",
                      "Sometimes");
    cr_expect_lt(t->create(aws, props, &observed), 0);
    cr_expect_null(observed);
    cr_expect(strstr(plumb_error_message(), "InvalidParameterException") != NULL, "%s",
              plumb_error_message());
    cr_expect_null(cli_repo("half-made"), "the repository made before the failure is removed");
    json_decref(props);
    plumb_aws_free(aws);
}
