/*
 * pushpull.c: the full-state exchange (memberlist's push-pull). At join and
 * every gossip_pushpull_ms() the core asks the node, through io->pushpull,
 * for a short TCP connection to one live member. The asker writes its whole
 * table as DELTA messages numbered part 1..parts under a fresh request id
 * (gossip_full_write); the other end merges them (gossip_full_read) and
 * answers with its own table under the same id; the asker merges that, and
 * a whole answer makes it ready, like a whole SYNC answer. Datagrams carry
 * news and SYNC repairs what they missed; this makes a new or restarted pod
 * whole in one round trip whatever the loss, since TCP does not lose parts.
 *
 * A frame is merged by the rules of a datagram (merge.c): slots by max,
 * SWIM's order for liveness, and LEFT only from the owner: the other end's
 * own entry, when the connection comes from the ip that entry gives (a
 * connection's source port is not its gossip port, so the ip is compared).
 * Frames must come in order, each with the exchange's id and the same
 * sender, and no more of them than a table within max_members takes: any
 * other frame is counted and ends the exchange.
 */
#include "gossip/gossip_int.h"

#include <errno.h>
#include <string.h>

static uint64_t gossip_pushpull_period(struct gossip *g);

/* ---- writing ------------------------------------------------------------ */

uint32_t gossip_full_parts_max(uint32_t max_members)
{
    /* Any two entries fit a datagram (WIRE.md, "Sizes": the largest is 450
     * bytes), and the writer packs greedily, so a table of n rows takes at
     * most n / 2 + 1 parts; "p" numbers them in 16 bits. */
    uint64_t n = (uint64_t)(max_members ? max_members : GOSSIP_MAX_MEMBERS) / 2 + 1;
    return n > UINT16_MAX ? UINT16_MAX : (uint32_t)n;
}

/* Rows [from, *to) that fit one datagram, from row `from`. */
static size_t gossip_full_cut(struct gossip *g, size_t from, size_t overhead)
{
    size_t used = overhead, i = from;
    while (i < g->t.n && i - from < PROTO_MAX_ENTRIES) {
        gossip_entry_fill(g, &g->t.rows[i], &g->tx.entries[0]);
        size_t sz = proto_entry_size(&g->tx.entries[0]);
        if (used + sz > PROTO_MAX_DATAGRAM)
            break;
        used += sz;
        i++;
    }
    return i;
}

int gossip_full_write(struct gossip *g, uint64_t request_id,
                      int (*emit)(void *arg, const uint8_t *buf, size_t len), void *arg)
{
    /* Pass 1: where each part ends, so every part can say how many there
     * are. Rows are in table order, our own first. */
    gossip_part_init(g, request_id, UINT16_MAX, UINT16_MAX, 1);
    size_t overhead = proto_msg_overhead(&g->tx);
    if (gossip_scratch_reserve(g, g->t.n + 1) != 0)
        return -ENOMEM;
    size_t parts = 0, i = 0;
    g->scratch_b[0] = 0;
    while (i < g->t.n) {
        size_t end = gossip_full_cut(g, i, overhead);
        if (end == i || parts >= UINT16_MAX)
            return -E2BIG; /* cannot happen within the member cap */
        g->scratch_b[++parts] = (uint32_t)end;
        i = end;
    }
    /* Pass 2: encode and hand out part p of parts. */
    for (size_t p = 0; p < parts; p++) {
        gossip_part_init(g, request_id, (uint16_t)(p + 1), (uint16_t)parts, 1);
        for (size_t j = g->scratch_b[p]; j < g->scratch_b[p + 1]; j++)
            gossip_entry_fill(g, &g->t.rows[j], &g->tx.entries[g->tx.n_entries++]);
        int n = proto_msg_encode(&g->tx, g->buf, sizeof(g->buf));
        if (n < 0)
            return -EINVAL; /* cannot happen: cut by exact sizes */
        int rc = emit(arg, g->buf, (size_t)n);
        if (rc < 0)
            return rc;
        g->stats.pushpull_bytes_out += (uint64_t)n;
    }
    return (int)parts;
}

/* ---- reading ------------------------------------------------------------ */

void gossip_full_rx_init(struct gossip_full_rx *rx, bool asker, uint64_t request_id,
                         const char *peer)
{
    memset(rx, 0, sizeof(*rx));
    rx->asker = asker;
    rx->request_id = request_id;
    if (peer && strlen(peer) <= PROTO_ADDR_MAX)
        memcpy(rx->peer, peer, strlen(peer) + 1);
}

