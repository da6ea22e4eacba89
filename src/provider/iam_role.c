/*
 * AWS::IAM::Role — IAM roles with their managed policy attachments, inline policies,
 * permissions boundary and tags.
 *
 * A role is several IAM objects: CreateRole makes the role, then every managed policy is
 * attached and every inline policy put by calls of their own. So create removes what it made
 * when a later step fails, and remove detaches and deletes them (and takes the role out of its
 * instance profiles) before DeleteRole, which AWS refuses otherwise. IAM returns policy
 * documents URL-encoded and re-serialised: they are compared and reported in
 * plumb_provider_policy_normalize's form. read_many lists every role with its policies and tags
 * through GetAccountAuthorizationDetails, plus ListRoles for the two settings that call leaves
 * out (Description, MaxSessionDuration) when they are wanted: a few pages for any number of
 * roles. One role is read through GetRole when that costs no more calls.
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

#define ROLE_NAME_MAX       64
#define DEFAULT_MAX_SESSION 3600 /* what AWS applies when MaxSessionDuration is left out */

/* Calls an IAM operation whose output is not needed; takes `in` (NULL: out of memory). */
static int iam_do(struct plumb_aws *aws, const char *op, json_t *in)
{
    json_t *out = NULL;
    int error;

    if (!in)
        return plumb_error_oom();
    error = plumb_aws_call(aws, "iam", op, in, &out);
    json_decref(in);
    json_decref(out);
    return error;
}

/* The same, where "it is not there" is what we wanted anyway. */
static int iam_do_gone_ok(struct plumb_aws *aws, const char *op, json_t *in)
{
    int error = iam_do(aws, op, in);

    return error == PLUMB_ENOTFOUND ? 0 : error;
}

static const char *sort_text(const json_t *v, const char *key)
{
    const char *s = json_string_value(key ? json_object_get(v, key) : v);

    return s ? s : "";
}

/* Sorts a short array of strings (key NULL) or of objects by their string member `key`, so
 * that lists AWS keeps unordered read the same every time. */
static void sort_array(json_t *arr, const char *key)
{
    size_t i, j;

    for (i = 1; i < json_array_size(arr); i++) {
        for (j = i; j > 0 && strcmp(sort_text(json_array_get(arr, j - 1), key),
                                    sort_text(json_array_get(arr, j), key)) > 0;
             j--) {
            json_t *prev = json_incref(json_array_get(arr, j - 1));
            json_array_set(arr, j - 1, json_array_get(arr, j));
            json_array_set_new(arr, j, prev);
        }
    }
}

/* A declared policy document as the JSON text IAM takes (a string is sent as written). */
static char *policy_text(const json_t *doc)
{
    if (json_is_string(doc))
        return strdup(json_string_value(doc));
    if (!json_is_object(doc))
        return NULL;
    return json_dumps(doc, JSON_COMPACT);
}

/* A policy document in its comparable form; a document that is not JSON stays as it is. */
static json_t *policy_value(const json_t *doc)
{
    json_t *n = plumb_provider_policy_normalize(doc);

    return n ? n : json_incref((json_t *)doc);
}

/* 1 when two policy documents differ once normalised (absent on both sides: the same). */
static int policy_changed(const json_t *a, const json_t *b)
{
    json_t *na, *nb;
    int changed;

    if (!a && !b)
        return 0;
    if (!a || !b)
        return 1;
    na = policy_value(a);
    nb = policy_value(b);
    changed = !json_equal(na, nb);
    json_decref(na);
    json_decref(nb);
    return changed;
}

/* Tags as the schema shows them: a list of {Key, Value}, sorted by key, duplicates merged. */
static json_t *tag_list(const json_t *tags)
{
    json_t *map = plumb_provider_tags_to_map(tags), *list;

    list = plumb_provider_tags_to_list(map, "Key", "Value");
    json_decref(map);
    return list;
}

/*
 * The role's name: RoleName, or, when the user leaves naming to AWS as CloudFormation allows,
 * one made from plumb's tags ("<project>-<env>-<address>", cut to IAM's 64 characters with a
 * hash of the whole), so that an interrupted apply finds the role again by name.
 */
