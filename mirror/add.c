#define _GNU_SOURCE
/*
 * add.c - grow the repository from a Python package index by project name.
 *
 * 1. Resolve: requirements (the command line's, requirements files') and
 *    their dependencies, with PEP 508 markers evaluated for the runtime
 *    (emscripten, wasm32, CPython 3.11.2) and extras followed. For each
 *    project the newest version that satisfies every constraint seen and
 *    has a usable file (a pure-Python wheel, else an sdist; Requires-Python
 *    admitting 3.11.2; not yanked) is chosen; its dependencies come from the
 *    index's core metadata (PEP 658) or the file itself. A later constraint
 *    that rules out a chosen version starts the resolution again with that
 *    constraint known from the start.
 * 2. Fetch: every file into $LARDER_CACHE/pypi/files/SHA256/ (parallel,
 *    resumed, checked against the index's sha256); an sdist is built into a
 *    wheel on the host (larder_wheel_from_sdist), kept beside it; when that
 *    wheel has extension modules, the sdist is cross-compiled for wasm
 *    (larder_cross_wheel, unless no_build) and that wheel is the one used.
 * 3. Convert with the builder (the stdlib packages each imports recorded as
 *    dependencies) into a temporary directory and publish all in one
 *    transaction. Nothing changes in the repository before that, so a
 *    failure anywhere leaves it as it was.
 */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_CONSTRAINTS 64
#define MAX_RESTARTS 32
#define DEFAULT_INDEX "https://pypi.org/simple/"

typedef struct constraint {
    char spec[256];
    char by[300];
} constraint;

typedef struct project {
    char name[128];
    pypi_listing listing;
    int listed;
    constraint cons[MAX_CONSTRAINTS];
    size_t n_cons;
    char extras[512];        /* comma-separated */
    long chosen;             /* index in listing.files, or -1 */
    int in_repo;             /* the catalog has the chosen version already */
    larder_metadata md;
    int have_md;
    char file[3000];         /* the chosen file in the cache */
    char wheel[3000];        /* the wheel to convert (the file, or built from it) */
    const char *index_url;   /* where it was found */
} project;

typedef struct pending {
    larder_requirement req;
    char by[300];
} pending;

typedef struct resolver {
    const larder_add_options *opt;
    const char *urls[17];    /* the index, then the extra indexes */
    size_t n_urls;
    project *projects;
    size_t n, cap;
    pending *queue;
    size_t q_head, q_len, q_cap;
    /* constraints that caused a restart, kept for the next attempt */
    pending *carried;
    size_t n_carried, cap_carried;
    char cache[2048];
} resolver;

static larder_code push(resolver *r, const larder_requirement *req, const char *by, larder_error *err)
{
    if (!larder_grow_array(&r->queue, r->q_len, &r->q_cap, sizeof *r->queue))
        return larder_fail(err, LARDER_ENOMEM, "out of memory");
    r->queue[r->q_len].req = *req;
    snprintf(r->queue[r->q_len].by, sizeof r->queue[r->q_len].by, "%s", by);
    r->q_len++;
    return LARDER_OK;
}

static project *find_project(resolver *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->projects[i].name, name))
            return &r->projects[i];
    return NULL;
}

static void project_reset(project *p)
{
    p->n_cons = 0;
    p->extras[0] = '\0';
    p->chosen = -1;
    p->in_repo = 0;
    if (p->have_md)
        larder_metadata_clear(&p->md);
    p->have_md = 0;
    p->file[0] = p->wheel[0] = '\0';
}

