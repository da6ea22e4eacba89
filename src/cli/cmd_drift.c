/*
 * plumb drift -e ENV: has anyone changed AWS by hand since plumb applied? Refreshes every
 * managed resource (as refresh does: batched, concurrent, cached in state), asks the Resource
 * Groups Tagging API for what carries the project's tags, and reports per resource: in sync,
 * drifted (each property, applied and now), deleted, or unmanaged; configuration changes
 * since the last apply are listed apart as pending. Changes nothing in AWS.
 *
 * Exit 0 no drift, 2 drift, 1 the check itself failed: a nightly job tells them apart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/session.h"
#include "plan/drift.h"
#include "util/error.h"
#include "util/log.h"
#include "util/sys.h"

/* Resources carrying plumb:project and plumb:env of this environment, from every service. */
static int tagged_resources(struct plumb_session *s, json_t **out)
{
    json_t *in, *res = NULL;
    int error;

    *out = NULL;
    in = json_pack("{s:[{s:s, s:[s]}, {s:s, s:[s]}], s:i}", "TagFilters", "Key", "plumb:project",
                   "Values", s->project->name, "Key", "plumb:env", "Values", s->env,
                   "ResourcesPerPage", 100);
    if (!in)
        return plumb_error_oom();
    error = plumb_aws_paginate(s->aws, "resourcegroupstaggingapi", "GetResources", in, &res);
    if (error == 0) {
        *out = json_incref(json_object_get(res, "ResourceTagMappingList"));
        if (!*out)
            *out = json_array();
    }
    json_decref(in);
    json_decref(res);
    return error;
}

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        if (f)
            fclose(f);
        return plumb_error_set(PLUMB_ERROR, "unable to write '%s'", path);
    }
    return 0;
}

static void record_run(struct plumb_session *s, const json_t *report, double started)
{
    char id[32], who[300];
    const json_t *counts = json_object_get(report, "counts");
    json_t *run;

    if (plumb_state_new_run_id(id) < 0)
        return;
    plumb_who(who, sizeof(who));
    run = json_pack("{s:s, s:f, s:f, s:s, s:s, s:O}", "kind", "drift", "started", started,
                    "finished", (double)plumb_clock_now(), "outcome",
                    plumb_drift_found(report) ? "drift" : "in_sync", "who", who, "drift", counts);
    if (!run || plumb_state_run_put(s->state, id, run) < 0)
        plumb_log_warn("recording the drift check: %s", plumb_error_message());
    json_decref(run);
}

int plumb_cmd_drift(struct plumb_cli *cli)
{
    struct plumb_session s;
    struct plumb_drift_input in;
    struct plumb_buf text = PLUMB_BUF_INIT;
    const char *json_file = plumb_cli_opt(cli, "--json"),
               *md_file = plumb_cli_opt(cli, "--markdown");
    json_t *tagged = NULL, *report = NULL;
    double started = (double)plumb_clock_now();
    char now[21];
    int code = PLUMB_EXIT_ERROR, gone = 0;

    /* secrets are not needed: what was applied is compared by fingerprint */
    if (plumb_session_open(&s, cli, PLUMB_SESSION_AWS) != PLUMB_EXIT_OK)
        goto done;
    if (plumb_session_lock(&s) < 0 || plumb_session_refresh(&s, &gone) < 0) {
        plumb_cli_error(cli, NULL);
        goto done;
    }
    plumb_cli_stage(cli, "drift");
    if (tagged_resources(&s, &tagged) < 0) {
        plumb_cli_error(cli, "finding resources by the project's tags");
        goto done;
    }
    if (plumb_session_resolve(&s, 0) < 0)
        goto done;
    plumb_time_iso8601(now, plumb_clock_now());
    memset(&in, 0, sizeof(in));
    in.model = s.model;
    in.state = s.state;
    in.records = s.records;
    in.tagged = tagged;
    in.checked_at = now;
    if (plumb_drift_build(&report, &in) < 0) {
        plumb_cli_error(cli, NULL);
        goto done;
    }
    if (json_file) {
        char *j = json_dumps(report, JSON_INDENT(2) | JSON_SORT_KEYS);
        int rc = j ? write_file(json_file, j) : plumb_error_oom();
        free(j);
        if (rc < 0) {
            plumb_cli_error(cli, NULL);
            goto done;
        }
    }
    if (md_file) {
        plumb_drift_markdown(&text, report);
        if (write_file(md_file, plumb_buf_cstr(&text)) < 0) {
            plumb_cli_error(cli, NULL);
            goto done;
        }
        plumb_buf_clear(&text);
    }
    plumb_drift_render(&text, report, cli->color);
    fwrite(text.ptr, 1, text.len, stdout);
    record_run(&s, report, started);
    code = plumb_drift_found(report) ? PLUMB_EXIT_CHANGES : PLUMB_EXIT_OK;
done:
    json_decref(tagged);
    json_decref(report);
    plumb_buf_release(&text);
    plumb_session_close(&s);
    return code;
}
