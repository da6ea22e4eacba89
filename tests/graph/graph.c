#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"
#include "util/error.h"

/* A fixed-seed generator of our own, so the random graphs are the same on every libc. */
static uint64_t rng_state;

static void rng_seed(uint64_t seed)
{
    rng_state = seed;
}

static size_t rng_below(size_t n)
{
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (size_t)((rng_state * 2685821657736338717ULL) >> 11) % n;
}

/* A graph of n nodes, the first ones named from `names` (NULL-terminated; may be NULL). */
static struct plumb_graph *new_graph(size_t n, const char *const *names)
{
    struct plumb_graph *g = NULL;
    size_t i;

    cr_assert_eq(plumb_graph_new(&g, n), 0);
    cr_assert_not_null(g);
    for (i = 0; names && names[i]; i++)
        cr_assert_eq(plumb_graph_set_name(g, i, names[i]), 0);
    return g;
}

static void add_edges(struct plumb_graph *g, const size_t (*edges)[2], size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        cr_assert_eq(plumb_graph_add_edge(g, edges[i][0], edges[i][1]), 0);
}

static void assert_order(const size_t *got, const size_t *want, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        cr_assert_eq(got[i], want[i], "position %zu: got %zu, want %zu", i, got[i], want[i]);
}

/* Every node exactly once, and every dependency before (or, reversed, after) its dependent. */
static void assert_valid_order(const struct plumb_graph *g, const size_t *order, int reverse)
{
    size_t n = plumb_graph_size(g), *pos = malloc((n ? n : 1) * sizeof(*pos)), i, j, nd;
    const size_t *deps;

    cr_assert_not_null(pos);
    for (i = 0; i < n; i++)
        pos[i] = SIZE_MAX;
    for (i = 0; i < n; i++) {
        cr_assert_lt(order[i], n);
        cr_assert_eq(pos[order[i]], SIZE_MAX, "node %zu appears twice", order[i]);
        pos[order[i]] = i;
    }
    for (i = 0; i < n; i++) {
        deps = plumb_graph_deps(g, i, &nd);
        for (j = 0; j < nd; j++) {
            if (reverse)
                cr_assert_gt(pos[deps[j]], pos[i], "%zu depends on %zu", i, deps[j]);
            else
                cr_assert_lt(pos[deps[j]], pos[i], "%zu depends on %zu", i, deps[j]);
        }
    }
    free(pos);
}

static void assert_cycle(const struct plumb_graph *g, const char *want)
{
    size_t n = plumb_graph_size(g), *order = malloc((n ? n : 1) * sizeof(*order));

    cr_assert_not_null(order);
    plumb_error_clear();
    cr_assert_eq(plumb_graph_toposort(order, g), PLUMB_EINVALID);
    cr_assert_eq(plumb_error_last()->code, PLUMB_EINVALID);
    cr_assert_str_eq(plumb_error_message(), want);
    /* The same cycle, named the same way, when ordering for deletes. */
    plumb_error_clear();
    cr_assert_eq(plumb_graph_toposort_reverse(order, g), PLUMB_EINVALID);
    cr_assert_str_eq(plumb_error_message(), want);
    free(order);
}

Test(graph, lowest_ready_node_first)
{
    /* 0 -> 3 -> 4, 1 -> 0, 2 alone. */
    static const size_t edges[][2] = {{0, 3}, {1, 0}, {3, 4}};
    static const size_t want[] = {2, 4, 3, 0, 1};
    /* Reversed: ready when every dependent is gone; not simply the order above backwards. */
    static const size_t want_reverse[] = {1, 0, 2, 3, 4};
    struct plumb_graph *g = new_graph(5, NULL);
    size_t order[5];

    add_edges(g, edges, 3);
    cr_assert_eq(plumb_graph_toposort(order, g), 0);
    assert_order(order, want, 5);
    cr_assert_eq(plumb_graph_toposort_reverse(order, g), 0);
    assert_order(order, want_reverse, 5);
    plumb_graph_free(g);
}

