/*
 * AWS::DynamoDB::Table — DynamoDB tables (plumb's own lock table, and applications').
 *
 * Named by the user (TableName; generated when not declared, and then found again by the
 * plumb:* tags through the tagging API). A table is described by four calls: DescribeTable,
 * DescribeTimeToLive, DescribeContinuousBackups (point-in-time recovery) and
 * ListTagsOfResource. No DynamoDB call describes several tables, so there is no read_many:
 * it could only cost what one read per table costs.
 *
 * Tables are slow: creating, changing capacity or adding an index leaves the table (or the
 * index) busy for seconds to hours, and AWS takes one index creation or deletion, or one
 * stream change, per UpdateTable. update therefore makes one change at a time and waits for
 * the table to be ACTIVE again between them; wait_stable waits for the table and every
 * global secondary index to be ACTIVE.
 *
 * The key schema and the local secondary indexes are fixed at creation: AWS cannot change
 * them, and update says so instead of trying.
 */
#include <stdlib.h>
#include <string.h>

#include "config/value.h"
#include "provider/provider.h"
#include "provider/util.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/sys.h"

#define DEFAULT_POLL_MS     5000
#define INTERNAL_TIMEOUT_S  1800 /* one step of an update; the schema's update timeout */
#define PITR_RETRY_TIMEOUTS 300  /* PITR right after creation: "backups are being enabled" */

/* DescribeTable's Table; *table = NULL when there is no such table. */
static int describe(struct plumb_aws *aws, const char *name, json_t **table)
{
    json_t *out = NULL;
    int error = plumb_provider_call(aws, "dynamodb", "DescribeTable",
                                    json_pack("{s:s}", "TableName", name), &out);

    *table = NULL;
    if (error == PLUMB_ENOTFOUND)
        error = 0;
    else if (error == 0)
        *table = json_incref(json_object_get(out, "Table"));
    json_decref(out);
    return error;
}

/* ---- shapes --------------------------------------------------------------------------- */

static int cmp_by_member(const json_t *a, const json_t *b, const char *member)
{
    const char *x = json_string_value(json_object_get(a, member));
    const char *y = json_string_value(json_object_get(b, member));

    return strcmp(x ? x : "", y ? y : "");
}

/*
 * A copy of `list` sorted by the string `member` of its items (insertion sort: lists of
 * indexes and attributes are short). A list with an item that is not such an object (an
 * unknown value) is copied as it is.
 */
static json_t *sorted_by(const json_t *list, const char *member)
{
    json_t *out = json_array(), *x;
    size_t i, j;

    if (!out)
        return NULL;
    json_array_foreach(list, i, x)
    {
        if (!json_is_string(json_object_get(x, member)) || plumb_value_is_unknown(x)) {
            json_decref(out);
            return json_deep_copy(list);
        }
    }
    json_array_foreach(list, i, x)
    {
        for (j = 0; j < json_array_size(out); j++)
            if (cmp_by_member(x, json_array_get(out, j), member) < 0)
                break;
        json_array_insert_new(out, j, json_deep_copy(x));
    }
    return out;
}

static json_t *key_schema(const json_t *ks)
{
    json_t *out = json_array(), *k;
    size_t i;

    json_array_foreach(ks, i, k)
    {
        json_array_append_new(out, json_pack("{s:O?, s:O?}", "AttributeName",
                                             json_object_get(k, "AttributeName"), "KeyType",
                                             json_object_get(k, "KeyType")));
    }
    return out;
}

static json_t *projection(const json_t *p)
{
    json_t *out = json_object();

    if (json_is_string(json_object_get(p, "ProjectionType")))
        json_object_set(out, "ProjectionType", json_object_get(p, "ProjectionType"));
    if (json_array_size(json_object_get(p, "NonKeyAttributes")))
        json_object_set_new(out, "NonKeyAttributes",
                            json_deep_copy(json_object_get(p, "NonKeyAttributes")));
    return out;
}

static json_t *throughput(const json_t *t)
{
    return json_pack("{s:O?, s:O?}", "ReadCapacityUnits", json_object_get(t, "ReadCapacityUnits"),
                     "WriteCapacityUnits", json_object_get(t, "WriteCapacityUnits"));
}

/* On-demand maxima, when set (AWS reports -1 or leaves them out for "no maximum"). */
static json_t *on_demand(const json_t *t)
{
    json_t *out = json_object();
    const char *keys[] = {"MaxReadRequestUnits", "MaxWriteRequestUnits"};
    size_t i;

    for (i = 0; i < 2; i++) {
        json_t *v = json_object_get(t, keys[i]);
        if (json_integer_value(v) > 0)
            json_object_set(out, keys[i], v);
    }
    if (!json_object_size(out)) {
        json_decref(out);
        out = NULL;
    }
    return out;
}

static const char *billing_of(const json_t *table)
{
    const char *b = json_string_value(
        json_object_get(json_object_get(table, "BillingModeSummary"), "BillingMode"));
    return b ? b : "PROVISIONED"; /* AWS leaves the summary out for provisioned tables */
}

static json_t *gsi_observed(const json_t *g, int provisioned)
{
    json_t *o = json_pack("{s:O?, s:o, s:o}", "IndexName", json_object_get(g, "IndexName"),
                          "KeySchema", key_schema(json_object_get(g, "KeySchema")), "Projection",
                          projection(json_object_get(g, "Projection")));
    json_t *v;

    if (provisioned && json_is_object(json_object_get(g, "ProvisionedThroughput")))
        json_object_set_new(o, "ProvisionedThroughput",
                            throughput(json_object_get(g, "ProvisionedThroughput")));
    if ((v = on_demand(json_object_get(g, "OnDemandThroughput"))))
        json_object_set_new(o, "OnDemandThroughput", v);
    return o;
}

