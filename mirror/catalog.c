#define _GNU_SOURCE
/*
 * catalog.c - what the catalog holds, seen and changed by name: list,
 * remove (with the packages that depend on it, on request), the bearer
 * tokens of a private mirror, and the runtime a repository serves (its
 * stdlib split published into the catalog).
 */
#include "internal.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------------
 * The catalog in memory: names, versions, sizes and depends
 * ------------------------------------------------------------------------ */

typedef struct row {
    char *name, *version;
    uint64_t size;
    cJSON *entry;
    int marked;
} row;

static larder_code load_rows(larder_repo *repo, row **rows, size_t *n, larder_error *err)
{
    sqlite3_stmt *st;
    *rows = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(repo->db, "SELECT name, version, size, entry FROM packages ORDER BY name", -1, &st, NULL)
        != SQLITE_OK)
        return larder_fail(err, LARDER_EIO, "catalog: %s", sqlite3_errmsg(repo->db));
    size_t cap = 0;
    larder_code rc = LARDER_OK;
    while (rc == LARDER_OK && sqlite3_step(st) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 256;
            row *more = realloc(*rows, cap * sizeof *more);
            if (!more) {
                rc = larder_fail(err, LARDER_ENOMEM, "out of memory");
                break;
            }
            *rows = more;
        }
        row *r = &(*rows)[(*n)++];
        r->name = strdup((const char *)sqlite3_column_text(st, 0));
        r->version = strdup((const char *)sqlite3_column_text(st, 1));
        r->size = (uint64_t)sqlite3_column_int64(st, 2);
        r->entry = cJSON_Parse((const char *)sqlite3_column_text(st, 3));
        r->marked = 0;
        if (!r->name || !r->version || !r->entry)
            rc = larder_fail(err, LARDER_EIO, "catalog: the entry of %s is damaged; publish it again",
                             sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    return rc;
}

static void free_rows(row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rows[i].name);
        free(rows[i].version);
        cJSON_Delete(rows[i].entry);
    }
    free(rows);
}

static long find_row(row *rows, size_t n, const char *name)
{
    char key[256];
    larder_normalize_name(name, key, sizeof key);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(rows[i].name, key))
            return (long)i;
    return -1;
}

/* 1 when rows[i] depends on the package named dep. */
static int depends_on(const row *r, const char *dep)
{
    const cJSON *d;
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(r->entry, "depends")) {
        char key[256];
        if (cJSON_IsString(d) && !strcmp(larder_normalize_name(d->valuestring, key, sizeof key), dep))
            return 1;
    }
    return 0;
}

larder_code larder_repo_list(larder_repo *repo, larder_error *err)
{
    row *rows;
    size_t n;
    larder_code rc = load_rows(repo, &rows, &n, err);
    if (rc == LARDER_OK) {
        uint64_t total = 0;
        printf("%-30s %-14s %10s  %s\n", "name", "version", "size", "needed by");
        for (size_t i = 0; i < n; i++) {
            char users[1024] = "";
            size_t o = 0, count = 0;
            for (size_t j = 0; j < n; j++) {
                if (j == i || !depends_on(&rows[j], rows[i].name))
                    continue;
                if (++count <= 8 && o < sizeof users)
                    o += (size_t)snprintf(users + o, sizeof users - o, "%s%s", o ? ", " : "", rows[j].name);
            }
            if (count > 8 && o < sizeof users)
                snprintf(users + o, sizeof users - o, " and %zu more", count - 8);
            printf("%-30s %-14s %10llu  %s\n", rows[i].name, rows[i].version, (unsigned long long)rows[i].size,
                   count ? users : "-");
            total += rows[i].size;
        }
        printf("%zu package(s), %.1f MB\n", n, (double)total / 1e6);
    }
    free_rows(rows, n);
    return rc;
}

