/*
 * The one growable string builder (STYLE.md §6): every string, URL and canonical request built
 * at run time goes through it. The buffer is always NUL-terminated once anything was put in it,
 * so `ptr` can be handed to C string functions; `len` excludes the terminator.
 */
#ifndef PLUMB_UTIL_BUF_H
#define PLUMB_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct plumb_buf {
    char *ptr;
    size_t len;
    size_t cap;
};

#define PLUMB_BUF_INIT                                                                             \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void plumb_buf_init(struct plumb_buf *b);
void plumb_buf_release(struct plumb_buf *b);
/* Empties the buffer but keeps its memory. */
void plumb_buf_clear(struct plumb_buf *b);
int plumb_buf_grow(struct plumb_buf *b, size_t extra);
int plumb_buf_put(struct plumb_buf *b, const void *data, size_t n);
int plumb_buf_puts(struct plumb_buf *b, const char *s);
int plumb_buf_putc(struct plumb_buf *b, char c);
int plumb_buf_printf(struct plumb_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int plumb_buf_vprintf(struct plumb_buf *b, const char *fmt, va_list ap);
/* The contents as a string ("" for an empty buffer, never NULL). */
const char *plumb_buf_cstr(const struct plumb_buf *b);
/* Hands the heap string to the caller (who frees it) and leaves the buffer empty. */
char *plumb_buf_detach(struct plumb_buf *b);
/* Appends `s` percent-encoded per RFC 3986: unreserved characters pass, everything else is
 * %XX (upper-case hex). With keep_slash, '/' passes too (for URI paths). */
int plumb_buf_put_uri_encoded(struct plumb_buf *b, const char *s, size_t n, int keep_slash);
/* Appends `s` as application/x-www-form-urlencoded does, the way botocore (Python's
 * quote_plus) sends query-protocol bodies: like plumb_buf_put_uri_encoded, but a space is '+'. */
int plumb_buf_put_form_encoded(struct plumb_buf *b, const char *s, size_t n);
/* A heap copy of exactly n bytes of s plus a NUL. Unlike strndup it never looks past s[n-1],
 * which matters for ranges inside long or unterminated buffers (an LMDB value, one reference
 * in a long scalar): sanitizers' strndup scans to the NUL, which made such loops quadratic. */
char *plumb_strndup(const char *s, size_t n);
/* Appends lower-case hex of `n` bytes. */
int plumb_buf_put_hex(struct plumb_buf *b, const unsigned char *data, size_t n);

/* Appends `data` base64-encoded (RFC 4648, padded), or the bytes the base64 text `s` stands
 * for (PLUMB_EINVALID when it is not base64). */
int plumb_buf_put_base64(struct plumb_buf *out, const void *data, size_t n);
int plumb_buf_put_unbase64(struct plumb_buf *out, const char *s, size_t n);

#endif
