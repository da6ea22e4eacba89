/*
 * Drift (plumb drift): what changed in AWS since plumb last applied, apart from what changed
 * in the configuration since then. Built after a refresh, from state's records (last
 * applied, and observed now), the resolved model (for ignore_changes and pending changes)
 * and the resources the Resource Groups Tagging API lists under this project's tags.
 *
 * The report is the JSON document of docs/drift-format.md; the human table and the markdown
 * summary are rendered from it.
 */
#ifndef PLUMB_PLAN_DRIFT_H
#define PLUMB_PLAN_DRIFT_H

#include <jansson.h>

#include "config/model.h"
#include "state/state.h"
#include "util/buf.h"

#define PLUMB_DRIFT_FORMAT_VERSION "1"

struct plumb_drift_input {
    const struct plumb_model *model; /* the configuration, resolved */
    struct plumb_state *state;       /* fingerprints */
    const json_t *records;           /* address → state record, refreshed */
    const json_t *tagged;            /* [{ResourceARN, Tags}] carrying the project's tags */
    const char *checked_at;          /* ISO 8601 */
};

/* The report (docs/drift-format.md); secrets appear as "(sensitive)" only. */
int plumb_drift_build(json_t **report, const struct plumb_drift_input *in);
/* 1 when the report shows drift: a resource drifted or deleted, or one unmanaged. */
int plumb_drift_found(const json_t *report);
/* The table for a terminal. */
void plumb_drift_render(struct plumb_buf *out, const json_t *report, int color);
/* A short markdown summary, for a pull request or a chat message. */
void plumb_drift_markdown(struct plumb_buf *out, const json_t *report);

#endif
