/*
 * The plan (DESIGN.md §2): for every resource one action, from the desired properties (the
 * resolved model), what state remembers (last applied) and what AWS has (observed at refresh).
 *
 *   create    declared, not in state (or deleted outside plumb)
 *   update    in state, some property differs, none of them create-only
 *   replace   a create-only property differs: delete then create, or with
 *             create_before_destroy, create then delete
 *   delete    in state, no longer declared for this environment
 *   no-op     nothing differs
 *
 * Comparison is over what the user declares: properties AWS fills in that the config leaves
 * out are not drift, and a property the API does not report is compared with the last
 * applied value instead. ignore_changes properties are never compared. Sensitive values are
 * compared by fingerprint. Values unknown until apply (another resource's ARN that does not
 * exist yet) count as changes and show as (known after apply).
 */
#ifndef PLUMB_PLAN_PLAN_H
#define PLUMB_PLAN_PLAN_H

#include <jansson.h>

#include "config/model.h"
#include "state/state.h"
#include "util/buf.h"

#define PLUMB_PLAN_FORMAT_VERSION "1"

enum plumb_action {
    PLUMB_ACTION_NOOP,
    PLUMB_ACTION_CREATE,
    PLUMB_ACTION_UPDATE,
    PLUMB_ACTION_REPLACE,
    PLUMB_ACTION_DELETE,
};

struct plumb_change {
    char *address;
    char *type;
    enum plumb_action action;
    json_t *id;     /* the resource's identifier from state; NULL for a create */
    json_t *before; /* what exists (observed over last applied), protected; NULL for a create */
    json_t *after;  /* desired, with unknown and sensitive marks; NULL for a delete */
    json_t *diffs;  /* [{path, before, after, forces_replacement}] for update and replace */
    json_t *replace_because; /* property paths that force replacement */
    json_t *depends_on;      /* addresses: model dependencies (create/update/replace), or the
                                state's recorded ones (delete) */
    int create_before_destroy;
    int gone; /* in state, but deleted outside plumb: planned as a create */
};

struct plumb_plan {
    char *env;
    char *lineage; /* state lineage and serial when planned: a saved plan is stale after */
    long serial;
    char *config_hash;
    struct plumb_change *changes; /* creates/updates in dependency order, then deletes */
    size_t nchanges;
    size_t add, change, destroy;
    json_t *outputs;
};

struct plumb_plan_input {
    const struct plumb_model *model;
    struct plumb_state *state; /* for lineage, serial, fingerprints */
    const json_t *records;     /* address → state record */
    const json_t *observed;    /* address → observed (null: gone); NULL: use the records' */
    const json_t *targets;     /* array of addresses, or NULL for everything */
    int destroy;               /* plan to delete everything in state (plumb destroy) */
};

int plumb_plan_build(struct plumb_plan **out, const struct plumb_plan_input *in);
void plumb_plan_free(struct plumb_plan *p);
const char *plumb_action_name(enum plumb_action a); /* "create", "update", ... */

/*
 * How `desired` (as plumb_schema_normalize gives it: declared, or last applied) differs from
 * what exists: `record`'s last applied properties overlaid by `observed` (NULL: none read).
 * Compared as plan compares: declared properties only, plumb's tags aside, the driver's
 * normalisation, `decl`'s ignore_changes (decl NULL: the schema of c->type, nothing
 * ignored); `last` (NULL: none) adds the properties applied before and now left out.
 * Sets c->before, c->diffs, c->replace_because and c->action; c->type must be set.
 */
void plumb_plan_compare(struct plumb_change *c, const struct plumb_resource_decl *decl,
                        const json_t *desired, const json_t *record, const json_t *observed,
                        const json_t *last, struct plumb_state *st);

/* The human plan, Terraform-style ("Plan: 3 to add, 1 to change, 0 to destroy."). */
void plumb_plan_render(struct plumb_buf *out, const struct plumb_plan *p, int color);
/* The documented JSON plan (docs/plan-format.md): secrets as fingerprints only. */
json_t *plumb_plan_to_json(const struct plumb_plan *p, struct plumb_state *st);

/* A hash over the resolved desired properties of every resource (secrets by fingerprint). */
int plumb_plan_config_hash(char out[72], const struct plumb_model *m, struct plumb_state *st);

/*
 * Saved plans (saved.c): `plan --out FILE` writes plumb_plan_to_json's document, `apply FILE`
 * reads it back. Parsing checks what apply reads — format_version, state.lineage and serial,
 * config_hash, every change's address and action — so a file from anywhere is refused with
 * PLUMB_EINVALID, naming `name`, rather than trusted. `*out` is the document.
 */
int plumb_plan_parse_saved(json_t **out, const char *text, size_t len, const char *name);
int plumb_plan_load_saved(json_t **out, const char *path);
/* PLUMB_ECONFLICT unless `saved` (as parsed above) was made from the state and configuration
 * `now` was, and plans the changes `now` does. */
int plumb_plan_check_saved(const json_t *saved, const struct plumb_plan *now, const char *name);

#endif
