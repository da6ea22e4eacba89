/*
 * libFuzzer target for saved plans (tests/fuzz/run.sh planfile), what `plumb apply FILE`
 * reads: any file must be accepted or refused with PLUMB_EINVALID, and an accepted one must
 * hold up under plumb_plan_check_saved, which relies on what parsing checked. The plan the
 * file describes must pass the check; one state change later, or with one more change, it
 * must not.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/plan.h"
#include "util/error.h"

#define NAME "fuzz.plan.json"

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "broken promise: %s\n", what);
        abort();
    }
}

static enum plumb_action action_of(const char *name)
{
    int a;

    for (a = PLUMB_ACTION_NOOP; a <= PLUMB_ACTION_DELETE; a++)
        if (strcmp(name, plumb_action_name((enum plumb_action)a)) == 0)
            return (enum plumb_action)a;
    check(0, "every action parsed is one plumb knows");
    return PLUMB_ACTION_NOOP;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct plumb_plan now;
    json_t *doc = NULL;
    const json_t *st, *c;
    size_t i;
    int rc;

    rc = plumb_plan_parse_saved(&doc, (const char *)data, size, NAME);
    check(rc == 0 || rc == PLUMB_EINVALID, "only invalid input fails");
    check((rc == 0) == (doc != NULL), "a document exactly on success");
    if (rc < 0) {
        check(strstr(plumb_error_message(), NAME) != NULL, "a refusal names the file");
        return 0;
    }

    /* The plan the file describes; the strings are borrowed from the document. */
    memset(&now, 0, sizeof(now));
    st = json_object_get(doc, "state");
    now.lineage = (char *)json_string_value(json_object_get(st, "lineage"));
    now.serial = (long)json_integer_value(json_object_get(st, "serial"));
    now.config_hash = (char *)json_string_value(json_object_get(doc, "config_hash"));
    now.changes =
        calloc(json_array_size(json_object_get(doc, "changes")) + 1, sizeof(*now.changes));
    check(now.changes != NULL, "memory");
    json_array_foreach(json_object_get(doc, "changes"), i, c)
    {
        now.changes[i].address = (char *)json_string_value(json_object_get(c, "address"));
        now.changes[i].action = action_of(json_string_value(json_object_get(c, "action")));
    }
    now.nchanges = i;

    check(plumb_plan_check_saved(doc, &now, NAME) == 0, "a plan matches the file made of it");
    now.serial ^= 1;
    check(plumb_plan_check_saved(doc, &now, NAME) == PLUMB_ECONFLICT, "a moved state is stale");
    now.serial ^= 1;
    now.changes[now.nchanges].address = "fuzz.extra";
    now.changes[now.nchanges].action = PLUMB_ACTION_CREATE;
    now.nchanges++;
    check(plumb_plan_check_saved(doc, &now, NAME) == PLUMB_ECONFLICT, "one more change differs");

    free(now.changes);
    json_decref(doc);
    return 0;
}
