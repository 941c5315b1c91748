/* fuzz_untar.c - libFuzzer target for the loader's strict tar reader. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../loader/loader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    larder_tar_entry *entries;
    size_t n;
    larder_error err;
    if (larder_tar_parse(data, size, 1 << 20, &entries, &n, &err) != LARDER_OK)
        return 0;
    for (size_t i = 0; i < n; i++) {
        /* every accepted entry is safe and inside the buffer */
        if (!larder_path_is_safe(entries[i].path) || entries[i].data < data
            || entries[i].data + entries[i].size > data + size)
            abort();
    }
    larder_tar_free(entries, n);
    return 0;
}
