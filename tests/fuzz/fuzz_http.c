/*
 * fuzz_http.c: libFuzzer target for tallyd's HTTP request handling.
 *
 * Bytes go into a sink connection (node/http/conn.h), which runs the server's
 * real parser, caps, pipelining FIFO and response rendering without a socket.
 * The first byte chooses how the rest is split into reads and whether deferred
 * answers come after each read or only after the client has gone. The handler
 * answers at once, or later (paths containing 'a'), newest first, so ordering
 * and the detach-on-close path are exercised. Checks: output is a sequence of
 * "HTTP/1.1 " responses and never more responses than requests plus one error.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "node/http/conn.h"
#include "node/http/server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_DEFERRED 256

static uv_loop_t loop;
static struct http_server *srv;
static struct http_exchange *deferred[MAX_DEFERRED];
static size_t n_deferred;
static size_t n_requests;
static size_t out_len;
static char out_start[9];

static void sink(void *ctx, const char *p, size_t len)
{
    for (size_t i = 0; i < len && out_len + i < sizeof(out_start); i++)
        out_start[out_len + i] = p[i];
    out_len += len;
}

static void handler(void *ctx, struct http_exchange *ex, const struct http_request_view *req)
{
    n_requests++;
    if (req->method == HTTP_M_OTHER) {
        http_exchange_respond(ex, 405, "text/plain", "Allow: GET, HEAD\r\n", "no\n", 3);
        return;
    }
    if (strchr(req->path, 'a') && n_deferred < MAX_DEFERRED) {
        deferred[n_deferred++] = ex;
        return;
    }
    http_exchange_respond(ex, 200, "text/plain", "", req->path, strlen(req->path));
}

static void answer_deferred(void)
{
    while (n_deferred > 0)
        http_exchange_respond(deferred[--n_deferred], 200, "text/plain", "", "late", 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!srv) {
        struct http_server_config cfg = {.handler = handler};
        if (uv_loop_init(&loop) != 0 || http_server_new_unbound(&loop, &cfg, &srv) != 0)
            __builtin_trap();
    }
    if (size == 0)
        return 0;
    size_t step = (size_t)(data[0] & 0x7f) + 1;
    int answer_late = data[0] & 0x80;
    data++;
    size--;
    n_requests = 0;
    out_len = 0;
    struct http_conn *c = http_conn_open_sink(srv, sink, NULL);
    if (!c)
        return 0;
    for (size_t off = 0; off < size; off += step) {
        size_t n = size - off < step ? size - off : step;
        http_conn_feed(c, (const char *)data + off, n);
        if (!answer_late)
            answer_deferred();
    }
    http_conn_free_sink(c);
    answer_deferred(); /* the client is gone: these only free */
    if (out_len > 0 && memcmp(out_start, "HTTP/1.1 ", out_len < 9 ? out_len : 9) != 0)
        __builtin_trap();
    if (out_len > 0 && out_len < 9)
        __builtin_trap();
    return 0;
}
