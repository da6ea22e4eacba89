/* plumb output -e ENV [NAME] [--json]: the configuration's outputs, from state: no AWS call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/session.h"
#include "config/value.h"
#include "util/error.h"

int plumb_cmd_output(struct plumb_cli *cli)
{
    struct plumb_session s;
    const char *name = cli->noperands ? cli->operands[0] : NULL;
    int code = PLUMB_EXIT_ERROR;
    json_t *shown = NULL;
    const char *k;
    json_t *v;

    if (plumb_session_open(&s, cli, PLUMB_SESSION_MODEL) != PLUMB_EXIT_OK)
        goto done;
    if (name) {
        v = json_object_get(s.model->outputs, name);
        if (!v) {
            fprintf(stderr, "plumb: no output '%s'\n", name);
            goto done;
        }
        shown = plumb_cli_printable(v);
        if (plumb_cli_flag(cli, "--json") || !json_is_string(shown)) {
            char *t = json_dumps(shown, JSON_ENCODE_ANY | JSON_INDENT(2));
            printf("%s\n", t ? t : "");
            free(t);
        } else {
            printf("%s\n", json_string_value(shown));
        }
    } else {
        shown = plumb_cli_printable(s.model->outputs);
        if (plumb_cli_flag(cli, "--json")) {
            plumb_cli_print_json(shown);
        } else {
            json_object_foreach(shown, k, v)
            {
                char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
                printf("%s = %s\n", k, t ? t : "");
                free(t);
            }
        }
    }
    code = PLUMB_EXIT_OK;
done:
    json_decref(shown);
    plumb_session_close(&s);
    return code;
}
