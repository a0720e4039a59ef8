/*
 * http/conn.c: one connection of the HTTP server, from accept to close, built
 * so that a hostile or slow client costs bounded memory and time.
 *
 * Each connection embeds its uv_tcp_t, one uv_timer_t and its llhttp parser.
 * Reads land in one buffer shared by the whole server (the loop is single
 * threaded and every read is parsed before the next one), so an idle
 * connection holds no read buffer. The parser callbacks enforce the caps of
 * http_server.h while bytes stream in (431, 414, 413; 400 for malformed
 * requests, 505 for a version other than 1.0 and 1.1); a complete request
 * becomes an exchange appended to the connection's FIFO and is handed to the
 * handler, which answers at once or later; of the headers only the Accept
 * field is kept (its first HTTP_MAX_ACCEPT bytes), for content negotiation.
 * A refused request is answered
 * after those already queued, then the connection closes. http_response.c
 * writes the answers.
 *
 * Backpressure: past HTTP_MAX_PIPELINE queued exchanges, or once the answers
 * the connection holds (rendered in the FIFO or waiting in libuv's write queue)
 * reach HTTP_MAX_CONN_OUT bytes, the parser is paused (the unparsed rest of
 * the read is kept) and reading stops. Parsing resumes only when the client
 * has read enough for both to drop to half, so a client that pipelines and
 * never reads holds at most the cap, one more answer and one read buffer. One timer bounds
 * idleness: a connection must complete a request within idle_ms of becoming idle (accept, or the
 * moment its last response was handed to the kernel), so one byte a second does not keep it open.
 * While the handler owes an answer the clock does not run.
 *
 * Closing: a connection that sent its last response (Connection: close, an
 * error, draining) shuts down its write side and lingers reading until the
 * client's FIN so the response is not destroyed by a reset; every other close
 * is immediate. All paths end in http__conn_close_now(), which detaches
 * exchanges the handler still owes (ex->conn = NULL: answering them later only
 * frees them) and closes both handles; memory is freed in the last close
 * callback.
 *
 * Sink connections (http_conn.h) run the same code without a socket or timers.
 */
#include "node/http/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void conn_on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);

/* ------------------------------------------------------------------------ */
/* Reading, timers, closing                                                 */

static void conn_fifo_push(struct http_conn *c, struct http_exchange *ex)
{
    ex->conn = c;
    if (ex->answered)
        http__conn_out_add(c, ex->resp_len);
    if (c->tail)
        c->tail->next = ex;
    else
        c->head = ex;
    c->tail = ex;
    c->queued++;
}

static void conn_on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct http_conn *c = h->data;
    buf->base = c->srv->rbuf;
    buf->len = sizeof(c->srv->rbuf);
}

static void conn_set_reading(struct http_conn *c, bool want)
{
    if (c->sink || want == c->reading)
        return;
    if (want) {
        if (uv_read_start((uv_stream_t *)&c->tcp, conn_on_alloc, conn_on_read) < 0) {
            http__conn_close_now(c);
            return;
        }
    } else {
        uv_read_stop((uv_stream_t *)&c->tcp);
    }
    c->reading = want;
}

size_t http__conn_out_bytes(const struct http_conn *c)
{
    size_t n = c->out_bytes;
    if (!c->sink)
        n += uv_stream_get_write_queue_size((const uv_stream_t *)&c->tcp);
    return n;
}

void http__conn_out_add(struct http_conn *c, size_t n)
{
    c->out_bytes += n;
    size_t held = http__conn_out_bytes(c);
    if (held > c->srv->stats.conn_out_bytes_peak)
        c->srv->stats.conn_out_bytes_peak = held;
}

void http__conn_update_reading(struct http_conn *c)
{
    if (c->sink || c->state != CONN_OPEN)
        return;
    bool want = !c->stop_parsing && !c->paused && !c->peer_eof && c->queued < HTTP_MAX_PIPELINE &&
                http__conn_out_bytes(c) < HTTP_MAX_CONN_OUT;
    conn_set_reading(c, want);
}

