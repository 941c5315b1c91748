/*
 * cache.c - compressed archives keyed by sha256 in a directory (IDBFS in a
 * browser, a host directory or nothing under Node), with LRU eviction
 * beyond a size cap. Every stored archive is in the list, however many
 * there are, so every one can be evicted. Nothing here relies on file
 * times: the emscripten runtime does not keep them, so recency is a
 * counter in the cache's own list.
 */
#include "loader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LIST_FILE "lru.txt"

typedef struct lru_entry {
    char sha[LARDER_SHA256_HEX];
    uint64_t size, used;
} lru_entry;

struct larder_cache {
    char *dir;
    uint64_t cap;
    lru_entry *entries;
    size_t n, room;
    uint64_t clock;
    int dirty;  /* recency changed since the list was last written */
};

static void path_of(const larder_cache *c, const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", c->dir, name);
}

/* A new slot at the end of the list; NULL when out of memory. */
static lru_entry *append(larder_cache *c)
{
    if (c->n == c->room) {
        size_t room = c->room ? c->room * 2 : 64;
        lru_entry *more = realloc(c->entries, room * sizeof *more);
        if (!more)
            return NULL;
        c->entries = more;
        c->room = room;
    }
    return &c->entries[c->n++];
}

static void load_list(larder_cache *c)
{
    char path[1024], sha[80];
    unsigned long long size, used;
    path_of(c, LIST_FILE, path, sizeof path);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    lru_entry *e;
    while (fscanf(f, "%79s %llu %llu", sha, &size, &used) == 3) {
        if (strlen(sha) != 64 || !(e = append(c)))
            continue;
        memcpy(e->sha, sha, LARDER_SHA256_HEX);
        e->size = size;
        e->used = used;
        if (used > c->clock)
            c->clock = used;
    }
    fclose(f);
}

/* Entries are written without fsync (LARDER_WRITE_NOSYNC): an archive is
 * re-hashed when it is read back, and a list lost in a crash loses only
 * the order of eviction. */
static larder_code save_list(larder_cache *c, larder_error *err)
{
    char path[1024];
    enum { LINE = LARDER_SHA256_HEX + 2 * 21 + 2 };
    char *text = malloc(c->n * LINE + 1);
    if (!text)
        return larder_fail(err, LARDER_ENOMEM, "cache: out of memory for its list");
    size_t len = 0;
    for (size_t i = 0; i < c->n; i++)
        len += (size_t)snprintf(text + len, LINE + 1, "%s %llu %llu\n", c->entries[i].sha,
                                (unsigned long long)c->entries[i].size, (unsigned long long)c->entries[i].used);
    path_of(c, LIST_FILE, path, sizeof path);
    larder_code rc = larder_write_file(path, text, len, 0644, LARDER_WRITE_NOSYNC, err);
    free(text);
    if (rc != LARDER_OK)
        return larder_prefix(err, rc, "cache");
    c->dirty = 0;
    return LARDER_OK;
}

larder_code larder_cache_sync(larder_cache *c, larder_error *err)
{
    return c->dirty ? save_list(c, err) : LARDER_OK;
}

larder_cache *larder_cache_open(const char *dir, uint64_t cap, larder_error *err)
{
    larder_cache *c = calloc(1, sizeof *c);
    if (!c || !(c->dir = strdup(dir))) {
        larder_cache_close(c);
        larder_fail(err, LARDER_ENOMEM, "out of memory");
        return NULL;
    }
    larder_code rc = larder_mkdir_p(dir, err);
    if (rc != LARDER_OK) {
        larder_prefix(err, rc, "cache");
        larder_cache_close(c);
        return NULL;
    }
    c->cap = cap;
    load_list(c);
    return c;
}

void larder_cache_close(larder_cache *c)
{
    if (!c)
        return;
    free(c->dir);
    free(c->entries);
    free(c);
}

