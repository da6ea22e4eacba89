/*
 * AWS::EC2::Subnet — subnets of a VPC.
 *
 * AWS names subnets (SubnetId): an interrupted apply finds the one it made by its plumb:*
 * tags, attached by CreateSubnet itself (TagSpecifications), together with the create-only
 * VpcId and CidrBlock, which a replacement's predecessor does not share. MapPublicIpOnLaunch
 * is the one setting that changes in place (ModifySubnetAttribute). DescribeSubnets returns
 * everything read needs, so read_many is one call per chunk of ids, by a subnet-id filter
 * (SubnetIds would fail the whole call for one unknown id).
 *
 * DeleteSubnet fails with DependencyViolation while network interfaces remain in the subnet;
 * those of deleted load balancers and Fargate tasks linger after their owner is gone, so
 * remove retries that error for a while.
 *
 * Not reported: NetworkAclAssociationId (DescribeNetworkAcls is not in the embedded EC2
 * model).
 */
#include <stdlib.h>
#include <string.h>

#include "provider/ec2_common.h"
#include "provider/provider.h"
#include "provider/util.h"
#include "util/error.h"
#include "util/sys.h"

/* Filter values per call: AWS takes at most 200, all filters together. */
#define CHUNK 100

/* EC2 is eventually consistent: an id a Create call just returned can be unknown to the
 * next call for a moment; a DependencyViolation can outlive what caused it. */
#define SETTLE_ATTEMPTS     6
#define DEPENDENCY_ATTEMPTS 10

static int describe_subnets(struct plumb_aws *aws, json_t *filters, json_t **subnets)
{
    return plumb_ec2__describe(aws, "DescribeSubnets", "Subnets", filters, subnets);
}

/* One DescribeSubnets entry → the CloudFormation shape. */
static json_t *observe(const json_t *subnet)
{
    static const char *const same[] = {"SubnetId",
                                       "VpcId",
                                       "CidrBlock",
                                       "AvailabilityZone",
                                       "AvailabilityZoneId",
                                       "MapPublicIpOnLaunch",
                                       NULL};
    const char *const *k;
    json_t *o = json_object(), *tags, *v;

    if (!o)
        return NULL;
    for (k = same; *k; k++)
        if ((v = json_object_get(subnet, *k)))
            json_object_set(o, *k, v);
    tags = plumb_provider_tags_to_map(json_object_get(subnet, "Tags"));
    json_object_set_new(o, "Tags", plumb_provider_tags_to_list(tags, "Key", "Value"));
    json_decref(tags);
    return o;
}

static const json_t *find_subnet(const json_t *subnets, const char *subnet_id)
{
    const json_t *s;
    size_t i;

    json_array_foreach(subnets, i, s)
    {
        const char *id = json_string_value(json_object_get(s, "SubnetId"));
        if (id && strcmp(id, subnet_id) == 0)
            return s;
    }
    return NULL;
}

static int subnet_read(struct plumb_aws *aws, const json_t *id, json_t **observed)
{
    const char *subnet_id = plumb_provider_id_str(id, "SubnetId");
    json_t *filters = NULL, *subnets = NULL;
    const json_t *s;
    int error = 0;

    *observed = NULL;
    if (!subnet_id)
        return plumb_error_set(PLUMB_EINVALID, "subnet id lacks SubnetId");
    filters = json_pack("[{s:s, s:[s]}]", "Name", "subnet-id", "Values", subnet_id);
    PLUMB_ALLOC_CHECK(filters);
    PLUMB_TRY(describe_subnets(aws, filters, &subnets));
    if ((s = find_subnet(subnets, subnet_id))) {
        *observed = observe(s);
        PLUMB_ALLOC_CHECK(*observed);
    }
done:
    json_decref(filters);
    json_decref(subnets);
    return error;
}

/* One DescribeSubnets per chunk of ids, by filter. */
static int subnet_read_many(struct plumb_aws *aws, const json_t *ids, const json_t *wanted,
                            json_t **observed)
{
    json_t *result = json_array(), *chunk = NULL, *filters = NULL, *subnets = NULL, *o;
    const json_t *s;
    size_t start, i, n = json_array_size(ids);
    int error = 0;

    *observed = NULL;
    PLUMB_ALLOC_CHECK(result);
    for (start = 0; start < n; start += CHUNK) {
        chunk = json_array();
        PLUMB_ALLOC_CHECK(chunk);
        for (i = start; i < n && i < start + CHUNK; i++) {
            const char *subnet_id = plumb_provider_id_str(json_array_get(ids, i), "SubnetId");
            if (subnet_id)
                json_array_append_new(chunk, json_string(subnet_id));
        }
        if (json_array_size(chunk)) {
            filters = json_pack("[{s:s, s:O}]", "Name", "subnet-id", "Values", chunk);
            PLUMB_ALLOC_CHECK(filters);
            PLUMB_TRY(describe_subnets(aws, filters, &subnets));
        }
        for (i = start; i < n && i < start + CHUNK; i++) {
            const char *subnet_id = plumb_provider_id_str(json_array_get(ids, i), "SubnetId");
            o = NULL;
            if (subnet_id && (s = find_subnet(subnets, subnet_id))) {
                o = observe(s);
                PLUMB_ALLOC_CHECK(o);
            }
            json_array_append_new(result, o ? o : json_null());
        }
        json_decref(chunk);
        json_decref(filters);
        json_decref(subnets);
        chunk = filters = subnets = NULL;
    }
    *observed = result;
    result = NULL;
done:
    json_decref(result);
    json_decref(chunk);
    json_decref(filters);
    json_decref(subnets);
    return error;
}

