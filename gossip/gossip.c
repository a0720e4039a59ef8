/*
 * gossip.c: the core's life cycle and its three inputs' entry points: a round
 * (gossip_tick), a greeting (gossip_greet) and a leave, plus the read-only
 * accessors. Receiving is in receive.c, merging in merge.c, failure detection
 * in detect.c, datagram building in disseminate.c and repair in pushpull.c.
 */
#include "gossip/gossip_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint32_t gossip_default(uint32_t v, uint32_t dflt)
{
    return v ? v : dflt;
}

uint32_t gossip_log2_ceil(size_t n)
{
    uint32_t l = 0;
    while (((size_t)1 << l) < n && l < 63)
        l++;
    return l ? l : 1;
}

uint32_t gossip_retransmits(const struct gossip *g)
{
    return GOSSIP_LAMBDA * gossip_log2_ceil(g->t.n);
}

uint64_t gossip_suspect_ms(const struct gossip *g)
{
    return (uint64_t)g->interval_ms *
           (GOSSIP_SUSPECT_BASE + GOSSIP_SUSPECT_LOG * gossip_log2_ceil(g->t.n));
}

uint64_t gossip_dead_ms(const struct gossip *g)
{
    return gossip_suspect_ms(g);
}

int gossip_scratch_reserve(struct gossip *g, size_t n)
{
    if (n <= g->scratch_cap)
        return 0;
    size_t cap = g->scratch_cap ? g->scratch_cap : 16;
    while (cap < n)
        cap *= 2;
    uint32_t *a = realloc(g->scratch_a, cap * sizeof(*a));
    if (!a)
        return -ENOMEM;
    g->scratch_a = a;
    uint32_t *b = realloc(g->scratch_b, cap * sizeof(*b));
    if (!b)
        return -ENOMEM;
    g->scratch_b = b;
    g->scratch_cap = cap;
    return 0;
}

struct gossip *gossip_new(const struct gossip_config *cfg, const struct gossip_io *io,
                          uint64_t now_ms)
{
    if (!cfg || !cfg->name || !cfg->name[0] || strlen(cfg->name) > PROTO_NAME_MAX || !io ||
        !io->send)
        return NULL;
    if (cfg->addr && strlen(cfg->addr) > PROTO_ADDR_MAX)
        return NULL;
    struct gossip *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    g->io = *io;
    g->interval_ms = gossip_default(cfg->interval_ms, 1000);
    g->fanout = gossip_default(cfg->fanout, 3);
    g->pushpull_every = gossip_default(cfg->pushpull_every, 5);
    g->recovery_ms = cfg->recovery_ms; /* 0: nobody to wait for */
    g->start_ms = now_ms;
    g->rng = cfg->seed ^ member_table_hash(cfg->name);
    if (member_table_init(&g->t) != 0 || member_table_add(&g->t, cfg->name) != GOSSIP_SELF ||
        gossip_scratch_reserve(g, 16) != 0) {
        gossip_free(g);
        return NULL;
    }
    struct gmember *self = gossip_self_row(g);
    member_table_addr_set(&g->t, GOSSIP_SELF, cfg->addr ? cfg->addr : "");
    self->m.self = true;
    self->m.generation = cfg->generation;
    self->m.heartbeat = 0;
    self->m.count = cfg->count;
    self->m.state = GOSSIP_ALIVE;
    self->m.last_seen_ms = now_ms;
    return g;
}

void gossip_free(struct gossip *g)
{
    if (!g)
        return;
    member_table_free(&g->t);
    free(g->scratch_a);
    free(g->scratch_b);
    free(g);
}

/* Picks up to k distinct random elements of a[0..n) into a[0..k) (partial
 * Fisher-Yates). Returns how many. */
static size_t gossip_pick(struct gossip *g, uint32_t *a, size_t n, size_t k)
{
    if (k > n)
        k = n;
    for (size_t i = 0; i < k; i++) {
        size_t j = i + gossip_rand_below(g, (uint32_t)(n - i));
        uint32_t tmp = a[i];
        a[i] = a[j];
        a[j] = tmp;
    }
    return k;
}

void gossip_tick(struct gossip *g, uint64_t now_ms)
{
    struct gmember *self = gossip_self_row(g);
    g->round++;
    self->m.heartbeat++;
    self->m.last_seen_ms = now_ms;
    g->greets_this_round = 0;

    size_t n_dead = 0;
    uint32_t dead_pick = MEMBER_NONE;
    size_t n_live = gossip_detect_run(g, now_ms, &n_dead, &dead_pick);

    /* Targets of this round: fanout live peers, plus now and then one dead
     * member (scratch_a holds the live ones after detection). */
    size_t k_live = gossip_pick(g, g->scratch_a, n_live, g->fanout);
    size_t k = k_live;
    if (dead_pick != MEMBER_NONE && g->round % GOSSIP_DEAD_PEER_EVERY == 0)
        g->scratch_a[k++] = dead_pick;
    /* The push-pull peer is chosen before sending: sending reuses scratch. */
    uint32_t pp = MEMBER_NONE;
    if (k_live > 0)
        pp = g->scratch_a[gossip_rand_below(g, (uint32_t)k_live)];
    gossip_heartbeats_send(g, g->scratch_a, k);
    /* Push-pull with one peer: every pushpull_every rounds over the next
     * slice of the table (repairs anything missed); in the other rounds,
     * once the table outgrows what heartbeats refresh, over the members we
     * heard of least recently (keeps heartbeats fresh everywhere, so the
     * failure detector does not need timeouts that grow with N). */
    if (pp != MEMBER_NONE) {
        if (g->round % g->pushpull_every == 0)
            gossip_digest_send(g, g->t.rows[pp].m.addr, false);
        else if (g->t.n > GOSSIP_STALE_PULL_MIN)
            gossip_digest_send(g, g->t.rows[pp].m.addr, true);
    }
}

