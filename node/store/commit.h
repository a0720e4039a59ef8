/*
 * store/commit.h: group commit of visits onto the store, on the libuv loop.
 *
 * A visit raises the in-memory count at once and waits for the batch that holds
 * it. One write runs at a time on the libuv thread pool; visits that arrive
 * while it is in flight join the next batch. Like Redis's one fsync per loop
 * iteration, a write starts only after the loop has read every socket that was
 * ready (and, after a write, answered its batch and polled once more), so one
 * write carries every visit that arrived meanwhile. With COMMIT_SYNC_ALWAYS a visit's
 * callback runs only after the write holding it is durable; with INTERVAL and
 * NONE it runs at once and the count is written at most every interval_ms
 * (INTERVAL fsyncs, NONE does not).
 *
 * The first write creates the count file by atomic replace and keeps it open;
 * later writes overwrite the count in place on that descriptor (see store.h).
 * After any error the descriptor is closed and the next write goes through
 * atomic replace again, which also re-creates a file removed or replaced
 * under us (a write notices a file that lost its name by itself; the daemon's
 * watch notices one while no write comes, and calls commit_reopen()).
 *
 * A failed write is not retried in a tight loop: the next visit, or a retry
 * timer (commit_set_retry_ms, 1 s by default), tries again, so the node
 * recovers by itself when the disk does. Visits of a failed batch are not
 * acknowledged, but they stay in the in-memory count: the count never goes
 * backwards, and the file may later hold more than was acknowledged, never less.
 */
#ifndef TALLY_COMMIT_H
#define TALLY_COMMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "node/store/sync_mode.h"

/* status 0: durable (or accepted, in the non-always modes); negative errno:
 * the write failed and the visit is not acknowledged. value is the count that
 * includes this visit. With COMMIT_SYNC_ALWAYS the callback runs later, on the
 * loop thread; with INTERVAL and NONE it runs before commit_visit() returns. */
typedef void (*commit_done_fn)(void *arg, int status, uint64_t value);
/* A write made count durable (on the loop thread; see commit_on_durable). */
typedef void (*commit_durable_fn)(void *arg, uint64_t count);

/* Upper bounds of each histogram below (the +Inf bucket comes after them). */
#define COMMIT_HIST_BOUNDS 11

struct commit_stats {
    uint64_t commits;        /* writes completed */
    uint64_t commit_errors;  /* writes failed */
    uint64_t visits_durable; /* count as last written */
    /* Histograms hold PER-BUCKET counts (not cumulative): bucket i counts
     * observations in (bounds[i-1], bounds[i]], bucket COMMIT_HIST_BOUNDS those
     * above the last bound (+Inf). The metrics code accumulates them for
     * Prometheus. */
    /* write latency (the file write alone, in place or by atomic replace,
     * both successes and failures),
     * seconds: le 0.0005,0.001,0.002,0.005,0.01,0.02,0.05,0.1,0.2,0.5,1.0,+Inf */
    uint64_t latency_buckets[COMMIT_HIST_BOUNDS + 1];
    double latency_sum_s;
    /* batch size: visits carried by a successful write (including those of an
     * earlier failed write, whose increments it carries); writes carrying no
     * visit (flush or retry alone) are not observed. le 1,2,...,1024,+Inf */
    uint64_t batch_buckets[COMMIT_HIST_BOUNDS + 1];
    uint64_t batch_sum;
    /* writes that (re-)created the file by atomic replace rather than
     * overwriting it in place: the first, and each after an error or a
     * removed or replaced file */
    uint64_t creates;
};
extern const double commit_latency_bounds[COMMIT_HIST_BOUNDS];
extern const uint64_t commit_batch_bounds[COMMIT_HIST_BOUNDS];

struct commit;

/* Starts with count (as loaded). Returns 0 or negative errno. */
int commit_new(uv_loop_t *loop, const char *dir, enum commit_sync mode, uint32_t interval_ms,
               uint64_t count, struct commit **out);
/* Count one visit; cb(arg, ...) runs when it is acknowledged or failed.
 * Returns 0, or without counting or calling cb: -ENOMEM, -ECANCELED
 * (closing) or -EOVERFLOW (the count is already UINT64_MAX). */
int commit_visit(struct commit *c, commit_done_fn cb, void *arg);
/* fn(arg, count) runs on the loop thread after each successful write that
 * raised the durable count, with the count the file now holds: after the
 * fdatasync in COMMIT_SYNC_ALWAYS (and for any flush), after the write alone
 * in INTERVAL and NONE. Each rise is reported once, in order, before the
 * visits of that write are answered; a write of an unchanged count, a failed
 * write and the count loaded at start are not reported. NULL turns it off. */
void commit_on_durable(struct commit *c, commit_durable_fn fn, void *arg);
uint64_t commit_count(const struct commit *c);         /* in memory, includes pending */
uint64_t commit_durable_count(const struct commit *c); /* last written */
/* Pending visits not yet written. */
uint64_t commit_pending(const struct commit *c);
/* Flush everything now (shutdown); done(arg, status) runs once it is written.
 * A flush always makes one write with fsync (also in NONE mode) after any write
 * in flight, so done runs later on the loop thread, never inside this call
 * (except -ENOMEM or -ECANCELED when closing, reported at once). */
void commit_flush(struct commit *c, void (*done)(void *arg, int status), void *arg);
/* The count file was found removed or replaced (another inode) under us:
 * the next write drops the open descriptor and re-creates the file by atomic
 * replace (a write in flight is not disturbed). Follow it with commit_flush()
 * to rewrite the file now. */
void commit_reopen(struct commit *c);
/* Device and inode of the count file the in-place writes go to, as of the last
 * finished write. Returns 0, or -ENOENT when no file is held open (none
 * written yet, or the last write failed). Compare with a stat() of the path. */
int commit_file_identity(const struct commit *c, uint64_t *dev, uint64_t *ino);
/* Delay before a failed write is retried when no visit comes (default 1000). */
void commit_set_retry_ms(struct commit *c, uint32_t retry_ms);
/* Last write error (0 if the last write succeeded). */
int commit_last_error(const struct commit *c);
const struct commit_stats *commit_stats_get(const struct commit *c);
/* Close timers; frees c once closed (run the loop afterwards). Call after
 * commit_flush() completes. Visits and flushes still waiting get -ECANCELED
 * from within this call; a write still in flight completes, its visits are
 * answered with its result, and c is freed after it. */
void commit_close(struct commit *c);

#endif