static int role_name_of(struct plumb_buf *out, const json_t *props)
{
    const char *given = json_string_value(json_object_get(props, "RoleName"));
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
        error = plumb_error_set(PLUMB_EINVALID, "a role needs RoleName");
        goto done;
    }
    if (project)
        plumb_buf_printf(&raw, "%s-", project);
    if (env)
        plumb_buf_printf(&raw, "%s-", env);
    plumb_buf_puts(&raw, address);
    for (p = plumb_buf_cstr(&raw); *p; p++) {
        char c = *p;
        hash = (hash ^ (unsigned char)c) * 16777619u;
        if (!strchr("+=,.@_-", c) && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
            !(c >= '0' && c <= '9'))
            c = '-';
        if (out->len == ROLE_NAME_MAX)
            cut = 1;
        else
            plumb_buf_putc(out, c);
    }
    if (cut) {
        out->len = ROLE_NAME_MAX - 9;
        plumb_buf_printf(out, "-%08x", (unsigned)hash);
    }
done:
    json_decref(tags);
    plumb_buf_release(&raw);
    return error;
}

/*
 * The CloudFormation shape of a role from its pieces: `role` as GetRole gives it (or a
 * GetAccountAuthorizationDetails entry with ListRoles' Description and MaxSessionDuration),
 * the attached policies ([{PolicyArn}]), the inline policies ([{PolicyName, PolicyDocument}])
 * and the tags ([{Key, Value}]). A description or permissions boundary removed outside plumb
 * reads as not set when `wanted` names it ("" and null: plumb_provider_not_set), since either
 * form of `role` carries them when set; a whole read (wanted NULL) leaves them out.
 */
static int observe(json_t **out, const json_t *role, const json_t *wanted, const json_t *attached,
                   const json_t *inline_policies, const json_t *tags)
{
    json_t *o = json_object(), *arns = json_array(), *policies = json_array(), *v;
    const json_t *p;
    size_t i;
    int error = 0;

    *out = NULL;
    PLUMB_ALLOC_CHECK(o && arns && policies);
    json_object_set(o, "RoleName", json_object_get(role, "RoleName"));
    json_object_set(o, "Arn", json_object_get(role, "Arn"));
    json_object_set(o, "RoleId", json_object_get(role, "RoleId"));
    if ((v = json_object_get(role, "Path")))
        json_object_set(o, "Path", v);
    if ((v = json_object_get(role, "AssumeRolePolicyDocument")))
        json_object_set_new(o, "AssumeRolePolicyDocument", policy_value(v));
    /* IAM keeps an emptied description as "": the same as none declared, left out of a whole
     * read; "" when wanted, which a declared "" still matches */
    if ((v = json_object_get(role, "Description")) && json_string_length(v) > 0)
        json_object_set(o, "Description", v);
    else if (wanted && json_object_get(wanted, "Description"))
        json_object_set_new(o, "Description", json_string(""));
    if ((v = json_object_get(role, "MaxSessionDuration")))
        json_object_set(o, "MaxSessionDuration", v);
    if ((v = json_object_get(json_object_get(role, "PermissionsBoundary"),
                             "PermissionsBoundaryArn")))
        json_object_set(o, "PermissionsBoundary", v);
    else
        plumb_provider_not_set(o, wanted, "PermissionsBoundary");
    json_array_foreach(attached, i, p)
    {
        if ((v = json_object_get(p, "PolicyArn")))
            json_array_append(arns, v);
    }
    sort_array(arns, NULL);
    json_object_set(o, "ManagedPolicyArns", arns);
    json_array_foreach(inline_policies, i, p)
    {
        json_t *doc = json_object_get(p, "PolicyDocument");
        json_array_append_new(
            policies, json_pack("{s:O, s:o}", "PolicyName", json_object_get(p, "PolicyName"),
                                "PolicyDocument", doc ? policy_value(doc) : json_null()));
    }
    sort_array(policies, "PolicyName");
    json_object_set(o, "Policies", policies);
    json_object_set_new(o, "Tags", tag_list(tags));
    *out = o;
    o = NULL;
done:
    json_decref(o);
    json_decref(arns);
    json_decref(policies);
    return error;
}