/* The ip part of "ip:port" or "[v6]:port": its length. */
static size_t gossip_addr_host_len(const char *addr)
{
    const char *colon = strrchr(addr, ':');
    return colon ? (size_t)(colon - addr) : strlen(addr);
}

/* The address merge.c compares with an entry's to tell its owner: the
 * entry's own gossip address when the connection comes from its ip, else
 * the connection's ip:port (which no entry gives, so nothing in the frame
 * speaks as its owner). */
static const char *gossip_full_source(const struct gossip_full_rx *rx, const struct proto_msg *m)
{
    for (uint32_t k = 0; k < m->n_entries; k++) {
        const struct proto_entry *e = &m->entries[k];
        if (strcmp(e->name, m->from) != 0 || !e->addr[0])
            continue;
        size_t h = gossip_addr_host_len(e->addr);
        if (h == gossip_addr_host_len(rx->peer) && memcmp(e->addr, rx->peer, h) == 0)
            return e->addr;
        break;
    }
    return rx->peer;
}

static int gossip_full_drop(struct gossip *g, enum gossip_pushpull_result r)
{
    g->stats.pushpull[r]++;
    return -(int)r;
}

int gossip_full_read(struct gossip *g, uint64_t now_ms, struct gossip_full_rx *rx,
                     const uint8_t *buf, size_t len)
{
    g->stats.pushpull_bytes_in += len;
    struct proto_msg *m = &g->rx;
    if (proto_msg_decode(buf, len, m, NULL) != PROTO_OK || m->type != PROTO_DELTA ||
        m->parts == 0 || !m->whole)
        return gossip_full_drop(g, GOSSIP_PP_DECODE);
    if (strcmp(m->from, gossip_self_row(g)->m.name) == 0)
        return gossip_full_drop(g, GOSSIP_PP_SELF);
    if (m->parts > gossip_full_parts_max(g->max_members))
        return gossip_full_drop(g, GOSSIP_PP_TOO_BIG);
    if (rx->next == 0) {
        if (m->part != 1 || (rx->asker && m->nonce != rx->request_id))
            return gossip_full_drop(g, GOSSIP_PP_SEQUENCE);
        rx->request_id = m->nonce;
        rx->parts = m->parts;
        rx->next = 1;
        memcpy(rx->from, m->from, sizeof(rx->from));
    } else if (m->part != rx->next || m->parts != rx->parts || m->nonce != rx->request_id ||
               strcmp(m->from, rx->from) != 0) {
        return gossip_full_drop(g, GOSSIP_PP_SEQUENCE);
    }
    const char *source = gossip_full_source(rx, m);
    for (uint32_t k = 0; k < m->n_entries && k < PROTO_MAX_ENTRIES; k++) {
        /* Learned: a member or a slot we did not know. Not liveness, nor
         * a count that rose: in a large cluster some state always differs
         * and some count is always rising, and exchanging tables every few
         * rounds for that would spread each stale suspicion to nodes that
         * never heard it, faster than its refutation. */
        const struct proto_entry *e = &m->entries[k];
        uint32_t i = member_table_find(&g->t, e->name);
        uint8_t slots = i == MEMBER_NONE ? 0 : g->t.rows[i].m.n_slots;
        /* News the row already owed before this entry (the event queue
         * keeps membership news and count news apart: disseminate.c). */
        bool owed = i != MEMBER_NONE && (g->t.rows[i].sends == 0 ||
                                         (g->t.rows[i].full && g->t.rows[i].full_sends == 0));
        enum gossip_state st = i == MEMBER_NONE ? GOSSIP_ALIVE : g->t.rows[i].m.state;
        uint64_t inc = i == MEMBER_NONE ? 0 : g->t.rows[i].m.incarnation;
        gossip_entry_merge(g, now_ms, e, m->from, source);
        uint32_t j = i != MEMBER_NONE ? i : member_table_find(&g->t, e->name);
        if (j == MEMBER_NONE || j == GOSSIP_SELF)
            continue;
        struct gmember *r = &g->t.rows[j];
        rx->learned |= i == MEMBER_NONE || r->m.n_slots != slots;
        /* Members and counts a whole table brings are not news for us to
         * gossip: the peer's table was filled by gossip, and a thousand
         * rows queued at a join held back what is news (a refutation, a
         * count that rose) for rounds. A change of liveness (a suspicion,
         * a death, a new incarnation) still is. */
        bool liveness = i != MEMBER_NONE && (r->m.state != st || r->m.incarnation != inc);
        bool fresh = r->sends == 0 || (r->full && r->full_sends == 0);
        if (!owed && fresh && !liveness) {
            r->sends = UINT32_MAX; /* past the retransmit limit, even as N grows */
            r->full = r->urgent = false;
            r->slot_news = 0;
        }
    }
    if (rx->next < rx->parts) {
        rx->next++;
        gossip_news_flush(g);
        return 0;
    }
    if (rx->asker) {
        /* The answer to the id we drew for this exchange, whole: we hold at
         * least what that peer held when it answered. */
        g->synced = true;
        g->stats.pushpull[GOSSIP_PP_OK]++;
        /* An answer that brought a member or a slot says the cluster is
         * still settling (a cold start: everyone joins at once and the first
         * peers knew little): exchange again soon, with another random
         * peer, until an answer brings nothing new (at most
         * GOSSIP_PUSHPULL_FOLLOWUPS times a life). Then memberlist's
         * period. */
        bool again = rx->learned && g->pushpull_followups < GOSSIP_PUSHPULL_FOLLOWUPS;
        g->pushpull_followups += again;
        g->pushpull_next_ms =
            now_ms + (again ? (uint64_t)g->interval_ms * GOSSIP_PUSHPULL_RETRY_ROUNDS
                            : gossip_pushpull_period(g));
    } else {
        g->stats.pushpull[GOSSIP_PP_SERVED]++;
    }
    gossip_news_flush(g);
    return 1;
}

