#include <stdio.h>

#include "cli/cli.h"

int plumb_cmd_help(struct plumb_cli *cli)
{
    const struct plumb_cli_command *cmd;

    if (cli->noperands == 0) {
        plumb_cli_print_usage(stdout);
        return PLUMB_EXIT_OK;
    }
    cmd = plumb_cli_find(cli->operands[0]);
    if (!cmd) {
        fprintf(stderr, "plumb: unknown command '%s'; 'plumb help' lists them\n", cli->operands[0]);
        return PLUMB_EXIT_ERROR;
    }
    plumb_cli_print_help(stdout, cmd);
    return PLUMB_EXIT_OK;
}
