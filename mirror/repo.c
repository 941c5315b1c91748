/* repo.c - repository layout, catalog, configuration and signing keys. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_FILE "larder-mirror.conf"
#define KEY_FILE "keys/signing.pem"

static const char SCHEMA[] =
    "PRAGMA journal_mode=WAL;"
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS packages ("
    "  name TEXT PRIMARY KEY,"       /* normalised */
    "  version TEXT NOT NULL,"
    "  file_name TEXT NOT NULL UNIQUE,"
    "  sha256 TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  entry TEXT NOT NULL,"         /* the index entry, JSON */
    "  published TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))"
    ");"
    "INSERT OR IGNORE INTO meta VALUES ('serial', '0');";

/* Tables added since the first release: in new repositories from init,
 * in older ones from the first command that writes them
 * (repo_migrate), so opening never writes. */
const char REPO_MIGRATE[] =
    "CREATE TABLE IF NOT EXISTS tokens ("
    "  label TEXT PRIMARY KEY,"
    "  sha256 TEXT NOT NULL,"        /* hex SHA-256 of the token; the token itself is never stored */
    "  created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))"
    ");"
    /* every archive file name ever published, with its bytes' digest:
     * archives are served immutable, so a name never gets other bytes */
    "CREATE TABLE IF NOT EXISTS served ("
    "  file_name TEXT PRIMARY KEY,"
    "  sha256 TEXT NOT NULL"
    ");"
    "INSERT OR IGNORE INTO served SELECT file_name, sha256 FROM packages;"
    /* which packages a sync brought, from which upstream */
    "CREATE TABLE IF NOT EXISTS synced ("
    "  name TEXT PRIMARY KEY,"
    "  upstream TEXT NOT NULL"
    ");";

static const char DEFAULT_CONFIG[] =
    "# larder-mirror settings (key = value); command-line options override them.\n"
    "# days an index stays valid after `sign`; clients refuse it afterwards\n"
    "expires_days = 30\n"
    "# address for `serve`\n"
    "listen = 127.0.0.1:8000\n"
    "# a private mirror: clients must send 'Authorization: Bearer TOKEN' for the\n"
    "# index and the archives. `larder-mirror tokens add` makes tokens; tokens made\n"
    "# elsewhere can be listed here as the sha256 (64 hex digits) of each,\n"
    "# comma-separated. serve refuses to start on an entry it cannot read.\n"
    "# token_sha256 =\n";

larder_code repo_path(const larder_repo *repo, const char *rel, char *out, size_t size, larder_error *err)
{
    int n = snprintf(out, size, "%s/%s", repo->dir, rel);
    if (n < 0 || (size_t)n >= size)
        return larder_fail(err, LARDER_EINVAL, "path too long: %s/%s", repo->dir, rel);
    return LARDER_OK;
}

larder_code repo_store_path(const larder_repo *repo, const char *sha, char *out, size_t size, larder_error *err)
{
    char rel[128];
    snprintf(rel, sizeof rel, "store/%.2s/%s", sha, sha);
    return repo_path(repo, rel, out, size, err);
}

larder_code file_sha256(const char *path, char hex[65], uint64_t *size, larder_error *err)
{
    unsigned char buf[65536], digest[32];
    crypto_hash_sha256_state st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return larder_fail(err, LARDER_EIO, "cannot open %s: %s", path, strerror(errno));
    crypto_hash_sha256_init(&st);
    uint64_t total = 0;
    ssize_t r;
    while ((r = read(fd, buf, sizeof buf)) > 0) {
        crypto_hash_sha256_update(&st, buf, (size_t)r);
        total += (uint64_t)r;
    }
    close(fd);
    if (r < 0)
        return larder_fail(err, LARDER_EIO, "cannot read %s: %s", path, strerror(errno));
    crypto_hash_sha256_final(&st, digest);
    sodium_bin2hex(hex, 65, digest, sizeof digest);
    if (size)
        *size = total;
    return LARDER_OK;
}

