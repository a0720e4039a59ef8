/*
 * merge.c: how one received entry changes the member table (docs/DESIGN.md,
 * "The counter model" and "Liveness").
 *
 * Slots merge by max, always, whoever sends them and whatever the liveness
 * fields say: that is the G-Counter, and it is why a replay or a stale relay
 * cannot lose a visit. The one exception is our own current slot: only we
 * count on it, so a peer holding more for it means our volume went back in
 * time (a restored snapshot); the node is told to move to a new slot.
 *
 * Liveness of a member other than us:
 *   - unknown name: added (up to max_members) as received, ALIVE unless the
 *     owner itself says it left;
 *   - newer (incarnation, heartbeat): address, incarnation and heartbeat are
 *     taken and the member is ALIVE again. "The owner" means a datagram whose
 *     sender is the member and whose source is the address its entry gives
 *     (gossip_from_owner), so a datagram that merely names a pod as its
 *     sender cannot speak for it. Third parties' SUSPECT, DEAD and
 *     LEFT opinions never override our own view: only the owner's own
 *     datagram may say it left (a relayed LEFT is not believed: the owner
 *     tells every member itself, and the rest see it die);
 *     a LEFT member comes back with a newer incarnation or a newer heartbeat
 *     from the owner itself.
 * A relay may not raise a member's incarnation by more than
 * GOSSIP_INC_JUMP_MAX: only the owner itself can (counted as forged).
 * An owner speaking with an older version than a claim we hold about it (a
 * newer incarnation, or not alive) is told that claim, so it can refute it:
 * nobody else would tell a member we think left, and its own heartbeats lose
 * to the claim (gossip_owner_tell).
 * About ourselves: any claim at our incarnation or above that is not our
 * current entry (suspect, dead, left, another address, another volume, a
 * heartbeat we never sent) is refuted by raising our incarnation past it
 * (SWIM). A claim from another volume that keeps coming back after we refuted
 * it is another live process with our name: both are counted, each on its own
 * slot, and the node is told so it can warn.
 *
 * A compact count update (version 3's "c": slot id and count) merges the
 * same way as a slot of an entry, found by its id (slots.c); it says
 * nothing about liveness.
 */
#include "gossip/gossip_int.h"

#include <string.h>

void gossip_entry_fill(const struct gossip *g, const struct gmember *r, struct proto_entry *e)
{
    (void)g;
    memcpy(e->name, r->m.name, sizeof(e->name));
    memcpy(e->addr, r->m.addr, sizeof(e->addr));
    e->incarnation = r->m.incarnation;
    e->heartbeat = r->m.heartbeat;
    e->vol = r->m.vol;
    e->state = (uint8_t)r->m.state;
    e->n_slots = r->m.n_slots;
    memcpy(e->slots, r->m.slots, r->m.n_slots * sizeof(e->slots[0]));
    if (r->m.state == GOSSIP_SUSPECT && r->suspect_timer)
        memcpy(e->accuser, r->accuser, sizeof(e->accuser));
    else
        e->accuser[0] = '\0';
}

bool gossip_from_owner(const struct proto_entry *e, const char *from, const char *from_addr)
{
    if (strcmp(e->name, from) != 0)
        return false;
    /* The owner sends from the address it advertises: a datagram naming a pod
     * as its sender from anywhere else speaks for that pod only as a relay. */
    return !e->addr[0] || !from_addr || !from_addr[0] || strcmp(e->addr, from_addr) == 0;
}

uint32_t gossip_member_add(struct gossip *g, const char *name)
{
    if (g->t.n >= g->max_members) {
        g->stats.dropped[GOSSIP_DROP_MEMBERS]++;
        return MEMBER_NONE;
    }
    return member_table_add(&g->t, name);
}

static void gossip_slots_merge(struct gossip *g, uint32_t i, const struct proto_entry *e)
{
    for (unsigned k = 0; k < e->n_slots; k++)
        gossip_slot_merge(g, i, e->slots[k].vol, e->slots[k].count);
}

/* Raise our incarnation past inc, so our next entry wins over the claim. */
static void gossip_refute(struct gossip *g, uint64_t inc)
{
    struct gmember *self = gossip_self_row(g);
    if (inc >= PROTO_VALUE_MAX)
        return; /* cannot go past it: the claim stands until it ages out */
    self->m.incarnation = inc + 1;
    self->m.heartbeat = 0;
    gossip_news(g, self);
    g->stats.refutations++;
}

void gossip_self_slot_merge(struct gossip *g, uint64_t vol, uint64_t count)
{
    struct gmember *self = gossip_self_row(g);
    if (vol == self->m.vol) {
        const struct gossip_slot *mine = gossip_slot_find(self, vol);
        uint64_t ours = mine ? mine->count : 0;
        if (count > ours) {
            g->stats.slot_moves++;
            if (g->io.slot_behind)
                g->io.slot_behind(g->io.ctx, vol, ours, count);
        }
        /* The node moves to a new slot from inside slot_behind (tallyd
         * does): the old slot is then an earlier volume of ours, and the
         * peer's value for it counts now, not at the next SYNC, or a view
         * could call itself whole while short of it. */
        if (vol == self->m.vol)
            return;
    }
    gossip_slot_merge(g, GOSSIP_SELF, vol, count);
}

