/*
 * AWS::SecretsManager::Secret against moto with signature checking on; every outcome
 * checked with the aws CLI as well as the driver's own read. The value is write-only: the
 * CLI reads it, the driver never reports it.
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

TestSuite(driver_secretsmanager_secret, .init = setup, .fini = teardown, .timeout = 180);

static const struct plumb_resource_type *driver(void)
{
    const struct plumb_resource_type *t = plumb_provider_find("AWS::SecretsManager::Secret");
    cr_assert_not_null(t);
    return t;
}

/* describe-secret as the aws CLI sees it, or NULL when the CLI says there is no such secret. */
static json_t *cli_describe(const char *id)
{
    json_t *out = NULL;

    if (test_aws_cli(&out, "secretsmanager describe-secret --secret-id '%s'", id) != 0)
        return NULL;
    return out;
}

/* The current value as the aws CLI reads it (caller frees), or NULL. */
static char *cli_value(const char *id)
{
    json_t *out = NULL;
    char *v = NULL;

    if (test_aws_cli(&out, "secretsmanager get-secret-value --secret-id '%s'", id) == 0 &&
        json_is_string(json_object_get(out, "SecretString")))
        v = strdup(json_string_value(json_object_get(out, "SecretString")));
    json_decref(out);
    return v;
}

static size_t cli_version_count(const char *id)
{
    json_t *out = NULL;
    size_t n;

    cr_assert_eq(test_aws_cli(&out, "secretsmanager list-secret-version-ids --secret-id '%s'", id),
                 0);
    n = json_array_size(json_object_get(out, "Versions"));
    json_decref(out);
    return n;
}

static const char *tag_of(const json_t *described, const char *key)
{
    const json_t *t;
    size_t i;

    json_array_foreach(json_object_get(described, "Tags"), i, t)
    {
        if (strcmp(json_string_value(json_object_get(t, "Key")), key) == 0)
            return json_string_value(json_object_get(t, "Value"));
    }
    return NULL;
}

/* props without the write-only properties: what read can show */
static json_t *readable(const json_t *props)
{
    json_t *r = json_deep_copy(props);

    json_object_del(r, "SecretString");
    json_object_del(r, "GenerateSecretString");
    return r;
}

