/*
 * The AWS client: region and endpoint resolution, the credential chain, signing, sending,
 * retries, pagination and call statistics. Protocol details live in protocol*.c, signing in
 * sigv4.c, credentials in credentials.c; this file strings them together.
 */
#include "aws/client.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include "aws/credentials.h"
#include "aws/http.h"
#include "aws/model.h"
#include "aws/sharedconfig.h"
#include "aws/sigv4.h"
#include "util/error.h"
#include "util/log.h"
#include "util/sys.h"

/* (service, operation) pairs counted for --stats; more than any run uses */
#define MAX_STATS     256
#define MAX_ENDPOINTS 64 /* more services than plumb calls */
/*
 * Attempts for an endpoint that has not answered once in this run and cannot be reached
 * (the host does not resolve, the port refuses): the SDKs' standard count. A wrong
 * AWS_ENDPOINT_URL or a network with no route would otherwise wait through all ten attempts'
 * back-offs, a minute or two, before saying so. An endpoint that has answered before gets
 * every attempt: then it is a blip.
 */
#define UNREACHED_ATTEMPTS 3

enum retry_mode { RETRY_STANDARD, RETRY_LEGACY, RETRY_ADAPTIVE };

struct op_stats {
    char service[32];
    char operation[64];
    unsigned long calls;    /* logical calls */
    unsigned long attempts; /* HTTP requests, retries included */
    unsigned long retries;
    unsigned long errors;
    double seconds;
};

struct plumb_aws {
    char *region;
    const char *region_source;
    char *profile;
    struct plumb_aws_shared_config *cfg;
    struct plumb_aws_credentials_chain *chain;
    pthread_mutex_t chain_lock;

    struct plumb_http_options http;
    int max_attempts;
    enum retry_mode retry_mode;
    /* Standard mode's retry quota: retries spend tokens and successes give some back, so a
     * struggling service is not hammered by every caller's retries at once. */
    int retry_tokens;

    pthread_mutex_t stats_lock;
    struct op_stats stats[MAX_STATS];
    size_t nstats;
    /* Services (their model's static key) whose endpoint has answered at least once, under
     * stats_lock: see UNREACHED_ATTEMPTS. */
    const char *answered[MAX_ENDPOINTS];
    size_t nanswered;
};

static _Thread_local struct plumb_aws_error_info last_aws_error;
static _Thread_local unsigned long thread_requests;

unsigned long plumb_aws_thread_requests(void)
{
    return thread_requests;
}
static _Thread_local int has_aws_error;

const struct plumb_aws_error_info *plumb_aws_last_error(void)
{
    return has_aws_error ? &last_aws_error : NULL;
}

/* ---- endpoints ---------------------------------------------------------------------------- */

/*
 * Checks a user-supplied endpoint URL and returns it without a trailing '/'. Only what a
 * service endpoint can be: http(s), a host, an optional port and base path; no query, no
 * fragment, no user info.
 */
static int check_endpoint_url(char **out, const char *what, const char *url)
{
    const char *p, *host, *end, *port;
    size_t len;
    int error = 0;

    *out = NULL;
    if (strncasecmp(url, "https://", 8) == 0)
        host = url + 8;
    else if (strncasecmp(url, "http://", 7) == 0)
        host = url + 7;
    else
        return plumb_error_set(PLUMB_EINVALID,
                               "%s: '%s' is not a valid endpoint URL: expected http:// or https://",
                               what, url);
    end = host + strcspn(host, "/?#");
    if (end == host)
        return plumb_error_set(PLUMB_EINVALID, "%s: '%s' is not a valid endpoint URL: no host",
                               what, url);
    for (p = host; p < end; p++)
        if (*p == '@' || isspace((unsigned char)*p))
            return plumb_error_set(PLUMB_EINVALID,
                                   "%s: '%s' is not a valid endpoint URL: bad character in host",
                                   what, url);
    port = memchr(host, ':', (size_t)(end - host));
    if (host[0] == '[') /* IPv6 literal: the port follows the ']' */
        port = memchr(host, ']', (size_t)(end - host)) ? strchr(host, ']') + 1 : NULL,
        port = (port && port < end && *port == ':') ? port : NULL;
    if (port) {
        long n = 0;
        if (port + 1 == end)
            return plumb_error_set(PLUMB_EINVALID,
                                   "%s: '%s' is not a valid endpoint URL: empty port", what, url);
        for (p = port + 1; p < end; p++) {
            if (!isdigit((unsigned char)*p) || (n = n * 10 + (*p - '0')) > 65535)
                return plumb_error_set(PLUMB_EINVALID,
                                       "%s: '%s' is not a valid endpoint URL: bad port", what, url);
        }
    }
    if (strpbrk(end, "?#") || strchr(end, ' '))
        return plumb_error_set(PLUMB_EINVALID,
                               "%s: '%s' is not a valid endpoint URL: no query or fragment allowed",
                               what, url);
    len = strlen(url);
    while (len > (size_t)(end - url) && url[len - 1] == '/')
        len--;
    *out = strndup(url, len);
    if (!*out)
        error = plumb_error_oom();
    return error;
}

