/*
 * AWS::RDS::DBInstance — RDS database instances (not Aurora cluster members).
 *
 * Named by the user (DBInstanceIdentifier is the primary identifier), but RDS stores the
 * identifier in lower case, as it does the names of subnet, parameter and option groups:
 * normalize lower-cases those declared names (and Engine, StorageType and
 * PreferredMaintenanceWindow, which AWS reports in lower case too), every call sends them
 * lower case, and read reports AWS's form.
 *
 * EngineVersion: a declaration of "15" makes AWS pick its current 15.x and report "15.4".
 * A declared version is satisfied by AWS's when it is equal or a prefix ending at a dot
 * ("15" and "15.4" by "15.4", not "1" by "15.4"): update never sends an EngineVersion that
 * AWS's already satisfies (it would ask for a downgrade). read reports AWS's full version:
 * it cannot see the declaration, and neither can normalize see AWS's version, so until the
 * planner offers a hook that sees both, a plan shows "15" → "15.4" as a change, which
 * update then leaves alone.
 *
 * A read is one DescribeDBInstances (it carries the tags); read_many asks for up to 100
 * identifiers a call with the db-instance-id filter, which answers for those that exist.
 * AllocatedStorage and Port are strings in CloudFormation and integers in the API; read
 * reports them as strings. MasterUserPassword is write-only: never read. An empty
 * EnabledCloudwatchLogsExports is left out of AWS's answers, so its absence reads as [].
 *
 * Changes go through one ModifyDBInstance, computed against what AWS has now, with
 * ApplyImmediately (true unless declared false). AWS may answer it while the instance is
 * still "available" with the change only pending, and turn "modifying" a moment later; update
 * waits for that turn (briefly, bounded), so that wait_stable does not see "available"
 * before the change has started. wait_stable polls until the status is "available" (or
 * "storage-optimization", which can last hours but leaves the instance usable), reporting
 * "creating", "modifying", "backing-up"...; statuses that need a person
 * ("incompatible-parameters", "failed", "stopped"...) end the wait with an error.
 *
 * remove: an instance with DeletionProtection on is a clear error (turn it off first, as AWS
 * requires: plumb does not override it); otherwise DeleteDBInstance with SkipFinalSnapshot,
 * or, with PLUMB_REMOVE_FINAL_SNAPSHOT, a final snapshot "<id>-final-<epoch seconds>".
 * DeleteAutomatedBackups is write-only and remove sees only the id: AWS's default (delete
 * them) applies. An instance in a state that refuses deletion (InvalidDBInstanceState) is
 * retried for a while; one already being deleted is success.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "provider/provider.h"
#include "provider/util.h"
#include "util/error.h"
#include "util/sys.h"

#define FILTER_CHUNK 100   /* db-instance-id filter values per DescribeDBInstances */
#define POLL_MS      15000 /* RDS takes minutes to create, modify and delete */

/* After ModifyDBInstance: how long to wait for a pending change to start, and the polls. */
#define SETTLE_TOTAL_MS 120000
#define SETTLE_FIRST_MS 250
#define SETTLE_MAX_MS   5000

/* DeleteDBInstance refused with InvalidDBInstanceState: tries and the first back-off. */
#define DELETE_ATTEMPTS 10
#define DELETE_FIRST_MS 500
#define DELETE_MAX_MS   30000

/*
 * The managed properties: CloudFormation name, CreateDBInstance member, ModifyDBInstance
 * member (NULL: it cannot change in place), and whether it is a string in CloudFormation but
 * an integer in the API. Read-only attributes and the properties needing more than a copy
 * (VPCSecurityGroups, EnableCloudwatchLogsExports, MasterUserPassword, MasterUserSecret,
 * EngineVersion, Tags) are handled apart.
 */
