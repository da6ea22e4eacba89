/*
 * AWS::EC2::SecurityGroup — VPC security groups and their rules.
 *
 * Rules are declared in CloudFormation's shape — SecurityGroupIngress / SecurityGroupEgress,
 * one source or destination per rule (CidrIp, CidrIpv6, a group, a prefix list) — and live in
 * EC2 as IpPermissions, one permission carrying many ranges and groups. read turns each
 * permission into one CloudFormation rule per source, normalised (protocol names for "6",
 * "17", "1", "58"; "-1" and protocols without ports carry no ports) and sorted, so that what
 * AWS reports compares equal to what a user declares. update compares rules as sets, without
 * their descriptions, against what AWS has now: new rules are authorised before stale ones
 * are revoked (no moment without the access being changed), and a changed description is
 * set in place with ModifySecurityGroupRules.
 *
 * Egress follows CloudFormation: AWS gives a new group an allow-all egress rule; declaring
 * SecurityGroupEgress (a non-empty list) replaces it with exactly the declared rules, and
 * leaving it out (or empty) keeps — on update, restores — the allow-all rule alone.
 *
 * GroupName is the name property; when it is not declared plumb makes one, as CloudFormation
 * does, from the plumb tags and a random suffix, and finds the group by its tags.
 *
 * remove first revokes the rules of OTHER groups that reference this one (AWS refuses to
 * delete a referenced group), then deletes it, retrying DependencyViolation while network
 * interfaces of deleted load balancers and tasks still hold it.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "config/value.h"
#include "provider/ec2_common.h"
#include "provider/provider.h"
#include "provider/util.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/sys.h"

/* ---- rules ---------------------------------------------------------------------------- */

/* The names a rule's peer takes in each direction (CloudFormation's Ingress / Egress). */
struct direction {
    int egress;
    const char *group;       /* SourceSecurityGroupId / DestinationSecurityGroupId */
    const char *prefix_list; /* SourcePrefixListId / DestinationPrefixListId */
    const char *authorize, *revoke, *permissions;
};

static const struct direction ingress = {0,
                                         "SourceSecurityGroupId",
                                         "SourcePrefixListId",
                                         "AuthorizeSecurityGroupIngress",
                                         "RevokeSecurityGroupIngress",
                                         "IpPermissions"};
static const struct direction egress = {1,
                                        "DestinationSecurityGroupId",
                                        "DestinationPrefixListId",
                                        "AuthorizeSecurityGroupEgress",
                                        "RevokeSecurityGroupEgress",
                                        "IpPermissionsEgress"};

/*
 * One protocol spelling for each: EC2 reports "tcp" for "6" and so on, and "-1" (all) for
 * "all" or -1. A YAML number arrives as a JSON integer. Writes into out[16].
 */
static const char *canonical_protocol(const json_t *p, char out[16])
{
    static const char *const names[][2] = {
        {"6", "tcp"}, {"17", "udp"}, {"1", "icmp"}, {"58", "icmpv6"}, {"all", "-1"}};
    size_t i;

    if (json_is_integer(p))
        snprintf(out, 16, "%" JSON_INTEGER_FORMAT, json_integer_value(p));
    else
        snprintf(out, 16, "%s", json_is_string(p) ? json_string_value(p) : "-1");
    for (i = 0; out[i]; i++)
        out[i] = (char)tolower((unsigned char)out[i]);
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(out, names[i][0]) == 0)
            snprintf(out, 16, "%s", names[i][1]);
    return out;
}

/* Only these protocols have ports; for the others AWS allows every port, whatever is sent. */
static int has_ports(const char *protocol)
{
    return strcmp(protocol, "tcp") == 0 || strcmp(protocol, "udp") == 0 ||
           strcmp(protocol, "icmp") == 0 || strcmp(protocol, "icmpv6") == 0;
}

/* A port as a JSON integer (a YAML "80" arrives as a string), or NULL. */
static json_t *port_value(const json_t *v)
{
    char *end;
    long n;

    if (json_is_integer(v))
        return json_incref((json_t *)v);
    if (json_is_string(v)) {
        n = strtol(json_string_value(v), &end, 10);
        if (*json_string_value(v) && !*end)
            return json_integer(n);
    }
    return NULL;
}

static void set_string(json_t *o, const char *key, const json_t *v)
{
    if (json_is_string(v) && json_string_length(v))
        json_object_set(o, key, (json_t *)v);
}

/* A declared (or read) rule in the normal form read reports: protocol and ports as above,
 * the one peer, the description when not empty. */
