/* tap.h - a minimal TAP producer for the C unit tests (one binary a file). */
#ifndef LARDER_TAP_H
#define LARDER_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

/* Line-buffer stdout so results survive a sanitizer abort at exit. */
__attribute__((constructor)) static void tap_init(void) { setvbuf(stdout, NULL, _IOLBF, 0); }

#define CHECK(cond, name)                                                      \
    do {                                                                       \
        ++tap_n;                                                               \
        if (cond) {                                                            \
            printf("ok %d - %s\n", tap_n, name);                               \
        } else {                                                               \
            ++tap_failed;                                                      \
            printf("not ok %d - %s\n#   %s:%d: %s\n", tap_n, name, __FILE__,   \
                   __LINE__, #cond);                                           \
        }                                                                      \
    } while (0)

#define CHECK_STR_HAS(haystack, needle, name)                                  \
    do {                                                                       \
        CHECK(strstr((haystack), (needle)) != NULL, name);                     \
        if (!strstr((haystack), (needle)))                                     \
            printf("#   '%s' does not contain '%s'\n", (haystack), (needle));  \
    } while (0)

static int tap_done(void)
{
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}

#endif
