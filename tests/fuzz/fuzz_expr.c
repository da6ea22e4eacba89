/*
 * libFuzzer target for the "${...}" parser (tests/fuzz/run.sh expr): any scalar must parse
 * or be refused with a diagnostic, and a parsed template must hold the promises of
 * config/expr.h.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/expr.h"
#include "util/error.h"

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "broken promise: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct plumb_diags diags = PLUMB_DIAGS_INIT;
    struct plumb_loc loc = {"fuzz.yaml", 3, 7};
    struct plumb_template t;
    const char *s = (const char *)data;
    size_t i, refs = 0;
    int rc;

    rc = plumb_expr_parse(&t, s, size, &loc, &diags);
    check(rc == 0 || rc == PLUMB_EINVALID, "only invalid input fails");
    check((rc == 0) == (diags.errors == 0), "a failure comes with a diagnostic, success without");
    for (i = 0; i < diags.n; i++)
        check(diags.v[i].line == 3 && diags.v[i].col >= 7, "errors are inside the scalar");
    if (rc == 0) {
        check(t.n >= 1, "at least one part");
        for (i = 0; i < t.n; i++) {
            const struct plumb_template_part *p = &t.parts[i];
            check(!p->literal != !p->ref, "a part is a literal or a reference");
            if (p->literal) {
                check(p->literal[p->literal_len] == '\0', "literals are NUL-terminated");
                check(p->literal_len || t.n == 1, "no empty literal beside references");
                check(i == 0 || !t.parts[i - 1].literal, "literals are merged");
            } else {
                refs++;
                check(p->ref->text && p->ref->text[0], "a reference has its text");
                check(p->ref->loc.line == 3 && p->ref->loc.col >= 7, "a reference has its loc");
                check((p->ref->kind == PLUMB_REF_ENV) == !p->ref->name, "names but for env");
                check((p->ref->kind == PLUMB_REF_RESOURCE || p->ref->kind == PLUMB_REF_MODULE) ==
                          !!p->ref->attr,
                      "attributes for resources and modules");
            }
        }
        check(t.whole == (t.n == 1 && refs == 1), "whole means one reference and nothing else");
        check(plumb_expr_has_refs(s, size) == (refs > 0), "has_refs agrees with the parse");
        plumb_template_release(&t);
    }
    plumb_diags_release(&diags);
    return 0;
}
