/*
 * The json protocol (1.0 and 1.1): ECR, ECS, Logs, Secrets Manager, DynamoDB, App Runner,
 * the tagging API. POST / with the operation in X-Amz-Target and the input as a JSON body;
 * the output comes back the same way. Timestamps travel as epoch seconds.
 */
#include "aws/protocol.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/error.h"

/* Wire name of a structure member: its locationName when the model gives one. */
static const char *wire_name(const json_t *ref, const json_t *shape, const char *name)
{
    const char *n = plumb_aws_protocol__trait_str(ref, shape, "locationName");

    return n ? n : name;
}

static int to_wire(json_t **out, const struct plumb_aws_service *svc, const json_t *ref,
                   const json_t *shape, const json_t *value)
{
    const char *type = plumb_aws_protocol__type(shape), *key, *fmt;
    struct plumb_buf text = PLUMB_BUF_INIT;
    const json_t *item, *mref, *mshape;
    json_t *acc = NULL, *conv = NULL;
    int error = 0;
    size_t i;

    *out = NULL;
    if (json_is_true(json_object_get(shape, "document"))) {
        /* Documents are free-form JSON, sent as given. */
        acc = json_incref((json_t *)value);
    } else if (strcmp(type, "structure") == 0) {
        acc = json_object();
        PLUMB_ALLOC_CHECK(acc);
        json_object_foreach((json_t *)value, key, item)
        {
            if (json_is_null(item))
                continue;
            mref = json_object_get(json_object_get(shape, "members"), key);
            mshape = plumb_aws_model_ref_shape(svc, mref);
            PLUMB_TRY(to_wire(&conv, svc, mref, mshape, item));
            if (json_object_set_new(acc, wire_name(mref, mshape, key), conv) < 0)
                error = plumb_error_oom();
            conv = NULL;
            if (error < 0)
                goto done;
        }
    } else if (strcmp(type, "list") == 0 || strcmp(type, "map") == 0) {
        int is_list = strcmp(type, "list") == 0;
        mref = json_object_get(shape, is_list ? "member" : "value");
        mshape = plumb_aws_model_ref_shape(svc, mref);
        acc = is_list ? json_array() : json_object();
        PLUMB_ALLOC_CHECK(acc);
        if (is_list) {
            json_array_foreach(value, i, item)
            {
                PLUMB_TRY(to_wire(&conv, svc, mref, mshape, item));
                error = json_array_append_new(acc, conv) < 0 ? plumb_error_oom() : 0;
                conv = NULL;
                if (error < 0)
                    goto done;
            }
        } else {
            json_object_foreach((json_t *)value, key, item)
            {
                PLUMB_TRY(to_wire(&conv, svc, mref, mshape, item));
                error = json_object_set_new(acc, key, conv) < 0 ? plumb_error_oom() : 0;
                conv = NULL;
                if (error < 0)
                    goto done;
            }
        }
    } else if (strcmp(type, "timestamp") == 0) {
        fmt = plumb_aws_protocol__trait_str(ref, shape, "timestampFormat");
        if (!fmt || strcasecmp(fmt, "unixTimestamp") == 0) {
            acc = json_integer((json_int_t)plumb_aws_protocol__input_time(value));
        } else {
            PLUMB_TRY(
                plumb_aws_protocol__put_time(&text, plumb_aws_protocol__input_time(value), fmt));
            acc = json_stringn(plumb_buf_cstr(&text), text.len);
        }
        PLUMB_ALLOC_CHECK(acc);
    } else {
        /* Strings, numbers, booleans and blobs (already base64) go as they are. */
        acc = json_incref((json_t *)value);
    }
    *out = acc;
    acc = NULL;
done:
    plumb_buf_release(&text);
    json_decref(acc);
    return error;
}

static int put_json_chunk(const char *data, size_t n, void *buf)
{
    return plumb_buf_put(buf, data, n);
}

