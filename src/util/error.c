#include "util/error.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

static _Thread_local struct plumb_error last_error;
static _Thread_local int has_error;

/* A worker thread (refresh, apply) ends with its last message still in its slot: a key whose
 * destructor runs at thread exit frees it. */
static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;

static void release_at_thread_exit(void *unused)
{
    (void)unused;
    plumb_error_clear();
}

static void make_exit_key(void)
{
    pthread_key_create(&exit_key, release_at_thread_exit);
}

static void set_message(int code, char *msg)
{
    if (pthread_once(&exit_key_once, make_exit_key) == 0)
        pthread_setspecific(exit_key, &exit_key); /* any non-NULL value arms the destructor */
    free(last_error.message);
    last_error.message = msg;
    last_error.code = code;
    has_error = 1;
}

int plumb_error_set(int code, const char *fmt, ...)
{
    struct plumb_buf b = PLUMB_BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    /* If even this allocation fails, keep the code and a static-free NULL message. */
    if (plumb_buf_vprintf(&b, fmt, ap) < 0)
        plumb_buf_release(&b);
    va_end(ap);
    set_message(code, b.ptr);
    return code;
}

int plumb_error_wrap(const char *fmt, ...)
{
    struct plumb_buf b = PLUMB_BUF_INIT;
    int code = has_error ? last_error.code : PLUMB_ERROR;
    va_list ap;

    va_start(ap, fmt);
    plumb_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (has_error && last_error.message) {
        plumb_buf_puts(&b, ": ");
        plumb_buf_puts(&b, last_error.message);
    }
    set_message(code, b.ptr);
    return code;
}

int plumb_error_oom(void)
{
    free(last_error.message);
    last_error.message = NULL;
    last_error.code = PLUMB_ERROR;
    has_error = 1;
    return PLUMB_ERROR;
}

const struct plumb_error *plumb_error_last(void)
{
    return has_error ? &last_error : NULL;
}

const char *plumb_error_message(void)
{
    if (!has_error)
        return "unknown error";
    return last_error.message ? last_error.message : "out of memory";
}

void plumb_error_clear(void)
{
    free(last_error.message);
    last_error.message = NULL;
    last_error.code = 0;
    has_error = 0;
}