static void conn_on_close(uv_handle_t *h)
{
    struct http_conn *c = h->data;
    if (--c->handles > 0)
        return;
    struct http_server *s = c->srv;
    free(c);
    http__server_handle_closed(s);
}

/* Safe to call twice and from any callback; memory goes in conn_on_close. */
void http__conn_close_now(struct http_conn *c)
{
    if (c->state == CONN_CLOSED)
        return;
    struct http_server *s = c->srv;
    c->state = CONN_CLOSED;
    for (struct http_exchange *ex = c->head, *next; ex; ex = next) {
        next = ex->next;
        if (ex->handler_owned && !ex->answered) {
            /* the handler still holds it; answering it later only frees it */
            ex->conn = NULL;
            ex->next = NULL;
            s->inflight--;
        } else {
            http__exchange_free(ex);
        }
    }
    c->head = c->tail = NULL;
    c->queued = 0;
    c->out_bytes = 0;
    free(c->pending);
    c->pending = NULL;
    c->pending_len = 0;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    http__server_resume_cancel(s, c);
    http__server_flush_cancel(s, c);
    s->stats.connections_open--;
    if (c->sink)
        return;
    c->reading = false;
    uv_close((uv_handle_t *)&c->tcp, conn_on_close);
    uv_close((uv_handle_t *)&c->timer, conn_on_close);
}

static void conn_on_timer(uv_timer_t *t)
{
    struct http_conn *c = t->data;
    if (c->state == CONN_LINGER) {
        http__conn_close_now(c);
        return;
    }
    if (c->state != CONN_OPEN)
        return;
    uint64_t idle_ms = c->srv->idle_ms;
    if (c->head) {
        /* the handler owes an answer: not the client's fault */
        uv_timer_start(&c->timer, conn_on_timer, idle_ms, 0);
        return;
    }
    uint64_t now = uv_now(c->srv->loop);
    uint64_t deadline = c->idle_since + idle_ms;
    if (now < deadline) {
        uv_timer_start(&c->timer, conn_on_timer, deadline - now, 0);
        return;
    }
    c->srv->stats.timeouts++;
    http__conn_close_now(c);
}

static void conn_on_shutdown(uv_shutdown_t *req, int status)
{
    struct http_conn *c = container_of(req, struct http_conn, shutdown_req);
    if (c->state != CONN_LINGER)
        return;
    c->shutdown_done = true;
    if (status < 0 || c->eof_in_linger)
        http__conn_close_now(c);
}

/* Send FIN after the last response and wait (bounded) for the client's,
 * discarding what it still sends, so it reads the response instead of a
 * reset. */
void http__conn_shutdown(struct http_conn *c)
{
    if (c->state != CONN_OPEN)
        return;
    if (c->sink) {
        http__conn_close_now(c);
        return;
    }
    c->state = CONN_LINGER;
    c->stop_parsing = true;
    if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, conn_on_shutdown) < 0) {
        http__conn_close_now(c);
        return;
    }
    if (!c->peer_eof)
        conn_set_reading(c, true);
    else
        c->eof_in_linger = true;
    if (c->state == CONN_LINGER)
        uv_timer_start(&c->timer, conn_on_timer, HTTP_LINGER_MS, 0);
}

/* ------------------------------------------------------------------------ */
/* Parsing                                                                  */

static int conn_fail(struct http_conn *c, int status)
{
    if (!c->reject_status)
        c->reject_status = status;
    return HPE_USER;
}

/* Counts header bytes up to at + len, including the separators and
 * whitespace between spans; lead is what precedes the first span. */
static int conn_count_span(struct http_conn *c, const char *at, size_t len, size_t lead)
{
    if (!c->hdr_mark) {
        c->hdr_bytes += lead;
        c->hdr_mark = at;
    }
    c->hdr_bytes += (size_t)(at + len - c->hdr_mark);
    c->hdr_mark = at + len;
    if (c->hdr_bytes > HTTP_MAX_HEADER_BYTES)
        return conn_fail(c, 431);
    return 0;
}

