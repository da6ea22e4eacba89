/*
 * plumb audit -e ENV: the GO / NO-GO check before a deploy (seed 003's convention): exit 0
 * GO, 1 CONDITIONAL GO (warnings only), 2 NO-GO (a failure), 3 the audit itself failed.
 * Rules in src/plan/audit.c, documented in docs/audit.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/session.h"
#include "plan/audit.h"
#include "util/error.h"

#define AUDIT_ERROR 3

int plumb_cmd_audit(struct plumb_cli *cli)
{
    struct plumb_session s;
    struct plumb_plan_input in;
    struct plumb_plan *plan = NULL;
    struct plumb_buf text = PLUMB_BUF_INIT;
    const char *refresh_opt = plumb_cli_opt(cli, "--refresh");
    int refresh = !refresh_opt || strcmp(refresh_opt, "false") != 0, gone = 0;
    int code = AUDIT_ERROR;
    json_t *report = NULL;

    memset(&s, 0, sizeof(s));
    if (refresh_opt && strcmp(refresh_opt, "true") != 0 && strcmp(refresh_opt, "false") != 0) {
        fprintf(stderr, "plumb: --refresh takes true or false, not '%s'\n", refresh_opt);
        return AUDIT_ERROR;
    }
    /* secrets need not be set: one that is not is still a secret, not a literal */
    if (plumb_session_open(&s, cli, refresh ? PLUMB_SESSION_AWS : 0) != PLUMB_EXIT_OK)
        goto done;
    if (refresh && plumb_session_refresh(&s, &gone) < 0) {
        plumb_cli_error(cli, NULL);
        goto done;
    }
    plumb_cli_stage(cli, "audit");
    if (plumb_session_resolve(&s, 0) < 0)
        goto done;
    memset(&in, 0, sizeof(in));
    in.model = s.model;
    in.state = s.state;
    in.records = s.records;
    if (plumb_plan_build(&plan, &in) < 0 || plumb_audit_run(&report, s.model, plan) < 0) {
        plumb_cli_error(cli, NULL);
        goto done;
    }
    if (plumb_cli_flag(cli, "--json")) {
        plumb_cli_print_json(report);
    } else {
        plumb_audit_render(&text, report, cli->color);
        fwrite(text.ptr, 1, text.len, stdout);
    }
    code = (int)plumb_audit_verdict(report);
done:
    json_decref(report);
    plumb_buf_release(&text);
    plumb_plan_free(plan);
    plumb_session_close(&s);
    return code;
}
