#include "plan/drift.h"

#include <stdlib.h>
#include <string.h>

#include "config/value.h"
#include "plan/plan.h"
#include "provider/util.h"
#include "util/error.h"
#include "util/json.h"

#define SENSITIVE "(sensitive)"

/* Whether v holds a secret: a fingerprint as state keeps it, or a sensitive mark. */
static int holds_secret(const json_t *v)
{
    const char *k;
    json_t *x;
    size_t i;

    if (plumb_value_is_sensitive(v))
        return 1;
    if (json_is_object(v)) {
        if (json_object_get(v, PLUMB_STATE_FINGERPRINT_KEY))
            return 1;
        json_object_foreach((json_t *)v, k, x) if (holds_secret(x)) return 1;
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, x) if (holds_secret(x)) return 1;
    }
    return 0;
}

/* Every string in v (ids and attributes), as keys of `set`. */
static void collect_strings(json_t *set, const json_t *v, int depth)
{
    const char *k;
    json_t *x;
    size_t i;

    if (json_is_string(v))
        json_object_set_new(set, json_string_value(v), json_true());
    else if (depth > 0 && json_is_object(v))
        json_object_foreach((json_t *)v, k, x) collect_strings(set, x, depth - 1);
    else if (depth > 0 && json_is_array(v))
        json_array_foreach(v, i, x) collect_strings(set, x, depth - 1);
}

/*
 * Whether an ARN the tagging API listed is one state manages: the ARN itself is among the
 * records' ids and attributes, or its last part is (a VPC id after "vpc/", a log group name
 * after "log-group:", a bucket name after ":::").
 */
static int managed_arn(const json_t *known, const char *arn)
{
    const char *slash = strrchr(arn, '/'), *colon;
    char *trimmed;
    size_t n = strlen(arn);
    int found;

    if (json_object_get(known, arn))
        return 1;
    if (slash && json_object_get(known, slash + 1))
        return 1;
    /* "arn:aws:logs:...:log-group:NAME:*" and "...:log-group:NAME" name the same group */
    trimmed = plumb_strndup(arn, n > 2 && strcmp(arn + n - 2, ":*") == 0 ? n - 2 : n);
    if (!trimmed)
        return 0;
    colon = strrchr(trimmed, ':');
    found = json_object_get(known, trimmed) || (colon && json_object_get(known, colon + 1));
    if (!found) {
        /* a log group name holds '/': the part after "log-group:" */
        const char *lg = strstr(trimmed, ":log-group:");
        found = lg && json_object_get(known, lg + strlen(":log-group:"));
    }
    free(trimmed);
    return found;
}

/* [{path, applied, actual}] from a comparison: applied is what plumb applied last. */
static json_t *differences(const json_t *diffs)
{
    json_t *out = json_array(), *d;
    size_t i;

    json_array_foreach(diffs, i, d)
    {
        const json_t *applied = json_object_get(d, "after"), *actual = json_object_get(d, "before");
        int secret = holds_secret(applied) || holds_secret(actual);
        json_array_append_new(
            out, json_pack("{s:O, s:o, s:o}", "path", json_object_get(d, "path"), "applied",
                           secret ? json_string(SENSITIVE) : json_deep_copy(applied), "actual",
                           secret ? json_string(SENSITIVE) : json_deep_copy(actual)));
    }
    return out;
}

static const struct plumb_resource_decl *decl_of(const struct plumb_model *m, const char *address)
{
    long i = m ? plumb_model_find(m, address) : -1;

    return i >= 0 ? m->resources[i].decl : NULL;
}

/* Whether a value the configuration would apply is not known now because a secret is not set
 * (drift does not need secrets): such a property cannot be said to be pending. */
static int awaits_secret(const json_t *v)
{
    const char *k, *why;
    json_t *x;
    size_t i;

    if (plumb_value_is_sensitive(v))
        v = plumb_value_unwrap(v);
    if ((why = plumb_value_unknown_why(v)))
        return strncmp(why, "secret.", 7) == 0;
    if (json_is_object(v))
        json_object_foreach((json_t *)v, k, x) if (awaits_secret(x)) return 1;
    if (json_is_array(v))
        json_array_foreach(v, i, x) if (awaits_secret(x)) return 1;
    return 0;
}