void gossip_count_merge(struct gossip *g, uint64_t sid, uint64_t count)
{
    uint32_t row;
    uint64_t vol;
    bool ambiguous;
    if (!gossip_sid_find(g, sid, &row, &vol, &ambiguous)) {
        if (!ambiguous)
            gossip_pending_put(g, sid, count);
        return;
    }
    if (row == GOSSIP_SELF)
        gossip_self_slot_merge(g, vol, count);
    else
        gossip_slot_merge(g, row, vol, count);
}

static void gossip_self_merge(struct gossip *g, const struct proto_entry *e, const char *from_addr)
{
    struct gmember *self = gossip_self_row(g);
    /* Slots of our name: ours must never be ahead anywhere else. */
    for (unsigned k = 0; k < e->n_slots; k++)
        gossip_self_slot_merge(g, e->slots[k].vol, e->slots[k].count);
    /* Another process speaking for our name from another volume: it refutes
     * our refutations, so its incarnation keeps reaching ours. */
    bool other_vol = e->vol != 0 && e->vol != self->m.vol;
    /* A live duplicate answers our refutation (ours + 1 and above) with one
     * of its own, so its claim comes back above our incarnation; one that
     * merely reaches it is an older life that never heard us (a peer that
     * missed a restart of our earlier volume, a replay). */
    if (other_vol && e->vol == g->dup_vol && e->incarnation > g->dup_inc &&
        e->incarnation > self->m.incarnation) {
        if (g->round >= g->dup_until_round || g->stats.duplicates == 0) {
            g->stats.duplicates++;
            if (g->io.duplicate)
                g->io.duplicate(g->io.ctx, e->vol, e->addr[0] ? e->addr : from_addr);
        }
        g->dup_until_round = g->round + GOSSIP_DUP_ROUNDS;
    }
    if (other_vol && e->incarnation >= self->m.incarnation) {
        g->dup_vol = e->vol;
        g->dup_inc = e->incarnation;
    }
    if (e->incarnation < self->m.incarnation)
        return; /* an older life of ours */
    if (e->incarnation - self->m.incarnation > GOSSIP_INC_JUMP_MAX) {
        g->stats.dropped[GOSSIP_DROP_FORGED]++; /* no life of ours went that far */
        return;
    }
    bool current = e->incarnation == self->m.incarnation && e->heartbeat <= self->m.heartbeat &&
                   e->state == GOSSIP_ALIVE && !other_vol &&
                   (!self->m.addr[0] || strcmp(e->addr, self->m.addr) == 0);
    if (!current && !g->left) {
        /* Lifeguard: being suspected means we are probably the slow one. */
        if (e->state == GOSSIP_SUSPECT || e->state == GOSSIP_DEAD)
            gossip_awareness_raise(g);
        gossip_refute(g, e->incarnation);
    }
}

/* SWIM's precedence for a member other than us, after its version was
 * taken (cmp > 0: the entry was newer). A newer incarnation settles the
 * state as the entry gives it; at the same incarnation the owner's own
 * datagram proves it alive, a relay's SUSPECT or DEAD claim spreads (the
 * owner refutes it with a newer incarnation), and a relayed newer heartbeat
 * ends only a suspicion we loaded from the volume, never a running one or a
 * death. LEFT is only ever the owner's word. */
static void gossip_liveness_merge(struct gossip *g, uint32_t i, const struct proto_entry *e,
                                  int cmp, bool new_inc, bool from_owner, const char *from,
                                  uint64_t now_ms)
{
    struct gmember *r = &g->t.rows[i];
    enum gossip_state cur = r->m.state;
    if (e->state == GOSSIP_LEFT) {
        if (from_owner && cmp >= 0)
            gossip_state_set(g, i, GOSSIP_LEFT);
        return;
    }
    if (e->incarnation < r->m.incarnation)
        return; /* an older life: no say about this one */
    if (from_owner && cmp > 0) {
        gossip_state_set(g, i, GOSSIP_ALIVE);
        return;
    }
    if (cur == GOSSIP_LEFT && !new_inc)
        return;
    switch (e->state) {
    case GOSSIP_DEAD:
        if (cur != GOSSIP_DEAD)
            gossip_state_set(g, i, GOSSIP_DEAD);
        return;
    case GOSSIP_SUSPECT: {
        const char *by = e->accuser[0] ? e->accuser : from;
        if (cur == GOSSIP_ALIVE || cur == GOSSIP_LEFT || new_inc ||
            (cur == GOSSIP_SUSPECT && !r->suspect_timer) || (cur == GOSSIP_DEAD && new_inc))
            gossip_suspect_start(g, i, now_ms, by);
        else if (r->m.state == GOSSIP_SUSPECT)
            gossip_suspect_confirm(g, i, by);
        return;
    }
    default: /* ALIVE */
        if (new_inc || (cmp > 0 && cur == GOSSIP_SUSPECT && !r->suspect_timer))
            gossip_state_set(g, i, GOSSIP_ALIVE);
        return;
    }
}

