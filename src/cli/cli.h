/*
 * The command line: one table of commands (STYLE.md §7, after git's), each with its option
 * table, from which `plumb help` and `--help` are generated. Global options (-C, -q, -v,
 * --no-color, --stats) are accepted anywhere on the line; set-up they imply happens once,
 * before dispatch. Results go to stdout, progress and errors to stderr.
 */
#ifndef PLUMB_CLI_CLI_H
#define PLUMB_CLI_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "aws/aws.h"
#include "config/model.h"
#include "util/diag.h"
#include "util/kv.h"

#define PLUMB_EXIT_OK      0
#define PLUMB_EXIT_ERROR   1
#define PLUMB_EXIT_CHANGES 2

struct plumb_cli_option {
    const char *name; /* "--env" */
    char short_name;  /* 'e', or 0 */
    const char *arg;  /* "ENV" when it takes a value, NULL for a flag */
    const char *help;
};

/* What a command is given: its parsed options and operands, and the shared set-up. */
struct plumb_cli {
    const char *command;
    const char *dir; /* -C */
    bool color;
    bool stats;
    struct plumb_kvlist opts; /* "--env" → "stage"; flags → "" */
    char **operands;
    int noperands;
    struct plumb_aws *aws; /* made on first plumb_cli_aws() */
    /* --stats: wall time in each stage (load, refresh, plan, apply ...), in the order run */
    struct {
        const char *name;
        double seconds;
    } stages[12];
    int nstages;
    int stage;            /* the one running, or -1 */
    double stage_started; /* monotonic seconds */
};

struct plumb_cli_command {
    const char *name;
    int (*fn)(struct plumb_cli *cli);
    const char *usage;   /* after "plumb NAME " */
    const char *summary; /* one line */
    const struct plumb_cli_option *options;
    int min_operands, max_operands;
};

/* Ends the running stage and starts `name` (a string literal) for --stats; a stage entered
 * again adds to its time. */
void plumb_cli_stage(struct plumb_cli *cli, const char *name);

/* The value of option `name` ("--env"), or NULL. */
const char *plumb_cli_opt(const struct plumb_cli *cli, const char *name);
bool plumb_cli_flag(const struct plumb_cli *cli, const char *name);
/* The AWS client for this run, made on first use; NULL after printing the error. */
struct plumb_aws *plumb_cli_aws(struct plumb_cli *cli);
/* Prints "plumb: <message>" for the last error to stderr. */
void plumb_cli_error(const struct plumb_cli *cli, const char *context);

const struct plumb_cli_command *plumb_cli_commands(void);
const struct plumb_cli_command *plumb_cli_find(const char *name);
void plumb_cli_print_help(FILE *f, const struct plumb_cli_command *cmd);
void plumb_cli_print_usage(FILE *f);

/* Runs the command line; returns the process exit code. */
int plumb_cli_main(int argc, char **argv);

/* Diagnostics sorted by place, each shown once, on stderr; returns the errors shown. */
size_t plumb_cli_render_diags(struct plumb_diags *d);
/* Where bare module names resolve: $PLUMB_MODULES_DIR, else the shipped modules/. */
const char *plumb_cli_modules_dir(void);
/* Loads ./plumb.yaml (after -C) with its modules; problems go to `diags`. */
int plumb_cli_load_project(struct plumb_project **out, struct plumb_cli *cli,
                           struct plumb_diags *diags);

/* --parallelism, bounded to 1..64 (default 10). */
int plumb_cli_parallelism(const struct plumb_cli *cli);

int plumb_cmd_doctor(struct plumb_cli *cli);
int plumb_cmd_plan(struct plumb_cli *cli);
int plumb_cmd_apply(struct plumb_cli *cli);
int plumb_cmd_destroy(struct plumb_cli *cli);
int plumb_cmd_rollback(struct plumb_cli *cli);
int plumb_cmd_runs(struct plumb_cli *cli);
int plumb_cmd_refresh(struct plumb_cli *cli);
int plumb_cmd_drift(struct plumb_cli *cli);
/* A copy of v fit to print: secrets (marked sensitive, or stored as fingerprints) become
 * "(sensitive)", values unknown until apply "(known after apply)". */
json_t *plumb_cli_printable(const json_t *v);
/* Prints a JSON document on stdout, indented, keys sorted (every --json output). */
void plumb_cli_print_json(const json_t *doc);
/* Asks `question` on the terminal; 1 for "yes" or with --auto-approve. Without a terminal the
 * answer is no, and the message says `what` needs --auto-approve. */
int plumb_cli_confirm(struct plumb_cli *cli, const char *question, const char *what);
int plumb_cmd_bootstrap(struct plumb_cli *cli);
int plumb_cmd_audit(struct plumb_cli *cli);
int plumb_cmd_state(struct plumb_cli *cli);
int plumb_cmd_import(struct plumb_cli *cli);
int plumb_cmd_output(struct plumb_cli *cli);
int plumb_cmd_validate(struct plumb_cli *cli);
int plumb_cmd_graph(struct plumb_cli *cli);
int plumb_cmd_version(struct plumb_cli *cli);
int plumb_cmd_help(struct plumb_cli *cli);

#endif
