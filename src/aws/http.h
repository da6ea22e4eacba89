/*
 * HTTP for the AWS client, through libcurl. One share handle per process keeps connections,
 * DNS and TLS sessions reused across requests and threads; each thread gets its own easy
 * handle. TLS verification is always on; AWS_CA_BUNDLE names an extra trust store.
 */
#ifndef PLUMB_AWS_HTTP_H
#define PLUMB_AWS_HTTP_H

#include "util/buf.h"
#include "util/kv.h"

/*
 * A request before it goes on the wire. `path` and the query names and values are raw
 * (not percent-encoded): the signer and the sender each encode them the one way AWS wants,
 * so the bytes signed and the bytes sent cannot disagree.
 */
struct plumb_http_request {
    const char *method;          /* "GET", "POST", ... (static string) */
    char *url_base;              /* scheme://host[:port][/base-path], no trailing '/' */
    char *path;                  /* raw path, starts with '/' */
    struct plumb_kvlist query;   /* raw names and values, in order */
    struct plumb_kvlist headers; /* must include Host once signed */
    struct plumb_buf body;
    /* 1: must not reach the server twice in one send. libcurl resends a request on a fresh
     * connection when a reused one died before any answer; for a create that may have taken
     * effect already, that send is refused and the transfer fails (its outcome unknown). */
    int once;
};

struct plumb_http_response {
    long status;                 /* 0 when no response arrived */
    unsigned sends;              /* times the request went out: 0 when no connection was made,
                                    2 or more when libcurl resent it on a fresh connection */
    struct plumb_kvlist headers; /* names as received */
    struct plumb_buf body;
    /* 1: a transport failure the same request meets again however often it is sent (a
     * certificate refused, a CA bundle unreadable, a URL libcurl cannot use): not retried */
    int lasting;
    /* 1: no connection could be made at all (the host did not resolve, or refused) */
    int unreached;
};

void plumb_http_request_init(struct plumb_http_request *req);
void plumb_http_request_release(struct plumb_http_request *req);
void plumb_http_response_init(struct plumb_http_response *resp);
void plumb_http_response_release(struct plumb_http_response *resp);

/* "https://host:port" → host header value "host:port" (port kept only when not default). */
int plumb_http_host_header(struct plumb_buf *out, const char *url_base);

/* Timeouts in milliseconds; 0 keeps the default (connect 5 s, total 60 s). */
struct plumb_http_options {
    long connect_timeout_ms;
    long timeout_ms;
};

/* Process-wide set-up (curl_global_init, the share handle); call once before threads. */
int plumb_http_global_init(void);
void plumb_http_global_cleanup(void);

/*
 * Sends `req` and fills `resp`. Returns 0 when any HTTP response arrived (whatever its status),
 * PLUMB_ENET for transport failures (DNS, connect, TLS, timeout, dropped connection) with the
 * curl error in the message. resp->sends says whether the request may have reached the server
 * (a failure with sends == 0 never left this machine) and counts libcurl's own resends.
 */
int plumb_http_send(struct plumb_http_response *resp, const struct plumb_http_request *req,
                    const struct plumb_http_options *opts);

#endif
