/*
 * wheel.c - larder packages from wheels (PEP 427), read with libarchive.
 *
 * Every file is checked against RECORD (sha256 and size), paths must be
 * plain relative names, links and special files are refused, and only
 * pure-Python or wasm32-emscripten wheels are accepted.
 */
#include "internal.h"

#include <archive.h>
#include <archive_entry.h>
#include <fnmatch.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The NAME-VERSION.dist-info directory of the wheel (the one holding
 * METADATA), copied into dir. */
static int find_dist_info(const larder_fileset *set, char *dir, size_t size)
{
    int found = 0;
    for (size_t i = 0; i < larder_fileset_count(set); i++) {
        const char *path = larder_fileset_at(set, i)->path;
        const char *slash = strchr(path, '/');
        if (slash && strcmp(slash, "/METADATA") == 0 && (size_t)(slash - path) > 10
            && strncmp(slash - 10, ".dist-info", 10) == 0 && (size_t)(slash - path) < size) {
            if (found)
                return -1;
            snprintf(dir, size, "%.*s", (int)(slash - path), path);
            found = 1;
        }
    }
    return found;
}

static larder_file *dist_file(const larder_fileset *set, const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return larder_fileset_find(set, path);
}

/* Read one CSV field of a RECORD line (quotes per the csv module). */
static const char *csv_field(const char *p, const char *end, char *out, size_t size)
{
    size_t o = 0;
    if (p < end && *p == '"') {
        for (p++; p < end; p++) {
            if (*p == '"') {
                if (p + 1 < end && p[1] == '"')
                    p++;
                else {
                    p++;
                    break;
                }
            }
            if (o + 1 < size)
                out[o++] = *p;
        }
    } else {
        for (; p < end && *p != ','; p++)
            if (o + 1 < size)
                out[o++] = *p;
    }
    out[o] = '\0';
    return p < end && *p == ',' ? p + 1 : p;
}

