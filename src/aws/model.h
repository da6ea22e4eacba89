/*
 * The AWS API models plumb's client is driven by: botocore's service-2.json trimmed by
 * scripts/gen-aws-models.py and embedded in the binary. Same layout as botocore's files
 * (metadata, operations, shapes), so botocore's documentation of the format applies.
 * Loaded once per service on first use; safe from any thread; never freed before exit.
 */
#ifndef PLUMB_AWS_MODEL_H
#define PLUMB_AWS_MODEL_H

#include <jansson.h>

enum plumb_aws_protocol {
    PLUMB_AWS_PROTO_JSON,
    PLUMB_AWS_PROTO_QUERY,
    PLUMB_AWS_PROTO_EC2,
    PLUMB_AWS_PROTO_REST_XML,
};

struct plumb_aws_service {
    const char *key;        /* botocore directory name: "sts", "elbv2" */
    const char *service_id; /* metadata.serviceId: "Elastic Load Balancing v2" */
    char env_name[64];      /* "ELASTIC_LOAD_BALANCING_V2" for AWS_ENDPOINT_URL_<...> */
    enum plumb_aws_protocol protocol;
    const char *api_version;     /* "2015-12-01" */
    const char *signing_name;    /* "elasticloadbalancing" (endpointPrefix when absent) */
    const char *endpoint_prefix; /* "elasticloadbalancing"; ECR's is "api.ecr" */
    const char *target_prefix;   /* json: X-Amz-Target prefix */
    const char *json_version;    /* json: "1.0" or "1.1" */
    const char *global_endpoint; /* "iam.amazonaws.com" for global services, else NULL */
    const char *xml_namespace;   /* rest-xml: request body namespace, or NULL */
    json_t *operations;          /* object: name → operation */
    json_t *shapes;              /* object: name → shape */
    json_t *paginators;          /* object: operation → botocore paginator config */
};

/* The service `key` ("sts"); PLUMB_ENOTFOUND for a service plumb carries no model of. */
int plumb_aws_model_service(const struct plumb_aws_service **out, const char *key);
/* The service whose AWS_ENDPOINT_URL_<NAME> suffix is `env_name`, or NULL. */
const struct plumb_aws_service *plumb_aws_model_by_env_name(const char *env_name);
/* Every service plumb carries, in a stable order, ending with NULL. */
const char *const *plumb_aws_model_service_keys(void);

/* The operation `name` of `svc`, or NULL. */
const json_t *plumb_aws_model_operation(const struct plumb_aws_service *svc, const char *name);
/* The shape `name` of `svc`, or NULL. */
const json_t *plumb_aws_model_shape(const struct plumb_aws_service *svc, const char *name);
/* The paginator of operation `name` ({input_token, output_token, result_key, ...}), or NULL. */
const json_t *plumb_aws_model_paginator(const struct plumb_aws_service *svc, const char *name);
/* The shape a member/list member/map key reference ({"shape": "X", ...}) points to. */
const json_t *plumb_aws_model_ref_shape(const struct plumb_aws_service *svc, const json_t *ref);

#endif