Test(graph, order_does_not_depend_on_edge_insertion_order)
{
    static const size_t edges[][2] = {{5, 1}, {5, 0}, {2, 4}, {3, 4}, {0, 4}, {1, 3}, {5, 3}};
    size_t order_a[6], order_b[6], i, j, na, nb;
    struct plumb_graph *a = new_graph(6, NULL), *b = new_graph(6, NULL);
    const size_t *da, *db;

    add_edges(a, edges, 7);
    for (i = 7; i-- > 0;) {
        cr_assert_eq(plumb_graph_add_edge(b, edges[i][0], edges[i][1]), 0);
        cr_assert_eq(plumb_graph_add_edge(b, edges[i][0], edges[i][1]), 0);
    }
    cr_assert_eq(plumb_graph_toposort(order_a, a), 0);
    cr_assert_eq(plumb_graph_toposort(order_b, b), 0);
    assert_order(order_b, order_a, 6);
    {
        static const size_t want[] = {4, 0, 2, 3, 1, 5};
        assert_order(order_a, want, 6);
    }
    for (i = 0; i < 6; i++) {
        da = plumb_graph_deps(a, i, &na);
        db = plumb_graph_deps(b, i, &nb);
        cr_assert_eq(na, nb);
        for (j = 0; j < na; j++)
            cr_assert_eq(da[j], db[j]);
        da = plumb_graph_dependents(a, i, &na);
        db = plumb_graph_dependents(b, i, &nb);
        cr_assert_eq(na, nb);
        for (j = 0; j < na; j++)
            cr_assert_eq(da[j], db[j]);
    }
    plumb_graph_free(a);
    plumb_graph_free(b);
}

Test(graph, duplicate_edges_kept_once_and_sorted)
{
    struct plumb_graph *g = new_graph(4, NULL);
    const size_t *d;
    size_t n;

    cr_assert_eq(plumb_graph_add_edge(g, 0, 3), 0);
    cr_assert_eq(plumb_graph_add_edge(g, 0, 1), 0);
    cr_assert_eq(plumb_graph_add_edge(g, 0, 3), 0);
    cr_assert_eq(plumb_graph_add_edge(g, 2, 3), 0);
    cr_assert_eq(plumb_graph_add_edge(g, 0, 1), 0);
    cr_assert_eq(plumb_graph_add_edge(g, 0, 3), 0);
    d = plumb_graph_deps(g, 0, &n);
    cr_assert_eq(n, 2);
    cr_assert_eq(d[0], 1);
    cr_assert_eq(d[1], 3);
    d = plumb_graph_dependents(g, 3, &n);
    cr_assert_eq(n, 2);
    cr_assert_eq(d[0], 0);
    cr_assert_eq(d[1], 2);
    d = plumb_graph_dependents(g, 1, &n);
    cr_assert_eq(n, 1);
    cr_assert_eq(d[0], 0);
    plumb_graph_deps(g, 2, &n);
    cr_assert_eq(n, 1);
    plumb_graph_deps(g, 3, &n);
    cr_assert_eq(n, 0);
    /* Reading tidied node 0; a later edit must be seen by the next read. */
    cr_assert_eq(plumb_graph_add_edge(g, 0, 2), 0);
    d = plumb_graph_deps(g, 0, &n);
    cr_assert_eq(n, 3);
    cr_assert_eq(d[0], 1);
    cr_assert_eq(d[1], 2);
    cr_assert_eq(d[2], 3);
    plumb_graph_free(g);
}

Test(graph, matches_a_naive_reference_on_random_graphs)
{
    size_t round;

    rng_seed(42);
    for (round = 0; round < 200; round++) {
        size_t n = 1 + rng_below(40), nedges = rng_below(3 * n), i, k, order[40], want[40];
        unsigned char emitted[40] = {0};
        struct plumb_graph *g = new_graph(n, NULL);

        /* Edges between random nodes, pointing from a higher to a lower rank of a random
         * permutation, so the graph is acyclic but not ordered by index. */
        size_t rank[40];
        for (i = 0; i < n; i++)
            rank[i] = i;
        for (i = n; i > 1; i--) {
            size_t j = rng_below(i), t = rank[i - 1];
            rank[i - 1] = rank[j];
            rank[j] = t;
        }
        for (i = 0; i < nedges; i++) {
            size_t a = rng_below(n), b = rng_below(n);
            if (rank[a] > rank[b])
                cr_assert_eq(plumb_graph_add_edge(g, a, b), 0);
            else if (rank[a] < rank[b])
                cr_assert_eq(plumb_graph_add_edge(g, b, a), 0);
        }
        /* Reference: quadratic, obviously right: the lowest node whose deps are all out. */
        for (k = 0; k < n; k++) {
            for (i = 0; i < n; i++) {
                size_t nd, j;
                const size_t *d = plumb_graph_deps(g, i, &nd);
                if (emitted[i])
                    continue;
                for (j = 0; j < nd && emitted[d[j]]; j++)
                    ;
                if (j == nd)
                    break;
            }
            cr_assert_lt(i, n);
            emitted[i] = 1;
            want[k] = i;
        }
        cr_assert_eq(plumb_graph_toposort(order, g), 0);
        assert_order(order, want, n);
        cr_assert_eq(plumb_graph_toposort_reverse(order, g), 0);
        assert_valid_order(g, order, 1);
        plumb_graph_free(g);
    }
}

