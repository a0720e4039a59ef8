/*
 * bench_store.c: how many durable commits a filesystem sustains, the ceiling
 * of --sync always before group commit multiplies it by the batch size, for
 * both ways of writing the count file: atomic replace (store_count_write:
 * temp, fsync, rename, fsync dir), which creates the file, and overwriting in
 * place (store_count_overwrite: pwrite + fdatasync), which tallyd uses for
 * every later write. Not a test: run it by hand.
 *
 *   bench_store DIR [N]    N writes per mode into DIR (default 2000),
 *                          prints commits/s for each
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* Creates the file by atomic replace, then n writes in place (counting on
 * from the created value, as tallyd does); returns seconds taken for the
 * writes in place, or a negative value on error. */
static double bench_run_in_place(const char *dir, uint64_t n, int do_fsync)
{
    struct store_file_id id;
    double t0, t;
    int fd, rc;

    rc = store_count_write(dir, 1, 1);
    if (rc == 0)
        rc = store_count_open(dir, &fd, &id);
    if (rc < 0) {
        fprintf(stderr, "bench_store: creating the count file in %s failed: %s\n", dir,
                strerror(-rc));
        return -1;
    }
    t0 = bench_now_s();
    for (uint64_t i = 2; i <= n + 1; i++) {
        rc = store_count_overwrite(fd, i - 1, i, do_fsync);
        if (rc < 0) {
            fprintf(stderr, "bench_store: overwrite %" PRIu64 " in %s failed: %s\n", i, dir,
                    strerror(-rc));
            close(fd);
            return -1;
        }
    }
    t = bench_now_s() - t0;
    close(fd);
    return t;
}

static void bench_print(const char *what, uint64_t n, double s)
{
    printf("%-30s %" PRIu64 " commits in %.3f s = %.0f commits/s\n", what, n, s, (double)n / s);
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
    bench_print("atomic replace with fsync:", n, s);
    s = bench_run_in_place(argv[1], n, 1);
    if (s < 0)
        return 1;
    bench_print("in place with fdatasync:", n, s);
    s = bench_run(argv[1], n, 0);
    if (s < 0)
        return 1;
    bench_print("atomic replace without fsync:", n, s);
    s = bench_run_in_place(argv[1], n, 0);
    if (s < 0)
        return 1;
    bench_print("in place without fdatasync:", n, s);
    return 0;
}
