/*
 * peer/tcp.c: push-pull over TCP (node/peer/tcp.h), the libuv side of the
 * core's full-state exchange (gossip/pushpull.c).
 *
 * One connection, one exchange. The asker connects (from --bind's ip when it
 * is a specific one, so peers see the ip our entry gives), writes its whole
 * table and reads the answer; the other end reads the push, merges it,
 * writes its own table under the asker's request id, shuts down its side and
 * closes. Frames are read one at a time into a buffer of one frame's size
 * (the allocation callback never offers more than the frame still needs), so
 * a peer can make us hold no more than that per connection, whatever it
 * sends; what it may send in all is bounded by the core's part count.
 *
 * Sealing: with a key each frame is sealed with a fresh random nonce
 * (format/seal.h) and must open, or the connection is closed and counted as
 * "auth". There is no replay window as on UDP: the asker draws a random
 * request id for each exchange and takes only an answer that carries it, in
 * order, from one sender, so an answer recorded earlier matches nothing; a
 * recorded push replayed at us can only repeat old values, which the merge
 * ignores, and never makes anyone ready. Without a key, a connection is
 * served only from a source the UDP side would hear: an ip discovery lists,
 * or the ip of a member whose gossip address uses our port.
 */
#include "node/peer/tcp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/seal.h"
#include "gossip/gossip.h"
#include "node/log.h"
#include "node/peer/addr.h"
#include "node/peer/udp.h"

#define FRAME_MAX (PROTO_MAX_DATAGRAM + SEAL_OVERHEAD)
#define LEN_BYTES 4

struct tcp_conn {
    struct peer_tcp *t;
    struct tcp_conn *prev, *next;
    uv_tcp_t h;
    uv_timer_t deadline;
    uv_connect_t connect;
    uv_write_t write;
    uv_shutdown_t shutdown;
    int open_handles;
    bool inbound, closing, done;
    char peer[PROTO_ADDR_MAX + 1];
    struct gossip_full_rx rx;
    size_t have; /* bytes of the current frame (length prefix included) in `in` */
    uint8_t in[LEN_BYTES + FRAME_MAX];
    uint8_t *out; /* the whole stream we send, owned; freed when the conn is */
    size_t out_len, out_cap;
};

struct peer_tcp {
    uv_loop_t *loop;
    struct gossip *g;
    struct peer_udp *udp; /* its keys and source filter */
    char listen_ip[64];
    uint16_t gossip_port;
    uv_tcp_t listener;
    bool listener_open, closing;
    struct tcp_conn *conns;
    size_t inbound, outbound;
};

static struct gossip *tcp_gossip(const struct tcp_conn *c)
{
    return c->t->g;
}

static void peer_tcp_free_if_done(struct peer_tcp *t)
{
    if (t->closing && !t->listener_open && !t->conns)
        free(t);
}

/* ---- closing ------------------------------------------------------------ */

static void conn_handle_closed(uv_handle_t *h)
{
    struct tcp_conn *c = h->data;
    if (--c->open_handles > 0)
        return;
    struct peer_tcp *t = c->t;
    if (c->prev)
        c->prev->next = c->next;
    else
        t->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (c->inbound)
        t->inbound--;
    else
        t->outbound--;
    free(c->out);
    free(c);
    peer_tcp_free_if_done(t);
}

/* Ends the connection; why is counted unless the exchange already ended
 * (the core counts its own results). */
static void conn_close(struct tcp_conn *c, int why)
{
    if (c->closing)
        return;
    c->closing = true;
    if (why >= 0 && !c->done)
        gossip_pushpull_count(tcp_gossip(c), (enum gossip_pushpull_result)why);
    uv_close((uv_handle_t *)&c->h, conn_handle_closed);
    uv_close((uv_handle_t *)&c->deadline, conn_handle_closed);
}

static void on_deadline(uv_timer_t *timer)
{
    conn_close(timer->data, GOSSIP_PP_TIMEOUT);
}