static int partition_suffix(const char *region, const char **out)
{
    if (strncmp(region, "cn-", 3) == 0)
        *out = "amazonaws.com.cn";
    else
        *out = "amazonaws.com";
    return 0;
}

/* Services whose public endpoint is global; they are signed for us-east-1 in the aws
 * partition. STS is global only when asked (AWS_STS_REGIONAL_ENDPOINTS=legacy), as in the
 * SDKs since regional STS became their default. */
static int uses_global_endpoint(const struct plumb_aws_service *svc, const char *region)
{
    const char *sts_mode;

    if (!svc->global_endpoint || strncmp(region, "cn-", 3) == 0 ||
        strncmp(region, "us-gov-", 7) == 0)
        return 0;
    if (strcmp(svc->key, "iam") == 0)
        return 1;
    if (strcmp(svc->key, "sts") == 0) {
        sts_mode = plumb_env_get("AWS_STS_REGIONAL_ENDPOINTS");
        return strcmp(region, "aws-global") == 0 ||
               (sts_mode && strcasecmp(sts_mode, "legacy") == 0 &&
                strcmp(region, "us-east-1") == 0);
    }
    if (strcmp(svc->key, "s3") == 0)
        return strcmp(region, "us-east-1") == 0;
    return 0;
}

static int resolve_endpoint(struct plumb_buf *out, const char **source, struct plumb_aws *aws,
                            const struct plumb_aws_service *svc)
{
    char var[96], *checked = NULL;
    const char *v, *suffix;
    int error = 0;

    snprintf(var, sizeof(var), "AWS_ENDPOINT_URL_%s", svc->env_name);
    if ((v = plumb_env_get(var))) {
        *source = "AWS_ENDPOINT_URL_<SERVICE>";
        PLUMB_TRY(check_endpoint_url(&checked, var, v));
    } else if ((v = plumb_env_get("AWS_ENDPOINT_URL"))) {
        *source = "AWS_ENDPOINT_URL";
        PLUMB_TRY(check_endpoint_url(&checked, "AWS_ENDPOINT_URL", v));
    } else if ((v = plumb_aws_shared_config_get(aws->cfg, aws->profile, "endpoint_url"))) {
        *source = "profile endpoint_url";
        PLUMB_TRY(check_endpoint_url(
            &checked, plumb_aws_shared_config_where(aws->cfg, aws->profile, "endpoint_url"), v));
    }
    if (checked) {
        PLUMB_TRY(plumb_buf_puts(out, checked));
        goto done;
    }
    *source = "default";
    if (!aws->region)
        return plumb_error_set(PLUMB_EINVALID,
                               "no AWS region: set AWS_REGION, a profile region, or 'region:' "
                               "in plumb.yaml");
    partition_suffix(aws->region, &suffix);
    if (uses_global_endpoint(svc, aws->region))
        error = plumb_buf_printf(out, "https://%s", svc->global_endpoint);
    else
        error =
            plumb_buf_printf(out, "https://%s.%s.%s", svc->endpoint_prefix, aws->region, suffix);
done:
    free(checked);
    return error;
}

int plumb_aws_endpoint(struct plumb_buf *out, const char **source, struct plumb_aws *aws,
                       const char *service)
{
    const struct plumb_aws_service *svc;
    const char *ignored;

    if (plumb_aws_model_service(&svc, service) < 0)
        return -1;
    return resolve_endpoint(out, source ? source : &ignored, aws, svc);
}

static const char *signing_region(const struct plumb_aws *aws, const struct plumb_aws_service *svc,
                                  const char *source)
{
    if (strcmp(source, "default") == 0 && uses_global_endpoint(svc, aws->region))
        return "us-east-1";
    return aws->region ? aws->region : "us-east-1";
}

/* ---- set-up ------------------------------------------------------------------------------- */

