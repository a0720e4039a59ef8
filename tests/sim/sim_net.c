/*
 * sim_net.c: the fake clock, network and cluster behind sim_net.h. Events
 * (ticks and deliveries) sit in a binary heap ordered by (time, sequence), so
 * equal times resolve in a fixed order and a seed replays bit for bit.
 * Addresses are "10.E.H.L:7946" where H.L is the node index and E its address
 * epoch (bumped when a restart gives it a new IP): a datagram to a stale
 * address is lost, as on a real network.
 *
 * A push-pull (full state over TCP) is reliable: the asker's frames reach
 * the other end one delay later, its answer comes back one delay after that,
 * unless either end is down or across the partition then (the connection
 * fails). Its bytes are not in the datagram measures.
 *
 * A node does what tallyd does with the core's callbacks: slot_behind moves
 * it to a new volume slot at once, duplicate is counted. The network can keep
 * a copy of the datagrams it carries (a ring) to replay them later, as an
 * attacker or a confused switch would, and the first moment each node calls
 * itself synced is recorded with the total it held then.
 */
#include "tests/sim/sim_net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/peer/addr.h"
#include "node/peer/datagram.h"

/* EV_TICK is a node's round (DNS, byte accounting); EV_TIMER wakes it inside
 * a round when gossip_next_ms() asks (a probe timeout, a gossip step);
 * EV_PP_* carry a push-pull exchange. */
enum { EV_TICK, EV_TIMER, EV_DELIVER, EV_PP_PUSH, EV_PP_ANSWER };

struct sim_event {
    uint64_t t, seq;
    uint32_t kind, node;
    uint8_t *buf; /* owned by the event */
    uint32_t len;
    char from[24];
    uint64_t id, life; /* push-pull: request id, the asker's tick_seq */
};

struct sim_captured {
    uint8_t *buf;
    uint32_t len;
    char from[24];
};

struct sim_node {
    struct sim *s;
    uint32_t idx;
    struct gossip *g;
    struct datagram_path path; /* with cfg.seal: this process's seal and replay window */
    char name[24], addr[24];
    uint32_t epoch;
    bool up;
    uint64_t truth;    /* visits served under this name, every volume */
    uint64_t file;     /* visits on the current volume (its visits.txt) */
    uint64_t vol;      /* the current volume's slot id */
    uint64_t inc_disk; /* the incarnation kept on the current volume */
    uint32_t group;
    uint64_t last_bytes, last_susp, last_pp;
    uint32_t rounds;
    uint64_t tick_seq; /* ticks of a stopped incarnation are ignored */
    uint64_t round_at; /* its next EV_TICK */
    uint64_t timer_at; /* its pending EV_TIMER, 0 if none */
    uint64_t started_ms;
    uint32_t dup_calls, behind_calls;
    bool ready_seen; /* gossip_synced() has been true in this life */
    struct sim_ready ready;
};

struct sim {
    struct sim_config cfg;
    struct sim_node *nodes;
    struct sim_event *heap;
    size_t n_heap, cap_heap;
    uint64_t now, seq, rng;
    uint32_t split;
    struct sim_stats st;
    uint32_t *dns;            /* scratch for DNS answers */
    struct sim_captured *cap; /* ring of carried datagrams, cap_max long */
    size_t cap_max, cap_n, cap_next;
    uint64_t false_deaths;
};

static uint64_t sim_rand(struct sim *s)
{
    uint64_t z = (s->rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double sim_rand01(struct sim *s)
{
    return (double)(sim_rand(s) >> 11) / 9007199254740992.0;
}

/* ---- event heap ---- */

static bool sim_ev_less(const struct sim_event *a, const struct sim_event *b)
{
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void sim_push(struct sim *s, struct sim_event ev)
{
    if (s->n_heap == s->cap_heap) {
        size_t cap = s->cap_heap ? s->cap_heap * 2 : 1024;
        struct sim_event *h = realloc(s->heap, cap * sizeof(*h));
        if (!h) {
            free(ev.buf); /* out of memory: the datagram is lost */
            return;
        }
        s->heap = h;
        s->cap_heap = cap;
    }
    ev.seq = s->seq++;
    size_t i = s->n_heap++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!sim_ev_less(&ev, &s->heap[p]))
            break;
        s->heap[i] = s->heap[p];
        i = p;
    }
    s->heap[i] = ev;
}

static struct sim_event sim_pop(struct sim *s)
{
    struct sim_event top = s->heap[0];
    struct sim_event last = s->heap[--s->n_heap];
    size_t i = 0, n = s->n_heap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && sim_ev_less(&s->heap[c + 1], &s->heap[c]))
            c++;
        if (!sim_ev_less(&s->heap[c], &last))
            break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (n)
        s->heap[i] = last;
    return top;
}