Test(graph, names_and_range_checks)
{
    struct plumb_graph *g = new_graph(2, NULL);
    const size_t *d;
    size_t n = 7;

    cr_assert_eq(plumb_graph_size(g), 2);
    cr_assert_null(plumb_graph_name(g, 0));
    cr_assert_eq(plumb_graph_set_name(g, 0, "first"), 0);
    cr_assert_eq(plumb_graph_set_name(g, 0, "second"), 0);
    cr_assert_str_eq(plumb_graph_name(g, 0), "second");
    cr_assert_eq(plumb_graph_set_name(g, 0, NULL), 0);
    cr_assert_null(plumb_graph_name(g, 0));
    cr_assert_null(plumb_graph_name(g, 2));
    cr_assert_eq(plumb_graph_set_name(g, 2, "x"), PLUMB_EINVALID);
    cr_assert_eq(plumb_graph_add_edge(g, 0, 2), PLUMB_EINVALID);
    cr_assert_str_eq(plumb_error_message(), "edge 0 -> 2: node out of range (graph has 2 nodes)");
    cr_assert_eq(plumb_graph_add_edge(g, 5, 1), PLUMB_EINVALID);
    d = plumb_graph_deps(g, 9, &n);
    cr_assert_null(d);
    cr_assert_eq(n, 0);
    plumb_graph_deps(g, 0, &n);
    cr_assert_eq(n, 0);
    plumb_graph_free(g);
}

Test(graph, empty_graph)
{
    struct plumb_graph *g = new_graph(0, NULL);
    struct plumb_sched *s = NULL;
    size_t order[1];
    unsigned char keep[1] = {7};

    cr_assert_eq(plumb_graph_toposort(order, g), 0);
    cr_assert_eq(plumb_graph_toposort_reverse(order, g), 0);
    cr_assert_eq(plumb_graph_closure(keep, g, NULL, 0), 0);
    cr_assert_eq(plumb_sched_new(&s, g, NULL), 0);
    cr_assert_eq(plumb_sched_next(s), -1);
    cr_assert(plumb_sched_finished(s));
    plumb_sched_free(s);
    plumb_graph_free(g);
}

Test(graph_cycle, names_the_nodes_in_dependency_order)
{
    static const char *const names[] = {"a", "b", "c", NULL};
    static const size_t edges[][2] = {{0, 1}, {1, 2}, {2, 0}};
    struct plumb_graph *g = new_graph(3, names);

    add_edges(g, edges, 3);
    assert_cycle(g, "dependency cycle: a -> b -> c -> a");
    plumb_graph_free(g);
}

Test(graph_cycle, starts_from_the_lowest_node_and_uses_indexes_when_unnamed)
{
    /* 2 -> 3 -> 1 -> 2, entered from 2 by insertion order but named from 1. */
    static const size_t edges[][2] = {{2, 3}, {3, 1}, {1, 2}};
    struct plumb_graph *g = new_graph(4, NULL);

    add_edges(g, edges, 3);
    assert_cycle(g, "dependency cycle: 1 -> 2 -> 3 -> 1");
    plumb_graph_free(g);
}

Test(graph_cycle, skips_nodes_that_only_depend_on_a_cycle)
{
    /*
     * web (0) depends on the cycle db (2) <-> vpc (3) without being on it, and so does mid
     * (1), which is itself depended on by the cycle role (4) <-> policy (5): mid survives
     * Kahn in both directions yet is on no cycle. The lowest node on a cycle is db.
     */
    static const char *const names[] = {"web", "mid", "db", "vpc", "role", "policy", NULL};
    static const size_t edges[][2] = {{0, 2}, {1, 2}, {2, 3}, {3, 2}, {4, 1}, {4, 5}, {5, 4}};
    struct plumb_graph *g = new_graph(6, names);

    add_edges(g, edges, 7);
    assert_cycle(g, "dependency cycle: db -> vpc -> db");
    plumb_graph_free(g);
}

