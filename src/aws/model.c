#include "aws/model.h"

#include <ctype.h>
#include <pthread.h>
#include <string.h>

#include "util/buf.h"
#include "util/embedded.h"
#include "util/error.h"

static const char *const service_keys[] = {
    "sts",
    "iam",
    "ecr",
    "ecs",
    "elbv2",
    "rds",
    "s3",
    "ec2",
    "secretsmanager",
    "logs",
    "apprunner",
    "dynamodb",
    "resourcegroupstaggingapi",
    NULL,
};

#define NSERVICES (sizeof(service_keys) / sizeof(service_keys[0]) - 1)

static struct plumb_aws_service services[NSERVICES];
static json_t *documents[NSERVICES];
static int load_result = 1; /* 1: not loaded yet */
static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static char load_message[256];

static const char *meta_str(const json_t *meta, const char *key)
{
    return json_string_value(json_object_get(meta, key));
}

static int load_one(size_t i)
{
    struct plumb_aws_service *svc = &services[i];
    const struct plumb_embedded *e;
    const json_t *meta;
    const char *proto, *s;
    json_error_t jerr;
    char name[64];
    size_t j = 0;

    snprintf(name, sizeof(name), "%s.json", service_keys[i]);
    e = plumb_embedded_find(plumb_embedded_aws_models, name);
    if (!e) {
        snprintf(load_message, sizeof(load_message), "no embedded model '%s'", name);
        return -1;
    }
    documents[i] = json_loadb((const char *)e->data, e->len, 0, &jerr);
    if (!documents[i]) {
        snprintf(load_message, sizeof(load_message), "embedded model '%s': %s", name, jerr.text);
        return -1;
    }
    meta = json_object_get(documents[i], "metadata");
    svc->key = service_keys[i];
    svc->service_id = meta_str(meta, "serviceId");
    svc->api_version = meta_str(meta, "apiVersion");
    svc->endpoint_prefix = meta_str(meta, "endpointPrefix");
    svc->signing_name = meta_str(meta, "signingName");
    if (!svc->signing_name)
        svc->signing_name = svc->endpoint_prefix;
    svc->target_prefix = meta_str(meta, "targetPrefix");
    svc->json_version = meta_str(meta, "jsonVersion");
    svc->global_endpoint = meta_str(meta, "globalEndpoint");
    svc->xml_namespace = meta_str(meta, "xmlNamespace");
    svc->operations = json_object_get(documents[i], "operations");
    svc->shapes = json_object_get(documents[i], "shapes");
    svc->paginators = json_object_get(documents[i], "paginators");
    proto = meta_str(meta, "protocol");
    if (!proto || !svc->service_id || !svc->endpoint_prefix || !svc->operations || !svc->shapes) {
        snprintf(load_message, sizeof(load_message), "embedded model '%s' is incomplete", name);
        return -1;
    }
    if (strcmp(proto, "json") == 0)
        svc->protocol = PLUMB_AWS_PROTO_JSON;
    else if (strcmp(proto, "query") == 0)
        svc->protocol = PLUMB_AWS_PROTO_QUERY;
    else if (strcmp(proto, "ec2") == 0)
        svc->protocol = PLUMB_AWS_PROTO_EC2;
    else if (strcmp(proto, "rest-xml") == 0)
        svc->protocol = PLUMB_AWS_PROTO_REST_XML;
    else {
        snprintf(load_message, sizeof(load_message), "model '%s': unsupported protocol '%s'", name,
                 proto);
        return -1;
    }
    /* The SDKs' rule for AWS_ENDPOINT_URL_<SERVICE>: serviceId, spaces to underscores,
     * upper-cased ("Elastic Load Balancing v2" → ELASTIC_LOAD_BALANCING_V2). */
    for (s = svc->service_id; *s && j + 1 < sizeof(svc->env_name); s++)
        svc->env_name[j++] = (*s == ' ' || *s == '-') ? '_' : (char)toupper((unsigned char)*s);
    svc->env_name[j] = '\0';
    return 0;
}

static void load_all(void)
{
    size_t i;

    for (i = 0; i < NSERVICES; i++)
        if (load_one(i) < 0) {
            load_result = -1;
            return;
        }
    load_result = 0;
}

static int ensure_loaded(void)
{
    pthread_once(&load_once, load_all);
    if (load_result < 0)
        return plumb_error_set(PLUMB_ERROR, "%s", load_message);
    return 0;
}

int plumb_aws_model_service(const struct plumb_aws_service **out, const char *key)
{
    size_t i;

    *out = NULL;
    if (ensure_loaded() < 0)
        return -1;
    for (i = 0; i < NSERVICES; i++)
        if (strcmp(service_keys[i], key) == 0) {
            *out = &services[i];
            return 0;
        }
    return plumb_error_set(PLUMB_ENOTFOUND, "unknown AWS service '%s'", key);
}

const struct plumb_aws_service *plumb_aws_model_by_env_name(const char *env_name)
{
    size_t i;

    if (ensure_loaded() < 0)
        return NULL;
    for (i = 0; i < NSERVICES; i++)
        if (strcmp(services[i].env_name, env_name) == 0)
            return &services[i];
    return NULL;
}

const char *const *plumb_aws_model_service_keys(void)
{
    return service_keys;
}

const json_t *plumb_aws_model_operation(const struct plumb_aws_service *svc, const char *name)
{
    return json_object_get(svc->operations, name);
}

const json_t *plumb_aws_model_shape(const struct plumb_aws_service *svc, const char *name)
{
    return name ? json_object_get(svc->shapes, name) : NULL;
}

const json_t *plumb_aws_model_paginator(const struct plumb_aws_service *svc, const char *name)
{
    return json_object_get(svc->paginators, name);
}

const json_t *plumb_aws_model_ref_shape(const struct plumb_aws_service *svc, const json_t *ref)
{
    return plumb_aws_model_shape(svc, json_string_value(json_object_get(ref, "shape")));
}