static int list_attached(struct plumb_aws *aws, const char *name, json_t **attached)
{
    json_t *in = json_pack("{s:s}", "RoleName", name), *out = NULL;
    int error;

    *attached = NULL;
    error = plumb_aws_paginate(aws, "iam", "ListAttachedRolePolicies", in, &out);
    if (error == 0) {
        *attached = json_incref(json_object_get(out, "AttachedPolicies"));
        if (!*attached)
            *attached = json_array();
    }
    json_decref(in);
    json_decref(out);
    return error;
}

static int list_inline_names(struct plumb_aws *aws, const char *name, json_t **names)
{
    json_t *in = json_pack("{s:s}", "RoleName", name), *out = NULL;
    int error;

    *names = NULL;
    error = plumb_aws_paginate(aws, "iam", "ListRolePolicies", in, &out);
    if (error == 0) {
        *names = json_incref(json_object_get(out, "PolicyNames"));
        if (!*names)
            *names = json_array();
    }
    json_decref(in);
    json_decref(out);
    return error;
}

/* The inline policies with their documents: [{PolicyName, PolicyDocument}]. */
static int list_inline(struct plumb_aws *aws, const char *name, json_t **policies)
{
    json_t *names = NULL, *list = json_array(), *in = NULL, *out = NULL;
    const json_t *n;
    size_t i;
    int error = 0;

    *policies = NULL;
    PLUMB_ALLOC_CHECK(list);
    PLUMB_TRY(list_inline_names(aws, name, &names));
    json_array_foreach(names, i, n)
    {
        in = json_pack("{s:s, s:O}", "RoleName", name, "PolicyName", n);
        PLUMB_ALLOC_CHECK(in);
        error = plumb_aws_call(aws, "iam", "GetRolePolicy", in, &out);
        if (error == 0)
            json_array_append_new(list, json_pack("{s:O, s:O?}", "PolicyName", n, "PolicyDocument",
                                                  json_object_get(out, "PolicyDocument")));
        else if (error != PLUMB_ENOTFOUND) /* deleted since the listing: not there */
            goto done;
        error = 0;
        json_decref(in);
        json_decref(out);
        in = out = NULL;
    }
    *policies = list;
    list = NULL;
done:
    json_decref(names);
    json_decref(list);
    json_decref(in);
    json_decref(out);
    return error;
}

/* The role's tags: GetRole and GetAccountAuthorizationDetails carry them; ListRoleTags when
 * the answer left the member out. */
static int role_tags(struct plumb_aws *aws, const json_t *role, json_t **tags)
{
    json_t *in, *out = NULL;
    int error;

    *tags = NULL;
    if (json_is_array(json_object_get(role, "Tags"))) {
        *tags = json_incref(json_object_get(role, "Tags"));
        return 0;
    }
    in = json_pack("{s:O}", "RoleName", json_object_get(role, "RoleName"));
    if (!in)
        return plumb_error_oom();
    error = plumb_aws_paginate(aws, "iam", "ListRoleTags", in, &out);
    if (error == 0)
        *tags = json_incref(json_object_get(out, "Tags"));
    json_decref(in);
    json_decref(out);
    return error;
}

/* A role as GetRole returned it, completed with its policies and tags; NULL when it went away
 * meanwhile. */
/* GetRole's answer, with the listings of what is wanted (provider.h) → observed. */
static int observe_role(struct plumb_aws *aws, const json_t *role, const json_t *wanted,
                        json_t **observed)
{
    static const char *const costly[] = {"ManagedPolicyArns", "Policies", "Tags"};
    const char *name = json_string_value(json_object_get(role, "RoleName"));
    json_t *attached = NULL, *policies = NULL, *tags = NULL;
    size_t i;
    int error = 0;

    *observed = NULL;
    if (plumb_provider_wants(wanted, "ManagedPolicyArns"))
        PLUMB_TRY(list_attached(aws, name, &attached));
    if (plumb_provider_wants(wanted, "Policies"))
        PLUMB_TRY(list_inline(aws, name, &policies));
    if (plumb_provider_wants(wanted, "Tags"))
        PLUMB_TRY(role_tags(aws, role, &tags));
    PLUMB_TRY(observe(observed, role, wanted, attached, policies, tags));
    /* not read is not "none": left out, it stays as last applied */
    for (i = 0; i < sizeof(costly) / sizeof(costly[0]); i++)
        if (!plumb_provider_wants(wanted, costly[i]))
            json_object_del(*observed, costly[i]);
done:
    if (error == PLUMB_ENOTFOUND)
        error = 0;
    json_decref(attached);
    json_decref(policies);
    json_decref(tags);
    return error;
}

