/*
 * bench_store.c: how many durable atomic replaces (store_count_write with
 * fsync) a filesystem sustains, the ceiling of --sync always before group
 * commit multiplies it by the batch size. Not a test: run it by hand.
 *
 *   bench_store DIR [N]    N writes into DIR (default 2000), prints commits/s
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/store.h"

static double bench_now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs n writes; returns seconds taken, or a negative value on error. */
static double bench_run(const char *dir, uint64_t n, int do_fsync)
{
    double t0 = bench_now_s();

    for (uint64_t i = 1; i <= n; i++) {
        int rc = store_count_write(dir, i, do_fsync);

        if (rc < 0) {
            fprintf(stderr, "bench_store: write %" PRIu64 " to %s failed: %s\n", i, dir,
                    strerror(-rc));
            return -1;
        }
    }
    return bench_now_s() - t0;
}

int main(int argc, char **argv)
{
    uint64_t n = 2000;
    char *end;
    double s;

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: bench_store DIR [N]\n");
        return 2;
    }
    if (argc == 3) {
        errno = 0;
        n = strtoull(argv[2], &end, 10);
        if (errno || end == argv[2] || *end || n == 0 || argv[2][0] == '-') {
            fprintf(stderr, "bench_store: N must be a positive integer, got \"%s\"\n", argv[2]);
            return 2;
        }
    }
    s = bench_run(argv[1], n, 1);
    if (s < 0)
        return 1;
    printf("atomic replace with fsync:    %" PRIu64 " commits in %.3f s = %.0f commits/s\n", n, s,
           (double)n / s);
    s = bench_run(argv[1], n, 0);
    if (s < 0)
        return 1;
    printf("atomic replace without fsync: %" PRIu64 " commits in %.3f s = %.0f commits/s\n", n, s,
           (double)n / s);
    return 0;
}
