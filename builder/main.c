/*
 * main.c - the larder-build command: argument parsing over builder.h.
 *
 *   larder-build wheel [OPTIONS] FILE.whl...
 *   larder-build dist  [OPTIONS] NAME...
 *   larder-build stdlib [OPTIONS] --lib DIR --core FILE ...
 *
 * Exit status: 0 all built, 1 a build failed (nothing of it was written),
 * 2 bad usage.
 */
#define _GNU_SOURCE
#include "builder.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LIST 64

static void usage(FILE *to)
{
    fputs("usage: larder-build wheel  [OPTIONS] FILE.whl...\n"
          "       larder-build dist   [OPTIONS] NAME...\n"
          "       larder-build tree   [OPTIONS] --name N --version V [--imports A,B] DIR\n"
          "       larder-build sdist  [OPTIONS] [--with PREFIX]... [--sha256 HEX] FILE|NAME==VERSION...\n"
          "       larder-build stdlib [OPTIONS] --lib DIR --core FILE [--dynload DIR]\n"
          "                           [--sysconfigdata FILE]\n"
          "       larder-build needs  ARCHIVE.tar.zst...\n"
          "\n"
          "Convert wheels or installed distributions into larder packages: for each, a\n"
          "NAME-VERSION-BUILD.tar.zst archive and its index entry NAME-VERSION-BUILD.json.\n"
          "stdlib splits CPython's stdlib (--lib) into one cpython_module package per\n"
          "top-level module outside the core (--core lists what the core keeps).\n"
          "needs prints what the archives' side modules import from the runtime (one\n"
          "name a line): what python.wasm must export for them (builder/runtime/exports.txt).\n"
          "\n"
          "options:\n"
          "  -o, --outdir DIR       write the outputs into DIR (default: .)\n"
          "  -b, --build TAG        build tag in the file names (default: 0)\n"
          "  -e, --extra NAME       include the requirements of extra NAME (repeatable)\n"
          "  -d, --depends NAME     also record a dependency on NAME (repeatable), for\n"
          "                         metadata that lost one (Debian's python-dateutil: six)\n"
          "  -k, --keep-sources     keep .py files beside the compiled .pyc\n"
          "  -l, --level N          zstd compression level (default: 19)\n"
          "      --python PATH      host CPython 3.11 for .pyc (default: " LARDER_HOST_PYTHON ")\n"
          "      --site DIR         dist: look for distributions in DIR (repeatable;\n"
          "                         default: Debian's dist-packages directories)\n"
          "      --max-file-size N  refuse files over N bytes (default: 64 MiB)\n"
          "      --name, --version, --imports A,B   tree: the package's name, version, imports\n"
          "  -x, --exclude PATTERN  wheel, sdist: leave out files with a path component\n"
          "                         matching PATTERN (fnmatch; repeatable), e.g. tests\n"
          "      --with PREFIX      sdist: a C library built for wasm (PREFIX/include, lib)\n"
          "                         that the package links (repeatable)\n"
          "      --sha256 HEX       sdist: the one sdist must have this sha256\n"
          "      --stdlib DIR       wheel, dist, tree, sdist: DIR holds a stdlib split (larder-build\n"
          "                         stdlib -o DIR); the stdlib packages that importing the\n"
          "                         package imports at module level become dependencies,\n"
          "                         so the loader fetches them with it, in parallel\n"
          "      --lib DIR          stdlib: CPython's Lib directory\n"
          "      --core FILE        stdlib: the modules of the core bundle\n"
          "      --dynload DIR      stdlib: side modules (*.so) to distribute\n"
          "      --sysconfigdata F  stdlib: the target's _sysconfigdata module\n"
          "  -q, --quiet            print nothing on success\n"
          "  -h, --help             show this help\n", to);
}

/* larder-build needs ARCHIVE...: 0, 1 (said why) or 2 (no archive). */
static int print_needs(const char *const *archives, int n)
{
    if (n < 1) {
        fprintf(stderr, "larder-build needs: give one or more .tar.zst archives\n");
        return 2;
    }
    larder_error err = {0};
    char **needs;
    size_t n_needs;
    if (larder_archives_needs(archives, (size_t)n, &needs, &n_needs, &err) != LARDER_OK) {
        fprintf(stderr, "larder-build: needs: %s\n", err.message);
        return 1;
    }
    for (size_t i = 0; i < n_needs; i++) {
        puts(needs[i]);
        free(needs[i]);
    }
    free(needs);
    return 0;
}

