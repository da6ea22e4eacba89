#include "util/sys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

static time_t (*clock_fn)(void);
static uint64_t (*random_fn)(void);
static void (*sleep_fn)(long);

time_t plumb_clock_now(void)
{
    return clock_fn ? clock_fn() : time(NULL);
}

void plumb_clock_set(time_t (*fn)(void))
{
    clock_fn = fn;
}

uint64_t plumb_random_u64(void)
{
    uint64_t v = 0;

    if (random_fn)
        return random_fn();
    if (RAND_bytes((unsigned char *)&v, sizeof(v)) != 1)
        v = (uint64_t)time(NULL) * 6364136223846793005ULL + (uint64_t)clock();
    return v;
}

void plumb_random_set(uint64_t (*fn)(void))
{
    random_fn = fn;
}

void plumb_sleep_ms(long ms)
{
    struct timespec ts;

    if (sleep_fn) {
        sleep_fn(ms);
        return;
    }
    if (ms <= 0)
        return;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

void plumb_sleep_set(void (*fn)(long ms))
{
    sleep_fn = fn;
}

const char *plumb_env_get(const char *name)
{
    const char *v = getenv(name);

    return (v && *v) ? v : NULL;
}

void plumb_time_iso8601(char out[21], time_t t)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

time_t plumb_time_parse_iso8601(const char *s)
{
    struct tm tm;
    const char *p;
    long off = 0;

    memset(&tm, 0, sizeof(tm));
    if (!s)
        return -1;
    p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p)
        return -1;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int hh, mm;
        /* Exactly "+hh:mm", the 6 characters stepped over below: %2d alone also takes "+0:00",
         * and stepping over 6 then went past the end of the string. */
        if (strspn(p + 1, "0123456789") != 2 || p[3] != ':' || strspn(p + 4, "0123456789") != 2 ||
            sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2)
            return -1;
        off = (hh * 3600L + mm * 60L) * (*p == '-' ? -1 : 1);
        p += 6;
    }
    if (*p)
        return -1;
    return timegm(&tm) - off;
}

void plumb_who(char *out, size_t n)
{
    char host[256] = "unknown";
    const char *user = getenv("USER");

    gethostname(host, sizeof(host) - 1);
    host[sizeof(host) - 1] = '\0';
    snprintf(out, n, "%s@%s", user ? user : "unknown", host);
}
