/*
 * detect.c: failure detection, SWIM with Lifeguard (as hashicorp/memberlist
 * does it: state.go, suspicion.go, awareness.go). Liveness is no longer read
 * from heartbeats relayed by chance; each round a node probes one member:
 *
 *   1. a direct PING to the next member of a round-robin walk of the table;
 *   2. no ACK by the next round: the member is pinged again, and the round
 *      after that, still no ACK, it is SUSPECT in our view. The SUSPECT entry
 *      is gossiped (its send count is reset, so it goes out first);
 *   3. a suspicion times out into DEAD after a time that scales with log10 N
 *      and shrinks as independent confirmations arrive (other nodes' SUSPECT
 *      about the same member at the same incarnation): from
 *      GOSSIP_SUSPICION_MAX_MULT x the minimum with none down to the minimum
 *      with GOSSIP_SUSPICION_K of them (memberlist's suspicion.go formula);
 *      the DEAD entry is gossiped the same way;
 *   4. the owner refutes a SUSPECT or DEAD claim about itself by raising its
 *      incarnation (merge.c), which clears the suspicion everywhere.
 *
 * Lifeguard's local health: a node that had to refute a claim about itself
 * is likely the slow one (a stopped process, a starved CPU), so its awareness
 * score rises and it waits (score + 1) rounds per probe phase before it
 * accuses anyone; each ACK in time lowers the score again. So a node that
 * pauses slows its own probing instead of declaring healthy members dead.
 */
#include "gossip/gossip_int.h"

#include <math.h>
#include <string.h>

/* The shortest suspicion: SUSPICION_MULT x max(1, log10 N) rounds. */
static uint64_t gossip_suspicion_min_ms(const struct gossip *g)
{
    double scale = log10(g->t.n > 1 ? (double)g->t.n : 1.0);
    if (scale < 1.0)
        scale = 1.0;
    return (uint64_t)(GOSSIP_SUSPICION_MULT * scale * (double)g->interval_ms);
}

uint64_t gossip_suspect_ms(const struct gossip *g)
{
    return gossip_suspicion_min_ms(g);
}

uint64_t gossip_dead_ms(const struct gossip *g)
{
    return gossip_suspicion_min_ms(g) * GOSSIP_SUSPICION_MAX_MULT;
}

/* memberlist: timeout = max(min, max - (max - min) * log(c + 1) / log(k + 1)). */
static uint64_t gossip_suspicion_timeout(const struct gossip *g, uint32_t confirmations)
{
    uint64_t lo = gossip_suspicion_min_ms(g), hi = lo * GOSSIP_SUSPICION_MAX_MULT;
    /* The first accuser is not a confirmation. */
    confirmations = confirmations > 0 ? confirmations - 1 : 0;
    double frac = log((double)confirmations + 1.0) / log((double)GOSSIP_SUSPICION_K + 1.0);
    double t = (double)hi - (double)(hi - lo) * frac;
    return t < (double)lo ? lo : (uint64_t)t;
}

static void gossip_accuser_set(struct gmember *r, const char *by)
{
    size_t len = strnlen(by, PROTO_NAME_MAX);
    memcpy(r->accuser, by, len);
    r->accuser[len] = '\0';
}

void gossip_suspect_start(struct gossip *g, uint32_t i, uint64_t now_ms, const char *by)
{
    struct gmember *r = &g->t.rows[i];
    r->suspect_since_ms = now_ms;
    r->suspect_timer = true;
    r->n_confirm = 0;
    gossip_accuser_set(r, by && by[0] ? by : gossip_self_row(g)->m.name);
    r->confirm[r->n_confirm++] = member_table_hash(r->accuser);
    gossip_state_set(g, i, GOSSIP_SUSPECT);
    gossip_news(g, r);
}

bool gossip_suspect_confirm(struct gossip *g, uint32_t i, const char *by)
{
    struct gmember *r = &g->t.rows[i];
    if (!r->suspect_timer || !by || !by[0])
        return false;
    uint64_t h = member_table_hash(by);
    for (uint32_t k = 0; k < r->n_confirm; k++)
        if (r->confirm[k] == h)
            return false; /* the same accuser again is not independent */
    if (r->n_confirm > GOSSIP_SUSPICION_K)
        return false; /* the timer is at its minimum already */
    r->confirm[r->n_confirm++] = h;
    gossip_accuser_set(r, by);
    gossip_news(g, r); /* tell the others of this accuser too */
    return true;
}

/* The next member of the round-robin walk that can be probed, or MEMBER_NONE. */
static uint32_t gossip_probe_next(struct gossip *g)
{
    for (size_t k = 1; k < g->t.n; k++) {
        g->probe_cursor = g->probe_cursor + 1 < g->t.n ? g->probe_cursor + 1 : 1;
        const struct gmember *r = &g->t.rows[g->probe_cursor];
        if ((r->m.state == GOSSIP_ALIVE || r->m.state == GOSSIP_SUSPECT) && r->m.addr[0])
            return (uint32_t)g->probe_cursor;
    }
    return MEMBER_NONE;
}

static void gossip_probe_ping(struct gossip *g)
{
    const struct gmember *r = &g->t.rows[g->probe_row];
    gossip_entries_send(g, PROTO_PING, g->probe_nonce, r->m.addr, NULL, 0);
}

/* SWIM's indirect probe: k live members other than the target (from the
 * round's live list in scratch_a) each PING it for us and forward its ACK. */