Test(driver_secretsmanager_secret, lifecycle)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *after, *observed = NULL, *again = NULL, *id, *d, *want;
    char *arn, *v;

    /* tags in AWS's order (by key): test_props_match compares lists whole */
    props =
        json_pack("{s:s, s:s, s:s, s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}]}", "Name",
                  "astro-ai/prod", "Description", "astro database", "SecretString", "s3cr3t-one",
                  "Tags", "Key", "plumb:address", "Value", "db_secret", "Key", "plumb:env", "Value",
                  "prod", "Key", "plumb:project", "Value", "astro", "Key", "team", "Value", "ai");
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    want = readable(props);
    test_expect_props(want, observed);
    json_decref(want);
    cr_expect_null(json_object_get(observed, "SecretString"), "the value is never read back");
    cr_assert(json_is_string(json_object_get(observed, "Id")));
    arn = strdup(json_string_value(json_object_get(observed, "Id")));
    cr_expect(strstr(arn, ":secret:astro-ai/prod-") != NULL, "Id is the ARN: %s", arn);

    d = cli_describe(arn);
    cr_assert_not_null(d, "the aws CLI sees the secret");
    cr_expect_str_eq(json_string_value(json_object_get(d, "Description")), "astro database");
    cr_expect_str_eq(tag_of(d, "team"), "ai");
    json_decref(d);
    v = cli_value(arn);
    cr_expect_str_eq(v, "s3cr3t-one");
    free(v);

    id = json_pack("{s:s}", "Id", arn);
    cr_assert_eq(t->read(aws, id, &again), 0);
    want = readable(props);
    test_expect_props(want, again);
    json_decref(want);
    json_decref(again);

    /* an update that keeps the value does not make a version: before holds only a
     * fingerprint of the value, as state keeps it */
    {
        json_t *before = json_deep_copy(props), *tagged = json_deep_copy(props);
        json_object_set_new(before, "SecretString", json_pack("{s:s}", "$plumb:fingerprint", "ab"));
        json_array_append_new(json_object_get(tagged, "Tags"),
                              json_pack("{s:s, s:s}", "Key", "extra", "Value", "1"));
        json_decref(observed);
        cr_assert_eq(t->update(aws, id, before, tagged, &observed), 0, "%s", plumb_error_message());
        cr_expect_eq(cli_version_count(arn), 1, "no new version for an unchanged value");
        v = cli_value(arn);
        cr_expect_str_eq(v, "s3cr3t-one");
        free(v);
        json_decref(before);
        json_decref(tagged);
    }

    /* update: description, value, tags */
    after = json_pack("{s:s, s:s, s:s, s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}]}", "Name",
                      "astro-ai/prod", "Description", "astro ai database", "SecretString",
                      "s3cr3t-two", "Tags", "Key", "owner", "Value", "ops", "Key", "plumb:address",
                      "Value", "db_secret", "Key", "plumb:env", "Value", "prod", "Key",
                      "plumb:project", "Value", "astro");
    json_decref(observed);
    cr_assert_eq(t->update(aws, id, props, after, &observed), 0, "%s", plumb_error_message());
    want = readable(after);
    test_expect_props(want, observed);
    json_decref(want);
    d = cli_describe(arn);
    cr_assert_not_null(d);
    cr_expect_str_eq(json_string_value(json_object_get(d, "Description")), "astro ai database");
    cr_expect_str_eq(tag_of(d, "owner"), "ops");
    cr_expect_null(tag_of(d, "team"), "the removed tag is gone");
    cr_expect_null(tag_of(d, "extra"), "the removed tag is gone");
    json_decref(d);
    v = cli_value(arn);
    cr_expect_str_eq(v, "s3cr3t-two");
    free(v);

    /* the description left out: removed with UpdateSecret Description "". moto 5.2.1
     * ignores an empty Description (`description or secret.description`), so the CLI may
     * still see the old one there; that the driver made the call is checked by counting:
     * DescribeSecret, UpdateSecret, GetSecretValue (value unchanged), DescribeSecret */
    {
        json_t *before = json_deep_copy(after);
        unsigned long calls = plumb_aws_stats_calls(aws, "secretsmanager");
        json_object_del(after, "Description");
        json_decref(observed);
        cr_assert_eq(t->update(aws, id, before, after, &observed), 0, "%s", plumb_error_message());
        cr_expect_eq(plumb_aws_stats_calls(aws, "secretsmanager") - calls, 4);
        d = cli_describe(arn);
        cr_expect(!json_string_length(json_object_get(d, "Description")) ||
                      strcmp(json_string_value(json_object_get(d, "Description")),
                             "astro ai database") == 0,
                  "no description left (or moto's gap)");
        json_decref(d);
        /* left out, and never declared: nothing to do (DescribeSecret, GetSecretValue,
         * DescribeSecret) */
        calls = plumb_aws_stats_calls(aws, "secretsmanager");
        json_decref(observed);
        cr_assert_eq(t->update(aws, id, after, after, &observed), 0, "%s", plumb_error_message());
        cr_expect_eq(plumb_aws_stats_calls(aws, "secretsmanager") - calls, 3);
        json_decref(before);
    }

    /* lookup finds it by name (adoption after a crash) */
    {
        json_t *found = NULL;
        cr_assert_eq(t->lookup(aws, after, &found), 0);
        cr_expect(json_equal(found, id));
        json_decref(found);
    }

    /* remove: scheduled for deletion (recoverable), which is gone for the driver */
    cr_assert_eq(t->remove(aws, id, 0), 0, "%s", plumb_error_message());
    again = NULL;
    cr_assert_eq(t->read(aws, id, &again), 0);
    cr_expect_null(again);
    d = cli_describe(arn);
    cr_assert_not_null(d, "without force the secret is only scheduled for deletion");
    cr_expect_not_null(json_object_get(d, "DeletedDate"));
    json_decref(d);
    cr_expect_eq(t->remove(aws, id, 0), 0, "%s", plumb_error_message());
    {
        json_t *found = NULL;
        cr_assert_eq(t->lookup(aws, after, &found), 0);
        cr_expect_null(found, "a secret scheduled for deletion is not found");
    }

    /* declared again within the recovery window: ours (by its plumb tags), so restored and
     * brought to the declaration instead of failing for 30 days */
    json_decref(observed);
    json_object_set_new(after, "SecretString", json_string("s3cr3t-three"));
    cr_assert_eq(t->create(aws, after, &observed), 0, "%s", plumb_error_message());
    cr_expect_str_eq(json_string_value(json_object_get(observed, "Id")), arn, "the same secret");
    d = cli_describe(arn);
    cr_assert_not_null(d);
    cr_expect_null(json_object_get(d, "DeletedDate"), "restored");
    json_decref(d);
    v = cli_value(arn);
    cr_expect_str_eq(v, "s3cr3t-three");
    free(v);

    json_decref(props);
    json_decref(after);
    json_decref(observed);
    json_decref(id);
    free(arn);
    plumb_aws_free(aws);
}

