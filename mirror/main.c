/*
 * main.c - the larder-mirror command: argument parsing over mirror.h.
 *
 * Exit status: 0 success, 1 failure (the message says why; nothing changed
 * unless it says so), 2 bad usage, 3 verify found problems.
 */
#define _GNU_SOURCE
#include "mirror.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const HELP[][2] = {
    {"init", "larder-mirror init DIR\n  Create a repository in DIR: store, catalog, signing key, config.\n"},
    {"publish", "larder-mirror publish [--repo DIR] ARCHIVE.tar.zst...\n"
                "  Add archives (each with the NAME-VERSION-BUILD.json larder-build wrote beside it)\n"
                "  to the catalog, all or none. Clients see them after `sign`.\n"},
    {"sign", "larder-mirror sign [--repo DIR]\n"
             "  Write the signed public tree: index.json (serial + 1), index.json.sig, .gz/.zst\n"
             "  copies, the archives. Refuses an index whose dependencies are incomplete.\n"},
    {"serve", "larder-mirror serve [--repo DIR] [--listen IP:PORT] [--runtime DIR] [--site DIR]\n"
              "                    [--access-log FILE|-] [--max-connections N] [--timeout S]\n"
              "  Serve the public tree at /, the runtime at /runtime/, a site (the playground) at /.\n"},
    {"sync", "larder-mirror sync [--repo DIR] UPSTREAM_URL --key UPSTREAM_PUBKEY [--token T] [--parallel N]\n"
             "  Copy an upstream mirror's packages (verified against its signed index), resuming\n"
             "  partial downloads, then re-sign with this repository's key.\n"
             "larder-mirror sync [--repo DIR] --from-lockfile pyodide-lock.json --base-url URL\n"
             "  Convert the pure-Python wheels of a Pyodide-style distribution, publish and sign.\n"},
    {"export", "larder-mirror export [--repo DIR] DEST\n"
               "  Copy the public tree to DEST, for nginx, a CDN or an object store.\n"},
    {"verify", "larder-mirror verify [--repo DIR]\n"
               "  Check that store, catalog and public tree agree and every hash is right (exit 3 if not).\n"},
    {"gc", "larder-mirror gc [--repo DIR]\n  Remove unreferenced store files, old public trees, leftovers of crashes.\n"},
    {"keys", "larder-mirror keys [--repo DIR] --public | --rotate\n"
             "  --public: print the public key (for larder-python --key and larder.js).\n"
             "  --rotate: a new signing key from now on; run `sign` next.\n"},
};

static void usage(FILE *to, const char *command)
{
    for (size_t i = 0; i < sizeof HELP / sizeof *HELP; i++)
        if (!command || !strcmp(command, HELP[i][0]))
            fputs(HELP[i][1], to);
    if (!command)
        fputs("\nEvery command but init works on the repository in the current directory, or --repo DIR.\n", to);
}