static void gossip_probe_indirect(struct gossip *g, size_t n_live)
{
    const struct gmember *target = &g->t.rows[g->probe_row];
    uint32_t asked = 0;
    uint32_t picked[GOSSIP_INDIRECT_K];
    for (size_t tries = 0; asked < GOSSIP_INDIRECT_K && tries < 4 * GOSSIP_INDIRECT_K && n_live > 1;
         tries++) {
        uint32_t h = g->scratch_a[gossip_rand_below(g, (uint32_t)n_live)];
        bool again = false;
        for (uint32_t k = 0; k < asked; k++)
            again |= picked[k] == h;
        if (again || h == g->probe_row || g->t.rows[h].m.state != GOSSIP_ALIVE)
            continue;
        picked[asked++] = h;
        gossip_msg_init(g, &g->tx, PROTO_PING_REQ);
        g->tx.nonce = g->probe_nonce;
        memcpy(g->tx.target, target->m.addr, sizeof(g->tx.target));
        gossip_tx_send(g, g->t.rows[h].m.addr);
    }
}

void gossip_ping_req_handle(struct gossip *g, uint64_t now_ms, const char *from_addr)
{
    const struct proto_msg *in = &g->rx;
    if (!from_addr || !from_addr[0] || g->left || in->nonce == 0)
        return;
    /* Only a live member's address: we are no reflector for strangers. */
    if (!member_table_addr_live(&g->t, in->target) ||
        strcmp(in->target, gossip_self_row(g)->m.addr) == 0)
        return;
    struct gossip_relay *rl = &g->relays[g->relay_next];
    if (rl->until_ms > now_ms)
        return; /* every relay slot busy: the asker has other helpers */
    g->relay_next = (g->relay_next + 1) % GOSSIP_RELAYS;
    size_t len = strnlen(from_addr, PROTO_ADDR_MAX);
    rl->ours = ++g->nonce;
    rl->theirs = in->nonce;
    rl->until_ms = now_ms + (uint64_t)g->interval_ms * GOSSIP_RELAY_ROUNDS;
    memcpy(rl->addr, from_addr, len);
    rl->addr[len] = '\0';
    char target[PROTO_ADDR_MAX + 1];
    memcpy(target, in->target, sizeof(target));
    gossip_entries_send(g, PROTO_PING, rl->ours, target, NULL, 0);
}

/* One step of the probe in flight, or a new one. */
void gossip_probe_step(struct gossip *g, uint64_t now_ms, size_t n_live)
{
    if (g->probe_phase != 0 && g->probe_row >= g->t.n)
        g->probe_phase = 0;
    if (g->probe_phase != 0) {
        if (g->probe_acked) {
            if (g->awareness > 0)
                g->awareness--;
            g->probe_phase = 0;
        } else if (--g->probe_wait > 0) {
            return;
        } else if (g->probe_phase < GOSSIP_PROBE_PHASES) {
            /* The ACK is late or lost: ask again, and through k others,
             * before accusing. */
            g->probe_phase++;
            g->probe_wait = g->awareness + 1;
            gossip_probe_ping(g);
            gossip_probe_indirect(g, n_live);
            return;
        } else {
            g->probe_phase = 0;
            const char *me = gossip_self_row(g)->m.name;
            if (g->t.rows[g->probe_row].m.state == GOSSIP_ALIVE)
                gossip_suspect_start(g, g->probe_row, now_ms, me);
            else if (g->t.rows[g->probe_row].m.state == GOSSIP_SUSPECT)
                gossip_suspect_confirm(g, g->probe_row, me);
        }
    }
    if (g->left)
        return;
    uint32_t next = gossip_probe_next(g);
    if (next == MEMBER_NONE)
        return;
    g->probe_row = next;
    g->probe_nonce = ++g->nonce;
    g->probe_phase = 1;
    g->probe_wait = g->awareness + 1;
    g->probe_acked = false;
    gossip_probe_ping(g);
}

void gossip_probe_ack(struct gossip *g, uint64_t now_ms, uint64_t nonce)
{
    if (nonce == 0)
        return;
    if (g->probe_phase != 0 && nonce == g->probe_nonce) {
        g->probe_acked = true;
        return;
    }
    for (uint32_t k = 0; k < GOSSIP_RELAYS; k++) {
        struct gossip_relay *rl = &g->relays[k];
        if (rl->ours == nonce && rl->until_ms > now_ms) {
            rl->until_ms = 0; /* forwarded once */
            char to[PROTO_ADDR_MAX + 1];
            memcpy(to, rl->addr, sizeof(to));
            gossip_entries_send(g, PROTO_ACK, rl->theirs, to, NULL, 0);
            return;
        }
    }
}

void gossip_awareness_raise(struct gossip *g)
{
    if (g->awareness < GOSSIP_AWARENESS_MAX)
        g->awareness++;
}

size_t gossip_detect_run(struct gossip *g, uint64_t now_ms, size_t *n_dead, uint32_t *dead_pick)
{
    size_t n_live = 0;
    *n_dead = 0;
    *dead_pick = MEMBER_NONE;
    if (gossip_scratch_reserve(g, g->t.n + 1) != 0)
        return 0;
    for (size_t i = 1; i < g->t.n; i++) {
        struct gmember *r = &g->t.rows[i];
        if (r->m.state == GOSSIP_SUSPECT && r->suspect_timer &&
            now_ms - r->suspect_since_ms > gossip_suspicion_timeout(g, r->n_confirm)) {
            r->suspect_timer = false;
            gossip_state_set(g, (uint32_t)i, GOSSIP_DEAD);
        }
        if (!r->m.addr[0])
            continue;
        if (r->m.state == GOSSIP_ALIVE || r->m.state == GOSSIP_SUSPECT) {
            g->scratch_a[n_live++] = (uint32_t)i;
        } else if (r->m.state == GOSSIP_DEAD) {
            ++*n_dead;
            if (gossip_rand_below(g, (uint32_t)*n_dead) == 0)
                *dead_pick = (uint32_t)i;
        }
    }
    return n_live;
}
