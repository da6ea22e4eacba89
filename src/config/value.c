#include "config/value.h"

#include <string.h>

static int is_mark(const json_t *v, const char *key)
{
    return json_is_object(v) && json_object_size(v) == 1 && json_object_get(v, key) != NULL;
}

json_t *plumb_value_unknown(const char *why)
{
    return json_pack("{s:s}", PLUMB_VALUE_UNKNOWN_KEY, why ? why : "");
}

int plumb_value_is_unknown(const json_t *v)
{
    return is_mark(v, PLUMB_VALUE_UNKNOWN_KEY);
}

const char *plumb_value_unknown_why(const json_t *v)
{
    return plumb_value_is_unknown(v)
               ? json_string_value(json_object_get(v, PLUMB_VALUE_UNKNOWN_KEY))
               : NULL;
}

json_t *plumb_value_sensitive(json_t *v)
{
    json_t *w;

    if (!v || plumb_value_is_unknown(v) || plumb_value_is_sensitive(v))
        return v;
    w = json_object();
    if (!w || json_object_set_new(w, PLUMB_VALUE_SENSITIVE_KEY, v) < 0) {
        json_decref(w);
        return NULL;
    }
    return w;
}

int plumb_value_is_sensitive(const json_t *v)
{
    return is_mark(v, PLUMB_VALUE_SENSITIVE_KEY);
}

const json_t *plumb_value_unwrap(const json_t *v)
{
    return plumb_value_is_sensitive(v) ? json_object_get(v, PLUMB_VALUE_SENSITIVE_KEY) : v;
}

static int has_mark(const json_t *v, const char *key)
{
    const char *k;
    json_t *x;
    size_t i;

    if (is_mark(v, key))
        return 1;
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, x) if (has_mark(x, key)) return 1;
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, x) if (has_mark(x, key)) return 1;
    }
    return 0;
}

int plumb_value_has_unknown(const json_t *v)
{
    return has_mark(v, PLUMB_VALUE_UNKNOWN_KEY);
}

int plumb_value_has_sensitive(const json_t *v)
{
    return has_mark(v, PLUMB_VALUE_SENSITIVE_KEY);
}