static int fail(const larder_error *err)
{
    fprintf(stderr, "larder-mirror: %s\n", err->message);
    return 1;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"repo", required_argument, NULL, 'r'}, {"listen", required_argument, NULL, 'l'},
        {"runtime", required_argument, NULL, 'R'}, {"site", required_argument, NULL, 'S'},
        {"access-log", required_argument, NULL, 'a'}, {"max-connections", required_argument, NULL, 'm'},
        {"timeout", required_argument, NULL, 't'}, {"public", no_argument, NULL, 'p'},
        {"rotate", no_argument, NULL, 'o'}, {"key", required_argument, NULL, 'k'},
        {"token", required_argument, NULL, 'T'}, {"parallel", required_argument, NULL, 'P'},
        {"quiet", no_argument, NULL, 'q'}, {"from-lockfile", required_argument, NULL, 'F'},
        {"base-url", required_argument, NULL, 'B'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const char *repo_dir = ".";
    /* --repo DIR may also come before the command */
    while (argc > 2 && !strcmp(argv[1], "--repo")) {
        repo_dir = argv[2];
        argv += 2;
        argc -= 2;
    }
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout, NULL);
        return argc < 2 ? 2 : 0;
    }
    const char *command = argv[1];
    larder_serve_options so = {0};
    larder_sync_options sync = {0};
    int want_public = 0, want_rotate = 0, c;
    const char *lockfile = NULL, *lock_base = NULL;
    argv++;
    argc--;
    while ((c = getopt_long(argc, argv, "r:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'r': repo_dir = optarg; break;
        case 'l': so.listen = optarg; break;
        case 'R': so.runtime_dir = optarg; break;
        case 'S': so.site_dir = optarg; break;
        case 'a': so.access_log = optarg; break;
        case 'm': so.max_connections = (unsigned)strtoul(optarg, NULL, 10); break;
        case 't': so.timeout_s = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'p': want_public = 1; break;
        case 'o': want_rotate = 1; break;
        case 'k': sync.upstream_key = optarg; break;
        case 'T': sync.token = optarg; break;
        case 'P': sync.parallel = (int)strtol(optarg, NULL, 10); break;
        case 'q': sync.quiet = 1; break;
        case 'F': lockfile = optarg; break;
        case 'B': lock_base = optarg; break;
        case 'h': usage(stdout, command); return 0;
        default: usage(stderr, command); return 2;
        }
    }
    int known = 0;
    for (size_t i = 0; i < sizeof HELP / sizeof *HELP; i++)
        known |= !strcmp(command, HELP[i][0]);
    if (!known) {
        fprintf(stderr, "larder-mirror: unknown command '%s'\n", command);
        usage(stderr, NULL);
        return 2;
    }
    larder_error err = {0};
    if (!strcmp(command, "init")) {
        if (optind != argc - 1) {
            usage(stderr, command);
            return 2;
        }
        if (larder_repo_init(argv[optind], &err) != LARDER_OK)
            return fail(&err);
        printf("larder-mirror: repository created in %s\n", argv[optind]);
        return 0;
    }
    int from_lock = !strcmp(command, "sync") && lockfile;
    int need_args = !strcmp(command, "publish") || !strcmp(command, "export") || (!strcmp(command, "sync") && !from_lock);
    if ((need_args && optind >= argc) || (!need_args && optind < argc)
        || ((!strcmp(command, "export") || (!strcmp(command, "sync") && !from_lock)) && optind != argc - 1)
        || (!strcmp(command, "sync") && !from_lock && !sync.upstream_key) || (from_lock && !lock_base)
        || (!strcmp(command, "keys") && want_public == want_rotate)) {
        usage(stderr, command);
        return 2;
    }
    larder_repo *repo = larder_repo_open(repo_dir, &err);
    if (!repo)
        return fail(&err);
    int status = 0;
    if (!strcmp(command, "publish")) {
        if (larder_repo_publish(repo, (const char *const *)argv + optind, argc - optind, &err) != LARDER_OK)
            status = fail(&err);
        else
            printf("larder-mirror: published %d package(s); run `larder-mirror sign` to make them public\n",
                   argc - optind);
    } else if (!strcmp(command, "sign")) {
        uint64_t serial;
        if (larder_repo_sign(repo, &serial, &err) != LARDER_OK)
            status = fail(&err);
        else
            printf("larder-mirror: signed index serial %llu\n", (unsigned long long)serial);
    } else if (!strcmp(command, "serve")) {
        if (larder_repo_serve(repo, &so, &err) != LARDER_OK)
            status = fail(&err);
    } else if (from_lock) {
        size_t converted, skipped;
        uint64_t serial;
        if (larder_repo_sync_lockfile(repo, lockfile, lock_base, sync.quiet, &converted, &skipped, &err) != LARDER_OK
            || larder_repo_sign(repo, &serial, &err) != LARDER_OK)
            status = fail(&err);
        else
            printf("larder-mirror: sync: %zu pure-Python wheel(s) converted, %zu left out; signed serial %llu\n",
                   converted, skipped, (unsigned long long)serial);
    } else if (!strcmp(command, "sync")) {
        larder_sync_result r;
        sync.upstream = argv[optind];
        if (larder_repo_sync(repo, &sync, &r, &err) != LARDER_OK)
            status = fail(&err);
        else if (r.changed)
            printf("larder-mirror: sync: %zu package(s) new or updated, %zu downloaded (%zu resumed), "
                   "%.1f MB; signed serial %llu\n", r.changed, r.downloaded, r.resumed, (double)r.bytes / 1e6,
                   (unsigned long long)r.serial);
        else
            printf("larder-mirror: sync: up to date (%llu bytes transferred)\n", (unsigned long long)r.bytes);
    } else if (!strcmp(command, "export")) {
        if (larder_repo_export(repo, argv[optind], &err) != LARDER_OK)
            status = fail(&err);
    } else if (!strcmp(command, "verify")) {
        int problems;
        if (larder_repo_verify(repo, &problems, &err) != LARDER_OK)
            status = fail(&err);
        else if (problems) {
            fprintf(stderr, "larder-mirror: verify found %d problem(s)\n", problems);
            status = 3;
        } else
            printf("larder-mirror: verify: store, catalog and public tree agree\n");
    } else if (!strcmp(command, "gc")) {
        int removed;
        if (larder_repo_gc(repo, &removed, &err) != LARDER_OK)
            status = fail(&err);
        else
            printf("larder-mirror: gc removed %d file(s) or tree(s)\n", removed);
    } else if (!strcmp(command, "keys")) {
        larder_pubkey pub;
        char text[LARDER_PUBKEY_TEXT];
        if (want_rotate && larder_repo_rotate_key(repo, &err) != LARDER_OK)
            status = fail(&err);
        else if (larder_repo_public_key(repo, &pub, &err) != LARDER_OK)
            status = fail(&err);
        else {
            larder_pubkey_format(&pub, text);
            printf("%s\n", text);
        }
    }
    larder_repo_close(repo);
    return status;
}
