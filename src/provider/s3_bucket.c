/*
 * AWS::S3::Bucket — S3 buckets and the bucket-level settings plumb manages: tags, ownership
 * controls, public access block, default encryption, versioning, website, CORS, lifecycle and
 * access logging.
 *
 * Every setting has its own Put/Get/Delete call, so create is CreateBucket followed by one Put
 * per declared setting (and deletes the bucket again when one fails), update puts or deletes
 * the settings that differ (one AWS gives every new bucket goes back to that value instead of
 * being deleted), and a read is HeadBucket plus one Get per setting. A Get that
 * answers "not configured" (NoSuchWebsiteConfiguration, ...) leaves the property out, except
 * where no configuration means a value a user can declare: no tags is [], no public access
 * block is every block off; and where the caller named the setting in `wanted` (a refresh of
 * a declared setting), it reports null (plumb_provider_not_set). The settings'
 * shapes differ between CloudFormation and the API (IndexDocument is a string in one, {Suffix} in
 * the other, ...): the converters below map them both ways. There is no call that reads several
 * buckets; read_many lists the buckets once (ListBuckets) to skip the missing ones and their
 * HeadBucket calls.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/value.h"
#include "provider/provider.h"
#include "provider/util.h"
#include "util/buf.h"
#include "util/error.h"

#define BUCKET_NAME_MAX 63
#define DELETE_BATCH    1000 /* DeleteObjects takes at most this many keys */

/* ---- calls ------------------------------------------------------------------------------ */

/* Calls an S3 operation whose output is not needed; takes `in` (NULL: out of memory). */
static int s3_do(struct plumb_aws *aws, const char *op, json_t *in)
{
    json_t *out = NULL;
    int error;

    if (!in)
        return plumb_error_oom();
    error = plumb_aws_call(aws, "s3", op, in, &out);
    json_decref(in);
    json_decref(out);
    return error;
}

static int is_code(const char *code)
{
    const struct plumb_aws_error_info *e = plumb_aws_last_error();

    return e && strcmp(e->code, code) == 0;
}

/*
 * A Get* of a bucket setting: *out = NULL (and 0) when the setting is not configured, which S3
 * says with a not-found error of the setting's own (NoSuchTagSet, ...). A missing bucket stays
 * an error (PLUMB_ENOTFOUND, NoSuchBucket).
 */
static int get_setting(struct plumb_aws *aws, const char *op, const char *bucket, json_t **out)
{
    json_t *in = json_pack("{s:s}", "Bucket", bucket);
    int error;

    *out = NULL;
    if (!in)
        return plumb_error_oom();
    error = plumb_aws_call(aws, "s3", op, in, out);
    if (error == PLUMB_ENOTFOUND && !is_code("NoSuchBucket")) {
        json_decref(*out);
        *out = NULL;
        error = 0;
    }
    json_decref(in);
    return error;
}

/* ---- shapes: CloudFormation <-> API ----------------------------------------------------- */

/* Member names as pairs {CloudFormation's, the API's}, NULL-terminated. */
static const char *const cors_names[] = {"AllowedHeaders",
                                         "AllowedHeaders",
                                         "AllowedMethods",
                                         "AllowedMethods",
                                         "AllowedOrigins",
                                         "AllowedOrigins",
                                         "ExposedHeaders",
                                         "ExposeHeaders",
                                         "Id",
                                         "ID",
                                         "MaxAge",
                                         "MaxAgeSeconds",
                                         NULL};
static const char *const redirect_names[] = {"HostName",
                                             "HostName",
                                             "HttpRedirectCode",
                                             "HttpRedirectCode",
                                             "Protocol",
                                             "Protocol",
                                             "ReplaceKeyPrefixWith",
                                             "ReplaceKeyPrefixWith",
                                             "ReplaceKeyWith",
                                             "ReplaceKeyWith",
                                             NULL};
static const char *const condition_names[] = {"HttpErrorCodeReturnedEquals",
                                              "HttpErrorCodeReturnedEquals", "KeyPrefixEquals",
                                              "KeyPrefixEquals", NULL};
static const char *const redirect_all_names[] = {"HostName", "HostName", "Protocol", "Protocol",
                                                 NULL};
static const char *const pab_names[] = {
    "BlockPublicAcls",       "BlockPublicAcls",       "BlockPublicPolicy",
    "BlockPublicPolicy",     "IgnorePublicAcls",      "IgnorePublicAcls",
    "RestrictPublicBuckets", "RestrictPublicBuckets", NULL};
static const char *const sse_names[] = {"SSEAlgorithm", "SSEAlgorithm", "KMSMasterKeyID",
                                        "KMSMasterKeyID", NULL};
static const char *const rule_names[] = {"Id", "ID", "Status", "Status", NULL};
/* rule members that go into the API's Expiration; ExpiredObjectDeleteMarker is write-only in
 * the schema, so reads leave it out */
static const char *const expiration_names[] = {
    "ExpirationInDays",          "Days", "ExpirationDate", "Date", "ExpiredObjectDeleteMarker",
    "ExpiredObjectDeleteMarker", NULL};
static const char *const expiration_read_names[] = {"ExpirationInDays", "Days", "ExpirationDate",
                                                    "Date", NULL};
static const char *const abort_names[] = {"DaysAfterInitiation", "DaysAfterInitiation", NULL};
static const char *const nc_expiration_names[] = {
    "NoncurrentDays", "NoncurrentDays", "NewerNoncurrentVersions", "NewerNoncurrentVersions", NULL};
static const char *const transition_names[] = {
    "StorageClass", "StorageClass", "TransitionInDays", "Days", "TransitionDate", "Date", NULL};
