/*
 * peer/udp.c: the gossip core's transport. One UDP socket on --bind and
 * --gossip-port; received datagrams go straight into gossip_receive(), and the
 * core's sends leave with uv_udp_try_send (no allocation, no callback: a
 * datagram the kernel cannot take now is a counted loss, which gossip
 * tolerates by design).
 *
 * With --key-file (format/seal.h) every datagram is sealed on the way out and
 * must open on the way in; one that does not is dropped before the gossip
 * core sees a byte of it and counted as GOSSIP_DROP_AUTH, and one seen before
 * is dropped as GOSSIP_DROP_REPLAY (the nonce carries the sender's boot and
 * sequence: node/peer/replay.h). Without a key, only the sources discovery lists
 * are heard (node/peer/allow.h). The key file is
 * checked for a change every --dns-interval and on SIGHUP, so a rotated
 * Kubernetes Secret takes effect without a restart.
 *
 * Size: the core builds datagrams of at most PROTO_MAX_DATAGRAM (1400) bytes;
 * sealed they are 1400 + SEAL_OVERHEAD (45) = 1445 bytes, under the 1472
 * bytes of payload a 1500-byte MTU leaves after IPv4 (20) and UDP (8)
 * headers, and the 1452 left after IPv6 (40) and UDP: never fragmented. The
 * receive buffer (struct tallyd's udp_buf, 2048 bytes) holds any of them
 * whole, and an oversize one is still seen whole and dropped.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "node/peer/addr.h"
#include "node/log.h"
#include "node/peer/allow.h"
#include "node/peer/replay.h"
#include "format/seal.h"
#include "node/tallyd.h"

/* Log at most one failed authentication per this many ms (debug level):
 * anyone can send us datagrams, and the log must not be theirs to fill. */
#define AUTH_LOG_EVERY_MS 10000

#if PROTO_MAX_DATAGRAM + SEAL_OVERHEAD > 1452
#error "a sealed datagram would not fit a 1500-byte MTU over IPv6"
#endif

/* Owned by peer_udp.c, found through d->udp.data; freed when its last
 * handle has closed. */
struct peer_udp {
    struct tallyd *d;
    uv_timer_t reload; /* key file check, when there is a key file */
    uv_signal_t hup;   /* SIGHUP: check the key file now */
    int open_handles;
    bool closing;
    uint64_t auth_logged_ms; /* last auth failure logged */
    uint64_t auth_suppressed;
    uint64_t key_reloads;
    struct replay_sender tx; /* our boot and sequence, for sealed nonces */
    struct replay *rx;       /* every sender's window */
};

static struct peer_udp *peer_udp_of(const struct tallyd *d)
{
    return d->udp.type == UV_UDP ? d->udp.data : NULL;
}

static void udp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    struct peer_udp *p = h->data;
    b->base = p->d->udp_buf;
    b->len = sizeof(p->d->udp_buf);
}

static void udp_auth_failed(struct peer_udp *p, const char *from, size_t len, int why)
{
    gossip_drop_count(p->d->gossip, GOSSIP_DROP_AUTH);
    uint64_t now = tallyd_now_ms(p->d);
    if (p->auth_logged_ms && now - p->auth_logged_ms < AUTH_LOG_EVERY_MS) {
        p->auth_suppressed++;
        return;
    }
    log_debug("gossip_auth_failed from=%s bytes=%zu reason=\"%s\" suppressed=%llu", from, len,
              why == -ENOKEY ? "unknown key id" : "not a sealed datagram or bad tag",
              (unsigned long long)p->auth_suppressed);
    p->auth_logged_ms = now ? now : 1;
    p->auth_suppressed = 0;
}