static int get_role(struct plumb_aws *aws, const char *name, json_t **role)
{
    json_t *in = json_pack("{s:s}", "RoleName", name), *out = NULL;
    int error;

    *role = NULL;
    if (!in)
        return plumb_error_oom();
    error = plumb_aws_call(aws, "iam", "GetRole", in, &out);
    if (error == 0)
        *role = json_incref(json_object_get(out, "Role"));
    else if (error == PLUMB_ENOTFOUND)
        error = 0;
    json_decref(in);
    json_decref(out);
    return error;
}

static int role_read_wanted(struct plumb_aws *aws, const json_t *id, const json_t *wanted,
                            json_t **observed)
{
    const char *name = plumb_provider_id_str(id, "RoleName");
    json_t *role = NULL;
    int error = 0;

    *observed = NULL;
    if (!name)
        return plumb_error_set(PLUMB_EINVALID, "role id lacks RoleName");
    PLUMB_TRY(get_role(aws, name, &role));
    if (role)
        error = observe_role(aws, role, wanted, observed);
done:
    json_decref(role);
    return error;
}

static int role_read(struct plumb_aws *aws, const json_t *id, json_t **observed)
{
    return role_read_wanted(aws, id, NULL, observed);
}

/* name → entry of a listing. */
static json_t *index_by_name(const json_t *list)
{
    json_t *index = json_object(), *e;
    size_t i;

    json_array_foreach(list, i, e)
    {
        const char *name = json_string_value(json_object_get(e, "RoleName"));
        if (name && index)
            json_object_set(index, name, e);
    }
    return index;
}

static int role_read_each(struct plumb_aws *aws, const json_t *ids, const json_t *wanted,
                          json_t **observed)
{
    json_t *out = json_array(), *o;
    const json_t *id;
    size_t i;
    int error = 0;

    *observed = NULL;
    PLUMB_ALLOC_CHECK(out);
    json_array_foreach(ids, i, id)
    {
        PLUMB_TRY(role_read_wanted(aws, id, wanted, &o));
        json_array_append_new(out, o ? o : json_null());
    }
    *observed = out;
    out = NULL;
done:
    json_decref(out);
    return error;
}

/* Whether ListRoles is needed: the account-wide details leave out these two settings. */
static int wants_listed_settings(const json_t *wanted)
{
    return plumb_provider_wants(wanted, "Description") ||
           plumb_provider_wants(wanted, "MaxSessionDuration");
}

/*
 * Whether one role costs fewer calls through GetRole and its listings than through the
 * account-wide ones (one page each in an account of up to 1,000 roles): GetRole carries the
 * tags; attached and inline policies cost a listing each.
 */
static int cheaper_alone(const json_t *wanted)
{
    int alone = 1 + plumb_provider_wants(wanted, "ManagedPolicyArns") +
                plumb_provider_wants(wanted, "Policies");
    int listed = 1 + wants_listed_settings(wanted);

    return alone <= listed;
}

