/*
 * Expressions inside scalars (DESIGN.md §3): "${...}" references in a string, nothing more —
 * no operators, loops or functions. A scalar is parsed once into a template: literal text and
 * references in order. "$${" is a literal "${".
 *
 *   ${env}                 the environment name (stage, prod)
 *   ${var.NAME}            a variable
 *   ${aws.account_id}      the caller's account (from STS)
 *   ${aws.region}          the region
 *   ${NAME.Attr[.Sub]...}  another resource's property or read-only attribute: a dependency
 *   ${module.M.OUTPUT}     a module's output
 *   ${secret.env.NAME}     an environment variable, sensitive wherever it flows
 *
 * Spaces inside the braces are allowed ("${ var.x }"). Names are [A-Za-z_][A-Za-z0-9_-]*;
 * attribute path segments the same. Anything else inside ${} is an error at its column.
 */
#ifndef PLUMB_CONFIG_EXPR_H
#define PLUMB_CONFIG_EXPR_H

#include <stddef.h>

#include "util/diag.h"

struct plumb_node;

enum plumb_ref_kind {
    PLUMB_REF_ENV,
    PLUMB_REF_VAR,
    PLUMB_REF_AWS,      /* name: "account_id" or "region" */
    PLUMB_REF_RESOURCE, /* name: resource; attr: "Arn" or "Endpoint.Address" */
    PLUMB_REF_MODULE,   /* name: module; attr: output */
    PLUMB_REF_SECRET_ENV,
};

struct plumb_ref {
    enum plumb_ref_kind kind;
    char *name;           /* NULL for PLUMB_REF_ENV */
    char *attr;           /* RESOURCE, MODULE: the rest after the name; else NULL */
    struct plumb_loc loc; /* the '$' of this reference */
    char *text;           /* the reference as written inside ${}, trimmed: "db.Endpoint.Address" */
};

struct plumb_template_part {
    char *literal; /* when not a reference: the text (escapes resolved) */
    size_t literal_len;
    struct plumb_ref *ref; /* when a reference */
};

struct plumb_template {
    struct plumb_template_part *parts;
    size_t n;
    /* The whole scalar is exactly one ${...} and nothing else: the value keeps the
     * referenced value's type (a list stays a list). */
    int whole;
};

/*
 * Parses `s` (len bytes) found at `loc` (the scalar's start; columns inside are counted
 * from it for single-line plain or quoted scalars — good enough for messages). Errors go to
 * `diags` and return PLUMB_EINVALID. A scalar without "${" gives one literal part.
 */
int plumb_expr_parse(struct plumb_template *out, const char *s, size_t len,
                     const struct plumb_loc *loc, struct plumb_diags *diags);
/*
 * plumb_expr_parse for the text of YAML scalar `node` (config/yaml.h), with columns taken
 * from where the text sits in the file (plumb_node_text_loc): past an opening quote, an
 * anchor or a tag. References in multi-line and block scalars get the node's loc.
 */
int plumb_expr_parse_node(struct plumb_template *out, const struct plumb_node *node,
                          struct plumb_diags *diags);
void plumb_template_release(struct plumb_template *t);
/* 1 when `s` contains a reference (a "${" not escaped). Cheap; for skipping plain text. */
int plumb_expr_has_refs(const char *s, size_t len);

#endif
