/* file.c - the file helpers every component uses (see common.h). */
#define _XOPEN_SOURCE 700 /* nftw */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int larder_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

larder_code larder_read_file(const char *path, uint64_t max, unsigned char **data, size_t *size,
                             larder_error *err)
{
    struct stat st;
    *data = NULL;
    *size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return larder_fail(err, errno == ENOENT ? LARDER_ENOTFOUND : LARDER_EIO, "cannot open %s: %s", path,
                           strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return larder_fail(err, LARDER_EINVAL, "%s is not a regular file", path);
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        return larder_fail(err, LARDER_ETOOBIG, "%s is %lld bytes, over the limit of %llu", path,
                           (long long)st.st_size, (unsigned long long)max);
    }
    unsigned char *buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        close(fd);
        return larder_fail(err, LARDER_ENOMEM, "out of memory reading %s", path);
    }
    size_t off = 0;
    ssize_t r = 1;
    while (off < (size_t)st.st_size && (r = read(fd, buf + off, (size_t)st.st_size - off)) > 0)
        off += (size_t)r;
    int e = errno;
    close(fd);
    if (off != (size_t)st.st_size) {
        free(buf);
        return larder_fail(err, LARDER_EIO, "cannot read %s: %s", path,
                           r < 0 ? strerror(e) : "it shrank while being read");
    }
    buf[off] = '\0';
    *data = buf;
    *size = off;
    return LARDER_OK;
}

/* The temporary file beside path that larder_write_file/larder_copy_file
 * write first: PATH.tmp.PID.XXXXXX (larder-mirror gc removes leftovers by
 * ".tmp."), opened with mode into *fd. */
static larder_code open_temp(const char *path, char *tmp, size_t size, mode_t mode, int *fd, larder_error *err)
{
    if (snprintf(tmp, size, "%s.tmp.%ld.XXXXXX", path, (long)getpid()) >= (int)size)
        return larder_fail(err, LARDER_EINVAL, "path too long: %s", path);
    *fd = mkstemp(tmp);
    if (*fd < 0 || fchmod(*fd, mode) != 0) {
        larder_code rc = larder_fail(err, LARDER_EIO, "cannot create %s: %s", tmp, strerror(errno));
        if (*fd >= 0) {
            close(*fd);
            unlink(tmp);
        }
        return rc;
    }
    return LARDER_OK;
}

static int write_all(int fd, const void *data, size_t len)
{
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, (const char *)data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        off += (size_t)w;
    }
    return 0;
}

/* fsync (unless LARDER_WRITE_NOSYNC) and close fd (the temporary tmp), then put it at path: rename, or
 * link for LARDER_WRITE_EXCLUSIVE. tmp is gone afterwards either way. */
static larder_code commit_temp(int fd, const char *tmp, const char *path, int flags, larder_error *err)
{
    int ok = (flags & LARDER_WRITE_NOSYNC) || fsync(fd) == 0;
    int e = errno;
    if (close(fd) != 0 && ok) {
        ok = 0;
        e = errno;
    }
    if (ok && (flags & LARDER_WRITE_EXCLUSIVE)) {
        ok = link(tmp, path) == 0;
        e = errno;
        unlink(tmp);
    } else if (ok) {
        ok = rename(tmp, path) == 0;
        e = errno;
    }
    if (!ok) {
        unlink(tmp);
        return larder_fail(err, LARDER_EIO, "cannot write %s: %s%s", path, strerror(e),
                           e == EEXIST && (flags & LARDER_WRITE_EXCLUSIVE) ? " (it is never replaced)" : "");
    }
    return LARDER_OK;
}

larder_code larder_write_file(const char *path, const void *data, size_t len, mode_t mode, int flags,
                              larder_error *err)
{
    char tmp[4200];
    int fd;
    larder_code rc = open_temp(path, tmp, sizeof tmp, mode, &fd, err);
    if (rc != LARDER_OK)
        return rc;
    if (write_all(fd, data, len) != 0) {
        rc = larder_fail(err, LARDER_EIO, "cannot write %s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return rc;
    }
    return commit_temp(fd, tmp, path, flags, err);
}

larder_code larder_copy_file(const char *src, const char *dest, larder_error *err)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return larder_fail(err, errno == ENOENT ? LARDER_ENOTFOUND : LARDER_EIO, "cannot open %s: %s", src,
                           strerror(errno));
    char tmp[4200];
    int out;
    larder_code rc = open_temp(dest, tmp, sizeof tmp, 0644, &out, err);
    if (rc != LARDER_OK) {
        close(in);
        return rc;
    }
    enum { CHUNK = 1 << 16 };
    char *buf = malloc(CHUNK);
    ssize_t r = -1;
    errno = ENOMEM;
    while (buf && ((r = read(in, buf, CHUNK)) > 0 || (r < 0 && errno == EINTR)))
        if (r > 0 && write_all(out, buf, (size_t)r) != 0)
            break;
    free(buf);
    if (r != 0) {
        rc = larder_fail(err, LARDER_EIO, "cannot copy %s to %s: %s", src, tmp, strerror(errno));
        close(in);
        close(out);
        unlink(tmp);
        return rc;
    }
    close(in);
    return commit_temp(out, tmp, dest, 0, err);
}

larder_code larder_mkdir_p(const char *dir, larder_error *err)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf)
        return larder_fail(err, LARDER_EINVAL, "path too long: %s", dir);
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p)
            continue;
        char c = *p;
        *p = '\0';
        struct stat st;
        if (mkdir(buf, 0755) != 0 && (errno != EEXIST || stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)))
            return larder_fail(err, LARDER_EIO, "cannot create directory %s: %s", buf,
                               errno == EEXIST ? "a file of that name is in the way" : strerror(errno));
        if (!c)
            return LARDER_OK;
        *p = c;
    }
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) != 0 && errno != ENOENT ? -1 : 0;
}

larder_code larder_rm_rf(const char *path, larder_error *err)
{
    struct stat st;
    if (lstat(path, &st) != 0 && errno == ENOENT)
        return LARDER_OK;
    if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        return larder_fail(err, LARDER_EIO, "cannot remove %s: %s", path, strerror(errno));
    return LARDER_OK;
}

larder_code larder_mkdtemp(const char *parent, const char *prefix, char *out, size_t size, larder_error *err)
{
    if (snprintf(out, size, "%s/%s-XXXXXX", parent, prefix) >= (int)size)
        return larder_fail(err, LARDER_EINVAL, "path too long: %s/%s", parent, prefix);
    if (!mkdtemp(out))
        return larder_fail(err, LARDER_EIO, "cannot create a temporary directory in %s: %s", parent,
                           strerror(errno));
    return LARDER_OK;
}
