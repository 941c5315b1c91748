/*
 * serve.c - the mirror over HTTP, with libmicrohttpd.
 *
 * Serves the signed public tree at / (index.json, its signature, the
 * archives), the runtime under /runtime/ and a site (the playground) at /.
 * GET and HEAD; ETag/If-None-Match; single byte ranges; immutable caching
 * for archives, no-cache for everything else; precompressed siblings
 * (FILE.zst, .br, .gz: the index's, written when signing, or the
 * runtime's) by Accept-Encoding; CORS, COOP/COEP/CORP so pages can be
 * cross-origin isolated; bearer tokens for a private mirror; bounded
 * connections, request memory and idle time; an access log; a clean stop on
 * SIGINT/SIGTERM. /larder-bundle?files=A,B,... sends several archives in one
 * response (serve_bundle).
 */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct server {
    larder_repo *repo;
    const larder_serve_options *opt;
    char public_dir[4096];
    FILE *log;
    pthread_mutex_t log_lock;
    char (*tokens)[65];  /* hex sha256 of each accepted token */
    size_t n_tokens;
} server;

static const char *content_type(const char *path)
{
    static const struct { const char *ext, *type; } types[] = {
        {".json", "application/json"}, {".sig", "text/plain; charset=utf-8"},
        {".tar.zst", "application/zstd"}, {".zst", "application/zstd"}, {".gz", "application/gzip"},
        {".wasm", "application/wasm"}, {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"}, {".html", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"}, {".png", "image/png"}, {".svg", "image/svg+xml"},
        {".zip", "application/zip"}, {".txt", "text/plain; charset=utf-8"}, {".so", "application/wasm"},
    };
    size_t n = strlen(path);
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        size_t m = strlen(types[i].ext);
        if (n >= m && strcmp(path + n - m, types[i].ext) == 0)
            return types[i].type;
    }
    return "application/octet-stream";
}

static void common_headers(struct MHD_Response *r)
{
    MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
    MHD_add_response_header(r, "Access-Control-Allow-Headers", "Authorization, Range, If-None-Match");
    MHD_add_response_header(r, "Access-Control-Expose-Headers", "Content-Length, Content-Range, ETag, Content-Encoding");
    MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(r, "Cross-Origin-Embedder-Policy", "require-corp");
    MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "cross-origin");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
}

/* text for one log line: control bytes, quotes and backslashes as \xHH,
 * so that a URL (decoded by the server: %0A is a newline) cannot forge a
 * line or a field */
static void log_safe(const char *in, char *out, size_t size)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 5 < size; p++) {
        if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
            o += (size_t)snprintf(out + o, size - o, "\\x%02x", *p);
        else
            out[o++] = (char)*p;
    }
    out[o] = '\0';
}

static void access_log(server *s, struct MHD_Connection *c, const char *method_raw, const char *url_raw,
                       int status, uint64_t bytes)
{
    if (!s->log)
        return;
    char url[4 * 2048 + 8], method[64];
    log_safe(url_raw, url, sizeof url);
    log_safe(method_raw, method, sizeof method);
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char ip[64] = "-", when[64];
    if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, ip, sizeof ip);
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S +0000", &tm);
    pthread_mutex_lock(&s->log_lock);
    fprintf(s->log, "%s - - [%s] \"%s %s\" %d %llu\n", ip, when, method, url, status, (unsigned long long)bytes);
    fflush(s->log);
    pthread_mutex_unlock(&s->log_lock);
}

static enum MHD_Result reply(server *s, struct MHD_Connection *c, const char *method, const char *url, int status,
                             const char *body, const char *extra_name, const char *extra_value)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    common_headers(r);
    MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    if (extra_name)
        MHD_add_response_header(r, extra_name, extra_value);
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    access_log(s, c, method, url, status, strlen(body));
    return ok;
}

/* A relative path whose segments are all plain names. */
static int safe_relative(const char *p)
{
    if (!*p)
        return 1;
    if (strchr(p, '\\') || strstr(p, "//"))
        return 0;
    for (const char *seg = p; *seg;) {
        size_t n = strcspn(seg, "/");
        if (n == 0 || seg[0] == '.')
            return 0;  /* "..", ".", and hidden files */
        seg += n;
        if (*seg == '/')
            seg++;
    }
    return 1;
}

