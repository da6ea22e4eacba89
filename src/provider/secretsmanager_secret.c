/*
 * AWS::SecretsManager::Secret — Secrets Manager secrets.
 *
 * The primary identifier is Id, the secret's ARN (CloudFormation's Ref); Name is the
 * create-only name property, generated when not declared. The value (SecretString, or one
 * GenerateSecretString makes) is write-only: it is never read back into observed. CreateSecret
 * cannot generate a value, so GenerateSecretString costs one GetRandomPassword first.
 *
 * Deleting a secret only schedules its deletion (a recovery window of 7 to 30 days) unless
 * forced; meanwhile the name stays taken and every call but RestoreSecret refuses the secret.
 * read treats such a secret as gone, and create restores one that this resource (its plumb:*
 * tags) left scheduled for deletion, rather than failing for the rest of the window.
 *
 * read_many uses ListSecrets filtered on names (10 a call): it carries tags and descriptions,
 * so no call per secret is needed, but not the replication status: where `wanted` names
 * ReplicaRegions (they were declared), it costs one DescribeSecret per secret; otherwise they
 * are left out (read has them).
 */
#include <stdlib.h>
#include <string.h>

#include "provider/provider.h"
#include "provider/util.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/sys.h"

#define NAME_FILTER_CHUNK 10 /* ListSecrets: at most 10 values per filter */
#define DEFAULT_KMS_KEY   "alias/aws/secretsmanager"

/* A secret's name from its id: the ARN's resource part without the 6 random characters
 * Secrets Manager appends ("...:secret:app/db-AbCdEf"), or the id itself when it is a name
 * (an import by name). Caller frees. */
static char *name_of_id(const char *id)
{
    const char *p = strstr(id, ":secret:");
    size_t n;

    if (strncmp(id, "arn:", 4) != 0 || !p)
        return strdup(id);
    p += strlen(":secret:");
    n = strlen(p);
    if (n > 7 && p[n - 7] == '-')
        n -= 7;
    return strndup(p, n);
}

/* ReplicationStatus → ReplicaRegions, sorted by region. */
static json_t *replica_regions(const json_t *status)
{
    json_t *out = json_array(), *x, *r;
    size_t i, j;

    json_array_foreach(status, i, x)
    {
        const char *region = json_string_value(json_object_get(x, "Region"));
        if (!region)
            continue;
        r = json_pack("{s:s}", "Region", region);
        if (json_is_string(json_object_get(x, "KmsKeyId")))
            json_object_set(r, "KmsKeyId", json_object_get(x, "KmsKeyId"));
        for (j = 0; j < json_array_size(out); j++)
            if (strcmp(region,
                       json_string_value(json_object_get(json_array_get(out, j), "Region"))) < 0)
                break;
        json_array_insert_new(out, j, r);
    }
    return out;
}

/*
 * A DescribeSecret output or ListSecrets entry → the CloudFormation shape. Replicas only
 * with `with_replicas` (ListSecrets does not carry them: left out, not "none"). AWS leaves
 * KmsKeyId out for the default key: a whole read (wanted NULL) leaves it out too, but where
 * `wanted` names it, it reads as that key's alias, so a key put back to the default outside
 * plumb is drift (not the key last applied) and a declared default still matches.
 */
static json_t *observe(const json_t *s, const json_t *wanted, int with_replicas)
{
    json_t *o = json_object(), *v;

    if (!o)
        return NULL;
    json_object_set(o, "Id", json_object_get(s, "ARN"));
    json_object_set(o, "Name", json_object_get(s, "Name"));
    if ((v = json_object_get(s, "Description")))
        json_object_set(o, "Description", v);
    if ((v = json_object_get(s, "KmsKeyId")))
        json_object_set(o, "KmsKeyId", v);
    else if (wanted && json_object_get(wanted, "KmsKeyId"))
        json_object_set_new(o, "KmsKeyId", json_string(DEFAULT_KMS_KEY));
    json_object_set_new(o, "Tags", plumb_provider_sorted_tags(json_object_get(s, "Tags")));
    if (with_replicas)
        json_object_set_new(o, "ReplicaRegions",
                            replica_regions(json_object_get(s, "ReplicationStatus")));
    return o;
}

