/*
 * plumb apply / destroy / rollback / runs: changing AWS. apply plans (or takes a saved
 * plan), asks, executes in parallel, runs the post-apply checks, and rolls back on failure.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply/apply.h"
#include "cli/session.h"
#include "config/value.h"
#include "plan/plan.h"
#include "schema/schema.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"

static void on_sigint(int sig)
{
    (void)sig;
    plumb_apply_interrupt();
}

/* The executor asks for the configuration resolved against the newest state; resolve once per
 * state change, not once per resource. */
struct resolver_ctx {
    struct plumb_session *s;
    long serial;
};

static int resolve_again(void *ctx, const json_t *records, const struct plumb_model **model)
{
    struct resolver_ctx *r = ctx;

    if (r->s->model && r->serial == plumb_state_serial(r->s->state)) {
        *model = r->s->model;
        return 0;
    }
    json_decref(r->s->records);
    r->s->records = json_deep_copy(records);
    if (plumb_session_resolve(r->s, PLUMB_SESSION_SECRETS) < 0)
        return plumb_error_set(PLUMB_EINVALID, "the configuration no longer resolves");
    r->serial = plumb_state_serial(r->s->state);
    *model = r->s->model;
    return 0;
}

/* prevent_destroy, and stateful resources in a protected environment, need --allow-destroy. */
static int refuse_destruction(struct plumb_session *s, const struct plumb_plan *plan)
{
    int refused = 0;
    size_t i;

    if (plumb_cli_flag(s->cli, "--allow-destroy"))
        return 0;
    for (i = 0; i < plan->nchanges; i++) {
        const struct plumb_change *c = &plan->changes[i];
        const struct plumb_schema_type *t = plumb_schema_find(c->type);
        long idx = s->model ? plumb_model_find(s->model, c->address) : -1;
        int prevent = idx >= 0 && s->model->resources[idx].decl->prevent_destroy;
        int protect = s->model && s->model->env->protect && t && t->stateful;
        if (c->action != PLUMB_ACTION_DELETE && c->action != PLUMB_ACTION_REPLACE)
            continue;
        if (prevent || protect) {
            fprintf(stderr,
                    "plumb: %s would be %s, but %s; run with --allow-destroy if you mean it\n",
                    c->address, c->action == PLUMB_ACTION_DELETE ? "destroyed" : "replaced",
                    prevent ? "it has lifecycle.prevent_destroy"
                            : "it holds data and the environment is protected");
            refused = 1;
        }
    }
    return refused;
}

static void print_outputs(const struct plumb_model *m)
{
    const char *k;
    json_t *v;

    if (!m || !json_object_size(m->outputs))
        return;
    printf("\nOutputs:\n\n");
    json_object_foreach(m->outputs, k, v)
    {
        if (plumb_value_has_sensitive(v)) {
            printf("%s = (sensitive)\n", k);
        } else if (plumb_value_has_unknown(v)) {
            printf("%s = (known after apply)\n", k);
        } else {
            char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
            printf("%s = %s\n", k, t ? t : "");
            free(t);
        }
    }
}

