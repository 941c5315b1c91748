/*
 * test_loader.c - loader/ on the host: install from a mirror directory,
 * the cache, and hostile input (flipped bytes, truncation, missing files,
 * path traversal, links, duplicates, a decompression bomb, conflicts).
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "../../builder/builder.h"
#include "../../loader/loader.h"
#include "tap.h"

static char mirror[256], site[256], cache[256];
static int fetches;
static int hand_ahead;  /* fetch_file says it had handed the bytes over before they were asked for */

static larder_code fetch_file(void *ctx, const larder_fetch_request *req, unsigned char **data, size_t *len,
                              larder_fetch_result *result, larder_error *err)
{
    (void)ctx;
    const char *url = req->url;
    *result = (larder_fetch_result){.ahead = hand_ahead};
    fetches++;
    FILE *f = fopen(url, "rb");
    if (!f)
        return larder_fail(err, LARDER_EFETCH, "HTTP 404 (%s)", strerror(errno));
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    *data = malloc((size_t)n + 1);
    *len = fread(*data, 1, (size_t)n, f);
    fclose(f);
    return LARDER_OK;
}

/* The file_sha256 hook of a platform that hashes the cache's files itself:
 * 0 knows nothing, 1 answers a file's true digest, 2 a well-formed wrong
 * one. hook_path is the last path asked about. */
static int hook_mode;
static char hook_path[1024];
static int file_digest(void *ctx, const char *path, char out[LARDER_SHA256_HEX])
{
    (void)ctx;
    snprintf(hook_path, sizeof hook_path, "%s", path);
    if (hook_mode == 0)
        return 0;
    if (hook_mode == 2) {
        memset(out, 'a', LARDER_SHA256_HEX - 1);
        out[LARDER_SHA256_HEX - 1] = '\0';
        return 1;
    }
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    static unsigned char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    larder_sha256_hex(buf, n, out);
    return 1;
}

/* The text of a small file into out (size outsize; "" if unreadable). */
static void read_text(const char *path, char *out, size_t outsize)
{
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(out, 1, outsize - 1, f) : 0;
    out[n] = '\0';
    if (f)
        fclose(f);
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, len, f);
    fclose(f);
}

static int exists(const char *rel)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", site, rel);
    return access(path, F_OK) == 0;
}

/* ---- a raw tar writer, to make archives the builder would refuse ---- */
typedef struct tarbuf {
    unsigned char data[1 << 16];
    size_t len, entries;
} tarbuf;

static void tar_add(tarbuf *t, const char *name, char type, const char *content, size_t size)
{
    unsigned char *h = t->data + t->len;
    memset(h, 0, 512);
    snprintf((char *)h, 100, "%s", name);
    snprintf((char *)h + 100, 8, "%07o", 0644);
    snprintf((char *)h + 108, 8, "%07o", 0);
    snprintf((char *)h + 116, 8, "%07o", 0);
    snprintf((char *)h + 124, 12, "%011zo", size);
    snprintf((char *)h + 136, 12, "%011o", 0);
    h[156] = (unsigned char)type;
    if (type == '2')
        snprintf((char *)h + 157, 100, "/etc/passwd");
    memcpy(h + 257, "ustar\0" "00", 8);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
    t->len += 512;
    t->entries++;
    if (size) {
        memcpy(t->data + t->len, content, size);
        t->len += (size + 511) / 512 * 512;
    }
}

static void tar_end(tarbuf *t)
{
    memset(t->data + t->len, 0, 1024);
    t->len += 1024;
}

/* Compress, write to the mirror as NAME.tar.zst and return an index entry
 * whose imports are `imports` (a JSON list's items; NULL: the name). */
