/* Saved plans (src/plan/saved.c): what `plumb apply FILE` accepts, refuses, and checks against
 * the plan it makes now. Files from anywhere; tests/fuzz/fuzz_planfile.c fuzzes the same. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "plan/plan.h"
#include "util/error.h"

#define HEAD "{\"format_version\": \"1\", \"state\": {\"lineage\": \"l-1\", \"serial\": 3}, "

static json_t *parse_ok(const char *text)
{
    json_t *doc = NULL;

    cr_assert_eq(plumb_plan_parse_saved(&doc, text, strlen(text), "plan.json"), 0, "%s",
                 plumb_error_message());
    cr_assert_not_null(doc);
    return doc;
}

static const char *parse_fails(const char *text)
{
    json_t *doc = (json_t *)1;

    cr_assert_eq(plumb_plan_parse_saved(&doc, text, strlen(text), "plan.json"), PLUMB_EINVALID,
                 "accepted: %s", text);
    cr_assert_null(doc);
    return plumb_error_message();
}

Test(plan_saved, refuses_what_is_not_a_plan)
{
    cr_assert_str_eq(parse_fails("{\"format_version\": \"1\""),
                     "plan.json:1:22: not a plumb plan: '}' expected near end of file");
    cr_assert_str_eq(parse_fails("[]"), "plan.json: not a plumb plan: no 'format_version'");
    cr_assert_str_eq(parse_fails("{\"format_version\": \"2\"}"),
                     "plan.json: plan format 2 is not one this plumb reads (1)");
    cr_assert_str_eq(parse_fails(HEAD "\"changes\": []}"),
                     "plan.json: not a plumb plan: no 'config_hash'");
    cr_assert_str_eq(parse_fails("{\"format_version\": \"1\", \"state\": {\"serial\": \"3\"}, "
                                 "\"config_hash\": \"h\", \"changes\": []}"),
                     "plan.json: not a plumb plan: 'state' must hold a lineage and a serial");
    cr_assert_str_eq(parse_fails(HEAD "\"config_hash\": \"h\", \"changes\": {}}"),
                     "plan.json: not a plumb plan: 'changes' must be an array");
}

/* apply used to compare these with strcmp unchecked: a plan file with a number for an action
 * (tests/fuzz/corpus/planfile/crash-action-not-string.json) crashed it. */
Test(plan_saved, refuses_changes_without_address_or_action)
{
    const char *want = "plan.json: not a plumb plan: 'changes[1]' must have an address and an "
                       "action (create, update, replace, delete or no-op)";

    cr_assert_str_eq(parse_fails(HEAD "\"config_hash\": \"h\", \"changes\": [{\"address\": "
                                      "\"a\", \"action\": \"create\"}, {\"address\": \"b\", "
                                      "\"action\": 5}]}"),
                     want);
    cr_assert_str_eq(parse_fails(HEAD "\"config_hash\": \"h\", \"changes\": [{\"address\": "
                                      "\"a\", \"action\": \"no-op\"}, {\"action\": \"delete\"}]}"),
                     want);
    cr_assert_str_eq(parse_fails(HEAD "\"config_hash\": \"h\", \"changes\": [{\"address\": "
                                      "\"a\", \"action\": \"create\"}, {\"address\": \"b\", "
                                      "\"action\": \"destroy\"}]}"),
                     want);
}

Test(plan_saved, checks_against_the_plan_made_now)
{
    struct plumb_change changes[2] = {{0}};
    struct plumb_plan now;
    json_t *doc = parse_ok(HEAD "\"config_hash\": \"h\", \"changes\": [{\"address\": \"a\", "
                                "\"action\": \"no-op\"}, {\"address\": \"b\", \"action\": "
                                "\"update\"}]}");

    memset(&now, 0, sizeof(now));
    now.lineage = "l-1";
    now.serial = 3;
    now.config_hash = "h";
    now.changes = changes;
    now.nchanges = 2;
    changes[0].address = "a";
    changes[0].action = PLUMB_ACTION_NOOP;
    changes[1].address = "b";
    changes[1].action = PLUMB_ACTION_UPDATE;
    cr_assert_eq(plumb_plan_check_saved(doc, &now, "plan.json"), 0, "%s", plumb_error_message());

    changes[1].action = PLUMB_ACTION_REPLACE;
    cr_assert_eq(plumb_plan_check_saved(doc, &now, "plan.json"), PLUMB_ECONFLICT);
    cr_assert_str_eq(plumb_error_message(),
                     "plan.json no longer matches what apply would do: plan again");
    changes[1].action = PLUMB_ACTION_UPDATE;
    now.serial = 4;
    cr_assert_eq(plumb_plan_check_saved(doc, &now, "plan.json"), PLUMB_ECONFLICT);
    cr_assert_str_eq(plumb_error_message(), "plan.json is stale: state changed since it was made "
                                            "(serial 3, now 4): plan again");
    now.serial = 3;
    now.lineage = NULL;
    cr_assert_eq(plumb_plan_check_saved(doc, &now, "plan.json"), PLUMB_ECONFLICT);
    json_decref(doc);
}

Test(plan_saved, loads_a_file)
{
    char path[64];
    json_t *doc = NULL;
    FILE *f;

    snprintf(path, sizeof(path), "/tmp/plumb-saved-test-%d.json", (int)getpid());
    f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(HEAD "\"config_hash\": \"h\", \"changes\": []}\n", f);
    fclose(f);
    cr_assert_eq(plumb_plan_load_saved(&doc, path), 0, "%s", plumb_error_message());
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(doc, "state"), "serial")), 3);
    json_decref(doc);
    unlink(path);
    cr_assert_eq(plumb_plan_load_saved(&doc, path), PLUMB_EINVALID);
    cr_assert_null(doc);
    cr_assert(strstr(plumb_error_message(), "unable to open '/tmp/plumb-saved-test-"));
}