static int role_read_many(struct plumb_aws *aws, const json_t *ids, const json_t *wanted,
                          json_t **observed)
{
    json_t *in = NULL, *details = NULL, *listed = NULL, *by_detail = NULL, *by_list = NULL;
    json_t *out = json_array(), *o, *merged = NULL, *tags = NULL;
    const json_t *id, *d, *r;
    size_t i;
    int error = 0;

    *observed = NULL;
    PLUMB_ALLOC_CHECK(out);
    if (json_array_size(ids) == 0)
        goto found; /* no listing for nothing */
    if (json_array_size(ids) == 1 && cheaper_alone(wanted)) {
        error = role_read_each(aws, ids, wanted, observed);
        goto done;
    }
    in = json_pack("{s:[s], s:i}", "Filter", "Role", "MaxItems", 1000);
    PLUMB_ALLOC_CHECK(in);
    error = plumb_aws_paginate(aws, "iam", "GetAccountAuthorizationDetails", in, &details);
    if (error == PLUMB_EAUTH) {
        /* an identity allowed to manage its roles need not be allowed this account-wide read */
        error = role_read_each(aws, ids, wanted, observed);
        goto done;
    }
    PLUMB_TRY(error);
    by_detail = index_by_name(json_object_get(details, "RoleDetailList"));
    PLUMB_ALLOC_CHECK(by_detail);
    if (wants_listed_settings(wanted)) {
        json_decref(in);
        in = json_pack("{s:i}", "MaxItems", 1000);
        PLUMB_ALLOC_CHECK(in);
        PLUMB_TRY(plumb_aws_paginate(aws, "iam", "ListRoles", in, &listed));
        by_list = index_by_name(json_object_get(listed, "Roles"));
        PLUMB_ALLOC_CHECK(by_list);
    }
    json_array_foreach(ids, i, id)
    {
        const char *name = plumb_provider_id_str(id, "RoleName");
        o = NULL;
        d = name ? json_object_get(by_detail, name) : NULL;
        r = name && by_list ? json_object_get(by_list, name) : NULL;
        if (d && (r || !by_list)) {
            /* without ListRoles, Description and MaxSessionDuration are left unread */
            merged = json_copy((json_t *)d);
            PLUMB_ALLOC_CHECK(merged);
            if (json_object_get(r, "Description"))
                json_object_set(merged, "Description", json_object_get(r, "Description"));
            if (json_object_get(r, "MaxSessionDuration"))
                json_object_set(merged, "MaxSessionDuration",
                                json_object_get(r, "MaxSessionDuration"));
            PLUMB_TRY(role_tags(aws, merged, &tags));
            PLUMB_TRY(observe(&o, merged, wanted, json_object_get(d, "AttachedManagedPolicies"),
                              json_object_get(d, "RolePolicyList"), tags));
            json_decref(merged);
            json_decref(tags);
            merged = tags = NULL;
        } else if (d || r) {
            /* created or deleted between the two listings: ask about this one */
            PLUMB_TRY(role_read(aws, id, &o));
        }
        json_array_append_new(out, o ? o : json_null());
    }
found:
    *observed = out;
    out = NULL;
done:
    json_decref(in);
    json_decref(details);
    json_decref(listed);
    json_decref(by_detail);
    json_decref(by_list);
    json_decref(out);
    json_decref(merged);
    json_decref(tags);
    return error;
}

static int role_lookup(struct plumb_aws *aws, const json_t *props, json_t **id)
{
    struct plumb_buf name = PLUMB_BUF_INIT;
    json_t *role = NULL;
    int error = 0;

    *id = NULL;
    PLUMB_TRY(role_name_of(&name, props));
    PLUMB_TRY(get_role(aws, name.ptr, &role));
    if (role) {
        *id = json_pack("{s:s}", "RoleName", name.ptr);
        PLUMB_ALLOC_CHECK(*id);
    }
done:
    json_decref(role);
    plumb_buf_release(&name);
    return error;
}

static int attach(struct plumb_aws *aws, const char *name, const json_t *arn)
{
    return iam_do(aws, "AttachRolePolicy",
                  json_pack("{s:s, s:O}", "RoleName", name, "PolicyArn", arn));
}

static int put_inline(struct plumb_aws *aws, const char *name, const json_t *policy)
{
    const json_t *pname = json_object_get(policy, "PolicyName");
    char *doc = policy_text(json_object_get(policy, "PolicyDocument"));
    int error;

    if (!json_is_string(pname) || !doc) {
        free(doc);
        return plumb_error_set(PLUMB_EINVALID,
                               "an inline policy of role '%s' needs PolicyName and PolicyDocument",
                               name);
    }
    error = iam_do(
        aws, "PutRolePolicy",
        json_pack("{s:s, s:O, s:s}", "RoleName", name, "PolicyName", pname, "PolicyDocument", doc));
    free(doc);
    return error;
}