static struct tcp_conn *conn_new(struct peer_tcp *t, bool inbound)
{
    struct tcp_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->t = t;
    c->inbound = inbound;
    if (uv_tcp_init(t->loop, &c->h) < 0) {
        free(c);
        return NULL;
    }
    uv_timer_init(t->loop, &c->deadline);
    c->h.data = c;
    c->deadline.data = c;
    c->open_handles = 2;
    c->next = t->conns;
    if (t->conns)
        t->conns->prev = c;
    t->conns = c;
    if (inbound)
        t->inbound++;
    else
        t->outbound++;
    uv_timer_start(&c->deadline, on_deadline, PEER_TCP_DEADLINE_MS, 0);
    return c;
}

/* ---- writing ------------------------------------------------------------ */

/* gossip_full_write's emit: one frame, sealed when there is a key. */
static int conn_frame_out(void *arg, const uint8_t *frame, size_t len)
{
    struct tcp_conn *c = arg;
    const struct seal *seal = peer_udp_seal(c->t->udp);
    size_t need = c->out_len + LEN_BYTES + len + (seal ? SEAL_OVERHEAD : 0);
    if (need > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 16384;
        while (cap < need)
            cap *= 2;
        uint8_t *b = realloc(c->out, cap);
        if (!b)
            return -ENOMEM;
        c->out = b;
        c->out_cap = cap;
    }
    uint8_t *dst = c->out + c->out_len + LEN_BYTES;
    size_t n = len;
    if (seal) {
        int rc = seal_seal(seal, frame, len, dst, c->out_cap - c->out_len - LEN_BYTES);
        if (rc < 0)
            return rc;
        n = (size_t)rc;
    } else {
        memcpy(dst, frame, len);
    }
    uint8_t *p = c->out + c->out_len;
    p[0] = (uint8_t)(n >> 24);
    p[1] = (uint8_t)(n >> 16);
    p[2] = (uint8_t)(n >> 8);
    p[3] = (uint8_t)n;
    c->out_len += LEN_BYTES + n;
    return 0;
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    (void)status;
    conn_close(req->data, -1);
}

static void on_written(uv_write_t *req, int status)
{
    struct tcp_conn *c = req->data;
    if (c->closing)
        return;
    if (status < 0) {
        conn_close(c, GOSSIP_PP_FAILED);
        return;
    }
    if (!c->inbound)
        return; /* the asker reads the answer next */
    /* Our answer is out: end our side so the asker reads it to the end. */
    c->shutdown.data = c;
    if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->h, on_shutdown) < 0)
        conn_close(c, -1);
}

/* Our whole table, under the exchange's request id, in one write. */
static int conn_state_send(struct tcp_conn *c, uint64_t request_id)
{
    c->out_len = 0;
    int rc = gossip_full_write(tcp_gossip(c), request_id, conn_frame_out, c);
    if (rc < 0)
        return rc;
    uv_buf_t b = uv_buf_init((char *)c->out, (unsigned)c->out_len);
    c->write.data = c;
    return uv_write(&c->write, (uv_stream_t *)&c->h, &b, 1, on_written);
}

/* ---- reading ------------------------------------------------------------ */

static size_t conn_frame_len(const struct tcp_conn *c)
{
    return (size_t)c->in[0] << 24 | (size_t)c->in[1] << 16 | (size_t)c->in[2] << 8 | c->in[3];
}

static void conn_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    struct tcp_conn *c = h->data;
    (void)hint;
    /* Never more than the current frame still needs: the read callback has
     * checked the length before we get here again. */
    size_t need = c->have < LEN_BYTES ? LEN_BYTES : LEN_BYTES + conn_frame_len(c);
    b->base = (char *)c->in + c->have;
    b->len = need - c->have;
}

