/*
 * http/response.c: the answers of the HTTP server, rendered and written in
 * order.
 *
 * An answer is rendered whole into its exchange (inline when it fits, so most
 * answers cost no second allocation): status line, Date, Content-Type,
 * Content-Length, and Connection: keep-alive or close as decided when the
 * request was parsed; a 503 also says Retry-After (every 503 tallyd gives is
 * a state it leaves by itself within about a second: a disk retried, a peer
 * waited for). For HEAD, Content-Length gives the size of the body that is
 * not sent.
 *
 * Responses leave strictly in FIFO order: when the head is answered it and
 * every answered exchange behind it go out in one writev (uv_try_write; only
 * what the kernel does not take is copied into a uv_write). While a read
 * buffer is being parsed, answers are only recorded, so a burst of pipelined
 * requests is answered by a single write; answers given outside parsing (a
 * group commit answering its batch) are written once per loop turn, after
 * the poll phase (the flush queue in http_server.c), for the same reason. After the last response
 * of a connection (keep_alive false) the connection shuts its write side.
 */
#include "node/http/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Unsent tail of a write the kernel did not take at once. */
struct http_write {
    uv_write_t req;
    size_t len;
    char data[];
};

/* ------------------------------------------------------------------------ */
/* Rendering                                                                */

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

#define RETRY_AFTER "Retry-After: 1\r\n"

/* Renders the response into ex (inline when it fits). Returns 0 or -ENOMEM. */
static int exchange_render(struct http_server *s, struct http_exchange *ex, int status,
                           const char *ctype, const char *extra, const char *body, size_t body_len)
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
    size_t date_len;
    const char *date = http__server_date(s, &date_len);
    bool retry = status == 503 && !strstr(extra, "Retry-After:");
    /* status line, three fixed headers, digits and CRLFs stay under 128 bytes */
    size_t cap = 128 + date_len + (retry ? sizeof(RETRY_AFTER) : 0) + reason_len + ctype_len +
                 extra_len + send_body;
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
    p = PUT_LIT(p, "\r\n");
    p = put_str(p, date, date_len);
    p = PUT_LIT(p, "Content-Type: ");
    p = put_str(p, ctype, ctype_len);
    p = PUT_LIT(p, "\r\nContent-Length: ");
    p = put_u64(p, body_len);
    if (ex->keep_alive)
        p = PUT_LIT(p, "\r\nConnection: keep-alive\r\n");
    else
        p = PUT_LIT(p, "\r\nConnection: close\r\n");
    if (retry)
        p = PUT_LIT(p, RETRY_AFTER);
    p = put_str(p, extra, extra_len);
    p = PUT_LIT(p, "\r\n");
    if (send_body)
        p = put_str(p, body, send_body);
    ex->resp = out;
    ex->resp_len = (size_t)(p - out);
    return 0;
}

void http__exchange_free(struct http_exchange *ex)
{
    if (ex->resp && ex->resp != ex->resp_inline)
        free(ex->resp);
    free(ex);
}

/* A new exchange for target url[0..len) and Accept accept[0..accept_len),
 * its strings owned by the exchange so the handler may read them until it
 * answers. */
struct http_exchange *http__exchange_new(const char *url, size_t len, const char *accept,
                                         size_t accept_len)
{
    struct http_exchange *ex = malloc(sizeof(*ex) + len + 2 + accept_len + 1);
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
    char *acc = ex->target + len + 2;
    if (accept_len)
        memcpy(acc, accept, accept_len);
    acc[accept_len] = '\0';
    ex->view.accept = acc;
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

struct http_exchange *http__exchange_new_refusal(struct http_server *s, int status)
{
    struct http_exchange *ex = http__exchange_new("", 0, "", 0);
    if (!ex)
        return NULL;
    char body[64];
    size_t n = strlen(http_reason(status));
    memcpy(body, http_reason(status), n);
    body[n++] = '\n';
    if (exchange_render(s, ex, status, "text/plain", "", body, n) < 0) {
        http__exchange_free(ex);
        return NULL;
    }
    ex->answered = true;
    stats_count_response(s, status);
    return ex;
}

/* ------------------------------------------------------------------------ */
/* Writing in order                                                         */

static void conn_on_write(uv_write_t *req, int status)
{
    struct http_write *w = container_of(req, struct http_write, req);
    struct http_conn *c = container_of((uv_tcp_t *)req->handle, struct http_conn, tcp);
    free(w);
    if (status < 0) {
        http__conn_close_now(c); /* reset or broken pipe: nothing to tell anyone */
        return;
    }
    /* the client read: a paused parser may go on with what it left, in its
     * turn (see the resume queue in http_server.c) */
    if (c->paused && c->state == CONN_OPEN)
        http__server_resume_later(c->srv, c);
    else
        http__conn_update_reading(c);
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
void http__response_flush(struct http_conn *c)
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
            c->out_bytes -= ex->resp_len;
            http__exchange_free(ex);
            c->queued--;
        }
        if (!c->head)
            c->tail = NULL;
        if (r < 0) {
            http__conn_close_now(c);
            return;
        }
        if (last) {
            http__conn_shutdown(c);
            return;
        }
        if (!c->head)
            c->idle_since = uv_now(c->srv->loop);
    }
}

/* ------------------------------------------------------------------------ */
/* Exchanges                                                                */

void http_exchange_respond(struct http_exchange *ex, int status, const char *content_type,
                           const char *extra_headers, const char *body, size_t body_len)
{
    struct http_conn *c = ex->conn;
    if (!c) {
        http__exchange_free(ex); /* the client went away meanwhile */
        return;
    }
    struct http_server *s = c->srv;
    s->inflight--;
    ex->handler_owned = false;
    if (exchange_render(s, ex, status, content_type, extra_headers, body, body_len) < 0) {
        ex->keep_alive = false;
        status = 500;
        exchange_render(s, ex, status, "text/plain", "", "", 0); /* fits inline */
    }
    stats_count_response(s, status < 100 || status > 599 ? 500 : status);
    ex->answered = true;
    http__conn_out_add(c, ex->resp_len);
    /* answered while parsing: the parse's end writes it; else once after
     * this turn's poll, with whatever else this connection is answered */
    if (!c->in_parse && c->head == ex)
        http__server_flush_later(s, c);
}

bool http_exchange_is_head(const struct http_exchange *ex)
{
    return ex->head;
}