/* DescribeSecret; *out = NULL when there is no such secret. Secrets scheduled for deletion
 * are returned (with DeletedDate): callers decide. */
static int describe(struct plumb_aws *aws, const char *secret_id, json_t **out)
{
    int error = plumb_provider_call(aws, "secretsmanager", "DescribeSecret",
                                    json_pack("{s:s}", "SecretId", secret_id), out);

    if (error == PLUMB_ENOTFOUND)
        error = 0;
    return error;
}

static int sm_read(struct plumb_aws *aws, const json_t *id, json_t **observed)
{
    const char *sid = plumb_provider_id_str(id, "Id");
    json_t *s = NULL;
    int error = 0;

    *observed = NULL;
    if (!sid)
        return plumb_error_set(PLUMB_EINVALID, "secret id lacks Id");
    PLUMB_TRY(describe(aws, sid, &s));
    /* scheduled for deletion: unusable, and gone once the window ends */
    if (s && !json_object_get(s, "DeletedDate")) {
        *observed = observe(s, NULL, 1);
        PLUMB_ALLOC_CHECK(*observed);
    }
done:
    json_decref(s);
    return error;
}

/* The ListSecrets entry for `sid` (an ARN, or a name) in `list`, or NULL. */
static const json_t *find_entry(const json_t *list, const char *sid)
{
    const char *field = strncmp(sid, "arn:", 4) == 0 ? "ARN" : "Name";
    const json_t *e;
    size_t i;

    json_array_foreach(list, i, e)
    {
        const char *v = json_string_value(json_object_get(e, field));
        if (v && strcmp(v, sid) == 0)
            return e;
    }
    return NULL;
}

/* ListSecrets with `filters` (paginated) → its SecretList, live secrets only. */
static int list_secrets(struct plumb_aws *aws, json_t *filters, json_t **list)
{
    json_t *in = json_pack("{s:o}", "Filters", filters), *out = NULL;
    int error = 0;

    *list = NULL;
    PLUMB_ALLOC_CHECK(in);
    PLUMB_TRY(plumb_aws_paginate(aws, "secretsmanager", "ListSecrets", in, &out));
    *list = json_incref(json_object_get(out, "SecretList"));
    if (!*list)
        *list = json_array();
done:
    json_decref(in);
    json_decref(out);
    return error;
}

/* o's ReplicaRegions from a DescribeSecret of `arn` (left as is if it went meanwhile). */
static int read_replicas(struct plumb_aws *aws, const char *arn, json_t *o)
{
    json_t *d = NULL;
    int error = 0;

    if (!arn)
        return 0;
    PLUMB_TRY(describe(aws, arn, &d));
    if (d)
        json_object_set_new(o, "ReplicaRegions",
                            replica_regions(json_object_get(d, "ReplicationStatus")));
done:
    json_decref(d);
    return error;
}

/* Name filters match by prefix: each chunk of 10 names is one (paginated) listing, and
 * entries are matched by ARN exactly. */
static int sm_read_many(struct plumb_aws *aws, const json_t *ids, const json_t *wanted,
                        json_t **observed)
{
    json_t *out = json_array(), *found = json_array(), *names = NULL, *list = NULL, *o = NULL;
    const json_t *id, *e;
    size_t i, start, n = json_array_size(ids);
    int error = 0;

    *observed = NULL;
    PLUMB_ALLOC_CHECK(out);
    PLUMB_ALLOC_CHECK(found);
    for (start = 0; start < n; start += NAME_FILTER_CHUNK) {
        names = json_array();
        PLUMB_ALLOC_CHECK(names);
        for (i = start; i < n && i < start + NAME_FILTER_CHUNK; i++) {
            const char *sid = plumb_provider_id_str(json_array_get(ids, i), "Id");
            char *name = sid ? name_of_id(sid) : NULL;
            if (name && *name)
                json_array_append_new(names, json_string(name));
            free(name);
        }
        if (json_array_size(names)) {
            PLUMB_TRY(list_secrets(aws, json_pack("[{s:s, s:O}]", "Key", "name", "Values", names),
                                   &list));
            json_array_extend(found, list);
            json_decref(list);
            list = NULL;
        }
        json_decref(names);
        names = NULL;
    }
    json_array_foreach(ids, i, id)
    {
        const char *sid = plumb_provider_id_str(id, "Id");
        o = NULL;
        if (sid && (e = find_entry(found, sid)) && !json_object_get(e, "DeletedDate")) {
            o = observe(e, wanted, 0);
            PLUMB_ALLOC_CHECK(o);
            /* declared replicas: removed outside plumb, they must read as gone, not as the
             * ones last applied */
            if (wanted && json_object_get(wanted, "ReplicaRegions"))
                PLUMB_TRY(read_replicas(aws, json_string_value(json_object_get(e, "ARN")), o));
        }
        json_array_append_new(out, o ? o : json_null());
        o = NULL;
    }
    *observed = out;
    out = NULL;
done:
    json_decref(o);
    json_decref(out);
    json_decref(found);
    json_decref(names);
    json_decref(list);
    return error;
}

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

