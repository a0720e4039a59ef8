/*
 * http/conn.h: the per-connection HTTP engine of http/server.c driven from a
 * buffer instead of a socket, for the fuzz target and unit tests.
 *
 * A sink connection runs exactly the code a TCP connection runs (parsing,
 * caps, pipelining FIFO, keep-alive decisions, response rendering) but its
 * response bytes go to a callback, it has no timers, and "close" only marks it
 * closed. The production path never uses these functions.
 */
#ifndef TALLY_HTTP_CONN_H
#define TALLY_HTTP_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include "node/http/server.h"

struct http_conn;

/* Receives response bytes in the order a socket would have sent them. */
typedef void (*http_conn_sink_fn)(void *ctx, const char *data, size_t len);

/* A server that does not listen: it only owns sink connections and stats.
 * cfg->bind_addr and cfg->port are ignored. Free it with http_server_close().
 * Returns 0 or a negative errno. */
int http_server_new_unbound(uv_loop_t *loop, const struct http_server_config *cfg,
                            struct http_server **out);

/* A connection whose output goes to sink(ctx, ...). NULL when out of memory. */
struct http_conn *http_conn_open_sink(struct http_server *s, http_conn_sink_fn sink, void *ctx);
/* Bytes as if read from the socket. Ignored once the connection is closed. */
void http_conn_feed(struct http_conn *c, const char *data, size_t len);
/* False once the connection has closed (after a final response or an error). */
bool http_conn_is_open(const struct http_conn *c);
/* Closes c if still open (exchanges awaiting answers are detached) and frees it. */
void http_conn_free_sink(struct http_conn *c);

#endif
