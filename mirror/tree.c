/*
 * tree.c - the signed public tree: `sign` composes index.json from the
 * catalog, signs it, writes compressed copies and links the archives into
 * public-SERIAL/, then swaps the `public` symlink by rename (atomic).
 * `export` copies the current tree.
 */
#include "internal.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

static larder_code gzip_bytes(const char *in, size_t len, unsigned char **out, size_t *out_len, larder_error *err)
{
    z_stream z = {0};
    if (deflateInit2(&z, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        return larder_fail(err, LARDER_ENOMEM, "gzip: cannot initialise");
    size_t cap = deflateBound(&z, len);
    *out = malloc(cap);
    z.next_in = (unsigned char *)in;
    z.avail_in = (uInt)len;
    z.next_out = *out;
    z.avail_out = (uInt)cap;
    int r = *out ? deflate(&z, Z_FINISH) : Z_MEM_ERROR;
    *out_len = z.total_out;
    deflateEnd(&z);
    if (r != Z_STREAM_END) {
        free(*out);
        return larder_fail(err, LARDER_EIO, "gzip: compression failed");
    }
    return LARDER_OK;
}

static void utc(time_t t, char out[32])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The index document of every catalog entry, sorted by name. */
static larder_code compose(larder_repo *repo, uint64_t serial, const larder_pubkey *pub, char **json,
                           larder_error *err)
{
    cJSON *root = cJSON_CreateObject(), *info = cJSON_AddObjectToObject(root, "info");
    cJSON *packages = cJSON_AddObjectToObject(root, "packages");
    char now[32], expires[32];
    long days = strtol(larder_repo_config(repo, "expires_days", "30"), NULL, 10);
    time_t t = time(NULL);
    utc(t, now);
    utc(t + (days > 0 ? days : 30) * 86400, expires);
    cJSON_AddStringToObject(info, "arch", LARDER_ARCH);
    cJSON_AddStringToObject(info, "platform", LARDER_PLATFORM);
    cJSON_AddStringToObject(info, "python", LARDER_PYTHON_VERSION);
    cJSON_AddStringToObject(info, "abi_version", LARDER_ABI_VERSION);
    cJSON_AddNumberToObject(info, "serial", (double)serial);
    cJSON_AddStringToObject(info, "generated", now);
    cJSON_AddStringToObject(info, "expires", expires);
    cJSON_AddStringToObject(info, "key_id", pub->id);
    sqlite3_stmt *st;
    larder_code rc = LARDER_OK;
    if (sqlite3_prepare_v2(repo->db, "SELECT name, entry FROM packages ORDER BY name", -1, &st, NULL) != SQLITE_OK)
        rc = larder_fail(err, LARDER_EIO, "catalog: %s", sqlite3_errmsg(repo->db));
    while (rc == LARDER_OK && sqlite3_step(st) == SQLITE_ROW) {
        cJSON *entry = cJSON_Parse((const char *)sqlite3_column_text(st, 1));
        if (!entry)
            rc = larder_fail(err, LARDER_EIO, "catalog: the entry of %s is damaged; publish it again",
                             sqlite3_column_text(st, 0));
        else
            cJSON_AddItemToObject(packages, (const char *)sqlite3_column_text(st, 0), entry);
    }
    sqlite3_finalize(st);
    *json = rc == LARDER_OK ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (rc == LARDER_OK && !*json)
        rc = larder_fail(err, LARDER_ENOMEM, "out of memory");
    return rc;
}

typedef struct claim {
    const char *import;
    const char *package;
} claim;

static int claim_cmp(const void *a, const void *b)
{
    return strcmp(((const claim *)a)->import, ((const claim *)b)->import);
}

/* No import name provided by two packages: the loader would pick one
 * silently (import squatting), and a package writes only under the names it
 * declares, so a name declared once is a set of files owned once. */
static larder_code check_unique_imports(const larder_index *index, larder_error *err)
{
    size_t n = larder_index_count(index), total = 0;
    for (size_t i = 0; i < n; i++)
        total += larder_index_at(index, i)->n_imports;
    claim *claims = malloc((total + 1) * sizeof *claims);
    if (!claims)
        return larder_fail(err, LARDER_ENOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const larder_package *p = larder_index_at(index, i);
        for (size_t j = 0; j < p->n_imports; j++)
            claims[k++] = (claim){p->imports[j], p->name};
    }
    qsort(claims, total, sizeof *claims, claim_cmp);
    larder_code rc = LARDER_OK;
    for (size_t i = 1; i < total && rc == LARDER_OK; i++)
        if (!strcmp(claims[i - 1].import, claims[i].import))
            rc = larder_fail(err, LARDER_EINVAL, "not signing: packages '%s' and '%s' both provide the import '%s' "
                             "(one would shadow the other, or plant files in its place); remove one with "
                             "`larder-mirror remove`", claims[i - 1].package, claims[i].package, claims[i].import);
    free(claims);
    return rc;
}

/* Every dependency of every package must be in the index, and no import
 * name may be claimed twice. */
static larder_code check_complete(const char *json, larder_error *err)
{
    larder_index *index = larder_index_parse(json, strlen(json), err);
    if (!index)
        return err->code;
    size_t n = larder_index_count(index);
    const char **names = malloc((n + 1) * sizeof *names);
    larder_code rc = names ? LARDER_OK : larder_fail(err, LARDER_ENOMEM, "out of memory");
    for (size_t i = 0; rc == LARDER_OK && i < n; i++)
        names[i] = larder_index_at(index, i)->key;
    const larder_package **order;
    size_t n_order;
    if (rc == LARDER_OK && (rc = larder_index_resolve(index, names, n, &order, &n_order, err)) == LARDER_OK)
        free(order);
    else if (rc == LARDER_ENOTFOUND)
        larder_prefix(err, rc, "not signing an incomplete index");
    if (rc == LARDER_OK)
        rc = check_unique_imports(index, err);
    free(names);
    larder_index_free(index);
    return rc;
}

static larder_code put(const char *dir, const char *name, const void *data, size_t len, larder_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return larder_write_file(path, data, len, 0644, 0, err);
}

larder_code larder_repo_sign(larder_repo *repo, uint64_t *serial_out, larder_error *err)
{
    larder_pubkey pub;
    larder_signing_key *key = repo_signing_key(repo, err);
    if (!key)
        return err->code;
    larder_code rc = larder_key_public(key, &pub, err);
    sqlite3_stmt *st;
    uint64_t serial = 0;
    if (rc == LARDER_OK && sqlite3_prepare_v2(repo->db, "SELECT value FROM meta WHERE key='serial'", -1, &st,
                                              NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            serial = (uint64_t)sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    serial++;
    char *json = NULL, sig[LARDER_SIG_TEXT + 1];
    char tree_rel[64], tree[4096], link_tmp[4200], link_path[4096];
    snprintf(tree_rel, sizeof tree_rel, "public-%llu", (unsigned long long)serial);
    if (rc == LARDER_OK)
        rc = compose(repo, serial, &pub, &json, err);
    if (rc == LARDER_OK)
        rc = check_complete(json, err);
    if (rc == LARDER_OK)
        rc = larder_sign(key, json, strlen(json), sig, err);
    larder_key_free(key);
    if (rc == LARDER_OK && (rc = repo_path(repo, tree_rel, tree, sizeof tree, err)) == LARDER_OK) {
        if (mkdir(tree, 0755) != 0 && errno != EEXIST)
            rc = larder_fail(err, LARDER_EIO, "cannot create %s: %s", tree, strerror(errno));
    }
    size_t len = json ? strlen(json) : 0;
    if (rc == LARDER_OK && (rc = put(tree, "index.json", json, len, err)) == LARDER_OK) {
        strcat(sig, "\n");
        rc = put(tree, "index.json.sig", sig, strlen(sig), err);
    }
    if (rc == LARDER_OK) {
        unsigned char *gz = NULL;
        size_t gz_len = 0;
        if ((rc = gzip_bytes(json, len, &gz, &gz_len, err)) == LARDER_OK) {
            rc = put(tree, "index.json.gz", gz, gz_len, err);
            free(gz);
        }
    }
    if (rc == LARDER_OK) {
        size_t bound = ZSTD_compressBound(len);
        unsigned char *z = malloc(bound);
        size_t z_len = z ? ZSTD_compress(z, bound, json, len, 19) : 0;
        rc = (!z || ZSTD_isError(z_len)) ? larder_fail(err, LARDER_EIO, "zstd: cannot compress the index")
                                         : put(tree, "index.json.zst", z, z_len, err);
        free(z);
    }
    /* the archives, as hard links into the store */
    if (rc == LARDER_OK && sqlite3_prepare_v2(repo->db, "SELECT file_name, sha256 FROM packages", -1, &st,
                                              NULL) == SQLITE_OK) {
        while (rc == LARDER_OK && sqlite3_step(st) == SQLITE_ROW) {
            char src[4096], dest[4400];
            if ((rc = repo_store_path(repo, (const char *)sqlite3_column_text(st, 1), src, sizeof src, err)) != LARDER_OK)
                break;
            snprintf(dest, sizeof dest, "%s/%s", tree, sqlite3_column_text(st, 0));
            unlink(dest);
            if (link(src, dest) != 0 && symlink(src, dest) != 0)
                rc = larder_fail(err, LARDER_EIO, "cannot link %s into %s: %s", src, tree, strerror(errno));
        }
        sqlite3_finalize(st);
    }
    /* record the serial, then make the tree current */
    char sql[128];
    snprintf(sql, sizeof sql, "UPDATE meta SET value='%llu' WHERE key='serial'", (unsigned long long)serial);
    if (rc == LARDER_OK)
        rc = db_exec(repo, sql, err);
    if (rc == LARDER_OK && (rc = repo_path(repo, "public", link_path, sizeof link_path, err)) == LARDER_OK) {
        snprintf(link_tmp, sizeof link_tmp, "%s.tmp.%ld", link_path, (long)getpid());
        unlink(link_tmp);
        if (symlink(tree_rel, link_tmp) != 0 || rename(link_tmp, link_path) != 0)
            rc = larder_fail(err, LARDER_EIO, "cannot publish %s as %s: %s", tree, link_path, strerror(errno));
    }
    free(json);
    if (rc == LARDER_OK && serial_out)
        *serial_out = serial;
    return rc;
}

static int not_hidden(const struct dirent *d) { return d->d_name[0] != '.'; }

larder_code larder_repo_export(larder_repo *repo, const char *dest, larder_error *err)
{
    char src[4096];
    larder_code rc = repo_path(repo, "public", src, sizeof src, err);
    if (rc != LARDER_OK)
        return rc;
    struct dirent **names;
    int n = scandir(src, &names, not_hidden, alphasort);
    if (n < 0)
        return larder_fail(err, LARDER_ENOTFOUND, "nothing to export (%s: %s): run `larder-mirror sign` first",
                           src, strerror(errno));
    if (mkdir(dest, 0755) != 0 && errno != EEXIST)
        rc = larder_fail(err, LARDER_EIO, "cannot create %s: %s", dest, strerror(errno));
    /* archives first, the index last, each through a temporary name: a
     * reader of dest never sees a partial file or an index naming a
     * missing archive */
    for (int pass = 0; pass < 2 && rc == LARDER_OK; pass++) {
        for (int i = 0; i < n && rc == LARDER_OK; i++) {
            const char *name = names[i]->d_name;
            if ((strncmp(name, "index.json", 10) == 0) != pass)
                continue;
            char from[4400], to[4400];
            if (snprintf(from, sizeof from, "%s/%s", src, name) >= (int)sizeof from
                || snprintf(to, sizeof to, "%s/%s", dest, name) >= (int)sizeof to) {
                rc = larder_fail(err, LARDER_EINVAL, "path too long for %s", name);
                break;
            }
            if ((rc = larder_copy_file(from, to, err)) != LARDER_OK)
                break;
        }
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}
