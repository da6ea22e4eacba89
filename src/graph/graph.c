/*
 * The dependency graph, its orders and its scheduler.
 *
 * Complexity: graphs reach 100,000 nodes and 300,000 edges, so nothing here is quadratic.
 * Each node keeps two growable arrays, what it depends on and what depends on it. Adding an
 * edge appends in O(1) amortised and marks an array unsorted only when the new entry breaks
 * its order (callers usually add edges in order); the first read after edits sorts and
 * de-duplicates the arrays marked, O(E log E) in all, and later reads find them tidy. The
 * orders are Kahn's algorithm with a binary min-heap of ready nodes, O((V + E) log V); naming
 * a cycle is an iterative Tarjan pass plus a breadth-first search, O(V + E); closure is
 * O(V + E); a scheduler run is O((V + E) log V) in all; the renderers are O(V + E) plus the
 * names' lengths. Nothing recurses, so a 100,000-deep chain costs heap memory, not stack.
 */
#include "graph/graph.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

#define NONE SIZE_MAX

struct vec {
    size_t *v;
    size_t n, cap;
    int dirty; /* appended out of order: sort and de-duplicate before reading */
};

struct node {
    char *name;
    struct vec deps;       /* what this node depends on */
    struct vec dependents; /* what depends on this node */
};

struct plumb_graph {
    struct node *nodes;
    size_t n;
    int dirty; /* some node's arrays may be dirty */
};

/* A binary min-heap of node indexes, sized for every node once: each is pushed at most once. */
struct heap {
    size_t *v;
    size_t n;
};

/* Room for the longest size_t in decimal and its NUL. */
#define INDEX_NAME_MAX 24

static size_t *alloc_indexes(size_t n)
{
    /* malloc(0) may return NULL, which would read as out of memory. */
    return malloc((n ? n : 1) * sizeof(size_t));
}

static int vec_reserve_one(struct vec *a)
{
    size_t cap, *p;

    if (a->n < a->cap)
        return 0;
    cap = a->cap ? a->cap * 2 : 4;
    p = realloc(a->v, cap * sizeof(*p));
    if (!p)
        return plumb_error_oom();
    a->v = p;
    a->cap = cap;
    return 0;
}

/* Room must have been reserved, so that an edge is never in one array and not the other. */
static void vec_append(struct vec *a, size_t x)
{
    if (a->n > 0 && a->v[a->n - 1] == x)
        return;
    if (a->n > 0 && a->v[a->n - 1] > x)
        a->dirty = 1;
    a->v[a->n++] = x;
}

static int cmp_index(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;

    return (x > y) - (x < y);
}

static void vec_tidy(struct vec *a)
{
    size_t i, j = 0;

    if (!a->dirty)
        return;
    qsort(a->v, a->n, sizeof(*a->v), cmp_index);
    for (i = 0; i < a->n; i++) {
        if (j == 0 || a->v[j - 1] != a->v[i])
            a->v[j++] = a->v[i];
    }
    a->n = j;
    a->dirty = 0;
}

/*
 * Reads take a const graph, but tidying changes only the order of the arrays and drops
 * duplicates, never what the graph means, so it happens in place behind the const (graphs
 * only ever live on the heap, from plumb_graph_new).
 */
static void tidy_node(const struct plumb_graph *cg, size_t i)
{
    struct plumb_graph *g = (struct plumb_graph *)cg;

    vec_tidy(&g->nodes[i].deps);
    vec_tidy(&g->nodes[i].dependents);
}

static void tidy(const struct plumb_graph *cg)
{
    struct plumb_graph *g = (struct plumb_graph *)cg;
    size_t i;

    if (!g->dirty)
        return;
    for (i = 0; i < g->n; i++)
        tidy_node(g, i);
    g->dirty = 0;
}

static void heap_push(struct heap *h, size_t x)
{
    size_t i = h->n++;

    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (h->v[parent] <= x)
            break;
        h->v[i] = h->v[parent];
        i = parent;
    }
    h->v[i] = x;
}

static size_t heap_pop(struct heap *h)
{
    size_t top = h->v[0], x = h->v[--h->n], i = 0;

    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && h->v[c + 1] < h->v[c])
            c++;
        if (x <= h->v[c])
            break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (h->n)
        h->v[i] = x;
    return top;
}

