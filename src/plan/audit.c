#include "plan/audit.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/value.h"
#include "schema/schema.h"
#include "util/error.h"
#include "util/json.h"

enum severity { FAILURE, WARNING };

struct rule {
    const char *id;
    enum severity severity;
    const char *reason;
    const char *fix;
};

/* docs/audit.md describes each; ids are stable: waivers name them. */
static const struct rule RULES[] = {
    {"RDS001", FAILURE, "an RDS instance in a protected environment without DeletionProtection",
     "set DeletionProtection: true"},
    {"RDS002", FAILURE, "an RDS instance reachable from the internet (PubliclyAccessible)",
     "set PubliclyAccessible: false; reach it from inside the VPC"},
    {"IAM001", FAILURE, "an IAM policy allows every action on every resource",
     "list the actions and resources the role needs"},
    {"SG001", FAILURE, "a security group open to the internet on a port other than 80 and 443",
     "narrow the CIDR, or put the service behind a load balancer"},
    {"S3001", FAILURE, "a bucket policy lets anyone write (or do anything)",
     "grant writes to named principals only"},
    {"SEC001", FAILURE,
     "a secret written in plumb.yaml: an environment variable named like a "
     "password, secret, token or key has a literal value",
     "use ${secret.env.NAME}, or Secrets Manager through the service's secrets"},
    {"PLAN001", FAILURE,
     "the plan deletes or replaces a resource holding data in a protected "
     "environment",
     "check the plan; if it is meant, apply with --allow-destroy after a backup"},
    {"ECR001", WARNING, "an ECR repository does not scan images on push",
     "set ImageScanningConfiguration: { ScanOnPush: true }"},
    {"LOG001", WARNING, "a log group keeps its logs forever (no RetentionInDays)",
     "set RetentionInDays"},
    {"ECS001", WARNING, "an ECS service deploys without the circuit breaker",
     "set DeploymentConfiguration.DeploymentCircuitBreaker: { Enable: true, Rollback: true }"},
    {"RDS003", WARNING,
     "an RDS instance in a protected environment keeps backups for fewer than 7 "
     "days",
     "set BackupRetentionPeriod: 7 or more"},
    {"RDS004", WARNING, "an RDS instance in a protected environment is in one availability zone",
     "set MultiAZ: true"},
    {"RDS005", WARNING, "an RDS instance in a protected environment is not encrypted",
     "set StorageEncrypted: true (at creation: it forces a replacement)"},
    {"LIFE001", WARNING,
     "a resource holding data in a protected environment lacks "
     "lifecycle.prevent_destroy",
     "add lifecycle: { prevent_destroy: true }"},
    {"S3002", WARNING,
     "a bucket policy makes objects public-read (expected for a website: worth "
     "a look)",
     "keep it to the website's bucket, and nothing private in it"},
};

#define NRULES (sizeof(RULES) / sizeof(RULES[0]))

struct ctx {
    const struct plumb_model *m;
    json_t *findings;
};

static const struct rule *rule_of(const char *id)
{
    size_t i;

    for (i = 0; i < NRULES; i++)
        if (strcmp(RULES[i].id, id) == 0)
            return &RULES[i];
    return NULL;
}

/* The waiver of `rule` for `address` in plumb.yaml's audit.waive, or NULL. */
static const struct plumb_node *waiver(const struct plumb_model *m, const char *rule,
                                       const char *address)
{
    const struct plumb_node *list = plumb_node_get(m->project->audit, "waive"), *w, *r, *res;
    size_t i;

    for (i = 0; list && list->type == PLUMB_NODE_SEQ && i < list->n; i++) {
        w = list->items[i];
        r = plumb_node_get(w, "rule");
        res = plumb_node_get(w, "resource");
        if (r && r->scalar && strcmp(r->scalar, rule) == 0 &&
            (!res || (res->scalar && strcmp(res->scalar, address) == 0)))
            return w;
    }
    return NULL;
}

