/*
 * untar.c - a strict reader for the POSIX tar archives larder-build writes.
 *
 * The loader must not trust archive contents, and the wasm module must stay
 * small, so instead of linking a general tar library into every runtime this
 * reads exactly the subset the builder produces (ustar headers, pax 'x'
 * records for long paths) and refuses everything else: links, devices,
 * FIFOs, GNU extensions, global pax headers, absolute paths, ".." and "."
 * components, duplicate entries, bad checksums, truncation, and files whose
 * sizes add up to more than the index declared. It is fuzzed
 * (tests/fuzz/fuzz_untar.c).
 */
#include "loader.h"

#include <stdlib.h>
#include <string.h>

#define BLOCK 512

static int all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/* An octal field (NUL- or space-terminated); -1 when malformed. */
static long long octal(const unsigned char *p, size_t n)
{
    long long v = 0;
    size_t i = 0;
    while (i < n && p[i] == ' ')
        i++;
    size_t start = i;
    for (; i < n && p[i] >= '0' && p[i] <= '7'; i++) {
        if (v > (1LL << 50))
            return -1;
        v = v * 8 + (p[i] - '0');
    }
    if (i == start)
        return -1;
    for (; i < n; i++)
        if (p[i] != ' ' && p[i] != '\0')
            return -1;
    return v;
}

static int checksum_ok(const unsigned char *h)
{
    long long want = octal(h + 148, 8);
    long long sum = 0;
    for (int i = 0; i < BLOCK; i++)
        sum += (i >= 148 && i < 156) ? ' ' : h[i];
    return want >= 0 && sum == want;
}

/* The "path" record of a pax extended header; other keys are ignored
 * (mtime, atime, uid: the loader does not use them). */
