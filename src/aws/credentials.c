#include "aws/credentials.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/client.h"
#include "aws/http.h"
#include "util/error.h"
#include "util/log.h"
#include "util/sys.h"

/* Temporary credentials are renewed this long before they expire, as the SDKs do. */
#define REFRESH_MARGIN_S 300
/* After a failed renewal, the current credentials are used this long before trying again. */
#define REFRESH_RETRY_S 30
/* source_profile chains longer than this are refused (the SDKs have no limit; loops aside,
 * nobody chains this far). */
#define MAX_PROFILE_CHAIN 16
/* Token files are a JWT or a short secret; anything larger is not one. */
#define MAX_TOKEN_FILE (1024 * 1024)

#define ECS_HOST      "http://169.254.170.2"
#define IMDS_ENDPOINT "http://169.254.169.254"
#define IMDS_IPV6     "http://[fd00:ec2::254]"
#define IMDS_ROLES    "/latest/meta-data/iam/security-credentials/"

/*
 * Internal return of the sources: this source has no credentials (not configured), the
 * reason is in `why` and the chain moves on. Errors are negative, success 0, as everywhere.
 */
#define SKIP 1

static const char *ecs_host = ECS_HOST;

struct plumb_aws_credentials_chain {
    pthread_mutex_t lock;
    struct plumb_aws *aws;
    const struct plumb_aws_shared_config *cfg;
    char *profile;
    int have;
    struct plumb_aws_credentials cached;
    time_t retry_at;
};

/* The profiles being resolved, outermost first: a source_profile already here is a loop. */
struct visit {
    const char *names[MAX_PROFILE_CHAIN];
    size_t n;
};

/* ---- credentials values ---------------------------------------------------------------- */

static void free_secret(char *s)
{
    if (!s)
        return;
    explicit_bzero(s, strlen(s));
    free(s);
}

void plumb_aws_credentials_release(struct plumb_aws_credentials *c)
{
    if (!c)
        return;
    free_secret(c->access_key_id);
    free_secret(c->secret_access_key);
    free_secret(c->session_token);
    memset(c, 0, sizeof(*c));
}

int plumb_aws_credentials_copy(struct plumb_aws_credentials *out,
                               const struct plumb_aws_credentials *in)
{
    int error = 0;

    memset(out, 0, sizeof(*out));
    out->access_key_id = strdup(in->access_key_id ? in->access_key_id : "");
    PLUMB_ALLOC_CHECK(out->access_key_id);
    out->secret_access_key = strdup(in->secret_access_key ? in->secret_access_key : "");
    PLUMB_ALLOC_CHECK(out->secret_access_key);
    if (in->session_token) {
        out->session_token = strdup(in->session_token);
        PLUMB_ALLOC_CHECK(out->session_token);
    }
    out->expiration = in->expiration;
    memcpy(out->source, in->source, sizeof(out->source));
    out->source[sizeof(out->source) - 1] = '\0';

done:
    if (error < 0)
        plumb_aws_credentials_release(out);
    return error;
}

