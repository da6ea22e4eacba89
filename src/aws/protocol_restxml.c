/*
 * The rest-xml protocol (S3). The operation's http.method and http.requestUri decide the
 * request line: {Label} and greedy {Key+} labels take uri members (raw: http.h's sender and
 * signer encode the path), a static "?tagging" or "?list-type=2" part goes to the query.
 * Other members go to query-string parameters, headers, or the body: the payload member
 * (an XML document, or raw bytes for blob and string payloads) or, without one, the
 * remaining members as one document. The XML is written byte for byte as botocore's
 * ElementTree writes it. Output comes from headers, the status code and the XML body.
 */
#include "aws/protocol.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "aws/xml.h"
#include "util/error.h"

static const char *location_of(const json_t *ref, const json_t *shape)
{
    const char *loc = plumb_aws_protocol__trait_str(ref, shape, "location");

    return loc ? loc : "";
}

/* The name a member goes on the wire under: header, query parameter, label or element. */
static const char *wire_name(const json_t *ref, const json_t *shape, const char *name)
{
    const char *n = plumb_aws_protocol__trait_str(ref, shape, "locationName");

    return n ? n : name;
}

/* ---- base64 and MD5 -------------------------------------------------------------------- */

static int put_md5_base64(struct plumb_buf *out, const void *data, size_t n)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int error = 0;

    if (EVP_Digest(data, n, md, &mdlen, EVP_md5(), NULL) != 1) {
        error = plumb_error_set(PLUMB_ERROR, "unable to compute MD5 of the request body");
        goto done;
    }
    PLUMB_TRY(plumb_buf_put_base64(out, md, mdlen));
done:
    return error;
}

/* ---- XML as ElementTree writes it ------------------------------------------------------ */

static int put_escaped(struct plumb_buf *b, const char *s, size_t n, int attr)
{
    int error = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        switch (s[i]) {
        case '&':
            PLUMB_TRY(plumb_buf_puts(b, "&amp;"));
            break;
        case '<':
            PLUMB_TRY(plumb_buf_puts(b, "&lt;"));
            break;
        case '>':
            PLUMB_TRY(plumb_buf_puts(b, "&gt;"));
            break;
        case '"':
            PLUMB_TRY(plumb_buf_puts(b, attr ? "&quot;" : "\""));
            break;
        case '\n':
            PLUMB_TRY(plumb_buf_puts(b, attr ? "&#10;" : "\n"));
            break;
        case '\r':
            PLUMB_TRY(plumb_buf_puts(b, attr ? "&#13;" : "\r"));
            break;
        case '\t':
            PLUMB_TRY(plumb_buf_puts(b, attr ? "&#09;" : "\t"));
            break;
        default:
            PLUMB_TRY(plumb_buf_putc(b, s[i]));
        }
    }
done:
    return error;
}

static int put_attr(struct plumb_buf *b, const char *name, const char *value, size_t n)
{
    int error = 0;

    PLUMB_TRY(plumb_buf_printf(b, " %s=\"", name));
    PLUMB_TRY(put_escaped(b, value, n, 1));
    PLUMB_TRY(plumb_buf_putc(b, '"'));
done:
    return error;
}

/* xmlns (or xmlns:prefix) when the member or its shape names a namespace. */
static int put_namespace(struct plumb_buf *b, const json_t *ref, const json_t *shape)
{
    const json_t *ns = plumb_aws_protocol__trait(ref, shape, "xmlNamespace");
    struct plumb_buf name = PLUMB_BUF_INIT;
    const char *uri = json_string_value(ns), *prefix;
    int error = 0;

    if (!ns)
        goto done;
    PLUMB_TRY(plumb_buf_puts(&name, "xmlns"));
    if (json_is_object(ns)) {
        uri = json_string_value(json_object_get(ns, "uri"));
        prefix = json_string_value(json_object_get(ns, "prefix"));
        if (prefix && *prefix)
            PLUMB_TRY(plumb_buf_printf(&name, ":%s", prefix));
    }
    if (uri)
        PLUMB_TRY(put_attr(b, name.ptr, uri, strlen(uri)));
done:
    plumb_buf_release(&name);
    return error;
}

struct writer {
    const struct plumb_aws_service *svc;
    struct plumb_buf *out;
};

