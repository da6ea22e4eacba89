/*
 * plumb import -e ENV ADDR ID: take an existing AWS resource under management. The resource
 * is read through its driver (so it must exist and be of the declared type) and recorded in
 * state; the next plan compares it with the declaration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/session.h"
#include "provider/provider.h"
#include "util/error.h"
#include "util/sys.h"

/* ID as the type's primary identifier: a plain value for a one-property identifier, or
 * values joined with '|' in the schema's order for a composite one ("arn|cluster"). */
static json_t *parse_id(const struct plumb_schema_type *t, const char *text)
{
    const json_t *pid = json_object_get(t->doc, "primaryIdentifier"), *p;
    json_t *id = json_object();
    const char *rest = text;
    size_t i, n = json_array_size(pid);

    json_array_foreach(pid, i, p)
    {
        const char *ptr = json_string_value(p);
        size_t len = i + 1 < n ? strcspn(rest, "|") : strlen(rest);
        if (!ptr || strncmp(ptr, "/properties/", 12) != 0 || (i + 1 < n && rest[len] != '|')) {
            json_decref(id);
            return NULL;
        }
        json_object_set_new(id, ptr + 12, json_stringn(rest, len));
        rest += len + (i + 1 < n);
    }
    return id;
}

int plumb_cmd_import(struct plumb_cli *cli)
{
    struct plumb_session s;
    const struct plumb_resource_type *driver;
    const char *addr = cli->operands[0], *text = cli->operands[1];
    json_t *id = NULL, *observed = NULL, *rec = NULL;
    int code = PLUMB_EXIT_ERROR;
    char now[21];
    long idx;

    if (plumb_session_open(&s, cli, PLUMB_SESSION_AWS | PLUMB_SESSION_LOCK | PLUMB_SESSION_MODEL) !=
        PLUMB_EXIT_OK)
        goto done;
    idx = plumb_model_find(s.model, addr);
    if (idx < 0) {
        fprintf(stderr, "plumb: '%s' is not declared in environment '%s': declare it first\n", addr,
                s.env);
        goto done;
    }
    if (json_object_get(s.records, addr)) {
        fprintf(stderr, "plumb: '%s' is already managed; 'plumb state rm' it first\n", addr);
        goto done;
    }
    driver = plumb_provider_find(s.model->resources[idx].decl->type_name);
    if (!driver || !s.model->resources[idx].decl->schema) {
        fprintf(stderr, "plumb: no driver for type '%s'\n",
                s.model->resources[idx].decl->type_name);
        goto done;
    }
    id = parse_id(s.model->resources[idx].decl->schema, text);
    if (!id) {
        fprintf(stderr, "plumb: '%s' is not an identifier of %s\n", text,
                s.model->resources[idx].decl->type_name);
        goto done;
    }
    if (driver->read(s.aws, id, &observed) < 0) {
        plumb_cli_error(cli, "import");
        goto done;
    }
    if (!observed) {
        fprintf(stderr, "plumb: no %s '%s' exists in AWS\n", driver->type_name, text);
        goto done;
    }
    plumb_time_iso8601(now, plumb_clock_now());
    /* nothing was applied by plumb yet: the next plan compares the declaration with AWS */
    rec = json_pack("{s:s, s:O, s:{}, s:O, s:[], s:s, s:s}", "type", driver->type_name, "id", id,
                    "properties", "observed", observed, "dependencies", "imported_at", now,
                    "refreshed_at", now);
    if (plumb_state_put(s.state, addr, rec) < 0) {
        plumb_cli_error(cli, NULL);
        goto done;
    }
    printf("Imported %s (%s). Run 'plumb plan -e %s' to compare it with the declaration.\n", addr,
           text, s.env);
    code = PLUMB_EXIT_OK;
done:
    json_decref(id);
    json_decref(observed);
    json_decref(rec);
    plumb_session_close(&s);
    return code;
}
