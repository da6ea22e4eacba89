/*
 * YAML documents as trees of nodes that remember where they came from (file:line:col), read
 * with libyaml's event parser. What libyaml leaves to the application is done here:
 * duplicate mapping keys are errors; anchors and aliases resolve to shared subtrees, with the
 * total expanded size bounded (a "billion laughs" file is refused, not expanded); merge keys
 * ("<<: *base", or a list of mappings) are applied where the "<<" is, explicit keys winning,
 * then earlier mappings; complex (non-scalar) keys, unknown tags and a second document in a
 * file are errors; nesting depth and file size are bounded; plain scalars get YAML 1.2
 * core-schema types (null, bool, int, float, string); quoted scalars are always strings.
 */
#ifndef PLUMB_CONFIG_YAML_H
#define PLUMB_CONFIG_YAML_H

#include <stddef.h>

#include <jansson.h>

#include "util/diag.h"

#define PLUMB_YAML_MAX_FILE_SIZE (64u << 20) /* bytes: a 100,000-resource project fits */
#define PLUMB_YAML_MAX_DEPTH     64          /* nested collections */
#define PLUMB_YAML_MAX_NODES     2000000u    /* nodes, counting every alias expansion */

enum plumb_node_type {
    PLUMB_NODE_SCALAR,
    PLUMB_NODE_MAP,
    PLUMB_NODE_SEQ,
};

/* The core-schema type of a scalar. */
enum plumb_scalar_kind {
    PLUMB_SCALAR_NULL,   /* ~, null, Null, NULL, or empty plain */
    PLUMB_SCALAR_BOOL,   /* true/false (any case of those two words only) */
    PLUMB_SCALAR_INT,    /* decimal, 0o octal, 0x hex */
    PLUMB_SCALAR_FLOAT,  /* 1.5, 1e3, .inf, .nan */
    PLUMB_SCALAR_STRING, /* everything else, and every quoted or block scalar */
};

struct plumb_node_pair;

struct plumb_node {
    enum plumb_node_type type;
    struct plumb_loc loc; /* where the node starts; loc.file lives as long as the doc */
    /* SCALAR */
    char *scalar; /* NUL-terminated; may contain NULs from escapes, see len */
    size_t len;
    enum plumb_scalar_kind kind;
    int quoted; /* 1 for quoted and block scalars */
    /* MAP: pairs in file order; SEQ: items in order */
    struct plumb_node_pair *pairs;
    struct plumb_node **items;
    size_t n;
};

struct plumb_node_pair {
    struct plumb_node *key; /* always a SCALAR: complex keys are refused */
    struct plumb_node *value;
};

struct plumb_doc; /* owns every node and file name of one loaded file */

/*
 * Loads `path`. Problems go to `diags` with their location and the function returns
 * PLUMB_EINVALID (an unreadable file, syntax errors, duplicate keys, limits). An empty
 * document gives a root of NULL (no error: the caller decides if that is allowed).
 */
int plumb_yaml_load_file(struct plumb_doc **out, const char *path, struct plumb_diags *diags);
/* The same from memory; `name` is used as the file name in locations. */
int plumb_yaml_load_string(struct plumb_doc **out, const char *name, const char *data, size_t len,
                           struct plumb_diags *diags);
void plumb_doc_free(struct plumb_doc *doc);

const struct plumb_node *plumb_doc_root(const struct plumb_doc *doc);
const char *plumb_doc_file(const struct plumb_doc *doc);

/* The value of key `key` in MAP `map`, or NULL (also when map is not a MAP). */
const struct plumb_node *plumb_node_get(const struct plumb_node *map, const char *key);
/* The pair of key `key`, for the key's location. */
const struct plumb_node_pair *plumb_node_get_pair(const struct plumb_node *map, const char *key);
/*
 * Where the text of scalar `node` starts in its file: past any anchor or tag and past an
 * opening quote, so a column inside the text can be pointed at. Returns 1 when columns inside
 * the text follow the file (one-line plain and quoted scalars; in quoted ones an escape such
 * as '' or \t before the point shifts it a little), 0 when they do not (multi-line and block
 * scalars, collections): `out` is then the node's own loc. `node` must come from a loaded
 * document.
 */
int plumb_node_text_loc(struct plumb_loc *out, const struct plumb_node *node);
/* "mapping", "sequence", "string", "integer", "boolean", "null", "number": for messages. */
const char *plumb_node_type_name(const struct plumb_node *node);
/*
 * The node as a JSON value with core-schema types (int → integer, etc.). Aliased subtrees
 * are copied. NULL only when out of memory.
 */
json_t *plumb_node_to_json(const struct plumb_node *node);

#endif
