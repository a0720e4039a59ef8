/*
 * test_http_server.c: what clients of tallyd's HTTP server rely on.
 *
 * The server runs on a libuv loop in the test's main thread, on 127.0.0.1 and
 * an ephemeral port; a client thread speaks HTTP over plain blocking sockets
 * (5 s receive timeouts bound every wait) and records its first failed check,
 * which the main thread asserts after joining it. The client asks the loop to
 * do things (stop accepting, answer a held request) through fx_call(), which
 * runs a function on the loop and waits for it. The test handler answers /x at
 * once, /async on a later loop iteration in reverse order of arrival (so
 * ordering is really exercised), holds /hold until the test answers it, and
 * answers other methods 405. At the end the loop waits for the server to see
 * every connection gone, snapshots the stats, closes everything and asserts
 * uv_loop_close() == 0.
 *
 * Sink connections (node/http/conn.h) drive the same parser byte by byte
 * without sockets, which pins the exact response bytes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "node/http/conn.h"
#include "node/http/server.h"

/* ------------------------------------------------------------------------ */
/* Fixture: server, handler and the loop side of the client thread          */

struct deferred {
    struct http_exchange *ex;
    char path[64];
};

struct fx {
    uv_loop_t loop;
    struct http_server *srv;
    int port;
    uv_async_t cmd_async;
    uv_sem_t cmd_sem;
    void (*cmd)(struct fx *);
    uv_idle_t answer_idle;
    struct deferred deferred[512];
    size_t n_deferred;
    struct http_exchange *held[8];
    size_t n_held;
    uv_sem_t held_sem;
    uv_timer_t settle;
    unsigned settle_ticks;
    void (*client)(struct fx *);
    uv_thread_t thread;
    char err[256]; /* first failed client check, "" if none */
    /* observed on the loop */
    struct http_server_stats stats;
    size_t inflight_at_stop;
    size_t inflight_after_settle;
    bool settled;
};

enum { BIG_BODY = 8 * 1024 }; /* /big answers this many bytes: a few fill the cap */

static void respond_ok(struct http_exchange *ex, const char *path)
{
    char body[HTTP_MAX_URL + 8];
    int n = snprintf(body, sizeof(body), "ok:%s", path);
    http_exchange_respond(ex, 200, "text/plain", "", body, (size_t)n);
}

static void on_answer_idle(uv_idle_t *h)
{
    struct fx *f = h->data;
    /* newest first: the server must still send them in request order */
    while (f->n_deferred > 0) {
        struct deferred *d = &f->deferred[--f->n_deferred];
        respond_ok(d->ex, d->path);
    }
    uv_idle_stop(h);
}

static void test_handler(void *ctx, struct http_exchange *ex, const struct http_request_view *req)
{
    struct fx *f = ctx;
    if (req->method == HTTP_M_OTHER) {
        http_exchange_respond(ex, 405, "text/plain", "Allow: GET, HEAD\r\n", "no\n", 3);
        return;
    }
    if (!strncmp(req->path, "/async", 6) && f->n_deferred < 512) {
        struct deferred *d = &f->deferred[f->n_deferred++];
        d->ex = ex;
        snprintf(d->path, sizeof(d->path), "%s", req->path);
        uv_idle_start(&f->answer_idle, on_answer_idle);
        return;
    }
    if (!strncmp(req->path, "/big", 4)) {
        static char big[BIG_BODY];
        memset(big, 'b', sizeof(big));
        http_exchange_respond(ex, 200, "text/plain", "", big, sizeof(big));
        return;
    }
    if (!strncmp(req->path, "/hold", 5) && f->n_held < 8) {
        f->held[f->n_held++] = ex;
        uv_sem_post(&f->held_sem);
        return;
    }
    respond_ok(ex, req->path);
}

static void on_cmd(uv_async_t *a)
{
    struct fx *f = a->data;
    void (*cmd)(struct fx *) = f->cmd;
    f->cmd = NULL;
    if (cmd) {
        cmd(f);
        uv_sem_post(&f->cmd_sem);
    }
}

/* From the client thread: run cmd on the loop and wait for it. */
static void fx_call(struct fx *f, void (*cmd)(struct fx *))
{
    f->cmd = cmd;
    uv_async_send(&f->cmd_async);
    uv_sem_wait(&f->cmd_sem);
}

static void fx_close_all(struct fx *f)
{
    f->stats = *http_server_stats_get(f->srv);
    f->inflight_after_settle = http_server_inflight(f->srv);
    /* held exchanges whose clients left: answering must only free them */
    for (size_t i = 0; i < f->n_held; i++)
        respond_ok(f->held[i], "/late");
    f->n_held = 0;
    on_answer_idle(&f->answer_idle);
    http_server_close(f->srv);
    f->srv = NULL;
    uv_close((uv_handle_t *)&f->cmd_async, NULL);
    uv_close((uv_handle_t *)&f->answer_idle, NULL);
    uv_close((uv_handle_t *)&f->settle, NULL);
}

static void on_settle(uv_timer_t *t)
{
    struct fx *f = t->data;
    /* wait (bounded) until the server has seen every client socket go */
    f->settled = http_server_stats_get(f->srv)->connections_open == 0;
    if (!f->settled && ++f->settle_ticks < 5000)
        return;
    uv_timer_stop(t);
    fx_close_all(f);
}

static void cmd_finish(struct fx *f)
{
    uv_timer_start(&f->settle, on_settle, 0, 1);
}

static void client_main(void *arg)
{
    struct fx *f = arg;
    f->client(f);
    fx_call(f, cmd_finish);
}

static struct fx *fx_new(uint32_t idle_ms, uint32_t max_conns)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    struct http_server_config cfg = {
        .bind_addr = "127.0.0.1",
        .port = 0,
        .idle_ms = idle_ms,
        .max_conns = max_conns,
        .handler = test_handler,
        .handler_ctx = f,
    };
    assert_int_equal(http_server_start(&f->loop, &cfg, &f->srv), 0);
    f->port = http_server_port(f->srv);
    assert_true(f->port > 0);
    assert_int_equal(uv_async_init(&f->loop, &f->cmd_async, on_cmd), 0);
    f->cmd_async.data = f;
    uv_idle_init(&f->loop, &f->answer_idle);
    f->answer_idle.data = f;
    uv_timer_init(&f->loop, &f->settle);
    f->settle.data = f;
    assert_int_equal(uv_sem_init(&f->cmd_sem, 0), 0);
    assert_int_equal(uv_sem_init(&f->held_sem, 0), 0);
    return f;
}

