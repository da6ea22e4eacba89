/* Small jansson helpers shared by the reports (drift, audit) and the commands. */
#ifndef PLUMB_UTIL_JSON_H
#define PLUMB_UTIL_JSON_H

#include <jansson.h>

/* The string member `key` of `o`, or `fallback` when it is missing or not a string. */
const char *plumb_json_str(const json_t *o, const char *key, const char *fallback);

#endif