/* Describe* outputs → the CloudFormation shape. */
static json_t *observe_table(const json_t *t, const json_t *ttl, const json_t *backups,
                             const json_t *tags)
{
    const char *billing = billing_of(t);
    int provisioned = strcmp(billing, "PROVISIONED") == 0;
    json_t *o = json_object(), *list, *x, *v;
    const char *status;
    size_t i;

    if (!o)
        return NULL;
    json_object_set(o, "TableName", json_object_get(t, "TableName"));
    json_object_set(o, "Arn", json_object_get(t, "TableArn"));
    json_object_set_new(o, "KeySchema", key_schema(json_object_get(t, "KeySchema")));
    json_object_set_new(o, "AttributeDefinitions",
                        sorted_by(json_object_get(t, "AttributeDefinitions"), "AttributeName"));
    json_object_set_new(o, "BillingMode", json_string(billing));
    /* on-demand tables report 0/0 (moto: the old values): not a setting then, and read as
     * null rather than missing, as a stream found off does (below): a table switched to on
     * demand outside plumb would otherwise keep the throughput last applied, and with
     * BillingMode left to its default neither plan nor drift would see the change */
    if (provisioned && json_is_object(json_object_get(t, "ProvisionedThroughput")))
        json_object_set_new(o, "ProvisionedThroughput",
                            throughput(json_object_get(t, "ProvisionedThroughput")));
    else if (!provisioned)
        json_object_set_new(o, "ProvisionedThroughput", json_null());

    list = json_array();
    json_array_foreach(json_object_get(t, "GlobalSecondaryIndexes"), i, x)
        json_array_append_new(list, gsi_observed(x, provisioned));
    json_object_set_new(o, "GlobalSecondaryIndexes", sorted_by(list, "IndexName"));
    json_decref(list);
    list = json_array();
    json_array_foreach(json_object_get(t, "LocalSecondaryIndexes"), i, x)
    {
        json_array_append_new(
            list, json_pack("{s:O?, s:o, s:o}", "IndexName", json_object_get(x, "IndexName"),
                            "KeySchema", key_schema(json_object_get(x, "KeySchema")), "Projection",
                            projection(json_object_get(x, "Projection"))));
    }
    json_object_set_new(o, "LocalSecondaryIndexes", sorted_by(list, "IndexName"));
    json_decref(list);

    /* A stream found off reads as null rather than missing: DescribeTable answers for it in
     * the same call, and a missing property would be filled from the last applied value, so
     * a stream disabled outside plumb would never show as drift. A null the declaration
     * does not name is no change (plan.c). */
    v = json_object_get(t, "StreamSpecification");
    if (json_is_true(json_object_get(v, "StreamEnabled"))) {
        json_object_set_new(
            o, "StreamSpecification",
            json_pack("{s:O?}", "StreamViewType", json_object_get(v, "StreamViewType")));
        if ((x = json_object_get(t, "LatestStreamArn")))
            json_object_set(o, "StreamArn", x);
    } else {
        json_object_set_new(o, "StreamSpecification", json_null());
    }

    /* no SSEDescription: encrypted with an AWS owned key, which CloudFormation says as
     * SSEEnabled false */
    v = json_object_get(t, "SSEDescription");
    status = json_string_value(json_object_get(v, "Status"));
    if (status && (strcmp(status, "ENABLED") == 0 || strcmp(status, "ENABLING") == 0 ||
                   strcmp(status, "UPDATING") == 0)) {
        x = json_pack("{s:b}", "SSEEnabled", 1);
        if (json_is_string(json_object_get(v, "SSEType")))
            json_object_set(x, "SSEType", json_object_get(v, "SSEType"));
        if (json_is_string(json_object_get(v, "KMSMasterKeyArn")))
            json_object_set(x, "KMSMasterKeyId", json_object_get(v, "KMSMasterKeyArn"));
        json_object_set_new(o, "SSESpecification", x);
    } else {
        json_object_set_new(o, "SSESpecification", json_pack("{s:b}", "SSEEnabled", 0));
    }

    /* no TableClassSummary: a table never moved off the default class */
    v = json_object_get(json_object_get(t, "TableClassSummary"), "TableClass");
    json_object_set_new(o, "TableClass",
                        json_string(json_is_string(v) ? json_string_value(v) : "STANDARD"));
    if ((v = json_object_get(t, "DeletionProtectionEnabled")))
        json_object_set(o, "DeletionProtectionEnabled", v);

    if (ttl) {
        status = json_string_value(json_object_get(ttl, "TimeToLiveStatus"));
        if (status && (strcmp(status, "ENABLED") == 0 || strcmp(status, "ENABLING") == 0))
            json_object_set_new(o, "TimeToLiveSpecification",
                                json_pack("{s:b, s:O?}", "Enabled", 1, "AttributeName",
                                          json_object_get(ttl, "AttributeName")));
        else
            json_object_set_new(o, "TimeToLiveSpecification", json_pack("{s:b}", "Enabled", 0));
    }
    if (backups) {
        v = json_object_get(backups, "PointInTimeRecoveryDescription");
        status = json_string_value(json_object_get(v, "PointInTimeRecoveryStatus"));
        x = json_pack("{s:b}", "PointInTimeRecoveryEnabled",
                      status && strcmp(status, "ENABLED") == 0);
        if (status && strcmp(status, "ENABLED") == 0 &&
            json_is_integer(json_object_get(v, "RecoveryPeriodInDays")))
            json_object_set(x, "RecoveryPeriodInDays", json_object_get(v, "RecoveryPeriodInDays"));
        json_object_set_new(o, "PointInTimeRecoverySpecification", x);
    }
    json_object_set_new(o, "Tags", plumb_provider_sorted_tags(tags));
    return o;
}

