/*
 * http_server.c: HTTP/1.1 on libuv + llhttp, built so that a hostile or slow
 * client costs bounded memory and time.
 *
 * How it works. Each connection embeds its uv_tcp_t, one uv_timer_t and its
 * llhttp parser. Reads land in one buffer shared by the whole server (the loop
 * is single threaded and every read is parsed before the next one), so an idle
 * connection holds no read buffer. The parser callbacks enforce the caps of
 * http_server.h while bytes stream in; a complete request becomes an exchange
 * appended to the connection's FIFO and is handed to the handler, which answers
 * at once or later. Responses leave strictly in FIFO order: when the head is
 * answered it and every answered exchange behind it go out in one writev
 * (uv_try_write; only what the kernel does not take is copied into a uv_write).
 * While a read buffer is being parsed, answers are only recorded, so a burst of
 * pipelined requests is answered by a single write.
 *
 * Backpressure: past HTTP_MAX_PIPELINE queued exchanges the parser is paused
 * (unparsed bytes are kept) and reading stops; past HTTP_MAX_WRITE_QUEUE unsent
 * bytes reading stops too. One timer bounds idleness: a connection must
 * complete a request within idle_ms of becoming idle (accept, or the moment its
 * last response was handed to the kernel), so one byte a second does not keep
 * it open. While the handler owes an answer the clock does not run.
 *
 * Closing: a connection that sent its last response (Connection: close, an
 * error, draining) shuts down its write side and lingers reading until the
 * client's FIN so the response is not destroyed by a reset; every other close
 * is immediate. All paths end in conn_close_now(), which detaches exchanges the
 * handler still owes (ex->conn = NULL: answering them later only frees them)
 * and closes both handles; memory is freed in the last close callback.
 */
#include "node/http_server.h"
#include "node/http_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <llhttp.h>
#include <stdlib.h>
#include <string.h>

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

enum {
    HTTP_READ_BUF = 64 * 1024, /* one read; big enough for a deep pipeline of small requests */
    HTTP_EX_INLINE = 384,      /* responses up to this size need no second allocation */
    HTTP_LISTEN_BACKLOG = 511, /* the usual somaxconn ceiling */
};

/* ------------------------------------------------------------------------ */
/* Types                                                                    */

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
    char target[]; /* path, NUL, query, NUL */
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
    struct http_exchange *head, *tail;
    size_t queued; /* exchanges in the FIFO */
    char *pending; /* bytes read but not parsed while the parser is paused */
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
    size_t url_len;
    char url[HTTP_MAX_URL + 1];
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
    size_t inflight;
    size_t handles; /* listener + connections not yet freed */
    bool listening;
    bool draining;
    bool closing;
    struct http_server_stats stats;
    char rbuf[HTTP_READ_BUF];
};

/* Unsent tail of a write the kernel did not take at once. */
struct http_write {
    uv_write_t req;
    size_t len;
    char data[];
};

static void conn_close_now(struct http_conn *c);
static void conn_progress(struct http_conn *c);
static void conn_on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);

/* ------------------------------------------------------------------------ */
/* Response rendering                                                       */

static const char *http_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Unknown";
    }
}

