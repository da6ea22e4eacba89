/*
 * What plumb takes from the system — the clock, randomness, sleeping and the environment —
 * behind functions tests can redirect (STYLE.md §8), so signing, retry back-off and expiry
 * are tested exactly and without real waits.
 */
#ifndef PLUMB_UTIL_SYS_H
#define PLUMB_UTIL_SYS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Seconds since the epoch. */
time_t plumb_clock_now(void);
/* Redirect the clock (NULL restores the real one). */
void plumb_clock_set(time_t (*fn)(void));

/* A uniformly random 64-bit value (OpenSSL's generator). */
uint64_t plumb_random_u64(void);
void plumb_random_set(uint64_t (*fn)(void));

void plumb_sleep_ms(long ms);
void plumb_sleep_set(void (*fn)(long ms));

/* getenv, except that a set-but-empty variable counts as unset, as in the AWS SDKs. */
const char *plumb_env_get(const char *name);

/* Formats `t` as ISO 8601 UTC, "2015-08-30T12:36:00Z", into out[21]. */
void plumb_time_iso8601(char out[21], time_t t);
/* Parses ISO 8601 UTC ("2015-08-30T12:36:00Z", optional fraction, "+00:00"). -1 on failure. */
time_t plumb_time_parse_iso8601(const char *s);

/* "user@host", for the record of who ran an apply or a drift check. */
void plumb_who(char *out, size_t n);

#endif
