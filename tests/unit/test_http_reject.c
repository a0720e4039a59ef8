/*
 * test_http_reject.c: the HTTP server refuses connections it cannot serve
 * (over --max-conns, or no memory for one) without ever losing the listener.
 *
 * A connection libuv announces and nobody accepts makes libuv stop polling
 * the listener: if refusing could fail, no connection would ever be accepted
 * again. malloc and calloc are wrapped at link time (tests/http.cmake) so a
 * test can make every allocation of the server fail while a client
 * connects; the refused client must see its connection closed, and once
 * memory is back the next client must get an answer.
 *
 * Server and clients are libuv handles on one loop, on 127.0.46.1 and an
 * ephemeral port. The only deadline is derived from the server's configured
 * idle timeout: a client the server took is answered or closed well within
 * it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "node/http/server.h"

#define TEST_IP      "127.0.46.1"
#define TEST_IDLE_MS 1000
/* Nothing here waits on the idle timeout itself; a refusal or an answer
 * comes at once, so twice the timeout is far beyond any of them. */
#define TEST_DEADLINE_MS (2 * TEST_IDLE_MS)
#define MAX_CLIENTS      8

static bool g_fail_alloc; /* every malloc and calloc from our objects fails */

void *__real_malloc(size_t n);
void *__wrap_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size);

void *__wrap_malloc(size_t n)
{
    if (g_fail_alloc)
        return NULL;
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    if (g_fail_alloc)
        return NULL;
    return __real_calloc(n, size);
}

struct client {
    uv_tcp_t tcp;
    uv_connect_t conn;
    uv_write_t wr;
    struct fixture *f;
    bool send_request;
    bool connected;
    bool closed_by_server; /* read EOF or reset with no answer */
    bool answered;         /* read the start of an HTTP answer */
    bool done;
    size_t got;
    char buf[512];
};

struct fixture {
    uv_loop_t loop;
    uv_timer_t deadline;
    struct http_server *srv;
    int port;
    bool timed_out;
    struct client cl[MAX_CLIENTS];
    int n_clients;
};

static void handler(void *ctx, struct http_exchange *ex, const struct http_request_view *req)
{
    (void)ctx;
    (void)req;
    http_exchange_respond(ex, 200, "text/plain", "", "ok\n", 3);
}

static void on_deadline(uv_timer_t *t)
{
    struct fixture *f = t->data;
    f->timed_out = true;
    uv_stop(&f->loop);
}

static void fx_start(struct fixture *f, uint32_t max_conns)
{
    memset(f, 0, sizeof(*f));
    assert_int_equal(uv_loop_init(&f->loop), 0);
    struct http_server_config cfg = {
        .bind_addr = TEST_IP,
        .port = 0,
        .idle_ms = TEST_IDLE_MS,
        .max_conns = max_conns,
        .handler = handler,
    };
    assert_int_equal(http_server_start(&f->loop, &cfg, &f->srv), 0);
    f->port = http_server_port(f->srv);
    assert_true(f->port > 0);
    uv_timer_init(&f->loop, &f->deadline);
    f->deadline.data = f;
}

static void fx_stop(struct fixture *f)
{
    for (int i = 0; i < f->n_clients; i++)
        if (!uv_is_closing((uv_handle_t *)&f->cl[i].tcp))
            uv_close((uv_handle_t *)&f->cl[i].tcp, NULL);
    uv_close((uv_handle_t *)&f->deadline, NULL);
    http_server_close(f->srv);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&f->loop), 0);
}

static void cl_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct client *c = h->data;
    (void)suggested;
    *buf = uv_buf_init(c->buf + c->got, (unsigned)(sizeof(c->buf) - 1 - c->got));
}

static void cl_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct client *c = s->data;
    (void)buf;
    if (n > 0) {
        c->got += (size_t)n;
        c->buf[c->got] = '\0';
        if (strstr(c->buf, "\r\n\r\n")) {
            c->answered = !strncmp(c->buf, "HTTP/1.1 200", 12);
            c->done = true;
            uv_read_stop(s);
        }
        return;
    }
    if (n < 0) {
        c->closed_by_server = c->got == 0;
        c->done = true;
        uv_read_stop(s);
    }
}

static void cl_on_connect(uv_connect_t *req, int status)
{
    struct client *c = req->data;
    if (status < 0) {
        c->done = true; /* counted as neither answered nor closed: fails */
        return;
    }
    c->connected = true;
    uv_read_start((uv_stream_t *)&c->tcp, cl_alloc, cl_read);
    if (c->send_request) {
        static char req_text[] = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";
        uv_buf_t b = uv_buf_init(req_text, sizeof(req_text) - 1);
        assert_int_equal(uv_write(&c->wr, (uv_stream_t *)&c->tcp, &b, 1, NULL), 0);
    }
}