/* The table and its settings kept by other APIs; *observed = NULL when gone (or going). */
static int read_table(struct plumb_aws *aws, const char *name, json_t **observed)
{
    json_t *t = NULL, *ttl = NULL, *backups = NULL, *tags = NULL;
    const char *status;
    int error = 0;

    *observed = NULL;
    PLUMB_TRY(describe(aws, name, &t));
    status = json_string_value(json_object_get(t, "TableStatus"));
    if (!t || (status && strcmp(status, "DELETING") == 0))
        goto done;
    if (status && strcmp(status, "CREATING") == 0) {
        /*
         * Time to live, backups and tags of a table being made may not answer yet (and tags
         * are eventually consistent): left out until it is ACTIVE — the executor reads again
         * after wait_stable.
         */
        *observed = observe_table(t, NULL, NULL, NULL);
        PLUMB_ALLOC_CHECK(*observed);
        json_object_del(*observed, "Tags");
        goto done;
    }
    PLUMB_TRY(plumb_provider_call(aws, "dynamodb", "DescribeTimeToLive",
                                  json_pack("{s:s}", "TableName", name), &ttl));
    PLUMB_TRY(plumb_provider_call(aws, "dynamodb", "DescribeContinuousBackups",
                                  json_pack("{s:s}", "TableName", name), &backups));
    {
        json_t *in = json_pack("{s:O}", "ResourceArn", json_object_get(t, "TableArn"));
        PLUMB_ALLOC_CHECK(in);
        error = plumb_aws_paginate(aws, "dynamodb", "ListTagsOfResource", in, &tags);
        json_decref(in);
        if (error < 0)
            goto done;
    }
    *observed = observe_table(t, json_object_get(ttl, "TimeToLiveDescription"),
                              json_object_get(backups, "ContinuousBackupsDescription"),
                              json_object_get(tags, "Tags"));
    PLUMB_ALLOC_CHECK(*observed);
done:
    /* deleted between two of the calls: gone */
    if (error == PLUMB_ENOTFOUND) {
        error = 0;
        json_decref(*observed);
        *observed = NULL;
    }
    json_decref(t);
    json_decref(ttl);
    json_decref(backups);
    json_decref(tags);
    return error;
}

static int ddb_read(struct plumb_aws *aws, const json_t *id, json_t **observed)
{
    const char *name = plumb_provider_id_str(id, "TableName");

    *observed = NULL;
    if (!name)
        return plumb_error_set(PLUMB_EINVALID, "table id lacks TableName");
    return read_table(aws, name, observed);
}

/* ---- waiting ------------------------------------------------------------------------------ */

struct wait_ctx {
    struct plumb_aws *aws;
    const char *name;
    int deleted; /* wait for the table to be gone, not ACTIVE */
    char status[64];
};

static int check_table(void *arg, const char **status)
{
    struct wait_ctx *w = arg;
    json_t *t = NULL, *g;
    const char *s, *gs;
    size_t i;
    int error, done = 0;

    error = describe(w->aws, w->name, &t);
    if (error < 0)
        return error;
    if (!t) {
        if (w->deleted)
            return 1;
        return plumb_error_set(PLUMB_ENOTFOUND, "table '%s' does not exist", w->name);
    }
    s = json_string_value(json_object_get(t, "TableStatus"));
    snprintf(w->status, sizeof(w->status), "%s", s ? s : "unknown");
    if (!w->deleted && s && strcmp(s, "ACTIVE") == 0) {
        done = 1;
        json_array_foreach(json_object_get(t, "GlobalSecondaryIndexes"), i, g)
        {
            gs = json_string_value(json_object_get(g, "IndexStatus"));
            if (gs && strcmp(gs, "ACTIVE") != 0) {
                snprintf(w->status, sizeof(w->status), "index %s %s",
                         json_string_value(json_object_get(g, "IndexName")), gs);
                done = 0;
            }
        }
    }
    if (!w->deleted && s &&
        (strcmp(s, "DELETING") == 0 || strcmp(s, "INACCESSIBLE_ENCRYPTION_CREDENTIALS") == 0 ||
         strcmp(s, "ARCHIVED") == 0)) {
        json_decref(t);
        return plumb_error_set(PLUMB_ERROR, "table '%s' is %s", w->name, w->status);
    }
    *status = w->status;
    json_decref(t);
    return done;
}

static int wait_table(struct plumb_aws *aws, const char *name, int deleted,
                      struct plumb_progress *p)
{
    struct wait_ctx w = {aws, name, deleted, ""};
    struct plumb_progress own = {NULL, NULL, INTERNAL_TIMEOUT_S, 0};
    char what[300];

    snprintf(what, sizeof(what), "table '%s' %s", name, deleted ? "to be deleted" : "to be ACTIVE");
    return plumb_provider_wait(p ? p : &own, DEFAULT_POLL_MS, check_table, &w, what);
}

static int ddb_wait_stable(struct plumb_aws *aws, const json_t *id, struct plumb_progress *p)
{
    const char *name = plumb_provider_id_str(id, "TableName");

    if (!name)
        return plumb_error_set(PLUMB_EINVALID, "table id lacks TableName");
    return wait_table(aws, name, 0, p);
}

static int ddb_wait_deleted(struct plumb_aws *aws, const json_t *id, struct plumb_progress *p)
{
    const char *name = plumb_provider_id_str(id, "TableName");

    if (!name)
        return plumb_error_set(PLUMB_EINVALID, "table id lacks TableName");
    return wait_table(aws, name, 1, p);
}

/* ---- lookup ------------------------------------------------------------------------------- */

/* The plumb:* tags of `props` as a map ({} when none). */
static json_t *plumb_tags(const json_t *props)
{
    json_t *all = plumb_provider_tags_to_map(json_object_get(props, "Tags")), *out = json_object();
    const char *k;
    json_t *v;

    json_object_foreach(all, k, v)
    {
        if (strncmp(k, "plumb:", 6) == 0)
            json_object_set(out, k, v);
    }
    json_decref(all);
    return out;
}