static const char *const nc_transition_names[] = {"StorageClass",
                                                  "StorageClass",
                                                  "TransitionInDays",
                                                  "NoncurrentDays",
                                                  "NewerNoncurrentVersions",
                                                  "NewerNoncurrentVersions",
                                                  NULL};

/* A new object with the members of `src` that `pairs` name, renamed towards the API
 * (to_api) or towards CloudFormation. */
static json_t *renamed(const json_t *src, const char *const *pairs, int to_api)
{
    json_t *out = json_object(), *v;

    for (; out && pairs[0]; pairs += 2)
        if ((v = json_object_get(src, pairs[to_api ? 0 : 1])))
            json_object_set(out, pairs[to_api ? 1 : 0], v);
    return out;
}

static json_t *renamed_list(const json_t *list, const char *const *pairs, int to_api)
{
    json_t *out = json_array(), *v;
    size_t i;

    json_array_foreach(list, i, v) json_array_append_new(out, renamed(v, pairs, to_api));
    return out;
}

/* Sets `key` of `dst` to `v` (stolen) when it has members, else drops it. */
static void set_nonempty(json_t *dst, const char *key, json_t *v)
{
    if (json_object_size(v) || json_array_size(v))
        json_object_set_new(dst, key, v);
    else
        json_decref(v);
}

static json_t *website_to_api(const json_t *w)
{
    json_t *out = json_object(), *rules, *r, *v;
    size_t i;

    if ((v = json_object_get(w, "IndexDocument")))
        json_object_set_new(out, "IndexDocument", json_pack("{s:O}", "Suffix", v));
    if ((v = json_object_get(w, "ErrorDocument")))
        json_object_set_new(out, "ErrorDocument", json_pack("{s:O}", "Key", v));
    if ((v = json_object_get(w, "RedirectAllRequestsTo")))
        json_object_set_new(out, "RedirectAllRequestsTo", renamed(v, redirect_all_names, 1));
    if ((v = json_object_get(w, "RoutingRules"))) {
        rules = json_array();
        json_array_foreach(v, i, r)
        {
            json_t *rule = json_object();
            json_object_set_new(rule, "Redirect",
                                renamed(json_object_get(r, "RedirectRule"), redirect_names, 1));
            if (json_object_get(r, "RoutingRuleCondition"))
                json_object_set_new(
                    rule, "Condition",
                    renamed(json_object_get(r, "RoutingRuleCondition"), condition_names, 1));
            json_array_append_new(rules, rule);
        }
        json_object_set_new(out, "RoutingRules", rules);
    }
    return out;
}

static json_t *website_from_api(const json_t *w)
{
    json_t *out = json_object(), *rules, *r, *v;
    size_t i;

    if ((v = json_object_get(json_object_get(w, "IndexDocument"), "Suffix")))
        json_object_set(out, "IndexDocument", v);
    if ((v = json_object_get(json_object_get(w, "ErrorDocument"), "Key")))
        json_object_set(out, "ErrorDocument", v);
    if ((v = json_object_get(w, "RedirectAllRequestsTo")))
        json_object_set_new(out, "RedirectAllRequestsTo", renamed(v, redirect_all_names, 0));
    if (json_array_size(v = json_object_get(w, "RoutingRules"))) {
        rules = json_array();
        json_array_foreach(v, i, r)
        {
            json_t *rule = json_object();
            json_object_set_new(rule, "RedirectRule",
                                renamed(json_object_get(r, "Redirect"), redirect_names, 0));
            if (json_object_get(r, "Condition"))
                json_object_set_new(rule, "RoutingRuleCondition",
                                    renamed(json_object_get(r, "Condition"), condition_names, 0));
            json_array_append_new(rules, rule);
        }
        json_object_set_new(out, "RoutingRules", rules);
    }
    return out;
}

static json_t *lifecycle_rule_to_api(const json_t *r)
{
    json_t *out = renamed(r, rule_names, 1), *v;
    const char *prefix = json_string_value(json_object_get(r, "Prefix"));

    /* a Filter, never the deprecated rule-level Prefix; no prefix is the whole bucket */
    json_object_set_new(out, "Filter", json_pack("{s:s}", "Prefix", prefix ? prefix : ""));
    set_nonempty(out, "Expiration", renamed(r, expiration_names, 1));
    if ((v = json_object_get(r, "AbortIncompleteMultipartUpload")))
        json_object_set_new(out, "AbortIncompleteMultipartUpload", renamed(v, abort_names, 1));
    if ((v = json_object_get(r, "NoncurrentVersionExpiration")))
        json_object_set_new(out, "NoncurrentVersionExpiration", renamed(v, nc_expiration_names, 1));
    if ((v = json_object_get(r, "Transitions")))
        json_object_set_new(out, "Transitions", renamed_list(v, transition_names, 1));
    if ((v = json_object_get(r, "NoncurrentVersionTransitions")))
        json_object_set_new(out, "NoncurrentVersionTransitions",
                            renamed_list(v, nc_transition_names, 1));
    return out;
}

static json_t *lifecycle_rule_from_api(const json_t *r)
{
    json_t *out = renamed(r, rule_names, 0), *exp, *v;
    const char *k,
        *prefix = json_string_value(json_object_get(json_object_get(r, "Filter"), "Prefix"));

    if (!prefix)
        prefix = json_string_value(json_object_get(r, "Prefix"));
    if (prefix && *prefix)
        json_object_set_new(out, "Prefix", json_string(prefix));
    exp = renamed(json_object_get(r, "Expiration"), expiration_read_names, 0);
    json_object_foreach(exp, k, v) json_object_set(out, k, v);
    json_decref(exp);
    if ((v = json_object_get(r, "AbortIncompleteMultipartUpload")))
        json_object_set_new(out, "AbortIncompleteMultipartUpload", renamed(v, abort_names, 0));
    if ((v = json_object_get(r, "NoncurrentVersionExpiration")))
        json_object_set_new(out, "NoncurrentVersionExpiration", renamed(v, nc_expiration_names, 0));
    if (json_array_size(v = json_object_get(r, "Transitions")))
        json_object_set_new(out, "Transitions", renamed_list(v, transition_names, 0));
    if (json_array_size(v = json_object_get(r, "NoncurrentVersionTransitions")))
        json_object_set_new(out, "NoncurrentVersionTransitions",
                            renamed_list(v, nc_transition_names, 0));
    return out;
}

