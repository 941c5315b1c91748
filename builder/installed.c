/*
 * installed.c - larder packages from installed distributions: *.dist-info with
 * RECORD, or *.egg-info directories with top_level.txt (Debian installs
 * most python3-* packages this way, without a file list).
 */
#define _XOPEN_SOURCE 700
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const DEFAULT_SITE_DIRS[] = {
    "/usr/local/lib/python3.11/dist-packages", "/usr/lib/python3/dist-packages", NULL};

typedef struct gather {
    larder_fileset *set;
    const char *site;
    const larder_build_options *opt;
    size_t skipped_native, skipped_outside;
} gather;

/* site/rel into out; 0 when it does not fit. */
static int join(char *out, size_t size, const char *a, const char *b)
{
    int n = snprintf(out, size, "%s/%s", a, b);
    return n >= 0 && (size_t)n < size;
}

static int is_host_native(const char *path)
{
    return larder_ends_with(path, ".so") && !larder_ends_with(path, "wasm32-emscripten.so");
}

/* Add site/rel to the set, refusing links and oversize files. */
static larder_code add_file(gather *g, const char *rel, larder_error *err)
{
    char path[4096];
    struct stat st;
    if (strstr(rel, "__pycache__") || larder_ends_with(rel, ".pyc"))
        return LARDER_OK;
    if (is_host_native(rel)) {
        g->skipped_native++;
        return LARDER_OK;
    }
    snprintf(path, sizeof path, "%s/%s", g->site, rel);
    if (lstat(path, &st) != 0)
        return larder_fail(err, LARDER_EIO, "%s: %s", path, strerror(errno));
    if (S_ISLNK(st.st_mode))
        return larder_fail(err, LARDER_EINVAL, "%s is a symbolic link; links are refused", path);
    unsigned char *data;
    size_t size;
    larder_code rc = larder_read_file(path, g->opt->max_file_size ? g->opt->max_file_size
                                                                  : LARDER_DEFAULT_MAX_FILE,
                                      &data, &size, err);
    if (rc == LARDER_OK)
        rc = larder_fileset_add(g->set, rel, data, size, st.st_mode, err);
    free(data);
    return rc;
}

/* Add every file below site/rel (a directory), sorted, recursively. */
static larder_code add_tree(gather *g, const char *rel, larder_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", g->site, rel);
    struct dirent **list;
    int n = scandir(path, &list, NULL, alphasort);
    if (n < 0)
        return larder_fail(err, LARDER_EIO, "cannot list %s: %s", path, strerror(errno));
    larder_code rc = LARDER_OK;
    for (int i = 0; i < n; i++) {
        const char *name = list[i]->d_name;
        if (rc == LARDER_OK && strcmp(name, ".") && strcmp(name, "..") && strcmp(name, "__pycache__")) {
            char child[4096], full[4096];
            struct stat st;
            if (!join(child, sizeof child, rel, name) || !join(full, sizeof full, g->site, child))
                rc = larder_fail(err, LARDER_EINVAL, "path too long below %s/%s", g->site, rel);
            else if (lstat(full, &st) != 0)
                rc = larder_fail(err, LARDER_EIO, "%s: %s", full, strerror(errno));
            else if (S_ISDIR(st.st_mode))
                rc = add_tree(g, child, err);
            else
                rc = add_file(g, child, err);
        }
        free(list[i]);
    }
    free(list);
    return rc;
}

/* Files listed in RECORD that live inside the site directory. */
static larder_code add_record(gather *g, const char *dist_info, larder_error *err)
{
    char path[4096];
    unsigned char *data;
    size_t size;
    snprintf(path, sizeof path, "%s/%s/RECORD", g->site, dist_info);
    larder_code rc = larder_read_file(path, LARDER_DEFAULT_MAX_FILE, &data, &size, err);
    if (rc != LARDER_OK)
        return rc;
    const char *p = (const char *)data, *end = p + size, *line;
    size_t len;
    while (rc == LARDER_OK && builder_next_line(&p, end, &line, &len)) {
        const char *comma = memchr(line, ',', len);
        size_t n = comma ? (size_t)(comma - line) : len;
        char rel[2048];
        snprintf(rel, sizeof rel, "%.*s", (int)n, line);
        if (!rel[0] || rel[0] == '"')
            continue;
        if (rel[0] == '/' || strstr(rel, "../") == rel || strstr(rel, "/../")) {
            g->skipped_outside++;
            continue;
        }
        if (larder_ends_with(rel, "/RECORD"))
            continue;  /* stale once sources become .pyc */
        char full[4096];
        struct stat st;
        snprintf(full, sizeof full, "%s/%s", g->site, rel);
        if (stat(full, &st) != 0 && errno == ENOENT && !strstr(rel, "__pycache__"))
            return larder_fail(err, LARDER_EIO, "%s lists %s, which is not installed", path, rel);
        rc = add_file(g, rel, err);
    }
    free(data);
    return rc;
}