static int on_message_begin(llhttp_t *p)
{
    struct http_conn *c = p->data;
    c->in_message = true;
    c->in_headers = true;
    c->url_len = 0;
    c->nheaders = 0;
    c->hosts = 0;
    c->hdr_bytes = 0;
    c->hdr_mark = NULL;
    c->field_len = 0;
    c->in_accept = false;
    c->accept_len = 0;
    return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t len)
{
    struct http_conn *c = p->data;
    if (len > HTTP_MAX_URL - c->url_len)
        return conn_fail(c, 414);
    memcpy(c->url + c->url_len, at, len);
    c->url_len += len;
    size_t lead = strlen(llhttp_method_name((llhttp_method_t)p->method)) + 1;
    return conn_count_span(c, at, len, lead);
}

static int on_url_complete(llhttp_t *p)
{
    /* llhttp takes "GET /\r\n" for HTTP/0.9 and then waits for headers that
     * a 0.9 client never sends: refuse it now. */
    if (p->http_major == 0 && p->http_minor == 9)
        return conn_fail(p->data, 505);
    return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
    /* llhttp 8 lets "X : v" and "A B: v" through; RFC 9112 5.1 says reject
     * whitespace in a field name, as proxies may read it differently */
    struct http_conn *c = p->data;
    for (size_t i = 0; i < len; i++)
        if (at[i] == ' ' || at[i] == '\t')
            return conn_fail(c, 400);
    /* A name may come in several spans; only its first bytes matter. */
    for (size_t i = 0; i < len && c->field_len < sizeof(c->field); i++)
        c->field[c->field_len++] = at[i];
    return conn_count_span(c, at, len, 0);
}

/* Appends to the Accept value, cut at HTTP_MAX_ACCEPT: negotiation reads a
 * prefix, which is all a sane client sends. */
static void conn_accept_add(struct http_conn *c, const char *at, size_t len)
{
    size_t room = sizeof(c->accept) - c->accept_len;
    if (len > room)
        len = room;
    memcpy(c->accept + c->accept_len, at, len);
    c->accept_len += len;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
    struct http_conn *c = p->data;
    if (c->in_accept)
        conn_accept_add(c, at, len);
    return conn_count_span(c, at, len, 0);
}

static int on_header_value_complete(llhttp_t *p)
{
    struct http_conn *c = p->data;
    c->field_len = 0;
    c->in_accept = false;
    return 0;
}

static int on_header_field_complete(llhttp_t *p)
{
    struct http_conn *c = p->data;
    if (++c->nheaders > HTTP_MAX_HEADERS)
        return conn_fail(c, 431);
    c->in_accept = c->field_len == 6 && !strncasecmp(c->field, "accept", 6);
    if (c->in_accept && c->accept_len > 0)
        conn_accept_add(c, ", ", 2); /* a second Accept field: one list */
    if (c->field_len == 4 && !strncasecmp(c->field, "host", 4))
        c->hosts++;
    return 0;
}

static int on_headers_complete(llhttp_t *p)
{
    struct http_conn *c = p->data;
    c->in_headers = false;
    if (p->http_major != 1 || p->http_minor > 1)
        return conn_fail(c, 505);
    /* RFC 9112 3.2: 400 for an HTTP/1.1 request without Host and for any
     * request with more than one (proxies may pick different ones) */
    if (c->hosts > 1 || (c->hosts == 0 && p->http_minor == 1))
        return conn_fail(c, 400);
    /* llhttp already refuses this pair; keep the rule even if it turns lenient */
    if ((p->flags & F_CONTENT_LENGTH) && (p->flags & F_TRANSFER_ENCODING))
        return conn_fail(c, 400);
    if ((p->flags & F_CHUNKED) || (p->flags & F_TRANSFER_ENCODING) || p->content_length > 0)
        return conn_fail(c, 413);
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
    return conn_fail(p->data, 413);
}

