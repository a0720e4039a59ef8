/*
 * peer_udp.c: the gossip core's transport. One UDP socket on --bind and
 * --gossip-port; received datagrams go straight into gossip_receive(), and the
 * core's sends leave with uv_udp_try_send (no allocation, no callback: a
 * datagram the kernel cannot take now is a counted loss, which gossip
 * tolerates by design).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/addr.h"
#include "node/log.h"
#include "node/tallyd.h"

static void udp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    struct tallyd *d = h->data;
    b->base = d->udp_buf;
    b->len = sizeof(d->udp_buf);
}

static void udp_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *b, const struct sockaddr *from,
                     unsigned flags)
{
    struct tallyd *d = h->data;
    char addr[PROTO_ADDR_MAX + 1];
    if (n < 0) {
        log_warn("gossip_recv_error error=\"%s\"", uv_strerror((int)n));
        return;
    }
    if (n == 0 || !from || addr_format(from, addr, sizeof(addr)) != 0)
        return;
    if (flags & UV_UDP_PARTIAL) {
        gossip_drop_count(d->gossip, GOSSIP_DROP_DECODE);
        return;
    }
    gossip_receive(d->gossip, tallyd_now_ms(d), addr, (const uint8_t *)b->base, (size_t)n);
}

void peer_udp_send(void *ctx, const char *addr, const uint8_t *data, size_t len)
{
    struct tallyd *d = ctx;
    struct sockaddr_storage ss;
    if (d->stopping || addr_parse(addr, &ss) != 0) {
        d->udp_send_errors++;
        return;
    }
    uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
    int rc = uv_udp_try_send(&d->udp, &b, 1, (const struct sockaddr *)&ss);
    if (rc < 0) {
        d->udp_send_errors++;
        log_debug("gossip_send_error to=%s error=\"%s\"", addr, uv_strerror(rc));
    }
}

int peer_udp_start(struct tallyd *d)
{
    char addr[PROTO_ADDR_MAX + 1];
    struct sockaddr_storage ss;
    int rc = uv_udp_init(d->loop, &d->udp);
    if (rc < 0)
        return rc;
    d->udp.data = d;
    if (addr_join(d->cfg.bind, d->cfg.gossip_port, addr, sizeof(addr)) != 0 ||
        addr_parse(addr, &ss) != 0)
        return -EINVAL;
    rc = uv_udp_bind(&d->udp, (const struct sockaddr *)&ss, 0);
    if (rc < 0) {
        log_error("gossip_bind_failed addr=%s error=\"%s\"", addr, uv_strerror(rc));
        return rc;
    }
    rc = uv_udp_recv_start(&d->udp, udp_alloc, udp_recv);
    if (rc < 0)
        return rc;
    log_info("gossip_listening addr=%s", addr);
    return 0;
}
