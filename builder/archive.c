/*
 * archive.c - deterministic tar (libarchive, pax restricted) in one zstd
 * frame (libzstd, with content size and checksum). Directory entries for
 * every parent are included so an extractor never has to invent them.
 */
#include "internal.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

/* libarchive's writer into a builder_buf; failed: out of memory */
typedef struct membuf {
    builder_buf buf;
    int failed;
} membuf;

static la_ssize_t membuf_write(struct archive *a, void *ctx, const void *buf, size_t n)
{
    (void)a;
    membuf *m = ctx;
    if (!builder_buf_append(&m->buf, buf, n)) {
        m->failed = 1;
        return -1;
    }
    return (la_ssize_t)n;
}

static int compare_paths(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int compare_files(const void *a, const void *b)
{
    return strcmp(((const larder_file *)a)->path, ((const larder_file *)b)->path);
}

/* The sorted, unique parent directories of every file. */
static char **parent_dirs(larder_fileset *set, size_t *n)
{
    size_t cap = 16, count = 0;
    char **dirs = malloc(cap * sizeof *dirs);
    for (size_t i = 0; dirs && i < larder_fileset_count(set); i++) {
        const char *path = larder_fileset_at(set, i)->path;
        for (const char *slash = strchr(path, '/'); slash; slash = strchr(slash + 1, '/')) {
            if (count == cap) {
                char **more = realloc(dirs, (cap *= 2) * sizeof *dirs);
                if (!more)
                    goto oom;
                dirs = more;
            }
            if (!(dirs[count] = strndup(path, (size_t)(slash - path))))
                goto oom;
            count++;
        }
    }
    if (!dirs)
        return NULL;
    qsort(dirs, count, sizeof *dirs, compare_paths);
    size_t u = 0;
    for (size_t i = 0; i < count; i++) {
        if (u && strcmp(dirs[u - 1], dirs[i]) == 0)
            free(dirs[i]);
        else
            dirs[u++] = dirs[i];
    }
    *n = u;
    return dirs;
oom:
    for (size_t i = 0; i < count; i++)
        free(dirs[i]);
    free(dirs);
    return NULL;
}

static int write_header(struct archive *a, struct archive_entry *e, const char *path, int type,
                        unsigned mode, size_t size)
{
    archive_entry_clear(e);
    archive_entry_set_pathname(e, path);
    archive_entry_set_filetype(e, (unsigned)type);
    archive_entry_set_perm(e, mode);
    archive_entry_set_size(e, (la_int64_t)size);
    archive_entry_set_mtime(e, 0, 0);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    return archive_write_header(a, e);
}

size_t larder_archive_entries(larder_fileset *set)
{
    size_t n_dirs = 0;
    char **dirs = parent_dirs(set, &n_dirs);
    if (!dirs)
        return 0;
    for (size_t i = 0; i < n_dirs; i++)
        free(dirs[i]);
    free(dirs);
    return n_dirs + larder_fileset_count(set);
}

larder_code larder_archive_write(larder_fileset *set, int level, unsigned char **out, size_t *out_len,
                                 larder_error *err)
{
    membuf tar = {0};
    size_t n_dirs = 0;
    char **dirs = parent_dirs(set, &n_dirs);
    larder_code rc = LARDER_OK;
    *out = NULL;
    *out_len = 0;
    if (!dirs)
        return larder_fail(err, LARDER_ENOMEM, "out of memory");
    /* sort the files in place: the set's order is the archive's */
    qsort(larder_fileset_at(set, 0), larder_fileset_count(set), sizeof(larder_file), compare_files);

    struct archive *a = archive_write_new();
    struct archive_entry *e = archive_entry_new();
    if (!a || !e || archive_write_set_format_pax_restricted(a) != ARCHIVE_OK
        || archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK
        || archive_write_open2(a, &tar, NULL, membuf_write, NULL, NULL) != ARCHIVE_OK) {
        rc = larder_fail(err, LARDER_EIO, "cannot start a tar archive: %s", a ? archive_error_string(a) : "no memory");
        goto done;
    }
    /* directories and files merged in path order */
    size_t d = 0, f = 0, n_files = larder_fileset_count(set);
    while (d < n_dirs || f < n_files) {
        larder_file *file = f < n_files ? larder_fileset_at(set, f) : NULL;
        int r;
        if (d < n_dirs && (!file || strcmp(dirs[d], file->path) < 0)) {
            r = write_header(a, e, dirs[d++], AE_IFDIR, 0755, 0);
        } else {
            r = write_header(a, e, file->path, AE_IFREG, file->mode, file->size);
            if (r == ARCHIVE_OK && file->size
                && archive_write_data(a, file->data, file->size) != (la_ssize_t)file->size)
                r = ARCHIVE_FATAL;
            f++;
        }
        if (r != ARCHIVE_OK) {
            rc = larder_fail(err, LARDER_EIO, "tar: %s", archive_error_string(a));
            goto done;
        }
    }
    if (archive_write_close(a) != ARCHIVE_OK || tar.failed) {
        rc = larder_fail(err, LARDER_EIO, "tar: %s", tar.failed ? "out of memory" : archive_error_string(a));
        goto done;
    }

    size_t bound = ZSTD_compressBound(tar.buf.len);
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    unsigned char *z = malloc(bound);
    if (!cctx || !z) {
        ZSTD_freeCCtx(cctx);
        free(z);
        rc = larder_fail(err, LARDER_ENOMEM, "out of memory");
        goto done;
    }
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1);
    size_t zlen = ZSTD_compress2(cctx, z, bound, tar.buf.data, tar.buf.len);
    ZSTD_freeCCtx(cctx);
    if (ZSTD_isError(zlen)) {
        free(z);
        rc = larder_fail(err, LARDER_EIO, "zstd: %s", ZSTD_getErrorName(zlen));
        goto done;
    }
    *out = z;
    *out_len = zlen;
done:
    if (e)
        archive_entry_free(e);
    if (a)
        archive_write_free(a);
    for (size_t i = 0; i < n_dirs; i++)
        free(dirs[i]);
    free(dirs);
    free(tar.buf.data);
    return rc;
}