/* Modules named in top_level.txt: NAME/ (a package), NAME.py, NAME*.so. */
static larder_code add_top_level(gather *g, const char *top, size_t len, larder_error *err)
{
    const char *p = top, *end = top + len, *line;
    size_t n;
    larder_code rc = LARDER_OK;
    while (rc == LARDER_OK && builder_next_line(&p, end, &line, &n)) {
        char name[256], path[4096];
        struct stat st;
        snprintf(name, sizeof name, "%.*s", (int)n, line);
        name[strcspn(name, "\r /")] = '\0';
        if (!name[0] || larder_fileset_find(g->set, name))
            continue;
        snprintf(path, sizeof path, "%s/%s", g->site, name);
        char py[300];
        snprintf(py, sizeof py, "%s.py", name);
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
            rc = add_tree(g, name, err);
        else if (snprintf(path, sizeof path, "%s/%s", g->site, py), stat(path, &st) == 0)
            rc = add_file(g, py, err);
        else
            g->skipped_native++;  /* an extension module only: nothing portable to take */
    }
    return rc;
}

/* NAME-VERSION.dist-info / NAME-VERSION.egg-info / NAME.egg-info whose
 * normalised NAME is key; the directory name goes into out. */
static int find_info_dir(const char *site, const char *key, char *out, size_t size)
{
    DIR *d = opendir(site);
    struct dirent *e;
    int found = 0;
    if (!d)
        return 0;
    while (!found && (e = readdir(d))) {
        const char *name = e->d_name;
        if (!larder_ends_with(name, ".dist-info") && !larder_ends_with(name, ".egg-info"))
            continue;
        char project[256], norm[256];
        size_t n = strlen(name) - (larder_ends_with(name, ".dist-info") ? 10 : 9);
        size_t dash = strcspn(name, "-");
        snprintf(project, sizeof project, "%.*s", (int)(dash < n ? dash : n), name);
        if (strcmp(larder_normalize_name(project, norm, sizeof norm), key) == 0) {
            snprintf(out, size, "%s", name);
            found = 1;
        }
    }
    closedir(d);
    return found;
}

larder_code larder_build_tree(const char *dir, const char *name, const char *version, const char *imports,
                              const larder_build_options *opt, larder_build_result *result, larder_error *err)
{
    gather g = {larder_fileset_new(), dir, opt, 0, 0};
    larder_metadata md = {0};
    larder_code rc = LARDER_OK;
    struct dirent **list = NULL;
    int n = g.set ? scandir(dir, &list, NULL, alphasort) : -1;
    if (n < 0) {
        larder_fileset_free(g.set);
        return larder_fail(err, LARDER_EIO, "cannot list %s: %s", dir, strerror(errno));
    }
    for (int i = 0; i < n; i++) {
        const char *entry = list[i]->d_name;
        if (rc == LARDER_OK && entry[0] != '.' && strcmp(entry, "__pycache__")) {
            char full[4096];
            struct stat st;
            if (!join(full, sizeof full, dir, entry) || lstat(full, &st) != 0)
                rc = larder_fail(err, LARDER_EIO, "cannot read %s/%s", dir, entry);
            else if (S_ISDIR(st.st_mode))
                rc = add_tree(&g, entry, err);
            else
                rc = add_file(&g, entry, err);
        }
        free(list[i]);
    }
    free(list);
    if (rc == LARDER_OK && !(md.name = strdup(name)))
        rc = larder_fail(err, LARDER_ENOMEM, "out of memory");
    if (rc == LARDER_OK && !(md.version = strdup(version)))
        rc = larder_fail(err, LARDER_ENOMEM, "out of memory");
    /* imports: comma-separated on the command line, one a line for the builder */
    char *top = imports ? strdup(imports) : NULL;
    for (char *c = top; c && *c; c++)
        if (*c == ',')
            *c = '\n';
    if (rc == LARDER_OK && g.skipped_native && !opt->quiet)
        fprintf(stderr, "larder-build: %s: left out %zu host-native extension module(s)\n", name, g.skipped_native);
    if (rc == LARDER_OK)
        rc = builder_finish_distribution(g.set, &md, top, top ? strlen(top) : 0, dir, opt, result, err);
    free(top);
    larder_metadata_clear(&md);
    larder_fileset_free(g.set);
    return rc;
}

