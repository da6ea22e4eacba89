#include "util/embedded.h"

#include <string.h>

const struct plumb_embedded *plumb_embedded_find(const struct plumb_embedded *table,
                                                 const char *name)
{
    for (; table->name; table++)
        if (strcmp(table->name, name) == 0)
            return table;
    return NULL;
}
