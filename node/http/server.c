/*
 * http/server.c: the HTTP server as a whole: the listener, accepting under the
 * connection cap, draining, closing, and the stats and accessors of
 * http_server.h.
 *
 * Connections are handed to http_conn.c at accept; this file only keeps the
 * list of them and the count of handles not yet freed, because the server
 * itself may be freed only after the last of those closes (libuv frees a
 * handle's memory in its close callback, never before).
 */
#include "node/http/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
    HTTP_LISTEN_BACKLOG = 511, /* the usual somaxconn ceiling */
};
/* Parsing ahead for pipelining clients, per loop turn: ~2 ms, so a probe
 * waits a few turns at most, not for every client's backlog. */
#define HTTP_RESUME_BUDGET_NS (2 * 1000 * 1000)

static void server_maybe_free(struct http_server *s)
{
    if (s->closing && s->handles == 0)
        free(s);
}

void http__server_handle_closed(struct http_server *s)
{
    s->handles--;
    server_maybe_free(s);
}

static void server_on_listener_close(uv_handle_t *h)
{
    http__server_handle_closed(h->data);
}

/* RFC 9110 5.6.7 IMF-fixdate, in English whatever the locale: "Date: Sun, 06
 * Nov 1994 08:49:37 GMT\r\n". Formatted when the second changes, so a busy
 * server pays one time() per answer. */
const char *http__server_date(struct http_server *s, size_t *len)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t now = time(NULL);
    if (s->date_len == 0 || (int64_t)now != s->date_sec) {
        struct tm tm;
        if (!gmtime_r(&now, &tm) || tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0 ||
            tm.tm_mon > 11)
            memset(&tm, 0, sizeof(tm)); /* cannot happen for a time() value */
        int n =
            snprintf(s->date_hdr, sizeof(s->date_hdr),
                     "Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n", days[tm.tm_wday], tm.tm_mday,
                     months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
        s->date_len = n > 0 && (size_t)n < sizeof(s->date_hdr) ? (size_t)n : 0;
        s->date_sec = (int64_t)now;
    }
    *len = s->date_len;
    return s->date_hdr;
}

/* ------------------------------------------------------------------------ */
/* Resume queue: fairness between pipelining clients                        */

static void server_on_resume_idle(uv_idle_t *h);

/* Appends l unless it is queued already; false when it was. */
static bool queue_push(struct http_queue *q, struct http_qlink *l)
{
    if (l->queued)
        return false;
    l->queued = true;
    l->next = NULL;
    l->prev = q->tail;
    if (q->tail)
        q->tail->next = l;
    else
        q->head = l;
    q->tail = l;
    return true;
}

static void queue_remove(struct http_queue *q, struct http_qlink *l)
{
    if (!l->queued)
        return;
    if (l->prev)
        l->prev->next = l->next;
    else
        q->head = l->next;
    if (l->next)
        l->next->prev = l->prev;
    else
        q->tail = l->prev;
    l->prev = l->next = NULL;
    l->queued = false;
}

void http__server_resume_later(struct http_server *s, struct http_conn *c)
{
    if (s->resume_idle_open && queue_push(&s->rq, &c->rq))
        uv_idle_start(&s->resume_idle, server_on_resume_idle);
}

void http__server_resume_cancel(struct http_server *s, struct http_conn *c)
{
    queue_remove(&s->rq, &c->rq);
}

/* A turn of the loop: queued connections get one resume each, in order,
 * until HTTP_RESUME_BUDGET_NS is spent; those that still have work queue
 * themselves again behind the others. The budget keeps the loop polling (new
 * connections, probes, gossip) every few milliseconds however many clients
 * pipeline. */
static void server_on_resume_idle(uv_idle_t *h)
{
    struct http_server *s = container_of(h, struct http_server, resume_idle);
    struct http_qlink *last = s->rq.tail;
    uint64_t start = uv_hrtime();
    while (s->rq.head) {
        struct http_qlink *l = s->rq.head;
        queue_remove(&s->rq, l);
        http__conn_progress(container_of(l, struct http_conn, rq));
        if (l == last || uv_hrtime() - start > HTTP_RESUME_BUDGET_NS)
            break;
    }
    if (!s->rq.head)
        uv_idle_stop(h);
}

/* ------------------------------------------------------------------------ */
/* Flush queue: one write per connection per loop turn                      */