/* ---- network ---- */

static long sim_addr_node(const struct sim *s, const char *addr)
{
    unsigned long part[4];
    const char *p = addr;
    for (int k = 0; k < 4; k++) {
        char *end;
        part[k] = strtoul(p, &end, 10);
        if (end == p || *end != (k < 3 ? '.' : ':'))
            return -1;
        p = end + 1;
    }
    unsigned long idx = part[2] * 256 + part[3];
    if (part[0] != 10 || idx >= s->cfg.nodes || part[1] != s->nodes[idx].epoch)
        return -1;
    return (long)idx;
}

static void sim_capture_add(struct sim *s, const char *from, const uint8_t *buf, size_t len)
{
    struct sim_captured *c = &s->cap[s->cap_next];
    uint8_t *copy = malloc(len);
    if (!copy)
        return;
    free(c->buf);
    memcpy(copy, buf, len);
    c->buf = copy;
    c->len = (uint32_t)len;
    snprintf(c->from, sizeof(c->from), "%s", from);
    s->cap_next = (s->cap_next + 1) % s->cap_max;
    if (s->cap_n < s->cap_max)
        s->cap_n++;
}

static void sim_send(void *ctx, const char *addr, const uint8_t *buf, size_t len)
{
    struct sim_node *src = ctx;
    struct sim *s = src->s;
    uint8_t sealed[DATAGRAM_WIRE_MAX];
    if (s->cfg.seal) { /* what tallyd puts on the wire */
        int n = datagram_out(&src->path, buf, len, sealed, sizeof(sealed), &buf);
        if (n < 0)
            return;
        len = (size_t)n;
    }
    size_t wire_max = s->cfg.seal ? DATAGRAM_WIRE_MAX : PROTO_MAX_DATAGRAM;
    long dst = sim_addr_node(s, addr);
    /* Draw the loss for every datagram, reachable or not, so the random
     * stream does not depend on where datagrams go. */
    bool lost = sim_rand01(s) < s->cfg.loss;
    uint32_t span = s->cfg.delay_max_ms - s->cfg.delay_min_ms + 1;
    uint64_t delay = s->cfg.delay_min_ms + sim_rand(s) % span;
    if (s->cap_max && len <= wire_max)
        sim_capture_add(s, src->addr, buf, len); /* what a sniffer on the wire sees */
    if (dst < 0 || lost || len > wire_max)
        return;
    if (s->split && (src->idx < s->split) != ((uint32_t)dst < s->split))
        return;
    struct sim_event ev = {.t = s->now + delay, .kind = EV_DELIVER, .node = (uint32_t)dst};
    ev.buf = malloc(len);
    if (!ev.buf)
        return;
    memcpy(ev.buf, buf, len);
    ev.len = (uint32_t)len;
    snprintf(ev.from, sizeof(ev.from), "%s", src->addr);
    sim_push(s, ev);
}

/* ---- push-pull: frames as [u32 length][bytes], reliable and in order ---- */

struct sim_frames {
    uint8_t *buf;
    size_t len, cap;
};

static int sim_frames_emit(void *arg, const uint8_t *buf, size_t len)
{
    struct sim_frames *f = arg;
    if (f->len + 4 + len > f->cap) {
        size_t cap = f->cap ? f->cap : 4096;
        while (cap < f->len + 4 + len)
            cap *= 2;
        uint8_t *b = realloc(f->buf, cap);
        if (!b)
            return -1;
        f->buf = b;
        f->cap = cap;
    }
    uint32_t n = (uint32_t)len;
    memcpy(f->buf + f->len, &n, 4);
    memcpy(f->buf + f->len + 4, buf, len);
    f->len += 4 + len;
    return 0;
}

