/*
 * AWS::AppRunner::Service — App Runner services running an image from ECR.
 *
 * What differs between CloudFormation's shape and the API's, and is converted both ways:
 * RuntimeEnvironmentVariables and RuntimeEnvironmentSecrets are lists of {Name, Value} in
 * CloudFormation and maps in the API; AWS reports Cpu and Memory in units ("1024", "2048")
 * whatever form was sent ("1 vCPU", "2 GB"), so the driver sends and compares units too.
 *
 * Tags and AutoScalingConfigurationArn are write-only in the schema (CloudFormation's), so
 * read leaves them out, as provider.h says for every write-only property; AWS does report
 * both (ListTagsForResource, AutoScalingConfigurationSummary), which is what the tests check.
 *
 * Every change is asynchronous: CreateService, UpdateService and DeleteService start an
 * operation, the service is OPERATION_IN_PROGRESS until it ends, and AWS refuses another
 * change meanwhile (InvalidStateException). wait_stable waits for RUNNING and then checks that
 * the last operation succeeded: a failed update is rolled back and leaves the service RUNNING
 * with its old configuration, which must not pass for success. There is no batch describe
 * (ListServices returns summaries without the configuration), so there is no read_many.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "provider/provider.h"
#include "provider/util.h"
#include "util/buf.h"
#include "util/error.h"

#define NAME_MAX_LEN     40    /* ServiceName: [A-Za-z0-9][A-Za-z0-9-_]{3,39} */
#define POLL_MS          10000 /* App Runner operations take minutes */
#define SETTLE_POLL_MS   2000  /* waiting inside update/remove for another operation to end */
#define SETTLE_TIMEOUT_S 1800

/* Properties UpdateService changes, under the same names in the API. */
static const char *const updatable[] = {"SourceConfiguration",
                                        "InstanceConfiguration",
                                        "HealthCheckConfiguration",
                                        "NetworkConfiguration",
                                        "ObservabilityConfiguration",
                                        "AutoScalingConfigurationArn",
                                        NULL};
static const char *const create_only[] = {"ServiceName", "EncryptionConfiguration", NULL};

/*
 * AWS's values for members left out (the schema's plumb.defaults say the same). UpdateService
 * keeps the members of a structure it is not given, so an update sends whole structures: the
 * declared members over these, which is how a member the user stopped declaring goes back to
 * its default.
 */
static const char *const defaults_text =
    "{\"InstanceConfiguration\": {\"Cpu\": \"1024\", \"Memory\": \"2048\"},"
    " \"HealthCheckConfiguration\": {\"Protocol\": \"TCP\", \"Path\": \"/\", \"Interval\": 5,"
    "   \"Timeout\": 2, \"HealthyThreshold\": 1, \"UnhealthyThreshold\": 5},"
    " \"NetworkConfiguration\": {\"EgressConfiguration\": {\"EgressType\": \"DEFAULT\"},"
    "   \"IngressConfiguration\": {\"IsPubliclyAccessible\": true}, \"IpAddressType\": \"IPV4\"},"
    " \"ObservabilityConfiguration\": {\"ObservabilityEnabled\": false}}";

static int is_code(const char *code)
{
    const struct plumb_aws_error_info *e = plumb_aws_last_error();

    return e && strcmp(e->code, code) == 0;
}

/* "arn:aws:apprunner:us-east-1:123456789012:service/NAME/ID" → NAME, for messages. */
static void name_from_arn(char *out, size_t n, const char *arn)
{
    const char *s = arn ? strstr(arn, ":service/") : NULL;
    size_t len;

    if (!s) {
        snprintf(out, n, "%s", arn ? arn : "?");
        return;
    }
    s += strlen(":service/");
    len = strcspn(s, "/");
    snprintf(out, n, "%.*s", (int)len, s);
}

/*
 * The name CloudFormation would generate when none is declared, but derived from the
 * plumb:address tag alone, so that lookup finds what an interrupted apply created: the
 * address with what the pattern refuses made '-', cut to fit, then a hash of the whole
 * address. The auto scaling configuration driver has its own copy (util.h has no such
 * helper).
 */
