/* error.c - larder_error: a code plus a message filled at the point of failure. */
#include "common.h"

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