/* The project's listing, fetched once per run (restarts keep it). */
static larder_code get_project(resolver *r, const char *name, const char *by, project **out, larder_error *err)
{
    project *p = find_project(r, name);
    if (!p) {
        if (!larder_grow_array(&r->projects, r->n, &r->cap, sizeof *r->projects))
            return larder_fail(err, LARDER_ENOMEM, "out of memory");
        p = &r->projects[r->n++];
        memset(p, 0, sizeof *p);
        snprintf(p->name, sizeof p->name, "%s", name);
        p->chosen = -1;
    }
    if (!p->listed) {
        larder_code rc = LARDER_ENOTFOUND;
        /* every index's files count, as pip's --extra-index-url */
        for (size_t i = 0; i < r->n_urls; i++) {
            pypi_listing l = {0};
            larder_code one = pypi_list(r->urls[i], name, &l, err);
            if (one == LARDER_ENOTFOUND) {
                pypi_listing_free(&l);
                continue;
            }
            if (one != LARDER_OK) {
                pypi_listing_free(&l);
                return larder_prefix(err, one, "%s (needed by %s)", name, by);
            }
            if (!p->index_url)
                p->index_url = r->urls[i];
            if (rc == LARDER_ENOTFOUND) {
                p->listing = l;
            } else {  /* append the other index's files */
                for (size_t k = 0; k < l.n; k++) {
                    if (!larder_grow_array(&p->listing.files, p->listing.n, &p->listing.cap, sizeof *l.files))
                        return larder_fail(err, LARDER_ENOMEM, "out of memory");
                    p->listing.files[p->listing.n++] = l.files[k];
                }
                free(l.files);
            }
            rc = LARDER_OK;
        }
        if (rc == LARDER_ENOTFOUND)
            return larder_fail(err, LARDER_ENOTFOUND, "no project named '%s' on %s%s (asked by %s)", name, r->urls[0],
                               r->n_urls > 1 ? " or the extra indexes" : "", by);
        p->listed = 1;
    }
    *out = p;
    return LARDER_OK;
}

static int python_ok(const pypi_file *f)
{
    if (!f->requires_python)
        return 1;
    larder_version v;
    larder_version_parse(larder_default_target.python_full_version, &v);
    return larder_specifier_match(f->requires_python, larder_default_target.python_full_version, &v) != 0;
}

static int usable(const pypi_file *f)
{
    return !f->yanked && python_ok(f) && (f->kind == PYPI_PURE_WHEEL || f->kind == PYPI_SDIST);
}

static int allows(const project *p, const pypi_file *f, int ignore_pre)
{
    int pre_ok = ignore_pre;
    for (size_t i = 0; i < p->n_cons && !pre_ok; i++)
        pre_ok = larder_specifier_names_pre(p->cons[i].spec);
    if (larder_version_is_pre(&f->version) && !pre_ok)
        return 0;
    for (size_t i = 0; i < p->n_cons; i++)
        if (larder_specifier_match(p->cons[i].spec, f->version_text, &f->version) != 1)
            return 0;
    return 1;
}

static int better(const pypi_file *a, const pypi_file *b)
{
    int c = larder_version_cmp(&a->version, &b->version);
    if (c)
        return c > 0;
    return a->kind == PYPI_PURE_WHEEL && b->kind != PYPI_PURE_WHEEL;  /* a wheel over an sdist */
}

static long choose(const project *p, int ignore_pre)
{
    long best = -1;
    for (size_t i = 0; i < p->listing.n; i++) {
        const pypi_file *f = &p->listing.files[i];
        if (usable(f) && allows(p, f, ignore_pre) && (best < 0 || better(f, &p->listing.files[best])))
            best = (long)i;
    }
    return best;
}

/* Why nothing could be chosen: a conflict between two constraints, a
 * specifier nothing matches, or versions that match but have no usable
 * file (only native wheels, or a Requires-Python that excludes 3.11). */
