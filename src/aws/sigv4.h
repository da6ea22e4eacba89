/*
 * AWS Signature Version 4 (AWS4-HMAC-SHA256) with OpenSSL: the Authorization-header form used
 * for every API call, and the presigned-query form. Layout after the AWS documentation and the
 * test suite in shared/testdata/sigv4; the clock is a parameter, so signing is exact in tests.
 */
#ifndef PLUMB_AWS_SIGV4_H
#define PLUMB_AWS_SIGV4_H

#include <stdbool.h>
#include <time.h>

#include "aws/http.h"
#include "util/buf.h"

struct plumb_sigv4_params {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token; /* NULL or "" when none */
    const char *region;        /* "us-east-1" */
    const char *service;       /* signing name: "sts", "s3", "elasticloadbalancing" */
    time_t now;                /* signing time */
    /* Remove "." and ".." segments and collapse "//" in the canonical URI: every service but
     * S3. Without it the path is used as given (each segment still URI-encoded once). */
    bool normalize_path;
    /* Hash the body and send it as x-amz-content-sha256 (signed): S3 wants this. */
    bool sign_body;
    /* Add the session token after signing, outside the signature (a few old services). */
    bool omit_session_token;
    long expires; /* presign only: X-Amz-Expires in seconds */
};

/*
 * Signs `req` in place with the Authorization header: adds X-Amz-Date (unless the request
 * already has one, which is then used as the signing time), X-Amz-Security-Token when there
 * is a session token, x-amz-content-sha256 when sign_body (unless the caller set one, e.g.
 * UNSIGNED-PAYLOAD), and Authorization, replacing any earlier one. Every header on the request
 * at that point is signed. `req->headers` must hold Host.
 */
int plumb_sigv4_sign(struct plumb_http_request *req, const struct plumb_sigv4_params *p);

/* Presigns `req` in place: adds the X-Amz-* query parameters (X-Amz-Security-Token too when
 * there is a session token) and X-Amz-Signature. Headers are signed as they are, not added. */
int plumb_sigv4_presign(struct plumb_http_request *req, const struct plumb_sigv4_params *p);

/*
 * The pieces, exposed so tests can compare each against the suite's expected files; each
 * appends to `out`. The canonical request is built from `req` as it stands (every header but
 * Authorization, every query parameter), so it serves both forms: for the presigned form the
 * X-Amz-* parameters are already in the query. The payload line is the x-amz-content-sha256
 * header when the request has one, else the hex SHA-256 of the body, in both forms
 * (UNSIGNED-PAYLOAD is not used: the suite hashes the body; see testdata README).
 * `signed_headers` (the ';'-joined names) may be NULL.
 */
int plumb_sigv4_canonical_request(struct plumb_buf *out, struct plumb_buf *signed_headers,
                                  const struct plumb_http_request *req,
                                  const struct plumb_sigv4_params *p);
int plumb_sigv4_string_to_sign(struct plumb_buf *out, const char *amz_date,
                               const struct plumb_sigv4_params *p, const char *canonical_request);
/* Lower-case hex signature of `string_to_sign` under the derived key for amz_date's day. */
int plumb_sigv4_signature(struct plumb_buf *out, const char *amz_date,
                          const struct plumb_sigv4_params *p, const char *string_to_sign);

/* Hex SHA-256 of data, into out (65 bytes with the terminator). */
void plumb_sha256_hex(char out[65], const void *data, size_t n);

#endif
