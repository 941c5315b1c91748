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
    {"init", "larder-mirror init DIR [--runtime DIR | --no-runtime]\n"
             "  Create a repository in DIR: store, catalog, signing key, config, and the runtime's stdlib\n"
             "  (the runtime beside this program unless --runtime DIR), so the index works from its first sign.\n"},
    {"add", "larder-mirror add [--repo DIR] REQUIREMENT... [-r requirements.txt] [--index-url URL]\n"
            "                  [--extra-index-url URL] [--no-deps] [--no-build] [--dry-run] [--sign]\n"
            "  Resolve projects and their dependencies on PyPI (or any PEP 691/503 simple index) for the\n"
            "  runtime (emscripten, wasm32, CPython 3.11.2), download pure-Python wheels, else sdists (pure\n"
            "  ones are built into wheels; ones with extension modules are cross-compiled for wasm, as\n"
            "  larder-build sdist does, unless --no-build), convert and publish them all or none.\n"
            "  --dry-run prints the resolution only. Downloads are kept in ~/.cache/larder/pypi.\n"},
    {"remove", "larder-mirror remove [--repo DIR] NAME... [--cascade]\n"
               "  Take packages out of the catalog; refused while another package needs one, unless\n"
               "  --cascade, which removes those too (and lists them). Clients see it after `sign`.\n"},
    {"list", "larder-mirror list [--repo DIR]\n  Name, version, size and dependents of every package.\n"},
    {"tokens", "larder-mirror tokens [--repo DIR] add [--name LABEL] | list | revoke LABEL\n"
               "  Bearer tokens of a private mirror: add prints a new token once (only its sha256 is kept);\n"
               "  clients send it (larder-python --token, larder.js {token}); serve requires one when any exists.\n"},
    {"runtime", "larder-mirror runtime [--repo DIR] [--runtime DIR]\n"
                "  Record the runtime this repository serves and publish its stdlib split (init does this).\n"},
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
             "                   [--keep-local]\n"
             "  Make this repository the upstream mirror's set (verified against its signed index):\n"
             "  new and changed packages copied (partial downloads resumed), packages the upstream no\n"
             "  longer has removed (--keep-local: only those that came from it), then re-sign with\n"
             "  this repository's key.\n"
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
        {"repo", required_argument, NULL, 256}, {"listen", required_argument, NULL, 'l'},
        {"runtime", required_argument, NULL, 'R'}, {"site", required_argument, NULL, 'S'},
        {"access-log", required_argument, NULL, 'a'}, {"max-connections", required_argument, NULL, 'm'},
        {"timeout", required_argument, NULL, 't'}, {"public", no_argument, NULL, 'p'},
        {"rotate", no_argument, NULL, 'o'}, {"key", required_argument, NULL, 'k'},
        {"token", required_argument, NULL, 'T'}, {"parallel", required_argument, NULL, 'P'},
        {"keep-local", no_argument, NULL, 'K'},
        {"quiet", no_argument, NULL, 'q'}, {"from-lockfile", required_argument, NULL, 'F'},
        {"base-url", required_argument, NULL, 'B'}, {"help", no_argument, NULL, 'h'},
        {"requirement", required_argument, NULL, 'f'}, {"index-url", required_argument, NULL, 'i'},
        {"extra-index-url", required_argument, NULL, 'e'}, {"no-deps", no_argument, NULL, 'N'},
        {"no-build", no_argument, NULL, 'X'},
        {"dry-run", no_argument, NULL, 'D'}, {"sign", no_argument, NULL, 's'}, {"cascade", no_argument, NULL, 'c'},
        {"name", required_argument, NULL, 'n'}, {"no-runtime", no_argument, NULL, 'x'}, {NULL, 0, NULL, 0}};
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
    int want_public = 0, want_rotate = 0, cascade = 0, no_runtime = 0, c;
    const char *lockfile = NULL, *lock_base = NULL, *label = NULL;
    larder_add_options add = {0};
    static const char *req_files[32], *extra_urls[32];
    add.requirement_files = req_files;
    add.extra_index_urls = extra_urls;
    argv++;
    argc--;
    /* add's -r is a requirements file; everywhere else --repo */
    const char *shortopts = !strcmp(command, "add") ? "f:r:h" : "r:h";
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        if (c == 'r' && !strcmp(command, "add"))
            c = 'f';
        switch (c) {
        case 256:
        case 'r': repo_dir = optarg; break;
        case 'f':
        case 'e':
            if ((c == 'f' ? add.n_requirement_files : add.n_extra_index_urls) == 32) {
                fprintf(stderr, "larder-mirror: at most 32 of -r and of --extra-index-url\n");
                return 2;
            }
            if (c == 'f')
                req_files[add.n_requirement_files++] = optarg;
            else
                extra_urls[add.n_extra_index_urls++] = optarg;
            break;
        case 'i': add.index_url = optarg; break;
        case 'N': add.no_deps = 1; break;
        case 'X': add.no_build = 1; break;
        case 'D': add.dry_run = 1; break;
        case 's': add.sign = 1; break;
        case 'c': cascade = 1; break;
        case 'n': label = optarg; break;
        case 'x': no_runtime = 1; break;
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
        case 'K': sync.keep_local = 1; break;
        case 'q': sync.quiet = add.quiet = 1; break;
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
        if (larder_repo_init(argv[optind], no_runtime ? "" : so.runtime_dir, &err) != LARDER_OK)
            return fail(&err);
        printf("larder-mirror: repository created in %s\n", argv[optind]);
        return 0;
    }
    int from_lock = !strcmp(command, "sync") && lockfile;
    int is_add = !strcmp(command, "add"), is_tokens = !strcmp(command, "tokens");
    const char *sub = is_tokens && optind < argc ? argv[optind] : "";
    /* arguments after the options: at least one, exactly one, or none */
    int need_args = !strcmp(command, "publish") || !strcmp(command, "remove") || (is_add && !add.n_requirement_files);
    int one_arg = !strcmp(command, "export") || (!strcmp(command, "sync") && !from_lock);
    int any_args = need_args || is_add || is_tokens;
    if ((need_args && optind >= argc) || (one_arg && optind != argc - 1) || (!one_arg && !any_args && optind < argc)
        || (!strcmp(command, "sync") && !from_lock && !sync.upstream_key) || (from_lock && !lock_base)
        || (!strcmp(command, "keys") && want_public == want_rotate)
        || (is_tokens && (strcmp(sub, "add") && strcmp(sub, "list") && strcmp(sub, "revoke")))
        || (is_tokens && optind + (strcmp(sub, "revoke") ? 1 : 2) != argc)) {
        usage(stderr, command);
        return 2;
    }
    larder_repo *repo = larder_repo_open(repo_dir, &err);
    if (!repo)
        return fail(&err);
    /* the commands that change the repository, one at a time */
    int writes = !strcmp(command, "publish") || !strcmp(command, "sign") || !strcmp(command, "sync")
                 || (is_add && !add.dry_run) || !strcmp(command, "remove") || !strcmp(command, "gc")
                 || !strcmp(command, "runtime") || (is_tokens && strcmp(sub, "list"))
                 || (!strcmp(command, "keys") && want_rotate);
    if (writes && larder_repo_lock(repo, command, &err) != LARDER_OK) {
        larder_repo_close(repo);
        return fail(&err);
    }
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
        else if (r.changed || r.removed)
            printf("larder-mirror: sync: %zu package(s) new or updated, %zu removed, %zu downloaded (%zu resumed), "
                   "%.1f MB; signed serial %llu\n", r.changed, r.removed, r.downloaded, r.resumed,
                   (double)r.bytes / 1e6, (unsigned long long)r.serial);
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
    } else if (is_add) {
        larder_add_result r;
        add.requirements = (const char *const *)argv + optind;
        add.n_requirements = (size_t)(argc - optind);
        if (larder_repo_add(repo, &add, &r, &err) != LARDER_OK)
            status = fail(&err);
        else if (!add.dry_run) {
            printf("larder-mirror: add: %zu package(s) published, %zu already there", r.added, r.unchanged);
            if (add.sign)
                printf("; signed index serial %llu\n", (unsigned long long)r.serial);
            else
                printf("; run `larder-mirror sign` to make them public\n");
        }
    } else if (!strcmp(command, "remove")) {
        if (larder_repo_remove(repo, (const char *const *)argv + optind, (size_t)(argc - optind), cascade, &err)
            != LARDER_OK)
            status = fail(&err);
        else
            printf("larder-mirror: run `larder-mirror sign` to publish the change\n");
    } else if (is_tokens && !strcmp(sub, "add")) {
        char token[65], name[80];
        if (larder_repo_token_add(repo, label, token, name, sizeof name, &err) != LARDER_OK)
            status = fail(&err);
        else {
            printf("%s\n", token);
            fprintf(stderr, "larder-mirror: token '%s' added; it is shown only now (the repository keeps its "
                            "sha256). Clients: larder-python --token TOKEN, larder.js {token}; restart serve.\n", name);
        }
    } else if (is_tokens && !strcmp(sub, "list")) {
        if (larder_repo_token_list(repo, &err) != LARDER_OK)
            status = fail(&err);
    } else if (is_tokens) {
        if (larder_repo_token_revoke(repo, argv[optind + 1], &err) != LARDER_OK)
            status = fail(&err);
        else
            printf("larder-mirror: token '%s' revoked; restart serve\n", argv[optind + 1]);
    } else if (!strcmp(command, "list")) {
        if (larder_repo_list(repo, &err) != LARDER_OK)
            status = fail(&err);
    } else if (!strcmp(command, "runtime")) {
        size_t n;
        if (larder_repo_set_runtime(repo, so.runtime_dir, &n, &err) != LARDER_OK)
            status = fail(&err);
        else
            printf("larder-mirror: published the runtime's stdlib: %zu package(s); run `larder-mirror sign`\n", n);
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