/* 1 when the secret `s` carries every plumb:* tag of `props`, and there is one at least. */
static int has_our_tags(const json_t *s, const json_t *props)
{
    json_t *want = plumb_tags(props),
           *have = plumb_provider_tags_to_map(json_object_get(s, "Tags"));
    const char *k;
    json_t *v;
    int ok = json_object_size(want) > 0 && json_object_get(want, "plumb:address") != NULL;

    json_object_foreach(want, k, v)
    {
        if (!json_equal(json_object_get(have, k), v))
            ok = 0;
    }
    json_decref(want);
    json_decref(have);
    return ok;
}

/*
 * By Name when declared; otherwise (a generated name) by the plumb:* tags of props — the
 * address alone is not enough: stage and prod share addresses.
 */
static int sm_lookup(struct plumb_aws *aws, const json_t *props, json_t **id)
{
    const char *name = json_string_value(json_object_get(props, "Name"));
    const char *addr;
    json_t *s = NULL, *tags = NULL, *list = NULL;
    const json_t *e;
    size_t i;
    int error = 0;

    *id = NULL;
    if (name) {
        PLUMB_TRY(describe(aws, name, &s));
        if (s && !json_object_get(s, "DeletedDate"))
            *id = json_pack("{s:O}", "Id", json_object_get(s, "ARN"));
        goto done;
    }
    tags = plumb_tags(props);
    addr = json_string_value(json_object_get(tags, "plumb:address"));
    if (!addr)
        goto done;
    PLUMB_TRY(list_secrets(aws,
                           json_pack("[{s:s, s:[s]}, {s:s, s:[s]}]", "Key", "tag-key", "Values",
                                     "plumb:address", "Key", "tag-value", "Values", addr),
                           &list));
    json_array_foreach(list, i, e)
    {
        if (!json_object_get(e, "DeletedDate") && has_our_tags(e, props)) {
            *id = json_pack("{s:O}", "Id", json_object_get(e, "ARN"));
            break;
        }
    }
done:
    json_decref(s);
    json_decref(tags);
    json_decref(list);
    return error;
}

/*
 * The value GenerateSecretString asks for: a GetRandomPassword, placed under
 * GenerateStringKey in SecretStringTemplate when those are given. Caller frees (and the
 * value is never logged).
 */
