/* Files embedded in the binary at build time (cmake/embed.cmake): AWS models, schemas. */
#ifndef PLUMB_UTIL_EMBEDDED_H
#define PLUMB_UTIL_EMBEDDED_H

#include <stddef.h>

struct plumb_embedded {
    const char *name;          /* path relative to its source folder: "sts.json" */
    const unsigned char *data; /* NUL-terminated after len bytes */
    size_t len;
};

/* The AWS API models from src/aws/models/ (scripts/gen-aws-models.py). */
extern const struct plumb_embedded plumb_embedded_aws_models[];
/* The resource schemas from schemas/ ("aws-ecr-repository.json", "plumb.schema.json"). */
extern const struct plumb_embedded plumb_embedded_schemas[];

/* The entry called `name` in `table`, or NULL. */
const struct plumb_embedded *plumb_embedded_find(const struct plumb_embedded *table,
                                                 const char *name);

#endif
