/*
 * pyc.c - compile a package's .py files to .pyc with a host CPython 3.11.
 *
 * The sources are written to a temporary directory, the host python
 * compiles each X.py to X.pyc beside it (unchecked-hash pycs: the bytes
 * depend on the source only, never on mtimes), and the results are read
 * back into the file set.
 */
#define _XOPEN_SOURCE 700
#include "internal.h"

#include <ftw.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


static const char COMPILE_SCRIPT[] =
    "import sys, os, importlib.util\n"
    "from importlib._bootstrap_external import _code_to_hash_pyc\n"
    "if sys.version_info[:2] != (3, 11):\n"
    "    sys.exit('larder-build: the host python must be CPython 3.11 (the runtime\\'s bytecode), not '\n"
    "             + sys.version.split()[0])\n"
    "root, prefix = sys.argv[1], sys.argv[2]\n"
    "for rel in sys.stdin.read().split('\\0')[:-1]:\n"
    "    path = os.path.join(root, rel)\n"
    "    with open(path, 'rb') as f: source = f.read()\n"
    "    try:\n"
    "        code = compile(source, prefix + '/' + rel, 'exec', dont_inherit=True)\n"
    "    except (SyntaxError, ValueError) as e:\n"
    "        sys.exit(f'{rel}: does not compile with Python 3.11: {e}')\n"
    "    data = _code_to_hash_pyc(code, importlib.util.source_hash(source), checked=False)\n"
    "    with open(path[:-3] + '.pyc', 'wb') as f: f.write(data)\n";

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int mkdirs_for(char *path)
{
    for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
        *p = '\0';
        int r = mkdir(path, 0755);
        *p = '/';
        if (r != 0 && errno != EEXIST)
            return -1;
    }
    return 0;
}

static int write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    int ok = fwrite(data, 1, size, f) == size;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

static unsigned char *read_whole(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct stat st;
    unsigned char *buf = NULL;
    if (fstat(fileno(f), &st) == 0 && (buf = malloc((size_t)st.st_size + 1)))
        *size = fread(buf, 1, (size_t)st.st_size, f);
    fclose(f);
    return buf;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void remove_tree(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static larder_code run_python(const char *python, const char *root, const char *prefix, const char *list,
                              size_t list_len, larder_error *err)
{
    /* no_debug_ranges: no column tables in the code objects (tracebacks keep
     * line numbers, lose the ^^^ markers); the .pyc shrink by about a quarter */
    char *argv[] = {(char *)python, "-I", "-X", "no_debug_ranges", "-c", (char *)COMPILE_SCRIPT,
                    (char *)root, (char *)prefix, NULL};
    char *out = NULL;
    size_t out_len;
    larder_code rc = larder_run_capture(argv, list, list_len, &out, &out_len, err);
    free(out);
    if (rc != LARDER_OK)
        larder_prefix(err, rc, "compiling .pyc");
    return rc;
}

larder_code larder_compile_pyc(larder_fileset *set, const char *python, const char *prefix, int keep_sources,
                               const char *const *tops, size_t n_tops, char **imported, larder_error *err)
{
    if (imported)
        *imported = NULL;
    char root[] = "/tmp/larder-pyc-XXXXXX";
    char *list = NULL;
    size_t list_len = 0, n = larder_fileset_count(set);
    larder_code rc = LARDER_OK;
    if (!mkdtemp(root))
        return larder_fail(err, LARDER_EIO, "cannot create a temporary directory: %s", strerror(errno));
    for (size_t i = 0; i < n && rc == LARDER_OK; i++) {
        larder_file *f = larder_fileset_at(set, i);
        if (!ends_with(f->path, ".py"))
            continue;
        size_t plen = strlen(f->path);
        char *path = malloc(sizeof root + plen + 1);
        char *more = realloc(list, list_len + plen + 1);
        if (!path || !more) {
            free(path);
            rc = larder_fail(err, LARDER_ENOMEM, "out of memory");
            break;
        }
        list = more;
        memcpy(list + list_len, f->path, plen + 1);
        list_len += plen + 1;
        sprintf(path, "%s/%s", root, f->path);
        if (mkdirs_for(path) != 0 || write_file(path, f->data, f->size) != 0)
            rc = larder_fail(err, LARDER_EIO, "cannot write %s: %s", path, strerror(errno));
        free(path);
    }
    if (rc == LARDER_OK && list_len)
        rc = run_python(python, root, prefix, list, list_len, err);
    if (rc == LARDER_OK && list_len && n_tops && imported)
        rc = larder_scan_imports(python, root, tops, n_tops, imported, err);
    /* read the .pyc back; iterate over the list, since adding changes the set */
    for (size_t off = 0; rc == LARDER_OK && off < list_len; off += strlen(list + off) + 1) {
        const char *rel = list + off;
        char *pyc_path = malloc(sizeof root + strlen(rel) + 2);
        char *dest = malloc(strlen(rel) + 32);
        size_t size = 0;
        unsigned char *data = NULL;
        if (pyc_path && dest) {
            sprintf(pyc_path, "%s/%sc", root, rel);
            data = read_whole(pyc_path, &size);
        }
        if (!data) {
            rc = larder_fail(err, LARDER_EIO, "compiled file for %s is missing", rel);
        } else {
            if (keep_sources) {
                /* pkg/mod.py -> pkg/__pycache__/mod.cpython-311.pyc */
                const char *slash = strrchr(rel, '/');
                size_t dir = slash ? (size_t)(slash - rel) + 1 : 0;
                sprintf(dest, "%.*s__pycache__/%.*s.cpython-311.pyc", (int)dir, rel,
                        (int)(strlen(rel) - dir - 3), rel + dir);
            } else {
                sprintf(dest, "%sc", rel);
                larder_fileset_remove(set, rel);
            }
            rc = larder_fileset_add(set, dest, data, size, 0644, err);
        }
        free(data);
        free(pyc_path);
        free(dest);
    }
    free(list);
    remove_tree(root);
    return rc;
}