static int write_value(struct writer *w, const json_t *ref, const json_t *shape,
                       const json_t *value, const char *name);

static int write_structure(struct writer *w, const json_t *ref, const json_t *shape,
                           const json_t *value, const char *name, int body_only)
{
    const json_t *members = json_object_get(shape, "members"), *mref, *mshape, *item;
    struct plumb_buf text = PLUMB_BUF_INIT;
    const char *key;
    size_t start;
    int error = 0;

    PLUMB_TRY(plumb_buf_printf(w->out, "<%s", name));
    PLUMB_TRY(put_namespace(w->out, ref, shape));
    json_object_foreach((json_t *)value, key, item)
    {
        mref = json_object_get(members, key);
        mshape = plumb_aws_model_ref_shape(w->svc, mref);
        if (json_is_null(item) || !plumb_aws_protocol__trait_true(mref, mshape, "xmlAttribute"))
            continue;
        plumb_buf_clear(&text);
        PLUMB_TRY(plumb_aws_protocol__put_scalar(&text, mref, mshape, item, "iso8601"));
        PLUMB_TRY(put_attr(w->out, wire_name(mref, mshape, key), plumb_buf_cstr(&text), text.len));
    }
    PLUMB_TRY(plumb_buf_putc(w->out, '>'));
    start = w->out->len;
    json_object_foreach((json_t *)value, key, item)
    {
        mref = json_object_get(members, key);
        mshape = plumb_aws_model_ref_shape(w->svc, mref);
        if (json_is_null(item) || plumb_aws_protocol__trait_true(mref, mshape, "xmlAttribute") ||
            (body_only && *location_of(mref, mshape)))
            continue;
        PLUMB_TRY(write_value(w, mref, mshape, item, wire_name(mref, mshape, key)));
    }
    /* ElementTree closes an element without content as <Name />; a flattened empty list
     * writes nothing, so the test is on what was written. */
    if (w->out->len == start) {
        w->out->len = start - 1; /* drop the '>' */
        PLUMB_TRY(plumb_buf_puts(w->out, " />"));
    } else {
        PLUMB_TRY(plumb_buf_printf(w->out, "</%s>", name));
    }
done:
    plumb_buf_release(&text);
    return error;
}

static int write_list(struct writer *w, const json_t *ref, const json_t *shape, const json_t *value,
                      const char *name)
{
    const json_t *mref = json_object_get(shape, "member");
    const json_t *mshape = plumb_aws_model_ref_shape(w->svc, mref);
    const char *mname = plumb_aws_protocol__trait_str(mref, mshape, "locationName");
    const json_t *item;
    int error = 0;
    size_t i;

    if (plumb_aws_protocol__trait_true(ref, shape, "flattened")) {
        json_array_foreach(value, i, item)
        {
            PLUMB_TRY(write_value(w, mref, mshape, item, name));
        }
        goto done;
    }
    PLUMB_TRY(plumb_buf_printf(w->out, "<%s", name));
    PLUMB_TRY(put_namespace(w->out, ref, shape));
    if (json_array_size(value) == 0) {
        PLUMB_TRY(plumb_buf_puts(w->out, " />"));
        goto done;
    }
    PLUMB_TRY(plumb_buf_putc(w->out, '>'));
    json_array_foreach(value, i, item)
    {
        PLUMB_TRY(write_value(w, mref, mshape, item, mname ? mname : "member"));
    }
    PLUMB_TRY(plumb_buf_printf(w->out, "</%s>", name));
done:
    return error;
}

