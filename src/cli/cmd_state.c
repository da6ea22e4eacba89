/*
 * plumb state list|show ADDR|rm ADDR -e ENV: look into state, or make plumb forget a
 * resource (it stays in AWS: `rm` is how a resource leaves plumb's management).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/session.h"
#include "util/error.h"

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

int plumb_cmd_state(struct plumb_cli *cli)
{
    struct plumb_session s;
    const char *sub = cli->noperands ? cli->operands[0] : "";
    const char *addr = cli->noperands > 1 ? cli->operands[1] : NULL;
    int code = PLUMB_EXIT_ERROR, needs_addr = strcmp(sub, "show") == 0 || strcmp(sub, "rm") == 0;
    json_t *rec;

    memset(&s, 0, sizeof(s));
    if (strcmp(sub, "list") != 0 && !needs_addr) {
        fprintf(stderr, "usage: plumb state list|show ADDR|rm ADDR -e ENV\n");
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
        char *text = json_dumps(rec, JSON_INDENT(2) | JSON_SORT_KEYS);
        printf("%s\n", text ? text : "");
        free(text);
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