larder_code db_exec(larder_repo *repo, const char *sql, larder_error *err)
{
    char *msg = NULL;
    if (sqlite3_exec(repo->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        larder_code rc = larder_fail(err, LARDER_EIO, "catalog: %s", msg ? msg : sqlite3_errmsg(repo->db));
        sqlite3_free(msg);
        return rc;
    }
    return LARDER_OK;
}

/* The names an archive may not have: the index's own files, and anything
 * but NAME.tar.zst of letters, digits and ._+- (the public tree serves
 * archives and the index side by side). */
static int reserved_file_name(const char *file_name)
{
    size_t n = strlen(file_name);
    if (!strncmp(file_name, "index.json", 10) || n < 9 || strcmp(file_name + n - 8, ".tar.zst") != 0
        || file_name[0] == '.' || file_name[0] == '-')
        return 1;
    for (size_t i = 0; i < n; i++)
        if (!(file_name[i] >= 'a' && file_name[i] <= 'z') && !(file_name[i] >= 'A' && file_name[i] <= 'Z')
            && !(file_name[i] >= '0' && file_name[i] <= '9') && !strchr("._+-", file_name[i]))
            return 1;
    return 0;
}

larder_code db_query(larder_repo *repo, const char *sql, char *have, larder_error *err, ...)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(repo->db, sql, -1, &st, NULL) != SQLITE_OK)
        return larder_fail(err, LARDER_EIO, "catalog: %s", sqlite3_errmsg(repo->db));
    va_list ap;
    va_start(ap, err);
    const char *arg;
    for (int i = 1; (arg = va_arg(ap, const char *)); i++)
        sqlite3_bind_text(st, i, arg, -1, SQLITE_STATIC);
    va_end(ap);
    int r = sqlite3_step(st);
    if (have) {
        have[0] = '\0';
        if (r == SQLITE_ROW)
            snprintf(have, 65, "%s", (const char *)sqlite3_column_text(st, 0));
    }
    larder_code rc = (r == SQLITE_ROW || r == SQLITE_DONE) ? LARDER_OK
                     : larder_fail(err, LARDER_EIO, "catalog: %s", sqlite3_errmsg(repo->db));
    sqlite3_finalize(st);
    return rc;
}

larder_code catalog_put(larder_repo *repo, const char *name, const char *version, const char *file_name,
                        const char *sha256, uint64_t size, const char *entry, larder_error *err)
{
    /* archives are served immutable (browsers keep them a year): a file
     * name is never reused for other bytes, nor is it one of the index's */
    char before[65];
    if (reserved_file_name(file_name))
        return larder_fail(err, LARDER_EINVAL, "%s: \"%s\" is not an archive name the mirror serves (NAME.tar.zst "
                           "of letters, digits and ._+-, and not index.json...)", name, file_name);
    larder_code rc = db_query(repo, "SELECT sha256 FROM served WHERE file_name = ?1 UNION ALL "
                                    "SELECT sha256 FROM packages WHERE file_name = ?1", before, err, file_name, NULL);
    if (rc == LARDER_OK && before[0] && strcmp(before, sha256))
        rc = larder_fail(err, LARDER_EINVAL, "%s: %s was published before with other bytes (sha256 %s); archives "
                         "are served immutable, so browsers would keep the old ones: publish this build under a "
                         "new file name (a new build number)", name, file_name, before);
    if (rc == LARDER_OK)
        rc = db_query(repo, "INSERT OR IGNORE INTO served VALUES (?1, ?2)", NULL, err, file_name, sha256, NULL);
    if (rc != LARDER_OK)
        return rc;
    /* a new version of a name replaces the old; a file name is one package's */
    static const char sql[] = "INSERT INTO packages (name, version, file_name, sha256, size, entry) "
                              "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(name) DO UPDATE SET "
                              "version=?2, file_name=?3, sha256=?4, size=?5, entry=?6, "
                              "published=strftime('%Y-%m-%dT%H:%M:%SZ','now')";
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(repo->db, sql, -1, &st, NULL) != SQLITE_OK)
        return larder_fail(err, LARDER_EIO, "catalog: %s", sqlite3_errmsg(repo->db));
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, version, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, file_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, sha256, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)size);
    sqlite3_bind_text(st, 6, entry, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = larder_fail(err, LARDER_EIO, "catalog: cannot record %s: %s", name, sqlite3_errmsg(repo->db));
    sqlite3_finalize(st);
    return rc;
}

static void load_config(larder_repo *repo)
{
    char path[4096], line[1024];
    if (repo_path(repo, CONFIG_FILE, path, sizeof path, NULL) != LARDER_OK)
        return;
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    while (fgets(line, sizeof line, f) && repo->n_config < MAX_CONFIG) {
        char *p = line + strspn(line, " \t");
        if (*p == '#' || *p == '\n' || !*p)
            continue;
        char *eq = strchr(p, '=');
        if (!eq)
            continue;
        char *k = p, *v = eq + 1;
        *eq = '\0';
        for (char *e = eq - 1; e >= k && (*e == ' ' || *e == '\t'); e--)
            *e = '\0';
        v += strspn(v, " \t");
        v[strcspn(v, "\r\n")] = '\0';
        repo->config_keys[repo->n_config] = strdup(k);
        repo->config_values[repo->n_config++] = strdup(v);
    }
    fclose(f);
}

