/*
 * http/server.h: a small HTTP/1.1 server on libuv + llhttp that cannot be
 * abused. It parses requests, enforces the caps below, keeps connections alive,
 * answers pipelined requests strictly in order, and hands each request to one
 * handler, which may answer at once or later (a visit waits for its commit).
 *
 * It knows nothing of visits or routes: node/routes.c is the handler.
 */
#ifndef TALLY_HTTP_SERVER_H
#define TALLY_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* Caps, with why. One place so tests and docs quote the same numbers. */
#define HTTP_MAX_HEADER_BYTES  8192  /* request line + headers; nginx's default buffer; else 431 */
#define HTTP_MAX_HEADERS       64    /* header fields per request; else 431 */
#define HTTP_MAX_URL           2048  /* request target; else 414 */
#define HTTP_MAX_BODY          0     /* no route takes a body; a body is 413 */
#define HTTP_MAX_PIPELINE      64    /* parsed requests awaiting answers; reading pauses past it */
#define HTTP_DEFAULT_IDLE_MS   30000 /* keep-alive idle and slow-request timeout */
#define HTTP_DEFAULT_MAX_CONNS 4096  /* below the usual fd limit; excess are closed at accept */
/* Answers a connection holds: rendered but not yet sent, in the FIFO or in
 * libuv's write queue. Past it, parsing and reading pause until the client
 * reads, whatever the route, so a client that pipelines and never reads holds
 * at most this plus one answer (and one read of unparsed bytes). 32 KiB keeps
 * 300 such clients under 32 MiB and is ~10 answers of /metrics. */
#define HTTP_MAX_CONN_OUT (32 * 1024)
#define HTTP_LINGER_MS    2000 /* after the last response, wait this long for the client's FIN */
#define HTTP_MAX_ACCEPT   512  /* Accept kept for negotiation; a browser's is ~140 bytes */

enum http_method_kind { HTTP_M_GET, HTTP_M_HEAD, HTTP_M_OTHER };

/* One request and, once answered, its response. Owned by the server; valid
 * from the handler call until http_exchange_respond() returns. */
struct http_exchange;

/* The strings live in the exchange: valid until http_exchange_respond(). */
struct http_request_view {
    enum http_method_kind method;
    const char *method_str; /* as sent, NUL-terminated */
    const char *path;       /* target without query string, NUL-terminated */
    const char *query;      /* after '?', or "" */
    /* Accept, every Accept field joined with ", " (RFC 9110 5.3); "" when
     * absent; cut at HTTP_MAX_ACCEPT bytes. */
    const char *accept;
};

typedef void (*http_handler_fn)(void *ctx, struct http_exchange *ex,
                                const struct http_request_view *req);

struct http_server_config {
    const char *bind_addr; /* IPv4 or IPv6 literal */
    int port;
    uint32_t idle_ms;   /* 0 = HTTP_DEFAULT_IDLE_MS */
    uint32_t max_conns; /* 0 = HTTP_DEFAULT_MAX_CONNS */
    http_handler_fn handler;
    void *handler_ctx;
    /* Optional: called once when open connections reach max_conns after
     * having been below it (re-armed once they fall to 90% of it, so a busy
     * server at its cap logs one line, not one per refused connection). */
    void (*on_cap_reached)(void *ctx, uint64_t open, uint32_t cap);
};

/* Statuses a request can be refused with before it reaches the handler. */
enum http_reject_code {
    HTTP_REJ_400, /* malformed: garbage, Content-Length with Transfer-Encoding, ... */
    HTTP_REJ_413, /* a body: no route takes one */
    HTTP_REJ_414, /* request target over HTTP_MAX_URL */
    HTTP_REJ_431, /* request line and headers over the caps */
    HTTP_REJ_505, /* HTTP/0.9, HTTP/2.0 or any version but 1.0 and 1.1 */
    HTTP_REJ_OTHER,
    HTTP_REJ__COUNT
};
/* "400", "413", ... for metrics labels. */
const char *http_reject_code_str(enum http_reject_code code);

/* Counters for /metrics: requests by code come from the handler's answers. */
struct http_server_stats {
    uint64_t connections_accepted;
    uint64_t connections_rejected; /* over max_conns */
    uint64_t connections_open;
    uint64_t requests;
    uint64_t rejected_parse;        /* malformed request: 400, or 505 for a version */
    uint64_t rejected_too_large;    /* 413 / 414 / 431 */
    uint64_t timeouts;              /* idle or slow request closed */
    uint64_t responses_by_class[6]; /* [1..5]: 1xx..5xx */
    /* The rejections above by the status they were answered with, so an
     * operator can tell a scanner's garbage from a client on HTTP/2. */
    uint64_t rejected_by_code[HTTP_REJ__COUNT];
    uint64_t cap_reached;           /* times connections_open reached max_conns */
    uint64_t connections_open_peak; /* most open at once: never above max_conns */
    /* The most answer bytes one connection held at once (FIFO + write
     * queue): HTTP_MAX_CONN_OUT plus at most one answer. */
    uint64_t conn_out_bytes_peak;
};

struct http_server;

/* Allocates and starts listening. Returns 0 or a negative errno (e.g.
 * -EADDRINUSE) and then *out is NULL. */
int http_server_start(uv_loop_t *loop, const struct http_server_config *cfg,
                      struct http_server **out);
/* Stop accepting; connections finish the requests they have (draining). */
void http_server_stop_accepting(struct http_server *s);
/* Number of requests parsed but not yet answered, across all connections. */
size_t http_server_inflight(const struct http_server *s);
/* Close every connection and the listener; frees s once all handles closed
 * (run the loop afterwards). */
void http_server_close(struct http_server *s);
const struct http_server_stats *http_server_stats_get(const struct http_server *s);
/* The port the listener is bound to (useful after asking for port 0), or a
 * negative errno once the listener is closed. */
int http_server_port(const struct http_server *s);

/* Answer ex. body is copied. extra_headers is "" or complete lines each
 * ending in "\r\n" (e.g. "Allow: GET, HEAD\r\n"). For HEAD the body is not
 * sent but Content-Length says its size. May be called inside the handler or
 * later from the loop; if the client went away meanwhile, it only frees ex. */
void http_exchange_respond(struct http_exchange *ex, int status, const char *content_type,
                           const char *extra_headers, const char *body, size_t body_len);
/* The request's method, for handlers answering later (HEAD vs GET). */
bool http_exchange_is_head(const struct http_exchange *ex);

/* How much a client whose Accept field is accept ("" when it sent none)
 * wants media type type ("text/html"): the q of the most specific range that
 * matches, in thousandths (0..1000); 1000 for an empty Accept, 0 when no range
 * matches. *exact tells whether type itself was named, not reached through
 * a wildcard. http_accept.c. */
int http_accept_q(const char *accept, const char *type, bool *exact);

#endif
