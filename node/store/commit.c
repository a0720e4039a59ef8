/*
 * store/commit.c: group commit of visits onto the store, on the libuv loop.
 *
 * How it works. The in-memory count rises at once with every visit. At most
 * one write (commit_file_write) runs at a time, on the libuv thread pool
 * (uv_queue_work); it writes the count as it was when the write started. A
 * visit waits in `pending` until a write takes it.
 *
 * When a write starts is shaped like Redis's beforeSleep: never from inside
 * the call that made it due, but from a uv_check handle (`kick`), which runs
 * after the loop's poll phase has handled every socket that was ready. So a
 * write carries every visit read in that turn, and pipelined requests that
 * arrived in one read join one batch. When a write ends, the after-work
 * callback (loop thread, poll phase) answers its batch first; the next write
 * then waits one more turn, polled without blocking (an idle handle keeps the
 * poll at timeout 0), so the requests the answered clients have sent back
 * meanwhile are read and join it. Starting the next write before answering
 * (as this file once did) split a closed-loop load into a big batch and a
 * batch of one, each paying a whole fsync.
 *
 * Modes:
 *  - ALWAYS: a visit is answered only by the write holding it: status 0 once
 *    that write returned 0 (fsync'ed), its negative errno otherwise.
 *  - INTERVAL / NONE: a visit is answered at once; a timer writes the count at
 *    most every interval_ms while it changed (INTERVAL with fsync, NONE
 *    without).
 *
 * The file. The first write creates it by atomic replace (store_count_write)
 * and opens it; later writes overwrite the count in place on that descriptor
 * (store_count_overwrite: pwrite + fdatasync, several times the rate). The
 * descriptor belongs to the pool thread's side of struct commit (fd, fd_*);
 * the loop thread sees its identity only through file_id, copied when a write
 * ends. The descriptor is dropped, and the next write creates the file again,
 * after any error (the file may be gone, the volume read-only, or a failed
 * fdatasync may have left pages the kernel no longer considers dirty), when
 * the file lost its name (store_count_overwrite says -ESTALE), when the name
 * leads elsewhere (renamed away or replaced: store_count_check_name, after
 * the fdatasync and before anything is acknowledged; in both cases the count
 * is re-created at once, in the same write), and on commit_reopen().
 *
 * Failure policy. A failed write leaves its visits unacknowledged, but their
 * increments stay in the in-memory count: what was advertised or acknowledged
 * must never go backwards, and the file holding more than was acknowledged is
 * harmless (the next successful write carries them). The error is kept for
 * commit_last_error() until a write succeeds; the next visit or the retry
 * timer tries again, so the node recovers on its own when the disk does.
 *
 * Memory. Waiter records come from a free list owned by struct commit, so a
 * steady load does not malloc per visit; they are freed with the commit.
 */
#include "node/store/commit.h"

#include <errno.h>
#include <stddef.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "node/container_of.h"
#include "node/store/count_file.h"

#define COMMIT_DEFAULT_INTERVAL_MS 1000
#define COMMIT_DEFAULT_RETRY_MS    1000

const double commit_latency_bounds[COMMIT_HIST_BOUNDS] = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02,
                                                          0.05,   0.1,   0.2,   0.5,   1.0};
const uint64_t commit_batch_bounds[COMMIT_HIST_BOUNDS] = {1,  2,   4,   8,   16,  32,
                                                          64, 128, 256, 512, 1024};

/* A visit waiting for its write (ALWAYS mode) or a flush waiting for its. */
struct commit_waiter {
    struct commit_waiter *next;
    commit_done_fn cb;
    void (*flush_cb)(void *arg, int status);
    void *arg;
    uint64_t value;
};

/* A FIFO of waiters; appending keeps acknowledgements in visit order. */
struct commit_queue {
    struct commit_waiter *head, *tail;
    uint64_t n;
};

struct commit {
    uv_loop_t *loop;
    char *dir;
    enum commit_sync mode;
    uint32_t interval_ms;
    uint32_t retry_ms;

    uint64_t count;   /* in memory, includes pending */
    uint64_t durable; /* last successfully written */
    int last_error;

    struct commit_queue pending;         /* visits not in a write yet */
    struct commit_queue batch;           /* visits in the write in flight */
    struct commit_queue pending_flushes; /* flushes not in a write yet */
    struct commit_queue batch_flushes;   /* flushes in the write in flight */
    struct commit_waiter *free_list;
    uint64_t visits_unwritten; /* visits since the last write started */