static void finding(struct ctx *c, const char *id, const char *address, const char *property)
{
    const struct rule *r = rule_of(id);
    const struct plumb_node *w = waiver(c->m, id, address);
    json_t *f =
        json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s, s:b}", "rule", id, "severity",
                  r->severity == FAILURE ? "failure" : "warning", "resource", address, "property",
                  property, "reason", r->reason, "fix", r->fix, "waived", w != NULL);

    if (f && w)
        json_object_set_new(f, "waiver", json_string(plumb_node_get(w, "reason")->scalar));
    json_array_append_new(c->findings, f);
}

/* ---- reading values -------------------------------------------------------------------- */

static const json_t *get(const json_t *v, const char *k)
{
    return json_object_get(plumb_value_unwrap(v), k);
}

static int is_true(const json_t *v)
{
    v = plumb_value_unwrap(v);
    return json_is_true(v) || (json_is_string(v) && strcasecmp(json_string_value(v), "true") == 0);
}

static long number(const json_t *v, long fallback)
{
    v = plumb_value_unwrap(v);
    if (json_is_integer(v))
        return (long)json_integer_value(v);
    if (json_is_string(v) && *json_string_value(v))
        return strtol(json_string_value(v), NULL, 10);
    return fallback;
}

/* A string, or one of a list of strings, equal to `want` (or to "*" when want is "*"). */
static int has_string(const json_t *v, const char *want)
{
    const json_t *x;
    size_t i;

    v = plumb_value_unwrap(v);
    if (json_is_string(v))
        return strcmp(json_string_value(v), want) == 0;
    json_array_foreach(v, i, x) if (json_is_string(x) &&
                                    strcmp(json_string_value(x), want) == 0) return 1;
    return 0;
}

/* A policy document's statements as a list (a single statement may stand alone). */
static json_t *statements(const json_t *doc)
{
    const json_t *s;

    doc = plumb_value_unwrap(doc);
    if (json_is_string(doc)) {
        json_t *parsed = json_loads(json_string_value(doc), 0, NULL), *out;
        if (!parsed)
            return json_array();
        out = statements(parsed);
        json_decref(parsed);
        return out;
    }
    s = json_object_get(doc, "Statement");
    if (json_is_array(s))
        return json_incref((json_t *)s);
    return json_is_object(s) ? json_pack("[O]", s) : json_array();
}

static int allows(const json_t *st)
{
    return has_string(json_object_get(st, "Effect"), "Allow");
}

static int anyone(const json_t *principal)
{
    principal = plumb_value_unwrap(principal);
    return has_string(principal, "*") || has_string(json_object_get(principal, "AWS"), "*");
}

/* ---- the rules ------------------------------------------------------------------------- */

static void rds(struct ctx *c, const struct plumb_resource *r, int protect)
{
    const json_t *p = r->properties;

    if (is_true(get(p, "PubliclyAccessible")))
        finding(c, "RDS002", r->address, "PubliclyAccessible");
    if (!protect)
        return;
    if (!is_true(get(p, "DeletionProtection")))
        finding(c, "RDS001", r->address, "DeletionProtection");
    if (number(get(p, "BackupRetentionPeriod"), 1) < 7) /* AWS's default is 1 day */
        finding(c, "RDS003", r->address, "BackupRetentionPeriod");
    if (!is_true(get(p, "MultiAZ")))
        finding(c, "RDS004", r->address, "MultiAZ");
    if (!is_true(get(p, "StorageEncrypted")))
        finding(c, "RDS005", r->address, "StorageEncrypted");
}

static int star_on_star(const json_t *doc)
{
    json_t *sts = statements(doc);
    const json_t *st;
    size_t i;
    int found = 0;

    json_array_foreach(sts, i, st) if (allows(st) &&
                                       has_string(json_object_get(st, "Action"), "*") &&
                                       has_string(json_object_get(st, "Resource"), "*")) found = 1;
    json_decref(sts);
    return found;
}

