/*
 * plumb state list|show ADDR|rm ADDR -e ENV: look into state, or make plumb forget a
 * resource (it stays in AWS: `rm` is how a resource leaves plumb's management).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/session.h"
#include "util/error.h"
#include "util/json.h"

static int list(struct plumb_session *s)
{
    const char *addr;
    json_t *rec;
    char *id;

    json_object_foreach(s->records, addr, rec)
    {
        id =
            json_dumps(json_object_get(rec, "id"), JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        printf("%-40s %-44s %s%s\n", addr, json_string_value(json_object_get(rec, "type")),
               id ? id : "", json_is_true(json_object_get(rec, "gone")) ? "  (gone from AWS)" : "");
        free(id);
    }
    return PLUMB_EXIT_OK;
}

/*
 * pull: the shared state into the local cache (session open does it); push: the local cache
 * up (after a failed push at the end of a run); unlock LOCK_ID: a lock whose holder is gone.
 */
static int remote_command(struct plumb_cli *cli, const char *sub, const char *lock_id)
{
    struct plumb_session s;
    json_t *holder = NULL;
    int code = PLUMB_EXIT_ERROR, unlock = strcmp(sub, "unlock") == 0;
    int behind = 0;

    if ((unlock && !lock_id) || (!unlock && lock_id)) {
        fprintf(stderr, "usage: plumb state %s -e ENV\n", unlock ? "unlock LOCK_ID" : sub);
        return PLUMB_EXIT_ERROR;
    }
    if (plumb_session_open(&s, cli, strcmp(sub, "push") == 0 ? PLUMB_SESSION_LOCK : 0) !=
        PLUMB_EXIT_OK)
        goto done;
    if (!s.remote) {
        fprintf(stderr,
                "plumb: environment '%s' keeps its state locally (state/%s): there is "
                "no shared state to %s\n",
                s.env, s.env, sub);
        goto done;
    }
    if (strcmp(sub, "pull") == 0) {
        printf("State of '%s' is current with %s (serial %ld).\n", s.env,
               plumb_remote_url(s.remote), plumb_state_serial(s.state));
        code = PLUMB_EXIT_OK;
        goto done;
    }
    if (strcmp(sub, "push") == 0) {
        if (plumb_remote_behind(s.remote, s.state, &behind) < 0 ||
            (behind && plumb_remote_push(s.remote, s.state) < 0)) {
            plumb_cli_error(cli, NULL);
            goto done;
        }
        printf("%s %s (serial %ld).\n",
               behind ? "Pushed the state to" : "Nothing to push: already at",
               plumb_remote_url(s.remote), plumb_state_serial(s.state));
        code = PLUMB_EXIT_OK;
        goto done;
    }
    if (plumb_remote_holder(s.remote, &holder) < 0) {
        plumb_cli_error(cli, NULL);
        goto done;
    }
    if (!holder) {
        fprintf(stderr, "plumb: the state of '%s' is not locked\n", s.env);
        goto done;
    }
    if (strcmp(plumb_json_str(holder, "ID", "?"), lock_id) != 0) {
        fprintf(stderr, "plumb: the lock held on '%s' has id %s, not %s\n", s.env,
                plumb_json_str(holder, "ID", "?"), lock_id);
        goto done;
    }
    fprintf(stderr, "The state of '%s' is locked by %s (pid %lld on %s, running '%s' since %s).\n",
            s.env, plumb_json_str(holder, "Who", "?"),
            (long long)json_integer_value(json_object_get(holder, "Pid")),
            plumb_json_str(holder, "Host", "?"), plumb_json_str(holder, "Operation", "?"),
            plumb_json_str(holder, "Created", "?"));
    if (!plumb_cli_confirm(cli,
                           "Release it? Only if that process is gone: two writers would corrupt "
                           "the state.",
                           "unlock"))
        goto done;
    if (plumb_remote_force_unlock(s.remote, lock_id) < 0) {
        plumb_cli_error(cli, NULL);
        goto done;
    }
    printf("Unlocked the state of '%s'.\n", s.env);
    code = PLUMB_EXIT_OK;
done:
    json_decref(holder);
    plumb_session_close(&s);
    return code;
}

int plumb_cmd_state(struct plumb_cli *cli)
{
    struct plumb_session s;
    const char *sub = cli->noperands ? cli->operands[0] : "";
    const char *addr = cli->noperands > 1 ? cli->operands[1] : NULL;
    int code = PLUMB_EXIT_ERROR, needs_addr = strcmp(sub, "show") == 0 || strcmp(sub, "rm") == 0;
    json_t *rec;

    memset(&s, 0, sizeof(s));
    if (strcmp(sub, "pull") == 0 || strcmp(sub, "push") == 0 || strcmp(sub, "unlock") == 0)
        return remote_command(cli, sub, addr);
    if (strcmp(sub, "list") != 0 && !needs_addr) {
        fprintf(stderr,
                "usage: plumb state list|show ADDR|rm ADDR|pull|push|unlock LOCK_ID -e ENV\n");
        return PLUMB_EXIT_ERROR;
    }
    if (needs_addr != (addr != NULL) || cli->noperands > 2) {
        fprintf(stderr, "usage: plumb state %s%s -e ENV\n", sub, needs_addr ? " ADDR" : "");
        return PLUMB_EXIT_ERROR;
    }
    if (plumb_session_open(&s, cli, strcmp(sub, "rm") == 0 ? PLUMB_SESSION_LOCK : 0) !=
        PLUMB_EXIT_OK)
        goto done;
    if (strcmp(sub, "list") == 0) {
        code = list(&s);
        goto done;
    }
    rec = json_object_get(s.records, addr);
    if (!rec) {
        fprintf(stderr, "plumb: '%s' is not in the state of environment '%s'\n", addr, s.env);
        goto done;
    }
    if (strcmp(sub, "show") == 0) {
        json_t *shown = plumb_cli_printable(rec);
        plumb_cli_print_json(shown);
        json_decref(shown);
        code = PLUMB_EXIT_OK;
        goto done;
    }
    if (plumb_state_remove(s.state, addr) < 0) {
        plumb_cli_error(cli, NULL);
        goto done;
    }
    printf("Removed %s from the state of '%s'. The resource itself still exists in AWS.\n", addr,
           s.env);
    code = PLUMB_EXIT_OK;
done:
    plumb_session_close(&s);
    return code;
}