static int role_remove(struct plumb_aws *aws, const json_t *id, unsigned flags)
{
    const char *name = plumb_provider_id_str(id, "RoleName");
    json_t *attached = NULL, *names = NULL, *in = NULL, *profiles = NULL;
    const json_t *v;
    size_t i;
    int error = 0;

    (void)flags;
    if (!name)
        return plumb_error_set(PLUMB_EINVALID, "role id lacks RoleName");
    /* DeleteRole refuses a role with attached or inline policies or in an instance profile */
    PLUMB_TRY(list_attached(aws, name, &attached));
    json_array_foreach(attached, i, v)
    {
        PLUMB_TRY(iam_do_gone_ok(aws, "DetachRolePolicy",
                                 json_pack("{s:s, s:O}", "RoleName", name, "PolicyArn",
                                           json_object_get(v, "PolicyArn"))));
    }
    PLUMB_TRY(list_inline_names(aws, name, &names));
    json_array_foreach(names, i, v)
    {
        PLUMB_TRY(iam_do_gone_ok(aws, "DeleteRolePolicy",
                                 json_pack("{s:s, s:O}", "RoleName", name, "PolicyName", v)));
    }
    in = json_pack("{s:s}", "RoleName", name);
    PLUMB_ALLOC_CHECK(in);
    PLUMB_TRY(plumb_aws_paginate(aws, "iam", "ListInstanceProfilesForRole", in, &profiles));
    json_array_foreach(json_object_get(profiles, "InstanceProfiles"), i, v)
    {
        PLUMB_TRY(
            iam_do_gone_ok(aws, "RemoveRoleFromInstanceProfile",
                           json_pack("{s:O, s:s}", "InstanceProfileName",
                                     json_object_get(v, "InstanceProfileName"), "RoleName", name)));
    }
    PLUMB_TRY(iam_do(aws, "DeleteRole", json_pack("{s:s}", "RoleName", name)));
done:
    if (error == PLUMB_ENOTFOUND)
        error = 0; /* gone already */
    json_decref(attached);
    json_decref(names);
    json_decref(in);
    json_decref(profiles);
    return error;
}

/* Removes a half-made role after a failed create, keeping the failure as the error. */
static void undo_create(struct plumb_aws *aws, const json_t *id, int error)
{
    char *why = strdup(plumb_error_message());

    if (role_remove(aws, id, 0) < 0)
        plumb_error_set(error, "%s (and removing the half-made role failed: %s)",
                        why ? why : "create failed", plumb_error_message());
    else
        plumb_error_set(error, "%s", why ? why : "create failed");
    free(why);
}

static int role_create(struct plumb_aws *aws, const json_t *props, json_t **observed)
{
    struct plumb_buf name = PLUMB_BUF_INIT;
    json_t *in = NULL, *out = NULL, *tags = NULL, *id = NULL, *v;
    const json_t *p;
    char *doc = NULL;
    size_t i;
    int error = 0, made = 0;

    *observed = NULL;
    PLUMB_TRY(role_name_of(&name, props));
    doc = policy_text(json_object_get(props, "AssumeRolePolicyDocument"));
    if (!doc) {
        error =
            plumb_error_set(PLUMB_EINVALID, "role '%s' needs AssumeRolePolicyDocument", name.ptr);
        goto done;
    }
    in = json_pack("{s:s, s:s}", "RoleName", name.ptr, "AssumeRolePolicyDocument", doc);
    id = json_pack("{s:s}", "RoleName", name.ptr);
    PLUMB_ALLOC_CHECK(in && id);
    if ((v = json_object_get(props, "Path")))
        json_object_set(in, "Path", v);
    if ((v = json_object_get(props, "Description")))
        json_object_set(in, "Description", v);
    if ((v = json_object_get(props, "MaxSessionDuration")))
        json_object_set(in, "MaxSessionDuration", v);
    if ((v = json_object_get(props, "PermissionsBoundary")))
        json_object_set(in, "PermissionsBoundary", v);
    tags = tag_list(json_object_get(props, "Tags"));
    if (json_array_size(tags))
        json_object_set(in, "Tags", tags);
    PLUMB_TRY(plumb_aws_call(aws, "iam", "CreateRole", in, &out));
    made = 1;
    json_array_foreach(json_object_get(props, "ManagedPolicyArns"), i, p)
        PLUMB_TRY(attach(aws, name.ptr, p));
    json_array_foreach(json_object_get(props, "Policies"), i, p)
        PLUMB_TRY(put_inline(aws, name.ptr, p));
    PLUMB_TRY(role_read(aws, id, observed));
    if (!*observed)
        error = plumb_error_set(PLUMB_ENOTFOUND, "role '%s' is not visible after creating it",
                                name.ptr);
done:
    if (error < 0 && made)
        undo_create(aws, id, error);
    plumb_buf_release(&name);
    json_decref(in);
    json_decref(out);
    json_decref(tags);
    json_decref(id);
    free(doc);
    return error;
}