static const struct field {
    const char *cfn;
    const char *create;
    const char *modify;
    int numeric_string;
} fields[] = {
    {"AllocatedStorage", "AllocatedStorage", "AllocatedStorage", 1},
    {"AutoMinorVersionUpgrade", "AutoMinorVersionUpgrade", "AutoMinorVersionUpgrade", 0},
    {"AvailabilityZone", "AvailabilityZone", NULL, 0},
    {"BackupRetentionPeriod", "BackupRetentionPeriod", "BackupRetentionPeriod", 0},
    {"CACertificateIdentifier", "CACertificateIdentifier", "CACertificateIdentifier", 0},
    {"CopyTagsToSnapshot", "CopyTagsToSnapshot", "CopyTagsToSnapshot", 0},
    {"DBInstanceClass", "DBInstanceClass", "DBInstanceClass", 0},
    {"DBInstanceIdentifier", "DBInstanceIdentifier", NULL, 0},
    {"DBName", "DBName", NULL, 0},
    {"DBParameterGroupName", "DBParameterGroupName", "DBParameterGroupName", 0},
    {"DBSubnetGroupName", "DBSubnetGroupName", NULL, 0},
    {"DeletionProtection", "DeletionProtection", "DeletionProtection", 0},
    {"EnableIAMDatabaseAuthentication", "EnableIAMDatabaseAuthentication",
     "EnableIAMDatabaseAuthentication", 0},
    {"EnablePerformanceInsights", "EnablePerformanceInsights", "EnablePerformanceInsights", 0},
    {"Engine", "Engine", "Engine", 0},
    {"Iops", "Iops", "Iops", 0},
    {"KmsKeyId", "KmsKeyId", NULL, 0},
    {"LicenseModel", "LicenseModel", "LicenseModel", 0},
    {"ManageMasterUserPassword", "ManageMasterUserPassword", "ManageMasterUserPassword", 0},
    {"MasterUsername", "MasterUsername", NULL, 0},
    {"MaxAllocatedStorage", "MaxAllocatedStorage", "MaxAllocatedStorage", 0},
    {"MonitoringInterval", "MonitoringInterval", "MonitoringInterval", 0},
    {"MonitoringRoleArn", "MonitoringRoleArn", "MonitoringRoleArn", 0},
    {"MultiAZ", "MultiAZ", "MultiAZ", 0},
    {"NetworkType", "NetworkType", "NetworkType", 0},
    {"OptionGroupName", "OptionGroupName", "OptionGroupName", 0},
    {"PerformanceInsightsKMSKeyId", "PerformanceInsightsKMSKeyId", "PerformanceInsightsKMSKeyId",
     0},
    {"PerformanceInsightsRetentionPeriod", "PerformanceInsightsRetentionPeriod",
     "PerformanceInsightsRetentionPeriod", 0},
    {"Port", "Port", "DBPortNumber", 1},
    {"PreferredBackupWindow", "PreferredBackupWindow", "PreferredBackupWindow", 0},
    {"PreferredMaintenanceWindow", "PreferredMaintenanceWindow", "PreferredMaintenanceWindow", 0},
    {"PubliclyAccessible", "PubliclyAccessible", "PubliclyAccessible", 0},
    {"StorageEncrypted", "StorageEncrypted", NULL, 0},
    {"StorageThroughput", "StorageThroughput", "StorageThroughput", 0},
    {"StorageType", "StorageType", "StorageType", 0},
};

#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

/* DescribeDBInstances members copied as they are into observed. */
static const char *const same_named[] = {
    "DBInstanceIdentifier",
    "DBInstanceClass",
    "Engine",
    "EngineVersion",
    "MasterUsername",
    "DBName",
    "AvailabilityZone",
    "BackupRetentionPeriod",
    "PreferredBackupWindow",
    "PreferredMaintenanceWindow",
    "MultiAZ",
    "AutoMinorVersionUpgrade",
    "LicenseModel",
    "Iops",
    "StorageThroughput",
    "StorageType",
    "StorageEncrypted",
    "KmsKeyId",
    "CACertificateIdentifier",
    "CopyTagsToSnapshot",
    "MonitoringInterval",
    "MonitoringRoleArn",
    "DeletionProtection",
    "MaxAllocatedStorage",
    "NetworkType",
    "PubliclyAccessible",
    "PerformanceInsightsKMSKeyId",
    "PerformanceInsightsRetentionPeriod",
    "DBInstanceArn",
    "DbiResourceId",
    NULL,
};

/* Names RDS stores in lower case (and values it reports so). */
static const char *const lower_cased[] = {
    "DBInstanceIdentifier",
    "DBSubnetGroupName",
    "DBParameterGroupName",
    "OptionGroupName",
    "Engine",
    "StorageType",
    "PreferredMaintenanceWindow",
    NULL,
};

/*
 * The schema's plumb.defaults: what a property AWS fills in returns to when a declaration
 * that set it drops it (only then: a property never declared is left as it is).
 */
static const struct {
    const char *cfn;
    const char *json;
} defaults[] = {
    {"AutoMinorVersionUpgrade", "true"},
    {"BackupRetentionPeriod", "1"},
    {"CopyTagsToSnapshot", "false"},
    {"DeletionProtection", "false"},
    {"EnableCloudwatchLogsExports", "[]"},
    {"EnableIAMDatabaseAuthentication", "false"},
    {"EnablePerformanceInsights", "false"},
    {"MonitoringInterval", "0"},
    {"MultiAZ", "false"},
};

/* `s` in lower case, as RDS stores identifiers. Caller frees. */
static char *lower(const char *s)
{
    char *out = strdup(s ? s : "");
    char *p;

    for (p = out; p && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return out;
}

static json_t *lower_json(const char *s)
{
    char *low = lower(s);
    json_t *out = low ? json_string(low) : NULL;

    free(low);
    return out;
}

/* An integer or a string of digits (CloudFormation's AllocatedStorage, Port) as the API's
 * integer; NULL when it is neither. */
static json_t *api_integer(const json_t *v)
{
    const char *s = json_string_value(v);
    char *end;
    long long n;

    if (json_is_integer(v))
        return json_incref((json_t *)v);
    if (!s || !*s || !isdigit((unsigned char)*s))
        return NULL;
    n = strtoll(s, &end, 10);
    return *end ? NULL : json_integer((json_int_t)n);
}

/* The API's integer as CloudFormation's string. */
static json_t *cfn_string(const json_t *v)
{
    return json_is_integer(v) ? json_sprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v)) : NULL;
}

/* ---- reading ------------------------------------------------------------------------------- */

/* The VpcSecurityGroupIds of an instance, without those on their way out. */
static json_t *security_groups_of(const json_t *inst)
{
    json_t *out = json_array();
    const json_t *g;
    size_t i;

    json_array_foreach(json_object_get(inst, "VpcSecurityGroups"), i, g)
    {
        const char *status = json_string_value(json_object_get(g, "Status"));
        const json_t *id = json_object_get(g, "VpcSecurityGroupId");
        if (json_is_string(id) && !(status && strcmp(status, "removing") == 0))
            json_array_append(out, (json_t *)id);
    }
    return out;
}

