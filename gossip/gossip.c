/*
 * gossip.c: the core's life cycle and its three inputs' entry points: a round
 * (gossip_tick), a greeting (gossip_greet) and a leave, plus the read-only
 * accessors. Receiving is in receive.c, merging in merge.c and slots.c,
 * failure detection in detect.c, datagram building in disseminate.c, the
 * whole-table repair in sync.c and the full-state exchange in pushpull.c.
 *
 * The core keeps its own clock inside a round: gossip_tick() may be called
 * at any time and does what is due (a probe's timeout, a NACK, a suspicion's
 * end, a gossip step, the round), and gossip_next_ms() says when the next
 * thing is due, so the node's timer follows it.
 */
#include "gossip/gossip_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

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
    /* memberlist's TransmitLimitedQueue: mult x ceil(log10(N + 1)). */
    uint32_t digits = 1;
    for (size_t n = g->t.n + 1; n >= 10; n /= 10)
        digits++;
    return GOSSIP_RETRANSMIT_MULT * digits;
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

void gossip_state_set(struct gossip *g, uint32_t i, enum gossip_state to)
{
    struct gmember *r = &g->t.rows[i];
    enum gossip_state from = r->m.state;
    if (from == to)
        return;
    r->m.state = to;
    gossip_news(g, r); /* a change: gossiped first, a bounded number of times */
    r->urgent = true;  /* and before any count */
    g->urgent_owed = true;
    if (to != GOSSIP_SUSPECT)
        r->suspect_timer = false;
    g->table_version++;
    if (from == GOSSIP_ALIVE && to == GOSSIP_SUSPECT)
        g->stats.suspicions++;
    if (g->io.state_changed)
        g->io.state_changed(g->io.ctx, r->m.name, from, to);
}

/* The PRNG's state is a one-way hash of the seed, the name and the volume:
 * its outputs go on the wire (nonces) and invert to the state, and the seed
 * also keys the member table's hash (member_table.c), which must stay secret
 * so that nobody can aim names at one bucket. */
static uint64_t gossip_rng_seed(const struct gossip_config *cfg)
{
    crypto_generichash_state st;
    static const char domain[] = "tally gossip rng";
    uint8_t out[sizeof(uint64_t)];
    uint64_t rng;

    crypto_generichash_init(&st, NULL, 0, sizeof(out));
    crypto_generichash_update(&st, (const uint8_t *)domain, sizeof(domain));
    crypto_generichash_update(&st, (const uint8_t *)&cfg->seed, sizeof(cfg->seed));
    crypto_generichash_update(&st, (const uint8_t *)cfg->name, strlen(cfg->name));
    crypto_generichash_update(&st, (const uint8_t *)&cfg->vol, sizeof(cfg->vol));
    crypto_generichash_final(&st, out, sizeof(out));
    memcpy(&rng, out, sizeof(rng));
    return rng;
}

