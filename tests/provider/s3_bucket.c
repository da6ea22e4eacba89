/*
 * AWS::S3::Bucket against moto with signature checking on; every setting checked with the aws
 * CLI (s3api) as well as the driver's own read.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "helpers/driver.h"
#include "helpers/moto.h"
#include "provider/provider.h"
#include "provider/util.h"
#include "util/error.h"

#define SITE "stage-cloudshop-frontend-123456789012"
#define LOGS "cloudshop-access-logs"

static struct test_moto moto;

static void setup(void)
{
    cr_assert_eq(test_moto_start(&moto, 1), 0);
}

static void teardown(void)
{
    test_moto_stop(&moto);
}

TestSuite(driver_s3_bucket, .init = setup, .fini = teardown, .timeout = 180);

static const struct plumb_resource_type *driver(void)
{
    const struct plumb_resource_type *t = plumb_provider_find("AWS::S3::Bucket");
    cr_assert_not_null(t);
    return t;
}

/* `aws s3api <op> --bucket <bucket>`: its output, or NULL when it failed (not configured). */
static json_t *s3api(const char *op, const char *bucket)
{
    json_t *out = NULL;

    if (test_aws_cli(&out, "s3api %s --bucket '%s' 2>/dev/null", op, bucket) != 0) {
        json_decref(out);
        return NULL;
    }
    return out ? out : json_object();
}

static const char *str_at(const json_t *o, const char *path)
{
    char key[128];
    const char *dot;

    while ((dot = strchr(path, '.'))) {
        snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
        o = json_is_array(o) ? json_array_get(o, (size_t)atoi(key)) : json_object_get(o, key);
        path = dot + 1;
    }
    o = json_is_array(o) ? json_array_get(o, (size_t)atoi(path)) : json_object_get(o, path);
    return json_string_value(o);
}

static const json_t *at(const json_t *o, const char *k)
{
    return json_object_get(o, k);
}

/* A bucket a logging configuration may point at: the logging service may write to it. */
static void make_log_target(void)
{
    json_t *out = NULL;

    cr_assert_eq(test_aws_cli(&out, "s3api create-bucket --bucket %s", LOGS), 0);
    json_decref(out);
    cr_assert_eq(test_aws_cli(&out,
                              "s3api put-bucket-policy --bucket %s --policy '{\"Version\": "
                              "\"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", "
                              "\"Principal\": {\"Service\": \"logging.s3.amazonaws.com\"}, "
                              "\"Action\": \"s3:PutObject\", \"Resource\": "
                              "\"arn:aws:s3:::%s/*\"}]}'",
                              LOGS, LOGS),
                 0);
    json_decref(out);
}

static json_t *website_props(void)
{
    return json_pack(
        "{s:s, s:{s:s, s:s}, s:{s:b, s:b, s:b, s:b}, s:{s:s}, s:{s:[{s:{s:s}, s:b}]}, "
        "s:{s:[{s:s}]}, s:{s:[{s:s, s:[s], s:[s, s], s:[s], s:i}]}, "
        "s:{s:[{s:s, s:s, s:s, s:i, s:{s:i}, s:{s:i}, s:[{s:s, s:i}]}]}, s:[{s:s, s:s}, {s:s, "
        "s:s}]}",
        "BucketName", SITE, "WebsiteConfiguration", "IndexDocument", "index.html", "ErrorDocument",
        "error.html", "PublicAccessBlockConfiguration", "BlockPublicAcls", 0, "BlockPublicPolicy",
        0, "IgnorePublicAcls", 0, "RestrictPublicBuckets", 0, "VersioningConfiguration", "Status",
        "Enabled", "BucketEncryption", "ServerSideEncryptionConfiguration",
        "ServerSideEncryptionByDefault", "SSEAlgorithm", "AES256", "BucketKeyEnabled", 0,
        "OwnershipControls", "Rules", "ObjectOwnership", "BucketOwnerEnforced", "CorsConfiguration",
        "CorsRules", "Id", "spa", "AllowedMethods", "GET", "AllowedOrigins",
        "https://shop.example.com", "https://www.shop.example.com", "AllowedHeaders", "*", "MaxAge",
        3000, "LifecycleConfiguration", "Rules", "Id", "old-builds", "Status", "Enabled", "Prefix",
        "builds/", "ExpirationInDays", 30, "AbortIncompleteMultipartUpload", "DaysAfterInitiation",
        7, "NoncurrentVersionExpiration", "NoncurrentDays", 14, "Transitions", "StorageClass",
        "STANDARD_IA", "TransitionInDays", 60, "Tags", "Key", "plumb:env", "Value", "stage", "Key",
        "team", "Value", "shop");
}

