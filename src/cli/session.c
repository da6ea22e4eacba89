#include "cli/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/value.h"
#include "plan/refresh.h"
#include "provider/provider.h"
#include "state/remote.h"
#include "util/error.h"
#include "util/log.h"
#include "util/sys.h"

/* ${other.Attr} before apply: what state observed last, when it is a plain value. */
static json_t *state_lookup(void *ctx, const char *address, const char *attr)
{
    const json_t *records = ctx, *v;
    char name[256];
    const char *p = attr;
    size_t n;

    v = json_object_get(json_object_get(records, address), "observed");
    while (v && p && *p) {
        n = strcspn(p, ".");
        if (n >= sizeof(name))
            return NULL;
        memcpy(name, p, n);
        name[n] = '\0';
        v = json_object_get(v, name);
        p += n;
        if (*p == '.')
            p++;
    }
    if (!v || json_object_get(v, PLUMB_STATE_FINGERPRINT_KEY))
        return NULL;
    return json_deep_copy(v);
}

static int parse_vars(struct plumb_session *s)
{
    size_t i;

    for (i = 0; i < s->cli->opts.n; i++) {
        const struct plumb_kv *o = &s->cli->opts.v[i];
        const char *eq;
        if (strcmp(o->name, "--var") != 0)
            continue;
        eq = strchr(o->value, '=');
        if (!eq || eq == o->value) {
            fprintf(stderr, "plumb: --var needs NAME=VALUE, not '%s'\n", o->value);
            return -1;
        }
        if (plumb_kvlist_addn(&s->vars, o->value, (size_t)(eq - o->value), eq + 1, strlen(eq + 1)) <
            0)
            return -1;
    }
    return 0;
}

int plumb_session_reload(struct plumb_session *s)
{
    json_decref(s->records);
    s->records = NULL;
    return plumb_state_all(s->state, &s->records);
}

int plumb_session_resolve(struct plumb_session *s, unsigned flags)
{
    struct plumb_resolve_options opts;

    memset(&opts, 0, sizeof(opts));
    plumb_model_free(s->model);
    s->model = NULL;
    opts.env = s->env;
    opts.cli_vars = &s->vars;
    opts.account_id = s->account_id;
    opts.region = s->aws ? plumb_aws_region(s->aws) : NULL;
    opts.require_secrets = (flags & PLUMB_SESSION_SECRETS) != 0;
    opts.lookup = state_lookup;
    opts.lookup_ctx = s->records;
    if (plumb_model_resolve(&s->model, s->project, &opts, &s->diags) < 0) {
        plumb_cli_render_diags(&s->diags);
        return -1;
    }
    return 0;
}

/*
 * The key under which state remembers whose credentials these are: a fingerprint of the
 * access key id and the STS endpoint. An access key belongs to one account for its whole
 * life, so a known key needs no GetCallerIdentity; temporary credentials (a new key each
 * session) are asked about every time.
 */
static int identity_key(struct plumb_session *s, char out[80])
{
    struct plumb_aws_credentials c;
    struct plumb_buf endpoint = PLUMB_BUF_INIT;
    const char *source;
    json_t *v;
    int error;

    memset(&c, 0, sizeof(c));
    if ((error = plumb_aws_get_credentials(&c, s->aws)) < 0)
        return error;
    error = plumb_aws_endpoint(&endpoint, &source, s->aws, "sts");
    v = json_pack("[s, s]", c.access_key_id, plumb_buf_cstr(&endpoint));
    if (error == 0)
        error = v ? plumb_state_fingerprint(s->state, v, out) : plumb_error_oom();
    json_decref(v);
    plumb_buf_release(&endpoint);
    plumb_aws_credentials_release(&c);
    return error;
}

/* "FINGERPRINT ACCOUNT" as state's meta keeps it. */
#define IDENTITY_META "aws_identity"

/*
 * The account the credentials belong to, from state's memory of this access key or from
 * STS; refused when state already manages resources in another account (the wrong
 * profile would otherwise plan every resource as gone and create them all again).
 */