static struct gossip_greeted *gossip_greeted_slot(struct gossip *g, uint64_t h)
{
    return &g->greeted[h % GOSSIP_GREET_SLOTS];
}

void gossip_greet(struct gossip *g, uint64_t now_ms, const char *addr)
{
    if (!addr || !addr[0] || strlen(addr) > PROTO_ADDR_MAX || g->left)
        return;
    if (member_table_addr_live(&g->t, addr))
        return;
    uint64_t h = member_table_hash(addr);
    struct gossip_greeted *slot = gossip_greeted_slot(g, h);
    if (slot->hash == h && slot->until_ms > now_ms)
        return;
    /* Over budget: not remembered, so the next resolution tries again. */
    if (g->greets_this_round >= GOSSIP_GREETS_PER_ROUND)
        return;
    g->greets_this_round++;
    slot->hash = h;
    slot->until_ms = now_ms + (uint64_t)g->interval_ms * GOSSIP_GREET_QUIET;
    gossip_entries_send(g, PROTO_HEARTBEAT, 0, addr, NULL, 0);
    gossip_digest_send(g, addr, false);
}

void gossip_count_set(struct gossip *g, uint64_t count)
{
    struct gmember *self = gossip_self_row(g);
    if (count > self->m.count)
        self->m.count = count;
}

void gossip_leave(struct gossip *g, uint64_t now_ms)
{
    struct gmember *self = gossip_self_row(g);
    g->left = true;
    self->m.state = GOSSIP_LEFT;
    /* A newer version, so the LEFT entry also wins when relayed. */
    self->m.heartbeat++;
    self->m.last_seen_ms = now_ms;
    if (gossip_scratch_reserve(g, g->t.n) != 0)
        return;
    size_t n = 0;
    for (size_t i = 1; i < g->t.n; i++) {
        enum gossip_state s = g->t.rows[i].m.state;
        if ((s == GOSSIP_ALIVE || s == GOSSIP_SUSPECT) && g->t.rows[i].m.addr[0])
            g->scratch_a[n++] = (uint32_t)i;
    }
    if (n > GOSSIP_LEAVE_ALL_MAX)
        n = gossip_pick(g, g->scratch_a, n, (size_t)g->fanout * 4);
    for (size_t i = 0; i < n; i++)
        gossip_entries_send(g, PROTO_LEAVE, 0, g->t.rows[g->scratch_a[i]].m.addr, NULL, 0);
}

uint64_t gossip_self_count(const struct gossip *g)
{
    return g->t.rows[GOSSIP_SELF].m.count;
}

bool gossip_recovered(const struct gossip *g, uint64_t now_ms)
{
    return g->heard_peer || now_ms - g->start_ms >= g->recovery_ms;
}

size_t gossip_member_count(const struct gossip *g)
{
    return g->t.n;
}

const struct gossip_member *gossip_member_at(const struct gossip *g, size_t i)
{
    return i < g->t.n ? &g->t.rows[i].m : NULL;
}

const struct gossip_member *gossip_member_find(const struct gossip *g, const char *name)
{
    uint32_t i = member_table_find(&g->t, name);
    return i == MEMBER_NONE ? NULL : &g->t.rows[i].m;
}

uint64_t gossip_total(const struct gossip *g)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < g->t.n; i++)
        sum += g->t.rows[i].m.count;
    return sum;
}

const struct gossip_stats *gossip_stats_get(const struct gossip *g)
{
    return &g->stats;
}

void gossip_drop_count(struct gossip *g, enum gossip_drop why)
{
    if ((unsigned)why < GOSSIP_DROP__COUNT)
        g->stats.dropped[why]++;
}

const char *gossip_state_str(enum gossip_state s)
{
    switch (s) {
    case GOSSIP_ALIVE:
        return "alive";
    case GOSSIP_SUSPECT:
        return "suspect";
    case GOSSIP_DEAD:
        return "dead";
    case GOSSIP_LEFT:
        return "left";
    }
    return "unknown";
}

const char *gossip_drop_str(enum gossip_drop why)
{
    switch (why) {
    case GOSSIP_DROP_DECODE:
        return "decode";
    case GOSSIP_DROP_VERSION:
        return "version";
    case GOSSIP_DROP_SELF:
        return "self";
    case GOSSIP_DROP_FORGED:
        return "forged";
    case GOSSIP_DROP_AUTH:
        return "auth";
    case GOSSIP_DROP__COUNT:
        break;
    }
    return "unknown";
}