Test(driver_secretsmanager_secret, force_remove_deletes_for_good)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *observed = NULL, *id, *d;

    props = json_pack("{s:s, s:s}", "Name", "throwaway", "SecretString", "x");
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    id = json_pack("{s:O}", "Id", json_object_get(observed, "Id"));
    /* scheduled first, then forced: a forced remove also ends a pending deletion */
    cr_assert_eq(t->remove(aws, id, 0), 0, "%s", plumb_error_message());
    cr_assert_eq(t->remove(aws, id, PLUMB_REMOVE_FORCE), 0, "%s", plumb_error_message());
    d = cli_describe("throwaway");
    cr_expect_null(d, "the CLI no longer finds it at all");
    json_decref(d);
    cr_expect_eq(t->remove(aws, id, PLUMB_REMOVE_FORCE), 0, "%s", plumb_error_message());
    d = cli_describe("throwaway");
    cr_expect_null(d, "removing a deleted secret makes nothing");
    json_decref(d);

    /* the name is free again: a new secret */
    json_decref(observed);
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    cr_expect_str_neq(json_string_value(json_object_get(observed, "Id")),
                      json_string_value(json_object_get(id, "Id")));
    json_decref(props);
    json_decref(observed);
    json_decref(id);
    plumb_aws_free(aws);
}

Test(driver_secretsmanager_secret, scheduled_deletion_of_another_is_reported)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *observed = NULL, *out = NULL;

    cr_assert_eq(test_aws_cli(&out, "secretsmanager create-secret --name legacy --secret-string x "
                                    "--tags Key=plumb:address,Value=someone_else"),
                 0);
    json_decref(out);
    cr_assert_eq(test_aws_cli(&out, "secretsmanager delete-secret --secret-id legacy"), 0);
    json_decref(out);
    props = json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "Name", "legacy", "SecretString", "y", "Tags",
                      "Key", "plumb:address", "Value", "mine");
    cr_expect_eq(t->create(aws, props, &observed), PLUMB_ECONFLICT);
    cr_expect_null(observed);
    cr_expect(strstr(plumb_error_message(), "scheduled for deletion") != NULL, "%s",
              plumb_error_message());
    cr_expect(strstr(plumb_error_message(), "restore-secret") != NULL, "%s", plumb_error_message());
    out = cli_describe("legacy");
    cr_expect_not_null(json_object_get(out, "DeletedDate"), "left as it was");
    json_decref(out);
    json_decref(props);
    plumb_aws_free(aws);
}