/* What the configuration changed since the last apply: the plan against last applied. */
static int pending(json_t *out, const struct plumb_drift_input *in)
{
    struct plumb_plan_input pin;
    struct plumb_plan *plan = NULL;
    json_t *as_applied = json_object(), *rec, *paths, *d;
    const char *addr;
    size_t i, j;
    int error = 0;

    PLUMB_ALLOC_CHECK(as_applied);
    json_object_foreach((json_t *)in->records, addr, rec)
    {
        const json_t *props = json_object_get(rec, "properties");
        json_object_set_new(as_applied, addr, props ? json_incref((json_t *)props) : json_object());
    }
    memset(&pin, 0, sizeof(pin));
    pin.model = in->model;
    pin.state = in->state;
    pin.records = in->records;
    pin.observed = as_applied;
    PLUMB_TRY(plumb_plan_build(&plan, &pin));
    for (i = 0; i < plan->nchanges; i++) {
        const struct plumb_change *c = &plan->changes[i];
        if (c->action == PLUMB_ACTION_NOOP)
            continue;
        paths = json_array();
        PLUMB_ALLOC_CHECK(paths);
        json_array_foreach(c->diffs, j, d) if (!awaits_secret(json_object_get(d, "after")))
            json_array_append(paths, json_object_get(d, "path"));
        if ((c->action == PLUMB_ACTION_UPDATE || c->action == PLUMB_ACTION_REPLACE) &&
            !json_array_size(paths) && !json_array_size(c->replace_because)) {
            json_decref(paths);
            continue;
        }
        json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:o}", "address", c->address, "type",
                                             c->type, "action", plumb_action_name(c->action),
                                             "paths", paths));
    }
done:
    plumb_plan_free(plan);
    json_decref(as_applied);
    return error;
}

int plumb_drift_build(json_t **report, const struct plumb_drift_input *in)
{
    json_t *resources = json_array(), *unmanaged = json_array(), *pend = json_array();
    json_t *known = json_object(), *rec, *entry, *t;
    size_t n_sync = 0, n_drift = 0, n_gone = 0, i;
    const char *addr;
    int error = 0;

    *report = NULL;
    PLUMB_ALLOC_CHECK(resources && unmanaged && pend && known);
    json_object_foreach((json_t *)in->records, addr, rec)
    {
        const char *type = json_string_value(json_object_get(rec, "type"));
        const json_t *observed = json_object_get(rec, "observed");
        collect_strings(known, json_object_get(rec, "id"), 2);
        collect_strings(known, observed, 1);
        entry = json_pack("{s:s, s:s, s:O?}", "address", addr, "type", type ? type : "", "id",
                          json_object_get(rec, "id"));
        PLUMB_ALLOC_CHECK(entry);
        if (json_is_true(json_object_get(rec, "gone"))) {
            json_object_set_new(entry, "status", json_string("deleted"));
            n_gone++;
        } else {
            struct plumb_change c;
            memset(&c, 0, sizeof(c));
            c.type = (char *)(type ? type : "");
            plumb_plan_compare(&c, decl_of(in->model, addr), json_object_get(rec, "properties"),
                               rec, json_is_object(observed) ? observed : NULL, NULL, in->state);
            json_object_set_new(entry, "status",
                                json_string(json_array_size(c.diffs) ? "drifted" : "in_sync"));
            if (json_array_size(c.diffs)) {
                json_object_set_new(entry, "differences", differences(c.diffs));
                n_drift++;
            } else {
                n_sync++;
            }
            json_decref(c.before);
            json_decref(c.diffs);
            json_decref(c.replace_because);
        }
        json_array_append_new(resources, entry);
    }
    json_array_foreach(in->tagged, i, t)
    {
        const char *arn = json_string_value(json_object_get(t, "ResourceARN"));
        json_t *tags;
        if (!arn || managed_arn(known, arn))
            continue;
        tags = plumb_provider_tags_to_map(json_object_get(t, "Tags"));
        json_array_append_new(unmanaged,
                              json_pack("{s:s, s:O?, s:o}", "arn", arn, "address",
                                        json_object_get(tags, "plumb:address"), "tags", tags));
    }
    if (in->model)
        PLUMB_TRY(pending(pend, in));
    *report = json_pack(
        "{s:s, s:s, s:s, s:{s:I, s:I, s:I, s:I, s:I}, s:O, s:O, s:O}", "format_version",
        PLUMB_DRIFT_FORMAT_VERSION, "environment", in->model ? in->model->env->name : "",
        "checked_at", in->checked_at, "counts", "in_sync", (json_int_t)n_sync, "drifted",
        (json_int_t)n_drift, "deleted", (json_int_t)n_gone, "unmanaged",
        (json_int_t)json_array_size(unmanaged), "pending", (json_int_t)json_array_size(pend),
        "resources", resources, "unmanaged", unmanaged, "pending", pend);
    PLUMB_ALLOC_CHECK(*report);
done:
    json_decref(resources);
    json_decref(unmanaged);
    json_decref(pend);
    json_decref(known);
    return error;
}