/* The owner speaks from its own socket, unaware of a claim about it that
 * wins over what it says: a LEAVE of another process with its name (a stuck
 * predecessor that finally stopped), or an incarnation its last life reached
 * by refutations its volume never recorded. Rows that left get no datagrams
 * and the owner's heartbeats lose to the claim, so it would stay left (or
 * suspected, then dead) in our view while it runs. Send it our row, at most
 * once a round: it refutes by raising its incarnation past the claim. */
static void gossip_owner_tell(struct gossip *g, uint32_t i, const char *from_addr)
{
    struct gmember *r = &g->t.rows[i];
    if (!from_addr || !from_addr[0] || r->told_at == g->round + 1)
        return;
    r->told_at = g->round + 1;
    gossip_entries_send(g, PROTO_DELTA, 0, from_addr, &i, 1);
}

void gossip_entry_merge(struct gossip *g, uint64_t now_ms, const struct proto_entry *e,
                        const char *from, const char *from_addr)
{
    if (!e->name[0])
        return;
    uint32_t i = member_table_find(&g->t, e->name);
    if (i == GOSSIP_SELF) {
        gossip_self_merge(g, e, from_addr);
        return;
    }
    bool from_owner = gossip_from_owner(e, from, from_addr);
    /* The owner's own entry always carries a reachable address: if it left it
     * empty, the datagram's source is where it lives. */
    const char *addr = (from_owner && !e->addr[0] && from_addr) ? from_addr : e->addr;

    if (i == MEMBER_NONE) {
        i = gossip_member_add(g, e->name);
        if (i == MEMBER_NONE)
            return; /* past the cap, or out of memory: the entry will come again */
        struct gmember *r = &g->t.rows[i];
        member_table_addr_set(&g->t, i, addr);
        r->m.incarnation = e->incarnation;
        r->m.heartbeat = e->heartbeat;
        r->m.vol = e->vol;
        r->m.state = (e->state == GOSSIP_LEFT && from_owner) ? GOSSIP_LEFT : GOSSIP_ALIVE;
        r->m.last_seen_ms = now_ms;
        gossip_news(g, r);
        g->table_version++;
        /* A member first heard of as suspect or dead is taken as such (SWIM),
         * so the order entries arrive in does not matter. */
        if (e->state == GOSSIP_DEAD && !from_owner)
            gossip_state_set(g, i, GOSSIP_DEAD);
        else if (e->state == GOSSIP_SUSPECT && !from_owner)
            gossip_suspect_start(g, i, now_ms, e->accuser[0] ? e->accuser : from);
        gossip_slots_merge(g, i, e);
        return;
    }

    struct gmember *r = &g->t.rows[i];
    int cmp = gossip_version_cmp(e->incarnation, e->heartbeat, r->m.incarnation, r->m.heartbeat);
    if (cmp > 0 && !from_owner && e->incarnation > r->m.incarnation &&
        e->incarnation - r->m.incarnation > GOSSIP_INC_JUMP_MAX) {
        g->stats.dropped[GOSSIP_DROP_FORGED]++; /* its slots still merge below */
        gossip_slots_merge(g, i, e);
        return;
    }
    bool new_inc = e->incarnation > r->m.incarnation;
    if (cmp > 0) {
        /* Only news is gossiped again: a new life, address or volume. A
         * heartbeat that merely advanced is not (liveness comes from
         * probes), or every row would be owed sends all the time and a
         * count that rose would wait behind them. */
        if (new_inc || r->m.vol != e->vol || strcmp(r->m.addr, addr) != 0)
            gossip_news(g, r);
        /* A new life ends a suspicion or a death: it goes first. */
        if (new_inc)
            r->urgent = true;
        member_table_addr_set(&g->t, i, addr);
        r->m.incarnation = e->incarnation;
        r->m.heartbeat = e->heartbeat;
        r->m.vol = e->vol;
        r->m.last_seen_ms = now_ms;
    } else if (cmp < 0 && from_owner && e->state != GOSSIP_LEFT &&
               (e->incarnation < r->m.incarnation || r->m.state != GOSSIP_ALIVE)) {
        gossip_owner_tell(g, i, from_addr);
    }
    gossip_liveness_merge(g, i, e, cmp, new_inc, from_owner, from, now_ms);
    gossip_slots_merge(g, i, e);
}
