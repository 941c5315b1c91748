/*
 * pyc.c - compile a package's .py files to .pyc with a host CPython 3.11.
 *
 * The sources are written to a temporary directory, the host python
 * compiles each X.py to X.pyc beside it (unchecked-hash pycs: the bytes
 * depend on the source only, never on mtimes), and the results are read
 * back into the file set.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


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

/* The modules the .py files under root import, by the top-level names
 * tops: *out is malloc'd, one name a line, or NULL. */
static larder_code scan_imports(const char *python, const char *root, const char *const *tops, size_t n_tops,
                                char **out, larder_error *err)
{
    const char **args = calloc(n_tops + 3, sizeof *args);
    if (!args)
        return larder_fail(err, LARDER_ENOMEM, "out of memory");
    size_t a = 0, len;
    args[a++] = "--imports";
    args[a++] = root;
    for (size_t i = 0; i < n_tops; i++)
        args[a++] = tops[i];
    larder_code rc = builder_run_plan(python, args, out, &len, err);
    free(args);
    if (rc != LARDER_OK)
        larder_prefix(err, rc, "finding the modules it imports");
    return rc;
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
    larder_code rc = builder_run_capture(argv, list, list_len, &out, &out_len, err);
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
    char root[64];
    char *list = NULL;
    size_t list_len = 0, n = larder_fileset_count(set);
    larder_code rc = larder_mkdtemp("/tmp", "larder-pyc", root, sizeof root, err);
    if (rc != LARDER_OK)
        return rc;
    for (size_t i = 0; i < n && rc == LARDER_OK; i++) {
        larder_file *f = larder_fileset_at(set, i);
        if (!larder_ends_with(f->path, ".py"))
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
        *strrchr(path, '/') = '\0';
        rc = larder_mkdir_p(path, err);
        path[strlen(path)] = '/';
        if (rc == LARDER_OK)
            rc = larder_write_file(path, f->data, f->size, 0644, LARDER_WRITE_NOSYNC, err);
        free(path);
    }
    if (rc == LARDER_OK && list_len)
        rc = run_python(python, root, prefix, list, list_len, err);
    if (rc == LARDER_OK && list_len && n_tops && imported)
        rc = scan_imports(python, root, tops, n_tops, imported, err);
    /* read the .pyc back; iterate over the list, since adding changes the set */
    for (size_t off = 0; rc == LARDER_OK && off < list_len; off += strlen(list + off) + 1) {
        const char *rel = list + off;
        char *pyc_path = malloc(sizeof root + strlen(rel) + 2);
        char *dest = malloc(strlen(rel) + 32);
        size_t size = 0;
        unsigned char *data = NULL;
        if (!pyc_path || !dest) {
            rc = larder_fail(err, LARDER_ENOMEM, "out of memory");
        } else {
            sprintf(pyc_path, "%s/%sc", root, rel);
            if ((rc = larder_read_file(pyc_path, UINT64_MAX, &data, &size, err)) != LARDER_OK)
                larder_prefix(err, rc, "the host python compiled %s", rel);
        }
        if (rc == LARDER_OK) {
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
    larder_rm_rf(root, NULL); /* a leftover in /tmp does not fail the build */
    return rc;
}