static json_t *normalize_rule(const json_t *rule, const struct direction *d)
{
    static const char *const peers[] = {"CidrIp", "CidrIpv6", "SourceSecurityGroupOwnerId", NULL};
    json_t *o = json_object();
    const char *const *k;
    char proto[16];

    if (!o)
        return NULL;
    canonical_protocol(json_object_get(rule, "IpProtocol"), proto);
    json_object_set_new(o, "IpProtocol", json_string(proto));
    if (has_ports(proto)) {
        json_t *from = port_value(json_object_get(rule, "FromPort"));
        json_t *to = port_value(json_object_get(rule, "ToPort"));
        if (from)
            json_object_set_new(o, "FromPort", from);
        if (to)
            json_object_set_new(o, "ToPort", to);
    }
    for (k = peers; *k; k++)
        if (!d->egress || strcmp(*k, "SourceSecurityGroupOwnerId") != 0)
            set_string(o, *k, json_object_get(rule, *k));
    set_string(o, d->group, json_object_get(rule, d->group));
    set_string(o, d->prefix_list, json_object_get(rule, d->prefix_list));
    set_string(o, "Description", json_object_get(rule, "Description"));
    return o;
}

/* What identifies a rule in AWS: everything but the description (and the owner of a peer
 * group, which the group id already names). Caller frees. */
