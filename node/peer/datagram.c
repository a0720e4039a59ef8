/*
 * peer/datagram.c: the gossip datagram's way in and out (datagram.h says the
 * order of the gates and why). Pure: the socket, the clock and the key file
 * belong to the caller; the core is only ever given a datagram that passed.
 */
#include "node/peer/datagram.h"

#include <errno.h>
#include <string.h>

#include "node/peer/allow.h"

int datagram_path_init(struct datagram_path *p, const struct datagram_config *cfg)
{
    memset(p, 0, sizeof(*p));
    p->gossip = cfg->gossip;
    p->seal = cfg->seal;
    int rc = 0;
    if (cfg->seal && cfg->max_senders)
        rc = replay_new(cfg->max_senders, &p->rx);
    if (rc == 0 && !cfg->seal && cfg->allow_cap)
        rc = peer_allow_new(cfg->allow_cap, cfg->allow_keep_ms, &p->allow);
    if (rc < 0)
        datagram_path_free(p);
    return rc;
}

void datagram_path_free(struct datagram_path *p)
{
    replay_free(p->rx);
    p->rx = NULL;
    peer_allow_free(p->allow);
    p->allow = NULL;
}

/* Sealed: open into plain and check the replay window. Returns the
 * plaintext length, or the verdict that drops it (negated). */
static int datagram_unseal(struct datagram_path *p, uint64_t now_ms, const uint8_t *buf, size_t len,
                           uint8_t *plain, size_t cap)
{
    int n = seal_open(p->seal, buf, len, plain, cap);
    if (n < 0) {
        gossip_drop_count(p->gossip, GOSSIP_DROP_AUTH);
        return -(n == -ENOKEY ? DATAGRAM_UNKNOWN_KEY : DATAGRAM_BAD_SEAL);
    }
    uint64_t boot, seq;
    replay_nonce_read(buf + SEAL_HEADER_BYTES, &boot, &seq);
    if (p->rx && !replay_check(p->rx, boot, seq, now_ms)) {
        gossip_drop_count(p->gossip, GOSSIP_DROP_REPLAY);
        return -DATAGRAM_REPLAY;
    }
    return n;
}

enum datagram_verdict datagram_in(struct datagram_path *p, uint64_t now_ms,
                                  const struct sockaddr *from, const char *from_addr,
                                  const uint8_t *buf, size_t len, bool truncated)
{
    uint8_t plain[PROTO_MAX_DATAGRAM];
    /* No sender of ours makes it: unread, and before any crypto work. */
    if (truncated || len > (p->seal ? DATAGRAM_WIRE_MAX : PROTO_MAX_DATAGRAM)) {
        gossip_drop_count(p->gossip, p->seal ? GOSSIP_DROP_AUTH : GOSSIP_DROP_DECODE);
        return DATAGRAM_TRUNCATED;
    }
    if (p->seal) {
        int n = datagram_unseal(p, now_ms, buf, len, plain, sizeof(plain));
        if (n < 0)
            return (enum datagram_verdict) - n;
        buf = plain;
        len = (size_t)n;
    } else if (p->allow && !peer_allow_check(p->allow, from, now_ms) &&
               !gossip_addr_known(p->gossip, from_addr)) {
        gossip_receive_unlisted(p->gossip, now_ms, from_addr, buf, len);
        return DATAGRAM_UNLISTED;
    }
    gossip_receive(p->gossip, now_ms, from_addr, buf, len);
    return DATAGRAM_HEARD;
}

int datagram_out(struct datagram_path *p, const uint8_t *buf, size_t len, uint8_t *out, size_t cap,
                 const uint8_t **wire)
{
    uint8_t nonce[SEAL_NONCE_BYTES];
    if (len > PROTO_MAX_DATAGRAM)
        return -EMSGSIZE;
    if (!p->seal) {
        *wire = buf;
        return (int)len;
    }
    replay_nonce_next(&p->tx, nonce);
    int n = seal_seal_nonce(p->seal, nonce, buf, len, out, cap);
    if (n < 0)
        return n;
    *wire = out;
    return n;
}

void datagram_source_note(struct datagram_path *p, const char *addr, uint64_t now_ms)
{
    if (p->allow)
        peer_allow_note(p->allow, addr, now_ms);
}

size_t datagram_sources(const struct datagram_path *p, uint64_t now_ms)
{
    return p->allow ? peer_allow_count(p->allow, now_ms) : 0;
}
