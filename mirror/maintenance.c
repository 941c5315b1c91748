/* maintenance.c - verify (store, catalog and public tree agree) and gc. */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void problem(int *problems, const char *fmt, const char *a, const char *b)
{
    (*problems)++;
    fprintf(stderr, "larder-mirror verify: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
}

static int referenced(larder_repo *repo, const char *sha)
{
    sqlite3_stmt *st;
    int found = 0;
    if (sqlite3_prepare_v2(repo->db, "SELECT 1 FROM packages WHERE sha256=?1", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, sha, -1, SQLITE_STATIC);
        found = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
    }
    return found;
}

larder_code larder_repo_verify(larder_repo *repo, int *problems, larder_error *err)
{
    sqlite3_stmt *st;
    *problems = 0;
    if (sqlite3_prepare_v2(repo->db, "SELECT name, file_name, sha256, size FROM packages", -1, &st, NULL) != SQLITE_OK)
        return larder_fail(err, LARDER_EIO, "catalog: %s", sqlite3_errmsg(repo->db));
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0), *sha = (const char *)sqlite3_column_text(st, 2);
        char path[4096], have[65];
        uint64_t size;
        larder_error e;
        if (repo_store_path(repo, sha, path, sizeof path, &e) != LARDER_OK
            || file_sha256(path, have, &size, &e) != LARDER_OK)
            problem(problems, "%s: its archive is missing from the store (%s)", name, path);
        else if (strcmp(have, sha) != 0)
            problem(problems, "%s: the stored archive does not hash to its sha256 (%s)", name, path);
        else if (size != (uint64_t)sqlite3_column_int64(st, 3))
            problem(problems, "%s: the stored archive has the wrong size (%s)", name, path);
    }
    sqlite3_finalize(st);
    /* the public tree: its index verifies with our key and its archives are the store's */
    char pub[4096], json_path[4200], sig_path[4200];
    larder_code rc = repo_path(repo, "public", pub, sizeof pub, err);
    if (rc != LARDER_OK)
        return rc;
    snprintf(json_path, sizeof json_path, "%s/index.json", pub);
    snprintf(sig_path, sizeof sig_path, "%s/index.json.sig", pub);
    unsigned char *json, *sig;
    size_t json_len, sig_len;
    if (access(pub, F_OK) != 0)
        return LARDER_OK;  /* never signed: nothing public to check */
    if (larder_read_file(json_path, 1u << 30, &json, &json_len, err) != LARDER_OK) {
        problem(problems, "the public tree has no index.json (%s)%s", json_path, "");
        return LARDER_OK;
    }
    larder_pubkey key;
    if (larder_read_file(sig_path, 4096, &sig, &sig_len, err) != LARDER_OK) {
        problem(problems, "the public tree has no signature (%s)%s", sig_path, "");
        free(json);
        return LARDER_OK;
    }
    if ((rc = larder_repo_public_key(repo, &key, err)) == LARDER_OK) {
        larder_trust trust = {&key, 0, 0, 0};
        larder_index *index = larder_index_open((char *)json, json_len, (char *)sig, sig_len, &trust, err);
        if (!index)
            problem(problems, "the public index does not verify: %s%s", err->message, "");
        for (size_t i = 0; index && i < larder_index_count(index); i++) {
            const larder_package *p = larder_index_at(index, i);
            char path[4400], have[65];
            larder_error e;
            snprintf(path, sizeof path, "%s/%s", pub, p->file_name);
            if (file_sha256(path, have, NULL, &e) != LARDER_OK || strcmp(have, p->sha256) != 0)
                problem(problems, "%s: the public archive %s is missing or altered", p->name, path);
        }
        larder_index_free(index);
    }
    free(json);
    free(sig);
    return rc;
}

static int remove_entry(const char *path, int *removed)
{
    if (unlink(path) == 0 || (errno == EISDIR && rmdir(path) == 0)) {
        (*removed)++;
        return 0;
    }
    return -1;
}

larder_code larder_repo_gc(larder_repo *repo, int *removed, larder_error *err)
{
    char store[4096], current[PATH_MAX] = "", link_path[4096];
    *removed = 0;
    larder_code rc = repo_path(repo, "store", store, sizeof store, err);
    if (rc != LARDER_OK || (rc = repo_path(repo, "public", link_path, sizeof link_path, err)) != LARDER_OK)
        return rc;
    ssize_t n = readlink(link_path, current, sizeof current - 1);
    current[n > 0 ? n : 0] = '\0';
    /* unreferenced or temporary store files */
    DIR *top = opendir(store);
    struct dirent *sub;
    while (top && (sub = readdir(top))) {
        if (sub->d_name[0] == '.')
            continue;
        char dir[4400];
        snprintf(dir, sizeof dir, "%s/%s", store, sub->d_name);
        DIR *d = opendir(dir);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            char path[4700];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (strlen(e->d_name) != 64 || !referenced(repo, e->d_name))
                remove_entry(path, removed);
        }
        if (d)
            closedir(d);
    }
    if (top)
        closedir(top);
    /* old public trees and temporary files at the top */
    DIR *d = opendir(repo->dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", repo->dir, e->d_name);
        if (strncmp(e->d_name, "public-", 7) == 0 && strcmp(e->d_name, current) != 0)
            *removed += larder_rm_rf(path, NULL) == LARDER_OK;
        else if (strstr(e->d_name, ".tmp."))
            remove_entry(path, removed);
    }
    if (d)
        closedir(d);
    return LARDER_OK;
}
