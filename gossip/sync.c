/*
 * sync.c: SYNC, the repair that makes a view whole. A node sends one peer the
 * hashes of its slot table's PROTO_BUCKETS buckets (proto/bucket.c: a name's
 * bucket, the XOR of its slots' shares). The peer answers with every member
 * row of every bucket whose hash differs from its own, as DELTA datagrams
 * numbered part 1..parts of the same nonce; "whole" says the parts hold every
 * such row (at most GOSSIP_SYNC_MAX_PARTS datagrams fit one answer to a node
 * that is not ready yet, which says so with the reply flag, and
 * GOSSIP_SYNC_REPAIR_PARTS to one that is; a peer that needs more asks
 * again: what it received already makes those buckets equal, so each answer
 * is smaller than the last).
 *
 * When every part of a whole answer has arrived and been merged (max-merge,
 * as any entry), the asker holds at least everything that peer held when it
 * answered: that is what readiness waits for (gossip_synced). Equal tables
 * answer with one empty part. After that, a SYNC every pushpull_every rounds
 * repairs whatever piggybacking missed, in one round trip.
 */
#include "gossip/gossip_int.h"

#include <string.h>

void gossip_sync_send(struct gossip *g, const char *addr)
{
    if (!addr || !addr[0])
        return;
    gossip_msg_init(g, &g->tx, PROTO_SYNC);
    g->tx.nonce = ++g->nonce;
    g->tx.n_buckets = PROTO_BUCKETS;
    g->tx.reply = !g->synced; /* not ready: ask for the whole difference */
    memcpy(g->tx.buckets, g->buckets, sizeof(g->buckets));
    g->sync_nonce = g->tx.nonce;
    g->sync_parts_seen = 0;
    g->sync_parts = 0;
    gossip_tx_send(g, addr);
}

/* Rows of the buckets that differ from the asker's, from a random start so
 * truncated answers do not always favour the same rows; into scratch_b. */
static size_t gossip_sync_rows(struct gossip *g, uint64_t differ)
{
    size_t n = g->t.n, m = 0;
    size_t start = n ? gossip_rand_below(g, (uint32_t)n) : 0;
    for (size_t k = 0; k < n; k++) {
        size_t i = (start + k) % n;
        if (differ >> g->t.rows[i].bucket & 1)
            g->scratch_b[m++] = (uint32_t)i;
    }
    return m;
}

void gossip_sync_handle(struct gossip *g, const char *from_addr)
{
    const struct proto_msg *in = &g->rx;
    if (!from_addr || !from_addr[0] || g->sync_answers >= GOSSIP_SYNC_ANSWERS_MAX)
        return;
    if (gossip_scratch_reserve(g, g->t.n) != 0)
        return;
    g->sync_answers++;
    uint64_t differ = 0;
    for (unsigned b = 0; b < PROTO_BUCKETS; b++)
        if (in->buckets[b] != g->buckets[b])
            differ |= 1ull << b;
    size_t m = gossip_sync_rows(g, differ);
    uint64_t nonce = in->nonce;
    size_t max_parts = in->reply ? GOSSIP_SYNC_MAX_PARTS : GOSSIP_SYNC_REPAIR_PARTS;

    /* Pass 1: cut the rows into datagrams by their exact sizes. */
    size_t cut[GOSSIP_SYNC_MAX_PARTS + 1];
    size_t parts = 0, i = 0;
    gossip_msg_init(g, &g->tx, PROTO_DELTA);
    g->tx.nonce = nonce;
    g->tx.part = GOSSIP_SYNC_MAX_PARTS;
    g->tx.parts = GOSSIP_SYNC_MAX_PARTS;
    g->tx.whole = 1;
    size_t overhead = proto_msg_overhead(&g->tx);
    cut[0] = 0;
    while (i < m && parts < max_parts) {
        size_t used = overhead, k = 0;
        while (i < m && k < PROTO_MAX_ENTRIES) {
            struct proto_entry *e = &g->tx.entries[0];
            gossip_entry_fill(g, &g->t.rows[g->scratch_b[i]], e);
            size_t sz = proto_entry_size(e);
            if (used + sz > PROTO_MAX_DATAGRAM)
                break;
            used += sz;
            i++;
            k++;
        }
        if (k == 0)
            return; /* cannot happen: any entry fits an empty datagram */
        cut[++parts] = i;
    }
    bool whole = i == m;
    if (parts == 0)
        cut[++parts] = 0; /* nothing differs: one empty part says so */

    /* Pass 2: send part p of parts. */
    for (size_t p = 0; p < parts; p++) {
        gossip_msg_init(g, &g->tx, PROTO_DELTA);
        g->tx.nonce = nonce;
        g->tx.part = (uint16_t)(p + 1);
        g->tx.parts = (uint16_t)parts;
        g->tx.whole = whole;
        for (size_t j = cut[p]; j < cut[p + 1]; j++)
            gossip_entry_fill(g, &g->t.rows[g->scratch_b[j]], &g->tx.entries[g->tx.n_entries++]);
        gossip_tx_send(g, from_addr);
    }
}

void gossip_sync_part(struct gossip *g, uint64_t now_ms)
{
    const struct proto_msg *in = &g->rx;
    (void)now_ms;
    if (in->nonce != g->sync_nonce || in->parts == 0 || in->parts > 64)
        return;
    if (g->sync_parts && g->sync_parts != in->parts)
        return;
    g->sync_parts = in->parts;
    g->sync_parts_seen |= 1ull << (in->part - 1);
    uint64_t all = in->parts == 64 ? UINT64_MAX : (1ull << in->parts) - 1;
    if (g->sync_parts_seen != all || !in->whole)
        return;
    g->stats.syncs++;
    g->synced = true;
    g->sync_nonce = 0; /* done: later copies of these parts change nothing */
}