Test(driver_secretsmanager_secret, generated_value)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *observed = NULL, *id, *doc, *tagged, *longer;
    char *v, *v2;
    const char *pw;

    props =
        json_pack("{s:s, s:{s:s, s:s, s:i, s:b}}", "Name", "astro-ai/db", "GenerateSecretString",
                  "SecretStringTemplate", "{\"username\": \"astro\"}", "GenerateStringKey",
                  "password", "PasswordLength", 24, "ExcludePunctuation", 1);
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    cr_expect_null(json_object_get(observed, "GenerateSecretString"));
    cr_expect_null(json_object_get(observed, "SecretString"));
    id = json_pack("{s:O}", "Id", json_object_get(observed, "Id"));

    v = cli_value("astro-ai/db");
    cr_assert_not_null(v);
    doc = json_loads(v, 0, NULL);
    cr_assert(json_is_object(doc), "the template's JSON with the password in it: %s", v);
    cr_expect_str_eq(json_string_value(json_object_get(doc, "username")), "astro");
    pw = json_string_value(json_object_get(doc, "password"));
    cr_assert_not_null(pw);
    cr_expect_eq(strlen(pw), 24);
    cr_expect(strpbrk(pw, "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") == NULL, "no punctuation: %s", pw);
    json_decref(doc);

    /* an update of something else keeps the generated value, whether before has the
     * settings or only their fingerprint */
    tagged = json_deep_copy(props);
    json_object_set_new(tagged, "Tags", json_pack("[{s:s, s:s}]", "Key", "k", "Value", "v"));
    json_decref(observed);
    cr_assert_eq(t->update(aws, id, props, tagged, &observed), 0, "%s", plumb_error_message());
    {
        json_t *fp = json_deep_copy(props);
        json_object_set_new(fp, "GenerateSecretString",
                            json_pack("{s:s}", "$plumb:fingerprint", "cd"));
        json_decref(observed);
        cr_assert_eq(t->update(aws, id, fp, tagged, &observed), 0, "%s", plumb_error_message());
        json_decref(fp);
    }
    v2 = cli_value("astro-ai/db");
    cr_expect_str_eq(v2, v, "the value did not rotate");
    free(v2);
    cr_expect_eq(cli_version_count("astro-ai/db"), 1);

    /* other settings: a new value */
    longer = json_deep_copy(tagged);
    json_object_set_new(json_object_get(longer, "GenerateSecretString"), "PasswordLength",
                        json_integer(40));
    json_decref(observed);
    cr_assert_eq(t->update(aws, id, tagged, longer, &observed), 0, "%s", plumb_error_message());
    v2 = cli_value("astro-ai/db");
    doc = json_loads(v2, 0, NULL);
    cr_expect_eq(json_string_length(json_object_get(doc, "password")), 40);
    json_decref(doc);
    free(v2);

    free(v);
    json_decref(props);
    json_decref(tagged);
    json_decref(longer);
    json_decref(observed);
    json_decref(id);
    plumb_aws_free(aws);
}

/* No Name: one is generated from the address, and lookup finds the secret by all of its
 * plumb tags (stage and prod share addresses). */
Test(driver_secretsmanager_secret, generated_name_and_lookup_by_tags)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *other, *observed = NULL, *found = NULL, *d;

    props = json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}]}", "SecretString", "x", "Tags",
                      "Key", "plumb:project", "Value", "shop", "Key", "plumb:env", "Value", "stage",
                      "Key", "plumb:address", "Value", "module.app.token");
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    cr_expect(
        strncmp(json_string_value(json_object_get(observed, "Name")), "module.app.token-", 17) == 0,
        "%s", json_string_value(json_object_get(observed, "Name")));
    d = cli_describe(json_string_value(json_object_get(observed, "Id")));
    cr_expect_not_null(d, "the aws CLI sees the secret");
    json_decref(d);

    cr_assert_eq(t->lookup(aws, props, &found), 0, "%s", plumb_error_message());
    cr_assert_not_null(found);
    cr_expect(json_equal(json_object_get(found, "Id"), json_object_get(observed, "Id")));
    json_decref(found);

    other = json_deep_copy(props);
    json_object_set_new(json_array_get(json_object_get(other, "Tags"), 1), "Value",
                        json_string("prod"));
    found = NULL;
    cr_assert_eq(t->lookup(aws, other, &found), 0, "%s", plumb_error_message());
    cr_expect_null(found, "prod's secret is not stage's");

    json_decref(props);
    json_decref(other);
    json_decref(observed);
    plumb_aws_free(aws);
}

