#include "helpers/driver.h"

#include <stdio.h>
#include <string.h>

static int match(const json_t *d, const json_t *o, const char *path, char *why, size_t n)
{
    const char *k;
    json_t *v;
    char sub[256];

    if (json_is_object(d) && json_is_object(o)) {
        json_object_foreach((json_t *)d, k, v)
        {
            snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", k);
            if (!match(v, json_object_get(o, k), sub, why, n))
                return 0;
        }
        return 1;
    }
    if (o && json_equal(d, o))
        return 1;
    if (why)
        snprintf(why, n, "'%s' differs", path);
    return 0;
}

int test_props_match(const json_t *declared, const json_t *observed, char *why, size_t n)
{
    return match(declared, observed, "", why, n);
}
