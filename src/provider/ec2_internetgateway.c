/*
 * AWS::EC2::InternetGateway — internet gateways.
 *
 * AWS names gateways (InternetGatewayId): an interrupted apply finds the one it made by its
 * plumb:* tags, attached by CreateInternetGateway itself (TagSpecifications). Tags are the
 * only property; they change with CreateTags / DeleteTags.
 *
 * The type has no VPC property: CloudFormation attaches a gateway with
 * AWS::EC2::VPCGatewayAttachment, which plumb does not support yet. A gateway attached by
 * other means is still removable: remove detaches it from every VPC first, as AWS requires.
 */
#include <stdlib.h>
#include <string.h>

#include "provider/ec2_common.h"
#include "provider/provider.h"
#include "provider/util.h"
#include "util/error.h"
#include "util/sys.h"

/* One DescribeInternetGateways entry → the CloudFormation shape. */
static json_t *observe(const json_t *gateway)
{
    json_t *o = json_object(), *tags;

    if (!o)
        return NULL;
    json_object_set(o, "InternetGatewayId", json_object_get(gateway, "InternetGatewayId"));
    tags = plumb_provider_tags_to_map(json_object_get(gateway, "Tags"));
    json_object_set_new(o, "Tags", plumb_provider_tags_to_list(tags, "Key", "Value"));
    json_decref(tags);
    return o;
}

static const struct plumb_ec2_kind kind = {
    .what = "internet gateway",
    .id_keys = {"InternetGatewayId", NULL},
    .describe = "DescribeInternetGateways",
    .list = "InternetGateways",
    .item_id = "InternetGatewayId",
    .id_filter = "internet-gateway-id",
    .delete = "DeleteInternetGateway",
    .observe = observe,
};

static int igw_read(struct plumb_aws *aws, const json_t *id, json_t **observed)
{
    return plumb_ec2__read(aws, &kind, id, observed);
}

/* One DescribeInternetGateways per chunk of ids, by filter. */
static int igw_read_many(struct plumb_aws *aws, const json_t *ids, const json_t *wanted,
                         json_t **observed)
{
    (void)wanted;
    return plumb_ec2__read_many(aws, &kind, ids, observed);
}

/* By plumb:* tags: a gateway has no other property to tell two apart. */
static int igw_lookup(struct plumb_aws *aws, const json_t *props, json_t **id)
{
    json_t *filters = plumb_ec2__plumb_tag_filters(props), *gateways = NULL;
    int error = 0;

    *id = NULL;
    if (!filters)
        return 0;
    PLUMB_TRY(plumb_ec2__describe(aws, kind.describe, kind.list, filters, &gateways));
    if (json_array_size(gateways) > 1) {
        error = plumb_error_set(
            PLUMB_ECONFLICT,
            "%zu internet gateways carry the same plumb tags: '%s' and '%s'; delete the one "
            "not in use",
            json_array_size(gateways),
            json_string_value(json_object_get(json_array_get(gateways, 0), "InternetGatewayId")),
            json_string_value(json_object_get(json_array_get(gateways, 1), "InternetGatewayId")));
        goto done;
    }
    if (json_array_size(gateways) == 1)
        *id = json_pack("{s:O}", "InternetGatewayId",
                        json_object_get(json_array_get(gateways, 0), "InternetGatewayId"));
done:
    json_decref(filters);
    json_decref(gateways);
    return error;
}