/* Runs client in a thread against the loop, then checks the teardown. */
static void fx_run(struct fx *f, void (*client)(struct fx *))
{
    f->client = client;
    assert_int_equal(uv_thread_create(&f->thread, client_main, f), 0);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_thread_join(&f->thread), 0);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    uv_sem_destroy(&f->cmd_sem);
    uv_sem_destroy(&f->held_sem);
    assert_string_equal(f->err, "");
    assert_true(f->settled);
    assert_int_equal(f->stats.connections_open, 0);
}

/* ------------------------------------------------------------------------ */
/* Blocking client                                                          */

struct cl {
    int fd;
    size_t len;
    char buf[128 * 1024];
};

struct resp {
    int status;
    long content_length;
    bool conn_close;
    bool conn_keep_alive;
    char head[4096];
    char body[4096];
    size_t body_len;
};

#define CHECK(f, cond)                                                                             \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            if (!(f)->err[0])                                                                      \
                snprintf((f)->err, sizeof((f)->err), "line %d: %s", __LINE__, #cond);              \
            return;                                                                                \
        }                                                                                          \
    } while (0)

static int cl_socket(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return fd;
}

static int cl_connect_fd(int port)
{
    int fd = cl_socket();
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

static struct cl *cl_open(struct fx *f)
{
    struct cl *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->fd = cl_connect_fd(f->port);
    if (c->fd < 0) {
        free(c);
        return NULL;
    }
    return c;
}

static void cl_close(struct cl *c)
{
    if (c) {
        close(c->fd);
        free(c);
    }
}

/* Close with a reset (SO_LINGER 0): the server sees ECONNRESET at once. */
static void cl_reset(struct cl *c)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    cl_close(c);
}

static bool cl_send(struct cl *c, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
        if (n <= 0)
            return false;
        data += n;
        len -= (size_t)n;
    }
    return true;
}

static bool cl_send_str(struct cl *c, const char *s)
{
    return cl_send(c, s, strlen(s));
}

/* Reads more bytes; false on EOF, error or timeout. */
static bool cl_fill(struct cl *c)
{
    if (c->len == sizeof(c->buf))
        return false;
    ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
    if (n <= 0)
        return false;
    c->len += (size_t)n;
    return true;
}

static bool header_has(const char *head, const char *line)
{
    return strstr(head, line) != NULL;
}

static char *find_blank_line(char *buf, size_t len)
{
    for (size_t i = 0; i + 4 <= len; i++)
        if (!memcmp(buf + i, "\r\n\r\n", 4))
            return buf + i;
    return NULL;
}

/* Reads one response; a HEAD response has no body whatever its length says. */
static bool cl_read_response(struct cl *c, struct resp *r, bool head)
{
    memset(r, 0, sizeof(*r));
    char *end;
    while (!(end = find_blank_line(c->buf, c->len)))
        if (!cl_fill(c))
            return false;
    size_t hlen = (size_t)(end - c->buf) + 4;
    if (hlen >= sizeof(r->head))
        return false;
    memcpy(r->head, c->buf, hlen);
    r->head[hlen] = '\0';
    if (strncmp(r->head, "HTTP/1.1 ", 9) != 0)
        return false;
    r->status = (int)strtol(r->head + 9, NULL, 10);
    const char *cl = strstr(r->head, "\r\nContent-Length: ");
    if (!cl)
        return false;
    r->content_length = strtol(cl + 18, NULL, 10);
    r->conn_close = header_has(r->head, "\r\nConnection: close\r\n");
    r->conn_keep_alive = header_has(r->head, "\r\nConnection: keep-alive\r\n");
    size_t blen = head ? 0 : (size_t)r->content_length;
    if (blen >= sizeof(r->body))
        return false;
    while (c->len < hlen + blen)
        if (!cl_fill(c))
            return false;
    memcpy(r->body, c->buf + hlen, blen);
    r->body[blen] = '\0';
    r->body_len = blen;
    memmove(c->buf, c->buf + hlen + blen, c->len - hlen - blen);
    c->len -= hlen + blen;
    return true;
}

