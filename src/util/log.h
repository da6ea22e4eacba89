/*
 * Progress and chatter on stderr (results go to stdout: STYLE.md). -q lowers the level to
 * errors only, -v raises it to debug (one line per AWS call). Lines are written whole, so
 * worker threads do not interleave within a line.
 */
#ifndef PLUMB_UTIL_LOG_H
#define PLUMB_UTIL_LOG_H

enum plumb_log_level {
    PLUMB_LOG_ERROR = 0,
    PLUMB_LOG_WARN = 1,
    PLUMB_LOG_INFO = 2,
    PLUMB_LOG_DEBUG = 3,
};

void plumb_log_set_level(enum plumb_log_level level);
enum plumb_log_level plumb_log_get_level(void);
void plumb_log(enum plumb_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define plumb_log_debug(...) plumb_log(PLUMB_LOG_DEBUG, __VA_ARGS__)
#define plumb_log_info(...)  plumb_log(PLUMB_LOG_INFO, __VA_ARGS__)
#define plumb_log_warn(...)  plumb_log(PLUMB_LOG_WARN, __VA_ARGS__)

#endif