static char *rule_key(const json_t *normal)
{
    json_t *k = json_copy((json_t *)normal);
    char *s;

    if (!k)
        return NULL;
    json_object_del(k, "Description");
    json_object_del(k, "SourceSecurityGroupOwnerId");
    s = json_dumps(k, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(k);
    return s;
}

static int cmp_rules(const void *a, const void *b)
{
    char *x = json_dumps(*(json_t *const *)a, JSON_SORT_KEYS | JSON_COMPACT);
    char *y = json_dumps(*(json_t *const *)b, JSON_SORT_KEYS | JSON_COMPACT);
    int c = strcmp(x ? x : "", y ? y : "");

    free(x);
    free(y);
    return c;
}

/* `rules` sorted by their canonical text, so reads are deterministic. Steals `rules`. */
static json_t *sorted(json_t *rules)
{
    size_t i, n = json_array_size(rules);
    json_t **items = calloc(n ? n : 1, sizeof(*items)), *out;

    if (!items)
        return rules;
    for (i = 0; i < n; i++)
        items[i] = json_array_get(rules, i);
    qsort(items, n, sizeof(*items), cmp_rules);
    out = json_array();
    for (i = 0; i < n; i++)
        json_array_append(out, items[i]);
    free(items);
    json_decref(rules);
    return out;
}

static void append_rule(json_t *rules, json_t *base, const char *key, const json_t *value,
                        const json_t *entry, const struct direction *d)
{
    json_t *r = json_copy(base), *n;

    json_object_set(r, key, (json_t *)value);
    set_string(r, "Description", json_object_get(entry, "Description"));
    n = normalize_rule(r, d);
    json_array_append_new(rules, n);
    json_decref(r);
}

/*
 * EC2's IpPermissions → CloudFormation rules, one per range, group or prefix list. The owner
 * of a peer group is reported only when it is another account (the user writes it then).
 */
static json_t *rules_from_permissions(const json_t *perms, const struct direction *d,
                                      const char *owner)
{
    json_t *rules = json_array(), *perm, *e, *base;
    size_t i, j;

    json_array_foreach(perms, i, perm)
    {
        base = json_object();
        json_object_set(base, "IpProtocol", json_object_get(perm, "IpProtocol"));
        if (json_object_get(perm, "FromPort"))
            json_object_set(base, "FromPort", json_object_get(perm, "FromPort"));
        if (json_object_get(perm, "ToPort"))
            json_object_set(base, "ToPort", json_object_get(perm, "ToPort"));
        json_array_foreach(json_object_get(perm, "IpRanges"), j, e)
            append_rule(rules, base, "CidrIp", json_object_get(e, "CidrIp"), e, d);
        json_array_foreach(json_object_get(perm, "Ipv6Ranges"), j, e)
            append_rule(rules, base, "CidrIpv6", json_object_get(e, "CidrIpv6"), e, d);
        json_array_foreach(json_object_get(perm, "PrefixListIds"), j, e)
            append_rule(rules, base, d->prefix_list, json_object_get(e, "PrefixListId"), e, d);
        json_array_foreach(json_object_get(perm, "UserIdGroupPairs"), j, e)
        {
            const char *user = json_string_value(json_object_get(e, "UserId"));
            json_t *b = json_copy(base);
            if (!d->egress && user && owner && strcmp(user, owner) != 0)
                json_object_set(b, "SourceSecurityGroupOwnerId", json_object_get(e, "UserId"));
            append_rule(rules, b, d->group, json_object_get(e, "GroupId"), e, d);
            json_decref(b);
        }
        json_decref(base);
    }
    return sorted(rules);
}

/* A normalised CloudFormation rule → one IpPermission for Authorize/Revoke. */
static json_t *permission_of(const json_t *rule, const struct direction *d)
{
    json_t *p = json_object(), *peer, *v;
    const char *desc = json_string_value(json_object_get(rule, "Description"));

    json_object_set(p, "IpProtocol", json_object_get(rule, "IpProtocol"));
    if ((v = json_object_get(rule, "FromPort")))
        json_object_set(p, "FromPort", v);
    if ((v = json_object_get(rule, "ToPort")))
        json_object_set(p, "ToPort", v);
    if ((v = json_object_get(rule, "CidrIp"))) {
        peer = json_pack("{s:O}", "CidrIp", v);
        json_object_set_new(p, "IpRanges", json_pack("[o]", peer));
    } else if ((v = json_object_get(rule, "CidrIpv6"))) {
        peer = json_pack("{s:O}", "CidrIpv6", v);
        json_object_set_new(p, "Ipv6Ranges", json_pack("[o]", peer));
    } else if ((v = json_object_get(rule, d->prefix_list))) {
        peer = json_pack("{s:O}", "PrefixListId", v);
        json_object_set_new(p, "PrefixListIds", json_pack("[o]", peer));
    } else if ((v = json_object_get(rule, d->group))) {
        peer = json_pack("{s:O}", "GroupId", v);
        if ((v = json_object_get(rule, "SourceSecurityGroupOwnerId")))
            json_object_set(peer, "UserId", v);
        json_object_set_new(p, "UserIdGroupPairs", json_pack("[o]", peer));
    } else {
        peer = NULL; /* no peer: AWS says what is missing */
    }
    if (peer && desc)
        json_object_set_new(peer, "Description", json_string(desc));
    return p;
}

/* The number of peers (source or destination) `rule` names: CloudFormation wants one. */
static int peer_count(const json_t *rule, const struct direction *d)
{
    return !!json_object_get(rule, "CidrIp") + !!json_object_get(rule, "CidrIpv6") +
           !!json_object_get(rule, d->group) + !!json_object_get(rule, d->prefix_list);
}

/* {key: normalised rule} of `rules`; the first of two rules with one key wins. */
static json_t *rule_map(const json_t *rules, const struct direction *d)
{
    json_t *map = json_object(), *r, *n;
    size_t i;
    char *k;

    json_array_foreach(rules, i, r)
    {
        n = normalize_rule(r, d);
        k = n ? rule_key(n) : NULL;
        if (k && !json_object_get(map, k))
            json_object_set(map, k, n);
        free(k);
        json_decref(n);
    }
    return map;
}

/* DescribeSecurityGroupRules' rule → the key of the CloudFormation rule it is. */
static char *key_of_group_rule(const json_t *r, const struct direction *d)
{
    json_t *cfn = json_object(), *n;
    char *k;

    json_object_set(cfn, "IpProtocol", json_object_get(r, "IpProtocol"));
    if (json_object_get(r, "FromPort"))
        json_object_set(cfn, "FromPort", json_object_get(r, "FromPort"));
    if (json_object_get(r, "ToPort"))
        json_object_set(cfn, "ToPort", json_object_get(r, "ToPort"));
    set_string(cfn, "CidrIp", json_object_get(r, "CidrIpv4"));
    set_string(cfn, "CidrIpv6", json_object_get(r, "CidrIpv6"));
    set_string(cfn, d->prefix_list, json_object_get(r, "PrefixListId"));
    set_string(cfn, d->group,
               json_object_get(json_object_get(r, "ReferencedGroupInfo"), "GroupId"));
    n = normalize_rule(cfn, d);
    k = n ? rule_key(n) : NULL;
    json_decref(n);
    json_decref(cfn);
    return k;
}

/* Sets the descriptions of `changed` ({key: wanted rule}) in place: ModifySecurityGroupRules
 * takes rule ids, which DescribeSecurityGroupRules gives. */
static int set_descriptions(struct plumb_aws *aws, const char *group_id, const json_t *changed,
                            const struct direction *d)
{
    json_t *in = NULL, *out = NULL, *updates = json_array(), *r, *want, *req;
    size_t i;
    char *k;
    int error = 0;

    PLUMB_ALLOC_CHECK(updates);
    in = json_pack("{s:[{s:s, s:[s]}]}", "Filters", "Name", "group-id", "Values", group_id);
    PLUMB_ALLOC_CHECK(in);
    PLUMB_TRY(plumb_aws_paginate(aws, "ec2", "DescribeSecurityGroupRules", in, &out));
    json_array_foreach(json_object_get(out, "SecurityGroupRules"), i, r)
    {
        if (json_is_true(json_object_get(r, "IsEgress")) != d->egress)
            continue;
        k = key_of_group_rule(r, d);
        want = k ? json_object_get(changed, k) : NULL;
        free(k);
        if (!want)
            continue;
        /* the rule as AWS has it (ports -1 for "-1", as the API wants), new description */
        req = json_object();
        PLUMB_ALLOC_CHECK(req);
        set_string(req, "IpProtocol", json_object_get(r, "IpProtocol"));
        if (json_object_get(r, "FromPort"))
            json_object_set(req, "FromPort", json_object_get(r, "FromPort"));
        if (json_object_get(r, "ToPort"))
            json_object_set(req, "ToPort", json_object_get(r, "ToPort"));
        set_string(req, "CidrIpv4", json_object_get(r, "CidrIpv4"));
        set_string(req, "CidrIpv6", json_object_get(r, "CidrIpv6"));
        set_string(req, "PrefixListId", json_object_get(r, "PrefixListId"));
        set_string(req, "ReferencedGroupId",
                   json_object_get(json_object_get(r, "ReferencedGroupInfo"), "GroupId"));
        json_object_set_new(
            req, "Description",
            json_string(json_string_value(json_object_get(want, "Description"))
                            ? json_string_value(json_object_get(want, "Description"))
                            : ""));
        json_array_append_new(updates, json_pack("{s:O, s:o}", "SecurityGroupRuleId",
                                                 json_object_get(r, "SecurityGroupRuleId"),
                                                 "SecurityGroupRule", req));
    }
    if (json_array_size(updates) != json_object_size(changed)) {
        error = plumb_error_set(PLUMB_ERROR,
                                "security group '%s': %zu rule(s) to describe anew not found "
                                "among its rules",
                                group_id, json_object_size(changed) - json_array_size(updates));
        goto done;
    }
    PLUMB_TRY(plumb_provider_call(
        aws, "ec2", "ModifySecurityGroupRules",
        json_pack("{s:s, s:O}", "GroupId", group_id, "SecurityGroupRules", updates), NULL));
done:
    json_decref(in);
    json_decref(out);
    json_decref(updates);
    return error;
}

/* Revoke, where a rule gone already is what was wanted. */
static int revoke(struct plumb_aws *aws, const struct direction *d, const char *group_id,
                  json_t *perms)
{
    json_t *in = json_pack("{s:s, s:O}", "GroupId", group_id, "IpPermissions", perms), *out = NULL;
    int error;

    if (!in)
        return plumb_error_oom();
    error = plumb_aws_call(aws, "ec2", d->revoke, in, &out);
    if (error < 0 && plumb_provider_last_code_is("InvalidPermission.NotFound"))
        error = 0;
    json_decref(in);
    json_decref(out);
    return error;
}

/*
 * Authorize. Just after CreateSecurityGroup AWS may not know the group yet
 * (InvalidGroup.NotFound naming it): that is retried; the same error naming a peer group the
 * rules reference is the user's and fails at once. A rule that is there already
 * (InvalidPermission.Duplicate) is what was asked for: the client resends an Authorize whose
 * answer was lost, and the resend finds the rule the first one made.
 */
static int authorize(struct plumb_aws *aws, const struct direction *d, const char *group_id,
                     json_t *perms)
{
    json_t *in = json_pack("{s:s, s:O}", "GroupId", group_id, "IpPermissions", perms), *out;
    const struct plumb_aws_error_info *e;
    long wait_ms = 500;
    int error, i;

    if (!in)
        return plumb_error_oom();
    for (i = 1;; i++) {
        out = NULL;
        error = plumb_aws_call(aws, "ec2", d->authorize, in, &out);
        json_decref(out);
        if (error < 0 && plumb_provider_last_code_is("InvalidPermission.Duplicate"))
            error = 0;
        e = plumb_aws_last_error();
        if (error == 0 || i >= PLUMB_EC2_SETTLE_ATTEMPTS ||
            !plumb_provider_last_code_is("InvalidGroup.NotFound") || !strstr(e->message, group_id))
            break;
        plumb_sleep_ms(wait_ms);
        wait_ms *= 2;
    }
    json_decref(in);
    return error;
}

/*
 * Turns the rules of one direction from `current` (as read) into `wanted` (as declared):
 * authorise the new, then revoke the stale, then describe anew the rules whose description
 * alone changed.
 */
static int sync_rules(struct plumb_aws *aws, const char *group_id, const json_t *current,
                      const json_t *wanted, const struct direction *d)
{
    json_t *have = rule_map(current, d), *want = rule_map(wanted, d);
    json_t *add = json_array(), *del = json_array(), *changed = json_object(), *r;
    const char *k;
    int error = 0;

    PLUMB_ALLOC_CHECK(have);
    PLUMB_ALLOC_CHECK(want);
    PLUMB_ALLOC_CHECK(add);
    PLUMB_ALLOC_CHECK(del);
    PLUMB_ALLOC_CHECK(changed);
    json_object_foreach(want, k, r)
    {
        if (peer_count(r, d) != 1) {
            error = plumb_error_set(PLUMB_EINVALID,
                                    "security group '%s': a rule of %s needs exactly one of "
                                    "CidrIp, CidrIpv6, %s, %s",
                                    group_id,
                                    d->egress ? "SecurityGroupEgress" : "SecurityGroupIngress",
                                    d->group, d->prefix_list);
            goto done;
        }
    }
    json_object_foreach(want, k, r)
    {
        json_t *h = json_object_get(have, k);
        if (!h)
            json_array_append_new(add, permission_of(r, d));
        else if (plumb_provider_changed(h, r, "Description"))
            json_object_set(changed, k, r);
    }
    json_object_foreach(have, k, r)
    {
        if (!json_object_get(want, k))
            json_array_append_new(del, permission_of(r, d));
    }
    if (json_array_size(add))
        PLUMB_TRY(authorize(aws, d, group_id, add));
    if (json_array_size(del))
        PLUMB_TRY(revoke(aws, d, group_id, del));
    if (json_object_size(changed))
        PLUMB_TRY(set_descriptions(aws, group_id, changed, d));
done:
    json_decref(have);
    json_decref(want);
    json_decref(add);
    json_decref(del);
    json_decref(changed);
    return error;
}

/* ---- reading --------------------------------------------------------------------------- */

static int describe_groups(struct plumb_aws *aws, json_t *filters, json_t **groups)
{
    return plumb_ec2__describe(aws, "DescribeSecurityGroups", "SecurityGroups", filters, groups);
}

/* One DescribeSecurityGroups entry → the CloudFormation shape. */
static json_t *observe(const json_t *g)
{
    const char *owner = json_string_value(json_object_get(g, "OwnerId"));
    json_t *o = json_object(), *tags;

    if (!o)
        return NULL;
    json_object_set(o, "Id", json_object_get(g, "GroupId"));
    json_object_set(o, "GroupId", json_object_get(g, "GroupId"));
    json_object_set(o, "GroupName", json_object_get(g, "GroupName"));
    json_object_set(o, "GroupDescription", json_object_get(g, "Description"));
    if (json_object_get(g, "VpcId"))
        json_object_set(o, "VpcId", json_object_get(g, "VpcId"));
    json_object_set_new(
        o, "SecurityGroupIngress",
        rules_from_permissions(json_object_get(g, "IpPermissions"), &ingress, owner));
    json_object_set_new(
        o, "SecurityGroupEgress",
        rules_from_permissions(json_object_get(g, "IpPermissionsEgress"), &egress, owner));
    tags = plumb_provider_tags_to_map(json_object_get(g, "Tags"));
    json_object_set_new(o, "Tags", plumb_provider_tags_to_list(tags, "Key", "Value"));
    json_decref(tags);
    return o;
}

/* Id is the primary identifier; GroupId is the same value. */
static const struct plumb_ec2_kind kind = {
    .what = "security group",
    .id_keys = {"Id", "GroupId"},
    .describe = "DescribeSecurityGroups",
    .list = "SecurityGroups",
    .item_id = "GroupId",
    .id_filter = "group-id",
    .delete = "DeleteSecurityGroup",
    .observe = observe,
};

static const char *group_id_of(const json_t *id)
{
    return plumb_ec2__id(&kind, id);
}

static int sg_read(struct plumb_aws *aws, const json_t *id, json_t **observed)
{
    return plumb_ec2__read(aws, &kind, id, observed);
}

/* One DescribeSecurityGroups per chunk of ids, by filter. */
static int sg_read_many(struct plumb_aws *aws, const json_t *ids, const json_t *wanted,
                        json_t **observed)
{
    (void)wanted;
    return plumb_ec2__read_many(aws, &kind, ids, observed);
}

/* The account's default VPC, where a group without VpcId goes; NULL when there is none. */
static int default_vpc(struct plumb_aws *aws, json_t **vpc_id)
{
    json_t *in, *out = NULL;
    int error = 0;

    *vpc_id = NULL;
    in = json_pack("{s:[{s:s, s:[s]}]}", "Filters", "Name", "is-default", "Values", "true");
    PLUMB_ALLOC_CHECK(in);
    PLUMB_TRY(plumb_aws_paginate(aws, "ec2", "DescribeVpcs", in, &out));
    *vpc_id =
        json_incref(json_object_get(json_array_get(json_object_get(out, "Vpcs"), 0), "VpcId"));
done:
    json_decref(in);
    json_decref(out);
    return error;
}

/*
 * By name within the VPC (names are unique per VPC: a create would fail with
 * InvalidGroup.Duplicate), or, for a group whose name plumb made up, by its plumb tags.
 */
static int sg_lookup(struct plumb_aws *aws, const json_t *props, json_t **id)
{
    const json_t *name = json_object_get(props, "GroupName");
    json_t *filters = NULL, *groups = NULL, *vpc = NULL;
    int error = 0;

    *id = NULL;
    if (json_is_string(name)) {
        filters = json_pack("[{s:s, s:[O]}]", "Name", "group-name", "Values", name);
    } else if (!(filters = plumb_ec2__plumb_tag_filters(props))) {
        goto done;
    }
    PLUMB_ALLOC_CHECK(filters);
    vpc = json_incref(json_object_get(props, "VpcId"));
    if (!vpc && json_is_string(name)) {
        PLUMB_TRY(default_vpc(aws, &vpc));
        if (!vpc)
            goto done; /* no default VPC: such a group cannot exist */
    }
    if (json_is_string(vpc))
        json_array_append_new(filters, json_pack("{s:s, s:[O]}", "Name", "vpc-id", "Values", vpc));
    PLUMB_TRY(describe_groups(aws, filters, &groups));
    if (json_array_size(groups) > 1) {
        error = plumb_error_set(
            PLUMB_ECONFLICT,
            "%zu security groups carry the same plumb tags: '%s' and '%s'; delete the one not "
            "in use",
            json_array_size(groups),
            json_string_value(json_object_get(json_array_get(groups, 0), "GroupId")),
            json_string_value(json_object_get(json_array_get(groups, 1), "GroupId")));
        goto done;
    }
    if (json_array_size(groups) == 1)
        *id = json_pack("{s:O}", "Id", json_object_get(json_array_get(groups, 0), "GroupId"));
done:
    json_decref(filters);
    json_decref(groups);
    json_decref(vpc);
    return error;
}

/* ---- changing -------------------------------------------------------------------------- */

/*
 * A name for a group declared without one, as CloudFormation makes them (stack, logical id,
 * random suffix): "<project>-<env>-<address>-<random>", in the characters AWS allows.
 */
static char *made_up_name(const json_t *props)
{
    json_t *tags = plumb_provider_tags_to_map(json_object_get(props, "Tags"));
    static const char *const parts[] = {"plumb:project", "plumb:env", "plumb:address", NULL};
    struct plumb_buf b = PLUMB_BUF_INIT;
    const char *const *p;
    char *s;
    size_t i;

    for (p = parts; *p; p++) {
        const char *v = json_string_value(json_object_get(tags, *p));
        if (v && *v)
            plumb_buf_printf(&b, "%s-", v);
    }
    if (b.len == 0 || strncmp(b.ptr, "sg-", 3) == 0) /* "sg-" would read as a group id */
        plumb_buf_puts(&b, "plumb-");
    plumb_buf_printf(&b, "%012" PRIx64, (uint64_t)(plumb_random_u64() & UINT64_C(0xffffffffffff)));
    json_decref(tags);
    s = plumb_buf_detach(&b);
    for (i = 0; s && s[i]; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr(" ._-:/()#,@[]+=&;{}!$*", s[i]))
            s[i] = '-';
    return s;
}

static int sg_remove(struct plumb_aws *aws, const json_t *id, unsigned flags);

/* Declared egress, or CloudFormation's default when none is declared: allow all. */
static json_t *wanted_egress(const json_t *props)
{
    const json_t *e = json_object_get(props, "SecurityGroupEgress");

    if (json_array_size(e))
        return json_incref((json_t *)e);
    return json_pack("[{s:s, s:s}]", "IpProtocol", "-1", "CidrIp", "0.0.0.0/0");
}

static int sg_create(struct plumb_aws *aws, const json_t *props, json_t **observed)
{
    const json_t *name = json_object_get(props, "GroupName");
    json_t *in = NULL, *out = NULL, *id = NULL, *current = NULL, *specs, *v, *eg = NULL;
    char *made = NULL;
    const char *group_id;
    int error = 0;

    *observed = NULL;
    if (!json_is_string(json_object_get(props, "GroupDescription")))
        return plumb_error_set(PLUMB_EINVALID, "a security group needs GroupDescription");
    if (!json_is_string(name)) {
        made = made_up_name(props);
        PLUMB_ALLOC_CHECK(made);
    }
    in = json_pack("{s:s, s:O}", "GroupName", made ? made : json_string_value(name), "Description",
                   json_object_get(props, "GroupDescription"));
    PLUMB_ALLOC_CHECK(in);
    if ((v = json_object_get(props, "VpcId")))
        json_object_set(in, "VpcId", v);
    if ((specs = plumb_ec2__tag_specifications(props, "security-group")))
        json_object_set_new(in, "TagSpecifications", specs);
    PLUMB_TRY(plumb_aws_call(aws, "ec2", "CreateSecurityGroup", in, &out));
    group_id = json_string_value(json_object_get(out, "GroupId"));
    if (!group_id) {
        error = plumb_error_set(PLUMB_ERROR, "ec2 CreateSecurityGroup: no GroupId in the response");
        goto done;
    }
    id = json_pack("{s:s}", "Id", group_id);
    PLUMB_ALLOC_CHECK(id);
    /* A new group has no inbound rule, and one outbound rule (allow all) that stays unless
     * egress is declared: only then is there something to read before the rules are made.
     * authorize() retries while the new id is not yet visible. */
    if (json_array_size(json_object_get(props, "SecurityGroupEgress")) &&
        (error = plumb_ec2__read_new(aws, &kind, sg_read, id, &current)) < 0)
        goto undo;
    if ((error = sync_rules(aws, group_id, json_object_get(current, "SecurityGroupIngress"),
                            json_object_get(props, "SecurityGroupIngress"), &ingress)) < 0)
        goto undo;
    if (current) {
        eg = wanted_egress(props);
        if ((error = sync_rules(aws, group_id, json_object_get(current, "SecurityGroupEgress"), eg,
                                &egress)) < 0)
            goto undo;
    }
    if ((error = plumb_ec2__read_new(aws, &kind, sg_read, id, observed)) < 0)
        goto undo;
    goto done;
undo:
    plumb_ec2__undo_create(aws, sg_remove, id, error);
done:
    json_decref(in);
    json_decref(out);
    json_decref(id);
    json_decref(current);
    json_decref(eg);
    free(made);
    return error;
}

/*
 * Against what AWS has now (read first), not `before`: the executor's `before` is what was
 * last applied, which equals `after` when the change to make is a repair of drift. Rules are
 * compared as sets (sync_rules), so an unchanged list costs no call.
 */
static int sg_update(struct plumb_aws *aws, const json_t *id, const json_t *before,
                     const json_t *after, json_t **observed)
{
    const char *group_id = group_id_of(id);
    json_t *current = NULL, *eg = NULL;
    int error = 0;

    (void)before;
    *observed = NULL;
    if (!group_id)
        return plumb_error_set(PLUMB_EINVALID, "security group id lacks Id");
    PLUMB_TRY(sg_read(aws, id, &current));
    if (!current) {
        error = plumb_error_set(PLUMB_ENOTFOUND, "security group '%s' does not exist", group_id);
        goto done;
    }
    PLUMB_TRY(sync_rules(aws, group_id, json_object_get(current, "SecurityGroupIngress"),
                         json_object_get(after, "SecurityGroupIngress"), &ingress));
    eg = wanted_egress(after);
    PLUMB_ALLOC_CHECK(eg);
    PLUMB_TRY(
        sync_rules(aws, group_id, json_object_get(current, "SecurityGroupEgress"), eg, &egress));
    if (plumb_provider_changed(current, after, "Tags"))
        PLUMB_TRY(plumb_ec2__sync_tags(aws, group_id, current, after));
    PLUMB_TRY(sg_read(aws, id, observed));
    if (!*observed)
        error = plumb_error_set(PLUMB_ENOTFOUND, "security group '%s' does not exist", group_id);
done:
    json_decref(current);
    json_decref(eg);
    return error;
}

/* The permissions of `perms` that name `group_id` as peer, narrowed to that peer. */
static json_t *permissions_naming(const json_t *perms, const char *group_id)
{
    json_t *out = json_array(), *perm, *pair, *p;
    size_t i, j;

    json_array_foreach(perms, i, perm)
    {
        json_array_foreach(json_object_get(perm, "UserIdGroupPairs"), j, pair)
        {
            const char *g = json_string_value(json_object_get(pair, "GroupId"));
            if (!g || strcmp(g, group_id) != 0)
                continue;
            p = json_pack("{s:O, s:[{s:s}]}", "IpProtocol", json_object_get(perm, "IpProtocol"),
                          "UserIdGroupPairs", "GroupId", group_id);
            if (json_object_get(perm, "FromPort"))
                json_object_set(p, "FromPort", json_object_get(perm, "FromPort"));
            if (json_object_get(perm, "ToPort"))
                json_object_set(p, "ToPort", json_object_get(perm, "ToPort"));
            json_array_append_new(out, p);
        }
    }
    return out;
}

/* Revokes the rules of other groups that reference `group_id`, in one direction. */
static int revoke_references(struct plumb_aws *aws, const char *group_id, const struct direction *d)
{
    json_t *filters, *groups = NULL, *g, *perms = NULL;
    size_t i;
    int error = 0;

    filters = json_pack("[{s:s, s:[s]}]", "Name",
                        d->egress ? "egress.ip-permission.group-id" : "ip-permission.group-id",
                        "Values", group_id);
    PLUMB_ALLOC_CHECK(filters);
    PLUMB_TRY(describe_groups(aws, filters, &groups));
    json_array_foreach(groups, i, g)
    {
        const char *other = json_string_value(json_object_get(g, "GroupId"));
        if (!other || strcmp(other, group_id) == 0)
            continue; /* its own rules go with it */
        perms = permissions_naming(json_object_get(g, d->permissions), group_id);
        PLUMB_ALLOC_CHECK(perms);
        if (json_array_size(perms))
            PLUMB_TRY(revoke(aws, d, other, perms));
        json_decref(perms);
        perms = NULL;
    }
done:
    json_decref(filters);
    json_decref(groups);
    json_decref(perms);
    return error;
}

static int sg_remove(struct plumb_aws *aws, const json_t *id, unsigned flags)
{
    const char *group_id = group_id_of(id);
    int error = 0;

    (void)flags;
    if (!group_id)
        return plumb_error_set(PLUMB_EINVALID, "security group id lacks Id");
    /* AWS refuses to delete a group other groups' rules name */
    PLUMB_TRY(revoke_references(aws, group_id, &ingress));
    PLUMB_TRY(revoke_references(aws, group_id, &egress));
    error = plumb_ec2__delete(aws, &kind, group_id);
done:
    return error;
}

/* Declared rules in read's form; a rule holding a value known only after apply stays as it
 * is (it cannot be compared yet). */
static json_t *normalize_rules(const json_t *rules, const struct direction *d)
{
    json_t *out = json_array(), *r;
    size_t i;

    json_array_foreach(rules, i, r)
    {
        if (json_is_object(r) && !plumb_value_has_unknown(r))
            json_array_append_new(out, normalize_rule(r, d));
        else
            json_array_append(out, r);
    }
    return out;
}

/*
 * For the planner: rules as read reports them ("17" is "udp", "-1" has no ports, an empty
 * description is none), and an empty SecurityGroupEgress as what it means, allow-all.
 */
static json_t *sg_normalize(const json_t *props)
{
    json_t *out = json_deep_copy(props), *v;

    if (!out)
        return NULL;
    if (json_is_array(v = json_object_get(out, "SecurityGroupIngress")))
        json_object_set_new(out, "SecurityGroupIngress", normalize_rules(v, &ingress));
    if (json_is_array(v = json_object_get(out, "SecurityGroupEgress")))
        json_object_set_new(out, "SecurityGroupEgress",
                            json_array_size(v) ? normalize_rules(v, &egress) : wanted_egress(out));
    return out;
}

const struct plumb_resource_type plumb_driver_ec2_securitygroup = {
    .type_name = "AWS::EC2::SecurityGroup",
    .read = sg_read,
    .read_many = sg_read_many,
    .lookup = sg_lookup,
    .create = sg_create,
    .update = sg_update,
    .remove = sg_remove,
    .normalize = sg_normalize,
    .found_by_tags = 1,
};