static void publish_claiming(const char *name, const char *imports, const tarbuf *t, uint64_t unpacked,
                             char *entry, size_t size)
{
    const void *tar = t->data;
    size_t len = t->len;
    size_t bound = ZSTD_compressBound(len);
    unsigned char *z = malloc(bound);
    size_t zlen = ZSTD_compress(z, bound, tar, len, 3);
    char path[600], sha[LARDER_SHA256_HEX];
    snprintf(path, sizeof path, "%s/%s.tar.zst", mirror, name);
    write_file(path, z, zlen);
    larder_sha256_hex(z, zlen, sha);
    snprintf(entry, size, "\"%s\": {\"name\": \"%s\", \"version\": \"1\", \"file_name\": \"%s.tar.zst\", "
             "\"sha256\": \"%s\", \"size\": %zu, \"unpacked_size\": %llu, \"entries\": %zu, \"imports\": [%s], "
             "\"depends\": []}", name, name, name, sha, zlen, (unsigned long long)unpacked, t->entries, imports);
    free(z);
}

static void publish_raw(const char *name, const tarbuf *t, uint64_t unpacked, char *entry, size_t size)
{
    char imports[300];
    snprintf(imports, sizeof imports, "\"%s\"", name);
    publish_claiming(name, imports, t, unpacked, entry, size);
}

/* A real package made with the builder's archive writer; with n_small,
 * that many one-byte files more. */
static void publish_pkg(const char *name, const char *deps, size_t n_small, char *entry, size_t size)
{
    larder_fileset *set = larder_fileset_new();
    larder_error err;
    char path[300], body[300];
    snprintf(path, sizeof path, "%s/__init__.py", name);
    snprintf(body, sizeof body, "NAME = '%s'\n", name);
    larder_fileset_add(set, path, body, strlen(body), 0644, &err);
    snprintf(path, sizeof path, "%s/data/values.txt", name);
    larder_fileset_add(set, path, "1 2 3\n", 6, 0644, &err);
    for (size_t i = 0; i < n_small; i++) {
        snprintf(path, sizeof path, "%s/many/f%05zu.txt", name, i);
        larder_fileset_add(set, path, "x", 1, 0644, &err);
    }
    uint64_t unpacked = larder_fileset_bytes(set);
    size_t entries = larder_archive_entries(set);
    unsigned char *z;
    size_t zlen;
    larder_archive_write(set, 3, &z, &zlen, &err);
    larder_fileset_free(set);
    char sha[LARDER_SHA256_HEX];
    snprintf(path, sizeof path, "%s/%s.tar.zst", mirror, name);
    write_file(path, z, zlen);
    larder_sha256_hex(z, zlen, sha);
    snprintf(entry, size, "\"%s\": {\"name\": \"%s\", \"version\": \"1\", \"file_name\": \"%s.tar.zst\", "
             "\"sha256\": \"%s\", \"size\": %zu, \"unpacked_size\": %llu, \"entries\": %zu, \"imports\": [\"%s\"], "
             "\"depends\": [%s]}", name, name, name, sha, zlen, (unsigned long long)unpacked, entries, name, deps);
    free(z);
}

static larder_loader *make_loader(larder_index *index, int with_fetch, uint64_t cap)
{
    larder_loader_config cfg = {.base_url = mirror, .cache_dir = cache, .cache_cap = cap, .site_dir = site,
                                .stdlib_dir = site, .dynlib_dir = site, .fetch = with_fetch ? fetch_file : NULL};
    larder_error err;
    return larder_loader_new(&cfg, index, &err);
}

/* A fresh session: an empty install dir and a new loader over the cache. */
static larder_code install(larder_index *index, const char *name, larder_error *err, int *from_cache)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir %s", site, site);
    if (system(cmd) != 0)
        return LARDER_EIO;
    larder_loader *l = make_loader(index, 1, 1 << 20);
    larder_install_report r;
    larder_code rc = larder_loader_install(l, &name, 1, &r, err);
    if (from_cache)
        *from_cache = r.n ? r.from_cache[r.n - 1] : -1; /* the requested package comes last */
    larder_loader_free(l);
    return rc;
}

/* The tar reader on the hostile seed cases of the fuzz corpus
 * (tests/fuzz/make-untar-cases.py): each refused, for its reason. */