static struct client *cl_connect(struct fixture *f, bool send_request)
{
    assert_true(f->n_clients < MAX_CLIENTS);
    struct client *c = &f->cl[f->n_clients++];
    struct sockaddr_in sa;
    c->f = f;
    c->send_request = send_request;
    assert_int_equal(uv_ip4_addr(TEST_IP, f->port, &sa), 0);
    uv_tcp_init(&f->loop, &c->tcp);
    c->tcp.data = c;
    c->conn.data = c;
    assert_int_equal(uv_tcp_connect(&c->conn, &c->tcp, (struct sockaddr *)&sa, cl_on_connect), 0);
    return c;
}

/* Runs the loop until every client in [from, to) is done; false on timeout. */
static bool run_until_done(struct fixture *f, int from, int to)
{
    f->timed_out = false;
    uv_timer_start(&f->deadline, on_deadline, TEST_DEADLINE_MS, 0);
    for (;;) {
        bool all = true;
        for (int i = from; i < to; i++)
            all = all && f->cl[i].done;
        if (all || f->timed_out)
            break;
        uv_run(&f->loop, UV_RUN_ONCE);
    }
    uv_timer_stop(&f->deadline);
    return !f->timed_out;
}

/* Runs the loop until the server holds want connections open. */
static bool run_until_open(struct fixture *f, uint64_t want)
{
    f->timed_out = false;
    uv_timer_start(&f->deadline, on_deadline, TEST_DEADLINE_MS, 0);
    while (http_server_stats_get(f->srv)->connections_open != want && !f->timed_out)
        uv_run(&f->loop, UV_RUN_ONCE);
    uv_timer_stop(&f->deadline);
    return !f->timed_out;
}

/* No memory for a new connection: it is refused (closed at once), and the
 * next client, once memory is back, is served. */
static void test_no_memory_for_connection(void **state)
{
    struct fixture *f = *state;
    fx_start(f, 0);
    g_fail_alloc = true;
    struct client *refused = cl_connect(f, false);
    bool ok = run_until_done(f, 0, 1);
    g_fail_alloc = false;
    assert_true(ok);
    assert_true(refused->closed_by_server);
    assert_int_equal(http_server_stats_get(f->srv)->connections_rejected, 1);

    struct client *next = cl_connect(f, true);
    assert_true(run_until_done(f, 1, 2));
    assert_true(next->answered);
    fx_stop(f);
}

/* At the cap with no memory at all: the refusal needs none, and once the
 * held connection goes the next client is served. */
static void test_cap_refusal_without_memory(void **state)
{
    struct fixture *f = *state;
    fx_start(f, 1);
    struct client *held = cl_connect(f, false);
    assert_true(run_until_open(f, 1));
    (void)held;

    g_fail_alloc = true;
    struct client *refused = cl_connect(f, false);
    bool ok = run_until_done(f, 1, 2);
    g_fail_alloc = false;
    assert_true(ok);
    assert_true(refused->closed_by_server);

    uv_close((uv_handle_t *)&f->cl[0].tcp, NULL);
    assert_true(run_until_open(f, 0));
    struct client *next = cl_connect(f, true);
    assert_true(run_until_done(f, 2, 3));
    assert_true(next->answered);
    fx_stop(f);
}

/* Several clients over the cap in one burst share the one refusal handle:
 * each is refused in turn, none is left hanging, and the server still
 * serves afterwards. */
static void test_burst_of_refusals(void **state)
{
    struct fixture *f = *state;
    fx_start(f, 1);
    cl_connect(f, false);
    assert_true(run_until_open(f, 1));
    for (int i = 0; i < 5; i++)
        cl_connect(f, false);
    assert_true(run_until_done(f, 1, 6));
    for (int i = 1; i < 6; i++)
        assert_true(f->cl[i].closed_by_server);
    assert_int_equal(http_server_stats_get(f->srv)->connections_rejected, 5);

    uv_close((uv_handle_t *)&f->cl[0].tcp, NULL);
    assert_true(run_until_open(f, 0));
    struct client *next = cl_connect(f, true);
    assert_true(run_until_done(f, 6, 7));
    assert_true(next->answered);
    fx_stop(f);
}

static int setup(void **state)
{
    *state = __real_calloc(1, sizeof(struct fixture));
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    g_fail_alloc = false;
    free(*state);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_no_memory_for_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cap_refusal_without_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_burst_of_refusals, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