static int generate_value(struct plumb_aws *aws, const json_t *gen, char **value)
{
    static const char *const passthrough[] = {
        "ExcludeCharacters",       "ExcludeLowercase", "ExcludeNumbers",
        "ExcludePunctuation",      "ExcludeUppercase", "IncludeSpace",
        "RequireEachIncludedType", "PasswordLength",   NULL};
    const char *tmpl = json_string_value(json_object_get(gen, "SecretStringTemplate"));
    const char *key = json_string_value(json_object_get(gen, "GenerateStringKey"));
    const char *const *p;
    json_t *in = json_object(), *out = NULL, *doc = NULL, *v;
    int error = 0;

    *value = NULL;
    PLUMB_ALLOC_CHECK(in);
    if (!tmpl != !key) {
        error = plumb_error_set(PLUMB_EINVALID, "GenerateSecretString needs both "
                                                "SecretStringTemplate and GenerateStringKey, or "
                                                "neither");
        goto done;
    }
    if (tmpl) {
        doc = json_loads(tmpl, 0, NULL);
        if (!json_is_object(doc)) {
            error = plumb_error_set(PLUMB_EINVALID,
                                    "GenerateSecretString: SecretStringTemplate is not a JSON "
                                    "object");
            goto done;
        }
    }
    for (p = passthrough; *p; p++)
        if ((v = json_object_get(gen, *p)))
            json_object_set(in, *p, v);
    error = plumb_provider_call(aws, "secretsmanager", "GetRandomPassword", in, &out);
    in = NULL; /* taken by sm_call */
    if (error < 0)
        goto done;
    v = json_object_get(out, "RandomPassword");
    if (!json_is_string(v)) {
        error = plumb_error_set(PLUMB_ERROR, "secretsmanager GetRandomPassword returned no "
                                             "password");
        goto done;
    }
    if (doc) {
        json_object_set(doc, key, v);
        *value = json_dumps(doc, JSON_COMPACT);
    } else {
        *value = strdup(json_string_value(v));
    }
    PLUMB_ALLOC_CHECK(*value);
done:
    json_decref(in);
    json_decref(out);
    json_decref(doc);
    return error;
}

/* The value props declare: SecretString, or a generated one; NULL when neither (an empty
 * secret, as CloudFormation makes it). */
static int declared_value(struct plumb_aws *aws, const json_t *props, char **value)
{
    const json_t *s = json_object_get(props, "SecretString");
    const json_t *gen = json_object_get(props, "GenerateSecretString");

    *value = NULL;
    if (s && gen)
        return plumb_error_set(PLUMB_EINVALID,
                               "a secret takes SecretString or GenerateSecretString, not both");
    if (json_is_string(s)) {
        *value = strdup(json_string_value(s));
        return *value ? 0 : plumb_error_oom();
    }
    if (json_is_object(gen))
        return generate_value(aws, gen, value);
    return 0;
}

/* Overwrites and frees a secret value. */
static void free_value(char *value)
{
    if (value) {
        volatile char *p = value;
        while (*p)
            *p++ = 0;
        free(value);
    }
}

/* A name for a secret declared without one: its address (characters a name cannot hold
 * become '-') and a random suffix, as CloudFormation does. Caller frees. */
static char *generated_name(const json_t *props)
{
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    json_t *tags = plumb_tags(props);
    const char *addr = json_string_value(json_object_get(tags, "plumb:address"));
    struct plumb_buf b = PLUMB_BUF_INIT;
    const char *c;
    int i;

    for (c = addr ? addr : "plumb-secret"; *c && b.len < 480; c++)
        plumb_buf_putc(&b, strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                  "/_+=.@-",
                                  *c)
                               ? *c
                               : '-');
    plumb_buf_putc(&b, '-');
    for (i = 0; i < 12; i++)
        plumb_buf_putc(&b, alnum[plumb_random_u64() % (sizeof(alnum) - 1)]);
    json_decref(tags);
    return plumb_buf_detach(&b);
}

static int update_value(struct plumb_aws *aws, const char *arn, const char *value);
static int sync_tags(struct plumb_aws *aws, const char *arn, const json_t *current,
                     const json_t *props);
static int sync_replicas(struct plumb_aws *aws, const char *arn, const json_t *current,
                         const json_t *props);

/*
 * Description and KmsKeyId through UpdateSecret when they are not what the secret has; when
 * no longer declared but declared `before`, back to no description and the default key.
 * `before` may be NULL (a restore: everything declared is applied).
 */
static int put_description_kms(struct plumb_aws *aws, const char *arn, const json_t *current,
                               const json_t *before, const json_t *props)
{
    const json_t *d = json_object_get(props, "Description");
    const json_t *k = json_object_get(props, "KmsKeyId");
    const char *have_d = json_string_value(json_object_get(current, "Description"));
    const char *have_k = json_string_value(json_object_get(current, "KmsKeyId"));
    json_t *in = json_pack("{s:s}", "SecretId", arn);

    if (!in)
        return plumb_error_oom();
    if (json_is_string(d) ? !have_d || strcmp(json_string_value(d), have_d) != 0
                          : json_object_get(before, "Description") && have_d && *have_d)
        json_object_set_new(in, "Description",
                            json_string(json_is_string(d) ? json_string_value(d) : ""));
    if (json_is_string(k)
            ? !have_k || strcmp(json_string_value(k), have_k) != 0
            : json_object_get(before, "KmsKeyId") && have_k && strcmp(have_k, DEFAULT_KMS_KEY) != 0)
        json_object_set_new(
            in, "KmsKeyId",
            json_string(json_is_string(k) ? json_string_value(k) : DEFAULT_KMS_KEY));
    if (json_object_size(in) == 1) {
        json_decref(in);
        return 0;
    }
    return plumb_provider_call(aws, "secretsmanager", "UpdateSecret", in, NULL);
}

