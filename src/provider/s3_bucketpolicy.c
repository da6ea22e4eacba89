/*
 * AWS::S3::BucketPolicy — the one policy document of a bucket.
 *
 * Identified by its bucket ({"Bucket": name}); it exists while the bucket has a policy. The
 * document is sent as JSON text and read back re-serialised, so it is compared and reported in
 * plumb_provider_policy_normalize's form. A public policy is refused (AccessDenied) while the
 * bucket's public access block has BlockPublicPolicy on: the error says so. There is no call
 * that reads several bucket policies, so there is no read_many.
 */
#include <stdlib.h>
#include <string.h>

#include "config/value.h"
#include "provider/provider.h"
#include "provider/util.h"
#include "util/error.h"

static int policy_read(struct plumb_aws *aws, const json_t *id, json_t **observed)
{
    const char *bucket = plumb_provider_id_str(id, "Bucket");
    json_t *in = NULL, *out = NULL, *doc;
    int error = 0;

    *observed = NULL;
    if (!bucket)
        return plumb_error_set(PLUMB_EINVALID, "bucket policy id lacks Bucket");
    in = json_pack("{s:s}", "Bucket", bucket);
    PLUMB_ALLOC_CHECK(in);
    error = plumb_aws_call(aws, "s3", "GetBucketPolicy", in, &out);
    if (error == PLUMB_ENOTFOUND) {
        error = 0; /* NoSuchBucketPolicy, or NoSuchBucket: either way there is none */
        goto done;
    }
    PLUMB_TRY(error);
    doc = plumb_provider_policy_normalize(json_object_get(out, "Policy"));
    if (!doc) {
        error =
            plumb_error_set(PLUMB_EAWS, "the policy of bucket '%s' is not a JSON document", bucket);
        goto done;
    }
    *observed = json_pack("{s:s, s:o}", "Bucket", bucket, "PolicyDocument", doc);
    PLUMB_ALLOC_CHECK(*observed);
done:
    json_decref(in);
    json_decref(out);
    return error;
}

static int policy_lookup(struct plumb_aws *aws, const json_t *props, json_t **id)
{
    const char *bucket = json_string_value(json_object_get(props, "Bucket"));
    json_t *want, *observed = NULL;
    int error;

    *id = NULL;
    if (!bucket)
        return 0;
    want = json_pack("{s:s}", "Bucket", bucket);
    if (!want)
        return plumb_error_oom();
    error = policy_read(aws, want, &observed);
    if (error == 0 && observed)
        *id = json_incref(want);
    json_decref(want);
    json_decref(observed);
    return error;
}

static int put_policy(struct plumb_aws *aws, const char *bucket, const json_t *doc)
{
    json_t *in = NULL, *out = NULL;
    char *text = json_is_string(doc)   ? strdup(json_string_value(doc))
                 : json_is_object(doc) ? json_dumps(doc, JSON_COMPACT)
                                       : NULL;
    int error = 0;

    if (!text) {
        error = plumb_error_set(PLUMB_EINVALID, "the policy of bucket '%s' needs PolicyDocument",
                                bucket);
        goto done;
    }
    in = json_pack("{s:s, s:s}", "Bucket", bucket, "Policy", text);
    PLUMB_ALLOC_CHECK(in);
    error = plumb_aws_call(aws, "s3", "PutBucketPolicy", in, &out);
    if (error == PLUMB_EAUTH)
        plumb_error_wrap("a public policy needs the public access block of bucket '%s' to allow "
                         "it (BlockPublicPolicy: false)",
                         bucket);
done:
    free(text);
    json_decref(in);
    json_decref(out);
    return error;
}

static int policy_create(struct plumb_aws *aws, const json_t *props, json_t **observed)
{
    const char *bucket = json_string_value(json_object_get(props, "Bucket"));
    json_t *id = NULL;
    int error = 0;

    *observed = NULL;
    if (!bucket)
        return plumb_error_set(PLUMB_EINVALID, "a bucket policy needs Bucket");
    PLUMB_TRY(put_policy(aws, bucket, json_object_get(props, "PolicyDocument")));
    id = json_pack("{s:s}", "Bucket", bucket);
    PLUMB_ALLOC_CHECK(id);
    PLUMB_TRY(policy_read(aws, id, observed));
    if (!*observed)
        error = plumb_error_set(PLUMB_ENOTFOUND,
                                "the policy of bucket '%s' is not visible after "
                                "putting it",
                                bucket);
done:
    json_decref(id);
    return error;
}

/* 1 when two documents differ once normalised. */
static int document_changed(const json_t *a, const json_t *b)
{
    json_t *na = a ? plumb_provider_policy_normalize(a) : NULL;
    json_t *nb = b ? plumb_provider_policy_normalize(b) : NULL;
    int changed = na && nb ? !json_equal(na, nb) : !json_equal(a, b);

    json_decref(na);
    json_decref(nb);
    return changed;
}

static int policy_update(struct plumb_aws *aws, const json_t *id, const json_t *before,
                         const json_t *after, json_t **observed)
{
    const char *bucket = plumb_provider_id_str(id, "Bucket");
    int error = 0;

    *observed = NULL;
    if (!bucket)
        return plumb_error_set(PLUMB_EINVALID, "bucket policy id lacks Bucket");
    if (document_changed(json_object_get(before, "PolicyDocument"),
                         json_object_get(after, "PolicyDocument")))
        PLUMB_TRY(put_policy(aws, bucket, json_object_get(after, "PolicyDocument")));
    PLUMB_TRY(policy_read(aws, id, observed));
    if (!*observed)
        error = plumb_error_set(PLUMB_ENOTFOUND, "bucket '%s' has no policy", bucket);
done:
    return error;
}

static int policy_remove(struct plumb_aws *aws, const json_t *id, unsigned flags)
{
    const char *bucket = plumb_provider_id_str(id, "Bucket");
    json_t *in, *out = NULL;
    int error;

    (void)flags;
    if (!bucket)
        return plumb_error_set(PLUMB_EINVALID, "bucket policy id lacks Bucket");
    in = json_pack("{s:s}", "Bucket", bucket);
    if (!in)
        return plumb_error_oom();
    error = plumb_aws_call(aws, "s3", "DeleteBucketPolicy", in, &out);
    if (error == PLUMB_ENOTFOUND)
        error = 0; /* no bucket, no policy */
    json_decref(in);
    json_decref(out);
    return error;
}

/* The declared properties as read reports them: the document normalised, unless it holds a
 * value known only at apply time (a bucket ARN not made yet), which stays as declared. */
static json_t *policy_normalize(const json_t *props)
{
    json_t *out = json_deep_copy(props), *doc, *n;

    if (!out)
        return NULL;
    doc = json_object_get(out, "PolicyDocument");
    if (doc && !plumb_value_has_unknown(doc) && !plumb_value_has_sensitive(doc) &&
        (n = plumb_provider_policy_normalize(doc)))
        json_object_set_new(out, "PolicyDocument", n);
    return out;
}

const struct plumb_resource_type plumb_driver_s3_bucketpolicy = {
    .type_name = "AWS::S3::BucketPolicy",
    .normalize = policy_normalize,
    .read = policy_read,
    .lookup = policy_lookup,
    .create = policy_create,
    .update = policy_update,
    .remove = policy_remove,
};
