/*
 * ping.c: send PINGs, collect ACKs. Unconnected UDP sockets so an ACK is
 * accepted from whatever source address the pod answers from; the nonce (64
 * random bits per target) is what ties an ACK to its PING. Datagrams that do
 * not decode, or are not our ACKs, are ignored: a pod may be mid-gossip.
 * With a key file, PINGs leave sealed and only ACKs that open are read.
 */
#include "tools/tallyctl/ping.h"
#include "format/seal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* The key file applies to the whole run of tallyctl, as tallyd's does to the
 * whole pod: one state for every ping_run. */
static struct {
    bool configured; /* ping_key_file_set ran (or $TALLY_KEY_FILE was read) */
    bool on;
    struct seal *keys; /* NULL without a key file */
} ping_auth;

int ping_key_file_set(const char *path, char *err, size_t err_len)
{
    seal_free(ping_auth.keys);
    ping_auth.keys = NULL;
    ping_auth.configured = true;
    ping_auth.on = false;
    if (!path || !path[0])
        return 0;
    if (seal_load(path, &ping_auth.keys, err, err_len) != 0)
        return -EINVAL;
    ping_auth.on = true;
    return 0;
}

/* Read $TALLY_KEY_FILE once, unless the caller chose already. */
static int ping_auth_init(void)
{
    char err[512];
    if (ping_auth.configured)
        return 0;
    if (ping_key_file_set(getenv("TALLY_KEY_FILE"), err, sizeof(err)) != 0) {
        fprintf(stderr, "tallyctl: %s (from TALLY_KEY_FILE)\n", err);
        ping_auth.configured = false;
        return -EINVAL;
    }
    return 0;
}

static int64_t ping_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint64_t ping_nonce_new(void)
{
    uint64_t v = 0;
    if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
        v = (uint64_t)ping_now_us() ^ ((uint64_t)getpid() << 32);
    return v ? v : 1;
}

void ping_target_set(struct ping_target *t, const struct sockaddr *sa, int port)
{
    char ip[INET6_ADDRSTRLEN];
    memset(t, 0, sizeof(*t));
    if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&t->addr;
        memcpy(s6, sa, sizeof(*s6));
        s6->sin6_port = htons((uint16_t)port);
        t->addr_len = sizeof(*s6);
        inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
        snprintf(t->label, sizeof(t->label), "[%s]:%d", ip, port);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&t->addr;
        memcpy(s4, sa, sizeof(*s4));
        s4->sin_port = htons((uint16_t)port);
        t->addr_len = sizeof(*s4);
        inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
        snprintf(t->label, sizeof(t->label), "%s:%d", ip, port);
    }
}

static int ping_port_parse(const char *s, int *port)
{
    char *end;
    if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 5)
        return -EINVAL;
    unsigned long v = strtoul(s, &end, 10);
    if (v == 0 || v > 65535)
        return -EINVAL;
    *port = (int)v;
    return 0;
}

int ping_target_parse(const char *s, int default_port, struct ping_target *t)
{
    char host[INET6_ADDRSTRLEN + 1];
    int port = default_port;
    const char *colon = strrchr(s, ':');
    size_t hlen;
    union {
        struct sockaddr sa;
        struct sockaddr_in s4;
        struct sockaddr_in6 s6;
    } u;

    memset(&u, 0, sizeof(u));
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || (close[1] && (close[1] != ':' || ping_port_parse(close + 2, &port))))
            return -EINVAL;
        hlen = (size_t)(close - s - 1);
        s++;
    } else if (colon && strchr(s, ':') == colon) { /* one colon: v4 or name with a port */
        if (ping_port_parse(colon + 1, &port))
            return -EINVAL;
        hlen = (size_t)(colon - s);
    } else {
        hlen = strlen(s); /* no colon, or a bare v6 */
    }
    if (hlen == 0 || hlen >= sizeof(host))
        return -EINVAL;
    memcpy(host, s, hlen);
    host[hlen] = '\0';
    if (inet_pton(AF_INET, host, &u.s4.sin_addr) == 1) {
        u.s4.sin_family = AF_INET;
    } else if (inet_pton(AF_INET6, host, &u.s6.sin6_addr) == 1) {
        u.s6.sin6_family = AF_INET6;
    } else {
        return -EINVAL;
    }
    ping_target_set(t, &u.sa, port);
    return 0;
}

int ping_encode(uint64_t nonce, uint8_t *buf, size_t cap)
{
    struct proto_msg *m = calloc(1, sizeof(*m));
    if (!m)
        return PROTO_ERR_NOSPACE;
    m->type = PROTO_PING;
    /* The oldest version we speak: a PING is the same in all of them, so
     * a pod of any build reads it and answers in the newest we share. */
    m->version = PROTO_VERSION_MIN;
    m->nonce = nonce;
    memcpy(m->from, PING_FROM, sizeof(PING_FROM));
    int n = proto_msg_encode(m, buf, cap);
    free(m);
    return n;
}