static int identify(struct plumb_session *s)
{
    char key[80], *known = NULL, *recorded = s->account_id;
    json_t *who = NULL;
    size_t n;
    int rc = -1;

    s->account_id = NULL;
    s->identity_known = 0;
    if (identity_key(s, key) < 0)
        goto failed;
    plumb_state_meta_get(s->state, IDENTITY_META, &known);
    n = strlen(key);
    if (known && strncmp(known, key, n) == 0 && known[n] == ' ' && known[n + 1]) {
        s->account_id = strdup(known + n + 1);
        s->identity_known = 1;
        plumb_log_debug("account %s: known for these credentials (no STS call)", s->account_id);
    } else {
        if (plumb_aws_call(s->aws, "sts", "GetCallerIdentity", NULL, &who) < 0)
            goto failed;
        s->account_id = strdup(json_string_value(json_object_get(who, "Account")));
    }
    if (!s->account_id) {
        plumb_error_oom();
        goto failed;
    }
    memcpy(s->identity_key, key, sizeof(key));
    if (recorded && json_object_size(s->records) && strcmp(recorded, s->account_id) != 0) {
        fprintf(stderr,
                "plumb: state/%s manages resources in AWS account %s, but the credentials in "
                "use (profile '%s') are for account %s; use credentials for %s, or another "
                "environment\n",
                s->env, recorded, plumb_aws_profile(s->aws), s->account_id, recorded);
        goto out;
    }
    rc = 0;
    goto out;
failed:
    plumb_cli_error(s->cli, "identity");
out:
    json_decref(who);
    free(known);
    free(recorded);
    return rc;
}

/* Writes the account, and which credentials it belongs to when that is new, to state's meta
 * (under the writer lock). */
static void remember_identity(struct plumb_session *s)
{
    struct plumb_buf v = PLUMB_BUF_INIT;

    plumb_state_meta_put(s->state, "aws_account_id", s->account_id);
    if (s->identity_known)
        return;
    plumb_buf_printf(&v, "%s %s", s->identity_key, s->account_id);
    plumb_state_meta_put(s->state, IDENTITY_META, plumb_buf_cstr(&v));
    plumb_buf_release(&v);
    s->identity_known = 1;
}

static const char *state_setting(const struct plumb_session *s, const char *name)
{
    const struct plumb_node *n = plumb_node_get(s->project->state, name);

    return n && n->scalar ? n->scalar : NULL;
}

static int remote_backend(const struct plumb_session *s)
{
    const char *b = state_setting(s, "backend");

    return b && strcmp(b, "s3") == 0;
}

/* A state setting with ${aws.account_id} and ${aws.region} replaced (DESIGN.md's bucket
 * names carry the account id: one state bucket per account). */
static char *expand_setting(const struct plumb_session *s, const char *name)
{
    struct plumb_buf out = PLUMB_BUF_INIT;
    const char *p = state_setting(s, name);

    if (!p)
        return NULL;
    while (*p) {
        if (strncmp(p, "${aws.account_id}", 17) == 0) {
            plumb_buf_puts(&out, s->account_id ? s->account_id : "");
            p += 17;
        } else if (strncmp(p, "${aws.region}", 13) == 0) {
            plumb_buf_puts(&out, plumb_aws_region(s->aws) ? plumb_aws_region(s->aws) : "");
            p += 13;
        } else {
            plumb_buf_putc(&out, *p++);
        }
    }
    return plumb_buf_detach(&out);
}

/* Pulls the newer remote state into the local cache (under the local lock, taken for the
 * import alone when the session is a reader). */
static int pull(struct plumb_session *s)
{
    int pulled = 0, had_lock = plumb_state_is_locked(s->state), error;

    if (!had_lock && (error = plumb_state_lock(s->state, s->cli->command)) < 0)
        return error;
    error = plumb_remote_pull(s->remote, s->state, &pulled);
    if (!had_lock)
        plumb_state_unlock(s->state);
    if (error < 0 || !pulled)
        return error;
    free(s->account_id);
    s->account_id = NULL;
    plumb_state_meta_get(s->state, "aws_account_id", &s->account_id);
    return plumb_session_reload(s);
}