static void udp_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *b, const struct sockaddr *from,
                     unsigned flags)
{
    struct peer_udp *p = h->data;
    struct tallyd *d = p->d;
    char addr[PROTO_ADDR_MAX + 1];
    uint8_t plain[sizeof(d->udp_buf)];
    const uint8_t *data = (const uint8_t *)b->base;
    if (n < 0) {
        log_warn("gossip_recv_error error=\"%s\"", uv_strerror((int)n));
        return;
    }
    if (n == 0 || !from || addr_format(from, addr, sizeof(addr)) != 0)
        return;
    if (flags & UV_UDP_PARTIAL) {
        gossip_drop_count(d->gossip, d->seal ? GOSSIP_DROP_AUTH : GOSSIP_DROP_DECODE);
        return;
    }
    if (d->seal) {
        int len = seal_open(d->seal, data, (size_t)n, plain, sizeof(plain));
        if (len < 0) {
            udp_auth_failed(p, addr, (size_t)n, len);
            return;
        }
        uint64_t boot, seq;
        replay_nonce_read(data + SEAL_HEADER_BYTES, &boot, &seq);
        if (p->rx && !replay_check(p->rx, boot, seq, tallyd_now_ms(d))) {
            gossip_drop_count(d->gossip, GOSSIP_DROP_REPLAY);
            return;
        }
        data = plain;
        n = len;
    } else if (d->allow && !peer_allow_check(d->allow, from, tallyd_now_ms(d)) &&
               !gossip_addr_known(d->gossip, addr)) {
        gossip_receive_unlisted(d->gossip, tallyd_now_ms(d), addr, data, (size_t)n);
        return;
    }
    gossip_receive(d->gossip, tallyd_now_ms(d), addr, data, (size_t)n);
}

void peer_udp_send(void *ctx, const char *addr, const uint8_t *data, size_t len)
{
    struct tallyd *d = ctx;
    struct sockaddr_storage ss;
    uint8_t sealed[PROTO_MAX_DATAGRAM + SEAL_OVERHEAD];
    if (d->stopping || addr_parse(addr, &ss) != 0) {
        d->udp_send_errors++;
        return;
    }
    if (d->seal) {
        struct peer_udp *p = peer_udp_of(d);
        uint8_t nonce[SEAL_NONCE_BYTES];
        if (!p) {
            d->udp_send_errors++;
            return;
        }
        replay_nonce_next(&p->tx, nonce);
        int n = seal_seal_nonce(d->seal, nonce, data, len, sealed, sizeof(sealed));
        if (n < 0) {
            d->udp_send_errors++;
            return;
        }
        data = sealed;
        len = (size_t)n;
    }
    uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
    int rc = uv_udp_try_send(&d->udp, &b, 1, (const struct sockaddr *)&ss);
    if (rc < 0) {
        d->udp_send_errors++;
        log_debug("gossip_send_error to=%s error=\"%s\"", addr, uv_strerror(rc));
    }
}

/* ---- the key file ------------------------------------------------------ */

static void peer_udp_keys_log(const struct seal *s, const char *event)
{
    char send_id[2 * SEAL_ID_BYTES + 1], ids[SEAL_MAX_KEYS * (2 * SEAL_ID_BYTES + 1)] = "";
    size_t used = 0;
    seal_key_id_hex(s, 0, send_id);
    for (size_t i = 0; i < seal_key_count(s); i++) {
        char id[2 * SEAL_ID_BYTES + 1];
        seal_key_id_hex(s, i, id);
        used += (size_t)snprintf(ids + used, sizeof(ids) - used, "%s%s", i ? "," : "", id);
    }
    /* Key ids are a hash prefix: safe to log, and what an operator compares
     * across pods during a rotation. */
    log_info("%s file=\"%s\" keys=%zu send_key=%s accept=%s", event, seal_path(s),
             seal_key_count(s), send_id, ids);
    if (seal_world_readable(s))
        log_warn("gossip_key_file_world_readable file=\"%s\" hint=\"chmod o-r, or defaultMode 0440 "
                 "on the Secret volume\"",
                 seal_path(s));
}

static void peer_udp_keys_check(struct peer_udp *p)
{
    char msg[512];
    struct tallyd *d = p->d;
    if (!d->seal || d->stopping)
        return;
    int rc = seal_reload_if_changed(d->seal, msg, sizeof(msg));
    if (rc == 1) {
        p->key_reloads++;
        peer_udp_keys_log(d->seal, "gossip_key_reloaded");
    } else if (rc < 0) {
        log_error("gossip_key_reload_failed %s", msg);
    }
}

static void on_reload_timer(uv_timer_t *t)
{
    peer_udp_keys_check(t->data);
}

