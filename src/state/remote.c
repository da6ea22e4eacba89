#include "state/remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/log.h"
#include "util/sys.h"

struct plumb_remote {
    struct plumb_aws *aws;
    char *bucket, *key, *table, *lock_id, *digest_id, *url, *env;
    char token[40]; /* our lock's id while we hold it */
    int locked;
    char digest[65]; /* the remote digest as last pulled or pushed ("" when none) */
};

static char *joined(const char *a, const char *b, const char *c)
{
    struct plumb_buf buf = PLUMB_BUF_INIT;

    if (plumb_buf_printf(&buf, "%s%s%s", a, b, c) < 0) {
        plumb_buf_release(&buf);
        return NULL;
    }
    return plumb_buf_detach(&buf);
}

int plumb_remote_open(struct plumb_remote **out, struct plumb_aws *aws, const char *bucket,
                      const char *key_prefix, const char *table, const char *env)
{
    struct plumb_remote *r = calloc(1, sizeof(*r));
    struct plumb_buf key = PLUMB_BUF_INIT;

    *out = NULL;
    if (!r)
        return plumb_error_oom();
    r->aws = aws;
    /* "team/", "team" and "/team/" name the same prefix */
    while (key_prefix && *key_prefix == '/')
        key_prefix++;
    if (key_prefix && *key_prefix) {
        size_t n = strlen(key_prefix);
        while (n > 0 && key_prefix[n - 1] == '/')
            n--;
        plumb_buf_put(&key, key_prefix, n);
        plumb_buf_putc(&key, '/');
    }
    plumb_buf_printf(&key, "%s/state.json", env);
    r->key = plumb_buf_detach(&key);
    r->bucket = strdup(bucket);
    r->table = strdup(table);
    r->env = strdup(env);
    r->lock_id = joined(bucket, "/", r->key);
    r->digest_id = r->lock_id ? joined(r->lock_id, "-digest", "") : NULL;
    r->url = joined("s3://", bucket, "/");
    if (r->url) {
        char *u = joined(r->url, r->key, "");
        free(r->url);
        r->url = u;
    }
    if (!r->key || !r->bucket || !r->table || !r->env || !r->lock_id || !r->digest_id || !r->url) {
        plumb_remote_free(r);
        return plumb_error_oom();
    }
    *out = r;
    return 0;
}

void plumb_remote_free(struct plumb_remote *r)
{
    if (!r)
        return;
    free(r->bucket);
    free(r->key);
    free(r->table);
    free(r->lock_id);
    free(r->digest_id);
    free(r->url);
    free(r->env);
    free(r);
}

const char *plumb_remote_url(const struct plumb_remote *r)
{
    return r->url;
}

static const char *attr_s(const json_t *item, const char *name)
{
    return json_string_value(json_object_get(json_object_get(item, name), "S"));
}

/* The item `id` of the table (ConsistentRead), or *item = NULL. */
static int get_item(struct plumb_remote *r, const char *id, json_t **item)
{
    json_t *in = json_pack("{s:s, s:{s:{s:s}}, s:b}", "TableName", r->table, "Key", "LockID", "S",
                           id, "ConsistentRead", 1),
           *out = NULL;
    int error;

    *item = NULL;
    if (!in)
        return plumb_error_oom();
    error = plumb_aws_call(r->aws, "dynamodb", "GetItem", in, &out);
    if (error == 0)
        *item = json_incref(json_object_get(out, "Item"));
    json_decref(in);
    json_decref(out);
    return error;
}

int plumb_remote_holder(struct plumb_remote *r, json_t **holder)
{
    json_t *item = NULL;
    const char *info;
    int error;

    *holder = NULL;
    if ((error = get_item(r, r->lock_id, &item)) < 0)
        return error;
    info = attr_s(item, "Info");
    if (item)
        *holder = info ? json_loads(info, 0, NULL) : json_object();
    if (*holder && !json_object_get(*holder, "ID") && attr_s(item, "LockToken"))
        json_object_set_new(*holder, "ID", json_string(attr_s(item, "LockToken")));
    json_decref(item);
    return 0;
}

static const char *or_else(const json_t *v, const char *fallback)
{
    return json_is_string(v) ? json_string_value(v) : fallback;
}