static char *generated_name(const json_t *props, size_t max)
{
    json_t *tags = plumb_provider_tags_to_map(json_object_get(props, "Tags"));
    const char *address = json_string_value(json_object_get(tags, "plumb:address"));
    struct plumb_buf b = PLUMB_BUF_INIT;
    unsigned long hash = 2166136261u; /* FNV-1a */
    size_t i, keep;
    char *name = NULL;

    if (!address || !*address)
        goto done;
    for (i = 0; address[i]; i++)
        hash = ((hash ^ (unsigned char)address[i]) * 16777619u) & 0xffffffffu;
    if (!isalnum((unsigned char)address[0]))
        plumb_buf_putc(&b, 'p');
    keep = max - 9 - b.len;
    for (i = 0; address[i] && i < keep; i++)
        plumb_buf_putc(&b,
                       isalnum((unsigned char)address[i]) || address[i] == '_' ? address[i] : '-');
    plumb_buf_printf(&b, "-%08lx", hash);
    name = plumb_buf_detach(&b);
done:
    plumb_buf_release(&b);
    json_decref(tags);
    return name;
}

static char *name_of(const json_t *props)
{
    const char *name = json_string_value(json_object_get(props, "ServiceName"));

    return name ? strdup(name) : generated_name(props, NAME_MAX_LEN);
}

/* A number as its text, as CloudFormation reads one where a string is wanted (Port: 8080). */
static json_t *as_text(const json_t *v)
{
    char text[32];

    if (!json_is_integer(v))
        return json_deep_copy(v);
    snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(v));
    return json_string(text);
}

/* "1 vCPU" → "1024", "0.5 GB" → "512"; units and anything else unchanged. */
static json_t *to_units(const json_t *v, const char *suffix)
{
    const char *s = json_string_value(v);
    size_t n, k = strlen(suffix);
    char *end, text[32];
    double x;

    if (!s)
        return as_text(v);
    n = strlen(s);
    if (n > k && strcmp(s + n - k, suffix) == 0) {
        x = strtod(s, &end);
        if (end == s + n - k && x > 0 && x < 1000) {
            snprintf(text, sizeof(text), "%ld", (long)(x * 1024 + 0.5));
            return json_string(text);
        }
    }
    return json_string(s);
}

/* [{"Name": n, "Value": v}, ...] → {"n": "v"} */
static json_t *pairs_to_map(const json_t *list)
{
    json_t *map = json_object(), *p;
    size_t i;

    json_array_foreach(list, i, p)
    {
        const char *k = json_string_value(json_object_get(p, "Name"));
        const char *v = json_string_value(json_object_get(p, "Value"));
        if (map && k)
            json_object_set_new(map, k, json_string(v ? v : ""));
    }
    return map;
}

/* {"n": "v"} → [{"Name": n, "Value": v}, ...] sorted by name (a map has no order to keep) */
static json_t *map_to_pairs(const json_t *map)
{
    json_t *list = plumb_provider_tags_to_list(map, "Name", "Value");

    return list;
}

/* Replaces the list member `key` of `obj` by a map (to_map) or the map by a list; an empty
 * result is dropped, as AWS leaves out what is not set. */
static void convert_member(json_t *obj, const char *key, int to_map)
{
    json_t *v = json_object_get(obj, key), *c;

    if (!v)
        return;
    c = to_map ? pairs_to_map(v) : map_to_pairs(v);
    if (c && (to_map ? json_object_size(c) : json_array_size(c)))
        json_object_set_new(obj, key, c);
    else {
        json_decref(c);
        json_object_del(obj, key);
    }
}

/* SourceConfiguration between the two shapes: only ImageConfiguration differs. */
static json_t *convert_source(const json_t *src, int to_api)
{
    json_t *out = json_deep_copy(src), *img;

    img = json_object_get(json_object_get(out, "ImageRepository"), "ImageConfiguration");
    if (img) {
        convert_member(img, "RuntimeEnvironmentVariables", to_api);
        convert_member(img, "RuntimeEnvironmentSecrets", to_api);
        if (json_object_get(img, "Port"))
            json_object_set_new(img, "Port", as_text(json_object_get(img, "Port")));
    }
    if (!to_api)
        json_object_del(out, "CodeRepository"); /* not a source plumb manages */
    return out;
}

static json_t *convert_instance(const json_t *cfg)
{
    json_t *out = json_deep_copy(cfg);

    if (out && json_object_get(out, "Cpu"))
        json_object_set_new(out, "Cpu", to_units(json_object_get(out, "Cpu"), " vCPU"));
    if (out && json_object_get(out, "Memory"))
        json_object_set_new(out, "Memory", to_units(json_object_get(out, "Memory"), " GB"));
    return out;
}