/* True when the server closed the connection with nothing more to read. */
static bool cl_expect_eof(struct cl *c)
{
    if (c->len)
        return false;
    char b[256];
    ssize_t n = recv(c->fd, b, sizeof(b), 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
}

static uint64_t ms_now(void)
{
    return uv_hrtime() / 1000000;
}

/* ------------------------------------------------------------------------ */
/* Basic requests                                                           */

static void client_get(struct fx *f)
{
    struct cl *c = cl_open(f);
    CHECK(f, c);
    CHECK(f, cl_send_str(c, "GET /x?a=1 HTTP/1.1\r\nHost: t\r\n\r\n"));
    struct resp r;
    CHECK(f, cl_read_response(c, &r, false));
    CHECK(f, r.status == 200);
    CHECK(f, !strcmp(r.body, "ok:/x"));
    CHECK(f, r.content_length == 5);
    CHECK(f, header_has(r.head, "\r\nContent-Type: text/plain\r\n"));
    CHECK(f, r.conn_keep_alive);
    cl_close(c);
}

static void test_get(void **state)
{
    struct fx *f = fx_new(0, 0);
    fx_run(f, client_get);
    assert_int_equal(f->stats.requests, 1);
    assert_int_equal(f->stats.responses_by_class[2], 1);
    assert_int_equal(f->stats.connections_accepted, 1);
    free(f);
}

static void client_head(struct fx *f)
{
    struct cl *c = cl_open(f);
    CHECK(f, c);
    CHECK(f, cl_send_str(c, "HEAD /x HTTP/1.1\r\nHost: t\r\n\r\n"));
    struct resp r;
    CHECK(f, cl_read_response(c, &r, true));
    CHECK(f, r.status == 200);
    CHECK(f, r.content_length == 5); /* the size GET would have sent */
    /* the next response must start right after HEAD's header: no body sent */
    CHECK(f, cl_send_str(c, "GET /y HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK(f, cl_read_response(c, &r, false));
    CHECK(f, r.status == 200);
    CHECK(f, !strcmp(r.body, "ok:/y"));
    cl_close(c);
}

static void test_head(void **state)
{
    struct fx *f = fx_new(0, 0);
    fx_run(f, client_head);
    assert_int_equal(f->stats.requests, 2);
    free(f);
}

static void client_method(struct fx *f)
{
    struct cl *c = cl_open(f);
    CHECK(f, c);
    CHECK(f, cl_send_str(c, "POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n"));
    struct resp r;
    CHECK(f, cl_read_response(c, &r, false));
    CHECK(f, r.status == 405);
    CHECK(f, header_has(r.head, "\r\nAllow: GET, HEAD\r\n"));
    CHECK(f, r.conn_keep_alive);
    cl_close(c);
}

static void test_method_not_allowed(void **state)
{
    struct fx *f = fx_new(0, 0);
    fx_run(f, client_method);
    assert_int_equal(f->stats.responses_by_class[4], 1);
    free(f);
}

static void client_keep_alive(struct fx *f)
{
    struct resp r;
    char req[64], body[64];
    /* HTTP/1.1: several requests, one connection */
    struct cl *c = cl_open(f);
    CHECK(f, c);
    for (int i = 0; i < 5; i++) {
        snprintf(req, sizeof(req), "GET /k%d HTTP/1.1\r\nHost: t\r\n\r\n", i);
        snprintf(body, sizeof(body), "ok:/k%d", i);
        CHECK(f, cl_send_str(c, req));
        CHECK(f, cl_read_response(c, &r, false));
        CHECK(f, r.status == 200 && r.conn_keep_alive && !strcmp(r.body, body));
    }
    /* Connection: close ends it after that response */
    CHECK(f, cl_send_str(c, "GET /last HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
    CHECK(f, cl_read_response(c, &r, false));
    CHECK(f, r.status == 200 && r.conn_close && !strcmp(r.body, "ok:/last"));
    CHECK(f, cl_expect_eof(c));
    cl_close(c);

    /* HTTP/1.0 closes unless asked to keep alive */
    c = cl_open(f);
    CHECK(f, c);
    CHECK(f, cl_send_str(c, "GET /old HTTP/1.0\r\n\r\n"));
    CHECK(f, cl_read_response(c, &r, false));
    CHECK(f, r.status == 200 && r.conn_close);
    CHECK(f, cl_expect_eof(c));
    cl_close(c);

    c = cl_open(f);
    CHECK(f, c);
    CHECK(f, cl_send_str(c, "GET /old1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    CHECK(f, cl_read_response(c, &r, false));
    CHECK(f, r.status == 200 && r.conn_keep_alive);
    CHECK(f, cl_send_str(c, "GET /old2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    CHECK(f, cl_read_response(c, &r, false));
    CHECK(f, r.status == 200 && r.conn_keep_alive && !strcmp(r.body, "ok:/old2"));
    cl_close(c);
}

static void test_keep_alive(void **state)
{
    struct fx *f = fx_new(0, 0);
    fx_run(f, client_keep_alive);
    assert_int_equal(f->stats.connections_accepted, 3);
    assert_int_equal(f->stats.requests, 9);
    free(f);
}

/* ------------------------------------------------------------------------ */
/* Pipelining                                                               */

/* n requests in one write, every third one answered later; answers in order. */
static void client_pipeline_n(struct fx *f, int n)
{
    static char req[64 * 1024];
    size_t len = 0;
    for (int i = 0; i < n; i++)
        len +=
            (size_t)snprintf(req + len, sizeof(req) - len, "GET /%s/%d HTTP/1.1\r\nHost: t\r\n\r\n",
                             i % 3 == 1 ? "async" : "x", i);
    struct cl *c = cl_open(f);
    CHECK(f, c);
    CHECK(f, cl_send(c, req, len));
    for (int i = 0; i < n; i++) {
        struct resp r;
        char body[64];
        snprintf(body, sizeof(body), "ok:/%s/%d", i % 3 == 1 ? "async" : "x", i);
        CHECK(f, cl_read_response(c, &r, false));
        CHECK(f, r.status == 200 && r.conn_keep_alive);
        CHECK(f, !strcmp(r.body, body));
    }
    cl_close(c);
}

static void client_pipeline(struct fx *f)
{
    client_pipeline_n(f, 10);
}

static void test_pipeline(void **state)
{
    struct fx *f = fx_new(0, 0);
    fx_run(f, client_pipeline);
    assert_int_equal(f->stats.requests, 10);
    assert_int_equal(f->stats.responses_by_class[2], 10);
    assert_int_equal(f->inflight_after_settle, 0);
    free(f);
}

static void client_pipeline_deep(struct fx *f)
{
    /* well past HTTP_MAX_PIPELINE: the parser pauses and resumes */
    client_pipeline_n(f, 5 * HTTP_MAX_PIPELINE);
}

static void test_pipeline_deep(void **state)
{
    struct fx *f = fx_new(0, 0);
    fx_run(f, client_pipeline_deep);
    assert_int_equal(f->stats.requests, 5 * HTTP_MAX_PIPELINE);
    free(f);
}

enum { NOREAD_REQS = 1500 }; /* 1500 x 8 KiB = 12 MB of answers asked for */

static uint64_t noread_requests_seen;
static void cmd_sample_requests(struct fx *f)
{
    noread_requests_seen = http_server_stats_get(f->srv)->requests;
}

/* A client pipelines requests for big answers and does not read: the server
 * must stop parsing once the connection holds HTTP_MAX_CONN_OUT bytes of
 * answers, and go on, in order, once the client reads. */
static void client_pipeline_noread(struct fx *f)
{
    static char req[NOREAD_REQS * 48];
    size_t len = 0;
    for (int i = 0; i < NOREAD_REQS; i++)
        len += (size_t)snprintf(req + len, sizeof(req) - len,
                                "GET /big/%d HTTP/1.1\r\nHost: t\r\n\r\n", i);
    int fd = cl_socket();
    CHECK(f, fd >= 0);
    int small = 4096; /* a small window: the kernel cannot absorb the answers */
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)f->port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(f, connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    struct cl *c = calloc(1, sizeof(*c));
    CHECK(f, c);
    c->fd = fd;
    CHECK(f, cl_send(c, req, len));
    /* wait until the server stops parsing: requests seen stays put */
    uint64_t last = UINT64_MAX;
    for (int stable = 0, i = 0; stable < 20 && i < 2000; i++) {
        fx_call(f, cmd_sample_requests);
        stable = noread_requests_seen == last ? stable + 1 : 0;
        last = noread_requests_seen;
        uv_sleep(5);
    }
    CHECK(f, last < NOREAD_REQS); /* it stopped: not every answer was built */
    for (int i = 0; i < NOREAD_REQS; i++) {
        char head[4096];
        /* headers then exactly BIG_BODY bytes, in request order */
        char *end;
        while (!(end = find_blank_line(c->buf, c->len)))
            CHECK(f, cl_fill(c));
        size_t hlen = (size_t)(end - c->buf) + 4;
        CHECK(f, hlen < sizeof(head) && !strncmp(c->buf, "HTTP/1.1 200 ", 13));
        while (c->len < hlen + BIG_BODY)
            CHECK(f, cl_fill(c));
        memmove(c->buf, c->buf + hlen + BIG_BODY, c->len - hlen - BIG_BODY);
        c->len -= hlen + BIG_BODY;
    }
    cl_close(c);
}

static void test_pipeline_noread_capped(void **state)
{
    struct fx *f = fx_new(0, 0);
    fx_run(f, client_pipeline_noread);
    assert_int_equal(f->stats.requests, NOREAD_REQS);
    assert_int_equal(f->stats.responses_by_class[2], NOREAD_REQS);
    /* the cap, plus the one answer that crossed it */
    assert_true(f->stats.conn_out_bytes_peak <= HTTP_MAX_CONN_OUT + BIG_BODY + 256);
    assert_true(f->stats.conn_out_bytes_peak >= HTTP_MAX_CONN_OUT / 2);
    free(f);
}

static void client_half_close(struct fx *f)
{
    /* like `printf ... | nc -N`: requests, then FIN; all answers still come */
    struct cl *c = cl_open(f);
    CHECK(f, c);
    CHECK(f, cl_send_str(
                 c, "GET /a HTTP/1.1\r\nHost: t\r\n\r\nGET /async/b HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK(f, shutdown(c->fd, SHUT_WR) == 0);
    struct resp r;
    CHECK(f, cl_read_response(c, &r, false));
    CHECK(f, !strcmp(r.body, "ok:/a"));
    CHECK(f, cl_read_response(c, &r, false));
    CHECK(f, !strcmp(r.body, "ok:/async/b"));
    CHECK(f, cl_expect_eof(c));
    cl_close(c);
}

static void test_half_close(void **state)
{
    struct fx *f = fx_new(0, 0);
    fx_run(f, client_half_close);
    assert_int_equal(f->stats.requests, 2);
    free(f);
}

/* ------------------------------------------------------------------------ */
/* Caps and malformed requests                                              */

struct reject_case {
    const char *name;
    char *req; /* heap */
    int status;
};

static char *str_dup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

/* "GET <path> HTTP/1.1", Host, then nheaders headers whose values are vlen
 * bytes. */
static char *make_request(size_t path_len, int nheaders, size_t vlen)
{
    size_t cap = path_len + (size_t)nheaders * (vlen + 32) + 64;
    char *p = malloc(cap);
    if (!p)
        return NULL;
    size_t n = (size_t)snprintf(p, cap, "GET /");
    for (size_t i = 1; i < path_len; i++)
        p[n++] = 'a';
    n += (size_t)snprintf(p + n, cap - n, " HTTP/1.1\r\nHost: t\r\n");
    for (int h = 0; h < nheaders; h++) {
        n += (size_t)snprintf(p + n, cap - n, "X-H%d: ", h);
        for (size_t i = 0; i < vlen; i++)
            p[n++] = 'v';
        p[n++] = '\r';
        p[n++] = '\n';
    }
    snprintf(p + n, cap - n, "\r\n");
    return p;
}

static struct reject_case reject_cases[] = {
    {"header bytes", NULL, 431}, {"header count", NULL, 431}, {"url", NULL, 414},
    {"body", NULL, 413},         {"chunked", NULL, 413},      {"cl+te", NULL, 400},
    {"garbage", NULL, 400},      {"http/0.9", NULL, 505},     {"http/2.0", NULL, 505},
    {"http/1.2", NULL, 505},     {"bad header", NULL, 400},   {"space before colon", NULL, 400},
};
#define N_REJECT (sizeof(reject_cases) / sizeof(reject_cases[0]))

static void reject_cases_make(void)
{
    reject_cases[0].req = make_request(2, 1, HTTP_MAX_HEADER_BYTES + 100);
    reject_cases[1].req = make_request(2, HTTP_MAX_HEADERS + 1, 1);
    reject_cases[2].req = make_request(HTTP_MAX_URL + 1, 0, 0);
    reject_cases[3].req = str_dup("POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
    reject_cases[4].req = str_dup(
        "POST /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    reject_cases[5].req = str_dup(
        "POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello");
    reject_cases[6].req = str_dup("\x01\x02\x03garbage\r\n\r\n");
    reject_cases[7].req = str_dup("GET /\r\n");
    reject_cases[8].req = str_dup("GET / HTTP/2.0\r\n\r\n");
    reject_cases[9].req = str_dup("GET / HTTP/1.2\r\n\r\n");
    reject_cases[10].req = str_dup("GET / HTTP/1.1\r\nHost: t\r\nBad\x01: x\r\n\r\n");
    reject_cases[11].req = str_dup("GET / HTTP/1.1\r\nHost: t\r\nContent-Length : 5\r\n\r\nhello");
}

static void reject_cases_free(void)
{
    for (size_t i = 0; i < N_REJECT; i++) {
        free(reject_cases[i].req);
        reject_cases[i].req = NULL;
    }
}

static void client_rejects(struct fx *f)
{
    for (size_t i = 0; i < N_REJECT; i++) {
        struct cl *c = cl_open(f);
        CHECK(f, c);
        CHECK(f, cl_send_str(c, reject_cases[i].req));
        struct resp r;
        bool got = cl_read_response(c, &r, false);
        if (!got || r.status != reject_cases[i].status || !r.conn_close || !cl_expect_eof(c)) {
            snprintf(f->err, sizeof(f->err), "case %s: got=%d status=%d close=%d",
                     reject_cases[i].name, got, r.status, r.conn_close);
            cl_close(c);
            return;
        }
        cl_close(c);
    }
}

static void test_rejects(void **state)
{
    reject_cases_make();
    struct fx *f = fx_new(0, 0);
    fx_run(f, client_rejects);
    reject_cases_free();
    assert_int_equal(f->stats.rejected_too_large, 5);
    assert_int_equal(f->stats.rejected_parse, 7);
    assert_int_equal(f->stats.requests, 0);
    assert_int_equal(f->stats.responses_by_class[4], 9);
    assert_int_equal(f->stats.responses_by_class[5], 3);
    free(f);
}

static void client_within_caps(struct fx *f)
{
    /* just inside each cap: answered, connection kept */
    char *reqs[3] = {make_request(HTTP_MAX_URL, 0, 0), make_request(2, HTTP_MAX_HEADERS - 1, 8),
                     make_request(2, 1, HTTP_MAX_HEADER_BYTES - 200)};
    struct cl *c = cl_open(f);
    bool ok = c != NULL;
    for (int i = 0; ok && i < 3; i++) {
        struct resp r = {0};
        ok = reqs[i] && cl_send_str(c, reqs[i]) && cl_read_response(c, &r, false) &&
             r.status == 200 && r.conn_keep_alive;
        if (!ok)
            snprintf(f->err, sizeof(f->err), "within caps request %d refused (status %d)", i,
                     r.status);
    }
    for (int i = 0; i < 3; i++)
        free(reqs[i]);
    cl_close(c);
}

static void test_within_caps(void **state)
{
    struct fx *f = fx_new(0, 0);
    fx_run(f, client_within_caps);
    assert_int_equal(f->stats.requests, 3);
    assert_int_equal(f->stats.rejected_too_large, 0);
    free(f);
}

/* ------------------------------------------------------------------------ */
/* Timeouts and connection limits                                           */

#define TEST_IDLE_MS 100

static void client_idle(struct fx *f)
{
    struct resp r;
    /* silent connection */
    uint64_t t0 = ms_now();
    struct cl *c = cl_open(f);
    CHECK(f, c);
    CHECK(f, cl_expect_eof(c));
    CHECK(f, ms_now() - t0 < 20 * TEST_IDLE_MS);
    cl_close(c);

    /* idle after a keep-alive request */
    c = cl_open(f);
    CHECK(f, c);
    CHECK(f, cl_send_str(c, "GET /x HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK(f, cl_read_response(c, &r, false));
    CHECK(f, r.status == 200);
    CHECK(f, cl_expect_eof(c));
    cl_close(c);

    /* slowloris: one byte every 20 ms never completes a request; the server
     * must close about TEST_IDLE_MS after the request started */
    c = cl_open(f);
    CHECK(f, c);
    t0 = ms_now();
    bool closed = false;
    CHECK(f, cl_send_str(c, "GET /x HTTP/1.1\r\nHost: t\r\n"));
    for (int i = 0; i < 200 && !closed; i++) {
        if (!cl_send_str(c, "X"))
            break;
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        if (poll(&p, 1, 20) == 1)
            closed = cl_expect_eof(c);
    }
    CHECK(f, closed);
    CHECK(f, ms_now() - t0 < 20 * TEST_IDLE_MS);
    cl_close(c);
}

static void test_idle_timeout(void **state)
{
    struct fx *f = fx_new(TEST_IDLE_MS, 0);
    fx_run(f, client_idle);
    assert_int_equal(f->stats.timeouts, 3);
    assert_int_equal(f->stats.requests, 1);
    free(f);
}

static void client_max_conns(struct fx *f)
{
    struct resp r;
    struct cl *a = cl_open(f), *b = cl_open(f), *c = NULL;
    CHECK(f, a && b);
    /* a response proves each was admitted */
    CHECK(f,
          cl_send_str(a, "GET /a HTTP/1.1\r\nHost: t\r\n\r\n") && cl_read_response(a, &r, false));
    CHECK(f,
          cl_send_str(b, "GET /b HTTP/1.1\r\nHost: t\r\n\r\n") && cl_read_response(b, &r, false));
    c = cl_open(f);
    CHECK(f, c);
    CHECK(f, cl_expect_eof(c));
    cl_close(a);
    cl_close(b);
    cl_close(c);
}

static void test_max_conns(void **state)
{
    struct fx *f = fx_new(0, 2);
    fx_run(f, client_max_conns);
    assert_int_equal(f->stats.connections_accepted, 2);
    assert_int_equal(f->stats.connections_rejected, 1);
    free(f);
}

/* ------------------------------------------------------------------------ */
/* Clients leaving, draining                                                */

static void client_disconnect_pending(struct fx *f)
{
    /* an exchange awaiting its answer, and an answered one queued behind it */
    struct cl *c = cl_open(f);
    CHECK(f, c);
    CHECK(f, cl_send_str(
                 c, "GET /hold HTTP/1.1\r\nHost: t\r\n\r\nGET /x HTTP/1.1\r\nHost: t\r\n\r\n"));
    uv_sem_wait(&f->held_sem);
    cl_reset(c);
    /* fx_close_all answers the held exchange after the server saw the reset */
}

static void test_disconnect_pending(void **state)
{
    struct fx *f = fx_new(0, 0);
    fx_run(f, client_disconnect_pending);
    assert_int_equal(f->stats.requests, 2);
    assert_int_equal(f->inflight_after_settle, 0);
    free(f);
}

static void cmd_stop_accepting(struct fx *f)
{
    http_server_stop_accepting(f->srv);
    f->inflight_at_stop = http_server_inflight(f->srv);
}

static void cmd_answer_held(struct fx *f)
{
    for (size_t i = 0; i < f->n_held; i++)
        respond_ok(f->held[i], "/hold");
    f->n_held = 0;
}

static void client_drain(struct fx *f)
{
    struct resp r;
    struct cl *idle = cl_open(f), *busy = cl_open(f);
    CHECK(f, idle && busy);
    CHECK(f, cl_send_str(idle, "GET /x HTTP/1.1\r\nHost: t\r\n\r\n") &&
                 cl_read_response(idle, &r, false));
    CHECK(f, r.conn_keep_alive);
    CHECK(f, cl_send_str(
                 busy, "GET /x HTTP/1.1\r\nHost: t\r\n\r\nGET /hold HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK(f, cl_read_response(busy, &r, false) && r.conn_keep_alive);
    uv_sem_wait(&f->held_sem);

    fx_call(f, cmd_stop_accepting);
    CHECK(f, cl_expect_eof(idle)); /* nothing in flight: closed at once */
    int fd = cl_connect_fd(f->port);
    CHECK(f, fd == -ECONNREFUSED); /* no longer listening */

    fx_call(f, cmd_answer_held);
    CHECK(f, cl_read_response(busy, &r, false));
    CHECK(f, r.status == 200 && !strcmp(r.body, "ok:/hold"));
    CHECK(f, r.conn_close); /* its last response says so */
    CHECK(f, cl_expect_eof(busy));
    cl_close(idle);
    cl_close(busy);
}

static void test_stop_accepting_drains(void **state)
{
    struct fx *f = fx_new(0, 0);
    fx_run(f, client_drain);
    assert_int_equal(f->inflight_at_stop, 1);
    assert_int_equal(f->inflight_after_settle, 0);
    assert_int_equal(f->stats.requests, 3);
    free(f);
}

/* ------------------------------------------------------------------------ */
/* Sink connections: exact bytes, any split of the input                    */

struct out {
    char buf[64 * 1024];
    size_t len;
};

static void out_sink(void *ctx, const char *data, size_t len)
{
    struct out *o = ctx;
    if (len > sizeof(o->buf) - o->len)
        len = sizeof(o->buf) - o->len;
    memcpy(o->buf + o->len, data, len);
    o->len += len;
}

static void sync_handler(void *ctx, struct http_exchange *ex, const struct http_request_view *req)
{
    int *calls = ctx;
    (*calls)++;
    char body[HTTP_MAX_URL + 64];
    int n = snprintf(body, sizeof(body), "%s %s ?%s", req->method_str, req->path, req->query);
    http_exchange_respond(ex, 200, "text/plain", "", body, (size_t)n);
}

/* IMF-fixdate of t, as RFC 9110 5.6.7 spells it (English, GMT). */
static void imf_date(time_t t, char out[48])
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    assert_non_null(gmtime_r(&t, &tm));
    snprintf(out, 48, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Checks every "\r\nDate: " line of the responses in buf: the date of a
 * second within the last 30 s (the machine may be slow, never wrong), then
 * overwrites it with PINNED_DATE (same length). Returns how many there were;
 * fails on a response head without one. */
#define PINNED_DATE "Sun, 06 Nov 1994 08:49:37 GMT"
static int dates_pin(char *buf, size_t len)
{
    int heads = 0, dates = 0;
    time_t now = time(NULL);
    for (size_t i = 0; i + 9 <= len; i++) {
        if (!memcmp(buf + i, "HTTP/1.1 ", 9)) /* no body here holds that */
            heads++;
        if (i + 8 + 29 + 2 > len || memcmp(buf + i, "\r\nDate: ", 8))
            continue;
        char *d = buf + i + 8;
        bool fresh = false;
        for (time_t t = now + 1; t >= now - 30 && !fresh; t--) {
            char want[48];
            imf_date(t, want);
            fresh = !memcmp(d, want, 29);
        }
        if (!fresh || memcmp(d + 29, "\r\n", 2))
            fail_msg("bad Date: %.31s", d);
        memcpy(d, PINNED_DATE, 29);
        dates++;
    }
    assert_int_equal(dates, heads);
    return dates;
}

/* Every answer carries Date; dates_pin() checks each against the clock and
 * pins it to RFC 9110's example so the rest can be compared byte for byte. */
static const char GOLDEN_A[] = "HTTP/1.1 200 OK\r\n"
                               "Date: " PINNED_DATE "\r\n"
                               "Content-Type: text/plain\r\n"
                               "Content-Length: 11\r\n"
                               "Connection: keep-alive\r\n"
                               "\r\n"
                               "GET /a ?q=1";
static const char GOLDEN_B[] = "HTTP/1.1 200 OK\r\n"
                               "Date: " PINNED_DATE "\r\n"
                               "Content-Type: text/plain\r\n"
                               "Content-Length: 9\r\n"
                               "Connection: close\r\n"
                               "\r\n";

/* Feeds input in pieces of `step` bytes; returns how many requests ran. */
static int sink_run(const char *input, size_t len, size_t step, struct out *o, bool *open)
{
    uv_loop_t loop;
    int calls = 0;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct http_server_config cfg = {.handler = sync_handler, .handler_ctx = &calls};
    struct http_server *s;
    assert_int_equal(http_server_new_unbound(&loop, &cfg, &s), 0);
    struct http_conn *c = http_conn_open_sink(s, out_sink, o);
    assert_non_null(c);
    for (size_t off = 0; off < len; off += step)
        http_conn_feed(c, input + off, len - off < step ? len - off : step);
    *open = http_conn_is_open(c);
    http_conn_free_sink(c);
    http_server_close(s);
    assert_int_equal(uv_loop_close(&loop), 0);
    return calls;
}

static void test_sink_golden_bytes(void **state)
{
    const char in[] = "GET /a?q=1 HTTP/1.1\r\nHost: h\r\n\r\n"
                      "HEAD /b HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
                      "GET /ignored HTTP/1.1\r\nHost: t\r\n\r\n";
    char want[512];
    int wn = snprintf(want, sizeof(want), "%s%s", GOLDEN_A, GOLDEN_B);
    static const size_t steps[] = {1, 2, 7, sizeof(in)};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        static struct out o;
        o.len = 0;
        bool open;
        assert_int_equal(sink_run(in, sizeof(in) - 1, steps[i], &o, &open), 2);
        assert_false(open); /* closed after the Connection: close answer */
        assert_int_equal(dates_pin(o.buf, o.len), 2);
        assert_int_equal(o.len, (size_t)wn);
        assert_memory_equal(o.buf, want, (size_t)wn);
    }
}

/* A handler that answers 503 for /busy, else echoes like sync_handler. */
static void busy_handler(void *ctx, struct http_exchange *ex, const struct http_request_view *req)
{
    if (!strcmp(req->path, "/busy")) {
        int *calls = ctx;
        (*calls)++;
        http_exchange_respond(ex, 503, "text/plain", "", "later\n", 6);
        return;
    }
    sync_handler(ctx, ex, req);
}

/* Like sink_run, with any handler. */
static int sink_run_with(http_handler_fn handler, const char *input, size_t len, size_t step,
                         struct out *o, bool *open)
{
    uv_loop_t loop;
    int calls = 0;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct http_server_config cfg = {.handler = handler, .handler_ctx = &calls};
    struct http_server *s;
    assert_int_equal(http_server_new_unbound(&loop, &cfg, &s), 0);
    struct http_conn *c = http_conn_open_sink(s, out_sink, o);
    assert_non_null(c);
    for (size_t off = 0; off < len; off += step)
        http_conn_feed(c, input + off, len - off < step ? len - off : step);
    *open = http_conn_is_open(c);
    http_conn_free_sink(c);
    http_server_close(s);
    assert_int_equal(uv_loop_close(&loop), 0);
    return calls;
}

static const size_t feed_steps[] = {1, 3, 1 << 20};

/* RFC 9112 3.2: an HTTP/1.1 request needs exactly one Host; HTTP/1.0 may
 * have none, never two. The field name is matched case-insensitively and
 * whole, however the bytes are split. */
static void test_host_rules(void **state)
{
    static const struct {
        const char *req;
        int status; /* 0: handled, 200 */
    } cases[] = {
        {"GET /a HTTP/1.1\r\n\r\n", 400},
        {"GET /a HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400},
        {"GET /a HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400},
        {"GET /a HTTP/1.0\r\nHost: a\r\nHOST: b\r\n\r\n", 400},
        {"GET /a HTTP/1.1\r\nX-Host: a\r\nHostname: b\r\nHos: c\r\n\r\n", 400},
        {"GET /a HTTP/1.0\r\n\r\n", 200},
        {"GET /a HTTP/1.1\r\nX-Host: a\r\nHostname: b\r\nhOsT: c\r\n\r\n", 200},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (size_t k = 0; k < sizeof(feed_steps) / sizeof(feed_steps[0]); k++) {
            static struct out o;
            o.len = 0;
            bool open;
            int calls = sink_run(cases[i].req, strlen(cases[i].req), feed_steps[k], &o, &open);
            char want[32];
            snprintf(want, sizeof(want), "HTTP/1.1 %d ", cases[i].status);
            if (o.len < 13 || memcmp(o.buf, want, 13) || calls != (cases[i].status == 200))
                fail_msg("case %zu step %zu: got \"%.13s\", %d handler calls", i, feed_steps[k],
                         o.buf, calls);
            if (cases[i].status == 400)
                assert_false(open); /* a refusal closes */
        }
    }
}

/* absolute-form targets (as proxies send them) reach the handler as the path
 * and query they name. */
static void test_absolute_form(void **state)
{
    static const struct {
        const char *target, *echo;
    } cases[] = {
        {"http://example.com:8000/count?x=1", "GET /count ?x=1"},
        {"HTTP://h/a/b", "GET /a/b ?"},
        {"https://h", "GET / ?"},
        {"http://h?q=2", "GET / ?q=2"},
        {"/plain?y", "GET /plain ?y"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char req[256], want[64];
        int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: h\r\n\r\n", cases[i].target);
        snprintf(want, sizeof(want), "\r\n\r\n%s", cases[i].echo);
        static struct out o;
        o.len = 0;
        bool open;
        assert_int_equal(sink_run(req, (size_t)n, 1 << 20, &o, &open), 1);
        assert_true(open);
        o.buf[o.len < sizeof(o.buf) ? o.len : sizeof(o.buf) - 1] = '\0';
        if (!strstr(o.buf, want))
            fail_msg("target %s: got %s", cases[i].target, o.buf);
    }
}

/* Date on every answer, refusals included; Retry-After on 503 only. */
static void test_date_and_retry_after(void **state)
{
    const char in[] = "GET /busy HTTP/1.1\r\nHost: h\r\n\r\n"
                      "GET /ok HTTP/1.1\r\nHost: h\r\n\r\n"
                      "GET /x HTTP/1.1\r\n\r\n"; /* no Host: refused */
    static struct out o;
    o.len = 0;
    bool open;
    assert_int_equal(sink_run_with(busy_handler, in, sizeof(in) - 1, 1 << 20, &o, &open), 2);
    assert_false(open);
    assert_int_equal(dates_pin(o.buf, o.len), 3);
    o.buf[o.len < sizeof(o.buf) ? o.len : sizeof(o.buf) - 1] = '\0';
    const char *busy = strstr(o.buf, "HTTP/1.1 503 ");
    const char *ok = strstr(o.buf, "HTTP/1.1 200 ");
    const char *bad = strstr(o.buf, "HTTP/1.1 400 ");
    assert_true(busy && ok && bad && busy < ok && ok < bad);
    const char *retry = strstr(o.buf, "\r\nRetry-After: 1\r\n");
    assert_true(retry && retry > busy && retry < ok); /* on the 503, and only there */
    assert_null(strstr(retry + 3, "Retry-After"));
}

static void test_sink_caps_bytewise(void **state)
{
    /* header bytes are counted the same however the input is split */
    char *ok = make_request(2, 1, HTTP_MAX_HEADER_BYTES - 200);
    char *big = make_request(2, 1, HTTP_MAX_HEADER_BYTES + 1);
    assert_non_null(ok);
    assert_non_null(big);
    static struct out o;
    bool open;
    o.len = 0;
    assert_int_equal(sink_run(ok, strlen(ok), 1, &o, &open), 1);
    assert_true(open);
    assert_memory_equal(o.buf, "HTTP/1.1 200 ", 13);
    o.len = 0;
    assert_int_equal(sink_run(big, strlen(big), 1, &o, &open), 0);
    assert_false(open);
    assert_memory_equal(o.buf, "HTTP/1.1 431 ", 13);
    free(ok);
    free(big);
}

/* What the handler saw of each request's Accept, in order. */
struct accepts {
    int n;
    char seen[8][HTTP_MAX_ACCEPT + 1];
};

static void accept_handler(void *ctx, struct http_exchange *ex, const struct http_request_view *req)
{
    struct accepts *a = ctx;
    if (a->n < 8)
        snprintf(a->seen[a->n++], sizeof(a->seen[0]), "%s", req->accept);
    http_exchange_respond(ex, 204, "text/plain", "", "", 0);
}

static void test_sink_accept(void **state)
{
    /* Accept reaches the handler whole however it is split, every Accept
     * field joined, other fields (however alike) ignored, cut at the cap,
     * and nothing carried over to the next request. */
    char in[2048];
    char long_value[HTTP_MAX_ACCEPT + 100];
    memset(long_value, 'x', sizeof(long_value) - 1);
    long_value[sizeof(long_value) - 1] = '\0';
    snprintf(in, sizeof(in),
             "GET /1 HTTP/1.1\r\nHost: h\r\nAccept: text/html,*/*;q=0.8\r\n\r\n"
             "GET /2 HTTP/1.1\r\nACCEPT:  a/b\r\nX-Accept: no\r\naccept: c/d\r\nHost: h\r\n\r\n"
             "GET /3 HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip\r\nAccepts: x\r\nAccep: y\r\n\r\n"
             "GET /4 HTTP/1.1\r\nHost: h\r\nAccept: %s\r\n\r\n"
             "GET /5 HTTP/1.1\r\nHost: h\r\n\r\n",
             long_value);
    static const size_t steps[] = {1, 3, 1000000};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        uv_loop_t loop;
        static struct accepts a;
        static struct out o;
        memset(&a, 0, sizeof(a));
        o.len = 0;
        assert_int_equal(uv_loop_init(&loop), 0);
        struct http_server_config cfg = {.handler = accept_handler, .handler_ctx = &a};
        struct http_server *s;
        assert_int_equal(http_server_new_unbound(&loop, &cfg, &s), 0);
        struct http_conn *c = http_conn_open_sink(s, out_sink, &o);
        assert_non_null(c);
        size_t len = strlen(in);
        for (size_t off = 0; off < len; off += steps[i])
            http_conn_feed(c, in + off, len - off < steps[i] ? len - off : steps[i]);
        http_conn_free_sink(c);
        http_server_close(s);
        assert_int_equal(uv_loop_close(&loop), 0);
        assert_int_equal(a.n, 5);
        assert_string_equal(a.seen[0], "text/html,*/*;q=0.8");
        assert_string_equal(a.seen[1], "a/b, c/d");
        assert_string_equal(a.seen[2], "");
        assert_int_equal(strlen(a.seen[3]), HTTP_MAX_ACCEPT);
        assert_memory_equal(a.seen[3], long_value, HTTP_MAX_ACCEPT);
        assert_string_equal(a.seen[4], "");
    }
}

static void noop_handler(void *ctx, struct http_exchange *ex, const struct http_request_view *req)
{
    http_exchange_respond(ex, 204, "text/plain", "", "", 0);
}

static void test_start_errors(void **state)
{
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct http_server_config cfg = {.bind_addr = "127.0.0.1", .handler = noop_handler};
    struct http_server *a, *b = (struct http_server *)&cfg;
    assert_int_equal(http_server_start(&loop, &cfg, &a), 0);
    cfg.port = http_server_port(a);
    assert_true(cfg.port > 0);
    /* the port is taken: an errno, no server, and nothing left on the loop */
    assert_int_equal(http_server_start(&loop, &cfg, &b), -EADDRINUSE);
    assert_null(b);
    cfg.bind_addr = "not-an-address";
    assert_int_equal(http_server_start(&loop, &cfg, &b), -EINVAL);
    assert_null(b);
    /* IPv6 literals are accepted too (skipped where the host has no ::1) */
    cfg.bind_addr = "::1";
    cfg.port = 0;
    int r = http_server_start(&loop, &cfg, &b);
    if (r == 0) {
        assert_true(http_server_port(b) > 0);
        http_server_close(b);
    } else {
        assert_int_equal(r, -EADDRNOTAVAIL);
    }
    http_server_close(a);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_start_errors),
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_head),
        cmocka_unit_test(test_method_not_allowed),
        cmocka_unit_test(test_keep_alive),
        cmocka_unit_test(test_pipeline),
        cmocka_unit_test(test_pipeline_deep),
        cmocka_unit_test(test_pipeline_noread_capped),
        cmocka_unit_test(test_half_close),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_within_caps),
        cmocka_unit_test(test_idle_timeout),
        cmocka_unit_test(test_max_conns),
        cmocka_unit_test(test_disconnect_pending),
        cmocka_unit_test(test_stop_accepting_drains),
        cmocka_unit_test(test_sink_golden_bytes),
        cmocka_unit_test(test_host_rules),
        cmocka_unit_test(test_absolute_form),
        cmocka_unit_test(test_date_and_retry_after),
        cmocka_unit_test(test_sink_caps_bytewise),
        cmocka_unit_test(test_sink_accept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