Test(driver_secretsmanager_secret, replica_regions)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *after, *observed = NULL, *id, *d, *want;

    props = json_pack("{s:s, s:s, s:[{s:s}]}", "Name", "replicated", "SecretString", "x",
                      "ReplicaRegions", "Region", "us-west-2");
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    /* AWS reports the replica's key, the default one when none was declared */
    want = json_pack("{s:s, s:[{s:s, s:s}]}", "Name", "replicated", "ReplicaRegions", "Region",
                     "us-west-2", "KmsKeyId", "alias/aws/secretsmanager");
    test_expect_props(want, observed);
    json_decref(want);
    d = cli_describe("replicated");
    cr_expect_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(d, "ReplicationStatus"), 0), "Region")),
                     "us-west-2");
    json_decref(d);

    id = json_pack("{s:O}", "Id", json_object_get(observed, "Id"));
    after = json_pack("{s:s, s:s, s:[{s:s}]}", "Name", "replicated", "SecretString", "x",
                      "ReplicaRegions", "Region", "eu-west-1");
    json_decref(observed);
    cr_assert_eq(t->update(aws, id, props, after, &observed), 0, "%s", plumb_error_message());
    want = json_pack("{s:s, s:[{s:s, s:s}]}", "Name", "replicated", "ReplicaRegions", "Region",
                     "eu-west-1", "KmsKeyId", "alias/aws/secretsmanager");
    test_expect_props(want, observed);
    json_decref(want);
    d = cli_describe("replicated");
    cr_expect_eq(json_array_size(json_object_get(d, "ReplicationStatus")), 1);
    cr_expect_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(d, "ReplicationStatus"), 0), "Region")),
                     "eu-west-1");
    json_decref(d);

    json_decref(props);
    json_decref(after);
    json_decref(observed);
    json_decref(id);
    plumb_aws_free(aws);
}

/* ListSecrets does not carry replicas: where they were declared, read_many reads them with a
 * DescribeSecret, so a replica removed outside plumb shows; where not, it costs nothing. */
Test(driver_secretsmanager_secret, replicas_removed_outside_are_read_when_declared)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *observed = NULL, *ids, *wanted, *out = NULL;
    unsigned long before;

    props = json_pack("{s:s, s:s, s:[{s:s}]}", "Name", "replicated-2", "SecretString", "x",
                      "ReplicaRegions", "Region", "us-west-2");
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    ids = json_pack("[{s:O}]", "Id", json_object_get(observed, "Id"));
    cr_assert_eq(test_aws_cli(&out, "secretsmanager remove-regions-from-replication --secret-id "
                                    "replicated-2 --remove-replica-regions us-west-2"),
                 0);
    json_decref(out);
    json_decref(observed);
    observed = NULL;

    wanted = json_pack("{s:b}", "ReplicaRegions", 1);
    before = plumb_aws_stats_calls(aws, "secretsmanager");
    cr_assert_eq(t->read_many(aws, ids, wanted, &observed), 0, "%s", plumb_error_message());
    cr_expect_eq(plumb_aws_stats_calls(aws, "secretsmanager") - before, 2, "list + describe");
    cr_expect(json_is_array(json_object_get(json_array_get(observed, 0), "ReplicaRegions")));
    cr_expect_eq(json_array_size(json_object_get(json_array_get(observed, 0), "ReplicaRegions")), 0,
                 "the replica removed outside plumb is gone");
    json_decref(observed);
    observed = NULL;

    json_object_clear(wanted);
    json_object_set_new(wanted, "Description", json_true());
    before = plumb_aws_stats_calls(aws, "secretsmanager");
    cr_assert_eq(t->read_many(aws, ids, wanted, &observed), 0, "%s", plumb_error_message());
    cr_expect_eq(plumb_aws_stats_calls(aws, "secretsmanager") - before, 1, "not declared: list");
    cr_expect_null(json_object_get(json_array_get(observed, 0), "ReplicaRegions"));

    json_decref(props);
    json_decref(observed);
    json_decref(ids);
    json_decref(wanted);
    plumb_aws_free(aws);
}