/* The first element's `member` of list `list` of `inst` (parameter and option groups). */
static const json_t *first_member(const json_t *inst, const char *list, const char *member)
{
    return json_object_get(json_array_get(json_object_get(inst, list), 0), member);
}

/* One DescribeDBInstances entry → the CloudFormation shape (no call: tags are in TagList);
 * `wanted` as read_many's (provider.h), NULL for a whole read. */
static int observe(const json_t *inst, const json_t *wanted, json_t **out)
{
    json_t *o = json_object(), *tags = NULL, *v, *endpoint = NULL;
    const json_t *x;
    const char *const *k;
    int error = 0;

    *out = NULL;
    PLUMB_ALLOC_CHECK(o);
    for (k = same_named; *k; k++)
        if ((x = json_object_get(inst, *k)))
            json_object_set(o, *k, (json_t *)x);
    if ((v = cfn_string(json_object_get(inst, "AllocatedStorage"))))
        json_object_set_new(o, "AllocatedStorage", v);
    /*
     * Storage autoscaling off: AWS leaves MaxAllocatedStorage out, as it does when the maximum
     * is the allocated storage (which is how it is turned off). A whole read leaves it out too;
     * where `wanted` names it, it reads as the allocated storage, so autoscaling turned off
     * outside plumb is drift (not the maximum last applied), and a declared maximum equal to
     * the allocated storage still matches.
     */
    if (!json_object_get(inst, "MaxAllocatedStorage") && wanted &&
        json_object_get(wanted, "MaxAllocatedStorage")) {
        x = json_object_get(inst, "AllocatedStorage");
        json_object_set_new(o, "MaxAllocatedStorage",
                            json_is_integer(x) ? json_incref((json_t *)x) : json_null());
    }
    /* No provisioned IOPS or throughput (the storage type changed to one without them): AWS
     * leaves them out. Null where `wanted` names them, so that is drift rather than the value
     * last applied; a whole read leaves them out (plumb_provider_not_set). */
    if (!json_object_get(inst, "Iops"))
        plumb_provider_not_set(o, wanted, "Iops");
    if (!json_object_get(inst, "StorageThroughput"))
        plumb_provider_not_set(o, wanted, "StorageThroughput");
    if ((x = json_object_get(inst, "IAMDatabaseAuthenticationEnabled")))
        json_object_set(o, "EnableIAMDatabaseAuthentication", (json_t *)x);
    if ((x = json_object_get(inst, "PerformanceInsightsEnabled")))
        json_object_set(o, "EnablePerformanceInsights", (json_t *)x);
    /* AWS leaves an empty list out of its answer */
    x = json_object_get(inst, "EnabledCloudwatchLogsExports");
    json_object_set_new(o, "EnableCloudwatchLogsExports", x ? json_deep_copy(x) : json_array());
    if ((x = first_member(inst, "DBParameterGroups", "DBParameterGroupName")))
        json_object_set(o, "DBParameterGroupName", (json_t *)x);
    if ((x = first_member(inst, "OptionGroupMemberships", "OptionGroupName")))
        json_object_set(o, "OptionGroupName", (json_t *)x);
    if ((x = json_object_get(json_object_get(inst, "DBSubnetGroup"), "DBSubnetGroupName")))
        json_object_set(o, "DBSubnetGroupName", (json_t *)x);
    if (json_object_get(inst, "VpcSecurityGroups"))
        json_object_set_new(o, "VPCSecurityGroups", security_groups_of(inst));
    /* a managed password shows as the secret RDS keeps it in; no secret: not managed */
    x = json_object_get(inst, "MasterUserSecret");
    json_object_set_new(o, "ManageMasterUserPassword", json_boolean(json_is_object(x)));
    if (json_is_object(x)) {
        v = json_object();
        PLUMB_ALLOC_CHECK(v);
        json_object_set_new(o, "MasterUserSecret", v);
        if (json_object_get(x, "SecretArn"))
            json_object_set(v, "SecretArn", json_object_get(x, "SecretArn"));
        if (json_object_get(x, "KmsKeyId"))
            json_object_set(v, "KmsKeyId", json_object_get(x, "KmsKeyId"));
    } else {
        /* management turned off outside plumb: the secret's settings are gone too */
        plumb_provider_not_set(o, wanted, "MasterUserSecret");
    }
    /* the endpoint exists once the instance is up; DbInstancePort before that (0: none) */
    x = json_object_get(inst, "Endpoint");
    if (json_is_object(x)) {
        endpoint = json_object();
        PLUMB_ALLOC_CHECK(endpoint);
        if (json_object_get(x, "Address"))
            json_object_set(endpoint, "Address", json_object_get(x, "Address"));
        if ((v = cfn_string(json_object_get(x, "Port"))))
            json_object_set_new(endpoint, "Port", v);
        if (json_object_get(x, "HostedZoneId"))
            json_object_set(endpoint, "HostedZoneId", json_object_get(x, "HostedZoneId"));
        json_object_set(o, "Endpoint", endpoint);
        if (json_object_get(endpoint, "Port"))
            json_object_set(o, "Port", json_object_get(endpoint, "Port"));
    }
    if (!json_object_get(o, "Port") &&
        json_integer_value(json_object_get(inst, "DbInstancePort")) > 0)
        json_object_set_new(o, "Port", cfn_string(json_object_get(inst, "DbInstancePort")));
    tags = plumb_provider_tags_to_map(json_object_get(inst, "TagList"));
    PLUMB_ALLOC_CHECK(tags);
    json_object_set_new(o, "Tags", plumb_provider_tags_to_list(tags, "Key", "Value"));
    *out = o;
    o = NULL;
done:
    json_decref(o);
    json_decref(tags);
    json_decref(endpoint);
    return error;
}