    /* The write in flight; its fields are read by the pool thread only
     * between uv_queue_work and the after-work callback. */
    uv_work_t work;
    bool in_flight;
    uint64_t write_value;
    uint64_t write_visits;
    int write_fsync;
    int write_status;
    uint64_t write_ns;
    uint64_t last_start_ms; /* loop time the last write started */
    bool write_reopen;      /* drop the descriptor before this write */
    bool write_created;     /* this write went through atomic replace */

    /* Pool thread's: the open count file, between writes. */
    int fd;            /* -1: the next write creates the file */
    bool fd_synced;    /* its directory entry was fsync'ed */
    uint64_t fd_count; /* the count it holds */
    struct store_file_id fd_id;

    /* Loop thread's. */
    bool reopen;                  /* commit_reopen() asked, not yet applied */
    bool file_open;               /* fd >= 0 as of the last finished write */
    struct store_file_id file_id; /* fd_id as of the last finished write */

    uv_timer_t timer; /* interval writes, and retries after a failure */
    /* The write-start point (see the top of this file): kick runs after the
     * poll phase; kick_idle keeps that poll from blocking while a start is
     * due. Both run only while kick_armed. */
    uv_check_t kick;
    uv_idle_t kick_idle;
    bool kick_armed;
    bool answered_turn; /* a batch was answered in this loop turn: wait one more */
    bool closing;
    int handles_open; /* timer, kick, kick_idle: c is freed once all are closed */

    commit_durable_fn on_durable; /* commit_on_durable() */
    void *on_durable_arg;

    struct commit_stats stats;
};

/* ------------------------------------------------------------------------ */
/* Waiter records and queues                                                 */
/* ------------------------------------------------------------------------ */

static struct commit_waiter *commit_waiter_get(struct commit *c)
{
    struct commit_waiter *w = c->free_list;

    if (w) {
        c->free_list = w->next;
    } else {
        w = malloc(sizeof(*w));
        if (!w)
            return NULL;
    }
    memset(w, 0, sizeof(*w));
    return w;
}

static void commit_waiter_put(struct commit *c, struct commit_waiter *w)
{
    w->next = c->free_list;
    c->free_list = w;
}

static void commit_queue_push(struct commit_queue *q, struct commit_waiter *w)
{
    w->next = NULL;
    if (q->tail)
        q->tail->next = w;
    else
        q->head = w;
    q->tail = w;
    q->n++;
}

/* Move all of from onto the end of to. */
static void commit_queue_splice(struct commit_queue *to, struct commit_queue *from)
{
    if (!from->head)
        return;
    if (to->tail)
        to->tail->next = from->head;
    else
        to->head = from->head;
    to->tail = from->tail;
    to->n += from->n;
    memset(from, 0, sizeof(*from));
}

/* Answer every waiter of q (taken out first, so callbacks may queue more). */
static void commit_queue_answer(struct commit *c, struct commit_queue *q, int status)
{
    struct commit_waiter *w = q->head;

    memset(q, 0, sizeof(*q));
    while (w) {
        struct commit_waiter *next = w->next;

        if (w->flush_cb)
            w->flush_cb(w->arg, status);
        else
            w->cb(w->arg, status, w->value);
        commit_waiter_put(c, w);
        w = next;
    }
}

/* ------------------------------------------------------------------------ */
/* Statistics                                                                */
/* ------------------------------------------------------------------------ */

