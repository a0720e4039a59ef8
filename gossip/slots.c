/*
 * slots.c: the G-Counter's slots. Each member row holds the slots of its
 * name, one per volume that name has counted on, sorted by volume id. A slot
 * only ever rises (max-merge), so merging is commutative, associative and
 * idempotent, and a replayed or reordered datagram cannot lower anything.
 *
 * Every change also keeps three derived values right in O(1): the row's
 * sum (what /cluster shows for the pod), its bucket's hash for SYNC
 * (proto_slot_share, XOR in the new share and out the old one) and the
 * table version the node watches to save its copy of the table.
 */
#include "gossip/gossip_int.h"

#include <errno.h>
#include <string.h>

const struct gossip_slot *gossip_slot_find(const struct gmember *r, uint64_t vol)
{
    for (unsigned k = 0; k < r->m.n_slots; k++)
        if (r->m.slots[k].vol == vol)
            return &r->m.slots[k];
    return NULL;
}

static void gossip_row_sum(struct gmember *r)
{
    uint64_t sum = 0;
    for (unsigned k = 0; k < r->m.n_slots; k++)
        sum = gossip_sat_add(sum, r->m.slots[k].count);
    r->m.count = sum;
}

int gossip_slot_merge(struct gossip *g, uint32_t i, uint64_t vol, uint64_t count)
{
    struct gmember *r = &g->t.rows[i];
    if (vol == 0)
        return 0;
    if (count > PROTO_VALUE_MAX)
        count = PROTO_VALUE_MAX;
    unsigned k = 0;
    while (k < r->m.n_slots && r->m.slots[k].vol < vol)
        k++;
    uint32_t *bucket = &g->buckets[proto_bucket_of(r->m.name)];
    if (k < r->m.n_slots && r->m.slots[k].vol == vol) {
        struct gossip_slot *s = &r->m.slots[k];
        if (count <= s->count)
            return 0;
        *bucket ^=
            proto_slot_share(r->m.name, vol, s->count) ^ proto_slot_share(r->m.name, vol, count);
        s->count = count;
    } else {
        if (r->m.n_slots >= PROTO_MAX_SLOTS) {
            g->stats.dropped[GOSSIP_DROP_SLOTS]++;
            return -ENOSPC;
        }
        memmove(&r->m.slots[k + 1], &r->m.slots[k], (r->m.n_slots - k) * sizeof(r->m.slots[0]));
        r->m.slots[k].vol = vol;
        r->m.slots[k].count = count;
        r->m.n_slots++;
        *bucket ^= proto_slot_share(r->m.name, vol, count);
    }
    gossip_row_sum(r);
    gossip_news(g, r);
    g->table_version++;
    return 1;
}
