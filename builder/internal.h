/* internal.h - shared between builder/'s sources; not part of the API. */
#ifndef LARDER_BUILDER_INTERNAL_H
#define LARDER_BUILDER_INTERNAL_H

#include "builder.h"

#include <stdlib.h>
#include <string.h>

#define LARDER_DEFAULT_MAX_FILE (64ull << 20)
#define LARDER_DEFAULT_MAX_TOTAL (512ull << 20)

/* Finish a Python distribution whose files (relative to site-packages) are
 * in set and whose metadata is md: evaluate its requirements, find its
 * import names (top_level may be NULL: derived from the files), compile
 * .pyc, write archive and entry. `source` names the input in messages. */
larder_code builder_finish_distribution(larder_fileset *set, const larder_metadata *md,
                                       const char *top_level, size_t top_level_len,
                                       const char *source, const larder_build_options *opt,
                                       larder_build_result *result, larder_error *err);

/* Run argv[0] (a path) with argv, writing input to its stdin; on exit
 * status 0, *out (malloc'd, NUL-terminated, may be NULL when empty) is what
 * it printed. Otherwise LARDER_EINVAL with the last line of its stderr. */
larder_code builder_run_capture(char *const argv[], const char *input, size_t input_len, char **out,
                               size_t *out_len, larder_error *err);

/* Run the embedded stdlib_plan.py with python and args (NULL-terminated)
 * as builder_run_capture runs a program: *out is what it printed. */
larder_code builder_run_plan(const char *python, const char *const args[], char **out, size_t *out_len,
                             larder_error *err);

/* A growing buffer in memory: builder_buf_append adds n bytes (doubling the
 * capacity as needed); 0 when out of memory, the buffer as it was. */
typedef struct builder_buf {
    unsigned char *data;
    size_t len, cap;
} builder_buf;

static inline int builder_buf_append(builder_buf *b, const void *s, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        unsigned char *more = realloc(b->data, cap);
        if (!more)
            return 0;
        b->data = more;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    return 1;
}

/* The lines of a buffer [*p, end): sets *line and *len to the next line,
 * without its "\n" or "\r\n", advances *p past it and returns 1; returns 0
 * at the end. A last line without "\n" counts.
 *     for (const char *p = buf, *line; builder_next_line(&p, end, &line, &n);) */
static inline int builder_next_line(const char **p, const char *end, const char **line, size_t *len)
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
