/*
 * receive.c: one datagram in. Decode (drops counted by reason, never fatal),
 * refuse our own datagrams coming back, then dispatch by message type.
 * Entries of HEARTBEAT, DELTA, LEAVE, PING and ACK all go through the same
 * merge (merge.c), and so do the compact count updates of HEARTBEAT and
 * DELTA; the sender's version range is kept for what we write to it. SYNC
 * and the DELTA parts that answer one go to sync.c, ACK, NACK and
 * PING_REQ to the prober (detect.c). A DIGEST carries no entries and is not answered:
 * a whole table travels over TCP (pushpull.c), where one connection bounds
 * it and no datagram of ours can be amplified.
 *
 * Threat note: without authentication the "from" field and every relayed
 * entry can be forged, and a relayed slot value cannot be told from a lie
 * (slots merge by max, so a lie sticks). The core enforces what it can check:
 * values within PROTO_VALUE_MAX, no one but the owner says it left, our own
 * slot is never taken from anyone, claims about us are refuted. The node
 * accepts datagrams only from the addresses discovery lists, or, with a
 * cluster key, only sealed ones not seen before (outside the core).
 */
#include "gossip/gossip_int.h"

#include <string.h>

/* What our ACK to this PING carries: our entry when the PING carried a
 * claim about us (merged above: the entry now holds our refutation) or came
 * from someone who is not a member. */
static enum gossip_ack gossip_ping_answer(const struct gossip *g, uint32_t sender)
{
    const struct proto_msg *m = &g->rx;
    if (sender == MEMBER_NONE)
        return GOSSIP_ACK_STRANGER;
    for (uint32_t k = 0; k < m->n_entries && k < PROTO_MAX_ENTRIES; k++)
        if (strcmp(m->entries[k].name, g->t.rows[GOSSIP_SELF].m.name) == 0)
            return GOSSIP_ACK_CLAIM;
    return GOSSIP_ACK_BARE;
}

void gossip_msg_handle(struct gossip *g, uint64_t now_ms, const char *from_addr)
{
    const struct proto_msg *m = &g->rx;
    if (m->type == PROTO_LEAVE && m->n_entries > 0 &&
        !gossip_from_owner(&m->entries[0], m->from, from_addr))
        g->stats.dropped[GOSSIP_DROP_FORGED]++; /* merged all the same: LEFT is not believed */
    for (uint32_t k = 0; k < m->n_entries && k < PROTO_MAX_ENTRIES; k++)
        gossip_entry_merge(g, now_ms, &m->entries[k], m->from, from_addr);
    for (uint32_t k = 0; k < m->n_counts && k < PROTO_MAX_COUNTS; k++)
        gossip_count_merge(g, m->counts[k].sid, m->counts[k].count);
    /* What the sender speaks decides what we write to it: the highest
     * version both ends speak (proto/WIRE.md, "Version rule"). */
    uint32_t sender = member_table_find(&g->t, m->from);
    if (sender != MEMBER_NONE && sender != GOSSIP_SELF)
        g->t.rows[sender].vmax = m->vmax;
    switch (m->type) {
    case PROTO_SYNC:
        gossip_sync_handle(g, from_addr);
        break;
    case PROTO_DELTA:
        if (m->parts)
            gossip_sync_part(g, now_ms, from_addr);
        break;
    case PROTO_PING:
        if (from_addr && from_addr[0])
            gossip_ack_send(g, m->nonce, from_addr, gossip_ping_answer(g, sender));
        break;
    case PROTO_ACK:
        gossip_probe_ack(g, now_ms, m->nonce);
        break;
    case PROTO_PING_REQ:
        gossip_ping_req_handle(g, now_ms, from_addr);
        break;
    case PROTO_NACK:
        gossip_probe_nack(g, m->nonce);
        break;
    default:
        break;
    }
}

/* What the datagram being handled says its sender speaks: an answer to a
 * sender we have no row for (tallyctl's PING, a SYNC from a pod that has
 * not sent its entry yet) is written in a version it reads. */
static void gossip_rx_note(struct gossip *g, const char *from)
{
    size_t n = from ? strnlen(from, sizeof(g->rx_addr)) : sizeof(g->rx_addr);
    if (n >= sizeof(g->rx_addr)) {
        g->rx_addr[0] = '\0';
        return;
    }
    memcpy(g->rx_addr, from, n + 1);
    g->rx_vmax = g->rx.vmax;
}

/* A datagram under our own name is ours coming back (a loop, a replay)
 * unless it speaks from another volume: then it is another process with our
 * name, and merge.c must see it. */
static bool gossip_msg_is_ours(struct gossip *g)
{
    const struct proto_msg *m = &g->rx;
    const struct gmember *self = gossip_self_row(g);
    if (strcmp(m->from, self->m.name) != 0)
        return false;
    return m->n_entries == 0 || strcmp(m->entries[0].name, self->m.name) != 0 ||
           m->entries[0].vol == 0 || m->entries[0].vol == self->m.vol;
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
    gossip_rx_note(g, from);
    if (gossip_msg_is_ours(g)) {
        g->stats.dropped[GOSSIP_DROP_SELF]++;
        return;
    }
    gossip_msg_handle(g, now_ms, from);
    gossip_news_flush(g);
}

void gossip_receive_unlisted(struct gossip *g, uint64_t now_ms, const char *from,
                             const uint8_t *buf, size_t len)
{
    (void)now_ms;
    g->stats.datagrams_in++;
    g->stats.bytes_in += len;
    int rc = proto_msg_decode(buf, len, &g->rx, NULL);
    if (rc != PROTO_OK) {
        g->stats.dropped[rc == PROTO_ERR_VERSION ? GOSSIP_DROP_VERSION : GOSSIP_DROP_DECODE]++;
        return;
    }
    /* tallyctl ping from a shell: answer, but believe nothing it carries */
    if (g->rx.type == PROTO_PING && from && from[0]) {
        gossip_rx_note(g, from);
        gossip_entries_send(g, PROTO_ACK, g->rx.nonce, from, NULL, 0);
        return;
    }
    g->stats.dropped[GOSSIP_DROP_SOURCE]++;
}