/*
 * A secret this resource left scheduled for deletion (destroyed, then declared again within
 * the recovery window) is restored and brought to props; anyone else's is reported.
 */
static int restore_ours(struct plumb_aws *aws, const char *name, const json_t *props,
                        json_t **observed, int *handled)
{
    json_t *s = NULL, *id = NULL, *current = NULL;
    char *value = NULL;
    const char *arn, *when;
    int error = 0;

    *handled = 0;
    PLUMB_TRY(describe(aws, name, &s));
    if (!s || !json_object_get(s, "DeletedDate"))
        goto done; /* not that case: the caller keeps its error */
    *handled = 1;
    arn = json_string_value(json_object_get(s, "ARN"));
    when = json_string_value(json_object_get(s, "DeletedDate"));
    if (!arn || !has_our_tags(s, props)) {
        error = plumb_error_set(PLUMB_ECONFLICT,
                                "secret '%s' is scheduled for deletion (since %s) and was not "
                                "made by this resource: restore it (aws secretsmanager "
                                "restore-secret --secret-id '%s') and 'plumb import' it, or "
                                "delete it for good (aws secretsmanager delete-secret "
                                "--force-delete-without-recovery --secret-id '%s')",
                                name, when ? when : "?", name, name);
        goto done;
    }
    PLUMB_TRY(plumb_provider_call(aws, "secretsmanager", "RestoreSecret",
                                  json_pack("{s:s}", "SecretId", arn), NULL));
    PLUMB_TRY(describe(aws, arn, &current));
    if (!current) {
        error = plumb_error_set(PLUMB_ENOTFOUND, "secret '%s' vanished while restoring it", name);
        goto done;
    }
    PLUMB_TRY(put_description_kms(aws, arn, current, NULL, props));
    PLUMB_TRY(declared_value(aws, props, &value));
    if (value)
        PLUMB_TRY(update_value(aws, arn, value));
    PLUMB_TRY(sync_tags(aws, arn, current, props));
    PLUMB_TRY(sync_replicas(aws, arn, current, props));
    id = json_pack("{s:s}", "Id", arn);
    PLUMB_ALLOC_CHECK(id);
    PLUMB_TRY(sm_read(aws, id, observed));
done:
    free_value(value);
    json_decref(s);
    json_decref(id);
    json_decref(current);
    return error;
}

static int sm_remove(struct plumb_aws *aws, const json_t *id, unsigned flags);