Test(graph_cycle, self_edge)
{
    static const char *const names[] = {"a", "b", NULL};
    struct plumb_graph *g = new_graph(2, names);

    cr_assert_eq(plumb_graph_add_edge(g, 0, 1), 0);
    cr_assert_eq(plumb_graph_add_edge(g, 1, 1), 0);
    assert_cycle(g, "dependency cycle: b -> b");
    plumb_graph_free(g);
}

Test(graph_cycle, two_cycles_names_the_one_with_the_lowest_node)
{
    static const char *const names[] = {"n0", "n1", "n2", "n3", "n4", "n5", NULL};
    /* The cycle 3 <-> 4 comes first by insertion and holds lower nodes than 5, but 1 < 3. */
    static const size_t edges[][2] = {{3, 4}, {4, 3}, {0, 3}, {5, 1}, {1, 5}, {2, 1}};
    struct plumb_graph *g = new_graph(6, names);

    add_edges(g, edges, 6);
    assert_cycle(g, "dependency cycle: n1 -> n5 -> n1");
    plumb_graph_free(g);
}

Test(graph_cycle, names_the_shortest_cycle_through_the_lowest_node)
{
    /* a -> b -> c -> d -> a and a -> d -> a: a depth-first walk would name the long one. */
    static const char *const names[] = {"a", "b", "c", "d", NULL};
    static const size_t edges[][2] = {{0, 1}, {1, 2}, {2, 3}, {3, 0}, {0, 3}};
    struct plumb_graph *g = new_graph(4, names);

    add_edges(g, edges, 5);
    assert_cycle(g, "dependency cycle: a -> d -> a");
    plumb_graph_free(g);
}

Test(graph_closure, follows_dependencies_or_dependents)
{
    /* 0 -> 1 -> 3, 0 -> 2 -> 3, 4 -> 2, 5 alone. */
    static const size_t edges[][2] = {{0, 1}, {1, 3}, {0, 2}, {2, 3}, {4, 2}};
    static const unsigned char want_deps[] = {0, 0, 1, 1, 1, 0};
    static const unsigned char want_dependents[] = {1, 0, 1, 0, 1, 0};
    static const unsigned char want_both[] = {1, 1, 1, 1, 0, 1};
    struct plumb_graph *g = new_graph(6, NULL);
    unsigned char keep[6];
    size_t roots[2];

    add_edges(g, edges, 5);
    memset(keep, 1, sizeof(keep)); /* overwritten, not added to */
    roots[0] = 4;
    cr_assert_eq(plumb_graph_closure(keep, g, roots, 1), 0);
    cr_assert_arr_eq(keep, want_deps, 6);
    roots[0] = 2;
    cr_assert_eq(plumb_graph_closure_reverse(keep, g, roots, 1), 0);
    cr_assert_arr_eq(keep, want_dependents, 6);
    roots[0] = 5;
    roots[1] = 0;
    cr_assert_eq(plumb_graph_closure(keep, g, roots, 2), 0);
    cr_assert_arr_eq(keep, want_both, 6);
    roots[0] = 6;
    cr_assert_eq(plumb_graph_closure(keep, g, roots, 1), PLUMB_EINVALID);
    plumb_graph_free(g);
}

Test(graph_closure, terminates_on_cycles)
{
    static const size_t edges[][2] = {{0, 1}, {1, 2}, {2, 0}, {3, 3}};
    static const unsigned char want[] = {1, 1, 1, 0};
    struct plumb_graph *g = new_graph(4, NULL);
    unsigned char keep[4];
    size_t root = 1;

    add_edges(g, edges, 4);
    cr_assert_eq(plumb_graph_closure(keep, g, &root, 1), 0);
    cr_assert_arr_eq(keep, want, 4);
    plumb_graph_free(g);
}

/* The diamond 0 -> {1, 2} -> 3 and an independent 4. */
static struct plumb_graph *diamond(void)
{
    static const size_t edges[][2] = {{0, 1}, {0, 2}, {1, 3}, {2, 3}};
    struct plumb_graph *g = new_graph(5, NULL);

    add_edges(g, edges, 4);
    return g;
}

