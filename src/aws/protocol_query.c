/*
 * The query protocol (IAM, STS, ELBv2, RDS) and its ec2 variant. Requests are form POSTs to /
 * with Action, Version and the input flattened into dotted names; responses are XML.
 * The two differ only in naming (botocore's QuerySerializer and EC2Serializer):
 *   query: lists are Name.member.N (or Name.N when flattened; the member's locationName
 *          replaces "member"), an empty list is sent as "Name=", and the output sits in
 *          <OpResponse><OpResult> (the model's resultWrapper);
 *   ec2:   lists are always Name.N and an empty one sends nothing, names come from queryName
 *          or the capitalised locationName, and the output is the response element itself.
 */
#include "aws/protocol.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "aws/xml.h"
#include "util/error.h"
#include "util/kv.h"

struct form {
    const struct plumb_aws_service *svc;
    int ec2;
    struct plumb_kvlist params;
    struct plumb_buf name; /* the dotted name being built */
};

/* The name a member (or list member, map key or value) is sent under. */
static int put_name(struct form *f, const json_t *ref, const json_t *shape, const char *dflt)
{
    const char *n;
    int error = 0;

    if (f->ec2) {
        n = plumb_aws_protocol__trait_str(ref, shape, "queryName");
        if (!n && (n = plumb_aws_protocol__trait_str(ref, shape, "locationName"))) {
            /* ec2 capitalises locationName on input ("groupId" → "GroupId"). */
            PLUMB_TRY(plumb_buf_putc(&f->name, (char)toupper((unsigned char)n[0])));
            if (n[0])
                PLUMB_TRY(plumb_buf_puts(&f->name, n + 1));
            goto done;
        }
    } else {
        n = plumb_aws_protocol__trait_str(ref, shape, "locationName");
    }
    PLUMB_TRY(plumb_buf_puts(&f->name, n ? n : dflt));
done:
    return error;
}

static void name_cut(struct form *f, size_t len)
{
    plumb_aws_protocol__path_pop(&f->name, len);
}

static int add_param(struct form *f, const json_t *ref, const json_t *shape, const json_t *value)
{
    struct plumb_buf text = PLUMB_BUF_INIT;
    int error = 0;

    PLUMB_TRY(plumb_aws_protocol__put_scalar(&text, ref, shape, value, "iso8601"));
    PLUMB_TRY(
        plumb_kvlist_addn(&f->params, f->name.ptr, f->name.len, plumb_buf_cstr(&text), text.len));
done:
    plumb_buf_release(&text);
    return error;
}

static int flatten(struct form *f, const json_t *ref, const json_t *shape, const json_t *value);

static int flatten_structure(struct form *f, const json_t *shape, const json_t *value)
{
    const json_t *members = json_object_get(shape, "members"), *mref, *mshape, *item;
    size_t mark = f->name.len;
    const char *key;
    int error = 0;

    json_object_foreach((json_t *)value, key, item)
    {
        if (json_is_null(item))
            continue;
        mref = json_object_get(members, key);
        mshape = plumb_aws_model_ref_shape(f->svc, mref);
        if (f->name.len)
            PLUMB_TRY(plumb_buf_putc(&f->name, '.'));
        PLUMB_TRY(put_name(f, mref, mshape, key));
        PLUMB_TRY(flatten(f, mref, mshape, item));
        name_cut(f, mark);
    }
done:
    name_cut(f, mark);
    return error;
}

static int flatten_list(struct form *f, const json_t *ref, const json_t *shape, const json_t *value)
{
    const json_t *mref = json_object_get(shape, "member");
    const json_t *mshape = plumb_aws_model_ref_shape(f->svc, mref);
    size_t mark = f->name.len, base, i;
    const char *mname;
    const json_t *item;
    int error = 0;

    if (json_array_size(value) == 0) {
        /* query sends "Name=" for an empty list, so a list can be emptied; ec2 sends none. */
        if (!f->ec2)
            PLUMB_TRY(plumb_kvlist_addn(&f->params, f->name.ptr, f->name.len, "", 0));
        goto done;
    }
    if (f->ec2) {
        /* Name.N, whatever the model says about flattening. */
    } else if (plumb_aws_protocol__trait_true(ref, shape, "flattened")) {
        mname = plumb_aws_protocol__trait_str(mref, mshape, "locationName");
        if (mname) {
            /* A flattened list's member name replaces the list's own last segment. */
            const char *dot = memrchr(f->name.ptr, '.', f->name.len);
            name_cut(f, dot ? (size_t)(dot + 1 - f->name.ptr) : 0);
            PLUMB_TRY(plumb_buf_puts(&f->name, mname));
        }
    } else {
        mname = plumb_aws_protocol__trait_str(mref, mshape, "locationName");
        PLUMB_TRY(plumb_buf_printf(&f->name, ".%s", mname ? mname : "member"));
    }
    base = f->name.len;
    json_array_foreach(value, i, item)
    {
        PLUMB_TRY(plumb_buf_printf(&f->name, ".%zu", i + 1));
        PLUMB_TRY(flatten(f, mref, mshape, item));
        name_cut(f, base);
    }
done:
    name_cut(f, mark);
    return error;
}

