/* internal.h - shared between builder/'s sources; not part of the API. */
#ifndef LARDER_BUILDER_INTERNAL_H
#define LARDER_BUILDER_INTERNAL_H

#include "builder.h"

#include <string.h>

#define LARDER_DEFAULT_MAX_FILE (64ull << 20)
#define LARDER_DEFAULT_MAX_TOTAL (512ull << 20)

/* Finish a Python distribution whose files (relative to site-packages) are
 * in set and whose metadata is md: evaluate its requirements, find its
 * import names (top_level may be NULL: derived from the files), compile
 * .pyc, write archive and entry. `source` names the input in messages. */
larder_code larder_finish_distribution(larder_fileset *set, const larder_metadata *md,
                                       const char *top_level, size_t top_level_len,
                                       const char *source, const larder_build_options *opt,
                                       larder_build_result *result, larder_error *err);

/* Read a whole file (at most max bytes; more is LARDER_ETOOBIG). */
larder_code larder_read_file(const char *path, uint64_t max, unsigned char **data, size_t *size,
                             larder_error *err);

/* Run argv[0] (a path) with argv, writing input to its stdin; on exit
 * status 0, *out (malloc'd, NUL-terminated, may be NULL when empty) is what
 * it printed. Otherwise LARDER_EINVAL with the last line of its stderr. */
larder_code larder_run_capture(char *const argv[], const char *input, size_t input_len, char **out,
                               size_t *out_len, larder_error *err);

/* Run stdlib_plan.py --imports over the .py files under root (see
 * larder_compile_pyc): *out is malloc'd, one name a line, or NULL. */
larder_code larder_scan_imports(const char *python, const char *root, const char *const *tops, size_t n_tops,
                                char **out, larder_error *err);


/* The lines of a buffer [*p, end): sets *line and *len to the next line,
 * without its "\n" or "\r\n", advances *p past it and returns 1; returns 0
 * at the end. A last line without "\n" counts.
 *     for (const char *p = buf, *line; larder_next_line(&p, end, &line, &n);) */
static inline int larder_next_line(const char **p, const char *end, const char **line, size_t *len)
{
    if (*p >= end)
        return 0;
    const char *eol = memchr(*p, '\n', (size_t)(end - *p));
    const char *next = eol ? eol + 1 : end;
    if (!eol)
        eol = end;
    *line = *p;
    *len = (size_t)(eol - *p);
    if (*len && (*line)[*len - 1] == '\r')
        (*len)--;
    *p = next;
    return 1;
}

#endif