/* The request carries one of the accepted tokens. */
static int authorised(server *s, struct MHD_Connection *c)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || strncmp(h, "Bearer ", 7) != 0)
        return 0;
    unsigned char digest[32];
    char hex[65];
    crypto_hash_sha256(digest, (const unsigned char *)h + 7, strlen(h + 7));
    sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
    int ok = 0;
    for (size_t i = 0; i < s->n_tokens; i++)
        ok |= sodium_memcmp(hex, s->tokens[i], 64) == 0;
    return ok;
}

/* "bytes=a-b", "bytes=a-", "bytes=-n"; 1 when parsed and satisfiable. */
static int parse_range(const char *h, uint64_t size, uint64_t *start, uint64_t *len)
{
    unsigned long long a = 0, b = 0;
    if (strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
        return 0;
    h += 6;
    char *end;
    if (*h == '-') {
        b = strtoull(h + 1, &end, 10);
        if (*end || b == 0 || size == 0)
            return 0;
        if (b > size)
            b = size;
        *start = size - b;
        *len = b;
        return 1;
    }
    a = strtoull(h, &end, 10);
    if (*end != '-' || a >= size)
        return 0;
    if (end[1]) {
        b = strtoull(end + 1, &end, 10);
        if (*end || b < a)
            return 0;
        if (b >= size)
            b = size - 1;
    } else {
        b = size - 1;
    }
    *start = a;
    *len = b - a + 1;
    return 1;
}

/* A precompressed sibling of path (PATH.zst, .br or .gz, in that order of
 * preference) that the client accepts and that is not older than path;
 * its encoding name, or NULL. (Archives are zstd already and never have
 * one.) Like nginx's gzip_static: the sign step writes the index's, and a
 * host may precompress the runtime and the site. */
static const char *pick_encoding(struct MHD_Connection *c, const char *path, char *chosen, size_t size)
{
    static const char *const encodings[][2] = {{"zstd", ".zst"}, {"br", ".br"}, {"gzip", ".gz"}};
    const char *ae = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    struct stat orig, alt;
    if (!ae || stat(path, &orig) != 0)
        return NULL;
    for (size_t i = 0; i < sizeof encodings / sizeof encodings[0]; i++) {
        char name[4400];
        snprintf(name, sizeof name, "%s%s", path, encodings[i][1]);
        if (strstr(ae, encodings[i][0]) && stat(name, &alt) == 0 && S_ISREG(alt.st_mode) &&
            alt.st_mtime >= orig.st_mtime) {
            snprintf(chosen, size, "%s", name);
            return encodings[i][0];
        }
    }
    return NULL;
}

static enum MHD_Result serve_file(server *s, struct MHD_Connection *c, const char *method, const char *url,
                                  const char *path, int immutable)
{
    char chosen[4400];
    snprintf(chosen, sizeof chosen, "%s", path);
    const char *encoding = immutable ? NULL : pick_encoding(c, path, chosen, sizeof chosen);
    int fd = open(chosen, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return reply(s, c, method, url, 404, "not found\n", NULL, NULL);
    }
    char etag[96];
    snprintf(etag, sizeof etag, "\"%llx-%llx-%llx%s\"", (unsigned long long)st.st_ino,
             (unsigned long long)st.st_size, (unsigned long long)st.st_mtime, encoding ? encoding : "");
    const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    int not_modified = inm && (strstr(inm, etag) || strcmp(inm, "*") == 0);
    uint64_t size = (uint64_t)st.st_size, start = 0, len = size;
    int status = 200;
    const char *range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE);
    char content_range[96] = "";
    if (!not_modified && range && !encoding) {
        if (parse_range(range, size, &start, &len)) {
            status = 206;
            snprintf(content_range, sizeof content_range, "bytes %llu-%llu/%llu", (unsigned long long)start,
                     (unsigned long long)(start + len - 1), (unsigned long long)size);
        } else {
            close(fd);
            char unsat[64];
            snprintf(unsat, sizeof unsat, "bytes */%llu", (unsigned long long)size);
            return reply(s, c, method, url, 416, "range not satisfiable\n", "Content-Range", unsat);
        }
    }
    struct MHD_Response *r;
    if (not_modified) {
        close(fd);
        r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        status = 304;
    } else {  /* for HEAD, libmicrohttpd sends the headers of this response without its body */
        r = MHD_create_response_from_fd_at_offset64(len, fd, (uint64_t)start);
    }
    if (!r)
        return MHD_NO;
    common_headers(r);
    MHD_add_response_header(r, "ETag", etag);
    MHD_add_response_header(r, "Content-Type", content_type(path));
    MHD_add_response_header(r, "Accept-Ranges", "bytes");
    MHD_add_response_header(r, "Cache-Control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
    if (!immutable)
        MHD_add_response_header(r, "Vary", "Accept-Encoding");
    if (encoding)
        MHD_add_response_header(r, "Content-Encoding", encoding);
    if (content_range[0])
        MHD_add_response_header(r, "Content-Range", content_range);
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    access_log(s, c, method, url, status, (not_modified || !strcmp(method, "HEAD")) ? 0 : len);
    return ok;
}

/* GET /larder-bundle?files=A.tar.zst,B.tar.zst,...: those archives of the
 * signed tree, one after another in one response, so that a loader that
 * needs many small archives at once makes one request instead of one each
 * (it splits them by the sizes its signed index declares and checks each
 * digest as usual). Names are plain archive names, at most BUNDLE_MAX; any
 * that is not an archive here makes the whole request a 404. */
#define BUNDLE_MAX 512

typedef struct bundle {
    int fds[BUNDLE_MAX];
    uint64_t sizes[BUNDLE_MAX];
    size_t n;
} bundle;

static ssize_t bundle_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    bundle *b = cls;
    uint64_t at = 0;
    for (size_t i = 0; i < b->n; i++) {
        if (pos < at + b->sizes[i]) {
            uint64_t left = at + b->sizes[i] - pos;
            ssize_t got = pread(b->fds[i], buf, max < left ? max : (size_t)left, (off_t)(pos - at));
            return got > 0 ? got : MHD_CONTENT_READER_END_WITH_ERROR;  /* a file shrank under us */
        }
        at += b->sizes[i];
    }
    return MHD_CONTENT_READER_END_OF_STREAM;
}