static const char *display_name(char tmp[INDEX_NAME_MAX], const struct plumb_graph *g, size_t i)
{
    if (g->nodes[i].name)
        return g->nodes[i].name;
    snprintf(tmp, INDEX_NAME_MAX, "%zu", i);
    return tmp;
}

static int put_name(struct plumb_buf *b, const struct plumb_graph *g, size_t i)
{
    char tmp[INDEX_NAME_MAX];

    return plumb_buf_puts(b, display_name(tmp, g, i));
}

int plumb_graph_new(struct plumb_graph **out, size_t n)
{
    struct plumb_graph *g = NULL;
    int error = 0;

    *out = NULL;
    g = calloc(1, sizeof(*g));
    PLUMB_ALLOC_CHECK(g);
    if (n > SIZE_MAX / sizeof(struct node)) {
        error = plumb_error_oom();
        goto done;
    }
    g->nodes = calloc(n ? n : 1, sizeof(struct node));
    PLUMB_ALLOC_CHECK(g->nodes);
    g->n = n;
    *out = g;
    g = NULL;

done:
    plumb_graph_free(g);
    return error;
}

void plumb_graph_free(struct plumb_graph *g)
{
    size_t i;

    if (!g)
        return;
    if (g->nodes) {
        for (i = 0; i < g->n; i++) {
            free(g->nodes[i].name);
            free(g->nodes[i].deps.v);
            free(g->nodes[i].dependents.v);
        }
    }
    free(g->nodes);
    free(g);
}

size_t plumb_graph_size(const struct plumb_graph *g)
{
    return g->n;
}

int plumb_graph_set_name(struct plumb_graph *g, size_t i, const char *name)
{
    char *copy = NULL;

    if (i >= g->n)
        return plumb_error_set(PLUMB_EINVALID, "node %zu out of range (graph has %zu nodes)", i,
                               g->n);
    if (name && !(copy = strdup(name)))
        return plumb_error_oom();
    free(g->nodes[i].name);
    g->nodes[i].name = copy;
    return 0;
}

const char *plumb_graph_name(const struct plumb_graph *g, size_t i)
{
    return i < g->n ? g->nodes[i].name : NULL;
}

int plumb_graph_add_edge(struct plumb_graph *g, size_t from, size_t to)
{
    int error = 0;

    if (from >= g->n || to >= g->n) {
        error = plumb_error_set(PLUMB_EINVALID,
                                "edge %zu -> %zu: node out of range (graph has %zu nodes)", from,
                                to, g->n);
        goto done;
    }
    PLUMB_TRY(vec_reserve_one(&g->nodes[from].deps));
    PLUMB_TRY(vec_reserve_one(&g->nodes[to].dependents));
    vec_append(&g->nodes[from].deps, to);
    vec_append(&g->nodes[to].dependents, from);
    g->dirty = 1;

done:
    return error;
}

const size_t *plumb_graph_deps(const struct plumb_graph *g, size_t i, size_t *n)
{
    *n = 0;
    if (i >= g->n)
        return NULL;
    tidy_node(g, i);
    *n = g->nodes[i].deps.n;
    return g->nodes[i].deps.v;
}

const size_t *plumb_graph_dependents(const struct plumb_graph *g, size_t i, size_t *n)
{
    *n = 0;
    if (i >= g->n)
        return NULL;
    tidy_node(g, i);
    *n = g->nodes[i].dependents.n;
    return g->nodes[i].dependents.v;
}

/* Writes the message for a path start -> ... -> end -> start, given each node's parent. */
static int cycle_message(const struct plumb_graph *g, const size_t *parent, size_t start,
                         size_t end, size_t *path)
{
    struct plumb_buf b = PLUMB_BUF_INIT;
    size_t len = 0, x;
    int error = 0;

    for (x = end;; x = parent[x]) {
        path[len++] = x;
        if (x == start)
            break;
    }
    /* path[] runs end back to start: print it backwards, then close the loop. */
    PLUMB_TRY(plumb_buf_puts(&b, "dependency cycle: "));
    while (len > 0) {
        PLUMB_TRY(put_name(&b, g, path[--len]));
        PLUMB_TRY(plumb_buf_puts(&b, " -> "));
    }
    PLUMB_TRY(put_name(&b, g, start));
    error = plumb_error_set(PLUMB_EINVALID, "%s", b.ptr);

done:
    plumb_buf_release(&b);
    return error;
}

