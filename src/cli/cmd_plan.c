/*
 * plumb plan -e ENV: refresh what state knows from AWS (unless --refresh=false), resolve the
 * configuration, and show what apply would do. Changes nothing in AWS; with a refresh, the
 * observed values are cached in state so that `plan --refresh=false` can plan offline.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/session.h"
#include "plan/plan.h"
#include "plan/refresh.h"
#include "util/error.h"
#include "util/log.h"
#include "util/sys.h"

int plumb_cli_parallelism(const struct plumb_cli *cli)
{
    const char *v = plumb_cli_opt(cli, "--parallelism");
    int n = v ? atoi(v) : 10;

    return n < 1 ? 1 : (n > 64 ? 64 : n);
}

static int write_plan_file(const char *path, const json_t *doc)
{
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
    int fd, error = 0;
    size_t len;

    if (!text)
        return plumb_error_oom();
    len = strlen(text);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1)
        error =
            plumb_error_set(PLUMB_ERROR, "unable to write plan '%s': %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    free(text);
    return error;
}

int plumb_cmd_plan(struct plumb_cli *cli)
{
    struct plumb_session s;
    struct plumb_plan *plan = NULL;
    struct plumb_plan_input in;
    struct plumb_buf text = PLUMB_BUF_INIT;
    const char *refresh_opt = plumb_cli_opt(cli, "--refresh");
    const char *out_file = plumb_cli_opt(cli, "--out");
    int refresh = !refresh_opt || strcmp(refresh_opt, "false") != 0;
    json_t *targets = json_array(), *doc = NULL;
    int code = PLUMB_EXIT_ERROR, gone = 0;
    size_t i;

    if (refresh_opt && strcmp(refresh_opt, "true") != 0 && strcmp(refresh_opt, "false") != 0) {
        fprintf(stderr, "plumb: --refresh takes true or false, not '%s'\n", refresh_opt);
        json_decref(targets);
        return PLUMB_EXIT_ERROR;
    }
    for (i = 0; i < cli->opts.n; i++)
        if (strcmp(cli->opts.v[i].name, "--target") == 0)
            json_array_append_new(targets, json_string(cli->opts.v[i].value));

    /* A saved plan needs the state on disk: its secrets are fingerprinted under the state's
     * key, which a state not yet made would only invent for this process, and apply would
     * then see every secret as changed. */
    if (plumb_session_open(&s, cli,
                           (refresh ? PLUMB_SESSION_AWS : 0) | PLUMB_SESSION_SECRETS |
                               (out_file ? PLUMB_SESSION_CREATE : 0)) != PLUMB_EXIT_OK)
        goto done;
    if (refresh && plumb_session_refresh(&s, &gone) < 0) {
        plumb_cli_error(cli, NULL);
        goto done;
    }
    if (gone)
        plumb_log_warn("%d resource%s in state no longer exist%s in AWS", gone,
                       gone == 1 ? "" : "s", gone == 1 ? "s" : "");
    plumb_cli_stage(cli, "plan");
    if (plumb_session_resolve(&s, PLUMB_SESSION_SECRETS) < 0)
        goto done;
    memset(&in, 0, sizeof(in));
    in.model = s.model;
    in.state = s.state;
    in.records = s.records;
    in.targets = targets;
    if (plumb_plan_build(&plan, &in) < 0) {
        plumb_cli_error(cli, NULL);
        goto done;
    }
    /* the JSON document only when it is printed or saved: a large plan's costliest copy */
    if (plumb_cli_flag(cli, "--json") || out_file)
        doc = plumb_plan_to_json(plan, s.state);
    if (plumb_cli_flag(cli, "--json")) {
        plumb_cli_print_json(doc);
    } else {
        plumb_plan_render(&text, plan, cli->color);
        fwrite(text.ptr, 1, text.len, stdout);
    }
    if (out_file) {
        if (write_plan_file(out_file, doc) < 0) {
            plumb_cli_error(cli, NULL);
            goto done;
        }
        plumb_log_info("\nSaved the plan to %s: 'plumb apply -e %s %s' applies exactly it.",
                       out_file, s.env, out_file);
    }
    code =
        plumb_cli_flag(cli, "--detailed-exitcode") && (plan->add || plan->change || plan->destroy)
            ? PLUMB_EXIT_CHANGES
            : PLUMB_EXIT_OK;
done:
    json_decref(doc);
    json_decref(targets);
    plumb_buf_release(&text);
    plumb_plan_free(plan);
    plumb_session_close(&s);
    return code;
}

int plumb_cmd_refresh(struct plumb_cli *cli)
{
    struct plumb_session s;
    int code = PLUMB_EXIT_ERROR, gone = 0;

    if (plumb_session_open(&s, cli, PLUMB_SESSION_AWS) != PLUMB_EXIT_OK)
        goto done;
    if (plumb_session_refresh(&s, &gone) < 0) {
        plumb_cli_error(cli, NULL);
        goto done;
    }
    printf("Refreshed %zu resource%s of environment '%s'", json_object_size(s.records),
           json_object_size(s.records) == 1 ? "" : "s", s.env);
    if (gone)
        printf("; %d no longer exist%s in AWS (the next plan creates them again)", gone,
               gone == 1 ? "s" : "");
    printf(".\n");
    code = PLUMB_EXIT_OK;
done:
    plumb_session_close(&s);
    return code;
}
