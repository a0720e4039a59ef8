/*
 * disseminate.c: building and sending datagrams. A heartbeat carries our own
 * entry first (and the target's own entry when we suspect it or think it
 * dead, so it can refute), then the event queue: entries that changed in
 * our view (a new member, a state, incarnation, address, volume or slot;
 * not a heartbeat that merely rose) and were sent fewer than
 * GOSSIP_RETRANSMIT_MULT x ceil(log10(N + 1)) times since, fewest sends
 * first, as memberlist's TransmitLimitedQueue. Nothing else: an empty queue
 * makes a heartbeat of one entry, and what piggybacking missed is repaired
 * by SYNC. One datagram per target, so the bytes a node sends per round are
 * bounded by (fanout + small constants) * PROTO_MAX_DATAGRAM whatever N is.
 */
#include "gossip/gossip_int.h"

#include <string.h>

uint8_t gossip_peer_version(const struct gossip *g, const char *addr)
{
    uint32_t i = addr && addr[0] ? member_table_addr_find(&g->t, addr) : MEMBER_NONE;
    uint8_t hi = i != MEMBER_NONE ? g->t.rows[i].vmax : 0;
    if (hi == 0 && addr && g->rx_addr[0] && strcmp(addr, g->rx_addr) == 0)
        hi = g->rx_vmax; /* answering a sender we have no row for */
    /* Not heard from yet: our newest, unless some live member speaks only an
     * older one (a rollout under way); a peer that drops it as VERSION is
     * written its own as soon as it speaks to us. */
    if (hi == 0)
        return g->old_peers ? PROTO_VERSION_MIN : PROTO_VERSION;
    if (hi < PROTO_VERSION_MIN)
        return PROTO_VERSION_MIN;
    return hi < PROTO_VERSION ? hi : PROTO_VERSION;
}

void gossip_msg_init(struct gossip *g, struct proto_msg *m, uint8_t type)
{
    m->version = 0;
    m->type = type;
    memcpy(m->from, gossip_self_row(g)->m.name, sizeof(m->from));
    m->nonce = 0;
    m->reply = 0;
    m->target[0] = '\0';
    m->part = m->parts = 0;
    m->whole = 0;
    m->n_buckets = 0;
    m->n_entries = 0;
    m->n_digest = 0;
    m->n_counts = 0;
}

void gossip_part_init(struct gossip *g, uint64_t nonce, uint16_t part, uint16_t parts,
                      uint8_t whole)
{
    gossip_msg_init(g, &g->tx, PROTO_DELTA);
    g->tx.nonce = nonce;
    g->tx.part = part;
    g->tx.parts = parts;
    g->tx.whole = whole;
}

uint32_t gossip_tx_send(struct gossip *g, const char *addr)
{
    struct proto_msg *m = &g->tx;
    m->version = gossip_peer_version(g, addr);
    if (m->version < 3)
        m->n_counts = 0; /* the packer never does this: version 2 has no "c" */
    for (;;) {
        int n = proto_msg_encode(m, g->buf, sizeof(g->buf));
        if (n >= 0) {
            g->io.send(g->io.ctx, addr, g->buf, (size_t)n);
            g->stats.datagrams_out++;
            g->stats.bytes_out += (uint64_t)n;
            if (m->type == PROTO_SYNC || m->type == PROTO_DELTA)
                g->repair_bytes += (uint64_t)n;
            return m->n_entries;
        }
        /* Our size estimate was short: shed the last item and try again. */
        if (n != PROTO_ERR_NOSPACE && n != PROTO_ERR_TOO_BIG)
            return 0;
        if (m->n_digest > 0)
            m->n_digest--;
        else if (m->n_counts > 0)
            m->n_counts--;
        else if (m->n_entries > 1)
            m->n_entries--;
        else
            return 0;
    }
}

/* Appends row r to g->tx if it fits in g->tx_cap bytes; *used tracks the
 * encoded size. */
static bool gossip_tx_add(struct gossip *g, struct gmember *r, size_t *used)
{
    struct proto_msg *m = &g->tx;
    if (m->n_entries >= PROTO_MAX_ENTRIES)
        return false;
    struct proto_entry *e = &m->entries[m->n_entries];
    gossip_entry_fill(g, r, e);
    size_t sz = proto_entry_size(e);
    if (*used + sz > g->tx_cap)
        return false;
    *used += sz;
    m->n_entries++;
    r->stamp = g->stamp;
    return true;
}

