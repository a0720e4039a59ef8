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

void gossip_msg_init(struct gossip *g, struct proto_msg *m, uint8_t type)
{
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
}

uint32_t gossip_tx_send(struct gossip *g, const char *addr)
{
    struct proto_msg *m = &g->tx;
    for (;;) {
        int n = proto_msg_encode(m, g->buf, sizeof(g->buf));
        if (n >= 0) {
            g->io.send(g->io.ctx, addr, g->buf, (size_t)n);
            g->stats.datagrams_out++;
            g->stats.bytes_out += (uint64_t)n;
            return m->n_entries;
        }
        /* Our size estimate was short: shed the last item and try again. */
        if (n != PROTO_ERR_NOSPACE && n != PROTO_ERR_TOO_BIG)
            return 0;
        if (m->n_digest > 0)
            m->n_digest--;
        else if (m->n_entries > 1)
            m->n_entries--;
        else
            return 0;
    }
}

/* Appends row r to g->tx if it fits; *used tracks the encoded size. */
static bool gossip_tx_add(struct gossip *g, struct gmember *r, size_t *used)
{
    struct proto_msg *m = &g->tx;
    if (m->n_entries >= PROTO_MAX_ENTRIES)
        return false;
    struct proto_entry *e = &m->entries[m->n_entries];
    gossip_entry_fill(g, r, e);
    size_t sz = proto_entry_size(e);
    if (*used + sz > PROTO_MAX_DATAGRAM)
        return false;
    *used += sz;
    m->n_entries++;
    r->stamp = g->stamp;
    return true;
}

static size_t gossip_tx_start(struct gossip *g, uint8_t type, uint64_t nonce, bool with_self)
{
    gossip_msg_init(g, &g->tx, type);
    g->tx.nonce = nonce;
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

/* Where row r goes in the send order, or -1 if it is owed nothing: a
 * liveness change (suspect, dead, alive again) before any count, then
 * fewest sends first. A burst of 1000 counts must not hold back a DEAD
 * for its whole suspicion timeout. */
static int gossip_hot_key(struct gmember *r, uint32_t limit)
{
    if (r->sends >= limit) {
        r->urgent = false;
        return -1;
    }
    return (int)(r->urgent ? r->sends : limit + r->sends);
}

/* Orders the members still owed retransmissions (sent fewer than
 * gossip_retransmits() times since their last change) by gossip_hot_key
 * into scratch_b; returns how many. Counting sort: O(N) per round. */
static size_t gossip_hot_order(struct gossip *g)
{
    enum { MAXB = 256 };
    size_t count[2 * MAXB];
    memset(count, 0, sizeof(count));
    uint32_t limit = gossip_retransmits(g);
    if (limit > MAXB)
        limit = MAXB;
    size_t n = g->t.n, hot = 0;
    g->urgent_owed = false;
    for (size_t i = 1; i < n; i++) {
        int key = gossip_hot_key(&g->t.rows[i], limit);
        if (key >= 0) {
            count[key]++;
            hot++;
            g->urgent_owed |= (uint32_t)key < limit;
        }
    }
    size_t pos = 0;
    for (size_t b = 0; b < 2 * limit; b++) {
        size_t c = count[b];
        count[b] = pos;
        pos += c;
    }
    /* A random start keeps ties from always favouring the same rows. */
    size_t start = n > 1 ? gossip_rand_below(g, (uint32_t)(n - 1)) : 0;
    for (size_t k = 0; k + 1 < n; k++) {
        size_t i = 1 + (start + k) % (n - 1);
        int key = gossip_hot_key(&g->t.rows[i], limit);
        if (key >= 0)
            g->scratch_b[count[key]++] = (uint32_t)i;
    }
    return hot;
}

void gossip_heartbeats_send(struct gossip *g, const uint32_t *targets, size_t n_targets)
{
    if (n_targets == 0)
        return;
    size_t n_hot = gossip_hot_order(g);
    g->owed = n_hot > 0; /* about: some may have had their last send below */
    for (size_t t = 0; t < n_targets; t++) {
        /* Every target gets the least-sent items (memberlist's
         * GetBroadcasts per gossip target): an item owed sends reaches
         * fanout members a round, not one. */
        size_t h = 0;
        uint32_t target = targets[t];
        size_t used = gossip_tx_start(g, PROTO_HEARTBEAT, 0, true);
        /* It knows itself best, unless we suspect it or think it dead:
         * then it hears so right after our own entry, however old the
         * claim, so it can refute it (SWIM; how a healed partition comes
         * back together). */
        if (g->t.rows[target].m.state == GOSSIP_ALIVE)
            g->t.rows[target].stamp = g->stamp;
        else
            gossip_tx_add(g, &g->t.rows[target], &used);
        bool full = false;
        while (h < n_hot && !full) {
            struct gmember *r = &g->t.rows[g->scratch_b[h]];
            if (r->stamp == g->stamp) {
                h++;
                continue;
            }
            if (!gossip_tx_add(g, r, &used)) {
                full = true;
                break;
            }
            r->sends++;
            h++;
        }
        gossip_tx_send(g, g->t.rows[target].m.addr);
    }
}

void gossip_news_flush(struct gossip *g)
{
    if ((!g->news && !g->owed) || g->left || g->step_sent || g->t.n < 2)
        return;
    /* A round's gossip stays within a budget: a burst of changes is carried
     * by the round's own heartbeats, a few changes go out every step. A
     * liveness change goes out every step all the same: a DEAD that waits
     * for the rounds behind a burst of counts reaches the last node seconds
     * late. */
    if (!g->urgent_owed && g->stats.bytes_out - g->round_bytes > GOSSIP_ROUND_BUDGET)
        return;
    uint32_t targets[1];
    size_t want = 1, k = 0;
    for (size_t tries = 0; k < want && tries < 16 * want; tries++) {
        uint32_t i = 1 + gossip_rand_below(g, (uint32_t)(g->t.n - 1));
        const struct gmember *r = &g->t.rows[i];
        bool again = false;
        for (size_t j = 0; j < k; j++)
            again |= targets[j] == i;
        if (!again && r->m.state == GOSSIP_ALIVE && r->m.addr[0])
            targets[k++] = i;
    }
    if (k == 0 || gossip_scratch_reserve(g, g->t.n) != 0)
        return;
    g->news = false;
    g->step_sent = true;
    gossip_heartbeats_send(g, targets, k);
}