/* Feeds every frame to g; false if the exchange broke off. */
static bool sim_frames_read(struct sim *s, struct gossip *g, struct gossip_full_rx *rx,
                            const uint8_t *buf, size_t len)
{
    int rc = 0;
    for (size_t off = 0; off + 4 <= len && rc == 0;) {
        uint32_t n;
        memcpy(&n, buf + off, 4);
        rc = gossip_full_read(g, s->now, rx, buf + off + 4, n);
        off += 4 + n;
    }
    return rc == 1;
}

static uint64_t sim_delay(struct sim *s)
{
    uint32_t span = s->cfg.delay_max_ms - s->cfg.delay_min_ms + 1;
    return s->cfg.delay_min_ms + sim_rand(s) % span;
}

static bool sim_reachable(const struct sim *s, uint32_t a, uint32_t b)
{
    return !s->split || (a < s->split) == (b < s->split);
}

/* io.pushpull: the asker's table leaves now, as one reliable stream. */
static void sim_pushpull(void *ctx, const char *addr)
{
    struct sim_node *src = ctx;
    struct sim *s = src->s;
    long dst = sim_addr_node(s, addr);
    uint64_t delay = sim_delay(s);
    if (dst < 0 || !sim_reachable(s, src->idx, (uint32_t)dst))
        return; /* no one listens there: connect fails */
    struct sim_frames f = {0};
    struct sim_event ev = {.t = s->now + delay, .kind = EV_PP_PUSH, .node = (uint32_t)dst};
    ev.id = sim_rand(s);
    ev.life = src->tick_seq;
    if (gossip_full_write(src->g, ev.id, sim_frames_emit, &f) < 0) {
        free(f.buf);
        return;
    }
    ev.buf = f.buf;
    ev.len = (uint32_t)f.len;
    snprintf(ev.from, sizeof(ev.from), "%s", src->addr);
    sim_push(s, ev);
}

/* The other end merges the push and answers with its own table. */
static void sim_pushpull_serve(struct sim *s, struct sim_node *n, const struct sim_event *ev)
{
    long asker = sim_addr_node(s, ev->from);
    struct gossip_full_rx rx;
    gossip_full_rx_init(&rx, false, 0, ev->from);
    if (!sim_frames_read(s, n->g, &rx, ev->buf, ev->len) || asker < 0 ||
        !sim_reachable(s, n->idx, (uint32_t)asker))
        return;
    struct sim_frames f = {0};
    struct sim_event ans = {
        .t = s->now + sim_delay(s), .kind = EV_PP_ANSWER, .node = (uint32_t)asker};
    ans.id = ev->id;
    ans.life = ev->life;
    if (gossip_full_write(n->g, ev->id, sim_frames_emit, &f) < 0) {
        free(f.buf);
        return;
    }
    ans.buf = f.buf;
    ans.len = (uint32_t)f.len;
    snprintf(ans.from, sizeof(ans.from), "%s", n->addr);
    sim_push(s, ans);
}

/* ---- nodes ---- */

static uint64_t sim_vol_new(struct sim *s);

/* What tallyd does: a peer holds more for our slot than we counted, so this
 * volume went back in time; count on a new slot from now on. */
static void sim_on_slot_behind(void *ctx, uint64_t vol, uint64_t ours, uint64_t theirs)
{
    struct sim_node *n = ctx;
    (void)ours;
    (void)theirs;
    n->behind_calls++;
    if (vol != n->vol)
        return;
    uint64_t nv = sim_vol_new(n->s);
    if (gossip_slot_move(n->g, nv) == 0) {
        n->vol = nv;
        n->file = 0;
    }
}

static void sim_on_duplicate(void *ctx, uint64_t vol, const char *addr)
{
    struct sim_node *n = ctx;
    (void)vol;
    (void)addr;
    n->dup_calls++;
}

static uint32_t sim_name_idx(const char *name);

static void sim_on_state_changed(void *ctx, const char *name, enum gossip_state from,
                                 enum gossip_state to)
{
    struct sim_node *n = ctx;
    (void)from;
    uint32_t idx = sim_name_idx(name);
    if (to == GOSSIP_DEAD && idx < n->s->cfg.nodes && n->s->nodes[idx].up)
        n->s->false_deaths++;
}