static void server_on_flush_check(uv_check_t *h);
static void server_on_flush_idle(uv_idle_t *h)
{
    (void)h; /* only there so the poll before the flush does not block */
}

void http__server_flush_later(struct http_server *s, struct http_conn *c)
{
    if (c->fq.queued)
        return;
    if (c->sink || !s->resume_idle_open) {
        http__conn_progress(c);
        return;
    }
    queue_push(&s->fq, &c->fq);
    uv_check_start(&s->flush_check, server_on_flush_check);
    uv_idle_start(&s->flush_idle, server_on_flush_idle);
}

void http__server_flush_cancel(struct http_server *s, struct http_conn *c)
{
    queue_remove(&s->fq, &c->fq);
}

/* After the poll phase: write what each queued connection was answered.
 * Connections queued while this runs (an answer given from within) wait
 * for the next turn, so this ends. */
static void server_on_flush_check(uv_check_t *h)
{
    struct http_server *s = container_of(h, struct http_server, flush_check);
    struct http_qlink *last = s->fq.tail;
    while (s->fq.head) {
        struct http_qlink *l = s->fq.head;
        queue_remove(&s->fq, l);
        http__conn_progress(container_of(l, struct http_conn, fq));
        if (l == last)
            break;
    }
    if (!s->fq.head) {
        uv_check_stop(&s->flush_check);
        uv_idle_stop(&s->flush_idle);
    }
}

bool http__server_parse_budget_spent(struct http_server *s)
{
    if (!s->resume_idle_open)
        return false;
    uint64_t turn = uv_now(s->loop);
    if (turn != s->parse_turn) {
        s->parse_turn = turn;
        s->parse_ns = 0;
    }
    return s->parse_ns > HTTP_RESUME_BUDGET_NS;
}

void http__server_parse_spent(struct http_server *s, uint64_t ns)
{
    s->parse_ns += ns;
}

static void server_on_idle_close(uv_handle_t *h)
{
    http__server_handle_closed(h->data);
}

static void server_take(struct http_server *s);

static void server_on_reject_close(uv_handle_t *h)
{
    struct http_server *s = h->data;
    s->reject_busy = false;
    if (s->reject_pending && s->listening && !s->closing) {
        s->reject_pending = false;
        server_take(s); /* the cap may have room again by now */
    }
    http__server_handle_closed(s);
}

/* Over max_conns, or no memory for a connection: take it off the backlog
 * and close it, so the client learns at once instead of waiting in the
 * kernel queue. This must never fail: a connection libuv announced and
 * nobody accepted stops libuv polling the listener, and nothing would be
 * accepted again. So it uses the one handle kept for it, never malloc; while
 * that handle is still closing, the connection waits (libuv has paused the
 * listener) and is taken in the close callback. */
static void server_reject(struct http_server *s)
{
    if (s->reject_busy) {
        s->reject_pending = true;
        return;
    }
    uv_tcp_init(s->loop, &s->reject);
    s->reject.data = s;
    s->reject_busy = true;
    s->handles++;
    (void)uv_accept((uv_stream_t *)&s->listener, (uv_stream_t *)&s->reject);
    uv_close((uv_handle_t *)&s->reject, server_on_reject_close);
    s->stats.connections_rejected++;
}

/* The cap was hit: report it once per episode (see cap_armed). */
static void server_cap_note(struct http_server *s)
{
    if (!s->cap_armed)
        return;
    s->cap_armed = false;
    s->stats.cap_reached++;
    if (s->on_cap_reached)
        s->on_cap_reached(s->handler_ctx, s->stats.connections_open, s->max_conns);
}

/* Take the connection waiting on the listener: serve it, or refuse it. */
static void server_take(struct http_server *s)
{
    uv_stream_t *l = (uv_stream_t *)&s->listener;
    if (s->stats.connections_open >= s->max_conns) {
        server_cap_note(s);
        server_reject(s);
        return;
    }
    /* Re-arm the report only well below the cap, so a server hovering at
     * it reports once rather than at every close and accept. */
    if (!s->cap_armed && s->stats.connections_open < s->max_conns - s->max_conns / 10)
        s->cap_armed = true;
    if (http__conn_accept(s, l) < 0)
        server_reject(s);
}

