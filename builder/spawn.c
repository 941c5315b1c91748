/* spawn.c - run a helper program, feed its stdin, collect stdout and stderr. */
#include "internal.h"

#include <errno.h>
#include <poll.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

typedef struct sink {
    char *data;
    size_t len, cap, max;
} sink;

static int sink_read(int fd, sink *s)
{
    char buf[65536];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0)
        return (int)n;
    size_t keep = s->len + (size_t)n > s->max ? s->max - s->len : (size_t)n;
    if (s->len + keep + 1 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 65536;
        while (cap < s->len + keep + 1)
            cap *= 2;
        char *more = realloc(s->data, cap);
        if (!more)
            return -1;
        s->data = more;
        s->cap = cap;
    }
    memcpy(s->data + s->len, buf, keep);
    s->len += keep;
    s->data[s->len] = '\0';
    return 1;
}

larder_code builder_run_capture(char *const argv[], const char *input, size_t input_len, char **out,
                               size_t *out_len, larder_error *err)
{
    int in[2], op[2], ep[2];
    *out = NULL;
    *out_len = 0;
    if (pipe(in) != 0 || pipe(op) != 0 || pipe(ep) != 0)
        return larder_fail(err, LARDER_EIO, "pipe: %s", strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, op[1], 1);
    posix_spawn_file_actions_adddup2(&fa, ep[1], 2);
    int fds[] = {in[0], in[1], op[0], op[1], ep[0], ep[1]};
    for (size_t i = 0; i < 6; i++)
        posix_spawn_file_actions_addclose(&fa, fds[i]);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(op[1]);
    close(ep[1]);
    if (rc != 0) {
        close(in[1]);
        close(op[0]);
        close(ep[0]);
        return larder_fail(err, LARDER_EIO, "cannot run %s: %s", argv[0], strerror(rc));
    }
    sink o = {.max = (size_t)1 << 30}, e = {.max = 4096};
    size_t off = 0;
    int in_open = 1, out_open = 1, err_open = 1;
    if (input_len == 0) {
        close(in[1]);
        in_open = 0;
    }
    while (out_open || err_open || in_open) {
        struct pollfd p[3] = {{op[0], out_open ? POLLIN : 0, 0}, {ep[0], err_open ? POLLIN : 0, 0},
                              {in[1], in_open ? POLLOUT : 0, 0}};
        if (poll(p, 3, -1) < 0 && errno != EINTR)
            break;
        if (out_open && (p[0].revents & (POLLIN | POLLHUP)) && sink_read(op[0], &o) <= 0)
            out_open = 0;
        if (err_open && (p[1].revents & (POLLIN | POLLHUP)) && sink_read(ep[0], &e) <= 0)
            err_open = 0;
        if (in_open && (p[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t w = (p[2].revents & POLLOUT) ? write(in[1], input + off, input_len - off) : -1;
            if (w > 0)
                off += (size_t)w;
            if (w <= 0 || off == input_len) {
                close(in[1]);
                in_open = 0;
            }
        }
    }
    close(op[0]);
    close(ep[0]);
    int status;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        size_t n = e.len;
        while (n && (e.data[n - 1] == '\n' || e.data[n - 1] == '\r'))
            e.data[--n] = '\0';
        const char *last = e.data ? strrchr(e.data, '\n') : NULL;
        larder_fail(err, LARDER_EINVAL, "%s failed: %s", argv[0],
                    e.data && e.data[0] ? (last ? last + 1 : e.data) : "it exited with an error");
        free(o.data);
        free(e.data);
        return LARDER_EINVAL;
    }
    free(e.data);
    *out = o.data;
    *out_len = o.len;
    return LARDER_OK;
}