static larder_code pax_path(const unsigned char *data, size_t size, char **path, larder_error *err)
{
    size_t off = 0;
    while (off < size) {
        size_t len = 0, i = off;
        while (i < size && data[i] >= '0' && data[i] <= '9' && len < 100000)
            len = len * 10 + (size_t)(data[i++] - '0');
        if (i >= size || data[i] != ' ' || len < 5 || len > size - off || data[off + len - 1] != '\n')
            return larder_fail(err, LARDER_ECORRUPT, "malformed pax header record");
        const unsigned char *kv = data + i + 1, *end = data + off + len - 1;
        const unsigned char *eq = memchr(kv, '=', (size_t)(end - kv));
        if (!eq)
            return larder_fail(err, LARDER_ECORRUPT, "malformed pax header record");
        if ((size_t)(eq - kv) == 4 && memcmp(kv, "path", 4) == 0) {
            if (memchr(eq + 1, '\0', (size_t)(end - eq - 1)))
                return larder_fail(err, LARDER_ECORRUPT, "NUL byte in a pax path");
            free(*path);
            *path = malloc((size_t)(end - eq));
            if (!*path)
                return larder_fail(err, LARDER_ENOMEM, "out of memory");
            memcpy(*path, eq + 1, (size_t)(end - eq - 1));
            (*path)[end - eq - 1] = '\0';
        } else if ((size_t)(eq - kv) == 8 && memcmp(kv, "linkpath", 8) == 0) {
            return larder_fail(err, LARDER_EINVAL, "archive contains a link (pax linkpath)");
        }
        off += len;
    }
    return LARDER_OK;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void larder_tar_free(larder_tar_entry *entries, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(entries[i].path);
    free(entries);
}

larder_code larder_tar_parse(const unsigned char *tar, size_t len, uint64_t max_file_bytes,
                             larder_tar_entry **out, size_t *n_out, larder_error *err)
{
    larder_tar_entry *entries = NULL;
    size_t n = 0, cap = 0, off = 0;
    uint64_t total = 0;
    char *pending_path = NULL;
    larder_code rc = LARDER_OK;
    int ended = 0;
    *out = NULL;
    *n_out = 0;
    while (!ended) {
        if (off + BLOCK > len) {
            rc = larder_fail(err, LARDER_ECORRUPT, "archive is truncated (no end-of-archive marker)");
            goto fail;
        }
        const unsigned char *h = tar + off;
        if (all_zero(h, BLOCK)) {
            if (pending_path) {
                rc = larder_fail(err, LARDER_ECORRUPT, "pax header without an entry");
                goto fail;
            }
            if (!all_zero(tar + off, len - off)) {
                rc = larder_fail(err, LARDER_ECORRUPT, "data after the end-of-archive marker");
                goto fail;
            }
            ended = 1;
            break;
        }
        if (!checksum_ok(h)) {
            rc = larder_fail(err, LARDER_ECORRUPT, "bad tar header checksum at offset %zu", off);
            goto fail;
        }
        if (memcmp(h + 257, "ustar", 5) != 0) {
            rc = larder_fail(err, LARDER_ECORRUPT, "not a POSIX (ustar) tar header at offset %zu", off);
            goto fail;
        }
        long long size = octal(h + 124, 12);
        if (size < 0 || (unsigned long long)size > len - off - BLOCK) {
            rc = larder_fail(err, LARDER_ECORRUPT, "tar entry at offset %zu has a bad or truncated size", off);
            goto fail;
        }
        char type = (char)h[156];
        const unsigned char *data = h + BLOCK;
        size_t advance = BLOCK + (((size_t)size + BLOCK - 1) / BLOCK) * BLOCK;
        if (type == 'x') {
            if ((rc = pax_path(data, (size_t)size, &pending_path, err)) != LARDER_OK)
                goto fail;
            off += advance;
            continue;
        }
        char name[256 + 2];
        size_t plen = strnlen((const char *)h + 345, 155), nlen = strnlen((const char *)h, 100);
        if (plen) {
            memcpy(name, h + 345, plen);
            name[plen] = '/';
            memcpy(name + plen + 1, h, nlen);
            name[plen + 1 + nlen] = '\0';
        } else {
            memcpy(name, h, nlen);
            name[nlen] = '\0';
        }
        char *path = pending_path ? pending_path : strdup(name);
        pending_path = NULL;
        if (!path) {
            rc = larder_fail(err, LARDER_ENOMEM, "out of memory");
            goto fail;
        }
        int is_dir = type == '5';
        size_t pl = strlen(path);
        if (is_dir && pl && path[pl - 1] == '/')
            path[--pl] = '\0';
        if (type != '0' && type != '\0' && !is_dir) {
            const char *what = type == '1' ? "a hard link" : type == '2' ? "a symbolic link"
                             : (type == '3' || type == '4') ? "a device file" : type == '6' ? "a FIFO"
                             : "an entry of an unsupported type";
            rc = larder_fail(err, LARDER_EINVAL, "archive entry \"%.200s\" is %s; only regular files and "
                             "directories are accepted", path, what);
            free(path);
            goto fail;
        }
        if (!larder_path_is_safe(path)) {
            rc = larder_fail(err, LARDER_EINVAL, "archive entry \"%.200s\" has an unsafe path (absolute, "
                             "\"..\" or \".\"); refusing to unpack", path);
            free(path);
            goto fail;
        }
        if (is_dir && size != 0) {
            rc = larder_fail(err, LARDER_ECORRUPT, "directory entry \"%.200s\" has data", path);
            free(path);
            goto fail;
        }
        total += (uint64_t)size;
        if (total > max_file_bytes) {
            rc = larder_fail(err, LARDER_ETOOBIG, "archive unpacks to more than the %llu bytes the index "
                             "declares (a decompression bomb, or a wrong index entry)",
                             (unsigned long long)max_file_bytes);
            free(path);
            goto fail;
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            larder_tar_entry *more = realloc(entries, ncap * sizeof *more);
            if (!more) {
                free(path);
                rc = larder_fail(err, LARDER_ENOMEM, "out of memory");
                goto fail;
            }
            entries = more;
            cap = ncap;
        }
        long long mode = octal(h + 100, 8);
        entries[n++] = (larder_tar_entry){path, is_dir, (mode > 0 && (mode & 0111)) ? 0755 : 0644,
                                          data, (size_t)size};
        off += advance;
    }
    /* duplicates: sort a copy of the paths */
    if (n > 1) {
        char **paths = malloc(n * sizeof *paths);
        if (!paths) {
            rc = larder_fail(err, LARDER_ENOMEM, "out of memory");
            goto fail;
        }
        for (size_t i = 0; i < n; i++)
            paths[i] = entries[i].path;
        qsort(paths, n, sizeof *paths, compare_strings);
        for (size_t i = 1; i < n && rc == LARDER_OK; i++)
            if (strcmp(paths[i - 1], paths[i]) == 0)
                rc = larder_fail(err, LARDER_EINVAL, "archive has the entry \"%.200s\" twice", paths[i]);
        free(paths);
        if (rc != LARDER_OK)
            goto fail;
    }
    *out = entries;
    *n_out = n;
    return LARDER_OK;
fail:
    free(pending_path);
    larder_tar_free(entries, n);
    return rc;
}
