/*
 * libFuzzer target for the YAML loader (tests/fuzz/run.sh yaml): any input must load or be
 * refused with a diagnostic, without crashing, leaking or taking long, and what loads must
 * hold the promises of config/yaml.h.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/expr.h"
#include "config/yaml.h"
#include "util/error.h"

/* Checked walks stop here: aliases can make a small input a very large tree. */
#define WALK_BUDGET 20000

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "broken promise: %s\n", what);
        abort();
    }
}

static void walk(const struct plumb_node *n, const char *file, size_t *budget)
{
    struct plumb_template t;
    struct plumb_diags diags = PLUMB_DIAGS_INIT;
    struct plumb_loc loc;
    size_t i, j;

    if (!*budget)
        return;
    (*budget)--;
    check(n->loc.file == file, "loc.file is the document's file");
    check(n->loc.line >= 1 && n->loc.col >= 1, "locations are 1-based");
    check(plumb_node_type_name(n) != NULL, "every node has a type name");
    switch (n->type) {
    case PLUMB_NODE_SCALAR:
        check(n->scalar && n->scalar[n->len] == '\0', "scalars are NUL-terminated");
        if (plumb_node_text_loc(&loc, n))
            check(loc.line == n->loc.line && loc.col >= n->loc.col, "text starts in the node");
        /* Every scalar a config holds goes through the expression parser. */
        if (plumb_expr_parse_node(&t, n, &diags) == 0)
            plumb_template_release(&t);
        plumb_diags_release(&diags);
        break;
    case PLUMB_NODE_SEQ:
        for (i = 0; i < n->n; i++)
            walk(n->items[i], file, budget);
        break;
    case PLUMB_NODE_MAP:
        for (i = 0; i < n->n; i++) {
            const struct plumb_node *k = n->pairs[i].key;
            check(k->type == PLUMB_NODE_SCALAR, "keys are scalars");
            /* Quadratic, so only on small mappings. */
            for (j = 0; n->n < 64 && j < i; j++)
                check(n->pairs[j].key->len != k->len ||
                          memcmp(n->pairs[j].key->scalar, k->scalar, k->len),
                      "no duplicate keys");
            walk(k, file, budget);
            walk(n->pairs[i].value, file, budget);
        }
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct plumb_diags diags = PLUMB_DIAGS_INIT;
    struct plumb_doc *doc = NULL;
    const struct plumb_node *root;
    size_t budget = WALK_BUDGET, i;
    json_t *j;
    int rc;

    rc = plumb_yaml_load_string(&doc, "fuzz.yaml", (const char *)data, size, &diags);
    check(rc == 0 || rc == PLUMB_EINVALID, "only invalid input fails");
    check((rc == 0) == (diags.errors == 0), "a failure comes with a diagnostic, success without");
    check((rc == 0) == (doc != NULL), "a document exactly on success");
    for (i = 0; i < diags.n; i++)
        check(diags.v[i].message && diags.v[i].message[0], "diagnostics say something");
    if (doc) {
        root = plumb_doc_root(doc);
        if (root)
            walk(root, plumb_doc_file(doc), &budget);
        j = plumb_node_to_json(root);
        check(j != NULL, "a loaded document converts to JSON");
        json_decref(j);
    }
    plumb_doc_free(doc);
    plumb_diags_release(&diags);
    return 0;
}