/* Decode buf; 1 with the nonce and first entry if it is an ACK, 0 if it is
 * another valid datagram, else a negative proto error. */
static int ping_ack_decode(const uint8_t *buf, size_t len, uint64_t *nonce,
                           struct proto_entry *entry)
{
    struct proto_msg *m = malloc(sizeof(*m));
    if (!m)
        return PROTO_ERR_NOSPACE;
    int rc = proto_msg_decode(buf, len, m, NULL);
    if (rc == PROTO_OK) {
        /* The decoder guarantees an ACK's first entry is its sender's own. */
        rc = m->type == PROTO_ACK && m->n_entries > 0;
        if (rc) {
            *nonce = m->nonce;
            *entry = m->entries[0];
        }
    }
    free(m);
    return rc;
}

int ping_ack_match(const uint8_t *buf, size_t len, uint64_t nonce, struct proto_entry *entry)
{
    uint64_t got;
    struct proto_entry e;
    int rc = ping_ack_decode(buf, len, &got, &e);
    if (rc == 1 && got != nonce)
        rc = 0;
    if (rc == 1)
        *entry = e;
    return rc;
}

/* Read every datagram waiting on fd and mark the targets they answer. */
static void ping_drain(int fd, struct ping_target *t, size_t n, const int64_t *sent_us)
{
    uint8_t buf[PROTO_MAX_DATAGRAM + SEAL_OVERHEAD + 1], plain[PROTO_MAX_DATAGRAM + 1];
    for (;;) {
        ssize_t got = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (got < 0)
            return;
        int64_t now = ping_now_us();
        uint64_t nonce;
        struct proto_entry e;
        const uint8_t *msg = buf;
        if (ping_auth.on) {
            got = seal_open(ping_auth.keys, buf, (size_t)got, plain, sizeof(plain));
            if (got < 0)
                continue; /* not sealed with any of our keys: not an answer to trust */
            msg = plain;
        }
        if (ping_ack_decode(msg, (size_t)got, &nonce, &e) != 1)
            continue;
        for (size_t i = 0; i < n; i++) {
            if (!t[i].answered && !t[i].err && t[i].nonce == nonce) {
                t[i].answered = true;
                t[i].entry = e;
                t[i].rtt_us = (uint64_t)(now - sent_us[i]);
                break;
            }
        }
    }
}

int ping_run(struct ping_target *t, size_t n, int timeout_ms)
{
    int fds[2] = {-1, -1}; /* [0] IPv4, [1] IPv6 */
    int64_t *sent_us = calloc(n ? n : 1, sizeof(*sent_us));
    uint8_t dgram[PROTO_MAX_DATAGRAM], sealed[PROTO_MAX_DATAGRAM + SEAL_OVERHEAD];
    int rc = ping_auth_init();

    if (rc < 0 || !sent_us) {
        free(sent_us);
        return rc < 0 ? rc : -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        int fam = t[i].addr.ss_family == AF_INET6;
        t[i].answered = false;
        t[i].err = 0;
        t[i].nonce = ping_nonce_new();
        if (fds[fam] < 0) {
            fds[fam] = socket(fam ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            if (fds[fam] < 0) {
                t[i].err = -errno;
                continue;
            }
        }
        const uint8_t *out = dgram;
        int len = ping_encode(t[i].nonce, dgram, sizeof(dgram));
        if (len >= 0 && ping_auth.on) {
            len = seal_seal(ping_auth.keys, dgram, (size_t)len, sealed, sizeof(sealed));
            out = sealed;
        }
        if (len < 0) {
            t[i].err = -EINVAL;
            continue;
        }
        sent_us[i] = ping_now_us();
        if (sendto(fds[fam], out, (size_t)len, 0, (struct sockaddr *)&t[i].addr, t[i].addr_len) < 0)
            t[i].err = -errno;
    }
    if (fds[0] < 0 && fds[1] < 0 && n > 0) {
        free(sent_us);
        return t[0].err ? t[0].err : -EAFNOSUPPORT;
    }
    int64_t deadline = ping_now_us() + (int64_t)timeout_ms * 1000;
    for (;;) {
        size_t waiting = 0;
        for (size_t i = 0; i < n; i++)
            waiting += !t[i].answered && !t[i].err;
        int64_t left = deadline - ping_now_us();
        if (waiting == 0 || left <= 0)
            break;
        struct pollfd pfd[2] = {{.fd = fds[0], .events = POLLIN}, {.fd = fds[1], .events = POLLIN}};
        int pr = poll(pfd, 2, (int)((left + 999) / 1000));
        if (pr < 0 && errno != EINTR)
            break;
        for (int k = 0; k < 2; k++)
            if (fds[k] >= 0 && (pfd[k].revents & POLLIN))
                ping_drain(fds[k], t, n, sent_us);
    }
    for (size_t i = 0; i < n; i++)
        rc += t[i].answered;
    for (int k = 0; k < 2; k++)
        if (fds[k] >= 0)
            close(fds[k]);
    free(sent_us);
    return rc;
}
