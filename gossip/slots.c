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
 *
 * Compact count updates name a slot by its id, proto_slot_id(name, vol),
 * not by name and volume: every slot we know is in an index by id, so an
 * update finds its row in O(1). An update for an id we do not know waits
 * in a small pending list until the member's entry brings the slot (SYNC
 * repairs what falls out of it: that slot's bucket differs until we hold
 * it). Two known slots with one id (2^-64 a pair) make the id ambiguous
 * and its compact updates are ignored: whole entries and SYNC still carry
 * the count, so none lands on the wrong slot.
 */
#include "gossip/gossip_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A slot id is as good as chosen by whoever names a volume (the id is an
 * invertible mix of it), so its home in the index is keyed with a secret
 * of this process: nobody can line up ids to make long probe chains. */
static size_t gossip_sid_home(uint64_t sid, uint64_t key, size_t cap)
{
    uint64_t z = sid ^ key;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (size_t)(z ^ (z >> 31)) & (cap - 1);
}

/* Puts (sid, row, vol) into a table of cap entries (a power of two, never
 * full); the same id for another slot makes the entry ambiguous. */
static void gossip_sid_put(struct gossip_sid *t, size_t cap, uint64_t key, size_t *n, uint64_t sid,
                           uint32_t row, uint64_t vol)
{
    size_t h = gossip_sid_home(sid, key, cap);
    while (t[h].row != GOSSIP_SID_EMPTY) {
        if (t[h].sid == sid) {
            if (t[h].row != row || t[h].vol != vol)
                t[h].row = GOSSIP_SID_AMBIGUOUS;
            return;
        }
        h = (h + 1) & (cap - 1);
    }
    t[h].sid = sid;
    t[h].row = row;
    t[h].vol = vol;
    (*n)++;
}

/* Indexes a new slot. Out of memory it is not indexed: its compact updates
 * then wait and fall out of the pending list, and SYNC repairs the slot. */
static void gossip_sid_add(struct gossip *g, uint32_t row, uint64_t vol, uint64_t sid)
{
    if ((g->sid_n + 1) * 2 > g->sid_cap) {
        size_t cap = g->sid_cap ? g->sid_cap * 2 : 64;
        if (g->sid_cap == 0) /* the PRNG's state, seeded per process: not advanced */
            g->sid_key = g->rng ^ 0x5851F42D4C957F2Dull;
        struct gossip_sid *t = malloc(cap * sizeof(*t));
        if (!t)
            return;
        for (size_t i = 0; i < cap; i++)
            t[i].row = GOSSIP_SID_EMPTY;
        size_t n = 0;
        for (size_t i = 0; i < g->sid_cap; i++) {
            const struct gossip_sid *o = &g->sids[i];
            if (o->row == GOSSIP_SID_EMPTY)
                continue;
            gossip_sid_put(t, cap, g->sid_key, &n, o->sid, o->row, o->vol); /* ambiguous stays */
        }
        free(g->sids);
        g->sids = t;
        g->sid_cap = cap;
        g->sid_n = n;
    }
    gossip_sid_put(g->sids, g->sid_cap, g->sid_key, &g->sid_n, sid, row, vol);
}

bool gossip_sid_find(const struct gossip *g, uint64_t sid, uint32_t *row, uint64_t *vol,
                     bool *ambiguous)
{
    *ambiguous = false;
    if (g->sid_cap == 0)
        return false;
    size_t h = gossip_sid_home(sid, g->sid_key, g->sid_cap);
    while (g->sids[h].row != GOSSIP_SID_EMPTY) {
        if (g->sids[h].sid == sid) {
            if (g->sids[h].row == GOSSIP_SID_AMBIGUOUS) {
                *ambiguous = true;
                return false;
            }
            *row = g->sids[h].row;
            *vol = g->sids[h].vol;
            return true;
        }
        h = (h + 1) & (g->sid_cap - 1);
    }
    return false;
}

void gossip_pending_put(struct gossip *g, uint64_t sid, uint64_t count)
{
    for (uint32_t i = 0; i < g->n_pending; i++) {
        if (g->pending[i].sid == sid) {
            if (count > g->pending[i].count)
                g->pending[i].count = count;
            return;
        }
    }
    uint32_t i =
        g->n_pending < GOSSIP_PENDING ? g->n_pending++ : g->pending_next++ % GOSSIP_PENDING;
    g->pending[i].sid = sid;
    g->pending[i].count = count;
}

/* A slot was added: an update that waited for it applies now. */
static void gossip_pending_take(struct gossip *g, uint64_t sid)
{
    for (uint32_t i = 0; i < g->n_pending; i++) {
        if (g->pending[i].sid != sid)
            continue;
        uint64_t count = g->pending[i].count;
        g->pending[i] = g->pending[--g->n_pending];
        gossip_count_merge(g, sid, count);
        return;
    }
}

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
        gossip_row_sum(r);
        gossip_news_count(g, r, k);
        g->table_version++;
        return 1;
    }
    if (r->m.n_slots >= PROTO_MAX_SLOTS) {
        g->stats.dropped[GOSSIP_DROP_SLOTS]++;
        return -ENOSPC;
    }
    memmove(&r->m.slots[k + 1], &r->m.slots[k], (r->m.n_slots - k) * sizeof(r->m.slots[0]));
    r->m.slots[k].vol = vol;
    r->m.slots[k].count = count;
    r->m.n_slots++;
    /* The count news of later slots moved up with them. */
    uint16_t low = (uint16_t)(r->slot_news & ((1u << k) - 1));
    r->slot_news = (uint16_t)(low | ((r->slot_news >> k) << (k + 1)));
    *bucket ^= proto_slot_share(r->m.name, vol, count);
    gossip_row_sum(r);
    gossip_news(g, r); /* a new slot: receivers need its name and volume */
    g->table_version++;
    uint64_t sid = proto_slot_id(r->m.name, vol);
    gossip_sid_add(g, i, vol, sid);
    gossip_pending_take(g, sid);
    return 1;
}
