/*
 * http_get.h: a tiny blocking HTTP/1.1 GET client for tallyctl. One request
 * per connection (Connection: close), one deadline for the whole exchange,
 * a capped response. Enough to read tallyd's JSON; not a general client.
 */
#ifndef TALLYCTL_HTTP_GET_H
#define TALLYCTL_HTTP_GET_H

#include <stddef.h>

/* tallyd's /cluster is capped at 4 MiB; headers add little. */
#define HTTP_MAX_RESPONSE ((4u << 20) + 16384)
#define HTTP_HOST_MAX     256

struct http_url {
    char host[HTTP_HOST_MAX]; /* name or address literal, without [] */
    char port[8];
    char authority[HTTP_HOST_MAX + 10]; /* for the Host header: "host:port", "[v6]:port" */
};

struct http_resp {
    int status; /* e.g. 200 */
    char *body; /* NUL-terminated, owned: free with http_resp_free */
    size_t body_len;
};

/* Accepts "http://HOST[:PORT][/]" (and the same without "http://"); HOST may
 * be "[v6]". Returns 0, or -EINVAL with the reason in why. */
int http_url_parse(const char *url, struct http_url *u, char *why, size_t why_len);

/* GET path from u within timeout_ms. Returns 0 with *r filled (any HTTP
 * status), or a negative errno with a short reason in why: "connection
 * refused", "no answer within 2000 ms", "bad answer: ...". */
int http_get(const struct http_url *u, const char *path, int timeout_ms, struct http_resp *r,
             char *why, size_t why_len);
void http_resp_free(struct http_resp *r);

/* Parse a whole response (status line, headers, body) held in buf. Returns 0
 * or -EPROTO with why; the body is copied into r. Exposed for tests. */
int http_resp_parse(const char *buf, size_t len, struct http_resp *r, char *why, size_t why_len);

#endif