static int parse_retry_settings(struct plumb_aws *aws)
{
    const char *mode = plumb_env_get("AWS_RETRY_MODE");
    const char *attempts = plumb_env_get("AWS_MAX_ATTEMPTS");
    const char *v;
    char *end;
    long n;

    if (!mode)
        mode = plumb_aws_shared_config_get(aws->cfg, aws->profile, "retry_mode");
    aws->retry_mode = RETRY_STANDARD;
    if (mode) {
        if (strcasecmp(mode, "standard") == 0)
            aws->retry_mode = RETRY_STANDARD;
        else if (strcasecmp(mode, "legacy") == 0)
            aws->retry_mode = RETRY_LEGACY;
        else if (strcasecmp(mode, "adaptive") == 0)
            aws->retry_mode = RETRY_ADAPTIVE;
        else
            return plumb_error_set(PLUMB_EINVALID,
                                   "AWS_RETRY_MODE: '%s' is not one of legacy, standard, "
                                   "adaptive",
                                   mode);
    }
    /*
     * The SDKs' standard mode stops after 3 attempts; plumb tries 10 unless told otherwise (as
     * Terraform's AWS provider retries 25 times). An SDK's caller can retry one call; a failed
     * call mid-apply fails the run and rolls back everything it made, and at a 15% share of
     * throttled and 5xx answers three failures in a row meet one of a few hundred calls
     * (tests/e2e/test_faults.sh). The retry quota still stops a run against a service that is
     * down from waiting ten times on every call. Legacy mode keeps the SDKs' 5.
     */
    aws->max_attempts = aws->retry_mode == RETRY_LEGACY ? 5 : 10;
    v = attempts ? attempts : plumb_aws_shared_config_get(aws->cfg, aws->profile, "max_attempts");
    if (v) {
        n = strtol(v, &end, 10);
        if (*end || n < 1 || n > 100)
            return plumb_error_set(PLUMB_EINVALID,
                                   "AWS_MAX_ATTEMPTS: '%s' is not a whole number from 1 to 100", v);
        aws->max_attempts = (int)n;
    }
    aws->retry_tokens = 500;
    return 0;
}

/* Validates every AWS_ENDPOINT_URL* the user set, so a typo fails before any work. */
static int check_endpoint_environment(void)
{
    const char *const *key;
    const struct plumb_aws_service *svc;
    const char *v;
    char var[96], *checked = NULL;
    int error = 0;

    if ((v = plumb_env_get("AWS_ENDPOINT_URL"))) {
        PLUMB_TRY(check_endpoint_url(&checked, "AWS_ENDPOINT_URL", v));
        free(checked);
        checked = NULL;
    }
    for (key = plumb_aws_model_service_keys(); *key; key++) {
        PLUMB_TRY(plumb_aws_model_service(&svc, *key));
        snprintf(var, sizeof(var), "AWS_ENDPOINT_URL_%s", svc->env_name);
        if ((v = plumb_env_get(var))) {
            PLUMB_TRY(check_endpoint_url(&checked, var, v));
            free(checked);
            checked = NULL;
        }
    }
done:
    return error;
}

int plumb_aws_new(struct plumb_aws **out, const struct plumb_aws_options *opts)
{
    struct plumb_aws *aws = NULL;
    const char *v, *named_profile;
    int error = 0;

    *out = NULL;
    PLUMB_TRY(plumb_http_global_init());
    aws = calloc(1, sizeof(*aws));
    PLUMB_ALLOC_CHECK(aws);
    pthread_mutex_init(&aws->chain_lock, NULL);
    pthread_mutex_init(&aws->stats_lock, NULL);

    PLUMB_TRY(plumb_aws_shared_config_load(&aws->cfg));
    named_profile = (opts && opts->profile) ? opts->profile : plumb_env_get("AWS_PROFILE");
    aws->profile = strdup(named_profile ? named_profile : "default");
    PLUMB_ALLOC_CHECK(aws->profile);
    /* A profile asked for by name must exist, even when the environment has keys: the
     * user expects that profile's settings (region, role) and would be misled otherwise. */
    if (named_profile && !plumb_aws_shared_config_has_profile(aws->cfg, named_profile)) {
        error = plumb_error_set(PLUMB_EINVALID, "AWS profile '%s' not found in '%s' or '%s'",
                                named_profile, plumb_aws_shared_config_path(aws->cfg),
                                plumb_aws_shared_config_credentials_path(aws->cfg));
        goto done;
    }

    if (opts && (v = opts->fixed_region))
        aws->region_source = "plumb.yaml (state)";
    else if ((v = plumb_env_get("AWS_REGION")))
        aws->region_source = "AWS_REGION";
    else if ((v = plumb_env_get("AWS_DEFAULT_REGION")))
        aws->region_source = "AWS_DEFAULT_REGION";
    else if ((v = plumb_aws_shared_config_get(aws->cfg, aws->profile, "region")))
        aws->region_source = "profile";
    else if (opts && (v = opts->region))
        aws->region_source = "plumb.yaml";
    if (v) {
        aws->region = strdup(v);
        PLUMB_ALLOC_CHECK(aws->region);
    }

    if (opts) {
        aws->http.connect_timeout_ms = opts->connect_timeout_ms;
        aws->http.timeout_ms = opts->timeout_ms;
    }
    PLUMB_TRY(parse_retry_settings(aws));
    PLUMB_TRY(check_endpoint_environment());
    *out = aws;
    aws = NULL;
done:
    plumb_aws_free(aws);
    return error;
}

