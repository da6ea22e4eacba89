/* Post-apply checks (plumb.yaml `checks:`): an HTTP URL must answer the expected status
 * within a time; the first that does not fails the apply, which then rolls back. */
#include <curl/curl.h>
#include <string.h>
#include <time.h>

#include "apply/apply.h"
#include "config/value.h"
#include "util/error.h"
#include "util/log.h"
#include "util/sys.h"

static size_t discard(char *p, size_t s, size_t n, void *u)
{
    (void)p, (void)u;
    return s * n;
}

static long get_status(const char *url, char *err, size_t errlen)
{
    CURL *c = curl_easy_init();
    long status = 0;
    CURLcode rc;

    if (!c)
        return 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    else
        snprintf(err, errlen, "%s", curl_easy_strerror(rc));
    curl_easy_cleanup(c);
    return status;
}

int plumb_apply_checks(const struct plumb_model *m, const json_t *records, int quiet)
{
    size_t i;

    (void)records;
    for (i = 0; i < m->nchecks; i++) {
        const struct plumb_check *c = &m->checks[i];
        const json_t *url = plumb_value_unwrap(c->http);
        time_t start = plumb_clock_now();
        long status = 0,
             poll = c->within >= 50 ? 5000 : (c->within * 100 > 200 ? c->within * 100 : 200);
        char err[256] = "";

        if (!json_is_string(url))
            return plumb_error_set(PLUMB_ERROR, "check %zu: its URL is still unknown after apply",
                                   i + 1);
        if (!quiet)
            plumb_log_info("check: GET %s, expecting %d within %lds", json_string_value(url),
                           c->expect, c->within);
        for (;;) {
            err[0] = '\0';
            status = get_status(json_string_value(url), err, sizeof(err));
            if (status == c->expect)
                break;
            if (plumb_clock_now() - start >= c->within) {
                char got[300];
                if (status)
                    snprintf(got, sizeof(got), "answered HTTP %ld", status);
                else
                    snprintf(got, sizeof(got), "did not answer (%s)", err[0] ? err : "no response");
                return plumb_error_set(PLUMB_ERROR,
                                       "check failed: GET %s %s, expected %d within %lds",
                                       json_string_value(url), got, c->expect, c->within);
            }
            plumb_sleep_ms(poll);
        }
        if (!quiet)
            plumb_log_info("check: GET %s answered %ld", json_string_value(url), status);
    }
    return 0;
}