/* A whole frame is in `in`: open it, hand it to the core. */
static void conn_frame_in(struct tcp_conn *c)
{
    struct peer_tcp *t = c->t;
    uint8_t plain[FRAME_MAX];
    const uint8_t *frame = c->in + LEN_BYTES;
    size_t len = c->have - LEN_BYTES;
    c->have = 0;
    const struct seal *seal = peer_udp_seal(t->udp);
    if (seal) {
        int n = seal_open(seal, frame, len, plain, sizeof(plain));
        if (n < 0) {
            conn_close(c, GOSSIP_PP_AUTH);
            return;
        }
        frame = plain;
        len = (size_t)n;
    }
    int rc = gossip_full_read(t->g, uv_now(t->loop), &c->rx, frame, len);
    if (rc < 0) {
        c->done = true; /* counted by the core */
        conn_close(c, -1);
        return;
    }
    if (rc == 0)
        return;
    c->done = true;
    uv_read_stop((uv_stream_t *)&c->h);
    if (!c->inbound) {
        conn_close(c, -1);
        return;
    }
    if (conn_state_send(c, c->rx.request_id) < 0)
        conn_close(c, -1);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct tcp_conn *c = s->data;
    (void)b;
    if (c->closing)
        return;
    if (n < 0) {
        conn_close(c, GOSSIP_PP_FAILED); /* closed or reset before the end */
        return;
    }
    c->have += (size_t)n;
    if (c->have == LEN_BYTES) {
        size_t len = conn_frame_len(c);
        size_t max = peer_udp_sealed(c->t->udp) ? FRAME_MAX : PROTO_MAX_DATAGRAM;
        if (len == 0 || len > max)
            conn_close(c, GOSSIP_PP_TOO_BIG);
        return;
    }
    if (c->have > LEN_BYTES && c->have == LEN_BYTES + conn_frame_len(c))
        conn_frame_in(c);
}

/* ---- the asker ---------------------------------------------------------- */

static void on_connect(uv_connect_t *req, int status)
{
    struct tcp_conn *c = req->data;
    if (c->closing)
        return;
    if (status < 0) {
        conn_close(c, GOSSIP_PP_FAILED);
        return;
    }
    uint64_t id = 0;
    uv_random(NULL, NULL, &id, sizeof(id), 0, NULL);
    gossip_full_rx_init(&c->rx, true, id, c->peer);
    if (conn_state_send(c, id) < 0 || uv_read_start((uv_stream_t *)&c->h, conn_alloc, on_read) < 0)
        conn_close(c, GOSSIP_PP_FAILED);
}

void peer_tcp_pushpull(struct peer_tcp *t, const char *addr)
{
    struct sockaddr_storage ss, local;
    if (!t || t->closing || addr_parse(addr, &ss) != 0)
        return;
    if (t->outbound >= PEER_TCP_OUTBOUND_MAX) {
        gossip_pushpull_count(t->g, GOSSIP_PP_BUSY);
        return;
    }
    struct tcp_conn *c = conn_new(t, false);
    if (!c)
        return;
    snprintf(c->peer, sizeof(c->peer), "%s", addr);
    /* From --bind's ip, so the other end takes our entry as ours (the
     * kernel would pick the route's source: 127.0.0.1 on loopback). */
    if (strcmp(t->listen_ip, "::") != 0 && strcmp(t->listen_ip, "0.0.0.0") != 0 &&
        (uv_ip4_addr(t->listen_ip, 0, (struct sockaddr_in *)&local) == 0 ||
         uv_ip6_addr(t->listen_ip, 0, (struct sockaddr_in6 *)&local) == 0))
        uv_tcp_bind(&c->h, (const struct sockaddr *)&local, 0);
    c->connect.data = c;
    if (uv_tcp_connect(&c->connect, &c->h, (const struct sockaddr *)&ss, on_connect) < 0)
        conn_close(c, GOSSIP_PP_FAILED);
}

/* ---- the other end ------------------------------------------------------ */