static larder_code check_record(const larder_fileset *set, const char *dist_info, const char *wheel,
                                larder_error *err)
{
    larder_file *record = dist_file(set, dist_info, "RECORD");
    if (!record)
        return larder_fail(err, LARDER_EINVAL, "%s: %s/RECORD is missing", wheel, dist_info);
    size_t n = larder_fileset_count(set);
    unsigned char *seen = calloc(n + 1, 1);
    if (!seen)
        return larder_fail(err, LARDER_ENOMEM, "out of memory");
    const char *p = (const char *)record->data, *end = p + record->size, *line;
    size_t len;
    larder_code rc = LARDER_OK;
    while (rc == LARDER_OK && builder_next_line(&p, end, &line, &len)) {
        char path[1024], hash[128], size[32];
        const char *q = csv_field(line, line + len, path, sizeof path);
        q = csv_field(q, line + len, hash, sizeof hash);
        csv_field(q, line + len, size, sizeof size);
        if (!path[0])
            continue;
        larder_file *f = larder_fileset_find(set, path);
        if (!f) {
            if (larder_ends_with(path, "/") || strstr(path, "__pycache__"))
                continue;
            rc = larder_fail(err, LARDER_EINVAL, "%s: RECORD lists %s, which the wheel does not contain",
                             wheel, path);
            break;
        }
        seen[f - larder_fileset_at(set, 0)] = 1;
        if (f == record)
            continue;
        unsigned char digest[crypto_hash_sha256_BYTES];
        char b64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
        crypto_hash_sha256(digest, f->data, f->size);
        sodium_bin2base64(b64, sizeof b64, digest, sizeof digest, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        if (strncmp(hash, "sha256=", 7) != 0 || strcmp(hash + 7, b64) != 0)
            rc = larder_fail(err, LARDER_EINTEGRITY,
                             "%s: %s does not match its RECORD hash (RECORD says \"%s\", the file "
                             "has sha256=%s): the wheel was altered", wheel, path, hash, b64);
        else if (size[0] && strtoull(size, NULL, 10) != f->size)
            rc = larder_fail(err, LARDER_EINTEGRITY, "%s: %s is %zu bytes, RECORD says %s", wheel, path,
                             f->size, size);
    }
    for (size_t i = 0; i < n && rc == LARDER_OK; i++) {
        const char *path = larder_fileset_at(set, i)->path;
        if (!seen[i] && !larder_ends_with(path, "/RECORD.jws") && !larder_ends_with(path, "/RECORD.p7s"))
            rc = larder_fail(err, LARDER_EINTEGRITY, "%s: %s is not listed in RECORD", wheel, path);
    }
    free(seen);
    return rc;
}

/* Accept py*-none-any and *-emscripten_*_wasm32 tags only. */
static larder_code check_tags(const larder_file *wheel_file, const char *wheel, larder_error *err)
{
    if (!wheel_file)
        return larder_fail(err, LARDER_EINVAL, "%s: the WHEEL file is missing", wheel);
    const char *p = (const char *)wheel_file->data, *end = p + wheel_file->size, *line;
    size_t len;
    char last[128] = "";
    while (builder_next_line(&p, end, &line, &len)) {
        if (len > 5 && strncmp(line, "Tag: ", 5) == 0) {
            snprintf(last, sizeof last, "%.*s", (int)(len - 5), line + 5);
            size_t n = strlen(last);
            while (n && last[n - 1] == ' ')
                last[--n] = '\0';
            if (larder_ends_with(last, "-any") || strstr(last, "emscripten") || strstr(last, "wasm32"))
                return LARDER_OK;
        }
    }
    return larder_fail(err, LARDER_EINVAL,
                       "%s: built for another platform (tag %s); only pure-Python or "
                       "wasm32-emscripten wheels load in the runtime", wheel, last[0] ? last : "(none)");
}

/* Read every member of the zip into set. */
static larder_code read_zip(const char *path, const larder_build_options *opt, larder_fileset *set,
                            larder_error *err)
{
    uint64_t max_file = opt->max_file_size ? opt->max_file_size : LARDER_DEFAULT_MAX_FILE;
    uint64_t max_total = opt->max_total_size ? opt->max_total_size : LARDER_DEFAULT_MAX_TOTAL;
    uint64_t total = 0;
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    larder_code rc = LARDER_OK;
    unsigned char *buf = NULL;
    archive_read_support_format_zip_seekable(a);
    if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK) {
        rc = larder_fail(err, LARDER_ECORRUPT, "%s: not a readable zip file (%s)", path, archive_error_string(a));
        goto done;
    }
    for (;;) {
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r != ARCHIVE_OK) {
            rc = larder_fail(err, LARDER_ECORRUPT, "%s: corrupt or truncated zip (%s)", path,
                             archive_error_string(a));
            goto done;
        }
        const char *name = archive_entry_pathname(e);
        unsigned type = archive_entry_filetype(e);
        if (type == AE_IFDIR)
            continue;
        if (type != AE_IFREG) {
            rc = larder_fail(err, LARDER_EINVAL, "%s: %s is a %s; only regular files are accepted", path,
                             name ? name : "(unnamed)", type == AE_IFLNK ? "symbolic link" : "special file");
            goto done;
        }
        la_int64_t declared = archive_entry_size(e);
        if (declared < 0 || (uint64_t)declared > max_file) {
            rc = larder_fail(err, LARDER_ETOOBIG, "%s: %s is %lld bytes, over the per-file limit of %llu",
                             path, name, (long long)declared, (unsigned long long)max_file);
            goto done;
        }
        total += (uint64_t)declared;
        if (total > max_total) {
            rc = larder_fail(err, LARDER_ETOOBIG, "%s: more than %llu bytes unpacked", path,
                             (unsigned long long)max_total);
            goto done;
        }
        unsigned char *more = realloc(buf, (size_t)declared + 1);
        if (!more) {
            rc = larder_fail(err, LARDER_ENOMEM, "out of memory");
            goto done;
        }
        buf = more;
        la_ssize_t got = archive_read_data(a, buf, (size_t)declared + 1);
        if (got != declared) {
            rc = larder_fail(err, LARDER_ECORRUPT, "%s: cannot read %s (%s)", path, name,
                             got < 0 ? archive_error_string(a) : "size differs from the header");
            goto done;
        }
        rc = larder_fileset_add(set, name, buf, (size_t)got, archive_entry_perm(e), err);
        if (rc != LARDER_OK) {
            larder_prefix(err, rc, "%s", path);
            goto done;
        }
    }
done:
    free(buf);
    archive_read_free(a);
    return rc;
}

/* Move NAME.data/purelib/x and NAME.data/platlib/x to x; drop the other
 * .data schemes (scripts, headers, data have no place in the runtime). */
static larder_code place_data_dirs(larder_fileset *set, const char *dist_info, const char *wheel, larder_error *err)
{
    char prefix[512];
    size_t stem = strlen(dist_info) - strlen(".dist-info");
    snprintf(prefix, sizeof prefix, "%.*s.data/", (int)stem, dist_info);
    size_t plen = strlen(prefix), dropped = 0;
    for (size_t i = 0; i < larder_fileset_count(set);) {
        larder_file *f = larder_fileset_at(set, i);
        if (strncmp(f->path, prefix, plen) != 0) {
            i++;
            continue;
        }
        const char *rest = f->path + plen;
        const char *target = NULL;
        if (!strncmp(rest, "purelib/", 8) || !strncmp(rest, "platlib/", 8))
            target = rest + 8;
        if (target) {
            char *path = strdup(target);
            larder_code rc = path ? larder_fileset_add(set, path, f->data, f->size, f->mode, err)
                                  : larder_fail(err, LARDER_ENOMEM, "out of memory");
            free(path);
            if (rc != LARDER_OK)
                return rc;
            f = larder_fileset_at(set, i);  /* the add may have moved the array */
        } else {
            dropped++;
        }
        larder_fileset_remove(set, f->path);
    }
    if (dropped)
        fprintf(stderr, "larder-build: %s: left out %zu file(s) of .data/scripts, headers or data\n",
                wheel, dropped);
    return LARDER_OK;
}

