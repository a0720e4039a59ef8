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
    /* reply set: answer with whole entries. A node that is not ready, or
     * holds compact updates for slots it does not know, needs names and
     * volumes; a ready one repairs counts, which compact updates carry in
     * a sixth of the bytes. */
    g->tx.reply = !g->synced || g->n_pending > 0;
    g->sync_whole_asked = g->tx.reply;
    memcpy(g->tx.buckets, g->buckets, sizeof(g->buckets));
    g->sync_nonce = g->tx.nonce;
    g->sync_parts_seen = 0;
    g->sync_parts = 0;
    gossip_tx_send(g, addr);
}

/* Rows of the buckets that differ from the asker's, whole buckets in turn
 * from a random bucket, into scratch_b: an answer cut short by the budget
 * then leaves the buckets it covered equal, so the asker's next SYNC lists
 * fewer and the next answer (from any peer) covers others. */
static size_t gossip_sync_rows(struct gossip *g, uint64_t differ)
{
    size_t at[PROTO_BUCKETS + 1];
    memset(at, 0, sizeof(at));
    unsigned first = gossip_rand_below(g, PROTO_BUCKETS);
    size_t n = g->t.n;
    for (size_t i = 0; i < n; i++) {
        unsigned b = g->t.rows[i].bucket;
        if (differ >> b & 1)
            at[(b + PROTO_BUCKETS - first) % PROTO_BUCKETS + 1]++;
    }
    for (unsigned b = 1; b <= PROTO_BUCKETS; b++)
        at[b] += at[b - 1];
    size_t m = at[PROTO_BUCKETS];
    for (size_t i = 0; i < n; i++) {
        unsigned b = g->t.rows[i].bucket;
        if (differ >> b & 1)
            g->scratch_b[at[(b + PROTO_BUCKETS - first) % PROTO_BUCKETS]++] = (uint32_t)i;
    }
    return m;
}

/* Bytes row i takes in an answer: its slots as compact updates (*n_counts
 * of them) when compact and none is ambiguous, else its whole entry
 * (*n_counts = -1). */
static size_t gossip_sync_row_size(struct gossip *g, uint32_t i, bool compact, int *n_counts)
{
    const struct gmember *r = &g->t.rows[i];
    if (compact) {
        struct proto_count c[PROTO_MAX_SLOTS];
        size_t sz;
        *n_counts = gossip_row_counts(g, r, 0xffff, c, &sz);
        if (*n_counts >= 0)
            return sz;
    }
    *n_counts = -1;
    struct proto_entry e;
    gossip_entry_fill(g, r, &e);
    return proto_entry_size(&e);
}