static void set_source(struct plumb_aws_credentials *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_source(struct plumb_aws_credentials *c, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    /* Truncation is fine: the source is a description for people. */
    vsnprintf(c->source, sizeof(c->source), fmt, ap);
    va_end(ap);
}

static int set_credentials(struct plumb_aws_credentials *out, const char *id, const char *secret,
                           const char *token, time_t expiration)
{
    struct plumb_aws_credentials in;

    memset(&in, 0, sizeof(in));
    in.access_key_id = (char *)id;
    in.secret_access_key = (char *)secret;
    in.session_token = (char *)(token && *token ? token : NULL);
    in.expiration = expiration;
    return plumb_aws_credentials_copy(out, &in);
}

/*
 * Credentials from a JSON object: STS's Credentials ({AccessKeyId, SecretAccessKey,
 * SessionToken, Expiration}) or the ECS and EC2 endpoints' answer (Token for SessionToken).
 */
static int credentials_from_json(struct plumb_aws_credentials *out, const json_t *obj,
                                 const char *token_name, const char *what)
{
    const char *id = json_string_value(json_object_get(obj, "AccessKeyId"));
    const char *secret = json_string_value(json_object_get(obj, "SecretAccessKey"));
    const char *token = json_string_value(json_object_get(obj, token_name));
    const json_t *exp = json_object_get(obj, "Expiration");
    time_t expiration = 0;
    int error = 0;

    if (!id || !*id || !secret || !*secret) {
        error = plumb_error_set(PLUMB_EAUTH, "%s: the answer has no AccessKeyId or SecretAccessKey",
                                what);
        goto done;
    }
    if (json_is_integer(exp)) {
        expiration = (time_t)json_integer_value(exp);
    } else if (json_is_string(exp)) {
        expiration = plumb_time_parse_iso8601(json_string_value(exp));
        if (expiration < 0) {
            error = plumb_error_set(PLUMB_EAUTH, "%s: invalid Expiration '%s'", what,
                                    json_string_value(exp));
            goto done;
        }
    }
    PLUMB_TRY(set_credentials(out, id, secret, token, expiration));

done:
    return error;
}

/* ---- helpers --------------------------------------------------------------------------- */

static int skip(struct plumb_buf *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int skip(struct plumb_buf *why, const char *fmt, ...)
{
    va_list ap;
    int error;

    plumb_buf_clear(why);
    va_start(ap, fmt);
    error = plumb_buf_vprintf(why, fmt, ap);
    va_end(ap);
    return error < 0 ? error : SKIP;
}

/* Reads a token file, trailing white space dropped: editors and `echo` add a newline. */
static int read_token_file(struct plumb_buf *out, const char *path, const char *what)
{
    FILE *fp = NULL;
    char chunk[4096];
    size_t n;
    int error = 0;

    plumb_buf_clear(out);
    fp = fopen(path, "r");
    if (!fp) {
        error = plumb_error_set(PLUMB_EINVALID, "unable to read %s '%s': %s", what, path,
                                strerror(errno));
        goto done;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
        if (out->len + n > MAX_TOKEN_FILE) {
            error = plumb_error_set(PLUMB_EINVALID, "%s '%s' is larger than %d bytes", what, path,
                                    MAX_TOKEN_FILE);
            goto done;
        }
        PLUMB_TRY(plumb_buf_put(out, chunk, n));
    }
    if (ferror(fp)) {
        error = plumb_error_set(PLUMB_EINVALID, "unable to read %s '%s': %s", what, path,
                                strerror(errno));
        goto done;
    }
    while (out->len && strchr(" \t\r\n", out->ptr[out->len - 1]))
        out->ptr[--out->len] = '\0';
    if (!out->len)
        error = plumb_error_set(PLUMB_EINVALID, "%s '%s' is empty", what, path);

done:
    explicit_bzero(chunk, sizeof(chunk));
    if (fp)
        fclose(fp);
    return error;
}

static void release_secret_buf(struct plumb_buf *b)
{
    if (b->ptr)
        explicit_bzero(b->ptr, b->cap);
    plumb_buf_release(b);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int percent_decode(char **out, const char *s, size_t n)
{
    struct plumb_buf b = PLUMB_BUF_INIT;
    size_t i;
    int error = 0, hi, lo;

    PLUMB_TRY(plumb_buf_put(&b, "", 0));
    for (i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && (hi = hex_value(s[i + 1])) >= 0 &&
            (lo = hex_value(s[i + 2])) >= 0) {
            PLUMB_TRY(plumb_buf_putc(&b, (char)(hi * 16 + lo)));
            i += 2;
        } else {
            PLUMB_TRY(plumb_buf_putc(&b, s[i]));
        }
    }
    *out = plumb_buf_detach(&b);
    PLUMB_ALLOC_CHECK(*out);

done:
    plumb_buf_release(&b);
    return error;
}

/*
 * Splits an endpoint URL into the request's base, raw path and raw query: the sender encodes
 * them again, so they are decoded here.
 */
static int request_for_url(struct plumb_http_request *req, const char *method, const char *url)
{
    const char *authority = strstr(url, "://"), *p, *q, *end;
    int error = 0;

    if (!authority ||
        (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)) {
        error = plumb_error_set(PLUMB_EINVALID, "'%s' is not an http or https URL", url);
        goto done;
    }
    req->method = method;
    p = authority + 3 + strcspn(authority + 3, "/?#");
    req->url_base = strndup(url, (size_t)(p - url));
    PLUMB_ALLOC_CHECK(req->url_base);
    end = p + strcspn(p, "?#");
    if (end == p)
        req->path = strdup("/");
    else
        PLUMB_TRY(percent_decode(&req->path, p, (size_t)(end - p)));
    PLUMB_ALLOC_CHECK(req->path);
    if (*end != '?')
        goto done;
    for (q = end + 1; *q && *q != '#';) {
        size_t len = strcspn(q, "&#"), nlen = strcspn(q, "=&#");
        char *name = NULL, *value = NULL;
        if (len) {
            error = percent_decode(&name, q, nlen < len ? nlen : len);
            if (error == 0)
                error = nlen < len ? percent_decode(&value, q + nlen + 1, len - nlen - 1)
                                   : percent_decode(&value, "", 0);
            if (error == 0)
                error = plumb_kvlist_add(&req->query, name, value);
            free(name);
            free(value);
            if (error < 0)
                goto done;
        }
        q += len;
        if (*q == '&')
            q++;
    }

done:
    return error;
}

/* The host of a URL's authority, without user info, port or IPv6 brackets. */
static int url_host(struct plumb_buf *out, const char *url_base)
{
    const char *a = strstr(url_base, "://"), *at, *end;

    a = a ? a + 3 : url_base;
    at = strchr(a, '@');
    if (at)
        a = at + 1;
    if (*a == '[') {
        a++;
        end = strchr(a, ']');
        if (!end)
            end = a + strlen(a);
    } else {
        end = a + strcspn(a, ":/");
    }
    return plumb_buf_put(out, a, (size_t)(end - a));
}

/*
 * Plain HTTP to a full URI is allowed only to hosts nobody on the network can pose as: the
 * loopback and the ECS/EKS agents' link-local addresses, as in the SDKs — the authorization
 * token and the credentials travel in the clear.
 */
static int full_uri_allowed(const char *url_base)
{
    struct plumb_buf host = PLUMB_BUF_INIT;
    const char *h;
    int ok = 0;

    if (strncasecmp(url_base, "https://", 8) == 0) {
        ok = 1;
        goto done;
    }
    if (url_host(&host, url_base) < 0)
        goto done;
    h = plumb_buf_cstr(&host);
    ok = strcasecmp(h, "localhost") == 0 || strcmp(h, "::1") == 0 ||
         (strncmp(h, "127.", 4) == 0 && strspn(h, "0123456789.") == strlen(h)) ||
         strcmp(h, "169.254.170.2") == 0 || strcmp(h, "169.254.170.23") == 0 ||
         strcasecmp(h, "fd00:ec2::23") == 0;

done:
    plumb_buf_release(&host);
    return ok;
}

/*
 * The metadata endpoints answer on the local link in milliseconds or not at all: short
 * timeouts keep a machine that is not on EC2 from waiting, and one retry covers a dropped
 * packet or a restarting agent.
 */
static int send_metadata(struct plumb_http_response *resp, const struct plumb_http_request *req)
{
    struct plumb_http_options opts = {1000, 2000};
    int attempt, error = 0;

    for (attempt = 1; attempt <= 2; attempt++) {
        error = plumb_http_send(resp, req, &opts);
        if (error == 0 && resp->status < 500)
            break;
        if (attempt < 2)
            plumb_sleep_ms(100);
    }
    return error;
}

/* ---- STS ------------------------------------------------------------------------------- */

/*
 * Calls an STS AssumeRole* operation and takes the credentials from its answer. A refusal is
 * PLUMB_EAUTH whatever AWS called it; transport errors keep their code.
 */
static int sts_assume(struct plumb_aws_credentials *out, struct plumb_aws *aws,
                      const struct plumb_aws_credentials *creds, const char *operation,
                      const json_t *input, const char *what)
{
    json_t *res = NULL;
    char *msg = NULL;
    int error = 0;

    if (!aws) {
        error = plumb_error_set(PLUMB_ERROR, "%s: no AWS client to call STS with", what);
        goto done;
    }
    if ((error = plumb_aws__call_with(aws, creds, "sts", operation, input, &res)) < 0) {
        msg = strdup(plumb_error_message());
        PLUMB_ALLOC_CHECK(msg);
        error = plumb_error_set(error == PLUMB_EAWS ? PLUMB_EAUTH : error, "%s: %s", what, msg);
        goto done;
    }
    PLUMB_TRY(
        credentials_from_json(out, json_object_get(res, "Credentials"), "SessionToken", what));
    if (!out->session_token) {
        plumb_aws_credentials_release(out);
        error = plumb_error_set(PLUMB_EAUTH, "%s: the answer has no SessionToken", what);
    }

done:
    free(msg);
    json_decref(res);
    return error;
}

static int session_name(struct plumb_buf *out, const char *given)
{
    plumb_buf_clear(out);
    if (given)
        return plumb_buf_puts(out, given);
    return plumb_buf_printf(out, "plumb-%lld", (long long)plumb_clock_now());
}

/* AssumeRoleWithWebIdentity, sent unsigned: the token is the proof. */
static int web_identity(struct plumb_aws_credentials *out, struct plumb_aws *aws,
                        const char *role_arn, const char *token_file, const char *name,
                        const char *what)
{
    struct plumb_buf token = PLUMB_BUF_INIT;
    struct plumb_buf session = PLUMB_BUF_INIT;
    struct plumb_buf context = PLUMB_BUF_INIT;
    json_t *input = NULL;
    int error = 0;

    PLUMB_TRY(read_token_file(&token, token_file, "web identity token file"));
    PLUMB_TRY(session_name(&session, name));
    input = json_pack("{s:s, s:s, s:s}", "RoleArn", role_arn, "RoleSessionName", session.ptr,
                      "WebIdentityToken", token.ptr);
    PLUMB_ALLOC_CHECK(input);
    PLUMB_TRY(plumb_buf_printf(&context, "unable to assume role '%s' with web identity (%s)",
                               role_arn, what));
    PLUMB_TRY(sts_assume(out, aws, NULL, "AssumeRoleWithWebIdentity", input, context.ptr));

done:
    json_decref(input);
    release_secret_buf(&token);
    plumb_buf_release(&session);
    plumb_buf_release(&context);
    return error;
}

/* ---- the sources ----------------------------------------------------------------------- */

static int from_environment(struct plumb_aws_credentials *out, struct plumb_buf *why)
{
    const char *id = plumb_env_get("AWS_ACCESS_KEY_ID");
    const char *secret = plumb_env_get("AWS_SECRET_ACCESS_KEY");
    int error = 0;

    if (!id && !secret) {
        error = skip(why, "AWS_ACCESS_KEY_ID not set");
        goto done;
    }
    if (!id || !secret) {
        error = plumb_error_set(PLUMB_EINVALID,
                                "incomplete AWS credentials in the environment: %s is set but %s "
                                "is not",
                                id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                                id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
        goto done;
    }
    PLUMB_TRY(set_credentials(out, id, secret, plumb_env_get("AWS_SESSION_TOKEN"), 0));
    set_source(out, "environment (AWS_ACCESS_KEY_ID)");

done:
    return error;
}

static int from_env_web_identity(struct plumb_aws_credentials *out,
                                 struct plumb_aws_credentials_chain *chain, struct plumb_buf *why)
{
    const char *role = plumb_env_get("AWS_ROLE_ARN");
    const char *file = plumb_env_get("AWS_WEB_IDENTITY_TOKEN_FILE");
    int error = 0;

    if (!role) {
        error = skip(why, "AWS_ROLE_ARN not set");
        goto done;
    }
    if (!file) {
        error = skip(why, "AWS_WEB_IDENTITY_TOKEN_FILE not set");
        goto done;
    }
    PLUMB_TRY(web_identity(out, chain->aws, role, file, plumb_env_get("AWS_ROLE_SESSION_NAME"),
                           "AWS_ROLE_ARN"));
    set_source(out, "web identity (AWS_ROLE_ARN %s)", role);

done:
    return error;
}

static int from_ecs(struct plumb_aws_credentials *out, struct plumb_buf *why)
{
    const char *rel = plumb_env_get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = plumb_env_get("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    const char *token_file = plumb_env_get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    const char *token_env = plumb_env_get("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    struct plumb_http_request req;
    struct plumb_http_response resp;
    struct plumb_buf url = PLUMB_BUF_INIT;
    struct plumb_buf token = PLUMB_BUF_INIT;
    json_t *doc = NULL;
    int error = 0;

    plumb_http_request_init(&req);
    plumb_http_response_init(&resp);
    if (!rel && !full) {
        error = skip(why, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and "
                          "AWS_CONTAINER_CREDENTIALS_FULL_URI not set");
        goto done;
    }
    if (rel) {
        if (rel[0] != '/') {
            error = plumb_error_set(PLUMB_EINVALID,
                                    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must start with '/'");
            goto done;
        }
        PLUMB_TRY(plumb_buf_printf(&url, "%s%s", ecs_host, rel));
    } else {
        PLUMB_TRY(plumb_buf_puts(&url, full));
    }
    if ((error = request_for_url(&req, "GET", url.ptr)) < 0) {
        plumb_error_wrap("invalid AWS_CONTAINER_CREDENTIALS_%s", rel ? "RELATIVE_URI" : "FULL_URI");
        goto done;
    }
    if (!rel && !full_uri_allowed(req.url_base)) {
        error = plumb_error_set(PLUMB_EINVALID,
                                "AWS_CONTAINER_CREDENTIALS_FULL_URI '%s' must be https or name "
                                "a loopback or ECS/EKS agent address",
                                req.url_base);
        goto done;
    }

    /* The file wins over the variable: EKS rotates the file under a running process. */
    if (token_file)
        PLUMB_TRY(read_token_file(&token, token_file, "container authorization token file"));
    else if (token_env)
        PLUMB_TRY(plumb_buf_puts(&token, token_env));
    if (token.len) {
        if (strpbrk(token.ptr, "\r\n")) {
            error = plumb_error_set(PLUMB_EINVALID,
                                    "the container authorization token contains a line break");
            goto done;
        }
        PLUMB_TRY(plumb_kvlist_add(&req.headers, "Authorization", token.ptr));
    }
    PLUMB_TRY(plumb_kvlist_add(&req.headers, "Accept", "application/json"));

    if ((error = send_metadata(&resp, &req)) < 0) {
        plumb_error_wrap("unable to get ECS container credentials");
        goto done;
    }
    if (resp.status != 200) {
        error = plumb_error_set(PLUMB_EAUTH,
                                "unable to get ECS container credentials: HTTP %ld from %s",
                                resp.status, req.url_base);
        goto done;
    }
    doc = json_loadb(plumb_buf_cstr(&resp.body), resp.body.len, 0, NULL);
    if (!json_is_object(doc)) {
        error = plumb_error_set(PLUMB_EAUTH,
                                "unable to get ECS container credentials: the answer from %s "
                                "is not a JSON object",
                                req.url_base);
        goto done;
    }
    PLUMB_TRY(credentials_from_json(out, doc, "Token", "ECS container credentials"));
    set_source(out, "ECS container credentials");

done:
    json_decref(doc);
    if (resp.body.ptr)
        explicit_bzero(resp.body.ptr, resp.body.cap);
    plumb_http_response_release(&resp);
    plumb_http_request_release(&req);
    release_secret_buf(&token);
    plumb_buf_release(&url);
    return error;
}

/* The IMDS base URL, without a trailing '/'. */
static int imds_endpoint(struct plumb_buf *out)
{
    const char *v = plumb_env_get("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    const char *mode = plumb_env_get("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
    int error = 0;

    if (!v)
        v = mode && strcasecmp(mode, "IPv6") == 0 ? IMDS_IPV6 : IMDS_ENDPOINT;
    PLUMB_TRY(plumb_buf_puts(out, v));
    while (out->len && out->ptr[out->len - 1] == '/')
        out->ptr[--out->len] = '\0';

done:
    return error;
}

static int imds_request(struct plumb_http_response *resp, const char *method, const char *endpoint,
                        const char *path, const char *header, const char *value)
{
    struct plumb_http_request req;
    struct plumb_buf url = PLUMB_BUF_INIT;
    int error = 0;

    plumb_http_request_init(&req);
    PLUMB_TRY(plumb_buf_printf(&url, "%s%s", endpoint, path));
    PLUMB_TRY(request_for_url(&req, method, url.ptr));
    PLUMB_TRY(plumb_kvlist_add(&req.headers, header, value));
    error = send_metadata(resp, &req);

done:
    plumb_http_request_release(&req);
    plumb_buf_release(&url);
    return error;
}

static int from_imds(struct plumb_aws_credentials *out, struct plumb_buf *why)
{
    const char *disabled = plumb_env_get("AWS_EC2_METADATA_DISABLED");
    struct plumb_http_response resp;
    struct plumb_buf endpoint = PLUMB_BUF_INIT;
    struct plumb_buf token = PLUMB_BUF_INIT;
    struct plumb_buf path = PLUMB_BUF_INIT;
    char *role = NULL;
    json_t *doc = NULL;
    const char *code;
    int error = 0;

    plumb_http_response_init(&resp);
    if (disabled && strcasecmp(disabled, "true") == 0) {
        error = skip(why, "disabled by AWS_EC2_METADATA_DISABLED");
        goto done;
    }
    PLUMB_TRY(imds_endpoint(&endpoint));

    /* No answer to the token request means this is not an EC2 instance: not an error. */
    if (imds_request(&resp, "PUT", endpoint.ptr, "/latest/api/token",
                     "X-aws-ec2-metadata-token-ttl-seconds", "21600") < 0) {
        plumb_error_clear();
        error = skip(why, "no answer from %s", endpoint.ptr);
        goto done;
    }
    if (resp.status != 200 || !resp.body.len) {
        error = skip(why, "token request to %s answered HTTP %ld", endpoint.ptr, resp.status);
        goto done;
    }
    PLUMB_TRY(plumb_buf_put(&token, resp.body.ptr, resp.body.len));

    if ((error = imds_request(&resp, "GET", endpoint.ptr, IMDS_ROLES, "X-aws-ec2-metadata-token",
                              token.ptr)) < 0) {
        plumb_error_wrap("unable to get EC2 instance metadata credentials");
        goto done;
    }
    if (resp.status == 404) {
        error = skip(why, "no IAM role attached to the instance");
        goto done;
    }
    if (resp.status != 200) {
        error = plumb_error_set(PLUMB_EAUTH,
                                "unable to get EC2 instance metadata credentials: listing roles "
                                "answered HTTP %ld",
                                resp.status);
        goto done;
    }
    role = strndup(plumb_buf_cstr(&resp.body), strcspn(plumb_buf_cstr(&resp.body), "\r\n"));
    PLUMB_ALLOC_CHECK(role);
    if (!*role) {
        error = skip(why, "no IAM role attached to the instance");
        goto done;
    }

    PLUMB_TRY(plumb_buf_printf(&path, "%s%s", IMDS_ROLES, role));
    if ((error = imds_request(&resp, "GET", endpoint.ptr, path.ptr, "X-aws-ec2-metadata-token",
                              token.ptr)) < 0) {
        plumb_error_wrap("unable to get EC2 instance metadata credentials for role '%s'", role);
        goto done;
    }
    if (resp.status != 200) {
        error = plumb_error_set(PLUMB_EAUTH,
                                "unable to get EC2 instance metadata credentials for role '%s': "
                                "HTTP %ld",
                                role, resp.status);
        goto done;
    }
    doc = json_loadb(plumb_buf_cstr(&resp.body), resp.body.len, 0, NULL);
    code = json_string_value(json_object_get(doc, "Code"));
    if (!json_is_object(doc) || (code && strcmp(code, "Success") != 0)) {
        error = plumb_error_set(PLUMB_EAUTH,
                                "unable to get EC2 instance metadata credentials for role '%s': "
                                "%s",
                                role, code ? code : "the answer is not a JSON object");
        goto done;
    }
    PLUMB_TRY(credentials_from_json(out, doc, "Token", "EC2 instance metadata"));
    set_source(out, "EC2 instance metadata (role '%s')", role);

done:
    json_decref(doc);
    free(role);
    if (resp.body.ptr)
        explicit_bzero(resp.body.ptr, resp.body.cap);
    plumb_http_response_release(&resp);
    release_secret_buf(&token);
    plumb_buf_release(&endpoint);
    plumb_buf_release(&path);
    return error;
}

/* ---- profiles -------------------------------------------------------------------------- */

static const char *pget(const struct plumb_aws_credentials_chain *chain, const char *profile,
                        const char *key)
{
    return plumb_aws_shared_config_get(chain->cfg, profile, key);
}

static const char *pwhere(const struct plumb_aws_credentials_chain *chain, const char *profile,
                          const char *key)
{
    const char *w = plumb_aws_shared_config_where(chain->cfg, profile, key);

    return w ? w : "?";
}

static const char *or_none(const char *path)
{
    return path ? path : "(no home directory)";
}

static int has_static_keys(const struct plumb_aws_credentials_chain *chain, const char *profile)
{
    return pget(chain, profile, "aws_access_key_id") ||
           pget(chain, profile, "aws_secret_access_key");
}

static int from_static_keys(struct plumb_aws_credentials *out,
                            const struct plumb_aws_credentials_chain *chain, const char *profile)
{
    const char *id = pget(chain, profile, "aws_access_key_id");
    const char *secret = pget(chain, profile, "aws_secret_access_key");
    const char *where, *creds_path = plumb_aws_shared_config_credentials_path(chain->cfg);
    size_t len = creds_path ? strlen(creds_path) : 0;
    int error = 0, in_creds;

    if (!id || !secret) {
        error = plumb_error_set(
            PLUMB_EINVALID,
            "incomplete credentials in AWS profile '%s': %s is set (%s) but "
            "%s is not",
            profile, id ? "aws_access_key_id" : "aws_secret_access_key",
            pwhere(chain, profile, id ? "aws_access_key_id" : "aws_secret_access_key"),
            id ? "aws_secret_access_key" : "aws_access_key_id");
        goto done;
    }
    PLUMB_TRY(set_credentials(out, id, secret, pget(chain, profile, "aws_session_token"), 0));
    where = pwhere(chain, profile, "aws_access_key_id");
    in_creds = creds_path && strncmp(where, creds_path, len) == 0 && where[len] == ':';
    set_source(out, "shared %s file %s, profile '%s'", in_creds ? "credentials" : "config",
               in_creds ? creds_path : or_none(plumb_aws_shared_config_path(chain->cfg)), profile);

done:
    return error;
}

static int from_profile(struct plumb_aws_credentials *out,
                        struct plumb_aws_credentials_chain *chain, const char *profile,
                        struct visit *visit);

/* "'a' -> 'b' -> 'a'", for the loop message. */
static int loop_path(struct plumb_buf *out, const struct visit *visit, const char *last)
{
    size_t i;
    int error = 0;

    for (i = 0; i < visit->n; i++)
        PLUMB_TRY(plumb_buf_printf(out, "'%s' -> ", visit->names[i]));
    PLUMB_TRY(plumb_buf_printf(out, "'%s'", last));

done:
    return error;
}

/* The credentials `profile`'s source_profile `src` gives, to assume `profile`'s role with. */
static int from_source_profile(struct plumb_aws_credentials *out,
                               struct plumb_aws_credentials_chain *chain, const char *profile,
                               const char *src, struct visit *visit)
{
    struct plumb_buf path = PLUMB_BUF_INIT;
    size_t i;
    int error = 0;

    /* A profile may name itself to assume its role with its own keys, as in the SDKs. */
    if (strcmp(src, profile) == 0 && has_static_keys(chain, src)) {
        PLUMB_TRY(from_static_keys(out, chain, src));
        goto done;
    }
    for (i = 0; i < visit->n; i++) {
        if (strcmp(visit->names[i], src) == 0) {
            PLUMB_TRY(loop_path(&path, visit, src));
            error = plumb_error_set(PLUMB_EINVALID, "source_profile loop in AWS profiles: %s",
                                    path.ptr);
            goto done;
        }
    }
    if (!plumb_aws_shared_config_has_profile(chain->cfg, src)) {
        error = plumb_error_set(
            PLUMB_EINVALID,
            "source_profile '%s' of AWS profile '%s' (%s) not found in '%s' or '%s'", src, profile,
            pwhere(chain, profile, "source_profile"),
            or_none(plumb_aws_shared_config_credentials_path(chain->cfg)),
            or_none(plumb_aws_shared_config_path(chain->cfg)));
        goto done;
    }
    /* A source profile's own keys win over its role, as in the SDKs. */
    if (has_static_keys(chain, src)) {
        PLUMB_TRY(from_static_keys(out, chain, src));
        goto done;
    }
    error = from_profile(out, chain, src, visit);
    if (error == SKIP)
        error = plumb_error_set(PLUMB_EINVALID,
                                "source_profile '%s' of AWS profile '%s' (%s) has no credentials",
                                src, profile, pwhere(chain, profile, "source_profile"));

done:
    plumb_buf_release(&path);
    return error;
}

/* The credentials a profile's credential_source names, to assume its role with. */
static int from_credential_source(struct plumb_aws_credentials *out,
                                  struct plumb_aws_credentials_chain *chain, const char *profile,
                                  const char *source)
{
    struct plumb_buf why = PLUMB_BUF_INIT;
    int error = 0;

    if (strcmp(source, "Environment") == 0) {
        error = from_environment(out, &why);
    } else if (strcmp(source, "Ec2InstanceMetadata") == 0) {
        error = from_imds(out, &why);
    } else if (strcmp(source, "EcsContainer") == 0) {
        error = from_ecs(out, &why);
    } else {
        error = plumb_error_set(PLUMB_EINVALID,
                                "unsupported credential_source '%s' in AWS profile '%s' (%s): "
                                "use Environment, Ec2InstanceMetadata or EcsContainer",
                                source, profile, pwhere(chain, profile, "credential_source"));
        goto done;
    }
    /* The profile asked for this source: its absence is an error, not a fall-through. */
    if (error == SKIP)
        error = plumb_error_set(PLUMB_EAUTH,
                                "credential_source %s of AWS profile '%s' (%s) has no "
                                "credentials: %s",
                                source, profile, pwhere(chain, profile, "credential_source"),
                                plumb_buf_cstr(&why));

done:
    plumb_buf_release(&why);
    return error;
}

static int assume_role(struct plumb_aws_credentials *out, struct plumb_aws_credentials_chain *chain,
                       const char *profile, struct visit *visit)
{
    const char *role = pget(chain, profile, "role_arn");
    const char *src = pget(chain, profile, "source_profile");
    const char *cred_src = pget(chain, profile, "credential_source");
    const char *token_file = pget(chain, profile, "web_identity_token_file");
    const char *external_id = pget(chain, profile, "external_id");
    const char *duration = pget(chain, profile, "duration_seconds");
    struct plumb_aws_credentials source;
    struct plumb_buf session = PLUMB_BUF_INIT;
    struct plumb_buf context = PLUMB_BUF_INIT;
    json_t *input = NULL;
    char *end;
    long seconds = 0;
    int error = 0;

    memset(&source, 0, sizeof(source));
    if (src && cred_src) {
        error = plumb_error_set(PLUMB_EINVALID,
                                "AWS profile '%s' sets both source_profile (%s) and "
                                "credential_source (%s): use one",
                                profile, pwhere(chain, profile, "source_profile"),
                                pwhere(chain, profile, "credential_source"));
        goto done;
    }
    if (!src && !cred_src && token_file) {
        PLUMB_TRY(plumb_buf_printf(&context, "profile '%s'", profile));
        PLUMB_TRY(web_identity(out, chain->aws, role, token_file,
                               pget(chain, profile, "role_session_name"), context.ptr));
        set_source(out, "web identity (role %s via profile '%s')", role, profile);
        goto done;
    }
    if (!src && !cred_src) {
        error = plumb_error_set(PLUMB_EINVALID,
                                "AWS profile '%s' has role_arn (%s) but no source_profile, "
                                "credential_source or web_identity_token_file",
                                profile, pwhere(chain, profile, "role_arn"));
        goto done;
    }
    if (pget(chain, profile, "mfa_serial")) {
        error = plumb_error_set(PLUMB_EINVALID,
                                "AWS profile '%s' needs an MFA code (mfa_serial, %s), which plumb "
                                "cannot prompt for",
                                profile, pwhere(chain, profile, "mfa_serial"));
        goto done;
    }
    if (duration) {
        errno = 0;
        seconds = strtol(duration, &end, 10);
        if (errno || *end || end == duration || seconds < 900 || seconds > 43200) {
            error = plumb_error_set(PLUMB_EINVALID,
                                    "invalid duration_seconds '%s' in AWS profile '%s' (%s): "
                                    "expected 900 to 43200",
                                    duration, profile, pwhere(chain, profile, "duration_seconds"));
            goto done;
        }
    }
    if (visit->n == MAX_PROFILE_CHAIN) {
        error = plumb_error_set(PLUMB_EINVALID,
                                "AWS profile '%s': source_profile chain longer than %d profiles",
                                visit->names[0], MAX_PROFILE_CHAIN);
        goto done;
    }
    visit->names[visit->n++] = profile;
    if (src)
        error = from_source_profile(&source, chain, profile, src, visit);
    else
        error = from_credential_source(&source, chain, profile, cred_src);
    visit->n--;
    if (error < 0)
        goto done;

    PLUMB_TRY(session_name(&session, pget(chain, profile, "role_session_name")));
    input = json_pack("{s:s, s:s}", "RoleArn", role, "RoleSessionName", session.ptr);
    PLUMB_ALLOC_CHECK(input);
    if (external_id && json_object_set_new(input, "ExternalId", json_string(external_id)) < 0)
        PLUMB_ALLOC_CHECK(NULL);
    if (seconds && json_object_set_new(input, "DurationSeconds", json_integer(seconds)) < 0)
        PLUMB_ALLOC_CHECK(NULL);
    PLUMB_TRY(plumb_buf_printf(&context, "unable to assume role '%s' for AWS profile '%s'", role,
                               profile));
    PLUMB_TRY(sts_assume(out, chain->aws, &source, "AssumeRole", input, context.ptr));
    set_source(out, "assume role %s via profile '%s'", role, profile);

done:
    plumb_aws_credentials_release(&source);
    json_decref(input);
    plumb_buf_release(&session);
    plumb_buf_release(&context);
    return error;
}

/* Keys of ways to get credentials the SDKs have and plumb does not. */
static const char *const unsupported_keys[] = {"credential_process", "sso_session", "sso_start_url",
                                               NULL};

/* `profile`'s credentials; SKIP when it has none (only a region, say). */
static int from_profile(struct plumb_aws_credentials *out,
                        struct plumb_aws_credentials_chain *chain, const char *profile,
                        struct visit *visit)
{
    size_t i;
    int error = 0;

    /* role_arn wins over keys in the same profile: they are the keys to assume it with. */
    if (pget(chain, profile, "role_arn")) {
        error = assume_role(out, chain, profile, visit);
        goto done;
    }
    if (has_static_keys(chain, profile)) {
        error = from_static_keys(out, chain, profile);
        goto done;
    }
    for (i = 0; unsupported_keys[i]; i++) {
        if (pget(chain, profile, unsupported_keys[i])) {
            error = plumb_error_set(PLUMB_EINVALID,
                                    "AWS profile '%s' uses %s (%s), which plumb does not support: "
                                    "use keys, role_arn or the environment",
                                    profile, unsupported_keys[i],
                                    pwhere(chain, profile, unsupported_keys[i]));
            goto done;
        }
    }
    if (pget(chain, profile, "web_identity_token_file")) {
        error = plumb_error_set(PLUMB_EINVALID,
                                "AWS profile '%s' has web_identity_token_file (%s) but no role_arn",
                                profile, pwhere(chain, profile, "web_identity_token_file"));
        goto done;
    }
    error = SKIP;

done:
    return error;
}

/* ---- the chain ------------------------------------------------------------------------- */

static int tried(struct plumb_buf *out, const char *what, const struct plumb_buf *why)
{
    return plumb_buf_printf(out, "%s%s (%s)", out->len ? ", " : "", what, plumb_buf_cstr(why));
}

static int env_is_role_source(const struct plumb_aws_credentials_chain *chain)
{
    const char *source = pget(chain, chain->profile, "credential_source");

    return pget(chain, chain->profile, "role_arn") && source &&
           strcmp(source, "Environment") == 0 && !pget(chain, chain->profile, "source_profile");
}

static int resolve(struct plumb_aws_credentials *out, struct plumb_aws_credentials_chain *chain)
{
    struct plumb_buf list = PLUMB_BUF_INIT;
    struct plumb_buf why = PLUMB_BUF_INIT;
    struct plumb_buf what = PLUMB_BUF_INIT;
    struct visit visit;
    int error = 0;

    memset(&visit, 0, sizeof(visit));
    /*
     * A profile whose role takes its keys from the environment (credential_source
     * Environment) is how a user says "assume this role with those keys": taking the keys
     * as they are would ignore the profile the user chose, so the profile answers for them.
     */
    if (!env_is_role_source(chain)) {
        if ((error = from_environment(out, &why)) != SKIP)
            goto done;
        PLUMB_TRY(tried(&list, "environment", &why));
    }

    if ((error = from_env_web_identity(out, chain, &why)) != SKIP)
        goto done;
    PLUMB_TRY(tried(&list, "web identity", &why));

    if (!plumb_aws_shared_config_has_profile(chain->cfg, chain->profile))
        error = skip(&why, "not found");
    else if ((error = from_profile(out, chain, chain->profile, &visit)) == SKIP)
        error = skip(&why, "no credentials in it");
    if (error != SKIP)
        goto done;
    PLUMB_TRY(plumb_buf_printf(&what, "profile '%s' in %s and %s", chain->profile,
                               or_none(plumb_aws_shared_config_credentials_path(chain->cfg)),
                               or_none(plumb_aws_shared_config_path(chain->cfg))));
    PLUMB_TRY(tried(&list, what.ptr, &why));

    if ((error = from_ecs(out, &why)) != SKIP)
        goto done;
    PLUMB_TRY(tried(&list, "ECS container credentials", &why));

    if ((error = from_imds(out, &why)) != SKIP)
        goto done;
    PLUMB_TRY(tried(&list, "EC2 instance metadata", &why));

    error = plumb_error_set(PLUMB_EAUTH, "no AWS credentials found: tried %s", list.ptr);

done:
    plumb_buf_release(&list);
    plumb_buf_release(&why);
    plumb_buf_release(&what);
    return error;
}

int plumb_aws_credentials_chain_new(struct plumb_aws_credentials_chain **out, struct plumb_aws *aws,
                                    const struct plumb_aws_shared_config *cfg, const char *profile)
{
    struct plumb_aws_credentials_chain *chain = NULL;
    int error = 0;

    *out = NULL;
    if (!profile)
        profile = plumb_env_get("AWS_PROFILE");
    if (!profile)
        profile = "default";
    /* "default" may be absent (keys in the environment, an instance role); a name may not. */
    if (strcmp(profile, "default") != 0 && !plumb_aws_shared_config_has_profile(cfg, profile)) {
        error = plumb_error_set(PLUMB_EINVALID, "AWS profile '%s' not found in '%s' or '%s'",
                                profile, or_none(plumb_aws_shared_config_path(cfg)),
                                or_none(plumb_aws_shared_config_credentials_path(cfg)));
        goto done;
    }
    chain = calloc(1, sizeof(*chain));
    PLUMB_ALLOC_CHECK(chain);
    pthread_mutex_init(&chain->lock, NULL);
    chain->aws = aws;
    chain->cfg = cfg;
    chain->profile = strdup(profile);
    PLUMB_ALLOC_CHECK(chain->profile);
    *out = chain;
    chain = NULL;

done:
    plumb_aws_credentials_chain_free(chain);
    return error;
}

void plumb_aws_credentials_chain_free(struct plumb_aws_credentials_chain *chain)
{
    if (!chain)
        return;
    plumb_aws_credentials_release(&chain->cached);
    pthread_mutex_destroy(&chain->lock);
    free(chain->profile);
    free(chain);
}

int plumb_aws_credentials_chain_get(struct plumb_aws_credentials *out,
                                    struct plumb_aws_credentials_chain *chain)
{
    struct plumb_aws_credentials fresh;
    char until[21];
    time_t now;
    int error = 0;

    memset(out, 0, sizeof(*out));
    memset(&fresh, 0, sizeof(fresh));
    pthread_mutex_lock(&chain->lock);
    now = plumb_clock_now();
    if (chain->have &&
        (!chain->cached.expiration || chain->cached.expiration - now > REFRESH_MARGIN_S ||
         (now < chain->retry_at && now < chain->cached.expiration)))
        goto copy;

    if ((error = resolve(&fresh, chain)) < 0) {
        /*
         * The current credentials are still good for a few minutes: keep working with them
         * rather than fail calls AWS would accept, and try again a little later.
         */
        if (chain->have && now < chain->cached.expiration) {
            plumb_time_iso8601(until, chain->cached.expiration);
            plumb_log_warn("unable to refresh AWS credentials, using those from %s until %s: %s",
                           chain->cached.source, until, plumb_error_message());
            plumb_error_clear();
            chain->retry_at = now + REFRESH_RETRY_S;
            error = 0;
            goto copy;
        }
        goto done;
    }
    plumb_aws_credentials_release(&chain->cached);
    chain->cached = fresh;
    memset(&fresh, 0, sizeof(fresh));
    chain->have = 1;
    chain->retry_at = 0;

copy:
    error = plumb_aws_credentials_copy(out, &chain->cached);

done:
    pthread_mutex_unlock(&chain->lock);
    plumb_aws_credentials_release(&fresh);
    return error;
}

void plumb_aws__credentials_set_ecs_host(const char *url_base)
{
    ecs_host = url_base ? url_base : ECS_HOST;
}