/* The shared backend (state/remote.h): opened, locked for a writer, and pulled from. */
static int open_remote(struct plumb_session *s, unsigned flags)
{
    char *bucket = expand_setting(s, "bucket"), *prefix = expand_setting(s, "key_prefix");
    char *table = expand_setting(s, "lock_table");
    const char *region = state_setting(s, "region");
    struct plumb_aws *aws = s->aws;
    int error = 0;

    if (region) {
        struct plumb_aws_options o = {0};
        o.fixed_region = region;
        PLUMB_TRY(plumb_aws_new(&s->state_aws, &o));
        aws = s->state_aws;
    }
    if (!bucket || !table) {
        error =
            plumb_error_set(PLUMB_EINVALID, "the s3 state backend needs 'bucket' and 'lock_table'");
        goto done;
    }
    if (flags & PLUMB_SESSION_PROVISION) {
        struct plumb_buf report = PLUMB_BUF_INIT;
        error = plumb_remote_provision(aws, bucket, table, plumb_aws_region(aws), &report);
        if (error == 0)
            printf("State backend:\n%s", plumb_buf_cstr(&report));
        plumb_buf_release(&report);
        if (error < 0)
            goto done;
    }
    PLUMB_TRY(plumb_remote_open(&s->remote, aws, bucket, prefix ? prefix : s->project->name, table,
                                s->env));
    if (flags & PLUMB_SESSION_LOCK)
        PLUMB_TRY(plumb_remote_lock(s->remote, s->cli->command));
    PLUMB_TRY(pull(s));
done:
    free(bucket);
    free(prefix);
    free(table);
    return error;
}

int plumb_session_lock(struct plumb_session *s)
{
    int error;

    if ((error = plumb_state_lock(s->state, s->cli->command)) < 0 || !s->remote ||
        plumb_remote_is_locked(s->remote))
        return error;
    /* a writer from now on: the remote may have moved since this session pulled */
    if ((error = plumb_remote_lock(s->remote, s->cli->command)) < 0)
        return error;
    return pull(s);
}

int plumb_session_push(struct plumb_session *s)
{
    int behind = 0, error;

    if (!s->remote || !plumb_remote_is_locked(s->remote))
        return 0;
    if ((error = plumb_remote_behind(s->remote, s->state, &behind)) < 0 || !behind)
        return error;
    return plumb_remote_push(s->remote, s->state);
}

/* Checkpoints of a long run reach the shared state at most this often (and at its end). */
#define CHECKPOINT_SECONDS 10

int plumb_session_checkpoint(void *ctx)
{
    struct plumb_session *s = ctx;
    time_t now = plumb_clock_now();

    if (!s->remote || now - s->pushed_at < CHECKPOINT_SECONDS)
        return 0;
    s->pushed_at = now;
    return plumb_session_push(s);
}

int plumb_session_open(struct plumb_session *s, struct plumb_cli *cli, unsigned flags)
{
    char dir[4096];

    memset(s, 0, sizeof(*s));
    s->cli = cli;
    plumb_diags_init(&s->diags);
    plumb_kvlist_init(&s->vars);
    s->env = plumb_cli_opt(cli, "--env");
    if (!s->env) {
        fprintf(stderr, "plumb: %s needs -e ENV\n", cli->command);
        return PLUMB_EXIT_ERROR;
    }
    if (parse_vars(s) < 0)
        return PLUMB_EXIT_ERROR;
    if (plumb_cli_load_project(&s->project, cli, &s->diags) < 0) {
        plumb_cli_render_diags(&s->diags);
        return PLUMB_EXIT_ERROR;
    }
    if (!plumb_project_env(s->project, s->env)) {
        struct plumb_buf names = PLUMB_BUF_INIT;
        plumb_project_env_names(&names, s->project);
        fprintf(stderr, "plumb: unknown environment '%s' (declared: %s)\n", s->env,
                plumb_buf_cstr(&names));
        plumb_buf_release(&names);
        return PLUMB_EXIT_ERROR;
    }
    if (remote_backend(s))
        flags |= PLUMB_SESSION_AWS; /* reading the state is an AWS call */
    snprintf(dir, sizeof(dir), "state/%s", s->env);
    if (plumb_state_open(&s->state, dir,
                         (flags & (PLUMB_SESSION_LOCK | PLUMB_SESSION_CREATE)) != 0 ||
                             remote_backend(s)) < 0) {
        plumb_cli_error(cli, NULL);
        return PLUMB_EXIT_ERROR;
    }
    if ((flags & PLUMB_SESSION_LOCK) && plumb_state_lock(s->state, cli->command) < 0) {
        plumb_cli_error(cli, NULL);
        return PLUMB_EXIT_ERROR;
    }
    if (plumb_state_all(s->state, &s->records) < 0) {
        plumb_cli_error(cli, NULL);
        return PLUMB_EXIT_ERROR;
    }
    plumb_state_meta_get(s->state, "aws_account_id", &s->account_id);
    if (flags & PLUMB_SESSION_AWS) {
        struct plumb_aws_options o = {0};
        o.region = s->project->region;
        /* one client per command, even over two sessions (bootstrap, then its apply): it
         * belongs to the cli, and --stats reads it */
        if (!cli->aws && plumb_aws_new(&cli->aws, &o) < 0) {
            plumb_cli_error(cli, NULL);
            return PLUMB_EXIT_ERROR;
        }
        s->aws = cli->aws;
        if (identify(s) < 0)
            return PLUMB_EXIT_ERROR;
    }
    if (remote_backend(s) && open_remote(s, flags) < 0) {
        plumb_cli_error(cli, NULL);
        return PLUMB_EXIT_ERROR;
    }
    if ((flags & PLUMB_SESSION_AWS) && (flags & PLUMB_SESSION_LOCK))
        remember_identity(s);
    s->pushed_at = plumb_clock_now();
    if ((flags & PLUMB_SESSION_MODEL) && plumb_session_resolve(s, flags) < 0)
        return PLUMB_EXIT_ERROR;
    return PLUMB_EXIT_OK;
}