Test(sched, releases_nodes_as_their_dependencies_finish)
{
    struct plumb_graph *g = diamond();
    struct plumb_sched *s = NULL;

    cr_assert_eq(plumb_sched_new(&s, g, NULL), 0);
    cr_assert_not(plumb_sched_finished(s));
    cr_assert_eq(plumb_sched_next(s), 3);
    cr_assert_eq(plumb_sched_next(s), 4);
    cr_assert_eq(plumb_sched_next(s), -1);
    cr_assert_not(plumb_sched_finished(s)); /* running */
    plumb_sched_done(s, 1);                 /* not running: ignored */
    cr_assert_eq(plumb_sched_next(s), -1);
    plumb_sched_done(s, 3);
    cr_assert_eq(plumb_sched_next(s), 1);
    plumb_sched_done(s, 1);
    cr_assert_eq(plumb_sched_next(s), 2);
    cr_assert_eq(plumb_sched_next(s), -1); /* 0 still waits for 2 */
    plumb_sched_done(s, 2);
    plumb_sched_done(s, 2); /* twice: ignored */
    cr_assert_eq(plumb_sched_next(s), 0);
    plumb_sched_done(s, 0);
    cr_assert_not(plumb_sched_finished(s)); /* 4 still running */
    plumb_sched_done(s, 4);
    cr_assert(plumb_sched_finished(s));
    cr_assert_eq(plumb_sched_next(s), -1);
    plumb_sched_free(s);
    plumb_graph_free(g);
}

Test(sched, failure_skips_every_transitive_dependent)
{
    struct plumb_graph *g = diamond();
    struct plumb_sched *s = NULL;
    size_t i;

    cr_assert_eq(plumb_sched_new(&s, g, NULL), 0);
    cr_assert_eq(plumb_sched_next(s), 3);
    cr_assert_eq(plumb_sched_next(s), 4);
    plumb_sched_fail(s, 3);
    cr_assert_eq(plumb_sched_next(s), -1);
    cr_assert_not(plumb_sched_finished(s));
    plumb_sched_done(s, 4);
    cr_assert(plumb_sched_finished(s));
    for (i = 0; i < 3; i++)
        cr_assert(plumb_sched_skipped(s, i), "node %zu", i);
    cr_assert_not(plumb_sched_skipped(s, 3)); /* failed, not skipped */
    cr_assert_not(plumb_sched_skipped(s, 4));
    cr_assert_not(plumb_sched_skipped(s, 5)); /* out of range */
    plumb_sched_free(s);
    plumb_graph_free(g);
}

Test(sched, failure_after_partial_progress)
{
    struct plumb_graph *g = diamond();
    struct plumb_sched *s = NULL;

    cr_assert_eq(plumb_sched_new(&s, g, NULL), 0);
    cr_assert_eq(plumb_sched_next(s), 3);
    plumb_sched_done(s, 3);
    cr_assert_eq(plumb_sched_next(s), 1);
    cr_assert_eq(plumb_sched_next(s), 2);
    plumb_sched_done(s, 1);
    plumb_sched_fail(s, 2);
    cr_assert(plumb_sched_skipped(s, 0));
    cr_assert_not(plumb_sched_skipped(s, 1));
    cr_assert_eq(plumb_sched_next(s), 4);
    plumb_sched_done(s, 4);
    cr_assert_eq(plumb_sched_next(s), -1);
    cr_assert(plumb_sched_finished(s));
    plumb_sched_free(s);
    plumb_graph_free(g);
}

Test(sched, only_filter_treats_the_rest_as_done)
{
    struct plumb_graph *g = diamond();
    struct plumb_sched *s = NULL;
    static const unsigned char only[] = {1, 1, 0, 0, 0};

    cr_assert_eq(plumb_sched_new(&s, g, only), 0);
    cr_assert_eq(plumb_sched_next(s), 1); /* 3 is outside the run: counts as done */
    cr_assert_eq(plumb_sched_next(s), -1);
    plumb_sched_done(s, 1);
    cr_assert_eq(plumb_sched_next(s), 0); /* 2 is outside too */
    plumb_sched_done(s, 0);
    cr_assert_eq(plumb_sched_next(s), -1);
    cr_assert(plumb_sched_finished(s));
    plumb_sched_free(s);
    plumb_graph_free(g);
}

