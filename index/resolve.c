/*
 * resolve.c - dependency closure over "depends", dependencies first.
 *
 * A depth-first walk in the order the names and depends lists are written;
 * a package is emitted after everything it depends on (post-order), so the
 * result is an install order. A cycle is broken where it closes (the package
 * in progress is not revisited). The walk uses an explicit stack, so a long
 * dependency chain cannot overflow the C stack in wasm.
 */
#include "index.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { UNSEEN = 0, ACTIVE, DONE };

typedef struct frame {
    const larder_package *pkg;
    size_t next_dep;
} frame;

typedef struct walk {
    const larder_index *index;
    unsigned char *state;        /* by package position in the index */
    frame *stack;
    size_t depth;
    const larder_package **out;
    size_t n_out;
} walk;

static size_t position(const walk *w, const larder_package *p)
{
    return (size_t)(p - larder_index_at(w->index, 0));
}

/* The error for a name not in the index, with the chain that needs it:
 * "a -> b -> missing". */
static larder_code missing(const walk *w, const char *name, larder_error *err)
{
    char chain[384] = "";
    size_t used = 0;
    for (size_t i = 0; i < w->depth && used < sizeof chain; i++)
        used += (size_t)snprintf(chain + used, sizeof chain - used, "%s -> ", w->stack[i].pkg->name);
    if (!w->depth)
        return larder_fail(err, LARDER_ENOTFOUND, "package '%s' is not in the index", name);
    return larder_fail(err, LARDER_ENOTFOUND,
                       "package '%s' is not in the index (needed by %s%s); publish it to the "
                       "mirror or fix the depends list",
                       name, chain, name);
}

static larder_code visit(walk *w, const larder_package *root, larder_error *err)
{
    if (w->state[position(w, root)] != UNSEEN)
        return LARDER_OK;
    w->depth = 0;
    w->stack[w->depth++] = (frame){root, 0};
    w->state[position(w, root)] = ACTIVE;
    while (w->depth) {
        frame *top = &w->stack[w->depth - 1];
        if (top->next_dep == top->pkg->n_depends) {
            w->state[position(w, top->pkg)] = DONE;
            w->out[w->n_out++] = top->pkg;
            w->depth--;
            continue;
        }
        const char *name = top->pkg->depends[top->next_dep++];
        const larder_package *dep = larder_index_find(w->index, name);
        if (!dep)
            return missing(w, name, err);
        if (w->state[position(w, dep)] != UNSEEN)
            continue;  /* done, or active: a cycle closes here */
        w->state[position(w, dep)] = ACTIVE;
        w->stack[w->depth++] = (frame){dep, 0};
    }
    return LARDER_OK;
}

larder_code larder_index_resolve(const larder_index *index, const char *const *names, size_t n,
                                 const larder_package ***out, size_t *n_out, larder_error *err)
{
    size_t count = larder_index_count(index);
    walk w = {index, calloc(count + 1, 1), malloc((count + 1) * sizeof(frame)), 0,
              malloc((count + 1) * sizeof(*w.out)), 0};
    larder_code rc = LARDER_OK;
    *out = NULL;
    *n_out = 0;
    if (!w.state || !w.stack || !w.out) {
        rc = larder_fail(err, LARDER_ENOMEM, "resolve: out of memory");
        goto done;
    }
    for (size_t i = 0; i < n && rc == LARDER_OK; i++) {
        const larder_package *p = larder_index_find(index, names[i]);
        w.depth = 0;
        rc = p ? visit(&w, p, err) : missing(&w, names[i], err);
    }
done:
    free(w.state);
    free(w.stack);
    if (rc != LARDER_OK) {
        free(w.out);
        return rc;
    }
    *out = w.out;
    *n_out = w.n_out;
    return LARDER_OK;
}
