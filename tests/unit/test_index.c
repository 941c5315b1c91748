/* test_index.c - index/: parsing (the real pyodide-lock.json of Pyodide
 * 0.24.1 and bad input), lookup, resolution, signatures and trust. */
#define _DEFAULT_SOURCE
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../index/index.h"
#include "tap.h"

#ifndef PYODIDE_LOCK
#define PYODIDE_LOCK "node_modules/pyodide/pyodide-lock.json"
#endif

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    *len = fread(buf, 1, (size_t)n, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static larder_index *parse(const char *json, larder_error *err)
{
    return larder_index_parse(json, strlen(json), err);
}

/* Independent closure over the raw JSON: mark every package reachable. */
static void mark(const cJSON *packages, const char *name, cJSON *seen)
{
    if (cJSON_GetObjectItemCaseSensitive(seen, name))
        return;
    cJSON_AddTrueToObject(seen, name);
    const cJSON *dep;
    const cJSON *deps = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(packages, name), "depends");
    cJSON_ArrayForEach(dep, deps) mark(packages, dep->valuestring, seen);
}

static void test_pyodide_lock(void)
{
    size_t len;
    larder_error err = {0};
    char *json = read_file(PYODIDE_LOCK, &len);
    CHECK(json != NULL, "Pyodide 0.24.1's pyodide-lock.json is there (npm package pyodide)");
    if (!json)
        return;
    larder_index *index = larder_index_parse(json, len, &err);
    CHECK(index != NULL, "pyodide-lock.json parses");
    if (!index) {
        printf("#   %s\n", err.message);
        free(json);
        return;
    }
    cJSON *raw = cJSON_Parse(json);
    const cJSON *packages = cJSON_GetObjectItemCaseSensitive(raw, "packages");
    CHECK(larder_index_count(index) == (size_t)cJSON_GetArraySize(packages) && larder_index_count(index) > 200,
          "every package of pyodide-lock.json is in the index");
    const larder_index_info *info = larder_index_get_info(index);
    CHECK(info->python && strcmp(info->python, "3.11.3") == 0 && info->serial == 0 && !info->key_id,
          "info is read; absent serial and key_id are 0/NULL");
    const larder_package *numpy = larder_index_find(index, "numpy");
    CHECK(numpy && strcmp(numpy->version, "1.25.2") == 0 && numpy->n_imports == 1
              && strcmp(numpy->install_dir, "site") == 0 && strlen(numpy->sha256) == 64,
          "numpy 1.25.2 with its fields");
    CHECK(larder_index_find_import(index, "dateutil.parser") == larder_index_find(index, "python-dateutil"),
          "import dateutil.parser -> python-dateutil");
    CHECK(larder_index_find(index, "Python_Dateutil") == larder_index_find(index, "python-dateutil"),
          "names are normalised (PEP 503) for lookup");
    CHECK(larder_index_find_import(index, "no_such_module_here") == NULL, "an unknown import finds nothing");

    const char *want[] = {"matplotlib"};
    const larder_package **order;
    size_t n;
    CHECK(larder_index_resolve(index, want, 1, &order, &n, &err) == LARDER_OK, "matplotlib resolves");
    cJSON *seen = cJSON_CreateObject();
    mark(packages, "matplotlib", seen);
    int exact = (size_t)cJSON_GetArraySize(seen) == n, deps_first = 1;
    for (size_t i = 0; i < n; i++) {
        exact &= cJSON_GetObjectItemCaseSensitive(seen, order[i]->key) != NULL;
        for (size_t d = 0; d < order[i]->n_depends; d++) {
            const larder_package *dep = larder_index_find(index, order[i]->depends[d]);
            size_t j = 0;
            while (j < n && order[j] != dep)
                j++;
            deps_first &= j < i;
        }
    }
    if (!exact)
        printf("#   resolved %zu, independent closure %d\n", n, cJSON_GetArraySize(seen));
    CHECK(exact && n > 5, "matplotlib's closure is exactly what the depends lists give");
    CHECK(deps_first && strcmp(order[n - 1]->name, "matplotlib") == 0,
          "every dependency comes before its dependents; matplotlib last");
    free(order);
    cJSON_Delete(seen);
    cJSON_Delete(raw);
    larder_index_free(index);
    free(json);
}

#define PKG(name, deps) \
    "\"" name "\": {\"name\": \"" name "\", \"version\": \"1.0\", \"file_name\": \"" name "-1.0-0.tar.zst\"," \
    " \"sha256\": \"" SHA "\", \"imports\": [\"" name "\"], \"depends\": [" deps "]}"