Test(sched, failure_skips_only_within_the_run)
{
    /* 0 -> 1 -> 2 and 3 -> 2, with 1 outside the run: 0 does not wait for 2, 3 does. */
    static const size_t edges[][2] = {{0, 1}, {1, 2}, {3, 2}};
    static const unsigned char only[] = {1, 0, 1, 1};
    struct plumb_graph *g = new_graph(4, NULL);
    struct plumb_sched *s = NULL;

    add_edges(g, edges, 3);
    cr_assert_eq(plumb_sched_new(&s, g, only), 0);
    cr_assert_eq(plumb_sched_next(s), 0);
    cr_assert_eq(plumb_sched_next(s), 2);
    cr_assert_eq(plumb_sched_next(s), -1);
    plumb_sched_fail(s, 2);
    cr_assert(plumb_sched_skipped(s, 3));
    cr_assert_not(plumb_sched_skipped(s, 0));
    cr_assert_not(plumb_sched_skipped(s, 1));
    plumb_sched_done(s, 0);
    cr_assert(plumb_sched_finished(s));
    plumb_sched_free(s);
    plumb_graph_free(g);
}

Test(sched, refuses_a_cycle_in_the_run_only)
{
    static const char *const names[] = {"a", "b", "c", NULL};
    static const size_t edges[][2] = {{0, 1}, {1, 2}, {2, 1}};
    static const unsigned char without_cycle[] = {1, 1, 0};
    struct plumb_graph *g = new_graph(3, names);
    struct plumb_sched *s = NULL;

    add_edges(g, edges, 3);
    cr_assert_eq(plumb_sched_new(&s, g, NULL), PLUMB_EINVALID);
    cr_assert_null(s);
    cr_assert_str_eq(plumb_error_message(), "dependency cycle: b -> c -> b");
    cr_assert_eq(plumb_sched_new(&s, g, without_cycle), 0);
    cr_assert_eq(plumb_sched_next(s), 1);
    plumb_sched_done(s, 1);
    cr_assert_eq(plumb_sched_next(s), 0);
    plumb_sched_done(s, 0);
    cr_assert(plumb_sched_finished(s));
    plumb_sched_free(s);
    plumb_graph_free(g);
}

Test(graph_render, dot)
{
    static const char *const names[] = {"app", "say \"hi\"", "back\\slash", NULL};
    static const size_t edges[][2] = {{0, 2}, {0, 1}, {1, 2}, {0, 2}};
    struct plumb_graph *g = new_graph(4, names);
    struct plumb_buf b = PLUMB_BUF_INIT;

    add_edges(g, edges, 4);
    cr_assert_eq(plumb_graph_render_dot(&b, g), 0);
    cr_assert_str_eq(b.ptr, "digraph plumb {\n"
                            "  // \"a\" -> \"b\" means a depends on b: b comes first\n"
                            "  rankdir=RL;\n"
                            "  node [shape=box];\n"
                            "  \"app\";\n"
                            "  \"say \\\"hi\\\"\";\n"
                            "  \"back\\\\slash\";\n"
                            "  \"3\";\n"
                            "  \"app\" -> \"say \\\"hi\\\"\";\n"
                            "  \"app\" -> \"back\\\\slash\";\n"
                            "  \"say \\\"hi\\\"\" -> \"back\\\\slash\";\n"
                            "}\n");
    plumb_buf_release(&b);
    plumb_graph_free(g);
}

Test(graph_render, json)
{
    static const char *const names[] = {"web", "db \"main\"", NULL};
    struct plumb_graph *g = new_graph(3, names);
    struct plumb_buf b = PLUMB_BUF_INIT;

    cr_assert_eq(plumb_graph_add_edge(g, 0, 2), 0);
    cr_assert_eq(plumb_graph_add_edge(g, 0, 1), 0);
    cr_assert_eq(plumb_graph_add_edge(g, 0, 1), 0);
    cr_assert_eq(plumb_graph_render_json(&b, g), 0);
    cr_assert_str_eq(b.ptr, "{\"format_version\":\"1\","
                            "\"nodes\":[{\"id\":0,\"name\":\"web\"},"
                            "{\"id\":1,\"name\":\"db \\\"main\\\"\"},{\"id\":2,\"name\":\"2\"}],"
                            "\"edges\":[{\"from\":\"web\",\"to\":\"db \\\"main\\\"\"},"
                            "{\"from\":\"web\",\"to\":\"2\"}]}\n");
    plumb_buf_release(&b);
    plumb_graph_free(g);
}