/*
 * Sets the last error to one cycle among the nodes of `mask` (NULL: all), for when Kahn's
 * algorithm could not order them all. What Kahn leaves over is not only cycles but also
 * whatever depends on a cycle (or, reversed, what a cycle depends on), so the nodes on a
 * cycle are found exactly as the strongly connected components with more than one node, or
 * with a self edge (Tarjan, iterative: chains 100,000 deep must not recurse). The cycle named
 * is the shortest (breadth-first) through the lowest node on any cycle, so the same graph
 * always gives the same message, from the forward order, the reverse order or the scheduler.
 */
static int cycle_error(const struct plumb_graph *g, const unsigned char *mask)
{
    size_t n = g->n, counter = 0, sp = 0, cp = 0, ncomp = 0, best = NONE, v, head, tail, end;
    size_t *index = NULL, *low = NULL, *comp = NULL, *stack = NULL, *call = NULL, *pos = NULL;
    unsigned char *onstack = NULL;
    int error = 0;

    index = alloc_indexes(n);
    low = alloc_indexes(n);
    comp = alloc_indexes(n);
    stack = alloc_indexes(n);
    call = alloc_indexes(n);
    pos = alloc_indexes(n);
    onstack = calloc(n ? n : 1, 1);
    PLUMB_ALLOC_CHECK(index && low && comp && stack && call && pos && onstack);
    for (v = 0; v < n; v++)
        index[v] = comp[v] = NONE;

    for (v = 0; v < n; v++) {
        if (index[v] != NONE || (mask && !mask[v]))
            continue;
        index[v] = low[v] = counter++;
        stack[sp++] = v;
        onstack[v] = 1;
        call[cp] = v;
        pos[cp++] = 0;
        while (cp > 0) {
            size_t u = call[cp - 1];
            const struct vec *d = &g->nodes[u].deps;

            if (pos[cp - 1] < d->n) {
                size_t w = d->v[pos[cp - 1]++];
                if (mask && !mask[w])
                    continue;
                if (w == u) {
                    if (u < best)
                        best = u;
                } else if (index[w] == NONE) {
                    index[w] = low[w] = counter++;
                    stack[sp++] = w;
                    onstack[w] = 1;
                    call[cp] = w;
                    pos[cp++] = 0;
                } else if (onstack[w] && index[w] < low[u]) {
                    low[u] = index[w];
                }
                continue;
            }
            cp--;
            if (cp > 0 && low[u] < low[call[cp - 1]])
                low[call[cp - 1]] = low[u];
            if (low[u] == index[u]) {
                /* u roots a component: stack[first..sp-1]. */
                size_t first = sp, lowest = NONE, k;
                do {
                    first--;
                } while (stack[first] != u);
                for (k = first; k < sp; k++) {
                    onstack[stack[k]] = 0;
                    comp[stack[k]] = ncomp;
                    if (stack[k] < lowest)
                        lowest = stack[k];
                }
                if (sp - first > 1 && lowest < best)
                    best = lowest;
                sp = first;
                ncomp++;
            }
        }
    }
    if (best == NONE) {
        error = plumb_error_set(PLUMB_ERROR, "dependency graph cannot be ordered but has no cycle");
        goto done;
    }

    /* Breadth-first from best within its component, until an edge leads back to it. */
    for (v = 0; v < n; v++)
        index[v] = NONE; /* now each node's parent on the search */
    head = tail = 0;
    end = NONE;
    stack[tail++] = best;
    index[best] = best;
    while (head < tail && end == NONE) {
        size_t u = stack[head++], k;
        const struct vec *d = &g->nodes[u].deps;

        for (k = 0; k < d->n; k++) {
            size_t w = d->v[k];
            if (w == best) {
                end = u;
                break;
            }
            if (comp[w] != comp[best] || index[w] != NONE)
                continue;
            index[w] = u;
            stack[tail++] = w;
        }
    }
    if (end == NONE) {
        error = plumb_error_set(PLUMB_ERROR, "dependency cycle through node %zu not found", best);
        goto done;
    }
    error = cycle_message(g, index, best, end, call);

done:
    free(index);
    free(low);
    free(comp);
    free(stack);
    free(call);
    free(pos);
    free(onstack);
    return error;
}

