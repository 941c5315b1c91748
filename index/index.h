/*
 * index.h - the larder index library: the one public header of index/.
 *
 * index/ is shared by every other component (loader in wasm; builder and
 * mirror on the host) and is compiled from the same sources for both. This
 * first cut holds the error type every component reports failures with; the
 * index model, signing and resolution arrive with it (see DESIGN.md).
 */
#ifndef LARDER_INDEX_H
#define LARDER_INDEX_H

#include <stddef.h>

/* Error codes. Each failure carries one of these and a message that names
 * the cause and what to do; the message is shown to the user as is. */
typedef enum larder_code {
    LARDER_OK = 0,
    LARDER_ENOMEM,      /* out of memory */
    LARDER_EINVAL,      /* bad argument or malformed input */
    LARDER_EINTEGRITY,  /* a digest or signature did not match */
    LARDER_ECORRUPT,    /* compressed or archived data is damaged */
    LARDER_ETOOBIG,     /* data exceeds a declared or configured limit */
    LARDER_EIO,         /* reading or writing a file failed */
    LARDER_EFETCH       /* a download failed */
} larder_code;

typedef struct larder_error {
    larder_code code;
    char message[512];
} larder_error;

/* Record a failure in err (which may be NULL) and return code. The message
 * is printf-formatted and truncated to fit. */
larder_code larder_fail(larder_error *err, larder_code code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* A short, stable name for a code ("integrity", "corrupt", ...). */
const char *larder_code_name(larder_code code);

#endif