static void iam_role(struct ctx *c, const struct plumb_resource *r)
{
    const json_t *pol, *arns = plumb_value_unwrap(get(r->properties, "ManagedPolicyArns"));
    char where[64];
    size_t i;

    json_array_foreach(plumb_value_unwrap(get(r->properties, "Policies")), i, pol)
    {
        snprintf(where, sizeof(where), "Policies[%zu].PolicyDocument", i);
        if (star_on_star(get(pol, "PolicyDocument")))
            finding(c, "IAM001", r->address, where);
    }
    json_array_foreach(arns, i, pol)
    {
        static const char admin[] = ":policy/AdministratorAccess";
        const char *arn = json_string_value(plumb_value_unwrap(pol));
        size_t n = arn ? strlen(arn) : 0;
        if (n > sizeof(admin) - 1 && strcmp(arn + n - (sizeof(admin) - 1), admin) == 0) {
            snprintf(where, sizeof(where), "ManagedPolicyArns[%zu]", i);
            finding(c, "IAM001", r->address, where);
        }
    }
}

static void security_group(struct ctx *c, const struct plumb_resource *r)
{
    const json_t *rule;
    char where[64];
    size_t i;

    json_array_foreach(plumb_value_unwrap(get(r->properties, "SecurityGroupIngress")), i, rule)
    {
        const char *v4 = json_string_value(plumb_value_unwrap(get(rule, "CidrIp")));
        const char *v6 = json_string_value(plumb_value_unwrap(get(rule, "CidrIpv6")));
        const char *proto = json_string_value(plumb_value_unwrap(get(rule, "IpProtocol")));
        long from = number(get(rule, "FromPort"), -1), to = number(get(rule, "ToPort"), -1);
        int world = (v4 && strcmp(v4, "0.0.0.0/0") == 0) || (v6 && strcmp(v6, "::/0") == 0);
        int web = proto && (strcmp(proto, "tcp") == 0 || strcmp(proto, "6") == 0) && from == to &&
                  (from == 80 || from == 443);
        if (world && !web) {
            snprintf(where, sizeof(where), "SecurityGroupIngress[%zu]", i);
            finding(c, "SG001", r->address, where);
        }
    }
}

/* An action that writes (or everything). */
static int writes(const char *a)
{
    static const char *const prefixes[] = {"s3:Put",       "s3:Delete",  "s3:Abort", "s3:Create",
                                           "s3:Replicate", "s3:Restore", "s3:Bypass"};
    size_t i;

    if (strcmp(a, "*") == 0 || strcmp(a, "s3:*") == 0)
        return 1;
    for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (strncmp(a, prefixes[i], strlen(prefixes[i])) == 0)
            return 1;
    return 0;
}

static void bucket_policy(struct ctx *c, const struct plumb_resource *r)
{
    json_t *sts = statements(get(r->properties, "PolicyDocument"));
    const json_t *st, *a, *actions;
    char where[64];
    size_t i, j;
    int public_read = 0;

    json_array_foreach(sts, i, st)
    {
        int write = 0;
        if (!allows(st) || !anyone(json_object_get(st, "Principal")))
            continue;
        actions = json_object_get(st, "Action");
        if (json_is_string(actions))
            write = writes(json_string_value(actions));
        json_array_foreach(actions, j, a) if (json_is_string(a) && writes(json_string_value(a)))
            write = 1;
        snprintf(where, sizeof(where), "PolicyDocument.Statement[%zu]", i);
        if (write)
            finding(c, "S3001", r->address, where);
        else if (has_string(actions, "s3:GetObject") && !public_read++)
            finding(c, "S3002", r->address, where);
    }
    json_decref(sts);
}

/*
 * Whether an environment variable's name says it holds a secret: it has one of the words,
 * and does not end in one that names the secret rather than holds it (AWS_SECRET_NAME,
 * KMS_KEY_ID, DB_PASSWORD_ARN).
 */