static void add_filter(json_t *filters, const char *name, const json_t *value)
{
    if (json_is_string(value))
        json_array_append_new(filters,
                              json_pack("{s:s, s:[O]}", "Name", name, "Values", (json_t *)value));
}

/* By plumb:* tags and the create-only VpcId and CidrBlock. */
static int subnet_lookup(struct plumb_aws *aws, const json_t *props, json_t **id)
{
    json_t *filters = plumb_ec2__plumb_tag_filters(props), *subnets = NULL;
    int error = 0;

    *id = NULL;
    if (!filters)
        return 0;
    add_filter(filters, "vpc-id", json_object_get(props, "VpcId"));
    add_filter(filters, "cidr-block", json_object_get(props, "CidrBlock"));
    PLUMB_TRY(describe_subnets(aws, filters, &subnets));
    if (json_array_size(subnets) > 1) {
        error = plumb_error_set(
            PLUMB_ECONFLICT,
            "%zu subnets carry the same plumb tags: '%s' and '%s'; delete the one not in use",
            json_array_size(subnets),
            json_string_value(json_object_get(json_array_get(subnets, 0), "SubnetId")),
            json_string_value(json_object_get(json_array_get(subnets, 1), "SubnetId")));
        goto done;
    }
    if (json_array_size(subnets) == 1)
        *id =
            json_pack("{s:O}", "SubnetId", json_object_get(json_array_get(subnets, 0), "SubnetId"));
done:
    json_decref(filters);
    json_decref(subnets);
    return error;
}

static int set_map_public_ip(struct plumb_aws *aws, const char *subnet_id, int value)
{
    json_t *in, *out = NULL;
    int error;

    in = json_pack("{s:s, s:{s:b}}", "SubnetId", subnet_id, "MapPublicIpOnLaunch", "Value", value);
    if (!in)
        return plumb_error_oom();
    error = plumb_ec2__call_retrying(aws, "ModifySubnetAttribute", in, &out, NULL, SETTLE_ATTEMPTS);
    json_decref(in);
    json_decref(out);
    return error;
}

static int subnet_remove(struct plumb_aws *aws, const json_t *id, unsigned flags);

/* Removes what a failed create made, keeping the error that made it fail. */
static int undo_create(struct plumb_aws *aws, const json_t *id, int error)
{
    const struct plumb_error *e = plumb_error_last();
    char *saved = e && e->message ? strdup(e->message) : NULL;

    subnet_remove(aws, id, 0);
    if (saved)
        plumb_error_set(error, "%s", saved);
    free(saved);
    return error;
}

/* Reads what was just created; a new id can be invisible to describes for a moment. */
static int read_new(struct plumb_aws *aws, const json_t *id, json_t **observed)
{
    long wait_ms = 500;
    int error = 0, i;

    for (i = 1;; i++) {
        PLUMB_TRY(subnet_read(aws, id, observed));
        if (*observed || i >= SETTLE_ATTEMPTS)
            break;
        plumb_sleep_ms(wait_ms);
        wait_ms *= 2;
    }
    if (!*observed)
        error = plumb_error_set(PLUMB_ENOTFOUND, "subnet '%s' does not show after its creation",
                                plumb_provider_id_str(id, "SubnetId"));
done:
    return error;
}