static larder_code explain(const project *p, larder_error *err)
{
    const pypi_listing *l = &p->listing;
    long matching = -1;
    for (size_t i = 0; i < l->n; i++)
        if (allows(p, &l->files[i], 1) && (matching < 0 || better(&l->files[i], &l->files[matching])))
            matching = (long)i;
    if (matching >= 0) {
        const pypi_file *m = &l->files[matching];
        char tags[300] = "";
        int other = 0, old_python = 0;
        for (size_t i = 0; i < l->n; i++) {
            const pypi_file *f = &l->files[i];
            if (larder_version_cmp(&f->version, &m->version) != 0)
                continue;
            if (f->kind == PYPI_OTHER_WHEEL && other++ < 3) {
                size_t o = strlen(tags);
                snprintf(tags + o, sizeof tags - o, "%s%s", o ? ", " : "", f->tags);
            }
            old_python |= !python_ok(f);
        }
        if (old_python && !other)
            return larder_fail(err, LARDER_ENOTFOUND, "%s %s requires Python %s, and no release that admits the "
                               "runtime's %s matches the constraints (%s%s%s)", p->name, m->version_text,
                               m->requires_python ? m->requires_python : "?", larder_default_target.python_full_version,
                               p->n_cons ? p->cons[0].spec : "", p->n_cons ? " asked by " : "",
                               p->n_cons ? p->cons[0].by : "");
        return larder_fail(err, LARDER_ENOTFOUND, "%s %s has only wheels built for other platforms (%s%s) and no "
                           "sdist: larder-mirror add takes pure-Python projects; cross-compile it for wasm with a "
                           "recipe (builder/native, README \"Native packages\") and `larder-mirror publish` the archive",
                           p->name, m->version_text, tags, other > 3 ? ", ..." : "");
    }
    /* a pair of constraints nothing satisfies together */
    for (size_t i = 0; i < p->n_cons; i++)
        for (size_t j = i + 1; j < p->n_cons; j++) {
            int both = 0;
            for (size_t k = 0; k < l->n && !both; k++) {
                const pypi_file *f = &l->files[k];
                both = larder_specifier_match(p->cons[i].spec, f->version_text, &f->version) == 1
                       && larder_specifier_match(p->cons[j].spec, f->version_text, &f->version) == 1;
            }
            if (!both)
                return larder_fail(err, LARDER_EINVAL, "conflicting requirements: %s%s (asked by %s) and %s%s "
                                   "(asked by %s): no release of %s satisfies both", p->name, p->cons[i].spec,
                                   p->cons[i].by, p->name, p->cons[j].spec, p->cons[j].by, p->name);
        }
    return larder_fail(err, LARDER_ENOTFOUND, "no release of %s matches %s (asked by %s)", p->name,
                       p->n_cons ? p->cons[p->n_cons - 1].spec : "", p->n_cons ? p->cons[p->n_cons - 1].by : "?");
}

/* ------------------------------------------------------------------------
 * Files and metadata
 * ------------------------------------------------------------------------ */

/* The download of f into its place in the cache, PYPI_CACHE/files/SHA256/NAME
 * (also written to path); job->url stays "" when the file is there. */
static larder_code file_job(const resolver *r, const pypi_file *f, char *path, size_t size, http_job *job,
                            larder_error *err)
{
    char dir[2200];
    memset(job, 0, sizeof *job);
    snprintf(dir, sizeof dir, "%s/files/%s", r->cache, f->sha256);
    if (snprintf(path, size, "%s/%s", dir, f->filename) >= (int)size)
        return larder_fail(err, LARDER_EINVAL, "path too long for %s", f->filename);
    if (access(path, F_OK) == 0)
        return LARDER_OK;
    larder_code rc = larder_mkdir_p(dir, err);
    if (rc != LARDER_OK)
        return rc;
    snprintf(job->url, sizeof job->url, "%s", f->url);
    job->sha256 = f->sha256;
    job->size = f->size;
    job->label = f->filename;
    job->what = "the sha256 the package index gives";
    snprintf(job->part, sizeof job->part, "%s.part", path);
    snprintf(job->final, sizeof job->final, "%s", path);
    return LARDER_OK;
}

/* A wheel in dir (one built before) into wheel; 0 when there is none. */
static int find_wheel(const char *dir, char *wheel, size_t size)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    wheel[0] = '\0';
    while (d && (e = readdir(d)))
        if (larder_ends_with(e->d_name, ".whl"))
            snprintf(wheel, size, "%s/%s", dir, e->d_name);
    if (d)
        closedir(d);
    return wheel[0] != '\0';
}

/* The chosen file's dependencies: from the index's core metadata when it
 * has them (a small download), otherwise from the file (an sdist is built
 * into a wheel first, once, kept in the cache). */
