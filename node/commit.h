/*
 * commit.h: group commit of visits onto the store, on the libuv loop.
 *
 * A visit raises the in-memory count at once and waits for the batch that holds
 * it. One write runs at a time on the libuv thread pool; visits that arrive
 * while it is in flight join the next batch. With COMMIT_SYNC_ALWAYS a visit's
 * callback runs only after the write holding it is durable; with INTERVAL and
 * NONE it runs at once and the count is written at most every interval_ms
 * (INTERVAL fsyncs, NONE does not).
 */
#ifndef TALLY_COMMIT_H
#define TALLY_COMMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

enum commit_sync { COMMIT_SYNC_ALWAYS, COMMIT_SYNC_INTERVAL, COMMIT_SYNC_NONE };

/* status 0: durable (or accepted, in the non-always modes); negative errno:
 * the write failed and the visit is not acknowledged. value is the count that
 * includes this visit. */
typedef void (*commit_done_fn)(void *arg, int status, uint64_t value);

struct commit_stats {
    uint64_t commits;         /* writes completed */
    uint64_t commit_errors;   /* writes failed */
    uint64_t visits_durable;  /* count as last written */
    /* write latency histogram, seconds: le 0.0005 .. 0.5, +Inf */
    uint64_t latency_buckets[12];
    double latency_sum_s;
    /* batch size histogram: le 1,2,4,...,1024,+Inf */
    uint64_t batch_buckets[12];
    uint64_t batch_sum;
};
extern const double commit_latency_bounds[11];
extern const uint64_t commit_batch_bounds[11];

struct commit;

/* Starts with count (as loaded). Returns 0 or negative errno. */
int commit_new(uv_loop_t *loop, const char *dir, enum commit_sync mode, uint32_t interval_ms,
               uint64_t count, struct commit **out);
/* Count one visit; cb(arg, ...) runs when it is acknowledged or failed. */
int commit_visit(struct commit *c, commit_done_fn cb, void *arg);
/* Raise the count to at least value (recovery from peers) and persist it. */
void commit_raise(struct commit *c, uint64_t value);
uint64_t commit_count(const struct commit *c);        /* in memory, includes pending */
uint64_t commit_durable_count(const struct commit *c); /* last written */
/* Pending visits not yet written. */
uint64_t commit_pending(const struct commit *c);
/* Flush everything now (shutdown); done(arg, status) runs once it is written. */
void commit_flush(struct commit *c, void (*done)(void *arg, int status), void *arg);
/* Last write error (0 if the last write succeeded). */
int commit_last_error(const struct commit *c);
const struct commit_stats *commit_stats_get(const struct commit *c);
/* Close timers; frees c once closed (run the loop afterwards). No write may be
 * in flight: call after commit_flush() completes. */
void commit_close(struct commit *c);

#endif