int gossip_row_counts(const struct gossip *g, const struct gmember *r, uint16_t mask,
                      struct proto_count *out, size_t *bytes)
{
    int n = 0;
    *bytes = 0;
    for (unsigned k = 0; k < r->m.n_slots; k++) {
        if (!(mask >> k & 1))
            continue;
        struct proto_count *c = &out[n++];
        c->sid = proto_slot_id(r->m.name, r->m.slots[k].vol);
        c->count = r->m.slots[k].count;
        uint32_t row;
        uint64_t vol;
        bool ambiguous;
        if (!gossip_sid_find(g, c->sid, &row, &vol, &ambiguous) && ambiguous)
            return -1;
        *bytes += proto_count_size(c);
    }
    return n;
}

int gossip_tx_add_counts(struct gossip *g, struct gmember *r, uint16_t mask, size_t *used)
{
    struct proto_msg *m = &g->tx;
    struct proto_count c[PROTO_MAX_SLOTS];
    size_t sz;
    int n = gossip_row_counts(g, r, mask, c, &sz);
    if (n < 0)
        return -1;
    if (m->n_counts + (uint32_t)n > PROTO_MAX_COUNTS || *used + sz > g->tx_cap)
        return 0;
    memcpy(&m->counts[m->n_counts], c, (size_t)n * sizeof(c[0]));
    m->n_counts += (uint32_t)n;
    *used += sz;
    r->stamp = g->stamp;
    return 1;
}

static size_t gossip_tx_start(struct gossip *g, uint8_t type, uint64_t nonce, bool with_self)
{
    gossip_msg_init(g, &g->tx, type);
    g->tx.nonce = nonce;
    g->tx_cap = PROTO_MAX_DATAGRAM;
    g->stamp++;
    size_t used = proto_msg_overhead(&g->tx);
    if (with_self)
        gossip_tx_add(g, gossip_self_row(g), &used);
    return used;
}

void gossip_entries_send(struct gossip *g, uint8_t type, uint64_t nonce, const char *addr,
                         const uint32_t *rows, size_t n)
{
    bool with_self = type != PROTO_DELTA;
    size_t i = 0;
    for (;;) {
        size_t used = gossip_tx_start(g, type, nonce, with_self);
        uint32_t first = g->tx.n_entries;
        size_t begin = i;
        while (i < n && gossip_tx_add(g, &g->t.rows[rows[i]], &used))
            i++;
        if (g->tx.n_entries == 0)
            return;
        uint32_t sent = gossip_tx_send(g, addr);
        /* Entries shed by gossip_tx_send go into the next datagram; if not
         * even one fitted, give up rather than spin. */
        if (sent <= first)
            return;
        i = begin + (sent - first);
        if (i >= n)
            return;
    }
}

void gossip_ping_send(struct gossip *g, uint64_t nonce, uint32_t row)
{
    if (row >= g->t.n)
        return;
    struct gmember *r = &g->t.rows[row];
    size_t used = gossip_tx_start(g, PROTO_PING, nonce, false);
    if (r->m.state != GOSSIP_ALIVE)
        gossip_tx_add(g, r, &used);
    gossip_tx_send(g, r->m.addr);
}

void gossip_ack_send(struct gossip *g, uint64_t nonce, const char *addr, enum gossip_ack kind)
{
    if (g->acks_round != g->round) {
        g->acks_round = g->round;
        g->acks_whole = 0;
    }
    /* The cap is for members' claims; a stranger (tallyctl) reads who
     * answered from the entry, and asks rarely. */
    if (kind == GOSSIP_ACK_CLAIM && g->acks_whole >= GOSSIP_ACK_WHOLE_MAX) {
        if (nonce == 0)
            return; /* a suspect check: no probe waits on it */
        kind = GOSSIP_ACK_BARE;
    }
    /* An ACK without our entry is version 4's: older peers require it. */
    if (kind != GOSSIP_ACK_BARE || gossip_peer_version(g, addr) < 4) {
        g->acks_whole += kind == GOSSIP_ACK_CLAIM;
        gossip_entries_send(g, PROTO_ACK, nonce, addr, NULL, 0);
        return;
    }
    gossip_tx_start(g, PROTO_ACK, nonce, false);
    gossip_tx_send(g, addr);
}

/* A row owes sends while its membership news or its count news has been
 * sent fewer than limit times. */
static bool gossip_hot(const struct gmember *r, uint32_t limit)
{
    return (r->full && r->full_sends < limit) || (r->slot_news && r->sends < limit);
}

/* A queued row's place, fewest sends first within each class: liveness
 * news (a suspicion, a death, a refutation's new incarnation), then counts
 * that rose, then other membership news (joins, addresses, volumes).
 * Liveness claims are few and small, and a refutation that waited behind
 * anything would let a live member be declared dead. Counts go before
 * joins because after a cold start every node owes thousands of
 * whole-entry sends of joins that SYNC has made old news, and a count
 * held behind them (or sent a few times and then held) would reach the
 * last nodes only by the next repair. */