static char *put_str(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

#define PUT_LIT(p, lit) put_str((p), (lit), sizeof(lit) - 1)

static char *put_u64(char *p, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

/* Renders the response into ex (inline when it fits). Returns 0 or -ENOMEM. */
static int exchange_render(struct http_exchange *ex, int status, const char *ctype,
                           const char *extra, const char *body, size_t body_len)
{
    if (status < 100 || status > 599)
        status = 500;
    if (!ctype)
        ctype = "text/plain";
    if (!extra)
        extra = "";
    const char *reason = http_reason(status);
    size_t reason_len = strlen(reason), ctype_len = strlen(ctype), extra_len = strlen(extra);
    size_t send_body = ex->head ? 0 : body_len;
    /* status line, three fixed headers, digits and CRLFs stay under 128 bytes */
    size_t cap = 128 + reason_len + ctype_len + extra_len + send_body;
    char *out = ex->resp_inline;
    if (cap > sizeof(ex->resp_inline)) {
        out = malloc(cap);
        if (!out)
            return -ENOMEM;
    }
    char *p = PUT_LIT(out, "HTTP/1.1 ");
    p = put_u64(p, (uint64_t)status);
    *p++ = ' ';
    p = put_str(p, reason, reason_len);
    p = PUT_LIT(p, "\r\nContent-Type: ");
    p = put_str(p, ctype, ctype_len);
    p = PUT_LIT(p, "\r\nContent-Length: ");
    p = put_u64(p, body_len);
    if (ex->keep_alive)
        p = PUT_LIT(p, "\r\nConnection: keep-alive\r\n");
    else
        p = PUT_LIT(p, "\r\nConnection: close\r\n");
    p = put_str(p, extra, extra_len);
    p = PUT_LIT(p, "\r\n");
    if (send_body)
        p = put_str(p, body, send_body);
    ex->resp = out;
    ex->resp_len = (size_t)(p - out);
    return 0;
}

static void exchange_free(struct http_exchange *ex)
{
    if (ex->resp && ex->resp != ex->resp_inline)
        free(ex->resp);
    free(ex);
}

/* A new exchange for target url[0..len), its strings owned by the exchange so
 * the handler may read them until it answers. */
static struct http_exchange *exchange_new(const char *url, size_t len)
{
    struct http_exchange *ex = malloc(sizeof(*ex) + len + 2);
    if (!ex)
        return NULL;
    ex->next = NULL;
    ex->conn = NULL;
    ex->resp = NULL;
    ex->resp_len = 0;
    ex->answered = false;
    ex->keep_alive = false;
    ex->head = false;
    ex->handler_owned = false;
    memcpy(ex->target, url, len);
    ex->target[len] = '\0';
    ex->target[len + 1] = '\0';
    char *q = memchr(ex->target, '?', len);
    if (q) {
        *q = '\0';
        ex->view.query = q + 1;
    } else {
        ex->view.query = ex->target + len + 1;
    }
    ex->view.path = ex->target;
    ex->view.method = HTTP_M_OTHER;
    ex->view.method_str = "";
    return ex;
}

static void stats_count_response(struct http_server *s, int status)
{
    int cls = status / 100;
    if (cls >= 1 && cls <= 5)
        s->stats.responses_by_class[cls]++;
}

/* ------------------------------------------------------------------------ */
/* Connection: reading, writing, closing                                    */

static void conn_fifo_push(struct http_conn *c, struct http_exchange *ex)
{
    ex->conn = c;
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
            conn_close_now(c);
            return;
        }
    } else {
        uv_read_stop((uv_stream_t *)&c->tcp);
    }
    c->reading = want;
}

static void conn_update_reading(struct http_conn *c)
{
    if (c->sink || c->state != CONN_OPEN)
        return;
    bool want = !c->stop_parsing && !c->paused && !c->peer_eof && c->queued < HTTP_MAX_PIPELINE &&
                uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) <= HTTP_MAX_WRITE_QUEUE;
    conn_set_reading(c, want);
}

static void conn_on_close(uv_handle_t *h)
{
    struct http_conn *c = h->data;
    if (--c->handles > 0)
        return;
    struct http_server *s = c->srv;
    free(c);
    s->handles--;
    if (s->closing && s->handles == 0)
        free(s);
}

/* The one way a connection ends. Safe to call twice and from any callback;
 * memory goes in conn_on_close. */
static void conn_close_now(struct http_conn *c)
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
            exchange_free(ex);
        }
    }
    c->head = c->tail = NULL;
    c->queued = 0;
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
        conn_close_now(c);
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
    conn_close_now(c);
}

static void conn_on_shutdown(uv_shutdown_t *req, int status)
{
    struct http_conn *c = container_of(req, struct http_conn, shutdown_req);
    if (c->state != CONN_LINGER)
        return;
    c->shutdown_done = true;
    if (status < 0 || c->eof_in_linger)
        conn_close_now(c);
}

/* The last response is queued: send FIN after it and wait (bounded) for the
 * client's, discarding what it still sends, so it reads the response instead
 * of a reset. */
static void conn_shutdown(struct http_conn *c)
{
    if (c->state != CONN_OPEN)
        return;
    if (c->sink) {
        conn_close_now(c);
        return;
    }
    c->state = CONN_LINGER;
    c->stop_parsing = true;
    if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, conn_on_shutdown) < 0) {
        conn_close_now(c);
        return;
    }
    if (!c->peer_eof)
        conn_set_reading(c, true);
    else
        c->eof_in_linger = true;
    if (c->state == CONN_LINGER)
        uv_timer_start(&c->timer, conn_on_timer, HTTP_LINGER_MS, 0);
}

static void conn_on_write(uv_write_t *req, int status)
{
    struct http_write *w = container_of(req, struct http_write, req);
    struct http_conn *c = container_of((uv_tcp_t *)req->handle, struct http_conn, tcp);
    free(w);
    if (status < 0) {
        conn_close_now(c); /* reset or broken pipe: nothing to tell anyone */
        return;
    }
    conn_update_reading(c);
}

