/*
 * pushpull.c: anti-entropy repair by digest, as in Scuttlebutt. A node sends
 * one peer a DIGEST (reply=0) of (name, generation, heartbeat, count) for its
 * own entry and the next slice of its table (a rotating cursor, so one
 * datagram per exchange however large the table). The peer answers with a
 * DELTA of its entries that are newer (version or count) and a DIGEST
 * (reply=1) of the items where it is older or lacks the name; the first node
 * answers that with a DELTA. Nothing assumes the table fits a datagram.
 */
#include "gossip/gossip_int.h"

#include <string.h>

static void gossip_item_fill(const struct gmember *r, struct proto_digest_item *it)
{
    memcpy(it->name, r->m.name, sizeof(it->name));
    it->generation = r->m.generation;
    it->heartbeat = r->m.heartbeat;
    it->count = r->m.count;
}

/* Wire size of one digest item, estimated as the entry it summarises with no
 * address; gossip_tx_send trims if the estimate is ever short. */
static size_t gossip_item_size(const struct proto_digest_item *it)
{
    struct proto_entry e;
    memset(&e, 0, sizeof(e));
    memcpy(e.name, it->name, sizeof(e.name));
    e.generation = it->generation;
    e.heartbeat = it->heartbeat;
    e.count = it->count;
    return proto_entry_size(&e);
}

static size_t gossip_item_add(struct gossip *g, const struct gmember *r, size_t used)
{
    struct proto_msg *m = &g->tx;
    if (m->n_digest >= PROTO_MAX_DIGEST)
        return 0;
    struct proto_digest_item *it = &m->digest[m->n_digest];
    gossip_item_fill(r, it);
    size_t sz = gossip_item_size(it);
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

void gossip_digest_send(struct gossip *g, const char *addr, bool stalest)
{
    gossip_msg_init(g, &g->tx, PROTO_DIGEST);
    g->tx.nonce = ++g->nonce;
    size_t used = proto_msg_overhead(&g->tx);
    used += gossip_item_add(g, gossip_self_row(g), used);
    size_t n = g->t.n, c = g->digest_cursor;
    if (stalest) {
        /* Ask about the live members we heard least recently: the peer
         * answers with any newer version, which refreshes them. */
        size_t m = 0;
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
        return;
    }
    for (size_t k = 1; k < n; k++) {
        size_t i = (c + k - 1) % (n - 1) + 1;
        size_t sz = gossip_item_add(g, &g->t.rows[i], used);
        if (!sz)
            break;
        used += sz;
    }
    gossip_tx_send(g, addr);
    if (n > 1 && g->tx.n_digest > 1)
        g->digest_cursor = (c + g->tx.n_digest - 1) % (n - 1);
}

/* Our row is ahead of the item (version or count). */
static bool gossip_row_newer(const struct gmember *r, const struct proto_digest_item *it)
{
    return gossip_version_cmp(r->m.generation, r->m.heartbeat, it->generation, it->heartbeat) > 0 ||
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
            if (gossip_version_cmp(it->generation, it->heartbeat, r->m.generation, r->m.heartbeat) >
                    0 ||
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