struct gossip *gossip_new(const struct gossip_config *cfg, const struct gossip_io *io,
                          uint64_t now_ms)
{
    if (!cfg || !cfg->name || !cfg->name[0] || strlen(cfg->name) > PROTO_NAME_MAX || !io ||
        !io->send || cfg->vol == 0 || cfg->incarnation > PROTO_VALUE_MAX)
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
    g->max_members = gossip_default(cfg->max_members, GOSSIP_MAX_MEMBERS);
    g->recovery_ms = cfg->recovery_ms; /* 0: nobody to wait for */
    g->start_ms = now_ms;
    g->round_due_ms = now_ms; /* the first tick is a round */
    g->pb_budget = GOSSIP_PIGGYBACK_BUDGET;
    g->expire_due_ms = UINT64_MAX;
    g->half_due_ms = UINT64_MAX;
    g->queued = calloc(((size_t)g->max_members + 63) / 64, sizeof(*g->queued));
    if (!g->queued || member_table_init(&g->t, cfg->seed) != 0 ||
        member_table_add(&g->t, cfg->name) != GOSSIP_SELF || gossip_scratch_reserve(g, 16) != 0) {
        gossip_free(g);
        return NULL;
    }
    g->rng = gossip_rng_seed(cfg);
    /* Nonces start at a random point, not at 1: a SYNC answer captured in an
     * earlier life (and replayed) must not match this life's SYNC, or it
     * would make a restarted node "whole" with a stale table. */
    g->nonce = gossip_rand(g) >> 2;
    struct gmember *self = gossip_self_row(g);
    member_table_addr_set(&g->t, GOSSIP_SELF, cfg->addr ? cfg->addr : "");
    self->m.self = true;
    self->m.incarnation = cfg->incarnation ? cfg->incarnation : 1;
    self->m.heartbeat = 0;
    self->m.vol = cfg->vol;
    self->m.state = GOSSIP_ALIVE;
    self->m.last_seen_ms = now_ms;
    gossip_slot_merge(g, GOSSIP_SELF, cfg->vol, cfg->count);
    return g;
}

