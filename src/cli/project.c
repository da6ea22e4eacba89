/* Loading the project and resolving an environment for the commands that need them. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "util/error.h"
#include "util/sys.h"

static size_t render_unique(const struct plumb_diags *d)
{
    size_t i, j, errors = 0;

    /* Every environment is resolved from the same declarations, so the same finding can
     * come once per environment: show each once. */
    for (i = 0; i < d->n; i++) {
        const struct plumb_diag *x = &d->v[i];
        int seen = 0;
        for (j = 0; j < i && !seen; j++) {
            const struct plumb_diag *y = &d->v[j];
            seen = x->line == y->line && x->col == y->col && strcmp(x->message, y->message) == 0 &&
                   ((!x->file && !y->file) || (x->file && y->file && !strcmp(x->file, y->file)));
        }
        if (seen)
            continue;
        struct plumb_diags one = {(struct plumb_diag *)x, 1, 1, 0};
        plumb_diags_render(stderr, &one);
        errors += x->severity == PLUMB_DIAG_ERROR;
    }
    return errors;
}

size_t plumb_cli_render_diags(struct plumb_diags *d)
{
    plumb_diags_sort(d);
    return render_unique(d);
}

const char *plumb_cli_modules_dir(void)
{
    const char *d = plumb_env_get("PLUMB_MODULES_DIR");

    return d ? d : PLUMB_MODULES_DIR;
}

int plumb_cli_load_project(struct plumb_project **out, struct plumb_cli *cli,
                           struct plumb_diags *diags)
{
    int rc;

    (void)cli;
    rc = plumb_project_load(out, ".", plumb_cli_modules_dir(), diags);
    if (rc < 0 && !diags->errors)
        plumb_diags_error(diags, NULL, "%s", plumb_error_message());
    return rc;
}
