#include "aws/http.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "util/error.h"
#include "util/sys.h"

/*
 * One share handle for the process: connections, DNS answers and TLS sessions found by one
 * thread are reused by the others, so a parallel apply does not pay a handshake per worker.
 * Each thread keeps its own easy handle (curl handles are not shareable across threads) in a
 * thread-specific slot whose destructor cleans it up when the thread ends.
 */
static CURLSH *share;
static pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
static pthread_key_t easy_key;
static int initialised;

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *u)
{
    (void)h, (void)access, (void)u;
    pthread_mutex_lock(&share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *u)
{
    (void)h, (void)u;
    pthread_mutex_unlock(&share_locks[data]);
}

static void easy_destroy(void *p)
{
    curl_easy_cleanup(p);
}

int plumb_http_global_init(void)
{
    int i;

    if (initialised)
        return 0;
    if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
        return plumb_error_set(PLUMB_ERROR, "unable to initialise libcurl");
    for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&share_locks[i], NULL);
    share = curl_share_init();
    if (!share)
        return plumb_error_oom();
    curl_share_setopt(share, CURLSHOPT_LOCKFUNC, share_lock);
    curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    if (pthread_key_create(&easy_key, easy_destroy) != 0)
        return plumb_error_set(PLUMB_ERROR, "unable to create a thread key");
    initialised = 1;
    return 0;
}

void plumb_http_global_cleanup(void)
{
    CURL *easy;

    if (!initialised)
        return;
    easy = pthread_getspecific(easy_key);
    if (easy) {
        curl_easy_cleanup(easy);
        pthread_setspecific(easy_key, NULL);
    }
    curl_share_cleanup(share);
    share = NULL;
    curl_global_cleanup();
    initialised = 0;
}

void plumb_http_request_init(struct plumb_http_request *req)
{
    memset(req, 0, sizeof(*req));
    req->method = "GET";
}

void plumb_http_request_release(struct plumb_http_request *req)
{
    free(req->url_base);
    free(req->path);
    plumb_kvlist_release(&req->query);
    plumb_kvlist_release(&req->headers);
    plumb_buf_release(&req->body);
    plumb_http_request_init(req);
}

void plumb_http_response_init(struct plumb_http_response *resp)
{
    memset(resp, 0, sizeof(*resp));
}

void plumb_http_response_release(struct plumb_http_response *resp)
{
    plumb_kvlist_release(&resp->headers);
    plumb_buf_release(&resp->body);
    plumb_http_response_init(resp);
}

int plumb_http_host_header(struct plumb_buf *out, const char *url_base)
{
    const char *p = strstr(url_base, "://"), *end;
    int https = strncasecmp(url_base, "https://", 8) == 0;
    const char *colon;

    if (!p)
        return plumb_error_set(PLUMB_EINVALID, "'%s' is not a URL", url_base);
    p += 3;
    end = p + strcspn(p, "/?#");
    colon = memchr(p, ':', (size_t)(end - p));
    /* The default port is left out of Host, as every SDK does; the signature covers Host,
     * so the value must be exactly what the server reconstructs. */
    if (colon && ((https && end - colon == 4 && strncmp(colon, ":443", 4) == 0) ||
                  (!https && end - colon == 3 && strncmp(colon, ":80", 3) == 0)))
        end = colon;
    return plumb_buf_put(out, p, (size_t)(end - p));
}

static size_t on_body(char *data, size_t size, size_t n, void *userp)
{
    struct plumb_http_response *resp = userp;

    if (plumb_buf_put(&resp->body, data, size * n) < 0)
        return 0;
    return size * n;
}

static size_t on_header(char *data, size_t size, size_t n, void *userp)
{
    struct plumb_http_response *resp = userp;
    size_t len = size * n, name_len, vstart, vend;
    char *colon;

    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        /* A new status line (after 100 Continue or a redirect): forget earlier headers. */
        plumb_kvlist_release(&resp->headers);
        return len;
    }
    colon = memchr(data, ':', len);
    if (!colon)
        return len;
    name_len = (size_t)(colon - data);
    vstart = name_len + 1;
    while (vstart < len && (data[vstart] == ' ' || data[vstart] == '\t'))
        vstart++;
    vend = len;
    while (vend > vstart && (data[vend - 1] == '\r' || data[vend - 1] == '\n' ||
                             data[vend - 1] == ' ' || data[vend - 1] == '\t'))
        vend--;
    if (plumb_kvlist_addn(&resp->headers, data, name_len, data + vstart, vend - vstart) < 0)
        return 0;
    return len;
}

static int build_url(struct plumb_buf *url, const struct plumb_http_request *req)
{
    size_t i;
    int error = 0;

    PLUMB_TRY(plumb_buf_puts(url, req->url_base));
    PLUMB_TRY(plumb_buf_put_uri_encoded(url, req->path ? req->path : "/",
                                        strlen(req->path ? req->path : "/"), 1));
    for (i = 0; i < req->query.n; i++) {
        PLUMB_TRY(plumb_buf_putc(url, i ? '&' : '?'));
        PLUMB_TRY(
            plumb_buf_put_uri_encoded(url, req->query.v[i].name, strlen(req->query.v[i].name), 0));
        PLUMB_TRY(plumb_buf_putc(url, '='));
        PLUMB_TRY(plumb_buf_put_uri_encoded(url, req->query.v[i].value,
                                            strlen(req->query.v[i].value), 0));
    }
done:
    return error;
}

static CURL *thread_easy(void)
{
    CURL *easy = pthread_getspecific(easy_key);

    if (!easy) {
        easy = curl_easy_init();
        if (easy && pthread_setspecific(easy_key, easy) != 0) {
            curl_easy_cleanup(easy);
            easy = NULL;
        }
    } else {
        curl_easy_reset(easy);
    }
    return easy;
}

