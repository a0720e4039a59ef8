/*
 * receive.c: one datagram in. Decode (drops counted by reason, never fatal),
 * refuse datagrams that claim to come from our own name, then dispatch by
 * message type. Entries of HEARTBEAT, DELTA, LEAVE, PING and ACK all go
 * through the same merge (merge.c); DIGEST goes to push-pull (pushpull.c).
 *
 * Threat note: without authentication the "from" field and every relayed
 * entry can be forged, and a relayed count cannot be told from a lie (counts
 * merge by max, so a lie sticks). The core enforces what it can check - no
 * datagram from our own name, no owner entry going back to an older
 * generation - and the cluster key (AEAD, outside the core) keeps outsiders
 * from sending at all.
 */
#include "gossip/gossip_int.h"

#include <string.h>

void gossip_msg_handle(struct gossip *g, uint64_t now_ms, const char *from_addr)
{
    const struct proto_msg *m = &g->rx;
    for (uint32_t k = 0; k < m->n_entries && k < PROTO_MAX_ENTRIES; k++)
        gossip_entry_merge(g, now_ms, &m->entries[k], m->from, from_addr);
    switch (m->type) {
    case PROTO_DIGEST:
        gossip_digest_handle(g, from_addr);
        break;
    case PROTO_PING:
        if (from_addr && from_addr[0])
            gossip_entries_send(g, PROTO_ACK, m->nonce, from_addr, NULL, 0);
        break;
    default:
        break;
    }
}

/* Recovery is done when a peer has had its chance to tell us the highest
 * count it remembers for our name: any push-pull answer does (our greeting's
 * digest lists our own name, so the answer covers it), as does any datagram
 * that names us. A plain heartbeat may not: past ~40 members it carries only
 * some entries. Digest items naming us carry the peer's memory of our count
 * too, so they are offered like entries (gossip_msg_handle merges entries);
 * either way the count is adopted before readiness can follow. */
static bool gossip_msg_answers_recovery(struct gossip *g, uint64_t now_ms)
{
    const struct proto_msg *m = &g->rx;
    const char *self = gossip_self_row(g)->m.name;
    bool names_us = false;
    for (uint32_t i = 0; i < m->n_entries; i++)
        names_us |= strcmp(m->entries[i].name, self) == 0;
    for (uint32_t i = 0; i < m->n_digest; i++) {
        if (strcmp(m->digest[i].name, self) == 0) {
            gossip_self_count_offer(g, now_ms, m->digest[i].count);
            names_us = true;
        }
    }
    return names_us || m->type == PROTO_DELTA || (m->type == PROTO_DIGEST && m->reply);
}

void gossip_receive(struct gossip *g, uint64_t now_ms, const char *from, const uint8_t *buf,
                    size_t len)
{
    g->stats.datagrams_in++;
    g->stats.bytes_in += len;
    struct proto_error err;
    int rc = proto_msg_decode(buf, len, &g->rx, &err);
    if (rc != PROTO_OK) {
        g->stats.dropped[rc == PROTO_ERR_VERSION ? GOSSIP_DROP_VERSION : GOSSIP_DROP_DECODE]++;
        return;
    }
    if (strcmp(g->rx.from, gossip_self_row(g)->m.name) == 0) {
        g->stats.dropped[GOSSIP_DROP_SELF]++;
        return;
    }
    bool answers = gossip_msg_answers_recovery(g, now_ms);
    gossip_msg_handle(g, now_ms, from);
    g->heard_peer |= answers;
}