static larder_code load_metadata(resolver *r, project *p, larder_error *err)
{
    const pypi_file *f = &p->listing.files[p->chosen];
    larder_code rc;
    char path[4200];
    if (f->kind == PYPI_PURE_WHEEL && f->has_metadata) {
        char *text = NULL;
        size_t len = 0;
        char dir[2200], url[4200];
        snprintf(dir, sizeof dir, "%s/files/%s", r->cache, f->sha256);
        snprintf(path, sizeof path, "%s/%s.metadata", dir, f->filename);
        if (larder_read_file(path, 16u << 20, (unsigned char **)&text, &len, NULL) != LARDER_OK) {
            http_buf b = {.max = 16u << 20};
            snprintf(url, sizeof url, "%s.metadata", f->url);
            if ((rc = http_get(url, NULL, &b, NULL, err)) != LARDER_OK)
                return larder_prefix(err, rc, "%s %s", p->name, f->version_text);
            if ((rc = larder_mkdir_p(dir, err)) == LARDER_OK)
                rc = larder_write_file(path, b.data ? b.data : "", b.len, 0644, 0, err);
            text = b.data;
            len = b.len;
            b.data = NULL;
            http_buf_free(&b);
            if (rc != LARDER_OK) {
                free(text);
                return rc;
            }
        }
        char what[300];
        snprintf(what, sizeof what, "%s %s (METADATA)", p->name, f->version_text);
        rc = larder_metadata_parse(text, len, what, &p->md, err);
        free(text);
    } else {
        http_job job;
        if ((rc = file_job(r, f, p->file, sizeof p->file, &job, err)) != LARDER_OK
            || (job.url[0] && (rc = http_download(&job, 1, NULL, 1, NULL, NULL, NULL, err)) != LARDER_OK))
            return larder_prefix(err, rc, "%s %s", p->name, f->version_text);
        if (f->kind == PYPI_SDIST) {
            char built[2200];
            snprintf(built, sizeof built, "%s/built/%s", r->cache, f->sha256);
            if (!find_wheel(built, p->wheel, sizeof p->wheel)) {
                if (!r->opt->quiet)
                    printf("add: building %s %s from its sdist (no wheel on the index)\n", p->name, f->version_text);
                if ((rc = larder_mkdir_p(built, err)) != LARDER_OK
                    || (rc = larder_wheel_from_sdist(p->file, built, NULL, r->urls[0], p->wheel, sizeof p->wheel, err))
                           != LARDER_OK)
                    return larder_prefix(err, rc, "%s %s", p->name, f->version_text);
            }
            const char *base = strrchr(p->wheel, '/') + 1;
            if (!pypi_wheel_is_pure(base)) {
                if (r->opt->no_build)
                    return larder_fail(err, LARDER_EINVAL, "%s %s: its sdist builds extension modules (%s), the "
                                       "package index has no pure-Python wheel, and --no-build forbids "
                                       "cross-compiling it: drop --no-build, or build it with larder-build "
                                       "sdist and `larder-mirror publish` the archive",
                                       p->name, f->version_text, base);
                /* the host's wheel gave the metadata; the wasm one is built
                 * from the same sdist, kept beside it */
                char cross[2300], key[17];
                if ((rc = larder_cross_key(key, err)) != LARDER_OK)
                    return larder_prefix(err, rc, "%s %s: its sdist builds extension modules (%s) and the index "
                                         "has no pure-Python wheel", p->name, f->version_text, base);
                snprintf(cross, sizeof cross, "%s/cross-%s", built, key);
                if (find_wheel(cross, p->wheel, sizeof p->wheel)) {
                    if (!r->opt->quiet)
                        printf("add: %s %s for wasm cross-compiled before (its sdist builds extension modules and "
                               "the index has no pure-Python wheel): %s\n", p->name, f->version_text, p->wheel);
                } else {
                    if (!r->opt->quiet)
                        printf("add: cross-compiling %s %s for wasm: its sdist builds extension modules (%s) "
                               "and the index has no pure-Python wheel\n", p->name, f->version_text, base);
                    fflush(stdout);
                    if ((rc = larder_mkdir_p(cross, err)) != LARDER_OK
                        || (rc = larder_cross_wheel(p->file, f->sha256, NULL, cross, p->wheel, sizeof p->wheel,
                                                    err)) != LARDER_OK)
                        return larder_prefix(err, rc, "%s %s", p->name, f->version_text);
                }
            }
        } else {
            snprintf(p->wheel, sizeof p->wheel, "%s", p->file);
        }
        rc = larder_wheel_metadata(p->wheel, &p->md, err);
    }
    p->have_md = rc == LARDER_OK;
    return rc;
}

/* ------------------------------------------------------------------------
 * Resolution
 * ------------------------------------------------------------------------ */

static void split_extras(char *buf, const char **out, size_t max)
{
    size_t k = 0;
    for (char *save, *t = strtok_r(buf, ",", &save); t && k + 1 < max; t = strtok_r(NULL, ",", &save))
        out[k++] = t;
    out[k] = NULL;
}