static void commit_stats_observe(struct commit *c, double seconds, uint64_t batch)
{
    size_t i;

    for (i = 0; i < COMMIT_HIST_BOUNDS && seconds > commit_latency_bounds[i]; i++)
        ;
    c->stats.latency_buckets[i]++;
    c->stats.latency_sum_s += seconds;
    if (batch == 0)
        return;
    for (i = 0; i < COMMIT_HIST_BOUNDS && batch > commit_batch_bounds[i]; i++)
        ;
    c->stats.batch_buckets[i]++;
    c->stats.batch_sum += batch;
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                   */
/* ------------------------------------------------------------------------ */

static void commit_free(struct commit *c);

/* Pool thread (or the loop thread once no write can be in flight). */
static void commit_fd_drop(struct commit *c)
{
    if (c->fd >= 0)
        close(c->fd); /* nothing to learn: the next write creates the file */
    c->fd = -1;
}

/* Pool thread: create the file by atomic replace, then open it for the
 * in-place writes that follow. */
static int commit_file_create(struct commit *c)
{
    struct store_file_id id;
    int fd, rc;

    commit_fd_drop(c);
    c->write_created = true;
    rc = store_count_write(c->dir, c->write_value, c->write_fsync);
    if (rc < 0)
        return rc;
    /* The count is written; failing to open only means the next write
     * creates the file again. */
    if (store_count_open(c->dir, &fd, &id) == 0) {
        c->fd = fd;
        c->fd_id = id;
        c->fd_count = c->write_value;
        c->fd_synced = c->write_fsync != 0;
    }
    return 0;
}

/* Pool thread: write c->write_value, in place when we hold the file. A file
 * created without fsync (--sync none) has a directory entry that may not be
 * durable, so an fsync'ed write (a flush) creates it again rather than trust
 * fdatasync of the file alone to carry the entry. */
static int commit_file_write(struct commit *c)
{
    int rc;

    if (c->write_reopen)
        commit_fd_drop(c);
    if (c->fd < 0 || (c->write_fsync && !c->fd_synced) || c->write_value < c->fd_count)
        return commit_file_create(c);
    rc = store_count_overwrite(c->fd, c->fd_count, c->write_value, c->write_fsync);
    if (rc == 0)
        rc = store_count_check_name(c->dir, &c->fd_id);
    if (rc == 0) {
        c->fd_count = c->write_value;
        return 0;
    }
    commit_fd_drop(c);
    if (rc == -ESTALE) /* written to a file nobody reads: write it again */
        return commit_file_create(c);
    return rc;
}

/* Pool thread: the blocking write. */
static void commit_work(uv_work_t *req)
{
    struct commit *c = container_of(req, struct commit, work);
    uint64_t t0 = uv_hrtime();

    c->write_status = commit_file_write(c);
    c->write_ns = uv_hrtime() - t0;
}

static void commit_after_work(uv_work_t *req, int status);
static void commit_kick_cb(uv_check_t *h);
static void commit_kick_idle_cb(uv_idle_t *h)
{
    (void)h; /* only there so the poll before the kick does not block */
}

static void commit_kick_arm(struct commit *c)
{
    if (c->kick_armed || c->closing)
        return;
    c->kick_armed = true;
    uv_check_start(&c->kick, commit_kick_cb);
    uv_idle_start(&c->kick_idle, commit_kick_idle_cb);
}

static void commit_kick_disarm(struct commit *c)
{
    if (!c->kick_armed)
        return;
    c->kick_armed = false;
    uv_check_stop(&c->kick);
    uv_idle_stop(&c->kick_idle);
}

static void commit_write_start(struct commit *c)
{
    int rc;

    uv_timer_stop(&c->timer);
    commit_kick_disarm(c);
    commit_queue_splice(&c->batch, &c->pending);
    commit_queue_splice(&c->batch_flushes, &c->pending_flushes);
    c->write_value = c->count;
    c->write_visits = c->visits_unwritten;
    c->visits_unwritten = 0;
    /* A flush is the shutdown path: make it durable even in NONE mode. */
    c->write_fsync = c->mode != COMMIT_SYNC_NONE || c->batch_flushes.head != NULL;
    c->write_status = 0;
    c->write_ns = 0;
    c->write_reopen = c->reopen;
    c->write_created = false;
    c->reopen = false;
    c->last_start_ms = uv_now(c->loop);
    c->in_flight = true;
    rc = uv_queue_work(c->loop, &c->work, commit_work, commit_after_work);
    if (rc < 0) {
        /* Cannot happen with a live loop and a valid callback; answer the
         * batch rather than leave it hanging. */
        c->in_flight = false;
        c->last_error = rc;
        c->stats.commit_errors++;
        commit_queue_answer(c, &c->batch, rc);
        commit_queue_answer(c, &c->batch_flushes, rc);
    }
}

static void commit_timer_cb(uv_timer_t *t);

/* Delay until an interval write is allowed: interval_ms after the last one
 * started (the first one counts from commit_new). */
static uint64_t commit_interval_delay(struct commit *c)
{
    uint64_t now = uv_now(c->loop);
    uint64_t due = c->last_start_ms + c->interval_ms;

    return due > now ? due - now : 0;
}

/* Decide what happens next when no write is in flight. last_rc is the result
 * of the write that just ended (0 when called for a new visit). */
static void commit_schedule(struct commit *c, int last_rc)
{
    if (c->closing || c->in_flight)
        return;
    if (c->pending_flushes.head) {
        commit_kick_arm(c);
        return;
    }
    if (c->mode == COMMIT_SYNC_ALWAYS) {
        /* Visits that arrived during a failed write still deserve a try:
         * they are what "a later visit retries" means. */
        if (c->pending.head || (c->count > c->durable && last_rc == 0)) {
            commit_kick_arm(c);
            return;
        }
        if (c->count > c->durable) {
            uv_timer_stop(&c->timer);
            uv_timer_start(&c->timer, commit_timer_cb, c->retry_ms, 0);
            return;
        }
        uv_timer_stop(&c->timer);
        return;
    }
    if (c->count <= c->durable) {
        uv_timer_stop(&c->timer);
        return;
    }
    if (last_rc < 0) {
        uv_timer_stop(&c->timer);
        uv_timer_start(&c->timer, commit_timer_cb, c->retry_ms, 0);
        return;
    }
    if (!uv_is_active((uv_handle_t *)&c->timer))
        uv_timer_start(&c->timer, commit_timer_cb, commit_interval_delay(c), 0);
}

/* After the poll phase: start the write that commit_schedule() found due. */
static void commit_kick_cb(uv_check_t *h)
{
    struct commit *c = container_of(h, struct commit, kick);

    if (c->answered_turn) {
        /* answers just left: give the clients one non-blocking poll to send
         * their next requests, so those join this write */
        c->answered_turn = false;
        return;
    }
    commit_kick_disarm(c);
    if (c->closing || c->in_flight)
        return;
    if (c->pending.head || c->pending_flushes.head || c->count > c->durable)
        commit_write_start(c);
}

static void commit_timer_cb(uv_timer_t *t)
{
    struct commit *c = container_of(t, struct commit, timer);

    if (c->closing || c->in_flight)
        return;
    if (c->count > c->durable || c->pending.head || c->pending_flushes.head)
        commit_write_start(c);
}

/* Loop thread: the write ended. */
static void commit_after_work(uv_work_t *req, int status)
{
    struct commit *c = container_of(req, struct commit, work);
    int rc = status < 0 ? status : c->write_status;
    struct commit_queue done, flushes;

    c->in_flight = false;
    /* The pool thread is done with the descriptor until the next write. */
    c->file_open = c->fd >= 0;
    c->file_id = c->fd_id;
    if (c->write_created && rc == 0)
        c->stats.creates++;
    commit_stats_observe(c, (double)c->write_ns / 1e9, rc == 0 ? c->write_visits : 0);
    if (rc == 0) {
        bool grew = c->write_value > c->durable;

        if (grew)
            c->durable = c->write_value;
        c->stats.commits++;
        c->stats.visits_durable = c->durable;
        c->last_error = 0;
        /* before the visits are answered: whoever advertises the durable
         * count hears of it no later than a client does */
        if (grew && c->on_durable)
            c->on_durable(c->on_durable_arg, c->durable);
    } else {
        c->stats.commit_errors++;
        c->last_error = rc;
        /* The failed visits' increments are still unwritten and ride with the
         * next successful write, so that write's batch observation counts
         * them; the batch histogram then sums to the visits written. */
        c->visits_unwritten += c->write_visits;
    }
    /* Answer the finished batch first; the next write starts from the kick,
     * a turn later (see the top of this file), so visits counted by these
     * callbacks or read meanwhile join it. */
    done = c->batch;
    flushes = c->batch_flushes;
    memset(&c->batch, 0, sizeof(c->batch));
    memset(&c->batch_flushes, 0, sizeof(c->batch_flushes));
    c->answered_turn = done.n > 0;
    commit_queue_answer(c, &done, rc);
    commit_queue_answer(c, &flushes, rc);
    commit_schedule(c, rc);
    if (!c->kick_armed)
        c->answered_turn = false;
    /* commit_close() ran while this write was in flight: it left the free to
     * whichever of the handle closes and this callback comes last. */
    if (c->closing && c->handles_open == 0 && !c->in_flight)
        commit_free(c);
}

/* ------------------------------------------------------------------------ */
/* API                                                                       */
/* ------------------------------------------------------------------------ */

int commit_new(uv_loop_t *loop, const char *dir, enum commit_sync mode, uint32_t interval_ms,
               uint64_t count, struct commit **out)
{
    struct commit *c;
    size_t dlen = strlen(dir);
    int rc;

    if (mode != COMMIT_SYNC_ALWAYS && mode != COMMIT_SYNC_INTERVAL && mode != COMMIT_SYNC_NONE)
        return -EINVAL;
    c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->dir = malloc(dlen + 1);
    if (!c->dir) {
        free(c);
        return -ENOMEM;
    }
    memcpy(c->dir, dir, dlen + 1);
    rc = uv_timer_init(loop, &c->timer);
    if (rc < 0) {
        free(c->dir);
        free(c);
        return rc;
    }
    /* cannot fail on a live loop (they only link the handle in) */
    uv_check_init(loop, &c->kick);
    uv_idle_init(loop, &c->kick_idle);
    c->handles_open = 3;
    c->loop = loop;
    c->mode = mode;
    c->interval_ms = interval_ms ? interval_ms : COMMIT_DEFAULT_INTERVAL_MS;
    c->retry_ms = COMMIT_DEFAULT_RETRY_MS;
    c->count = count;
    c->durable = count;
    c->stats.visits_durable = count;
    c->last_start_ms = uv_now(loop);
    c->fd = -1;
    *out = c;
    return 0;
}

int commit_visit(struct commit *c, commit_done_fn cb, void *arg)
{
    struct commit_waiter *w;

    if (c->closing)
        return -ECANCELED;
    if (c->count == UINT64_MAX)
        return -EOVERFLOW;
    if (c->mode != COMMIT_SYNC_ALWAYS) {
        c->count++;
        c->visits_unwritten++;
        commit_schedule(c, 0);
        cb(arg, 0, c->count);
        return 0;
    }
    w = commit_waiter_get(c);
    if (!w)
        return -ENOMEM;
    c->count++;
    c->visits_unwritten++;
    w->cb = cb;
    w->arg = arg;
    w->value = c->count;
    commit_queue_push(&c->pending, w);
    commit_schedule(c, 0);
    return 0;
}

void commit_flush(struct commit *c, void (*done)(void *arg, int status), void *arg)
{
    struct commit_waiter *w;

    if (c->closing) {
        done(arg, -ECANCELED);
        return;
    }
    w = commit_waiter_get(c);
    if (!w) {
        done(arg, -ENOMEM);
        return;
    }
    w->flush_cb = done;
    w->arg = arg;
    w->value = c->count;
    commit_queue_push(&c->pending_flushes, w);
    commit_schedule(c, 0);
}

void commit_on_durable(struct commit *c, commit_durable_fn fn, void *arg)
{
    c->on_durable = fn;
    c->on_durable_arg = arg;
}

void commit_reopen(struct commit *c)
{
    c->reopen = true;
}

int commit_file_identity(const struct commit *c, uint64_t *dev, uint64_t *ino)
{
    if (!c->file_open)
        return -ENOENT;
    *dev = c->file_id.dev;
    *ino = c->file_id.ino;
    return 0;
}

void commit_set_retry_ms(struct commit *c, uint32_t retry_ms)
{
    c->retry_ms = retry_ms;
}

uint64_t commit_count(const struct commit *c)
{
    return c->count;
}

uint64_t commit_durable_count(const struct commit *c)
{
    return c->durable;
}

uint64_t commit_pending(const struct commit *c)
{
    return c->count - c->durable;
}

int commit_last_error(const struct commit *c)
{
    return c->last_error;
}

const struct commit_stats *commit_stats_get(const struct commit *c)
{
    return &c->stats;
}

static void commit_free(struct commit *c)
{
    struct commit_waiter *w = c->free_list;

    while (w) {
        struct commit_waiter *next = w->next;

        free(w);
        w = next;
    }
    commit_fd_drop(c); /* no write is in flight: the descriptor is ours */
    free(c->dir);
    free(c);
}

static void commit_handle_closed(uv_handle_t *h)
{
    struct commit *c = h->data;

    if (--c->handles_open == 0 && !c->in_flight)
        commit_free(c);
}

void commit_close(struct commit *c)
{
    if (c->closing)
        return;
    commit_kick_disarm(c);
    c->closing = true;
    uv_timer_stop(&c->timer);
    c->timer.data = c->kick.data = c->kick_idle.data = c;
    uv_close((uv_handle_t *)&c->timer, commit_handle_closed);
    uv_close((uv_handle_t *)&c->kick, commit_handle_closed);
    uv_close((uv_handle_t *)&c->kick_idle, commit_handle_closed);
    commit_queue_answer(c, &c->pending, -ECANCELED);
    commit_queue_answer(c, &c->pending_flushes, -ECANCELED);
}
