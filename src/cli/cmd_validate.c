/*
 * plumb validate: every environment of the project, resolved and checked against the
 * schemas, with no AWS call. Prints every problem found (each once, in file order) and exits
 * 1, or a one-line summary and 0. Writes nothing.
 */
#include <stdio.h>

#include "cli/cli.h"
#include "config/model.h"

int plumb_cmd_validate(struct plumb_cli *cli)
{
    struct plumb_diags diags = PLUMB_DIAGS_INIT;
    struct plumb_project *p = NULL;
    struct plumb_buf summary = PLUMB_BUF_INIT;
    int code = PLUMB_EXIT_ERROR;
    size_t i, shown;

    if (plumb_cli_load_project(&p, cli, &diags) < 0 && !p)
        goto done;
    for (i = 0; i < p->nenvs; i++) {
        struct plumb_resolve_options opts = {0};
        struct plumb_model *m = NULL;
        opts.env = p->envs[i].name;
        if (plumb_model_resolve(&m, p, &opts, &diags) == 0)
            plumb_buf_printf(&summary, "%s%s %zu", i ? ", " : "", p->envs[i].name, m->nresources);
        plumb_model_free(m);
    }
    if (diags.errors)
        goto done;
    printf("%s is valid: %zu environment%s (resources: %s)\n", p->file, p->nenvs,
           p->nenvs == 1 ? "" : "s", plumb_buf_cstr(&summary));
    code = PLUMB_EXIT_OK;
done:
    /* the same finding in several environments is shown, and counted, once */
    shown = plumb_cli_render_diags(&diags);
    if (code != PLUMB_EXIT_OK && shown)
        fprintf(stderr, "plumb: %zu problem%s found\n", shown, shown == 1 ? "" : "s");
    plumb_diags_release(&diags);
    plumb_buf_release(&summary);
    plumb_project_free(p);
    return code;
}
