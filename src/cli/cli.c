#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aws/http.h"
#include "config/value.h"
#include "state/state.h"
#include "util/error.h"
#include "util/log.h"
#include "util/sys.h"

static const struct plumb_cli_option global_options[] = {
    {"--directory", 'C', "DIR", "project directory holding plumb.yaml (default: current)"},
    {"--no-color", 0, NULL, "no colours in output (also: the NO_COLOR variable)"},
    {"--quiet", 'q', NULL, "errors only on stderr"},
    {"--verbose", 'v', NULL, "more detail on stderr, one line per AWS request"},
    {"--stats", 0, NULL, "print AWS requests per service and time spent, at the end"},
    {"--help", 'h', NULL, "show help for the command"},
    {NULL, 0, NULL, NULL},
};

static const struct plumb_cli_option no_options[] = {
    {NULL, 0, NULL, NULL},
};

static const struct plumb_cli_option graph_options[] = {
    {"--env", 'e', "ENV", "the environment"},
    {"--format", 0, "FORMAT", "dot (Graphviz, the default) or json"},
    {NULL, 0, NULL, NULL},
};

static const struct plumb_cli_option plan_options[] = {
    {"--env", 'e', "ENV", "the environment"},
    {"--refresh", 0, "BOOL", "read AWS first (true, the default) or plan from state (false)"},
    {"--out", 0, "FILE", "save the plan for 'plumb apply FILE'"},
    {"--json", 0, NULL, "print the plan as JSON (docs/plan-format.md)"},
    {"--target", 0, "ADDR", "only this resource and what it depends on (repeatable)"},
    {"--var", 0, "NAME=VALUE", "set a variable (repeatable)"},
    {"--detailed-exitcode", 0, NULL, "exit 2 when there are changes, 0 when none"},
    {"--parallelism", 0, "N", "concurrent AWS reads (default 10)"},
    {NULL, 0, NULL, NULL},
};

static const struct plumb_cli_option env_options[] = {
    {"--env", 'e', "ENV", "the environment"},
    {"--parallelism", 0, "N", "concurrent AWS reads (default 10)"},
    {NULL, 0, NULL, NULL},
};

static const struct plumb_cli_option output_options[] = {
    {"--env", 'e', "ENV", "the environment"},
    {"--json", 0, NULL, "print as JSON"},
    {"--var", 0, "NAME=VALUE", "set a variable (repeatable)"},
    {NULL, 0, NULL, NULL},
};

static const struct plumb_cli_option apply_options[] = {
    {"--env", 'e', "ENV", "the environment"},
    {"--auto-approve", 0, NULL, "do not ask before changing AWS"},
    {"--parallelism", 0, "N", "actions at once (default 10)"},
    {"--no-rollback", 0, NULL, "on failure, leave things as they are"},
    {"--allow-destroy", 0, NULL, "allow destroying or replacing protected resources"},
    {"--target", 0, "ADDR", "only this resource and what it depends on (repeatable)"},
    {"--var", 0, "NAME=VALUE", "set a variable (repeatable)"},
    {NULL, 0, NULL, NULL},
};

static const struct plumb_cli_option rollback_options[] = {
    {"--env", 'e', "ENV", "the environment"},
    {"--run", 0, "ID", "the run to undo (default: the newest apply; 'plumb runs' lists them)"},
    {"--auto-approve", 0, NULL, "do not ask before undoing it"},
    {NULL, 0, NULL, NULL},
};

static const struct plumb_cli_option runs_options[] = {
    {"--env", 'e', "ENV", "the environment"},
    {"--json", 0, NULL, "print as JSON"},
    {"--run", 0, "ID", "one run with its journal, as JSON"},
    {NULL, 0, NULL, NULL},
};

static const struct plumb_cli_option audit_options[] = {
    {"--env", 'e', "ENV", "the environment"},
    {"--json", 0, NULL, "print the report as JSON (docs/audit.md)"},
    {"--refresh", 0, "BOOL", "read AWS first (true, the default) or audit from state (false)"},
    {"--var", 0, "NAME=VALUE", "set a variable (repeatable)"},
    {"--parallelism", 0, "N", "concurrent AWS reads (default 10)"},
    {NULL, 0, NULL, NULL},
};

