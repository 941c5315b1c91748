/*
 * metadata.c - core metadata (METADATA / PKG-INFO), egg-info requires.txt,
 * and PEP 508 requirements with environment markers evaluated for the
 * wasm32-emscripten CPython 3.11 target.
 */
#include "internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const larder_target larder_default_target = {
    .python_version = LARDER_PYTHON_MINOR,
    .python_full_version = LARDER_PYTHON_VERSION,
    .sys_platform = "emscripten",
    .platform_system = "Emscripten",
    .platform_machine = LARDER_ARCH,
    .platform_release = LARDER_EMSCRIPTEN_VERSION,
    .os_name = "posix",
    .implementation_name = "cpython",
};

/* ---- markers: a recursive-descent parser that evaluates as it goes ---- */

typedef struct mparser {
    const char *p;
    const larder_target *target;
    const char *const *extras;
    larder_error *err;
    int failed;
} mparser;

static void skip_ws(mparser *m)
{
    while (isspace((unsigned char)*m->p))
        m->p++;
}

static int fail_marker(mparser *m, const char *what)
{
    if (!m->failed)
        larder_fail(m->err, LARDER_EINVAL, "bad environment marker: %s at \"%.30s\"", what, m->p);
    m->failed = 1;
    return 0;
}

/* A marker value: a quoted string or a variable; copied into buf. Sets
 * *is_extra when the variable is `extra`. */
static int parse_value(mparser *m, char *buf, size_t size, int *is_extra)
{
    skip_ws(m);
    *is_extra = 0;
    if (*m->p == '"' || *m->p == '\'') {
        char q = *m->p++;
        const char *end = strchr(m->p, q);
        if (!end || (size_t)(end - m->p) >= size)
            return fail_marker(m, "unterminated string");
        memcpy(buf, m->p, (size_t)(end - m->p));
        buf[end - m->p] = '\0';
        m->p = end + 1;
        return 1;
    }
    const char *start = m->p;
    while (isalnum((unsigned char)*m->p) || *m->p == '_' || *m->p == '.')
        m->p++;
    size_t n = (size_t)(m->p - start);
    char var[64];
    if (n == 0 || n >= sizeof var)
        return fail_marker(m, "expected a value");
    memcpy(var, start, n);
    var[n] = '\0';
    const larder_target *t = m->target;
    const char *v = NULL;
    if (!strcmp(var, "python_version")) v = t->python_version;
    else if (!strcmp(var, "python_full_version")) v = t->python_full_version;
    else if (!strcmp(var, "sys_platform")) v = t->sys_platform;
    else if (!strcmp(var, "platform_system")) v = t->platform_system;
    else if (!strcmp(var, "platform_machine")) v = t->platform_machine;
    else if (!strcmp(var, "platform_release")) v = t->platform_release;
    else if (!strcmp(var, "os_name") || !strcmp(var, "os.name")) v = t->os_name;
    else if (!strcmp(var, "implementation_name")) v = t->implementation_name;
    else if (!strcmp(var, "implementation_version")) v = t->python_full_version;
    else if (!strcmp(var, "platform_python_implementation") || !strcmp(var, "python_implementation")) v = "CPython";
    else if (!strcmp(var, "platform_version")) v = "";
    else if (!strcmp(var, "sys.platform")) v = t->sys_platform;
    else if (!strcmp(var, "extra")) { v = ""; *is_extra = 1; }
    else return fail_marker(m, "unknown marker variable");
    snprintf(buf, size, "%s", v);
    return 1;
}

/* Compare dotted release numbers ("3.11.2" vs "3.8"); non-numeric tails
 * compare as strings. */