static int string_in(const json_t *list, const json_t *s)
{
    const json_t *v;
    size_t i;

    json_array_foreach(list, i, v)
    {
        if (json_equal(v, s))
            return 1;
    }
    return 0;
}

static const json_t *policy_named(const json_t *list, const json_t *name)
{
    const json_t *v;
    size_t i;

    json_array_foreach(list, i, v)
    {
        if (json_equal(json_object_get(v, "PolicyName"), name))
            return v;
    }
    return NULL;
}

/* Managed policies by difference: attach the new ones first so the role never lacks both. */
static int update_managed(struct plumb_aws *aws, const char *name, const json_t *before,
                          const json_t *after)
{
    const json_t *v;
    size_t i;
    int error = 0;

    json_array_foreach(after, i, v)
    {
        if (!string_in(before, v))
            PLUMB_TRY(attach(aws, name, v));
    }
    json_array_foreach(before, i, v)
    {
        if (!string_in(after, v))
            PLUMB_TRY(iam_do_gone_ok(aws, "DetachRolePolicy",
                                     json_pack("{s:s, s:O}", "RoleName", name, "PolicyArn", v)));
    }
done:
    return error;
}

static int update_inline(struct plumb_aws *aws, const char *name, const json_t *before,
                         const json_t *after)
{
    const json_t *v, *old;
    size_t i;
    int error = 0;

    json_array_foreach(after, i, v)
    {
        old = policy_named(before, json_object_get(v, "PolicyName"));
        if (!old || policy_changed(json_object_get(old, "PolicyDocument"),
                                   json_object_get(v, "PolicyDocument")))
            PLUMB_TRY(put_inline(aws, name, v));
    }
    json_array_foreach(before, i, v)
    {
        if (!policy_named(after, json_object_get(v, "PolicyName")))
            PLUMB_TRY(iam_do_gone_ok(aws, "DeleteRolePolicy",
                                     json_pack("{s:s, s:O}", "RoleName", name, "PolicyName",
                                               json_object_get(v, "PolicyName"))));
    }
done:
    return error;
}

static int update_tags(struct plumb_aws *aws, const char *name, const json_t *before,
                       const json_t *after)
{
    json_t *tb = plumb_provider_tags_to_map(json_object_get(before, "Tags"));
    json_t *ta = plumb_provider_tags_to_map(json_object_get(after, "Tags"));
    json_t *add = NULL, *del = NULL;
    int error = 0;

    plumb_provider_tags_diff(tb, ta, &add, &del);
    if (json_object_size(add))
        PLUMB_TRY(iam_do(aws, "TagRole",
                         json_pack("{s:s, s:o}", "RoleName", name, "Tags",
                                   plumb_provider_tags_to_list(add, "Key", "Value"))));
    if (json_array_size(del))
        PLUMB_TRY(
            iam_do(aws, "UntagRole", json_pack("{s:s, s:O}", "RoleName", name, "TagKeys", del)));
done:
    json_decref(tb);
    json_decref(ta);
    json_decref(add);
    json_decref(del);
    return error;
}