/*
 * By TableName when declared. A generated name is found by the plumb:* tags (all of them:
 * stage and prod share addresses) through the tagging API, which covers DynamoDB tables:
 * one call instead of a ListTagsOfResource per table of the account.
 */
static int ddb_lookup(struct plumb_aws *aws, const json_t *props, json_t **id)
{
    const char *name = json_string_value(json_object_get(props, "TableName"));
    json_t *observed = NULL, *tags = NULL, *filters = NULL, *in = NULL, *out = NULL, *x;
    const json_t *m;
    const char *k, *arn, *slash;
    size_t i;
    int error = 0;

    *id = NULL;
    if (name) {
        PLUMB_TRY(read_table(aws, name, &observed));
        if (observed)
            *id = json_pack("{s:s}", "TableName", name);
        goto done;
    }
    tags = plumb_tags(props);
    if (!json_object_get(tags, "plumb:address"))
        goto done;
    filters = json_array();
    PLUMB_ALLOC_CHECK(filters);
    json_object_foreach(tags, k, x)
        json_array_append_new(filters, json_pack("{s:s, s:[O]}", "Key", k, "Values", x));
    in = json_pack("{s:[s], s:O}", "ResourceTypeFilters", "dynamodb:table", "TagFilters", filters);
    PLUMB_ALLOC_CHECK(in);
    PLUMB_TRY(plumb_aws_paginate(aws, "resourcegroupstaggingapi", "GetResources", in, &out));
    json_array_foreach(json_object_get(out, "ResourceTagMappingList"), i, m)
    {
        arn = json_string_value(json_object_get(m, "ResourceARN"));
        slash = arn ? strstr(arn, ":table/") : NULL;
        if (!slash || strchr(slash + 7, '/'))
            continue; /* not a table (an index, a stream) */
        PLUMB_TRY(read_table(aws, slash + 7, &observed));
        if (observed) {
            *id = json_pack("{s:s}", "TableName", slash + 7);
            break;
        }
    }
done:
    json_decref(observed);
    json_decref(tags);
    json_decref(filters);
    json_decref(in);
    json_decref(out);
    return error;
}

/* ---- create ------------------------------------------------------------------------------- */

static json_t *gsi_input(const json_t *g, int provisioned)
{
    json_t *in =
        json_pack("{s:O?, s:O?, s:O?}", "IndexName", json_object_get(g, "IndexName"), "KeySchema",
                  json_object_get(g, "KeySchema"), "Projection", json_object_get(g, "Projection"));
    json_t *v;

    if (provisioned && (v = json_object_get(g, "ProvisionedThroughput")))
        json_object_set(in, "ProvisionedThroughput", v);
    if ((v = json_object_get(g, "OnDemandThroughput")))
        json_object_set(in, "OnDemandThroughput", v);
    return in;
}

static json_t *sse_input(const json_t *sse)
{
    json_t *in = json_pack("{s:b}", "Enabled", json_is_true(json_object_get(sse, "SSEEnabled")));

    if (json_is_true(json_object_get(sse, "SSEEnabled"))) {
        if (json_object_get(sse, "SSEType"))
            json_object_set(in, "SSEType", json_object_get(sse, "SSEType"));
        if (json_object_get(sse, "KMSMasterKeyId"))
            json_object_set(in, "KMSMasterKeyId", json_object_get(sse, "KMSMasterKeyId"));
    }
    return in;
}

static int provisioned_of(const json_t *props)
{
    const char *b = json_string_value(json_object_get(props, "BillingMode"));

    return !b || strcmp(b, "PROVISIONED") == 0;
}

static int put_ttl(struct plumb_aws *aws, const char *name, int enabled, const char *attr)
{
    if (!attr)
        return plumb_error_set(PLUMB_EINVALID,
                               "table '%s': TimeToLiveSpecification needs AttributeName", name);
    return plumb_provider_call(aws, "dynamodb", "UpdateTimeToLive",
                               json_pack("{s:s, s:{s:b, s:s}}", "TableName", name,
                                         "TimeToLiveSpecification", "Enabled", enabled,
                                         "AttributeName", attr),
                               NULL);
}

struct pitr_ctx {
    struct plumb_aws *aws;
    const char *name;
    const json_t *spec;
};

/* Right after a table is made, AWS may refuse PITR for a while
 * (ContinuousBackupsUnavailableException): keep trying. */
static int try_pitr(void *arg, const char **status)
{
    struct pitr_ctx *c = arg;
    json_t *in = json_pack("{s:s, s:{s:b}}", "TableName", c->name,
                           "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled",
                           json_is_true(json_object_get(c->spec, "PointInTimeRecoveryEnabled")));
    int error;

    if (in && json_is_true(json_object_get(c->spec, "PointInTimeRecoveryEnabled")) &&
        json_object_get(c->spec, "RecoveryPeriodInDays"))
        json_object_set(json_object_get(in, "PointInTimeRecoverySpecification"),
                        "RecoveryPeriodInDays", json_object_get(c->spec, "RecoveryPeriodInDays"));
    error = plumb_provider_call(c->aws, "dynamodb", "UpdateContinuousBackups", in, NULL);
    if (error < 0 && plumb_provider_last_code_is("ContinuousBackupsUnavailableException")) {
        *status = "enabling backups";
        return 0;
    }
    return error < 0 ? error : 1;
}

static int put_pitr(struct plumb_aws *aws, const char *name, const json_t *spec)
{
    struct pitr_ctx c = {aws, name, spec};
    struct plumb_progress own = {NULL, NULL, PITR_RETRY_TIMEOUTS, 0};

    return plumb_provider_wait(&own, DEFAULT_POLL_MS, try_pitr, &c, "point-in-time recovery");
}

static int ddb_remove(struct plumb_aws *aws, const json_t *id, unsigned flags);

/* A name for a table declared without one: its address (characters a name cannot hold
 * become '-') and a random suffix, as CloudFormation does. Caller frees. */
