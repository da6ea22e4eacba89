/*
 * What the four wire formats share: validation of the input against the model, idempotency
 * tokens, timestamps, scalars as text, XML bodies to JSON by shape, and the dispatch from the
 * public functions to protocol_json.c, protocol_query.c (query and ec2) and
 * protocol_restxml.c.
 */
#include "aws/protocol.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h> /* isfinite only: a macro, no libm */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/xml.h"
#include "util/error.h"
#include "util/sys.h"

/* ---- model traits ---------------------------------------------------------------------- */

const json_t *plumb_aws_protocol__trait(const json_t *ref, const json_t *shape, const char *key)
{
    const json_t *v = ref ? json_object_get(ref, key) : NULL;

    return v ? v : (shape ? json_object_get(shape, key) : NULL);
}

const char *plumb_aws_protocol__trait_str(const json_t *ref, const json_t *shape, const char *key)
{
    return json_string_value(plumb_aws_protocol__trait(ref, shape, key));
}

int plumb_aws_protocol__trait_true(const json_t *ref, const json_t *shape, const char *key)
{
    return json_is_true(plumb_aws_protocol__trait(ref, shape, key));
}

const char *plumb_aws_protocol__type(const json_t *shape)
{
    const char *t = json_string_value(json_object_get(shape, "type"));

    return t ? t : "";
}

void plumb_aws_protocol__copy(char *dst, size_t size, const char *s, size_t len)
{
    if (!s)
        len = 0;
    if (len >= size)
        len = size - 1;
    if (len)
        memcpy(dst, s, len);
    dst[len] = '\0';
}

/* ---- timestamps ------------------------------------------------------------------------ */

/* Whole seconds at or before `d` (libm is not linked; timestamps fit a long long). */
static time_t floor_seconds(double d)
{
    long long t = d < 9.2e18 && d > -9.2e18 ? (long long)d : -1;

    return (time_t)((double)t > d ? t - 1 : t);
}