const char *larder_repo_config(const larder_repo *repo, const char *key, const char *def)
{
    for (int i = 0; i < repo->n_config; i++)
        if (repo->config_keys[i] && strcmp(repo->config_keys[i], key) == 0)
            return repo->config_values[i];
    return def;
}

const char *larder_repo_dir(const larder_repo *repo) { return repo->dir; }

static larder_code open_db(larder_repo *repo, int create, larder_error *err)
{
    char path[4096];
    larder_code rc = repo_path(repo, "catalog.sqlite", path, sizeof path, err);
    if (rc != LARDER_OK)
        return rc;
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path, &repo->db, flags, NULL) != SQLITE_OK) {
        rc = larder_fail(err, create ? LARDER_EIO : LARDER_ENOTFOUND, "cannot open catalog %s: %s", path,
                         repo->db ? sqlite3_errmsg(repo->db) : "out of memory");
        return rc;
    }
    sqlite3_busy_timeout(repo->db, 10000);
    rc = create ? db_exec(repo, SCHEMA, err) : db_exec(repo, "PRAGMA foreign_keys=ON;", err);
    return rc == LARDER_OK && create ? db_exec(repo, REPO_MIGRATE, err) : rc;
}

larder_code larder_repo_init(const char *dir, const char *runtime_dir, larder_error *err)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return larder_fail(err, LARDER_EIO, "cannot create %s: %s", dir, strerror(errno));
    larder_repo repo = {.dir = (char *)dir};
    char path[4096];
    larder_code rc;
    if ((rc = repo_path(&repo, "catalog.sqlite", path, sizeof path, err)) != LARDER_OK)
        return rc;
    if (access(path, F_OK) == 0)
        return larder_fail(err, LARDER_EINVAL, "%s is already a repository", dir);
    static const char *const dirs[] = {"store", "keys"};
    for (size_t i = 0; i < 2; i++) {
        if ((rc = repo_path(&repo, dirs[i], path, sizeof path, err)) != LARDER_OK)
            return rc;
        if (mkdir(path, i == 1 ? 0700 : 0755) != 0 && errno != EEXIST)
            return larder_fail(err, LARDER_EIO, "cannot create %s: %s", path, strerror(errno));
    }
    if ((rc = repo_path(&repo, KEY_FILE, path, sizeof path, err)) != LARDER_OK
        || (rc = larder_key_generate(path, err)) != LARDER_OK)
        return rc;
    if ((rc = repo_path(&repo, CONFIG_FILE, path, sizeof path, err)) != LARDER_OK
        || (rc = larder_write_file(path, DEFAULT_CONFIG, strlen(DEFAULT_CONFIG), 0644, 0, err)) != LARDER_OK)
        return rc;
    if ((rc = open_db(&repo, 1, err)) != LARDER_OK) {
        sqlite3_close(repo.db);
        return rc;
    }
    sqlite3_close(repo.db);
    larder_repo *r = larder_repo_open(dir, err);
    if (!r)
        return err->code;
    larder_pubkey pub;
    char text[LARDER_PUBKEY_TEXT + 1];
    if ((rc = larder_repo_public_key(r, &pub, err)) == LARDER_OK) {
        larder_pubkey_format(&pub, text);
        strcat(text, "\n");
        if ((rc = repo_path(r, "keys/public.txt", path, sizeof path, err)) == LARDER_OK)
            rc = larder_write_file(path, text, strlen(text), 0644, 0, err);
    }
    /* the runtime's stdlib, so the index works from its first sign */
    char found[4096];
    size_t n_stdlib = 0;
    if (rc == LARDER_OK && !(runtime_dir && !*runtime_dir)) {
        if (runtime_dir || larder_default_runtime(found, sizeof found))
            rc = larder_repo_set_runtime(r, runtime_dir, &n_stdlib, err);
        else
            fprintf(stderr, "larder-mirror: note: no runtime beside this program; run `larder-mirror runtime "
                    "--runtime DIR` before signing so that the index carries the stdlib\n");
    }
    if (rc == LARDER_OK && n_stdlib)
        printf("larder-mirror: published the runtime's stdlib: %zu package(s)\n", n_stdlib);
    larder_repo_close(r);
    return rc;
}