static char *generated_name(const json_t *props)
{
    static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    json_t *tags = plumb_tags(props);
    const char *addr = json_string_value(json_object_get(tags, "plumb:address"));
    struct plumb_buf b = PLUMB_BUF_INIT;
    const char *c;
    int i;

    for (c = addr ? addr : "plumb-table"; *c && b.len < 200; c++)
        plumb_buf_putc(&b, strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                  "_.-",
                                  *c)
                               ? *c
                               : '-');
    plumb_buf_putc(&b, '-');
    for (i = 0; i < 12; i++)
        plumb_buf_putc(&b, alnum[plumb_random_u64() % (sizeof(alnum) - 1)]);
    json_decref(tags);
    return plumb_buf_detach(&b);
}

static int ddb_create(struct plumb_aws *aws, const json_t *props, json_t **observed)
{
    const char *declared = json_string_value(json_object_get(props, "TableName"));
    char *name = declared ? strdup(declared) : generated_name(props);
    int provisioned = provisioned_of(props), made = 0, error = 0;
    json_t *in = NULL, *tags = NULL, *list, *v, *x;
    size_t i;

    *observed = NULL;
    PLUMB_ALLOC_CHECK(name);
    in = json_pack("{s:s, s:O?, s:O?}", "TableName", name, "KeySchema",
                   json_object_get(props, "KeySchema"), "AttributeDefinitions",
                   json_object_get(props, "AttributeDefinitions"));
    PLUMB_ALLOC_CHECK(in);
    if ((v = json_object_get(props, "BillingMode")))
        json_object_set(in, "BillingMode", v);
    if (provisioned && (v = json_object_get(props, "ProvisionedThroughput")))
        json_object_set(in, "ProvisionedThroughput", v);
    if (json_array_size(v = json_object_get(props, "GlobalSecondaryIndexes"))) {
        list = json_array();
        json_array_foreach(v, i, x) json_array_append_new(list, gsi_input(x, provisioned));
        json_object_set_new(in, "GlobalSecondaryIndexes", list);
    }
    if (json_array_size(v = json_object_get(props, "LocalSecondaryIndexes")))
        json_object_set(in, "LocalSecondaryIndexes", v);
    if ((v = json_object_get(props, "StreamSpecification")))
        json_object_set_new(in, "StreamSpecification",
                            json_pack("{s:b, s:O?}", "StreamEnabled", 1, "StreamViewType",
                                      json_object_get(v, "StreamViewType")));
    if ((v = json_object_get(props, "SSESpecification")))
        json_object_set_new(in, "SSESpecification", sse_input(v));
    if ((v = json_object_get(props, "TableClass")))
        json_object_set(in, "TableClass", v);
    if ((v = json_object_get(props, "DeletionProtectionEnabled")))
        json_object_set(in, "DeletionProtectionEnabled", v);
    tags = plumb_provider_sorted_tags(json_object_get(props, "Tags"));
    if (json_array_size(tags))
        json_object_set(in, "Tags", tags);
    error = plumb_provider_call(aws, "dynamodb", "CreateTable", in, NULL);
    in = NULL;
    if (error < 0)
        goto done;
    made = 1;

    /* time to live and backups are other APIs, which want the table ACTIVE */
    v = json_object_get(props, "TimeToLiveSpecification");
    x = json_object_get(props, "PointInTimeRecoverySpecification");
    if (json_is_true(json_object_get(v, "Enabled")) ||
        json_is_true(json_object_get(x, "PointInTimeRecoveryEnabled")))
        PLUMB_TRY(wait_table(aws, name, 0, NULL));
    if (json_is_true(json_object_get(v, "Enabled")))
        PLUMB_TRY(put_ttl(aws, name, 1, json_string_value(json_object_get(v, "AttributeName"))));
    if (json_is_true(json_object_get(x, "PointInTimeRecoveryEnabled")))
        PLUMB_TRY(put_pitr(aws, name, x));
    PLUMB_TRY(read_table(aws, name, observed));
    if (!*observed)
        error =
            plumb_error_set(PLUMB_ERROR, "table '%s' was created but cannot be read back", name);
done:
    if (error < 0 && made) {
        /* do not leave a table behind that the apply reports as failed; it is new and empty,
         * deletion protection included */
        json_t *gone = json_pack("{s:s}", "TableName", name);
        char *why = strdup(plumb_error_message());
        ddb_remove(aws, gone, PLUMB_REMOVE_FORCE);
        plumb_error_set(error, "%s", why ? why : "unknown error");
        free(why);
        json_decref(gone);
    }
    free(name);
    json_decref(in);
    json_decref(tags);
    return error;
}

/* ---- update ------------------------------------------------------------------------------- */

static const json_t *find_index(const json_t *list, const char *name)
{
    const json_t *g;
    size_t i;

    json_array_foreach(list, i, g)
    {
        const char *n = json_string_value(json_object_get(g, "IndexName"));
        if (n && strcmp(n, name) == 0)
            return g;
    }
    return NULL;
}

/* One UpdateTable (reference to `in` stolen), then wait for the table to settle. */
static int update_table(struct plumb_aws *aws, const char *name, json_t *in)
{
    int error;

    if (in)
        json_object_set_new(in, "TableName", json_string(name));
    error = plumb_provider_call(aws, "dynamodb", "UpdateTable", in, NULL);
    if (error == 0)
        error = wait_table(aws, name, 0, NULL);
    return error;
}

/* A global index whose key schema or projection changed cannot be changed in place: AWS
 * takes it only as a deletion and a new creation. */
static int gsi_redefined(const json_t *want, const json_t *have)
{
    return !plumb_provider_covers(json_object_get(want, "KeySchema"),
                                  json_object_get(have, "KeySchema")) ||
           !plumb_provider_covers(json_object_get(want, "Projection"),
                                  json_object_get(have, "Projection")) ||
           /* a projection's NonKeyAttributes dropped */
           json_array_size(
               json_object_get(json_object_get(have, "Projection"), "NonKeyAttributes")) !=
               json_array_size(
                   json_object_get(json_object_get(want, "Projection"), "NonKeyAttributes"));
}

