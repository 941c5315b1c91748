/*
 * version.c - PEP 440 versions and specifiers, PEP 508 requirements: what
 * choosing a project's version from a package index needs.
 *
 * Versions are parsed in PEP 440's normalised form (case-insensitive,
 * "alpha" = "a", "-1" = ".post1", a leading "v", separators "-_."), compared
 * by its ordering (dev < pre < final < post; a local label sorts after its
 * public version), and matched against the specifier operators ~= == != <=
 * >= < > === with ".*" prefixes, the exclusions of < and > for pre- and
 * post-releases of the named version, and local labels ignored unless the
 * specifier has one.
 */
#include "internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int match_word(const char **p, const char *word)
{
    size_t n = strlen(word);
    if (strncasecmp(*p, word, n) != 0)
        return 0;
    *p += n;
    return 1;
}

static int read_number(const char **p, long *out)
{
    if (!isdigit((unsigned char)**p))
        return 0;
    long v = 0;
    while (isdigit((unsigned char)**p)) {
        if (v > 100000000000L)
            return 0;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    *out = v;
    return 1;
}

static int sep(char c) { return c == '.' || c == '-' || c == '_'; }

/* An optional separator and number after a pre/post/dev word. */
static long implicit_number(const char **p)
{
    const char *q = *p;
    long n = 0;
    if (sep(*q))
        q++;
    if (read_number(&q, &n)) {
        *p = q;
        return n;
    }
    return 0;
}

int larder_version_parse(const char *text, larder_version *v)
{
    const char *p = text;
    memset(v, 0, sizeof *v);
    while (isspace((unsigned char)*p))
        p++;
    if (*p == 'v' || *p == 'V')
        p++;
    long n;
    const char *start = p;
    if (!read_number(&p, &n))
        return 0;
    if (*p == '!') {
        v->epoch = n;
        p++;
        if (!read_number(&p, &n))
            return 0;
    } else {
        p = start;
        read_number(&p, &n);
    }
    v->release[v->n_release++] = n;
    while (*p == '.' && isdigit((unsigned char)p[1])) {
        p++;
        read_number(&p, &n);
        if (v->n_release == LARDER_VERSION_PARTS)
            return 0;
        v->release[v->n_release++] = n;
    }
    /* pre-release */
    const char *q = sep(*p) ? p + 1 : p;
    static const struct { const char *word; char kind; } pre[] = {
        {"alpha", 'a'}, {"beta", 'b'}, {"preview", 'c'}, {"pre", 'c'}, {"rc", 'c'}, {"a", 'a'}, {"b", 'b'}, {"c", 'c'}};
    for (size_t i = 0; i < sizeof pre / sizeof *pre; i++) {
        const char *r = q;
        if (match_word(&r, pre[i].word)) {
            v->pre_kind = pre[i].kind;
            p = r;
            v->pre = implicit_number(&p);
            break;
        }
    }
    /* post-release: "-N", or "post"/"rev"/"r" */
    if (*p == '-' && isdigit((unsigned char)p[1])) {
        p++;
        read_number(&p, &v->post);
        v->has_post = 1;
    } else {
        q = sep(*p) ? p + 1 : p;
        if (match_word(&q, "post") || match_word(&q, "rev") || match_word(&q, "r")) {
            p = q;
            v->post = implicit_number(&p);
            v->has_post = 1;
        }
    }
    q = sep(*p) ? p + 1 : p;
    if (match_word(&q, "dev")) {
        p = q;
        v->dev = implicit_number(&p);
        v->has_dev = 1;
    }
    if (*p == '+') {
        p++;
        size_t i = 0;
        if (!isalnum((unsigned char)*p))
            return 0;
        while (isalnum((unsigned char)*p) || sep(*p)) {
            if (i + 1 >= sizeof v->local)
                return 0;
            v->local[i++] = sep(*p) ? '.' : (char)tolower((unsigned char)*p);
            p++;
        }
        v->local[i] = '\0';
    }
    while (isspace((unsigned char)*p))
        p++;
    return *p == '\0';
}

static int cmp_long(long a, long b) { return a < b ? -1 : a > b; }

static int cmp_release(const larder_version *a, const larder_version *b)
{
    int n = a->n_release > b->n_release ? a->n_release : b->n_release;
    for (int i = 0; i < n; i++) {
        int c = cmp_long(i < a->n_release ? a->release[i] : 0, i < b->n_release ? b->release[i] : 0);
        if (c)
            return c;
    }
    return 0;
}

/* Local labels: dot-separated segments, numbers above words. */
static int cmp_local(const char *a, const char *b)
{
    if (!*a || !*b)
        return (*a != 0) - (*b != 0);
    while (*a && *b) {
        size_t na = strcspn(a, "."), nb = strcspn(b, ".");
        int da = strspn(a, "0123456789") == na, db = strspn(b, "0123456789") == nb;
        int c;
        if (da && db)
            c = cmp_long(strtol(a, NULL, 10), strtol(b, NULL, 10));
        else if (da != db)
            c = da ? 1 : -1;
        else {
            c = strncmp(a, b, na < nb ? na : nb);
            if (!c)
                c = cmp_long((long)na, (long)nb);
        }
        if (c)
            return c;
        a += na + (a[na] == '.');
        b += nb + (b[nb] == '.');
    }
    return (*a != 0) - (*b != 0);
}

/* Rank of the pre-release part: a dev release of a final version sorts
 * before its pre-releases; no pre-release sorts after all of them. */
static void pre_key(const larder_version *v, int *kind, long *num)
{
    if (v->pre_kind) {
        *kind = v->pre_kind;
        *num = v->pre;
    } else if (v->has_dev && !v->has_post) {
        *kind = 0;  /* below 'a' */
        *num = 0;
    } else {
        *kind = 'z';
        *num = 0;
    }
}

static int cmp_public(const larder_version *a, const larder_version *b)
{
    int c = cmp_long(a->epoch, b->epoch);
    if (c || (c = cmp_release(a, b)))
        return c;
    int ka, kb;
    long na, nb;
    pre_key(a, &ka, &na);
    pre_key(b, &kb, &nb);
    if ((c = cmp_long(ka, kb)) || (c = cmp_long(na, nb)))
        return c;
    if ((c = cmp_long(a->has_post ? a->post : -1, b->has_post ? b->post : -1)))
        return c;
    return cmp_long(a->has_dev ? a->dev : __LONG_MAX__, b->has_dev ? b->dev : __LONG_MAX__);
}

int larder_version_cmp(const larder_version *a, const larder_version *b)
{
    int c = cmp_public(a, b);
    return c ? c : cmp_local(a->local, b->local);
}

int larder_version_is_pre(const larder_version *v) { return v->pre_kind || v->has_dev; }

/* One clause "OPvalue" against v; -1 when malformed. */
static int match_one(const char *clause, const larder_version *v)
{
    static const char *const ops[] = {"===", "~=", "==", "!=", "<=", ">=", "<", ">"};
    const char *op = NULL;
    for (size_t i = 0; i < sizeof ops / sizeof *ops && !op; i++)
        if (!strncmp(clause, ops[i], strlen(ops[i])))
            op = ops[i];
    if (!op)
        return -1;
    const char *value = clause + strlen(op);
    while (isspace((unsigned char)*value))
        value++;
    if (!strcmp(op, "==="))
        return 0;  /* arbitrary equality: the caller compares the text */
    char text[128];
    size_t n = strlen(value);
    int wildcard = n >= 2 && !strcmp(value + n - 2, ".*");
    if (wildcard && strcmp(op, "==") && strcmp(op, "!="))
        return -1;
    if (snprintf(text, sizeof text, "%.*s", (int)(wildcard ? n - 2 : n), value) >= (int)sizeof text)
        return -1;
    larder_version s;
    if (!larder_version_parse(text, &s))
        return -1;
    larder_version pub = *v;
    if (!s.local[0])
        pub.local[0] = '\0';  /* a local label is ignored unless the specifier has one */
    if (!strcmp(op, "==") || !strcmp(op, "!=")) {
        int eq;
        if (wildcard) {  /* prefix match on the release (and what the prefix names) */
            eq = v->epoch == s.epoch;
            for (int i = 0; eq && i < s.n_release; i++)
                eq = (i < v->n_release ? v->release[i] : 0) == s.release[i];
            if (eq && (s.pre_kind || s.has_post || s.has_dev))
                eq = cmp_public(v, &s) >= 0 && v->pre_kind == s.pre_kind && v->pre == s.pre;
        } else {
            eq = larder_version_cmp(&pub, &s) == 0;
        }
        return op[0] == '=' ? eq : !eq;
    }
    if (!strcmp(op, "~=")) {
        if (s.n_release < 2)
            return -1;
        if (cmp_public(v, &s) < 0 || v->epoch != s.epoch)
            return 0;
        for (int i = 0; i < s.n_release - 1; i++)
            if ((i < v->n_release ? v->release[i] : 0) != s.release[i])
                return 0;
        return 1;
    }
    int c = cmp_public(&pub, &s);
    if (!strcmp(op, "<="))
        return c <= 0;
    if (!strcmp(op, ">="))
        return c >= 0;
    if (!strcmp(op, "<")) {
        /* not a pre-release of the named version unless it is one itself */
        if (c >= 0)
            return 0;
        if (!larder_version_is_pre(&s) && larder_version_is_pre(v) && v->epoch == s.epoch && cmp_release(v, &s) == 0)
            return 0;
        return 1;
    }
    /* ">": not a post-release or local version of the named version */
    if (c <= 0)
        return 0;
    if (!s.has_post && v->has_post && v->epoch == s.epoch && cmp_release(v, &s) == 0 && !v->pre_kind && !s.pre_kind)
        return 0;
    return 1;
}

/* The next comma-separated clause of a specifier at *p into clause
 * (trimmed); 0 at the end, -1 when a clause does not fit. */
static int next_clause(const char **p, char *clause, size_t size)
{
    *p += strspn(*p, " ,");
    size_t n = strcspn(*p, ",");
    if (!n)
        return 0;
    const char *start = *p;
    *p += n;
    while (n && isspace((unsigned char)start[n - 1]))
        n--;
    if (n >= size)
        return -1;
    memcpy(clause, start, n);
    clause[n] = '\0';
    return 1;
}

int larder_specifier_match(const char *spec, const char *version_text, const larder_version *v)
{
    char clause[160];
    int got;
    for (const char *p = spec; (got = next_clause(&p, clause, sizeof clause)) != 0;) {
        if (got < 0)
            return -1;
        int m = match_one(clause, v);
        if (m < 0)
            return -1;
        if (!strncmp(clause, "===", 3)) {
            const char *want = clause + 3;
            want += strspn(want, " ");
            m = strcasecmp(want, version_text) == 0;
        }
        if (!m)
            return 0;
    }
    return 1;
}

int larder_specifier_names_pre(const char *spec)
{
    char clause[160];
    for (const char *p = spec; next_clause(&p, clause, sizeof clause) > 0;) {
        const char *value = clause + strspn(clause, "=!<>~ ");
        char *star = strstr(clause, ".*");
        if (star)
            *star = '\0';
        larder_version v;
        if (larder_version_parse(value, &v) && larder_version_is_pre(&v))
            return 1;
    }
    return 0;
}

/* PEP 508: NAME [EXTRAS] (SPECIFIERS | "(" SPECIFIERS ")" | "@" URL) [";" MARKER] */
larder_code larder_requirement_parse(const char *text, larder_requirement *req, larder_error *err)
{
    memset(req, 0, sizeof *req);
    const char *p = text;
    while (isspace((unsigned char)*p))
        p++;
    size_t n = 0;
    while (isalnum((unsigned char)p[n]) || p[n] == '-' || p[n] == '_' || p[n] == '.')
        n++;
    if (!n || !isalnum((unsigned char)p[0]) || n >= sizeof req->display)
        return larder_fail(err, LARDER_EINVAL, "requirement \"%s\": no project name at its start", text);
    snprintf(req->display, sizeof req->display, "%.*s", (int)n, p);
    larder_normalize_name(req->display, req->name, sizeof req->name);
    p += n;
    while (isspace((unsigned char)*p))
        p++;
    if (*p == '[') {
        const char *close = strchr(p, ']');
        if (!close)
            return larder_fail(err, LARDER_EINVAL, "requirement \"%s\": unclosed '[' of its extras", text);
        size_t o = 0;
        for (const char *e = p + 1; e < close;) {
            e += strspn(e, " ,");
            size_t m = strcspn(e, " ,]");
            if (!m)
                break;
            char raw[128], norm[128];
            if (m >= sizeof raw)
                return larder_fail(err, LARDER_EINVAL, "requirement \"%s\": an extra's name is too long", text);
            snprintf(raw, sizeof raw, "%.*s", (int)m, e);
            larder_normalize_name(raw, norm, sizeof norm);
            int w = snprintf(req->extras + o, sizeof req->extras - o, "%s%s", o ? "," : "", norm);
            if (w < 0 || (size_t)w >= sizeof req->extras - o)
                return larder_fail(err, LARDER_EINVAL, "requirement \"%s\": too many extras", text);
            o += (size_t)w;
            e += m;
        }
        p = close + 1;
    }
    while (isspace((unsigned char)*p))
        p++;
    if (*p == '@')
        return larder_fail(err, LARDER_EINVAL, "requirement \"%s\": direct URL references are not supported; "
                           "download the file and publish it with larder-build and `larder-mirror publish`", text);
    const char *semi = strchr(p, ';');
    size_t spec_len = semi ? (size_t)(semi - p) : strlen(p);
    size_t o = 0;
    for (size_t i = 0; i < spec_len; i++) {
        char c = p[i];
        if (isspace((unsigned char)c) || c == '(' || c == ')')
            continue;
        if (o + 1 >= sizeof req->spec)
            return larder_fail(err, LARDER_EINVAL, "requirement \"%s\": its version specifier is too long", text);
        req->spec[o++] = c;
    }
    req->spec[o] = '\0';
    if (req->spec[0]) {
        larder_version probe;
        larder_version_parse("0", &probe);
        if (larder_specifier_match(req->spec, "0", &probe) < 0)
            return larder_fail(err, LARDER_EINVAL, "requirement \"%s\": malformed version specifier \"%s\"", text,
                               req->spec);
    }
    if (semi) {
        const char *m = semi + 1;
        while (isspace((unsigned char)*m))
            m++;
        if (snprintf(req->marker, sizeof req->marker, "%s", m) >= (int)sizeof req->marker)
            return larder_fail(err, LARDER_EINVAL, "requirement \"%s\": its marker is too long", text);
    }
    return LARDER_OK;
}