Test(driver_s3_bucket, lifecycle)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *after, *after2, *want, *observed = NULL, *again = NULL, *id, *got,
                                           *found = NULL;

    make_log_target();
    props = website_props();
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    want = t->normalize(props);
    test_expect_props(want, observed);
    json_decref(want);
    cr_expect_str_eq(str_at(observed, "Arn"), "arn:aws:s3:::" SITE);
    cr_expect_str_eq(str_at(observed, "DomainName"), SITE ".s3.amazonaws.com");
    cr_expect_str_eq(str_at(observed, "RegionalDomainName"), SITE ".s3.us-east-1.amazonaws.com");
    cr_expect_str_eq(str_at(observed, "DualStackDomainName"),
                     SITE ".s3.dualstack.us-east-1.amazonaws.com");
    cr_expect_str_eq(str_at(observed, "WebsiteURL"),
                     "http://" SITE ".s3-website-us-east-1.amazonaws.com");
    cr_expect_null(at(observed, "LoggingConfiguration"), "not configured: left out");

    /* the CLI sees every setting */
    got = s3api("get-bucket-website", SITE);
    cr_expect_str_eq(str_at(got, "IndexDocument.Suffix"), "index.html");
    cr_expect_str_eq(str_at(got, "ErrorDocument.Key"), "error.html");
    json_decref(got);
    got = s3api("get-public-access-block", SITE);
    cr_expect(json_is_false(at(at(got, "PublicAccessBlockConfiguration"), "BlockPublicPolicy")));
    json_decref(got);
    got = s3api("get-bucket-versioning", SITE);
    cr_expect_str_eq(str_at(got, "Status"), "Enabled");
    json_decref(got);
    got = s3api("get-bucket-encryption", SITE);
    cr_expect_str_eq(str_at(got, "ServerSideEncryptionConfiguration.Rules.0."
                                 "ApplyServerSideEncryptionByDefault.SSEAlgorithm"),
                     "AES256");
    json_decref(got);
    got = s3api("get-bucket-ownership-controls", SITE);
    cr_expect_str_eq(str_at(got, "OwnershipControls.Rules.0.ObjectOwnership"),
                     "BucketOwnerEnforced");
    json_decref(got);
    got = s3api("get-bucket-cors", SITE);
    cr_expect_str_eq(str_at(got, "CORSRules.0.ID"), "spa");
    cr_expect_eq(json_integer_value(at(json_array_get(at(got, "CORSRules"), 0), "MaxAgeSeconds")),
                 3000);
    json_decref(got);
    got = s3api("get-bucket-lifecycle-configuration", SITE);
    cr_expect_str_eq(str_at(got, "Rules.0.ID"), "old-builds");
    cr_expect_str_eq(str_at(got, "Rules.0.Filter.Prefix"), "builds/");
    cr_expect_eq(
        json_integer_value(at(at(json_array_get(at(got, "Rules"), 0), "Expiration"), "Days")), 30);
    json_decref(got);
    got = s3api("get-bucket-tagging", SITE);
    {
        json_t *tags = plumb_provider_tags_to_map(at(got, "TagSet"));
        cr_expect_str_eq(str_at(tags, "team"), "shop");
        json_decref(tags);
    }
    json_decref(got);

    id = json_pack("{s:s}", "BucketName", SITE);
    cr_assert_eq(t->read(aws, id, &again), 0, "%s", plumb_error_message());
    cr_expect(json_equal(again, observed), "read agrees with create");
    json_decref(again);

    /* update every setting in place */
    after = json_pack(
        "{s:s, s:{s:s, s:s, s:[{s:{s:s}, s:{s:s, s:s}}]}, s:{s:b, s:b, s:b, s:b}, s:{s:s}, "
        "s:{s:[{s:{s:s, s:s}, s:b}]}, s:{s:[{s:s}]}, s:{s:[{s:[s, s], s:[s], s:[s]}]}, "
        "s:{s:[{s:s, s:s, s:i, s:[{s:s, s:i}]}]}, s:{s:s, s:s}, s:[{s:s, s:s}, {s:s, s:s}]}",
        "BucketName", SITE, "WebsiteConfiguration", "IndexDocument", "main.html", "ErrorDocument",
        "404.html", "RoutingRules", "RoutingRuleCondition", "KeyPrefixEquals", "docs/",
        "RedirectRule", "ReplaceKeyPrefixWith", "documents/", "HttpRedirectCode", "301",
        "PublicAccessBlockConfiguration", "BlockPublicAcls", 1, "BlockPublicPolicy", 1,
        "IgnorePublicAcls", 1, "RestrictPublicBuckets", 1, "VersioningConfiguration", "Status",
        "Suspended", "BucketEncryption", "ServerSideEncryptionConfiguration",
        "ServerSideEncryptionByDefault", "SSEAlgorithm", "aws:kms", "KMSMasterKeyID",
        "alias/cloudshop", "BucketKeyEnabled", 1, "OwnershipControls", "Rules", "ObjectOwnership",
        "BucketOwnerPreferred", "CorsConfiguration", "CorsRules", "AllowedMethods", "GET", "HEAD",
        "AllowedOrigins", "*", "ExposedHeaders", "ETag", "LifecycleConfiguration", "Rules", "Id",
        "expire-all", "Status", "Disabled", "ExpirationInDays", 365, "NoncurrentVersionTransitions",
        "StorageClass", "GLACIER", "TransitionInDays", 90, "LoggingConfiguration",
        "DestinationBucketName", LOGS, "LogFilePrefix", "site/", "Tags", "Key", "owner", "Value",
        "web", "Key", "plumb:env", "Value", "stage");
    cr_assert_eq(t->update(aws, id, observed, after, &again), 0, "%s", plumb_error_message());
    want = t->normalize(after);
    test_expect_props(want, again);
    json_decref(want);
    got = s3api("get-bucket-website", SITE);
    cr_expect_str_eq(str_at(got, "IndexDocument.Suffix"), "main.html");
    cr_expect_str_eq(str_at(got, "RoutingRules.0.Redirect.ReplaceKeyPrefixWith"), "documents/");
    cr_expect_str_eq(str_at(got, "RoutingRules.0.Condition.KeyPrefixEquals"), "docs/");
    json_decref(got);
    got = s3api("get-public-access-block", SITE);
    cr_expect(json_is_true(at(at(got, "PublicAccessBlockConfiguration"), "BlockPublicPolicy")));
    json_decref(got);
    got = s3api("get-bucket-versioning", SITE);
    cr_expect_str_eq(str_at(got, "Status"), "Suspended");
    json_decref(got);
    got = s3api("get-bucket-encryption", SITE);
    cr_expect_str_eq(str_at(got, "ServerSideEncryptionConfiguration.Rules.0."
                                 "ApplyServerSideEncryptionByDefault.KMSMasterKeyID"),
                     "alias/cloudshop");
    json_decref(got);
    got = s3api("get-bucket-ownership-controls", SITE);
    cr_expect_str_eq(str_at(got, "OwnershipControls.Rules.0.ObjectOwnership"),
                     "BucketOwnerPreferred");
    json_decref(got);
    got = s3api("get-bucket-cors", SITE);
    cr_expect_str_eq(str_at(got, "CORSRules.0.ExposeHeaders.0"), "ETag");
    json_decref(got);
    got = s3api("get-bucket-lifecycle-configuration", SITE);
    cr_expect_str_eq(str_at(got, "Rules.0.ID"), "expire-all");
    cr_expect_str_eq(str_at(got, "Rules.0.Status"), "Disabled");
    json_decref(got);
    got = s3api("get-bucket-logging", SITE);
    cr_expect_str_eq(str_at(got, "LoggingEnabled.TargetBucket"), LOGS);
    cr_expect_str_eq(str_at(got, "LoggingEnabled.TargetPrefix"), "site/");
    json_decref(got);
    got = s3api("get-bucket-tagging", SITE);
    {
        json_t *tags = plumb_provider_tags_to_map(at(got, "TagSet"));
        cr_expect_str_eq(str_at(tags, "owner"), "web");
        cr_expect_null(at(tags, "team"), "the removed tag is gone");
        json_decref(tags);
    }
    json_decref(got);

    /* settings left out of the config are taken off the bucket, or, where AWS gives every
     * new bucket one, go back to that */
    after2 =
        json_pack("{s:s, s:{s:s}, s:[{s:s, s:s}]}", "BucketName", SITE, "VersioningConfiguration",
                  "Status", "Suspended", "Tags", "Key", "plumb:env", "Value", "stage");
    json_decref(observed);
    observed = again;
    again = NULL;
    cr_assert_eq(t->update(aws, id, observed, after2, &again), 0, "%s", plumb_error_message());
    test_expect_props(after2, again);
    cr_expect_null(at(again, "WebsiteConfiguration"));
    cr_expect_null(at(again, "LoggingConfiguration"));
    cr_expect_null(s3api("get-bucket-website", SITE), "no website any more");
    cr_expect_null(s3api("get-bucket-cors", SITE), "no CORS any more");
    cr_expect_null(s3api("get-bucket-lifecycle-configuration", SITE), "no lifecycle any more");
    got = s3api("get-bucket-ownership-controls", SITE);
    cr_expect_str_eq(str_at(got, "OwnershipControls.Rules.0.ObjectOwnership"),
                     "BucketOwnerEnforced", "back to AWS's default");
    json_decref(got);
    got = s3api("get-public-access-block", SITE);
    cr_expect(json_is_true(at(at(got, "PublicAccessBlockConfiguration"), "BlockPublicPolicy")),
              "still blocked, as AWS's default");
    json_decref(got);
    got = s3api("get-bucket-encryption", SITE);
    cr_expect_str_eq(str_at(got, "ServerSideEncryptionConfiguration.Rules.0."
                                 "ApplyServerSideEncryptionByDefault.SSEAlgorithm"),
                     "AES256", "back to AWS's default");
    json_decref(got);
    got = s3api("get-bucket-logging", SITE);
    cr_expect_null(at(got, "LoggingEnabled"), "logging is off");
    json_decref(got);

    /* lookup finds it by name */
    cr_assert_eq(t->lookup(aws, after2, &found), 0, "%s", plumb_error_message());
    cr_expect(json_equal(found, id));
    json_decref(found);

    /* remove; gone for the driver and the CLI; again is fine */
    cr_assert_eq(t->remove(aws, id, 0), 0, "%s", plumb_error_message());
    json_decref(again);
    cr_assert_eq(t->read(aws, id, &again), 0, "%s", plumb_error_message());
    cr_expect_null(again);
    cr_expect_null(s3api("head-bucket", SITE), "the CLI agrees it is gone");
    cr_expect_eq(t->remove(aws, id, 0), 0, "%s", plumb_error_message());
    cr_assert_eq(t->lookup(aws, after2, &found), 0, "%s", plumb_error_message());
    cr_expect_null(found);

    json_decref(props);
    json_decref(after);
    json_decref(after2);
    json_decref(observed);
    json_decref(id);
    plumb_aws_free(aws);
}

