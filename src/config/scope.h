/* Internal to src/config/: a scope is the project root or one module instance. */
#ifndef PLUMB_CONFIG_SCOPE_H
#define PLUMB_CONFIG_SCOPE_H

#include "config/model.h"

struct plumb_scope {
    char *prefix;                       /* "" or "module.site." (nested: "module.a.module.b.") */
    const char *name;                   /* module name in its parent, NULL for the root */
    struct plumb_scope *parent;         /* NULL for the root */
    char *dir;                          /* directory of the file that declares this scope */
    const char *file;                   /* that file, for messages */
    const struct plumb_node *call;      /* the parent's `modules: NAME:` mapping */
    const struct plumb_node *given;     /* the call's `inputs:` mapping, or NULL */
    const struct plumb_node *inputs;    /* the module's `inputs:` declarations, or NULL */
    const struct plumb_node *outputs;   /* `outputs:` of this scope, or NULL */
    const struct plumb_node *resources; /* `resources:` of this scope, or NULL */
    struct plumb_scope **children;
    size_t nchildren;
};

/* The child module instance `name` of `s`, or NULL. */
struct plumb_scope *plumb_scope__child(const struct plumb_scope *s, const char *name);

#endif