static json_int_t count(const json_t *report, const char *what)
{
    return json_integer_value(json_object_get(json_object_get(report, "counts"), what));
}

int plumb_drift_found(const json_t *report)
{
    return count(report, "drifted") + count(report, "deleted") + count(report, "unmanaged") > 0;
}

/* A value as one line, cut at `max` bytes (at a character boundary). */
static void put_short(struct plumb_buf *out, const json_t *v, size_t max)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
    size_t n;

    if (json_is_string(v) && strcmp(json_string_value(v), SENSITIVE) == 0) {
        plumb_buf_puts(out, SENSITIVE);
    } else if (!v) {
        plumb_buf_puts(out, "(none)");
    } else if (text) {
        n = strlen(text);
        if (n > max) {
            n = max;
            while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
                n--;
        }
        plumb_buf_put(out, text, n);
        if (n < strlen(text))
            plumb_buf_puts(out, "...");
    }
    free(text);
}

void plumb_drift_render(struct plumb_buf *out, const json_t *report, int color)
{
    const char *yellow = color ? "\033[33m" : "", *red = color ? "\033[31m" : "";
    const char *bold = color ? "\033[1m" : "", *reset = color ? "\033[0m" : "";
    const json_t *r, *d, *p;
    size_t i, j;

    plumb_buf_printf(out,
                     "Drift check of environment '%s' at %s: %lld in sync, %lld drifted, %lld "
                     "deleted, %lld unmanaged.\n",
                     plumb_json_str(report, "environment", ""),
                     plumb_json_str(report, "checked_at", ""), (long long)count(report, "in_sync"),
                     (long long)count(report, "drifted"), (long long)count(report, "deleted"),
                     (long long)count(report, "unmanaged"));
    json_array_foreach(json_object_get(report, "resources"), i, r)
    {
        if (strcmp(plumb_json_str(r, "status", ""), "drifted") == 0) {
            plumb_buf_printf(out, "\n  %s~%s %s%s%s (%s) has drifted:\n", yellow, reset, bold,
                             plumb_json_str(r, "address", ""), reset,
                             plumb_json_str(r, "type", ""));
            json_array_foreach(json_object_get(r, "differences"), j, d)
            {
                plumb_buf_printf(out, "      %s: applied ", plumb_json_str(d, "path", ""));
                put_short(out, json_object_get(d, "applied"), 60);
                plumb_buf_puts(out, ", AWS has ");
                put_short(out, json_object_get(d, "actual"), 60);
                plumb_buf_putc(out, '\n');
            }
        } else if (strcmp(plumb_json_str(r, "status", ""), "deleted") == 0) {
            plumb_buf_printf(out, "\n  %s-%s %s%s%s (%s) was deleted outside plumb\n", red, reset,
                             bold, plumb_json_str(r, "address", ""), reset,
                             plumb_json_str(r, "type", ""));
        }
    }
    json_array_foreach(json_object_get(report, "unmanaged"), i, r)
    {
        plumb_buf_printf(out, "\n  %s?%s %s carries this project's tags but is not in state", red,
                         reset, plumb_json_str(r, "arn", ""));
        if (json_is_string(json_object_get(r, "address")))
            plumb_buf_printf(out, " (plumb:address %s)", plumb_json_str(r, "address", ""));
        plumb_buf_putc(out, '\n');
    }
    if (json_array_size(json_object_get(report, "pending"))) {
        plumb_buf_puts(out, "\nPending: the configuration changed since the last apply (not "
                            "drift; 'plumb plan' shows it):\n");
        json_array_foreach(json_object_get(report, "pending"), i, p)
        {
            plumb_buf_printf(out, "  %s: %s", plumb_json_str(p, "address", ""),
                             plumb_json_str(p, "action", ""));
            json_array_foreach(json_object_get(p, "paths"), j, d)
                plumb_buf_printf(out, "%s%s", j ? ", " : " (", json_string_value(d));
            plumb_buf_puts(out, json_array_size(json_object_get(p, "paths")) ? ")\n" : "\n");
        }
    }
    if (plumb_drift_found(report))
        plumb_buf_printf(out,
                         "\nDrift found. 'plumb plan -e %s' shows the repair and 'plumb apply -e "
                         "%s' makes it; a resource made outside plumb is imported or deleted.\n",
                         plumb_json_str(report, "environment", ""),
                         plumb_json_str(report, "environment", ""));
    else
        plumb_buf_puts(out, "\nNo drift: AWS matches what plumb last applied.\n");
}

