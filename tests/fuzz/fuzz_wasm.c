/* fuzz_wasm.c - libFuzzer target for the builder's reading of side modules'
 * import and export sections (what larder-mirror publish checks). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../builder/builder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char **needs;
    size_t n;
    larder_error err;
    if (larder_side_module_needs(data, size, "fuzz", &needs, &n, &err) != LARDER_OK)
        return 0;
    /* sorted, unique, and each a name the input holds */
    for (size_t i = 0; i < n; i++)
        if ((i && strcmp(needs[i - 1], needs[i]) >= 0) || strlen(needs[i]) > size)
            abort();
    for (size_t i = 0; i < n; i++)
        free(needs[i]);
    free(needs);
    return 0;
}