void plumb_aws_free(struct plumb_aws *aws)
{
    if (!aws)
        return;
    plumb_aws_credentials_chain_free(aws->chain);
    plumb_aws_shared_config_free(aws->cfg);
    pthread_mutex_destroy(&aws->chain_lock);
    pthread_mutex_destroy(&aws->stats_lock);
    free(aws->region);
    free(aws->profile);
    free(aws);
}

const char *plumb_aws_region(const struct plumb_aws *aws)
{
    return aws->region;
}

const char *plumb_aws_region_source(const struct plumb_aws *aws)
{
    return aws->region_source;
}

const char *plumb_aws_profile(const struct plumb_aws *aws)
{
    return aws->profile;
}

int plumb_aws_get_credentials(struct plumb_aws_credentials *out, struct plumb_aws *aws)
{
    int error = 0;

    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&aws->chain_lock);
    if (!aws->chain)
        error = plumb_aws_credentials_chain_new(&aws->chain, aws, aws->cfg, aws->profile);
    pthread_mutex_unlock(&aws->chain_lock);
    if (error < 0)
        return error;
    return plumb_aws_credentials_chain_get(out, aws->chain);
}

/* ---- statistics ---------------------------------------------------------------------------- */

static struct op_stats *stats_for(struct plumb_aws *aws, const char *service, const char *operation)
{
    size_t i;

    for (i = 0; i < aws->nstats; i++)
        if (strcmp(aws->stats[i].service, service) == 0 &&
            strcmp(aws->stats[i].operation, operation) == 0)
            return &aws->stats[i];
    if (aws->nstats == MAX_STATS)
        return NULL;
    snprintf(aws->stats[aws->nstats].service, sizeof(aws->stats[0].service), "%s", service);
    snprintf(aws->stats[aws->nstats].operation, sizeof(aws->stats[0].operation), "%s", operation);
    return &aws->stats[aws->nstats++];
}

static void stats_add(struct plumb_aws *aws, const char *service, const char *operation,
                      unsigned long attempts, int failed, double seconds)
{
    struct op_stats *s;

    pthread_mutex_lock(&aws->stats_lock);
    s = stats_for(aws, service, operation);
    if (s) {
        s->calls++;
        s->attempts += attempts;
        s->retries += attempts ? attempts - 1 : 0;
        s->errors += failed ? 1 : 0;
        s->seconds += seconds;
    }
    pthread_mutex_unlock(&aws->stats_lock);
}

unsigned long plumb_aws_stats_calls(const struct plumb_aws *aws, const char *service)
{
    unsigned long n = 0;
    size_t i;

    pthread_mutex_lock((pthread_mutex_t *)&aws->stats_lock);
    for (i = 0; i < aws->nstats; i++)
        if (!service || strcmp(aws->stats[i].service, service) == 0)
            n += aws->stats[i].attempts;
    pthread_mutex_unlock((pthread_mutex_t *)&aws->stats_lock);
    return n;
}

static void stats_row(struct plumb_buf *out, const char *indent, const char *name,
                      const struct op_stats *s)
{
    plumb_buf_printf(out, "%s%-*s %8lu %8lu %8lu %10.3f\n", indent, 34 - (int)strlen(indent), name,
                     s->attempts, s->retries, s->errors, s->seconds);
}

static void stats_sum(struct op_stats *into, const struct op_stats *s)
{
    into->attempts += s->attempts;
    into->retries += s->retries;
    into->errors += s->errors;
    into->seconds += s->seconds;
}

void plumb_aws_stats_render(struct plumb_buf *out, const struct plumb_aws *aws)
{
    struct op_stats total, svc;
    size_t i, j;

    memset(&total, 0, sizeof(total));
    pthread_mutex_lock((pthread_mutex_t *)&aws->stats_lock);
    plumb_buf_printf(out, "%-34s %8s %8s %8s %10s\n", "service / operation", "requests", "retries",
                     "errors", "time (s)");
    /* services in the order first used, each with its operations under it */
    for (i = 0; i < aws->nstats; i++) {
        const char *name = aws->stats[i].service;
        for (j = 0; j < i && strcmp(aws->stats[j].service, name); j++)
            ;
        if (j < i)
            continue; /* shown with its service already */
        memset(&svc, 0, sizeof(svc));
        for (j = i; j < aws->nstats; j++)
            if (strcmp(aws->stats[j].service, name) == 0)
                stats_sum(&svc, &aws->stats[j]);
        stats_row(out, "", name, &svc);
        for (j = i; j < aws->nstats; j++)
            if (strcmp(aws->stats[j].service, name) == 0)
                stats_row(out, "  ", aws->stats[j].operation, &aws->stats[j]);
        stats_sum(&total, &svc);
    }
    stats_row(out, "", "total", &total);
    pthread_mutex_unlock((pthread_mutex_t *)&aws->stats_lock);
}

/* ---- errors and retries -------------------------------------------------------------------- */

static int code_in(const char *code, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(code, *list) == 0)
            return 1;
    return 0;
}

