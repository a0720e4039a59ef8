/*
 * pushpull.c: answering a DIGEST, as in Scuttlebutt. A DIGEST lists
 * (name, incarnation, heartbeat, sum of slots) of what its sender holds; we
 * answer with a DELTA of our entries that are newer (version or sum) and a
 * DIGEST (reply=1) of the items where we are older or lack the name, which
 * its sender answers with a DELTA. tally does not send a DIGEST each round:
 * liveness comes from SWIM probes (detect.c) and counts from the event queue
 * and SYNC, so a round of digests would repeat what those already carry. A
 * peer's DIGEST is answered all the same, since answering costs nothing
 * until one arrives and lets any speaker of the wire repair through it.
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