/* Append value to a NULL-terminated list of at most max; 0 (after saying
 * so) when it is full. */
static int push(const char **list, size_t *n, size_t max, const char *value, const char *flag)
{
    if (*n == max) {
        fprintf(stderr, "larder-build: too many %s (at most %zu)\n", flag, max);
        return 0;
    }
    list[(*n)++] = value;
    return 1;
}

/* Cross-compile spec into a wheel in a temporary directory, convert it. */
static larder_code build_sdist(const char *spec, const char *sha256, const char *const *withs,
                               const larder_build_options *opt, larder_build_result *r, larder_error *err)
{
    char tmp[4096], wheel[4096] = "";
    larder_code rc = larder_mkdtemp(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", "larder-build", tmp, sizeof tmp, err);
    if (rc != LARDER_OK)
        return rc;
    if (!opt->quiet)
        printf("%s: cross-compiling\n", spec);
    fflush(stdout);
    rc = larder_cross_wheel(spec, sha256, withs, tmp, wheel, sizeof wheel, err);
    if (rc == LARDER_OK)
        rc = larder_build_wheel(wheel, opt, r, err);
    larder_rm_rf(tmp, NULL); /* a leftover in $TMPDIR does not fail the build */
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"outdir", required_argument, NULL, 'o'}, {"build", required_argument, NULL, 'b'},
        {"extra", required_argument, NULL, 'e'},
        {"depends", required_argument, NULL, 'd'}, {"keep-sources", no_argument, NULL, 'k'},
        {"level", required_argument, NULL, 'l'}, {"python", required_argument, NULL, 'P'},
        {"site", required_argument, NULL, 'S'}, {"max-file-size", required_argument, NULL, 'M'},
        {"lib", required_argument, NULL, 'L'}, {"core", required_argument, NULL, 'C'},
        {"dynload", required_argument, NULL, 'D'}, {"sysconfigdata", required_argument, NULL, 'Y'},
        {"name", required_argument, NULL, 'N'}, {"version", required_argument, NULL, 'V'},
        {"imports", required_argument, NULL, 'I'}, {"stdlib", required_argument, NULL, 'T'},
        {"with", required_argument, NULL, 'W'}, {"exclude", required_argument, NULL, 'x'}, {"sha256", required_argument, NULL, 'H'},
        {"quiet", no_argument, NULL, 'q'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const char *extras[MAX_LIST + 1] = {0}, *sites[MAX_LIST + 1] = {0}, *depends[MAX_LIST + 1] = {0};
    const char *excludes[MAX_LIST + 1] = {0};
    size_t n_extras = 0, n_sites = 0, n_depends = 0, n_excludes = 0;
    larder_build_options opt = {.outdir = ".", .build = "0", .level = 19};
    larder_stdlib_options so = {.version = LARDER_PYTHON_VERSION};
    const char *tree_name = NULL, *tree_version = NULL, *tree_imports = NULL, *sha256 = NULL;
    const char *withs[LARDER_MAX_WITH + 1] = {0};
    size_t n_withs = 0;
    int c;

    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *command = argv[1];
    argv++;
    argc--;
    while ((c = getopt_long(argc, argv, "o:b:e:d:x:kl:qh", longopts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'o': opt.outdir = optarg; break;
        case 'b': opt.build = optarg; break;
        case 'e':
            if (!push(extras, &n_extras, MAX_LIST, optarg, "--extra")) return 2;
            opt.extras = extras;
            break;
        case 'd':
            if (!push(depends, &n_depends, MAX_LIST, optarg, "--depends")) return 2;
            opt.depends = depends;
            break;
        case 'x':
            if (!push(excludes, &n_excludes, MAX_LIST, optarg, "--exclude")) return 2;
            opt.exclude = excludes;
            break;
        case 'k': opt.keep_sources = 1; break;
        case 'l':
            opt.level = (int)strtol(optarg, &end, 10);
            if (*end || opt.level < 1 || opt.level > 22) {
                fprintf(stderr, "larder-build: --level must be 1..22\n");
                return 2;
            }
            break;
        case 'P': opt.python = optarg; break;
        case 'S':
            if (!push(sites, &n_sites, MAX_LIST, optarg, "--site")) return 2;
            opt.site_dirs = sites;
            break;
        case 'M':
            opt.max_file_size = strtoull(optarg, &end, 10);
            if (*end || !opt.max_file_size) {
                fprintf(stderr, "larder-build: --max-file-size must be a positive number of bytes\n");
                return 2;
            }
            break;
        case 'N': tree_name = optarg; break;
        case 'V': tree_version = optarg; break;
        case 'I': tree_imports = optarg; break;
        case 'T': opt.stdlib_dir = optarg; break;
        case 'W':
            if (!push(withs, &n_withs, LARDER_MAX_WITH, optarg, "--with")) return 2;
            break;
        case 'H': sha256 = optarg; break;
        case 'L': so.libdir = optarg; break;
        case 'C': so.core_list = optarg; break;
        case 'D': so.dynload = optarg; break;
        case 'Y': so.sysconfigdata = optarg; break;
        case 'q': opt.quiet = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    int is_wheel = !strcmp(command, "wheel"), is_dist = !strcmp(command, "dist");
    int is_stdlib = !strcmp(command, "stdlib"), is_tree = !strcmp(command, "tree");
    int is_sdist = !strcmp(command, "sdist");
    if (!strcmp(command, "needs"))
        return print_needs((const char *const *)argv + optind, argc - optind);
    if (!is_wheel && !is_dist && !is_stdlib && !is_tree && !is_sdist) {
        fprintf(stderr, "larder-build: unknown command '%s' (wheel, dist, tree, sdist, stdlib, needs)\n", command);
        return 2;
    }
    if ((n_withs || sha256) && !is_sdist) {
        fprintf(stderr, "larder-build %s: --with and --sha256 are sdist's options\n", command);
        return 2;
    }
    if (sha256 && argc - optind != 1) {
        fprintf(stderr, "larder-build sdist: --sha256 pins one sdist; give one\n");
        return 2;
    }
    if (is_tree && (!tree_name || !tree_version || optind != argc - 1)) {
        fprintf(stderr, "larder-build tree: needs --name, --version and one directory\n");
        return 2;
    }
    if (is_stdlib) {
        if (!so.libdir || !so.core_list || optind < argc) {
            fprintf(stderr, "larder-build stdlib: needs --lib DIR and --core FILE, and no other arguments\n");
            return 2;
        }
        larder_error err = {0};
        size_t n = 0;
        if (larder_build_stdlib(&so, &opt, &n, &err) != LARDER_OK) {
            fprintf(stderr, "larder-build: stdlib: %s\n", err.message);
            return 1;
        }
        if (!opt.quiet)
            printf("%zu stdlib packages in %s\n", n, opt.outdir);
        return 0;
    }
    if (optind >= argc) {
        fprintf(stderr, "larder-build %s: nothing to build\n", command);
        return 2;
    }
    struct stat st;
    if (stat(opt.outdir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "larder-build: output directory %s does not exist\n", opt.outdir);
        return 2;
    }
    int failed = 0;
    for (int i = optind; i < argc; i++) {
        larder_error err = {0};
        larder_build_result r;
        larder_code rc = is_sdist  ? build_sdist(argv[i], sha256, withs, &opt, &r, &err)
                         : is_wheel ? larder_build_wheel(argv[i], &opt, &r, &err)
                         : is_tree ? larder_build_tree(argv[i], tree_name, tree_version, tree_imports, &opt, &r, &err)
                                   : larder_build_dist(argv[i], &opt, &r, &err);
        if (rc != LARDER_OK) {
            fprintf(stderr, "larder-build: %s\n", err.message);
            failed = 1;
            continue;
        }
        if (!opt.quiet)
            printf("%s %s: %s (%llu bytes, %zu files, %llu unpacked)\n", r.name, r.version, r.archive_path,
                   (unsigned long long)r.size, r.n_files, (unsigned long long)r.unpacked_size);
    }
    return failed;
}
