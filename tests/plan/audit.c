/* The audit's rules (src/plan/audit.c): each firing and not firing, waivers, the verdicts. A
 * model is loaded from a project written here; no AWS call. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/model.h"
#include "plan/audit.h"
#include "plan/plan.h"
#include "util/diag.h"

static char dir[256];

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/plumb-audit-test-%d", (int)getpid());
    mkdir(dir, 0700);
}

static void teardown(void)
{
    char cmd[300];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

TestSuite(audit, .init = setup, .fini = teardown);

/*
 * Audits `resources` (YAML under `resources:`) in environment `env` of a project with a
 * protected `prod`; `extra` is more top-level YAML (audit waivers). `plan` may be NULL.
 * Returns the report.
 */
static json_t *audit_of(const char *env, const char *resources, const char *extra,
                        const struct plumb_plan *plan)
{
    struct plumb_diags d = PLUMB_DIAGS_INIT;
    struct plumb_resolve_options opts = {0};
    struct plumb_project *project = NULL;
    struct plumb_model *model = NULL;
    json_t *report = NULL;
    char path[300];
    FILE *f;

    snprintf(path, sizeof(path), "%s/plumb.yaml", dir);
    f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(
        f, "project: shop\nenvironments:\n  stage: {}\n  prod: { protect: true }\n%sresources:\n%s",
        extra ? extra : "", resources);
    fclose(f);
    opts.env = env;
    opts.account_id = "123456789012";
    if (plumb_project_load(&project, dir, dir, &d) < 0 ||
        plumb_model_resolve(&model, project, &opts, &d) < 0)
        cr_assert_fail("the test project is not valid: %d:%d %s", d.n ? d.v[0].line : 0,
                       d.n ? d.v[0].col : 0, d.n ? d.v[0].message : "?");
    cr_assert_eq(d.n, 0, "the test project is valid: %s", d.n ? d.v[0].message : "");
    cr_assert_eq(plumb_audit_run(&report, model, plan), 0);
    plumb_diags_release(&d);
    plumb_model_free(model);
    plumb_project_free(project);
    return report;
}

/* "RULE@ADDRESS" of every finding, waived ones with a trailing "~", space-separated. */
static char *fired(const json_t *report)
{
    struct plumb_buf b = PLUMB_BUF_INIT;
    const json_t *f;
    size_t i;

    json_array_foreach(json_object_get(report, "findings"), i, f) plumb_buf_printf(
        &b, "%s%s@%s%s", i ? " " : "", json_string_value(json_object_get(f, "rule")),
        json_string_value(json_object_get(f, "resource")),
        json_is_true(json_object_get(f, "waived")) ? "~" : "");
    return plumb_buf_detach(&b);
}

static void expect_fired(const char *env, const char *resources, const char *extra,
                         const char *want, enum plumb_audit_verdict verdict)
{
    json_t *report = audit_of(env, resources, extra, NULL);
    char *got = fired(report);

    cr_expect_str_eq(got, want, "findings: want '%s', got '%s'", want, got);
    cr_expect_eq(plumb_audit_verdict(report), verdict, "verdict %s",
                 json_string_value(json_object_get(report, "verdict")));
    free(got);
    json_decref(report);
}

#define DB(extra)                                                                                  \
    "  db:\n    type: AWS::RDS::DBInstance\n    properties:\n      DBInstanceIdentifier: shop\n"   \
    "      Engine: postgres\n      DBInstanceClass: db.t3.micro\n      AllocatedStorage: "         \
    "\"20\"\n" extra

Test(audit, rds_in_a_protected_environment)
{
    /* everything missing: one failure and three warnings, and no prevent_destroy */
    expect_fired("prod", DB(""), NULL, "RDS001@db RDS003@db RDS004@db RDS005@db LIFE001@db",
                 PLUMB_AUDIT_NO_GO);
    /* done right: nothing */
    expect_fired("prod",
                 DB("      DeletionProtection: true\n      BackupRetentionPeriod: 7\n"
                    "      MultiAZ: true\n      StorageEncrypted: true\n"
                    "    lifecycle: { prevent_destroy: true }\n"),
                 NULL, "", PLUMB_AUDIT_GO);
    /* the same database in an unprotected environment: nothing */
    expect_fired("stage", DB(""), NULL, "", PLUMB_AUDIT_GO);
}