/* What refresh left unread of the attributes fixed for a resource's life stays as recorded
 * (provider.h, fixed_attributes). */
static void keep_fixed_attributes(json_t *observed, const json_t *recorded, const char *type)
{
    const struct plumb_resource_type *d = type ? plumb_provider_find(type) : NULL;
    const char *const *a;
    json_t *v;

    if (!d || !d->fixed_attributes || !json_is_object(observed))
        return;
    for (a = d->fixed_attributes; *a; a++)
        if (!json_object_get(observed, *a) && (v = json_object_get(recorded, *a)))
            json_object_set(observed, *a, v);
}

int plumb_session_refresh(struct plumb_session *s, int *gone)
{
    json_t *observed = NULL, *puts = NULL, *rec;
    const char *addr;
    char now[21];
    int error = 0;

    *gone = 0;
    if (!json_object_size(s->records))
        return 0;
    if (plumb_session_lock(s) < 0)
        return -1;
    plumb_cli_stage(s->cli, "refresh");
    PLUMB_TRY(plumb_refresh(&observed, s->aws, s->records, NULL, plumb_cli_parallelism(s->cli)));
    plumb_time_iso8601(now, plumb_clock_now());
    puts = json_object();
    json_object_foreach(s->records, addr, rec)
    {
        json_t *o = json_object_get(observed, addr), *copy;
        if (!o)
            continue;
        copy = json_deep_copy(rec);
        /* secrets AWS echoes back are kept as fingerprints only */
        json_object_set_new(copy, "observed",
                            plumb_state_mask(s->state, o, json_object_get(rec, "properties")));
        keep_fixed_attributes(json_object_get(copy, "observed"), json_object_get(rec, "observed"),
                              json_string_value(json_object_get(rec, "type")));
        json_object_set_new(copy, "refreshed_at", json_string(now));
        if (json_is_null(o)) {
            json_object_set_new(copy, "gone", json_true());
            (*gone)++;
        } else {
            json_object_del(copy, "gone");
        }
        json_object_set_new(puts, addr, copy);
    }
    PLUMB_TRY(plumb_state_write(s->state, puts, NULL));
    if (s->account_id)
        remember_identity(s);
    PLUMB_TRY(plumb_session_reload(s));
done:
    json_decref(observed);
    json_decref(puts);
    return error;
}

void plumb_session_close(struct plumb_session *s)
{
    /* what this run changed reaches the shared state before the lock is let go */
    if (s->remote && plumb_session_push(s) < 0)
        fprintf(stderr,
                "plumb: pushing the state to %s failed: %s\nThe local cache (state/%s) holds it: "
                "run 'plumb state push -e %s'\n",
                plumb_remote_url(s->remote), plumb_error_message(), s->env, s->env);
    if (s->remote && plumb_remote_unlock(s->remote) < 0)
        fprintf(stderr, "plumb: releasing the state lock: %s\n", plumb_error_message());
    plumb_remote_free(s->remote);
    plumb_aws_free(s->state_aws);
    plumb_model_free(s->model);
    plumb_project_free(s->project);
    plumb_state_close(s->state);
    json_decref(s->records);
    free(s->account_id);
    plumb_kvlist_release(&s->vars);
    plumb_diags_release(&s->diags);
    /* s->aws belongs to the cli (freed after --stats is printed) */
}