static void tar_cases(void)
{
    static const struct { const char *file; larder_code code; const char *msg; } cases[] = {
        {"pax-long-path", LARDER_OK, NULL},
        {"pax-linkpath", LARDER_EINVAL, "a link (pax linkpath)"},
        {"pax-global", LARDER_EINVAL, "an entry of an unsupported type"},
        {"gnu-longname", LARDER_EINVAL, "an entry of an unsupported type"},
        {"ustar-prefix-dotdot", LARDER_EINVAL, "\"pkg/../../escape.py\" has an unsafe path"},
        {"bad-checksum", LARDER_ECORRUPT, "bad tar header checksum at offset 0"},
        {"base256-size", LARDER_ECORRUPT, "has a bad or truncated size"},
        {"data-after-end", LARDER_ECORRUPT, "data after the end-of-archive marker"},
        {"dir-with-data", LARDER_ECORRUPT, "directory entry \"pkg/dir\" has data"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char path[300], label[300];
        snprintf(path, sizeof path, "tests/fuzz/corpus/untar/%s.tar", cases[i].file);
        FILE *f = fopen(path, "rb");
        static unsigned char buf[1 << 16];
        size_t len = f ? fread(buf, 1, sizeof buf, f) : 0;
        if (f)
            fclose(f);
        larder_tar_entry *entries = NULL;
        size_t n = 0;
        larder_error err = {0};
        larder_code rc = len ? larder_tar_parse(buf, len, 1 << 20, &entries, &n, &err) : LARDER_EIO;
        snprintf(label, sizeof label, "tar reader, %s: %s", cases[i].file, cases[i].msg ? "refused" : "accepted");
        CHECK(rc == cases[i].code, label);
        if (cases[i].msg)
            CHECK_STR_HAS(err.message, cases[i].msg, "  ...for its reason");
        larder_tar_free(entries, n);
    }
}

int main(void)
{
    tar_cases();
    char base[] = "/tmp/larder-loader-test-XXXXXX";
    larder_error err = {0};
    if (!mkdtemp(base) || larder_loader_init(&err) != LARDER_OK)
        return printf("Bail out! setup\n"), 1;
    snprintf(mirror, sizeof mirror, "%s/mirror", base);
    snprintf(site, sizeof site, "%s/site", base);
    snprintf(cache, sizeof cache, "%s/cache", base);
    mkdir(mirror, 0755);
    mkdir(site, 0755);

    /* hostile archives, each signed into the index as if the mirror were evil */
    static char e_good[1024], e_dep[1024], e_trav[1024], e_abs[1024], e_link[1024], e_hard[1024], e_dup[1024],
        e_bomb[1024], e_conf[1024], e_dev[1024], e_plant[1024], e_nest[1024], e_many[1024], e_old[1024];
    static tarbuf t;
    publish_pkg("good", "\"dep\"", 0, e_good, sizeof e_good);
    publish_pkg("dep", "", 0, e_dep, sizeof e_dep);
    publish_pkg("many", "", 10000, e_many, sizeof e_many);
    t.len = t.entries = 0; tar_add(&t, "trav/ok.py", '0', "x", 1); tar_add(&t, "../escaped.py", '0', "x", 1); tar_end(&t);
    publish_raw("trav", &t, 2, e_trav, sizeof e_trav);
    t.len = t.entries = 0; tar_add(&t, "/tmp/absolute.py", '0', "x", 1); tar_end(&t);
    publish_raw("abs", &t, 1, e_abs, sizeof e_abs);
    t.len = t.entries = 0; tar_add(&t, "link/passwd", '2', NULL, 0); tar_end(&t);
    publish_raw("link", &t, 0, e_link, sizeof e_link);
    t.len = t.entries = 0; tar_add(&t, "hard/passwd", '1', NULL, 0); tar_end(&t);
    publish_raw("hard", &t, 0, e_hard, sizeof e_hard);
    t.len = t.entries = 0; tar_add(&t, "dup/a.py", '0', "x", 1); tar_add(&t, "dup/a.py", '0', "y", 1); tar_end(&t);
    publish_raw("dup", &t, 2, e_dup, sizeof e_dup);
    t.len = t.entries = 0; tar_add(&t, "dev/null", '3', NULL, 0); tar_end(&t);
    publish_raw("dev", &t, 0, e_dev, sizeof e_dev);
    static char zeros[40000];
    t.len = t.entries = 0; tar_add(&t, "bomb/zeros.bin", '0', zeros, sizeof zeros); tar_end(&t);
    publish_raw("bomb", &t, 1000, e_bomb, sizeof e_bomb);  /* declares 1000 bytes */
    t.len = t.entries = 0; tar_add(&t, "conf/new.py", '0', "x", 1); tar_add(&t, "good/__init__.py", '0', "y", 1); tar_end(&t);
    publish_claiming("conf", "\"conf\", \"good\"", &t, 2, e_conf, sizeof e_conf);
    /* files for a name the package does not declare, and (the roots nest)
     * into another root below its own */
    t.len = t.entries = 0; tar_add(&t, "plant/ok.py", '0', "x", 1); tar_add(&t, "other/__init__.py", '0', "y", 1); tar_end(&t);
    publish_raw("plant", &t, 2, e_plant, sizeof e_plant);
    t.len = t.entries = 0; tar_add(&t, "nest.py", '0', "x", 1); tar_add(&t, "site-packages/other/__init__.py", '0', "y", 1);
    tar_end(&t);
    publish_raw("nest", &t, 2, e_nest, sizeof e_nest);
    /* an entry written before "entries" existed: nothing bounds its tar */
    t.len = t.entries = 0; tar_add(&t, "old/a.py", '0', "x", 1); tar_end(&t);
    publish_raw("old", &t, 1, e_old, sizeof e_old);
    char *field = strstr(e_old, "\"entries\"");
    memmove(field, strchr(field, ',') + 2, strlen(strchr(field, ',') + 2) + 1);

    char json[16384];
    snprintf(json, sizeof json, "{\"packages\": {%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s}}", e_good,
             e_dep, e_trav, e_abs, e_link, e_hard, e_dup, e_bomb, e_conf, e_dev, e_plant, e_nest, e_many, e_old);
    larder_index *index = larder_index_parse(json, strlen(json), &err);
    CHECK(index != NULL, "the test index parses");
    if (!index) {
        printf("# %s\n", err.message);
        return tap_done();
    }

    /* a flipped byte in the mirror's archive */
    char path[600];
    snprintf(path, sizeof path, "%s/good.tar.zst", mirror);
    FILE *f = fopen(path, "r+b");
    fseek(f, 40, SEEK_SET);
    int c = fgetc(f);
    fseek(f, 40, SEEK_SET);
    fputc(c ^ 1, f);
    fclose(f);
    int from_cache;
    larder_loader *session = make_loader(index, 1, 1 << 20);
    const char *good_name = "good";
    larder_install_report report;
    CHECK(larder_loader_install(session, &good_name, 1, &report, &err) == LARDER_EINTEGRITY,
          "one flipped byte: IntegrityError");
    CHECK_STR_HAS(err.message, "cannot load package 'good' 1 from ", "the message names package and URL");
    CHECK_STR_HAS(err.message, "sha256 mismatch", "...and the cause");
    CHECK(exists("dep/__init__.py") && !exists("good"), "the dependency stayed, nothing of the bad package");
    f = fopen(path, "r+b");
    fseek(f, 40, SEEK_SET);
    fputc(c, f);
    fclose(f);
    fetches = 0;
    CHECK(larder_loader_install(session, &good_name, 1, &report, &err) == LARDER_OK && report.n == 1
              && exists("good/data/values.txt") && !report.from_cache[0],
          "after the mirror is fixed, the same session recovers: good installs, dep is not redone");
    CHECK(fetches == 1, "only the failed package was fetched again");
    larder_loader_free(session);
    fetches = 0;
    CHECK(install(index, "good", &err, &from_cache) == LARDER_OK && from_cache == 1 && fetches == 0,
          "a new session installs both from the cache");

    /* the cache: a fresh loader with no network gets both from the cache */
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "rm -rf %s/good %s/dep", site, site);
    CHECK(system(cmd) == 0, "wipe the installed files");
    larder_loader *offline = make_loader(index, 0, 1 << 20);
    const char *name = "good";
    CHECK(larder_loader_install(offline, &name, 1, &report, &err) == LARDER_OK && report.n == 2
              && report.from_cache[0] && report.from_cache[1] && exists("good/__init__.py"),
          "offline: dep then good, both from the cache");
    CHECK(larder_loader_install(offline, &name, 1, &report, &err) == LARDER_OK && report.n == 0,
          "installing again does nothing");
    larder_loader_free(offline);

    /* a damaged cache entry is dropped and refetched */
    const larder_package *good = larder_index_find(index, "good");
    snprintf(path, sizeof path, "%s/%s.tar.zst", cache, good->sha256);
    f = fopen(path, "r+b");
    CHECK(f != NULL, "the archive is in the cache");
    if (f) {
        fputc('X', f);
        fclose(f);
    }
    fetches = 0;
    CHECK(install(index, "good", &err, &from_cache) == LARDER_OK && from_cache == 0 && fetches == 1,
          "a corrupted cache entry is refetched");

    /* a digest of a cache file the platform computed (file_sha256) is
     * compared with the index's instead of hashing the bytes again */
    larder_loader_config dcfg = {.base_url = mirror, .cache_dir = cache, .cache_cap = 1 << 20, .site_dir = site,
                                 .stdlib_dir = site, .dynlib_dir = site, .fetch = fetch_file,
                                 .file_sha256 = file_digest};
    char good_file[1024];
    for (hook_mode = 1; hook_mode <= 2; hook_mode++) {
        snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir %s", site, site);
        CHECK(system(cmd) == 0, "an empty install dir");
        larder_loader *hooked = larder_loader_new(&dcfg, index, &err);
        fetches = 0;
        CHECK(hooked && larder_loader_install(hooked, &name, 1, &report, &err) == LARDER_OK && report.n == 2
                  && exists("good/__init__.py"),
              hook_mode == 1 ? "installed with the platform's digests" : "installed despite wrong digests");
        larder_cache_file(larder_loader_cache(hooked), good->sha256, good_file, sizeof good_file);
        if (hook_mode == 1)
            CHECK(report.from_cache[0] && report.from_cache[1] && fetches == 0
                      && larder_loader_get_stats(hooked)->hashed_by_platform == 2
                      && strcmp(hook_path, good_file) == 0,
                  "both from the cache, their digests the platform's (asked for the cache's file of each)");
        else
            CHECK(!report.from_cache[0] && !report.from_cache[1] && fetches == 2
                      && larder_loader_get_stats(hooked)->hashed_by_platform == 0,
                  "a platform digest that is not the index's drops the entry: both downloaded again");
        larder_loader_free(hooked);
    }
    hook_mode = 0;

    /* archives the platform handed over ahead are counted, and checked as any other */
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir %s", site, site);
    CHECK(system(cmd) == 0, "an empty install dir");
    larder_loader_config acfg = {.base_url = mirror, .site_dir = site, .stdlib_dir = site, .dynlib_dir = site,
                                 .fetch = fetch_file};
    larder_loader *ahead = larder_loader_new(&acfg, index, &err);
    hand_ahead = 1;
    CHECK(ahead && larder_loader_install(ahead, &name, 1, &report, &err) == LARDER_OK && report.n == 2
              && larder_loader_get_stats(ahead)->handed_ahead == 2 && exists("good/__init__.py"),
          "both archives handed over ahead: counted, installed");
    hand_ahead = 0;
    larder_loader_free(ahead);

    /* a truncated download and a missing archive */
    snprintf(cmd, sizeof cmd, "cp %s/good.tar.zst %s/good.bak && truncate -s 30 %s/good.tar.zst && rm -rf %s",
             mirror, mirror, mirror, cache);
    CHECK(system(cmd) == 0, "truncate the mirror's archive, empty the cache");
    CHECK(install(index, "good", &err, NULL) == LARDER_EINTEGRITY, "a truncated download is refused");
    CHECK_STR_HAS(err.message, "the index says", "...as a size mismatch");
    snprintf(cmd, sizeof cmd, "rm %s/good.tar.zst", mirror);
    CHECK(system(cmd) == 0, "remove the archive from the mirror");
    CHECK(install(index, "good", &err, NULL) == LARDER_EFETCH, "a missing archive is a fetch error");
    CHECK_STR_HAS(err.message, "HTTP 404", "...with the status");
    snprintf(cmd, sizeof cmd, "mv %s/good.bak %s/good.tar.zst", mirror, mirror);
    CHECK(system(cmd) == 0, "restore the archive");

    struct { const char *name; larder_code code; const char *msg; const char *label; } bad[] = {
        {"trav", LARDER_EINVAL, "\"../escaped.py\" has an unsafe path", "a ../ entry is refused"},
        {"abs", LARDER_EINVAL, "\"/tmp/absolute.py\" has an unsafe path", "an absolute path is refused"},
        {"link", LARDER_EINVAL, "is a symbolic link", "a symlink is refused"},
        {"hard", LARDER_EINVAL, "is a hard link", "a hard link is refused"},
        {"dev", LARDER_EINVAL, "is a device file", "a device file is refused"},
        {"dup", LARDER_EINVAL, "twice", "a duplicate entry is refused"},
        {"bomb", LARDER_ETOOBIG, "above the limit of 16871", "a decompression bomb is refused (1000 bytes in 1 entry "
         "declared: 1000 + 5631 + 10240 bytes of tar at most)"},
        {"plant", LARDER_ECORRUPT, "writes other/__init__.py, outside the top-level names the package declares",
         "packages can plant files for other packages: refused"},
        {"nest", LARDER_ECORRUPT, "writes site-packages/other/__init__.py, outside",
         "...also into another install root nested in its own"},
        {"old", LARDER_ECORRUPT, "declares no entries, so the archive cannot be bounded",
         "an entry without unpacked_size and entries is refused (no 1 GiB fallback)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK(install(index, bad[i].name, &err, NULL) == bad[i].code, bad[i].label);
        CHECK_STR_HAS(err.message, bad[i].msg, "  ...with the cause");
    }
    CHECK(!exists("trav") && access("/tmp/absolute.py", F_OK) != 0 && !exists("link") && !exists("dup")
              && !exists("bomb") && !exists("plant") && !exists("other") && !exists("nest.py")
              && !exists("site-packages"), "none of them left a file");
    snprintf(path, sizeof path, "%s/escaped.py", base);
    CHECK(access(path, F_OK) != 0, "nothing escaped the install dir");

    /* the decompression limit counts what the tar format needs */
    CHECK(install(index, "many", &err, NULL) == LARDER_OK && exists("many/many/f09999.txt"),
          "the decompression limit is wrong both ways: a package of 10,000 small files installs");
    snprintf(cmd, sizeof cmd, "rm -rf %s/many", site);
    CHECK(system(cmd) == 0, "remove it");

    /* a package that would overwrite another's file is rolled back whole */
    CHECK(install(index, "good", &err, NULL) == LARDER_OK, "good installed");
    session = make_loader(index, 1, 1 << 20);
    const char *conf = "conf";
    CHECK(larder_loader_install(session, &conf, 1, &report, &err) == LARDER_EINVAL,
          "overwriting another package's file is refused");
    larder_loader_free(session);
    CHECK(!exists("conf/new.py") && !exists("conf"), "the files it had written are removed");

    /* the small ones: links planted in the install dir are not followed */
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s/dep && ln -s %s/dangling-target %s/dep/__init__.py && "
             "mkdir %s/outside && ln -s %s/outside %s/good", site, site, base, site, base, base, site);
    CHECK(system(cmd) == 0, "a dangling symlink where dep/__init__.py goes, a directory link where good/ goes");
    session = make_loader(index, 1, 1 << 20);
    CHECK(larder_loader_install(session, &name, 1, &report, &err) == LARDER_EINVAL,
          "files opened after access() follow a dangling symlink: now refused (O_EXCL|O_NOFOLLOW)");
    CHECK_STR_HAS(err.message, "dep/__init__.py already exists", "  ...as something already there");
    snprintf(path, sizeof path, "%s/dangling-target", base);
    CHECK(access(path, F_OK) != 0, "  ...and nothing was written through the link");
    snprintf(cmd, sizeof cmd, "rm %s/dep/__init__.py", site);
    CHECK(system(cmd) == 0, "remove the file link");
    CHECK(larder_loader_install(session, &name, 1, &report, &err) == LARDER_EINVAL, "a directory link is not "
          "followed either");
    CHECK_STR_HAS(err.message, "/good exists and is not a directory", "  ...and says so");
    snprintf(path, sizeof path, "%s/outside/__init__.py", base);
    CHECK(access(path, F_OK) != 0, "  ...nothing was written outside the install dir");
    larder_loader_free(session);
    snprintf(cmd, sizeof cmd, "rm -rf %s %s/outside && mkdir %s", site, base, site);
    CHECK(system(cmd) == 0, "clean the install dir");

    /* the small ones: the cache tracks every entry, past 4,096 too */
    char many_dir[400];
    snprintf(many_dir, sizeof many_dir, "%s/many-cache", base);
    larder_cache *mc = larder_cache_open(many_dir, 4200 * 10, &err);
    int put_ok = mc != NULL;
    for (int i = 0; put_ok && i < 5000; i++) {
        char sha[LARDER_SHA256_HEX];
        snprintf(sha, sizeof sha, "%064x", i);
        put_ok = larder_cache_put(mc, sha, (const unsigned char *)"0123456789", 10, &err) == LARDER_OK;
    }
    CHECK(put_ok && larder_cache_bytes(mc) <= 4200 * 10, "5,000 entries in a cache for 4,200: the cap holds");
    larder_cache_close(mc);
    snprintf(cmd, sizeof cmd, "test $(ls %s | grep -c tar.zst) -le 4200", many_dir);
    CHECK(system(cmd) == 0, "the cache stops tracking entries past 4,096 no more: the files beyond the cap "
          "were evicted");

    /* a get marks its entry used last, and the list records it at the next
     * sync (an install's end), not at every get: a new cache of two
     * entries, A put first, then used again */
    snprintf(many_dir, sizeof many_dir, "%s/lru-cache", base);
    larder_cache *lc = larder_cache_open(many_dir, 1 << 20, &err);
    char sha_a[LARDER_SHA256_HEX], sha_b[LARDER_SHA256_HEX], list[600] = "";
    larder_sha256_hex("A", 1, sha_a);
    larder_sha256_hex("B", 1, sha_b);
    unsigned char *got = NULL;
    size_t got_len = 0;
    CHECK(lc && larder_cache_put(lc, sha_a, (const unsigned char *)"A", 1, &err) == LARDER_OK
              && larder_cache_put(lc, sha_b, (const unsigned char *)"B", 1, &err) == LARDER_OK
              && larder_cache_get(lc, sha_a, NULL, &got, &got_len) == 1 && got_len == 1 && got[0] == 'A',
          "two entries put, the first one got back");
    free(got);
    snprintf(path, sizeof path, "%s/lru.txt", many_dir);
    char expect[600];
    snprintf(expect, sizeof expect, "%s 1 1\n%s 1 2\n", sha_a, sha_b);
    read_text(path, list, sizeof list);
    CHECK(strcmp(list, expect) == 0, "the list is not written by a get");
    CHECK(larder_cache_sync(lc, &err) == LARDER_OK, "sync");
    snprintf(expect, sizeof expect, "%s 1 3\n%s 1 2\n", sha_a, sha_b);
    read_text(path, list, sizeof list);
    CHECK(strcmp(list, expect) == 0, "after the sync it records the get: A used last");
    larder_cache_close(lc);

    /* LRU eviction beyond the cap */
    snprintf(cmd, sizeof cmd, "rm -rf %s %s/good %s/dep", cache, site, site);
    CHECK(system(cmd) == 0, "empty the cache");
    larder_loader *small = make_loader(index, 1, larder_index_find(index, "good")->size + 10);
    CHECK(larder_loader_install(small, &name, 1, &report, &err) == LARDER_OK, "install with a tiny cache");
    CHECK(larder_cache_bytes(larder_loader_cache(small)) <= larder_index_find(index, "good")->size + 10,
          "the cache stays under its cap (the older entry was evicted)");
    larder_loader_free(small);

    larder_index_free(index);
    snprintf(cmd, sizeof cmd, "rm -rf %s", base);
    CHECK(system(cmd) == 0, "clean up");
    return tap_done();
}
