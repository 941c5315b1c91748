/*
 * plan.c - stdlib_plan.py, embedded in this program at build time and run
 * by the host CPython: it plans the stdlib split (stdlib.c) and finds the
 * modules a package's files import (pyc.c).
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#include "stdlib_plan.h" /* generated: stdlib_plan_py[] */

larder_code builder_run_plan(const char *python, const char *const args[], char **out, size_t *out_len,
                             larder_error *err)
{
    size_t n = 0;
    while (args[n])
        n++;
    char *script = malloc(sizeof stdlib_plan_py + 1);
    char **argv = calloc(n + 5, sizeof *argv);
    if (!script || !argv) {
        free(script);
        free(argv);
        return larder_fail(err, LARDER_ENOMEM, "out of memory");
    }
    memcpy(script, stdlib_plan_py, sizeof stdlib_plan_py);
    script[sizeof stdlib_plan_py] = '\0';
    size_t a = 0;
    argv[a++] = (char *)python;
    argv[a++] = "-I";
    argv[a++] = "-c";
    argv[a++] = script;
    for (size_t i = 0; i < n; i++)
        argv[a++] = (char *)args[i];
    *out = NULL;
    larder_code rc = builder_run_capture(argv, NULL, 0, out, out_len, err);
    free(argv);
    free(script);
    return rc;
}