static lru_entry *find(larder_cache *c, const char *sha)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->entries[i].sha, sha) == 0)
            return &c->entries[i];
    return NULL;
}

static void drop(larder_cache *c, const char *sha)
{
    char path[1024], name[96];
    snprintf(name, sizeof name, "%s.tar.zst", sha);
    path_of(c, name, path, sizeof path);
    unlink(path);
    lru_entry *e = find(c, sha);
    if (e)
        *e = c->entries[--c->n];
}

int larder_cache_has(const larder_cache *c, const char *sha)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->entries[i].sha, sha) == 0)
            return 1;
    return 0;
}

void larder_cache_file(const larder_cache *c, const char *sha, char *out, size_t size)
{
    char name[96];
    snprintf(name, sizeof name, "%s.tar.zst", sha);
    path_of(c, name, out, size);
}

int larder_cache_get(larder_cache *c, const char *sha, const char *known, unsigned char **data, size_t *len)
{
    char path[1024];
    *data = NULL;
    *len = 0;
    larder_cache_file(c, sha, path, sizeof path);
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    struct stat st;
    unsigned char *buf = NULL;
    size_t got = 0;
    if (fstat(fileno(f), &st) == 0 && (buf = malloc((size_t)st.st_size + 1)))
        got = fread(buf, 1, (size_t)st.st_size, f);
    fclose(f);
    /* re-verified on every use: a damaged entry is dropped and refetched */
    if (!buf || got != (size_t)st.st_size
        || (known ? larder_check_sha256(known, sha, "cache", NULL) : larder_verify_sha256(buf, got, sha, "cache", NULL))
               != LARDER_OK) {
        free(buf);
        drop(c, sha);
        save_list(c, NULL);
        return 0;
    }
    lru_entry *e = find(c, sha);
    if (e) {
        e->used = ++c->clock;
        c->dirty = 1;  /* written by larder_cache_sync, once for all of an install's archives */
    }
    *data = buf;
    *len = got;
    return 1;
}

static int by_use(const void *a, const void *b)
{
    const lru_entry *x = a, *y = b;
    return x->used < y->used ? -1 : x->used > y->used;
}

larder_code larder_cache_put(larder_cache *c, const char *sha, const unsigned char *data, size_t len,
                             larder_error *err)
{
    char path[1024], name[96];
    if (len > c->cap)
        return LARDER_OK;  /* larger than the whole cache: not kept */
    snprintf(name, sizeof name, "%s.tar.zst", sha);
    path_of(c, name, path, sizeof path);
    larder_code rc = larder_write_file(path, data, len, 0644, LARDER_WRITE_NOSYNC, err);
    if (rc != LARDER_OK)
        return larder_prefix(err, rc, "cache");
    lru_entry *e = find(c, sha);
    if (!e && (e = append(c)))
        memcpy(e->sha, sha, LARDER_SHA256_HEX);
    if (!e) {  /* untracked, it could never be evicted: not kept */
        unlink(path);
        return larder_fail(err, LARDER_ENOMEM, "cache: out of memory for its list");
    }
    e->size = len;
    e->used = ++c->clock;
    /* evict the least recently used beyond the cap */
    uint64_t total = 0;
    for (size_t i = 0; i < c->n; i++)
        total += c->entries[i].size;
    if (total > c->cap) {
        qsort(c->entries, c->n, sizeof *c->entries, by_use);
        while (total > c->cap && c->n > 1) {
            total -= c->entries[0].size;
            char victim[LARDER_SHA256_HEX];
            memcpy(victim, c->entries[0].sha, sizeof victim);
            drop(c, victim);
            qsort(c->entries, c->n, sizeof *c->entries, by_use);
        }
    }
    return save_list(c, err);
}

uint64_t larder_cache_bytes(const larder_cache *c)
{
    uint64_t total = 0;
    for (size_t i = 0; i < c->n; i++)
        total += c->entries[i].size;
    return total;
}
