/*
 * http_get.c: connect (non-blocking, so the timeout covers it), send one GET,
 * read until the server closes or Content-Length is met, parse. Every wait is
 * a poll() bounded by the one deadline, so tallyctl never hangs on a stuck
 * pod.
 */
#include "tools/tallyctl/http_get.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int http_url_parse(const char *url, struct http_url *u, char *why, size_t why_len)
{
    const char *p = url, *host, *host_end, *port = "80";
    size_t port_len = 2;

    memset(u, 0, sizeof(*u));
    if (!strncmp(p, "http://", 7))
        p += 7;
    else if (strstr(p, "://")) {
        snprintf(why, why_len, "only http:// is supported");
        return -EINVAL;
    }
    if (*p == '[') {
        host = p + 1;
        host_end = strchr(host, ']');
        if (!host_end) {
            snprintf(why, why_len, "missing ']' after an IPv6 address");
            return -EINVAL;
        }
        p = host_end + 1;
    } else {
        host = p;
        p += strcspn(p, ":/");
        host_end = p;
    }
    if (host_end == host) {
        snprintf(why, why_len, "no host");
        return -EINVAL;
    }
    if ((size_t)(host_end - host) >= sizeof(u->host)) {
        snprintf(why, why_len, "host too long");
        return -EINVAL;
    }
    if (*p == ':') {
        port = ++p;
        port_len = strspn(p, "0123456789");
        p += port_len;
        char *end;
        unsigned long v = port_len && port_len < 6 ? strtoul(port, &end, 10) : 0;
        if (v == 0 || v > 65535) {
            snprintf(why, why_len, "bad port");
            return -EINVAL;
        }
    }
    if (*p == '/')
        p++;
    if (*p) {
        snprintf(why, why_len, "unexpected '%s' after host:port (give the base URL only)", p);
        return -EINVAL;
    }
    memcpy(u->host, host, (size_t)(host_end - host));
    memcpy(u->port, port, port_len);
    int v6 = strchr(u->host, ':') != NULL;
    snprintf(u->authority, sizeof(u->authority), v6 ? "[%s]:%s" : "%s:%s", u->host, u->port);
    return 0;
}

static int64_t http_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on fd until the deadline. Returns 0, or -ETIMEDOUT. */
static int http_wait(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - http_now_ms();
        if (left <= 0)
            return -ETIMEDOUT;
        struct pollfd pfd = {.fd = fd, .events = events};
        int n = poll(&pfd, 1, (int)left);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return -errno;
    }
}

static int http_connect(const struct addrinfo *ai, int64_t deadline, int *out)
{
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0)
        return -errno;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    int rc = 0;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        if (errno != EINPROGRESS) {
            rc = -errno;
        } else if ((rc = http_wait(fd, POLLOUT, deadline)) == 0) {
            int soerr = 0;
            socklen_t sl = sizeof(soerr);
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
                rc = -errno;
            else
                rc = -soerr;
        }
    }
    if (rc) {
        close(fd);
        return rc;
    }
    *out = fd;
    return 0;
}

static int http_send_all(int fd, const char *buf, size_t len, int64_t deadline)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return -errno;
            int rc = http_wait(fd, POLLOUT, deadline);
            if (rc)
                return rc;
            continue;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Read until EOF into a growing buffer capped at HTTP_MAX_RESPONSE. */
static int http_recv_all(int fd, int64_t deadline, char **out, size_t *out_len)
{
    size_t cap = 16384, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return -ENOMEM;
    for (;;) {
        if (len == cap) {
            if (cap >= HTTP_MAX_RESPONSE) {
                free(buf);
                return -EFBIG;
            }
            cap = cap * 2 > HTTP_MAX_RESPONSE ? HTTP_MAX_RESPONSE : cap * 2;
            char *grown = realloc(buf, cap);
            if (!grown) {
                free(buf);
                return -ENOMEM;
            }
            buf = grown;
        }
        ssize_t n = recv(fd, buf + len, cap - len, 0);
        if (n > 0) {
            len += (size_t)n;
            continue;
        }
        if (n == 0)
            break;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            int rc = -errno;
            free(buf);
            return rc;
        }
        int rc = http_wait(fd, POLLIN, deadline);
        if (rc) {
            free(buf);
            return rc;
        }
    }
    *out = buf;
    *out_len = len;
    return 0;
}

static int http_bad(char *why, size_t why_len, const char *what)
{
    snprintf(why, why_len, "bad answer: %s", what);
    return -EPROTO;
}