static char *cli_new_key(void)
{
    json_t *out = NULL;
    char *arn;

    cr_assert_eq(test_aws_cli(&out, "kms create-key"), 0);
    arn = strdup(json_string_value(json_object_get(json_object_get(out, "KeyMetadata"), "Arn")));
    json_decref(out);
    return arn;
}

Test(driver_secretsmanager_secret, kms_key)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    char *k1 = cli_new_key(), *k2 = cli_new_key();
    json_t *props, *after, *observed = NULL, *id, *d;

    props = json_pack("{s:s, s:s, s:s}", "Name", "keyed", "SecretString", "x", "KmsKeyId", k1);
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    cr_expect_str_eq(json_string_value(json_object_get(observed, "KmsKeyId")), k1);
    id = json_pack("{s:O}", "Id", json_object_get(observed, "Id"));

    after = json_pack("{s:s, s:s, s:s}", "Name", "keyed", "SecretString", "x", "KmsKeyId", k2);
    json_decref(observed);
    cr_assert_eq(t->update(aws, id, props, after, &observed), 0, "%s", plumb_error_message());
    cr_expect_str_eq(json_string_value(json_object_get(observed, "KmsKeyId")), k2);
    d = cli_describe("keyed");
    cr_expect_str_eq(json_string_value(json_object_get(d, "KmsKeyId")), k2);
    json_decref(d);

    /* left out: back to the account's default key */
    json_object_del(after, "KmsKeyId");
    json_decref(observed);
    cr_assert_eq(t->update(aws, id, props, after, &observed), 0, "%s", plumb_error_message());
    d = cli_describe("keyed");
    cr_expect(!json_object_get(d, "KmsKeyId") ||
                  strcmp(json_string_value(json_object_get(d, "KmsKeyId")),
                         "alias/aws/secretsmanager") == 0,
              "%s", json_string_value(json_object_get(d, "KmsKeyId")));
    json_decref(d);

    free(k1);
    free(k2);
    json_decref(props);
    json_decref(after);
    json_decref(observed);
    json_decref(id);
    plumb_aws_free(aws);
}

/* The key put back to the default outside plumb: AWS then leaves KmsKeyId out. Wanted
 * (declared), it reads as the default key's alias, so the plan sees the change rather than
 * take the key last applied; a whole read (import) leaves it out. */
Test(driver_secretsmanager_secret, kms_key_reset_outside_reads_as_the_default)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    char *k1 = cli_new_key();
    json_t *out = NULL, *ids, *wanted, *observed = NULL;

    cr_assert_eq(test_aws_cli(&out,
                              "secretsmanager create-secret --name rekeyed --secret-string v "
                              "--kms-key-id '%s'",
                              k1),
                 0);
    ids = json_pack("[{s:O}]", "Id", json_object_get(out, "ARN"));
    json_decref(out);
    wanted = json_pack("{s:b}", "KmsKeyId", 1);
    cr_assert_eq(t->read_many(aws, ids, wanted, &observed), 0, "%s", plumb_error_message());
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(observed, 0), "KmsKeyId")),
                     k1);
    json_decref(observed);
    observed = NULL;

    cr_assert_eq(test_aws_cli(&out, "secretsmanager update-secret --secret-id rekeyed "
                                    "--kms-key-id alias/aws/secretsmanager"),
                 0);
    json_decref(out);
    cr_assert_eq(t->read_many(aws, ids, wanted, &observed), 0, "%s", plumb_error_message());
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(observed, 0), "KmsKeyId")),
                     "alias/aws/secretsmanager");
    json_decref(observed);
    observed = NULL;
    cr_assert_eq(t->read_many(aws, ids, NULL, &observed), 0, "%s", plumb_error_message());
    cr_assert(json_is_object(json_array_get(observed, 0)));
    cr_expect_null(json_object_get(json_array_get(observed, 0), "KmsKeyId"));

    free(k1);
    json_decref(ids);
    json_decref(wanted);
    json_decref(observed);
    plumb_aws_free(aws);
}