Test(driver_s3_bucket, non_empty_bucket_needs_force)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *observed = NULL, *id, *out = NULL, *got;
    int i;

    props = json_pack("{s:s, s:{s:s}}", "BucketName", "state-bucket", "VersioningConfiguration",
                      "Status", "Enabled");
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    /* two versions of one object, a delete marker, and a second object */
    for (i = 0; i < 2; i++) {
        cr_assert_eq(test_aws_cli(&out,
                                  "s3api put-object --bucket state-bucket --key env/stage.json "
                                  "--body /etc/hostname"),
                     0);
        json_decref(out);
    }
    cr_assert_eq(
        test_aws_cli(&out, "s3api delete-object --bucket state-bucket --key env/stage.json"), 0);
    json_decref(out);
    cr_assert_eq(test_aws_cli(&out, "s3api put-object --bucket state-bucket --key other "
                                    "--body /etc/hostname"),
                 0);
    json_decref(out);

    id = json_pack("{s:s}", "BucketName", "state-bucket");
    cr_expect_eq(t->remove(aws, id, 0), PLUMB_ECONFLICT);
    cr_expect(strstr(plumb_error_message(), "is not empty") != NULL, "%s", plumb_error_message());
    cr_expect(strstr(plumb_error_message(), "force_destroy") != NULL, "%s", plumb_error_message());
    cr_expect(strstr(plumb_error_message(), "BucketNotEmpty") != NULL, "%s", plumb_error_message());
    got = s3api("list-object-versions", "state-bucket");
    cr_expect_eq(json_array_size(at(got, "Versions")), 3, "nothing was deleted");
    json_decref(got);

    cr_assert_eq(t->remove(aws, id, PLUMB_REMOVE_FORCE), 0, "%s", plumb_error_message());
    cr_expect_null(s3api("head-bucket", "state-bucket"), "the CLI agrees it is gone");

    json_decref(props);
    json_decref(observed);
    json_decref(id);
    plumb_aws_free(aws);
}

