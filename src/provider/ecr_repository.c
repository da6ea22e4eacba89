/*
 * AWS::ECR::Repository — private ECR image repositories.
 *
 * Named by the user (RepositoryName is the primary identifier). DescribeRepositories takes up
 * to 100 names, which is what read_many uses; but one missing name fails the whole call with
 * RepositoryNotFoundException, so a chunk that fails that way falls back to one listing of the
 * registry. What DescribeRepositories does not carry costs one call each per repository:
 * tags (the tagging API does not cover ECR), the lifecycle policy and the repository policy.
 *
 * Everything but the name and the encryption settings changes in place, each with its own
 * call. A repository that still holds images is deleted only with PLUMB_REMOVE_FORCE.
 */
#include <stdlib.h>
#include <string.h>

#include "config/value.h"
#include "provider/provider.h"
#include "provider/util.h"
#include "util/error.h"

#define DESCRIBE_CHUNK 100 /* RepositoryNameList: max 100 */

/*
 * A lifecycle policy text in one form (compact, keys sorted), so that the same policy
 * compares equal however it was spaced; text that is not JSON stays as it is.
 */
static json_t *canonical_text(const json_t *text)
{
    json_t *parsed;
    char *s;
    json_t *out;

    if (!json_is_string(text))
        return json_incref((json_t *)text);
    parsed = json_loads(json_string_value(text), 0, NULL);
    if (!parsed)
        return json_incref((json_t *)text);
    s = json_dumps(parsed, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(parsed);
    out = s ? json_string(s) : json_incref((json_t *)text);
    free(s);
    return out;
}

/*
 * The extras of one repository; PLUMB_ENOTFOUND when it went away meanwhile. One not set
 * reads as null when `wanted` names it (plumb_provider_not_set): a policy deleted outside
 * plumb is then drift, not the policy last applied.
 */
static int observe_lifecycle(struct plumb_aws *aws, const char *name, const json_t *wanted,
                             json_t *o)
{
    json_t *out = NULL;
    int error;

    error = plumb_provider_call(aws, "ecr", "GetLifecyclePolicy",
                                json_pack("{s:s}", "repositoryName", name), &out);
    if (error == PLUMB_ENOTFOUND &&
        plumb_provider_last_code_is("LifecyclePolicyNotFoundException")) {
        error = 0; /* none set */
        plumb_provider_not_set(o, wanted, "LifecyclePolicy");
    } else if (error == 0 && json_is_string(json_object_get(out, "lifecyclePolicyText"))) {
        json_t *lp = json_object();
        json_object_set_new(lp, "LifecyclePolicyText",
                            canonical_text(json_object_get(out, "lifecyclePolicyText")));
        if (json_is_string(json_object_get(out, "registryId")))
            json_object_set(lp, "RegistryId", json_object_get(out, "registryId"));
        json_object_set_new(o, "LifecyclePolicy", lp);
    }
    json_decref(out);
    return error;
}

static int observe_policy(struct plumb_aws *aws, const char *name, const json_t *wanted, json_t *o)
{
    json_t *out = NULL, *doc;
    int error;

    error = plumb_provider_call(aws, "ecr", "GetRepositoryPolicy",
                                json_pack("{s:s}", "repositoryName", name), &out);
    if (error == PLUMB_ENOTFOUND &&
        plumb_provider_last_code_is("RepositoryPolicyNotFoundException")) {
        error = 0; /* none set */
        plumb_provider_not_set(o, wanted, "RepositoryPolicyText");
    } else if (error == 0 &&
               (doc = plumb_provider_policy_normalize(json_object_get(out, "policyText")))) {
        json_object_set_new(o, "RepositoryPolicyText", doc);
    }
    json_decref(out);
    return error;
}

/* One DescribeRepositories entry (and its tags and policies) → the CloudFormation shape. */
static int observe(struct plumb_aws *aws, const json_t *repo, const json_t *wanted,
                   json_t **observed)
{
    const char *name = json_string_value(json_object_get(repo, "repositoryName"));
    const char *arn = json_string_value(json_object_get(repo, "repositoryArn"));
    json_t *o = json_object(), *tags = NULL, *v, *x;
    size_t i;
    int error = 0;

    *observed = NULL;
    PLUMB_ALLOC_CHECK(o);
    if (!name || !arn) {
        error = plumb_error_set(PLUMB_ERROR, "ecr DescribeRepositories: an entry lacks its name");
        goto done;
    }
    json_object_set(o, "RepositoryName", json_object_get(repo, "repositoryName"));
    json_object_set(o, "Arn", json_object_get(repo, "repositoryArn"));
    if ((v = json_object_get(repo, "repositoryUri")))
        json_object_set(o, "RepositoryUri", v);
    if ((v = json_object_get(repo, "imageTagMutability")))
        json_object_set(o, "ImageTagMutability", v);
    if (json_array_size(v = json_object_get(repo, "imageTagMutabilityExclusionFilters"))) {
        json_t *list = json_array();
        json_array_foreach(v, i, x)
        {
            json_array_append_new(list,
                                  json_pack("{s:O?, s:O?}", "ImageTagMutabilityExclusionFilterType",
                                            json_object_get(x, "filterType"),
                                            "ImageTagMutabilityExclusionFilterValue",
                                            json_object_get(x, "filter")));
        }
        json_object_set_new(o, "ImageTagMutabilityExclusionFilters", list);
    }
    if ((v = json_object_get(repo, "imageScanningConfiguration")))
        json_object_set_new(
            o, "ImageScanningConfiguration",
            json_pack("{s:b}", "ScanOnPush", json_is_true(json_object_get(v, "scanOnPush"))));
    if ((v = json_object_get(repo, "encryptionConfiguration"))) {
        x = json_pack("{s:O?}", "EncryptionType", json_object_get(v, "encryptionType"));
        if (json_is_string(json_object_get(v, "kmsKey")))
            json_object_set(x, "KmsKey", json_object_get(v, "kmsKey"));
        json_object_set_new(o, "EncryptionConfiguration", x);
    }
    /* each of these costs a call: made only when wanted (provider.h) */
    if (plumb_provider_wants(wanted, "LifecyclePolicy"))
        PLUMB_TRY(observe_lifecycle(aws, name, wanted, o));
    if (plumb_provider_wants(wanted, "RepositoryPolicyText"))
        PLUMB_TRY(observe_policy(aws, name, wanted, o));
    if (plumb_provider_wants(wanted, "Tags")) {
        PLUMB_TRY(plumb_provider_call(aws, "ecr", "ListTagsForResource",
                                      json_pack("{s:s}", "resourceArn", arn), &tags));
        json_object_set_new(o, "Tags", plumb_provider_sorted_tags(json_object_get(tags, "tags")));
    }
    *observed = o;
    o = NULL;
done:
    json_decref(o);
    json_decref(tags);
    return error;
}

/* observe(), with "went away meanwhile" as *observed = NULL. */
static int observe_or_gone(struct plumb_aws *aws, const json_t *repo, const json_t *wanted,
                           json_t **observed)
{
    int error = observe(aws, repo, wanted, observed);

    if (error == PLUMB_ENOTFOUND && plumb_provider_last_code_is("RepositoryNotFoundException"))
        error = 0;
    return error;
}

static const json_t *find_repo(const json_t *repos, const char *name)
{
    const json_t *r;
    size_t i;

    json_array_foreach(repos, i, r)
    {
        const char *n = json_string_value(json_object_get(r, "repositoryName"));
        if (n && strcmp(n, name) == 0)
            return r;
    }
    return NULL;
}

/* DescribeRepositories for `names` (NULL: every repository, paginated) → the list. */
static int describe(struct plumb_aws *aws, const json_t *names, json_t **repos)
{
    json_t *in = names ? json_pack("{s:O}", "repositoryNames", names) : json_object();
    json_t *out = NULL;
    int error = 0;

    *repos = NULL;
    PLUMB_ALLOC_CHECK(in);
    PLUMB_TRY(plumb_aws_paginate(aws, "ecr", "DescribeRepositories", in, &out));
    *repos = json_incref(json_object_get(out, "repositories"));
    if (!*repos)
        *repos = json_array();
done:
    json_decref(in);
    json_decref(out);
    return error;
}

static int ecr_read(struct plumb_aws *aws, const json_t *id, json_t **observed)
{
    const char *name = plumb_provider_id_str(id, "RepositoryName");
    json_t *names = NULL, *repos = NULL;
    const json_t *r;
    int error = 0;

    *observed = NULL;
    if (!name)
        return plumb_error_set(PLUMB_EINVALID, "repository id lacks RepositoryName");
    names = json_pack("[s]", name);
    PLUMB_ALLOC_CHECK(names);
    error = describe(aws, names, &repos);
    if (error == PLUMB_ENOTFOUND && plumb_provider_last_code_is("RepositoryNotFoundException")) {
        error = 0;
        goto done;
    }
    if (error < 0)
        goto done;
    if ((r = find_repo(repos, name)))
        error = observe_or_gone(aws, r, NULL, observed);
done:
    json_decref(names);
    json_decref(repos);
    return error;
}

/*
 * Up to 100 names per DescribeRepositories. One missing name fails the whole call with
 * RepositoryNotFoundException; then one paginated listing of the registry (made once, kept
 * for the following chunks) answers for them.
 */
static int ecr_read_many(struct plumb_aws *aws, const json_t *ids, const json_t *wanted,
                         json_t **observed)
{
    json_t *out = json_array(), *found = json_array(), *all = NULL, *names = NULL, *repos = NULL;
    json_t *o;
    const json_t *id, *r;
    size_t i, start, n = json_array_size(ids);
    int error = 0;

    *observed = NULL;
    PLUMB_ALLOC_CHECK(out);
    PLUMB_ALLOC_CHECK(found);
    for (start = 0; start < n; start += DESCRIBE_CHUNK) {
        names = json_array();
        PLUMB_ALLOC_CHECK(names);
        for (i = start; i < n && i < start + DESCRIBE_CHUNK; i++) {
            const char *name = plumb_provider_id_str(json_array_get(ids, i), "RepositoryName");
            if (name)
                json_array_append_new(names, json_string(name));
        }
        if (json_array_size(names)) {
            if (all) {
                repos = json_incref(all);
            } else {
                error = describe(aws, names, &repos);
                if (error == PLUMB_ENOTFOUND &&
                    plumb_provider_last_code_is("RepositoryNotFoundException")) {
                    PLUMB_TRY(describe(aws, NULL, &all));
                    repos = json_incref(all);
                } else if (error < 0) {
                    goto done;
                }
            }
            json_array_extend(found, repos);
            json_decref(repos);
            repos = NULL;
        }
        json_decref(names);
        names = NULL;
    }
    json_array_foreach(ids, i, id)
    {
        const char *name = plumb_provider_id_str(id, "RepositoryName");
        o = NULL;
        if (name && (r = find_repo(found, name)))
            PLUMB_TRY(observe_or_gone(aws, r, wanted, &o));
        json_array_append_new(out, o ? o : json_null());
    }
    *observed = out;
    out = NULL;
done:
    json_decref(out);
    json_decref(found);
    json_decref(all);
    json_decref(names);
    json_decref(repos);
    return error;
}

static int ecr_lookup(struct plumb_aws *aws, const json_t *props, json_t **id)
{
    const char *name = json_string_value(json_object_get(props, "RepositoryName"));
    json_t *observed = NULL, *want;
    int error;

    *id = NULL;
    if (!name)
        return 0;
    want = json_pack("{s:s}", "RepositoryName", name);
    if (!want)
        return plumb_error_oom();
    error = ecr_read(aws, want, &observed);
    if (error == 0 && observed)
        *id = json_incref(want);
    json_decref(want);
    json_decref(observed);
    return error;
}

/* ImageTagMutabilityExclusionFilters in the API's shape ({filterType, filter}). */
static json_t *exclusion_filters(const json_t *filters)
{
    json_t *list = json_array(), *x;
    size_t i;

    json_array_foreach(filters, i, x)
    {
        json_array_append_new(
            list, json_pack("{s:O?, s:O?}", "filterType",
                            json_object_get(x, "ImageTagMutabilityExclusionFilterType"), "filter",
                            json_object_get(x, "ImageTagMutabilityExclusionFilterValue")));
    }
    return list;
}

static int put_lifecycle(struct plumb_aws *aws, const char *name, const json_t *lp)
{
    const json_t *text = json_object_get(lp, "LifecyclePolicyText");
    int error;

    if (json_is_string(text))
        return plumb_provider_call(
            aws, "ecr", "PutLifecyclePolicy",
            json_pack("{s:s, s:O}", "repositoryName", name, "lifecyclePolicyText", text), NULL);
    error = plumb_provider_call(aws, "ecr", "DeleteLifecyclePolicy",
                                json_pack("{s:s}", "repositoryName", name), NULL);
    if (error == PLUMB_ENOTFOUND && plumb_provider_last_code_is("LifecyclePolicyNotFoundException"))
        error = 0;
    return error;
}

static int put_policy(struct plumb_aws *aws, const char *name, const json_t *doc)
{
    char *text;
    int error;

    if (!doc) {
        error = plumb_provider_call(aws, "ecr", "DeleteRepositoryPolicy",
                                    json_pack("{s:s}", "repositoryName", name), NULL);
        if (error == PLUMB_ENOTFOUND &&
            plumb_provider_last_code_is("RepositoryPolicyNotFoundException"))
            error = 0;
        return error;
    }
    /* the API takes the document as a JSON string; a string declared is sent as it is */
    text = json_is_string(doc) ? strdup(json_string_value(doc)) : json_dumps(doc, JSON_COMPACT);
    if (!text)
        return plumb_error_oom();
    error = plumb_provider_call(aws, "ecr", "SetRepositoryPolicy",
                                json_pack("{s:s, s:s}", "repositoryName", name, "policyText", text),
                                NULL);
    free(text);
    return error;
}

static int put_mutability(struct plumb_aws *aws, const char *name, const json_t *props)
{
    const json_t *m = json_object_get(props, "ImageTagMutability");
    const json_t *f = json_object_get(props, "ImageTagMutabilityExclusionFilters");
    json_t *in = json_pack("{s:s, s:s}", "repositoryName", name, "imageTagMutability",
                           json_is_string(m) ? json_string_value(m) : "MUTABLE");

    if (in && json_array_size(f))
        json_object_set_new(in, "imageTagMutabilityExclusionFilters", exclusion_filters(f));
    return plumb_provider_call(aws, "ecr", "PutImageTagMutability", in, NULL);
}

static int ecr_remove(struct plumb_aws *aws, const json_t *id, unsigned flags);

static int ecr_create(struct plumb_aws *aws, const json_t *props, json_t **observed)
{
    const char *name = json_string_value(json_object_get(props, "RepositoryName"));
    json_t *in = NULL, *tags = NULL, *id = NULL, *v, *x;
    int error = 0, made = 0;

    *observed = NULL;
    if (!name)
        return plumb_error_set(PLUMB_EINVALID, "a repository needs RepositoryName");
    in = json_pack("{s:s}", "repositoryName", name);
    PLUMB_ALLOC_CHECK(in);
    if ((v = json_object_get(props, "ImageTagMutability")))
        json_object_set(in, "imageTagMutability", v);
    if (json_array_size(v = json_object_get(props, "ImageTagMutabilityExclusionFilters")))
        json_object_set_new(in, "imageTagMutabilityExclusionFilters", exclusion_filters(v));
    if ((v = json_object_get(props, "ImageScanningConfiguration")))
        json_object_set_new(
            in, "imageScanningConfiguration",
            json_pack("{s:b}", "scanOnPush", json_is_true(json_object_get(v, "ScanOnPush"))));
    if ((v = json_object_get(props, "EncryptionConfiguration"))) {
        x = json_pack("{s:O?}", "encryptionType", json_object_get(v, "EncryptionType"));
        if (json_is_string(json_object_get(v, "KmsKey")))
            json_object_set(x, "kmsKey", json_object_get(v, "KmsKey"));
        json_object_set_new(in, "encryptionConfiguration", x);
    }
    tags = plumb_provider_sorted_tags(json_object_get(props, "Tags"));
    if (json_array_size(tags))
        json_object_set(in, "tags", tags);
    error = plumb_provider_call(aws, "ecr", "CreateRepository", in, NULL);
    in = NULL;
    if (error < 0)
        goto done;
    made = 1;
    if ((v = json_object_get(props, "LifecyclePolicy")) &&
        json_is_string(json_object_get(v, "LifecyclePolicyText")))
        PLUMB_TRY(put_lifecycle(aws, name, v));
    if ((v = json_object_get(props, "RepositoryPolicyText")))
        PLUMB_TRY(put_policy(aws, name, v));
    id = json_pack("{s:s}", "RepositoryName", name);
    PLUMB_ALLOC_CHECK(id);
    error = ecr_read(aws, id, observed);
done:
    if (error < 0 && made) {
        /* do not leave a repository behind that the apply reports as failed; it is new,
         * so it holds no images */
        json_t *gone = json_pack("{s:s}", "RepositoryName", name);
        char *why = strdup(plumb_error_message());
        ecr_remove(aws, gone, 0);
        plumb_error_set(error, "%s", why ? why : "unknown error");
        free(why);
        json_decref(gone);
    }
    json_decref(in);
    json_decref(tags);
    json_decref(id);
    return error;
}

static json_t *ecr_normalize(const json_t *props);

static int ecr_update(struct plumb_aws *aws, const json_t *id, const json_t *before,
                      const json_t *after, json_t **observed)
{
    const char *name = plumb_provider_id_str(id, "RepositoryName");
    json_t *current = NULL, *want = NULL, *tb = NULL, *ta = NULL, *add = NULL, *del = NULL, *v;
    const json_t *arn;
    int error = 0, calls = 0;

    *observed = NULL;
    if (!name)
        return plumb_error_set(PLUMB_EINVALID, "repository id lacks RepositoryName");
    /* against what the repository has now: a change made outside plumb is undone too */
    PLUMB_TRY(ecr_read(aws, id, &current));
    if (!current) {
        error = plumb_error_set(PLUMB_ENOTFOUND, "repository '%s' does not exist", name);
        goto done;
    }
    want = ecr_normalize(after);
    PLUMB_ALLOC_CHECK(want);
    /* the schema's plumb.defaults: left out means AWS's default, which a change made
     * outside plumb is brought back to */
    if (!json_object_get(want, "ImageScanningConfiguration"))
        json_object_set_new(want, "ImageScanningConfiguration",
                            json_pack("{s:b}", "ScanOnPush", 0));
    if (!json_object_get(want, "ImageTagMutability"))
        json_object_set_new(want, "ImageTagMutability", json_string("MUTABLE"));
    if (plumb_provider_needs(before, current, want, "ImageScanningConfiguration")) {
        v = json_object_get(after, "ImageScanningConfiguration");
        PLUMB_TRY(plumb_provider_call(aws, "ecr", "PutImageScanningConfiguration",
                                      json_pack("{s:s, s:{s:b}}", "repositoryName", name,
                                                "imageScanningConfiguration", "scanOnPush",
                                                json_is_true(json_object_get(v, "ScanOnPush"))),
                                      NULL));
        calls++;
    }
    if (plumb_provider_needs(before, current, want, "ImageTagMutability") ||
        plumb_provider_needs(before, current, want, "ImageTagMutabilityExclusionFilters")) {
        PLUMB_TRY(put_mutability(aws, name, after));
        calls++;
    }
    if (plumb_provider_needs(before, current, want, "LifecyclePolicy")) {
        PLUMB_TRY(put_lifecycle(aws, name, json_object_get(after, "LifecyclePolicy")));
        calls++;
    }
    if (plumb_provider_needs(before, current, want, "RepositoryPolicyText")) {
        PLUMB_TRY(put_policy(aws, name, json_object_get(after, "RepositoryPolicyText")));
        calls++;
    }
    tb = plumb_provider_tags_to_map(json_object_get(current, "Tags"));
    ta = plumb_provider_tags_to_map(json_object_get(after, "Tags"));
    if (!json_object_get(after, "Tags") && !json_object_get(before, "Tags"))
        json_object_update(ta, tb); /* never declared: left as they are */
    plumb_provider_tags_diff(tb, ta, &add, &del);
    arn = json_object_get(current, "Arn");
    if (json_object_size(add)) {
        PLUMB_TRY(plumb_provider_call(aws, "ecr", "TagResource",
                                      json_pack("{s:O, s:o}", "resourceArn", arn, "tags",
                                                plumb_provider_tags_to_list(add, "Key", "Value")),
                                      NULL));
        calls++;
    }
    if (json_array_size(del)) {
        PLUMB_TRY(plumb_provider_call(aws, "ecr", "UntagResource",
                                      json_pack("{s:O, s:O}", "resourceArn", arn, "tagKeys", del),
                                      NULL));
        calls++;
    }
    if (calls)
        error = ecr_read(aws, id, observed);
    else {
        *observed = current;
        current = NULL;
    }
done:
    json_decref(current);
    json_decref(want);
    json_decref(tb);
    json_decref(ta);
    json_decref(add);
    json_decref(del);
    return error;
}

static int ecr_remove(struct plumb_aws *aws, const json_t *id, unsigned flags)
{
    const char *name = plumb_provider_id_str(id, "RepositoryName");
    int error;

    if (!name)
        return plumb_error_set(PLUMB_EINVALID, "repository id lacks RepositoryName");
    error = plumb_provider_call(
        aws, "ecr", "DeleteRepository",
        json_pack("{s:s, s:b}", "repositoryName", name, "force", (flags & PLUMB_REMOVE_FORCE) != 0),
        NULL);
    if (error == PLUMB_ENOTFOUND && plumb_provider_last_code_is("RepositoryNotFoundException"))
        error = 0; /* gone already */
    else if (error < 0 && plumb_provider_last_code_is("RepositoryNotEmptyException"))
        error = plumb_error_wrap("repository '%s' still holds images, which deleting it would "
                                 "lose: delete them first, or set 'lifecycle: { force_destroy: "
                                 "true }' on the resource to delete them with it",
                                 name);
    return error;
}

/*
 * Declared values in the form read reports them: policy documents canonical (a lone
 * Statement or Action becomes a list...), lifecycle policy text compact with sorted keys.
 * Values holding unknown or sensitive marks are left as they are.
 */
static json_t *ecr_normalize(const json_t *props)
{
    json_t *out = json_deep_copy(props), *v, *n;

    if (!out)
        return NULL;
    v = json_object_get(out, "RepositoryPolicyText");
    if (v && !plumb_value_has_unknown(v) && !plumb_value_has_sensitive(v) &&
        (n = plumb_provider_policy_normalize(v)))
        json_object_set_new(out, "RepositoryPolicyText", n);
    v = json_object_get(out, "LifecyclePolicy");
    if (json_is_object(v) && json_is_string(json_object_get(v, "LifecyclePolicyText")))
        json_object_set_new(v, "LifecyclePolicyText",
                            canonical_text(json_object_get(v, "LifecyclePolicyText")));
    return out;
}

const struct plumb_resource_type plumb_driver_ecr_repository = {
    .type_name = "AWS::ECR::Repository",
    .read = ecr_read,
    .read_many = ecr_read_many,
    .lookup = ecr_lookup,
    .create = ecr_create,
    .update = ecr_update,
    .remove = ecr_remove,
    .normalize = ecr_normalize,
};