void gossip_sync_handle(struct gossip *g, const char *from_addr)
{
    const struct proto_msg *in = &g->rx;
    if (g->sync_round != g->round) {
        g->sync_round = g->round;
        g->sync_bytes = 0;
    }
    /* What is left of this round's answer budget; an empty answer (about
     * 40 bytes) needs little, anything else at least one datagram's worth
     * or the asker is better served by another peer or the next round. */
    size_t cap = in->reply ? GOSSIP_SYNC_BUDGET : GOSSIP_SYNC_REPAIR_BUDGET;
    size_t budget = g->sync_bytes < cap ? cap - g->sync_bytes : 0;
    if (!from_addr || !from_addr[0] || g->sync_answers >= GOSSIP_SYNC_ANSWERS_MAX || budget < 64)
        return;
    if (gossip_scratch_reserve(g, g->t.n) != 0)
        return;
    uint64_t differ = 0;
    for (unsigned b = 0; b < PROTO_BUCKETS; b++)
        if (in->buckets[b] != g->buckets[b])
            differ |= 1ull << b;
    size_t m = differ ? gossip_sync_rows(g, differ) : 0;
    if (m > 0 && budget < PROTO_MAX_DATAGRAM / 2)
        return;
    g->sync_answers++;
    uint64_t nonce = in->nonce;
    size_t max_parts = in->reply ? GOSSIP_SYNC_MAX_PARTS : GOSSIP_SYNC_REPAIR_PARTS;
    bool compact = !in->reply && gossip_peer_version(g, from_addr) >= 3;

    /* Pass 1: cut the rows into datagrams by their exact sizes, within the
     * budget. */
    size_t cut[GOSSIP_SYNC_MAX_PARTS + 1];
    size_t parts = 0, i = 0, spent = 0;
    gossip_part_init(g, nonce, GOSSIP_SYNC_MAX_PARTS, GOSSIP_SYNC_MAX_PARTS, 1);
    size_t overhead = proto_msg_overhead(&g->tx);
    cut[0] = 0;
    while (i < m && parts < max_parts && spent + overhead < budget) {
        size_t used = overhead, entries = 0, counts = 0;
        while (i < m) {
            int n;
            size_t sz = gossip_sync_row_size(g, g->scratch_b[i], compact, &n);
            if (n < 0 ? entries >= PROTO_MAX_ENTRIES : counts + (size_t)n > PROTO_MAX_COUNTS)
                break;
            if (used + sz > PROTO_MAX_DATAGRAM || spent + used + sz > budget)
                break;
            used += sz;
            if (n < 0)
                entries++;
            else
                counts += (size_t)n;
            i++;
        }
        if (used == overhead)
            break; /* the budget ends here */
        spent += used;
        cut[++parts] = i;
    }
    bool whole = i == m;
    if (parts == 0)
        cut[++parts] = 0; /* nothing differs (or nothing fits): one empty part */

    /* Pass 2: send part p of parts. */
    uint64_t before = g->stats.bytes_out;
    for (size_t p = 0; p < parts; p++) {
        gossip_part_init(g, nonce, (uint16_t)(p + 1), (uint16_t)parts, whole);
        g->tx_cap = PROTO_MAX_DATAGRAM;
        size_t used = proto_msg_overhead(&g->tx);
        for (size_t j = cut[p]; j < cut[p + 1]; j++) {
            struct gmember *r = &g->t.rows[g->scratch_b[j]];
            if (!compact || gossip_tx_add_counts(g, r, 0xffff, &used) < 0)
                gossip_entry_fill(g, r, &g->tx.entries[g->tx.n_entries++]);
        }
        gossip_tx_send(g, from_addr);
    }
    g->sync_bytes += (uint32_t)(g->stats.bytes_out - before);
}

void gossip_sync_part(struct gossip *g, uint64_t now_ms, const char *from_addr)
{
    const struct proto_msg *in = &g->rx;
    (void)now_ms;
    if (in->nonce != g->sync_nonce || in->parts == 0 || in->parts > 64)
        return;
    /* A compact answer named slots we do not know (a member we missed):
     * ask the same peer for whole entries now, not at the next repair. */
    if (!g->sync_whole_asked && g->n_pending > 0 && from_addr && from_addr[0] &&
        g->resync_round != g->round + 1) {
        g->resync_round = g->round + 1;
        gossip_sync_send(g, from_addr);
        return;
    }
    if (g->sync_parts && g->sync_parts != in->parts)
        return;
    g->sync_parts = in->parts;
    g->sync_parts_seen |= 1ull << (in->part - 1);
    uint64_t all = in->parts == 64 ? UINT64_MAX : (1ull << in->parts) - 1;
    if (g->sync_parts_seen != all || !in->whole)
        return;
    g->stats.syncs++;
    g->synced = true;
    /* Whole entries made us equal to the peer: an update still waiting for
     * its slot names one the peer does not know either (stale or made
     * up), and must not keep every later SYNC asking for whole entries. */
    if (g->sync_whole_asked)
        g->n_pending = 0;
    g->sync_nonce = 0; /* done: later copies of these parts change nothing */
}