/*
 * Capacity: billing mode, the table's throughput, and (switching to provisioned, which AWS
 * wants in the same call) every kept index's throughput. Only when something differs: AWS
 * refuses an UpdateTable that would not change the throughput. Sets *changed.
 */
static int update_capacity(struct plumb_aws *aws, const char *name, const json_t *current,
                           const json_t *want, int *changed)
{
    const char *billing = json_string_value(json_object_get(want, "BillingMode"));
    const char *have = json_string_value(json_object_get(current, "BillingMode"));
    const json_t *tp = json_object_get(want, "ProvisionedThroughput");
    int provisioned, switching, error = 0;
    json_t *in, *updates = NULL, *g;
    size_t i;

    *changed = 0;
    if (!billing)
        billing = "PROVISIONED";
    provisioned = strcmp(billing, "PROVISIONED") == 0;
    switching = !have || strcmp(have, billing) != 0;
    if (!switching &&
        !(provisioned && tp &&
          !plumb_provider_covers(tp, json_object_get(current, "ProvisionedThroughput"))))
        return 0;
    in = json_pack("{s:s}", "BillingMode", billing);
    if (!in)
        return plumb_error_oom();
    if (provisioned && tp)
        json_object_set(in, "ProvisionedThroughput", (json_t *)tp);
    if (provisioned && switching) {
        updates = json_array();
        json_array_foreach(json_object_get(want, "GlobalSecondaryIndexes"), i, g)
        {
            const char *n = json_string_value(json_object_get(g, "IndexName"));
            const json_t *h =
                n ? find_index(json_object_get(current, "GlobalSecondaryIndexes"), n) : NULL;
            if (h && !gsi_redefined(g, h) && json_object_get(g, "ProvisionedThroughput"))
                json_array_append_new(updates,
                                      json_pack("{s:{s:s, s:O}}", "Update", "IndexName", n,
                                                "ProvisionedThroughput",
                                                json_object_get(g, "ProvisionedThroughput")));
        }
        if (json_array_size(updates))
            json_object_set(in, "GlobalSecondaryIndexUpdates", updates);
    }
    error = update_table(aws, name, in);
    if (error == 0)
        *changed = 1;
    json_decref(updates);
    return error;
}

/* Global indexes: deletions one at a time, then creations one at a time (each waited for:
 * AWS takes one per UpdateTable), then throughput of the indexes kept, in one call. */
static int update_indexes(struct plumb_aws *aws, const char *name, const json_t *before,
                          const json_t *current, const json_t *want)
{
    const json_t *wl = json_object_get(want, "GlobalSecondaryIndexes");
    const json_t *hl = json_object_get(current, "GlobalSecondaryIndexes");
    int provisioned = provisioned_of(want), error = 0;
    json_t *updates = json_array(), *g;
    const json_t *w, *h;
    size_t i;

    PLUMB_ALLOC_CHECK(updates);
    if (!plumb_provider_needs(before, current, want, "GlobalSecondaryIndexes"))
        goto done;
    json_array_foreach(hl, i, g)
    {
        const char *n = json_string_value(json_object_get(g, "IndexName"));
        if (!n)
            continue;
        w = find_index(wl, n);
        if (!w || gsi_redefined(w, g))
            PLUMB_TRY(update_table(aws, name,
                                   json_pack("{s:[{s:{s:s}}]}", "GlobalSecondaryIndexUpdates",
                                             "Delete", "IndexName", n)));
    }
    json_array_foreach(wl, i, g)
    {
        const char *n = json_string_value(json_object_get(g, "IndexName"));
        if (!n)
            continue;
        h = find_index(hl, n);
        if (!h || gsi_redefined(g, h)) {
            /* the new index's key attributes must be defined in the same call */
            PLUMB_TRY(update_table(aws, name,
                                   json_pack("{s:O?, s:[{s:o}]}", "AttributeDefinitions",
                                             json_object_get(want, "AttributeDefinitions"),
                                             "GlobalSecondaryIndexUpdates", "Create",
                                             gsi_input(g, provisioned))));
            continue;
        }
        if (provisioned && json_object_get(g, "ProvisionedThroughput") &&
            !plumb_provider_covers(json_object_get(g, "ProvisionedThroughput"),
                                   json_object_get(h, "ProvisionedThroughput")))
            json_array_append_new(updates, json_pack("{s:{s:s, s:O}}", "Update", "IndexName", n,
                                                     "ProvisionedThroughput",
                                                     json_object_get(g, "ProvisionedThroughput")));
        else if (json_object_get(g, "OnDemandThroughput") &&
                 !plumb_provider_covers(json_object_get(g, "OnDemandThroughput"),
                                        json_object_get(h, "OnDemandThroughput")))
            json_array_append_new(updates, json_pack("{s:{s:s, s:O}}", "Update", "IndexName", n,
                                                     "OnDemandThroughput",
                                                     json_object_get(g, "OnDemandThroughput")));
    }
    if (json_array_size(updates))
        PLUMB_TRY(
            update_table(aws, name, json_pack("{s:O}", "GlobalSecondaryIndexUpdates", updates)));
done:
    json_decref(updates);
    return error;
}

/* A stream's view type cannot change in place: AWS wants it disabled, then enabled again. */
static int update_stream(struct plumb_aws *aws, const char *name, const json_t *before,
                         const json_t *current, const json_t *want)
{
    const json_t *w = json_object_get(want, "StreamSpecification");
    const json_t *h = json_object_get(current, "StreamSpecification");
    int error = 0;

    if (json_is_null(h))
        h = NULL; /* read reports a stream found off as null */
    if (!plumb_provider_needs(before, current, want, "StreamSpecification") || (!w && !h))
        return 0;
    if (h)
        PLUMB_TRY(update_table(aws, name,
                               json_pack("{s:{s:b}}", "StreamSpecification", "StreamEnabled", 0)));
    if (w)
        PLUMB_TRY(
            update_table(aws, name,
                         json_pack("{s:{s:b, s:O?}}", "StreamSpecification", "StreamEnabled", 1,
                                   "StreamViewType", json_object_get(w, "StreamViewType"))));
done:
    return error;
}