static int sm_create(struct plumb_aws *aws, const json_t *props, json_t **observed)
{
    const char *declared_name = json_string_value(json_object_get(props, "Name"));
    char *name = declared_name ? strdup(declared_name) : generated_name(props), *value = NULL;
    json_t *in = NULL, *out = NULL, *tags = NULL, *id = NULL, *v, *r;
    size_t i;
    int error = 0, rc;

    *observed = NULL;
    PLUMB_ALLOC_CHECK(name);
    PLUMB_TRY(declared_value(aws, props, &value));
    in = json_pack("{s:s}", "Name", name);
    PLUMB_ALLOC_CHECK(in);
    if (value)
        json_object_set_new(in, "SecretString", json_string(value));
    if ((v = json_object_get(props, "Description")))
        json_object_set(in, "Description", v);
    if ((v = json_object_get(props, "KmsKeyId")))
        json_object_set(in, "KmsKeyId", v);
    tags = plumb_provider_sorted_tags(json_object_get(props, "Tags"));
    if (json_array_size(tags))
        json_object_set(in, "Tags", tags);
    if (json_array_size(v = json_object_get(props, "ReplicaRegions"))) {
        json_t *add = json_array();
        json_array_foreach(v, i, r)
        {
            json_t *x = json_pack("{s:O?}", "Region", json_object_get(r, "Region"));
            if (json_object_get(r, "KmsKeyId"))
                json_object_set(x, "KmsKeyId", json_object_get(r, "KmsKeyId"));
            json_array_append_new(add, x);
        }
        json_object_set_new(in, "AddReplicaRegions", add);
    }
    error = plumb_provider_call(aws, "secretsmanager", "CreateSecret", in, &out);
    in = NULL;
    if (error < 0) {
        /*
         * AWS refuses a name scheduled for deletion (InvalidRequestException; moto answers
         * ResourceExistsException): restore it when it was ours. A live secret of that name
         * is ResourceExistsException, which the client does not classify as a conflict:
         * report it as PLUMB_ECONFLICT, keeping AWS's message.
         */
        int exists = plumb_provider_last_code_is("ResourceExistsException"), handled = 0;
        if (exists || plumb_provider_last_code_is("InvalidRequestException")) {
            char *why = strdup(plumb_error_message());
            int code = exists ? PLUMB_ECONFLICT : error;
            rc = restore_ours(aws, name, props, observed, &handled);
            if (!handled) /* not scheduled for deletion: the original error */
                rc = plumb_error_set(code, "%s", why ? why : "create failed");
            error = rc;
            free(why);
        }
        goto done;
    }
    id = json_pack("{s:O}", "Id", json_object_get(out, "ARN"));
    PLUMB_ALLOC_CHECK(id);
    error = sm_read(aws, id, observed);
    if (error == 0 && !*observed)
        error =
            plumb_error_set(PLUMB_ERROR, "secret '%s' was created but cannot be read back", name);
    if (error < 0) {
        /* one secret, not two, after a retried apply; force: the value was never used */
        char *why = strdup(plumb_error_message());
        sm_remove(aws, id, PLUMB_REMOVE_FORCE);
        plumb_error_set(error, "%s", why ? why : "unknown error");
        free(why);
    }
done:
    free_value(value);
    free(name);
    json_decref(in);
    json_decref(out);
    json_decref(tags);
    json_decref(id);
    return error;
}

/* Puts `value` as the current version unless it is that already: PutSecretValue with an
 * unchanged value would still make a new version (and move AWSPREVIOUS). */
static int update_value(struct plumb_aws *aws, const char *arn, const char *value)
{
    json_t *out = NULL;
    const char *have;
    int error;

    error = plumb_provider_call(aws, "secretsmanager", "GetSecretValue",
                                json_pack("{s:s}", "SecretId", arn), &out);
    if (error == PLUMB_ENOTFOUND && plumb_provider_last_code_is("ResourceNotFoundException")) {
        /* no version yet (created empty); the secret itself is checked by the caller */
        error = 0;
    }
    if (error < 0)
        goto done;
    have = json_string_value(json_object_get(out, "SecretString"));
    if (have && strcmp(have, value) == 0)
        goto done;
    error =
        plumb_provider_call(aws, "secretsmanager", "PutSecretValue",
                            json_pack("{s:s, s:s}", "SecretId", arn, "SecretString", value), NULL);
done:
    if (out) {
        /* the old value: overwrite it before it goes back to the allocator */
        json_t *s = json_object_get(out, "SecretString");
        if (json_is_string(s))
            memset((char *)json_string_value(s), 0, json_string_length(s));
    }
    json_decref(out);
    return error;
}

static int sync_tags(struct plumb_aws *aws, const char *arn, const json_t *current,
                     const json_t *props)
{
    json_t *tb = plumb_provider_tags_to_map(json_object_get(current, "Tags"));
    json_t *ta = plumb_provider_tags_to_map(json_object_get(props, "Tags"));
    json_t *add = NULL, *del = NULL;
    int error = 0;

    plumb_provider_tags_diff(tb, ta, &add, &del);
    if (json_object_size(add))
        PLUMB_TRY(plumb_provider_call(aws, "secretsmanager", "TagResource",
                                      json_pack("{s:s, s:o}", "SecretId", arn, "Tags",
                                                plumb_provider_tags_to_list(add, "Key", "Value")),
                                      NULL));
    if (json_array_size(del))
        PLUMB_TRY(plumb_provider_call(aws, "secretsmanager", "UntagResource",
                                      json_pack("{s:s, s:O}", "SecretId", arn, "TagKeys", del),
                                      NULL));
done:
    json_decref(tb);
    json_decref(ta);
    json_decref(add);
    json_decref(del);
    return error;
}

