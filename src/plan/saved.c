/*
 * Saved plans: `plumb plan --out FILE` writes the JSON plan (docs/plan-format.md) and
 * `plumb apply FILE` reads it back. A plan file may come from anywhere (a CI artifact, a
 * colleague), so it is checked as far as apply reads it before anything relies on it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "plan/plan.h"
#include "util/error.h"

const char *plumb_action_name(enum plumb_action a)
{
    switch (a) {
    case PLUMB_ACTION_CREATE:
        return "create";
    case PLUMB_ACTION_UPDATE:
        return "update";
    case PLUMB_ACTION_REPLACE:
        return "replace";
    case PLUMB_ACTION_DELETE:
        return "delete";
    default:
        return "no-op";
    }
}

static int is_action(const char *s)
{
    int a;

    for (a = PLUMB_ACTION_NOOP; a <= PLUMB_ACTION_DELETE; a++)
        if (strcmp(s, plumb_action_name((enum plumb_action)a)) == 0)
            return 1;
    return 0;
}

/* What apply reads of a saved plan, with the problem of the first member that is wrong. */
static int check_members(const json_t *doc, const char *name)
{
    const json_t *st = json_object_get(doc, "state"), *changes = json_object_get(doc, "changes");
    const json_t *lineage = json_object_get(st, "lineage"), *c;
    const char *action;
    size_t i;

    if (!json_is_object(st) || (lineage && !json_is_string(lineage) && !json_is_null(lineage)) ||
        !json_is_integer(json_object_get(st, "serial")))
        return plumb_error_set(
            PLUMB_EINVALID, "%s: not a plumb plan: 'state' must hold a lineage and a serial", name);
    if (!json_is_string(json_object_get(doc, "config_hash")))
        return plumb_error_set(PLUMB_EINVALID, "%s: not a plumb plan: no 'config_hash'", name);
    if (!json_is_array(changes))
        return plumb_error_set(PLUMB_EINVALID, "%s: not a plumb plan: 'changes' must be an array",
                               name);
    json_array_foreach(changes, i, c)
    {
        action = json_string_value(json_object_get(c, "action"));
        if (!json_is_string(json_object_get(c, "address")) || !action || !is_action(action))
            return plumb_error_set(PLUMB_EINVALID,
                                   "%s: not a plumb plan: 'changes[%zu]' must have an address "
                                   "and an action (create, update, replace, delete or no-op)",
                                   name, i);
    }
    return 0;
}

int plumb_plan_parse_saved(json_t **out, const char *text, size_t len, const char *name)
{
    const char *version;
    json_error_t jerr;
    json_t *doc;
    int error = 0;

    *out = NULL;
    doc = json_loadb(text, len, 0, &jerr);
    if (!doc) {
        error = plumb_error_set(PLUMB_EINVALID, "%s:%d:%d: not a plumb plan: %s", name, jerr.line,
                                jerr.column, jerr.text);
        goto done;
    }
    version = json_string_value(json_object_get(doc, "format_version"));
    if (!version || strcmp(version, PLUMB_PLAN_FORMAT_VERSION) != 0) {
        error = version ? plumb_error_set(PLUMB_EINVALID,
                                          "%s: plan format %s is not one this plumb reads (%s)",
                                          name, version, PLUMB_PLAN_FORMAT_VERSION)
                        : plumb_error_set(PLUMB_EINVALID,
                                          "%s: not a plumb plan: no 'format_version'", name);
        goto done;
    }
    PLUMB_TRY(check_members(doc, name));
    *out = doc;
    doc = NULL;
done:
    json_decref(doc);
    return error;
}

int plumb_plan_load_saved(json_t **out, const char *path)
{
    struct plumb_buf b = PLUMB_BUF_INIT;
    FILE *f = NULL;
    size_t got;
    int error = 0;

    *out = NULL;
    if (!(f = fopen(path, "rb"))) {
        error = plumb_error_set(PLUMB_EINVALID, "unable to open '%s': %s", path, strerror(errno));
        goto done;
    }
    do {
        PLUMB_TRY(plumb_buf_grow(&b, 64u << 10));
        got = fread(b.ptr + b.len, 1, b.cap - b.len - 1, f);
        b.len += got;
    } while (got > 0);
    if (ferror(f)) {
        error = plumb_error_set(PLUMB_EINVALID, "unable to read '%s': %s", path, strerror(errno));
        goto done;
    }
    error = plumb_plan_parse_saved(out, plumb_buf_cstr(&b), b.len, path);
done:
    if (f)
        fclose(f);
    plumb_buf_release(&b);
    return error;
}

int plumb_plan_check_saved(const json_t *saved, const struct plumb_plan *now, const char *name)
{
    const json_t *st = json_object_get(saved, "state"),
                 *changes = json_object_get(saved, "changes");
    const char *lineage = json_string_value(json_object_get(st, "lineage"));
    size_t i, k = 0;

    if ((lineage || now->lineage) &&
        (!lineage || !now->lineage || strcmp(lineage, now->lineage) != 0))
        return plumb_error_set(
            PLUMB_ECONFLICT, "%s was made for another state (lineage %s, now %s): plan again", name,
            lineage ? lineage : "none", now->lineage ? now->lineage : "none");
    if (json_integer_value(json_object_get(st, "serial")) != now->serial)
        return plumb_error_set(PLUMB_ECONFLICT,
                               "%s is stale: state changed since it was made (serial %lld, now "
                               "%ld): plan again",
                               name, (long long)json_integer_value(json_object_get(st, "serial")),
                               now->serial);
    if (strcmp(json_string_value(json_object_get(saved, "config_hash")), now->config_hash) != 0)
        return plumb_error_set(PLUMB_ECONFLICT,
                               "%s is stale: the configuration, a variable or a secret changed "
                               "since it was made: plan again",
                               name);
    for (i = 0; i < now->nchanges; i++) {
        const json_t *c = json_array_get(changes, k);
        if (now->changes[i].action == PLUMB_ACTION_NOOP)
            continue;
        while (c && strcmp(json_string_value(json_object_get(c, "action")), "no-op") == 0)
            c = json_array_get(changes, ++k);
        if (!c ||
            strcmp(json_string_value(json_object_get(c, "address")), now->changes[i].address) ||
            strcmp(json_string_value(json_object_get(c, "action")),
                   plumb_action_name(now->changes[i].action)))
            return plumb_error_set(PLUMB_ECONFLICT,
                                   "%s no longer matches what apply would do: "
                                   "plan again",
                                   name);
        k++;
    }
    return 0;
}