int http_resp_parse(const char *buf, size_t len, struct http_resp *r, char *why, size_t why_len)
{
    const char *end = buf + len, *p;
    memset(r, 0, sizeof(*r));
    if (len < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ')
        return http_bad(why, why_len, "not HTTP/1.x");
    if (buf[9] < '1' || buf[9] > '5' || buf[10] < '0' || buf[10] > '9' || buf[11] < '0' ||
        buf[11] > '9')
        return http_bad(why, why_len, "bad status code");
    r->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');

    /* Find the end of the headers, reading Content-Length on the way. */
    p = memchr(buf, '\n', len);
    long long clen = -1;
    while (p && p + 1 < end) {
        const char *line = p + 1, *eol = memchr(line, '\n', (size_t)(end - line));
        if (!eol)
            break;
        size_t n = (size_t)(eol - line);
        if (n && line[n - 1] == '\r')
            n--;
        if (n == 0) {
            const char *body = eol + 1;
            size_t blen = (size_t)(end - body);
            if (clen >= 0) {
                if ((size_t)clen > blen)
                    return http_bad(why, why_len, "body shorter than Content-Length");
                blen = (size_t)clen;
            }
            r->body = malloc(blen + 1);
            if (!r->body)
                return -ENOMEM;
            memcpy(r->body, body, blen);
            r->body[blen] = '\0';
            r->body_len = blen;
            return 0;
        }
        if (n > 15 && !strncasecmp(line, "content-length:", 15)) {
            char num[24];
            const char *v = line + 15;
            size_t vl = n - 15;
            while (vl && (*v == ' ' || *v == '\t')) {
                v++;
                vl--;
            }
            while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
                vl--;
            if (vl == 0 || vl >= sizeof(num))
                return http_bad(why, why_len, "bad Content-Length");
            for (size_t i = 0; i < vl; i++)
                if (v[i] < '0' || v[i] > '9')
                    return http_bad(why, why_len, "bad Content-Length");
            memcpy(num, v, vl);
            num[vl] = '\0';
            clen = (long long)strtoull(num, NULL, 10);
            if (clen < 0 || clen > (long long)HTTP_MAX_RESPONSE)
                return http_bad(why, why_len, "bad Content-Length");
        }
        if (n > 18 && !strncasecmp(line, "transfer-encoding:", 18))
            return http_bad(why, why_len, "chunked answers are not supported");
        p = eol;
    }
    return http_bad(why, why_len, "headers not terminated");
}

int http_get(const struct http_url *u, const char *path, int timeout_ms, struct http_resp *r,
             char *why, size_t why_len)
{
    int64_t deadline = http_now_ms() + timeout_ms;
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(u->host, u->port, &hints, &res);
    if (rc != 0) {
        snprintf(why, why_len, "cannot resolve %s: %s", u->host, gai_strerror(rc));
        return -EHOSTUNREACH;
    }
    int fd = -1;
    rc = -EHOSTUNREACH;
    for (const struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
        rc = http_connect(ai, deadline, &fd);
    freeaddrinfo(res);
    if (fd < 0)
        goto fail;

    char req[HTTP_HOST_MAX + 256];
    int n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: tallyctl/%s\r\n"
                     "Accept: application/json\r\nConnection: close\r\n\r\n",
                     path, u->authority, TALLY_VERSION);
    if (n < 0 || (size_t)n >= sizeof(req)) {
        close(fd);
        snprintf(why, why_len, "request too long");
        return -EINVAL;
    }
    char *raw = NULL;
    size_t raw_len = 0;
    rc = http_send_all(fd, req, (size_t)n, deadline);
    if (rc == 0)
        rc = http_recv_all(fd, deadline, &raw, &raw_len);
    close(fd);
    if (rc)
        goto fail;
    rc = http_resp_parse(raw, raw_len, r, why, why_len);
    free(raw);
    return rc;
fail:
    if (rc == -ETIMEDOUT)
        snprintf(why, why_len, "no answer within %d ms", timeout_ms);
    else if (rc == -ECONNREFUSED)
        snprintf(why, why_len, "connection refused");
    else if (rc == -EFBIG)
        snprintf(why, why_len, "answer larger than %u bytes", HTTP_MAX_RESPONSE);
    else
        snprintf(why, why_len, "%s", strerror(-rc));
    return rc;
}

void http_resp_free(struct http_resp *r)
{
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
}