static uint32_t gossip_hot_rank(const struct gmember *r, uint32_t limit)
{
    bool full = r->full && r->full_sends < limit;
    if (full && r->urgent)
        return r->full_sends; /* a refutation: what keeps a live member alive */
    if (full && r->m.state != GOSSIP_ALIVE)
        return limit + r->full_sends;
    if (r->slot_news && r->sends < limit)
        return 2 * limit + r->sends;
    return 3 * limit + r->full_sends;
}

/* Rows lo..hi-1 with news queued, in row order, into scratch_b at their
 * rank's next position. */
static void gossip_hot_place(struct gossip *g, size_t lo, size_t hi, uint32_t limit, size_t *pos)
{
    for (size_t w = lo / 64; w * 64 < hi; w++) {
        uint64_t bits = g->queued[w];
        if (w == lo / 64)
            bits &= ~0ull << (lo % 64);
        for (; bits; bits &= bits - 1) {
            size_t i = w * 64 + (size_t)__builtin_ctzll(bits);
            if (i >= hi)
                return;
            const struct gmember *r = &g->t.rows[i];
            if (gossip_hot(r, limit))
                g->scratch_b[pos[gossip_hot_rank(r, limit)]++] = (uint32_t)i;
        }
    }
}

/* Orders the members still owed sends by rank into scratch_b; returns how
 * many. Counting sort over the rows marked queued (gossip_news): O(N / 64
 * + news) a call, not O(N), as it runs on every heartbeat and step. */
static size_t gossip_hot_order(struct gossip *g)
{
    enum { MAXB = 256 };
    size_t count[4 * MAXB];
    memset(count, 0, sizeof(count));
    uint32_t limit = gossip_retransmits(g);
    if (limit > MAXB)
        limit = MAXB;
    size_t n = g->t.n, hot = 0;
    g->urgent_owed = false;
    for (size_t w = 0; w * 64 < n; w++) {
        for (uint64_t bits = g->queued[w]; bits; bits &= bits - 1) {
            unsigned b = (unsigned)__builtin_ctzll(bits);
            size_t i = w * 64 + b;
            const struct gmember *r = &g->t.rows[i];
            if (i == GOSSIP_SELF || (!r->full && !r->slot_news)) {
                g->queued[w] &= ~(1ull << b); /* nothing owed: off the queue */
                continue;
            }
            if (gossip_hot(r, limit)) {
                uint32_t rank = gossip_hot_rank(r, limit);
                count[rank]++;
                hot++;
                g->urgent_owed |= rank < 2 * limit; /* liveness news */
            }
        }
    }
    size_t pos = 0;
    for (size_t b = 0; b < 4 * limit; b++) {
        size_t c = count[b];
        count[b] = pos;
        pos += c;
    }
    /* A random start keeps ties from always favouring the same rows. */
    size_t start = n > 1 ? gossip_rand_below(g, (uint32_t)(n - 1)) : 0;
    gossip_hot_place(g, 1 + start, n, limit, count);
    gossip_hot_place(g, 1, 1 + start, limit, count);
    return hot;
}

void gossip_budget_roll(struct gossip *g)
{
    uint64_t sent = g->stats.bytes_out - g->round_bytes;
    uint64_t piggyback = g->hb_round == g->round ? g->hb_bytes : 0;
    uint64_t base = sent > piggyback + g->repair_bytes ? sent - piggyback - g->repair_bytes : 0;
    g->repair_bytes = 0;
    if (base > GOSSIP_ROUND_TARGET)
        base = GOSSIP_ROUND_TARGET; /* one wild round (answering N checks) does not starve ten */
    g->base_avg = (uint32_t)((3 * (uint64_t)g->base_avg + base) / 4);
    uint32_t room = GOSSIP_ROUND_TARGET -
                    (g->base_avg < GOSSIP_ROUND_TARGET ? g->base_avg : GOSSIP_ROUND_TARGET);
    g->pb_budget = room < GOSSIP_PIGGYBACK_MIN      ? GOSSIP_PIGGYBACK_MIN
                   : room > GOSSIP_PIGGYBACK_BUDGET ? GOSSIP_PIGGYBACK_BUDGET
                                                    : room;
}

/* Piggyback bytes left in this round's budget. */
static size_t gossip_piggyback_left(struct gossip *g)
{
    if (g->hb_round != g->round) {
        g->hb_round = g->round;
        g->hb_bytes = 0;
    }
    return g->hb_bytes < g->pb_budget ? g->pb_budget - g->hb_bytes : 0;
}