static int write_map(struct writer *w, const json_t *ref, const json_t *shape, const json_t *value,
                     const char *name)
{
    const json_t *kref = json_object_get(shape, "key"), *vref = json_object_get(shape, "value");
    const json_t *kshape = plumb_aws_model_ref_shape(w->svc, kref);
    const json_t *vshape = plumb_aws_model_ref_shape(w->svc, vref);
    const char *kname = wire_name(kref, kshape, "key"), *vname = wire_name(vref, vshape, "value");
    int flat = plumb_aws_protocol__trait_true(ref, shape, "flattened");
    const char *entry = flat ? name : "entry", *key;
    json_t *key_value = NULL;
    const json_t *item;
    int error = 0;

    if (!flat) {
        PLUMB_TRY(plumb_buf_printf(w->out, "<%s", name));
        PLUMB_TRY(put_namespace(w->out, ref, shape));
        PLUMB_TRY(plumb_buf_puts(w->out, json_object_size(value) ? ">" : " />"));
    }
    json_object_foreach((json_t *)value, key, item)
    {
        PLUMB_TRY(plumb_buf_printf(w->out, "<%s>", entry));
        key_value = json_string(key);
        PLUMB_ALLOC_CHECK(key_value);
        PLUMB_TRY(write_value(w, kref, kshape, key_value, kname));
        json_decref(key_value);
        key_value = NULL;
        PLUMB_TRY(write_value(w, vref, vshape, item, vname));
        PLUMB_TRY(plumb_buf_printf(w->out, "</%s>", entry));
    }
    if (!flat && json_object_size(value))
        PLUMB_TRY(plumb_buf_printf(w->out, "</%s>", name));
done:
    json_decref(key_value);
    return error;
}

static int write_value(struct writer *w, const json_t *ref, const json_t *shape,
                       const json_t *value, const char *name)
{
    const char *type = plumb_aws_protocol__type(shape);
    struct plumb_buf text = PLUMB_BUF_INIT;
    int error = 0;

    if (strcmp(type, "structure") == 0) {
        error = write_structure(w, ref, shape, value, name, 0);
    } else if (strcmp(type, "list") == 0) {
        error = write_list(w, ref, shape, value, name);
    } else if (strcmp(type, "map") == 0) {
        error = write_map(w, ref, shape, value, name);
    } else {
        PLUMB_TRY(plumb_aws_protocol__put_scalar(&text, ref, shape, value, "iso8601"));
        PLUMB_TRY(plumb_buf_printf(w->out, "<%s", name));
        PLUMB_TRY(put_namespace(w->out, ref, shape));
        /* ElementTree writes an element without text as <Name />. */
        if (text.len == 0) {
            PLUMB_TRY(plumb_buf_puts(w->out, " />"));
        } else {
            PLUMB_TRY(plumb_buf_putc(w->out, '>'));
            PLUMB_TRY(put_escaped(w->out, text.ptr, text.len, 0));
            PLUMB_TRY(plumb_buf_printf(w->out, "</%s>", name));
        }
    }
done:
    plumb_buf_release(&text);
    return error;
}

/* ---- request --------------------------------------------------------------------------- */

static const char *op_name(const json_t *op)
{
    return json_string_value(json_object_get(op, "name"));
}

/* The uri member whose label is `label` (len bytes): its name, or NULL. */
static const char *label_member(const json_t **ref, const json_t **mshape,
                                const struct plumb_aws_service *svc, const json_t *shape,
                                const char *label, size_t len)
{
    const char *name, *found = NULL, *wire;
    const json_t *r;

    json_object_foreach((json_t *)json_object_get(shape, "members"), name, r)
    {
        const json_t *s = plumb_aws_model_ref_shape(svc, r);
        wire = wire_name(r, s, name);
        if (!found && strcmp(location_of(r, s), "uri") == 0 && strlen(wire) == len &&
            strncmp(wire, label, len) == 0) {
            found = name;
            *ref = r;
            *mshape = s;
        }
    }
    return found;
}

/* Fills the {Label} and {Key+} labels of the path template [tpl, end). */
static int render_path(struct plumb_buf *out, const struct plumb_aws_service *svc, const json_t *op,
                       const json_t *shape, const json_t *input, const char *tpl, size_t n)
{
    struct plumb_buf text = PLUMB_BUF_INIT;
    const char *p = tpl, *end = tpl + n, *close, *name;
    const json_t *ref = NULL, *mshape = NULL, *value;
    int error = 0, greedy;
    size_t len;

    while (p < end) {
        if (*p != '{' || !(close = memchr(p, '}', (size_t)(end - p)))) {
            PLUMB_TRY(plumb_buf_putc(out, *p++));
            continue;
        }
        len = (size_t)(close - p - 1);
        greedy = len > 0 && p[len] == '+';
        len -= (size_t)greedy;
        name = label_member(&ref, &mshape, svc, shape, p + 1, len);
        value = name ? json_object_get(input, name) : NULL;
        if (!value || json_is_null(value)) {
            error = plumb_error_set(PLUMB_EINVALID, "%s: missing required member '%.*s'",
                                    op_name(op), (int)len, p + 1);
            goto done;
        }
        plumb_buf_clear(&text);
        PLUMB_TRY(plumb_aws_protocol__put_scalar(&text, ref, mshape, value, "iso8601"));
        /* An empty label would silently address something else ("/bucket/" for a key). */
        if (text.len == 0 || (!greedy && memchr(text.ptr, '/', text.len))) {
            error = plumb_error_set(PLUMB_EINVALID, "%s: %s must %s", op_name(op), name,
                                    text.len ? "not contain '/'" : "not be empty");
            goto done;
        }
        PLUMB_TRY(plumb_buf_put(out, text.ptr, text.len));
        p = close + 1;
    }
done:
    plumb_buf_release(&text);
    return error;
}

