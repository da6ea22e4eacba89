/*
 * A directed acyclic graph over nodes 0..n-1, knowing nothing of resources (after
 * Terraform's dag package). An edge a → b means "a depends on b": b comes first.
 *
 * Orders are deterministic: among nodes that are ready at the same time the lowest index
 * goes first, so callers that number nodes in a stable order (sorted addresses) get the same
 * plan every run. A cycle is an error naming the nodes around it in order.
 */
#ifndef PLUMB_GRAPH_GRAPH_H
#define PLUMB_GRAPH_GRAPH_H

#include <stddef.h>

#include "util/buf.h"

struct plumb_graph;

int plumb_graph_new(struct plumb_graph **out, size_t n);
void plumb_graph_free(struct plumb_graph *g);
size_t plumb_graph_size(const struct plumb_graph *g);
/* The name used for node `i` in messages (copied); unnamed nodes show as their index. */
int plumb_graph_set_name(struct plumb_graph *g, size_t i, const char *name);
/* The name set for `i`, or NULL when none was. */
const char *plumb_graph_name(const struct plumb_graph *g, size_t i);
/* `from` depends on `to`. Duplicate edges are kept once; a self edge is a cycle. */
int plumb_graph_add_edge(struct plumb_graph *g, size_t from, size_t to);
/*
 * What `i` depends on / what depends on `i`, sorted ascending; valid until the next edit.
 * Edges are sorted and de-duplicated lazily, by the first read after an edit, so reading from
 * several threads is safe only once one of the whole-graph functions below (toposort,
 * closure, the scheduler, the renderers) has run since the last edit.
 */
const size_t *plumb_graph_deps(const struct plumb_graph *g, size_t i, size_t *n);
const size_t *plumb_graph_dependents(const struct plumb_graph *g, size_t i, size_t *n);

/*
 * Topological order (dependencies first) into out[0..n-1]. On a cycle: PLUMB_EINVALID with
 * the message "dependency cycle: a -> b -> c -> a" in the last error, and out[] holds only
 * part of an order. The cycle named is the shortest through the lowest node on any cycle,
 * starting from that node and following dependencies.
 */
int plumb_graph_toposort(size_t *out, const struct plumb_graph *g);
/*
 * The same, reversed: dependents first (the order to delete in). Among nodes ready at the
 * same time the lowest index still goes first, so this is not toposort read backwards.
 */
int plumb_graph_toposort_reverse(size_t *out, const struct plumb_graph *g);

/*
 * Sets keep[i] to 1 for every node reachable from `roots` (roots included) following
 * dependencies, and to 0 for the rest. PLUMB_EINVALID for a root out of range.
 */
int plumb_graph_closure(unsigned char *keep, const struct plumb_graph *g, const size_t *roots,
                        size_t nroots);
/* The same following dependents: the roots and everything that depends on them. */
int plumb_graph_closure_reverse(unsigned char *keep, const struct plumb_graph *g,
                                const size_t *roots, size_t nroots);

/*
 * A ready-set scheduler for running the graph in parallel: a node is ready when everything
 * it depends on is done. Not thread-safe: the scheduler thread owns it, workers report back
 * to it, so every call is serialised by the caller. The graph must not change while it lives.
 *   - next: the lowest ready node not yet started, or -1 when none is ready now
 *   - done: mark a started node finished, which may make dependents ready
 *   - fail: mark it failed; its transitive dependents in the run are skipped, never ready
 *   - finished: no node is ready or running any more
 * `only` (may be NULL) restricts the run to the nodes with only[i] != 0; the others count as
 * done already and are never returned. done and fail on a node that is not running are
 * ignored. plumb_sched_new fails with PLUMB_EINVALID, naming the cycle, when the nodes of
 * `only` cannot all run because of a cycle among them.
 */
struct plumb_sched;
int plumb_sched_new(struct plumb_sched **out, const struct plumb_graph *g,
                    const unsigned char *only);
void plumb_sched_free(struct plumb_sched *s);
long plumb_sched_next(struct plumb_sched *s);
void plumb_sched_done(struct plumb_sched *s, size_t i);
void plumb_sched_fail(struct plumb_sched *s, size_t i);
int plumb_sched_finished(const struct plumb_sched *s);
/* 1 when node i was skipped because something it depends on failed. */
int plumb_sched_skipped(const struct plumb_sched *s, size_t i);

/*
 * Renders the graph (appending to `out`), nodes by index and edges by (from, to):
 *   - Graphviz dot, an edge "a" -> "b" meaning a depends on b;
 *   - JSON {"format_version": "1", "nodes": [{"id": 0, "name": "a"}, ...],
 *           "edges": [{"from": "a", "to": "b"}, ...]}, one line, from depending on to.
 */
int plumb_graph_render_dot(struct plumb_buf *out, const struct plumb_graph *g);
int plumb_graph_render_json(struct plumb_buf *out, const struct plumb_graph *g);

#endif
