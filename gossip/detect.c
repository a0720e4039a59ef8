/*
 * detect.c: failure detection, SWIM with Lifeguard (as hashicorp/memberlist
 * does it: state.go, suspicion.go, awareness.go). Twice a round a node
 * starts a probe of one member, each lasting a round:
 *
 *   1. a PING to a member someone else suspects and we have not probed since
 *      (our verdict confirms the suspicion or, as the ACK carries the
 *      member's own entry, ends it in our view), else to the next member of
 *      a walk over the table (a new random order each pass, as memberlist
 *      shuffles its list);
 *   2. no ACK within a probe timeout (a GOSSIP_PROBE_PHASES-th of a round):
 *      the PING again and a PING_REQ to GOSSIP_INDIRECT_K helpers, who PING
 *      it for us, forward its ACK, or send a NACK when their own PING went
 *      unanswered; the same through k other helpers every probe timeout
 *      (memberlist tries a TCP ping instead: UDP retries keep a probe of a
 *      live member at 30% loss from failing more than ~0.006% of the time);
 *   3. no ACK a round after the first PING: SUSPECT in our view, naming us
 *      as the accuser; the claim is gossiped before any count;
 *   4. a suspicion times out into DEAD after a time that scales with log10 N
 *      and shrinks as independent confirmations arrive (other accusers of
 *      the same member at the same incarnation): from
 *      GOSSIP_SUSPICION_MAX_MULT x the minimum with none down to the minimum
 *      with GOSSIP_SUSPICION_K of them (memberlist's suspicion.go formula);
 *      the DEAD entry is gossiped the same way;
 *   5. the owner refutes a SUSPECT or DEAD claim about itself by raising its
 *      incarnation (merge.c), which clears the suspicion everywhere; each
 *      round we also PING one member we suspect, so a refutation whose
 *      gossip missed us still reaches us before our timer runs out.
 *
 * Lifeguard's local health (awareness.go): the score rises when we had to
 * refute a claim about ourselves, and when a probe failed with fewer NACKs
 * than helpers asked (our own link or CPU is the likely culprit: the helpers
 * could not even tell us they failed), or failed with no helper to ask; each
 * probe answered in time lowers it. Every probe wait is multiplied by
 * (score + 1) and the second probe of the round is skipped, so a node that
 * pauses or is starved probes and accuses more slowly instead of declaring
 * healthy members dead.
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

/* memberlist: timeout = max(min, max - (max - min) * log(c + 1) / log(k + 1)),
 * with k = 0 (the minimum at once) when fewer than K members besides us and
 * the suspect could confirm. */
static uint64_t gossip_suspicion_timeout(const struct gossip *g, uint32_t confirmations)
{
    uint64_t lo = gossip_suspicion_min_ms(g), hi = lo * GOSSIP_SUSPICION_MAX_MULT;
    if (g->t.n < GOSSIP_SUSPICION_K + 2)
        return lo;
    /* The first accuser is not a confirmation. */
    confirmations = confirmations > 0 ? confirmations - 1 : 0;
    double frac = log((double)confirmations + 1.0) / log((double)GOSSIP_SUSPICION_K + 1.0);
    double t = (double)hi - (double)(hi - lo) * frac;
    return t < (double)lo ? lo : (uint64_t)t;
}

/* Row r's suspicion ends no earlier than g->expire_due_ms. */
static void gossip_expire_at(struct gossip *g, const struct gmember *r)
{
    uint64_t end = r->suspect_since_ms + gossip_suspicion_timeout(g, r->n_confirm) + 1;
    if (end < g->expire_due_ms)
        g->expire_due_ms = end;
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
    /* Someone else's claim: our own probe goes to it next, on about
     * GOSSIP_SUSPECT_PROBERS members of the table (every member would
     * send a live suspect N PINGs to answer at once). */
    r->probed = strcmp(r->accuser, gossip_self_row(g)->m.name) == 0 ||
                gossip_rand_below(g, (uint32_t)g->t.n) >= GOSSIP_SUSPECT_PROBERS;
    r->confirm[r->n_confirm++] = member_table_hash(r->accuser);
    gossip_state_set(g, i, GOSSIP_SUSPECT);
    gossip_news(g, r);
    gossip_expire_at(g, r);
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
    gossip_expire_at(g, r);
    gossip_news(g, r); /* tell the others of this accuser too */
    r->urgent = true;
    g->urgent_owed = true;
    return true;
}