static const json_t *find_region(const json_t *list, const char *region)
{
    const json_t *r;
    size_t i;

    json_array_foreach(list, i, r)
    {
        const char *x = json_string_value(json_object_get(r, "Region"));
        if (x && strcmp(x, region) == 0)
            return r;
    }
    return NULL;
}

/* Replicas declared and not there are added; there and not declared (or with another
 * declared key: a replica's key cannot change in place) are removed first. */
static int sync_replicas(struct plumb_aws *aws, const char *arn, const json_t *current,
                         const json_t *props)
{
    const json_t *want = json_object_get(props, "ReplicaRegions");
    json_t *have = replica_regions(json_object_get(current, "ReplicationStatus"));
    json_t *add = json_array(), *del = json_array();
    const json_t *r, *h;
    size_t i;
    int error = 0;

    PLUMB_ALLOC_CHECK(have);
    PLUMB_ALLOC_CHECK(add);
    PLUMB_ALLOC_CHECK(del);
    json_array_foreach(have, i, h)
    {
        const char *region = json_string_value(json_object_get(h, "Region"));
        const json_t *w = find_region(want, region);
        if (!w || (json_object_get(w, "KmsKeyId") &&
                   !json_equal(json_object_get(w, "KmsKeyId"), json_object_get(h, "KmsKeyId"))))
            json_array_append_new(del, json_string(region));
    }
    json_array_foreach(want, i, r)
    {
        const char *region = json_string_value(json_object_get(r, "Region"));
        const json_t *x;
        if (!region)
            continue;
        if (find_region(have, region)) {
            size_t j;
            int removed = 0;
            json_array_foreach(del, j, x) removed |= strcmp(json_string_value(x), region) == 0;
            if (!removed)
                continue;
        }
        x = json_pack("{s:s}", "Region", region);
        if (json_object_get(r, "KmsKeyId"))
            json_object_set((json_t *)x, "KmsKeyId", json_object_get(r, "KmsKeyId"));
        json_array_append_new(add, (json_t *)x);
    }
    if (json_array_size(del))
        PLUMB_TRY(plumb_provider_call(
            aws, "secretsmanager", "RemoveRegionsFromReplication",
            json_pack("{s:s, s:O}", "SecretId", arn, "RemoveReplicaRegions", del), NULL));
    if (json_array_size(add))
        PLUMB_TRY(plumb_provider_call(
            aws, "secretsmanager", "ReplicateSecretToRegions",
            json_pack("{s:s, s:O}", "SecretId", arn, "AddReplicaRegions", add), NULL));
done:
    json_decref(have);
    json_decref(add);
    json_decref(del);
    return error;
}

/* 1 when the secret has a current value (a version staged AWSCURRENT). */
static int has_current_version(const json_t *current)
{
    const char *k;
    json_t *stages, *x;
    size_t i;

    json_object_foreach(json_object_get((json_t *)current, "VersionIdsToStages"), k, stages)
    {
        json_array_foreach(stages, i, x)
        {
            if (json_is_string(x) && strcmp(json_string_value(x), "AWSCURRENT") == 0)
                return 1;
        }
    }
    return 0;
}

/*
 * Whether GenerateSecretString must make a new value. SecretString needs no such guess: it is
 * compared with the secret's current value (update_value), as `before` may hold only a
 * fingerprint of the old one. Generation settings: a new value when the secret switches from
 * a declared value to a generated one, has no value yet, or its settings visibly changed.
 * `before` holding a fingerprint of them cannot say, and generating on every update (a tag
 * change) would rotate the secret under its users: the value is kept then.
 */
