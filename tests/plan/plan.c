/* The planner's comparisons (src/plan/plan.c), on a model loaded from a project directory and
 * state records written here: no AWS call. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/model.h"
#include "plan/plan.h"
#include "state/state.h"
#include "util/diag.h"

static char dir[256];
static struct plumb_project *project;
static struct plumb_model *model;
static struct plumb_state *state;

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/plumb-plan-test-%d", (int)getpid());
    mkdir(dir, 0700);
}

static void teardown(void)
{
    char cmd[300];

    plumb_state_close(state);
    plumb_model_free(model);
    plumb_project_free(project);
    state = NULL;
    model = NULL;
    project = NULL;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

TestSuite(plan, .init = setup, .fini = teardown);

/* Loads `yaml` as the project and resolves it for stage. */
static void load(const char *yaml)
{
    struct plumb_diags d = PLUMB_DIAGS_INIT;
    struct plumb_resolve_options opts = {0};
    char path[300], sdir[300];
    FILE *f;

    snprintf(path, sizeof(path), "%s/plumb.yaml", dir);
    f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(yaml, f);
    fclose(f);
    opts.env = "stage";
    opts.account_id = "123456789012";
    cr_assert_eq(plumb_project_load(&project, dir, dir, &d), 0);
    cr_assert_eq(plumb_model_resolve(&model, project, &opts, &d), 0);
    cr_assert_eq(d.n, 0);
    plumb_diags_release(&d);
    snprintf(sdir, sizeof(sdir), "%s/state", dir);
    cr_assert_eq(plumb_state_open(&state, sdir, 1), 0);
}

/* The plan's action for the only resource, given its state record. */
static enum plumb_action plan_one(json_t *records, struct plumb_plan **out)
{
    struct plumb_plan_input in;
    struct plumb_plan *p = NULL;

    memset(&in, 0, sizeof(in));
    in.model = model;
    in.state = state;
    in.records = records;
    cr_assert_eq(plumb_plan_build(&p, &in), 0);
    cr_assert_eq(p->nchanges, 1);
    if (getenv("PLAN_TEST_DEBUG")) {
        char *d = json_dumps(p->changes[0].diffs, 0);
        fprintf(stderr, "action %d diffs %s\n", p->changes[0].action, d ? d : "-");
        free(d);
    }
    *out = p;
    return p->changes[0].action;
}

static const char *const TG_YAML =
    "project: shop\n"
    "environments: { stage: {} }\n"
    "resources:\n"
    "  tg:\n"
    "    type: AWS::ElasticLoadBalancingV2::TargetGroup\n"
    "    properties:\n"
    "      Name: stage-api\n"
    "      Port: 80\n"
    "      Protocol: HTTP\n"
    "      VpcId: vpc-1\n"
    "      TargetGroupAttributes:\n"
    "        - { Key: deregistration_delay.timeout_seconds, Value: \"30\" }\n";

/* Last applied: what TG_YAML declares; what AWS reports: every attribute, the declared one
 * with `delay`. */
static json_t *tg_record(const char *delay)
{
    json_t *rec = json_pack("{s:s, s:{s:s}, s:{s:s, s:i, s:s, s:s}}", "type",
                            "AWS::ElasticLoadBalancingV2::TargetGroup", "id", "TargetGroupArn",
                            "arn:tg", "properties", "Name", "stage-api", "Port", 80, "Protocol",
                            "HTTP", "VpcId", "vpc-1");
    json_t *observed = json_deep_copy(json_object_get(rec, "properties"));

    json_object_set_new(observed, "TargetGroupAttributes",
                        json_pack("[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}]", "Key",
                                  "stickiness.enabled", "Value", "false", "Key",
                                  "deregistration_delay.timeout_seconds", "Value", delay, "Key",
                                  "slow_start.duration_seconds", "Value", "0"));
    json_object_set_new(rec, "observed", observed);
    return json_pack("{s:o}", "tg", rec);
}

Test(plan, partial_array_ignores_what_aws_adds)
{
    struct plumb_plan *p = NULL;
    json_t *records;

    load(TG_YAML);
    records = tg_record("30");
    cr_expect_eq(plan_one(records, &p), PLUMB_ACTION_NOOP,
                 "attributes the user did not declare are not drift");
    plumb_plan_free(p);
    json_decref(records);
}

Test(plan, partial_array_sees_a_declared_item_change)
{
    struct plumb_plan *p = NULL;
    json_t *records;

    load(TG_YAML);
    records = tg_record("300");
    cr_expect_eq(plan_one(records, &p), PLUMB_ACTION_UPDATE);
    cr_expect_eq(p->change, 1);
    cr_expect_eq(json_array_size(p->changes[0].diffs), 1);
    cr_expect_str_eq(
        json_string_value(json_object_get(json_array_get(p->changes[0].diffs, 0), "path")),
        "TargetGroupAttributes");
    plumb_plan_free(p);
    json_decref(records);
}

/* A resource refresh found deleted outside plumb is made again, also when planning from the
 * cached state (--refresh=false). */
Test(plan, gone_is_created_again)
{
    struct plumb_plan *p = NULL;
    json_t *records;

    load(TG_YAML);
    records = tg_record("30");
    json_object_set_new(json_object_get(records, "tg"), "observed", json_null());
    json_object_set_new(json_object_get(records, "tg"), "gone", json_true());
    cr_expect_eq(plan_one(records, &p), PLUMB_ACTION_CREATE);
    cr_expect(p->changes[0].gone);
    cr_expect_eq(p->add, 1);
    plumb_plan_free(p);
    json_decref(records);
}