static int version_cmp(const char *a, const char *b)
{
    while (*a || *b) {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            long x = strtol(a, (char **)&a, 10), y = strtol(b, (char **)&b, 10);
            if (x != y)
                return x < y ? -1 : 1;
        } else if (!*a || !*b) {
            /* "3.11" == "3.11.0": trailing zero segments are equal */
            const char *rest = *a ? a : b;
            while (*rest == '.' || *rest == '0')
                rest++;
            if (*rest)
                return *a ? 1 : -1;
            return 0;
        } else if (*a != *b) {
            return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        } else {
            a++;
            b++;
        }
    }
    return 0;
}

static int looks_like_version(const char *s)
{
    if (!isdigit((unsigned char)*s))
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s) && *s != '.' && *s != '*')
            return 0;
    return 1;
}

static int has_extra(mparser *m, const char *name)
{
    char want[128], have[128];
    larder_normalize_name(name, want, sizeof want);
    for (const char *const *e = m->extras; e && *e; e++)
        if (strcmp(larder_normalize_name(*e, have, sizeof have), want) == 0)
            return 1;
    return 0;
}

static int keyword(mparser *m, const char *word)
{
    skip_ws(m);
    size_t n = strlen(word);
    if (strncmp(m->p, word, n) == 0 && !isalnum((unsigned char)m->p[n]) && m->p[n] != '_') {
        m->p += n;
        return 1;
    }
    return 0;
}

static int parse_or(mparser *m);

static int parse_expr(mparser *m)
{
    skip_ws(m);
    if (*m->p == '(') {
        m->p++;
        int v = parse_or(m);
        skip_ws(m);
        if (*m->p != ')')
            return fail_marker(m, "expected ')'");
        m->p++;
        return v;
    }
    char lhs[256], rhs[256], op[8] = "";
    int lhs_extra, rhs_extra;
    if (!parse_value(m, lhs, sizeof lhs, &lhs_extra))
        return 0;
    skip_ws(m);
    if (keyword(m, "not")) {
        if (!keyword(m, "in"))
            return fail_marker(m, "expected \"in\" after \"not\"");
        strcpy(op, "not in");
    } else if (keyword(m, "in")) {
        strcpy(op, "in");
    } else {
        static const char *const ops[] = {"===", "==", "!=", "<=", ">=", "~=", "<", ">"};
        for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) {
            if (strncmp(m->p, ops[i], strlen(ops[i])) == 0) {
                strcpy(op, ops[i]);
                m->p += strlen(ops[i]);
                break;
            }
        }
    }
    if (!op[0])
        return fail_marker(m, "expected a comparison operator");
    if (!parse_value(m, rhs, sizeof rhs, &rhs_extra))
        return 0;
    if (lhs_extra || rhs_extra) {
        const char *name = lhs_extra ? rhs : lhs;
        int present = has_extra(m, name);
        if (!strcmp(op, "==") || !strcmp(op, "==="))
            return present;
        if (!strcmp(op, "!="))
            return !present;
        return fail_marker(m, "extra can only be compared with == or !=");
    }
    if (!strcmp(op, "in"))
        return strstr(rhs, lhs) != NULL;
    if (!strcmp(op, "not in"))
        return strstr(rhs, lhs) == NULL;
    if (!strcmp(op, "===") )
        return strcmp(lhs, rhs) == 0;
    if (looks_like_version(lhs) && looks_like_version(rhs)) {
        const char *star = strchr(rhs, '*');
        if (star && (!strcmp(op, "==") || !strcmp(op, "!="))) {
            size_t n = (size_t)(star - rhs);  /* "3.11.*": prefix match */
            int match = strncmp(lhs, rhs, n > 0 ? n - 1 : 0) == 0
                        && (lhs[n > 0 ? n - 1 : 0] == '.' || lhs[n > 0 ? n - 1 : 0] == '\0');
            return !strcmp(op, "==") ? match : !match;
        }
        int c = version_cmp(lhs, rhs);
        if (!strcmp(op, "==")) return c == 0;
        if (!strcmp(op, "!=")) return c != 0;
        if (!strcmp(op, "<")) return c < 0;
        if (!strcmp(op, "<=")) return c <= 0;
        if (!strcmp(op, ">")) return c > 0;
        if (!strcmp(op, ">=")) return c >= 0;
        /* ~=: >= rhs and the same release prefix without its last segment */
        const char *last = strrchr(rhs, '.');
        if (!last)
            return fail_marker(m, "~= needs a version with at least two segments");
        return c >= 0 && strncmp(lhs, rhs, (size_t)(last - rhs)) == 0
               && (lhs[last - rhs] == '.' || lhs[last - rhs] == '\0');
    }
    if (!strcmp(op, "==")) return strcmp(lhs, rhs) == 0;
    if (!strcmp(op, "!=")) return strcmp(lhs, rhs) != 0;
    return fail_marker(m, "ordering comparison of non-version strings");
}