/* absolute-form (RFC 9112 3.2.2: "GET http://host:8000/count?x HTTP/1.1", as
 * proxies send) becomes origin-form ("/count?x"), so routes see one shape. The
 * result is shorter than the original, so it fits in place. */
static void conn_url_origin_form(struct http_conn *c)
{
    size_t i;
    if (c->url_len >= 7 && !strncasecmp(c->url, "http://", 7))
        i = 7;
    else if (c->url_len >= 8 && !strncasecmp(c->url, "https://", 8))
        i = 8;
    else
        return;
    while (i < c->url_len && c->url[i] != '/' && c->url[i] != '?')
        i++;
    size_t rest = c->url_len - i;
    if (i < c->url_len && c->url[i] == '/') {
        memmove(c->url, c->url + i, rest);
        c->url_len = rest;
    } else { /* "http://host" or "http://host?q": the path is "/" */
        memmove(c->url + 1, c->url + i, rest);
        c->url[0] = '/';
        c->url_len = rest + 1;
    }
}

static int on_message_complete(llhttp_t *p)
{
    struct http_conn *c = p->data;
    struct http_server *s = c->srv;
    c->in_message = false;
    conn_url_origin_form(c);
    struct http_exchange *ex = http__exchange_new(c->url, c->url_len, c->accept, c->accept_len);
    if (!ex)
        return conn_fail(c, 500);
    switch (p->method) {
    case HTTP_GET:
        ex->view.method = HTTP_M_GET;
        break;
    case HTTP_HEAD:
        ex->view.method = HTTP_M_HEAD;
        ex->head = true;
        break;
    default:
        ex->view.method = HTTP_M_OTHER;
    }
    ex->view.method_str = llhttp_method_name((llhttp_method_t)p->method);
    /* an upgrade (or CONNECT) is answered like any request, then we close:
     * whatever follows is not HTTP/1.1 */
    ex->keep_alive = llhttp_should_keep_alive(p) && !p->upgrade && !s->draining;
    ex->handler_owned = true;
    conn_fifo_push(c, ex);
    s->stats.requests++;
    s->inflight++;
    if (!ex->keep_alive)
        c->stop_parsing = true;
    s->handler(s->handler_ctx, ex, &ex->view);
    /* ex may be gone now; the answer may be rendered: it counts at once */
    if (c->state != CONN_OPEN || c->stop_parsing || c->queued >= HTTP_MAX_PIPELINE ||
        http__conn_out_bytes(c) >= HTTP_MAX_CONN_OUT)
        return HPE_PAUSED;
    return 0;
}

static const llhttp_settings_t http_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_url_complete = on_url_complete,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_header_field_complete = on_header_field_complete,
    .on_header_value_complete = on_header_value_complete,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static enum http_reject_code reject_code_slot(int status)
{
    switch (status) {
    case 400:
        return HTTP_REJ_400;
    case 413:
        return HTTP_REJ_413;
    case 414:
        return HTTP_REJ_414;
    case 431:
        return HTTP_REJ_431;
    case 505:
        return HTTP_REJ_505;
    default:
        return HTTP_REJ_OTHER;
    }
}

const char *http_reject_code_str(enum http_reject_code code)
{
    static const char *const names[HTTP_REJ__COUNT] = {"400", "413", "414", "431", "505", "other"};
    return (unsigned)code < HTTP_REJ__COUNT ? names[code] : "other";
}

/* Answers a request we refuse, after those already queued, and closes. */
static void conn_reject(struct http_conn *c, int status)
{
    struct http_server *s = c->srv;
    if (status == 413 || status == 414 || status == 431)
        s->stats.rejected_too_large++;
    else
        s->stats.rejected_parse++;
    s->stats.rejected_by_code[reject_code_slot(status)]++;
    c->stop_parsing = true;
    c->in_message = false;
    c->in_headers = false;
    struct http_exchange *ex = http__exchange_new_refusal(s, status);
    if (!ex) {
        http__conn_close_now(c);
        return;
    }
    conn_fifo_push(c, ex);
}