static uint64_t sim_vol_new(struct sim *s)
{
    uint64_t v;
    do
        v = sim_rand(s);
    while (v == 0);
    return v;
}

static int sim_node_start(struct sim *s, struct sim_node *n)
{
    snprintf(n->addr, sizeof(n->addr), "10.%u.%u.%u:7946", n->epoch, n->idx / 256, n->idx % 256);
    n->inc_disk++; /* as tallyd raises it in DATA_DIR/volume at each start */
    struct gossip_config cfg = {
        .name = n->name,
        .addr = n->addr,
        .incarnation = n->inc_disk,
        .vol = n->vol,
        .count = n->file,
        .interval_ms = s->cfg.interval_ms,
        .fanout = s->cfg.fanout,
        /* tallyd's default: ready after a peer's whole table, or this long */
        .recovery_ms = 5 * s->cfg.interval_ms,
        .max_members = s->cfg.max_members,
        .seed = sim_rand(s),
    };
    struct gossip_io io = {.ctx = n,
                           .send = sim_send,
                           .slot_behind = sim_on_slot_behind,
                           .duplicate = sim_on_duplicate,
                           .state_changed = sim_on_state_changed,
                           .pushpull = sim_pushpull};
    n->g = gossip_new(&cfg, &io, s->now);
    if (!n->g)
        return -1;
    struct datagram_config dc = {
        .gossip = n->g, .seal = s->cfg.seal, .max_senders = 2 * s->cfg.nodes};
    if (s->cfg.seal && datagram_path_init(&n->path, &dc) < 0) {
        gossip_free(n->g);
        n->g = NULL;
        return -1;
    }
    n->up = true;
    n->started_ms = s->now;
    n->ready_seen = false;
    memset(&n->ready, 0, sizeof(n->ready));
    n->last_bytes = n->last_susp = n->last_pp = 0;
    n->rounds = 0;
    n->tick_seq++;
    struct sim_event ev = {.t = s->now + sim_rand(s) % s->cfg.interval_ms,
                           .kind = EV_TICK,
                           .node = n->idx,
                           .len = (uint32_t)n->tick_seq};
    n->round_at = ev.t;
    n->timer_at = 0;
    sim_push(s, ev);
    return 0;
}

struct sim *sim_new(const struct sim_config *cfg)
{
    if (cfg->nodes == 0 || cfg->nodes > 65536 || cfg->delay_max_ms < cfg->delay_min_ms)
        return NULL;
    struct sim *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->cfg = *cfg;
    if (!s->cfg.interval_ms)
        s->cfg.interval_ms = 1000;
    if (!s->cfg.fanout)
        s->cfg.fanout = 3;
    if (!s->cfg.dns_every)
        s->cfg.dns_every = 5;
    s->rng = cfg->seed;
    s->nodes = calloc(cfg->nodes, sizeof(*s->nodes));
    s->dns = calloc(cfg->nodes, sizeof(*s->dns));
    if (!s->nodes || !s->dns) {
        sim_free(s);
        return NULL;
    }
    for (uint32_t i = 0; i < cfg->nodes; i++) {
        struct sim_node *n = &s->nodes[i];
        n->s = s;
        n->idx = i;
        snprintf(n->name, sizeof(n->name), "pod-%u", i);
        n->vol = sim_vol_new(s);
        if (sim_node_start(s, n) != 0) {
            sim_free(s);
            return NULL;
        }
    }
    return s;
}

void sim_free(struct sim *s)
{
    if (!s)
        return;
    for (uint32_t i = 0; s->nodes && i < s->cfg.nodes; i++) {
        datagram_path_free(&s->nodes[i].path);
        gossip_free(s->nodes[i].g);
    }
    for (size_t i = 0; i < s->n_heap; i++)
        free(s->heap[i].buf);
    free(s->heap);
    for (size_t i = 0; i < s->cap_max; i++)
        free(s->cap[i].buf);
    free(s->cap);
    free(s->nodes);
    free(s->dns);
    free(s);
}

uint32_t sim_nodes(const struct sim *s)
{
    return s->cfg.nodes;
}