struct send_ctx {
    struct plumb_http_response *resp;
    int once;
};

/*
 * Called by libcurl each time the request is about to go out on a connection, new or reused:
 * the only place that sees the resend libcurl makes by itself when a reused connection turns
 * out dead (it cannot tell a server's idle close from a drop after the request arrived).
 */
static int on_send(void *ctx, char *conn_primary_ip, char *conn_local_ip, int conn_primary_port,
                   int conn_local_port)
{
    struct send_ctx *c = ctx;

    (void)conn_primary_ip, (void)conn_local_ip, (void)conn_primary_port, (void)conn_local_port;
    if (c->once && c->resp->sends > 0)
        return CURL_PREREQFUNC_ABORT;
    c->resp->sends++;
    return CURL_PREREQFUNC_OK;
}

/*
 * Failures that do not go away by sending again: the peer's certificate refused or the local
 * TLS set-up (CA bundle, client certificate) unusable, or a URL libcurl cannot use. Retrying
 * them only makes a misconfiguration wait through every back-off before it is reported.
 * Connection refused, DNS, timeouts and a handshake cut short stay retryable: those are what
 * a flaky network looks like.
 */
static int lasting_failure(CURLcode rc)
{
    switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return 1;
    default:
        return 0;
    }
}

int plumb_http_send(struct plumb_http_response *resp, const struct plumb_http_request *req,
                    const struct plumb_http_options *opts)
{
    struct send_ctx sctx = {resp, req->once};
    struct plumb_buf url = PLUMB_BUF_INIT, line = PLUMB_BUF_INIT;
    struct curl_slist *headers = NULL, *tmp;
    char errbuf[CURL_ERROR_SIZE] = "";
    const char *ca_bundle;
    CURLcode rc;
    CURL *easy;
    size_t i;
    int error = 0;

    if (!initialised && plumb_http_global_init() < 0)
        return -1;
    plumb_kvlist_release(&resp->headers);
    plumb_buf_clear(&resp->body);
    resp->status = 0;
    resp->sends = 0;
    resp->lasting = 0;
    resp->unreached = 0;
    easy = thread_easy();
    PLUMB_ALLOC_CHECK(easy);
    PLUMB_TRY(build_url(&url, req));

    for (i = 0; i < req->headers.n; i++) {
        /* curl sends Content-Length from the body size; a second copy would be invalid */
        if (strcasecmp(req->headers.v[i].name, "Content-Length") == 0)
            continue;
        plumb_buf_clear(&line);
        PLUMB_TRY(
            plumb_buf_printf(&line, "%s: %s", req->headers.v[i].name, req->headers.v[i].value));
        tmp = curl_slist_append(headers, line.ptr);
        PLUMB_ALLOC_CHECK(tmp);
        headers = tmp;
    }
    /* No "Expect: 100-continue" round trip; no Content-Type curl would invent for a POST. */
    tmp = curl_slist_append(headers, "Expect:");
    PLUMB_ALLOC_CHECK(tmp);
    headers = tmp;
    if (!plumb_kvlist_get(&req->headers, "Content-Type")) {
        tmp = curl_slist_append(headers, "Content-Type:");
        PLUMB_ALLOC_CHECK(tmp);
        headers = tmp;
    }

    curl_easy_setopt(easy, CURLOPT_SHARE, share);
    curl_easy_setopt(easy, CURLOPT_URL, url.ptr);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "plumb/" PLUMB_VERSION);
    if ((ca_bundle = plumb_env_get("AWS_CA_BUNDLE")))
        curl_easy_setopt(easy, CURLOPT_CAINFO, ca_bundle);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                     opts && opts->connect_timeout_ms ? opts->connect_timeout_ms : 5000L);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS,
                     opts && opts->timeout_ms ? opts->timeout_ms : 60000L);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, resp);
    curl_easy_setopt(easy, CURLOPT_PREREQFUNCTION, on_send);
    curl_easy_setopt(easy, CURLOPT_PREREQDATA, &sctx);

    if (strcmp(req->method, "GET") == 0) {
        curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(req->method, "HEAD") == 0) {
        curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
    } else {
        if (strcmp(req->method, "POST") != 0)
            curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req->method);
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body.len);
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, plumb_buf_cstr(&req->body));
    }

    rc = curl_easy_perform(easy);
    if (rc == CURLE_ABORTED_BY_CALLBACK && req->once && resp->sends) {
        error = plumb_error_set(PLUMB_ENET,
                                "%s %s: the connection died after the request was sent, and "
                                "it must not be sent twice",
                                req->method, req->url_base);
        goto done;
    }
    if (rc != CURLE_OK) {
        resp->lasting = lasting_failure(rc);
        resp->unreached = rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_RESOLVE_PROXY ||
                          rc == CURLE_COULDNT_CONNECT;
        error = plumb_error_set(PLUMB_ENET, "%s %s: %s%s%s", req->method, req->url_base,
                                curl_easy_strerror(rc), errbuf[0] ? ": " : "", errbuf);
        goto done;
    }
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &resp->status);

done:
    /* Header lines may carry a token (ECS credentials, Authorization): wipe before freeing. */
    for (tmp = headers; tmp; tmp = tmp->next)
        OPENSSL_cleanse(tmp->data, strlen(tmp->data));
    curl_slist_free_all(headers);
    plumb_buf_release(&url);
    if (line.ptr)
        OPENSSL_cleanse(line.ptr, line.cap);
    plumb_buf_release(&line);
    return error;
}