static int igw_create(struct plumb_aws *aws, const json_t *props, json_t **observed)
{
    json_t *in = json_object(), *out = NULL, *id = NULL, *specs;
    const char *gateway_id;
    int error = 0;

    *observed = NULL;
    PLUMB_ALLOC_CHECK(in);
    if ((specs = plumb_ec2__tag_specifications(props, "internet-gateway")))
        json_object_set_new(in, "TagSpecifications", specs);
    PLUMB_TRY(plumb_aws_call(aws, "ec2", "CreateInternetGateway", in, &out));
    gateway_id = json_string_value(
        json_object_get(json_object_get(out, "InternetGateway"), "InternetGatewayId"));
    if (!gateway_id) {
        error = plumb_error_set(PLUMB_ERROR,
                                "ec2 CreateInternetGateway: no InternetGatewayId in the response");
        goto done;
    }
    id = json_pack("{s:s}", "InternetGatewayId", gateway_id);
    PLUMB_ALLOC_CHECK(id);
    error = plumb_ec2__read_new(aws, &kind, igw_read, id, observed);
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
static int igw_update(struct plumb_aws *aws, const json_t *id, const json_t *before,
                      const json_t *after, json_t **observed)
{
    const char *gateway_id = plumb_provider_id_str(id, "InternetGatewayId");
    json_t *current = NULL;
    int error = 0;

    (void)before;
    *observed = NULL;
    if (!gateway_id)
        return plumb_error_set(PLUMB_EINVALID, "internet gateway id lacks InternetGatewayId");
    PLUMB_TRY(igw_read(aws, id, &current));
    if (!current) {
        error =
            plumb_error_set(PLUMB_ENOTFOUND, "internet gateway '%s' does not exist", gateway_id);
        goto done;
    }
    if (plumb_provider_changed(current, after, "Tags"))
        PLUMB_TRY(plumb_ec2__sync_tags(aws, gateway_id, current, after));
    PLUMB_TRY(igw_read(aws, id, observed));
    if (!*observed)
        error =
            plumb_error_set(PLUMB_ENOTFOUND, "internet gateway '%s' does not exist", gateway_id);
done:
    json_decref(current);
    return error;
}

/* AWS refuses to delete an attached gateway: detach it from every VPC first. */
static int igw_remove(struct plumb_aws *aws, const json_t *id, unsigned flags)
{
    const char *gateway_id = plumb_provider_id_str(id, "InternetGatewayId");
    json_t *g = NULL, *in = NULL, *out = NULL, *a;
    size_t i;
    int error = 0;

    (void)flags;
    if (!gateway_id)
        return plumb_error_set(PLUMB_EINVALID, "internet gateway id lacks InternetGatewayId");
    PLUMB_TRY(plumb_ec2__describe_one(aws, &kind, gateway_id, &g));
    if (!g)
        goto done; /* gone already */
    json_array_foreach(json_object_get(g, "Attachments"), i, a)
    {
        const char *vpc = json_string_value(json_object_get(a, "VpcId"));
        if (!vpc)
            continue;
        in = json_pack("{s:s, s:s}", "InternetGatewayId", gateway_id, "VpcId", vpc);
        PLUMB_ALLOC_CHECK(in);
        /* a DependencyViolation outlives its cause: detaching fails while public addresses
         * of deleted instances or tasks are still mapped in the VPC */
        error = plumb_ec2__call_retrying(aws, "DetachInternetGateway", in, &out,
                                         "DependencyViolation", PLUMB_EC2_DEPENDENCY_ATTEMPTS);
        /* detached (or the VPC deleted) meanwhile: what we wanted */
        if (error < 0 &&
            (error == PLUMB_ENOTFOUND || plumb_provider_last_code_is("Gateway.NotAttached")))
            error = 0;
        PLUMB_TRY(error);
        json_decref(in);
        json_decref(out);
        in = out = NULL;
    }
    error = plumb_ec2__delete(aws, &kind, gateway_id);
done:
    json_decref(g);
    json_decref(in);
    json_decref(out);
    return error;
}

const struct plumb_resource_type plumb_driver_ec2_internetgateway = {
    .type_name = "AWS::EC2::InternetGateway",
    .read = igw_read,
    .read_many = igw_read_many,
    .lookup = igw_lookup,
    .create = igw_create,
    .update = igw_update,
    .remove = igw_remove,
};