/* The static part of the request URI: "tagging", "list-type=2", "uploads&x=y". */
static int add_static_query(struct plumb_http_request *req, const char *q)
{
    const char *amp, *eq;
    int error = 0;
    size_t len;

    while (*q) {
        amp = strchr(q, '&');
        len = amp ? (size_t)(amp - q) : strlen(q);
        eq = memchr(q, '=', len);
        if (len) {
            if (eq)
                PLUMB_TRY(plumb_kvlist_addn(&req->query, q, (size_t)(eq - q), eq + 1,
                                            len - (size_t)(eq + 1 - q)));
            else
                PLUMB_TRY(plumb_kvlist_addn(&req->query, q, len, "", 0));
        }
        q += len + (amp ? 1 : 0);
    }
done:
    return error;
}

static int add_query_member(struct plumb_http_request *req, const struct plumb_aws_service *svc,
                            const json_t *ref, const json_t *shape, const char *name,
                            const json_t *value)
{
    const char *type = plumb_aws_protocol__type(shape), *key;
    const json_t *mref, *mshape, *item;
    struct plumb_buf text = PLUMB_BUF_INIT;
    int error = 0;
    size_t i;

    if (strcmp(type, "map") == 0) {
        /* A query map spreads its entries as parameters of their own, a map of lists
         * repeating the key (botocore). */
        mref = json_object_get(shape, "value");
        mshape = plumb_aws_model_ref_shape(svc, mref);
        json_object_foreach((json_t *)value, key, item)
        {
            PLUMB_TRY(add_query_member(req, svc, mref, mshape, key, item));
        }
    } else if (strcmp(type, "list") == 0) {
        mref = json_object_get(shape, "member");
        mshape = plumb_aws_model_ref_shape(svc, mref);
        json_array_foreach(value, i, item)
        {
            PLUMB_TRY(add_query_member(req, svc, mref, mshape, name, item));
        }
    } else {
        PLUMB_TRY(plumb_aws_protocol__put_scalar(&text, ref, shape, value, "iso8601"));
        PLUMB_TRY(
            plumb_kvlist_addn(&req->query, name, strlen(name), plumb_buf_cstr(&text), text.len));
    }
done:
    plumb_buf_release(&text);
    return error;
}

static int set_header(struct plumb_http_request *req, const json_t *op, const char *name,
                      const char *value, size_t n)
{
    int error = 0;

    /* A line break in a value would start a header of the caller's choosing. */
    if (memchr(value, '\r', n) || memchr(value, '\n', n)) {
        error = plumb_error_set(PLUMB_EINVALID, "%s: header '%s' must not contain line breaks",
                                op_name(op), name);
        goto done;
    }
    PLUMB_TRY(plumb_kvlist_set(&req->headers, name, value));
done:
    return error;
}

