/* test_common.c - common/'s file helpers on the host: atomic writes (and
 * never replacing with LARDER_WRITE_EXCLUSIVE), reads with limits, mkdir -p
 * with a file in the way, rm -rf without following links, temp dirs. */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/common.h"
#include "tap.h"

static char base[] = "/tmp/larder-test-common-XXXXXX";

static int entries(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static void test_write_read(void)
{
    char path[256], dir[200];
    larder_error err = {0};
    unsigned char *data = NULL;
    size_t len = 0;
    snprintf(dir, sizeof dir, "%s/w", base);
    snprintf(path, sizeof path, "%s/file", dir);
    CHECK(larder_mkdir_p(dir, &err) == LARDER_OK, "mkdir -p of a new directory");
    CHECK(larder_write_file(path, "one", 3, 0640, 0, &err) == LARDER_OK, "write a new file");
    CHECK(larder_write_file(path, "two!", 4, 0640, 0, &err) == LARDER_OK, "replace it");
    CHECK(larder_read_file(path, 100, &data, &len, &err) == LARDER_OK && len == 4 && !memcmp(data, "two!", 5),
          "read back the new contents, NUL-terminated");
    free(data);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640, "the file has the mode asked for");
    CHECK(larder_write_file(path, "three", 5, 0600, LARDER_WRITE_EXCLUSIVE, &err) == LARDER_EIO,
          "an exclusive write does not replace an existing file");
    CHECK_STR_HAS(err.message, "never replaced", "and says so");
    CHECK(larder_read_file(path, 100, &data, &len, &err) == LARDER_OK && len == 4, "the old contents stay");
    free(data);
    CHECK(entries(dir) == 1, "no temporary file is left behind");
    CHECK(larder_read_file(path, 3, &data, &len, &err) == LARDER_ETOOBIG && !data, "over the limit: too big");
    CHECK(larder_read_file(dir, 100, &data, &len, &err) == LARDER_EINVAL, "a directory is not a file to read");
    snprintf(path, sizeof path, "%s/missing", dir);
    CHECK(larder_read_file(path, 100, &data, &len, &err) == LARDER_ENOTFOUND, "a missing file: not found");
    CHECK_STR_HAS(err.message, path, "the message names the path");
    snprintf(path, sizeof path, "%s/nodir/file", dir);
    CHECK(larder_write_file(path, "x", 1, 0644, 0, &err) == LARDER_EIO, "no directory to write into: an error");
    char copy[256];
    snprintf(path, sizeof path, "%s/file", dir);
    snprintf(copy, sizeof copy, "%s/copy", dir);
    CHECK(larder_copy_file(path, copy, &err) == LARDER_OK, "copy a file");
    CHECK(larder_read_file(copy, 100, &data, &len, &err) == LARDER_OK && len == 4 && !memcmp(data, "two!", 4),
          "the copy has the same bytes");
    free(data);
}

static void test_dirs(void)
{
    char path[256], file[256], link_target[256], tmp[256];
    larder_error err = {0};
    snprintf(path, sizeof path, "%s/a/b/c", base);
    CHECK(larder_mkdir_p(path, &err) == LARDER_OK, "mkdir -p makes every parent");
    CHECK(larder_mkdir_p(path, &err) == LARDER_OK, "and is fine when it exists");
    snprintf(file, sizeof file, "%s/a/f", base);
    CHECK(larder_write_file(file, "f", 1, 0644, 0, &err) == LARDER_OK, "a file beside");
    snprintf(path, sizeof path, "%s/a/f/g", base);
    CHECK(larder_mkdir_p(path, &err) == LARDER_EIO, "a file in the way of mkdir -p is an error");
    /* rm -rf does not follow a link out of the tree */
    snprintf(link_target, sizeof link_target, "%s/outside", base);
    CHECK(larder_mkdir_p(link_target, &err) == LARDER_OK, "a directory outside");
    snprintf(path, sizeof path, "%s/outside/keep", base);
    CHECK(larder_write_file(path, "k", 1, 0644, 0, &err) == LARDER_OK, "with a file in it");
    snprintf(path, sizeof path, "%s/a/b/link", base);
    CHECK(symlink(link_target, path) == 0, "a link to it inside the tree");
    snprintf(path, sizeof path, "%s/a", base);
    CHECK(larder_rm_rf(path, &err) == LARDER_OK, "rm -rf the tree");
    CHECK(access(path, F_OK) != 0, "the tree is gone");
    snprintf(path, sizeof path, "%s/outside/keep", base);
    CHECK(access(path, F_OK) == 0, "what the link pointed to stays");
    snprintf(path, sizeof path, "%s/never-there", base);
    CHECK(larder_rm_rf(path, &err) == LARDER_OK, "rm -rf of nothing is fine");
    CHECK(larder_mkdtemp(base, "t", tmp, sizeof tmp, &err) == LARDER_OK && strncmp(tmp, base, strlen(base)) == 0,
          "a temporary directory inside the parent");
    struct stat st;
    CHECK(stat(tmp, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700, "private (0700)");
    CHECK(larder_mkdtemp("/nonexistent-parent", "t", tmp, sizeof tmp, &err) == LARDER_EIO, "no parent: an error");
    CHECK_STR_HAS(err.message, "/nonexistent-parent", "naming it");
}

int main(void)
{
    if (!mkdtemp(base))
        return 1;
    test_write_read();
    test_dirs();
    larder_error err;
    CHECK(larder_rm_rf(base, &err) == LARDER_OK, "clean up");
    return tap_done();
}
