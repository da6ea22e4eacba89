/*
 * AWS Signature Version 4. The request carries raw path and query values (aws/http.h), so
 * every byte that is signed is encoded here, once, the way the canonical request wants it;
 * the sender encodes the same raw values for the wire. Derived keys never outlive the call.
 */
#include "aws/sigv4.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "util/error.h"

#define SIGV4_ALGORITHM  "AWS4-HMAC-SHA256"
#define SIGV4_TERMINATOR "aws4_request"
#define AMZ_DATE_LEN     16      /* 20150830T123600Z */
#define MAX_EXPIRES      604800L /* SigV4 caps presigned URLs at seven days */

struct header_ref {
    char *lname;  /* lower-cased copy of the name */
    size_t index; /* position on the request, so repeated headers keep their order */
    const char *value;
};

struct query_ref {
    char *name;  /* encoded */
    char *value; /* encoded */
};

void plumb_sha256_hex(char out[65], const void *data, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[SHA256_DIGEST_LENGTH];
    size_t i;

    SHA256(n ? data : (const void *)"", n, md);
    for (i = 0; i < SHA256_DIGEST_LENGTH; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* YYYYMMDDTHHMMSSZ; anything else would put a wrong day in the credential scope. */
static int amz_date_valid(const char *s)
{
    int i;

    if (!s || strlen(s) != AMZ_DATE_LEN || s[8] != 'T' || s[15] != 'Z')
        return 0;
    for (i = 0; i < 15; i++)
        if (i != 8 && !is_digit(s[i]))
            return 0;
    return 1;
}

static int check_params(const struct plumb_sigv4_params *p)
{
    int error = 0;

    if (!p->access_key_id || !*p->access_key_id || !p->secret_access_key ||
        !*p->secret_access_key) {
        error = plumb_error_set(PLUMB_EAUTH, "missing AWS credentials for signing");
        goto done;
    }
    if (!p->region || !*p->region || !p->service || !*p->service) {
        error = plumb_error_set(PLUMB_EINVALID, "missing region or service name for signing");
        goto done;
    }

done:
    return error;
}

/* AWS refuses a signature without Host signed; say so here rather than as a 403 later. */
static int check_host(const struct plumb_http_request *req)
{
    int error = 0;

    if (!plumb_kvlist_get(&req->headers, "Host")) {
        error = plumb_error_set(PLUMB_EINVALID, "missing 'Host' header on the request to sign");
        goto done;
    }

done:
    return error;
}

static int format_amz_date(char out[AMZ_DATE_LEN + 1], time_t t)
{
    struct tm tm;
    int error = 0;

    if (!gmtime_r(&t, &tm) || strftime(out, AMZ_DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm) == 0) {
        error = plumb_error_set(PLUMB_EINVALID, "invalid signing time '%lld'", (long long)t);
        goto done;
    }

done:
    return error;
}

static int has_session_token(const struct plumb_sigv4_params *p)
{
    return p->session_token && *p->session_token;
}

static int hmac_sha256(unsigned char out[SHA256_DIGEST_LENGTH], const void *key, size_t key_len,
                       const void *data, size_t n)
{
    unsigned int len = 0;
    int error = 0;

    if (key_len > INT_MAX || !HMAC(EVP_sha256(), key, (int)key_len, data, n, out, &len) ||
        len != SHA256_DIGEST_LENGTH) {
        error = plumb_error_set(PLUMB_ERROR, "unable to compute 'HMAC-SHA256'");
        goto done;
    }

done:
    return error;
}

/*
 * The canonical URI. With normalize, "." and ".." segments go and empty segments (from "//")
 * collapse; a path ending in "/", "/." or "/.." keeps a trailing slash, as RFC 3986 §5.2.4
 * does. Each segment is encoded once: the path is raw here, so this matches what the
 * suite expects from a request line that carries it unencoded.
 */
static int put_canonical_uri(struct plumb_buf *out, const char *path, bool normalize)
{
    struct {
        const char *s;
        size_t n;
    } *segs = NULL;
    size_t nsegs = 0, cap = 1, i;
    const char *s;
    bool trailing = false;
    int error = 0;

    if (!path || !*path) {
        PLUMB_TRY(plumb_buf_putc(out, '/'));
        goto done;
    }
    if (!normalize) {
        if (path[0] != '/')
            PLUMB_TRY(plumb_buf_putc(out, '/'));
        PLUMB_TRY(plumb_buf_put_uri_encoded(out, path, strlen(path), 1));
        goto done;
    }

    for (s = path; *s; s++)
        if (*s == '/')
            cap++;
    segs = calloc(cap, sizeof(*segs));
    PLUMB_ALLOC_CHECK(segs);

    for (s = path;;) {
        const char *slash = strchr(s, '/');
        size_t n = slash ? (size_t)(slash - s) : strlen(s);

        if (n == 0 || (n == 1 && s[0] == '.')) {
            trailing = true;
        } else if (n == 2 && s[0] == '.' && s[1] == '.') {
            if (nsegs)
                nsegs--;
            trailing = true;
        } else {
            segs[nsegs].s = s;
            segs[nsegs].n = n;
            nsegs++;
            trailing = false;
        }
        if (!slash)
            break;
        s = slash + 1;
    }

    PLUMB_TRY(plumb_buf_putc(out, '/'));
    for (i = 0; i < nsegs; i++) {
        if (i)
            PLUMB_TRY(plumb_buf_putc(out, '/'));
        PLUMB_TRY(plumb_buf_put_uri_encoded(out, segs[i].s, segs[i].n, 0));
    }
    if (nsegs && trailing)
        PLUMB_TRY(plumb_buf_putc(out, '/'));

done:
    free(segs);
    return error;
}

static int query_ref_cmp(const void *a, const void *b)
{
    const struct query_ref *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    return c ? c : strcmp(x->value, y->value);
}

/* Sorted by encoded name, then encoded value, so repeated names order deterministically. */
static int put_canonical_query(struct plumb_buf *out, const struct plumb_kvlist *query)
{
    struct query_ref *refs = NULL;
    struct plumb_buf enc = PLUMB_BUF_INIT;
    size_t i, n = 0;
    int error = 0;

    if (query->n == 0)
        goto done;
    refs = calloc(query->n, sizeof(*refs));
    PLUMB_ALLOC_CHECK(refs);
    for (n = 0; n < query->n; n++) {
        const struct plumb_kv *kv = &query->v[n];

        PLUMB_TRY(plumb_buf_put_uri_encoded(&enc, kv->name, strlen(kv->name), 0));
        refs[n].name = plumb_buf_detach(&enc);
        PLUMB_ALLOC_CHECK(refs[n].name);
        PLUMB_TRY(plumb_buf_put_uri_encoded(&enc, kv->value, strlen(kv->value), 0));
        refs[n].value = plumb_buf_detach(&enc);
        PLUMB_ALLOC_CHECK(refs[n].value);
    }
    qsort(refs, n, sizeof(*refs), query_ref_cmp);
    for (i = 0; i < n; i++) {
        if (i)
            PLUMB_TRY(plumb_buf_putc(out, '&'));
        PLUMB_TRY(plumb_buf_printf(out, "%s=%s", refs[i].name, refs[i].value));
    }

done:
    if (refs) {
        for (i = 0; i < query->n; i++) {
            free(refs[i].name);
            free(refs[i].value);
        }
    }
    free(refs);
    plumb_buf_release(&enc);
    return error;
}

/*
 * Trimmed, with every run of white space (folded continuation lines included) as one space:
 * the "trimall" of the SigV4 documentation, which is what botocore does with str.split().
 */
static int put_trimmed_value(struct plumb_buf *out, const char *v)
{
    bool pending_space = false, any = false;
    int error = 0;

    for (; *v; v++) {
        if (is_blank(*v)) {
            pending_space = any;
            continue;
        }
        if (pending_space)
            PLUMB_TRY(plumb_buf_putc(out, ' '));
        PLUMB_TRY(plumb_buf_putc(out, *v));
        pending_space = false;
        any = true;
    }

done:
    return error;
}

static int header_ref_cmp(const void *a, const void *b)
{
    const struct header_ref *x = a, *y = b;
    int c = strcmp(x->lname, y->lname);

    if (c)
        return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * "name:value\n" per distinct lower-cased name, sorted, repeated headers joined with ',' in
 * request order; and the ';'-joined signed names. Every header is signed but Authorization,
 * which carries the signature itself.
 */
static int put_canonical_headers(struct plumb_buf *out, struct plumb_buf *signed_headers,
                                 const struct plumb_kvlist *headers)
{
    struct header_ref *refs = NULL;
    size_t i, n = 0;
    int error = 0;

    if (headers->n) {
        refs = calloc(headers->n, sizeof(*refs));
        PLUMB_ALLOC_CHECK(refs);
    }
    for (i = 0; i < headers->n; i++) {
        char *c;

        if (strcasecmp(headers->v[i].name, "Authorization") == 0)
            continue;
        refs[n].lname = strdup(headers->v[i].name);
        PLUMB_ALLOC_CHECK(refs[n].lname);
        for (c = refs[n].lname; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
        refs[n].index = i;
        refs[n].value = headers->v[i].value;
        n++;
    }
    if (n)
        qsort(refs, n, sizeof(*refs), header_ref_cmp);

    for (i = 0; i < n; i++) {
        bool first = i == 0 || strcmp(refs[i - 1].lname, refs[i].lname) != 0;

        if (first) {
            if (i)
                PLUMB_TRY(plumb_buf_putc(out, '\n'));
            PLUMB_TRY(plumb_buf_printf(out, "%s:", refs[i].lname));
            if (i)
                PLUMB_TRY(plumb_buf_putc(signed_headers, ';'));
            PLUMB_TRY(plumb_buf_puts(signed_headers, refs[i].lname));
        } else {
            PLUMB_TRY(plumb_buf_putc(out, ','));
        }
        PLUMB_TRY(put_trimmed_value(out, refs[i].value));
    }
    if (n)
        PLUMB_TRY(plumb_buf_putc(out, '\n'));

done:
    if (refs) {
        for (i = 0; i < n; i++)
            free(refs[i].lname);
    }
    free(refs);
    return error;
}

int plumb_sigv4_canonical_request(struct plumb_buf *out, struct plumb_buf *signed_headers,
                                  const struct plumb_http_request *req,
                                  const struct plumb_sigv4_params *p)
{
    struct plumb_buf headers = PLUMB_BUF_INIT, names = PLUMB_BUF_INIT;
    const char *payload;
    char body_hash[65];
    int error = 0;

    PLUMB_TRY(put_canonical_headers(&headers, &names, &req->headers));

    /* A caller that already chose the payload hash (S3's UNSIGNED-PAYLOAD) signs that value:
     * the server checks the header against the payload line, so the two must agree. */
    payload = plumb_kvlist_get(&req->headers, "x-amz-content-sha256");
    if (!payload) {
        plumb_sha256_hex(body_hash, req->body.ptr, req->body.len);
        payload = body_hash;
    }

    PLUMB_TRY(plumb_buf_printf(out, "%s\n", req->method));
    PLUMB_TRY(put_canonical_uri(out, req->path, p->normalize_path));
    PLUMB_TRY(plumb_buf_putc(out, '\n'));
    PLUMB_TRY(put_canonical_query(out, &req->query));
    PLUMB_TRY(plumb_buf_putc(out, '\n'));
    PLUMB_TRY(plumb_buf_put(out, plumb_buf_cstr(&headers), headers.len));
    PLUMB_TRY(plumb_buf_printf(out, "\n%s\n%s", plumb_buf_cstr(&names), payload));
    if (signed_headers)
        PLUMB_TRY(plumb_buf_put(signed_headers, plumb_buf_cstr(&names), names.len));

done:
    plumb_buf_release(&headers);
    plumb_buf_release(&names);
    return error;
}

int plumb_sigv4_string_to_sign(struct plumb_buf *out, const char *amz_date,
                               const struct plumb_sigv4_params *p, const char *canonical_request)
{
    char hash[65];
    int error = 0;

    if (!amz_date_valid(amz_date)) {
        error =
            plumb_error_set(PLUMB_EINVALID, "invalid X-Amz-Date '%s'", amz_date ? amz_date : "");
        goto done;
    }
    plumb_sha256_hex(hash, canonical_request, strlen(canonical_request));
    PLUMB_TRY(plumb_buf_printf(out, SIGV4_ALGORITHM "\n%s\n%.8s/%s/%s/" SIGV4_TERMINATOR "\n%s",
                               amz_date, amz_date, p->region, p->service, hash));

done:
    return error;
}

int plumb_sigv4_signature(struct plumb_buf *out, const char *amz_date,
                          const struct plumb_sigv4_params *p, const char *string_to_sign)
{
    unsigned char k1[SHA256_DIGEST_LENGTH], k2[SHA256_DIGEST_LENGTH];
    char *secret = NULL;
    size_t secret_len = 0;
    int error = 0;

    if (!amz_date_valid(amz_date)) {
        error =
            plumb_error_set(PLUMB_EINVALID, "invalid X-Amz-Date '%s'", amz_date ? amz_date : "");
        goto done;
    }
    PLUMB_TRY(check_params(p));

    /* kSecret = "AWS4" + secret, in memory we can wipe (a growing buffer could leave copies). */
    secret_len = 4 + strlen(p->secret_access_key);
    secret = malloc(secret_len);
    PLUMB_ALLOC_CHECK(secret);
    memcpy(secret, "AWS4", 4);
    memcpy(secret + 4, p->secret_access_key, secret_len - 4);

    PLUMB_TRY(hmac_sha256(k1, secret, secret_len, amz_date, 8));
    PLUMB_TRY(hmac_sha256(k2, k1, sizeof(k1), p->region, strlen(p->region)));
    PLUMB_TRY(hmac_sha256(k1, k2, sizeof(k2), p->service, strlen(p->service)));
    PLUMB_TRY(hmac_sha256(k2, k1, sizeof(k1), SIGV4_TERMINATOR, strlen(SIGV4_TERMINATOR)));
    PLUMB_TRY(hmac_sha256(k1, k2, sizeof(k2), string_to_sign, strlen(string_to_sign)));
    PLUMB_TRY(plumb_buf_put_hex(out, k1, sizeof(k1)));

done:
    if (secret) {
        OPENSSL_cleanse(secret, secret_len);
        free(secret);
    }
    OPENSSL_cleanse(k1, sizeof(k1));
    OPENSSL_cleanse(k2, sizeof(k2));
    return error;
}

/* Canonical request → string to sign → signature, for either form. */
static int sign_request(struct plumb_buf *out_signature, struct plumb_buf *signed_headers,
                        const struct plumb_http_request *req, const char *amz_date,
                        const struct plumb_sigv4_params *p)
{
    struct plumb_buf creq = PLUMB_BUF_INIT, sts = PLUMB_BUF_INIT;
    int error = 0;

    PLUMB_TRY(plumb_sigv4_canonical_request(&creq, signed_headers, req, p));
    PLUMB_TRY(plumb_sigv4_string_to_sign(&sts, amz_date, p, plumb_buf_cstr(&creq)));
    PLUMB_TRY(plumb_sigv4_signature(out_signature, amz_date, p, plumb_buf_cstr(&sts)));

done:
    plumb_buf_release(&creq);
    plumb_buf_release(&sts);
    return error;
}

int plumb_sigv4_sign(struct plumb_http_request *req, const struct plumb_sigv4_params *p)
{
    struct plumb_buf signature = PLUMB_BUF_INIT, names = PLUMB_BUF_INIT, auth = PLUMB_BUF_INIT;
    char amz_date[AMZ_DATE_LEN + 1];
    const char *given_date;
    int error = 0;

    PLUMB_TRY(check_params(p));
    PLUMB_TRY(check_host(req));

    given_date = plumb_kvlist_get(&req->headers, "X-Amz-Date");
    if (given_date) {
        if (!amz_date_valid(given_date)) {
            error = plumb_error_set(PLUMB_EINVALID, "invalid X-Amz-Date '%s'", given_date);
            goto done;
        }
        memcpy(amz_date, given_date, sizeof(amz_date));
    } else {
        PLUMB_TRY(format_amz_date(amz_date, p->now));
        PLUMB_TRY(plumb_kvlist_add(&req->headers, "X-Amz-Date", amz_date));
    }
    if (has_session_token(p) && !p->omit_session_token)
        PLUMB_TRY(plumb_kvlist_set(&req->headers, "X-Amz-Security-Token", p->session_token));
    if (p->sign_body && !plumb_kvlist_get(&req->headers, "x-amz-content-sha256")) {
        char hash[65];

        plumb_sha256_hex(hash, req->body.ptr, req->body.len);
        PLUMB_TRY(plumb_kvlist_add(&req->headers, "x-amz-content-sha256", hash));
    }
    /* Signing again (a retry) replaces the old signature instead of sending two. */
    plumb_kvlist_remove(&req->headers, "Authorization");

    PLUMB_TRY(sign_request(&signature, &names, req, amz_date, p));

    PLUMB_TRY(plumb_buf_printf(&auth,
                               SIGV4_ALGORITHM " Credential=%s/%.8s/%s/%s/" SIGV4_TERMINATOR
                                               ", SignedHeaders=%s, Signature=%s",
                               p->access_key_id, amz_date, p->region, p->service,
                               plumb_buf_cstr(&names), plumb_buf_cstr(&signature)));
    if (has_session_token(p) && p->omit_session_token)
        PLUMB_TRY(plumb_kvlist_set(&req->headers, "X-Amz-Security-Token", p->session_token));
    PLUMB_TRY(plumb_kvlist_add(&req->headers, "Authorization", plumb_buf_cstr(&auth)));

done:
    plumb_buf_release(&signature);
    plumb_buf_release(&names);
    plumb_buf_release(&auth);
    return error;
}

int plumb_sigv4_presign(struct plumb_http_request *req, const struct plumb_sigv4_params *p)
{
    struct plumb_buf signature = PLUMB_BUF_INIT, headers = PLUMB_BUF_INIT, names = PLUMB_BUF_INIT,
                     s = PLUMB_BUF_INIT;
    char amz_date[AMZ_DATE_LEN + 1];
    int error = 0;

    PLUMB_TRY(check_params(p));
    PLUMB_TRY(check_host(req));
    if (p->expires < 1 || p->expires > MAX_EXPIRES) {
        error = plumb_error_set(PLUMB_EINVALID, "invalid presign expiry '%ld' (1 to %ld seconds)",
                                p->expires, MAX_EXPIRES);
        goto done;
    }
    PLUMB_TRY(format_amz_date(amz_date, p->now));

    /* The signed header list is itself a signed query parameter, so it comes first. */
    PLUMB_TRY(put_canonical_headers(&headers, &names, &req->headers));

    plumb_kvlist_remove(&req->query, "X-Amz-Signature");
    plumb_kvlist_remove(&req->query, "X-Amz-Security-Token");
    PLUMB_TRY(plumb_kvlist_set(&req->query, "X-Amz-Algorithm", SIGV4_ALGORITHM));
    PLUMB_TRY(plumb_buf_printf(&s, "%s/%.8s/%s/%s/" SIGV4_TERMINATOR, p->access_key_id, amz_date,
                               p->region, p->service));
    PLUMB_TRY(plumb_kvlist_set(&req->query, "X-Amz-Credential", plumb_buf_cstr(&s)));
    PLUMB_TRY(plumb_kvlist_set(&req->query, "X-Amz-Date", amz_date));
    PLUMB_TRY(plumb_kvlist_set(&req->query, "X-Amz-SignedHeaders", plumb_buf_cstr(&names)));
    plumb_buf_clear(&s);
    PLUMB_TRY(plumb_buf_printf(&s, "%ld", p->expires));
    PLUMB_TRY(plumb_kvlist_set(&req->query, "X-Amz-Expires", plumb_buf_cstr(&s)));
    if (has_session_token(p) && !p->omit_session_token)
        PLUMB_TRY(plumb_kvlist_add(&req->query, "X-Amz-Security-Token", p->session_token));

    PLUMB_TRY(sign_request(&signature, NULL, req, amz_date, p));

    if (has_session_token(p) && p->omit_session_token)
        PLUMB_TRY(plumb_kvlist_add(&req->query, "X-Amz-Security-Token", p->session_token));
    PLUMB_TRY(plumb_kvlist_add(&req->query, "X-Amz-Signature", plumb_buf_cstr(&signature)));

done:
    plumb_buf_release(&signature);
    plumb_buf_release(&headers);
    plumb_buf_release(&names);
    plumb_buf_release(&s);
    return error;
}