static int json_build(struct plumb_http_request *req, const struct plumb_aws_service *svc,
                      const json_t *op, const json_t *input_shape, const json_t *input)
{
    const char *method = json_string_value(json_object_get(json_object_get(op, "http"), "method"));
    struct plumb_buf hv = PLUMB_BUF_INIT;
    json_t *body = NULL;
    int error = 0;

    if (input_shape)
        PLUMB_TRY(to_wire(&body, svc, NULL, input_shape, input));
    else
        body = json_object();
    PLUMB_ALLOC_CHECK(body);
    plumb_buf_clear(&req->body);
    /* Even "{}" when there is no input: the services want a JSON document. */
    if (json_dump_callback(body, put_json_chunk, &req->body, JSON_COMPACT) < 0) {
        error = plumb_error_oom();
        goto done;
    }
    req->method = method ? method : "POST";
    free(req->path);
    req->path = strdup("/");
    PLUMB_ALLOC_CHECK(req->path);
    PLUMB_TRY(plumb_buf_printf(&hv, "application/x-amz-json-%s",
                               svc->json_version ? svc->json_version : "1.0"));
    PLUMB_TRY(plumb_kvlist_set(&req->headers, "Content-Type", hv.ptr));
    plumb_buf_clear(&hv);
    PLUMB_TRY(plumb_buf_printf(&hv, "%s.%s", svc->target_prefix ? svc->target_prefix : "",
                               json_string_value(json_object_get(op, "name"))));
    PLUMB_TRY(plumb_kvlist_set(&req->headers, "X-Amz-Target", hv.ptr));
done:
    plumb_buf_release(&hv);
    json_decref(body);
    return error;
}

static int wrong_type(const struct plumb_buf *path, const char *what)
{
    return plumb_error_set(PLUMB_ERROR, "response value '%s' is not %s",
                           path->len ? path->ptr : "(body)", what);
}

static int from_wire(json_t **out, const struct plumb_aws_service *svc, const json_t *shape,
                     const json_t *value, struct plumb_buf *path)
{
    const char *type = plumb_aws_protocol__type(shape), *key;
    const json_t *item, *ref, *mshape;
    json_t *acc = NULL, *conv = NULL;
    size_t mark = path->len, i;
    int error = 0;

    *out = NULL;
    if (json_is_true(json_object_get(shape, "document"))) {
        acc = json_incref((json_t *)value);
    } else if (strcmp(type, "structure") == 0) {
        if (!json_is_object(value)) {
            error = wrong_type(path, "an object");
            goto done;
        }
        acc = json_object();
        PLUMB_ALLOC_CHECK(acc);
        json_object_foreach((json_t *)json_object_get(shape, "members"), key, ref)
        {
            mshape = plumb_aws_model_ref_shape(svc, ref);
            item = json_object_get(value, wire_name(ref, mshape, key));
            if (!item || json_is_null(item))
                continue;
            plumb_aws_protocol__path_push(path, key);
            PLUMB_TRY(from_wire(&conv, svc, mshape, item, path));
            plumb_aws_protocol__path_pop(path, mark);
            error = json_object_set_new(acc, key, conv) < 0 ? plumb_error_oom() : 0;
            conv = NULL;
            if (error < 0)
                goto done;
        }
    } else if (strcmp(type, "list") == 0) {
        if (!json_is_array(value)) {
            error = wrong_type(path, "an array");
            goto done;
        }
        mshape = plumb_aws_model_ref_shape(svc, json_object_get(shape, "member"));
        acc = json_array();
        PLUMB_ALLOC_CHECK(acc);
        json_array_foreach(value, i, item)
        {
            plumb_buf_printf(path, "[%zu]", i);
            /* Sparse lists keep their nulls, as botocore does. */
            if (json_is_null(item))
                conv = json_null();
            else
                PLUMB_TRY(from_wire(&conv, svc, mshape, item, path));
            plumb_aws_protocol__path_pop(path, mark);
            error = json_array_append_new(acc, conv) < 0 ? plumb_error_oom() : 0;
            conv = NULL;
            if (error < 0)
                goto done;
        }
    } else if (strcmp(type, "map") == 0) {
        if (!json_is_object(value)) {
            error = wrong_type(path, "an object");
            goto done;
        }
        mshape = plumb_aws_model_ref_shape(svc, json_object_get(shape, "value"));
        acc = json_object();
        PLUMB_ALLOC_CHECK(acc);
        json_object_foreach((json_t *)value, key, item)
        {
            plumb_aws_protocol__path_push(path, key);
            if (json_is_null(item))
                conv = json_null();
            else
                PLUMB_TRY(from_wire(&conv, svc, mshape, item, path));
            plumb_aws_protocol__path_pop(path, mark);
            error = json_object_set_new(acc, key, conv) < 0 ? plumb_error_oom() : 0;
            conv = NULL;
            if (error < 0)
                goto done;
        }
    } else if (strcmp(type, "integer") == 0 || strcmp(type, "long") == 0) {
        double d = json_number_value(value);
        if (json_is_integer(value))
            acc = json_incref((json_t *)value);
        else if (json_is_real(value) && d < 9.2e18 && d > -9.2e18 && (double)(json_int_t)d == d)
            acc = json_integer((json_int_t)d);
        else
            error = wrong_type(path, "an integer");
    } else if (strcmp(type, "float") == 0 || strcmp(type, "double") == 0) {
        if (json_is_number(value))
            acc = json_real(json_number_value(value));
        else
            error = wrong_type(path, "a number");
    } else if (strcmp(type, "boolean") == 0) {
        if (json_is_boolean(value))
            acc = json_incref((json_t *)value);
        else
            error = wrong_type(path, "a boolean");
    } else if (strcmp(type, "timestamp") == 0) {
        acc = plumb_aws_protocol__output_time(value);
        if (!acc)
            error = wrong_type(path, "a timestamp");
    } else if (json_is_string(value)) {
        acc = json_incref((json_t *)value);
    } else {
        error = wrong_type(path, "a string");
    }
    if (error < 0)
        goto done;
    PLUMB_ALLOC_CHECK(acc);
    *out = acc;
    acc = NULL;
done:
    plumb_aws_protocol__path_pop(path, mark);
    json_decref(acc);
    return error;
}

