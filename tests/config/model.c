/*
 * The declarative model: loading projects and resolving environments. Each test writes a
 * small project into a temporary directory and checks the resolved values, or the exact
 * file:line:col and message of each problem.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/model.h"
#include "config/value.h"
#include "util/error.h"

static char dir[256];
/* the project a resolved model points into: freed with the model (free_model) */
static struct plumb_project *loaded;

static void free_model(struct plumb_model *m)
{
    plumb_model_free(m);
    plumb_project_free(loaded);
    loaded = NULL;
}

static void make_dir(void)
{
    snprintf(dir, sizeof(dir), "/tmp/plumb-model-test-%d", (int)getpid());
    mkdir(dir, 0700);
}

static void remove_dir(void)
{
    char cmd[300];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

static void write_file(const char *rel, const char *text)
{
    char path[512], sub[512], *slash;
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    snprintf(sub, sizeof(sub), "%s", path);
    for (slash = strchr(sub + strlen(dir) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        mkdir(sub, 0700);
        *slash = '/';
    }
    f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

/* Loads and resolves `env`; returns the diagnostics rendered as text (caller frees). */
static char *resolve(const char *env, struct plumb_model **model, const struct plumb_kvlist *vars)
{
    struct plumb_diags d = PLUMB_DIAGS_INIT;
    struct plumb_resolve_options opts = {0};
    struct plumb_project *p = NULL;
    struct plumb_model *m = NULL;
    char *text = NULL;
    size_t size = 0;
    FILE *f;

    opts.env = env;
    opts.cli_vars = vars;
    opts.account_id = "123456789012";
    if (plumb_project_load(&p, dir, dir, &d) == 0 || p)
        plumb_model_resolve(&m, p, &opts, &d);
    f = open_memstream(&text, &size);
    plumb_diags_sort(&d);
    plumb_diags_render(f, &d);
    fclose(f);
    plumb_diags_release(&d);
    if (model && m) {
        *model = m;
        loaded = p;
    } else {
        free_model(m);
        plumb_project_free(p);
    }
    /* strip the directory so expectations read "plumb.yaml:3:5" */
    {
        char *p2;
        size_t dl = strlen(dir) + 1;
        while ((p2 = strstr(text, dir)))
            memmove(p2, p2 + dl, strlen(p2 + dl) + 1);
    }
    return text;
}

/* Every expected line is in the output, and nothing else is. */
static void expect_problems(const char *yaml, const char *env, const char *const *lines)
{
    size_t n = 0, got_lines = 0;
    const char *p;
    char *got;

    write_file("plumb.yaml", yaml);
    got = resolve(env, NULL, NULL);
    for (; lines[n]; n++) {
        char want[1024];
        snprintf(want, sizeof(want), "%s\n", lines[n]);
        cr_expect(strstr(got, want) != NULL, "missing: %s\ngot:\n%s", lines[n], got);
    }
    for (p = got; *p; p++)
        got_lines += *p == '\n';
    cr_expect_eq(got_lines, n, "expected %zu problems, got:\n%s", n, got);
    free(got);
}

#define HEAD "project: demo\nenvironments:\n  stage: {}\n  prod: {}\n"

TestSuite(model, .init = make_dir, .fini = remove_dir);

Test(model, variables_env_then_cli_override)
{
    struct plumb_kvlist vars = PLUMB_KVLIST_INIT;
    struct plumb_model *m = NULL;
    const json_t *props;
    char *diags;

    write_file("plumb.yaml", "project: demo\n"
                             "vars: { count: 1, tag: latest, name: base }\n"
                             "environments:\n"
                             "  stage: {}\n"
                             "  prod: { vars: { count: 2 } }\n"
                             "resources:\n"
                             "  svc:\n"
                             "    type: AWS::ECS::Service\n"
                             "    properties:\n"
                             "      ServiceName: ${env}-${var.name}-${var.tag}\n"
                             "      DesiredCount: ${var.count}\n");
    diags = resolve("prod", &m, NULL);
    cr_assert_str_eq(diags, "");
    props = m->resources[0].properties;
    cr_expect_str_eq(json_string_value(json_object_get(props, "ServiceName")), "prod-base-latest");
    cr_expect_eq(json_integer_value(json_object_get(props, "DesiredCount")), 2);
    cr_expect(json_is_integer(json_object_get(props, "DesiredCount")), "keeps its type");
    free(diags);
    free_model(m);

    plumb_kvlist_add(&vars, "count", "5");
    plumb_kvlist_add(&vars, "tag", "v1.2");
    diags = resolve("prod", &m, &vars);
    cr_assert_str_eq(diags, "");
    props = m->resources[0].properties;
    cr_expect_eq(json_integer_value(json_object_get(props, "DesiredCount")), 5);
    cr_expect_str_eq(json_string_value(json_object_get(props, "ServiceName")), "prod-base-v1.2");
    free(diags);
    free_model(m);
    plumb_kvlist_release(&vars);
}

/* --var values are YAML scalars: quoted, they are strings without their quotes. */
Test(model, cli_variable_quoted_is_a_string)
{
    struct plumb_kvlist vars = PLUMB_KVLIST_INIT;
    struct plumb_model *m = NULL;
    char *diags;

    write_file("plumb.yaml",
               "project: demo\n"
               "vars: { debug: \"False\", port: 80, tag: latest }\n"
               "environments: { stage: {} }\n"
               "resources:\n"
               "  logs:\n"
               "    type: AWS::Logs::LogGroup\n"
               "    properties: { LogGroupName: \"/demo/${var.debug}${var.tag}\" }\n");
    plumb_kvlist_add(&vars, "debug", "\"True\"");
    plumb_kvlist_add(&vars, "port", "'8080'");
    plumb_kvlist_add(&vars, "tag", "\"\"");
    diags = resolve("stage", &m, &vars);
    cr_assert_str_eq(diags, "");
    cr_expect_str_eq(json_string_value(json_object_get(m->vars, "debug")), "True");
    cr_expect_str_eq(json_string_value(json_object_get(m->vars, "port")), "8080");
    cr_expect_str_eq(json_string_value(json_object_get(m->vars, "tag")), "");
    cr_expect_str_eq(json_string_value(json_object_get(m->resources[0].properties, "LogGroupName")),
                     "/demo/True");
    free(diags);
    free_model(m);
    plumb_kvlist_release(&vars);
}

Test(model, unknown_cli_variable)
{
    struct plumb_kvlist vars = PLUMB_KVLIST_INIT;
    char *diags;

    write_file("plumb.yaml", "project: demo\nvars: { count: 1 }\nenvironments: { stage: {} }\n");
    plumb_kvlist_add(&vars, "cuont", "5");
    diags = resolve("stage", NULL, &vars);
    cr_expect_str_eq(diags, "error: --var cuont: no variable 'cuont' is declared in 'vars' "
                            "(did you mean 'count'?)\n");
    free(diags);
    plumb_kvlist_release(&vars);
}

Test(model, references_keep_types_and_build_edges)
{
    struct plumb_model *m = NULL;
    const json_t *svc;
    long a, b;
    char *diags;

    write_file("plumb.yaml", HEAD "vars: { subnets: [subnet-1, subnet-2] }\n"
                                  "resources:\n"
                                  "  cluster:\n"
                                  "    type: AWS::ECS::Cluster\n"
                                  "    properties: { ClusterName: 'c-${env}' }\n"
                                  "  svc:\n"
                                  "    type: AWS::ECS::Service\n"
                                  "    properties:\n"
                                  "      Cluster: ${cluster.Arn}\n"
                                  "      ServiceName: on-${cluster.ClusterName}\n"
                                  "      NetworkConfiguration:\n"
                                  "        AwsvpcConfiguration: { Subnets: '${var.subnets}' }\n");
    diags = resolve("stage", &m, NULL);
    cr_assert_str_eq(diags, "");
    a = plumb_model_find(m, "cluster");
    b = plumb_model_find(m, "svc");
    cr_assert(a >= 0 && b >= 0);
    svc = m->resources[b].properties;
    cr_expect(plumb_value_is_unknown(json_object_get(svc, "Cluster")),
              "an ARN is known after apply");
    cr_expect_str_eq(plumb_value_unknown_why(json_object_get(svc, "Cluster")), "cluster.Arn");
    cr_expect_str_eq(json_string_value(json_object_get(svc, "ServiceName")), "on-c-stage",
                     "a declared property is known before apply");
    cr_expect(
        json_is_array(json_object_get(
            json_object_get(json_object_get(svc, "NetworkConfiguration"), "AwsvpcConfiguration"),
            "Subnets")),
        "a whole ${} keeps the list");
    cr_expect_eq(m->order[0], (size_t)a, "dependencies first");
    cr_expect_eq(m->order[1], (size_t)b);
    free(diags);
    free_model(m);
}

Test(model, secrets_are_sensitive_wherever_they_flow)
{
    struct plumb_model *m = NULL;
    const json_t *db;
    char *diags;

    setenv("PLUMB_TEST_DB_PASSWORD", "hunter2-secret", 1);
    write_file("plumb.yaml", HEAD "resources:\n"
                                  "  db:\n"
                                  "    type: AWS::RDS::DBInstance\n"
                                  "    properties:\n"
                                  "      MasterUserPassword: ${secret.env.PLUMB_TEST_DB_PASSWORD}\n"
                                  "      DBName: pre-${secret.env.PLUMB_TEST_DB_PASSWORD}\n");
    diags = resolve("stage", &m, NULL);
    cr_assert_str_eq(diags, "");
    db = m->resources[0].properties;
    cr_expect(plumb_value_is_sensitive(json_object_get(db, "MasterUserPassword")));
    cr_expect_str_eq(
        json_string_value(plumb_value_unwrap(json_object_get(db, "MasterUserPassword"))),
        "hunter2-secret");
    cr_expect(plumb_value_is_sensitive(json_object_get(db, "DBName")),
              "a string built from a secret is a secret");
    free(diags);
    free_model(m);
}

Test(model, escapes_and_aws_values)
{
    struct plumb_model *m = NULL;
    const json_t *r;
    char *diags;

    write_file("plumb.yaml", "project: demo\nregion: eu-west-1\nenvironments: { stage: {} }\n"
                             "resources:\n"
                             "  api_secret:\n"
                             "    type: AWS::SecretsManager::Secret\n"
                             "    properties:\n"
                             "      Description: /x/${aws.account_id}/${aws.region}/$${literal}\n");
    diags = resolve("stage", &m, NULL);
    cr_assert_str_eq(diags, "", "%s", diags);
    r = m->resources[0].properties;
    cr_expect_str_eq(json_string_value(json_object_get(r, "Description")),
                     "/x/123456789012/eu-west-1/${literal}");
    free(diags);
    free_model(m);
}

Test(model, resource_environments_filter)
{
    struct plumb_model *m = NULL;
    char *diags;

    write_file("plumb.yaml", HEAD "resources:\n"
                                  "  only_stage:\n"
                                  "    type: AWS::ECS::Cluster\n"
                                  "    environments: [stage]\n"
                                  "  everywhere:\n"
                                  "    type: AWS::ECS::Cluster\n");
    diags = resolve("prod", &m, NULL);
    cr_assert_str_eq(diags, "");
    cr_expect_eq(m->nresources, 1);
    cr_expect_str_eq(m->resources[0].address, "everywhere");
    free(diags);
    free_model(m);
}

Test(model, modules_inputs_outputs_and_addresses)
{
    struct plumb_model *m = NULL;
    const json_t *repo;
    long i;
    char *diags;

    write_file("mods/registry/plumb.yaml",
               "inputs:\n"
               "  name: {}\n"
               "  scan: { default: true }\n"
               "resources:\n"
               "  repo:\n"
               "    type: AWS::ECR::Repository\n"
               "    properties:\n"
               "      RepositoryName: ${var.name}\n"
               "      ImageScanningConfiguration: { ScanOnPush: '${var.scan}' }\n"
               "outputs:\n"
               "  uri: ${repo.RepositoryUri}\n"
               "  name: ${repo.RepositoryName}\n");
    write_file("plumb.yaml", HEAD "modules:\n"
                                  "  api:\n"
                                  "    source: ./mods/registry\n"
                                  "    inputs: { name: '${env}-api' }\n"
                                  "resources:\n"
                                  "  logs:\n"
                                  "    type: AWS::Logs::LogGroup\n"
                                  "    properties: { LogGroupName: '/x/${module.api.name}' }\n"
                                  "outputs:\n"
                                  "  uri: ${module.api.uri}\n");
    diags = resolve("stage", &m, NULL);
    cr_assert_str_eq(diags, "", "%s", diags);
    i = plumb_model_find(m, "module.api.repo");
    cr_assert(i >= 0);
    repo = m->resources[i].properties;
    cr_expect_str_eq(json_string_value(json_object_get(repo, "RepositoryName")), "stage-api");
    cr_expect(json_is_true(json_object_get(json_object_get(repo, "ImageScanningConfiguration"),
                                           "ScanOnPush")),
              "the input's default, with its type");
    i = plumb_model_find(m, "logs");
    cr_expect_str_eq(json_string_value(json_object_get(m->resources[i].properties, "LogGroupName")),
                     "/x/stage-api");
    cr_expect(plumb_value_is_unknown(json_object_get(m->outputs, "uri")));
    /* the log group depends on the module's repository through its output */
    {
        size_t n;
        const size_t *deps = plumb_graph_deps(m->graph, (size_t)i, &n);
        cr_assert_eq(n, 1);
        cr_expect_str_eq(m->resources[deps[0]].address, "module.api.repo");
    }
    free(diags);
    free_model(m);
}

Test(model, module_errors)
{
    static const char *const want[] = {
        /* reported for each instance: the module is used twice */
        "mods/m/plumb.yaml:3:61: error: module 'a' declares no input 'nmae' (did you mean "
        "'name'?)",
        "mods/m/plumb.yaml:3:61: error: module 'b' declares no input 'nmae' (did you mean "
        "'name'?)",
        "plumb.yaml:6:6: error: module 'a' needs input 'name'",
        "plumb.yaml:7:45: error: module 'b' has no input 'extra'",
        "plumb.yaml:8:16: error: module 'c': no plumb.yaml in 'mods/nothing'",
        "plumb.yaml:12:33: error: module 'a' has no output 'out'",
        NULL,
    };
    write_file("mods/m/plumb.yaml",
               "inputs: { name: {} }\n"
               "resources:\n"
               "  r: { type: AWS::ECS::Cluster, properties: { ClusterName: '${var.nmae}' } }\n");
    expect_problems(HEAD "modules:\n"
                         "  a: { source: ./mods/m }\n"
                         "  b: { source: ./mods/m, inputs: { name: x, extra: y } }\n"
                         "  c: { source: ./mods/nothing }\n"
                         "resources:\n"
                         "  x:\n"
                         "    type: AWS::ECS::Cluster\n"
                         "    properties: { ClusterName: '${module.a.out}' }\n",
                    "stage", want);
}

Test(model, module_cycle)
{
    static const char *const want[] = {
        "mods/loop/plumb.yaml:2:20: error: module cycle: 'again' includes itself (mods/loop <- "
        "mods/loop)",
        NULL,
    };
    write_file("mods/loop/plumb.yaml", "modules:\n  again: { source: ../loop }\n");
    expect_problems(HEAD "modules:\n  first: { source: ./mods/loop }\n", "stage", want);
}

Test(model, every_problem_in_one_run)
{
    static const char *const want[] = {
        "plumb.yaml:2:1: error: unknown key 'regoin' in plumb.yaml (did you mean 'region'?)",
        "plumb.yaml:10:11: error: unknown resource type 'AWS::ECR::Repositry' (did you mean "
        "'AWS::ECR::Repository'?)",
        "plumb.yaml:14:7: error: resource 'db': unknown property 'DBInstanceClas' of "
        "AWS::RDS::DBInstance (did you mean 'DBInstanceClass'?)",
        "plumb.yaml:15:25: error: resource 'db': 'AllocatedStorage' must be a string, not a list",
        "plumb.yaml:16:15: error: unknown variable 'engine' in environment 'stage'",
        "plumb.yaml:17:13: error: '${cache.Port}' refers to unknown resource 'cache'",
        "plumb.yaml:18:15: error: '${svc.Nope}': AWS::ECS::Service has no attribute 'Nope' (did "
        "you mean 'Name'?)",
        "plumb.yaml:19:3: error: dependency cycle: a -> b -> a",
        "plumb.yaml:25:35: error: unterminated '${': missing '}'",
        "plumb.yaml:25:60: error: resource 'b': 'RetentionInDays' is '8'; expected one of: 1, 3, "
        "5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...",
        "plumb.yaml:28:18: error: 'depends_on' names unknown resource 'servce' (did you mean "
        "'svc'?)",
        "plumb.yaml:30:21: error: resource 'svc': 'DesiredCount' must be an integer, not a string",
        "plumb.yaml:31:19: error: resource 'svc': 'LaunchType' is 'FARGATES'; expected one of: "
        "EC2, FARGATE, EXTERNAL",
        "plumb.yaml:32:7: error: resource 'svc': 'ServiceArn' is read-only: AWS sets it, it "
        "cannot be declared",
        NULL,
    };
    expect_problems("project: demo\n"                                                    /* 1 */
                    "regoin: us-east-1\n"                                                /* 2 */
                    "vars:\n"                                                            /* 3 */
                    "  count: 2\n"                                                       /* 4 */
                    "environments:\n"                                                    /* 5 */
                    "  stage: {}\n"                                                      /* 6 */
                    "resources:\n"                                                       /* 7 */
                    "  repo:\n"                                                          /* 8 */
                    "    # a comment line\n"                                             /* 9 */
                    "    type: AWS::ECR::Repositry\n"                                    /* 10 */
                    "  db:\n"                                                            /* 11 */
                    "    type: AWS::RDS::DBInstance\n"                                   /* 12 */
                    "    properties:\n"                                                  /* 13 */
                    "      DBInstanceClas: db.t3.micro\n"                                /* 14 */
                    "      AllocatedStorage: [1]\n"                                      /* 15 */
                    "      Engine: ${var.engine}\n"                                      /* 16 */
                    "      Port: ${cache.Port}\n"                                        /* 17 */
                    "      DBName: ${svc.Nope}\n"                                        /* 18 */
                    "  a:\n"                                                             /* 19 */
                    "    type: AWS::Logs::LogGroup\n"                                    /* 20 */
                    "    properties: { LogGroupName: \"${b.LogGroupName}\" }\n"          /* 21 */
                    "  b:\n"                                                             /* 22 */
                    "    type: AWS::Logs::LogGroup\n"                                    /* 23 */
                    "    depends_on: [a]\n"                                              /* 24 */
                    "    properties: { LogGroupName: \"x${env\", RetentionInDays: 8 }\n" /* 25 */
                    "  svc:\n"                                                           /* 26 */
                    "    type: AWS::ECS::Service\n"                                      /* 27 */
                    "    depends_on: [servce]\n"                                         /* 28 */
                    "    properties:\n"                                                  /* 29 */
                    "      DesiredCount: \"two\"\n"                                      /* 30 */
                    "      LaunchType: FARGATES\n"                                       /* 31 */
                    "      ServiceArn: arn:x\n"                                          /* 32 */
                    ,
                    "stage", want);
}

/* Patterns of the shape ^[class]{m,n}$ are checked as the class plus a length bound (schema.c,
 * translate_bounded_class): the bound still holds, at its edges. */
Test(model, patterns_hold_their_length_bounds)
{
    char yaml[4096], *got, long_ok[513], long_bad[514];
    const char *p;
    size_t lines = 0;

    memset(long_ok, 'a', 512);
    long_ok[512] = '\0';
    memset(long_bad, 'a', 513);
    long_bad[513] = '\0';
    snprintf(yaml, sizeof(yaml),
             HEAD "resources:\n"
                  "  ok: { type: AWS::Logs::LogGroup, properties: { LogGroupName: /a-b_c.d#e } }\n"
                  "  edge: { type: AWS::Logs::LogGroup, properties: { LogGroupName: %s } }\n"
                  "  over: { type: AWS::Logs::LogGroup, properties: { LogGroupName: %s } }\n"
                  "  space: { type: AWS::Logs::LogGroup, properties: { LogGroupName: 'a b' } }\n",
             long_ok, long_bad);
    write_file("plumb.yaml", yaml);
    got = resolve("stage", NULL, NULL);
    cr_expect(strstr(got, "resource 'over': 'LogGroupName' value 'aaaa") != NULL, "%s", got);
    cr_expect(strstr(got, "resource 'space': 'LogGroupName' value 'a b' does not match "
                          "^[.\\-_/#A-Za-z0-9]{1,512}\\Z") != NULL,
              "%s", got);
    cr_expect(strstr(got, "resource 'ok'") == NULL, "%s", got);
    cr_expect(strstr(got, "resource 'edge'") == NULL, "%s", got);
    for (p = got; *p; p++)
        lines += *p == '\n';
    /* over: longer than 512, and does not match; space: does not match */
    cr_expect_eq(lines, 3, "%s", got);
    free(got);
}