larder_code larder_repo_remove(larder_repo *repo, const char *const *names, size_t n_names, int cascade,
                               larder_error *err)
{
    row *rows;
    size_t n;
    larder_code rc = load_rows(repo, &rows, &n, err);
    for (size_t i = 0; rc == LARDER_OK && i < n_names; i++) {
        long k = find_row(rows, n, names[i]);
        if (k < 0)
            rc = larder_fail(err, LARDER_ENOTFOUND, "remove: no package named '%s' in the repository "
                             "(`larder-mirror list` shows what is there)", names[i]);
        else
            rows[k].marked = 1;
    }
    /* the dependents of what goes: refused, or (cascade) marked too */
    for (int changed = 1; rc == LARDER_OK && changed;) {
        changed = 0;
        for (size_t i = 0; rc == LARDER_OK && i < n; i++) {
            if (rows[i].marked)
                continue;
            for (size_t j = 0; j < n; j++) {
                if (!rows[j].marked || !depends_on(&rows[i], rows[j].name))
                    continue;
                if (!cascade) {
                    rc = larder_fail(err, LARDER_EINVAL, "remove: %s is needed by %s; remove that too, or give "
                                     "--cascade to remove everything that needs it", rows[j].name, rows[i].name);
                    break;
                }
                rows[i].marked = changed = 1;
                break;
            }
        }
    }
    if (rc == LARDER_OK && (rc = db_exec(repo, "BEGIN IMMEDIATE", err)) == LARDER_OK) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(repo->db, "DELETE FROM packages WHERE name=?1", -1, &st, NULL) != SQLITE_OK)
            rc = larder_fail(err, LARDER_EIO, "catalog: %s", sqlite3_errmsg(repo->db));
        for (size_t i = 0; rc == LARDER_OK && i < n; i++) {
            if (!rows[i].marked)
                continue;
            sqlite3_bind_text(st, 1, rows[i].name, -1, SQLITE_STATIC);
            if (sqlite3_step(st) != SQLITE_DONE)
                rc = larder_fail(err, LARDER_EIO, "catalog: cannot remove %s: %s", rows[i].name,
                                 sqlite3_errmsg(repo->db));
            sqlite3_reset(st);
        }
        sqlite3_finalize(st);
        if (rc == LARDER_OK)
            rc = db_exec(repo, "COMMIT", err);
        else
            db_exec(repo, "ROLLBACK", NULL);
    }
    if (rc == LARDER_OK)
        for (size_t i = 0; i < n; i++)
            if (rows[i].marked)
                printf("removed %s %s\n", rows[i].name, rows[i].version);
    free_rows(rows, n);
    return rc;
}

/* ------------------------------------------------------------------------
 * Tokens
 * ------------------------------------------------------------------------ */

larder_code larder_repo_token_add(larder_repo *repo, const char *label, char token[65], char *label_out,
                                  size_t label_size, larder_error *err)
{
    unsigned char raw[32], digest[32];
    char hex[65], auto_label[64];
    if (sodium_init() < 0)
        return larder_fail(err, LARDER_EINVAL, "libsodium failed to initialise");
    larder_code rc = db_exec(repo, REPO_MIGRATE, err);
    if (rc != LARDER_OK)
        return rc;
    if (!label) {  /* token-N with the lowest N not in use (revoked ones leave gaps) */
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(repo->db, "SELECT 1 FROM tokens WHERE label=?1", -1, &st, NULL) != SQLITE_OK)
            return larder_fail(err, LARDER_EIO, "catalog: %s", sqlite3_errmsg(repo->db));
        int taken = 1;
        for (long next = 1; taken; next++) {
            snprintf(auto_label, sizeof auto_label, "token-%ld", next);
            sqlite3_reset(st);
            sqlite3_bind_text(st, 1, auto_label, -1, SQLITE_STATIC);
            taken = sqlite3_step(st) == SQLITE_ROW;
        }
        sqlite3_finalize(st);
        label = auto_label;
    }
    if (!*label || strlen(label) > 64 || strpbrk(label, " ,\t\r\n"))
        return larder_fail(err, LARDER_EINVAL, "tokens add: a label is 1 to 64 characters without spaces or commas");
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(token, 65, raw, sizeof raw);
    crypto_hash_sha256(digest, (const unsigned char *)token, 64);
    sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(repo->db, "INSERT INTO tokens (label, sha256) VALUES (?1, ?2)", -1, &st, NULL) != SQLITE_OK)
        return larder_fail(err, LARDER_EIO, "catalog: %s", sqlite3_errmsg(repo->db));
    sqlite3_bind_text(st, 1, label, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, hex, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_CONSTRAINT)
        rc = larder_fail(err, LARDER_EINVAL, "tokens add: a token labelled '%s' exists; revoke it first or pick "
                         "another --name", label);
    else if (step != SQLITE_DONE)
        rc = larder_fail(err, LARDER_EIO, "catalog: %s", sqlite3_errmsg(repo->db));
    sqlite3_finalize(st);
    sodium_memzero(raw, sizeof raw);
    if (rc == LARDER_OK)
        snprintf(label_out, label_size, "%s", label);
    return rc;
}

