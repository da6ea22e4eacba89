/* The plan for people (Terraform's layout, which operators know) and for machines (JSON). */
#include <string.h>

#include "config/value.h"
#include "plan/plan.h"
#include "schema/schema.h"
#include "util/error.h"

#define GREEN  "\033[32m"
#define YELLOW "\033[33m"
#define RED    "\033[31m"
#define BOLD   "\033[1m"
#define RESET  "\033[0m"

struct out {
    struct plumb_buf *b;
    int color;
};

static void put_color(struct out *o, const char *code)
{
    if (o->color)
        plumb_buf_puts(o->b, code);
}

static void indent(struct out *o, int n)
{
    static const char spaces[] = "                                ";

    for (; n > (int)sizeof(spaces) - 1; n -= (int)sizeof(spaces) - 1)
        plumb_buf_put(o->b, spaces, sizeof(spaces) - 1);
    if (n > 0)
        plumb_buf_put(o->b, spaces, (size_t)n);
}

static void put_value(struct out *o, const json_t *v, int depth);

static void put_scalar(struct out *o, const json_t *v)
{
    char small[256], *text;
    size_t n;

    if (!v || json_is_null(v)) {
        plumb_buf_puts(o->b, "null");
        return;
    }
    if (plumb_value_is_unknown(v)) {
        plumb_buf_puts(o->b, "(known after apply)");
        return;
    }
    if (plumb_value_is_sensitive(v) || json_object_get(v, PLUMB_STATE_FINGERPRINT_KEY)) {
        plumb_buf_puts(o->b, "(sensitive)");
        return;
    }
    /* most values fit on the stack: no allocation for each of a large plan's lines */
    n = json_dumpb(v, small, sizeof(small), JSON_ENCODE_ANY | JSON_COMPACT);
    if (n > 0 && n <= sizeof(small)) {
        plumb_buf_put(o->b, small, n);
        return;
    }
    text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    plumb_buf_puts(o->b, text ? text : "?");
    free(text);
}

static int is_leaf(const json_t *v)
{
    return !(json_is_object(v) || json_is_array(v)) || plumb_value_is_unknown(v) ||
           plumb_value_is_sensitive(v) || json_object_get(v, PLUMB_STATE_FINGERPRINT_KEY);
}

static void put_value(struct out *o, const json_t *v, int depth)
{
    const char *k;
    json_t *x;
    size_t i;

    if (is_leaf(v)) {
        put_scalar(o, v);
        return;
    }
    if (json_is_object(v)) {
        if (!json_object_size(v)) {
            plumb_buf_puts(o->b, "{}");
            return;
        }
        plumb_buf_puts(o->b, "{\n");
        json_object_foreach((json_t *)v, k, x)
        {
            indent(o, depth + 4);
            plumb_buf_puts(o->b, k);
            plumb_buf_puts(o->b, " = ");
            put_value(o, x, depth + 4);
            plumb_buf_putc(o->b, '\n');
        }
        indent(o, depth);
        plumb_buf_putc(o->b, '}');
        return;
    }
    if (!json_array_size(v)) {
        plumb_buf_puts(o->b, "[]");
        return;
    }
    plumb_buf_puts(o->b, "[\n");
    json_array_foreach(v, i, x)
    {
        indent(o, depth + 4);
        put_value(o, x, depth + 4);
        plumb_buf_puts(o->b, ",\n");
    }
    indent(o, depth);
    plumb_buf_putc(o->b, ']');
}

static void put_attributes(struct out *o, const char *sign, const char *color, const json_t *props)
{
    const char *k;
    json_t *v;

    json_object_foreach((json_t *)props, k, v)
    {
        indent(o, 6);
        put_color(o, color);
        plumb_buf_puts(o->b, sign);
        put_color(o, RESET);
        plumb_buf_putc(o->b, ' ');
        plumb_buf_puts(o->b, k);
        plumb_buf_puts(o->b, " = ");
        put_value(o, v, 8);
        plumb_buf_putc(o->b, '\n');
    }
}