/* Kahn's algorithm, lowest ready index first; `reverse` walks the edges backwards. */
static int kahn(size_t *out, const struct plumb_graph *g, int reverse)
{
    struct heap ready = {NULL, 0};
    size_t *count = NULL, i, k = 0;
    int error = 0;

    tidy(g);
    count = alloc_indexes(g->n);
    ready.v = alloc_indexes(g->n);
    PLUMB_ALLOC_CHECK(count && ready.v);
    for (i = 0; i < g->n; i++) {
        count[i] = reverse ? g->nodes[i].dependents.n : g->nodes[i].deps.n;
        if (count[i] == 0)
            heap_push(&ready, i);
    }
    while (ready.n > 0) {
        size_t u = heap_pop(&ready), j;
        const struct vec *next = reverse ? &g->nodes[u].deps : &g->nodes[u].dependents;

        out[k++] = u;
        for (j = 0; j < next->n; j++) {
            if (--count[next->v[j]] == 0)
                heap_push(&ready, next->v[j]);
        }
    }
    if (k < g->n)
        error = cycle_error(g, NULL);

done:
    free(count);
    free(ready.v);
    return error;
}

int plumb_graph_toposort(size_t *out, const struct plumb_graph *g)
{
    return kahn(out, g, 0);
}

int plumb_graph_toposort_reverse(size_t *out, const struct plumb_graph *g)
{
    return kahn(out, g, 1);
}

/* Depth-first with an explicit stack: each node is pushed at most once, so n slots suffice. */
static int closure(unsigned char *keep, const struct plumb_graph *g, const size_t *roots,
                   size_t nroots, int reverse)
{
    size_t *stack = NULL, sp = 0, i;
    int error = 0;

    tidy(g);
    if (g->n)
        memset(keep, 0, g->n);
    for (i = 0; i < nroots; i++) {
        if (roots[i] >= g->n) {
            error = plumb_error_set(PLUMB_EINVALID, "node %zu out of range (graph has %zu nodes)",
                                    roots[i], g->n);
            goto done;
        }
    }
    stack = alloc_indexes(g->n);
    PLUMB_ALLOC_CHECK(stack);
    for (i = 0; i < nroots; i++) {
        if (!keep[roots[i]]) {
            keep[roots[i]] = 1;
            stack[sp++] = roots[i];
        }
    }
    while (sp > 0) {
        size_t u = stack[--sp], j;
        const struct vec *next = reverse ? &g->nodes[u].dependents : &g->nodes[u].deps;

        for (j = 0; j < next->n; j++) {
            if (!keep[next->v[j]]) {
                keep[next->v[j]] = 1;
                stack[sp++] = next->v[j];
            }
        }
    }

done:
    free(stack);
    return error;
}

int plumb_graph_closure(unsigned char *keep, const struct plumb_graph *g, const size_t *roots,
                        size_t nroots)
{
    return closure(keep, g, roots, nroots, 0);
}

int plumb_graph_closure_reverse(unsigned char *keep, const struct plumb_graph *g,
                                const size_t *roots, size_t nroots)
{
    return closure(keep, g, roots, nroots, 1);
}

enum sched_state {
    SCHED_WAITING, /* something it depends on is not done yet */
    SCHED_READY,   /* in the ready heap */
    SCHED_RUNNING,
    SCHED_DONE,
    SCHED_FAILED,
    SCHED_SKIPPED, /* something it depends on failed */
    SCHED_OUTSIDE, /* not in `only`: counts as done, never returned */
};

struct plumb_sched {
    const struct plumb_graph *g;
    unsigned char *state;
    size_t *pending; /* dependencies in the run not done yet */
    struct heap ready;
    size_t *stack; /* allocated up front so that fail cannot run out of memory */
    size_t running;
};

/* Whether every node of the run can be reached by Kahn's algorithm, i.e. no cycle blocks it. */
static int sched_check_cycles(const struct plumb_sched *s, const unsigned char *only)
{
    const struct plumb_graph *g = s->g;
    size_t *count = NULL, *queue = s->stack, head = 0, tail = 0, inside = 0, i, j;
    int error = 0;

    count = alloc_indexes(g->n);
    PLUMB_ALLOC_CHECK(count);
    for (i = 0; i < g->n; i++) {
        count[i] = s->pending[i];
        if (s->state[i] == SCHED_OUTSIDE)
            continue;
        inside++;
        if (count[i] == 0)
            queue[tail++] = i;
    }
    while (head < tail) {
        const struct vec *next = &g->nodes[queue[head++]].dependents;
        for (j = 0; j < next->n; j++) {
            size_t w = next->v[j];
            if (s->state[w] != SCHED_OUTSIDE && --count[w] == 0)
                queue[tail++] = w;
        }
    }
    if (tail < inside)
        error = cycle_error(g, only);

done:
    free(count);
    return error;
}