static const char *const throttling_codes[] = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
    NULL,
};

static const char *const transient_codes[] = {
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
    "IDPCommunicationError",
    NULL,
};

static const char *const auth_codes[] = {
    "SignatureDoesNotMatch",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidAccessKeyId",
    "AuthFailure",
    "MissingAuthenticationToken",
    "IncompleteSignature",
    "InvalidSignatureException",
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "NotAuthorized",
    NULL,
};

static int is_throttle(const struct plumb_aws_error_info *e)
{
    return e->status == 429 || code_in(e->code, throttling_codes);
}

static int is_retryable(const struct plumb_aws_error_info *e)
{
    return is_throttle(e) || code_in(e->code, transient_codes) || e->status == 500 ||
           e->status == 502 || e->status == 503 || e->status == 504;
}

/* The plumb error code for an AWS error, so callers can tell "gone" from "refused". */
static int classify(const struct plumb_aws_error_info *e)
{
    if (is_throttle(e))
        return PLUMB_ETHROTTLED;
    if (code_in(e->code, auth_codes))
        return PLUMB_EAUTH;
    if (strstr(e->code, "NotFound") || strncmp(e->code, "NoSuch", 6) == 0 ||
        strcmp(e->code, "ResourceNotFoundException") == 0 || e->status == 404)
        return PLUMB_ENOTFOUND;
    /* "already exists" (AlreadyExists, Secrets Manager's ResourceExistsException) and "still
     * in use" (ResourceInUse[Exception], EC2's DependencyViolation) */
    if (strstr(e->code, "Exists") || strstr(e->code, "Duplicate") || strstr(e->code, "Conflict") ||
        strstr(e->code, "InUse") || strcmp(e->code, "DependencyViolation") == 0 || e->status == 409)
        return PLUMB_ECONFLICT;
    return PLUMB_EAWS;
}

/*
 * Whether a request may be sent again when its first sending may have taken effect (the
 * connection dropped after it went out, or a 5xx, which can come after the work was done).
 * Reads, updates, deletes and tagging may: a second arrival changes nothing, or fails as
 * "not found", which their callers take as done. A create may not: a second CreateVpc makes a
 * second VPC, a second CreateRole fails with EntityAlreadyExists although the first worked. The
 * SDKs resend it anyway; plumb hands the doubt to its caller (PLUMB_EUNCERTAIN), which looks
 * for what the first sending made before trying again (apply.c, do_create). A create whose
 * input carries an idempotency token is the exception: the token is made once per call, so
 * every resend carries the same one and AWS answers it with the first one's result.
 */
static const char *const creates_prefixes[] = {"Create", "Register", NULL};
/* named as creates, but setting what is already set is a no-op */
static const char *const idempotent_creates[] = {"CreateTags", "RegisterTargets", NULL};

static int resend_is_safe(const struct plumb_aws_service *svc, const char *operation,
                          const json_t *input)
{
    const json_t *op = plumb_aws_model_operation(svc, operation), *shape, *ref;
    const char *const *p;
    const char *name;
    int create = 0;

    for (p = creates_prefixes; *p; p++)
        create |= strncmp(operation, *p, strlen(*p)) == 0;
    if (!create || code_in(operation, idempotent_creates))
        return 1;
    shape = op ? plumb_aws_model_ref_shape(svc, json_object_get(op, "input")) : NULL;
    json_object_foreach((json_t *)json_object_get(shape, "members"), name, ref)
    {
        /* the model's idempotencyToken members, which the protocol fills; and ECS's
         * clientToken, which the model does not mark and the caller sets */
        if (json_is_true(json_object_get(ref, "idempotencyToken")) ||
            (strcasecmp(name, "clientToken") == 0 && json_is_string(json_object_get(input, name))))
            return 1;
    }
    return 0;
}

/* Whether `service` (a static model key) has answered in this run; with `note`, records that
 * it has. By service rather than by host: an S3 bucket's virtual host is new with every
 * bucket. */
static int answered(struct plumb_aws *aws, const char *service, int note)
{
    size_t i;
    int found = 0;

    pthread_mutex_lock(&aws->stats_lock);
    for (i = 0; i < aws->nanswered && !found; i++)
        found = strcmp(aws->answered[i], service) == 0;
    if (note && !found && aws->nanswered < MAX_ENDPOINTS)
        aws->answered[aws->nanswered++] = service;
    /* a full table counts every service as answered: full retries, as before */
    found = found || aws->nanswered == MAX_ENDPOINTS;
    pthread_mutex_unlock(&aws->stats_lock);
    return found;
}

/* Full jitter over a capped exponential: a random wait in [0, min(20 s, 1 s * 2^attempt)),
 * the AWS SDKs' standard mode (legacy mode uses 100 ms as base, as botocore did). */