#define SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void expect_invalid(const char *json, const char *needle, const char *name)
{
    larder_error err = {0};
    larder_index *index = parse(json, &err);
    CHECK(index == NULL && err.code == LARDER_EINVAL, name);
    if (!index)
        CHECK_STR_HAS(err.message, needle, "  ...and the message names the cause");
    larder_index_free(index);
}

static void test_bad_input(void)
{
    larder_error err = {0};
    larder_index *index = parse("{\"info\": {\"serial\": 3, \"new_field\": [1]}, \"extra\": true, \"packages\": {"
                                "\"a\": {\"name\": \"a\", \"version\": \"1\", \"file_name\": \"a.tar.zst\", \"sha256\": \"" SHA
                                "\", \"unknown\": {\"x\": 1}, \"size\": 10, \"unpacked_size\": 20}}}", &err);
    CHECK(index && larder_index_get_info(index)->serial == 3 && larder_index_find(index, "a")->size == 10
              && larder_index_find(index, "a")->unpacked_size == 20,
          "unknown fields are ignored, known ones read");
    larder_index_free(index);
    expect_invalid("{\"packages\": ", "not valid JSON", "truncated JSON is refused");
    expect_invalid("[1, 2]", "must be a JSON object", "a non-object document is refused");
    expect_invalid("{\"info\": {}}", "\"packages\" must be an object", "a missing packages object is refused");
    expect_invalid("{\"packages\": {\"a\": {\"name\": \"a\", \"version\": \"1\", \"file_name\": \"a.zst\"}}}",
                   "\"sha256\" must be 64", "an entry without sha256 is refused");
    expect_invalid("{\"packages\": {\"a\": {\"name\": \"a\", \"version\": \"1\", \"file_name\": \"../../etc/x\","
                   " \"sha256\": \"" SHA "\"}}}", "must be a plain file name", "a file_name with a path is refused");
    expect_invalid("{\"packages\": {\"a\": {\"name\": \"a\", \"version\": \"1\", \"file_name\": \"a\","
                   " \"sha256\": \"" SHA "\", \"install_dir\": \"../..\"}}}", "bad install_dir",
                   "an install_dir that climbs is refused");
    expect_invalid("{\"packages\": {\"a\": {\"name\": \"a\", \"version\": \"1\", \"file_name\": \"a\","
                   " \"sha256\": \"" SHA "\", \"depends\": \"b\"}}}", "\"depends\" must be a list",
                   "a depends that is not a list is refused");
    expect_invalid("{\"packages\": {\"a\": {\"name\": \"a\", \"version\": \"1\", \"file_name\": \"a\","
                   " \"sha256\": \"" SHA "\", \"size\": -4}}}", "non-negative integer", "a negative size is refused");
    expect_invalid("{\"packages\": {" PKG("Foo_Bar", "") ", " PKG("foo-bar", "") "}}", "the same name",
                   "two names that normalise alike are refused");
    expect_invalid("{\"packages\": {\"a\": {\"name\": \"a\", \"version\": \"1\", \"file_name\": \"a\","
                   " \"sha256\": \"" SHA "\", \"imports\": [\"a.sub\"]}}}", "not a top-level module name",
                   "a dotted import name is refused (found by the fuzzer)");
}

static void test_resolve(void)
{
    larder_error err = {0};
    const larder_package **order;
    size_t n;
    larder_index *index = parse("{\"packages\": {" PKG("app", "\"lib\", \"util\"") ", " PKG("lib", "\"util\", \"missing\"")
                                ", " PKG("util", "") ", " PKG("x", "\"y\"") ", " PKG("y", "\"z\"") ", " PKG("z", "\"x\"")
                                "}}", &err);
    CHECK(index != NULL, "synthetic index parses");
    const char *cyc[] = {"x"};
    CHECK(larder_index_resolve(index, cyc, 1, &order, &n, &err) == LARDER_OK && n == 3
              && strcmp(order[0]->name, "z") == 0 && strcmp(order[1]->name, "y") == 0
              && strcmp(order[2]->name, "x") == 0,
          "a cycle x -> y -> z -> x resolves once each, broken where it closes");
    free(order);
    const char *app[] = {"app"};
    CHECK(larder_index_resolve(index, app, 1, &order, &n, &err) == LARDER_ENOTFOUND,
          "a missing dependency is an error");
    CHECK_STR_HAS(err.message, "'missing' is not in the index (needed by app -> lib -> missing)",
                  "the error names the chain that needs it");
    const char *two[] = {"util", "y", "util"};
    CHECK(larder_index_resolve(index, two, 3, &order, &n, &err) == LARDER_OK && n == 4
              && strcmp(order[0]->name, "util") == 0 && strcmp(order[1]->name, "x") == 0,
          "several roots: each package once, in request order");
    free(order);
    const char *none[] = {"nope"};
    CHECK(larder_index_resolve(index, none, 1, &order, &n, &err) == LARDER_ENOTFOUND, "an unknown root is an error");
    CHECK_STR_HAS(err.message, "'nope' is not in the index", "...naming it");
    larder_index_free(index);
}