Test(audit, rds_public_anywhere)
{
    expect_fired("stage", DB("      PubliclyAccessible: true\n"), NULL, "RDS002@db",
                 PLUMB_AUDIT_NO_GO);
    expect_fired("stage", DB("      PubliclyAccessible: false\n"), NULL, "", PLUMB_AUDIT_GO);
}

#define ROLE(policies)                                                                             \
    "  role:\n    type: AWS::IAM::Role\n    properties:\n      RoleName: r\n"                      \
    "      AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: Allow, "       \
    "Principal: { Service: ecs-tasks.amazonaws.com }, Action: 'sts:AssumeRole' }] }\n" policies

Test(audit, iam_star_on_star)
{
    expect_fired("stage",
                 ROLE("      Policies:\n        - PolicyName: all\n          PolicyDocument:\n"
                      "            Statement: { Effect: Allow, Action: '*', Resource: '*' }\n"),
                 NULL, "IAM001@role", PLUMB_AUDIT_NO_GO);
    expect_fired("stage",
                 ROLE("      ManagedPolicyArns: [arn:aws:iam::aws:policy/AdministratorAccess]\n"),
                 NULL, "IAM001@role", PLUMB_AUDIT_NO_GO);
    /* everything on one bucket, or one action everywhere: not this rule */
    expect_fired("stage",
                 ROLE("      Policies:\n        - PolicyName: some\n          PolicyDocument:\n"
                      "            Statement:\n"
                      "              - { Effect: Allow, Action: ['s3:*'], Resource: '*' }\n"
                      "              - { Effect: Allow, Action: '*', Resource: 'arn:aws:s3:::b' }\n"
                      "              - { Effect: Deny, Action: '*', Resource: '*' }\n"
                      "      ManagedPolicyArns: [arn:aws:iam::aws:policy/ReadOnlyAccess]\n"),
                 NULL, "", PLUMB_AUDIT_GO);
}

#define SG(rules)                                                                                  \
    "  sg:\n    type: AWS::EC2::SecurityGroup\n    properties:\n      GroupDescription: d\n"       \
    "      SecurityGroupIngress:\n" rules

Test(audit, security_group_open_to_the_world)
{
    expect_fired(
        "stage",
        SG("        - { IpProtocol: tcp, FromPort: 80, ToPort: 80, CidrIp: 0.0.0.0/0 }\n"
           "        - { IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIpv6: '::/0' }\n"
           "        - { IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: 10.0.0.0/8 }\n"),
        NULL, "", PLUMB_AUDIT_GO);
    expect_fired("stage",
                 SG("        - { IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: 0.0.0.0/0 }\n"
                    "        - { IpProtocol: tcp, FromPort: 80, ToPort: 443, CidrIp: 0.0.0.0/0 }\n"
                    "        - { IpProtocol: '-1', CidrIpv6: '::/0' }\n"),
                 NULL, "SG001@sg SG001@sg SG001@sg", PLUMB_AUDIT_NO_GO);
}

#define POLICY(statement)                                                                          \
    "  policy:\n    type: AWS::S3::BucketPolicy\n    properties:\n      Bucket: site\n"            \
    "      PolicyDocument:\n        Version: '2012-10-17'\n        Statement:\n" statement

