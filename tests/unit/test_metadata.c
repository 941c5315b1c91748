/* test_metadata.c - builder/metadata.c: core metadata, requires.txt and
 * PEP 508 markers for the emscripten/wasm32/CPython 3.11 target. */
#include <stdlib.h>

#include "../../builder/builder.h"
#include "tap.h"

static int eval(const char *marker, const char *const *extras)
{
    int result = -1;
    larder_error err;
    if (larder_marker_eval(marker, &larder_default_target, extras, &result, &err) != LARDER_OK)
        return -1;
    return result;
}

static void test_markers(void)
{
    const char *plot[] = {"Plot", NULL};
    CHECK(eval("python_version >= \"3.7\"", NULL) == 1, "python_version >= 3.7");
    CHECK(eval("python_version < '3.8'", NULL) == 0, "python_version < 3.8 is false");
    CHECK(eval("python_version == \"3.11\"", NULL) == 1, "python_version == 3.11");
    CHECK(eval("python_full_version >= '3.11.1' and python_full_version < '3.12'", NULL) == 1,
          "and of two full-version comparisons");
    CHECK(eval("python_version == '3.11.*'", NULL) == 1, "prefix match 3.11.*");
    CHECK(eval("python_version == '3.1.*'", NULL) == 0, "3.1.* does not match 3.11");
    CHECK(eval("python_version ~= '3.9'", NULL) == 1, "~= 3.9 holds for 3.11");
    CHECK(eval("sys_platform == 'win32' or sys_platform == 'emscripten'", NULL) == 1, "or");
    CHECK(eval("sys_platform != 'emscripten'", NULL) == 0, "sys_platform is emscripten");
    CHECK(eval("platform_machine == 'wasm32' and (os_name == 'nt' or platform_system == 'Emscripten')", NULL) == 1,
          "parentheses");
    CHECK(eval("'linux' in sys_platform", NULL) == 0, "in");
    CHECK(eval("'linux' not in sys_platform", NULL) == 1, "not in");
    CHECK(eval("implementation_name == 'cpython' and platform_python_implementation == 'CPython'", NULL) == 1,
          "implementation");
    CHECK(eval("extra == 'plot'", NULL) == 0, "an extra not asked for is off");
    CHECK(eval("extra == 'plot'", plot) == 1, "an asked extra is on (names normalised)");
    CHECK(eval("python_version >= '3' and extra == \"plot\"", plot) == 1, "extra combined with a version");
    CHECK(eval("python_version >", NULL) == -1, "a truncated marker is an error");
    CHECK(eval("frobnicate == '1'", NULL) == -1, "an unknown variable is an error");
    CHECK(eval("python_version == '3.11' garbage", NULL) == -1, "trailing text is an error");
    CHECK(eval("(python_version == '3.11'", NULL) == -1, "an unclosed parenthesis is an error");
}

static void test_metadata(void)
{
    const char text[] = "Metadata-Version: 2.1\nName: Foo.Bar\nVersion: 2.0\n"
                        "Requires-Dist: six (>=1.5)\nRequires-Dist: colorama ; sys_platform == \"win32\"\n"
                        "Requires-Dist: Attrs>=20 ; python_version >= \"3.6\"\nRequires-Dist: six\n"
                        "\nRequires-Dist: not-a-header-but-description\n";
    larder_metadata md;
    larder_error err;
    char **names;
    size_t n;
    CHECK(larder_metadata_parse(text, sizeof text - 1, "test", &md, &err) == LARDER_OK, "METADATA parses");
    CHECK(!strcmp(md.name, "Foo.Bar") && !strcmp(md.version, "2.0") && md.n_requires == 4,
          "name, version and requirements up to the body");
    CHECK(larder_requirements_eval(&md, &larder_default_target, NULL, &names, &n, &err) == LARDER_OK && n == 2
              && !strcmp(names[0], "six") && !strcmp(names[1], "attrs"),
          "requirements filtered by marker, normalised and deduplicated");
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    const char req[] = "numpy>=1.0\n\n[plot]\nmatplotlib\n\n[:sys_platform == \"win32\"]\npywin32\n\n"
                       "[all:python_version < \"3.11\"]\nunicodedata2\n[all:python_version >= \"3.11\"]\nscipy\n";
    CHECK(larder_metadata_add_requires_txt(&md, req, sizeof req - 1, &err) == LARDER_OK, "requires.txt parses");
    const char *all[] = {"all", NULL};
    CHECK(larder_requirements_eval(&md, &larder_default_target, all, &names, &n, &err) == LARDER_OK && n == 4
              && !strcmp(names[2], "numpy") && !strcmp(names[3], "scipy"),
          "requires.txt sections: [extra], [:marker], [extra:marker]");
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    larder_metadata_clear(&md);

    CHECK(larder_metadata_parse("Name: x\n", 8, "PKG-INFO", &md, &err) == LARDER_EINVAL, "no Version: refused");
    CHECK_STR_HAS(err.message, "PKG-INFO: core metadata lacks Version", "...naming the file and field");
    const char bad[] = "Name: x\nVersion: 1\nRequires-Dist: y ; python_version >>> '3'\n";
    CHECK(larder_metadata_parse(bad, sizeof bad - 1, "t", &md, &err) == LARDER_OK, "parses");
    CHECK(larder_requirements_eval(&md, &larder_default_target, NULL, &names, &n, &err) == LARDER_EINVAL,
          "a malformed marker in a requirement is an error");
    CHECK_STR_HAS(err.message, "x: requirement \"y ; python_version >>> '3'\"", "...naming the requirement");
    larder_metadata_clear(&md);
}