/* ---- when ------------------------------------------------------------- */

uint64_t gossip_pushpull_ms(const struct gossip *g)
{
    /* memberlist's pushPullScale: x ceil(log2 N - log2 32) + 1 above 32 */
    uint64_t scale = 1;
    if (g->t.n > 32)
        scale = gossip_log2_ceil((g->t.n + 31) / 32) + 1;
    return GOSSIP_PUSHPULL_BASE_MS * scale;
}

/* The period with +-25% jitter: pods started together (a rollout, a cold
 * start) must not all connect in the same second forever after. */
static uint64_t gossip_pushpull_period(struct gossip *g)
{
    uint64_t p = gossip_pushpull_ms(g);
    return p - p / 4 + gossip_rand(g) % (p / 2 + 1);
}

void gossip_pushpull_count(struct gossip *g, enum gossip_pushpull_result r)
{
    if ((unsigned)r < GOSSIP_PP__COUNT)
        g->stats.pushpull[r]++;
}

const char *gossip_pushpull_str(enum gossip_pushpull_result r)
{
    static const char *const names[GOSSIP_PP__COUNT] = {
        [GOSSIP_PP_OK] = "ok",           [GOSSIP_PP_SERVED] = "served",
        [GOSSIP_PP_DECODE] = "decode",   [GOSSIP_PP_SEQUENCE] = "sequence",
        [GOSSIP_PP_SELF] = "self",       [GOSSIP_PP_TOO_BIG] = "too_big",
        [GOSSIP_PP_AUTH] = "auth",       [GOSSIP_PP_SOURCE] = "source",
        [GOSSIP_PP_TIMEOUT] = "timeout", [GOSSIP_PP_BUSY] = "busy",
        [GOSSIP_PP_FAILED] = "failed",
    };
    return (unsigned)r < GOSSIP_PP__COUNT ? names[r] : "unknown";
}

void gossip_pushpull_due(struct gossip *g, uint64_t now_ms, uint32_t pp)
{
    if (!g->io.pushpull || g->left || now_ms < g->pushpull_next_ms || !g->t.rows[pp].m.addr[0])
        return;
    /* Not whole yet: ask again soon (the first peer may have known little);
     * then every 30 s x scale, as memberlist. */
    g->pushpull_next_ms =
        now_ms + (g->synced ? gossip_pushpull_period(g)
                            : (uint64_t)g->interval_ms * GOSSIP_PUSHPULL_RETRY_ROUNDS);
    g->io.pushpull(g->io.ctx, g->t.rows[pp].m.addr);
}