/* Queue p's requirements that apply with its extras. */
static larder_code push_dependencies(resolver *r, project *p, larder_error *err)
{
    if (r->opt->no_deps)
        return LARDER_OK;
    char buf[512], by[300];
    const char *extras[33];
    snprintf(buf, sizeof buf, "%s", p->extras);
    split_extras(buf, extras, 33);
    snprintf(by, sizeof by, "%s %s", p->name, p->listing.files[p->chosen].version_text);
    for (size_t i = 0; i < p->md.n_requires; i++) {
        larder_requirement req;
        larder_code rc = larder_requirement_parse(p->md.requires[i], &req, err);
        if (rc != LARDER_OK)
            return larder_prefix(err, rc, "%s", by);
        int applies = 1;
        if (req.marker[0]
            && (rc = larder_marker_eval(req.marker, &larder_default_target, extras, &applies, err)) != LARDER_OK)
            return larder_prefix(err, rc, "%s: requirement \"%s\"", by, p->md.requires[i]);
        if (applies && (rc = push(r, &req, by, err)) != LARDER_OK)
            return rc;
    }
    return LARDER_OK;
}

/* 1 when extras (comma-separated) adds a name p does not have yet. */
static int merge_extras(project *p, const char *extras)
{
    int added = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", extras);
    for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char have[520];
        snprintf(have, sizeof have, ",%s,", p->extras);
        char want[140];
        snprintf(want, sizeof want, ",%s,", t);
        if (strstr(have, want))
            continue;
        size_t o = strlen(p->extras);
        snprintf(p->extras + o, sizeof p->extras - o, "%s%s", o ? "," : "", t);
        added = 1;
    }
    return added;
}

static larder_code carry(resolver *r, const pending *item, larder_error *err)
{
    if (!larder_grow_array(&r->carried, r->n_carried, &r->cap_carried, sizeof *r->carried))
        return larder_fail(err, LARDER_ENOMEM, "out of memory");
    r->carried[r->n_carried++] = *item;
    return LARDER_OK;
}

/* One pass over the queue; *restart is set when a chosen version had to be
 * given up (the caller starts again with what was learnt). */
static larder_code resolve_pass(resolver *r, int *restart, larder_error *err)
{
    *restart = 0;
    while (r->q_head < r->q_len) {
        pending item = r->queue[r->q_head++];
        project *p = NULL;
        larder_code rc = get_project(r, item.req.name, item.by, &p, err);
        if (rc != LARDER_OK)
            return rc;
        if (p->n_cons == MAX_CONSTRAINTS)
            return larder_fail(err, LARDER_EINVAL, "%s: more than %d constraints", p->name, MAX_CONSTRAINTS);
        constraint *c = &p->cons[p->n_cons++];
        snprintf(c->spec, sizeof c->spec, "%s", item.req.spec);
        snprintf(c->by, sizeof c->by, "%s", item.by);
        int new_extras = merge_extras(p, item.req.extras);
        if (p->chosen >= 0) {
            const pypi_file *f = &p->listing.files[p->chosen];
            if (!item.req.spec[0] || larder_specifier_match(item.req.spec, f->version_text, &f->version) == 1) {
                if (new_extras && (rc = push_dependencies(r, p, err)) != LARDER_OK)
                    return rc;
                continue;
            }
            /* the version chosen earlier is ruled out: start again knowing it */
            if ((rc = carry(r, &item, err)) != LARDER_OK)
                return rc;
            *restart = 1;
            return LARDER_OK;
        }
        /* what earlier attempts learnt about p holds from the start */
        for (size_t i = 0; i < r->n_carried && p->n_cons < MAX_CONSTRAINTS; i++) {
            const pending *k = &r->carried[i];
            int known = 0;
            for (size_t j = 0; j < p->n_cons && !known; j++)
                known = !strcmp(p->cons[j].spec, k->req.spec) && !strcmp(p->cons[j].by, k->by);
            if (!known && !strcmp(k->req.name, p->name)) {
                snprintf(p->cons[p->n_cons].spec, sizeof p->cons[p->n_cons].spec, "%s", k->req.spec);
                snprintf(p->cons[p->n_cons].by, sizeof p->cons[p->n_cons].by, "%s", k->by);
                p->n_cons++;
            }
        }
        p->chosen = choose(p, 0);
        if (p->chosen < 0)
            p->chosen = choose(p, 1);  /* only pre-releases match: take one */
        if (p->chosen < 0)
            return explain(p, err);
        if ((rc = load_metadata(r, p, err)) != LARDER_OK || (rc = push_dependencies(r, p, err)) != LARDER_OK)
            return rc;
    }
    return LARDER_OK;
}