static int conn_error_status(const struct http_conn *c, llhttp_errno_t err)
{
    if (c->reject_status)
        return c->reject_status;
    if (err == HPE_INVALID_VERSION)
        return 505;
    return 400;
}

/* One llhttp pass over data; keeps what a pause left unparsed. */
static void conn_execute(struct http_conn *c, const char *data, size_t len)
{
    if (c->stop_parsing || c->state != CONN_OPEN)
        return;
    c->hdr_mark = c->in_headers ? data : NULL;
    llhttp_errno_t err = llhttp_execute(&c->parser, data, len);
    if (c->state != CONN_OPEN)
        return;
    switch (err) {
    case HPE_OK:
        if (c->in_headers && c->hdr_mark) {
            c->hdr_bytes += (size_t)(data + len - c->hdr_mark);
            if (c->hdr_bytes > HTTP_MAX_HEADER_BYTES)
                conn_reject(c, 431);
        }
        return;
    case HPE_PAUSED: {
        if (c->stop_parsing)
            return; /* the last request of this connection: ignore what follows */
        const char *pos = llhttp_get_error_pos(&c->parser);
        size_t rest = (size_t)(data + len - pos);
        c->paused = true;
        if (rest) {
            c->pending = malloc(rest);
            if (!c->pending) {
                http__conn_close_now(c);
                return;
            }
            memcpy(c->pending, pos, rest);
            c->pending_len = rest;
        }
        return;
    }
    case HPE_PAUSED_UPGRADE:
        c->stop_parsing = true;
        return;
    default:
        conn_reject(c, conn_error_status(c, err));
    }
}

/* ------------------------------------------------------------------------ */
/* Progress: parse, answer, read                                            */

/* After parsing, an answer or a finished write: write what can go, resume a
 * paused parser once the FIFO and the bytes held have drained to half, and
 * decide whether to read or close. */
void http__conn_progress(struct http_conn *c)
{
    bool resumed = false;
    while (c->state == CONN_OPEN) {
        http__response_flush(c);
        if (c->state != CONN_OPEN)
            return;
        if (!c->paused || c->stop_parsing || c->queued > HTTP_MAX_PIPELINE / 2 ||
            http__conn_out_bytes(c) > HTTP_MAX_CONN_OUT / 2)
            break;
        if (resumed && !c->sink) {
            /* one batch per connection per loop iteration: the rest waits its
             * turn behind the other connections and the listener */
            http__server_resume_later(c->srv, c);
            break;
        }
        resumed = true;
        llhttp_resume(&c->parser);
        c->paused = false;
        char *buf = c->pending;
        size_t n = c->pending_len;
        c->pending = NULL;
        c->pending_len = 0;
        if (n) {
            c->in_parse = true;
            conn_execute(c, buf, n);
            c->in_parse = false;
        }
        free(buf);
    }
    if (c->state != CONN_OPEN)
        return;
    if (!c->head &&
        (c->stop_parsing || (c->peer_eof && !c->paused) || (c->srv->draining && !c->in_message))) {
        http__conn_shutdown(c);
        return;
    }
    http__conn_update_reading(c);
}

static void conn_feed(struct http_conn *c, const char *data, size_t len)
{
    c->in_parse = true;
    conn_execute(c, data, len);
    c->in_parse = false;
    http__conn_progress(c);
}