static int locked_error(struct plumb_remote *r)
{
    json_t *h = NULL;
    int error;

    if (plumb_remote_holder(r, &h) < 0 || !h)
        return plumb_error_set(PLUMB_ELOCKED, "the state at %s is locked (lock table %s)", r->url,
                               r->table);
    error = plumb_error_set(
        PLUMB_ELOCKED,
        "the state at %s is locked by %s (pid %lld on host %s, running '%s' since %s); if that "
        "process is gone: plumb state unlock -e %s %s",
        r->url, or_else(json_object_get(h, "Who"), "someone"),
        (long long)json_integer_value(json_object_get(h, "Pid")),
        or_else(json_object_get(h, "Host"), "unknown"),
        or_else(json_object_get(h, "Operation"), "unknown"),
        or_else(json_object_get(h, "Created"), "unknown"), r->env,
        or_else(json_object_get(h, "ID"), "?"));
    json_decref(h);
    return error;
}

/* A DynamoDB write with a condition (`in` is taken; NULL: out of memory): 0 done, 1 the
 * condition did not hold, or an error. */
static int conditional_write(struct plumb_remote *r, const char *operation, json_t *in)
{
    const struct plumb_aws_error_info *e;
    json_t *out = NULL;
    int error;

    if (!in)
        return plumb_error_oom();
    error = plumb_aws_call(r->aws, "dynamodb", operation, in, &out);
    json_decref(in);
    json_decref(out);
    e = error < 0 ? plumb_aws_last_error() : NULL;
    return e && strcmp(e->code, "ConditionalCheckFailedException") == 0 ? 1 : error;
}

int plumb_remote_lock(struct plumb_remote *r, const char *operation)
{
    char host[256] = "unknown", who[300], when[21];
    json_t *info, *in;
    char *text;
    int error;

    if (r->locked)
        return 0;
    gethostname(host, sizeof(host) - 1);
    host[sizeof(host) - 1] = '\0';
    plumb_who(who, sizeof(who));
    plumb_time_iso8601(when, plumb_clock_now());
    snprintf(r->token, sizeof(r->token), "%016llx%016llx", (unsigned long long)plumb_random_u64(),
             (unsigned long long)plumb_random_u64());
    info = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:s}", "ID", r->token, "Operation", operation,
                     "Who", who, "Host", host, "Pid", (json_int_t)getpid(), "Created", when, "Path",
                     r->url);
    text = info ? json_dumps(info, JSON_COMPACT) : NULL;
    json_decref(info);
    if (!text)
        return plumb_error_oom();
    in = json_pack("{s:s, s:{s:{s:s}, s:{s:s}, s:{s:s}}, s:s}", "TableName", r->table, "Item",
                   "LockID", "S", r->lock_id, "Info", "S", text, "LockToken", "S", r->token,
                   "ConditionExpression", "attribute_not_exists(LockID)");
    free(text);
    error = conditional_write(r, "PutItem", in);
    if (error == 1)
        return locked_error(r);
    if (error < 0)
        return error;
    r->locked = 1;
    return 0;
}

int plumb_remote_is_locked(const struct plumb_remote *r)
{
    return r->locked;
}

static int delete_lock(struct plumb_remote *r, const char *token)
{
    int error = conditional_write(r, "DeleteItem",
                                  json_pack("{s:s, s:{s:{s:s}}, s:s, s:{s:{s:s}}}", "TableName",
                                            r->table, "Key", "LockID", "S", r->lock_id,
                                            "ConditionExpression", "LockToken = :t",
                                            "ExpressionAttributeValues", ":t", "S", token));

    if (error == 1)
        return plumb_error_set(PLUMB_ENOTFOUND, "no lock '%s' is held on %s", token, r->url);
    return error;
}

int plumb_remote_unlock(struct plumb_remote *r)
{
    int error;

    if (!r->locked)
        return 0;
    error = delete_lock(r, r->token);
    r->locked = 0;
    return error;
}

int plumb_remote_force_unlock(struct plumb_remote *r, const char *lock_id)
{
    return delete_lock(r, lock_id);
}

