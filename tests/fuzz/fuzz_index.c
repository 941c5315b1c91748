/*
 * fuzz_index.c - libFuzzer target for the index parser and everything that
 * runs on a parsed index (lookups, import map, resolution, trust checks).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../index/index.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    larder_error err;
    larder_trust trust = {NULL, 1, 3, 1700000000};
    larder_index *index = larder_index_open((const char *)data, size, NULL, 0, &trust, &err);
    if (!index)
        index = larder_index_parse((const char *)data, size, &err);
    if (!index)
        return 0;
    size_t n = larder_index_count(index);
    for (size_t i = 0; i < n; i++) {
        const larder_package *p = larder_index_at(index, i);
        if (larder_index_find(index, p->name) != p)
            abort();  /* every package must be found under its own name */
        for (size_t j = 0; j < p->n_imports; j++)
            if (!larder_index_find_import(index, p->imports[j]))
                abort();  /* and every import it declares must map somewhere */
        const larder_package **order;
        size_t n_order;
        const char *name = p->name;
        if (larder_index_resolve(index, &name, 1, &order, &n_order, &err) == LARDER_OK) {
            if (n_order == 0 || order[n_order - 1] != p)
                abort();  /* the requested package comes last */
            free(order);
        }
    }
    larder_index_free(index);
    return 0;
}