static const struct plumb_cli_option bootstrap_options[] = {
    {"--env", 'e', "ENV", "the environment to bring up"},
    {"--from", 0, "ENV", "a new environment starts from this one's variables"},
    {"--auto-approve", 0, NULL, "do not ask (adding the environment, applying)"},
    {"--parallelism", 0, "N", "actions at once (default 10)"},
    {"--var", 0, "NAME=VALUE", "set a variable (repeatable)"},
    {NULL, 0, NULL, NULL},
};

static const struct plumb_cli_option state_options[] = {
    {"--env", 'e', "ENV", "the environment"},
    {"--auto-approve", 0, NULL, "unlock: do not ask"},
    {NULL, 0, NULL, NULL},
};

static const struct plumb_cli_option drift_options[] = {
    {"--env", 'e', "ENV", "the environment"},
    {"--json", 0, "FILE", "also write the report as JSON (docs/drift-format.md)"},
    {"--markdown", 0, "FILE", "also write a short markdown summary, for a pull request or chat"},
    {"--parallelism", 0, "N", "concurrent AWS reads (default 10)"},
    {NULL, 0, NULL, NULL},
};

static const struct plumb_cli_command commands[] = {
    {"validate", plumb_cmd_validate, "",
     "check plumb.yaml, its modules and every environment against the schemas; no AWS call",
     no_options, 0, 0},
    {"graph", plumb_cmd_graph, "-e ENV [--format dot|json]",
     "print the dependency graph of an environment", graph_options, 0, 0},
    {"plan", plumb_cmd_plan,
     "-e ENV [--refresh=false] [--out FILE] [--json] [--target ADDR]... [--var K=V]... "
     "[--detailed-exitcode]",
     "show what apply would change, after reading what exists", plan_options, 0, 0},
    {"apply", plumb_cmd_apply,
     "-e ENV [PLANFILE] [--auto-approve] [--parallelism N] [--no-rollback]",
     "make AWS match the configuration; roll back on failure", apply_options, 0, 1},
    {"destroy", plumb_cmd_destroy, "-e ENV [--target ADDR]... [--auto-approve]",
     "delete every resource plumb manages in the environment", apply_options, 0, 0},
    {"rollback", plumb_cmd_rollback, "-e ENV [--run ID] [--auto-approve]",
     "undo a past apply from its journal", rollback_options, 0, 0},
    {"runs", plumb_cmd_runs, "-e ENV [--json] [--run ID]",
     "list applies, rollbacks, drift checks and their outcomes", runs_options, 0, 0},
    {"audit", plumb_cmd_audit, "-e ENV [--json] [--refresh=false]",
     "GO / NO-GO before a deploy: exit 0 GO, 1 CONDITIONAL GO, 2 NO-GO, 3 error", audit_options, 0,
     0},
    {"bootstrap", plumb_cmd_bootstrap, "-e ENV [--from ENV] [--auto-approve]",
     "bring an environment up from nothing: state backend, CI identity, first apply",
     bootstrap_options, 0, 0},
    {"drift", plumb_cmd_drift, "-e ENV [--json FILE] [--markdown FILE]",
     "report what changed in AWS outside plumb since the last apply; exit 2 on drift",
     drift_options, 0, 0},
    {"refresh", plumb_cmd_refresh, "-e ENV",
     "read every managed resource from AWS into state; changes nothing in AWS", env_options, 0, 0},
    {"state", plumb_cmd_state, "list|show ADDR|rm ADDR|pull|push|unlock LOCK_ID -e ENV",
     "list, show, or forget (without deleting) managed resources; move shared state", state_options,
     1, 2},
    {"import", plumb_cmd_import, "-e ENV ADDR ID", "take an existing AWS resource under management",
     output_options, 2, 2},
    {"output", plumb_cmd_output, "-e ENV [NAME] [--json]", "show the configuration's outputs",
     output_options, 0, 1},
    {"doctor", plumb_cmd_doctor, "",
     "show identity (account, ARN), region, endpoints and where credentials come from", no_options,
     0, 0},
    {"version", plumb_cmd_version, "", "show plumb's version and its libraries'", no_options, 0, 0},
    {"help", plumb_cmd_help, "[COMMAND]", "show help for plumb or one command", no_options, 0, 1},
    {NULL, NULL, NULL, NULL, NULL, 0, 0},
};