Test(driver_s3_bucket, read_many_skips_missing_buckets)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *a, *b, *oa = NULL, *ob = NULL, *ids, *observed = NULL;
    unsigned long before;

    a = json_pack("{s:s, s:[{s:s, s:s}]}", "BucketName", "bucket-a", "Tags", "Key", "k", "Value",
                  "v");
    b = json_pack("{s:s, s:{s:s}}", "BucketName", "bucket-b", "WebsiteConfiguration",
                  "IndexDocument", "index.html");
    cr_assert_eq(t->create(aws, a, &oa), 0, "%s", plumb_error_message());
    cr_assert_eq(t->create(aws, b, &ob), 0, "%s", plumb_error_message());
    ids = json_pack("[{s:s}, {s:s}, {s:s}]", "BucketName", "bucket-a", "BucketName",
                    "bucket-missing", "BucketName", "bucket-b");
    before = plumb_aws_stats_calls(aws, "s3");
    cr_assert_eq(t->read_many(aws, ids, NULL, &observed), 0, "%s", plumb_error_message());
    /* one ListBuckets and nine Gets per bucket found, where a read is HeadBucket and nine */
    cr_expect_eq(plumb_aws_stats_calls(aws, "s3") - before, 1 + 9 * 2);
    cr_assert_eq(json_array_size(observed), 3);
    cr_expect(json_equal(json_array_get(observed, 0), oa), "the batch reads what read reads");
    cr_expect(json_is_null(json_array_get(observed, 1)), "a missing bucket reads as null");
    cr_expect(json_equal(json_array_get(observed, 2), ob), "the batch reads what read reads");
    json_decref(a);
    json_decref(b);
    json_decref(oa);
    json_decref(ob);
    json_decref(ids);
    json_decref(observed);
    plumb_aws_free(aws);
}