static int update_ttl(struct plumb_aws *aws, const char *name, const json_t *before,
                      const json_t *current, const json_t *want)
{
    const json_t *w = json_object_get(want, "TimeToLiveSpecification");
    const json_t *h = json_object_get(current, "TimeToLiveSpecification");
    const char *want_attr = json_string_value(json_object_get(w, "AttributeName"));
    const char *have_attr = json_string_value(json_object_get(h, "AttributeName"));
    int want_on = json_is_true(json_object_get(w, "Enabled"));
    int have_on = json_is_true(json_object_get(h, "Enabled"));
    int error = 0;

    if (!plumb_provider_needs(before, current, want, "TimeToLiveSpecification"))
        return 0;
    /* another attribute: AWS takes that only as disabling and enabling again */
    if (have_on && (!want_on || !want_attr || !have_attr || strcmp(want_attr, have_attr) != 0))
        PLUMB_TRY(put_ttl(aws, name, 0, have_attr));
    if (want_on && !(have_on && want_attr && have_attr && strcmp(want_attr, have_attr) == 0))
        PLUMB_TRY(put_ttl(aws, name, 1, want_attr));
done:
    return error;
}

static json_t *ddb_normalize(const json_t *props);

/* The declaration with the schema's plumb.defaults filled in: a property left out means
 * AWS's default, which a change made outside plumb is brought back to. */
static json_t *wanted(const json_t *after)
{
    json_t *want = ddb_normalize(after);

    if (!want)
        return NULL;
    if (!json_object_get(want, "BillingMode"))
        json_object_set_new(want, "BillingMode", json_string("PROVISIONED"));
    if (!json_object_get(want, "DeletionProtectionEnabled"))
        json_object_set_new(want, "DeletionProtectionEnabled", json_false());
    if (!json_object_get(want, "GlobalSecondaryIndexes"))
        json_object_set_new(want, "GlobalSecondaryIndexes", json_array());
    if (!json_object_get(want, "LocalSecondaryIndexes"))
        json_object_set_new(want, "LocalSecondaryIndexes", json_array());
    if (!json_object_get(want, "PointInTimeRecoverySpecification"))
        json_object_set_new(want, "PointInTimeRecoverySpecification",
                            json_pack("{s:b}", "PointInTimeRecoveryEnabled", 0));
    if (!json_object_get(want, "TableClass"))
        json_object_set_new(want, "TableClass", json_string("STANDARD"));
    return want;
}

static int ddb_update(struct plumb_aws *aws, const json_t *id, const json_t *before,
                      const json_t *after, json_t **observed)
{
    const char *name = plumb_provider_id_str(id, "TableName");
    json_t *current = NULL, *want = NULL, *tb = NULL, *ta = NULL, *add = NULL, *del = NULL, *v;
    const json_t *arn;
    int error = 0, changed = 0;

    *observed = NULL;
    if (!name)
        return plumb_error_set(PLUMB_EINVALID, "table id lacks TableName");
    /* AWS changes only an ACTIVE table */
    PLUMB_TRY(wait_table(aws, name, 0, NULL));
    PLUMB_TRY(read_table(aws, name, &current));
    if (!current) {
        error = plumb_error_set(PLUMB_ENOTFOUND, "table '%s' does not exist", name);
        goto done;
    }
    want = wanted(after);
    PLUMB_ALLOC_CHECK(want);
    if (json_object_get(want, "KeySchema") &&
        !plumb_provider_covers(json_object_get(want, "KeySchema"),
                               json_object_get(current, "KeySchema"))) {
        error = plumb_error_set(PLUMB_EINVALID,
                                "table '%s': KeySchema cannot change in place (AWS fixes it at "
                                "creation): the table must be replaced",
                                name);
        goto done;
    }
    if (!plumb_provider_covers(json_object_get(want, "LocalSecondaryIndexes"),
                               json_object_get(current, "LocalSecondaryIndexes"))) {
        error = plumb_error_set(PLUMB_EINVALID,
                                "table '%s': LocalSecondaryIndexes cannot change in place (AWS "
                                "fixes them at creation): the table must be replaced",
                                name);
        goto done;
    }

    PLUMB_TRY(update_capacity(aws, name, current, want, &changed));
    if (changed) {
        /* index throughput may have moved with the billing mode */
        json_decref(current);
        PLUMB_TRY(read_table(aws, name, &current));
        if (!current) {
            error = plumb_error_set(PLUMB_ENOTFOUND, "table '%s' does not exist", name);
            goto done;
        }
    }
    PLUMB_TRY(update_indexes(aws, name, before, current, want));
    PLUMB_TRY(update_stream(aws, name, before, current, want));
    if (plumb_provider_needs(before, current, want, "SSESpecification")) {
        v = json_object_get(after, "SSESpecification");
        PLUMB_TRY(update_table(aws, name,
                               json_pack("{s:o}", "SSESpecification",
                                         v ? sse_input(v) : json_pack("{s:b}", "Enabled", 0))));
    }
    if (plumb_provider_needs(before, current, want, "TableClass"))
        PLUMB_TRY(update_table(
            aws, name, json_pack("{s:O}", "TableClass", json_object_get(want, "TableClass"))));
    if (plumb_provider_needs(before, current, want, "DeletionProtectionEnabled"))
        PLUMB_TRY(update_table(aws, name,
                               json_pack("{s:O}", "DeletionProtectionEnabled",
                                         json_object_get(want, "DeletionProtectionEnabled"))));
    PLUMB_TRY(update_ttl(aws, name, before, current, want));
    if (plumb_provider_needs(before, current, want, "PointInTimeRecoverySpecification"))
        PLUMB_TRY(put_pitr(aws, name, json_object_get(want, "PointInTimeRecoverySpecification")));
    if (json_object_get(after, "Tags") || json_object_get(before, "Tags")) {
        tb = plumb_provider_tags_to_map(json_object_get(current, "Tags"));
        ta = plumb_provider_tags_to_map(json_object_get(after, "Tags"));
        plumb_provider_tags_diff(tb, ta, &add, &del);
        arn = json_object_get(current, "Arn");
        if (json_object_size(add))
            PLUMB_TRY(
                plumb_provider_call(aws, "dynamodb", "TagResource",
                                    json_pack("{s:O, s:o}", "ResourceArn", arn, "Tags",
                                              plumb_provider_tags_to_list(add, "Key", "Value")),
                                    NULL));
        if (json_array_size(del))
            PLUMB_TRY(plumb_provider_call(
                aws, "dynamodb", "UntagResource",
                json_pack("{s:O, s:O}", "ResourceArn", arn, "TagKeys", del), NULL));
    }
    PLUMB_TRY(read_table(aws, name, observed));
    if (!*observed)
        error = plumb_error_set(PLUMB_ENOTFOUND, "table '%s' does not exist", name);
done:
    json_decref(current);
    json_decref(want);
    json_decref(tb);
    json_decref(ta);
    json_decref(add);
    json_decref(del);
    return error;
}