static size_t gossip_gcd(size_t a, size_t b)
{
    while (b) {
        size_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Can row r be probed: alive or suspect, with an address. */
static bool gossip_probeable(const struct gmember *r)
{
    return (r->m.state == GOSSIP_ALIVE || r->m.state == GOSSIP_SUSPECT) && r->m.addr[0];
}

/* The next member of the walk over the table that can be probed, or
 * MEMBER_NONE. */
static uint32_t gossip_probe_next(struct gossip *g)
{
    /* A member someone else suspects and we have not probed since: our
     * verdict is a confirmation (so a dead member reaches the shortest
     * timeout within a round or two, whatever N) or, as its ACK carries
     * its own entry, the end of the suspicion in our view. */
    for (size_t i = 1; i < g->t.n; i++) {
        struct gmember *r = &g->t.rows[i];
        if (r->m.state == GOSSIP_SUSPECT && r->suspect_timer && !r->probed && r->m.addr[0]) {
            r->probed = true;
            return (uint32_t)i;
        }
    }
    /* memberlist walks a freshly shuffled list each pass: nodes that learnt
     * the table in the same order must not all probe the same member in the
     * same round and then leave it unprobed for N rounds. A pass here is a
     * random start and a random stride prime to the row count. */
    size_t rows = g->t.n - 1;
    for (size_t k = 0; k < rows; k++) {
        if (g->probe_cursor >= rows || g->probe_rows != rows) {
            g->probe_cursor = 0;
            g->probe_rows = rows;
            g->probe_start = gossip_rand_below(g, (uint32_t)rows);
            do
                g->probe_stride = 1 + gossip_rand_below(g, (uint32_t)rows);
            while (gossip_gcd(g->probe_stride, rows) != 1);
        }
        size_t i = 1 + (g->probe_start + g->probe_cursor * g->probe_stride) % rows;
        g->probe_cursor++;
        if (gossip_probeable(&g->t.rows[i]))
            return (uint32_t)i;
    }
    return MEMBER_NONE;
}

/* A probe wait (a probe timeout, or the whole probe interval) stretched by
 * Lifeguard's awareness. */
static uint64_t gossip_probe_wait_ms(const struct gossip *g, uint64_t base)
{
    return base * (g->awareness + 1);
}

/* SWIM's indirect probe: k live members other than the target, at random,
 * each PING it for us and forward its ACK (or NACK us). Returns how many
 * were asked. */
static uint32_t gossip_probe_indirect(struct gossip *g, const struct gossip_probe *p)
{
    const struct gmember *target = &g->t.rows[p->row];
    uint32_t asked = 0;
    uint32_t picked[GOSSIP_INDIRECT_K];
    if (g->t.n < 3)
        return 0;
    for (size_t tries = 0; asked < GOSSIP_INDIRECT_K && tries < 8 * GOSSIP_INDIRECT_K; tries++) {
        uint32_t h = 1 + gossip_rand_below(g, (uint32_t)(g->t.n - 1));
        bool again = false;
        for (uint32_t k = 0; k < asked; k++)
            again |= picked[k] == h;
        const struct gmember *r = &g->t.rows[h];
        if (again || h == p->row || r->m.state != GOSSIP_ALIVE || !r->m.addr[0])
            continue;
        picked[asked++] = h;
        gossip_msg_init(g, &g->tx, PROTO_PING_REQ);
        g->tx.nonce = p->nonce;
        memcpy(g->tx.target, target->m.addr, sizeof(g->tx.target));
        gossip_tx_send(g, r->m.addr);
    }
    return asked;
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
    /* memberlist's helper waits a probe timeout, which makes its NACK land
     * just after the asker's next deadline; a fifth less, so it counts. */
    rl->nack_ms = now_ms + g->interval_ms * 4 / (5 * GOSSIP_PROBE_PHASES);
    memcpy(rl->addr, from_addr, len);
    rl->addr[len] = '\0';
    gossip_ping_send(g, rl->ours, member_table_addr_find(&g->t, in->target));
}

static void gossip_awareness_add(struct gossip *g, int delta)
{
    int v = (int)g->awareness + delta;
    g->awareness = v < 0 ? 0 : v > GOSSIP_AWARENESS_MAX ? GOSSIP_AWARENESS_MAX : (uint32_t)v;
}

/* Probe p got no ACK in time: Lifeguard's health update, then SUSPECT (or
 * one more accuser, us, for a member already suspect). */
static void gossip_probe_fail(struct gossip *g, struct gossip_probe *p, uint64_t now_ms)
{
    p->phase = 0;
    if (p->helpers > 0) {
        if (p->nacks < p->helpers)
            gossip_awareness_add(g, (int)(p->helpers - p->nacks));
    } else {
        gossip_awareness_add(g, 1);
    }
    if (p->row >= g->t.n)
        return;
    const char *me = gossip_self_row(g)->m.name;
    if (g->t.rows[p->row].m.state == GOSSIP_ALIVE)
        gossip_suspect_start(g, p->row, now_ms, me);
    else if (g->t.rows[p->row].m.state == GOSSIP_SUSPECT)
        gossip_suspect_confirm(g, p->row, me);
}

void gossip_probe_timers(struct gossip *g, uint64_t now_ms)
{
    for (uint32_t k = 0; k < GOSSIP_RELAYS; k++) {
        struct gossip_relay *rl = &g->relays[k];
        if (rl->nack_ms != 0 && rl->nack_ms <= now_ms) {
            rl->nack_ms = 0;
            if (rl->until_ms > now_ms) {
                char to[PROTO_ADDR_MAX + 1];
                memcpy(to, rl->addr, sizeof(to));
                gossip_msg_init(g, &g->tx, PROTO_NACK);
                g->tx.nonce = rl->theirs;
                gossip_tx_send(g, to);
            }
        }
    }
    for (uint32_t k = 0; k < GOSSIP_PROBE_SLOTS; k++) {
        struct gossip_probe *p = &g->probes[k];
        if (p->phase == 0 || now_ms < p->due_ms)
            continue;
        if (p->phase < GOSSIP_PROBE_PHASES && !g->left && p->row < g->t.n) {
            /* The ACK is late or lost: ask again, and through k others (a
             * late caller still gives the answers one probe timeout). */
            uint64_t timeout = gossip_probe_wait_ms(g, g->interval_ms / GOSSIP_PROBE_PHASES);
            p->phase++;
            gossip_ping_send(g, p->nonce, p->row);
            p->helpers += gossip_probe_indirect(g, p);
            uint64_t end = p->start_ms + timeout * p->phase;
            p->due_ms = end > now_ms + timeout ? end : now_ms + timeout;
            continue;
        }
        gossip_probe_fail(g, p, now_ms);
    }
}

/* Row i is being probed by one of our slots. */
static bool gossip_probing(const struct gossip *g, uint32_t i)
{
    for (uint32_t k = 0; k < GOSSIP_PROBE_SLOTS; k++)
        if (g->probes[k].phase != 0 && g->probes[k].row == i)
            return true;
    return false;
}

void gossip_probe_step(struct gossip *g, uint64_t now_ms, uint32_t slot)
{
    struct gossip_probe *p = &g->probes[slot];
    if (p->phase != 0 && p->row >= g->t.n)
        p->phase = 0;
    if (p->phase != 0 || g->left)
        return;
    uint32_t next = gossip_probe_next(g);
    if (next == MEMBER_NONE || gossip_probing(g, next))
        return;
    p->row = next;
    p->nonce = ++g->nonce;
    p->phase = 1;
    p->helpers = p->nacks = 0;
    p->start_ms = now_ms;
    p->due_ms = now_ms + gossip_probe_wait_ms(g, g->interval_ms / GOSSIP_PROBE_PHASES);
    gossip_ping_send(g, p->nonce, p->row);
}

void gossip_probe_ack(struct gossip *g, uint64_t now_ms, uint64_t nonce)
{
    if (nonce == 0)
        return;
    for (uint32_t k = 0; k < GOSSIP_PROBE_SLOTS; k++) {
        struct gossip_probe *p = &g->probes[k];
        if (p->phase != 0 && nonce == p->nonce) {
            p->phase = 0;
            gossip_awareness_add(g, -1);
            return;
        }
    }
    for (uint32_t k = 0; k < GOSSIP_RELAYS; k++) {
        struct gossip_relay *rl = &g->relays[k];
        if (rl->ours == nonce && rl->until_ms > now_ms) {
            rl->until_ms = 0; /* forwarded once */
            rl->nack_ms = 0;
            char to[PROTO_ADDR_MAX + 1];
            memcpy(to, rl->addr, sizeof(to));
            gossip_ack_send(g, rl->theirs, to, GOSSIP_ACK_BARE);
            return;
        }
    }
}

void gossip_probe_nack(struct gossip *g, uint64_t nonce)
{
    if (nonce == 0)
        return;
    for (uint32_t k = 0; k < GOSSIP_PROBE_SLOTS; k++) {
        struct gossip_probe *p = &g->probes[k];
        if (p->phase >= 2 && nonce == p->nonce && p->nacks < p->helpers)
            p->nacks++;
    }
}

uint64_t gossip_probe_due_ms(const struct gossip *g)
{
    uint64_t due = UINT64_MAX;
    for (uint32_t k = 0; k < GOSSIP_PROBE_SLOTS; k++)
        if (g->probes[k].phase != 0 && g->probes[k].due_ms < due)
            due = g->probes[k].due_ms;
    for (uint32_t k = 0; k < GOSSIP_RELAYS; k++)
        if (g->relays[k].nack_ms != 0 && g->relays[k].nack_ms < due)
            due = g->relays[k].nack_ms;
    return due;
}

void gossip_suspect_check(struct gossip *g, uint32_t i)
{
    if (i == MEMBER_NONE || g->left || gossip_probing(g, i))
        return;
    /* Nonce 0: no probe of ours waits on it; the ACK's first entry (its
     * owner's own) is all we want. */
    gossip_ping_send(g, 0, i);
}

void gossip_awareness_raise(struct gossip *g)
{
    gossip_awareness_add(g, 1);
}

size_t gossip_detect_run(struct gossip *g, uint64_t now_ms, size_t *n_dead, uint32_t *dead_pick,
                         uint32_t *suspect_pick)
{
    size_t n_live = 0, n_suspect = 0;
    *n_dead = 0;
    *dead_pick = MEMBER_NONE;
    *suspect_pick = MEMBER_NONE;
    if (gossip_scratch_reserve(g, g->t.n + 1) != 0)
        return 0;
    bool old = false;
    for (size_t i = 1; i < g->t.n; i++) {
        struct gmember *r = &g->t.rows[i];
        /* The walk over every row that each round makes anyway also finds
         * live members that speak an older wire version (disseminate.c). */
        old |= r->vmax != 0 && r->vmax < PROTO_VERSION && r->m.state == GOSSIP_ALIVE;
        if (r->m.addr[0] && (r->m.state == GOSSIP_ALIVE || r->m.state == GOSSIP_SUSPECT)) {
            g->scratch_a[n_live++] = (uint32_t)i;
            if (r->m.state == GOSSIP_SUSPECT && r->suspect_timer &&
                gossip_rand_below(g, (uint32_t)++n_suspect) == 0)
                *suspect_pick = (uint32_t)i;
        } else if (r->m.addr[0] && r->m.state == GOSSIP_DEAD) {
            ++*n_dead;
            if (gossip_rand_below(g, (uint32_t)*n_dead) == 0)
                *dead_pick = (uint32_t)i;
        }
    }
    g->old_peers = old;
    return n_live;
}

void gossip_suspicions_expire(struct gossip *g, uint64_t now_ms)
{
    g->expire_due_ms = UINT64_MAX;
    for (size_t i = 1; i < g->t.n; i++) {
        struct gmember *r = &g->t.rows[i];
        if (r->m.state != GOSSIP_SUSPECT || !r->suspect_timer)
            continue;
        if (now_ms - r->suspect_since_ms > gossip_suspicion_timeout(g, r->n_confirm)) {
            r->suspect_timer = false;
            gossip_state_set(g, (uint32_t)i, GOSSIP_DEAD);
        } else {
            gossip_expire_at(g, r); /* the table may grow: checked again then */
        }
    }
}