larder_code larder_repo_token_list(larder_repo *repo, larder_error *err)
{
    sqlite3_stmt *st;
    larder_code rc = db_exec(repo, REPO_MIGRATE, err);
    if (rc != LARDER_OK)
        return rc;
    if (sqlite3_prepare_v2(repo->db, "SELECT label, created, sha256 FROM tokens ORDER BY created, label", -1, &st,
                           NULL) != SQLITE_OK)
        return larder_fail(err, LARDER_EIO, "catalog: %s", sqlite3_errmsg(repo->db));
    printf("%-24s %-22s %s\n", "label", "created", "sha256 (of the token)");
    while (sqlite3_step(st) == SQLITE_ROW)
        printf("%-24s %-22s %.16s...\n", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
               sqlite3_column_text(st, 2));
    sqlite3_finalize(st);
    const char *conf = larder_repo_config(repo, "token_sha256", NULL);
    if (conf && *conf)
        printf("(and the token_sha256 entries of larder-mirror.conf)\n");
    return LARDER_OK;
}

larder_code larder_repo_token_revoke(larder_repo *repo, const char *label, larder_error *err)
{
    sqlite3_stmt *st;
    if (db_exec(repo, REPO_MIGRATE, err) != LARDER_OK)
        return err->code;
    if (sqlite3_prepare_v2(repo->db, "DELETE FROM tokens WHERE label=?1", -1, &st, NULL) != SQLITE_OK)
        return larder_fail(err, LARDER_EIO, "catalog: %s", sqlite3_errmsg(repo->db));
    sqlite3_bind_text(st, 1, label, -1, SQLITE_STATIC);
    larder_code rc = sqlite3_step(st) == SQLITE_DONE ? LARDER_OK
                                                     : larder_fail(err, LARDER_EIO, "catalog: %s", sqlite3_errmsg(repo->db));
    sqlite3_finalize(st);
    if (rc == LARDER_OK && sqlite3_changes(repo->db) == 0)
        rc = larder_fail(err, LARDER_ENOTFOUND, "tokens revoke: no token labelled '%s' (`larder-mirror tokens list` "
                         "shows them)", label);
    return rc;
}

/* ------------------------------------------------------------------------
 * The runtime and its stdlib
 * ------------------------------------------------------------------------ */