uint64_t sim_now(const struct sim *s)
{
    return s->now;
}

struct gossip *sim_gossip(struct sim *s, uint32_t i)
{
    return s->nodes[i].g;
}

/* DNS answers with every up node, in a fresh random order each time (as a
 * resolver rotates A records). */
static void sim_dns_greet(struct sim *s, struct sim_node *n)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < s->cfg.nodes; i++)
        if (s->nodes[i].up)
            s->dns[k++] = i;
    for (uint32_t i = 0; i + 1 < k; i++) {
        uint32_t j = i + (uint32_t)(sim_rand(s) % (k - i));
        uint32_t t = s->dns[i];
        s->dns[i] = s->dns[j];
        s->dns[j] = t;
    }
    for (uint32_t i = 0; i < k; i++)
        gossip_greet(n->g, s->now, s->nodes[s->dns[i]].addr);
}

static void sim_tick(struct sim *s, struct sim_node *n)
{
    if (n->rounds % s->cfg.dns_every == 0)
        sim_dns_greet(s, n);
    gossip_tick(n->g, s->now);
    n->rounds++;
    const struct gossip_stats *gs = gossip_stats_get(n->g);
    uint64_t b = gs->bytes_out - n->last_bytes;
    n->last_bytes = gs->bytes_out;
    s->st.bytes_out += b;
    s->st.node_rounds++;
    if (b > s->st.bytes_round_max)
        s->st.bytes_round_max = b;
    s->st.suspicions += gs->suspicions - n->last_susp;
    n->last_susp = gs->suspicions;
    s->st.pushpull_bytes_out += gs->pushpull_bytes_out - n->last_pp;
    n->last_pp = gs->pushpull_bytes_out;
}

/* Wake node n when its core next has something to do inside the round, as
 * tallyd's timer follows gossip_next_ms(); the round itself is EV_TICK's. */
static void sim_timer_arm(struct sim *s, struct sim_node *n)
{
    if (!n->up || n->rounds == 0)
        return; /* its first round is its first EV_TICK, at a random phase */
    uint64_t next = gossip_next_ms(n->g);
    if (next < s->now)
        next = s->now;
    if (next >= n->round_at || (n->timer_at != 0 && n->timer_at <= next))
        return;
    n->timer_at = next;
    struct sim_event ev = {
        .t = next, .kind = EV_TIMER, .node = n->idx, .len = (uint32_t)n->tick_seq};
    sim_push(s, ev);
}

/* The first moment node n calls itself synced in this life. */
static void sim_ready_watch(struct sim *s, struct sim_node *n)
{
    if (n->ready_seen || !gossip_synced(n->g, s->now))
        return;
    n->ready_seen = true;
    n->ready.total = gossip_total(n->g);
    n->ready.after_ms = s->now - n->started_ms;
    const struct gossip_stats *gs = gossip_stats_get(n->g);
    n->ready.by_sync = gs->syncs > 0 || gs->pushpull[GOSSIP_PP_OK] > 0;
}

void sim_run_rounds(struct sim *s, uint32_t rounds)
{
    sim_run_ms(s, (uint64_t)rounds * s->cfg.interval_ms);
}