/* Declared "1 vCPU" / "2 GB" in the units App Runner reports, for the planner's comparison. */
static int cmp_by_name(const void *a, const void *b)
{
    const char *x = json_string_value(json_object_get(*(json_t *const *)a, "Name"));
    const char *y = json_string_value(json_object_get(*(json_t *const *)b, "Name"));

    return strcmp(x ? x : "", y ? y : "");
}

/* App Runner keeps environment variables and secrets as maps: their order is not the user's. */
static void sort_by_name(json_t *obj, const char *key)
{
    json_t *list = json_object_get(obj, key), **items, *sorted;
    size_t i, n = json_array_size(list);

    if (n < 2 || !(items = calloc(n, sizeof(*items))))
        return;
    for (i = 0; i < n; i++)
        items[i] = json_array_get(list, i);
    qsort(items, n, sizeof(*items), cmp_by_name);
    sorted = json_array();
    for (i = 0; i < n; i++)
        json_array_append(sorted, items[i]);
    free(items);
    json_object_set_new(obj, key, sorted);
}

/* Declared values in the form App Runner reports them, for the planner's comparison: "1 vCPU"
 * / "2 GB" in units, environment variables and secrets in name order. */
static json_t *svc_normalize(const json_t *props)
{
    json_t *out = json_deep_copy(props), *img;
    const json_t *cfg = json_object_get(props, "InstanceConfiguration");

    if (out && json_is_object(cfg))
        json_object_set_new(out, "InstanceConfiguration", convert_instance(cfg));
    img = json_object_get(
        json_object_get(json_object_get(out, "SourceConfiguration"), "ImageRepository"),
        "ImageConfiguration");
    if (json_is_object(img)) {
        sort_by_name(img, "RuntimeEnvironmentVariables");
        sort_by_name(img, "RuntimeEnvironmentSecrets");
    }
    return out;
}

/* The declared properties in the API's shape (the members CreateService and UpdateService
 * share, and EncryptionConfiguration), normalised so two declarations compare as AWS sees
 * them. */
static json_t *api_shape(const json_t *props)
{
    static const char *const same[] = {"HealthCheckConfiguration",    "NetworkConfiguration",
                                       "ObservabilityConfiguration",  "EncryptionConfiguration",
                                       "AutoScalingConfigurationArn", NULL};
    json_t *in = json_object(), *v;
    size_t i;

    if (!in)
        return NULL;
    if ((v = json_object_get(props, "SourceConfiguration")))
        json_object_set_new(in, "SourceConfiguration", convert_source(v, 1));
    if ((v = json_object_get(props, "InstanceConfiguration")))
        json_object_set_new(in, "InstanceConfiguration", convert_instance(v));
    for (i = 0; same[i]; i++)
        if ((v = json_object_get(props, same[i])))
            json_object_set(in, same[i], v);
    return in;
}

/* DescribeService's Service → the schema's shape; *out = NULL when it was deleted. */
static int observe(const json_t *svc, json_t **out)
{
    static const char *const same[] = {"ServiceName",
                                       "ServiceArn",
                                       "ServiceId",
                                       "ServiceUrl",
                                       "Status",
                                       "HealthCheckConfiguration",
                                       "NetworkConfiguration",
                                       "ObservabilityConfiguration",
                                       "EncryptionConfiguration",
                                       NULL};
    const char *status = json_string_value(json_object_get(svc, "Status"));
    json_t *o = NULL, *v;
    size_t i;
    int error = 0;

    *out = NULL;
    if (!svc || (status && strcmp(status, "DELETED") == 0))
        goto done;
    o = json_object();
    PLUMB_ALLOC_CHECK(o);
    for (i = 0; same[i]; i++)
        if ((v = json_object_get(svc, same[i])))
            json_object_set(o, same[i], v);
    if ((v = json_object_get(svc, "SourceConfiguration")))
        json_object_set_new(o, "SourceConfiguration", convert_source(v, 0));
    if ((v = json_object_get(svc, "InstanceConfiguration")))
        json_object_set_new(o, "InstanceConfiguration", convert_instance(v));
    *out = o;
    o = NULL;
done:
    json_decref(o);
    return error;
}