static int execute(struct plumb_session *s, struct plumb_plan *plan, const char *kind)
{
    struct plumb_apply_options o;
    struct plumb_apply_result res, rb;
    struct resolver_ctx rc = {s, -1};
    int error;

    memset(&o, 0, sizeof(o));
    o.parallelism = plumb_cli_parallelism(s->cli);
    o.no_rollback = plumb_cli_flag(s->cli, "--no-rollback");
    o.quiet = plumb_log_get_level() < PLUMB_LOG_INFO;
    o.project = s->project->name;
    o.env = s->env;
    o.kind = kind;
    o.resolve = resolve_again;
    o.resolve_ctx = &rc;
    o.committed = plumb_session_checkpoint;
    o.committed_ctx = s;
    signal(SIGINT, on_sigint);
    plumb_cli_stage(s->cli, kind);
    error = plumb_apply_run(&res, s->aws, s->state, plan, &o);
    if (error < 0) {
        plumb_cli_error(s->cli, NULL);
        if (res.rolled_back)
            fprintf(stderr, "plumb: rolled back %zu change%s of run %s\n", res.rolled_back,
                    res.rolled_back == 1 ? "" : "s", res.run_id);
        return PLUMB_EXIT_ERROR;
    }
    if (strcmp(kind, "apply") == 0) {
        /* the checks see the configuration with everything just created */
        plumb_cli_stage(s->cli, "checks");
        plumb_session_reload(s);
        if (plumb_session_resolve(s, PLUMB_SESSION_SECRETS) == 0 &&
            plumb_apply_checks(s->model, s->records, o.quiet) < 0) {
            plumb_cli_error(s->cli, NULL);
            if (!o.no_rollback) {
                plumb_log_warn("rolling back run %s...", res.run_id);
                plumb_cli_stage(s->cli, "rollback");
                plumb_apply_rollback_run(&rb, s->aws, s->state, res.run_id, &o);
                fprintf(stderr, "plumb: rolled back %zu change%s of run %s\n", rb.rolled_back,
                        rb.rolled_back == 1 ? "" : "s", res.run_id);
            }
            return PLUMB_EXIT_ERROR;
        }
    }
    printf("\n%s complete! Resources: %zu added, %zu changed, %zu destroyed.\n",
           strcmp(kind, "apply") == 0 ? "Apply" : "Destroy", res.created + res.replaced,
           res.updated, res.deleted + res.replaced);
    if (strcmp(kind, "apply") == 0)
        print_outputs(s->model);
    return PLUMB_EXIT_OK;
}

static int run(struct plumb_cli *cli, int destroy)
{
    struct plumb_session s;
    struct plumb_plan *plan = NULL;
    struct plumb_plan_input in;
    struct plumb_buf text = PLUMB_BUF_INIT;
    const char *plan_file = cli->noperands ? cli->operands[0] : NULL;
    json_t *targets = json_array(), *saved = NULL;
    int code = PLUMB_EXIT_ERROR, gone = 0;
    size_t i;

    for (i = 0; i < cli->opts.n; i++)
        if (strcmp(cli->opts.v[i].name, "--target") == 0)
            json_array_append_new(targets, json_string(cli->opts.v[i].value));
    if (plan_file && plumb_plan_load_saved(&saved, plan_file) < 0) {
        plumb_cli_error(cli, NULL);
        json_decref(targets);
        return PLUMB_EXIT_ERROR;
    }
    if (plumb_session_open(&s, cli,
                           PLUMB_SESSION_AWS | PLUMB_SESSION_LOCK |
                               (destroy ? 0 : PLUMB_SESSION_SECRETS)) != PLUMB_EXIT_OK)
        goto done;
    if (!saved && plumb_session_refresh(&s, &gone) < 0) {
        plumb_cli_error(cli, NULL);
        goto done;
    }
    plumb_cli_stage(cli, "plan");
    /* destroy needs no valid configuration: it only reads it for lifecycle flags */
    if (plumb_session_resolve(&s, destroy ? 0 : PLUMB_SESSION_SECRETS) < 0 && !destroy)
        goto done;
    memset(&in, 0, sizeof(in));
    in.model = s.model;
    in.state = s.state;
    in.records = s.records;
    in.targets = targets;
    in.destroy = destroy;
    if (!s.model) {
        fprintf(stderr, "plumb: the configuration must resolve to destroy (for its lifecycle "
                        "settings)\n");
        goto done;
    }
    if (plumb_plan_build(&plan, &in) < 0) {
        plumb_cli_error(cli, NULL);
        goto done;
    }
    if (saved && plumb_plan_check_saved(saved, plan, plan_file) < 0) {
        plumb_cli_error(cli, NULL);
        goto done;
    }
    plumb_plan_render(&text, plan, cli->color);
    fwrite(text.ptr, 1, text.len, stdout);
    if (!plan->add && !plan->change && !plan->destroy) {
        code = PLUMB_EXIT_OK;
        goto done;
    }
    if (refuse_destruction(&s, plan))
        goto done;
    fflush(stdout); /* the plan before the progress lines on stderr */
    plumb_cli_stage(cli, "approval");
    if (!saved && !plumb_cli_confirm(cli, "\nDo you want to perform these actions?",
                                     destroy ? "destroy" : "apply"))
        goto done;
    code = execute(&s, plan, destroy ? "destroy" : "apply");
done:
    json_decref(targets);
    json_decref(saved);
    plumb_buf_release(&text);
    plumb_plan_free(plan);
    plumb_session_close(&s);
    return code;
}