/* "-r FILE" lines are followed; other options are refused. */
static larder_code read_requirements(resolver *r, const char *path, int depth, larder_error *err)
{
    unsigned char *data;
    size_t len;
    larder_code rc = larder_read_file(path, 4u << 20, &data, &len, err);
    if (rc != LARDER_OK)
        return rc;
    int line_no = 0;
    char *save;
    for (char *line = strtok_r((char *)data, "\n", &save); line && rc == LARDER_OK;
         line = strtok_r(NULL, "\n", &save)) {
        line_no++;
        char *hash = strstr(line, " #");
        if (line[0] == '#')
            hash = line;
        if (hash)
            *hash = '\0';
        line[strcspn(line, "\r")] = '\0';
        char *t = line + strspn(line, " \t");
        if (!*t)
            continue;
        char by[300];
        snprintf(by, sizeof by, "%s:%d", path, line_no);
        if (!strncmp(t, "-r ", 3) || !strncmp(t, "--requirement ", 14)) {
            const char *inc = t + strcspn(t, " ") + 1;
            inc += strspn(inc, " ");
            char full[4096];
            const char *slash = strrchr(path, '/');
            if (inc[0] == '/' || !slash)
                snprintf(full, sizeof full, "%s", inc);
            else
                snprintf(full, sizeof full, "%.*s/%s", (int)(slash - path), path, inc);
            rc = depth > 8 ? larder_fail(err, LARDER_EINVAL, "%s: -r nested too deeply", by)
                           : read_requirements(r, full, depth + 1, err);
            continue;
        }
        if (t[0] == '-') {
            rc = larder_fail(err, LARDER_EINVAL, "%s: option \"%s\" is not supported in a requirements file "
                             "(give indexes with --index-url/--extra-index-url)", by, t);
            continue;
        }
        larder_requirement req;
        if ((rc = larder_requirement_parse(t, &req, err)) != LARDER_OK) {
            larder_prefix(err, rc, "%s", by);
            continue;
        }
        int applies = 1;
        if (req.marker[0] && (rc = larder_marker_eval(req.marker, &larder_default_target, NULL, &applies, err)) != LARDER_OK)
            larder_prefix(err, rc, "%s", by);
        else if (applies)
            rc = push(r, &req, by, err);
    }
    free(data);
    return rc;
}

static larder_code seed(resolver *r, larder_error *err)
{
    larder_code rc = LARDER_OK;
    r->q_head = r->q_len = 0;
    for (size_t i = 0; i < r->n; i++)
        project_reset(&r->projects[i]);
    for (size_t i = 0; rc == LARDER_OK && i < r->n_carried; i++)
        rc = push(r, &r->carried[i].req, r->carried[i].by, err);
    for (size_t i = 0; rc == LARDER_OK && i < r->opt->n_requirements; i++) {
        larder_requirement req;
        int applies = 1;
        if ((rc = larder_requirement_parse(r->opt->requirements[i], &req, err)) == LARDER_OK && req.marker[0])
            rc = larder_marker_eval(req.marker, &larder_default_target, NULL, &applies, err);
        if (rc == LARDER_OK && applies)
            rc = push(r, &req, "the command line", err);
    }
    for (size_t i = 0; rc == LARDER_OK && i < r->opt->n_requirement_files; i++)
        rc = read_requirements(r, r->opt->requirement_files[i], 0, err);
    return rc;
}

static void resolver_free(resolver *r)
{
    for (size_t i = 0; i < r->n; i++) {
        project_reset(&r->projects[i]);
        pypi_listing_free(&r->projects[i].listing);
    }
    free(r->projects);
    free(r->queue);
    free(r->carried);
}

/* ------------------------------------------------------------------------
 * Conversion and publishing
 * ------------------------------------------------------------------------ */