static void render_change(struct out *o, const struct plumb_change *c)
{
    const struct plumb_schema_type *t = plumb_schema_find(c->type);
    const char *head, *color, *sign, *what;
    const json_t *d, *attrs;
    size_t i;

    switch (c->action) {
    case PLUMB_ACTION_CREATE:
        head = "  +", color = GREEN, sign = "+";
        what = c->gone ? "will be created (it was deleted outside plumb)" : "will be created";
        break;
    case PLUMB_ACTION_UPDATE:
        head = "  ~", color = YELLOW, sign = "~", what = "will be updated in place";
        break;
    case PLUMB_ACTION_REPLACE:
        head = "-/+", color = RED, sign = "~";
        what = c->create_before_destroy ? "must be replaced (the new one is created first)"
                                        : "must be replaced";
        break;
    case PLUMB_ACTION_DELETE:
        head = "  -", color = RED, sign = "-", what = "will be destroyed";
        break;
    default:
        return;
    }
    plumb_buf_puts(o->b, "  ");
    put_color(o, BOLD);
    plumb_buf_printf(o->b, "# %s", c->address);
    put_color(o, RESET);
    plumb_buf_printf(o->b, " %s\n", what);
    put_color(o, color);
    plumb_buf_puts(o->b, head);
    put_color(o, RESET);
    plumb_buf_printf(o->b, " resource \"%s\" \"%s\" {\n", c->type, c->address);

    if (c->action == PLUMB_ACTION_CREATE) {
        put_attributes(o, "+", GREEN, c->after);
        /* what AWS will compute, so references to it read naturally */
        attrs = t ? json_object_get(json_object_get(t->doc, "plumb"), "attributes") : NULL;
        json_array_foreach(attrs, i, d)
        {
            if (!json_is_string(d) || strchr(json_string_value(d), '.'))
                continue;
            indent(o, 6);
            put_color(o, GREEN);
            plumb_buf_puts(o->b, "+");
            put_color(o, RESET);
            plumb_buf_printf(o->b, " %s = (known after apply)\n", json_string_value(d));
        }
    } else if (c->action == PLUMB_ACTION_DELETE) {
        put_attributes(o, "-", RED, c->before);
    } else {
        json_array_foreach(c->diffs, i, d)
        {
            const json_t *before = json_object_get(d, "before"),
                         *after = json_object_get(d, "after");
            indent(o, 6);
            put_color(o, YELLOW);
            plumb_buf_puts(o->b, sign);
            put_color(o, RESET);
            plumb_buf_printf(o->b, " %s = ", json_string_value(json_object_get(d, "path")));
            put_value(o, json_is_null(before) ? NULL : before, 8);
            plumb_buf_puts(o->b, " -> ");
            put_value(o, after, 8);
            if (json_is_true(json_object_get(d, "forces_replacement"))) {
                put_color(o, RED);
                plumb_buf_puts(o->b, " # forces replacement");
                put_color(o, RESET);
            }
            plumb_buf_putc(o->b, '\n');
        }
    }
    plumb_buf_puts(o->b, "    }\n\n");
}

void plumb_plan_render(struct plumb_buf *out, const struct plumb_plan *p, int color)
{
    struct out o = {out, color};
    size_t i;

    if (!p->add && !p->change && !p->destroy) {
        plumb_buf_printf(out, "No changes. Environment '%s' matches the configuration.\n", p->env);
        return;
    }
    plumb_buf_puts(out, "plumb will perform the following actions:\n\n");
    for (i = 0; i < p->nchanges; i++)
        render_change(&o, &p->changes[i]);
    put_color(&o, BOLD);
    plumb_buf_printf(out, "Plan: %zu to add, %zu to change, %zu to destroy.", p->add, p->change,
                     p->destroy);
    put_color(&o, RESET);
    plumb_buf_putc(out, '\n');
}

json_t *plumb_plan_to_json(const struct plumb_plan *p, struct plumb_state *st)
{
    json_t *doc, *changes = json_array(), *empty = json_object();
    size_t i;

    for (i = 0; i < p->nchanges; i++) {
        const struct plumb_change *c = &p->changes[i];
        json_t *j = json_pack("{s:s, s:s, s:s}", "address", c->address, "type", c->type, "action",
                              plumb_action_name(c->action));
        if (c->id)
            json_object_set(j, "id", c->id);
        if (c->before)
            json_object_set_new(j, "before", plumb_state_protect(st, c->before));
        if (c->after)
            json_object_set_new(j, "after", plumb_state_protect(st, c->after));
        if (c->diffs)
            json_object_set_new(j, "diffs", plumb_state_protect(st, c->diffs));
        if (c->replace_because && json_array_size(c->replace_because))
            json_object_set(j, "replace_because", c->replace_because);
        if (c->action == PLUMB_ACTION_REPLACE)
            json_object_set_new(j, "create_before_destroy", json_boolean(c->create_before_destroy));
        if (c->gone)
            json_object_set_new(j, "deleted_outside_plumb", json_true());
        json_object_set(j, "depends_on", c->depends_on ? c->depends_on : json_array());
        json_array_append_new(changes, j);
    }
    doc = json_pack("{s:s, s:s, s:s, s:{s:s?, s:I}, s:s, s:o, s:{s:I, s:I, s:I}, s:o}",
                    "format_version", PLUMB_PLAN_FORMAT_VERSION, "plumb_version", PLUMB_VERSION,
                    "environment", p->env, "state", "lineage", p->lineage, "serial",
                    (json_int_t)p->serial, "config_hash", p->config_hash, "changes", changes,
                    "summary", "add", (json_int_t)p->add, "change", (json_int_t)p->change,
                    "destroy", (json_int_t)p->destroy, "outputs",
                    plumb_state_protect(st, p->outputs ? p->outputs : empty));
    json_decref(empty);
    return doc;
}