static int json_parse(json_t **out, const struct plumb_aws_service *svc, const json_t *op,
                      const json_t *output_shape, const struct plumb_http_response *resp)
{
    struct plumb_buf path = PLUMB_BUF_INIT;
    json_t *body = NULL;
    json_error_t jerr;
    int error = 0;

    *out = NULL;
    if (!output_shape) {
        *out = json_object();
        PLUMB_ALLOC_CHECK(*out);
        goto done;
    }
    /* An empty body is an empty output, as in botocore. */
    body = resp->body.len ? json_loadb(resp->body.ptr, resp->body.len, 0, &jerr) : json_object();
    if (!body) {
        error = plumb_error_set(PLUMB_ERROR, "malformed JSON at line %d, column %d: %s", jerr.line,
                                jerr.column, jerr.text);
        goto done;
    }
    PLUMB_TRY(from_wire(out, svc, output_shape, body, &path));
done:
    plumb_buf_release(&path);
    json_decref(body);
    return error;
}

/* "aws.protocoltests#FooError:http://internal/" → "FooError", as botocore cuts it. */
static void set_code(struct plumb_aws_error_info *out, const char *code)
{
    const char *hash;
    size_t len = strcspn(code, ":");

    hash = memrchr(code, '#', len);
    if (hash) {
        len -= (size_t)(hash + 1 - code);
        code = hash + 1;
    }
    plumb_aws_protocol__copy(out->code, sizeof(out->code), code, len);
}

static void json_parse_error(struct plumb_aws_error_info *out, const struct plumb_aws_service *svc,
                             const struct plumb_http_response *resp)
{
    const char *code = NULL, *msg = NULL, *rid = NULL;
    json_t *body = NULL;

    if (resp->body.len)
        body = json_loadb(resp->body.ptr, resp->body.len, 0, NULL);
    if (resp->body.len && !json_is_object(body)) {
        /* Not JSON (a proxy's page, say): the text is the best message there is. */
        plumb_aws_protocol__copy(out->message, sizeof(out->message), resp->body.ptr,
                                 resp->body.len);
    } else if (body) {
        code = json_string_value(json_object_get(body, "__type"));
        if (!code)
            code = json_string_value(json_object_get(body, "code"));
        msg = json_string_value(json_object_get(body, "message"));
        if (!msg)
            msg = json_string_value(json_object_get(body, "Message"));
        if (!msg)
            msg = json_string_value(json_object_get(body, "errorMessage"));
        rid = json_string_value(json_object_get(body, "RequestId"));
    }
    if (!code)
        code = plumb_kvlist_get(&resp->headers, "X-Amzn-ErrorType");
    if (code)
        set_code(out, code);
    if (msg)
        plumb_aws_protocol__copy(out->message, sizeof(out->message), msg, strlen(msg));
    if (rid)
        plumb_aws_protocol__copy(out->request_id, sizeof(out->request_id), rid, strlen(rid));
    json_decref(body);
}

const struct plumb_aws_protocol__impl plumb_aws_protocol__json = {
    json_build,
    json_parse,
    json_parse_error,
};