Test(graph_render, json_refuses_invalid_utf8)
{
    struct plumb_graph *g = new_graph(1, NULL);
    struct plumb_buf b = PLUMB_BUF_INIT;

    cr_assert_eq(plumb_graph_set_name(g, 0, "bad\xff"), 0);
    cr_assert_eq(plumb_graph_render_json(&b, g), PLUMB_EINVALID);
    cr_assert_str_eq(plumb_error_message(), "name of node 0 is not valid utf-8");
    plumb_buf_release(&b);
    plumb_graph_free(g);
}

#define LARGE_N     100000
#define LARGE_EXTRA 200000

/* A chain i -> i + 1 through every node, plus random edges from lower to higher indexes. */
static struct plumb_graph *large_graph(void)
{
    struct plumb_graph *g = new_graph(LARGE_N, NULL);
    size_t i;

    for (i = 0; i + 1 < LARGE_N; i++)
        cr_assert_eq(plumb_graph_add_edge(g, i, i + 1), 0);
    rng_seed(20240601);
    for (i = 0; i < LARGE_EXTRA; i++) {
        size_t a = rng_below(LARGE_N), b = rng_below(LARGE_N);
        if (a != b)
            cr_assert_eq(plumb_graph_add_edge(g, a < b ? a : b, a < b ? b : a), 0);
    }
    return g;
}

Test(graph_large, order_and_closure_of_a_deep_chain)
{
    struct plumb_graph *g = large_graph();
    size_t *order = malloc(LARGE_N * sizeof(*order)), i, root;
    unsigned char *keep = malloc(LARGE_N);

    cr_assert_not_null(order);
    cr_assert_not_null(keep);
    cr_assert_eq(plumb_graph_toposort(order, g), 0);
    assert_valid_order(g, order, 0);
    /* The chain allows one order only. */
    cr_assert_eq(order[0], LARGE_N - 1);
    cr_assert_eq(order[LARGE_N - 1], 0);
    cr_assert_eq(plumb_graph_toposort_reverse(order, g), 0);
    assert_valid_order(g, order, 1);

    root = LARGE_N / 2;
    cr_assert_eq(plumb_graph_closure(keep, g, &root, 1), 0);
    for (i = 0; i < LARGE_N; i++)
        cr_assert_eq(keep[i], i >= root, "node %zu", i);
    cr_assert_eq(plumb_graph_closure_reverse(keep, g, &root, 1), 0);
    for (i = 0; i < LARGE_N; i++)
        cr_assert_eq(keep[i], i <= root, "node %zu", i);
    free(keep);
    free(order);
    plumb_graph_free(g);
}

Test(graph_large, scheduler_runs_every_node_in_a_valid_order)
{
    struct plumb_graph *g = large_graph();
    struct plumb_sched *s = NULL;
    size_t *order = malloc(LARGE_N * sizeof(*order)), k = 0, batch[64], nb, i;
    long next;

    cr_assert_not_null(order);
    cr_assert_eq(plumb_sched_new(&s, g, NULL), 0);
    while (!plumb_sched_finished(s)) {
        /* Start everything ready (up to a pool's worth), then finish it all. */
        nb = 0;
        while (nb < 64 && (next = plumb_sched_next(s)) >= 0)
            batch[nb++] = (size_t)next;
        cr_assert_gt(nb, 0);
        for (i = 0; i < nb; i++) {
            cr_assert_lt(k, LARGE_N);
            order[k++] = batch[i];
            plumb_sched_done(s, batch[i]);
        }
    }
    cr_assert_eq(k, LARGE_N);
    assert_valid_order(g, order, 0);
    plumb_sched_free(s);
    free(order);
    plumb_graph_free(g);
}

Test(graph_large, cycle_through_the_whole_chain)
{
    struct plumb_graph *g = large_graph();
    size_t *order = malloc(LARGE_N * sizeof(*order));
    const char *msg;
    size_t len;

    cr_assert_not_null(order);
    cr_assert_eq(plumb_graph_add_edge(g, LARGE_N - 1, 0), 0);
    cr_assert_eq(plumb_graph_toposort(order, g), PLUMB_EINVALID);
    msg = plumb_error_message();
    len = strlen(msg);
    cr_assert_eq(strncmp(msg, "dependency cycle: 0 -> ", 23), 0, "%.80s", msg);
    cr_assert_gt(len, 28);
    cr_assert_str_eq(msg + len - 14, " -> 99999 -> 0", "%s", msg + len - 40);
    free(order);
    plumb_graph_free(g);
}