static void bundle_free(void *cls)
{
    bundle *b = cls;
    for (size_t i = 0; i < b->n; i++)
        close(b->fds[i]);
    free(b);
}

static enum MHD_Result serve_bundle(server *s, struct MHD_Connection *c, const char *method, const char *url)
{
    const char *files = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "files");
    if (!files || !*files)
        return reply(s, c, method, url, 400, "give the archives: ?files=A.tar.zst,B.tar.zst\n", NULL, NULL);
    bundle *b = calloc(1, sizeof *b);
    if (!b)
        return MHD_NO;
    uint64_t total = 0;
    int status = 0;
    for (const char *p = files; *p && !status;) {
        size_t n = strcspn(p, ",");
        char name[256], path[4400];
        struct stat st;
        if (b->n == BUNDLE_MAX) {
            status = 400;
            break;
        }
        if (n == 0 || n >= sizeof name)
            status = 404;
        else {
            memcpy(name, p, n);
            name[n] = '\0';
            snprintf(path, sizeof path, "%s/%s", s->public_dir, name);
            int fd = -1;
            if (!larder_ends_with_zst(name) || strchr(name, '/') || !safe_relative(name)
                || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
                if (fd >= 0)
                    close(fd);
                status = 404;
            } else {
                b->fds[b->n] = fd;
                b->sizes[b->n++] = (uint64_t)st.st_size;
                total += (uint64_t)st.st_size;
            }
        }
        p += n;
        if (*p == ',')
            p++;
    }
    if (status) {
        bundle_free(b);
        return reply(s, c, method, url, status, status == 400 ? "at most 512 archives in a bundle\n"
                     : "not found (a bundle names archives of this mirror: NAME.tar.zst)\n", NULL, NULL);
    }
    struct MHD_Response *r = MHD_create_response_from_callback(total, 64 * 1024, bundle_read, b, bundle_free);
    if (!r) {
        bundle_free(b);
        return MHD_NO;
    }
    common_headers(r);
    MHD_add_response_header(r, "Content-Type", "application/octet-stream");
    /* the archives' names carry their version and build: what they name never changes */
    MHD_add_response_header(r, "Cache-Control", "public, max-age=31536000, immutable");
    enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    char logged[2048];  /* with the archives it sent (cut at the log's limit) */
    snprintf(logged, sizeof logged, "%s?files=%s", url, files);
    access_log(s, c, method, logged, 200, strcmp(method, "HEAD") ? total : 0);
    return ok;
}

/* A private mirror's tokens guard its packages (the index, its signature
 * and copies, the archives) and answer 401 for anything else too, found or
 * not, so that a 401 tells nothing. The runtime and the site are the same
 * public software for every mirror, and a page cannot send a token for its
 * own scripts. The signed tree's names come before the site's. */