static int add_header_member(struct plumb_http_request *req, const struct plumb_aws_service *svc,
                             const json_t *op, const json_t *ref, const json_t *shape,
                             const char *name, const json_t *value)
{
    const char *type = plumb_aws_protocol__type(shape);
    const json_t *mref, *mshape, *item;
    struct plumb_buf text = PLUMB_BUF_INIT;
    int error = 0;
    size_t i;

    if (strcmp(type, "list") == 0) {
        /* Comma-separated, strings with commas or quotes quoted (RFC 7230); none if empty. */
        if (json_array_size(value) == 0)
            goto done;
        mref = json_object_get(shape, "member");
        mshape = plumb_aws_model_ref_shape(svc, mref);
        json_array_foreach(value, i, item)
        {
            const char *s = json_string_value(item);
            if (i)
                PLUMB_TRY(plumb_buf_putc(&text, ','));
            if (s && strpbrk(s, ",\"")) {
                PLUMB_TRY(plumb_buf_putc(&text, '"'));
                for (; *s; s++) {
                    if (*s == '"')
                        PLUMB_TRY(plumb_buf_putc(&text, '\\'));
                    PLUMB_TRY(plumb_buf_putc(&text, *s));
                }
                PLUMB_TRY(plumb_buf_putc(&text, '"'));
            } else {
                PLUMB_TRY(plumb_aws_protocol__put_scalar(&text, mref, mshape, item, "rfc822"));
            }
        }
    } else {
        PLUMB_TRY(plumb_aws_protocol__put_scalar(&text, ref, shape, value, "rfc822"));
    }
    PLUMB_TRY(set_header(req, op, name, plumb_buf_cstr(&text), text.len));
done:
    plumb_buf_release(&text);
    return error;
}

static int build_body(struct plumb_http_request *req, const struct plumb_aws_service *svc,
                      const json_t *op, const json_t *shape, const json_t *input)
{
    const char *payload = json_string_value(json_object_get(shape, "payload")), *type, *name;
    struct writer w = {svc, &req->body};
    const json_t *ref, *pshape, *value;
    int error = 0, has_body = 0;

    plumb_buf_clear(&req->body);
    if (payload) {
        ref = json_object_get(json_object_get(shape, "members"), payload);
        pshape = plumb_aws_model_ref_shape(svc, ref);
        type = plumb_aws_protocol__type(pshape);
        value = json_object_get(input, payload);
        if (!value || json_is_null(value))
            goto done;
        if (strcmp(type, "blob") == 0)
            PLUMB_TRY(plumb_buf_put_unbase64(&req->body, json_string_value(value),
                                             json_string_length(value)));
        else if (strcmp(type, "string") == 0)
            PLUMB_TRY(
                plumb_buf_put(&req->body, json_string_value(value), json_string_length(value)));
        else
            PLUMB_TRY(write_value(&w, ref, pshape, value, wire_name(ref, pshape, payload)));
        goto done;
    }
    /* No payload member: the members without a location make one document, named by the
     * input's locationName (SelectObjectContentRequest). */
    json_object_foreach((json_t *)input, name, value)
    {
        ref = json_object_get(json_object_get(shape, "members"), name);
        if (!json_is_null(value) && !*location_of(ref, plumb_aws_model_ref_shape(svc, ref)))
            has_body = 1;
    }
    if (has_body) {
        ref = json_object_get(op, "input");
        PLUMB_TRY(write_structure(
            &w, ref, shape, input,
            wire_name(ref, shape, json_string_value(json_object_get(ref, "shape"))), 1));
    }
done:
    return error;
}