static void sha256_hex(char out[65], const char *data, size_t n)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0, i;

    out[0] = '\0';
    if (EVP_Digest(data, n, md, &len, EVP_sha256(), NULL) != 1)
        return;
    for (i = 0; i < len && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* The snapshot as it is uploaded: the canonical text of the export. */
static int snapshot_text(struct plumb_state *st, char **text)
{
    json_t *doc = NULL;
    int error;

    *text = NULL;
    if ((error = plumb_state_export(st, &doc)) < 0)
        return error;
    *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(doc);
    return *text ? 0 : plumb_error_oom();
}

int plumb_remote_pull(struct plumb_remote *r, struct plumb_state *st, int *pulled)
{
    json_t *digest = NULL, *in = NULL, *out = NULL, *snapshot = NULL;
    struct plumb_buf body = PLUMB_BUF_INIT;
    const char *want, *lineage, *version, *b64;
    char have[65];
    long serial;
    int error = 0;

    *pulled = 0;
    PLUMB_TRY(get_item(r, r->digest_id, &digest));
    if (!digest) {
        r->digest[0] = '\0';
        goto done; /* nothing pushed yet */
    }
    want = attr_s(digest, "Digest");
    lineage = attr_s(digest, "Lineage");
    version = attr_s(digest, "VersionId");
    serial = attr_s(digest, "Serial") ? atol(attr_s(digest, "Serial")) : -1;
    if (!want || !lineage || serial < 0) {
        error = plumb_error_set(PLUMB_ERROR, "the digest of %s in %s is damaged", r->url, r->table);
        goto done;
    }
    snprintf(r->digest, sizeof(r->digest), "%s", want);
    if (plumb_state_lineage(st) && strcmp(plumb_state_lineage(st), lineage) == 0 &&
        plumb_state_serial(st) >= serial)
        goto done; /* the cache is current (or ahead: a push is due) */
    if (plumb_state_lineage(st) && strcmp(plumb_state_lineage(st), lineage) != 0 &&
        plumb_state_serial(st) > 0) {
        /* not a cache of this remote: state of its own, which a pull would throw away */
        error = plumb_error_set(PLUMB_ECONFLICT,
                                "the local state (%s, serial %ld) is another history than %s "
                                "(serial %ld): move the local directory away to use the shared "
                                "state",
                                plumb_state_dir(st), plumb_state_serial(st), r->url, serial);
        goto done;
    }
    in = json_pack("{s:s, s:s}", "Bucket", r->bucket, "Key", r->key);
    PLUMB_ALLOC_CHECK(in);
    if (version && strcmp(version, "null") != 0)
        json_object_set_new(in, "VersionId", json_string(version));
    PLUMB_TRY(plumb_aws_call(r->aws, "s3", "GetObject", in, &out));
    b64 = json_string_value(json_object_get(out, "Body"));
    PLUMB_TRY(plumb_buf_put_unbase64(&body, b64 ? b64 : "", b64 ? strlen(b64) : 0));
    sha256_hex(have, plumb_buf_cstr(&body), body.len);
    if (strcmp(have, want) != 0) {
        error = plumb_error_set(PLUMB_ECONFLICT,
                                "the state snapshot at %s does not match its digest in %s "
                                "(sha256 %.12s..., expected %.12s...): damaged, stale or written "
                                "half; not used. The last good version is in the bucket's "
                                "versions",
                                r->url, r->table, have, want);
        goto done;
    }
    snapshot = json_loadb(plumb_buf_cstr(&body), body.len, 0, NULL);
    if (!snapshot || json_integer_value(json_object_get(snapshot, "serial")) != serial ||
        !json_string_value(json_object_get(snapshot, "lineage")) ||
        strcmp(json_string_value(json_object_get(snapshot, "lineage")), lineage) != 0) {
        error = plumb_error_set(PLUMB_ECONFLICT,
                                "the state snapshot at %s is not the one its digest describes "
                                "(serial %ld, lineage %s); not used",
                                r->url, serial, lineage);
        goto done;
    }
    PLUMB_TRY(plumb_state_import(st, snapshot));
    plumb_log_info("state: pulled serial %ld from %s", serial, r->url);
    *pulled = 1;
done:
    json_decref(digest);
    json_decref(in);
    json_decref(out);
    json_decref(snapshot);
    plumb_buf_release(&body);
    return error;
}

int plumb_remote_behind(struct plumb_remote *r, struct plumb_state *st, int *behind)
{
    char *text = NULL, have[65];
    int error;

    *behind = 0;
    if ((error = snapshot_text(st, &text)) < 0)
        return error;
    sha256_hex(have, text, strlen(text));
    *behind = strcmp(have, r->digest) != 0;
    free(text);
    return 0;
}

int plumb_remote_push(struct plumb_remote *r, struct plumb_state *st)
{
    struct plumb_buf b64 = PLUMB_BUF_INIT;
    json_t *in = NULL, *out = NULL;
    char *text = NULL, digest[65], serial[32];
    const char *version;
    int error = 0;

    if (!r->locked)
        return plumb_error_set(PLUMB_ERROR, "pushing %s without its lock", r->url);
    PLUMB_TRY(snapshot_text(st, &text));
    sha256_hex(digest, text, strlen(text));
    PLUMB_TRY(plumb_buf_put_base64(&b64, text, strlen(text)));
    in = json_pack("{s:s, s:s, s:s, s:s}", "Bucket", r->bucket, "Key", r->key, "Body",
                   plumb_buf_cstr(&b64), "ContentType", "application/json");
    PLUMB_ALLOC_CHECK(in);
    PLUMB_TRY(plumb_aws_call(r->aws, "s3", "PutObject", in, &out));
    version = json_string_value(json_object_get(out, "VersionId"));
    json_decref(in);
    snprintf(serial, sizeof(serial), "%ld", plumb_state_serial(st));
    /* the digest last: until it is written, readers keep the previous version */
    in = json_pack("{s:s, s:{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}}", "TableName", r->table,
                   "Item", "LockID", "S", r->digest_id, "Digest", "S", digest, "Serial", "S",
                   serial, "Lineage", "S", plumb_state_lineage(st) ? plumb_state_lineage(st) : "",
                   "VersionId", "S", version ? version : "null");
    PLUMB_ALLOC_CHECK(in);
    json_decref(out);
    out = NULL;
    PLUMB_TRY(plumb_aws_call(r->aws, "dynamodb", "PutItem", in, &out));
    snprintf(r->digest, sizeof(r->digest), "%s", digest);
    plumb_log_info("state: pushed serial %s to %s", serial, r->url);
done:
    free(text);
    plumb_buf_release(&b64);
    json_decref(in);
    json_decref(out);
    return error;
}

/* 1 when the AWS error of the last failed call is `code` (or one of the 404 forms S3 uses). */
static int last_code_is(const char *code)
{
    const struct plumb_aws_error_info *e = plumb_aws_last_error();

    return e && strcmp(e->code, code) == 0;
}

static int call_only(struct plumb_aws *aws, const char *service, const char *op, json_t *in)
{
    json_t *out = NULL;
    int error;

    if (!in)
        return plumb_error_oom();
    error = plumb_aws_call(aws, service, op, in, &out);
    json_decref(in);
    json_decref(out);
    return error;
}

/* A create, its answer settled if lost (plumb_aws_create_settled); takes `in` and `check_in`. */
static int create_only(struct plumb_aws *aws, const char *service, const char *op, json_t *in,
                       const char *check_op, json_t *check_in)
{
    json_t *out = NULL;
    int error;

    if (!in || !check_in)
        error = plumb_error_oom();
    else
        error = plumb_aws_create_settled(aws, service, op, in, check_op, check_in, &out);
    json_decref(in);
    json_decref(check_in);
    json_decref(out);
    return error;
}

static int create_bucket(struct plumb_aws *aws, const char *bucket, const char *region)
{
    json_t *in = json_pack("{s:s}", "Bucket", bucket);

    /* us-east-1 is the one region CreateBucket refuses to be told */
    if (in && region && strcmp(region, "us-east-1") != 0)
        json_object_set_new(in, "CreateBucketConfiguration",
                            json_pack("{s:s}", "LocationConstraint", region));
    return create_only(aws, "s3", "CreateBucket", in, "HeadBucket",
                       json_pack("{s:s}", "Bucket", bucket));
}

/* The bucket: versioned (a reader takes the version the digest names), encrypted, private. */
static int provision_bucket(struct plumb_aws *aws, const char *bucket, const char *region,
                            struct plumb_buf *report)
{
    json_t *in, *out = NULL;
    const char *status;
    int error, made = 0;

    in = json_pack("{s:s}", "Bucket", bucket);
    if (!in)
        return plumb_error_oom();
    error = plumb_aws_call(aws, "s3", "HeadBucket", in, &out);
    json_decref(in);
    json_decref(out);
    out = NULL;
    if (error == PLUMB_ENOTFOUND) {
        PLUMB_TRY(create_bucket(aws, bucket, region));
        PLUMB_TRY(call_only(aws, "s3", "PutPublicAccessBlock",
                            json_pack("{s:s, s:{s:b, s:b, s:b, s:b}}", "Bucket", bucket,
                                      "PublicAccessBlockConfiguration", "BlockPublicAcls", 1,
                                      "IgnorePublicAcls", 1, "BlockPublicPolicy", 1,
                                      "RestrictPublicBuckets", 1)));
        PLUMB_TRY(
            call_only(aws, "s3", "PutBucketEncryption",
                      json_pack("{s:s, s:{s:[{s:{s:s}}]}}", "Bucket", bucket,
                                "ServerSideEncryptionConfiguration", "Rules",
                                "ApplyServerSideEncryptionByDefault", "SSEAlgorithm", "AES256")));
        plumb_buf_printf(report, "  + s3://%s (versioned, encrypted, public access blocked)\n",
                         bucket);
        made = 1;
    } else if (error < 0) {
        return error;
    }
    in = json_pack("{s:s}", "Bucket", bucket);
    if (!in)
        return plumb_error_oom();
    error = plumb_aws_call(aws, "s3", "GetBucketVersioning", in, &out);
    json_decref(in);
    if (error < 0) {
        json_decref(out);
        return error;
    }
    status = json_string_value(json_object_get(out, "Status"));
    if (!status || strcmp(status, "Enabled") != 0) {
        error = call_only(aws, "s3", "PutBucketVersioning",
                          json_pack("{s:s, s:{s:s}}", "Bucket", bucket, "VersioningConfiguration",
                                    "Status", "Enabled"));
        if (error == 0 && !made)
            plumb_buf_printf(report, "  ~ s3://%s: versioning turned on\n", bucket);
    } else if (!made) {
        plumb_buf_printf(report, "  = s3://%s (there already)\n", bucket);
    }
    json_decref(out);
done:
    return error;
}

static int table_status(struct plumb_aws *aws, const char *table, const char **status, json_t **out)
{
    json_t *in = json_pack("{s:s}", "TableName", table);
    int error;

    *out = NULL;
    *status = NULL;
    if (!in)
        return plumb_error_oom();
    error = plumb_aws_call(aws, "dynamodb", "DescribeTable", in, out);
    json_decref(in);
    if (error == 0)
        *status = json_string_value(json_object_get(json_object_get(*out, "Table"), "TableStatus"));
    return error;
}

static int create_table(struct plumb_aws *aws, const char *table)
{
    return create_only(aws, "dynamodb", "CreateTable",
                       json_pack("{s:s, s:s, s:[{s:s, s:s}], s:[{s:s, s:s}]}", "TableName", table,
                                 "BillingMode", "PAY_PER_REQUEST", "AttributeDefinitions",
                                 "AttributeName", "LockID", "AttributeType", "S", "KeySchema",
                                 "AttributeName", "LockID", "KeyType", "HASH"),
                       "DescribeTable", json_pack("{s:s}", "TableName", table));
}

/* The lock table: partition key LockID, on demand; waited for until ACTIVE. */
static int provision_table(struct plumb_aws *aws, const char *table, struct plumb_buf *report)
{
    const char *status;
    json_t *out = NULL;
    int error, i;

    error = table_status(aws, table, &status, &out);
    json_decref(out);
    if (error == 0) {
        plumb_buf_printf(report, "  = dynamodb table %s (there already)\n", table);
        return 0;
    }
    if (error != PLUMB_ENOTFOUND && !last_code_is("ResourceNotFoundException"))
        return error;
    PLUMB_TRY(create_table(aws, table));
    for (i = 0; i < 120; i++) {
        error = table_status(aws, table, &status, &out);
        if (error == 0 && status && strcmp(status, "ACTIVE") == 0) {
            json_decref(out);
            break;
        }
        json_decref(out);
        if (error < 0 && error != PLUMB_ENOTFOUND)
            return error;
        plumb_sleep_ms(1000);
    }
    if (i == 120)
        return plumb_error_set(PLUMB_ERROR, "dynamodb table %s did not become ACTIVE", table);
    plumb_buf_printf(report, "  + dynamodb table %s (LockID, on demand)\n", table);
done:
    return error;
}

int plumb_remote_provision(struct plumb_aws *aws, const char *bucket, const char *table,
                           const char *region, struct plumb_buf *report)
{
    int error = provision_bucket(aws, bucket, region, report);

    return error < 0 ? error : provision_table(aws, table, report);
}
