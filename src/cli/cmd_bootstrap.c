/*
 * plumb bootstrap -e ENV [--from ENV]: an environment from nothing, in one command, and
 * nothing changed when run again.
 *
 *   1. --from OTHER, when ENV is not declared: ENV is added to plumb.yaml with OTHER's
 *      variables (if the user agrees);
 *   2. the state backend: with `state: { backend: s3 }`, the bucket and the lock table are made
 *      if missing, and a local state of ENV is moved into them;
 *   3. the CI identity, when `bootstrap: { github: { repository: org/name } }` is declared:
 *      the account's IAM OIDC provider for GitHub's token issuer, and a deploy role that
 *      trusts that repository;
 *   4. plan and apply of the environment, as `plumb apply` (asking unless --auto-approve).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/session.h"
#include "util/buf.h"
#include "util/error.h"

#define GITHUB_ISSUER   "token.actions.githubusercontent.com"
#define DEPLOY_POLICY   "arn:aws:iam::aws:policy/AdministratorAccess"
#define ROLE_NAME_LIMIT 64

/* ---- 1. a new environment from another's variables ----------------------------------------- */

/* `env: { vars: { ... } }` with `from`'s variables, as one YAML flow line. */
static int env_line(struct plumb_buf *out, const struct plumb_project *p, const char *env,
                    const char *from)
{
    const struct plumb_node *vars = plumb_node_get(plumb_project_env(p, from)->node, "vars");
    size_t i;

    plumb_buf_printf(out, "%s: { vars: {", env);
    for (i = 0; vars && vars->type == PLUMB_NODE_MAP && i < vars->n; i++) {
        const struct plumb_node *k = vars->pairs[i].key, *v = vars->pairs[i].value;
        if (v->type != PLUMB_NODE_SCALAR || strchr(v->scalar, '"') || strchr(v->scalar, '\\'))
            return plumb_error_set(PLUMB_EINVALID,
                                   "variable '%s' of '%s' is not a plain value: add '%s' to "
                                   "plumb.yaml by hand",
                                   k->scalar, from, env);
        plumb_buf_printf(out, "%s %s: %s%s%s", i ? "," : "", k->scalar, v->quoted ? "\"" : "",
                         v->scalar, v->quoted ? "\"" : "");
    }
    plumb_buf_puts(out, " } }");
    return 0;
}

/* The start of the line after the one `p` is in. */
static const char *next_line(const char *p)
{
    const char *nl = strchr(p, '\n');
    return nl ? nl + 1 : p + strlen(p);
}

/* Writes `line` into plumb.yaml as the first entry of `environments:`, at the indentation
 * of the entries: they must be a block mapping (`environments:` alone on its line). */
static int add_environment(const struct plumb_project *p, const char *line)
{
    struct plumb_buf text = PLUMB_BUF_INIT, out = PLUMB_BUF_INIT;
    const char *at, *key, *rest;
    char chunk[4096];
    FILE *f;
    int error = 0;
    size_t n;

    if (!(f = fopen(p->file, "r")))
        return plumb_error_set(PLUMB_ERROR, "unable to read '%s'", p->file);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        plumb_buf_put(&text, chunk, n);
    fclose(f);
    for (at = plumb_buf_cstr(&text); *at && strncmp(at, "environments:", 13) != 0;)
        at = next_line(at);
    for (rest = at + (*at ? 13 : 0); *rest == ' '; rest++)
        ;
    if (!*at || (*rest != '\n' && *rest != '#')) {
        error = plumb_error_set(PLUMB_EINVALID, "plumb.yaml's environments are not a block "
                                                "mapping: add the environment by hand");
        goto done;
    }
    /* the first entry: past blank and comment lines */
    for (at = next_line(at);; at = next_line(at)) {
        for (key = at; *key == ' '; key++)
            ;
        if (*key != '\n' && *key != '#')
            break;
    }
    if (key == at || !*key) {
        error = plumb_error_set(PLUMB_EINVALID, "plumb.yaml's environments are not a block "
                                                "mapping: add the environment by hand");
        goto done;
    }
    plumb_buf_put(&out, text.ptr, (size_t)(at - text.ptr));
    plumb_buf_put(&out, at, (size_t)(key - at));
    plumb_buf_printf(&out, "%s\n", line);
    plumb_buf_puts(&out, at);
    if (!(f = fopen(p->file, "w"))) {
        error = plumb_error_set(PLUMB_ERROR, "unable to write '%s'", p->file);
        goto done;
    }
    if (fputs(out.ptr, f) < 0)
        error = plumb_error_set(PLUMB_ERROR, "unable to write '%s'", p->file);
    if (fclose(f) != 0 && error == 0)
        error = plumb_error_set(PLUMB_ERROR, "unable to write '%s'", p->file);
done:
    plumb_buf_release(&text);
    plumb_buf_release(&out);
    return error;
}