static void on_sighup(uv_signal_t *s, int signum)
{
    log_info("signal name=SIGHUP action=reload_key_file");
    peer_udp_keys_check(s->data);
}

static void peer_udp_handle_closed(uv_handle_t *h)
{
    struct peer_udp *p = h->data;
    if (--p->open_handles == 0 && p->closing)
        free(p);
}

/* Watch the key file: a timer every --dns-interval and SIGHUP. Neither keeps
 * the loop alive on its own: they serve the socket, which does. */
static int peer_udp_keys_watch(struct peer_udp *p)
{
    struct tallyd *d = p->d;
    uv_timer_init(d->loop, &p->reload);
    p->reload.data = p;
    p->open_handles++;
    uv_unref((uv_handle_t *)&p->reload);
    uv_signal_init(d->loop, &p->hup);
    p->hup.data = p;
    p->open_handles++;
    uv_unref((uv_handle_t *)&p->hup);
    uint64_t every = d->cfg.dns_interval_ms ? d->cfg.dns_interval_ms : 5000;
    int rc = uv_timer_start(&p->reload, on_reload_timer, every, every);
    return rc < 0 ? rc : uv_signal_start(&p->hup, on_sighup, SIGHUP);
}

/* ---- start and stop ---------------------------------------------------- */

int peer_udp_start(struct tallyd *d)
{
    char addr[PROTO_ADDR_MAX + 1], msg[512];
    struct sockaddr_storage ss;
    if (d->cfg.key_file[0]) {
        int rc = seal_load(d->cfg.key_file, &d->seal, msg, sizeof(msg));
        if (rc < 0) {
            log_error("gossip_key_invalid %s", msg);
            return rc;
        }
        peer_udp_keys_log(d->seal, "gossip_key_loaded");
    } else {
        log_info("gossip_unauthenticated hint=\"--key-file seals every datagram with a cluster "
                 "key\"");
    }
    if (addr_join(d->listen_ip, d->cfg.gossip_port, addr, sizeof(addr)) != 0 ||
        addr_parse(addr, &ss) != 0)
        return -EINVAL;
    struct peer_udp *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->d = d;
    int rc = uv_udp_init(d->loop, &d->udp);
    if (rc < 0) {
        free(p);
        return rc;
    }
    d->udp.data = p;
    if (d->seal && (rc = peer_udp_keys_watch(p)) < 0)
        return rc;
    if (d->seal &&
        (rc = replay_new(2 * (size_t)(d->cfg.max_members ? d->cfg.max_members : GOSSIP_MAX_MEMBERS),
                         &p->rx)) < 0)
        return rc;
    rc = uv_udp_bind(&d->udp, (const struct sockaddr *)&ss, 0);
    if (rc < 0) {
        log_error("gossip_bind_failed addr=%s error=\"%s\"", addr, uv_strerror(rc));
        return rc;
    }
    rc = uv_udp_recv_start(&d->udp, udp_alloc, udp_recv);
    if (rc < 0)
        return rc;
    log_info("gossip_listening addr=%s authenticated=%s", addr, d->seal ? "yes" : "no");
    return 0;
}

uint64_t peer_udp_key_reloads(const struct tallyd *d)
{
    const struct peer_udp *p = peer_udp_of(d);
    return p ? p->key_reloads : 0;
}

void peer_udp_close(struct tallyd *d)
{
    struct peer_udp *p = peer_udp_of(d);
    if (d->udp.type == UV_UDP && !uv_is_closing((uv_handle_t *)&d->udp))
        uv_close((uv_handle_t *)&d->udp, NULL);
    if (p && !p->closing) {
        p->closing = true;
        d->udp.data = NULL;
        replay_free(p->rx);
        p->rx = NULL;
        if (p->open_handles == 0) {
            free(p);
        } else {
            uv_close((uv_handle_t *)&p->reload, peer_udp_handle_closed);
            uv_close((uv_handle_t *)&p->hup, peer_udp_handle_closed);
        }
    }
    /* No datagram is sent once d->stopping is set, so the keys can go now. */
    seal_free(d->seal);
    d->seal = NULL;
}