static int secret_name(const char *name)
{
    static const char *const words[] = {"password", "passwd", "secret", "token", "key"};
    static const char *const naming[] = {"_name", "_arn",  "_id",     "_url",    "_uri",
                                         "_path", "_file", "_region", "_header", "_version"};
    char lower[256];
    size_t i, n;

    for (n = 0; name[n] && n < sizeof(lower) - 1; n++)
        lower[n] = (char)tolower((unsigned char)name[n]);
    lower[n] = '\0';
    for (i = 0; i < sizeof(naming) / sizeof(naming[0]); i++)
        if (n > strlen(naming[i]) && strcmp(lower + n - strlen(naming[i]), naming[i]) == 0)
            return 0;
    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strstr(lower, words[i]))
            return 1;
    return 0;
}

/*
 * Whether the value as written in plumb.yaml is a literal: plain text, or made only of
 * variables and module inputs (which are text in a file as well). A reference to a secret
 * resolves to a sensitive value, and one to a resource's attribute is AWS's, not a secret
 * written down.
 */
static int literal(const json_t *resolved, const struct plumb_node *raw)
{
    const char *p;

    if (plumb_value_is_sensitive(resolved) || plumb_value_has_unknown(resolved) ||
        !json_is_string(resolved))
        return 0;
    if (!raw || raw->type != PLUMB_NODE_SCALAR || !raw->scalar)
        return 1; /* built by the configuration from values it holds */
    for (p = strstr(raw->scalar, "${"); p; p = strstr(p + 2, "${"))
        if (strncmp(p + 2, "var.", 4) != 0 && strncmp(p + 2, "input.", 6) != 0 &&
            strncmp(p + 2, "env}", 4) != 0)
            return 0;
    return 1;
}

/* A list of {Name, Value} (ECS Environment, App Runner RuntimeEnvironmentVariables) and its
 * YAML (NULL when it does not come from a sequence in the file). */
static void env_list(struct ctx *c, const struct plumb_resource *r, const json_t *list,
                     const struct plumb_node *node, const char *where)
{
    const json_t *e;
    char path[160];
    size_t i;

    json_array_foreach(plumb_value_unwrap(list), i, e)
    {
        const char *name = json_string_value(plumb_value_unwrap(get(e, "Name")));
        const struct plumb_node *raw = node && node->type == PLUMB_NODE_SEQ && i < node->n
                                           ? plumb_node_get(node->items[i], "Value")
                                           : NULL;
        if (name && secret_name(name) && literal(get(e, "Value"), raw)) {
            snprintf(path, sizeof(path), "%s[%zu] (%s)", where, i, name);
            finding(c, "SEC001", r->address, path);
        }
    }
}

static const struct plumb_node *child(const struct plumb_node *n, const char *k)
{
    return n && n->type == PLUMB_NODE_MAP ? plumb_node_get(n, k) : NULL;
}

static void task_definition(struct ctx *c, const struct plumb_resource *r)
{
    const struct plumb_node *defs = child(r->decl->properties, "ContainerDefinitions");
    const json_t *d;
    char where[96];
    size_t i;

    json_array_foreach(plumb_value_unwrap(get(r->properties, "ContainerDefinitions")), i, d)
    {
        const struct plumb_node *dn =
            defs && defs->type == PLUMB_NODE_SEQ && i < defs->n ? defs->items[i] : NULL;
        snprintf(where, sizeof(where), "ContainerDefinitions[%zu].Environment", i);
        env_list(c, r, get(d, "Environment"), child(dn, "Environment"), where);
    }
}