/* Without a key: a source the UDP side would hear. */
static bool tcp_source_heard(struct peer_tcp *t, const struct sockaddr *sa)
{
    char gossip_addr[PROTO_ADDR_MAX + 1];
    if (peer_udp_source_listed(t->udp, sa, uv_now(t->loop)))
        return true;
    return addr_with_port(sa, t->gossip_port, gossip_addr, sizeof(gossip_addr)) == 0 &&
           gossip_addr_known(t->g, gossip_addr);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct peer_tcp *t = server->data;
    if (status < 0 || t->closing)
        return;
    bool busy = t->inbound >= PEER_TCP_INBOUND_MAX;
    struct tcp_conn *c = conn_new(t, true);
    if (!c)
        return; /* out of memory: libuv retries once an accept succeeds */
    if (uv_accept(server, (uv_stream_t *)&c->h) < 0) {
        conn_close(c, GOSSIP_PP_FAILED);
        return;
    }
    if (busy) {
        conn_close(c, GOSSIP_PP_BUSY);
        return;
    }
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    if (uv_tcp_getpeername(&c->h, (struct sockaddr *)&ss, &len) < 0 ||
        addr_format((const struct sockaddr *)&ss, c->peer, sizeof(c->peer)) != 0) {
        conn_close(c, GOSSIP_PP_FAILED);
        return;
    }
    if (!tcp_source_heard(t, (const struct sockaddr *)&ss)) {
        conn_close(c, GOSSIP_PP_SOURCE);
        return;
    }
    gossip_full_rx_init(&c->rx, false, 0, c->peer);
    if (uv_read_start((uv_stream_t *)&c->h, conn_alloc, on_read) < 0)
        conn_close(c, GOSSIP_PP_FAILED);
}

/* ---- start and stop ----------------------------------------------------- */

static void on_listener_closed(uv_handle_t *h)
{
    struct peer_tcp *t = h->data;
    t->listener_open = false;
    peer_tcp_free_if_done(t);
}

int peer_tcp_start(const struct peer_tcp_config *cfg, struct peer_tcp **out)
{
    char addr[PROTO_ADDR_MAX + 1];
    struct sockaddr_storage ss;
    if (!cfg->loop || !cfg->gossip || !cfg->udp || !cfg->listen_ip ||
        strlen(cfg->listen_ip) >= sizeof(((struct peer_tcp *)0)->listen_ip) ||
        addr_join(cfg->listen_ip, cfg->gossip_port, addr, sizeof(addr)) != 0 ||
        addr_parse(addr, &ss) != 0)
        return -EINVAL;
    struct peer_tcp *t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    t->loop = cfg->loop;
    t->g = cfg->gossip;
    t->udp = cfg->udp;
    snprintf(t->listen_ip, sizeof(t->listen_ip), "%s", cfg->listen_ip);
    t->gossip_port = cfg->gossip_port;
    int rc = uv_tcp_init(t->loop, &t->listener);
    if (rc < 0) {
        free(t);
        return rc;
    }
    t->listener.data = t;
    t->listener_open = true;
    *out = t;
    rc = uv_tcp_bind(&t->listener, (const struct sockaddr *)&ss, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&t->listener, 16, on_connection);
    if (rc < 0) {
        log_error("gossip_tcp_listen_failed addr=%s error=\"%s\"", addr, uv_strerror(rc));
        return rc;
    }
    log_info("gossip_tcp_listening addr=%s", addr);
    return 0;
}

size_t peer_tcp_open(const struct peer_tcp *t)
{
    return t ? t->inbound + t->outbound : 0;
}

void peer_tcp_close(struct peer_tcp *t)
{
    if (!t || t->closing)
        return;
    t->closing = true;
    for (struct tcp_conn *c = t->conns; c; c = c->next)
        conn_close(c, -1);
    if (t->listener_open)
        uv_close((uv_handle_t *)&t->listener, on_listener_closed);
    else
        peer_tcp_free_if_done(t);
}