void sim_run_ms(struct sim *s, uint64_t ms)
{
    uint64_t end = s->now + ms;
    while (s->n_heap > 0 && s->heap[0].t <= end) {
        struct sim_event ev = sim_pop(s);
        s->now = ev.t;
        struct sim_node *n = &s->nodes[ev.node];
        if (ev.kind == EV_DELIVER) {
            if (n->up && s->cfg.seal) {
                struct sockaddr_storage ss;
                if (addr_parse(ev.from, &ss) == 0)
                    datagram_in(&n->path, s->now, (const struct sockaddr *)&ss, ev.from, ev.buf,
                                ev.len, false);
                sim_ready_watch(s, n);
            } else if (n->up) {
                gossip_receive(n->g, s->now, ev.from, ev.buf, ev.len);
                sim_ready_watch(s, n);
            }
            sim_timer_arm(s, n);
            free(ev.buf);
        } else if (ev.kind == EV_PP_PUSH) {
            if (n->up)
                sim_pushpull_serve(s, n, &ev);
            sim_timer_arm(s, n);
            free(ev.buf);
        } else if (ev.kind == EV_PP_ANSWER) {
            if (n->up && ev.life == n->tick_seq) {
                struct gossip_full_rx rx;
                gossip_full_rx_init(&rx, true, ev.id, ev.from);
                sim_frames_read(s, n->g, &rx, ev.buf, ev.len);
                sim_ready_watch(s, n);
                sim_timer_arm(s, n);
            }
            free(ev.buf);
        } else if (ev.kind == EV_TIMER) {
            if (n->up && ev.len == (uint32_t)n->tick_seq && ev.t == n->timer_at) {
                n->timer_at = 0;
                gossip_tick(n->g, s->now);
                sim_timer_arm(s, n);
            }
        } else if (n->up && ev.len == (uint32_t)n->tick_seq) {
            sim_ready_watch(s, n); /* the bounded wait may have run out */
            sim_tick(s, n);
            ev.t = s->now + s->cfg.interval_ms;
            n->round_at = ev.t;
            sim_push(s, ev);
            sim_timer_arm(s, n);
        }
    }
    s->now = end;
}

uint64_t sim_truth(const struct sim *s, uint32_t i)
{
    return s->nodes[i].truth;
}

void sim_visits_add(struct sim *s, uint32_t i, uint64_t n)
{
    struct sim_node *nd = &s->nodes[i];
    nd->truth += n;
    nd->file += n;
    if (nd->up)
        gossip_count_set(nd->g, nd->file);
}

void sim_stop(struct sim *s, uint32_t i)
{
    struct sim_node *n = &s->nodes[i];
    if (!n->up)
        return;
    n->up = false;
    datagram_path_free(&n->path);
    gossip_free(n->g);
    n->g = NULL;
}

void sim_leave(struct sim *s, uint32_t i)
{
    struct sim_node *n = &s->nodes[i];
    if (!n->up)
        return;
    gossip_leave(n->g, s->now);
    sim_stop(s, i);
}

void sim_restart(struct sim *s, uint32_t i, bool lose_count, bool new_addr)
{
    struct sim_node *n = &s->nodes[i];
    sim_stop(s, i);
    if (new_addr)
        n->epoch = (n->epoch + 1) % 256;
    if (lose_count) {
        /* A new, empty volume: a new slot at 0 and no incarnation kept. The
         * old slot's visits stay in the truth: peers hold them. */
        n->vol = sim_vol_new(s);
        n->file = 0;
        n->inc_disk = 0;
    }
    sim_node_start(s, n);
}

void sim_restart_as(struct sim *s, uint32_t i, uint32_t j)
{
    struct sim_node *n = &s->nodes[i];
    sim_stop(s, i);
    snprintf(n->name, sizeof(n->name), "%s", s->nodes[j].name);
    n->epoch = (n->epoch + 1) % 256;
    n->vol = sim_vol_new(s);
    n->file = 0;
    n->inc_disk = 0;
    sim_node_start(s, n);
}

void sim_partition(struct sim *s, uint32_t split)
{
    s->split = split;
}

int sim_capture_start(struct sim *s, size_t max)
{
    if (s->cap_max || max == 0)
        return -1;
    s->cap = calloc(max, sizeof(*s->cap));
    if (!s->cap)
        return -1;
    s->cap_max = max;
    return 0;
}

size_t sim_captured(const struct sim *s)
{
    return s->cap_n;
}

void sim_replay(struct sim *s, uint32_t i, uint32_t spread_ms)
{
    size_t first = (s->cap_next + s->cap_max - s->cap_n) % (s->cap_max ? s->cap_max : 1);
    for (size_t k = 0; k < s->cap_n; k++) {
        const struct sim_captured *c = &s->cap[(first + k) % s->cap_max];
        struct sim_event ev = {.t = s->now + 1 + (spread_ms ? sim_rand(s) % spread_ms : 0),
                               .kind = EV_DELIVER,
                               .node = i};
        ev.buf = malloc(c->len);
        if (!ev.buf)
            return;
        memcpy(ev.buf, c->buf, c->len);
        ev.len = c->len;
        snprintf(ev.from, sizeof(ev.from), "%s", c->from);
        sim_push(s, ev);
    }
}