static void conn_on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    struct http_conn *c = container_of((uv_tcp_t *)st, struct http_conn, tcp);
    if (nread == 0 || c->state == CONN_CLOSED)
        return;
    if (c->state == CONN_LINGER) {
        if (nread == UV_EOF && !c->shutdown_done) {
            c->eof_in_linger = true; /* close once the response has left */
            c->reading = false;      /* libuv stops reading at EOF */
        } else if (nread < 0) {
            http__conn_close_now(c);
        }
        return; /* data after the last response is discarded */
    }
    if (nread < 0) {
        c->reading = false;
        if (nread == UV_EOF && (c->head || c->paused)) {
            /* half-close after pipelining: still answer what was asked */
            c->peer_eof = true;
            c->in_message = false;
            return;
        }
        http__conn_close_now(c); /* EOF when idle, reset, or error: quietly */
        return;
    }
    struct http_server *s = c->srv;
    if (http__server_parse_budget_spent(s)) {
        /* This loop turn has parsed enough: keep the bytes and take this
         * connection's turn in the resume queue, so a flood of reads cannot
         * hold the loop while a probe waits to be accepted. */
        c->pending = malloc((size_t)nread);
        if (!c->pending) {
            http__conn_close_now(c);
            return;
        }
        memcpy(c->pending, buf->base, (size_t)nread);
        c->pending_len = (size_t)nread;
        c->paused = true;
        http__conn_update_reading(c);
        http__server_resume_later(s, c);
        return;
    }
    uint64_t t0 = uv_hrtime();
    conn_feed(c, buf->base, (size_t)nread);
    http__server_parse_spent(s, uv_hrtime() - t0);
}

/* ------------------------------------------------------------------------ */
/* Opening and draining                                                     */

static struct http_conn *conn_new(struct http_server *s)
{
    struct http_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->srv = s;
    c->state = CONN_OPEN;
    llhttp_init(&c->parser, HTTP_REQUEST, &http_settings);
    c->parser.data = c;
    c->idle_since = uv_now(s->loop);
    return c;
}

static void conn_link(struct http_server *s, struct http_conn *c)
{
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->handles++;
    s->stats.connections_accepted++;
    s->stats.connections_open++;
    if (s->stats.connections_open > s->stats.connections_open_peak)
        s->stats.connections_open_peak = s->stats.connections_open;
}

int http__conn_accept(struct http_server *s, uv_stream_t *listener)
{
    struct http_conn *c = conn_new(s);
    if (!c)
        return -ENOMEM;
    uv_tcp_init(s->loop, &c->tcp);
    uv_timer_init(s->loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->handles = 2;
    conn_link(s, c);
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) < 0) {
        http__conn_close_now(c);
        return 0;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_timer_start(&c->timer, conn_on_timer, s->idle_ms, 0);
    conn_set_reading(c, true);
    return 0;
}

/* Draining one connection: idle ones go now, busy ones after their queue. */
void http__conn_drain(struct http_conn *c)
{
    if (c->state != CONN_OPEN)
        return;
    if (!c->head) {
        if (c->in_message)
            return; /* a request is arriving: it will be answered with close */
        if (c->sink || uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) == 0)
            http__conn_close_now(c);
        else
            http__conn_shutdown(c);
        return;
    }
    if (c->tail->handler_owned && !c->tail->answered)
        c->tail->keep_alive = false;
    c->stop_parsing = true;
    free(c->pending);
    c->pending = NULL;
    c->pending_len = 0;
    c->paused = false;
    http__conn_update_reading(c);
}

/* ------------------------------------------------------------------------ */
/* Sink connections (http_conn.h)                                           */

struct http_conn *http_conn_open_sink(struct http_server *s, http_conn_sink_fn sink, void *ctx)
{
    struct http_conn *c = conn_new(s);
    if (!c)
        return NULL;
    c->sink = sink;
    c->sink_ctx = ctx;
    conn_link(s, c);
    return c;
}

void http_conn_feed(struct http_conn *c, const char *data, size_t len)
{
    if (c->state != CONN_OPEN || c->stop_parsing || len == 0)
        return;
    if (!c->paused) {
        conn_feed(c, data, len);
        return;
    }
    /* a socket would have stopped reading; the kernel would have buffered */
    char *p = realloc(c->pending, c->pending_len + len);
    if (!p) {
        http__conn_close_now(c);
        return;
    }
    memcpy(p + c->pending_len, data, len);
    c->pending = p;
    c->pending_len += len;
}

bool http_conn_is_open(const struct http_conn *c)
{
    return c->state == CONN_OPEN;
}

void http_conn_free_sink(struct http_conn *c)
{
    struct http_server *s = c->srv;
    http__conn_close_now(c);
    free(c);
    http__server_handle_closed(s);
}