static int from_env(struct plumb_cli *cli)
{
    struct plumb_project *p = NULL;
    struct plumb_diags d = PLUMB_DIAGS_INIT;
    struct plumb_buf line = PLUMB_BUF_INIT;
    const char *env = plumb_cli_opt(cli, "--env"), *from = plumb_cli_opt(cli, "--from");
    int code = PLUMB_EXIT_ERROR;

    if (plumb_cli_load_project(&p, cli, &d) < 0) {
        plumb_cli_render_diags(&d);
        goto done;
    }
    if (plumb_project_env(p, env)) {
        code = PLUMB_EXIT_OK; /* declared already: --from has nothing to add */
        goto done;
    }
    if (!plumb_project_env(p, from)) {
        fprintf(stderr, "plumb: --from names unknown environment '%s'\n", from);
        goto done;
    }
    if (env_line(&line, p, env, from) < 0) {
        plumb_cli_error(cli, NULL);
        goto done;
    }
    printf("Environment '%s' is not in plumb.yaml. From '%s', it would be:\n\n  %s\n\n", env, from,
           plumb_buf_cstr(&line));
    if (!plumb_cli_confirm(cli, "Add it to plumb.yaml?", "adding an environment"))
        goto done;
    if (add_environment(p, plumb_buf_cstr(&line)) < 0) {
        plumb_cli_error(cli, NULL);
        goto done;
    }
    printf("Added '%s' to plumb.yaml.\n", env);
    code = PLUMB_EXIT_OK;
done:
    plumb_buf_release(&line);
    plumb_diags_release(&d);
    plumb_project_free(p);
    return code;
}

/* ---- 3. the CI identity ------------------------------------------------------------------- */

static int github_provider(struct plumb_aws *aws, char **arn)
{
    json_t *out = NULL, *p, *in;
    const char *a;
    size_t i;
    int error;

    *arn = NULL;
    if ((error = plumb_aws_call(aws, "iam", "ListOpenIDConnectProviders", NULL, &out)) < 0)
        return error;
    json_array_foreach(json_object_get(out, "OpenIDConnectProviderList"), i, p)
    {
        a = json_string_value(json_object_get(p, "Arn"));
        if (a && strlen(a) > strlen(GITHUB_ISSUER) &&
            strcmp(a + strlen(a) - strlen(GITHUB_ISSUER), GITHUB_ISSUER) == 0) {
            *arn = strdup(a);
            printf("  = IAM OIDC provider %s (there already)\n", a);
            json_decref(out);
            return *arn ? 0 : plumb_error_oom();
        }
    }
    json_decref(out);
    out = NULL;
    /* no thumbprint: IAM trusts GitHub's issuer through its own certificate store */
    in = json_pack("{s:s, s:[s]}", "Url", "https://" GITHUB_ISSUER, "ClientIDList",
                   "sts.amazonaws.com");
    if (!in)
        return plumb_error_oom();
    error = plumb_aws_call(aws, "iam", "CreateOpenIDConnectProvider", in, &out);
    json_decref(in);
    if (error == 0) {
        a = json_string_value(json_object_get(out, "OpenIDConnectProviderArn"));
        *arn = a ? strdup(a) : NULL;
        printf("  + IAM OIDC provider %s\n", a ? a : "");
    }
    json_decref(out);
    return error;
}