/* A log group with `extra` properties after its name. */
#define LG_YAML(extra)                                                                             \
    "project: shop\n"                                                                              \
    "environments: { stage: {} }\n"                                                                \
    "resources:\n"                                                                                 \
    "  lg:\n"                                                                                      \
    "    type: AWS::Logs::LogGroup\n"                                                              \
    "    properties: { LogGroupName: /app" extra " }\n"

/* A log group's record: `properties` as last applied, `observed` as refresh read it. */
static json_t *lg_record(json_t *properties, json_t *observed)
{
    return json_pack("{s:{s:s, s:{s:s}, s:o, s:o}}", "lg", "type", "AWS::Logs::LogGroup", "id",
                     "LogGroupName", "/app", "properties", properties, "observed", observed);
}

/* A declared setting that refresh found removed outside plumb reads as null: an update that
 * puts it back, not the value last applied taken for what AWS has. */
Test(plan, a_setting_removed_outside_is_a_change)
{
    struct plumb_plan *p = NULL;
    json_t *records, *d;

    load(LG_YAML(", RetentionInDays: 14"));
    records = lg_record(json_pack("{s:s, s:i}", "LogGroupName", "/app", "RetentionInDays", 14),
                        json_pack("{s:s, s:n}", "LogGroupName", "/app", "RetentionInDays"));
    cr_expect_eq(plan_one(records, &p), PLUMB_ACTION_UPDATE);
    d = json_array_get(p->changes[0].diffs, 0);
    cr_expect_str_eq(json_string_value(json_object_get(d, "path")), "RetentionInDays");
    cr_expect(json_is_null(json_object_get(d, "before")));
    plumb_plan_free(p);
    json_decref(records);
}

/* ... and once it is no longer declared either, there is nothing to unset. */
Test(plan, a_null_no_longer_declared_is_no_change)
{
    struct plumb_plan *p = NULL;
    json_t *records;

    load(LG_YAML(""));
    records = lg_record(json_pack("{s:s, s:n}", "LogGroupName", "/app", "RetentionInDays"),
                        json_pack("{s:s, s:n}", "LogGroupName", "/app", "RetentionInDays"));
    cr_expect_eq(plan_one(records, &p), PLUMB_ACTION_NOOP);
    plumb_plan_free(p);
    json_decref(records);
}

/* A list declared empty matches a setting read as unset (null), as it matches one left out. */
Test(plan, an_empty_list_declared_matches_null)
{
    struct plumb_plan *p = NULL;
    json_t *records, *props;

    load("project: shop\n"
         "environments: { stage: {} }\n"
         "resources:\n"
         "  r:\n"
         "    type: AWS::IAM::Role\n"
         "    properties:\n"
         "      RoleName: r\n"
         "      AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [] }\n"
         "      ManagedPolicyArns: []\n");
    props = json_pack("{s:s, s:{s:s, s:[]}, s:[]}", "RoleName", "r", "AssumeRolePolicyDocument",
                      "Version", "2012-10-17", "Statement", "ManagedPolicyArns");
    records = json_pack("{s:{s:s, s:{s:s}, s:O, s:o}}", "r", "type", "AWS::IAM::Role", "id",
                        "RoleName", "r", "properties", props, "observed", json_deep_copy(props));
    json_object_set_new(json_object_get(json_object_get(records, "r"), "observed"),
                        "ManagedPolicyArns", json_null());
    cr_expect_eq(plan_one(records, &p), PLUMB_ACTION_NOOP);
    plumb_plan_free(p);
    json_decref(props);
    json_decref(records);
}

/* The configuration hash of `yaml`, loaded afresh. */
static void hash_of(const char *yaml, char out[72])
{
    plumb_model_free(model);
    plumb_project_free(project);
    plumb_state_close(state);
    model = NULL, project = NULL, state = NULL;
    load(yaml);
    cr_assert_eq(plumb_plan_config_hash(out, model, state), 0);
}

#define HASH_HEAD                                                                                  \
    "project: demo\nenvironments: { stage: {} }\nresources:\n  app:\n"                             \
    "    type: AWS::Logs::LogGroup\n    properties:\n"

/* The configuration hash a saved plan carries: a change of any value, a secret's included,
 * moves it; key order in the file does not. */
Test(plan, config_hash_sees_every_change_and_no_order)
{
    static const char *const first =
        HASH_HEAD "      LogGroupName: /x\n      RetentionInDays: 7\n"
                  "      Tags: [{ Key: k, Value: \"${secret.env.PLAN_TEST_SECRET}\" }]\n";
    static const char *const reordered =
        HASH_HEAD "      Tags: [{ Value: \"${secret.env.PLAN_TEST_SECRET}\", Key: k }]\n"
                  "      RetentionInDays: 7\n      LogGroupName: /x\n";
    static const char *const changed =
        HASH_HEAD "      Tags: [{ Value: \"${secret.env.PLAN_TEST_SECRET}\", Key: k }]\n"
                  "      RetentionInDays: 14\n      LogGroupName: /x\n";
    char a[72], b[72], c[72], d[72];

    setenv("PLAN_TEST_SECRET", "first", 1);
    hash_of(first, a);
    hash_of(reordered, b);
    cr_expect_str_eq(a, b);
    setenv("PLAN_TEST_SECRET", "second", 1);
    hash_of(reordered, c);
    cr_expect_str_neq(a, c, "a new secret value is a new configuration");
    hash_of(changed, d);
    cr_expect_str_neq(c, d);
    unsetenv("PLAN_TEST_SECRET");
}