static void test_time(void)
{
    int64_t t;
    larder_error err;
    struct tm tm = {.tm_year = 2026 - 1900, .tm_mon = 10, .tm_mday = 25, .tm_hour = 12};
    CHECK(larder_parse_time("1970-01-01T00:00:00Z", &t, &err) == LARDER_OK && t == 0, "the epoch is 0");
    CHECK(larder_parse_time("2026-11-25T12:00:00Z", &t, &err) == LARDER_OK && t == (int64_t)timegm(&tm),
          "a date agrees with timegm");
    CHECK(larder_parse_time("2026-02-30T00:00:00Z", &t, &err) == LARDER_EINVAL, "Feb 30 is refused");
    CHECK(larder_parse_time("2026-11-25 12:00:00", &t, &err) == LARDER_EINVAL, "a non-RFC 3339 form is refused");
}

static char *signed_index(const char *key_id, unsigned serial, const char *expires)
{
    static char buf[2048];
    snprintf(buf, sizeof buf,
             "{\"info\": {\"serial\": %u, \"key_id\": \"%s\"%s%s%s}, \"packages\": {" PKG("a", "") "}}",
             serial, key_id, expires ? ", \"expires\": \"" : "", expires ? expires : "", expires ? "\"" : "");
    return buf;
}

static void test_signatures(void)
{
    char dir[] = "/tmp/larder-test-keys-XXXXXX", path[128], other[128];
    larder_error err = {0};
    larder_pubkey pub, pub2, parsed;
    char sig[LARDER_SIG_TEXT], text[LARDER_PUBKEY_TEXT];
    struct stat st;
    CHECK(mkdtemp(dir) != NULL, "temporary key directory");
    snprintf(path, sizeof path, "%s/key.pem", dir);
    snprintf(other, sizeof other, "%s/other.pem", dir);
    CHECK(larder_key_generate(path, &err) == LARDER_OK, "key generation");
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "the private key is mode 0600");
    CHECK(larder_key_generate(path, &err) == LARDER_EIO, "an existing key file is never overwritten");
    CHECK(larder_key_generate(other, &err) == LARDER_OK, "a second key");
    larder_signing_key *key = larder_key_load(path, &err), *key2 = larder_key_load(other, &err);
    CHECK(key && key2, "keys load");
    larder_key_public(key, &pub, &err);
    larder_key_public(key2, &pub2, &err);
    CHECK(strlen(pub.id) == 16 && strcmp(pub.id, pub2.id) != 0, "key ids are 16 hex digits and differ");
    larder_pubkey_format(&pub, text);
    CHECK(strncmp(text, "ed25519:", 8) == 0 && strlen(text) == LARDER_PUBKEY_TEXT - 1, "public key text form");
    CHECK(larder_pubkey_parse(text, &parsed, &err) == LARDER_OK && memcmp(parsed.bytes, pub.bytes, 32) == 0
              && strcmp(parsed.id, pub.id) == 0, "the text form parses back to the same key");
    CHECK(larder_pubkey_parse("rsa:AAAA", &parsed, &err) == LARDER_EINVAL, "a key of another kind is refused");
    CHECK(larder_pubkey_parse("ed25519:AAAA", &parsed, &err) == LARDER_EINVAL, "a short key is refused");

    char *json = strdup(signed_index(pub.id, 5, "2099-01-01T00:00:00Z"));
    size_t len = strlen(json);
    CHECK(larder_sign(key, json, len, sig, &err) == LARDER_OK && strlen(sig) == LARDER_SIG_TEXT - 1,
          "OpenSSL signs the index");
    larder_trust trust = {&pub, 0, 5, (int64_t)time(NULL)};
    larder_index *index = larder_index_open(json, len, sig, strlen(sig), &trust, &err);
    CHECK(index != NULL, "libsodium verifies OpenSSL's signature; serial == last seen is fine");
    larder_index_free(index);
    char sig_nl[LARDER_SIG_TEXT + 1];
    snprintf(sig_nl, sizeof sig_nl, "%s\n", sig);
    index = larder_index_open(json, len, sig_nl, strlen(sig_nl), &trust, &err);
    CHECK(index != NULL, "a trailing newline in the .sig file is fine");
    larder_index_free(index);

    char saved = json[len / 2];
    json[len / 2] ^= 1;
    CHECK(!larder_index_open(json, len, sig, strlen(sig), &trust, &err) && err.code == LARDER_ESIGNATURE,
          "one altered byte fails verification");
    CHECK_STR_HAS(err.message, "does not verify with key", "...with a message that says so");
    json[len / 2] = saved;
    CHECK(!larder_index_open(json, len - 1, sig, strlen(sig), &trust, &err) && err.code == LARDER_ESIGNATURE,
          "a truncated index fails verification");
    larder_trust wrong = {&pub2, 0, 0, trust.now};
    CHECK(!larder_index_open(json, len, sig, strlen(sig), &wrong, &err) && err.code == LARDER_ESIGNATURE,
          "another key's pin refuses the signature");
    CHECK(!larder_index_open(json, len, NULL, 0, &trust, &err) && err.code == LARDER_ESIGNATURE,
          "a missing signature is refused");
    CHECK(!larder_index_open(json, len, "bm90IGEgc2ln", 12, &trust, &err) && err.code == LARDER_ESIGNATURE,
          "a malformed signature is refused");
    CHECK_STR_HAS(err.message, "malformed", "...as malformed");
    trust.min_serial = 6;
    CHECK(!larder_index_open(json, len, sig, strlen(sig), &trust, &err) && err.code == LARDER_ESTALE,
          "an older serial than seen before is a rollback");
    CHECK_STR_HAS(err.message, "index serial 5 is older than serial 6", "...and says so");
    trust.min_serial = 0;
    free(json);

    json = strdup(signed_index(pub.id, 9, "2020-01-01T00:00:00Z"));
    larder_sign(key, json, strlen(json), sig, &err);
    CHECK(!larder_index_open(json, strlen(json), sig, strlen(sig), &trust, &err) && err.code == LARDER_ESTALE,
          "an expired index is refused");
    CHECK_STR_HAS(err.message, "expired at 2020-01-01T00:00:00Z", "...naming when it expired");
    free(json);

    /* the small ones: a message built from itself; an expires of another type */
    json = strdup(signed_index(pub.id, 9, "not-a-date"));
    larder_sign(key, json, strlen(json), sig, &err);
    CHECK(!larder_index_open(json, strlen(json), sig, strlen(sig), &trust, &err) && err.code == LARDER_EINVAL,
          "larder_fail with err->message as its own argument: a bad expires is refused...");
    CHECK(!strncmp(err.message, "index: bad \"expires\": ", 22) && strstr(err.message, "not-a-date")
              && !strstr(err.message + 22, "index: bad"),
          "  ...and its message is whole, written once (no overlapping vsnprintf)");
    free(json);
    json = strdup(signed_index(pub.id, 9, NULL));
    char *numeric = malloc(strlen(json) + 40);
    char *brace = strstr(json, "\"serial\"");
    snprintf(numeric, strlen(json) + 40, "%.*s\"expires\": 1, %s", (int)(brace - json), json, brace);
    larder_sign(key, numeric, strlen(numeric), sig, &err);
    CHECK(!larder_index_open(numeric, strlen(numeric), sig, strlen(sig), &trust, &err) && err.code == LARDER_EINVAL,
          "a non-string expires is refused, not read as an index that never expires");
    CHECK_STR_HAS(err.message, "\"expires\" must be a date string", "  ...saying so");
    free(numeric);
    free(json);

    json = strdup(signed_index(pub2.id, 9, NULL));
    larder_sign(key, json, strlen(json), sig, &err);
    CHECK(!larder_index_open(json, strlen(json), sig, strlen(sig), &trust, &err) && err.code == LARDER_ESIGNATURE,
          "an index naming another key id is refused");
    larder_trust open_trust = {NULL, 1, 0, trust.now};
    index = larder_index_open(json, strlen(json), NULL, 0, &open_trust, &err);
    CHECK(index != NULL, "allow_unsigned without a key accepts an unsigned index");
    larder_index_free(index);
    larder_trust closed = {NULL, 0, 0, trust.now};
    CHECK(!larder_index_open(json, strlen(json), NULL, 0, &closed, &err) && err.code == LARDER_ESIGNATURE,
          "without a key or allow_unsigned nothing is accepted");
    free(json);

    chmod(path, 0644);
    CHECK(larder_key_load(path, &err) == NULL && err.code == LARDER_EINVAL, "a key file readable by others is refused");
    CHECK_STR_HAS(err.message, "chmod 600", "...with the fix in the message");
    larder_key_free(key);
    larder_key_free(key2);
    unlink(path);
    unlink(other);
    rmdir(dir);
}

int main(void)
{
    test_pyodide_lock();
    test_bad_input();
    test_resolve();
    test_time();
    test_signatures();
    return tap_done();
}