static int deploy_role(struct plumb_session *s, const char *provider, const char *repo)
{
    struct plumb_buf name = PLUMB_BUF_INIT, sub = PLUMB_BUF_INIT;
    json_t *in = NULL, *out = NULL, *trust = NULL;
    char *doc = NULL;
    int error;

    plumb_buf_printf(&name, "%s-%s-github-deploy", s->project->name, s->env);
    if (name.len > ROLE_NAME_LIMIT) {
        name.len = ROLE_NAME_LIMIT;
        name.ptr[name.len] = '\0';
    }
    in = json_pack("{s:s}", "RoleName", name.ptr);
    PLUMB_ALLOC_CHECK(in);
    error = plumb_aws_call(s->aws, "iam", "GetRole", in, &out);
    json_decref(in);
    in = NULL;
    if (error == 0) {
        printf("  = IAM role %s (there already)\n",
               json_string_value(json_object_get(json_object_get(out, "Role"), "Arn")));
        goto done;
    }
    if (error != PLUMB_ENOTFOUND)
        goto done;
    plumb_buf_printf(&sub, "repo:%s:*", repo);
    trust = json_pack("{s:s, s:[{s:s, s:{s:s}, s:s, s:{s:{s:s}, s:{s:s}}}]}", "Version",
                      "2012-10-17", "Statement", "Effect", "Allow", "Principal", "Federated",
                      provider, "Action", "sts:AssumeRoleWithWebIdentity", "Condition",
                      "StringEquals", GITHUB_ISSUER ":aud", "sts.amazonaws.com", "StringLike",
                      GITHUB_ISSUER ":sub", sub.ptr);
    doc = trust ? json_dumps(trust, JSON_COMPACT) : NULL;
    PLUMB_ALLOC_CHECK(doc);
    json_decref(out);
    out = NULL;
    in = json_pack("{s:s, s:s, s:s, s:[{s:s, s:s}, {s:s, s:s}]}", "RoleName", name.ptr,
                   "AssumeRolePolicyDocument", doc, "Description",
                   "plumb bootstrap: GitHub Actions deploys of this environment", "Tags", "Key",
                   "plumb:project", "Value", s->project->name, "Key", "plumb:env", "Value", s->env);
    PLUMB_ALLOC_CHECK(in);
    {
        json_t *name_only = json_pack("{s:s}", "RoleName", name.ptr);
        PLUMB_ALLOC_CHECK(name_only);
        error =
            plumb_aws_create_settled(s->aws, "iam", "CreateRole", in, "GetRole", name_only, &out);
        json_decref(name_only);
        PLUMB_TRY(error);
    }
    json_decref(in);
    in = json_pack("{s:s, s:s}", "RoleName", name.ptr, "PolicyArn", DEPLOY_POLICY);
    PLUMB_ALLOC_CHECK(in);
    json_decref(out);
    out = NULL;
    PLUMB_TRY(plumb_aws_call(s->aws, "iam", "AttachRolePolicy", in, &out));
    printf("  + IAM role %s: trusts %s, %s\n", name.ptr, sub.ptr, DEPLOY_POLICY);
    printf("    (in the workflow: AWS_ROLE_ARN=arn:aws:iam::%s:role/%s)\n", s->account_id,
           name.ptr);
done:
    json_decref(in);
    json_decref(out);
    json_decref(trust);
    free(doc);
    plumb_buf_release(&name);
    plumb_buf_release(&sub);
    return error;
}

static int ci_identity(struct plumb_session *s)
{
    const struct plumb_node *repo =
        plumb_node_get(plumb_node_get(s->project->bootstrap, "github"), "repository");
    char *provider = NULL;
    int error;

    if (!repo)
        return 0;
    printf("CI identity (GitHub Actions, %s):\n", repo->scalar);
    /* it lists the providers before it creates one: after a create whose answer was lost
     * (client.c, resend_is_safe), a second pass finds what it made, or makes it */
    if ((error = github_provider(s->aws, &provider)) == PLUMB_EUNCERTAIN)
        error = github_provider(s->aws, &provider);
    if (error == 0)
        error = deploy_role(s, provider, repo->scalar);
    free(provider);
    return error;
}

/* ---- the command ---------------------------------------------------------------------------- */

int plumb_cmd_bootstrap(struct plumb_cli *cli)
{
    struct plumb_session s;
    int code;

    if (plumb_cli_opt(cli, "--from") && plumb_cli_opt(cli, "--env") &&
        from_env(cli) != PLUMB_EXIT_OK)
        return PLUMB_EXIT_ERROR;
    /* 2 and 3 under the writer lock; the session pushes a migrated local state when it closes */
    code = plumb_session_open(&s, cli,
                              PLUMB_SESSION_AWS | PLUMB_SESSION_LOCK | PLUMB_SESSION_PROVISION);
    if (code == PLUMB_EXIT_OK && s.remote)
        printf("State: %s (serial %ld)\n", plumb_remote_url(s.remote), plumb_state_serial(s.state));
    else if (code == PLUMB_EXIT_OK)
        printf("State: local, state/%s (no 'state:' backend declared)\n", s.env);
    if (code == PLUMB_EXIT_OK && ci_identity(&s) < 0) {
        plumb_cli_error(cli, "CI identity");
        code = PLUMB_EXIT_ERROR;
    }
    plumb_session_close(&s);
    if (code != PLUMB_EXIT_OK)
        return code;
    printf("\n");
    fflush(stdout);
    /* 4: the environment itself */
    return plumb_cmd_apply(cli);
}