const char *larder_default_runtime(char *out, size_t size)
{
    char exe[PATH_MAX], dir[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    snprintf(dir, sizeof dir, "%s", exe);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return NULL;
    *slash = '\0';
    /* build/bin/larder-mirror -> build/runtime (and the tests' build/sanitize/bin);
     * PREFIX/bin -> PREFIX/share/larder/runtime */
    static const char *const rel[] = {"../runtime", "../../runtime", "../share/larder/runtime"};
    for (size_t i = 0; i < sizeof rel / sizeof *rel; i++) {
        char path[PATH_MAX + 64], wasm[PATH_MAX + 80];
        snprintf(path, sizeof path, "%s/%s", dir, rel[i]);
        snprintf(wasm, sizeof wasm, "%s/python.wasm", path);
        if (access(wasm, R_OK) == 0 && realpath(path, out) && strlen(out) < size)
            return out;
    }
    return NULL;
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }
static int archive_name(const struct dirent *d) { return larder_ends_with_zst(d->d_name); }

/* Rewrite larder-mirror.conf with key = value (replacing an earlier line). */
static larder_code set_config(larder_repo *repo, const char *key, const char *value, larder_error *err)
{
    char path[4096];
    larder_code rc = repo_path(repo, "larder-mirror.conf", path, sizeof path, err);
    unsigned char *old = NULL;
    size_t len = 0;
    if (rc != LARDER_OK)
        return rc;
    larder_read_file(path, 1u << 20, &old, &len, NULL);
    size_t cap = len + strlen(key) + strlen(value) + 64, o = 0;
    char *out = malloc(cap);
    if (!out) {
        free(old);
        return larder_fail(err, LARDER_ENOMEM, "out of memory");
    }
    size_t klen = strlen(key);
    for (const char *p = old ? (const char *)old : ""; *p;) {
        size_t n = strcspn(p, "\n");
        const char *t = p + strspn(p, " \t");
        int same = !strncmp(t, key, klen) && (t[klen] == ' ' || t[klen] == '=' || t[klen] == '\t');
        if (!same) {
            memcpy(out + o, p, n);
            o += n;
            out[o++] = '\n';
        }
        p += n + (p[n] == '\n');
    }
    o += (size_t)snprintf(out + o, cap - o, "%s = %s\n", key, value);
    rc = larder_write_file(path, out, o, 0644, 0, err);
    free(out);
    free(old);
    return rc;
}

larder_code larder_repo_set_runtime(larder_repo *repo, const char *runtime_dir, size_t *n_stdlib, larder_error *err)
{
    char runtime[PATH_MAX], stdlib[PATH_MAX + 16], wasm[PATH_MAX + 16];
    *n_stdlib = 0;
    if (!runtime_dir) {
        if (!larder_default_runtime(runtime, sizeof runtime))
            return larder_fail(err, LARDER_ENOTFOUND, "no runtime beside this larder-mirror; give --runtime DIR "
                               "(a directory with python.wasm, as `make` writes build/runtime)");
    } else if (!realpath(runtime_dir, runtime)) {
        return larder_fail(err, LARDER_ENOTFOUND, "--runtime %s: %s", runtime_dir, strerror(errno));
    }
    snprintf(wasm, sizeof wasm, "%s/python.wasm", runtime);
    if (access(wasm, R_OK) != 0)
        return larder_fail(err, LARDER_EINVAL, "--runtime %s: not a larder runtime (no python.wasm)", runtime);
    snprintf(stdlib, sizeof stdlib, "%s/stdlib", runtime);
    if (!is_dir(stdlib))
        snprintf(stdlib, sizeof stdlib, "%s/../stdlib", runtime);
    if (!is_dir(stdlib))
        return larder_fail(err, LARDER_ENOTFOUND, "the runtime %s has no stdlib split (looked for %s/stdlib and "
                           "%s/../stdlib); `make` writes it", runtime, runtime, runtime);
    struct dirent **names;
    int n = scandir(stdlib, &names, archive_name, by_name);
    if (n <= 0)
        return larder_fail(err, LARDER_ENOTFOUND, "%s holds no stdlib archives; `make` writes them", stdlib);
    char **paths = calloc((size_t)n, sizeof *paths);
    larder_code rc = paths ? LARDER_OK : larder_fail(err, LARDER_ENOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        if (rc == LARDER_OK && asprintf(&paths[i], "%s/%s", stdlib, names[i]->d_name) < 0) {
            paths[i] = NULL;
            rc = larder_fail(err, LARDER_ENOMEM, "out of memory");
        }
        free(names[i]);
    }
    free(names);
    if (rc == LARDER_OK)
        rc = repo_publish_for(repo, (const char *const *)paths, n, runtime, err);
    if (rc == LARDER_OK)
        rc = set_config(repo, "runtime", runtime, err);
    for (int i = 0; paths && i < n; i++)
        free(paths[i]);
    free(paths);
    if (rc == LARDER_OK)
        *n_stdlib = (size_t)n;
    return rc;
}