int plumb_sched_new(struct plumb_sched **out, const struct plumb_graph *g,
                    const unsigned char *only)
{
    struct plumb_sched *s = NULL;
    size_t i, j;
    int error = 0;

    *out = NULL;
    tidy(g);
    s = calloc(1, sizeof(*s));
    PLUMB_ALLOC_CHECK(s);
    s->g = g;
    s->state = malloc(g->n ? g->n : 1);
    s->pending = alloc_indexes(g->n);
    s->ready.v = alloc_indexes(g->n);
    s->stack = alloc_indexes(g->n);
    PLUMB_ALLOC_CHECK(s->state && s->pending && s->ready.v && s->stack);
    for (i = 0; i < g->n; i++)
        s->state[i] = only && !only[i] ? SCHED_OUTSIDE : SCHED_WAITING;
    for (i = 0; i < g->n; i++) {
        const struct vec *d = &g->nodes[i].deps;
        s->pending[i] = 0;
        for (j = 0; j < d->n; j++)
            s->pending[i] += s->state[d->v[j]] != SCHED_OUTSIDE;
    }
    PLUMB_TRY(sched_check_cycles(s, only));
    for (i = 0; i < g->n; i++) {
        if (s->state[i] == SCHED_WAITING && s->pending[i] == 0) {
            s->state[i] = SCHED_READY;
            heap_push(&s->ready, i);
        }
    }
    *out = s;
    s = NULL;

done:
    plumb_sched_free(s);
    return error;
}

void plumb_sched_free(struct plumb_sched *s)
{
    if (!s)
        return;
    free(s->state);
    free(s->pending);
    free(s->ready.v);
    free(s->stack);
    free(s);
}

long plumb_sched_next(struct plumb_sched *s)
{
    size_t u;

    if (s->ready.n == 0)
        return -1;
    u = heap_pop(&s->ready);
    s->state[u] = SCHED_RUNNING;
    s->running++;
    return (long)u;
}

void plumb_sched_done(struct plumb_sched *s, size_t i)
{
    const struct vec *next;
    size_t j;

    if (i >= s->g->n || s->state[i] != SCHED_RUNNING)
        return;
    s->state[i] = SCHED_DONE;
    s->running--;
    next = &s->g->nodes[i].dependents;
    for (j = 0; j < next->n; j++) {
        size_t w = next->v[j];
        if (s->state[w] == SCHED_WAITING && --s->pending[w] == 0) {
            s->state[w] = SCHED_READY;
            heap_push(&s->ready, w);
        }
    }
}

void plumb_sched_fail(struct plumb_sched *s, size_t i)
{
    size_t sp = 0;

    if (i >= s->g->n || s->state[i] != SCHED_RUNNING)
        return;
    s->state[i] = SCHED_FAILED;
    s->running--;
    /*
     * Everything downstream in the run is still waiting (it depends, through waiting nodes,
     * on this one), so waiting is the mark of "not visited yet". Nodes outside the run count
     * as done already, so what depends on them does not wait for this failure either.
     */
    s->stack[sp++] = i;
    while (sp > 0) {
        const struct vec *next = &s->g->nodes[s->stack[--sp]].dependents;
        size_t j;

        for (j = 0; j < next->n; j++) {
            size_t w = next->v[j];
            if (s->state[w] == SCHED_WAITING) {
                s->state[w] = SCHED_SKIPPED;
                s->stack[sp++] = w;
            }
        }
    }
}

int plumb_sched_finished(const struct plumb_sched *s)
{
    return s->ready.n == 0 && s->running == 0;
}

int plumb_sched_skipped(const struct plumb_sched *s, size_t i)
{
    return i < s->g->n && s->state[i] == SCHED_SKIPPED;
}

/* A dot quoted string: quotes and backslashes escaped, newlines as \n. */
static int put_dot_quoted(struct plumb_buf *b, const char *s)
{
    int error = 0;

    PLUMB_TRY(plumb_buf_putc(b, '"'));
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            PLUMB_TRY(plumb_buf_putc(b, '\\'));
        if (*s == '\n')
            PLUMB_TRY(plumb_buf_puts(b, "\\n"));
        else
            PLUMB_TRY(plumb_buf_putc(b, *s));
    }
    PLUMB_TRY(plumb_buf_putc(b, '"'));

done:
    return error;
}

