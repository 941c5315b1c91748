/*
 * sdist.c - a wheel from a source distribution, built on the host by pip
 * with the project's declared build backend (PEP 517, in pip's isolated
 * build environment) in a temporary directory of its own. What the wheel
 * holds is judged by the caller (a pure-Python wheel converts with
 * larder_build_wheel; one with extension modules needs a cross-build).
 */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

larder_code larder_wheel_from_sdist(const char *sdist, const char *outdir, const char *python, const char *index_url,
                                    char *wheel, size_t wheel_size, larder_error *err)
{
    char tmp[4096];
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    if (snprintf(tmp, sizeof tmp, "%s/larder-sdist-XXXXXX", base) >= (int)sizeof tmp || !mkdtemp(tmp))
        return larder_fail(err, LARDER_EIO, "cannot make a temporary directory in %s: %s", base, strerror(errno));
    char *argv[] = {(char *)(python ? python : LARDER_HOST_PYTHON), "-m", "pip", "wheel", "--isolated", "-q",
                    "--no-deps", "--no-input", "--wheel-dir", tmp, "--index-url",
                    (char *)(index_url ? index_url : "https://pypi.org/simple/"), (char *)sdist, NULL};
    char *out = NULL;
    size_t out_len;
    larder_code rc = larder_run_capture(argv, NULL, 0, &out, &out_len, err);
    free(out);
    if (rc != LARDER_OK)
        rc = larder_prefix(err, rc, "%s: building a wheel with pip failed", sdist);
    DIR *d = opendir(tmp);
    struct dirent *e;
    int found = 0;
    while (d && (e = readdir(d))) {
        char from[4400];
        snprintf(from, sizeof from, "%s/%s", tmp, e->d_name);
        if (rc == LARDER_OK && !found && larder_ends_with(e->d_name, ".whl")) {
            if (snprintf(wheel, wheel_size, "%s/%s", outdir, e->d_name) >= (int)wheel_size)
                rc = larder_fail(err, LARDER_EINVAL, "path too long: %s/%s", outdir, e->d_name);
            else if (rename(from, wheel) != 0)
                rc = larder_fail(err, LARDER_EIO, "cannot move %s to %s: %s", from, wheel, strerror(errno));
            found = 1;
        } else if (e->d_name[0] != '.') {
            unlink(from);
        }
    }
    if (d)
        closedir(d);
    rmdir(tmp);
    if (rc == LARDER_OK && !found)
        rc = larder_fail(err, LARDER_EINVAL, "%s: pip built no wheel", sdist);
    return rc;
}
