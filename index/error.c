/* error.c - larder_error: a code plus a message filled at the point of failure. */
#include "index.h"

#include <stdarg.h>
#include <stdio.h>

larder_code larder_fail(larder_error *err, larder_code code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

larder_code larder_prefix(larder_error *err, larder_code code, const char *fmt, ...)
{
    if (err) {
        char context[sizeof err->message], message[sizeof err->message];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(context, sizeof context, fmt, ap);
        va_end(ap);
        snprintf(message, sizeof message, "%s", err->message);
        larder_fail(err, code, "%s: %s", context, message);
    }
    return code;
}

const char *larder_code_name(larder_code code)
{
    switch (code) {
    case LARDER_OK: return "ok";
    case LARDER_ENOMEM: return "out of memory";
    case LARDER_EINVAL: return "invalid input";
    case LARDER_EINTEGRITY: return "integrity";
    case LARDER_ECORRUPT: return "corrupt data";
    case LARDER_ETOOBIG: return "too big";
    case LARDER_EIO: return "i/o";
    case LARDER_EFETCH: return "fetch";
    case LARDER_ENOTFOUND: return "not found";
    case LARDER_ESIGNATURE: return "signature";
    case LARDER_ESTALE: return "stale index";
    case LARDER_EBUSY: return "busy";
    }
    return "unknown";
}