/* Hands bufs to the kernel, queueing a copy of what it does not take now.
 * Returns 0 or a negative errno. */
static int conn_write(struct http_conn *c, const uv_buf_t *bufs, unsigned n, size_t total)
{
    if (c->sink) {
        for (unsigned i = 0; i < n; i++)
            c->sink(c->sink_ctx, bufs[i].base, bufs[i].len);
        return 0;
    }
    int r = uv_try_write((uv_stream_t *)&c->tcp, bufs, n);
    if (r == UV_EAGAIN || r == UV_ENOSYS)
        r = 0;
    if (r < 0)
        return r;
    size_t done = (size_t)r;
    if (done == total)
        return 0;
    struct http_write *w = malloc(sizeof(*w) + (total - done));
    if (!w)
        return -ENOMEM;
    w->len = total - done;
    char *p = w->data;
    for (unsigned i = 0; i < n; i++) {
        size_t len = bufs[i].len;
        if (done >= len) {
            done -= len;
            continue;
        }
        memcpy(p, bufs[i].base + done, len - done);
        p += len - done;
        done = 0;
    }
    uv_buf_t b = uv_buf_init(w->data, (unsigned)w->len);
    r = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, conn_on_write);
    if (r < 0) {
        free(w);
        return r;
    }
    return 0;
}

/* Writes the answered head of the FIFO and every answered exchange behind it. */
static void conn_flush(struct http_conn *c)
{
    uv_buf_t bufs[HTTP_MAX_PIPELINE + 1];
    while (c->state == CONN_OPEN && c->head && c->head->answered) {
        unsigned n = 0;
        size_t total = 0;
        bool last = false;
        for (struct http_exchange *ex = c->head; ex && ex->answered && n < HTTP_MAX_PIPELINE + 1;
             ex = ex->next) {
            bufs[n++] = uv_buf_init(ex->resp, (unsigned)ex->resp_len);
            total += ex->resp_len;
            if (!ex->keep_alive) {
                last = true;
                break;
            }
        }
        int r = conn_write(c, bufs, n, total);
        /* bufs point into the exchanges: free them only after the write copied */
        for (unsigned i = 0; i < n; i++) {
            struct http_exchange *ex = c->head;
            c->head = ex->next;
            exchange_free(ex);
            c->queued--;
        }
        if (!c->head)
            c->tail = NULL;
        if (r < 0) {
            conn_close_now(c);
            return;
        }
        if (last) {
            conn_shutdown(c);
            return;
        }
        if (!c->head)
            c->idle_since = uv_now(c->srv->loop);
    }
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
    c->hdr_bytes = 0;
    c->hdr_mark = NULL;
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
    for (size_t i = 0; i < len; i++)
        if (at[i] == ' ' || at[i] == '\t')
            return conn_fail(p->data, 400);
    return conn_count_span(p->data, at, len, 0);
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
    return conn_count_span(p->data, at, len, 0);
}

static int on_header_field_complete(llhttp_t *p)
{
    struct http_conn *c = p->data;
    if (++c->nheaders > HTTP_MAX_HEADERS)
        return conn_fail(c, 431);
    return 0;
}

static int on_headers_complete(llhttp_t *p)
{
    struct http_conn *c = p->data;
    c->in_headers = false;
    if (p->http_major != 1 || p->http_minor > 1)
        return conn_fail(c, 505);
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

static int on_message_complete(llhttp_t *p)
{
    struct http_conn *c = p->data;
    struct http_server *s = c->srv;
    c->in_message = false;
    struct http_exchange *ex = exchange_new(c->url, c->url_len);
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
    /* ex may be gone now */
    if (c->state != CONN_OPEN || c->stop_parsing || c->queued >= HTTP_MAX_PIPELINE)
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
    struct http_exchange *ex = exchange_new("", 0);
    if (!ex) {
        conn_close_now(c);
        return;
    }
    char body[64];
    size_t n = strlen(http_reason(status));
    memcpy(body, http_reason(status), n);
    body[n++] = '\n';
    if (exchange_render(ex, status, "text/plain", "", body, n) < 0) {
        exchange_free(ex);
        conn_close_now(c);
        return;
    }
    ex->answered = true;
    stats_count_response(s, status);
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
                conn_close_now(c);
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

/* After parsing or an answer: write what can go, resume a paused parser once
 * the FIFO has drained to half, and decide whether to read or close. */
static void conn_progress(struct http_conn *c)
{
    while (c->state == CONN_OPEN) {
        conn_flush(c);
        if (c->state != CONN_OPEN)
            return;
        if (!c->paused || c->stop_parsing || c->queued > HTTP_MAX_PIPELINE / 2)
            break;
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
        conn_shutdown(c);
        return;
    }
    conn_update_reading(c);
}

static void conn_feed(struct http_conn *c, const char *data, size_t len)
{
    c->in_parse = true;
    conn_execute(c, data, len);
    c->in_parse = false;
    conn_progress(c);
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
            conn_close_now(c);
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
        conn_close_now(c); /* EOF when idle, reset, or error: quietly */
        return;
    }
    conn_feed(c, buf->base, (size_t)nread);
}

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
}