/* A markdown table cell: '|' and line breaks would end the cell or the row. */
static void put_cell(struct plumb_buf *out, const json_t *v)
{
    struct plumb_buf b = PLUMB_BUF_INIT;
    const char *p;

    put_short(&b, v, 40);
    for (p = plumb_buf_cstr(&b); *p; p++) {
        if (*p == '|')
            plumb_buf_puts(out, "\\|");
        else if (*p == '\n' || *p == '`')
            plumb_buf_putc(out, ' ');
        else
            plumb_buf_putc(out, *p);
    }
    plumb_buf_release(&b);
}

void plumb_drift_markdown(struct plumb_buf *out, const json_t *report)
{
    const json_t *r, *d;
    size_t i, j, rows = 0;

    plumb_buf_printf(out, "### plumb drift: `%s` — %s\n\n",
                     plumb_json_str(report, "environment", ""),
                     plumb_drift_found(report) ? "drift found" : "no drift");
    plumb_buf_printf(out,
                     "%lld in sync, %lld drifted, %lld deleted outside plumb, %lld unmanaged "
                     "(checked %s).\n",
                     (long long)count(report, "in_sync"), (long long)count(report, "drifted"),
                     (long long)count(report, "deleted"), (long long)count(report, "unmanaged"),
                     plumb_json_str(report, "checked_at", ""));
    json_array_foreach(json_object_get(report, "resources"), i, r)
    {
        if (strcmp(plumb_json_str(r, "status", ""), "in_sync") == 0)
            continue;
        if (!rows++)
            plumb_buf_puts(out, "\n| resource | status | what differs (applied → AWS) |\n"
                                "|---|---|---|\n");
        plumb_buf_printf(out, "| `%s` | %s | ", plumb_json_str(r, "address", ""),
                         plumb_json_str(r, "status", ""));
        json_array_foreach(json_object_get(r, "differences"), j, d)
        {
            if (j == 3) {
                plumb_buf_printf(out, "and %zu more",
                                 json_array_size(json_object_get(r, "differences")) - 3);
                break;
            }
            plumb_buf_printf(out, "%s`%s`: ", j ? "; " : "", plumb_json_str(d, "path", ""));
            put_cell(out, json_object_get(d, "applied"));
            plumb_buf_puts(out, " → ");
            put_cell(out, json_object_get(d, "actual"));
        }
        plumb_buf_puts(out, " |\n");
    }
    json_array_foreach(json_object_get(report, "unmanaged"), i, r)
    {
        if (!rows++)
            plumb_buf_puts(out, "\n| resource | status | what differs (applied → AWS) |\n"
                                "|---|---|---|\n");
        plumb_buf_printf(out, "| `%s` | unmanaged | carries the project's tags, not in state |\n",
                         plumb_json_str(r, "arn", ""));
    }
    if (count(report, "pending"))
        plumb_buf_printf(out,
                         "\n_%lld pending configuration change%s (not drift): see `plumb "
                         "plan`._\n",
                         (long long)count(report, "pending"),
                         count(report, "pending") == 1 ? "" : "s");
}