static int rest_xml_build(struct plumb_http_request *req, const struct plumb_aws_service *svc,
                          const json_t *op, const json_t *shape, const json_t *input)
{
    const json_t *http = json_object_get(op, "http"), *ref, *mshape, *value, *checksum;
    const char *method = json_string_value(json_object_get(http, "method"));
    const char *uri = json_string_value(json_object_get(http, "requestUri"));
    struct plumb_buf path = PLUMB_BUF_INIT, text = PLUMB_BUF_INIT;
    const char *q, *name, *loc, *key;
    const json_t *item;
    int error = 0;

    if (!uri)
        uri = "/";
    q = strchr(uri, '?');
    PLUMB_TRY(render_path(&path, svc, op, shape, input, uri, q ? (size_t)(q - uri) : strlen(uri)));
    free(req->path);
    req->path = plumb_buf_detach(&path);
    PLUMB_ALLOC_CHECK(req->path);
    req->method = method ? method : "GET";
    if (q)
        PLUMB_TRY(add_static_query(req, q + 1));
    json_object_foreach((json_t *)input, name, value)
    {
        ref = json_object_get(json_object_get(shape, "members"), name);
        mshape = plumb_aws_model_ref_shape(svc, ref);
        loc = location_of(ref, mshape);
        if (json_is_null(value))
            continue;
        if (strcmp(loc, "querystring") == 0) {
            PLUMB_TRY(add_query_member(req, svc, ref, mshape, wire_name(ref, mshape, name), value));
        } else if (strcmp(loc, "header") == 0) {
            PLUMB_TRY(
                add_header_member(req, svc, op, ref, mshape, wire_name(ref, mshape, name), value));
        } else if (strcmp(loc, "headers") == 0) {
            /* A map whose keys are suffixes of the prefix: x-amz-meta-<key>. */
            json_object_foreach((json_t *)value, key, item)
            {
                plumb_buf_clear(&text);
                PLUMB_TRY(plumb_buf_printf(&text, "%s%s", wire_name(ref, mshape, ""), key));
                PLUMB_TRY(set_header(req, op, text.ptr, json_string_value(item),
                                     json_string_length(item)));
            }
        }
    }
    PLUMB_TRY(build_body(req, svc, op, shape, input));
    /* S3 refuses these operations without a body checksum; MD5 is the one every S3-compatible
     * server knows. A Content-MD5 the caller gave is kept, as botocore keeps it. */
    checksum = json_object_get(op, "httpChecksum");
    if ((json_is_true(json_object_get(op, "httpChecksumRequired")) ||
         json_is_true(json_object_get(checksum, "requestChecksumRequired"))) &&
        !plumb_kvlist_get(&req->headers, "Content-MD5")) {
        plumb_buf_clear(&text);
        PLUMB_TRY(put_md5_base64(&text, plumb_buf_cstr(&req->body), req->body.len));
        PLUMB_TRY(plumb_kvlist_set(&req->headers, "Content-MD5", text.ptr));
    }
done:
    plumb_buf_release(&path);
    plumb_buf_release(&text);
    return error;
}

/* ---- response -------------------------------------------------------------------------- */

static int header_member(json_t **out, const struct plumb_aws_service *svc, const json_t *shape,
                         const char *value, struct plumb_buf *path)
{
    const json_t *mshape = plumb_aws_model_ref_shape(svc, json_object_get(shape, "member"));
    struct plumb_buf item = PLUMB_BUF_INIT;
    const char *p = value, *comma;
    json_t *acc = NULL, *conv = NULL;
    int error = 0;

    *out = NULL;
    if (strcmp(plumb_aws_protocol__type(shape), "list") != 0) {
        error = plumb_aws_protocol__scalar_from_text(out, shape, value, path);
        goto done;
    }
    /* A list in a header is comma-separated (RFC 7230), items trimmed, as botocore splits it. */
    acc = json_array();
    PLUMB_ALLOC_CHECK(acc);
    for (;;) {
        comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        while (len && isspace((unsigned char)*p))
            p++, len--;
        while (len && isspace((unsigned char)p[len - 1]))
            len--;
        plumb_buf_clear(&item);
        PLUMB_TRY(plumb_buf_put(&item, p, len));
        PLUMB_TRY(plumb_aws_protocol__scalar_from_text(&conv, mshape, plumb_buf_cstr(&item), path));
        error = json_array_append_new(acc, conv) < 0 ? plumb_error_oom() : 0;
        conv = NULL;
        if (error < 0 || !comma)
            break;
        p = comma + 1;
    }
    if (error < 0)
        goto done;
    *out = acc;
    acc = NULL;
done:
    plumb_buf_release(&item);
    json_decref(acc);
    return error;
}

/* Every header starting with the prefix (case-insensitively), keyed by what follows it. */
static int header_map(json_t **out, const char *prefix, const struct plumb_http_response *resp)
{
    size_t plen = strlen(prefix), i;
    json_t *acc = json_object();
    int error = 0;

    *out = NULL;
    PLUMB_ALLOC_CHECK(acc);
    for (i = 0; i < resp->headers.n; i++) {
        const struct plumb_kv *h = &resp->headers.v[i];
        if (strncasecmp(h->name, prefix, plen) == 0 &&
            json_object_set_new(acc, h->name + plen, json_string(h->value)) < 0) {
            error = plumb_error_oom();
            goto done;
        }
    }
    *out = acc;
    acc = NULL;
done:
    json_decref(acc);
    return error;
}