/* The catalog's stdlib entries (package_type cpython_module) as files in
 * dir, which the builder reads to record each package's stdlib imports. */
static larder_code write_stdlib_entries(larder_repo *repo, const char *dir, size_t *count, larder_error *err)
{
    sqlite3_stmt *st;
    *count = 0;
    if (sqlite3_prepare_v2(repo->db, "SELECT file_name, entry FROM packages", -1, &st, NULL) != SQLITE_OK)
        return larder_fail(err, LARDER_EIO, "catalog: %s", sqlite3_errmsg(repo->db));
    larder_code rc = LARDER_OK;
    while (rc == LARDER_OK && sqlite3_step(st) == SQLITE_ROW) {
        const char *file = (const char *)sqlite3_column_text(st, 0), *entry = (const char *)sqlite3_column_text(st, 1);
        if (!strstr(entry, "\"cpython_module\""))
            continue;
        char path[4400];
        size_t n = strlen(file);
        if (n < 8)
            continue;
        snprintf(path, sizeof path, "%s/%.*s.json", dir, (int)(n - 8), file);
        rc = larder_write_file(path, entry, strlen(entry), 0644, 0, err);
        (*count)++;
    }
    sqlite3_finalize(st);
    return rc;
}

static int catalog_has(larder_repo *repo, const char *name, const char *version)
{
    sqlite3_stmt *st;
    int same = 0;
    if (sqlite3_prepare_v2(repo->db, "SELECT version FROM packages WHERE name=?1", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            larder_version a, b;
            const char *have = (const char *)sqlite3_column_text(st, 0);
            same = larder_version_parse(have, &a) && larder_version_parse(version, &b) ? !larder_version_cmp(&a, &b)
                                                                                         : !strcmp(have, version);
        }
        sqlite3_finalize(st);
    }
    return same;
}

static void human_size(uint64_t n, char *out, size_t size)
{
    if (!n)
        snprintf(out, size, "-");
    else if (n >= 1000000)
        snprintf(out, size, "%.1f MB", (double)n / 1e6);
    else
        snprintf(out, size, "%.1f kB", (double)n / 1e3);
}