static int role_update(struct plumb_aws *aws, const json_t *id, const json_t *before,
                       const json_t *after, json_t **observed)
{
    const char *name = plumb_provider_id_str(id, "RoleName");
    const char *description = json_string_value(json_object_get(after, "Description"));
    const json_t *v;
    char *doc = NULL;
    int error = 0;

    *observed = NULL;
    if (!name)
        return plumb_error_set(PLUMB_EINVALID, "role id lacks RoleName");
    if (policy_changed(json_object_get(before, "AssumeRolePolicyDocument"),
                       json_object_get(after, "AssumeRolePolicyDocument"))) {
        doc = policy_text(json_object_get(after, "AssumeRolePolicyDocument"));
        if (!doc) {
            error =
                plumb_error_set(PLUMB_EINVALID, "role '%s' needs AssumeRolePolicyDocument", name);
            goto done;
        }
        PLUMB_TRY(iam_do(aws, "UpdateAssumeRolePolicy",
                         json_pack("{s:s, s:s}", "RoleName", name, "PolicyDocument", doc)));
    }
    if (plumb_provider_changed(before, after, "Description") ||
        plumb_provider_changed(before, after, "MaxSessionDuration")) {
        /* Both, always: UpdateRole leaves out nothing it is given, and moto 5.2.1 even clears
         * the description of an UpdateRole that only sets MaxSessionDuration. Left out of the
         * config, each goes back to what AWS has without it. */
        v = json_object_get(after, "MaxSessionDuration");
        PLUMB_TRY(iam_do(aws, "UpdateRole",
                         json_pack("{s:s, s:s, s:I}", "RoleName", name, "Description",
                                   description ? description : "", "MaxSessionDuration",
                                   v ? json_integer_value(v) : (json_int_t)DEFAULT_MAX_SESSION)));
    }
    if (plumb_provider_changed(before, after, "PermissionsBoundary")) {
        if ((v = json_object_get(after, "PermissionsBoundary")))
            PLUMB_TRY(iam_do(aws, "PutRolePermissionsBoundary",
                             json_pack("{s:s, s:O}", "RoleName", name, "PermissionsBoundary", v)));
        else
            PLUMB_TRY(iam_do_gone_ok(aws, "DeleteRolePermissionsBoundary",
                                     json_pack("{s:s}", "RoleName", name)));
    }
    PLUMB_TRY(update_managed(aws, name, json_object_get(before, "ManagedPolicyArns"),
                             json_object_get(after, "ManagedPolicyArns")));
    PLUMB_TRY(update_inline(aws, name, json_object_get(before, "Policies"),
                            json_object_get(after, "Policies")));
    PLUMB_TRY(update_tags(aws, name, before, after));
    PLUMB_TRY(role_read(aws, id, observed));
    if (!*observed)
        error = plumb_error_set(PLUMB_ENOTFOUND, "role '%s' does not exist", name);
done:
    free(doc);
    return error;
}

struct exists_check {
    struct plumb_aws *aws;
    const char *name;
};

static int check_exists(void *ctx, const char **status)
{
    struct exists_check *c = ctx;
    json_t *role = NULL;
    int error = get_role(c->aws, c->name, &role);

    *status = "propagating";
    if (error == 0)
        error = role ? 1 : 0;
    json_decref(role);
    return error;
}

/* IAM is eventually consistent: the SDKs' RoleExists waiter polls GetRole until it answers. */
static int role_wait_stable(struct plumb_aws *aws, const json_t *id, struct plumb_progress *p)
{
    struct exists_check c = {aws, plumb_provider_id_str(id, "RoleName")};

    if (!c.name)
        return plumb_error_set(PLUMB_EINVALID, "role id lacks RoleName");
    return plumb_provider_wait(p, 1000, check_exists, &c, "the role to exist");
}

/* A declared document in read's form; one holding a value known only at apply time (or a
 * secret) stays as declared, marks untouched. */
static json_t *declared_policy(const json_t *doc)
{
    if (plumb_value_has_unknown(doc) || plumb_value_has_sensitive(doc))
        return json_incref((json_t *)doc);
    return policy_value(doc);
}

/* The declared properties as read reports them: policy documents normalised. */
static json_t *role_normalize(const json_t *props)
{
    json_t *out = json_deep_copy(props), *v, *p;
    size_t i;

    if (!out)
        return NULL;
    if ((v = json_object_get(out, "AssumeRolePolicyDocument")))
        json_object_set_new(out, "AssumeRolePolicyDocument", declared_policy(v));
    json_array_foreach(json_object_get(out, "Policies"), i, p)
    {
        if (json_is_object(p) && (v = json_object_get(p, "PolicyDocument")))
            json_object_set_new(p, "PolicyDocument", declared_policy(v));
    }
    return out;
}

const struct plumb_resource_type plumb_driver_iam_role = {
    .type_name = "AWS::IAM::Role",
    .normalize = role_normalize,
    .read = role_read,
    .read_many = role_read_many,
    .lookup = role_lookup,
    .create = role_create,
    .update = role_update,
    .remove = role_remove,
    .wait_stable = role_wait_stable,
    .waits_only = 1,
};
