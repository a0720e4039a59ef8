/*
 * merge.c: how one received entry changes the member table (DESIGN.md "counter
 * model"). For a member other than us:
 *   - unknown name: added as received (ALIVE unless the sender says DEAD/LEFT);
 *   - newer (generation, heartbeat): address, generation and heartbeat are
 *     taken; the member is ALIVE again (a heartbeat advanced) unless the entry
 *     says LEFT. A LEFT member is revived only by a newer generation or by a
 *     newer heartbeat sent by the owner itself. Third parties' SUSPECT/DEAD
 *     opinions never override our own detector;
 *   - count merges by max, whatever the versions (a G-Counter).
 * For our own name: only the count is considered, and adopted when higher
 * (a peer remembers visits our lost volume forgot).
 */
#include "gossip/gossip_int.h"

#include <string.h>

void gossip_entry_fill(const struct gossip *g, const struct gmember *r, struct proto_entry *e)
{
    memcpy(e->name, r->m.name, sizeof(e->name));
    memcpy(e->addr, r->m.addr, sizeof(e->addr));
    e->generation = r->m.generation;
    e->heartbeat = r->m.heartbeat;
    e->count = r->m.count;
    e->state = (uint8_t)r->m.state;
}

void gossip_self_count_offer(struct gossip *g, uint64_t now_ms, uint64_t count)
{
    struct gmember *self = gossip_self_row(g);
    if (count <= self->m.count)
        return;
    /* Only during recovery: once a peer has answered (or the wait is over)
     * this process is the authority on its own count, and a higher claim is
     * stale at best and an attempt to inflate us at worst. */
    if (gossip_recovered(g, now_ms)) {
        g->stats.dropped[GOSSIP_DROP_FORGED]++;
        return;
    }
    self->m.count = count;
    self->sends = 0;
    if (g->io.self_count_raised)
        g->io.self_count_raised(g->io.ctx, count);
}

static void gossip_self_merge(struct gossip *g, uint64_t now_ms, const struct proto_entry *e)
{
    /* Claims that we are SUSPECT/DEAD are refuted by our next heartbeat;
     * nothing to do but keep gossiping. */
    gossip_self_count_offer(g, now_ms, e->count);
}

void gossip_entry_merge(struct gossip *g, uint64_t now_ms, const struct proto_entry *e,
                        const char *from, const char *from_addr)
{
    if (!e->name[0])
        return;
    uint32_t i = member_table_find(&g->t, e->name);
    if (i == GOSSIP_SELF) {
        gossip_self_merge(g, now_ms, e);
        return;
    }
    bool from_owner = strcmp(e->name, from) == 0;
    /* The owner's own entry always carries a reachable address: if it left it
     * empty, the datagram's source is where it lives. */
    const char *addr = (from_owner && !e->addr[0] && from_addr) ? from_addr : e->addr;

    if (i == MEMBER_NONE) {
        i = member_table_add(&g->t, e->name);
        if (i == MEMBER_NONE)
            return; /* out of memory: the entry will come again */
        struct gmember *r = &g->t.rows[i];
        member_table_addr_set(&g->t, i, addr);
        r->m.generation = e->generation;
        r->m.heartbeat = e->heartbeat;
        r->m.count = e->count;
        r->m.state = (e->state == GOSSIP_LEFT || (e->state == GOSSIP_DEAD && !from_owner))
                         ? (enum gossip_state)e->state
                         : GOSSIP_ALIVE;
        r->m.last_seen_ms = now_ms;
        r->sends = 0;
        return;
    }

    struct gmember *r = &g->t.rows[i];
    int cmp = gossip_version_cmp(e->generation, e->heartbeat, r->m.generation, r->m.heartbeat);
    if (from_owner && e->generation < r->m.generation) {
        /* The owner itself cannot go back to an older incarnation. */
        g->stats.dropped[GOSSIP_DROP_FORGED]++;
        return;
    }
    bool changed = false;
    if (cmp > 0) {
        bool new_gen = e->generation > r->m.generation;
        member_table_addr_set(&g->t, i, addr);
        r->m.generation = e->generation;
        r->m.heartbeat = e->heartbeat;
        r->m.last_seen_ms = now_ms;
        if (e->state == GOSSIP_LEFT)
            r->m.state = GOSSIP_LEFT;
        else if (r->m.state != GOSSIP_LEFT || new_gen || from_owner)
            r->m.state = GOSSIP_ALIVE;
        changed = true;
    } else if (cmp == 0 && from_owner && e->state == GOSSIP_LEFT && r->m.state != GOSSIP_LEFT) {
        r->m.state = GOSSIP_LEFT;
        changed = true;
    }
    if (e->count > r->m.count) {
        r->m.count = e->count;
        changed = true;
    }
    if (changed)
        r->sends = 0;
}