static int rest_xml_parse(json_t **out, const struct plumb_aws_service *svc, const json_t *op,
                          const json_t *shape, const struct plumb_http_response *resp)
{
    const char *payload = json_string_value(json_object_get(shape, "payload")), *name, *loc, *h;
    struct plumb_buf path = PLUMB_BUF_INIT, b64 = PLUMB_BUF_INIT;
    json_t *obj = json_object(), *value = NULL, *root = NULL;
    const json_t *ref, *mshape;
    int error = 0;

    *out = NULL;
    PLUMB_ALLOC_CHECK(obj);
    json_object_foreach((json_t *)json_object_get(shape, "members"), name, ref)
    {
        mshape = plumb_aws_model_ref_shape(svc, ref);
        loc = location_of(ref, mshape);
        plumb_aws_protocol__path_pop(&path, 0);
        PLUMB_TRY(plumb_buf_puts(&path, name));
        if (strcmp(loc, "header") == 0) {
            h = plumb_kvlist_get(&resp->headers, wire_name(ref, mshape, name));
            if (h)
                PLUMB_TRY(header_member(&value, svc, mshape, h, &path));
        } else if (strcmp(loc, "headers") == 0) {
            /* Present even when empty, as in botocore (Metadata: {}). */
            PLUMB_TRY(header_map(&value, wire_name(ref, mshape, ""), resp));
        } else if (strcmp(loc, "statusCode") == 0) {
            value = json_integer(resp->status);
            PLUMB_ALLOC_CHECK(value);
        }
        if (value && json_object_set_new(obj, name, value) < 0) {
            value = NULL;
            error = plumb_error_oom();
            goto done;
        }
        value = NULL;
    }
    plumb_aws_protocol__path_pop(&path, 0);
    if (payload) {
        ref = json_object_get(json_object_get(shape, "members"), payload);
        mshape = plumb_aws_model_ref_shape(svc, ref);
        if (strcmp(plumb_aws_protocol__type(mshape), "blob") == 0) {
            PLUMB_TRY(plumb_buf_put_base64(&b64, plumb_buf_cstr(&resp->body), resp->body.len));
            value = json_stringn(plumb_buf_cstr(&b64), b64.len);
            PLUMB_ALLOC_CHECK(value);
        } else if (strcmp(plumb_aws_protocol__type(mshape), "string") == 0) {
            value = json_stringn(plumb_buf_cstr(&resp->body), resp->body.len);
            if (!value) {
                error = plumb_error_set(PLUMB_ERROR, "response body is not UTF-8 text");
                goto done;
            }
        } else if (resp->body.len) {
            PLUMB_TRY(plumb_xml_parse(&root, resp->body.ptr, resp->body.len));
            PLUMB_TRY(plumb_buf_puts(&path, payload));
            PLUMB_TRY(plumb_aws_protocol__from_xml(&value, svc, mshape, root, &path));
        } else {
            /* No body for a document payload: botocore gives the member as {}. */
            value = json_object();
            PLUMB_ALLOC_CHECK(value);
        }
        error = json_object_set_new(obj, payload, value) < 0 ? plumb_error_oom() : 0;
        value = NULL;
        if (error < 0)
            goto done;
    } else if (shape && resp->body.len) {
        PLUMB_TRY(plumb_xml_parse(&root, resp->body.ptr, resp->body.len));
        PLUMB_TRY(plumb_aws_protocol__from_xml(&value, svc, shape, root, &path));
        if (json_object_update(obj, value) < 0) {
            error = plumb_error_oom();
            goto done;
        }
    }
    *out = obj;
    obj = NULL;
done:
    plumb_buf_release(&path);
    plumb_buf_release(&b64);
    json_decref(value);
    json_decref(root);
    json_decref(obj);
    return error;
}

static void rest_xml_parse_error(struct plumb_aws_error_info *out,
                                 const struct plumb_aws_service *svc,
                                 const struct plumb_http_response *resp)
{
    /* HEAD errors have no body: the status names the code (plumb_aws_protocol_parse_error). */
    plumb_aws_protocol__xml_error(out, resp);
}

const struct plumb_aws_protocol__impl plumb_aws_protocol__rest_xml = {
    rest_xml_build,
    rest_xml_parse,
    rest_xml_parse_error,
};
