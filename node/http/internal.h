/*
 * http/internal.h: what the three files of the HTTP server share, and nothing else
 * may include. The server is split by job:
 *
 *   http_server.c   the listener, accept and the connection cap, draining,
 *                   closing, stats;
 *   http_conn.c     one connection: reading, parsing under the caps of
 *                   http_server.h, the pipelining FIFO, timers and closing;
 *   http_response.c rendering answers and writing them strictly in FIFO order.
 *
 * The structs live here because each file works on all three (a connection
 * points to its server, an exchange to its connection). Functions declared
 * here are internal: named http__* as libuv names its own (uv__*).
 *
 * Ownership: the server owns its connections (a list), a connection owns the
 * exchanges in its FIFO, except that an exchange the handler still owes an
 * answer is detached on close (ex->conn = NULL) and then freed by
 * http_exchange_respond().
 */
#ifndef TALLY_HTTP_INT_H
#define TALLY_HTTP_INT_H

#include <llhttp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "node/container_of.h"
#include "node/http/conn.h"
#include "node/http/server.h"

enum {
    HTTP_READ_BUF =
        16 * 1024,        /* one read; also the most unparsed bytes a paused connection keeps */
    HTTP_EX_INLINE = 512, /* responses up to this size need no second allocation (the
                             visit page with its headers fits) */
};

struct http_exchange {
    struct http_exchange *next; /* FIFO order on the connection */
    struct http_conn *conn;     /* NULL once the connection is gone */
    char *resp;                 /* rendered response: resp_inline or heap */
    size_t resp_len;
    bool answered;
    bool keep_alive; /* false: the connection closes after this response */
    bool head;
    bool handler_owned; /* the handler owes http_exchange_respond() */
    struct http_request_view view;
    char resp_inline[HTTP_EX_INLINE];
    char target[]; /* path, NUL, query, NUL, accept, NUL */
};

/* A connection's place in one of the server's per-turn queues (resume,
 * flush): intrusive, so queueing never allocates and a closing connection
 * leaves in O(1). */
struct http_qlink {
    struct http_qlink *prev, *next;
    bool queued;
};
struct http_queue {
    struct http_qlink *head, *tail;
};

enum conn_state {
    CONN_OPEN,   /* parsing and answering */
    CONN_LINGER, /* last response sent, write side shut, waiting for the client's FIN */
    CONN_CLOSED, /* handles closing or closed */
};

struct http_conn {
    uv_tcp_t tcp;
    uv_timer_t timer; /* idle/slow-request timeout, then linger timeout */
    uv_shutdown_t shutdown_req;
    llhttp_t parser;
    struct http_server *srv;
    struct http_conn *prev, *next; /* server's list */
    struct http_qlink rq;          /* in the server's resume queue */
    struct http_qlink fq;          /* in the server's flush queue */
    struct http_exchange *head, *tail;
    size_t queued;    /* exchanges in the FIFO */
    size_t out_bytes; /* rendered answers in the FIFO, not yet handed to a write */
    char *pending;    /* bytes read but not parsed while the parser is paused */
    size_t pending_len;
    http_conn_sink_fn sink; /* non-NULL: no socket, output goes here */
    void *sink_ctx;
    uint64_t idle_since; /* loop time the connection last became idle */
    enum conn_state state;
    int handles; /* uv handles not yet closed */
    int reject_status;
    bool reading;
    bool in_parse;     /* inside llhttp_execute: answers wait for one flush */
    bool in_message;   /* a request has started and not completed */
    bool in_headers;   /* ... and its header section is still arriving */
    bool paused;       /* parser paused by backpressure; pending holds the rest */
    bool stop_parsing; /* no further request will be parsed */
    bool peer_eof;     /* client half-closed: answer what it asked, then close */
    bool shutdown_done;
    bool eof_in_linger;
    const char *hdr_mark; /* in the current buffer, header bytes before it are counted */
    size_t hdr_bytes;
    unsigned nheaders;
    unsigned hosts; /* Host fields in this request */
    size_t url_len;
    char url[HTTP_MAX_URL + 1];
    /* The field name being read, enough of it to tell "Accept" apart. */
    char field[8];
    size_t field_len;
    bool in_accept; /* the value being read belongs to an Accept field */
    size_t accept_len;
    char accept[HTTP_MAX_ACCEPT];
};