/* The DBInstance `ident` as DescribeDBInstances gives it, or *inst = NULL when none. */
static int describe_one(struct plumb_aws *aws, const char *ident, json_t **inst)
{
    json_t *out = NULL;
    int error;

    *inst = NULL;
    error =
        plumb_provider_call(aws, "rds", "DescribeDBInstances",
                            json_pack("{s:o}", "DBInstanceIdentifier", lower_json(ident)), &out);
    if (error == PLUMB_ENOTFOUND)
        error = 0; /* DBInstanceNotFound */
    else if (error == 0)
        *inst = json_incref(json_array_get(json_object_get(out, "DBInstances"), 0));
    json_decref(out);
    return error;
}

static const char *id_of(const json_t *id)
{
    return plumb_provider_id_str(id, "DBInstanceIdentifier");
}

static int db_read(struct plumb_aws *aws, const json_t *id, json_t **observed)
{
    const char *ident = id_of(id);
    json_t *inst = NULL;
    int error = 0;

    *observed = NULL;
    if (!ident)
        return plumb_error_set(PLUMB_EINVALID, "db instance id lacks DBInstanceIdentifier");
    PLUMB_TRY(describe_one(aws, ident, &inst));
    if (inst)
        error = observe(inst, NULL, observed);
done:
    json_decref(inst);
    return error;
}

/* Describes the instances named in ids[from, to) with one filter (paginated), adding them to
 * `found` keyed by lower-case identifier. */
static int describe_chunk(struct plumb_aws *aws, const json_t *ids, size_t from, size_t to,
                          json_t *found)
{
    json_t *values = json_array(), *in = NULL, *out = NULL, *inst;
    size_t i;
    int error = 0;

    PLUMB_ALLOC_CHECK(values);
    for (i = from; i < to; i++) {
        const char *ident = id_of(json_array_get(ids, i));
        if (ident)
            json_array_append_new(values, lower_json(ident));
    }
    if (!json_array_size(values))
        goto done;
    in = json_pack("{s:[{s:s, s:O}]}", "Filters", "Name", "db-instance-id", "Values", values);
    PLUMB_ALLOC_CHECK(in);
    PLUMB_TRY(plumb_aws_paginate(aws, "rds", "DescribeDBInstances", in, &out));
    json_array_foreach(json_object_get(out, "DBInstances"), i, inst)
    {
        char *key = lower(json_string_value(json_object_get(inst, "DBInstanceIdentifier")));
        PLUMB_ALLOC_CHECK(key);
        json_object_set(found, key, inst);
        free(key);
    }
done:
    json_decref(values);
    json_decref(in);
    json_decref(out);
    return error;
}

static int db_read_many(struct plumb_aws *aws, const json_t *ids, const json_t *wanted,
                        json_t **observed)
{
    json_t *found = json_object(), *out = json_array(), *o;
    size_t i, n = json_array_size(ids);
    int error = 0;

    *observed = NULL;
    PLUMB_ALLOC_CHECK(found);
    PLUMB_ALLOC_CHECK(out);
    for (i = 0; i < n; i += FILTER_CHUNK)
        PLUMB_TRY(describe_chunk(aws, ids, i, i + FILTER_CHUNK < n ? i + FILTER_CHUNK : n, found));
    for (i = 0; i < n; i++) {
        const char *ident = id_of(json_array_get(ids, i));
        char *key = ident ? lower(ident) : NULL;
        const json_t *inst = key ? json_object_get(found, key) : NULL;
        free(key);
        o = NULL;
        if (inst)
            PLUMB_TRY(observe(inst, wanted, &o));
        json_array_append_new(out, o ? o : json_null());
    }
    *observed = out;
    out = NULL;
done:
    json_decref(found);
    json_decref(out);
    return error;
}

static int db_lookup(struct plumb_aws *aws, const json_t *props, json_t **id)
{
    const char *ident = json_string_value(json_object_get(props, "DBInstanceIdentifier"));
    json_t *inst = NULL;
    int error = 0;

    *id = NULL;
    if (!ident)
        return 0;
    PLUMB_TRY(describe_one(aws, ident, &inst));
    if (inst) {
        *id = json_pack("{s:O}", "DBInstanceIdentifier",
                        json_object_get(inst, "DBInstanceIdentifier"));
        PLUMB_ALLOC_CHECK(*id);
    }
done:
    json_decref(inst);
    return error;
}

/* The declared properties as read reports them: names RDS lower-cases in lower case, numbers
 * CloudFormation types as strings as strings. Values known only at apply time (and secrets)
 * keep their marks. */
static json_t *db_normalize(const json_t *props)
{
    json_t *out = json_deep_copy(props), *v;
    const char *const *k;
    size_t i;

    if (!out)
        return NULL;
    for (k = lower_cased; *k; k++) {
        const json_t *x = json_object_get(props, *k);
        if (json_is_string(x) && (v = lower_json(json_string_value(x))))
            json_object_set_new(out, *k, v);
    }
    for (i = 0; i < NFIELDS; i++) {
        if (fields[i].numeric_string && (v = cfn_string(json_object_get(props, fields[i].cfn))))
            json_object_set_new(out, fields[i].cfn, v);
    }
    return out;
}

