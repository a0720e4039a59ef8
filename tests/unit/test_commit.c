/*
 * test_commit.c: unit tests for group commit (node/store/commit.c) on a real libuv
 * loop and a real temporary directory.
 *
 * fsync and fdatasync are wrapped at link time (tests/store.cmake) to count
 * calls from the thread pool, which tells an atomic replace (fsync of the file
 * and the directory) from an in-place write (fdatasync) and an fsync'ed write
 * from one that is not; pwrite and fdatasync can be made to fail once, which
 * is how an in-place write meets EIO. Other write failures are made real: the data directory is
 * removed (permissions do not stop root) and recreated when "the disk comes back". The only waiting
 * is uv_run on short libuv timers (tens of milliseconds); nothing sleeps.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "node/store/commit.h"
#include "node/store/count_file.h"

static atomic_int fsync_calls;
static atomic_int fdatasync_calls;
static atomic_int pwrite_calls;
static atomic_int fail_pwrite;    /* errno for the next pwrite, 0: none */
static atomic_int fail_fdatasync; /* errno for the next fdatasync, 0: none */

int __real_fsync(int fd);
int __wrap_fsync(int fd);
int __real_fdatasync(int fd);
int __wrap_fdatasync(int fd);
ssize_t __real_pwrite(int fd, const void *buf, size_t len, off_t off);
ssize_t __wrap_pwrite(int fd, const void *buf, size_t len, off_t off);

int __wrap_fsync(int fd)
{
    atomic_fetch_add(&fsync_calls, 1);
    return __real_fsync(fd);
}

int __wrap_fdatasync(int fd)
{
    int err = atomic_exchange(&fail_fdatasync, 0);

    atomic_fetch_add(&fdatasync_calls, 1);
    if (err) {
        errno = err;
        return -1;
    }
    return __real_fdatasync(fd);
}

ssize_t __wrap_pwrite(int fd, const void *buf, size_t len, off_t off)
{
    int err = atomic_exchange(&fail_pwrite, 0);

    atomic_fetch_add(&pwrite_calls, 1);
    if (err) {
        errno = err;
        return -1;
    }
    return __real_pwrite(fd, buf, len, off);
}

#define MAX_CALLS 256

struct fixture {
    uv_loop_t loop;
    char dir[64];
    char sub[96]; /* a data dir the failure test removes and restores */
    struct commit *c;
    /* visit callbacks, in the order they ran */
    int calls;
    int status[MAX_CALLS];
    uint64_t value[MAX_CALLS];
    uint64_t on_disk[MAX_CALLS]; /* file content when the callback ran */
    const char *data_dir;
    /* flush callbacks */
    int flushes;
    int flush_status;
    int flush_after_calls; /* visit callbacks seen when the flush finished */
    int revive_on_failure; /* recreate sub in the first failing callback */
};

/* The count in data_dir/visits.txt, 0 if there is none. */
static uint64_t disk_count(const char *dir)
{
    char path[160], buf[64], why[128];
    uint64_t v = 0;
    size_t n;
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, STORE_FILE_NAME);
    /* The next write may be in flight while a callback reads (the commit
     * starts it before answering): a read straddling an in-place write that
     * adds a digit can see a mix, so read until two reads agree, as an
     * outside reader of a live file must. */
    for (int tries = 0;; tries++) {
        char again[64];
        size_t n2;
        f = fopen(path, "rb");
        if (!f)
            return 0;
        n = fread(buf, 1, sizeof(buf), f);
        rewind(f);
        n2 = fread(again, 1, sizeof(again), f);
        fclose(f);
        if ((n == n2 && memcmp(buf, again, n) == 0) || tries == 8)
            break;
    }
    if (count_text_parse(buf, n, &v, why, sizeof(why)) != 0)
        fail_msg("%s: %s", path, why);
    return v;
}

static void on_visit(void *arg, int status, uint64_t value)
{
    struct fixture *fx = arg;

    assert_true(fx->calls < MAX_CALLS);
    fx->status[fx->calls] = status;
    fx->value[fx->calls] = value;
    fx->on_disk[fx->calls] = disk_count(fx->data_dir);
    fx->calls++;
    if (status < 0 && fx->revive_on_failure) {
        fx->revive_on_failure = 0;
        assert_int_equal(mkdir(fx->sub, 0755), 0);
    }
}

static void on_flush(void *arg, int status)
{
    struct fixture *fx = arg;

    fx->flushes++;
    fx->flush_status = status;
    fx->flush_after_calls = fx->calls;
}

static int fx_setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));

    assert_non_null(fx);
    assert_int_equal(uv_loop_init(&fx->loop), 0);
    memcpy(fx->dir, "/tmp/tally-commit-XXXXXX", sizeof("/tmp/tally-commit-XXXXXX"));
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->sub, sizeof(fx->sub), "%s/data", fx->dir);
    fx->data_dir = fx->dir;
    atomic_store(&fsync_calls, 0);
    atomic_store(&fdatasync_calls, 0);
    atomic_store(&pwrite_calls, 0);
    atomic_store(&fail_pwrite, 0);
    atomic_store(&fail_fdatasync, 0);
    *state = fx;
    return 0;
}