/* DescribeService: *svc = the Service, or NULL when AWS does not know the ARN. */
static int describe(struct plumb_aws *aws, const char *arn, json_t **svc)
{
    json_t *in = json_pack("{s:s}", "ServiceArn", arn), *out = NULL;
    int error = 0;

    *svc = NULL;
    PLUMB_ALLOC_CHECK(in);
    error = plumb_aws_call(aws, "apprunner", "DescribeService", in, &out);
    if (error == PLUMB_ENOTFOUND)
        error = 0;
    else if (error == 0)
        *svc = json_incref(json_object_get(out, "Service"));
done:
    json_decref(in);
    json_decref(out);
    return error;
}

static int svc_read(struct plumb_aws *aws, const json_t *id, json_t **observed)
{
    const char *arn = plumb_provider_id_str(id, "ServiceArn");
    json_t *svc = NULL;
    int error = 0;

    *observed = NULL;
    if (!arn)
        return plumb_error_set(PLUMB_EINVALID, "app runner service id lacks ServiceArn");
    PLUMB_TRY(describe(aws, arn, &svc));
    error = observe(svc, observed);
done:
    json_decref(svc);
    return error;
}

/* By name: ListServices (paginated) lists every service not deleted, with its ARN. */
static int svc_lookup(struct plumb_aws *aws, const json_t *props, json_t **id)
{
    char *name = name_of(props);
    json_t *out = NULL, *s;
    size_t i;
    int error = 0;

    *id = NULL;
    if (!name)
        goto done;
    PLUMB_TRY(plumb_aws_paginate(aws, "apprunner", "ListServices", NULL, &out));
    json_array_foreach(json_object_get(out, "ServiceSummaryList"), i, s)
    {
        const char *n = json_string_value(json_object_get(s, "ServiceName"));
        const char *status = json_string_value(json_object_get(s, "Status"));
        if (n && strcmp(n, name) == 0 && !(status && strcmp(status, "DELETED") == 0)) {
            *id = json_pack("{s:O}", "ServiceArn", json_object_get(s, "ServiceArn"));
            PLUMB_ALLOC_CHECK(*id);
            break;
        }
    }
done:
    free(name);
    json_decref(out);
    return error;
}

static int svc_create(struct plumb_aws *aws, const json_t *props, json_t **observed)
{
    char *name = name_of(props);
    json_t *in = NULL, *out = NULL, *tags = NULL;
    int error = 0;

    *observed = NULL;
    if (!name) {
        error = plumb_error_set(PLUMB_EINVALID, "an app runner service needs ServiceName or a "
                                                "plumb:address tag to name it after");
        goto done;
    }
    in = api_shape(props);
    PLUMB_ALLOC_CHECK(in);
    json_object_set_new(in, "ServiceName", json_string(name));
    /* Tags are create-only: CreateService is where they are set */
    tags = plumb_provider_tags_to_map(json_object_get(props, "Tags"));
    PLUMB_ALLOC_CHECK(tags);
    if (json_object_size(tags))
        json_object_set_new(in, "Tags", plumb_provider_tags_to_list(tags, "Key", "Value"));
    /* one call makes all of it: nothing to clean up after a later step */
    PLUMB_TRY(plumb_aws_call(aws, "apprunner", "CreateService", in, &out));
    PLUMB_TRY(observe(json_object_get(out, "Service"), observed));
    if (!*observed)
        error = plumb_error_set(PLUMB_ERROR,
                                "app runner CreateService for '%s' returned no "
                                "service",
                                name);
done:
    free(name);
    json_decref(in);
    json_decref(out);
    json_decref(tags);
    return error;
}

/* --- waiting ------------------------------------------------------------------------------ */

enum wait_goal { WAIT_STABLE, WAIT_DELETED, WAIT_SETTLED };

struct wait_ctx {
    struct plumb_aws *aws;
    const char *arn;
    enum wait_goal what;
    char name[64];
    int gone; /* set when the service turned out not to exist */
};

/* The last operation (ListOperations lists the newest first): 1 succeeded or none, 0 still
 * running, <0 it failed. */
