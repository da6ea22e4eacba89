/*
 * The declarative model (DESIGN.md §3). Two steps, after Terraform's split between a static
 * config tree and its evaluation:
 *
 *   plumb_project_load     plumb.yaml and its modules → a project: every declaration checked
 *                          for shape (keys, types, names), nothing evaluated;
 *   plumb_model_resolve    one environment of a project → its resources with their
 *                          properties evaluated (expressions, variables, module inputs and
 *                          outputs), checked against the schemas, and their dependency graph.
 *
 * Both collect every problem as a diagnostic with file:line:col and fail at the end.
 */
#ifndef PLUMB_CONFIG_MODEL_H
#define PLUMB_CONFIG_MODEL_H

#include <jansson.h>

#include "config/yaml.h"
#include "graph/graph.h"
#include "schema/schema.h"
#include "util/diag.h"
#include "util/kv.h"

struct plumb_scope; /* the root of a project, or one module instance inside it */

struct plumb_resource_decl {
    char *address;             /* "db", "module.site.bucket" */
    const char *name;          /* "bucket": the key in its file */
    struct plumb_scope *scope; /* where its names resolve */
    const char *type_name;     /* "AWS::S3::Bucket" */
    const struct plumb_schema_type *schema;
    const struct plumb_node *key;        /* the resource's name in the file */
    const struct plumb_node *node;       /* the resource's mapping */
    const struct plumb_node *properties; /* NULL when it has none */
    const struct plumb_node *depends_on; /* sequence of names, or NULL */
    int prevent_destroy;
    int create_before_destroy;
    int force_destroy;  /* delete a non-empty bucket or repository with what it holds */
    int final_snapshot; /* RDS: take a final snapshot when deleting */
    const struct plumb_node *ignore_changes; /* sequence of property paths, or NULL */
    const struct plumb_node *environments;   /* sequence of environment names, or NULL: all */
    long timeout_create, timeout_update, timeout_delete; /* seconds; the schema's by default */
};

struct plumb_env_decl {
    const char *name;
    const struct plumb_node *node;
    const struct plumb_node *vars; /* mapping or NULL */
    int protect;
};

struct plumb_project {
    char *dir;  /* the project directory */
    char *file; /* dir/plumb.yaml */
    const char *name;
    const char *region;            /* NULL when not set */
    const struct plumb_node *vars; /* top-level vars mapping, or NULL */
    struct plumb_env_decl *envs;
    size_t nenvs;
    const struct plumb_node *state;        /* mapping or NULL: local backend */
    const struct plumb_node *checks;       /* sequence or NULL */
    const struct plumb_node *outputs;      /* mapping or NULL */
    const struct plumb_node *audit;        /* mapping or NULL */
    const struct plumb_node *bootstrap;    /* mapping or NULL */
    struct plumb_resource_decl *resources; /* every scope's, sorted by address */
    size_t nresources;
    struct plumb_scope *root;
    /* private: documents and scopes */
    struct plumb_doc **docs;
    size_t ndocs;
    struct plumb_scope **scopes;
    size_t nscopes;
};

/* Loads `dir`/plumb.yaml (dir NULL: the current directory) and every module it uses.
 * `modules_dir` is where bare module names resolve (NULL: the shipped modules).
 * PLUMB_EINVALID when it found problems (in `diags`): *out is set all the same when the file
 * was a mapping, so the caller can resolve environments to find more; free it either way. */
int plumb_project_load(struct plumb_project **out, const char *dir, const char *modules_dir,
                       struct plumb_diags *diags);
void plumb_project_free(struct plumb_project *p);
const struct plumb_env_decl *plumb_project_env(const struct plumb_project *p, const char *name);
/* Comma-separated environment names, for messages. */
void plumb_project_env_names(struct plumb_buf *out, const struct plumb_project *p);

/* ---- one environment, resolved ------------------------------------------------------- */

struct plumb_resource {
    const struct plumb_resource_decl *decl;
    const char *address;
    json_t *properties; /* evaluated; config/value.h marks for unknown and sensitive */
};

struct plumb_check {
    json_t *http; /* the URL: a string, or unknown until apply */
    int expect;   /* HTTP status, default 200 */
    long within;  /* seconds, default 300 */
    struct plumb_loc loc;
};

struct plumb_model {
    const struct plumb_project *project;
    const struct plumb_env_decl *env;
    json_t *vars;                     /* name → value, after --var and env vars */
    struct plumb_resource *resources; /* in this environment, sorted by address */
    size_t nresources;
    struct plumb_graph *graph; /* node i is resources[i]; edges from both kinds of deps */
    size_t *order;             /* topological: dependencies first */
    json_t *outputs;           /* name → value */
    struct plumb_check *checks;
    size_t nchecks;
    json_t *state; /* the resolved `state:` block, {} when absent */
};

/*
 * Values of other resources' attributes that are known before apply (from state, for a plan
 * against what exists): a new reference, or NULL when unknown. Optional.
 */
typedef json_t *(*plumb_attr_lookup_fn)(void *ctx, const char *address, const char *attr);

struct plumb_resolve_options {
    const char *env;
    const struct plumb_kvlist *cli_vars; /* --var K=V, values parsed as YAML scalars */
    const char *account_id;              /* NULL: unknown until AWS is asked */
    const char *region;                  /* NULL: the project's region, else unknown */
    /* A ${secret.env.X} whose variable is unset: an error (plan, apply) or unknown
     * (validate, graph: no secret is needed to check a configuration). */
    int require_secrets;
    plumb_attr_lookup_fn lookup;
    void *lookup_ctx;
};

int plumb_model_resolve(struct plumb_model **out, const struct plumb_project *p,
                        const struct plumb_resolve_options *opts, struct plumb_diags *diags);
void plumb_model_free(struct plumb_model *m);
/* The index of `address` in m->resources, or -1. */
long plumb_model_find(const struct plumb_model *m, const char *address);

/* "90s", "5m", "1h30m", or a plain number of seconds → seconds; -1 when malformed. */
long plumb_parse_duration(const char *s);

#endif
