/* path.c - the one rule for paths inside packages, used by the builder (what
 * it puts in archives) and the loader (what it agrees to unpack). */
#include "common.h"

#include <string.h>

int larder_path_is_safe(const char *path)
{
    size_t len = strlen(path);
    if (!len || len > 4000 || path[0] == '/' || strchr(path, '\\'))
        return 0;
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return 0;
        p += n;
        if (*p == '/')
            p++;
    }
    return 1;
}