struct http_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    http_handler_fn handler;
    void *handler_ctx;
    uint32_t idle_ms;
    uint32_t max_conns;
    void (*on_cap_reached)(void *ctx, uint64_t open, uint32_t cap);
    bool cap_armed; /* below the cap (with hysteresis) since the last report */
    struct http_conn *conns;
    /* Connections with parsed-ahead work left after their one resume of this
     * loop iteration: served round-robin by resume_idle, so one client's deep
     * pipeline cannot hold the loop while others (and accept) wait. */
    struct http_queue rq;
    uv_idle_t resume_idle;
    bool resume_idle_open;
    uint64_t parse_turn; /* uv_now() of the turn parse_ns counts */
    uint64_t parse_ns;   /* time spent parsing reads in that turn */
    /* Connections answered outside parsing (a commit's batch of visits, a
     * handler answering later) are written once per loop turn, from
     * flush_check after the poll phase, so a pipelining client's answers
     * of one batch leave in one writev, not one write each. flush_idle keeps
     * the poll from blocking while some wait. */
    struct http_queue fq;
    uv_check_t flush_check;
    uv_idle_t flush_idle;
    size_t inflight;
    size_t handles; /* listener, reject + connections not yet freed */
    /* The one handle a refused connection is accepted into and closed at
     * once (server_reject): preallocated, so refusing needs no memory. */
    uv_tcp_t reject;
    bool reject_busy;    /* closing the last refused connection */
    bool reject_pending; /* a connection waits to be refused after it */
    bool listening;
    bool draining;
    bool closing;
    struct http_server_stats stats;
    /* "Date: <IMF-fixdate>\r\n" for every answer, formatted once a second */
    int64_t date_sec;
    char date_hdr[48];
    size_t date_len;
    char rbuf[HTTP_READ_BUF];
};

/* http_server.c */

/* The Date header line for an answer rendered now ("Date: ...\r\n"), its
 * length in *len. Valid until the next call. */
const char *http__server_date(struct http_server *s, size_t *len);

/* One of s's handles (listener or connection) is gone; frees s when it was
 * the last one and http_server_close() has been called. */
void http__server_handle_closed(struct http_server *s);

/* http_conn.c */

/* Takes a connection off listener's backlog into s. Returns 0 (the
 * connection is open or already closed again) or -ENOMEM, and then the
 * caller must still take it off the backlog. */
int http__conn_accept(struct http_server *s, uv_stream_t *listener);
/* The one way a connection ends. Safe to call twice and from any callback;
 * memory goes in the handles' close callback. */
void http__conn_close_now(struct http_conn *c);
/* The last response is queued: close the write side, then the connection. */
void http__conn_shutdown(struct http_conn *c);
/* Reads or stops reading as the caps on queued answers and bytes say. */
void http__conn_update_reading(struct http_conn *c);
/* Bytes of answers c holds (FIFO + write queue), against HTTP_MAX_CONN_OUT. */
size_t http__conn_out_bytes(const struct http_conn *c);
/* c's answers grew by n bytes: count them and the server's peak. */
void http__conn_out_add(struct http_conn *c, size_t n);
/* After an answer: write what can go, parse what waits, read or close. */
void http__conn_progress(struct http_conn *c);
/* Reads parsed in one loop turn share a time budget; past it, a read is
 * kept and parsed in the connection's turn of the resume queue. */
bool http__server_parse_budget_spent(struct http_server *s);
void http__server_parse_spent(struct http_server *s, uint64_t ns);
/* Queues c to resume its parser on the next loop iteration; unqueues it. */
void http__server_resume_later(struct http_server *s, struct http_conn *c);
void http__server_resume_cancel(struct http_server *s, struct http_conn *c);
/* Queues c to write its answers after this loop turn's poll phase (now, for
 * a sink or a server without a loop); unqueues it. */
void http__server_flush_later(struct http_server *s, struct http_conn *c);
void http__server_flush_cancel(struct http_server *s, struct http_conn *c);

/* The server is draining: close c now if idle, else after its queue. */
void http__conn_drain(struct http_conn *c);

/* http_response.c */

/* A new exchange for target url[0..len) and Accept accept[0..accept_len),
 * its strings owned by the exchange so the handler may read them until it
 * answers. NULL when out of memory. */
struct http_exchange *http__exchange_new(const char *url, size_t len, const char *accept,
                                         size_t accept_len);
void http__exchange_free(struct http_exchange *ex);
/* An answered exchange refusing a request with status ("Bad Request\n" ...),
 * counted in the response stats of s. NULL when out of memory. */
struct http_exchange *http__exchange_new_refusal(struct http_server *s, int status);
/* Writes the answered head of c's FIFO and every answered exchange behind it. */
void http__response_flush(struct http_conn *c);

#endif