static int wants_generation(const json_t *before, const json_t *after, const json_t *current)
{
    const json_t *b = json_object_get(before, "GenerateSecretString");
    const json_t *a = json_object_get(after, "GenerateSecretString");

    if (!json_is_object(a))
        return 0;
    if (!has_current_version(current))
        return 1;
    if (!b)
        return json_object_get(before, "SecretString") != NULL;
    if (json_object_get(b, "$plumb:fingerprint"))
        return 0;
    return !json_equal(a, b);
}

static int sm_update(struct plumb_aws *aws, const json_t *id, const json_t *before,
                     const json_t *after, json_t **observed)
{
    const char *sid = plumb_provider_id_str(id, "Id"), *arn;
    json_t *current = NULL;
    char *value = NULL;
    int error = 0;

    *observed = NULL;
    if (!sid)
        return plumb_error_set(PLUMB_EINVALID, "secret id lacks Id");
    PLUMB_TRY(describe(aws, sid, &current));
    if (!current || json_object_get(current, "DeletedDate")) {
        error = plumb_error_set(PLUMB_ENOTFOUND, "secret '%s' does not exist%s", sid,
                                current ? " (it is scheduled for deletion)" : "");
        goto done;
    }
    arn = json_string_value(json_object_get(current, "ARN"));
    if (json_object_get(after, "SecretString") && json_object_get(after, "GenerateSecretString")) {
        error = plumb_error_set(PLUMB_EINVALID,
                                "a secret takes SecretString or GenerateSecretString, not both");
        goto done;
    }
    PLUMB_TRY(put_description_kms(aws, arn, current, before, after));
    if (json_is_string(json_object_get(after, "SecretString")))
        PLUMB_TRY(
            update_value(aws, arn, json_string_value(json_object_get(after, "SecretString"))));
    else if (wants_generation(before, after, current)) {
        PLUMB_TRY(generate_value(aws, json_object_get(after, "GenerateSecretString"), &value));
        PLUMB_TRY(plumb_provider_call(
            aws, "secretsmanager", "PutSecretValue",
            json_pack("{s:s, s:s}", "SecretId", arn, "SecretString", value), NULL));
    }
    if (json_object_get(after, "Tags") || json_object_get(before, "Tags"))
        PLUMB_TRY(sync_tags(aws, arn, current, after));
    /* no ReplicaRegions is the schema's default, none: replicas made outside plumb go */
    PLUMB_TRY(sync_replicas(aws, arn, current, after));
    error = sm_read(aws, id, observed);
    if (error == 0 && !*observed)
        error = plumb_error_set(PLUMB_ENOTFOUND, "secret '%s' does not exist", sid);
done:
    free_value(value);
    json_decref(current);
    return error;
}

/*
 * Without PLUMB_REMOVE_FORCE, the default recovery window: the secret can be restored for 30
 * days. With it, deleted for good at once — also one already scheduled for deletion, so its
 * name is free again.
 */
static int sm_remove(struct plumb_aws *aws, const json_t *id, unsigned flags)
{
    const char *sid = plumb_provider_id_str(id, "Id");
    json_t *s = NULL, *in;
    int force = (flags & PLUMB_REMOVE_FORCE) != 0, error = 0;

    if (!sid)
        return plumb_error_set(PLUMB_EINVALID, "secret id lacks Id");
    /*
     * Look first: a forced delete of a secret that does not exist succeeds on AWS (and moto
     * records a bogus deletion), and a plain one of a secret already scheduled fails.
     */
    PLUMB_TRY(describe(aws, sid, &s));
    if (!s || (json_object_get(s, "DeletedDate") && !force))
        goto done; /* gone, or going, already */
    in = json_pack("{s:O}", "SecretId", json_object_get(s, "ARN"));
    if (in && force)
        json_object_set_new(in, "ForceDeleteWithoutRecovery", json_true());
    error = plumb_provider_call(aws, "secretsmanager", "DeleteSecret", in, NULL);
    if (error == PLUMB_ENOTFOUND)
        error = 0;
done:
    json_decref(s);
    return error;
}

const struct plumb_resource_type plumb_driver_secretsmanager_secret = {
    .type_name = "AWS::SecretsManager::Secret",
    .read = sm_read,
    .read_many = sm_read_many,
    .lookup = sm_lookup,
    .create = sm_create,
    .update = sm_update,
    .remove = sm_remove,
    .found_by_tags = 1,
};