static void remove_data_dir(const char *dir)
{
    char path[160];

    snprintf(path, sizeof(path), "%s/%s", dir, STORE_FILE_NAME);
    unlink(path);
    snprintf(path, sizeof(path), "%s/%s", dir, STORE_TEMP_NAME);
    unlink(path);
    rmdir(dir);
}

static int fx_teardown(void **state)
{
    struct fixture *fx = *state;

    remove_data_dir(fx->sub);
    remove_data_dir(fx->dir);
    free(fx);
    return 0;
}

/* Close the commit and check the loop ends with nothing left open. */
static void fx_close(struct fixture *fx)
{
    commit_close(fx->c);
    fx->c = NULL;
    assert_int_equal(uv_run(&fx->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&fx->loop), 0);
}

/* Run the loop until *flag reaches want; fails if the loop runs dry first. */
static void run_until_calls(struct fixture *fx, const int *flag, int want)
{
    while (*flag < want)
        if (uv_run(&fx->loop, UV_RUN_ONCE) == 0 && *flag < want)
            fail_msg("loop ran dry at %d of %d", *flag, want);
}

static void run_until_durable(struct fixture *fx, uint64_t want)
{
    while (commit_durable_count(fx->c) < want)
        if (uv_run(&fx->loop, UV_RUN_ONCE) == 0 && commit_durable_count(fx->c) < want)
            fail_msg("loop ran dry at durable %llu of %llu",
                     (unsigned long long)commit_durable_count(fx->c), (unsigned long long)want);
}

static uint64_t bucket_total(const uint64_t *b)
{
    uint64_t t = 0;

    for (int i = 0; i <= COMMIT_HIST_BOUNDS; i++)
        t += b[i];
    return t;
}

/* ------------------------------------------------------------------------ */
/* ALWAYS                                                                    */
/* ------------------------------------------------------------------------ */