static int flatten_map(struct form *f, const json_t *ref, const json_t *shape, const json_t *value)
{
    const json_t *kref = json_object_get(shape, "key"), *vref = json_object_get(shape, "value");
    const json_t *kshape = plumb_aws_model_ref_shape(f->svc, kref);
    const json_t *vshape = plumb_aws_model_ref_shape(f->svc, vref);
    size_t mark = f->name.len, base, n = 0;
    json_t *key_value = NULL;
    const json_t *item;
    const char *key;
    int error = 0;

    if (!plumb_aws_protocol__trait_true(ref, shape, "flattened"))
        PLUMB_TRY(plumb_buf_puts(&f->name, ".entry"));
    base = f->name.len;
    json_object_foreach((json_t *)value, key, item)
    {
        PLUMB_TRY(plumb_buf_printf(&f->name, ".%zu.", ++n));
        PLUMB_TRY(put_name(f, kref, kshape, "key"));
        key_value = json_string(key);
        PLUMB_ALLOC_CHECK(key_value);
        PLUMB_TRY(flatten(f, kref, kshape, key_value));
        json_decref(key_value);
        key_value = NULL;
        name_cut(f, base);
        PLUMB_TRY(plumb_buf_printf(&f->name, ".%zu.", n));
        PLUMB_TRY(put_name(f, vref, vshape, "value"));
        PLUMB_TRY(flatten(f, vref, vshape, item));
        name_cut(f, base);
    }
done:
    json_decref(key_value);
    name_cut(f, mark);
    return error;
}

static int flatten(struct form *f, const json_t *ref, const json_t *shape, const json_t *value)
{
    const char *type = plumb_aws_protocol__type(shape);
    int error;

    if (strcmp(type, "structure") == 0)
        error = flatten_structure(f, shape, value);
    else if (strcmp(type, "list") == 0)
        error = flatten_list(f, ref, shape, value);
    else if (strcmp(type, "map") == 0)
        error = flatten_map(f, ref, shape, value);
    else
        error = add_param(f, ref, shape, value);
    return error;
}

static int query_build(struct plumb_http_request *req, const struct plumb_aws_service *svc,
                       const json_t *op, const json_t *input_shape, const json_t *input)
{
    const char *method = json_string_value(json_object_get(json_object_get(op, "http"), "method"));
    struct form f = {svc, svc->protocol == PLUMB_AWS_PROTO_EC2, PLUMB_KVLIST_INIT, PLUMB_BUF_INIT};
    int error = 0;
    size_t i;

    PLUMB_TRY(
        plumb_kvlist_add(&f.params, "Action", json_string_value(json_object_get(op, "name"))));
    PLUMB_TRY(plumb_kvlist_add(&f.params, "Version", svc->api_version ? svc->api_version : ""));
    if (input_shape)
        PLUMB_TRY(flatten_structure(&f, input_shape, input));
    /* Form encoding as botocore sends it (RFC 3986's unreserved characters bare, a space as
     * '+'): the body is what gets signed, and a verifier that re-encodes the form the way
     * Python does (moto) only agrees with this spelling. AWS accepts it, as it must. */
    plumb_buf_clear(&req->body);
    for (i = 0; i < f.params.n; i++) {
        if (i)
            PLUMB_TRY(plumb_buf_putc(&req->body, '&'));
        PLUMB_TRY(
            plumb_buf_put_form_encoded(&req->body, f.params.v[i].name, strlen(f.params.v[i].name)));
        PLUMB_TRY(plumb_buf_putc(&req->body, '='));
        PLUMB_TRY(plumb_buf_put_form_encoded(&req->body, f.params.v[i].value,
                                             strlen(f.params.v[i].value)));
    }
    req->method = method ? method : "POST";
    free(req->path);
    req->path = strdup("/");
    PLUMB_ALLOC_CHECK(req->path);
    PLUMB_TRY(plumb_kvlist_set(&req->headers, "Content-Type",
                               "application/x-www-form-urlencoded; charset=utf-8"));
done:
    plumb_kvlist_release(&f.params);
    plumb_buf_release(&f.name);
    return error;
}

static int query_parse(json_t **out, const struct plumb_aws_service *svc, const json_t *op,
                       const json_t *output_shape, const struct plumb_http_response *resp)
{
    const char *wrapper =
        json_string_value(json_object_get(json_object_get(op, "output"), "resultWrapper"));
    struct plumb_buf path = PLUMB_BUF_INIT;
    const json_t *start;
    json_t *root = NULL;
    int error = 0;

    *out = NULL;
    if (!output_shape) {
        *out = json_object();
        PLUMB_ALLOC_CHECK(*out);
        goto done;
    }
    PLUMB_TRY(plumb_xml_parse(&root, plumb_buf_cstr(&resp->body), resp->body.len));
    start = root;
    if (wrapper && svc->protocol == PLUMB_AWS_PROTO_QUERY) {
        start = plumb_xml_child(root, wrapper);
        if (!start) {
            /* Nothing to read: an output whose members are all absent. */
            *out = json_object();
            PLUMB_ALLOC_CHECK(*out);
            goto done;
        }
    }
    PLUMB_TRY(plumb_aws_protocol__from_xml(out, svc, output_shape, start, &path));
done:
    plumb_buf_release(&path);
    json_decref(root);
    return error;
}

static void query_parse_error(struct plumb_aws_error_info *out, const struct plumb_aws_service *svc,
                              const struct plumb_http_response *resp)
{
    plumb_aws_protocol__xml_error(out, resp);
}

const struct plumb_aws_protocol__impl plumb_aws_protocol__query = {
    query_build,
    query_parse,
    query_parse_error,
};