void gossip_free(struct gossip *g)
{
    if (!g)
        return;
    member_table_free(&g->t);
    free(g->sids);
    free(g->scratch_a);
    free(g->scratch_b);
    free(g->queued);
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

/* A round: heartbeats to fanout peers, the repair exchange, a new probe. */
static void gossip_round(struct gossip *g, uint64_t now_ms)
{
    struct gmember *self = gossip_self_row(g);
    gossip_budget_roll(g);
    g->round++;
    g->round_bytes = g->stats.bytes_out;
    g->sync_answers = 0;
    if (self->m.heartbeat < PROTO_VALUE_MAX)
        self->m.heartbeat++;
    self->m.last_seen_ms = now_ms;
    g->greets_this_round = 0;

    size_t n_dead = 0;
    uint32_t dead_pick = MEMBER_NONE, suspect_pick = MEMBER_NONE;
    size_t n_live = gossip_detect_run(g, now_ms, &n_dead, &dead_pick, &suspect_pick);

    /* Targets of this round: fanout live peers, plus now and then one dead
     * member (scratch_a holds the live ones after detection). */
    size_t k_live = gossip_pick(g, g->scratch_a, n_live, g->fanout);
    size_t k = k_live;
    if (dead_pick != MEMBER_NONE && g->round % GOSSIP_DEAD_PEER_EVERY == 0)
        g->scratch_a[k++] = dead_pick;
    /* The repair peer is chosen before sending: sending reuses scratch. */
    uint32_t pp = MEMBER_NONE;
    if (k_live > 0)
        pp = g->scratch_a[gossip_rand_below(g, (uint32_t)k_live)];
    gossip_heartbeats_send(g, g->scratch_a, k);
    g->news = false;      /* these heartbeats carry it */
    g->step_sent = false; /* news from now on goes out at once */
    /* Repair with one peer: a SYNC every round until we hold a peer's whole
     * table (readiness), then every pushpull_every rounds (whatever
     * piggybacking missed). */
    if (pp != MEMBER_NONE && (!g->synced || g->round % g->pushpull_every == 0))
        gossip_sync_send(g, g->t.rows[pp].m.addr);
    if (pp != MEMBER_NONE)
        gossip_pushpull_due(g, now_ms, pp);
    gossip_probe_step(g, now_ms, 0);
    /* Every node that holds a suspicion checking the same member each round
     * would have it answer N ACKs a round (56 KB in one round at N = 1000,
     * 30% loss); about GOSSIP_SUSPECT_CHECKERS of them a round is enough for
     * a refutation that gossip missed to arrive. Fewer cost the cold join:
     * stale suspicions then linger (N = 1000, 10% loss: every node sees
     * every member alive after 25 rounds with 32 checkers, 20-21 with 128). */
    if (n_live <= GOSSIP_SUSPECT_CHECKERS ||
        gossip_rand_below(g, (uint32_t)n_live) < GOSSIP_SUSPECT_CHECKERS)
        gossip_suspect_check(g, suspect_pick);
}

void gossip_tick(struct gossip *g, uint64_t now_ms)
{
    /* Deadlines first: a probe's verdict belongs to the round it began in. */
    gossip_probe_timers(g, now_ms);
    if (now_ms >= g->expire_due_ms)
        gossip_suspicions_expire(g, now_ms);
    uint64_t step = g->interval_ms / GOSSIP_STEPS;
    if (now_ms >= g->round_due_ms) {
        gossip_round(g, now_ms);
        g->round_due_ms = now_ms + g->interval_ms;
        g->step_due_ms = now_ms + (step ? step : 1);
        g->half_due_ms = g->awareness == 0 ? now_ms + g->interval_ms / 2 : UINT64_MAX;
        return;
    }
    if (now_ms >= g->half_due_ms) {
        g->half_due_ms = UINT64_MAX;
        gossip_probe_step(g, now_ms, 1);
    }
    if (now_ms >= g->step_due_ms) {
        /* A gossip step: what the event queue owes goes out now. */
        g->step_sent = false;
        gossip_news_flush(g);
        g->step_due_ms = now_ms + (step ? step : 1);
    }
}

uint64_t gossip_next_ms(const struct gossip *g)
{
    uint64_t due = g->round_due_ms;
    uint64_t probe = gossip_probe_due_ms(g);
    if (probe < due)
        due = probe;
    if (g->expire_due_ms < due)
        due = g->expire_due_ms;
    if (g->half_due_ms < due)
        due = g->half_due_ms;
    if ((g->news || g->owed) && g->step_due_ms < due)
        due = g->step_due_ms;
    return due;
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
    gossip_sync_send(g, addr);
}

void gossip_count_set(struct gossip *g, uint64_t count)
{
    gossip_slot_merge(g, GOSSIP_SELF, gossip_self_row(g)->m.vol, count);
    gossip_news_flush(g);
}

int gossip_slot_move(struct gossip *g, uint64_t vol)
{
    struct gmember *self = gossip_self_row(g);
    if (vol == 0 || gossip_slot_find(self, vol))
        return -EINVAL;
    if (gossip_slot_merge(g, GOSSIP_SELF, vol, 0) < 0)
        return -ENOSPC;
    self->m.vol = vol;
    /* A new volume is a new claim about us: peers must take it at once. */
    if (self->m.incarnation < PROTO_VALUE_MAX)
        self->m.incarnation++;
    self->m.heartbeat = 0;
    gossip_news(g, self);
    return 0;
}

void gossip_leave(struct gossip *g, uint64_t now_ms)
{
    struct gmember *self = gossip_self_row(g);
    g->left = true;
    self->m.state = GOSSIP_LEFT;
    /* A newer version, so the LEFT entry also wins when relayed. */
    self->m.heartbeat++;
    self->m.last_seen_ms = now_ms;
    g->table_version++;
    if (gossip_scratch_reserve(g, g->t.n) != 0)
        return;
    /* Every live member hears it from us: no one else may say we left. */
    for (size_t i = 1; i < g->t.n; i++) {
        enum gossip_state s = g->t.rows[i].m.state;
        if ((s == GOSSIP_ALIVE || s == GOSSIP_SUSPECT) && g->t.rows[i].m.addr[0])
            gossip_entries_send(g, PROTO_LEAVE, 0, g->t.rows[i].m.addr, NULL, 0);
    }
}

/* The row for name, added if absent (self included). */
static uint32_t gossip_row_get(struct gossip *g, const char *name)
{
    uint32_t i = member_table_find(&g->t, name);
    return i != MEMBER_NONE ? i : gossip_member_add(g, name);
}

int gossip_member_load(struct gossip *g, uint64_t now_ms, const char *name, const char *addr,
                       uint64_t incarnation, uint64_t heartbeat, enum gossip_state state)
{
    if (!name || !name[0] || strlen(name) > PROTO_NAME_MAX || !addr ||
        strlen(addr) > PROTO_ADDR_MAX || incarnation > PROTO_VALUE_MAX ||
        heartbeat > PROTO_VALUE_MAX || (unsigned)state > GOSSIP_LEFT)
        return -EINVAL;
    uint32_t i = gossip_row_get(g, name);
    if (i == MEMBER_NONE)
        return -ENOSPC;
    if (i == GOSSIP_SELF) {
        /* our last life: our incarnation must be past it */
        struct gmember *self = gossip_self_row(g);
        if (incarnation >= self->m.incarnation && incarnation < PROTO_VALUE_MAX)
            self->m.incarnation = incarnation + 1;
        return 0;
    }
    struct gmember *r = &g->t.rows[i];
    if (gossip_version_cmp(incarnation, heartbeat, r->m.incarnation, r->m.heartbeat) <= 0)
        return 0;
    member_table_addr_set(&g->t, i, addr);
    r->m.incarnation = incarnation;
    r->m.heartbeat = heartbeat;
    /* Not heard in this life yet: suspect until it is, unless it left. */
    r->m.state = state == GOSSIP_LEFT ? GOSSIP_LEFT : GOSSIP_SUSPECT;
    r->m.last_seen_ms = now_ms;
    return 0;
}

int gossip_slot_load(struct gossip *g, uint64_t now_ms, const char *name, uint64_t vol,
                     uint64_t count)
{
    (void)now_ms;
    if (!name || !name[0] || strlen(name) > PROTO_NAME_MAX || vol == 0 || count > PROTO_VALUE_MAX)
        return -EINVAL;
    uint32_t i = gossip_row_get(g, name);
    if (i == MEMBER_NONE)
        return -ENOSPC;
    if (i == GOSSIP_SELF && vol == gossip_self_row(g)->m.vol)
        return 0; /* our own slot comes from the count file, never a copy */
    if (g->t.rows[i].m.state == GOSSIP_ALIVE && i != GOSSIP_SELF && g->t.rows[i].m.incarnation == 0)
        g->t.rows[i].m.state = GOSSIP_SUSPECT; /* a slot-only row: not heard yet */
    return gossip_slot_merge(g, i, vol, count) < 0 ? -ENOSPC : 0;
}

uint64_t gossip_self_count(const struct gossip *g)
{
    return g->t.rows[GOSSIP_SELF].m.count;
}

uint64_t gossip_incarnation(const struct gossip *g)
{
    return g->t.rows[GOSSIP_SELF].m.incarnation;
}

bool gossip_synced(const struct gossip *g, uint64_t now_ms)
{
    return g->synced || now_ms - g->start_ms >= g->recovery_ms;
}

uint64_t gossip_table_version(const struct gossip *g)
{
    return g->table_version;
}

size_t gossip_member_count(const struct gossip *g)
{
    return g->t.n;
}

const struct gossip_member *gossip_member_at(const struct gossip *g, size_t i)
{
    return i < g->t.n ? &g->t.rows[i].m : NULL;
}

bool gossip_addr_known(const struct gossip *g, const char *addr)
{
    return addr && addr[0] && member_table_addr_find(&g->t, addr) != MEMBER_NONE;
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
        sum = gossip_sat_add(sum, g->t.rows[i].m.count);
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
    return proto_state_str((int)s);
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
    case GOSSIP_DROP_SOURCE:
        return "source";
    case GOSSIP_DROP_REPLAY:
        return "replay";
    case GOSSIP_DROP_MEMBERS:
        return "members_full";
    case GOSSIP_DROP_SLOTS:
        return "slots_full";
    case GOSSIP_DROP__COUNT:
        break;
    }
    return "unknown";
}
