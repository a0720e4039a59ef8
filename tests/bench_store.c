/*
 * bench_store.c: how many durable commits a filesystem sustains, the ceiling
 * of --sync always before group commit multiplies it by the batch size, for
 * both ways of writing the count file: atomic replace (store_count_write:
 * temp, fsync, rename, fsync dir), which creates the file, and overwriting in
 * place (store_count_overwrite: pwrite + fdatasync), which tallyd uses for
 * every later write. Not a test: run it by hand.
 *
 * The last row runs the same in-place writes through the group commit
 * (node/store/commit.c: libuv loop, thread pool, one visit at a time, as with one
 * client): its difference to the direct row is what a write costs beyond
 * pwrite + fdatasync (thread hand-offs, the loop turn, the name check).
 * CPU is the process's user + system time per commit.
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
#include <sys/resource.h>
#include <unistd.h>
#include <uv.h>

#include "node/store/commit.h"
#include "node/store/count_file.h"

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

static double bench_cpu_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* One visit at a time through the group commit: each acknowledgement counts
 * the next visit, as a single client does. */
struct bench_chain {
    struct commit *c;
    uint64_t left;
    int status;
};

static void bench_on_visit(void *arg, int status, uint64_t value)
{
    struct bench_chain *b = arg;

    (void)value;
    if (status < 0) {
        b->status = status;
        return;
    }
    if (--b->left > 0 && commit_visit(b->c, bench_on_visit, b) < 0)
        b->status = -EIO;
}

static double bench_run_commit(const char *dir, uint64_t n)
{
    struct bench_chain b = {.left = n + 1};
    uv_loop_t loop;
    double t0 = 0;

    if (uv_loop_init(&loop) < 0 || commit_new(&loop, dir, COMMIT_SYNC_ALWAYS, 0, 0, &b.c) < 0)
        return -1;
    /* the first write creates the file; time the in-place ones after it */
    b.status = commit_visit(b.c, bench_on_visit, &b);
    while (b.status == 0 && b.left == n + 1)
        uv_run(&loop, UV_RUN_ONCE);
    t0 = bench_now_s();
    while (b.status == 0 && b.left > 0)
        uv_run(&loop, UV_RUN_ONCE);
    t0 = bench_now_s() - t0;
    if (commit_stats_get(b.c)->commits != n + 1)
        fprintf(stderr, "bench_store: %llu writes for %llu visits\n",
                (unsigned long long)commit_stats_get(b.c)->commits, (unsigned long long)n + 1);
    commit_close(b.c);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    if (b.status < 0) {
        fprintf(stderr, "bench_store: commit in %s failed: %s\n", dir, strerror(-b.status));
        return -1;
    }
    return t0;
}

static double bench_cpu_mark;

static void bench_print(const char *what, uint64_t n, double s)
{
    double cpu = bench_cpu_s();

    printf("%-34s %" PRIu64 " commits in %.3f s = %.0f commits/s, %.1f us each, CPU %.1f us\n",
           what, n, s, (double)n / s, s / (double)n * 1e6,
           (cpu - bench_cpu_mark) / (double)n * 1e6);
    bench_cpu_mark = cpu;
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
    bench_cpu_mark = bench_cpu_s();
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
    s = bench_run_in_place(argv[1], n, 1);
    if (s < 0)
        return 1;
    bench_print("in place with fdatasync (again):", n, s);
    s = bench_run_commit(argv[1], n);
    if (s < 0)
        return 1;
    bench_print("group commit, one visit a time:", n, s);
    return 0;
}