larder_code larder_build_dist(const char *name, const larder_build_options *opt,
                              larder_build_result *result, larder_error *err)
{
    const char *const *sites = opt->site_dirs ? opt->site_dirs : DEFAULT_SITE_DIRS;
    char key[256], info[512], path[4096];
    const char *site = NULL;
    larder_normalize_name(name, key, sizeof key);
    for (const char *const *s = sites; *s && !site; s++)
        if (find_info_dir(*s, key, info, sizeof info))
            site = *s;
    if (!site)
        return larder_fail(err, LARDER_ENOTFOUND,
                           "no installed distribution named '%s' (looked for *.dist-info and "
                           "*.egg-info in %s%s)", name, sites[0], sites[1] ? " and others" : "");
    snprintf(path, sizeof path, "%s/%s", site, info);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return larder_fail(err, LARDER_EINVAL,
                           "%s is a single-file egg-info with no list of files; rebuild '%s' from "
                           "its wheel instead", path, name);

    int is_dist = larder_ends_with(info, ".dist-info");
    gather g = {larder_fileset_new(), site, opt, 0, 0};
    larder_metadata md = {0};
    unsigned char *meta = NULL, *top = NULL, *req = NULL;
    size_t meta_len = 0, top_len = 0, req_len = 0;
    larder_code rc;
    if (!g.set)
        return larder_fail(err, LARDER_ENOMEM, "out of memory");
    snprintf(path, sizeof path, "%s/%s/%s", site, info, is_dist ? "METADATA" : "PKG-INFO");
    if ((rc = larder_read_file(path, LARDER_DEFAULT_MAX_FILE, &meta, &meta_len, err)) != LARDER_OK
        || (rc = larder_metadata_parse((char *)meta, meta_len, path, &md, err)) != LARDER_OK)
        goto done;
    snprintf(path, sizeof path, "%s/%s/top_level.txt", site, info);
    if (access(path, F_OK) == 0
        && (rc = larder_read_file(path, LARDER_DEFAULT_MAX_FILE, &top, &top_len, err)) != LARDER_OK)
        goto done;
    if (is_dist) {
        rc = add_record(&g, info, err);
    } else {
        snprintf(path, sizeof path, "%s/%s/requires.txt", site, info);
        if (access(path, F_OK) == 0
            && ((rc = larder_read_file(path, LARDER_DEFAULT_MAX_FILE, &req, &req_len, err)) != LARDER_OK
                || (rc = larder_metadata_add_requires_txt(&md, (char *)req, req_len, err)) != LARDER_OK))
            goto done;
        if (!top) {
            rc = larder_fail(err, LARDER_EINVAL, "%s/%s has no top_level.txt: its files cannot be found",
                             site, info);
            goto done;
        }
        if ((rc = add_tree(&g, info, err)) == LARDER_OK)
            rc = add_top_level(&g, (char *)top, top_len, err);
    }
    if (rc != LARDER_OK)
        goto done;
    if (!opt->quiet && (g.skipped_native || g.skipped_outside))
        fprintf(stderr, "larder-build: %s: left out %zu host-native extension module(s) and %zu "
                "file(s) outside site-packages (scripts)\n", name, g.skipped_native, g.skipped_outside);
    rc = builder_finish_distribution(g.set, &md, (char *)top, top_len, info, opt, result, err);
done:
    larder_metadata_clear(&md);
    larder_fileset_free(g.set);
    free(meta);
    free(top);
    free(req);
    return rc;
}
