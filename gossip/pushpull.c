/*
 * pushpull.c: liveness freshness by digest, as in Scuttlebutt. Past
 * GOSSIP_STALE_PULL_MIN members a heartbeat no longer carries the whole
 * table, so each round a node sends one peer a DIGEST (reply=0) of
 * (name, incarnation, heartbeat, sum of slots) for its own entry and the live
 * members it heard of least recently. The peer answers with a DELTA of its
 * entries that are newer (version or sum) and a DIGEST (reply=1) of the items
 * where it is older or lacks the name; the first node answers that with a
 * DELTA. Counts are made whole by SYNC (sync.c); this keeps heartbeats fresh
 * so the failure detector needs no timeouts that grow with N.
 */
#include "gossip/gossip_int.h"

#include <string.h>

static void gossip_item_fill(const struct gmember *r, struct proto_digest_item *it)
{
    memcpy(it->name, r->m.name, sizeof(it->name));
    it->incarnation = r->m.incarnation;
    it->heartbeat = r->m.heartbeat;
    it->count = r->m.count;
}

static size_t gossip_item_add(struct gossip *g, const struct gmember *r, size_t used)
{
    struct proto_msg *m = &g->tx;
    if (m->n_digest >= PROTO_MAX_DIGEST)
        return 0;
    struct proto_digest_item *it = &m->digest[m->n_digest];
    gossip_item_fill(r, it);
    size_t sz = proto_digest_item_size(it);
    if (used + sz > PROTO_MAX_DATAGRAM)
        return 0;
    m->n_digest++;
    return sz;
}

/* Moves the k rows with the oldest last_seen_ms to the front of a[0..n)
 * (quickselect, O(n) on average; order among them unspecified). */
static void gossip_stalest_select(struct gossip *g, uint32_t *a, size_t n, size_t k)
{
    size_t lo = 0, hi = n;
    if (k == 0 || k >= n)
        return;
    while (hi - lo > 1) {
        uint64_t pivot =
            g->t.rows[a[lo + gossip_rand_below(g, (uint32_t)(hi - lo))]].m.last_seen_ms;
        size_t i = lo, lt = lo, gt = hi;
        /* Three-way partition: < pivot, == pivot, > pivot. */
        while (i < gt) {
            uint64_t v = g->t.rows[a[i]].m.last_seen_ms;
            uint32_t tmp;
            if (v < pivot) {
                tmp = a[lt], a[lt] = a[i], a[i] = tmp;
                lt++, i++;
            } else if (v > pivot) {
                gt--;
                tmp = a[gt], a[gt] = a[i], a[i] = tmp;
            } else {
                i++;
            }
        }
        if (k <= lt)
            hi = lt;
        else if (k <= gt)
            return;
        else
            lo = gt;
    }
}

void gossip_digest_send(struct gossip *g, const char *addr)
{
    gossip_msg_init(g, &g->tx, PROTO_DIGEST);
    g->tx.nonce = ++g->nonce;
    size_t used = proto_msg_overhead(&g->tx);
    used += gossip_item_add(g, gossip_self_row(g), used);
    /* Ask about the live members we heard least recently: the peer answers
     * with any newer version, which refreshes them. */
    size_t n = g->t.n, m = 0;
    for (size_t i = 1; i < n; i++) {
        enum gossip_state st = g->t.rows[i].m.state;
        if (st == GOSSIP_ALIVE || st == GOSSIP_SUSPECT)
            g->scratch_b[m++] = (uint32_t)i;
    }
    size_t k = PROTO_MAX_DIGEST < m ? PROTO_MAX_DIGEST : m;
    gossip_stalest_select(g, g->scratch_b, m, k);
    for (size_t j = 0; j < k; j++) {
        size_t sz = gossip_item_add(g, &g->t.rows[g->scratch_b[j]], used);
        if (!sz)
            break;
        used += sz;
    }
    gossip_tx_send(g, addr);
}

/* Our row is ahead of the item (version or count). */
static bool gossip_row_newer(const struct gmember *r, const struct proto_digest_item *it)
{
    return gossip_version_cmp(r->m.incarnation, r->m.heartbeat, it->incarnation, it->heartbeat) >
               0 ||
           r->m.count > it->count;
}

void gossip_digest_handle(struct gossip *g, const char *from_addr)
{
    const struct proto_msg *in = &g->rx;
    size_t n_delta = 0, n_reply = 0;
    for (uint32_t k = 0; k < in->n_digest && k < PROTO_MAX_DIGEST; k++) {
        const struct proto_digest_item *it = &in->digest[k];
        uint32_t i = member_table_find(&g->t, it->name);
        if (i != MEMBER_NONE && gossip_row_newer(&g->t.rows[i], it))
            g->delta_rows[n_delta++] = i;
        if (in->reply)
            continue;
        struct proto_digest_item *out = &g->reply_items[n_reply];
        if (i == MEMBER_NONE) {
            memset(out, 0, sizeof(*out));
            memcpy(out->name, it->name, sizeof(out->name));
            n_reply++;
        } else {
            const struct gmember *r = &g->t.rows[i];
            if (gossip_version_cmp(it->incarnation, it->heartbeat, r->m.incarnation,
                                   r->m.heartbeat) > 0 ||
                it->count > r->m.count) {
                gossip_item_fill(r, out);
                n_reply++;
            }
        }
    }
    uint64_t nonce = in->nonce;
    if (n_delta)
        gossip_entries_send(g, PROTO_DELTA, nonce, from_addr, g->delta_rows, n_delta);
    if (n_reply) {
        gossip_msg_init(g, &g->tx, PROTO_DIGEST);
        g->tx.nonce = nonce;
        g->tx.reply = 1;
        memcpy(g->tx.digest, g->reply_items, n_reply * sizeof(g->reply_items[0]));
        g->tx.n_digest = (uint32_t)n_reply;
        /* At most as many items as the digest we answer, which fitted. */
        gossip_tx_send(g, from_addr);
    }
}