static int needs_token(server *s, const char *rel)
{
    char path[4400];
    if (!strncmp(rel, "runtime/", 8))
        return 0;
    if (*rel && !strchr(rel, '/')) {
        snprintf(path, sizeof path, "%s/%s", s->public_dir, rel);
        if (access(path, F_OK) == 0)
            return 1;
    }
    if (!s->opt->site_dir)
        return 1;
    snprintf(path, sizeof path, "%s/%s", s->opt->site_dir, *rel ? rel : "index.html");
    return access(path, F_OK) != 0;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_size, void **state)
{
    (void)version;
    (void)upload_data;
    server *s = cls;
    if (!*state) {  /* first call: headers only */
        *state = s;
        return MHD_YES;
    }
    if (*upload_size)
        return reply(s, c, method, url, 413, "request bodies are not accepted\n", NULL, NULL);
    if (!strcmp(method, "OPTIONS"))
        return reply(s, c, method, url, 204, "", "Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
    if (strcmp(method, "GET") && strcmp(method, "HEAD"))
        return reply(s, c, method, url, 405, "only GET and HEAD\n", "Allow", "GET, HEAD, OPTIONS");
    if (url[0] != '/' || !safe_relative(url + 1))
        return reply(s, c, method, url, 404, "not found\n", NULL, NULL);
    const char *rel = url + 1;
    char path[4400];
    int is_bundle = !strcmp(rel, "larder-bundle");
    if (s->n_tokens && (is_bundle || needs_token(s, rel)) && !authorised(s, c))
        return reply(s, c, method, url, 401, "authentication required\n", "WWW-Authenticate",
                     "Bearer realm=\"larder\"");
    if (is_bundle)
        return serve_bundle(s, c, method, url);
    /* the runtime */
    if (!strncmp(rel, "runtime/", 8)) {
        if (!s->opt->runtime_dir || !rel[8])
            return reply(s, c, method, url, 404, "not found\n", NULL, NULL);
        snprintf(path, sizeof path, "%s/%s", s->opt->runtime_dir, rel + 8);
        return serve_file(s, c, method, url, path, 0);
    }
    /* the signed tree: single-segment names */
    if (*rel && !strchr(rel, '/')) {
        snprintf(path, sizeof path, "%s/%s", s->public_dir, rel);
        if (access(path, F_OK) == 0)
            return serve_file(s, c, method, url, path, larder_ends_with_zst(rel));
    }
    /* the site */
    if (s->opt->site_dir) {
        snprintf(path, sizeof path, "%s/%s", s->opt->site_dir, *rel ? rel : "index.html");
        return serve_file(s, c, method, url, path, 0);
    }
    return reply(s, c, method, url, 404, "not found\n", NULL, NULL);
}

int larder_ends_with_zst(const char *name)
{
    size_t n = strlen(name);
    return n > 8 && strcmp(name + n - 8, ".tar.zst") == 0;
}

static int is_hex64(const char *p, size_t n)
{
    if (n != 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f') || (p[i] >= 'A' && p[i] <= 'F')))
            return 0;
    return 1;
}

static larder_code add_token(server *s, const char *hex, size_t *cap, larder_error *err)
{
    if (s->n_tokens == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        char (*more)[65] = realloc(s->tokens, *cap * sizeof *more);
        if (!more)
            return larder_fail(err, LARDER_ENOMEM, "out of memory");
        s->tokens = more;
    }
    for (size_t i = 0; i < 64; i++)
        s->tokens[s->n_tokens][i] = (char)(hex[i] >= 'A' && hex[i] <= 'F' ? hex[i] - 'A' + 'a' : hex[i]);
    s->tokens[s->n_tokens++][64] = '\0';
    return LARDER_OK;
}

/* The accepted tokens: `tokens add`'s and the config's token_sha256
 * entries. An entry that is not 64 hex digits stops serve: skipping it
 * could leave a private mirror open to everyone. */
static larder_code load_tokens(server *s, larder_error *err)
{
    size_t cap = 0;
    larder_code rc = LARDER_OK;
    const char *list = larder_repo_config(s->repo, "token_sha256", NULL);
    while (rc == LARDER_OK && list && *list) {
        list += strspn(list, " \t,");
        size_t n = strcspn(list, " \t,");
        if (!n)
            break;
        if (!is_hex64(list, n))
            return larder_fail(err, LARDER_EINVAL, "larder-mirror.conf: token_sha256 entry '%.*s' is not a sha256 "
                               "in hex (64 digits); not serving a private mirror with a token list it cannot read. "
                               "Write `printf %%s TOKEN | sha256sum` of each token, or use `larder-mirror tokens add`",
                               (int)(n > 80 ? 80 : n), list);
        rc = add_token(s, list, &cap, err);
        list += n;
    }
    sqlite3_stmt *st;
    if (rc == LARDER_OK && sqlite3_prepare_v2(s->repo->db, "SELECT label, sha256 FROM tokens", -1, &st, NULL) != SQLITE_OK) {
        /* a repository from before `tokens` has no table: no tokens; anything else stops serve */
        if (!strstr(sqlite3_errmsg(s->repo->db), "no such table"))
            rc = larder_fail(err, LARDER_EIO, "catalog: cannot read the tokens: %s", sqlite3_errmsg(s->repo->db));
    } else if (rc == LARDER_OK) {
        while (rc == LARDER_OK && sqlite3_step(st) == SQLITE_ROW) {
            const char *hex = (const char *)sqlite3_column_text(st, 1);
            if (!hex || !is_hex64(hex, strlen(hex)))
                rc = larder_fail(err, LARDER_EINVAL, "catalog: token '%s' is damaged; revoke it with `larder-mirror "
                                 "tokens revoke %s`", sqlite3_column_text(st, 0), sqlite3_column_text(st, 0));
            else
                rc = add_token(s, hex, &cap, err);
        }
        sqlite3_finalize(st);
    }
    return rc;
}

larder_code larder_repo_serve(larder_repo *repo, const larder_serve_options *opt, larder_error *err)
{
    server s = {.repo = repo, .opt = opt};
    pthread_mutex_init(&s.log_lock, NULL);
    larder_code rc = repo_path(repo, "public", s.public_dir, sizeof s.public_dir, err);
    if (rc != LARDER_OK)
        return rc;
    if (sodium_init() < 0)
        return larder_fail(err, LARDER_EINVAL, "libsodium failed to initialise");
    if ((rc = load_tokens(&s, err)) != LARDER_OK) {
        free(s.tokens);
        return rc;
    }
    larder_serve_options o = *opt;
    if (!o.runtime_dir)
        o.runtime_dir = larder_repo_config(repo, "runtime", NULL);
    s.opt = opt = &o;
    const char *listen = opt->listen ? opt->listen : larder_repo_config(repo, "listen", "127.0.0.1:8000");
    char host[256];
    const char *colon = strrchr(listen, ':');
    long port = colon ? strtol(colon + 1, NULL, 10) : 0;
    snprintf(host, sizeof host, "%.*s", colon ? (int)(colon - listen) : 0, listen);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (!colon || port < 0 || port > 65535 || inet_pton(AF_INET, host, &addr.sin_addr) != 1)
        return larder_fail(err, LARDER_EINVAL, "--listen %s: expected IPV4:PORT, e.g. 127.0.0.1:8000", listen);
    if (opt->access_log)
        s.log = strcmp(opt->access_log, "-") ? fopen(opt->access_log, "a") : stderr;
    /* SIGINT/SIGTERM are taken by sigwait below, in this thread only */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, (uint16_t)port, NULL, NULL,
        handle, &s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)(opt->max_connections ? opt->max_connections : 256),
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(opt->timeout_s ? opt->timeout_s : 30),
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768, MHD_OPTION_PER_IP_CONNECTION_LIMIT, 128u,
        MHD_OPTION_THREAD_POOL_SIZE, 2u, MHD_OPTION_END);
    if (!d) {
        free(s.tokens);
        if (s.log && s.log != stderr)
            fclose(s.log);
        return larder_fail(err, LARDER_EIO, "cannot listen on %s (%s); is another server using the port?",
                           listen, strerror(errno));
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("larder-mirror: serving %s on http://%s:%u/ (Ctrl-C stops)%s\n", repo->dir, host,
           info ? info->port : (unsigned)port, s.n_tokens ? "; private: packages need a bearer token" : "");
    fflush(stdout);
    int sig;
    sigwait(&sigs, &sig);
    MHD_stop_daemon(d);
    printf("larder-mirror: stopped (%s)\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    if (s.log && s.log != stderr)
        fclose(s.log);
    pthread_mutex_destroy(&s.log_lock);
    free(s.tokens);
    return LARDER_OK;
}