static json_t *encryption_to_api(const json_t *e)
{
    json_t *rules = json_array(), *r, *v;
    size_t i;

    json_array_foreach(json_object_get(e, "ServerSideEncryptionConfiguration"), i, r)
    {
        json_t *rule = json_object();
        if ((v = json_object_get(r, "ServerSideEncryptionByDefault")))
            json_object_set_new(rule, "ApplyServerSideEncryptionByDefault",
                                renamed(v, sse_names, 1));
        if ((v = json_object_get(r, "BucketKeyEnabled")))
            json_object_set(rule, "BucketKeyEnabled", v);
        json_array_append_new(rules, rule);
    }
    return json_pack("{s:o}", "Rules", rules);
}

static json_t *encryption_from_api(const json_t *e)
{
    json_t *rules = json_array(), *r, *v;
    size_t i;

    json_array_foreach(json_object_get(e, "Rules"), i, r)
    {
        json_t *rule = json_object();
        if ((v = json_object_get(r, "ApplyServerSideEncryptionByDefault")))
            json_object_set_new(rule, "ServerSideEncryptionByDefault", renamed(v, sse_names, 0));
        if ((v = json_object_get(r, "BucketKeyEnabled")))
            json_object_set(rule, "BucketKeyEnabled", v);
        json_array_append_new(rules, rule);
    }
    return json_pack("{s:o}", "ServerSideEncryptionConfiguration", rules);
}

static json_t *tag_list(const json_t *tags)
{
    json_t *map = plumb_provider_tags_to_map(tags), *list;

    list = plumb_provider_tags_to_list(map, "Key", "Value");
    json_decref(map);
    return list;
}

/* ---- names and attributes --------------------------------------------------------------- */