static int last_operation(struct wait_ctx *w)
{
    json_t *in = json_pack("{s:s, s:i}", "ServiceArn", w->arn, "MaxResults", 1), *out = NULL;
    const json_t *op;
    const char *status, *type;
    int error = 0;

    PLUMB_ALLOC_CHECK(in);
    PLUMB_TRY(plumb_aws_call(w->aws, "apprunner", "ListOperations", in, &out));
    op = json_array_get(json_object_get(out, "OperationSummaryList"), 0);
    status = json_string_value(json_object_get(op, "Status"));
    type = json_string_value(json_object_get(op, "Type"));
    if (!status || strcmp(status, "SUCCEEDED") == 0)
        error = 1;
    else if (strcmp(status, "PENDING") == 0 || strcmp(status, "IN_PROGRESS") == 0 ||
             strcmp(status, "ROLLBACK_IN_PROGRESS") == 0)
        error = 0;
    else
        error = plumb_error_set(PLUMB_ERROR, "app runner service '%s': operation %s ended %s%s",
                                w->name, type ? type : "?", status,
                                strncmp(status, "ROLLBACK", 8) == 0
                                    ? " (the service runs its previous configuration)"
                                    : "");
done:
    json_decref(in);
    json_decref(out);
    return error;
}

static int check(void *ctx, const char **shown)
{
    struct wait_ctx *w = ctx;
    json_t *svc = NULL;
    const char *status;
    int error = 0;

    PLUMB_TRY(describe(w->aws, w->arn, &svc));
    status = svc ? json_string_value(json_object_get(svc, "Status")) : "DELETED";
    if (!status)
        status = "";
    if (strcmp(status, "DELETED") == 0) {
        w->gone = 1;
        if (w->what == WAIT_STABLE)
            error =
                plumb_error_set(PLUMB_ENOTFOUND, "app runner service '%s' does not exist", w->name);
        else
            error = 1;
    } else if (strcmp(status, "OPERATION_IN_PROGRESS") == 0) {
        *shown = w->what == WAIT_DELETED ? "deleting" : "operation in progress";
    } else if (w->what == WAIT_SETTLED) {
        error = 1;
    } else if (strcmp(status, "DELETE_FAILED") == 0 ||
               (w->what == WAIT_STABLE && strcmp(status, "CREATE_FAILED") == 0)) {
        error = plumb_error_set(PLUMB_ERROR, "app runner service '%s' is %s", w->name, status);
    } else if (w->what == WAIT_STABLE) {
        /* RUNNING or PAUSED: stable, if what brought it there did not fail */
        error = last_operation(w);
        if (error == 0)
            *shown = "operation in progress";
    } else {
        *shown = "deleting"; /* a deletion not started yet or a failed one still reporting */
    }
done:
    json_decref(svc);
    return error;
}

static int wait_for(struct plumb_aws *aws, const json_t *id, struct plumb_progress *p,
                    enum wait_goal what, long poll_ms, int *gone)
{
    struct wait_ctx w = {aws, plumb_provider_id_str(id, "ServiceArn"), what, "", 0};
    int error;

    if (!w.arn)
        return plumb_error_set(PLUMB_EINVALID, "app runner service id lacks ServiceArn");
    name_from_arn(w.name, sizeof(w.name), w.arn);
    error = plumb_provider_wait(p, poll_ms, check, &w,
                                what == WAIT_DELETED ? "the app runner service to be deleted"
                                                     : "the app runner service to be running");
    if (gone)
        *gone = w.gone;
    return error;
}

static int svc_wait_stable(struct plumb_aws *aws, const json_t *id, struct plumb_progress *p)
{
    return wait_for(aws, id, p, WAIT_STABLE, POLL_MS, NULL);
}

static int svc_wait_deleted(struct plumb_aws *aws, const json_t *id, struct plumb_progress *p)
{
    return wait_for(aws, id, p, WAIT_DELETED, POLL_MS, NULL);
}

/* Until the operation in progress ends, so that AWS takes the next change. */
static int wait_settled(struct plumb_aws *aws, const json_t *id, int *gone)
{
    struct plumb_progress p = {NULL, NULL, SETTLE_TIMEOUT_S, SETTLE_POLL_MS};

    return wait_for(aws, id, &p, WAIT_SETTLED, SETTLE_POLL_MS, gone);
}

/* --- update and remove -------------------------------------------------------------------- */

/* The service's default auto scaling configuration (IsDefault: DefaultConfiguration unless
 * the account chose another), for a service whose declared one was taken out. */