void gossip_heartbeats_send(struct gossip *g, const uint32_t *targets, size_t n_targets)
{
    if (n_targets == 0)
        return;
    size_t n_hot = gossip_hot_order(g);
    uint32_t limit = gossip_retransmits(g);
    g->owed = n_hot > 0; /* about: some may have had their last send below */
    for (size_t t = 0; t < n_targets; t++) {
        /* Every target gets the least-sent items (memberlist's
         * GetBroadcasts per gossip target): news reaches fanout members a
         * round, not one. */
        size_t h = 0;
        uint32_t target = targets[t];
        size_t used = gossip_tx_start(g, PROTO_HEARTBEAT, 0, true);
        g->tx.version = gossip_peer_version(g, g->t.rows[target].m.addr);
        /* It knows itself best, unless we suspect it or think it dead:
         * then it hears so right after our own entry, however old the
         * claim, so it can refute it (SWIM; how a healed partition comes
         * back together). */
        if (g->t.rows[target].m.state == GOSSIP_ALIVE)
            g->t.rows[target].stamp = g->stamp;
        else
            gossip_tx_add(g, &g->t.rows[target], &used);
        /* The event queue gets an equal share of what is left of the
         * round's piggyback budget, so a long queue (a burst of visits
         * everywhere, a cold start) costs a bounded number of bytes a
         * round; the rest waits, least-sent first. */
        size_t left = gossip_piggyback_left(g);
        /* The round's own heartbeats leave room for early ones when news
         * came between the last two rounds (it will again). */
        if (!g->flushing && g->news_between)
            left = left > GOSSIP_FLUSH_RESERVE ? left - GOSSIP_FLUSH_RESERVE : 0;
        size_t share = left / (n_targets - t);
        /* Liveness news comes first and is not held to the budget: it is
         * small unless probes fail everywhere (heavy loss), and then a
         * refutation that waited would let a live member be declared
         * dead. The budget applies from the first other item on. */
        g->tx_cap = PROTO_MAX_DATAGRAM;
        size_t base = used;
        bool budgeted = false;
        /* Membership news goes as whole entries; a count that rose, as a
         * compact update (slot id, count), to peers that read version 3. */
        bool compact = g->tx.version >= 3;
        while (h < n_hot) {
            struct gmember *r = &g->t.rows[g->scratch_b[h]];
            if (r->stamp == g->stamp) {
                h++;
                continue;
            }
            if (!budgeted && gossip_hot_rank(r, limit) >= 2 * limit) {
                budgeted = true;
                base = used;
                g->tx_cap = base + share < PROTO_MAX_DATAGRAM ? base + share : PROTO_MAX_DATAGRAM;
            }
            bool owes_full = r->full && r->full_sends < limit;
            bool owes_count = r->slot_news && r->sends < limit;
            /* The kind owed fewer sends goes; a whole entry carries the
             * counts too. */
            bool whole = owes_full && (!owes_count || r->full_sends <= r->sends || !compact);
            if (!whole && !compact)
                whole = true; /* a version-2 peer: counts only in entries */
            int added = whole ? 0 : gossip_tx_add_counts(g, r, r->slot_news, &used);
            if (added < 0)
                whole = true;
            if (whole)
                added = gossip_tx_add(g, r, &used);
            if (!added)
                break;
            if (whole && owes_full && ++r->full_sends >= limit)
                r->full = r->urgent = false;
            if (owes_count && ++r->sends >= limit)
                r->slot_news = 0;
            h++;
        }
        if (budgeted)
            g->hb_bytes += (uint32_t)(used - base);
        gossip_tx_send(g, g->t.rows[target].m.addr);
    }
    if (!g->flushing)
        g->news_between = false;
}

void gossip_news_flush(struct gossip *g)
{
    if ((!g->news && !g->owed) || g->left || g->t.n < 2)
        return;
    if (g->news)
        g->news_between = true;
    if (g->step_sent)
        return;
    /* A round's gossip stays within its budgets: a burst of changes is
     * carried by the round's own heartbeats, a few go out every step. A
     * liveness change goes out every step all the same: a DEAD or a
     * refutation that waits for the rounds behind a burst of counts reaches
     * the last node seconds late. */
    if (!g->urgent_owed && (g->stats.bytes_out - g->round_bytes > GOSSIP_ROUND_BUDGET ||
                            gossip_piggyback_left(g) < GOSSIP_FLUSH_MIN))
        return;
    uint32_t targets[1];
    size_t k = 0;
    for (size_t tries = 0; k < 1 && tries < 16; tries++) {
        uint32_t i = 1 + gossip_rand_below(g, (uint32_t)(g->t.n - 1));
        const struct gmember *r = &g->t.rows[i];
        if (r->m.state == GOSSIP_ALIVE && r->m.addr[0])
            targets[k++] = i;
    }
    if (k == 0 || gossip_scratch_reserve(g, g->t.n) != 0)
        return;
    g->news = false;
    g->step_sent = true;
    g->flushing = true;
    gossip_heartbeats_send(g, targets, k);
    g->flushing = false;
}