static int is_alnum_lower(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/*
 * The bucket's name: BucketName, or, when the user leaves naming to AWS as CloudFormation
 * allows, one made from plumb's tags ("<project>-<env>-<address>" in bucket-name characters,
 * cut to 63 with a hash of the whole), so that an interrupted apply finds it again by name.
 */
static int bucket_name_of(struct plumb_buf *out, const json_t *props)
{
    const char *given = json_string_value(json_object_get(props, "BucketName"));
    json_t *tags = NULL;
    const char *project, *env, *address, *p;
    struct plumb_buf raw = PLUMB_BUF_INIT;
    uint32_t hash = 2166136261u;
    int error = 0, cut = 0;

    if (given) {
        error = plumb_buf_puts(out, given);
        goto done;
    }
    tags = plumb_provider_tags_to_map(json_object_get(props, "Tags"));
    project = json_string_value(json_object_get(tags, "plumb:project"));
    env = json_string_value(json_object_get(tags, "plumb:env"));
    address = json_string_value(json_object_get(tags, "plumb:address"));
    if (!address) {
        error = plumb_error_set(PLUMB_EINVALID, "a bucket needs BucketName");
        goto done;
    }
    if (project)
        plumb_buf_printf(&raw, "%s-", project);
    if (env)
        plumb_buf_printf(&raw, "%s-", env);
    plumb_buf_puts(&raw, address);
    for (p = plumb_buf_cstr(&raw); *p; p++) {
        char c = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
        hash = (hash ^ (unsigned char)*p) * 16777619u;
        if (!is_alnum_lower(c) && c != '-')
            c = '-';
        if (out->len == 0 && c == '-')
            continue; /* a name starts with a letter or digit */
        if (out->len == BUCKET_NAME_MAX)
            cut = 1;
        else
            plumb_buf_putc(out, c);
    }
    if (cut)
        out->len = BUCKET_NAME_MAX - 9;
    while (out->len > 0 && out->ptr[out->len - 1] == '-')
        out->len--; /* and ends with one */
    if (out->len == 0) {
        error = plumb_error_set(PLUMB_EINVALID, "a bucket needs BucketName");
        goto done;
    }
    out->ptr[out->len] = '\0';
    if (cut)
        plumb_buf_printf(out, "-%08x", (unsigned)hash);
done:
    json_decref(tags);
    plumb_buf_release(&raw);
    return error;
}

/* S3's website endpoints of the oldest regions use a dash before the region, the others a
 * dot (AWS's "Website endpoints" table). */
static int website_dash_region(const char *region)
{
    static const char *const dash[] = {
        "us-east-1",      "us-west-1",      "us-west-2", "eu-west-1",     "ap-southeast-1",
        "ap-southeast-2", "ap-northeast-1", "sa-east-1", "us-gov-west-1", NULL};
    size_t i;

    for (i = 0; dash[i]; i++)
        if (strcmp(dash[i], region) == 0)
            return 1;
    return 0;
}

/* The read-only attributes, computed as CloudFormation documents them for the region. */
static void set_attributes(json_t *o, const char *name, const char *region)
{
    const char *partition = "aws", *suffix = "amazonaws.com";
    struct plumb_buf b = PLUMB_BUF_INIT;

    if (strncmp(region, "cn-", 3) == 0) {
        partition = "aws-cn";
        suffix = "amazonaws.com.cn";
    } else if (strncmp(region, "us-gov-", 7) == 0) {
        partition = "aws-us-gov";
    }
    plumb_buf_printf(&b, "arn:%s:s3:::%s", partition, name);
    json_object_set_new(o, "Arn", json_string(plumb_buf_cstr(&b)));
    plumb_buf_clear(&b);
    if (strcmp(partition, "aws-cn") == 0)
        plumb_buf_printf(&b, "%s.s3.%s.%s", name, region, suffix);
    else
        plumb_buf_printf(&b, "%s.s3.%s", name, suffix);
    json_object_set_new(o, "DomainName", json_string(plumb_buf_cstr(&b)));
    plumb_buf_clear(&b);
    plumb_buf_printf(&b, "%s.s3.%s.%s", name, region, suffix);
    json_object_set_new(o, "RegionalDomainName", json_string(plumb_buf_cstr(&b)));
    plumb_buf_clear(&b);
    plumb_buf_printf(&b, "%s.s3.dualstack.%s.%s", name, region, suffix);
    json_object_set_new(o, "DualStackDomainName", json_string(plumb_buf_cstr(&b)));
    plumb_buf_clear(&b);
    plumb_buf_printf(&b, "http://%s.s3-website%s%s.%s", name,
                     website_dash_region(region) ? "-" : ".", region, suffix);
    json_object_set_new(o, "WebsiteURL", json_string(plumb_buf_cstr(&b)));
    plumb_buf_release(&b);
}

/* ---- read ------------------------------------------------------------------------------- */

/* The bucket in CloudFormation's shape, one Get per wanted setting (provider.h); NULL when it
 * went away. */
static int observe(struct plumb_aws *aws, const char *name, const char *region,
                   const json_t *wanted, json_t **observed)
{
    json_t *o = json_object(), *got = NULL, *v;
    int error = 0;

    *observed = NULL;
    PLUMB_ALLOC_CHECK(o);
    json_object_set_new(o, "BucketName", json_string(name));
    set_attributes(o, name, region);

    if (plumb_provider_wants(wanted, "Tags")) {
        PLUMB_TRY(get_setting(aws, "GetBucketTagging", name, &got));
        json_object_set_new(o, "Tags", tag_list(json_object_get(got, "TagSet")));
        json_decref(got);
        got = NULL;
    }

    if (plumb_provider_wants(wanted, "PublicAccessBlockConfiguration")) {
        /* no block configured is every block off: what a user declares to allow public access */
        PLUMB_TRY(get_setting(aws, "GetPublicAccessBlock", name, &got));
        v = json_object_get(got, "PublicAccessBlockConfiguration");
        json_object_set_new(o, "PublicAccessBlockConfiguration",
                            v ? renamed(v, pab_names, 0)
                              : json_pack("{s:b, s:b, s:b, s:b}", "BlockPublicAcls", 0,
                                          "BlockPublicPolicy", 0, "IgnorePublicAcls", 0,
                                          "RestrictPublicBuckets", 0));
        json_decref(got);
        got = NULL;
    }

    if (plumb_provider_wants(wanted, "OwnershipControls")) {
        PLUMB_TRY(get_setting(aws, "GetBucketOwnershipControls", name, &got));
        if ((v = json_object_get(json_object_get(got, "OwnershipControls"), "Rules")))
            json_object_set_new(o, "OwnershipControls", json_pack("{s:O}", "Rules", v));
        else
            plumb_provider_not_set(o, wanted, "OwnershipControls");
        json_decref(got);
        got = NULL;
    }

    if (plumb_provider_wants(wanted, "BucketEncryption")) {
        PLUMB_TRY(get_setting(aws, "GetBucketEncryption", name, &got));
        if ((v = json_object_get(got, "ServerSideEncryptionConfiguration")))
            json_object_set_new(o, "BucketEncryption", encryption_from_api(v));
        else
            plumb_provider_not_set(o, wanted, "BucketEncryption");
        json_decref(got);
        got = NULL;
    }

    if (plumb_provider_wants(wanted, "VersioningConfiguration")) {
        /* a bucket never versioned has no status: nothing a user could declare */
        PLUMB_TRY(get_setting(aws, "GetBucketVersioning", name, &got));
        if ((v = json_object_get(got, "Status")))
            json_object_set_new(o, "VersioningConfiguration", json_pack("{s:O}", "Status", v));
        json_decref(got);
        got = NULL;
    }

    if (plumb_provider_wants(wanted, "WebsiteConfiguration")) {
        PLUMB_TRY(get_setting(aws, "GetBucketWebsite", name, &got));
        if (got)
            json_object_set_new(o, "WebsiteConfiguration", website_from_api(got));
        else
            plumb_provider_not_set(o, wanted, "WebsiteConfiguration");
        json_decref(got);
        got = NULL;
    }

    if (plumb_provider_wants(wanted, "CorsConfiguration")) {
        PLUMB_TRY(get_setting(aws, "GetBucketCors", name, &got));
        if ((v = json_object_get(got, "CORSRules")))
            json_object_set_new(o, "CorsConfiguration",
                                json_pack("{s:o}", "CorsRules", renamed_list(v, cors_names, 0)));
        else
            plumb_provider_not_set(o, wanted, "CorsConfiguration");
        json_decref(got);
        got = NULL;
    }

    if (plumb_provider_wants(wanted, "LifecycleConfiguration")) {
        PLUMB_TRY(get_setting(aws, "GetBucketLifecycleConfiguration", name, &got));
        if ((v = json_object_get(got, "Rules"))) {
            json_t *lc = json_object(), *rules = json_array(), *r;
            size_t i;
            json_array_foreach(v, i, r) json_array_append_new(rules, lifecycle_rule_from_api(r));
            json_object_set_new(lc, "Rules", rules);
            if ((v = json_object_get(got, "TransitionDefaultMinimumObjectSize")))
                json_object_set(lc, "TransitionDefaultMinimumObjectSize", v);
            json_object_set_new(o, "LifecycleConfiguration", lc);
        } else {
            plumb_provider_not_set(o, wanted, "LifecycleConfiguration");
        }
        json_decref(got);
        got = NULL;
    }

    if (plumb_provider_wants(wanted, "LoggingConfiguration")) {
        PLUMB_TRY(get_setting(aws, "GetBucketLogging", name, &got));
        if ((v = json_object_get(got, "LoggingEnabled"))) {
            json_t *lg =
                json_pack("{s:O}", "DestinationBucketName", json_object_get(v, "TargetBucket"));
            if (json_string_length(json_object_get(v, "TargetPrefix")))
                json_object_set(lg, "LogFilePrefix", json_object_get(v, "TargetPrefix"));
            json_object_set_new(o, "LoggingConfiguration", lg);
        } else {
            plumb_provider_not_set(o, wanted, "LoggingConfiguration");
        }
        json_decref(got);
        got = NULL;
    }

    *observed = o;
    o = NULL;
done:
    if (error == PLUMB_ENOTFOUND)
        error = 0; /* NoSuchBucket: deleted while we read it */
    json_decref(o);
    json_decref(got);
    return error;
}

/* Whether observe() will make a call for `wanted`: any setting but the name. */
static int reads_a_setting(const json_t *wanted)
{
    static const char *const settings[] = {"Tags",
                                           "PublicAccessBlockConfiguration",
                                           "OwnershipControls",
                                           "BucketEncryption",
                                           "VersioningConfiguration",
                                           "WebsiteConfiguration",
                                           "CorsConfiguration",
                                           "LifecycleConfiguration",
                                           "LoggingConfiguration"};
    size_t i;

    for (i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
        if (plumb_provider_wants(wanted, settings[i]))
            return 1;
    return 0;
}

/* 1 and the bucket's region when it exists, 0 when not (HeadBucket). */
static int head_bucket(struct plumb_aws *aws, const char *name, char *region, size_t n)
{
    json_t *in = json_pack("{s:s}", "Bucket", name), *out = NULL;
    const char *r;
    int error;

    if (!in)
        return plumb_error_oom();
    error = plumb_aws_call(aws, "s3", "HeadBucket", in, &out);
    if (error == 0) {
        r = json_string_value(json_object_get(out, "BucketRegion"));
        snprintf(region, n, "%s", r ? r : plumb_aws_region(aws));
        error = 1;
    } else if (error == PLUMB_ENOTFOUND) {
        error = 0;
    }
    json_decref(in);
    json_decref(out);
    return error;
}

static int bucket_read(struct plumb_aws *aws, const json_t *id, json_t **observed)
{
    const char *name = plumb_provider_id_str(id, "BucketName");
    char region[64];
    int error;

    *observed = NULL;
    if (!name)
        return plumb_error_set(PLUMB_EINVALID, "bucket id lacks BucketName");
    error = head_bucket(aws, name, region, sizeof(region));
    if (error == 1)
        error = observe(aws, name, region, NULL, observed);
    return error;
}

static int bucket_read_many(struct plumb_aws *aws, const json_t *ids, const json_t *wanted,
                            json_t **observed)
{
    json_t *listed = NULL, *regions = json_object(), *out = json_array(), *b, *o;
    const json_t *id, *r;
    size_t i;
    int error = 0;

    *observed = NULL;
    PLUMB_ALLOC_CHECK(regions && out);
    if (json_array_size(ids) == 0)
        goto found; /* no listing for nothing */
    if (reads_a_setting(wanted)) {
        /* Each Get answers NoSuchBucket for a bucket that is gone, so no listing is needed
         * to know which exist; a project's buckets are in its region. */
        json_array_foreach(ids, i, id)
        {
            const char *name = plumb_provider_id_str(id, "BucketName");
            o = NULL;
            if (name)
                PLUMB_TRY(observe(aws, name, plumb_aws_region(aws), wanted, &o));
            json_array_append_new(out, o ? o : json_null());
        }
        goto found;
    }
    PLUMB_TRY(plumb_aws_paginate(aws, "s3", "ListBuckets", NULL, &listed));
    json_array_foreach(json_object_get(listed, "Buckets"), i, b)
    {
        const char *name = json_string_value(json_object_get(b, "Name"));
        /* older S3 (and moto) do not say the region: then it is the one we reach it in */
        r = json_object_get(b, "BucketRegion");
        if (name)
            json_object_set_new(
                regions, name,
                json_string(json_is_string(r) ? json_string_value(r) : plumb_aws_region(aws)));
    }
    json_array_foreach(ids, i, id)
    {
        const char *name = plumb_provider_id_str(id, "BucketName");
        o = NULL;
        if (name && (r = json_object_get(regions, name)))
            PLUMB_TRY(observe(aws, name, json_string_value(r), wanted, &o));
        json_array_append_new(out, o ? o : json_null());
    }
found:
    *observed = out;
    out = NULL;
done:
    json_decref(listed);
    json_decref(regions);
    json_decref(out);
    return error;
}

static int bucket_lookup(struct plumb_aws *aws, const json_t *props, json_t **id)
{
    struct plumb_buf name = PLUMB_BUF_INIT;
    char region[64];
    int error = 0;

    *id = NULL;
    PLUMB_TRY(bucket_name_of(&name, props));
    error = head_bucket(aws, name.ptr, region, sizeof(region));
    if (error == PLUMB_EAUTH) {
        error = 0; /* someone else's bucket: not one we made; create will say so */
    } else if (error == 1) {
        error = 0;
        *id = json_pack("{s:s}", "BucketName", name.ptr);
        PLUMB_ALLOC_CHECK(*id);
    }
done:
    plumb_buf_release(&name);
    return error;
}

/* ---- settings --------------------------------------------------------------------------- */

static int set_tags(struct plumb_aws *aws, const char *bucket, const json_t *before,
                    const json_t *after)
{
    json_t *list = tag_list(after);
    int error;

    (void)before;
    /* PutBucketTagging replaces the whole set */
    if (json_array_size(list))
        error = s3_do(aws, "PutBucketTagging",
                      json_pack("{s:s, s:{s:O}}", "Bucket", bucket, "Tagging", "TagSet", list));
    else
        error = s3_do(aws, "DeleteBucketTagging", json_pack("{s:s}", "Bucket", bucket));
    json_decref(list);
    return error;
}

static int set_ownership(struct plumb_aws *aws, const char *bucket, const json_t *before,
                         const json_t *after)
{
    (void)before;
    if (!after)
        return s3_do(aws, "DeleteBucketOwnershipControls", json_pack("{s:s}", "Bucket", bucket));
    return s3_do(aws, "PutBucketOwnershipControls",
                 json_pack("{s:s, s:{s:O}}", "Bucket", bucket, "OwnershipControls", "Rules",
                           json_object_get(after, "Rules")));
}

static int set_public_access_block(struct plumb_aws *aws, const char *bucket, const json_t *before,
                                   const json_t *after)
{
    (void)before;
    if (!after)
        return s3_do(aws, "DeletePublicAccessBlock", json_pack("{s:s}", "Bucket", bucket));
    return s3_do(aws, "PutPublicAccessBlock",
                 json_pack("{s:s, s:o}", "Bucket", bucket, "PublicAccessBlockConfiguration",
                           renamed(after, pab_names, 1)));
}

static int set_encryption(struct plumb_aws *aws, const char *bucket, const json_t *before,
                          const json_t *after)
{
    (void)before;
    if (!after)
        return s3_do(aws, "DeleteBucketEncryption", json_pack("{s:s}", "Bucket", bucket));
    return s3_do(aws, "PutBucketEncryption",
                 json_pack("{s:s, s:o}", "Bucket", bucket, "ServerSideEncryptionConfiguration",
                           encryption_to_api(after)));
}

static int set_versioning(struct plumb_aws *aws, const char *bucket, const json_t *before,
                          const json_t *after)
{
    const char *status = json_string_value(json_object_get(after, "Status"));

    /* versioning cannot be switched off once on, only suspended; never on, nothing to do */
    if (!status) {
        if (!json_equal(json_object_get(before, "Status"), json_string("Enabled")))
            return 0;
        status = "Suspended";
    }
    return s3_do(
        aws, "PutBucketVersioning",
        json_pack("{s:s, s:{s:s}}", "Bucket", bucket, "VersioningConfiguration", "Status", status));
}

static int set_website(struct plumb_aws *aws, const char *bucket, const json_t *before,
                       const json_t *after)
{
    (void)before;
    if (!after)
        return s3_do(aws, "DeleteBucketWebsite", json_pack("{s:s}", "Bucket", bucket));
    return s3_do(
        aws, "PutBucketWebsite",
        json_pack("{s:s, s:o}", "Bucket", bucket, "WebsiteConfiguration", website_to_api(after)));
}

static int set_cors(struct plumb_aws *aws, const char *bucket, const json_t *before,
                    const json_t *after)
{
    (void)before;
    if (!after)
        return s3_do(aws, "DeleteBucketCors", json_pack("{s:s}", "Bucket", bucket));
    return s3_do(aws, "PutBucketCors",
                 json_pack("{s:s, s:{s:o}}", "Bucket", bucket, "CORSConfiguration", "CORSRules",
                           renamed_list(json_object_get(after, "CorsRules"), cors_names, 1)));
}

static int set_lifecycle(struct plumb_aws *aws, const char *bucket, const json_t *before,
                         const json_t *after)
{
    json_t *in, *rules, *r, *v;
    size_t i;

    (void)before;
    if (!after)
        return s3_do(aws, "DeleteBucketLifecycle", json_pack("{s:s}", "Bucket", bucket));
    rules = json_array();
    json_array_foreach(json_object_get(after, "Rules"), i, r)
        json_array_append_new(rules, lifecycle_rule_to_api(r));
    in = json_pack("{s:s, s:{s:o}}", "Bucket", bucket, "LifecycleConfiguration", "Rules", rules);
    if (in && (v = json_object_get(after, "TransitionDefaultMinimumObjectSize")))
        json_object_set(in, "TransitionDefaultMinimumObjectSize", v);
    return s3_do(aws, "PutBucketLifecycleConfiguration", in);
}

static int set_logging(struct plumb_aws *aws, const char *bucket, const json_t *before,
                       const json_t *after)
{
    const char *target = json_string_value(json_object_get(after, "DestinationBucketName"));
    const char *prefix = json_string_value(json_object_get(after, "LogFilePrefix"));

    (void)before;
    /* an empty status turns logging off */
    if (!after)
        return s3_do(aws, "PutBucketLogging",
                     json_pack("{s:s, s:{}}", "Bucket", bucket, "BucketLoggingStatus"));
    /* CloudFormation: without a destination, logs go to the bucket itself */
    return s3_do(aws, "PutBucketLogging",
                 json_pack("{s:s, s:{s:{s:s, s:s}}}", "Bucket", bucket, "BucketLoggingStatus",
                           "LoggingEnabled", "TargetBucket", target ? target : bucket,
                           "TargetPrefix", prefix ? prefix : ""));
}

/*
 * In the order they are applied: tags first, so that even a half-made bucket says whose it is;
 * ownership and the public access block before what they govern. `aws_default` is what AWS
 * gives a new bucket (the schema's plumb.defaults): a setting with one that is left out of the
 * config goes back to it rather than being deleted, so that no longer declaring a public
 * access block never leaves a bucket with none.
 */
static const struct {
    const char *property;
    /* changes the setting from `before` to `after` (either NULL: not declared) */
    int (*fn)(struct plumb_aws *aws, const char *bucket, const json_t *before, const json_t *after);
    const char *aws_default;
} settings[] = {
    {"Tags", set_tags, NULL},
    {"OwnershipControls", set_ownership,
     "{\"Rules\": [{\"ObjectOwnership\": \"BucketOwnerEnforced\"}]}"},
    {"PublicAccessBlockConfiguration", set_public_access_block,
     "{\"BlockPublicAcls\": true, \"BlockPublicPolicy\": true, \"IgnorePublicAcls\": true, "
     "\"RestrictPublicBuckets\": true}"},
    {"BucketEncryption", set_encryption,
     "{\"ServerSideEncryptionConfiguration\": [{\"ServerSideEncryptionByDefault\": "
     "{\"SSEAlgorithm\": \"AES256\"}, \"BucketKeyEnabled\": false}]}"},
    {"VersioningConfiguration", set_versioning, NULL},
    {"WebsiteConfiguration", set_website, NULL},
    {"CorsConfiguration", set_cors, NULL},
    {"LifecycleConfiguration", set_lifecycle, NULL},
    {"LoggingConfiguration", set_logging, NULL},
};

/* 1 when the tags differ as sets (order does not count). */
static int tags_changed(const json_t *before, const json_t *after)
{
    json_t *a = plumb_provider_tags_to_map(json_object_get(before, "Tags"));
    json_t *b = plumb_provider_tags_to_map(json_object_get(after, "Tags"));
    int changed = !json_equal(a, b);

    json_decref(a);
    json_decref(b);
    return changed;
}

/* Puts or deletes every setting that differs between `before` and `after`. */
static int apply_settings(struct plumb_aws *aws, const char *bucket, const json_t *before,
                          const json_t *after)
{
    json_t *dflt = NULL;
    const json_t *b, *a;
    size_t i;
    int error = 0;

    for (i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
        const char *k = settings[i].property;
        b = json_object_get(before, k);
        a = json_object_get(after, k);
        if (strcmp(k, "Tags") == 0 ? !tags_changed(before, after)
                                   : !plumb_provider_changed(before, after, k))
            continue;
        if (!a && settings[i].aws_default) {
            dflt = json_loads(settings[i].aws_default, 0, NULL);
            PLUMB_ALLOC_CHECK(dflt);
            if (json_equal(b, dflt)) {
                json_decref(dflt);
                dflt = NULL;
                continue;
            }
            a = dflt;
        }
        PLUMB_TRY(settings[i].fn(aws, bucket, b, a));
        json_decref(dflt);
        dflt = NULL;
    }
done:
    json_decref(dflt);
    return error;
}

/* ---- create, update, remove ------------------------------------------------------------- */

/* Deletes every object version and delete marker, a page of listing at a time. */
static int empty_bucket(struct plumb_aws *aws, const char *bucket)
{
    static const char *const kinds[] = {"Versions", "DeleteMarkers", NULL};
    json_t *in = NULL, *page = NULL, *objects = NULL, *result = NULL, *v, *err;
    size_t i, k;
    int error = 0;

    for (;;) {
        /* what was deleted is no longer listed: each round starts from the beginning */
        in = json_pack("{s:s, s:i}", "Bucket", bucket, "MaxKeys", DELETE_BATCH);
        PLUMB_ALLOC_CHECK(in);
        PLUMB_TRY(plumb_aws_call(aws, "s3", "ListObjectVersions", in, &page));
        objects = json_array();
        PLUMB_ALLOC_CHECK(objects);
        for (k = 0; kinds[k]; k++) {
            json_array_foreach(json_object_get(page, kinds[k]), i, v) json_array_append_new(
                objects, json_pack("{s:O, s:O?}", "Key", json_object_get(v, "Key"), "VersionId",
                                   json_object_get(v, "VersionId")));
        }
        if (json_array_size(objects) == 0)
            break;
        json_decref(in);
        in = json_pack("{s:s, s:{s:O, s:b}}", "Bucket", bucket, "Delete", "Objects", objects,
                       "Quiet", 1);
        PLUMB_ALLOC_CHECK(in);
        PLUMB_TRY(plumb_aws_call(aws, "s3", "DeleteObjects", in, &result));
        if ((err = json_array_get(json_object_get(result, "Errors"), 0))) {
            error = plumb_error_set(PLUMB_EAWS, "unable to delete '%s' from bucket '%s': %s: %s",
                                    json_string_value(json_object_get(err, "Key")), bucket,
                                    json_string_value(json_object_get(err, "Code")),
                                    json_string_value(json_object_get(err, "Message")));
            goto done;
        }
        json_decref(in);
        json_decref(page);
        json_decref(objects);
        json_decref(result);
        in = page = objects = result = NULL;
    }
done:
    json_decref(in);
    json_decref(page);
    json_decref(objects);
    json_decref(result);
    return error;
}

static int bucket_remove(struct plumb_aws *aws, const json_t *id, unsigned flags)
{
    const char *name = plumb_provider_id_str(id, "BucketName");
    int error = 0, attempt;

    if (!name)
        return plumb_error_set(PLUMB_EINVALID, "bucket id lacks BucketName");
    for (attempt = 0;; attempt++) {
        error = s3_do(aws, "DeleteBucket", json_pack("{s:s}", "Bucket", name));
        if (error == 0 || !is_code("BucketNotEmpty"))
            break;
        if (!(flags & PLUMB_REMOVE_FORCE)) {
            error = plumb_error_wrap("bucket '%s' is not empty (declare lifecycle force_destroy "
                                     "to delete its objects with it)",
                                     name);
            break;
        }
        /* a second round only when objects were written while we emptied it */
        if (attempt == 3)
            break;
        PLUMB_TRY(empty_bucket(aws, name));
    }
done:
    return error == PLUMB_ENOTFOUND ? 0 : error; /* gone already */
}

static int bucket_create(struct plumb_aws *aws, const json_t *props, json_t **observed)
{
    struct plumb_buf name = PLUMB_BUF_INIT;
    const char *region = plumb_aws_region(aws);
    json_t *in = NULL, *id = NULL, *none = json_object();
    char *why;
    int error = 0, made = 0;

    *observed = NULL;
    PLUMB_ALLOC_CHECK(none);
    PLUMB_TRY(bucket_name_of(&name, props));
    in = json_pack("{s:s}", "Bucket", name.ptr);
    id = json_pack("{s:s}", "BucketName", name.ptr);
    PLUMB_ALLOC_CHECK(in && id);
    /* us-east-1 is the one region that takes no location constraint (and refuses its own) */
    if (region && strcmp(region, "us-east-1") != 0)
        json_object_set_new(in, "CreateBucketConfiguration",
                            json_pack("{s:s}", "LocationConstraint", region));
    error = s3_do(aws, "CreateBucket", in);
    in = NULL; /* s3_do took it */
    PLUMB_TRY(error);
    made = 1;
    PLUMB_TRY(apply_settings(aws, name.ptr, none, props));
    PLUMB_TRY(bucket_read(aws, id, observed));
    if (!*observed)
        error = plumb_error_set(PLUMB_ENOTFOUND, "bucket '%s' is not visible after creating it",
                                name.ptr);
done:
    if (error < 0 && made) {
        /* an empty bucket that the apply reports as failed would only be in the way */
        why = strdup(plumb_error_message());
        if (bucket_remove(aws, id, 0) < 0)
            plumb_error_set(error, "%s (and deleting the half-made bucket failed: %s)",
                            why ? why : "create failed", plumb_error_message());
        else
            plumb_error_set(error, "%s", why ? why : "create failed");
        free(why);
    }
    plumb_buf_release(&name);
    json_decref(in);
    json_decref(id);
    json_decref(none);
    return error;
}

static int bucket_update(struct plumb_aws *aws, const json_t *id, const json_t *before,
                         const json_t *after, json_t **observed)
{
    const char *name = plumb_provider_id_str(id, "BucketName");
    int error = 0;

    *observed = NULL;
    if (!name)
        return plumb_error_set(PLUMB_EINVALID, "bucket id lacks BucketName");
    PLUMB_TRY(apply_settings(aws, name, before, after));
    PLUMB_TRY(bucket_read(aws, id, observed));
    if (!*observed)
        error = plumb_error_set(PLUMB_ENOTFOUND, "bucket '%s' does not exist", name);
done:
    return error;
}

/* ---- waits ------------------------------------------------------------------------------ */

struct head_check {
    struct plumb_aws *aws;
    const char *name;
    int want; /* 1: until it exists, 0: until it is gone */
};

static int check_head(void *ctx, const char **status)
{
    struct head_check *c = ctx;
    char region[64];
    int error = head_bucket(c->aws, c->name, region, sizeof(region));

    *status = c->want ? "creating" : "deleting";
    if (error < 0)
        return error;
    return error == c->want;
}

/* The SDKs' BucketExists and BucketNotExists waiters: HeadBucket until it says so. */
static int bucket_wait(struct plumb_aws *aws, const json_t *id, struct plumb_progress *p, int want)
{
    struct head_check c = {aws, plumb_provider_id_str(id, "BucketName"), want};

    if (!c.name)
        return plumb_error_set(PLUMB_EINVALID, "bucket id lacks BucketName");
    return plumb_provider_wait(p, 5000, check_head, &c,
                               want ? "the bucket to exist" : "the bucket to be deleted");
}

static int bucket_wait_stable(struct plumb_aws *aws, const json_t *id, struct plumb_progress *p)
{
    return bucket_wait(aws, id, p, 1);
}

static int bucket_wait_deleted(struct plumb_aws *aws, const json_t *id, struct plumb_progress *p)
{
    return bucket_wait(aws, id, p, 0);
}

/* The declared properties as read reports them: a log destination left out is the bucket. */
static json_t *bucket_normalize(const json_t *props)
{
    json_t *out = json_deep_copy(props), *logging, *name;

    if (!out)
        return NULL;
    logging = json_object_get(out, "LoggingConfiguration");
    name = json_object_get(out, "BucketName");
    if (json_is_object(logging) && json_is_string(name) && !plumb_value_is_unknown(logging) &&
        !plumb_value_is_sensitive(logging) && !json_object_get(logging, "DestinationBucketName"))
        json_object_set(logging, "DestinationBucketName", name);
    return out;
}

const struct plumb_resource_type plumb_driver_s3_bucket = {
    .type_name = "AWS::S3::Bucket",
    .normalize = bucket_normalize,
    .read = bucket_read,
    .read_many = bucket_read_many,
    .lookup = bucket_lookup,
    .create = bucket_create,
    .update = bucket_update,
    .remove = bucket_remove,
    .wait_stable = bucket_wait_stable,
    .waits_only = 1,
    .wait_deleted = bucket_wait_deleted,
    /* Not found_by_tags, though the tagging API lists tagged buckets: in us-east-1 CreateBucket
     * answers 200 for a bucket the account owns already, so without the lookup before it plumb
     * would take over a bucket made outside it (and, when the rest of its create failed,
     * delete it). Its tags come after CreateBucket, too, so a bucket whose create was cut short
     * is untagged and only the lookup by name finds it. */
};