larder_code larder_repo_add(larder_repo *repo, const larder_add_options *opt, larder_add_result *result,
                            larder_error *err)
{
    resolver r = {.opt = opt};
    memset(result, 0, sizeof *result);
    r.urls[r.n_urls++] = opt->index_url ? opt->index_url : DEFAULT_INDEX;
    for (size_t i = 0; i < opt->n_extra_index_urls && r.n_urls < sizeof r.urls / sizeof *r.urls; i++)
        r.urls[r.n_urls++] = opt->extra_index_urls[i];
    char root[4096];
    snprintf(r.cache, sizeof r.cache, "%s/pypi", larder_cache_root(root, sizeof root));
    larder_code rc = larder_mkdir_p(r.cache, err);
    if (opt->n_requirements + opt->n_requirement_files == 0)
        rc = larder_fail(err, LARDER_EINVAL, "add: no requirements given");
    /* resolve */
    int restart = 1, attempts = 0;
    while (rc == LARDER_OK && restart) {
        if (++attempts > MAX_RESTARTS) {
            rc = larder_fail(err, LARDER_EINVAL, "add: no resolution after %d attempts; pin versions with == "
                             "to help", MAX_RESTARTS);
            break;
        }
        if ((rc = seed(&r, err)) == LARDER_OK)
            rc = resolve_pass(&r, &restart, err);
    }
    size_t chosen = 0;
    for (size_t i = 0; rc == LARDER_OK && i < r.n; i++) {
        project *p = &r.projects[i];
        if (p->chosen < 0)
            continue;
        chosen++;
        p->in_repo = catalog_has(repo, p->name, p->listing.files[p->chosen].version_text);
    }
    result->resolved = chosen;
    if (rc == LARDER_OK && (opt->dry_run || !opt->quiet)) {
        printf("%s %zu project(s):\n", opt->dry_run ? "add: would add" : "add: resolved", chosen);
        for (size_t i = 0; i < r.n; i++) {
            project *p = &r.projects[i];
            if (p->chosen < 0)
                continue;
            const pypi_file *f = &p->listing.files[p->chosen];
            char size[32];
            human_size(f->size, size, sizeof size);
            printf("  %-28s %-12s %-60s %9s%s\n", p->name, f->version_text, f->filename, size,
                   p->in_repo ? "  (already in the repository)" : "");
        }
        fflush(stdout);
    }
    if (rc != LARDER_OK || opt->dry_run) {
        resolver_free(&r);
        return rc;
    }
    /* fetch what is not in the cache yet, in parallel */
    http_job *jobs = calloc(r.n + 1, sizeof *jobs);
    size_t n_jobs = 0;
    if (!jobs)
        rc = larder_fail(err, LARDER_ENOMEM, "out of memory");
    for (size_t i = 0; rc == LARDER_OK && i < r.n; i++) {
        project *p = &r.projects[i];
        if (p->chosen < 0 || p->wheel[0] || p->in_repo)
            continue;  /* the wheel is there already (metadata needed it), or nothing is to be converted */
        if ((rc = file_job(&r, &p->listing.files[p->chosen], p->file, sizeof p->file, &jobs[n_jobs], err)) != LARDER_OK)
            break;
        snprintf(p->wheel, sizeof p->wheel, "%s", p->file);
        n_jobs += jobs[n_jobs].url[0] != '\0';
    }
    if (rc == LARDER_OK && n_jobs)
        rc = http_download(jobs, n_jobs, NULL, opt->parallel, opt->quiet ? NULL : "add", NULL, NULL, err);
    free(jobs);
    /* convert into a temporary directory, then publish all at once */
    char tmp[4096], stdlib_dir[4200];
    tmp[0] = '\0';
    if (rc == LARDER_OK && (rc = larder_mkdtemp(repo->dir, "tmp-add", tmp, sizeof tmp, err)) != LARDER_OK)
        tmp[0] = '\0';
    size_t n_stdlib = 0;
    snprintf(stdlib_dir, sizeof stdlib_dir, "%s/stdlib", tmp);
    if (rc == LARDER_OK && mkdir(stdlib_dir, 0755) != 0)
        rc = larder_fail(err, LARDER_EIO, "cannot create %s: %s", stdlib_dir, strerror(errno));
    if (rc == LARDER_OK)
        rc = write_stdlib_entries(repo, stdlib_dir, &n_stdlib, err);
    if (rc == LARDER_OK && !n_stdlib)
        fprintf(stderr, "larder-mirror: note: the repository has no stdlib packages, so the stdlib modules the new "
                        "packages import are not recorded as their dependencies; `larder-mirror runtime` publishes "
                        "the runtime's stdlib\n");
    char **archives = calloc(r.n + 1, sizeof *archives);
    size_t n_archives = 0;
    if (rc == LARDER_OK && !archives)
        rc = larder_fail(err, LARDER_ENOMEM, "out of memory");
    for (size_t i = 0; rc == LARDER_OK && i < r.n; i++) {
        project *p = &r.projects[i];
        if (p->chosen < 0)
            continue;
        const pypi_file *f = &p->listing.files[p->chosen];
        if (p->in_repo) {
            result->unchanged++;
            continue;
        }
        char buf[512];
        const char *extras[33];
        snprintf(buf, sizeof buf, "%s", p->extras);
        split_extras(buf, extras, 33);
        larder_build_options bo = {.outdir = tmp, .extras = extras, .stdlib_dir = n_stdlib ? stdlib_dir : NULL,
                                   .quiet = 1};
        larder_build_result br;
        if ((rc = larder_build_wheel(p->wheel, &bo, &br, err)) != LARDER_OK) {
            larder_prefix(err, rc, "%s %s", p->name, f->version_text);
            break;
        }
        if (!(archives[n_archives++] = strdup(br.archive_path)))
            rc = larder_fail(err, LARDER_ENOMEM, "out of memory");
    }
    if (rc == LARDER_OK && n_archives)
        rc = larder_repo_publish(repo, (const char *const *)archives, (int)n_archives, err);
    if (rc == LARDER_OK)
        result->added = n_archives;
    for (size_t i = 0; i < n_archives; i++)
        free(archives[i]);
    free(archives);
    if (tmp[0])
        larder_rm_rf(tmp, NULL);
    resolver_free(&r);
    if (rc == LARDER_OK && opt->sign)
        rc = larder_repo_sign(repo, &result->serial, err);
    return rc;
}