/* ------------------------------------------------------------------------ */
/* Server                                                                   */

static void server_maybe_free(struct http_server *s)
{
    if (s->closing && s->handles == 0)
        free(s);
}

static void server_on_listener_close(uv_handle_t *h)
{
    struct http_server *s = h->data;
    s->handles--;
    server_maybe_free(s);
}

static void server_on_reject_close(uv_handle_t *h)
{
    free(h);
}

/* Over max_conns: take the connection off the backlog and close it, so the
 * client learns at once instead of waiting in the kernel queue. */
static void server_reject(struct http_server *s)
{
    uv_tcp_t *t = malloc(sizeof(*t));
    if (!t)
        return;
    uv_tcp_init(s->loop, t);
    (void)uv_accept((uv_stream_t *)&s->listener, (uv_stream_t *)t);
    uv_close((uv_handle_t *)t, server_on_reject_close);
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

static void server_on_connection(uv_stream_t *l, int status)
{
    struct http_server *s = container_of((uv_tcp_t *)l, struct http_server, listener);
    if (status < 0 || !s->listening)
        return;
    if (s->stats.connections_open >= s->max_conns) {
        server_cap_note(s);
        server_reject(s);
        return;
    }
    /* Re-arm the report only well below the cap, so a server hovering at
     * it reports once rather than at every close and accept. */
    if (!s->cap_armed && s->stats.connections_open < s->max_conns - s->max_conns / 10)
        s->cap_armed = true;
    struct http_conn *c = conn_new(s);
    if (!c) {
        server_reject(s);
        return;
    }
    uv_tcp_init(s->loop, &c->tcp);
    uv_timer_init(s->loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->handles = 2;
    conn_link(s, c);
    if (uv_accept(l, (uv_stream_t *)&c->tcp) < 0) {
        conn_close_now(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_timer_start(&c->timer, conn_on_timer, s->idle_ms, 0);
    conn_set_reading(c, true);
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

/* Draining one connection: idle ones go now, busy ones after their queue. */
static void conn_drain(struct http_conn *c)
{
    if (c->state != CONN_OPEN)
        return;
    if (!c->head) {
        if (c->in_message)
            return; /* a request is arriving: it will be answered with close */
        if (c->sink || uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) == 0)
            conn_close_now(c);
        else
            conn_shutdown(c);
        return;
    }
    if (c->tail->handler_owned && !c->tail->answered)
        c->tail->keep_alive = false;
    c->stop_parsing = true;
    free(c->pending);
    c->pending = NULL;
    c->pending_len = 0;
    c->paused = false;
    conn_update_reading(c);
}

void http_server_stop_accepting(struct http_server *s)
{
    if (s->draining)
        return;
    s->draining = true;
    server_close_listener(s);
    for (struct http_conn *c = s->conns, *next; c; c = next) {
        next = c->next;
        conn_drain(c);
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
        conn_close_now(s->conns);
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
/* Exchanges                                                                */

void http_exchange_respond(struct http_exchange *ex, int status, const char *content_type,
                           const char *extra_headers, const char *body, size_t body_len)
{
    struct http_conn *c = ex->conn;
    if (!c) {
        exchange_free(ex); /* the client went away meanwhile */
        return;
    }
    struct http_server *s = c->srv;
    s->inflight--;
    ex->handler_owned = false;
    if (exchange_render(ex, status, content_type, extra_headers, body, body_len) < 0) {
        ex->keep_alive = false;
        status = 500;
        exchange_render(ex, status, "text/plain", "", "", 0); /* fits inline */
    }
    stats_count_response(s, status < 100 || status > 599 ? 500 : status);
    ex->answered = true;
    if (!c->in_parse && c->head == ex)
        conn_progress(c);
}

bool http_exchange_is_head(const struct http_exchange *ex)
{
    return ex->head;
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
        conn_close_now(c);
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
    conn_close_now(c);
    free(c);
    s->handles--;
    server_maybe_free(s);
}