/* ---- creating ------------------------------------------------------------------------------ */

/* Sets API member `member` from property value `v` of field `f`. */
static int put_field(json_t *in, const struct field *f, const char *member, const json_t *v)
{
    json_t *x;

    if (!f->numeric_string)
        return json_object_set(in, member, (json_t *)v) == 0 ? 0 : plumb_error_oom();
    x = api_integer(v);
    if (!x)
        return plumb_error_set(PLUMB_EINVALID, "%s must be a whole number", f->cfn);
    json_object_set_new(in, member, x);
    return 0;
}

static int create_input(const json_t *props, json_t **out)
{
    json_t *in = json_object(), *v;
    const json_t *x;
    size_t i;
    int error = 0;

    *out = NULL;
    PLUMB_ALLOC_CHECK(in);
    for (i = 0; i < NFIELDS; i++) {
        if ((x = json_object_get(props, fields[i].cfn)) && !json_is_null(x))
            PLUMB_TRY(put_field(in, &fields[i], fields[i].create, x));
    }
    for (i = 0; lower_cased[i]; i++) {
        x = json_object_get(in, lower_cased[i]);
        if (json_is_string(x) && (v = lower_json(json_string_value(x))))
            json_object_set_new(in, lower_cased[i], v);
    }
    if ((x = json_object_get(props, "EngineVersion")))
        json_object_set(in, "EngineVersion", (json_t *)x);
    if ((x = json_object_get(props, "VPCSecurityGroups")))
        json_object_set(in, "VpcSecurityGroupIds", (json_t *)x);
    if ((x = json_object_get(props, "EnableCloudwatchLogsExports")))
        json_object_set(in, "EnableCloudwatchLogsExports", (json_t *)x);
    if ((x = json_object_get(json_object_get(props, "MasterUserSecret"), "KmsKeyId")))
        json_object_set(in, "MasterUserSecretKmsKeyId", (json_t *)x);
    if ((x = json_object_get(props, "MasterUserPassword")))
        json_object_set(in, "MasterUserPassword", (json_t *)x);
    if (json_array_size(json_object_get(props, "Tags")))
        json_object_set(in, "Tags", json_object_get(props, "Tags")); /* plumb:* included */
    *out = in;
    in = NULL;
done:
    json_decref(in);
    return error;
}

/* One call: CreateDBInstance takes the tags too, so nothing can fail after it that would
 * leave a half-made instance behind. */
static int db_create(struct plumb_aws *aws, const json_t *props, json_t **observed)
{
    json_t *in = NULL, *out = NULL;
    int error = 0;

    *observed = NULL;
    if (!json_is_string(json_object_get(props, "DBInstanceIdentifier")))
        return plumb_error_set(PLUMB_EINVALID, "a db instance needs DBInstanceIdentifier");
    PLUMB_TRY(create_input(props, &in));
    PLUMB_TRY(plumb_provider_call(aws, "rds", "CreateDBInstance", json_incref(in), &out));
    /* the answer is the instance as DescribeDBInstances would give it ("creating") */
    error = observe(json_object_get(out, "DBInstance"), NULL, observed);
done:
    json_decref(in);
    json_decref(out);
    return error;
}

/* ---- updating ------------------------------------------------------------------------------ */

/* 1 when AWS's `actual` engine version satisfies the declared one: equal, or the declared
 * one is a prefix ending at a dot ("15" by "15.4"). */
static int version_satisfies(const char *declared, const char *actual)
{
    size_t n;

    if (!declared || !actual)
        return 0;
    n = strlen(declared);
    return strncmp(declared, actual, n) == 0 && (actual[n] == '\0' || actual[n] == '.');
}