static const char *const month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *const day_names[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

/* "Wed, 21 Oct 2015 07:28:00 GMT", by hand: strptime's %b follows the locale. */
static time_t parse_rfc822(const char *s)
{
    const char *comma = strchr(s, ',');
    struct tm tm;
    char mon[4];
    int i, n = 0;

    memset(&tm, 0, sizeof(tm));
    tm.tm_mon = -1;
    /* The day name is optional and not checked: the date says which day it was. */
    if (isalpha((unsigned char)s[0]) && comma)
        s = comma + 1;
    if (sscanf(s, " %d %3s %d %d:%d:%d GMT%n", &tm.tm_mday, mon, &tm.tm_year, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &n) == 6 &&
        n > 0 && s[n] == '\0')
        for (i = 0; i < 12; i++)
            if (strcasecmp(mon, month_names[i]) == 0)
                tm.tm_mon = i;
    tm.tm_year -= 1900;
    return tm.tm_mon < 0 ? (time_t)-1 : timegm(&tm);
}

/* ISO 8601 as services write it, including the "+0000" offset form without a colon. */
static time_t parse_iso8601(const char *s)
{
    struct plumb_buf b = PLUMB_BUF_INIT;
    size_t n = strlen(s);
    time_t t = plumb_time_parse_iso8601(s);

    if (t == -1 && n > 5 && (s[n - 5] == '+' || s[n - 5] == '-') &&
        isdigit((unsigned char)s[n - 1])) {
        if (plumb_buf_put(&b, s, n - 2) == 0 && plumb_buf_putc(&b, ':') == 0 &&
            plumb_buf_put(&b, s + n - 2, 2) == 0)
            t = plumb_time_parse_iso8601(b.ptr);
        plumb_buf_release(&b);
    }
    return t;
}

/*
 * Whether `t` seconds since the epoch falls in the years 1000 to 9999, all that the output
 * form "2015-08-30T12:36:00Z" (plumb_time_iso8601) writes: strftime writes other years short,
 * or cut off past its 20 characters. No AWS timestamp is outside; a value that is, is wrong.
 */
static int time_writable(double t)
{
    return t >= -30610224000.0 && t < 253402300800.0;
}

/* Services send epoch seconds, ISO 8601 or RFC 822; botocore accepts all three anywhere. */
static int parse_time_text(time_t *out, const char *s)
{
    char *end;
    double d;

    errno = 0;
    d = strtod(s, &end);
    if (end != s && *end == '\0' && errno == 0 && isfinite(d))
        *out = floor_seconds(d);
    else if ((*out = parse_iso8601(s)) == -1)
        *out = parse_rfc822(s);
    /* -1 is also one second before the epoch; no AWS timestamp is. */
    return *out == -1 || !time_writable((double)*out) ? -1 : 0;
}

time_t plumb_aws_protocol__input_time(const json_t *value)
{
    time_t t = 0;

    if (json_is_number(value))
        t = floor_seconds(json_number_value(value));
    else if (json_is_string(value))
        parse_time_text(&t, json_string_value(value));
    return t;
}

int plumb_aws_protocol__put_time(struct plumb_buf *out, time_t t, const char *format)
{
    struct tm tm;
    char iso[21];
    int error;

    if (format && strcasecmp(format, "unixTimestamp") == 0) {
        error = plumb_buf_printf(out, "%lld", (long long)t);
    } else if (format && strcasecmp(format, "rfc822") == 0) {
        /* By hand, like the parser: strftime's %a and %b follow the locale. */
        gmtime_r(&t, &tm);
        error = plumb_buf_printf(out, "%s, %02d %s %04d %02d:%02d:%02d GMT", day_names[tm.tm_wday],
                                 tm.tm_mday, month_names[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
                                 tm.tm_min, tm.tm_sec);
    } else {
        plumb_time_iso8601(iso, t);
        error = plumb_buf_puts(out, iso);
    }
    return error;
}

json_t *plumb_aws_protocol__output_time_text(const char *text)
{
    char iso[21];
    time_t t;

    if (!text || parse_time_text(&t, text) < 0)
        t = -1;
    plumb_time_iso8601(iso, t);
    return t == -1 ? NULL : json_string(iso);
}

json_t *plumb_aws_protocol__output_time(const json_t *value)
{
    char iso[21];
    json_t *out = NULL;

    if (json_is_string(value)) {
        out = plumb_aws_protocol__output_time_text(json_string_value(value));
    } else if (json_is_number(value) && time_writable(json_number_value(value))) {
        plumb_time_iso8601(iso, floor_seconds(json_number_value(value)));
        out = json_string(iso);
    }
    return out;
}

/* ---- scalars as text ------------------------------------------------------------------- */

/* Python's repr of a float, which is what botocore sends: the shortest digits that read back
 * as the same double, and a ".0" on integral values. */
static int put_double(struct plumb_buf *out, double d)
{
    char s[40];
    int p;

    if (d < 1e16 && d > -1e16 && (double)(long long)d == d) {
        snprintf(s, sizeof(s), "%.1f", d);
    } else {
        for (p = 1; p <= 17; p++) {
            snprintf(s, sizeof(s), "%.*g", p, d);
            if (strtod(s, NULL) == d)
                break;
        }
    }
    return plumb_buf_puts(out, s);
}

int plumb_aws_protocol__put_scalar(struct plumb_buf *out, const json_t *ref, const json_t *shape,
                                   const json_t *value, const char *default_time_format)
{
    const char *fmt = plumb_aws_protocol__trait_str(ref, shape, "timestampFormat");
    int error;

    if (strcmp(plumb_aws_protocol__type(shape), "timestamp") == 0)
        error = plumb_aws_protocol__put_time(out, plumb_aws_protocol__input_time(value),
                                             fmt ? fmt : default_time_format);
    else if (json_is_boolean(value))
        error = plumb_buf_puts(out, json_is_true(value) ? "true" : "false");
    else if (json_is_integer(value))
        error = plumb_buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(value));
    else if (json_is_real(value))
        error = put_double(out, json_real_value(value));
    else
        error = plumb_buf_put(out, json_string_value(value), json_string_length(value));
    return error;
}

/* ---- text and XML to JSON -------------------------------------------------------------- */

static int response_problem(const struct plumb_buf *path, const char *what, const char *text)
{
    return plumb_error_set(PLUMB_ERROR, "response value '%s' is not %s: '%.64s'",
                           path && path->len ? path->ptr : "(body)", what, text ? text : "");
}

int plumb_aws_protocol__scalar_from_text(json_t **out, const json_t *shape, const char *text,
                                         const struct plumb_buf *path)
{
    const char *type = plumb_aws_protocol__type(shape);
    const char *p = text ? text : "";
    char *end;
    int error = 0;

    *out = NULL;
    if (strcmp(type, "integer") == 0 || strcmp(type, "long") == 0) {
        long long v;
        errno = 0;
        v = strtoll(p, &end, 10);
        while (isspace((unsigned char)*end))
            end++;
        if (end == p || *end || errno)
            error = response_problem(path, "an integer", p);
        else
            *out = json_integer((json_int_t)v);
    } else if (strcmp(type, "float") == 0 || strcmp(type, "double") == 0) {
        double v;
        errno = 0;
        v = strtod(p, &end);
        while (isspace((unsigned char)*end))
            end++;
        if (end == p || *end || errno || !isfinite(v))
            error = response_problem(path, "a number", p);
        else
            *out = json_real(v);
    } else if (strcmp(type, "boolean") == 0) {
        /* botocore's rule: anything but "true" is false. */
        *out = json_boolean(strcmp(p, "true") == 0);
    } else if (strcmp(type, "timestamp") == 0) {
        *out = plumb_aws_protocol__output_time_text(p);
        if (!*out)
            error = response_problem(path, "a timestamp", p);
    } else {
        *out = json_string(p);
        if (!*out)
            error = response_problem(path, "UTF-8 text", "");
    }
    return error;
}

void plumb_aws_protocol__path_push(struct plumb_buf *path, const char *name)
{
    if (path->len)
        plumb_buf_putc(path, '.');
    plumb_buf_puts(path, name);
}

void plumb_aws_protocol__path_pop(struct plumb_buf *path, size_t len)
{
    path->len = len;
    if (path->ptr)
        path->ptr[len] = '\0';
}

static const char *elem_name(const json_t *elem)
{
    const char *n = json_string_value(json_object_get(elem, "name"));

    return n ? n : "";
}

/*
 * The element name a structure member is found under: its locationName, except that a
 * flattened list whose member has a locationName repeats under that name (botocore's
 * _member_key_name).
 */
static const char *member_xml_name(const struct plumb_aws_service *svc, const json_t *ref,
                                   const json_t *shape, const char *name)
{
    const json_t *mref = json_object_get(shape, "member");
    const char *n = NULL;

    if (strcmp(plumb_aws_protocol__type(shape), "list") == 0 &&
        plumb_aws_protocol__trait_true(ref, shape, "flattened"))
        n = plumb_aws_protocol__trait_str(mref, plumb_aws_model_ref_shape(svc, mref),
                                          "locationName");
    if (!n)
        n = plumb_aws_protocol__trait_str(ref, shape, "locationName");
    return n ? n : name;
}

static int xml_map_entry(json_t *map, const struct plumb_aws_service *svc, const json_t *shape,
                         const json_t *entry, struct plumb_buf *path)
{
    const json_t *kref = json_object_get(shape, "key"), *vref = json_object_get(shape, "value");
    const json_t *vshape = plumb_aws_model_ref_shape(svc, vref);
    const char *kname =
        plumb_aws_protocol__trait_str(kref, plumb_aws_model_ref_shape(svc, kref), "locationName");
    const char *vname = plumb_aws_protocol__trait_str(vref, vshape, "locationName");
    const char *key = plumb_xml_child_text(entry, kname ? kname : "key");
    const json_t *velem = plumb_xml_child(entry, vname ? vname : "value");
    size_t mark = path->len;
    json_t *value = NULL;
    int error = 0;

    if (!key || !velem) {
        error = plumb_error_set(PLUMB_ERROR, "response map '%s' has an entry without %s",
                                path->len ? path->ptr : "(body)", key ? "a value" : "a key");
        goto done;
    }
    plumb_aws_protocol__path_push(path, key);
    PLUMB_TRY(plumb_aws_protocol__from_xml(&value, svc, vshape, velem, path));
    if (json_object_set_new(map, key, value) < 0) {
        value = NULL;
        error = plumb_error_oom();
        goto done;
    }
    value = NULL;
done:
    plumb_aws_protocol__path_pop(path, mark);
    json_decref(value);
    return error;
}

static int xml_list_item(json_t *list, const struct plumb_aws_service *svc, const json_t *shape,
                         const json_t *item, struct plumb_buf *path)
{
    const json_t *mshape = plumb_aws_model_ref_shape(svc, json_object_get(shape, "member"));
    size_t mark = path->len;
    json_t *value = NULL;
    int error = 0;

    plumb_buf_printf(path, "[%zu]", json_array_size(list));
    PLUMB_TRY(plumb_aws_protocol__from_xml(&value, svc, mshape, item, path));
    if (json_array_append_new(list, value) < 0)
        error = plumb_error_oom();
    value = NULL;
done:
    plumb_aws_protocol__path_pop(path, mark);
    return error;
}

/* A member stored as repeated sibling elements: a flattened list or map. */
static int xml_flattened(json_t **out, const struct plumb_aws_service *svc, const json_t *shape,
                         const json_t *parent, const char *name, struct plumb_buf *path)
{
    int is_list = strcmp(plumb_aws_protocol__type(shape), "list") == 0;
    const json_t *child;
    json_t *acc = is_list ? json_array() : json_object();
    int error = 0;
    size_t i;

    *out = NULL;
    PLUMB_ALLOC_CHECK(acc);
    json_array_foreach(json_object_get(parent, "children"), i, child)
    {
        if (strcmp(elem_name(child), name) != 0)
            continue;
        if (is_list)
            PLUMB_TRY(xml_list_item(acc, svc, shape, child, path));
        else
            PLUMB_TRY(xml_map_entry(acc, svc, shape, child, path));
    }
    if (json_is_array(acc) ? json_array_size(acc) > 0 : json_object_size(acc) > 0) {
        *out = acc;
        acc = NULL;
    }
done:
    json_decref(acc);
    return error;
}

static int xml_structure(json_t **out, const struct plumb_aws_service *svc, const json_t *shape,
                         const json_t *elem, struct plumb_buf *path)
{
    json_t *obj = json_object(), *value = NULL;
    const char *name, *loc, *type;
    const json_t *ref, *mshape, *child;
    size_t mark = path->len;
    int error = 0;

    PLUMB_ALLOC_CHECK(obj);
    json_object_foreach((json_t *)json_object_get(shape, "members"), name, ref)
    {
        mshape = plumb_aws_model_ref_shape(svc, ref);
        loc = plumb_aws_protocol__trait_str(ref, mshape, "location");
        /* Header and status members come from elsewhere in the response (rest-xml). */
        if (loc && (strcmp(loc, "header") == 0 || strcmp(loc, "headers") == 0 ||
                    strcmp(loc, "statusCode") == 0))
            continue;
        type = plumb_aws_protocol__type(mshape);
        plumb_aws_protocol__path_push(path, name);
        if ((strcmp(type, "list") == 0 || strcmp(type, "map") == 0) &&
            plumb_aws_protocol__trait_true(ref, mshape, "flattened")) {
            PLUMB_TRY(xml_flattened(&value, svc, mshape, elem,
                                    member_xml_name(svc, ref, mshape, name), path));
        } else if ((child = plumb_xml_child(elem, member_xml_name(svc, ref, mshape, name)))) {
            PLUMB_TRY(plumb_aws_protocol__from_xml(&value, svc, mshape, child, path));
        } else if (plumb_aws_protocol__trait_true(ref, mshape, "xmlAttribute")) {
            const char *an = plumb_aws_protocol__trait_str(ref, mshape, "locationName");
            const json_t *attr = json_object_get(json_object_get(elem, "attrs"), an ? an : name);
            if (attr)
                PLUMB_TRY(plumb_aws_protocol__scalar_from_text(&value, mshape,
                                                               json_string_value(attr), path));
        }
        plumb_aws_protocol__path_pop(path, mark);
        if (value && json_object_set_new(obj, name, value) < 0) {
            value = NULL;
            error = plumb_error_oom();
            goto done;
        }
        value = NULL;
    }
    *out = obj;
    obj = NULL;
done:
    plumb_aws_protocol__path_pop(path, mark);
    json_decref(value);
    json_decref(obj);
    return error;
}

int plumb_aws_protocol__from_xml(json_t **out, const struct plumb_aws_service *svc,
                                 const json_t *shape, const json_t *elem, struct plumb_buf *path)
{
    const char *type = plumb_aws_protocol__type(shape);
    const json_t *child;
    json_t *acc = NULL;
    int error = 0;
    size_t i;

    *out = NULL;
    if (strcmp(type, "structure") == 0) {
        error = xml_structure(out, svc, shape, elem, path);
    } else if (strcmp(type, "list") == 0 || strcmp(type, "map") == 0) {
        /* Reached with the wrapping element: every child is an item or an entry, whatever
         * its name (<member>, <item>, <Tag>, <entry>), as botocore reads them. */
        acc = strcmp(type, "list") == 0 ? json_array() : json_object();
        PLUMB_ALLOC_CHECK(acc);
        json_array_foreach(json_object_get(elem, "children"), i, child)
        {
            if (json_is_array(acc))
                PLUMB_TRY(xml_list_item(acc, svc, shape, child, path));
            else
                PLUMB_TRY(xml_map_entry(acc, svc, shape, child, path));
        }
        *out = acc;
        acc = NULL;
    } else {
        error = plumb_aws_protocol__scalar_from_text(
            out, shape, json_string_value(json_object_get(elem, "text")), path);
    }
done:
    json_decref(acc);
    return error;
}

void plumb_aws_protocol__xml_error(struct plumb_aws_error_info *out,
                                   const struct plumb_http_response *resp)
{
    const json_t *err = NULL;
    const char *s;
    json_t *root = NULL;

    if (resp->body.len == 0 || plumb_xml_parse(&root, resp->body.ptr, resp->body.len) < 0)
        goto done;
    /* query: <ErrorResponse><Error>; ec2: <Response><Errors><Error>; S3: <Error>. */
    if (strcmp(elem_name(root), "Error") == 0)
        err = root;
    else if (!(err = plumb_xml_child(root, "Error")))
        err = plumb_xml_child(plumb_xml_child(root, "Errors"), "Error");
    if (!err)
        goto done;
    s = plumb_xml_child_text(err, "Code");
    plumb_aws_protocol__copy(out->code, sizeof(out->code), s, s ? strlen(s) : 0);
    s = plumb_xml_child_text(err, "Message");
    plumb_aws_protocol__copy(out->message, sizeof(out->message), s, s ? strlen(s) : 0);
    if (!(s = plumb_xml_child_text(root, "RequestId")) &&
        !(s = plumb_xml_child_text(root, "RequestID")))
        s = plumb_xml_child_text(err, "RequestId");
    plumb_aws_protocol__copy(out->request_id, sizeof(out->request_id), s, s ? strlen(s) : 0);
done:
    json_decref(root);
}

/* ---- input validation ------------------------------------------------------------------ */

struct validation {
    const struct plumb_aws_service *svc;
    struct plumb_buf path;
    struct plumb_buf problems;
};

static void problem(struct validation *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void problem(struct validation *v, const char *fmt, ...)
{
    va_list ap;

    if (v->problems.len)
        plumb_buf_puts(&v->problems, "; ");
    va_start(ap, fmt);
    plumb_buf_vprintf(&v->problems, fmt, ap);
    va_end(ap);
}

static const char *vpath(const struct validation *v)
{
    return v->path.len ? v->path.ptr : "input";
}

static int is_base64(const char *s, size_t n)
{
    int ok = n % 4 == 0, pad = 0;
    size_t i;

    /* Standard alphabet, padded; "=" only in the last two places. */
    for (i = 0; i < n && ok; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '=' && i + 2 >= n)
            pad++;
        else if (pad || !(isalnum(c) || c == '+' || c == '/'))
            ok = 0;
    }
    return ok;
}

static void validate_value(struct validation *v, const json_t *shape, const json_t *value);

static void validate_structure(struct validation *v, const json_t *shape, const json_t *value)
{
    const json_t *members = json_object_get(shape, "members"), *ref, *member, *req;
    size_t mark = v->path.len, i;
    const char *key;

    if (!json_is_object(value)) {
        problem(v, "%s must be an object", vpath(v));
        return;
    }
    json_object_foreach((json_t *)value, key, member)
    {
        plumb_aws_protocol__path_push(&v->path, key);
        ref = json_object_get(members, key);
        if (!ref)
            problem(v, "unknown member '%s'", v->path.ptr);
        else if (!json_is_null(member))
            validate_value(v, plumb_aws_model_ref_shape(v->svc, ref), member);
        plumb_aws_protocol__path_pop(&v->path, mark);
    }
    json_array_foreach(json_object_get(shape, "required"), i, req)
    {
        const json_t *m = json_object_get(value, json_string_value(req));
        if (!m || json_is_null(m)) {
            plumb_aws_protocol__path_push(&v->path, json_string_value(req));
            problem(v, "missing required member '%s'", v->path.ptr);
            plumb_aws_protocol__path_pop(&v->path, mark);
        }
    }
}

static void validate_value(struct validation *v, const json_t *shape, const json_t *value)
{
    const char *type = plumb_aws_protocol__type(shape);
    size_t mark = v->path.len, i;
    const json_t *item;
    const char *key;

    if (!shape || json_is_true(json_object_get(shape, "document"))) {
        /* A shape the trimmed model lacks, or a document (any JSON): nothing to check. */
    } else if (strcmp(type, "structure") == 0) {
        validate_structure(v, shape, value);
    } else if (strcmp(type, "list") == 0) {
        if (!json_is_array(value))
            problem(v, "%s must be an array", vpath(v));
        json_array_foreach(value, i, item)
        {
            plumb_buf_printf(&v->path, "[%zu]", i);
            if (json_is_null(item))
                problem(v, "%s must not be null", v->path.ptr);
            else
                validate_value(
                    v, plumb_aws_model_ref_shape(v->svc, json_object_get(shape, "member")), item);
            plumb_aws_protocol__path_pop(&v->path, mark);
        }
    } else if (strcmp(type, "map") == 0) {
        if (!json_is_object(value))
            problem(v, "%s must be an object", vpath(v));
        json_object_foreach((json_t *)value, key, item)
        {
            plumb_aws_protocol__path_push(&v->path, key);
            if (json_is_null(item))
                problem(v, "%s must not be null", v->path.ptr);
            else
                validate_value(
                    v, plumb_aws_model_ref_shape(v->svc, json_object_get(shape, "value")), item);
            plumb_aws_protocol__path_pop(&v->path, mark);
        }
    } else if (strcmp(type, "integer") == 0 || strcmp(type, "long") == 0) {
        if (!json_is_integer(value))
            problem(v, "%s must be an integer", vpath(v));
    } else if (strcmp(type, "float") == 0 || strcmp(type, "double") == 0) {
        if (!json_is_number(value))
            problem(v, "%s must be a number", vpath(v));
    } else if (strcmp(type, "boolean") == 0) {
        if (!json_is_boolean(value))
            problem(v, "%s must be a boolean", vpath(v));
    } else if (strcmp(type, "timestamp") == 0) {
        time_t t;
        if (!(json_is_number(value) && time_writable(json_number_value(value))) &&
            !(json_is_string(value) && parse_time_text(&t, json_string_value(value)) == 0))
            problem(v, "%s must be a timestamp (ISO 8601 or epoch seconds)", vpath(v));
    } else if (strcmp(type, "blob") == 0) {
        if (!json_is_string(value) ||
            !is_base64(json_string_value(value), json_string_length(value)))
            problem(v, "%s must be a base64 string", vpath(v));
    } else if (!json_is_string(value)) {
        problem(v, "%s must be a string", vpath(v));
    }
}

/* ---- idempotency tokens ---------------------------------------------------------------- */

/* A random UUID v4, as the SDKs generate for members marked idempotencyToken. */
static json_t *uuid_v4(void)
{
    uint64_t hi = plumb_random_u64(), lo = plumb_random_u64();
    char s[37];

    hi = (hi & ~UINT64_C(0xf000)) | UINT64_C(0x4000);
    lo = (lo & ~(UINT64_C(0xc) << 60)) | (UINT64_C(0x8) << 60);
    snprintf(s, sizeof(s), "%08" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%012" PRIx64,
             hi >> 32, (hi >> 16) & 0xffff, hi & 0xffff, lo >> 48, lo & UINT64_C(0xffffffffffff));
    return json_string(s);
}

/* Only top-level members, as in botocore's generate_idempotent_uuid handler. */
static int fill_idempotency_tokens(json_t *params, const json_t *shape)
{
    const json_t *ref;
    const char *name;
    int error = 0;

    json_object_foreach((json_t *)json_object_get(shape, "members"), name, ref)
    {
        const json_t *have = json_object_get(params, name);
        if (!json_is_true(json_object_get(ref, "idempotencyToken")) ||
            (have && !json_is_null(have)))
            continue;
        if (json_object_set_new(params, name, uuid_v4()) < 0) {
            error = plumb_error_oom();
            goto done;
        }
    }
done:
    return error;
}

/* ---- dispatch -------------------------------------------------------------------------- */

static const struct plumb_aws_protocol__impl *impl_of(const struct plumb_aws_service *svc)
{
    if (svc->protocol == PLUMB_AWS_PROTO_JSON)
        return &plumb_aws_protocol__json;
    if (svc->protocol == PLUMB_AWS_PROTO_REST_XML)
        return &plumb_aws_protocol__rest_xml;
    return &plumb_aws_protocol__query; /* query and ec2 */
}

int plumb_aws_protocol_build(struct plumb_http_request *req, const struct plumb_aws_service *svc,
                             const char *operation, const json_t *input)
{
    const json_t *op = plumb_aws_model_operation(svc, operation);
    const json_t *shape = op ? plumb_aws_model_ref_shape(svc, json_object_get(op, "input")) : NULL;
    struct validation v = {svc, PLUMB_BUF_INIT, PLUMB_BUF_INIT};
    json_t *params = NULL;
    int error = 0;

    if (!op) {
        error =
            plumb_error_set(PLUMB_EINVALID, "unknown operation '%s' of %s", operation, svc->key);
        goto done;
    }
    if (input && !json_is_object(input)) {
        error = plumb_error_set(PLUMB_EINVALID, "%s: input must be an object", operation);
        goto done;
    }
    /* A shallow copy: only top-level idempotency tokens are added. */
    params = input ? json_copy((json_t *)input) : json_object();
    PLUMB_ALLOC_CHECK(params);
    PLUMB_TRY(fill_idempotency_tokens(params, shape));
    if (shape)
        validate_structure(&v, shape, params);
    else if (json_object_size(params))
        problem(&v, "unknown member '%s'", json_object_iter_key(json_object_iter(params)));
    if (v.problems.len) {
        error = plumb_error_set(PLUMB_EINVALID, "%s: %s", operation, v.problems.ptr);
        goto done;
    }
    error = impl_of(svc)->build(req, svc, op, shape, params);
done:
    plumb_buf_release(&v.path);
    plumb_buf_release(&v.problems);
    json_decref(params);
    return error;
}

int plumb_aws_protocol_parse(json_t **out, const struct plumb_aws_service *svc,
                             const char *operation, const struct plumb_http_response *resp)
{
    const json_t *op = plumb_aws_model_operation(svc, operation);
    int error = 0;

    *out = NULL;
    if (!op) {
        error =
            plumb_error_set(PLUMB_EINVALID, "unknown operation '%s' of %s", operation, svc->key);
        goto done;
    }
    error = impl_of(svc)->parse(
        out, svc, op, plumb_aws_model_ref_shape(svc, json_object_get(op, "output")), resp);
    if (error < 0)
        error = plumb_error_wrap("%s %s", svc->key, operation);
done:
    return error;
}

/* Codes for error responses without one (S3 HEAD requests have no body). */
static const struct {
    long status;
    const char *code;
} status_codes[] = {
    {301, "PermanentRedirect"},  {304, "NotModified"},        {307, "TemporaryRedirect"},
    {400, "BadRequest"},         {401, "Unauthorized"},       {403, "Forbidden"},
    {404, "NotFound"},           {405, "MethodNotAllowed"},   {409, "Conflict"},
    {412, "PreconditionFailed"}, {429, "TooManyRequests"},    {500, "InternalError"},
    {502, "BadGateway"},         {503, "ServiceUnavailable"}, {504, "GatewayTimeout"},
};

void plumb_aws_protocol_parse_error(struct plumb_aws_error_info *out,
                                    const struct plumb_aws_service *svc,
                                    const struct plumb_http_response *resp)
{
    static const char *const id_headers[] = {"x-amzn-RequestId", "x-amz-request-id", "x-amz-id-2"};
    const char *s = NULL;
    size_t i;

    memset(out, 0, sizeof(*out));
    out->status = resp->status;
    impl_of(svc)->parse_error(out, svc, resp);
    /* The body's request id when it has one (query, ec2, S3), as botocore reads it; else
     * the headers, x-amz-id-2 (S3's host id) last as the least useful. */
    for (i = 0; i < sizeof(id_headers) / sizeof(id_headers[0]) && !out->request_id[0]; i++) {
        s = plumb_kvlist_get(&resp->headers, id_headers[i]);
        if (s)
            plumb_aws_protocol__copy(out->request_id, sizeof(out->request_id), s, strlen(s));
    }
    if (!out->code[0]) {
        snprintf(out->code, sizeof(out->code), "HTTP %ld", resp->status);
        for (i = 0; i < sizeof(status_codes) / sizeof(status_codes[0]); i++)
            if (status_codes[i].status == resp->status)
                snprintf(out->code, sizeof(out->code), "%s", status_codes[i].code);
    }
}
