/*
 * Errors, the libgit2 way: functions return 0 or a negative code from the small set below,
 * and put a human message in a per-thread "last error" slot that the caller renders. Messages
 * are lower-case, problem first, subject in quotes, no full stop (STYLE.md).
 */
#ifndef PLUMB_UTIL_ERROR_H
#define PLUMB_UTIL_ERROR_H

enum plumb_error_code {
    PLUMB_OK = 0,
    PLUMB_ERROR = -1,       /* anything without a more specific code */
    PLUMB_ENOTFOUND = -2,   /* the thing asked for does not exist */
    PLUMB_ECONFLICT = -3,   /* it exists already, or changed under us */
    PLUMB_ETHROTTLED = -4,  /* the service throttled us beyond our retries */
    PLUMB_ELOCKED = -5,     /* another writer holds the lock */
    PLUMB_EINVALID = -6,    /* bad input: config, arguments, environment */
    PLUMB_EAUTH = -7,       /* credentials missing, expired or refused */
    PLUMB_EAWS = -8,        /* an AWS API error not covered above */
    PLUMB_ENET = -9,        /* transport: DNS, connect, TLS, timeout, dropped connection */
    PLUMB_EUNCERTAIN = -10, /* a create was sent and its answer lost (a dropped connection, a
                               5xx): whether it took effect is unknown, so it was not resent */
};

struct plumb_error {
    int code;
    char *message;
};

/* Sets the last error and returns `code`, so `return plumb_error_set(...)` reads well. */
int plumb_error_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Puts "context: " in front of the current message, keeping its code; returns the code. */
int plumb_error_wrap(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int plumb_error_oom(void);
/* The last error of this thread, or NULL when none was set since the last clear. */
const struct plumb_error *plumb_error_last(void);
/* The last message, or "unknown error". */
const char *plumb_error_message(void);
void plumb_error_clear(void);

/* Jump to `done` with error = -1 (out of memory recorded) when an allocation failed. */
#define PLUMB_ALLOC_CHECK(p)                                                                       \
    do {                                                                                           \
        if (!(p)) {                                                                                \
            error = plumb_error_oom();                                                             \
            goto done;                                                                             \
        }                                                                                          \
    } while (0)

/* Evaluate `expr`; on a negative result keep it in `error` and jump to `done`. */
#define PLUMB_TRY(expr)                                                                            \
    do {                                                                                           \
        if ((error = (expr)) < 0)                                                                  \
            goto done;                                                                             \
    } while (0)

#endif