static void test_always_group_commit(void **state)
{
    struct fixture *fx = *state;
    const struct commit_stats *st;

    assert_int_equal(commit_new(&fx->loop, fx->dir, COMMIT_SYNC_ALWAYS, 0, 0, &fx->c), 0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(commit_visit(fx->c, on_visit, fx), 0);
    /* Nothing is acknowledged before a write returned. */
    assert_int_equal(fx->calls, 0);
    assert_int_equal(commit_count(fx->c), 100);
    assert_int_equal(commit_pending(fx->c), 100);

    assert_int_equal(uv_run(&fx->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(fx->calls, 100);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(fx->status[i], 0);
        /* values 1..100, each exactly once (in visit order) */
        assert_int_equal(fx->value[i], (uint64_t)i + 1);
        /* acknowledged only once the file holds it */
        if (fx->on_disk[i] < fx->value[i])
            fail_msg("visit %llu acknowledged with %llu on disk", (unsigned long long)fx->value[i],
                     (unsigned long long)fx->on_disk[i]);
    }
    assert_int_equal(disk_count(fx->dir), 100);
    assert_int_equal(commit_durable_count(fx->c), 100);
    assert_int_equal(commit_pending(fx->c), 0);
    assert_int_equal(commit_last_error(fx->c), 0);

    /* All 100 were counted in one loop turn: one write carries them. */
    st = commit_stats_get(fx->c);
    assert_int_equal(st->commits, 1);
    assert_int_equal(st->commit_errors, 0);
    assert_int_equal(st->visits_durable, 100);
    assert_int_equal(st->batch_sum, 100);
    assert_int_equal(st->batch_buckets[7], 1); /* le 128 */
    assert_int_equal(bucket_total(st->batch_buckets), 1);
    assert_int_equal(bucket_total(st->latency_buckets), 1);
    assert_true(st->latency_sum_s > 0);
    /* That write created the file (file and directory fsync'ed). */
    assert_int_equal(atomic_load(&fsync_calls), 2);
    assert_int_equal(atomic_load(&pwrite_calls), 0);
    assert_int_equal(atomic_load(&fdatasync_calls), 0);
    assert_int_equal(st->creates, 1);
    fx_close(fx);
}

static int visit_one(struct fixture *fx);

/* One loop turn: the write due is started by the check handle after the
 * poll, and nothing is acknowledged yet. */
static void start_write(struct fixture *fx)
{
    uint64_t written = commit_stats_get(fx->c)->commits;

    uv_run(&fx->loop, UV_RUN_NOWAIT);
    assert_int_equal(commit_pending(fx->c), commit_count(fx->c) - commit_durable_count(fx->c));
    assert_int_equal(commit_stats_get(fx->c)->commits, written);
}

/* What a client does when its answer arrives: its next request comes in on
 * a socket the loop polls. A socket pair stands in for it: a byte written
 * while the loop answers is seen by the next poll, like a request that
 * arrived while the loop was answering. */
static uv_poll_t client_poll;
static int client_fds[2];
static int client_visits_left;

static void on_client_request(uv_poll_t *p, int status, int events)
{
    struct fixture *fx = p->data;
    char byte;

    assert_int_equal(status, 0);
    assert_true(events & UV_READABLE);
    assert_int_equal(read(client_fds[0], &byte, 1), 1);
    assert_int_equal(commit_visit(fx->c, on_visit, fx), 0);
    uv_close((uv_handle_t *)p, NULL);
}

static void on_visit_then_client(void *arg, int status, uint64_t value)
{
    struct fixture *fx = arg;

    on_visit(arg, status, value);
    if (client_visits_left > 0) {
        client_visits_left--;
        /* one visit counted right here, one arriving "on the socket" */
        assert_int_equal(commit_visit(fx->c, on_visit, fx), 0);
        assert_int_equal(write(client_fds[1], "v", 1), 1);
    }
}

/* Redis's shape: the write after a batch starts only once the batch is
 * answered and the loop has read what is ready. Visits that waited during
 * the first write, one counted by an acknowledgement and one that arrives
 * in the poll after the answers all ride in ONE second write (starting the
 * next write before answering would have split them over two or three). */
static void test_always_next_write_after_answers(void **state)
{
    struct fixture *fx = *state;
    const struct commit_stats *st;

    assert_int_equal(commit_new(&fx->loop, fx->dir, COMMIT_SYNC_ALWAYS, 0, 0, &fx->c), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, client_fds), 0);
    assert_int_equal(uv_poll_init(&fx->loop, &client_poll, client_fds[0]), 0);
    client_poll.data = fx;
    assert_int_equal(uv_poll_start(&client_poll, UV_READABLE, on_client_request), 0);
    client_visits_left = 1;
    assert_int_equal(commit_visit(fx->c, on_visit_then_client, fx), 0);
    start_write(fx); /* write 1: one visit */
    for (int i = 0; i < 3; i++)
        assert_int_equal(commit_visit(fx->c, on_visit, fx), 0); /* wait for write 2 */
    assert_int_equal(uv_run(&fx->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(fx->calls, 6);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(fx->status[i], 0);
        assert_true(fx->on_disk[i] >= fx->value[i]);
    }
    st = commit_stats_get(fx->c);
    assert_int_equal(st->commits, 2);
    assert_int_equal(st->batch_sum, 6);
    assert_int_equal(st->batch_buckets[0], 1); /* le 1: write 1 */
    assert_int_equal(st->batch_buckets[3], 1); /* le 8: write 2 carried 5 */
    assert_int_equal(disk_count(fx->dir), 6);
    fx_close(fx);
    close(client_fds[0]);
    close(client_fds[1]);
}

/* The durable-change callback: each rise reported once, in order, with the
 * count the file holds, before the visits it made durable are answered. */
struct durable_log {
    struct fixture *fx;
    int n;
    uint64_t count[MAX_CALLS];
    int acks_before[MAX_CALLS]; /* visit callbacks already run at the report */
    uint64_t on_disk[MAX_CALLS];
};

static void on_durable(void *arg, uint64_t count)
{
    struct durable_log *dl = arg;

    assert_true(dl->n < MAX_CALLS);
    dl->count[dl->n] = count;
    dl->acks_before[dl->n] = dl->fx->calls;
    dl->on_disk[dl->n] = disk_count(dl->fx->data_dir);
    dl->n++;
}

static void test_on_durable_always(void **state)
{
    struct fixture *fx = *state;
    struct durable_log dl = {.fx = fx};
    int fdatasyncs;

    assert_int_equal(mkdir(fx->sub, 0755), 0);
    fx->data_dir = fx->sub;
    assert_int_equal(commit_new(&fx->loop, fx->sub, COMMIT_SYNC_ALWAYS, 0, 7, &fx->c), 0);
    commit_set_retry_ms(fx->c, 10);
    commit_on_durable(fx->c, on_durable, &dl);
    assert_int_equal(visit_one(fx), 0); /* 8: creates the file */
    assert_int_equal(dl.n, 1);
    assert_int_equal(dl.count[0], 8);
    assert_int_equal(dl.acks_before[0], 0); /* reported before the answer */
    assert_int_equal(dl.on_disk[0], 8);

    for (int i = 0; i < 4; i++) /* 9..12: one in-place write */
        assert_int_equal(commit_visit(fx->c, on_visit, fx), 0);
    fdatasyncs = atomic_load(&fdatasync_calls);
    run_until_calls(fx, &fx->calls, 5);
    assert_int_equal(dl.n, 2);
    assert_int_equal(dl.count[1], 12);
    assert_int_equal(dl.acks_before[1], 1);
    assert_int_equal(atomic_load(&fdatasync_calls), fdatasyncs + 1); /* after the fdatasync */

    /* A flush of an unchanged count writes but reports nothing new. */
    commit_flush(fx->c, on_flush, fx);
    run_until_calls(fx, &fx->flushes, 1);
    assert_int_equal(fx->flush_status, 0);
    assert_int_equal(dl.n, 2);

    /* A failed write reports nothing; the retry that succeeds reports the
     * count once, the failed visit included. */
    remove_data_dir(fx->sub);
    fx->revive_on_failure = 1;
    assert_int_equal(visit_one(fx), -ENOENT);
    assert_int_equal(dl.n, 2);
    run_until_durable(fx, 13);
    assert_int_equal(dl.n, 3);
    assert_int_equal(dl.count[2], 13);
    assert_int_equal(dl.on_disk[2], 13);
    for (int i = 1; i < dl.n; i++)
        assert_true(dl.count[i] > dl.count[i - 1]);
    fx_close(fx);
}

static void test_on_durable_none(void **state)
{
    struct fixture *fx = *state;
    struct durable_log dl = {.fx = fx};

    assert_int_equal(commit_new(&fx->loop, fx->dir, COMMIT_SYNC_NONE, 10, 0, &fx->c), 0);
    commit_on_durable(fx->c, on_durable, &dl);
    for (int i = 0; i < 3; i++)
        assert_int_equal(commit_visit(fx->c, on_visit, fx), 0);
    assert_int_equal(dl.n, 0); /* answered at once, not yet written */
    run_until_durable(fx, 3);
    assert_int_equal(dl.n, 1);
    assert_int_equal(dl.count[0], 3);
    assert_int_equal(dl.on_disk[0], 3); /* after the write, without fsync */
    assert_int_equal(atomic_load(&fsync_calls), 0);
    assert_int_equal(atomic_load(&fdatasync_calls), 0);
    /* NULL turns it off */
    commit_on_durable(fx->c, NULL, NULL);
    assert_int_equal(commit_visit(fx->c, on_visit, fx), 0);
    run_until_durable(fx, 4);
    assert_int_equal(dl.n, 1);
    fx_close(fx);
}

/* A visit counted from inside an acknowledgement joins the next batch. */
static void on_visit_chain(void *arg, int status, uint64_t value)
{
    struct fixture *fx = arg;

    on_visit(arg, status, value);
    if (fx->calls < 10)
        assert_int_equal(commit_visit(fx->c, on_visit_chain, fx), 0);
}

static void test_always_visit_from_callback(void **state)
{
    struct fixture *fx = *state;

    assert_int_equal(commit_new(&fx->loop, fx->dir, COMMIT_SYNC_ALWAYS, 0, 41, &fx->c), 0);
    assert_int_equal(commit_visit(fx->c, on_visit_chain, fx), 0);
    assert_int_equal(uv_run(&fx->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(fx->calls, 10);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(fx->status[i], 0);
        assert_int_equal(fx->value[i], 42 + (uint64_t)i);
        assert_true(fx->on_disk[i] >= fx->value[i]);
    }
    assert_int_equal(disk_count(fx->dir), 51);
    fx_close(fx);
}

static void test_always_write_failure_and_recovery(void **state)
{
    struct fixture *fx = *state;
    const struct commit_stats *st;

    assert_int_equal(mkdir(fx->sub, 0755), 0);
    fx->data_dir = fx->sub;
    assert_int_equal(commit_new(&fx->loop, fx->sub, COMMIT_SYNC_ALWAYS, 0, 5, &fx->c), 0);
    commit_set_retry_ms(fx->c, 10);

    /* The disk goes away: the visits fail and are not acknowledged. */
    assert_int_equal(rmdir(fx->sub), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(commit_visit(fx->c, on_visit, fx), 0);
    run_until_calls(fx, &fx->calls, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(fx->status[i], -ENOENT);
        assert_int_equal(fx->value[i], 6 + (uint64_t)i);
    }
    assert_int_equal(commit_last_error(fx->c), -ENOENT);
    /* The count never goes backwards: the failed increments are kept. */
    assert_int_equal(commit_count(fx->c), 8);
    assert_int_equal(commit_durable_count(fx->c), 5);
    st = commit_stats_get(fx->c);
    assert_true(st->commit_errors >= 1);
    assert_int_equal(st->commits, 0);

    /* The disk returns; the next visit's write carries everything. */
    assert_int_equal(mkdir(fx->sub, 0755), 0);
    assert_int_equal(commit_visit(fx->c, on_visit, fx), 0);
    run_until_calls(fx, &fx->calls, 4);
    assert_int_equal(fx->status[3], 0);
    assert_int_equal(fx->value[3], 9);
    assert_int_equal(disk_count(fx->sub), 9);
    assert_int_equal(commit_last_error(fx->c), 0);
    assert_int_equal(commit_durable_count(fx->c), 9);
    /* the failed visits ride in the successful batch */
    assert_int_equal(st->batch_sum, 4);

    /* Fails again; the disk returns but no visit comes: the retry timer
     * writes the count by itself. */
    remove_data_dir(fx->sub);
    fx->revive_on_failure = 1;
    assert_int_equal(commit_visit(fx->c, on_visit, fx), 0);
    run_until_calls(fx, &fx->calls, 5);
    assert_int_equal(fx->status[4], -ENOENT);
    assert_int_equal(commit_last_error(fx->c), -ENOENT);
    run_until_durable(fx, 10);
    assert_int_equal(commit_last_error(fx->c), 0);
    assert_int_equal(disk_count(fx->sub), 10);
    assert_int_equal(fx->calls, 5); /* the failed visit is never acknowledged */
    fx_close(fx);
}

/* ------------------------------------------------------------------------ */
/* In place, and back to atomic replace                                      */
/* ------------------------------------------------------------------------ */

/* One visit, run until it is answered; returns its status. */
static int visit_one(struct fixture *fx)
{
    int want = fx->calls + 1;

    assert_int_equal(commit_visit(fx->c, on_visit, fx), 0);
    run_until_calls(fx, &fx->calls, want);
    return fx->status[want - 1];
}

/* The file at the path is the one the commit writes to. */
static void assert_identity_is_file(struct fixture *fx)
{
    char path[160];
    struct stat st;
    uint64_t dev = 0, ino = 0;

    snprintf(path, sizeof(path), "%s/%s", fx->data_dir, STORE_FILE_NAME);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(commit_file_identity(fx->c, &dev, &ino), 0);
    assert_true(dev == (uint64_t)st.st_dev);
    assert_true(ino == (uint64_t)st.st_ino);
}

static void test_in_place_after_create(void **state)
{
    struct fixture *fx = *state;
    uint64_t dev, ino;

    assert_int_equal(commit_new(&fx->loop, fx->dir, COMMIT_SYNC_ALWAYS, 0, 0, &fx->c), 0);
    assert_int_equal(commit_file_identity(fx->c, &dev, &ino), -ENOENT); /* none yet */
    for (int i = 0; i < 5; i++) {
        assert_int_equal(visit_one(fx), 0);
        assert_int_equal(fx->on_disk[i], (uint64_t)i + 1);
        assert_identity_is_file(fx);
    }
    /* One atomic replace, then four writes in place, each fdatasync'ed. */
    assert_int_equal(commit_stats_get(fx->c)->commits, 5);
    assert_int_equal(commit_stats_get(fx->c)->creates, 1);
    assert_int_equal(atomic_load(&fsync_calls), 2);
    assert_int_equal(atomic_load(&pwrite_calls), 4);
    assert_int_equal(atomic_load(&fdatasync_calls), 4);
    fx_close(fx);
}

/* An in-place write that fails is not acknowledged; the descriptor is
 * dropped and the next write goes through atomic replace. */
static void check_in_place_error(struct fixture *fx, atomic_int *fail)
{
    uint64_t dev, ino;

    assert_int_equal(commit_new(&fx->loop, fx->dir, COMMIT_SYNC_ALWAYS, 0, 10, &fx->c), 0);
    assert_int_equal(visit_one(fx), 0); /* creates */
    assert_int_equal(visit_one(fx), 0); /* in place */
    assert_int_equal(commit_stats_get(fx->c)->creates, 1);

    atomic_store(fail, EIO);
    assert_int_equal(visit_one(fx), -EIO);
    assert_int_equal(commit_last_error(fx->c), -EIO);
    assert_int_equal(commit_durable_count(fx->c), 12);
    assert_int_equal(commit_file_identity(fx->c, &dev, &ino), -ENOENT); /* dropped */

    assert_int_equal(visit_one(fx), 0);
    assert_int_equal(fx->value[3], 14);
    assert_int_equal(disk_count(fx->dir), 14);
    assert_int_equal(commit_last_error(fx->c), 0);
    assert_int_equal(commit_stats_get(fx->c)->creates, 2); /* by atomic replace */
    assert_identity_is_file(fx);
    assert_int_equal(visit_one(fx), 0); /* and in place again */
    assert_int_equal(commit_stats_get(fx->c)->creates, 2);
    assert_int_equal(disk_count(fx->dir), 15);
    fx_close(fx);
}

static void test_in_place_pwrite_error(void **state)
{
    check_in_place_error(*state, &fail_pwrite);
    assert_int_equal(atomic_load(&pwrite_calls), 3);
}

static void test_in_place_fdatasync_error(void **state)
{
    check_in_place_error(*state, &fail_fdatasync);
    assert_int_equal(atomic_load(&fdatasync_calls), 3);
}

/* Removed under the open descriptor: the next write notices (the file has no
 * name), creates it again in the same write, and acknowledges only then. */
static void test_removed_file_recreated(void **state)
{
    struct fixture *fx = *state;
    char path[160];

    snprintf(path, sizeof(path), "%s/%s", fx->dir, STORE_FILE_NAME);
    assert_int_equal(commit_new(&fx->loop, fx->dir, COMMIT_SYNC_ALWAYS, 0, 0, &fx->c), 0);
    assert_int_equal(visit_one(fx), 0);
    assert_int_equal(visit_one(fx), 0);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(visit_one(fx), 0);
    assert_int_equal(fx->on_disk[2], 3); /* on disk when acknowledged */
    assert_int_equal(commit_last_error(fx->c), 0);
    assert_int_equal(commit_stats_get(fx->c)->creates, 2);
    assert_identity_is_file(fx);
    assert_int_equal(visit_one(fx), 0); /* in place on the new file */
    assert_int_equal(commit_stats_get(fx->c)->creates, 2);
    assert_int_equal(disk_count(fx->dir), 4);
    fx_close(fx);
}

/* Replaced by another file (rename over it): the next write notices too. */
static void test_replaced_file_recreated(void **state)
{
    struct fixture *fx = *state;
    char path[160], other[160];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", fx->dir, STORE_FILE_NAME);
    snprintf(other, sizeof(other), "%s/restored", fx->dir);
    assert_int_equal(commit_new(&fx->loop, fx->dir, COMMIT_SYNC_ALWAYS, 0, 20, &fx->c), 0);
    assert_int_equal(visit_one(fx), 0);
    f = fopen(other, "wb");
    assert_non_null(f);
    assert_true(fputs("3\n", f) >= 0);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(rename(other, path), 0);
    assert_int_equal(disk_count(fx->dir), 3);
    assert_int_equal(visit_one(fx), 0);
    assert_int_equal(fx->on_disk[1], 22);
    assert_int_equal(commit_stats_get(fx->c)->creates, 2);
    assert_identity_is_file(fx);
    fx_close(fx);
}

/* Renamed away (`mv visits.txt x`): the old inode keeps a name, so only the
 * name check after the write can tell; the visit is acknowledged only once
 * visits.txt holds it again, and x keeps what it had. */
static void test_renamed_file_recreated(void **state)
{
    struct fixture *fx = *state;
    char path[160], other[160];

    snprintf(path, sizeof(path), "%s/%s", fx->dir, STORE_FILE_NAME);
    snprintf(other, sizeof(other), "%s/x", fx->dir);
    assert_int_equal(commit_new(&fx->loop, fx->dir, COMMIT_SYNC_ALWAYS, 0, 0, &fx->c), 0);
    assert_int_equal(visit_one(fx), 0);
    assert_int_equal(visit_one(fx), 0);
    assert_int_equal(rename(path, other), 0);
    assert_int_equal(visit_one(fx), 0);
    assert_int_equal(fx->on_disk[2], 3); /* the name held it when acknowledged */
    assert_int_equal(commit_stats_get(fx->c)->creates, 2);
    assert_identity_is_file(fx);
    assert_int_equal(visit_one(fx), 0); /* in place on the new file */
    assert_int_equal(disk_count(fx->dir), 4);
    assert_int_equal(commit_stats_get(fx->c)->creates, 2);
    unlink(other);
    fx_close(fx);
}

/* Replaced while the old file keeps a name elsewhere (a hard link, as a
 * backup tool may leave): no write can tell, so the daemon's watch compares
 * identities and calls commit_reopen(); the flush then re-creates the file. */
static void test_reopen_after_replace(void **state)
{
    struct fixture *fx = *state;
    char path[160], other[160], link_path[160];
    struct stat st;
    uint64_t dev, ino;
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", fx->dir, STORE_FILE_NAME);
    snprintf(other, sizeof(other), "%s/restored", fx->dir);
    snprintf(link_path, sizeof(link_path), "%s/backup", fx->dir);
    assert_int_equal(commit_new(&fx->loop, fx->dir, COMMIT_SYNC_ALWAYS, 0, 30, &fx->c), 0);
    assert_int_equal(visit_one(fx), 0);
    assert_int_equal(link(path, link_path), 0);
    f = fopen(other, "wb");
    assert_non_null(f);
    assert_true(fputs("3\n", f) >= 0);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(rename(other, path), 0);

    /* What the watch sees: another inode at the path. */
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(commit_file_identity(fx->c, &dev, &ino), 0);
    assert_true(ino != (uint64_t)st.st_ino);
    commit_reopen(fx->c);
    commit_flush(fx->c, on_flush, fx);
    run_until_calls(fx, &fx->flushes, 1);
    assert_int_equal(fx->flush_status, 0);
    assert_int_equal(disk_count(fx->dir), 31);
    assert_int_equal(commit_stats_get(fx->c)->creates, 2);
    assert_identity_is_file(fx);
    unlink(link_path);
    fx_close(fx);
}

/* ------------------------------------------------------------------------ */
/* INTERVAL and NONE                                                         */
/* ------------------------------------------------------------------------ */

static void check_interval_mode(struct fixture *fx, enum commit_sync mode)
{
    uint64_t t0;

    assert_int_equal(commit_new(&fx->loop, fx->dir, mode, 20, 0, &fx->c), 0);
    t0 = uv_now(&fx->loop);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(commit_visit(fx->c, on_visit, fx), 0);
        /* acknowledged before commit_visit returned */
        assert_int_equal(fx->calls, i + 1);
        assert_int_equal(fx->status[i], 0);
        assert_int_equal(fx->value[i], (uint64_t)i + 1);
    }
    assert_int_equal(disk_count(fx->dir), 0);
    assert_int_equal(commit_pending(fx->c), 10);

    run_until_durable(fx, 10);
    uv_update_time(&fx->loop);
    assert_true(uv_now(&fx->loop) - t0 >= 20); /* not before the interval */
    assert_int_equal(disk_count(fx->dir), 10);
    assert_int_equal(commit_stats_get(fx->c)->commits, 1); /* one write for all */
    assert_int_equal(commit_stats_get(fx->c)->batch_sum, 10);
    assert_int_equal(atomic_load(&fsync_calls), mode == COMMIT_SYNC_NONE ? 0 : 2);
    assert_int_equal(commit_stats_get(fx->c)->creates, 1);

    /* Nothing changed: no timer left, the loop ends by itself. */
    assert_int_equal(uv_run(&fx->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(commit_stats_get(fx->c)->commits, 1);

    for (int i = 0; i < 5; i++)
        assert_int_equal(commit_visit(fx->c, on_visit, fx), 0);
    run_until_durable(fx, 15);
    assert_int_equal(disk_count(fx->dir), 15);
    assert_int_equal(commit_stats_get(fx->c)->commits, 2);
    /* the second write overwrote in place, fdatasync'ed only in INTERVAL */
    assert_int_equal(commit_stats_get(fx->c)->creates, 1);
    assert_int_equal(atomic_load(&pwrite_calls), 1);
    assert_int_equal(atomic_load(&fdatasync_calls), mode == COMMIT_SYNC_NONE ? 0 : 1);
}

static void test_interval_mode(void **state)
{
    struct fixture *fx = *state;

    check_interval_mode(fx, COMMIT_SYNC_INTERVAL);
    fx_close(fx);
}

static void test_none_mode(void **state)
{
    struct fixture *fx = *state;

    check_interval_mode(fx, COMMIT_SYNC_NONE);
    assert_int_equal(atomic_load(&fsync_calls), 0);
    /* The shutdown flush is durable even here. */
    commit_flush(fx->c, on_flush, fx);
    run_until_calls(fx, &fx->flushes, 1);
    assert_int_equal(fx->flush_status, 0);
    /* The file was created without fsync, so its directory entry may not be
     * durable: the flush creates it again, fsync'ing file and directory. */
    assert_int_equal(atomic_load(&fsync_calls), 2);
    assert_int_equal(commit_stats_get(fx->c)->creates, 2);
    /* From then on a flush overwrites in place, with fdatasync. */
    assert_int_equal(commit_visit(fx->c, on_visit, fx), 0);
    commit_flush(fx->c, on_flush, fx);
    run_until_calls(fx, &fx->flushes, 2);
    assert_int_equal(fx->flush_status, 0);
    assert_int_equal(disk_count(fx->dir), 16);
    assert_int_equal(atomic_load(&fsync_calls), 2);
    assert_int_equal(atomic_load(&fdatasync_calls), 1);
    assert_int_equal(commit_stats_get(fx->c)->creates, 2);
    fx_close(fx);
}

/* ------------------------------------------------------------------------ */
/* flush                                                                     */
/* ------------------------------------------------------------------------ */

static void test_flush_interval(void **state)
{
    struct fixture *fx = *state;

    /* An interval far beyond the test: only the flush can write. */
    assert_int_equal(commit_new(&fx->loop, fx->dir, COMMIT_SYNC_INTERVAL, 600000, 0, &fx->c), 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(commit_visit(fx->c, on_visit, fx), 0);
    commit_flush(fx->c, on_flush, fx);
    assert_int_equal(fx->flushes, 0); /* never from inside commit_flush */
    run_until_calls(fx, &fx->flushes, 1);
    assert_int_equal(fx->flush_status, 0);
    assert_int_equal(disk_count(fx->dir), 5);
    assert_int_equal(commit_pending(fx->c), 0);
    /* the 10-minute timer was stopped: nothing keeps the loop alive */
    assert_int_equal(uv_loop_alive(&fx->loop), 0);
    fx_close(fx);
}

static void test_flush_waits_for_in_flight(void **state)
{
    struct fixture *fx = *state;

    assert_int_equal(commit_new(&fx->loop, fx->dir, COMMIT_SYNC_ALWAYS, 0, 0, &fx->c), 0);
    assert_int_equal(commit_visit(fx->c, on_visit, fx), 0); /* in flight */
    assert_int_equal(commit_visit(fx->c, on_visit, fx), 0); /* next batch */
    commit_flush(fx->c, on_flush, fx);
    assert_int_equal(uv_run(&fx->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(fx->flushes, 1);
    assert_int_equal(fx->flush_status, 0);
    assert_int_equal(fx->flush_after_calls, 2); /* both visits were answered first */
    assert_int_equal(disk_count(fx->dir), 2);

    /* Nothing new: a flush still writes once, and answers later. */
    commit_flush(fx->c, on_flush, fx);
    assert_int_equal(fx->flushes, 1);
    assert_int_equal(uv_run(&fx->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(fx->flushes, 2);
    assert_int_equal(fx->flush_status, 0);
    fx_close(fx);
}

static void test_flush_failure(void **state)
{
    struct fixture *fx = *state;

    assert_int_equal(mkdir(fx->sub, 0755), 0);
    assert_int_equal(commit_new(&fx->loop, fx->sub, COMMIT_SYNC_INTERVAL, 20, 0, &fx->c), 0);
    commit_set_retry_ms(fx->c, 10);
    assert_int_equal(rmdir(fx->sub), 0);
    commit_flush(fx->c, on_flush, fx);
    run_until_calls(fx, &fx->flushes, 1);
    assert_int_equal(fx->flush_status, -ENOENT);
    assert_int_equal(commit_last_error(fx->c), -ENOENT);
    fx_close(fx);
}

/* ------------------------------------------------------------------------ */
/* close                                                                     */
/* ------------------------------------------------------------------------ */

static void test_close_with_waiters(void **state)
{
    struct fixture *fx = *state;

    assert_int_equal(commit_new(&fx->loop, fx->dir, COMMIT_SYNC_ALWAYS, 0, 0, &fx->c), 0);
    assert_int_equal(commit_visit(fx->c, on_visit, fx), 0);
    start_write(fx);                                        /* in flight */
    assert_int_equal(commit_visit(fx->c, on_visit, fx), 0); /* waiting */
    commit_close(fx->c);
    /* The waiting visit is cancelled at once; the one in flight finishes. */
    assert_int_equal(fx->calls, 1);
    assert_int_equal(fx->status[0], -ECANCELED);
    assert_int_equal(fx->value[0], 2);
    assert_int_equal(commit_visit(fx->c, on_visit, fx), -ECANCELED);
    assert_int_equal(uv_run(&fx->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(fx->calls, 2);
    assert_int_equal(fx->status[1], 0);
    assert_int_equal(fx->value[1], 1);
    assert_int_equal(disk_count(fx->dir), 1);
    assert_int_equal(uv_loop_close(&fx->loop), 0);
}

static void test_new_rejects_bad_mode(void **state)
{
    struct fixture *fx = *state;
    struct commit *c = NULL;

    assert_int_equal(commit_new(&fx->loop, fx->dir, (enum commit_sync)7, 0, 0, &c), -EINVAL);
    assert_null(c);
    assert_int_equal(uv_loop_close(&fx->loop), 0);
}

/* A count at UINT64_MAX cannot take one more visit, in any mode: the visit
 * is refused with -EOVERFLOW as commit.h says, not counted, not answered. */
static void test_visit_at_max_overflows(void **state)
{
    struct fixture *fx = *state;
    static const enum commit_sync modes[] = {COMMIT_SYNC_ALWAYS, COMMIT_SYNC_INTERVAL,
                                             COMMIT_SYNC_NONE};

    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        assert_int_equal(commit_new(&fx->loop, fx->dir, modes[i], 50, UINT64_MAX, &fx->c), 0);
        assert_int_equal(commit_visit(fx->c, on_visit, fx), -EOVERFLOW);
        assert_int_equal(fx->calls, 0);
        assert_true(commit_count(fx->c) == UINT64_MAX);
        assert_int_equal(commit_pending(fx->c), 0);
        commit_close(fx->c);
        fx->c = NULL;
        assert_int_equal(uv_run(&fx->loop, UV_RUN_DEFAULT), 0);
    }
    assert_int_equal(uv_loop_close(&fx->loop), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_always_group_commit),
        T(test_always_visit_from_callback),
        T(test_always_next_write_after_answers),
        T(test_on_durable_always),
        T(test_on_durable_none),
        T(test_always_write_failure_and_recovery),
        T(test_in_place_after_create),
        T(test_in_place_pwrite_error),
        T(test_in_place_fdatasync_error),
        T(test_removed_file_recreated),
        T(test_replaced_file_recreated),
        T(test_renamed_file_recreated),
        T(test_reopen_after_replace),
        T(test_interval_mode),
        T(test_none_mode),
        T(test_flush_interval),
        T(test_flush_waits_for_in_flight),
        T(test_flush_failure),
        T(test_close_with_waiters),
        T(test_new_rejects_bad_mode),
        T(test_visit_at_max_overflows),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