Test(driver_s3_bucket, read_many_reads_only_what_is_wanted)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *b, *ob = NULL, *ids, *wanted, *observed = NULL, *o;
    unsigned long before;

    b = json_pack("{s:s, s:{s:s}, s:[{s:s, s:s}]}", "BucketName", "bucket-w",
                  "WebsiteConfiguration", "IndexDocument", "index.html", "Tags", "Key", "k",
                  "Value", "v");
    cr_assert_eq(t->create(aws, b, &ob), 0, "%s", plumb_error_message());
    /* drift made behind plumb's back, in the one setting refresh compares */
    cr_assert_eq(system("aws s3api put-bucket-website --bucket bucket-w --website-configuration "
                        "'{\"IndexDocument\": {\"Suffix\": \"home.html\"}}'"),
                 0);
    ids = json_pack("[{s:s}, {s:s}]", "BucketName", "bucket-w", "BucketName", "bucket-gone");
    wanted = json_pack("{s:b}", "WebsiteConfiguration", 1);
    before = plumb_aws_stats_calls(aws, "s3");
    cr_assert_eq(t->read_many(aws, ids, wanted, &observed), 0, "%s", plumb_error_message());
    /* GetBucketWebsite for each: no listing, no tags, no other settings */
    cr_expect_eq(plumb_aws_stats_calls(aws, "s3") - before, 2);
    o = json_array_get(observed, 0);
    cr_expect_str_eq(json_string_value(json_object_get(json_object_get(o, "WebsiteConfiguration"),
                                                       "IndexDocument")),
                     "home.html");
    cr_expect_null(json_object_get(o, "Tags"), "tags were not read, so not reported");
    cr_expect_str_eq(json_string_value(json_object_get(o, "Arn")), "arn:aws:s3:::bucket-w",
                     "read-only attributes always come");
    cr_expect(json_is_null(json_array_get(observed, 1)), "a missing bucket reads as null");
    /* the website deleted behind plumb's back: reported as null, so that it is drift (left
     * out, the plan would take the value last applied) */
    json_decref(observed);
    observed = NULL;
    cr_assert_eq(system("aws s3api delete-bucket-website --bucket bucket-w"), 0);
    cr_assert_eq(t->read_many(aws, ids, wanted, &observed), 0, "%s", plumb_error_message());
    o = json_array_get(observed, 0);
    cr_expect(json_is_null(json_object_get(o, "WebsiteConfiguration")),
              "a declared setting no longer configured reads as null");
    json_decref(observed);
    observed = NULL;
    cr_assert_eq(t->read_many(aws, ids, NULL, &observed), 0, "%s", plumb_error_message());
    cr_expect_null(json_object_get(json_array_get(observed, 0), "WebsiteConfiguration"),
                   "read whole (import), an unconfigured setting is left out");
    json_decref(b);
    json_decref(ob);
    json_decref(ids);
    json_decref(wanted);
    json_decref(observed);
    plumb_aws_free(aws);
}

