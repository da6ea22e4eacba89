#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>

#include "util/buf.h"

static enum plumb_log_level current = PLUMB_LOG_INFO;

void plumb_log_set_level(enum plumb_log_level level)
{
    current = level;
}

enum plumb_log_level plumb_log_get_level(void)
{
    return current;
}

void plumb_log(enum plumb_log_level level, const char *fmt, ...)
{
    struct plumb_buf b = PLUMB_BUF_INIT;
    va_list ap;

    if (level > current)
        return;
    if (level == PLUMB_LOG_WARN)
        plumb_buf_puts(&b, "warning: ");
    else if (level == PLUMB_LOG_ERROR)
        plumb_buf_puts(&b, "error: ");
    va_start(ap, fmt);
    plumb_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    plumb_buf_putc(&b, '\n');
    fwrite(b.ptr, 1, b.len, stderr);
    plumb_buf_release(&b);
}