/* Drop the files with a path component matching one of opt->exclude
 * (fnmatch patterns: "tests" drops every tests/ directory). */
static void drop_excluded(larder_fileset *set, const larder_build_options *opt, const char *wheel)
{
    size_t dropped = 0;
    for (size_t i = 0; opt->exclude && i < larder_fileset_count(set);) {
        const char *path = larder_fileset_at(set, i)->path;
        int hit = 0;
        for (const char *c = path; *c && !hit;) {
            char part[256];
            size_t n = strcspn(c, "/");
            snprintf(part, sizeof part, "%.*s", (int)(n < sizeof part ? n : sizeof part - 1), c);
            for (size_t k = 0; opt->exclude[k] && !hit; k++)
                hit = fnmatch(opt->exclude[k], part, 0) == 0;
            c += n + (c[n] == '/');
        }
        if (hit) {
            larder_fileset_remove(set, path);
            dropped++;
        } else {
            i++;
        }
    }
    if (dropped && !opt->quiet)
        fprintf(stderr, "larder-build: %s: left out %zu excluded file(s)\n", wheel, dropped);
}

/* The wheel's files into set and its NAME-VERSION.dist-info into dist_info. */
static larder_code read_wheel(const char *path, const larder_build_options *opt, larder_fileset *set,
                              char *dist_info, size_t size, larder_error *err)
{
    larder_code rc = read_zip(path, opt, set, err);
    if (rc != LARDER_OK)
        return rc;
    int found = find_dist_info(set, dist_info, size);
    if (found <= 0)
        return larder_fail(err, LARDER_EINVAL, "%s: %s", path,
                           found ? "more than one .dist-info directory with METADATA"
                                 : "no .dist-info/METADATA: not a wheel, or a broken one");
    return LARDER_OK;
}

larder_code larder_wheel_metadata(const char *path, larder_metadata *md, larder_error *err)
{
    larder_fileset *set = larder_fileset_new();
    larder_build_options opt = {0};
    char dist_info[400];
    if (!set)
        return larder_fail(err, LARDER_ENOMEM, "out of memory");
    larder_code rc = read_wheel(path, &opt, set, dist_info, sizeof dist_info, err);
    if (rc == LARDER_OK) {
        larder_file *meta = dist_file(set, dist_info, "METADATA");
        rc = larder_metadata_parse((const char *)meta->data, meta->size, path, md, err);
    }
    larder_fileset_free(set);
    return rc;
}

larder_code larder_build_wheel(const char *path, const larder_build_options *opt,
                               larder_build_result *result, larder_error *err)
{
    larder_fileset *set = larder_fileset_new();
    larder_metadata md = {0};
    char dist_info[400];
    larder_code rc;
    if (!set)
        return larder_fail(err, LARDER_ENOMEM, "out of memory");
    if (sodium_init() < 0) {
        rc = larder_fail(err, LARDER_EINVAL, "libsodium failed to initialise");
        goto done;
    }
    if ((rc = read_wheel(path, opt, set, dist_info, sizeof dist_info, err)) != LARDER_OK)
        goto done;
    if ((rc = check_record(set, dist_info, path, err)) != LARDER_OK
        || (rc = check_tags(dist_file(set, dist_info, "WHEEL"), path, err)) != LARDER_OK)
        goto done;
    larder_file *meta = dist_file(set, dist_info, "METADATA");
    if ((rc = larder_metadata_parse((const char *)meta->data, meta->size, path, &md, err)) != LARDER_OK
        || (rc = place_data_dirs(set, dist_info, path, err)) != LARDER_OK)
        goto done;
    drop_excluded(set, opt, path);
    for (size_t i = 0; i < larder_fileset_count(set); i++) {
        const char *p = larder_fileset_at(set, i)->path;
        if (larder_ends_with(p, ".so") && !larder_ends_with(p, "wasm32-emscripten.so")) {
            rc = larder_fail(err, LARDER_EINVAL, "%s: %s is a native library for another platform", path, p);
            goto done;
        }
    }
    /* RECORD would be stale once .pyc replace the sources */
    char record[450];
    snprintf(record, sizeof record, "%s/RECORD", dist_info);
    larder_fileset_remove(set, record);
    larder_file *top = dist_file(set, dist_info, "top_level.txt");
    rc = builder_finish_distribution(set, &md, top ? (const char *)top->data : NULL, top ? top->size : 0,
                                    path, opt, result, err);
done:
    larder_metadata_clear(&md);
    larder_fileset_free(set);
    return rc;
}