const struct plumb_cli_command *plumb_cli_commands(void)
{
    return commands;
}

const struct plumb_cli_command *plumb_cli_find(const char *name)
{
    const struct plumb_cli_command *c;

    for (c = commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

static void print_options(FILE *f, const struct plumb_cli_option *o)
{
    char left[64];

    for (; o->name; o++) {
        if (o->short_name)
            snprintf(left, sizeof(left), "-%c, %s%s%s", o->short_name, o->name, o->arg ? " " : "",
                     o->arg ? o->arg : "");
        else
            snprintf(left, sizeof(left), "    %s%s%s", o->name, o->arg ? " " : "",
                     o->arg ? o->arg : "");
        fprintf(f, "  %-26s %s\n", left, o->help);
    }
}

void plumb_cli_print_usage(FILE *f)
{
    const struct plumb_cli_command *c;

    fprintf(f, "usage: plumb [-C DIR] [-q|-v] [--no-color] [--stats] COMMAND [ARGS]\n\n");
    fprintf(f, "plumb reconciles the AWS resources declared in plumb.yaml with what exists.\n\n");
    fprintf(f, "commands:\n");
    for (c = commands; c->name; c++)
        fprintf(f, "  %-10s %s\n", c->name, c->summary);
    fprintf(f, "\nglobal options:\n");
    print_options(f, global_options);
    fprintf(f, "\n'plumb help COMMAND' shows a command's options.\n");
}

void plumb_cli_print_help(FILE *f, const struct plumb_cli_command *cmd)
{
    fprintf(f, "usage: plumb %s%s%s\n\n%s\n", cmd->name, cmd->usage[0] ? " " : "", cmd->usage,
            cmd->summary);
    if (cmd->options[0].name) {
        fprintf(f, "\noptions:\n");
        print_options(f, cmd->options);
    }
    fprintf(f, "\nglobal options:\n");
    print_options(f, global_options);
}

static const struct plumb_cli_option *find_option(const struct plumb_cli_option *table,
                                                  const char *arg, size_t len, char short_name)
{
    for (; table->name; table++) {
        if (short_name && table->short_name == short_name)
            return table;
        if (!short_name && strlen(table->name) == len && strncmp(table->name, arg, len) == 0)
            return table;
    }
    return NULL;
}

/*
 * Parses argv after the command name: the command's options, the global ones (anywhere),
 * "--" ending options, and operands. Accepts "--opt VALUE", "--opt=VALUE", "-e VALUE",
 * "-eVALUE".
 */
static int parse_args(struct plumb_cli *cli, const struct plumb_cli_command *cmd, int argc,
                      char **argv)
{
    int i, only_operands = 0, error = 0;

    cli->operands = calloc((size_t)argc + 1, sizeof(char *));
    PLUMB_ALLOC_CHECK(cli->operands);
    for (i = 0; i < argc; i++) {
        const char *a = argv[i], *value = NULL, *eq;
        const struct plumb_cli_option *o = NULL;
        size_t len;

        if (only_operands || a[0] != '-' || a[1] == '\0') {
            cli->operands[cli->noperands++] = argv[i];
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_operands = 1;
            continue;
        }
        if (a[1] == '-') {
            eq = strchr(a, '=');
            len = eq ? (size_t)(eq - a) : strlen(a);
            o = find_option(cmd ? cmd->options : no_options, a, len, 0);
            if (!o)
                o = find_option(global_options, a, len, 0);
            if (o && eq)
                value = eq + 1;
        } else {
            o = find_option(cmd ? cmd->options : no_options, NULL, 0, a[1]);
            if (!o)
                o = find_option(global_options, NULL, 0, a[1]);
            if (o && a[2])
                value = a + 2;
        }
        if (!o) {
            if (cmd)
                error = plumb_error_set(PLUMB_EINVALID,
                                        "unknown option '%s' for 'plumb %s'; 'plumb help %s' "
                                        "lists them",
                                        a, cmd->name, cmd->name);
            else
                error = plumb_error_set(PLUMB_EINVALID, "unknown option '%s'", a);
            goto done;
        }
        if (o->arg && !value) {
            if (i + 1 >= argc) {
                error = plumb_error_set(PLUMB_EINVALID, "option '%s' needs a value (%s)", o->name,
                                        o->arg);
                goto done;
            }
            value = argv[++i];
        } else if (!o->arg && value) {
            error = plumb_error_set(PLUMB_EINVALID, "option '%s' takes no value", o->name);
            goto done;
        }
        PLUMB_TRY(plumb_kvlist_add(&cli->opts, o->name, value ? value : ""));
    }
done:
    return error;
}

const char *plumb_cli_opt(const struct plumb_cli *cli, const char *name)
{
    const char *v = NULL;
    size_t i;

    /* The last one given wins, as in most command-line tools. */
    for (i = 0; i < cli->opts.n; i++)
        if (strcmp(cli->opts.v[i].name, name) == 0)
            v = cli->opts.v[i].value;
    return v;
}

bool plumb_cli_flag(const struct plumb_cli *cli, const char *name)
{
    return plumb_cli_opt(cli, name) != NULL;
}

void plumb_cli_error(const struct plumb_cli *cli, const char *context)
{
    (void)cli;
    if (context)
        fprintf(stderr, "plumb: %s: %s\n", context, plumb_error_message());
    else
        fprintf(stderr, "plumb: %s\n", plumb_error_message());
}

json_t *plumb_cli_printable(const json_t *v)
{
    const char *k;
    json_t *out, *x;
    size_t i;

    if (plumb_value_is_sensitive(v) ||
        (json_is_object(v) && json_object_get(v, PLUMB_STATE_FINGERPRINT_KEY)))
        return json_string("(sensitive)");
    if (plumb_value_is_unknown(v))
        return json_string("(known after apply)");
    if (json_is_object(v)) {
        out = json_object();
        json_object_foreach((json_t *)v, k, x) json_object_set_new(out, k, plumb_cli_printable(x));
        return out;
    }
    if (json_is_array(v)) {
        out = json_array();
        json_array_foreach(v, i, x) json_array_append_new(out, plumb_cli_printable(x));
        return out;
    }
    return json_deep_copy(v);
}

void plumb_cli_print_json(const json_t *doc)
{
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENCODE_ANY);

    printf("%s\n", text ? text : "");
    free(text);
}

int plumb_cli_confirm(struct plumb_cli *cli, const char *question, const char *what)
{
    char line[64];

    if (plumb_cli_flag(cli, "--auto-approve"))
        return 1;
    if (!isatty(STDIN_FILENO)) {
        fprintf(stderr, "plumb: %s needs --auto-approve when not run from a terminal\n", what);
        return 0;
    }
    printf("%s Only 'yes' will be accepted: ", question);
    fflush(stdout);
    if (!fgets(line, sizeof(line), stdin) || strcmp(line, "yes\n") != 0) {
        fprintf(stderr, "plumb: %s cancelled\n", what);
        return 0;
    }
    return 1;
}

struct plumb_aws *plumb_cli_aws(struct plumb_cli *cli)
{
    struct plumb_aws_options opts = {0};

    if (cli->aws)
        return cli->aws;
    if (plumb_aws_new(&cli->aws, &opts) < 0) {
        plumb_cli_error(cli, NULL);
        return NULL;
    }
    return cli->aws;
}

static double monotonic_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void plumb_cli_stage(struct plumb_cli *cli, const char *name)
{
    double now = monotonic_seconds();
    int i;

    if (cli->stage >= 0)
        cli->stages[cli->stage].seconds += now - cli->stage_started;
    cli->stage = -1;
    if (!name)
        return;
    for (i = 0; i < cli->nstages && strcmp(cli->stages[i].name, name); i++)
        ;
    if (i == cli->nstages) {
        if (i == (int)(sizeof(cli->stages) / sizeof(cli->stages[0])))
            return;
        cli->stages[i].name = name;
        cli->stages[i].seconds = 0;
        cli->nstages++;
    }
    cli->stage = i;
    cli->stage_started = now;
}

static void print_stats(struct plumb_cli *cli)
{
    struct plumb_buf b = PLUMB_BUF_INIT;
    double total = 0;
    int i;

    plumb_cli_stage(cli, NULL);
    plumb_buf_printf(&b, "\n%-34s %10s\n", "stage", "time (s)");
    for (i = 0; i < cli->nstages; i++) {
        plumb_buf_printf(&b, "%-34s %10.3f\n", cli->stages[i].name, cli->stages[i].seconds);
        total += cli->stages[i].seconds;
    }
    plumb_buf_printf(&b, "%-34s %10.3f\n", "total", total);
    if (cli->aws) {
        plumb_buf_puts(&b, "\nAWS requests:\n");
        plumb_aws_stats_render(&b, cli->aws);
    }
    fputs(plumb_buf_cstr(&b), stderr);
    plumb_buf_release(&b);
}

static void cli_release(struct plumb_cli *cli)
{
    if (cli->stats)
        print_stats(cli);
    plumb_aws_free(cli->aws);
    plumb_kvlist_release(&cli->opts);
    free(cli->operands);
}

int plumb_cli_main(int argc, char **argv)
{
    struct plumb_cli cli;
    const struct plumb_cli_command *cmd = NULL;
    int i, code = PLUMB_EXIT_ERROR, first;

    memset(&cli, 0, sizeof(cli));
    cli.stage = -1;
    plumb_cli_stage(&cli, "load");
    cli.color = isatty(STDOUT_FILENO) && !plumb_env_get("NO_COLOR");

    /* The command is the first word that is not a global option or its value. */
    for (first = 1; first < argc; first++) {
        const char *a = argv[first];
        if (a[0] != '-')
            break;
        if (strcmp(a, "-C") == 0 || strcmp(a, "--directory") == 0)
            first++;
    }
    if (first < argc) {
        cmd = plumb_cli_find(argv[first]);
        if (!cmd) {
            fprintf(stderr, "plumb: unknown command '%s'; 'plumb help' lists them\n", argv[first]);
            return PLUMB_EXIT_ERROR;
        }
    }
    /* Parse global options before the command, then everything after it. */
    {
        int rc;
        char **merged = calloc((size_t)argc + 1, sizeof(char *));
        int n = 0;
        if (!merged) {
            fprintf(stderr, "plumb: out of memory\n");
            return PLUMB_EXIT_ERROR;
        }
        for (i = 1; i < argc; i++)
            if (i != first)
                merged[n++] = argv[i];
        rc = parse_args(&cli, cmd, n, merged);
        /* operands point into argv, not merged, so merged can go */
        free(merged);
        if (rc < 0) {
            plumb_cli_error(&cli, NULL);
            goto done;
        }
    }

    cli.command = cmd ? cmd->name : NULL;
    cli.dir = plumb_cli_opt(&cli, "--directory");
    if (plumb_cli_flag(&cli, "--no-color"))
        cli.color = false;
    cli.stats = plumb_cli_flag(&cli, "--stats");
    if (plumb_cli_flag(&cli, "--quiet"))
        plumb_log_set_level(PLUMB_LOG_ERROR);
    if (plumb_cli_flag(&cli, "--verbose"))
        plumb_log_set_level(PLUMB_LOG_DEBUG);

    if (!cmd) {
        plumb_cli_print_usage(plumb_cli_flag(&cli, "--help") ? stdout : stderr);
        code = plumb_cli_flag(&cli, "--help") ? PLUMB_EXIT_OK : PLUMB_EXIT_ERROR;
        goto done;
    }
    if (plumb_cli_flag(&cli, "--help")) {
        plumb_cli_print_help(stdout, cmd);
        code = PLUMB_EXIT_OK;
        goto done;
    }
    if (cli.noperands < cmd->min_operands || cli.noperands > cmd->max_operands) {
        fprintf(stderr, "usage: plumb %s %s\n", cmd->name, cmd->usage);
        goto done;
    }
    if (cli.dir && chdir(cli.dir) < 0) {
        plumb_error_set(PLUMB_EINVALID, "cannot change to directory '%s': %s", cli.dir,
                        strerror(errno));
        plumb_cli_error(&cli, NULL);
        goto done;
    }
    if (plumb_http_global_init() < 0) {
        plumb_cli_error(&cli, NULL);
        goto done;
    }
    code = cmd->fn(&cli);

done:
    cli_release(&cli);
    plumb_http_global_cleanup();
    return code;
}