static int default_asc(struct plumb_aws *aws, json_t **arn)
{
    json_t *out = NULL, *s;
    size_t i;
    int error = 0;

    *arn = NULL;
    PLUMB_TRY(plumb_aws_paginate(aws, "apprunner", "ListAutoScalingConfigurations", NULL, &out));
    json_array_foreach(json_object_get(out, "AutoScalingConfigurationSummaryList"), i, s)
    {
        if (json_is_true(json_object_get(s, "IsDefault"))) {
            *arn = json_incref(json_object_get(s, "AutoScalingConfigurationArn"));
            break;
        }
    }
    if (!*arn)
        error = plumb_error_set(PLUMB_ERROR, "no default app runner auto scaling configuration");
done:
    json_decref(out);
    return error;
}

/* The UpdateService member for `key`, changed from `before` to `after` (API shapes). */
static int update_member(struct plumb_aws *aws, const json_t *defaults, const json_t *before,
                         const json_t *after, const char *key, json_t **out)
{
    const json_t *b = json_object_get(before, key), *a = json_object_get(after, key);
    json_t *v = NULL, *img, *bimg;
    int error = 0;

    *out = NULL;
    if (strcmp(key, "AutoScalingConfigurationArn") == 0) {
        if (a)
            v = json_incref((json_t *)a);
        else
            PLUMB_TRY(default_asc(aws, &v));
    } else if (strcmp(key, "SourceConfiguration") == 0) {
        /* whole ImageRepository; lists no longer declared are cleared with an empty map */
        if (!a) {
            error = plumb_error_set(PLUMB_EINVALID, "an app runner service needs "
                                                    "SourceConfiguration");
            goto done;
        }
        v = json_deep_copy(a);
        PLUMB_ALLOC_CHECK(v);
        img = json_object_get(json_object_get(v, "ImageRepository"), "ImageConfiguration");
        bimg = json_object_get(json_object_get(b, "ImageRepository"), "ImageConfiguration");
        if (!img && json_object_get(v, "ImageRepository")) {
            img = json_object();
            json_object_set_new(json_object_get(v, "ImageRepository"), "ImageConfiguration", img);
        }
        if (img) {
            if (!json_object_get(img, "Port"))
                json_object_set_new(img, "Port", json_string("8080"));
            if (json_object_get(bimg, "RuntimeEnvironmentVariables") &&
                !json_object_get(img, "RuntimeEnvironmentVariables"))
                json_object_set_new(img, "RuntimeEnvironmentVariables", json_object());
            if (json_object_get(bimg, "RuntimeEnvironmentSecrets") &&
                !json_object_get(img, "RuntimeEnvironmentSecrets"))
                json_object_set_new(img, "RuntimeEnvironmentSecrets", json_object());
        }
    } else {
        v = json_deep_copy(json_object_get(defaults, key));
        if (!v)
            v = json_object();
        PLUMB_ALLOC_CHECK(v);
        if (a)
            json_object_update(v, (json_t *)a);
    }
    *out = v;
    v = NULL;
done:
    json_decref(v);
    return error;
}

/* Calls `operation`; when another operation is in progress, waits for it to end and tries
 * once more. *gone = 1 when the service turned out not to exist. */
static int call_when_settled(struct plumb_aws *aws, const json_t *id, const char *operation,
                             const json_t *in, int *gone)
{
    json_t *out = NULL;
    int error;

    *gone = 0;
    error = plumb_aws_call(aws, "apprunner", operation, in, &out);
    if (error < 0 && error != PLUMB_ENOTFOUND && is_code("InvalidStateException")) {
        json_decref(out);
        out = NULL;
        if ((error = wait_settled(aws, id, gone)) == 0 && !*gone)
            error = plumb_aws_call(aws, "apprunner", operation, in, &out);
    }
    if (error == PLUMB_ENOTFOUND)
        *gone = 1;
    json_decref(out);
    return error;
}

static int update_tags(struct plumb_aws *aws, const char *arn, const json_t *before,
                       const json_t *after)
{
    json_t *tb = plumb_provider_tags_to_map(json_object_get(before, "Tags"));
    json_t *ta = plumb_provider_tags_to_map(json_object_get(after, "Tags"));
    json_t *add = NULL, *del = NULL, *in = NULL, *out = NULL;
    int error = 0;

    PLUMB_ALLOC_CHECK(tb && ta);
    plumb_provider_tags_diff(tb, ta, &add, &del);
    PLUMB_ALLOC_CHECK(add && del);
    if (json_object_size(add)) {
        in = json_pack("{s:s, s:o}", "ResourceArn", arn, "Tags",
                       plumb_provider_tags_to_list(add, "Key", "Value"));
        PLUMB_ALLOC_CHECK(in);
        PLUMB_TRY(plumb_aws_call(aws, "apprunner", "TagResource", in, &out));
        json_decref(in);
        json_decref(out);
        in = out = NULL;
    }
    if (json_array_size(del)) {
        in = json_pack("{s:s, s:O}", "ResourceArn", arn, "TagKeys", del);
        PLUMB_ALLOC_CHECK(in);
        PLUMB_TRY(plumb_aws_call(aws, "apprunner", "UntagResource", in, &out));
    }
done:
    json_decref(tb);
    json_decref(ta);
    json_decref(add);
    json_decref(del);
    json_decref(in);
    json_decref(out);
    return error;
}

