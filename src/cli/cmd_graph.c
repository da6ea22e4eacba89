/*
 * plumb graph -e ENV [--format dot|json]: the dependency graph of one environment, from the
 * declaration alone (no AWS call). dot renders with Graphviz: plumb graph -e stage | dot -Tsvg
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "config/model.h"
#include "util/error.h"

int plumb_cmd_graph(struct plumb_cli *cli)
{
    struct plumb_diags diags = PLUMB_DIAGS_INIT;
    struct plumb_resolve_options opts = {0};
    struct plumb_project *p = NULL;
    struct plumb_model *m = NULL;
    struct plumb_buf out = PLUMB_BUF_INIT;
    const char *format = plumb_cli_opt(cli, "--format");
    int code = PLUMB_EXIT_ERROR, rc;

    if (!format)
        format = "dot";
    if (strcmp(format, "dot") != 0 && strcmp(format, "json") != 0) {
        fprintf(stderr, "plumb: --format must be dot or json, not '%s'\n", format);
        return PLUMB_EXIT_ERROR;
    }
    opts.env = plumb_cli_opt(cli, "--env");
    if (!opts.env) {
        fprintf(stderr, "plumb: graph needs -e ENV\n");
        return PLUMB_EXIT_ERROR;
    }
    if (plumb_cli_load_project(&p, cli, &diags) < 0 ||
        plumb_model_resolve(&m, p, &opts, &diags) < 0)
        goto done;
    rc = strcmp(format, "dot") == 0 ? plumb_graph_render_dot(&out, m->graph)
                                    : plumb_graph_render_json(&out, m->graph);
    if (rc < 0) {
        plumb_cli_error(cli, "graph");
        goto done;
    }
    fwrite(out.ptr, 1, out.len, stdout);
    code = PLUMB_EXIT_OK;
done:
    plumb_cli_render_diags(&diags);
    plumb_diags_release(&diags);
    plumb_buf_release(&out);
    plumb_model_free(m);
    plumb_project_free(p);
    return code;
}