static int cmp_json_str(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

/* The strings of `arr` sorted, to compare lists AWS treats as sets. */
static json_t *sorted_strings(const json_t *arr)
{
    json_t *out = json_array(), **items;
    size_t i, n = 0;

    if (!out)
        return NULL;
    items = calloc(json_array_size(arr) + 1, sizeof(*items));
    if (!items) {
        json_decref(out);
        return NULL;
    }
    for (i = 0; i < json_array_size(arr); i++)
        if (json_is_string(json_array_get(arr, i)))
            items[n++] = json_array_get(arr, i);
    qsort(items, n, sizeof(*items), cmp_json_str);
    for (i = 0; i < n; i++)
        json_array_append(out, items[i]);
    free(items);
    return out;
}

static int set_changed(const json_t *a, const json_t *b)
{
    json_t *x = sorted_strings(a), *y = sorted_strings(b);
    int changed = !json_equal(x, y);

    json_decref(x);
    json_decref(y);
    return changed;
}

static int in_list(const json_t *list, const char *s)
{
    const json_t *x;
    size_t i;

    json_array_foreach(list, i, x)
    {
        if (json_is_string(x) && strcmp(json_string_value(x), s) == 0)
            return 1;
    }
    return 0;
}

/* The items of `a` that are not in `b`. */
static json_t *minus(const json_t *a, const json_t *b)
{
    json_t *out = json_array();
    const json_t *x;
    size_t i;

    json_array_foreach(a, i, x)
    {
        if (json_is_string(x) && !in_list(b, json_string_value(x)))
            json_array_append(out, (json_t *)x);
    }
    return out;
}

/*
 * What the update aims at, in read's form: `after` normalised, plus the default of each
 * defaulted property that `before` declared and `after` no longer does.
 */
static json_t *update_target(const json_t *before, const json_t *after)
{
    json_t *want = db_normalize(after);
    size_t i;

    if (!want)
        return NULL;
    for (i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
        if (json_object_get(before, defaults[i].cfn) && !json_object_get(after, defaults[i].cfn))
            json_object_set_new(want, defaults[i].cfn,
                                json_loads(defaults[i].json, JSON_DECODE_ANY, NULL));
    }
    return want;
}

/*
 * The ModifyDBInstance input for turning `current` (read now) into `want`; *in = NULL when
 * nothing but tags changes. Properties that cannot change in place are compared with the
 * last applied declaration (`before_n`, normalised), not with AWS, which reports some of them
 * in another form (a key id as an ARN) or not at all.
 */
static int modify_input(const char *ident, const json_t *current, const json_t *before,
                        const json_t *before_n, const json_t *after, const json_t *want,
                        json_t **in)
{
    json_t *m = json_object(), *enable = NULL, *disable = NULL, *logs_now;
    const json_t *x, *pw;
    const char *declared, *actual;
    size_t i;
    int error = 0, apply_now = !json_is_false(json_object_get(after, "ApplyImmediately"));
    int managed = json_is_true(json_object_get(want, "ManageMasterUserPassword"));

    *in = NULL;
    PLUMB_ALLOC_CHECK(m);
    for (i = 0; i < NFIELDS; i++) {
        const struct field *f = &fields[i];
        if (!(x = json_object_get(want, f->cfn)) || json_is_null(x))
            continue;
        if (!f->modify) {
            if (json_object_get(before_n, f->cfn) &&
                plumb_provider_changed(before_n, want, f->cfn)) {
                error = plumb_error_set(PLUMB_EINVALID,
                                        "db instance '%s': %s cannot change in place (RDS has no "
                                        "call for it): replace the instance instead",
                                        ident, f->cfn);
                goto done;
            }
            continue;
        }
        if (plumb_provider_changed(current, want, f->cfn))
            PLUMB_TRY(put_field(m, f, f->modify, x));
    }
    declared = json_string_value(json_object_get(want, "EngineVersion"));
    actual = json_string_value(json_object_get(current, "EngineVersion"));
    if (declared && !version_satisfies(declared, actual)) {
        json_object_set_new(m, "EngineVersion", json_string(declared));
        if (json_is_true(json_object_get(after, "AllowMajorVersionUpgrade")))
            json_object_set_new(m, "AllowMajorVersionUpgrade", json_true());
    }
    if ((x = json_object_get(want, "VPCSecurityGroups")) &&
        set_changed(json_object_get(current, "VPCSecurityGroups"), x))
        json_object_set(m, "VpcSecurityGroupIds", (json_t *)x);
    if ((x = json_object_get(want, "EnableCloudwatchLogsExports"))) {
        logs_now = json_object_get(current, "EnableCloudwatchLogsExports");
        enable = minus(x, logs_now);
        disable = minus(logs_now, x);
        if (json_array_size(enable) || json_array_size(disable)) {
            json_t *cfg = json_object();
            PLUMB_ALLOC_CHECK(cfg);
            json_object_set_new(m, "CloudwatchLogsExportConfiguration", cfg);
            if (json_array_size(enable))
                json_object_set(cfg, "EnableLogTypes", enable);
            if (json_array_size(disable))
                json_object_set(cfg, "DisableLogTypes", disable);
        }
    }
    x = json_object_get(json_object_get(want, "MasterUserSecret"), "KmsKeyId");
    if (x &&
        !json_equal(x, json_object_get(json_object_get(current, "MasterUserSecret"), "KmsKeyId")))
        json_object_set(m, "MasterUserSecretKmsKeyId", (json_t *)x);
    /*
     * The password is write-only: AWS cannot say whether it changed, and `before` holds only
     * a fingerprint of it once it went through state. Unless `before` has the same plain
     * value, it is sent: setting a password to its own value is harmless, missing a change
     * is not.
     */
    pw = json_object_get(after, "MasterUserPassword");
    if (json_is_string(pw) && !managed &&
        !json_equal(pw, json_object_get(before, "MasterUserPassword")))
        json_object_set(m, "MasterUserPassword", (json_t *)pw);
    if (json_object_size(m)) {
        json_object_set_new(m, "DBInstanceIdentifier", lower_json(ident));
        json_object_set_new(m, "ApplyImmediately", json_boolean(apply_now));
        *in = m;
        m = NULL;
    }
done:
    json_decref(m);
    json_decref(enable);
    json_decref(disable);
    return error;
}

static int has_pending(const json_t *inst)
{
    const char *status = json_string_value(json_object_get(inst, "DBInstanceStatus"));

    return status && strcmp(status, "available") == 0 &&
           json_object_size(json_object_get(inst, "PendingModifiedValues")) > 0;
}

/*
 * After ModifyDBInstance with ApplyImmediately: while AWS still says "available" with the
 * change pending, it has not started it; wait (bounded) until it has, or it is done. A
 * change that is still pending after that is left to wait_stable and the next plan.
 */
static int settle(struct plumb_aws *aws, const char *ident, const json_t *modified)
{
    json_t *inst = NULL;
    long waited = 0, step = SETTLE_FIRST_MS;
    int error = 0, pending = has_pending(modified);

    while (pending && waited < SETTLE_TOTAL_MS) {
        plumb_sleep_ms(step);
        waited += step;
        step = step * 2 > SETTLE_MAX_MS ? SETTLE_MAX_MS : step * 2;
        json_decref(inst);
        inst = NULL;
        PLUMB_TRY(describe_one(aws, ident, &inst));
        pending = inst && has_pending(inst);
    }
done:
    json_decref(inst);
    return error;
}

static int update_tags(struct plumb_aws *aws, const char *arn, const json_t *current,
                       const json_t *after)
{
    json_t *tb = plumb_provider_tags_to_map(json_object_get(current, "Tags"));
    json_t *ta = plumb_provider_tags_to_map(json_object_get(after, "Tags"));
    json_t *add = NULL, *del = NULL, *list = NULL;
    int error = 0;

    PLUMB_ALLOC_CHECK(tb);
    PLUMB_ALLOC_CHECK(ta);
    plumb_provider_tags_diff(tb, ta, &add, &del);
    PLUMB_ALLOC_CHECK(add);
    PLUMB_ALLOC_CHECK(del);
    if (json_object_size(add)) {
        list = plumb_provider_tags_to_list(add, "Key", "Value");
        PLUMB_TRY(plumb_provider_call(aws, "rds", "AddTagsToResource",
                                      json_pack("{s:s, s:O}", "ResourceName", arn, "Tags", list),
                                      NULL));
    }
    if (json_array_size(del))
        PLUMB_TRY(plumb_provider_call(aws, "rds", "RemoveTagsFromResource",
                                      json_pack("{s:s, s:O}", "ResourceName", arn, "TagKeys", del),
                                      NULL));
done:
    json_decref(tb);
    json_decref(ta);
    json_decref(add);
    json_decref(del);
    json_decref(list);
    return error;
}

/*
 * Changes are computed against what AWS holds now rather than against `before` (the last
 * applied declaration): a change made outside plumb is what a refresh plans to undo, and
 * `before` would not show it.
 */
static int db_update(struct plumb_aws *aws, const json_t *id, const json_t *before,
                     const json_t *after, json_t **observed)
{
    const char *ident = id_of(id), *arn;
    json_t *inst = NULL, *current = NULL, *want = NULL, *before_n = NULL, *in = NULL;
    json_t *out = NULL;
    int error = 0;

    *observed = NULL;
    if (!ident)
        return plumb_error_set(PLUMB_EINVALID, "db instance id lacks DBInstanceIdentifier");
    PLUMB_TRY(describe_one(aws, ident, &inst));
    if (!inst) {
        error = plumb_error_set(PLUMB_ENOTFOUND, "db instance '%s' does not exist", ident);
        goto done;
    }
    PLUMB_TRY(observe(inst, NULL, &current));
    want = update_target(before, after);
    PLUMB_ALLOC_CHECK(want);
    before_n = before ? db_normalize(before) : json_object();
    PLUMB_ALLOC_CHECK(before_n);
    PLUMB_TRY(modify_input(ident, current, before, before_n, after, want, &in));
    if (in) {
        PLUMB_TRY(plumb_provider_call(aws, "rds", "ModifyDBInstance", json_incref(in), &out));
        if (json_is_true(json_object_get(in, "ApplyImmediately")))
            PLUMB_TRY(settle(aws, ident, json_object_get(out, "DBInstance")));
    }
    arn = json_string_value(json_object_get(current, "DBInstanceArn"));
    if (arn && json_object_get(after, "Tags"))
        PLUMB_TRY(update_tags(aws, arn, current, after));
    PLUMB_TRY(db_read(aws, id, observed));
    if (!*observed)
        error = plumb_error_set(PLUMB_ENOTFOUND, "db instance '%s' does not exist", ident);
done:
    json_decref(inst);
    json_decref(current);
    json_decref(want);
    json_decref(before_n);
    json_decref(in);
    json_decref(out);
    return error;
}

/* ---- removing ------------------------------------------------------------------------------ */

static int delete_call(struct plumb_aws *aws, const char *ident, unsigned flags)
{
    json_t *in;
    char snapshot[128];

    if (flags & PLUMB_REMOVE_FINAL_SNAPSHOT) {
        snprintf(snapshot, sizeof(snapshot), "%s-final-%lld", ident, (long long)plumb_clock_now());
        in = json_pack("{s:s, s:b, s:s}", "DBInstanceIdentifier", ident, "SkipFinalSnapshot", 0,
                       "FinalDBSnapshotIdentifier", snapshot);
    } else {
        in = json_pack("{s:s, s:b}", "DBInstanceIdentifier", ident, "SkipFinalSnapshot", 1);
    }
    return plumb_provider_call(aws, "rds", "DeleteDBInstance", in, NULL);
}

static int db_remove(struct plumb_aws *aws, const json_t *id, unsigned flags)
{
    const char *ident = id_of(id), *status;
    json_t *inst = NULL;
    char *low = NULL;
    long wait_ms = DELETE_FIRST_MS;
    int error = 0, attempt;

    if (!ident)
        return plumb_error_set(PLUMB_EINVALID, "db instance id lacks DBInstanceIdentifier");
    low = lower(ident);
    PLUMB_ALLOC_CHECK(low);
    PLUMB_TRY(describe_one(aws, low, &inst));
    if (!inst)
        goto done; /* gone already */
    status = json_string_value(json_object_get(inst, "DBInstanceStatus"));
    if (status && strcmp(status, "deleting") == 0)
        goto done; /* on its way: wait_deleted follows */
    if (json_is_true(json_object_get(inst, "DeletionProtection"))) {
        error = plumb_error_set(PLUMB_EINVALID,
                                "db instance '%s' has deletion protection on: set "
                                "DeletionProtection to false and apply before destroying it",
                                low);
        goto done;
    }
    for (attempt = 1;; attempt++) {
        error = delete_call(aws, low, flags);
        if (error == PLUMB_ENOTFOUND) {
            error = 0; /* deleted meanwhile */
            break;
        }
        if (error == 0 || !plumb_provider_last_code_is("InvalidDBInstanceState") ||
            attempt >= DELETE_ATTEMPTS)
            break;
        if (strstr(plumb_aws_last_error()->message, "already being deleted")) {
            error = 0;
            break;
        }
        /* creating, backing up, modifying...: RDS refuses until it is done */
        plumb_sleep_ms(wait_ms);
        wait_ms = wait_ms * 2 > DELETE_MAX_MS ? DELETE_MAX_MS : wait_ms * 2;
    }
done:
    json_decref(inst);
    free(low);
    return error;
}

/* ---- waiting ------------------------------------------------------------------------------- */

enum status_class { STATUS_PENDING, STATUS_STABLE, STATUS_FAILED };

/*
 * What a DBInstanceStatus means for a wait for stability. Statuses that only a person can
 * resolve fail the wait at once rather than at its timeout; anything else (creating,
 * modifying, backing-up, configuring-*, rebooting, upgrading, storage-full while storage
 * grows, statuses AWS adds later...) is waited out.
 */
static enum status_class classify(const char *status)
{
    static const char *const failed[] = {
        "failed",
        "incompatible-credentials",
        "incompatible-network",
        "incompatible-option-group",
        "incompatible-parameters",
        "incompatible-restore",
        "inaccessible-encryption-credentials",
        "inaccessible-encryption-credentials-recoverable",
        "restore-error",
        "stopped",
        "deleting",
        "deleted",
        NULL,
    };
    const char *const *f;

    if (!status)
        return STATUS_PENDING;
    if (strcmp(status, "available") == 0 || strcmp(status, "storage-optimization") == 0)
        return STATUS_STABLE;
    for (f = failed; *f; f++)
        if (strcmp(status, *f) == 0)
            return STATUS_FAILED;
    return STATUS_PENDING;
}

struct db_wait {
    struct plumb_aws *aws;
    const char *ident;
    char status[64];
};

static int check_stable(void *ctx, const char **status)
{
    struct db_wait *w = ctx;
    json_t *inst = NULL;
    const char *s;
    int rc;

    rc = describe_one(w->aws, w->ident, &inst);
    if (rc < 0)
        return rc;
    if (!inst)
        return plumb_error_set(PLUMB_ENOTFOUND, "db instance '%s' does not exist", w->ident);
    s = json_string_value(json_object_get(inst, "DBInstanceStatus"));
    snprintf(w->status, sizeof(w->status), "%s", s ? s : "unknown");
    json_decref(inst);
    *status = w->status;
    switch (classify(w->status)) {
    case STATUS_STABLE:
        return 1;
    case STATUS_FAILED:
        if (strcmp(w->status, "stopped") == 0)
            return plumb_error_set(
                PLUMB_ERROR, "db instance '%s' is stopped: start it, then apply again", w->ident);
        return plumb_error_set(PLUMB_ERROR, "db instance '%s' is in status '%s'", w->ident,
                               w->status);
    default:
        return 0;
    }
}

static int check_deleted(void *ctx, const char **status)
{
    struct db_wait *w = ctx;
    json_t *inst = NULL;
    const char *s;
    int rc;

    rc = describe_one(w->aws, w->ident, &inst);
    if (rc < 0)
        return rc;
    if (!inst)
        return 1;
    s = json_string_value(json_object_get(inst, "DBInstanceStatus"));
    snprintf(w->status, sizeof(w->status), "%s", s ? s : "deleting");
    json_decref(inst);
    *status = w->status;
    return 0;
}

static int db_wait(struct plumb_aws *aws, const json_t *id, struct plumb_progress *p,
                   int (*check)(void *, const char **), const char *what)
{
    struct db_wait w = {aws, id_of(id), ""};
    char label[160];

    if (!w.ident)
        return plumb_error_set(PLUMB_EINVALID, "db instance id lacks DBInstanceIdentifier");
    snprintf(label, sizeof(label), "db instance '%s' to %s", w.ident, what);
    return plumb_provider_wait(p, POLL_MS, check, &w, label);
}

static int db_wait_stable(struct plumb_aws *aws, const json_t *id, struct plumb_progress *p)
{
    return db_wait(aws, id, p, check_stable, "be available");
}

static int db_wait_deleted(struct plumb_aws *aws, const json_t *id, struct plumb_progress *p)
{
    return db_wait(aws, id, p, check_deleted, "be deleted");
}

const struct plumb_resource_type plumb_driver_rds_dbinstance = {
    .type_name = "AWS::RDS::DBInstance",
    .read = db_read,
    .read_many = db_read_many,
    .lookup = db_lookup,
    .create = db_create,
    .update = db_update,
    .remove = db_remove,
    .wait_stable = db_wait_stable,
    .wait_deleted = db_wait_deleted,
    .normalize = db_normalize,
    .found_by_tags = 1,
};
