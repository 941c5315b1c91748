/*
 * sdist.c - wheels from source distributions: built on the host by pip
 * with the project's declared build backend (PEP 517, in pip's isolated
 * build environment), or cross-compiled for the runtime by
 * builder/native/cross-wheel.sh; each in a temporary directory of its own.
 */
#include "internal.h"

#include <dirent.h>
#include <limits.h>
#include <sodium.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

larder_code larder_wheel_from_sdist(const char *sdist, const char *outdir, const char *python, const char *index_url,
                                    char *wheel, size_t wheel_size, larder_error *err)
{
    char tmp[4096];
    larder_code rc = larder_mkdtemp(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", "larder-sdist", tmp, sizeof tmp, err);
    if (rc != LARDER_OK)
        return rc;
    char *argv[] = {(char *)(python ? python : LARDER_HOST_PYTHON), "-m", "pip", "wheel", "--isolated", "-q",
                    "--no-deps", "--no-input", "--wheel-dir", tmp, "--index-url",
                    (char *)(index_url ? index_url : "https://pypi.org/simple/"), (char *)sdist, NULL};
    char *out = NULL;
    size_t out_len;
    rc = builder_run_capture(argv, NULL, 0, &out, &out_len, err);
    free(out);
    if (rc != LARDER_OK)
        rc = larder_prefix(err, rc, "%s: building a wheel with pip failed", sdist);
    DIR *d = opendir(tmp);
    struct dirent *e;
    int found = 0;
    while (rc == LARDER_OK && !found && d && (e = readdir(d))) {
        char from[4400];
        snprintf(from, sizeof from, "%s/%s", tmp, e->d_name);
        if (larder_ends_with(e->d_name, ".whl")) {
            if (snprintf(wheel, wheel_size, "%s/%s", outdir, e->d_name) >= (int)wheel_size)
                rc = larder_fail(err, LARDER_EINVAL, "path too long: %s/%s", outdir, e->d_name);
            else if (rename(from, wheel) != 0)
                rc = larder_fail(err, LARDER_EIO, "cannot move %s to %s: %s", from, wheel, strerror(errno));
            found = 1;
        }
    }
    if (d)
        closedir(d);
    larder_rm_rf(tmp, NULL); /* a leftover in $TMPDIR does not fail the build */
    if (rc == LARDER_OK && !found)
        rc = larder_fail(err, LARDER_EINVAL, "%s: pip built no wheel", sdist);
    return rc;
}

/* The cross toolchain's directory: $LARDER_CROSS, else ../cross beside the
 * running executable (build/bin/../cross, where make puts it). */
static larder_code cross_dir(char *dir, size_t size, larder_error *err)
{
    const char *env = getenv("LARDER_CROSS");
    if (env && *env) {
        if (snprintf(dir, size, "%s", env) >= (int)size)
            return larder_fail(err, LARDER_EINVAL, "LARDER_CROSS is too long");
    } else {
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n <= 0)
            return larder_fail(err, LARDER_EIO, "cannot find the running executable: %s", strerror(errno));
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        *slash = '\0';
        if (snprintf(dir, size, "%s/../cross", exe) >= (int)size)
            return larder_fail(err, LARDER_EINVAL, "path too long: %s/../cross", exe);
    }
    char script[PATH_MAX + 32];
    snprintf(script, sizeof script, "%s/cross-wheel.sh", dir);
    if (access(script, X_OK) != 0)
        return larder_fail(err, LARDER_ENOTFOUND, "no cross toolchain at %s (%s): cross-compiling needs a build "
                           "checkout's build/cross (`make cross`) or LARDER_CROSS naming one", dir, strerror(errno));
    return LARDER_OK;
}

larder_code larder_cross_key(char key[17], larder_error *err)
{
    char dir[PATH_MAX], path[PATH_MAX + 32];
    larder_code rc = cross_dir(dir, sizeof dir, err);
    if (rc != LARDER_OK)
        return rc;
    /* the script and its config (which names the CPython, numpy and deps
     * trees by their keys) */
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    static const char *const files[] = {"cross-wheel.sh", "config", "cross-constraints.txt"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        unsigned char *data = NULL;
        size_t len = 0;
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        if (access(path, F_OK) != 0)
            continue;
        if ((rc = larder_read_file(path, 1u << 20, &data, &len, err)) != LARDER_OK)
            return rc;
        crypto_hash_sha256_update(&st, data, len);
        free(data);
    }
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&st, digest);
    for (size_t i = 0; i < 8; i++)
        snprintf(key + 2 * i, 3, "%02x", digest[i]);
    return LARDER_OK;
}

larder_code larder_cross_wheel(const char *sdist, const char *sha256, const char *const *withs, const char *outdir,
                               char *wheel, size_t wheel_size, larder_error *err)
{
    char dir[PATH_MAX], script[PATH_MAX + 32];
    larder_code rc = cross_dir(dir, sizeof dir, err);
    if (rc != LARDER_OK)
        return larder_prefix(err, rc, "%s", sdist);
    snprintf(script, sizeof script, "%s/cross-wheel.sh", dir);
    const char *argv[8 + 2 * LARDER_MAX_WITH];
    size_t n = 0;
    argv[n++] = script;
    argv[n++] = sdist;
    argv[n++] = outdir;
    if (sha256) {
        argv[n++] = "--sha256";
        argv[n++] = sha256;
    }
    for (size_t i = 0; withs && withs[i]; i++) {
        if (i == LARDER_MAX_WITH)
            return larder_fail(err, LARDER_EINVAL, "%s: more than %d --with", sdist, LARDER_MAX_WITH);
        argv[n++] = "--with";
        argv[n++] = withs[i];
    }
    argv[n] = NULL;
    char *out = NULL;
    size_t out_len;
    if ((rc = builder_run_capture((char *const *)argv, NULL, 0, &out, &out_len, err)) != LARDER_OK)
        return larder_prefix(err, rc, "%s: cross-compiling", sdist);
    /* the wheel's path is the last line printed */
    const char *text = out ? out : "", *last = NULL, *line;
    size_t len = 0, last_len = 0;
    for (const char *p = text; builder_next_line(&p, text + out_len, &line, &len);)
        if (len) {
            last = line;
            last_len = len;
        }
    if (!last || last_len < 4 || memcmp(last + last_len - 4, ".whl", 4) != 0)
        rc = larder_fail(err, LARDER_EINVAL, "%s: cross-wheel.sh named no wheel", sdist);
    else if (last_len >= wheel_size)
        rc = larder_fail(err, LARDER_EINVAL, "%s: path too long: %.*s", sdist, (int)last_len, last);
    else {
        memcpy(wheel, last, last_len);
        wheel[last_len] = '\0';
    }
    free(out);
    return rc;
}