void sim_inject(struct sim *s, uint32_t i, const char *from, const uint8_t *buf, size_t len)
{
    struct sim_event ev = {.t = s->now + 1, .kind = EV_DELIVER, .node = i};
    ev.buf = malloc(len);
    if (!ev.buf)
        return;
    memcpy(ev.buf, buf, len);
    ev.len = (uint32_t)len;
    snprintf(ev.from, sizeof(ev.from), "%s", from);
    sim_push(s, ev);
}

bool sim_up(const struct sim *s, uint32_t i)
{
    return s->nodes[i].up;
}

uint64_t sim_truth_total(const struct sim *s)
{
    uint64_t t = 0;
    for (uint32_t i = 0; i < s->cfg.nodes; i++)
        t += s->nodes[i].truth;
    return t;
}

bool sim_totals_converged(const struct sim *s)
{
    uint64_t truth = sim_truth_total(s);
    for (uint32_t i = 0; i < s->cfg.nodes; i++)
        if (s->nodes[i].up && gossip_total(s->nodes[i].g) != truth)
            return false;
    return true;
}

bool sim_ready_get(const struct sim *s, uint32_t i, struct sim_ready *out)
{
    if (!s->nodes[i].ready_seen)
        return false;
    *out = s->nodes[i].ready;
    return true;
}

void sim_callbacks_get(const struct sim *s, uint32_t i, uint32_t *dup_calls, uint32_t *behind_calls)
{
    *dup_calls = s->nodes[i].dup_calls;
    *behind_calls = s->nodes[i].behind_calls;
}

static uint32_t sim_name_idx(const char *name)
{
    return (uint32_t)strtoul(name + 4, NULL, 10); /* "pod-%u" */
}

uint64_t sim_false_deaths(const struct sim *s)
{
    return s->false_deaths;
}

bool sim_all_hold_count(const struct sim *s, uint32_t i)
{
    for (uint32_t j = 0; j < s->cfg.nodes; j++) {
        const struct sim_node *n = &s->nodes[j];
        if (j == i || !n->up)
            continue;
        const struct gossip_member *m = gossip_member_find(n->g, s->nodes[i].name);
        if (!m || m->count != s->nodes[i].truth)
            return false;
    }
    return true;
}

bool sim_counts_converged(const struct sim *s)
{
    for (uint32_t i = 0; i < s->cfg.nodes; i++) {
        const struct sim_node *n = &s->nodes[i];
        if (!n->up)
            continue;
        if (gossip_member_count(n->g) != s->cfg.nodes)
            return false;
        for (size_t k = 0; k < s->cfg.nodes; k++) {
            const struct gossip_member *m = gossip_member_at(n->g, k);
            if (m->count != s->nodes[sim_name_idx(m->name)].truth)
                return false;
        }
    }
    return true;
}

bool sim_alive_converged(const struct sim *s)
{
    for (uint32_t i = 0; i < s->cfg.nodes; i++) {
        const struct sim_node *n = &s->nodes[i];
        if (!n->up)
            continue;
        for (size_t k = 0; k < gossip_member_count(n->g); k++) {
            const struct gossip_member *m = gossip_member_at(n->g, k);
            if (s->nodes[sim_name_idx(m->name)].up && m->state != GOSSIP_ALIVE)
                return false;
        }
        size_t up = 0;
        for (uint32_t j = 0; j < s->cfg.nodes; j++)
            up += s->nodes[j].up;
        if (gossip_member_count(n->g) < up)
            return false;
    }
    return true;
}

bool sim_all_see_state(const struct sim *s, uint32_t i, enum gossip_state st)
{
    for (uint32_t j = 0; j < s->cfg.nodes; j++) {
        const struct sim_node *n = &s->nodes[j];
        if (j == i || !n->up)
            continue;
        const struct gossip_member *m = gossip_member_find(n->g, s->nodes[i].name);
        if (!m || m->state != st)
            return false;
    }
    return true;
}

void sim_stats_get(const struct sim *s, struct sim_stats *out)
{
    *out = s->st;
}

void sim_stats_reset(struct sim *s)
{
    memset(&s->st, 0, sizeof(s->st));
}