static long backoff_ms(const struct plumb_aws *aws, int attempt)
{
    double base = aws->retry_mode == RETRY_LEGACY ? 100.0 : 1000.0, cap = 20000.0, limit;
    double r = (double)(plumb_random_u64() >> 11) / 9007199254740992.0; /* [0, 1) */

    limit = base;
    while (attempt-- > 1 && limit < cap)
        limit *= 2;
    if (limit > cap)
        limit = cap;
    return (long)(r * limit);
}

static int take_retry_tokens(struct plumb_aws *aws, int cost)
{
    int ok;

    if (aws->retry_mode == RETRY_LEGACY)
        return 1;
    pthread_mutex_lock(&aws->stats_lock);
    ok = aws->retry_tokens >= cost;
    if (ok)
        aws->retry_tokens -= cost;
    pthread_mutex_unlock(&aws->stats_lock);
    return ok;
}

static void give_retry_tokens(struct plumb_aws *aws, int n)
{
    pthread_mutex_lock(&aws->stats_lock);
    aws->retry_tokens += n;
    if (aws->retry_tokens > 500)
        aws->retry_tokens = 500;
    pthread_mutex_unlock(&aws->stats_lock);
}

/* ---- the call ------------------------------------------------------------------------------ */

static double now_seconds(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static int is_dns_bucket(const char *s, size_t n)
{
    size_t i;

    if (n < 3 || n > 63 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
        return 0;
    for (i = 0; i < n; i++)
        if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
            return 0;
    return 1;
}

/*
 * Where the request goes. S3 on a custom endpoint (an emulator, a proxy) is addressed
 * path-style; on AWS's own endpoint a DNS-safe bucket moves into the host name
 * (virtual-hosted style), which AWS requires of newer buckets.
 */
static int place_request(struct plumb_http_request *req, struct plumb_aws *aws,
                         const struct plumb_aws_service *svc, const char **source)
{
    struct plumb_buf base = PLUMB_BUF_INIT, host = PLUMB_BUF_INIT;
    const char *bucket, *rest;
    char *path = NULL;
    int error = 0;

    PLUMB_TRY(resolve_endpoint(&base, source, aws, svc));
    if (svc->protocol == PLUMB_AWS_PROTO_REST_XML && strcmp(*source, "default") == 0 && req->path &&
        req->path[0] == '/' && req->path[1]) {
        bucket = req->path + 1;
        rest = bucket + strcspn(bucket, "/");
        if (is_dns_bucket(bucket, (size_t)(rest - bucket))) {
            const char *scheme_end = strstr(base.ptr, "://") + 3;
            plumb_buf_put(&host, base.ptr, (size_t)(scheme_end - base.ptr));
            plumb_buf_put(&host, bucket, (size_t)(rest - bucket));
            plumb_buf_putc(&host, '.');
            plumb_buf_puts(&host, scheme_end);
            PLUMB_ALLOC_CHECK(host.ptr);
            path = strdup(*rest ? rest : "/");
            PLUMB_ALLOC_CHECK(path);
            free(req->path);
            req->path = path;
            path = NULL;
            plumb_buf_release(&base);
            base = host;
            plumb_buf_init(&host);
        }
    }
    free(req->url_base);
    req->url_base = plumb_buf_detach(&base);
    PLUMB_ALLOC_CHECK(req->url_base);
    plumb_buf_clear(&host);
    PLUMB_TRY(plumb_http_host_header(&host, req->url_base));
    PLUMB_TRY(plumb_kvlist_set(&req->headers, "Host", host.ptr));
done:
    free(path);
    plumb_buf_release(&base);
    plumb_buf_release(&host);
    return error;
}

static int sign_request(struct plumb_http_request *req, const struct plumb_aws *aws,
                        const struct plumb_aws_service *svc, const char *source,
                        const struct plumb_aws_credentials *creds)
{
    struct plumb_sigv4_params p;

    plumb_kvlist_remove(&req->headers, "Authorization");
    plumb_kvlist_remove(&req->headers, "X-Amz-Date");
    plumb_kvlist_remove(&req->headers, "X-Amz-Security-Token");
    plumb_kvlist_remove(&req->headers, "x-amz-content-sha256");
    if (!creds)
        return 0;
    memset(&p, 0, sizeof(p));
    p.access_key_id = creds->access_key_id;
    p.secret_access_key = creds->secret_access_key;
    p.session_token = creds->session_token;
    p.region = signing_region(aws, svc, source);
    p.service = svc->signing_name;
    p.now = plumb_clock_now();
    p.normalize_path = svc->protocol != PLUMB_AWS_PROTO_REST_XML;
    p.sign_body = svc->protocol == PLUMB_AWS_PROTO_REST_XML;
    return plumb_sigv4_sign(req, &p);
}

static void record_aws_error(const struct plumb_aws_error_info *e)
{
    last_aws_error = *e;
    has_aws_error = 1;
}

/* A create that may have taken effect, not resent: the transport error or the 5xx, and the
 * doubt. */
static int uncertain(const struct plumb_aws_error_info *e, const char *service,
                     const char *operation)
{
    char *cause = e ? NULL : strdup(plumb_error_message());
    int error;

    if (e) {
        record_aws_error(e);
        error = plumb_error_set(PLUMB_EUNCERTAIN,
                                "%s %s: %s%s%s (HTTP %ld, request id %s): whether it took effect "
                                "is unknown",
                                service, operation, e->code, e->message[0] ? ": " : "", e->message,
                                e->status, e->request_id[0] ? e->request_id : "none");
    } else {
        error = plumb_error_set(PLUMB_EUNCERTAIN,
                                "%s %s: %s: sent, but whether it took effect is unknown", service,
                                operation, cause ? cause : "transport error");
    }
    free(cause);
    return error;
}

int plumb_aws__call_with(struct plumb_aws *aws, const struct plumb_aws_credentials *creds,
                         const char *service, const char *operation, const json_t *input,
                         json_t **out)
{
    const struct plumb_aws_service *svc;
    struct plumb_http_request req;
    struct plumb_http_response resp;
    struct plumb_aws_error_info info;
    const char *source = "default";
    int attempt = 0, error = 0, retryable, spent = 0, may_have_acted;
    unsigned long sent = 0;
    double started = now_seconds(), t0;

    *out = NULL;
    has_aws_error = 0;
    plumb_http_request_init(&req);
    plumb_http_response_init(&resp);
    PLUMB_TRY(plumb_aws_model_service(&svc, service));
    /* build and parse name the operation in their messages already */
    PLUMB_TRY(plumb_aws_protocol_build(&req, svc, operation, input));
    if ((error = place_request(&req, aws, svc, &source)) < 0)
        goto done;
    req.once = !resend_is_safe(svc, operation, input);

    for (;;) {
        attempt++;
        PLUMB_TRY(sign_request(&req, aws, svc, source, creds));
        t0 = now_seconds();
        error = plumb_http_send(&resp, &req, &aws->http);
        /* What went on the wire, libcurl's own resends included: --stats and the executor's
         * per-action counts are of requests sent, and a failed connect is still one try. */
        sent += resp.sends ? resp.sends : 1;
        thread_requests += resp.sends ? resp.sends : 1;
        plumb_log_debug("aws: %s %s attempt %d: %s%ld (%.0f ms)", service, operation, attempt,
                        error < 0 ? "transport error, " : "HTTP ", resp.status,
                        (now_seconds() - t0) * 1000.0);
        if (resp.status > 0)
            answered(aws, svc->key, 1);
        if (error == 0 && resp.status >= 200 && resp.status < 300) {
            /* A success pays back the retry quota: the full cost when it followed retries. */
            give_retry_tokens(aws, spent ? spent : 1);
            error = plumb_aws_protocol_parse(out, svc, operation, &resp);
            goto done;
        }
        if (error < 0) {
            retryable = !resp.lasting; /* timeouts and dropped connections; not a certificate */
            may_have_acted = resp.sends > 0;
        } else {
            plumb_aws_protocol_parse_error(&info, svc, &resp);
            retryable = is_retryable(&info);
            /* a throttle is a refusal before any work; a 5xx may come after it */
            may_have_acted = !is_throttle(&info) && resp.status >= 500;
        }
        if (retryable && may_have_acted && req.once) {
            error = uncertain(error < 0 ? NULL : &info, service, operation);
            goto done;
        }
        if (retryable && error < 0 && resp.unreached && attempt >= UNREACHED_ATTEMPTS &&
            !answered(aws, svc->key, 0)) {
            plumb_error_wrap("%s %s (after %d attempts; %s has not answered once: check the "
                             "endpoint, AWS_ENDPOINT_URL and the network)",
                             service, operation, attempt, req.url_base);
            goto done;
        }
        if (!retryable || attempt >= aws->max_attempts ||
            !take_retry_tokens(aws, error < 0 ? 10 : 5)) {
            if (error < 0) {
                plumb_error_wrap("%s %s (after %d attempt%s)", service, operation, attempt,
                                 attempt == 1 ? "" : "s");
            } else {
                record_aws_error(&info);
                error = plumb_error_set(classify(&info), "%s %s: %s%s%s (HTTP %ld, request id %s)",
                                        service, operation, info.code, info.message[0] ? ": " : "",
                                        info.message, info.status,
                                        info.request_id[0] ? info.request_id : "none");
                if (attempt > 1)
                    plumb_error_wrap("after %d attempts", attempt);
            }
            goto done;
        }
        spent += error < 0 ? 10 : 5;
        /* With 10 attempts a call can wait a minute or two before it gives up: once it has
         * failed three times, say why it is waiting (a wrong endpoint looks like a hang). */
        if (attempt == 3 && aws->max_attempts > 3)
            plumb_log_info("aws: %s %s: %s; still trying (%d attempts left)", service, operation,
                           error < 0 ? plumb_error_message() : info.code,
                           aws->max_attempts - attempt);
        plumb_sleep_ms(backoff_ms(aws, attempt));
    }

done:
    stats_add(aws, svc ? svc->key : service, operation, sent, error < 0, now_seconds() - started);
    plumb_http_request_release(&req);
    plumb_http_response_release(&resp);
    if (error < 0) {
        json_decref(*out);
        *out = NULL;
    }
    return error;
}

int plumb_aws_create_settled(struct plumb_aws *aws, const char *service, const char *operation,
                             const json_t *input, const char *check_op, const json_t *check_in,
                             json_t **out)
{
    int error = plumb_aws_call(aws, service, operation, input, out);

    if (error != PLUMB_EUNCERTAIN)
        return error;
    error = plumb_aws_call(aws, service, check_op, check_in, out);
    if (error == PLUMB_ENOTFOUND)
        error = plumb_aws_call(aws, service, operation, input, out);
    return error;
}

int plumb_aws_call(struct plumb_aws *aws, const char *service, const char *operation,
                   const json_t *input, json_t **out)
{
    struct plumb_aws_credentials creds;
    int error;

    *out = NULL;
    if ((error = plumb_aws_get_credentials(&creds, aws)) < 0)
        return error;
    error = plumb_aws__call_with(aws, &creds, service, operation, input, out);
    plumb_aws_credentials_release(&creds);
    return error;
}

/* ---- pagination ---------------------------------------------------------------------------- */

/* A paginator field is a name or a list of names; `i`-th name, or NULL. */
static const char *pag_name(const json_t *field, size_t i)
{
    if (json_is_string(field))
        return i == 0 ? json_string_value(field) : NULL;
    return json_string_value(json_array_get(field, i));
}

int plumb_aws_paginate(struct plumb_aws *aws, const char *service, const char *operation,
                       const json_t *input, json_t **out)
{
    const struct plumb_aws_service *svc;
    const json_t *pag, *in_tok, *out_tok, *results, *more;
    json_t *req = NULL, *page = NULL, *acc = NULL;
    char *last_token = NULL;
    int error = 0, pages = 0;
    size_t i;

    *out = NULL;
    PLUMB_TRY(plumb_aws_model_service(&svc, service));
    pag = plumb_aws_model_paginator(svc, operation);
    if (!pag)
        return plumb_aws_call(aws, service, operation, input, out);
    in_tok = json_object_get(pag, "input_token");
    out_tok = json_object_get(pag, "output_token");
    results = json_object_get(pag, "result_key");
    more = json_object_get(pag, "more_results");

    req = input ? json_deep_copy(input) : json_object();
    PLUMB_ALLOC_CHECK(req);
    for (;;) {
        int have_token = 0;
        PLUMB_TRY(plumb_aws_call(aws, service, operation, req, &page));
        pages++;
        if (!acc) {
            acc = page;
            json_incref(acc);
        } else {
            const char *key;
            for (i = 0; (key = pag_name(results, i)); i++) {
                json_t *dst = json_object_get(acc, key), *src = json_object_get(page, key);
                if (!json_is_array(src))
                    continue;
                if (!json_is_array(dst)) {
                    json_object_set(acc, key, src);
                    continue;
                }
                json_array_extend(dst, src);
            }
        }
        if (more && json_is_false(json_object_get(page, json_string_value(more))))
            break;
        for (i = 0; pag_name(out_tok, i); i++) {
            const char *oname = pag_name(out_tok, i), *iname = pag_name(in_tok, i);
            const json_t *tok = json_object_get(page, oname);
            if (!iname || strchr(oname, ' ') || strchr(oname, '['))
                continue; /* expressions (S3 ListObjects v1's fallback) are not followed */
            if (json_is_string(tok) && json_string_length(tok) > 0) {
                if (i == 0) {
                    if (last_token && strcmp(last_token, json_string_value(tok)) == 0) {
                        error = plumb_error_set(PLUMB_EAWS,
                                                "%s %s: the service returned the same page "
                                                "token twice",
                                                service, operation);
                        goto done;
                    }
                    free(last_token);
                    last_token = strdup(json_string_value(tok));
                    PLUMB_ALLOC_CHECK(last_token);
                }
                json_object_set_new(req, iname, json_string(json_string_value(tok)));
                have_token = 1;
            } else {
                json_object_del(req, iname);
            }
        }
        json_decref(page);
        page = NULL;
        if (!have_token || pages >= 100000)
            break;
    }
    if (acc) {
        for (i = 0; pag_name(out_tok, i); i++)
            json_object_del(acc, pag_name(out_tok, i));
    }
    *out = acc;
    acc = NULL;
done:
    json_decref(page);
    json_decref(acc);
    json_decref(req);
    free(last_token);
    return error;
}