static void server_on_connection(uv_stream_t *l, int status)
{
    struct http_server *s = container_of((uv_tcp_t *)l, struct http_server, listener);
    if (status < 0 || !s->listening)
        return;
    server_take(s);
}

static struct http_server *server_new(uv_loop_t *loop, const struct http_server_config *cfg)
{
    struct http_server *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->loop = loop;
    s->handler = cfg->handler;
    s->handler_ctx = cfg->handler_ctx;
    s->idle_ms = cfg->idle_ms ? cfg->idle_ms : HTTP_DEFAULT_IDLE_MS;
    s->max_conns = cfg->max_conns ? cfg->max_conns : HTTP_DEFAULT_MAX_CONNS;
    s->on_cap_reached = cfg->on_cap_reached;
    s->cap_armed = true;
    return s;
}

int http_server_start(uv_loop_t *loop, const struct http_server_config *cfg,
                      struct http_server **out)
{
    *out = NULL;
    if (!cfg->handler || !cfg->bind_addr || cfg->port < 0 || cfg->port > 65535)
        return -EINVAL;
    struct sockaddr_storage ss;
    if (uv_ip4_addr(cfg->bind_addr, cfg->port, (struct sockaddr_in *)&ss) != 0 &&
        uv_ip6_addr(cfg->bind_addr, cfg->port, (struct sockaddr_in6 *)&ss) != 0)
        return -EINVAL;
    struct http_server *s = server_new(loop, cfg);
    if (!s)
        return -ENOMEM;
    int r = uv_tcp_init(loop, &s->listener);
    if (r < 0) {
        free(s);
        return r;
    }
    s->listener.data = s;
    s->handles = 1;
    r = uv_tcp_bind(&s->listener, (const struct sockaddr *)&ss, 0);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&s->listener, HTTP_LISTEN_BACKLOG, server_on_connection);
    if (r < 0) {
        /* freed by the close callback once the caller runs the loop */
        s->closing = true;
        uv_close((uv_handle_t *)&s->listener, server_on_listener_close);
        return r;
    }
    s->listening = true;
    uv_idle_init(loop, &s->resume_idle);
    s->resume_idle.data = s;
    s->resume_idle_open = true;
    s->handles++;
    uv_check_init(loop, &s->flush_check);
    uv_idle_init(loop, &s->flush_idle);
    s->flush_check.data = s->flush_idle.data = s;
    s->handles += 2;
    *out = s;
    return 0;
}

static void server_close_listener(struct http_server *s)
{
    if (!s->listening)
        return;
    s->listening = false;
    uv_close((uv_handle_t *)&s->listener, server_on_listener_close);
}

void http_server_stop_accepting(struct http_server *s)
{
    if (s->draining)
        return;
    s->draining = true;
    server_close_listener(s);
    for (struct http_conn *c = s->conns, *next; c; c = next) {
        next = c->next;
        http__conn_drain(c);
    }
}

size_t http_server_inflight(const struct http_server *s)
{
    return s->inflight;
}

void http_server_close(struct http_server *s)
{
    s->draining = true;
    s->closing = true;
    server_close_listener(s);
    while (s->conns)
        http__conn_close_now(s->conns);
    if (s->resume_idle_open) {
        s->resume_idle_open = false;
        uv_close((uv_handle_t *)&s->resume_idle, server_on_idle_close);
        uv_close((uv_handle_t *)&s->flush_check, server_on_idle_close);
        uv_close((uv_handle_t *)&s->flush_idle, server_on_idle_close);
    }
    server_maybe_free(s);
}

const struct http_server_stats *http_server_stats_get(const struct http_server *s)
{
    return &s->stats;
}

int http_server_port(const struct http_server *s)
{
    if (!s->listening)
        return -EBADF;
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    int r = uv_tcp_getsockname(&s->listener, (struct sockaddr *)&ss, &len);
    if (r < 0)
        return r;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* ------------------------------------------------------------------------ */
/* Sink connections (http_conn.h)                                           */

int http_server_new_unbound(uv_loop_t *loop, const struct http_server_config *cfg,
                            struct http_server **out)
{
    *out = NULL;
    if (!cfg->handler)
        return -EINVAL;
    struct http_server *s = server_new(loop, cfg);
    if (!s)
        return -ENOMEM;
    *out = s;
    return 0;
}