/* ---- remove ------------------------------------------------------------------------------- */

/*
 * AWS deletes only an ACTIVE table (wait for a creation or an update to finish first), and
 * never one with deletion protection: with PLUMB_REMOVE_FORCE protection is turned off first,
 * otherwise that is an error saying how to proceed.
 */
static int ddb_remove(struct plumb_aws *aws, const json_t *id, unsigned flags)
{
    const char *name = plumb_provider_id_str(id, "TableName");
    json_t *t = NULL;
    const char *status;
    int error = 0;

    if (!name)
        return plumb_error_set(PLUMB_EINVALID, "table id lacks TableName");
    PLUMB_TRY(describe(aws, name, &t));
    status = json_string_value(json_object_get(t, "TableStatus"));
    if (!t || (status && strcmp(status, "DELETING") == 0))
        goto done; /* gone, or going, already */
    if (status && (strcmp(status, "CREATING") == 0 || strcmp(status, "UPDATING") == 0))
        PLUMB_TRY(wait_table(aws, name, 0, NULL));
    if (json_is_true(json_object_get(t, "DeletionProtectionEnabled"))) {
        if (!(flags & PLUMB_REMOVE_FORCE)) {
            error = plumb_error_set(PLUMB_ERROR,
                                    "table '%s' has deletion protection: declare "
                                    "DeletionProtectionEnabled: false and apply first, or set "
                                    "'lifecycle: { force_destroy: true }' on the resource",
                                    name);
            goto done;
        }
        PLUMB_TRY(update_table(aws, name, json_pack("{s:b}", "DeletionProtectionEnabled", 0)));
    }
    error = plumb_provider_call(aws, "dynamodb", "DeleteTable",
                                json_pack("{s:s}", "TableName", name), NULL);
    if (error == PLUMB_ENOTFOUND)
        error = 0;
done:
    json_decref(t);
    return error;
}

/*
 * Declared values in the form read reports them: attribute definitions and indexes sorted
 * by name (AWS keeps its own order), a disabled time to live or recovery without the
 * settings AWS forgets when disabled, SSE off without its key settings.
 */
static json_t *ddb_normalize(const json_t *props)
{
    json_t *out = json_deep_copy(props), *v;

    if (!out)
        return NULL;
    if (json_is_array(v = json_object_get(out, "AttributeDefinitions")))
        json_object_set_new(out, "AttributeDefinitions", sorted_by(v, "AttributeName"));
    if (json_is_array(v = json_object_get(out, "GlobalSecondaryIndexes")))
        json_object_set_new(out, "GlobalSecondaryIndexes", sorted_by(v, "IndexName"));
    if (json_is_array(v = json_object_get(out, "LocalSecondaryIndexes")))
        json_object_set_new(out, "LocalSecondaryIndexes", sorted_by(v, "IndexName"));
    /* an on-demand table has no provisioned throughput (create and update leave a declared
     * one out, and read reports null): declared anyway, it would be a change on every plan */
    v = json_object_get(out, "BillingMode");
    if (json_is_string(v) && strcmp(json_string_value(v), "PAY_PER_REQUEST") == 0)
        json_object_del(out, "ProvisionedThroughput");
    v = json_object_get(out, "TimeToLiveSpecification");
    if (json_is_false(json_object_get(v, "Enabled")))
        json_object_del(v, "AttributeName");
    v = json_object_get(out, "PointInTimeRecoverySpecification");
    if (json_is_false(json_object_get(v, "PointInTimeRecoveryEnabled")))
        json_object_del(v, "RecoveryPeriodInDays");
    v = json_object_get(out, "SSESpecification");
    if (json_is_false(json_object_get(v, "SSEEnabled"))) {
        json_object_del(v, "SSEType");
        json_object_del(v, "KMSMasterKeyId");
    }
    return out;
}

const struct plumb_resource_type plumb_driver_dynamodb_table = {
    .type_name = "AWS::DynamoDB::Table",
    .read = ddb_read,
    /* no read_many: DescribeTable takes one table, so a batch would cost as much as reads */
    .lookup = ddb_lookup,
    .create = ddb_create,
    .update = ddb_update,
    .remove = ddb_remove,
    .wait_stable = ddb_wait_stable,
    .wait_deleted = ddb_wait_deleted,
    .normalize = ddb_normalize,
    .found_by_tags = 1,
};