static int parse_and(mparser *m)
{
    int v = parse_expr(m);
    while (!m->failed && keyword(m, "and"))
        v = parse_expr(m) && v;
    return v;
}

static int parse_or(mparser *m)
{
    int v = parse_and(m);
    while (!m->failed && keyword(m, "or"))
        v = parse_and(m) || v;
    return v;
}

larder_code larder_marker_eval(const char *marker, const larder_target *target, const char *const *extras,
                               int *result, larder_error *err)
{
    mparser m = {marker, target, extras, err, 0};
    int v = parse_or(&m);
    skip_ws(&m);
    if (!m.failed && *m.p)
        fail_marker(&m, "unexpected text");
    if (m.failed)
        return LARDER_EINVAL;
    *result = v;
    return LARDER_OK;
}

/* ---- core metadata ---- */

static char *dup_trimmed(const char *s, size_t n)
{
    while (n && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    return strndup(s, n);
}

static int push_require(larder_metadata *md, char *req)
{
    if (!req)
        return 0;
    char **more = realloc(md->requires, (md->n_requires + 1) * sizeof *more);
    if (!more) {
        free(req);
        return 0;
    }
    md->requires = more;
    md->requires[md->n_requires++] = req;
    return 1;
}

larder_code larder_metadata_parse(const char *text, size_t len, const char *what, larder_metadata *md,
                                  larder_error *err)
{
    memset(md, 0, sizeof *md);
    const char *p = text, *end = text + len, *line;
    size_t n;
    while (builder_next_line(&p, end, &line, &n)) {
        if (n == 0)
            break;  /* the body (description) follows the first blank line */
        const char *colon = memchr(line, ':', n);
        if (colon && !isspace((unsigned char)*line)) {
            size_t key = (size_t)(colon - line);
            char **slot = NULL;
            int ok = 1;
            if (key == 4 && !strncasecmp(line, "Name", 4))
                slot = &md->name;
            else if (key == 7 && !strncasecmp(line, "Version", 7))
                slot = &md->version;
            else if (key == 13 && !strncasecmp(line, "Requires-Dist", 13))
                ok = push_require(md, dup_trimmed(colon + 1, n - key - 1));
            if (slot && !*slot)
                ok = (*slot = dup_trimmed(colon + 1, n - key - 1)) != NULL;
            if (!ok) {
                larder_metadata_clear(md);
                return larder_fail(err, LARDER_ENOMEM, "out of memory");
            }
        }
    }
    if (!md->name || !md->name[0] || !md->version || !md->version[0]) {
        const char *missing = (!md->name || !md->name[0]) ? "Name" : "Version";
        larder_metadata_clear(md);
        return larder_fail(err, LARDER_EINVAL, "%s: core metadata lacks %s", what, missing);
    }
    return LARDER_OK;
}

larder_code larder_metadata_add_requires_txt(larder_metadata *md, const char *text, size_t len,
                                             larder_error *err)
{
    char section[256] = "";
    const char *p = text, *end = text + len, *raw;
    size_t n;
    while (builder_next_line(&p, end, &raw, &n)) {
        char *line = dup_trimmed(raw, n);
        if (!line)
            return larder_fail(err, LARDER_ENOMEM, "out of memory");
        if (!line[0] || line[0] == '#') {
            free(line);
            continue;
        }
        if (line[0] == '[') {
            char *close = strchr(line, ']');
            if (!close) {
                larder_fail(err, LARDER_EINVAL, "requires.txt: bad section header \"%s\"", line);
                free(line);
                return LARDER_EINVAL;
            }
            *close = '\0';
            snprintf(section, sizeof section, "%s", line + 1);
            free(line);
            continue;
        }
        /* [extra], [:marker], [extra:marker] become "; (marker) and extra == 'x'" */
        char *colon = strchr(section, ':');
        char extra[256] = "", marker[256] = "";
        if (colon) {
            snprintf(extra, sizeof extra, "%.*s", (int)(colon - section), section);
            snprintf(marker, sizeof marker, "%s", colon + 1);
        } else {
            snprintf(extra, sizeof extra, "%s", section);
        }
        size_t need = strlen(line) + strlen(extra) + strlen(marker) + 32;
        char *req = malloc(need);
        if (!req) {
            free(line);
            return larder_fail(err, LARDER_ENOMEM, "out of memory");
        }
        if (extra[0] && marker[0])
            snprintf(req, need, "%s ; (%s) and extra == \"%s\"", line, marker, extra);
        else if (extra[0])
            snprintf(req, need, "%s ; extra == \"%s\"", line, extra);
        else if (marker[0])
            snprintf(req, need, "%s ; %s", line, marker);
        else
            snprintf(req, need, "%s", line);
        free(line);
        if (!push_require(md, req))
            return larder_fail(err, LARDER_ENOMEM, "out of memory");
    }
    return LARDER_OK;
}

void larder_metadata_clear(larder_metadata *md)
{
    free(md->name);
    free(md->version);
    for (size_t i = 0; i < md->n_requires; i++)
        free(md->requires[i]);
    free(md->requires);
    memset(md, 0, sizeof *md);
}

larder_code larder_requirements_eval(const larder_metadata *md, const larder_target *target,
                                     const char *const *extras, char ***names, size_t *n,
                                     larder_error *err)
{
    *names = calloc(md->n_requires + 1, sizeof **names);
    *n = 0;
    if (!*names)
        return larder_fail(err, LARDER_ENOMEM, "out of memory");
    for (size_t i = 0; i < md->n_requires; i++) {
        const char *req = md->requires[i];
        size_t len = 0;
        while (isalnum((unsigned char)req[len]) || req[len] == '-' || req[len] == '_' || req[len] == '.')
            len++;
        if (len == 0 || len >= 128) {
            larder_fail(err, LARDER_EINVAL, "%s: requirement \"%s\" has no project name", md->name, req);
            goto fail;
        }
        const char *semi = strchr(req, ';');
        int applies = 1;
        if (semi && larder_marker_eval(semi + 1, target, extras, &applies, err) != LARDER_OK) {
            larder_prefix(err, LARDER_EINVAL, "%s: requirement \"%s\"", md->name, req);
            goto fail;
        }
        if (!applies)
            continue;
        char raw[128], name[128];
        snprintf(raw, sizeof raw, "%.*s", (int)len, req);
        larder_normalize_name(raw, name, sizeof name);
        int dup = 0;
        for (size_t j = 0; j < *n; j++)
            dup |= strcmp((*names)[j], name) == 0;
        if (!dup && !((*names)[(*n)++] = strdup(name))) {
            larder_fail(err, LARDER_ENOMEM, "out of memory");
            goto fail;
        }
    }
    return LARDER_OK;
fail:
    for (size_t j = 0; j < *n; j++)
        free((*names)[j]);
    free(*names);
    *names = NULL;
    *n = 0;
    return err->code;
}