Test(audit, bucket_policies)
{
    expect_fired("stage",
                 POLICY("          - { Effect: Allow, Principal: '*', Action: 's3:PutObject', "
                        "Resource: 'arn:aws:s3:::site/*' }\n"),
                 NULL, "S3001@policy", PLUMB_AUDIT_NO_GO);
    expect_fired("stage",
                 POLICY("          - { Effect: Allow, Principal: { AWS: '*' }, Action: ['s3:*'], "
                        "Resource: 'arn:aws:s3:::site/*' }\n"),
                 NULL, "S3001@policy", PLUMB_AUDIT_NO_GO);
    /* public read: a warning (a website's policy) */
    expect_fired("stage",
                 POLICY("          - { Effect: Allow, Principal: '*', Action: 's3:GetObject', "
                        "Resource: 'arn:aws:s3:::site/*' }\n"),
                 NULL, "S3002@policy", PLUMB_AUDIT_CONDITIONAL);
    /* writes by a named principal: nothing */
    expect_fired("stage",
                 POLICY("          - { Effect: Allow, Principal: { AWS: "
                        "'arn:aws:iam::123456789012:role/ci' }, Action: 's3:PutObject', "
                        "Resource: 'arn:aws:s3:::site/*' }\n"),
                 NULL, "", PLUMB_AUDIT_GO);
}

#define TASK(env)                                                                                  \
    "  task:\n    type: AWS::ECS::TaskDefinition\n    properties:\n      Family: f\n"              \
    "      ContainerDefinitions:\n        - Name: app\n          Image: nginx\n"                   \
    "          Environment:\n" env

Test(audit, secrets_written_in_the_configuration)
{
    setenv("AUDIT_TEST_SECRET", "s3cr3t", 1);
    expect_fired(
        "stage",
        TASK("            - { Name: DB_PASSWORD, Value: hunter2 }\n"
             "            - { Name: API_TOKEN, Value: \"${var.token}\" }\n"
             "            - { Name: SECRET_KEY, Value: \"${secret.env.AUDIT_TEST_SECRET}\" }\n"
             "            - { Name: AWS_SECRET_NAME, Value: shop/stage }\n"
             "            - { Name: KMS_KEY_ID, Value: abc }\n"
             "            - { Name: DB_HOST, Value: db.internal }\n"),
        "vars: { token: abc123 }\n", "SEC001@task SEC001@task", PLUMB_AUDIT_NO_GO);
    unsetenv("AUDIT_TEST_SECRET");
    /* an unset secret is still a secret, not a literal */
    expect_fired("stage",
                 TASK("            - { Name: SECRET_KEY, Value: \"${secret.env.AUDIT_UNSET}\" }\n"),
                 NULL, "", PLUMB_AUDIT_GO);
}

Test(audit, app_runner_environment)
{
    expect_fired("stage",
                 "  svc:\n    type: AWS::AppRunner::Service\n    properties:\n"
                 "      SourceConfiguration:\n        ImageRepository:\n"
                 "          ImageIdentifier: public.ecr.aws/nginx/nginx:latest\n"
                 "          ImageRepositoryType: ECR_PUBLIC\n          ImageConfiguration:\n"
                 "            RuntimeEnvironmentVariables:\n"
                 "              - { Name: STRIPE_SECRET, Value: sk_live_1 }\n"
                 "              - { Name: DEBUG, Value: 'False' }\n",
                 NULL, "SEC001@svc", PLUMB_AUDIT_NO_GO);
}

Test(audit, warnings_of_everyday_resources)
{
    expect_fired("stage",
                 "  repo: { type: AWS::ECR::Repository, properties: { RepositoryName: rr } }\n"
                 "  logs: { type: AWS::Logs::LogGroup, properties: { LogGroupName: /l } }\n"
                 "  svc:\n    type: AWS::ECS::Service\n    properties: { ServiceName: s }\n",
                 NULL, "LOG001@logs ECR001@repo ECS001@svc", PLUMB_AUDIT_CONDITIONAL);
    expect_fired(
        "stage",
        "  repo:\n    type: AWS::ECR::Repository\n    properties:\n"
        "      RepositoryName: rr\n      ImageScanningConfiguration: { ScanOnPush: true }\n"
        "  logs: { type: AWS::Logs::LogGroup, properties: { LogGroupName: /l, "
        "RetentionInDays: 14 } }\n"
        "  svc:\n    type: AWS::ECS::Service\n    properties:\n      ServiceName: s\n"
        "      DeploymentConfiguration:\n"
        "        DeploymentCircuitBreaker: { Enable: true, Rollback: true }\n",
        NULL, "", PLUMB_AUDIT_GO);
}