static void apprunner(struct ctx *c, const struct plumb_resource *r)
{
    const json_t *src = get(r->properties, "SourceConfiguration");
    const struct plumb_node *sn = child(r->decl->properties, "SourceConfiguration");

    env_list(
        c, r,
        get(get(get(src, "ImageRepository"), "ImageConfiguration"), "RuntimeEnvironmentVariables"),
        child(child(child(sn, "ImageRepository"), "ImageConfiguration"),
              "RuntimeEnvironmentVariables"),
        "SourceConfiguration.ImageRepository.ImageConfiguration.RuntimeEnvironmentVariables");
    env_list(
        c, r,
        get(get(get(get(src, "CodeRepository"), "CodeConfiguration"), "CodeConfigurationValues"),
            "RuntimeEnvironmentVariables"),
        child(child(child(child(sn, "CodeRepository"), "CodeConfiguration"),
                    "CodeConfigurationValues"),
              "RuntimeEnvironmentVariables"),
        "SourceConfiguration.CodeRepository.CodeConfiguration.CodeConfigurationValues."
        "RuntimeEnvironmentVariables");
}

static void resource(struct ctx *c, const struct plumb_resource *r)
{
    const char *type = r->decl->type_name;
    const json_t *p = r->properties;
    int protect = c->m->env->protect;

    if (strcmp(type, "AWS::RDS::DBInstance") == 0)
        rds(c, r, protect);
    else if (strcmp(type, "AWS::IAM::Role") == 0)
        iam_role(c, r);
    else if (strcmp(type, "AWS::EC2::SecurityGroup") == 0)
        security_group(c, r);
    else if (strcmp(type, "AWS::S3::BucketPolicy") == 0)
        bucket_policy(c, r);
    else if (strcmp(type, "AWS::ECS::TaskDefinition") == 0)
        task_definition(c, r);
    else if (strcmp(type, "AWS::AppRunner::Service") == 0)
        apprunner(c, r);
    else if (strcmp(type, "AWS::ECR::Repository") == 0 &&
             !is_true(get(get(p, "ImageScanningConfiguration"), "ScanOnPush")))
        finding(c, "ECR001", r->address, "ImageScanningConfiguration.ScanOnPush");
    else if (strcmp(type, "AWS::Logs::LogGroup") == 0 && !get(p, "RetentionInDays"))
        finding(c, "LOG001", r->address, "RetentionInDays");
    else if (strcmp(type, "AWS::ECS::Service") == 0 &&
             !is_true(
                 get(get(get(p, "DeploymentConfiguration"), "DeploymentCircuitBreaker"), "Enable")))
        finding(c, "ECS001", r->address, "DeploymentConfiguration.DeploymentCircuitBreaker");
    if (protect && r->decl->schema && r->decl->schema->stateful && !r->decl->prevent_destroy)
        finding(c, "LIFE001", r->address, "lifecycle.prevent_destroy");
}

int plumb_audit_run(json_t **report, const struct plumb_model *m, const struct plumb_plan *plan)
{
    struct ctx c = {m, json_array()};
    size_t i, failures = 0, warnings = 0, waived = 0;
    const json_t *f;
    const char *verdict;

    *report = NULL;
    if (!c.findings)
        return plumb_error_oom();
    for (i = 0; i < m->nresources; i++)
        resource(&c, &m->resources[i]);
    for (i = 0; plan && m->env->protect && i < plan->nchanges; i++) {
        const struct plumb_change *ch = &plan->changes[i];
        const struct plumb_schema_type *t = plumb_schema_find(ch->type);
        if ((ch->action == PLUMB_ACTION_DELETE || ch->action == PLUMB_ACTION_REPLACE) && t &&
            t->stateful)
            finding(&c, "PLAN001", ch->address,
                    ch->action == PLUMB_ACTION_DELETE ? "(deleted)" : "(replaced)");
    }
    json_array_foreach(c.findings, i, f)
    {
        if (json_is_true(json_object_get(f, "waived")))
            waived++;
        else if (strcmp(json_string_value(json_object_get(f, "severity")), "failure") == 0)
            failures++;
        else
            warnings++;
    }
    verdict = failures ? "NO-GO" : warnings ? "CONDITIONAL GO" : "GO";
    *report = json_pack("{s:s, s:s, s:b, s:s, s:{s:I, s:I, s:I}, s:o}", "format_version",
                        PLUMB_AUDIT_FORMAT_VERSION, "environment", m->env->name, "protected",
                        m->env->protect, "verdict", verdict, "counts", "failures",
                        (json_int_t)failures, "warnings", (json_int_t)warnings, "waived",
                        (json_int_t)waived, "findings", c.findings);
    return *report ? 0 : plumb_error_oom();
}