static int vcmp(const char *a, const char *b)
{
    larder_version va, vb;
    if (!larder_version_parse(a, &va) || !larder_version_parse(b, &vb))
        return 99;
    int c = larder_version_cmp(&va, &vb);
    return c < 0 ? -1 : c > 0;
}

static int matches(const char *spec, const char *version)
{
    larder_version v;
    if (!larder_version_parse(version, &v))
        return 99;
    return larder_specifier_match(spec, version, &v);
}

static void test_versions(void)
{
    /* PEP 440's own ordering example, each below the next */
    static const char *const order[] = {"1.0.dev456", "1.0a1", "1.0a2.dev456", "1.0a12.dev456", "1.0a12",
                                        "1.0b1.dev456", "1.0b2", "1.0b2.post345.dev456", "1.0b2.post345",
                                        "1.0rc1.dev456", "1.0rc1", "1.0", "1.0+abc.5", "1.0+abc.7", "1.0+5",
                                        "1.0.post456.dev34", "1.0.post456", "1.1.dev1"};
    int sorted = 1;
    for (size_t i = 0; i + 1 < sizeof order / sizeof *order; i++)
        sorted &= vcmp(order[i], order[i + 1]) == -1;
    CHECK(sorted, "PEP 440's ordering example: 18 versions in order");
    CHECK(vcmp("1.0", "1.0.0") == 0 && vcmp("v1.0", "1.0") == 0 && vcmp("1.0-1", "1.0.post1") == 0
              && vcmp("1.0ALPHA1", "1.0a1") == 0 && vcmp("1.0c1", "1.0rc1") == 0 && vcmp("1!0.1", "2.0") == 1,
          "normalisation: trailing zeros, v, -N post, ALPHA, c, epochs");
    larder_version v;
    CHECK(!larder_version_parse("1.0foo", &v) && !larder_version_parse("", &v) && !larder_version_parse("1..0", &v),
          "malformed versions are refused");
    CHECK(matches(">=1.0,<2", "1.5") == 1 && matches(">=1.0,<2", "2.0") == 0, "a range");
    CHECK(matches("<2.0", "2.0a1") == 0 && matches("<2.0rc1", "2.0a1") == 1,
          "< excludes pre-releases of its version unless it names one");
    CHECK(matches(">1.7", "1.7.post1") == 0 && matches(">1.7.post1", "1.7.post2") == 1,
          "> excludes post-releases of its version");
    CHECK(matches("~=2.2", "2.9") == 1 && matches("~=2.2", "3.0") == 0 && matches("~=1.4.5", "1.4.9") == 1
              && matches("~=1.4.5", "1.5.0") == 0, "~= (compatible release)");
    CHECK(matches("==1.1.*", "1.1.post1") == 1 && matches("==1.1.*", "1.10") == 0 && matches("!=1.1.*", "1.2") == 1,
          "prefix matching with .*");
    CHECK(matches("==1.0", "1.0+local.7") == 1 && matches("==1.0+local.7", "1.0") == 0,
          "a local label is ignored unless the specifier has one");
    CHECK(matches("===1.0foo", "1.0") == 0 && matches("", "3") == 1, "=== compares text; no specifier matches all");
    CHECK(matches(">=1.0,<<2", "1.5") == -1 && matches("~=1", "1.5") == -1, "malformed specifiers are -1");
    CHECK(larder_specifier_names_pre(">=2.0b1") && !larder_specifier_names_pre(">=2.0,<3"),
          "a specifier naming a pre-release lets them in");

    larder_requirement r;
    larder_error err;
    CHECK(larder_requirement_parse("Rich[Jupyter, Extra_Two] (>= 13.0, < 14) ; python_version >= '3.8'", &r, &err)
                  == LARDER_OK
              && !strcmp(r.name, "rich") && !strcmp(r.display, "Rich") && !strcmp(r.extras, "jupyter,extra-two")
              && !strcmp(r.spec, ">=13.0,<14") && !strcmp(r.marker, "python_version >= '3.8'"),
          "a requirement: name, extras, parenthesised specifiers, marker");
    CHECK(larder_requirement_parse("six", &r, &err) == LARDER_OK && !r.spec[0] && !r.extras[0] && !r.marker[0],
          "a bare name");
    CHECK(larder_requirement_parse("pkg @ https://example.org/pkg.whl", &r, &err) == LARDER_EINVAL,
          "direct URL references are refused");
    CHECK_STR_HAS(err.message, "direct URL references are not supported", "...saying so");
    CHECK(larder_requirement_parse("foo >=> 1", &r, &err) == LARDER_EINVAL, "a malformed specifier is refused");
    CHECK_STR_HAS(err.message, "malformed version specifier", "...naming it");
}

int main(void)
{
    test_versions();
    test_markers();
    test_metadata();
    return tap_done();
}
