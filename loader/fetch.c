/*
 * fetch.c - the wasm runtime's platform hooks: fetching, progress and
 * persisting the cache go to JS functions that larder-runtime.js installs on
 * the module (larderFetch: synchronous XHR in a Worker, a helper thread
 * under Node; larderProgress; larderPersist: IDBFS syncfs in the
 * background). Only this file differs between the wasm and host loaders.
 */
#include "loader.h"

#include <emscripten.h>
#include <stdlib.h>
#include <string.h>

/* Returns 0 and a malloc'd buffer (and in *from_store whether the
 * platform's archive store had it), or 1 with the cause in errbuf. */
EM_JS(int, larder_js_fetch, (const char *url, double expected, const char *sha256, unsigned char **data,
                             size_t *len, int *from_store, char *errbuf, int errlen), {
    try {
        if (!Module.larderFetch)
            throw new Error('this runtime has no fetcher (larder-runtime.js sets Module.larderFetch)');
        const got = Module.larderFetch(UTF8ToString(url), expected, sha256 ? UTF8ToString(sha256) : null);
        const bytes = got.bytes;
        HEAP32[from_store >> 2] = got.fromStore ? 1 : 0;
        const ptr = _malloc(bytes.length || 1);
        if (!ptr)
            throw new Error('out of memory for ' + bytes.length + ' bytes');
        HEAPU8.set(bytes, ptr);
        HEAPU32[data >> 2] = ptr;
        HEAPU32[len >> 2] = bytes.length;
        return 0;
    } catch (e) {
        stringToUTF8(String((e && e.message) || e), errbuf, errlen);
        return 1;
    }
});

EM_JS(void, larder_js_progress, (const char *package, double done, double total), {
    if (Module.larderProgress)
        Module.larderProgress(UTF8ToString(package), done, total);
});

EM_JS(void, larder_js_prefetch, (const char *const *urls, const double *sizes, const char *const *shas, int n), {
    if (!Module.larderPrefetch)
        return;
    const list = [];
    for (let i = 0; i < n; i++) {
        const sha = HEAPU32[(shas >> 2) + i];
        list.push({ url: UTF8ToString(HEAPU32[(urls >> 2) + i]), size: HEAPF64[(sizes >> 3) + i],
                    sha256: sha ? UTF8ToString(sha) : null });
    }
    Module.larderPrefetch(list);
});

EM_JS(void, larder_js_persist, (void), {
    if (Module.larderPersist)
        Module.larderPersist();
});

EM_JS(void, larder_js_installed, (const char *package, const char *version, double size, int stdlib, int from_cache), {
    if (Module.larderInstalled)
        Module.larderInstalled(UTF8ToString(package), from_cache != 0,
                               { version: UTF8ToString(version), size: size, stdlib: stdlib != 0 });
});

EM_JS(void, larder_js_warn, (const char *message), {
    if (Module.larderWarn)
        Module.larderWarn(UTF8ToString(message));
});

larder_code platform_fetch(void *ctx, const larder_fetch_request *req, unsigned char **data, size_t *len,
                                  int *from_store, larder_error *err)
{
    (void)ctx;
    char cause[400];
    *data = NULL;
    *len = 0;
    *from_store = 0;
    if (larder_js_fetch(req->url, (double)req->size, req->sha256, data, len, from_store, cause, (int)sizeof cause) != 0)
        return larder_fail(err, LARDER_EFETCH, "%s", cause);
    return LARDER_OK;
}

void platform_progress(void *ctx, const char *package, uint64_t done, uint64_t total)
{
    (void)ctx;
    larder_js_progress(package, (double)done, (double)total);
}

void platform_prefetch(void *ctx, const larder_fetch_request *reqs, size_t n)
{
    (void)ctx;
    const char **urls = malloc(sizeof *urls * (n ? n : 1)), **shas = malloc(sizeof *shas * (n ? n : 1));
    double *sizes = malloc(sizeof *sizes * (n ? n : 1));
    if (urls && shas && sizes) {  /* only an optimisation: each archive is still fetched */
        for (size_t i = 0; i < n; i++) {
            urls[i] = reqs[i].url;
            shas[i] = reqs[i].sha256;
            sizes[i] = (double)reqs[i].size;
        }
        larder_js_prefetch(urls, sizes, shas, (int)n);
    }
    free(urls);
    free(shas);
    free(sizes);
}

void platform_persist(void *ctx)
{
    (void)ctx;
    larder_js_persist();
}

void platform_installed(void *ctx, const larder_package *p, int from_cache)
{
    (void)ctx;
    larder_js_installed(p->name, p->version, (double)p->size, !strcmp(p->package_type, "cpython_module"), from_cache);
}

void platform_warn(void *ctx, const char *message)
{
    (void)ctx;
    larder_js_warn(message);
}
