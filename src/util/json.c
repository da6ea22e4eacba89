#include "util/json.h"

const char *plumb_json_str(const json_t *o, const char *key, const char *fallback)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? s : fallback;
}