int plumb_cmd_apply(struct plumb_cli *cli)
{
    return run(cli, 0);
}

int plumb_cmd_destroy(struct plumb_cli *cli)
{
    return run(cli, 1);
}

/* Prints what rolling back `run_id` will do (plumb_apply_rollback_preview), in Terraform's
 * signs; returns how many changes it makes. */
static size_t print_rollback_preview(const char *run_id, const json_t *preview)
{
    const json_t *p;
    size_t i, destroy = 0, restore = 0;

    printf("Rolling back run %s undoes, newest first:\n\n", run_id);
    json_array_foreach(preview, i, p)
    {
        const char *undo = json_string_value(json_object_get(p, "undo"));
        const char *addr = json_string_value(json_object_get(p, "address"));
        const char *type = json_string_value(json_object_get(p, "type"));
        const json_t *id = json_object_get(p, "id");
        char *id_text = id ? json_dumps(id, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

        if (strcmp(undo, "destroy") == 0) {
            printf("  - %s (%s %s) will be destroyed: the run created it\n", addr, type,
                   id_text ? id_text : "");
            destroy++;
        } else if (strcmp(undo, "restore") == 0) {
            printf("  ~ %s (%s) will be restored to its settings before the run\n", addr, type);
            restore++;
        } else if (strcmp(undo, "lost") == 0) {
            printf("  ! %s was destroyed by the run and cannot be brought back\n", addr);
        } else {
            printf("  . %s is no longer in state: nothing to undo\n", addr);
        }
        free(id_text);
    }
    if (!destroy && !restore)
        printf("%sNothing to roll back.\n", json_array_size(preview) ? "\n" : "  (no change)\n\n");
    else
        printf("\nRollback: %zu to destroy, %zu to restore.\n", destroy, restore);
    return destroy + restore;
}

int plumb_cmd_rollback(struct plumb_cli *cli)
{
    struct plumb_session s;
    struct plumb_apply_options o;
    struct plumb_apply_result res;
    const char *run_id = plumb_cli_opt(cli, "--run");
    json_t *runs = NULL, *r, *preview = NULL;
    int code = PLUMB_EXIT_ERROR;
    size_t i;

    if (plumb_session_open(&s, cli, PLUMB_SESSION_AWS | PLUMB_SESSION_LOCK) != PLUMB_EXIT_OK)
        goto done;
    if (!run_id) {
        /* the newest apply that changed something */
        if (plumb_state_runs(s.state, &runs) < 0)
            goto done;
        for (i = json_array_size(runs); i-- > 0 && !run_id;) {
            r = json_array_get(runs, i);
            if (strcmp(json_string_value(json_object_get(r, "kind"))
                           ? json_string_value(json_object_get(r, "kind"))
                           : "",
                       "apply") == 0)
                run_id = json_string_value(json_object_get(r, "id"));
        }
        if (!run_id) {
            fprintf(stderr, "plumb: no apply run to roll back in environment '%s'\n", s.env);
            goto done;
        }
    }
    /* Like destroy, it shows what it would do and asks: undoing a run destroys resources. */
    if (plumb_apply_rollback_preview(s.state, run_id, &preview) < 0) {
        plumb_cli_error(cli, "rollback");
        goto done;
    }
    if (!print_rollback_preview(run_id, preview)) {
        code = PLUMB_EXIT_OK;
        goto done;
    }
    fflush(stdout);
    plumb_cli_stage(cli, "approval");
    if (!plumb_cli_confirm(cli, "\nDo you want to roll back this run?", "rollback"))
        goto done;
    plumb_cli_stage(cli, "rollback");
    memset(&o, 0, sizeof(o));
    o.quiet = plumb_log_get_level() < PLUMB_LOG_INFO;
    o.project = s.project->name;
    o.env = s.env;
    o.committed = plumb_session_checkpoint;
    o.committed_ctx = &s;
    if (plumb_apply_rollback_run(&res, s.aws, s.state, run_id, &o) < 0) {
        plumb_cli_error(cli, "rollback");
        goto done;
    }
    printf("Rolled back run %s: %zu change%s undone.\n", run_id, res.rolled_back,
           res.rolled_back == 1 ? "" : "s");
    code = PLUMB_EXIT_OK;
done:
    json_decref(runs);
    json_decref(preview);
    plumb_session_close(&s);
    return code;
}

int plumb_cmd_runs(struct plumb_cli *cli)
{
    struct plumb_session s;
    json_t *runs = NULL, *r;
    int code = PLUMB_EXIT_ERROR;
    size_t i;

    if (plumb_session_open(&s, cli, 0) != PLUMB_EXIT_OK)
        goto done;
    if (plumb_state_runs(s.state, &runs) < 0) {
        plumb_cli_error(cli, NULL);
        goto done;
    }
    if (plumb_cli_opt(cli, "--run")) {
        /* one run with its journal: what each action did, its AWS requests and time */
        json_t *journal = NULL, *doc;
        const char *id = plumb_cli_opt(cli, "--run");
        if (plumb_state_journal(s.state, id, &journal) < 0 || !json_array_size(journal)) {
            fprintf(stderr, "plumb: no run '%s' in environment '%s'\n", id, s.env);
            json_decref(journal);
            goto done;
        }
        doc = json_pack("{s:s, s:s, s:o}", "format_version", "1", "run", id, "journal", journal);
        plumb_cli_print_json(doc);
        json_decref(doc);
    } else if (plumb_cli_flag(cli, "--json")) {
        json_t *doc = json_pack("{s:s, s:O}", "format_version", "1", "runs", runs);
        plumb_cli_print_json(doc);
        json_decref(doc);
    } else {
        json_array_foreach(runs, i, r)
        {
            const json_t *sum = json_object_get(r, "summary"), *drift = json_object_get(r, "drift");
            printf("%-22s %-10s %-12s ", plumb_json_str(r, "id", ""), plumb_json_str(r, "kind", ""),
                   plumb_json_str(r, "outcome", ""));
            if (drift) /* a drift check: what it found, not what it changed */
                printf("%lld drifted, %lld deleted, %lld unmanaged, %lld in sync",
                       (long long)json_integer_value(json_object_get(drift, "drifted")),
                       (long long)json_integer_value(json_object_get(drift, "deleted")),
                       (long long)json_integer_value(json_object_get(drift, "unmanaged")),
                       (long long)json_integer_value(json_object_get(drift, "in_sync")));
            else
                printf("+%lld ~%lld -%lld",
                       (long long)json_integer_value(json_object_get(sum, "created")),
                       (long long)json_integer_value(json_object_get(sum, "updated")),
                       (long long)json_integer_value(json_object_get(sum, "deleted")));
            printf("  %s%s%s\n", plumb_json_str(r, "who", ""),
                   json_object_get(r, "error") ? "  " : "", plumb_json_str(r, "error", ""));
        }
    }
    code = PLUMB_EXIT_OK;
done:
    json_decref(runs);
    plumb_session_close(&s);
    return code;
}