static int svc_update(struct plumb_aws *aws, const json_t *id, const json_t *before,
                      const json_t *after, json_t **observed)
{
    const char *arn = plumb_provider_id_str(id, "ServiceArn");
    json_t *ab = NULL, *aa = NULL, *in = NULL, *defaults = NULL, *v = NULL;
    char name[64];
    size_t i;
    int error = 0, gone = 0;

    *observed = NULL;
    if (!arn) {
        error = plumb_error_set(PLUMB_EINVALID, "app runner service id lacks ServiceArn");
        goto done;
    }
    name_from_arn(name, sizeof(name), arn);
    /* the planner replaces on these; changing one in place is not possible, and keeping the
     * old value quietly would report success for what did not happen */
    for (i = 0; create_only[i]; i++) {
        if (plumb_provider_changed(before, after, create_only[i])) {
            error = plumb_error_set(PLUMB_EINVALID,
                                    "'%s' of app runner service '%s' cannot change in place: a "
                                    "new service replaces it",
                                    create_only[i], name);
            goto done;
        }
    }
    ab = api_shape(before);
    aa = api_shape(after);
    defaults = json_loads(defaults_text, 0, NULL);
    in = json_pack("{s:s}", "ServiceArn", arn);
    PLUMB_ALLOC_CHECK(ab && aa && defaults && in);
    /* only what changed, compared in the API's shape (so "1 vCPU" → "1024" is no change) */
    for (i = 0; updatable[i]; i++) {
        if (!plumb_provider_changed(ab, aa, updatable[i]))
            continue;
        PLUMB_TRY(update_member(aws, defaults, ab, aa, updatable[i], &v));
        json_object_set_new(in, updatable[i], v);
        v = NULL;
    }
    if (json_object_size(in) > 1) {
        error = call_when_settled(aws, id, "UpdateService", in, &gone);
        if (gone)
            error =
                plumb_error_set(PLUMB_ENOTFOUND, "app runner service '%s' does not exist", name);
        if (error < 0)
            goto done;
    }
    /* create-only in CloudFormation, but AWS changes them in place if asked */
    PLUMB_TRY(update_tags(aws, arn, before, after));
    PLUMB_TRY(svc_read(aws, id, observed));
    if (!*observed)
        error = plumb_error_set(PLUMB_ENOTFOUND, "app runner service '%s' does not exist", name);
done:
    json_decref(ab);
    json_decref(aa);
    json_decref(in);
    json_decref(defaults);
    json_decref(v);
    return error;
}

/* DeleteService; a service in the middle of an operation (a create being rolled back) is
 * waited for first, since AWS refuses to delete it until the operation ends. */
static int svc_remove(struct plumb_aws *aws, const json_t *id, unsigned flags)
{
    const char *arn = plumb_provider_id_str(id, "ServiceArn");
    json_t *in = NULL;
    int error = 0, gone = 0;

    (void)flags;
    if (!arn)
        return plumb_error_set(PLUMB_EINVALID, "app runner service id lacks ServiceArn");
    in = json_pack("{s:s}", "ServiceArn", arn);
    PLUMB_ALLOC_CHECK(in);
    error = call_when_settled(aws, id, "DeleteService", in, &gone);
    if (gone)
        error = 0; /* gone already */
done:
    json_decref(in);
    return error;
}

const struct plumb_resource_type plumb_driver_apprunner_service = {
    .type_name = "AWS::AppRunner::Service",
    .normalize = svc_normalize,
    .read = svc_read,
    .lookup = svc_lookup,
    .create = svc_create,
    .update = svc_update,
    .remove = svc_remove,
    .wait_stable = svc_wait_stable,
    .wait_deleted = svc_wait_deleted,
};
