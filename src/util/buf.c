#include "util/buf.h"

#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "util/error.h"

void plumb_buf_init(struct plumb_buf *b)
{
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
}

void plumb_buf_release(struct plumb_buf *b)
{
    free(b->ptr);
    plumb_buf_init(b);
}

void plumb_buf_clear(struct plumb_buf *b)
{
    b->len = 0;
    if (b->ptr)
        b->ptr[0] = '\0';
}

int plumb_buf_grow(struct plumb_buf *b, size_t extra)
{
    size_t need, cap;
    char *p;

    if (extra > SIZE_MAX - b->len - 1)
        return plumb_error_oom();
    need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    p = realloc(b->ptr, cap);
    if (!p)
        return plumb_error_oom();
    b->ptr = p;
    b->cap = cap;
    return 0;
}

int plumb_buf_put(struct plumb_buf *b, const void *data, size_t n)
{
    if (plumb_buf_grow(b, n) < 0)
        return -1;
    if (n)
        memcpy(b->ptr + b->len, data, n);
    b->len += n;
    b->ptr[b->len] = '\0';
    return 0;
}

int plumb_buf_puts(struct plumb_buf *b, const char *s)
{
    return plumb_buf_put(b, s, strlen(s));
}

int plumb_buf_putc(struct plumb_buf *b, char c)
{
    return plumb_buf_put(b, &c, 1);
}

int plumb_buf_vprintf(struct plumb_buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    size_t room = b->cap > b->len ? b->cap - b->len : 0;
    int n;

    /* one pass when the text fits in what the buffer has (the usual case); a second, after
     * growing, when it does not */
    va_copy(cp, ap);
    n = vsnprintf(room ? b->ptr + b->len : NULL, room, fmt, cp);
    va_end(cp);
    if (n < 0)
        return plumb_error_set(PLUMB_ERROR, "invalid format string");
    if ((size_t)n >= room) {
        if (plumb_buf_grow(b, (size_t)n) < 0) {
            if (b->ptr)
                b->ptr[b->len] = '\0';
            return -1;
        }
        vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    }
    b->len += (size_t)n;
    return 0;
}

int plumb_buf_printf(struct plumb_buf *b, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = plumb_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

const char *plumb_buf_cstr(const struct plumb_buf *b)
{
    return b->ptr ? b->ptr : "";
}

char *plumb_buf_detach(struct plumb_buf *b)
{
    char *p = b->ptr;

    if (!p)
        p = calloc(1, 1);
    plumb_buf_init(b);
    return p;
}

char *plumb_strndup(const char *s, size_t n)
{
    char *p = malloc(n + 1);

    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

int plumb_buf_put_uri_encoded(struct plumb_buf *b, const char *s, size_t n, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i;

    if (plumb_buf_grow(b, n * 3) < 0)
        return -1;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
            b->ptr[b->len++] = (char)c;
        } else {
            b->ptr[b->len++] = '%';
            b->ptr[b->len++] = hex[c >> 4];
            b->ptr[b->len++] = hex[c & 15];
        }
    }
    b->ptr[b->len] = '\0';
    return 0;
}

int plumb_buf_put_form_encoded(struct plumb_buf *b, const char *s, size_t n)
{
    size_t i, start = 0;

    for (i = 0; i <= n; i++) {
        if (i == n || s[i] == ' ') {
            if (plumb_buf_put_uri_encoded(b, s + start, i - start, 0) < 0)
                return -1;
            if (i < n && plumb_buf_putc(b, '+') < 0)
                return -1;
            start = i + 1;
        }
    }
    return 0;
}

int plumb_buf_put_hex(struct plumb_buf *b, const unsigned char *data, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;

    if (plumb_buf_grow(b, n * 2) < 0)
        return -1;
    for (i = 0; i < n; i++) {
        b->ptr[b->len++] = hex[data[i] >> 4];
        b->ptr[b->len++] = hex[data[i] & 15];
    }
    b->ptr[b->len] = '\0';
    return 0;
}

int plumb_buf_put_base64(struct plumb_buf *out, const void *data, size_t n)
{
    int len;

    if (plumb_buf_grow(out, 4 * ((n + 2) / 3)) < 0)
        return -1;
    len = EVP_EncodeBlock((unsigned char *)out->ptr + out->len, data, (int)n);
    if (len < 0)
        return plumb_error_set(PLUMB_ERROR, "unable to base64-encode %zu bytes", n);
    out->len += (size_t)len;
    out->ptr[out->len] = '\0';
    return 0;
}

int plumb_buf_put_unbase64(struct plumb_buf *out, const char *s, size_t n)
{
    int len;

    if (plumb_buf_grow(out, 3 * (n / 4) + 3) < 0)
        return -1;
    len = EVP_DecodeBlock((unsigned char *)out->ptr + out->len, (const unsigned char *)s, (int)n);
    if (len < 0)
        return plumb_error_set(PLUMB_EINVALID, "invalid base64 data");
    /* EVP_DecodeBlock counts the padding as zero bytes */
    len -= (n >= 1 && s[n - 1] == '=') + (n >= 2 && s[n - 2] == '=');
    out->len += (size_t)len;
    out->ptr[out->len] = '\0';
    return 0;
}