Test(audit, waivers_are_listed_with_their_reason)
{
    const char *waive = "audit:\n  waive:\n"
                        "    - { rule: LOG001, resource: logs, reason: \"kept by law\" }\n"
                        "    - { rule: ECR001, reason: \"scanned in CI\" }\n";
    json_t *report;
    const json_t *f;
    size_t i;

    expect_fired("stage",
                 "  repo: { type: AWS::ECR::Repository, properties: { RepositoryName: rr } }\n"
                 "  logs: { type: AWS::Logs::LogGroup, properties: { LogGroupName: /l } }\n"
                 "  other: { type: AWS::Logs::LogGroup, properties: { LogGroupName: /o } }\n",
                 waive, "LOG001@logs~ LOG001@other ECR001@repo~", PLUMB_AUDIT_CONDITIONAL);
    /* everything waived: GO, the waivers still reported */
    report = audit_of("stage",
                      "  logs: { type: AWS::Logs::LogGroup, properties: { LogGroupName: /l } }\n",
                      waive, NULL);
    cr_expect_eq(plumb_audit_verdict(report), PLUMB_AUDIT_GO);
    cr_expect_eq(json_integer_value(json_object_get(json_object_get(report, "counts"), "waived")),
                 1);
    json_array_foreach(json_object_get(report, "findings"), i, f)
        cr_expect_str_eq(json_string_value(json_object_get(f, "waiver")), "kept by law");
    json_decref(report);
}

Test(audit, a_plan_destroying_data_in_a_protected_environment)
{
    struct plumb_change changes[2];
    struct plumb_plan plan;
    json_t *report;
    char *got;

    memset(changes, 0, sizeof(changes));
    memset(&plan, 0, sizeof(plan));
    changes[0].address = "old_db";
    changes[0].type = "AWS::RDS::DBInstance";
    changes[0].action = PLUMB_ACTION_DELETE;
    changes[1].address = "old_logs";
    changes[1].type = "AWS::Logs::LogGroup";
    changes[1].action = PLUMB_ACTION_UPDATE;
    plan.changes = changes;
    plan.nchanges = 2;
    report = audit_of("prod", "  {}\n", NULL, &plan);
    got = fired(report);
    cr_expect_str_eq(got, "PLAN001@old_db");
    cr_expect_eq(plumb_audit_verdict(report), PLUMB_AUDIT_NO_GO);
    free(got);
    json_decref(report);
    /* the same plan in an unprotected environment */
    report = audit_of("stage", "  {}\n", NULL, &plan);
    cr_expect_eq(plumb_audit_verdict(report), PLUMB_AUDIT_GO);
    json_decref(report);
}

Test(audit, every_rule_is_documented)
{
    json_t *rules = plumb_audit_rules();
    const json_t *r;
    char path[512], *doc = NULL;
    size_t i, n = 0;
    FILE *f;

    snprintf(path, sizeof(path), "%s/../docs/audit.md", TESTS_RESOURCES_DIR "/..");
    f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    doc = malloc(1 << 20);
    n = fread(doc, 1, (1 << 20) - 1, f);
    doc[n] = '\0';
    fclose(f);
    json_array_foreach(rules, i, r)
    {
        char anchor[64];
        snprintf(anchor, sizeof(anchor), "### %s", json_string_value(json_object_get(r, "id")));
        cr_expect(strstr(doc, anchor) != NULL, "docs/audit.md lacks '%s'", anchor);
    }
    cr_expect_eq(json_array_size(rules), 15);
    free(doc);
    json_decref(rules);
}