int plumb_graph_render_dot(struct plumb_buf *out, const struct plumb_graph *g)
{
    char tmp[INDEX_NAME_MAX];
    size_t i, j;
    int error = 0;

    tidy(g);
    /* Right to left: what comes first (the dependency) is drawn on the left. */
    PLUMB_TRY(plumb_buf_puts(out, "digraph plumb {\n"
                                  "  // \"a\" -> \"b\" means a depends on b: b comes first\n"
                                  "  rankdir=RL;\n"
                                  "  node [shape=box];\n"));
    for (i = 0; i < g->n; i++) {
        PLUMB_TRY(plumb_buf_puts(out, "  "));
        PLUMB_TRY(put_dot_quoted(out, display_name(tmp, g, i)));
        PLUMB_TRY(plumb_buf_puts(out, ";\n"));
    }
    for (i = 0; i < g->n; i++) {
        const struct vec *d = &g->nodes[i].deps;
        for (j = 0; j < d->n; j++) {
            PLUMB_TRY(plumb_buf_puts(out, "  "));
            PLUMB_TRY(put_dot_quoted(out, display_name(tmp, g, i)));
            PLUMB_TRY(plumb_buf_puts(out, " -> "));
            PLUMB_TRY(put_dot_quoted(out, display_name(tmp, g, d->v[j])));
            PLUMB_TRY(plumb_buf_puts(out, ";\n"));
        }
    }
    PLUMB_TRY(plumb_buf_puts(out, "}\n"));

done:
    return error;
}

/* A node's name as a JSON string; jansson refuses invalid UTF-8, which is bad input. */
static int json_name(json_t **out, const struct plumb_graph *g, size_t i)
{
    char tmp[INDEX_NAME_MAX];
    const char *name = display_name(tmp, g, i);
    json_t *probe;

    *out = json_string(name);
    if (*out)
        return 0;
    /* Without the UTF-8 check, failing can only mean memory ran out. */
    probe = json_string_nocheck(name);
    if (!probe)
        return plumb_error_oom();
    json_decref(probe);
    return plumb_error_set(PLUMB_EINVALID, "name of node %zu is not valid utf-8", i);
}

static int dump_to_buf(const char *buffer, size_t size, void *data)
{
    return plumb_buf_put(data, buffer, size) < 0 ? -1 : 0;
}

int plumb_graph_render_json(struct plumb_buf *out, const struct plumb_graph *g)
{
    json_t *root = NULL, *nodes = NULL, *edges = NULL, **names = NULL, *o;
    size_t i, j;
    int error = 0;

    tidy(g);
    /* One string per node, shared by its node entry and every edge that names it. */
    names = calloc(g->n ? g->n : 1, sizeof(*names));
    PLUMB_ALLOC_CHECK(names);
    for (i = 0; i < g->n; i++)
        PLUMB_TRY(json_name(&names[i], g, i));

    root = json_object();
    nodes = json_array();
    edges = json_array();
    PLUMB_ALLOC_CHECK(root && nodes && edges);
    for (i = 0; i < g->n; i++) {
        o = json_pack("{s:I, s:O}", "id", (json_int_t)i, "name", names[i]);
        PLUMB_ALLOC_CHECK(o);
        if (json_array_append_new(nodes, o) < 0) {
            error = plumb_error_oom();
            goto done;
        }
    }
    for (i = 0; i < g->n; i++) {
        const struct vec *d = &g->nodes[i].deps;
        for (j = 0; j < d->n; j++) {
            o = json_pack("{s:O, s:O}", "from", names[i], "to", names[d->v[j]]);
            PLUMB_ALLOC_CHECK(o);
            if (json_array_append_new(edges, o) < 0) {
                error = plumb_error_oom();
                goto done;
            }
        }
    }
    if (json_object_set_new(root, "format_version", json_string("1")) < 0 ||
        json_object_set(root, "nodes", nodes) < 0 || json_object_set(root, "edges", edges) < 0) {
        error = plumb_error_oom();
        goto done;
    }
    if (json_dump_callback(root, dump_to_buf, out, JSON_COMPACT | JSON_PRESERVE_ORDER) < 0) {
        error = plumb_error_oom();
        goto done;
    }
    PLUMB_TRY(plumb_buf_putc(out, '\n'));

done:
    if (names) {
        for (i = 0; i < g->n; i++)
            json_decref(names[i]);
    }
    free(names);
    json_decref(nodes);
    json_decref(edges);
    json_decref(root);
    return error;
}