enum plumb_audit_verdict plumb_audit_verdict(const json_t *report)
{
    const char *v = json_string_value(json_object_get(report, "verdict"));

    if (v && strcmp(v, "NO-GO") == 0)
        return PLUMB_AUDIT_NO_GO;
    if (v && strcmp(v, "CONDITIONAL GO") == 0)
        return PLUMB_AUDIT_CONDITIONAL;
    return PLUMB_AUDIT_GO;
}

void plumb_audit_render(struct plumb_buf *out, const json_t *report, int color)
{
    const char *red = color ? "\033[31m" : "", *yellow = color ? "\033[33m" : "";
    const char *green = color ? "\033[32m" : "", *bold = color ? "\033[1m" : "";
    const char *reset = color ? "\033[0m" : "";
    const json_t *counts = json_object_get(report, "counts"), *f;
    enum plumb_audit_verdict v = plumb_audit_verdict(report);
    size_t i;
    int pass;

    plumb_buf_printf(out,
                     "Audit of environment '%s'%s: %lld failure%s, %lld warning%s, %lld waived.\n",
                     plumb_json_str(report, "environment", ""),
                     json_is_true(json_object_get(report, "protected")) ? " (protected)" : "",
                     (long long)json_integer_value(json_object_get(counts, "failures")),
                     json_integer_value(json_object_get(counts, "failures")) == 1 ? "" : "s",
                     (long long)json_integer_value(json_object_get(counts, "warnings")),
                     json_integer_value(json_object_get(counts, "warnings")) == 1 ? "" : "s",
                     (long long)json_integer_value(json_object_get(counts, "waived")));
    /* failures first, then warnings, then what was waived */
    for (pass = 0; pass < 3; pass++) {
        json_array_foreach(json_object_get(report, "findings"), i, f)
        {
            int waived = json_is_true(json_object_get(f, "waived"));
            int failure = strcmp(plumb_json_str(f, "severity", ""), "failure") == 0;
            if ((pass == 2) != waived || (pass < 2 && (pass == 0) != failure))
                continue;
            plumb_buf_printf(out, "\n  %s%-6s%s %-7s %s",
                             waived    ? ""
                             : failure ? red
                                       : yellow,
                             waived    ? "WAIVED"
                             : failure ? "FAIL"
                                       : "WARN",
                             reset, plumb_json_str(f, "rule", ""),
                             plumb_json_str(f, "resource", ""));
            if (json_is_string(json_object_get(f, "property")))
                plumb_buf_printf(out, " %s", plumb_json_str(f, "property", ""));
            plumb_buf_printf(out, "\n         %s\n", plumb_json_str(f, "reason", ""));
            if (waived)
                plumb_buf_printf(out, "         waived: %s\n", plumb_json_str(f, "waiver", ""));
            else
                plumb_buf_printf(out, "         fix: %s (docs/audit.md#%s)\n",
                                 plumb_json_str(f, "fix", ""), plumb_json_str(f, "rule", ""));
        }
    }
    plumb_buf_printf(out, "\n%s%s%s%s\n",
                     v == PLUMB_AUDIT_NO_GO         ? red
                     : v == PLUMB_AUDIT_CONDITIONAL ? yellow
                                                    : green,
                     bold, plumb_json_str(report, "verdict", ""), reset);
}

json_t *plumb_audit_rules(void)
{
    json_t *out = json_array();
    size_t i;

    for (i = 0; out && i < NRULES; i++)
        json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:s}", "id", RULES[i].id, "severity",
                                             RULES[i].severity == FAILURE ? "failure" : "warning",
                                             "reason", RULES[i].reason, "fix", RULES[i].fix));
    return out;
}
