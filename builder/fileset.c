/* fileset.c - the files of one package, in memory, with checked paths. */
#include "builder.h"

#include <stdlib.h>
#include <string.h>

struct larder_fileset {
    larder_file *files;
    size_t n, cap;
};

larder_fileset *larder_fileset_new(void) { return calloc(1, sizeof(larder_fileset)); }

void larder_fileset_free(larder_fileset *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++) {
        free(set->files[i].path);
        free(set->files[i].data);
    }
    free(set->files);
    free(set);
}

larder_file *larder_fileset_find(const larder_fileset *set, const char *path)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->files[i].path, path) == 0)
            return &set->files[i];
    return NULL;
}

larder_code larder_fileset_add(larder_fileset *set, const char *path, const void *data, size_t size,
                               unsigned mode, larder_error *err)
{
    if (!larder_path_is_safe(path))
        return larder_fail(err, LARDER_EINVAL,
                           "unsafe path \"%s\": absolute paths, \"..\" and \".\" components are refused",
                           path);
    if (larder_fileset_find(set, path))
        return larder_fail(err, LARDER_EINVAL, "duplicate file \"%s\"", path);
    if (set->n == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 64;
        larder_file *files = realloc(set->files, cap * sizeof *files);
        if (!files)
            return larder_fail(err, LARDER_ENOMEM, "out of memory");
        set->files = files;
        set->cap = cap;
    }
    larder_file *f = &set->files[set->n];
    f->path = strdup(path);
    f->data = malloc(size ? size : 1);
    if (!f->path || !f->data) {
        free(f->path);
        free(f->data);
        return larder_fail(err, LARDER_ENOMEM, "out of memory");
    }
    if (size)
        memcpy(f->data, data, size);
    f->size = size;
    f->mode = (mode & 0111) ? 0755 : 0644;
    set->n++;
    return LARDER_OK;
}

int larder_fileset_remove(larder_fileset *set, const char *path)
{
    larder_file *f = larder_fileset_find(set, path);
    if (!f)
        return 0;
    free(f->path);
    free(f->data);
    *f = set->files[--set->n];
    return 1;
}

size_t larder_fileset_count(const larder_fileset *set) { return set->n; }
larder_file *larder_fileset_at(const larder_fileset *set, size_t i) { return i < set->n ? &set->files[i] : NULL; }

uint64_t larder_fileset_bytes(const larder_fileset *set)
{
    uint64_t total = 0;
    for (size_t i = 0; i < set->n; i++)
        total += set->files[i].size;
    return total;
}
