/*
 * fake_daemon.h: a struct tallyd built by hand for the unit tests of the
 * wiring (routes.c, metrics.c), with no socket anywhere: a real commit layer
 * on a temporary directory and a libuv loop, a real gossip core whose send
 * goes nowhere, and HTTP requests fed to a sink connection of an unbound
 * server whose handler is routes_handle, exactly as tallyd wires it.
 */
#ifndef TALLY_TEST_FAKE_DAEMON_H
#define TALLY_TEST_FAKE_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "node/tallyd.h"

#define FAKE_NAME   "pod-0"
#define FAKE_ADDR   "127.0.46.10:7946"
#define FAKE_VOL    0x49cd05a5a6c10741ull
#define FAKE_OUTMAX (1u << 20)

struct fake_answer {
    int status;
    char head[2048]; /* status line and headers, NUL-terminated */
    char *body;      /* NUL-terminated (owned by the fake, valid until the next request) */
    size_t body_len;
};

struct fake {
    uv_loop_t loop;
    char dir[64];
    struct tallyd d;
    struct http_server *srv;
    struct http_conn *conn; /* the request's sink connection */
    char out[FAKE_OUTMAX];  /* bytes the sink received */
    size_t out_len;
    struct fake_answer ans;
};

/* sync: the --sync mode; recovery_ms: gossip's wait for a peer's table (0:
 * ready at once). Fails the test on any error. */
struct fake *fake_new(const char *sync, uint32_t recovery_ms);
/* Close every part, run the loop dry, assert it closes, remove the files. */
void fake_free(struct fake *f);
/* Send one request (method, path, extra header lines each ending in
 * "\r\n") and run the loop until its whole answer is in f->ans. */
const struct fake_answer *fake_request(struct fake *f, const char *method, const char *path,
                                       const char *headers);
/* A GET without extra headers. */
const struct fake_answer *fake_get(struct fake *f, const char *path);
/* The value of header name in the answer ("" when absent). */
const char *fake_header(const struct fake_answer *a, const char *name, char *out, size_t cap);

#endif