Test(driver_s3_bucket, outside_us_east_1)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws;
    json_t *props, *observed = NULL, *got = NULL, *id;

    setenv("AWS_REGION", "eu-central-1", 1);
    setenv("AWS_DEFAULT_REGION", "eu-central-1", 1);
    aws = test_moto_client();
    props = json_pack("{s:s}", "BucketName", "prod-cloudshop-frontend");
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    cr_expect_str_eq(str_at(observed, "RegionalDomainName"),
                     "prod-cloudshop-frontend.s3.eu-central-1.amazonaws.com");
    cr_expect_str_eq(str_at(observed, "WebsiteURL"),
                     "http://prod-cloudshop-frontend.s3-website.eu-central-1.amazonaws.com");
    cr_assert_eq(test_aws_cli(&got, "s3api get-bucket-location --bucket prod-cloudshop-frontend"),
                 0);
    cr_expect_str_eq(str_at(got, "LocationConstraint"), "eu-central-1");
    json_decref(got);
    id = json_pack("{s:s}", "BucketName", "prod-cloudshop-frontend");
    cr_expect_eq(t->remove(aws, id, 0), 0, "%s", plumb_error_message());
    json_decref(id);
    json_decref(props);
    json_decref(observed);
    plumb_aws_free(aws);
}

Test(driver_s3_bucket, aws_errors_keep_their_code)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *observed = NULL;

    /* too short for a bucket name (moto 5.2.1 checks the length, not the characters) */
    props = json_pack("{s:s}", "BucketName", "ab");
    cr_expect_eq(t->create(aws, props, &observed), PLUMB_EAWS);
    cr_expect(strstr(plumb_error_message(), "InvalidBucketName") != NULL, "%s",
              plumb_error_message());
    cr_expect(strstr(plumb_error_message(), "request id") != NULL, "%s", plumb_error_message());
    json_decref(props);

    /* a setting AWS refuses after the bucket was made: the bucket goes again */
    props = json_pack("{s:s, s:{s:s}}", "BucketName", "half-made-bucket", "LoggingConfiguration",
                      "DestinationBucketName", "no-such-log-bucket");
    cr_expect_lt(t->create(aws, props, &observed), 0);
    cr_expect(strstr(plumb_error_message(), "InvalidTargetBucketForLogging") != NULL, "%s",
              plumb_error_message());
    cr_expect_null(observed);
    cr_expect_null(s3api("head-bucket", "half-made-bucket"), "the bucket was deleted again");
    json_decref(props);
    plumb_aws_free(aws);
}

Test(driver_s3_bucket, unnamed_bucket_is_named_after_its_address)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *observed = NULL, *found = NULL, *got;
    const char *name;

    props = json_pack("{s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}]}", "Tags", "Key", "plumb:project",
                      "Value", "CloudShop", "Key", "plumb:env", "Value", "stage", "Key",
                      "plumb:address", "Value",
                      "module.site.Frontend_Bucket_with_a_name_long_enough_to_be_cut");
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    name = str_at(observed, "BucketName");
    cr_assert_not_null(name);
    cr_expect_leq(strlen(name), 63);
    cr_expect(strncmp(name, "cloudshop-stage-module-site-frontend-bucket", 43) == 0, "%s", name);
    got = s3api("head-bucket", name);
    cr_expect_not_null(got, "the CLI sees '%s'", name);
    json_decref(got);
    cr_assert_eq(t->lookup(aws, props, &found), 0, "%s", plumb_error_message());
    cr_expect_str_eq(str_at(found, "BucketName"), name, "an interrupted apply finds it again");
    json_decref(found);
    json_decref(props);
    json_decref(observed);
    plumb_aws_free(aws);
}
