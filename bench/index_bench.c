/*
 * index_bench.c - time parse + resolve of an index file on the host.
 *
 *   index_bench FILE PACKAGE REPEAT
 *
 * Prints one line per repetition: "parse_ms resolve_ms closure_size".
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../index/index.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: index_bench FILE PACKAGE REPEAT\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc((size_t)size);
    if (!data || fread(data, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 1;
    }
    fclose(f);
    for (int r = 0; r < atoi(argv[3]); r++) {
        larder_error err;
        double t0 = now_ms();
        larder_index *index = larder_index_parse(data, (size_t)size, &err);
        double t1 = now_ms();
        if (!index) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
        const larder_package **order;
        size_t n;
        const char *name = argv[2];
        if (larder_index_resolve(index, &name, 1, &order, &n, &err) != LARDER_OK) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
        double t2 = now_ms();
        printf("%.3f %.3f %zu\n", t1 - t0, t2 - t1, n);
        free(order);
        larder_index_free(index);
    }
    free(data);
    return 0;
}