static int subnet_create(struct plumb_aws *aws, const json_t *props, json_t **observed)
{
    static const char *const same[] = {"VpcId", "CidrBlock", "AvailabilityZone",
                                       "AvailabilityZoneId", NULL};
    const char *const *k;
    json_t *in = NULL, *out = NULL, *id = NULL, *specs, *v;
    const char *subnet_id;
    int error = 0;

    *observed = NULL;
    if (!json_is_string(json_object_get(props, "VpcId")) ||
        !json_is_string(json_object_get(props, "CidrBlock")))
        return plumb_error_set(PLUMB_EINVALID, "a subnet needs VpcId and CidrBlock");
    in = json_object();
    PLUMB_ALLOC_CHECK(in);
    for (k = same; *k; k++)
        if ((v = json_object_get(props, *k)))
            json_object_set(in, *k, v);
    if ((specs = plumb_ec2__tag_specifications(props, "subnet")))
        json_object_set_new(in, "TagSpecifications", specs);
    PLUMB_TRY(plumb_aws_call(aws, "ec2", "CreateSubnet", in, &out));
    subnet_id = json_string_value(json_object_get(json_object_get(out, "Subnet"), "SubnetId"));
    if (!subnet_id) {
        error = plumb_error_set(PLUMB_ERROR, "ec2 CreateSubnet: no SubnetId in the response");
        goto done;
    }
    id = json_pack("{s:s}", "SubnetId", subnet_id);
    PLUMB_ALLOC_CHECK(id);
    /* a new subnet maps no public addresses */
    if (json_is_true(json_object_get(props, "MapPublicIpOnLaunch")) &&
        (error = set_map_public_ip(aws, subnet_id, 1)) < 0) {
        undo_create(aws, id, error);
        goto done;
    }
    error = read_new(aws, id, observed);
done:
    json_decref(in);
    json_decref(out);
    json_decref(id);
    return error;
}

/*
 * Against what AWS has now (read first), not `before`: the executor's `before` is what was
 * last applied, which equals `after` when the change to make is a repair of drift.
 */
static int subnet_update(struct plumb_aws *aws, const json_t *id, const json_t *before,
                         const json_t *after, json_t **observed)
{
    const char *subnet_id = plumb_provider_id_str(id, "SubnetId");
    json_t *current = NULL;
    int want;
    int error = 0;

    (void)before;
    *observed = NULL;
    if (!subnet_id)
        return plumb_error_set(PLUMB_EINVALID, "subnet id lacks SubnetId");
    PLUMB_TRY(subnet_read(aws, id, &current));
    if (!current) {
        error = plumb_error_set(PLUMB_ENOTFOUND, "subnet '%s' does not exist", subnet_id);
        goto done;
    }
    /* left out means AWS's default, false */
    want = json_is_true(json_object_get(after, "MapPublicIpOnLaunch"));
    if (json_is_true(json_object_get(current, "MapPublicIpOnLaunch")) != want)
        PLUMB_TRY(set_map_public_ip(aws, subnet_id, want));
    if (plumb_provider_changed(current, after, "Tags"))
        PLUMB_TRY(plumb_ec2__sync_tags(aws, subnet_id, current, after));
    PLUMB_TRY(subnet_read(aws, id, observed));
    if (!*observed)
        error = plumb_error_set(PLUMB_ENOTFOUND, "subnet '%s' does not exist", subnet_id);
done:
    json_decref(current);
    return error;
}

static int subnet_remove(struct plumb_aws *aws, const json_t *id, unsigned flags)
{
    json_t *in = json_pack("{s:s?}", "SubnetId", plumb_provider_id_str(id, "SubnetId"));
    json_t *out = NULL;
    int error;

    (void)flags;
    if (!in)
        return plumb_error_oom();
    error = plumb_ec2__call_retrying(aws, "DeleteSubnet", in, &out, "DependencyViolation",
                                     DEPENDENCY_ATTEMPTS);
    if (error == PLUMB_ENOTFOUND)
        error = 0; /* gone already */
    json_decref(in);
    json_decref(out);
    return error;
}

struct wait_ctx {
    struct plumb_aws *aws;
    const json_t *id;
};

static int check_available(void *ctx, const char **status)
{
    struct wait_ctx *w = ctx;
    json_t *filters, *subnets = NULL;
    const char *state;
    int error;

    filters = json_pack("[{s:s, s:[s?]}]", "Name", "subnet-id", "Values",
                        plumb_provider_id_str(w->id, "SubnetId"));
    if (!filters)
        return plumb_error_oom();
    error = describe_subnets(w->aws, filters, &subnets);
    if (error == 0) {
        state = json_string_value(json_object_get(json_array_get(subnets, 0), "State"));
        *status = json_array_size(subnets) ? "pending" : "creating";
        error = state && strcmp(state, "available") == 0;
    }
    json_decref(filters);
    json_decref(subnets);
    return error;
}

static int subnet_wait_stable(struct plumb_aws *aws, const json_t *id, struct plumb_progress *p)
{
    struct wait_ctx w = {aws, id};

    return plumb_provider_wait(p, 2000, check_available, &w, "subnet to become available");
}

const struct plumb_resource_type plumb_driver_ec2_subnet = {
    .type_name = "AWS::EC2::Subnet",
    .read = subnet_read,
    .read_many = subnet_read_many,
    .lookup = subnet_lookup,
    .create = subnet_create,
    .update = subnet_update,
    .remove = subnet_remove,
    .wait_stable = subnet_wait_stable,
    .waits_only = 1,
    .found_by_tags = 1,
};