Test(driver_secretsmanager_secret, read_many_filters_by_name)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *ids = json_array(), *observed = NULL, *out = NULL, *arns = json_array();
    unsigned long before;
    size_t i;

    /* 12 secrets: two chunks of names; "app-1" is a prefix of "app-10" and "app-11" */
    for (i = 0; i < 12; i++) {
        cr_assert_eq(test_aws_cli(&out,
                                  "secretsmanager create-secret --name app-%zu --secret-string v "
                                  "--description 'number %zu' --tags Key=n,Value=%zu",
                                  i, i, i),
                     0);
        json_array_append(arns, json_object_get(out, "ARN"));
        json_decref(out);
    }
    /* one scheduled for deletion reads as gone */
    cr_assert_eq(test_aws_cli(&out, "secretsmanager delete-secret --secret-id app-5"), 0);
    json_decref(out);
    for (i = 0; i < 12; i++)
        json_array_append_new(ids, json_pack("{s:O}", "Id", json_array_get(arns, i)));
    json_array_insert_new(ids, 3,
                          json_pack("{s:s}", "Id",
                                    "arn:aws:secretsmanager:us-east-1:123456789012:"
                                    "secret:missing-AbCdEf"));

    before = plumb_aws_stats_calls(aws, "secretsmanager");
    cr_assert_eq(t->read_many(aws, ids, NULL, &observed), 0, "%s", plumb_error_message());
    /* 13 ids, 10 names a call: 2 ListSecrets, where reads would have cost 13 */
    cr_expect_eq(plumb_aws_stats_calls(aws, "secretsmanager") - before, 2);
    cr_assert_eq(json_array_size(observed), 13);
    cr_expect(json_is_null(json_array_get(observed, 3)), "the missing one is null");
    for (i = 0; i < 13; i++) {
        const json_t *o = json_array_get(observed, i);
        size_t n = i < 3 ? i : i - 1;
        char want[32];
        if (i == 3)
            continue;
        if (n == 5) {
            cr_expect(json_is_null(o), "scheduled for deletion: gone");
            continue;
        }
        cr_assert(json_is_object(o), "id %zu was found", i);
        cr_expect(json_equal(json_object_get(o, "Id"), json_array_get(arns, n)));
        snprintf(want, sizeof(want), "number %zu", n);
        cr_expect_str_eq(json_string_value(json_object_get(o, "Description")), want);
        snprintf(want, sizeof(want), "%zu", n);
        cr_expect_str_eq(json_string_value(json_object_get(
                             json_array_get(json_object_get(o, "Tags"), 0), "Value")),
                         want);
        cr_expect_null(json_object_get(o, "ReplicaRegions"), "not in ListSecrets: left out");
    }
    json_decref(ids);
    json_decref(arns);
    json_decref(observed);
    plumb_aws_free(aws);
}

Test(driver_secretsmanager_secret, aws_errors_keep_their_code)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *observed = NULL, *made = NULL;

    cr_assert_eq(test_aws_cli(&made, "secretsmanager create-secret --name taken --secret-string x"),
                 0);
    json_decref(made);
    props = json_pack("{s:s, s:s}", "Name", "taken", "SecretString", "y");
    cr_expect_eq(t->create(aws, props, &observed), PLUMB_ECONFLICT);
    cr_expect(strstr(plumb_error_message(), "ResourceExistsException") != NULL, "%s",
              plumb_error_message());
    cr_expect(strstr(plumb_error_message(), "request id") != NULL, "%s", plumb_error_message());
    json_decref(props);

    /* a generation AWS refuses: its code, and nothing made */
    props =
        json_pack("{s:s, s:{s:i}}", "Name", "short", "GenerateSecretString", "PasswordLength", 2);
    cr_expect_lt(t->create(aws, props, &observed), 0);
    cr_expect(strstr(plumb_error_message(), "InvalidParameterException") != NULL, "%s",
              plumb_error_message());
    cr_expect_null(cli_describe("short"));
    json_decref(props);

    props = json_pack("{s:s, s:s, s:{s:i}}", "Name", "both", "SecretString", "x",
                      "GenerateSecretString", "PasswordLength", 20);
    cr_expect_eq(t->create(aws, props, &observed), PLUMB_EINVALID);
    json_decref(props);
    plumb_aws_free(aws);
}