larder_code larder_repo_lock(larder_repo *repo, const char *command, larder_error *err)
{
    char path[4096];
    larder_code rc = repo_path(repo, ".lock", path, sizeof path, err);
    if (rc != LARDER_OK || repo->lock_fd >= 0)
        return rc;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return larder_fail(err, LARDER_EIO, "cannot open the repository lock %s: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char holder[200] = "";
        ssize_t n = pread(fd, holder, sizeof holder - 1, 0);
        holder[n > 0 ? n : 0] = '\0';
        holder[strcspn(holder, "\n")] = '\0';
        close(fd);
        if (e != EWOULDBLOCK)
            return larder_fail(err, LARDER_EIO, "cannot lock %s: %s", path, strerror(e));
        return larder_fail(err, LARDER_EBUSY, "the repository is busy: %s is changing it; run this again when "
                           "it has finished", holder[0] ? holder : "another larder-mirror command");
    }
    char holder[200];
    int len = snprintf(holder, sizeof holder, "larder-mirror %s (pid %ld)\n", command, (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, holder, (size_t)len, 0) != len) {
        close(fd);
        return larder_fail(err, LARDER_EIO, "cannot write the repository lock %s: %s", path, strerror(errno));
    }
    repo->lock_fd = fd;
    /* the tables writers need (opening never writes) */
    return db_exec(repo, REPO_MIGRATE, err);
}

larder_repo *larder_repo_open(const char *dir, larder_error *err)
{
    larder_repo *repo = calloc(1, sizeof *repo);
    char path[4096];
    if (!repo || !(repo->dir = strdup(dir))) {
        free(repo);
        larder_fail(err, LARDER_ENOMEM, "out of memory");
        return NULL;
    }
    repo->lock_fd = -1;
    if (repo_path(repo, "catalog.sqlite", path, sizeof path, err) != LARDER_OK || access(path, F_OK) != 0) {
        larder_fail(err, LARDER_ENOTFOUND, "%s is not a larder repository (no catalog.sqlite); create one "
                    "with `larder-mirror init %s`", dir, dir);
        larder_repo_close(repo);
        return NULL;
    }
    if (open_db(repo, 0, err) != LARDER_OK) {
        larder_repo_close(repo);
        return NULL;
    }
    load_config(repo);
    return repo;
}

void larder_repo_close(larder_repo *repo)
{
    if (!repo)
        return;
    sqlite3_close(repo->db);
    if (repo->lock_fd >= 0)
        close(repo->lock_fd);  /* releases the lock */
    for (int i = 0; i < repo->n_config; i++) {
        free(repo->config_keys[i]);
        free(repo->config_values[i]);
    }
    free(repo->dir);
    free(repo);
}

static larder_signing_key *load_key(larder_repo *repo, larder_error *err)
{
    char path[4096];
    if (repo_path(repo, KEY_FILE, path, sizeof path, err) != LARDER_OK)
        return NULL;
    return larder_key_load(path, err);
}

larder_code larder_repo_public_key(larder_repo *repo, larder_pubkey *pub, larder_error *err)
{
    larder_signing_key *key = load_key(repo, err);
    if (!key)
        return err->code;
    larder_code rc = larder_key_public(key, pub, err);
    larder_key_free(key);
    return rc;
}

larder_signing_key *repo_signing_key(larder_repo *repo, larder_error *err) { return load_key(repo, err); }

larder_code larder_repo_rotate_key(larder_repo *repo, larder_error *err)
{
    char path[4096], old[4200], pubpath[4096];
    larder_code rc = repo_path(repo, KEY_FILE, path, sizeof path, err);
    if (rc != LARDER_OK)
        return rc;
    for (int n = 1;; n++) {
        snprintf(old, sizeof old, "%s.%d", path, n);
        if (access(old, F_OK) != 0)
            break;
    }
    if (rename(path, old) != 0)
        return larder_fail(err, LARDER_EIO, "cannot keep the old key as %s: %s", old, strerror(errno));
    if ((rc = larder_key_generate(path, err)) != LARDER_OK) {
        rename(old, path);
        return rc;
    }
    larder_pubkey pub;
    char text[LARDER_PUBKEY_TEXT + 1];
    if ((rc = larder_repo_public_key(repo, &pub, err)) != LARDER_OK)
        return rc;
    larder_pubkey_format(&pub, text);
    strcat(text, "\n");
    if ((rc = repo_path(repo, "keys/public.txt", pubpath, sizeof pubpath, err)) != LARDER_OK)
        return rc;
    return larder_write_file(pubpath, text, strlen(text), 0644, 0, err);
}
