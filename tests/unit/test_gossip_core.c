/*
 * test_gossip_core.c: unit tests of the gossip core (gossip/gossip.h) with a
 * fake io that records every datagram sent and every callback, and a clock
 * passed by hand. They pin the counter model: slots merge by max from anyone
 * in any order, our own slot is never taken from a peer, claims about us are
 * refuted, only the owner says it left, a second process with our name is
 * seen and counted, SYNC makes a view whole, and every value stays bounded.
 * Also: failure detection timeline, totals, datagram size bound, ping,
 * greeting (the full-state exchange: test_gossip_pushpull.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gossip/gossip.h"
#include "gossip/gossip_int.h" /* GOSSIP_ACK_WHOLE_MAX, the piggyback budget */
#include "tests/unit/gossip_entry.h"

#define SENT_MAX 4096

#define VOL0    0xA0A0A0A0ull /* the fixture's volume */
#define VOL_OLD 0x0F0F0F0Full /* an earlier volume of our name */
#define VOL_NEW 0xB1B1B1B1ull /* where a slot move goes */
#define VOL_DUP 0xD0D0D0D0ull /* another process with our name */
#define V1      0x1111ull
#define V2      0x2222ull
#define V3      0x3333ull

struct sent {
    char addr[PROTO_ADDR_MAX + 1];
    uint8_t buf[PROTO_MAX_DATAGRAM];
    size_t len;
};

struct fake_io {
    struct sent *sent;
    size_t n_sent;
    size_t oversize;
    /* slot_behind calls */
    int behind_calls;
    uint64_t behind_vol, behind_ours, behind_theirs;
    /* when set, slot_behind moves to this volume at once, as tallyd does */
    uint64_t move_to;
    struct gossip *g;
    int move_rc;
    /* duplicate calls */
    int dup_calls;
    uint64_t dup_vol;
    char dup_addr[PROTO_ADDR_MAX + 1];
};

static void fake_send(void *ctx, const char *addr, const uint8_t *buf, size_t len)
{
    struct fake_io *f = ctx;
    if (len > PROTO_MAX_DATAGRAM) {
        f->oversize++;
        return;
    }
    if (f->n_sent >= SENT_MAX)
        return;
    struct sent *s = &f->sent[f->n_sent++];
    snprintf(s->addr, sizeof(s->addr), "%s", addr);
    memcpy(s->buf, buf, len);
    s->len = len;
}

static void fake_behind(void *ctx, uint64_t vol, uint64_t ours, uint64_t theirs)
{
    struct fake_io *f = ctx;
    f->behind_calls++;
    f->behind_vol = vol;
    f->behind_ours = ours;
    f->behind_theirs = theirs;
    if (f->move_to)
        f->move_rc = gossip_slot_move(f->g, f->move_to);
}

static void fake_duplicate(void *ctx, uint64_t vol, const char *addr)
{
    struct fake_io *f = ctx;
    f->dup_calls++;
    f->dup_vol = vol;
    snprintf(f->dup_addr, sizeof(f->dup_addr), "%s", addr ? addr : "");
}

static void fake_io_init(struct fake_io *f)
{
    memset(f, 0, sizeof(*f));
    f->sent = calloc(SENT_MAX, sizeof(struct sent));
    assert_non_null(f->sent);
}

static struct gossip_config base_cfg(void)
{
    struct gossip_config cfg = {
        .name = "pod-0",
        .addr = "10.0.0.1:7946",
        .incarnation = 5,
        .vol = VOL0,
        .count = 5,
        .interval_ms = 1000,
        .fanout = 3,
        .pushpull_every = 5,
        .recovery_ms = 5000,
        .seed = 42,
    };
    return cfg;
}

static struct gossip *fake_gossip_new(struct fake_io *f, const struct gossip_config *cfg)
{
    struct gossip_io io = {
        .ctx = f, .send = fake_send, .slot_behind = fake_behind, .duplicate = fake_duplicate};
    struct gossip *g = gossip_new(cfg, &io, 0);
    assert_non_null(g);
    f->g = g;
    return g;
}

struct fixture {
    struct fake_io io;
    struct gossip *g;
    struct proto_msg msg; /* scratch for building and decoding */
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    fake_io_init(&fx->io);
    struct gossip_config cfg = base_cfg();
    fx->g = fake_gossip_new(&fx->io, &cfg);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    gossip_free(fx->g);
    free(fx->io.sent);
    free(fx);
    return 0;
}

/* Replaces the fixture's core by a new one (a restart, or other settings);
 * the record of sends and callbacks starts again. */
static void fx_reopen(struct fixture *fx, const struct gossip_config *cfg)
{
    gossip_free(fx->g);
    struct sent *keep = fx->io.sent;
    memset(&fx->io, 0, sizeof(fx->io));
    fx->io.sent = keep;
    fx->g = fake_gossip_new(&fx->io, cfg);
}

static void add_slot(struct proto_entry *e, uint64_t vol, uint64_t count)
{
    assert_true(e->n_slots < PROTO_MAX_SLOTS);
    e->slots[e->n_slots].vol = vol;
    e->slots[e->n_slots].count = count;
    e->n_slots++;
}

static size_t encode_msg(const struct proto_msg *m, uint8_t *buf)
{
    int len = proto_msg_encode(m, buf, PROTO_MAX_DATAGRAM);
    assert_true(len > 0);
    return (size_t)len;
}

/* m as a datagram of type from "from" carrying the given entries. */
static void msg_fill(struct proto_msg *m, uint8_t type, const char *from,
                     const struct proto_entry *es, size_t n)
{
    memset(m, 0, sizeof(*m));
    m->type = type;
    snprintf(m->from, sizeof(m->from), "%s", from);
    for (size_t i = 0; i < n; i++)
        m->entries[i] = es[i];
    m->n_entries = (uint32_t)n;
}

/* Sends g a datagram of type from "from" carrying the given entries. It
 * leaves from the sender's own socket (the address its entry gives) when the
 * first entry is the sender's, else from a relay's. */
static void deliver_to(struct gossip *g, struct proto_msg *m, uint64_t now, uint8_t type,
                       const char *from, const struct proto_entry *es, size_t n)
{
    const char *src = "10.9.9.9:7946";
    if (n > 0 && !strcmp(es[0].name, from) && es[0].addr[0])
        src = es[0].addr;
    msg_fill(m, type, from, es, n);
    uint8_t buf[PROTO_MAX_DATAGRAM];
    size_t len = encode_msg(m, buf);
    gossip_receive(g, now, src, buf, len);
}

static void deliver(struct fixture *fx, uint64_t now, uint8_t type, const char *from,
                    const struct proto_entry *es, size_t n)
{
    deliver_to(fx->g, &fx->msg, now, type, from, es, n);
}

static void deliver1(struct fixture *fx, uint64_t now, const char *from, struct proto_entry e)
{
    /* A heartbeat's first entry is its sender's own (proto/check.c): relayed
     * entries travel in a DELTA. */
    deliver(fx, now, strcmp(e.name, from) == 0 ? PROTO_HEARTBEAT : PROTO_DELTA, from, &e, 1);
}

static const struct gossip_member *find_in(const struct gossip *g, const char *name)
{
    const struct gossip_member *m = gossip_member_find(g, name);
    assert_non_null(m);
    return m;
}

static const struct gossip_member *find(struct fixture *fx, const char *name)
{
    return find_in(fx->g, name);
}

static const struct gossip_member *self_of(const struct gossip *g)
{
    const struct gossip_member *m = gossip_member_at(g, 0);
    assert_true(m->self);
    return m;
}

static uint64_t slot_of(const struct gossip_member *m, uint64_t vol)
{
    for (unsigned k = 0; k < m->n_slots; k++)
        if (m->slots[k].vol == vol)
            return m->slots[k].count;
    return UINT64_MAX; /* absent */
}

static void decode_sent_io(const struct fake_io *io, size_t i, struct proto_msg *m)
{
    assert_true(i < io->n_sent);
    assert_int_equal(proto_msg_decode(io->sent[i].buf, io->sent[i].len, m, NULL), PROTO_OK);
}

static void decode_sent(struct fixture *fx, size_t i, struct proto_msg *m)
{
    decode_sent_io(&fx->io, i, m);
}

static const struct gossip_stats *stats(struct fixture *fx)
{
    return gossip_stats_get(fx->g);
}

/* ---- merge rules: slots ---- */

static void test_merge_unknown_added(void **state)
{
    struct fixture *fx = *state;
    deliver1(fx, 10, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 7, 3, V1, 11, PROTO_STATE_ALIVE));
    const struct gossip_member *m = find(fx, "pod-1");
    assert_string_equal(m->addr, "10.0.0.2:7946");
    assert_int_equal(m->incarnation, 7);
    assert_int_equal(m->heartbeat, 3);
    assert_int_equal(m->vol, V1);
    assert_int_equal(m->n_slots, 1);
    assert_int_equal(slot_of(m, V1), 11);
    assert_int_equal(m->count, 11);
    assert_int_equal(m->state, GOSSIP_ALIVE);
    assert_int_equal(m->last_seen_ms, 10);
    assert_false(m->self);
    assert_int_equal(gossip_member_count(fx->g), 2);
    assert_int_equal(gossip_total(fx->g), 5 + 11);
}

static void test_slot_max_from_any_sender(void **state)
{
    struct fixture *fx = *state;
    deliver1(fx, 10, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 7, 10, V1, 11, 0));
    /* Older version, higher count, relayed by a third party: the slot is
     * taken, the address and version are not. */
    deliver1(fx, 20, "pod-2", mk_entry("pod-1", "10.0.0.99:7946", 7, 4, V1, 50, 0));
    const struct gossip_member *m = find(fx, "pod-1");
    assert_int_equal(m->count, 50);
    assert_int_equal(m->heartbeat, 10);
    assert_string_equal(m->addr, "10.0.0.2:7946");
    assert_int_equal(m->last_seen_ms, 10);
    /* Newer version, lower count: version and address taken, count kept. */
    deliver1(fx, 30, "pod-1", mk_entry("pod-1", "10.0.0.3:7946", 7, 11, V1, 2, 0));
    m = find(fx, "pod-1");
    assert_int_equal(m->count, 50);
    assert_int_equal(m->heartbeat, 11);
    assert_string_equal(m->addr, "10.0.0.3:7946");
    assert_int_equal(m->last_seen_ms, 30);
    /* A slot of another volume of the same name adds to it, even from an
     * entry whose liveness is stale. */
    struct proto_entry e = mk_entry("pod-1", "10.0.0.3:7946", 1, 1, V2, 9, PROTO_STATE_DEAD);
    add_slot(&e, V1, 1);
    deliver1(fx, 40, "pod-2", e);
    m = find(fx, "pod-1");
    assert_int_equal(m->n_slots, 2);
    assert_int_equal(slot_of(m, V1), 50);
    assert_int_equal(slot_of(m, V2), 9);
    assert_int_equal(m->count, 59);
    assert_int_equal(m->state, GOSSIP_ALIVE);
    assert_int_equal(gossip_total(fx->g), 5 + 59);
}

/* The entries of test_slot_merge_order_free, in one order. */
static size_t order_entries(struct proto_entry *es)
{
    size_t n = 0;
    es[n++] = mk_entry("pod-1", "10.0.0.2:7946", 3, 10, V1, 10, 0);
    es[n] = mk_entry("pod-1", "10.0.0.2:7946", 2, 99, V1, 30, PROTO_STATE_SUSPECT);
    add_slot(&es[n++], V2, 4);
    es[n++] = mk_entry("pod-2", "10.0.0.3:7946", 1, 1, V3, 7, 0);
    es[n++] = mk_entry("pod-1", "10.0.0.2:7946", 4, 1, V2, 9, 0);
    es[n++] = mk_entry("pod-2", "10.0.0.3:7946", 1, 5, V3, 6, PROTO_STATE_DEAD);
    es[n++] = mk_entry("pod-0", "10.0.0.1:7946", 1, 1, VOL_OLD, 40, 0);
    return n;
}

static void test_slot_merge_order_free(void **state)
{
    struct fixture *fx = *state;
    struct proto_entry es[8], tmp[8];
    size_t n = order_entries(es);
    /* Every order, one entry per datagram, each from a different sender:
     * the same slots and the same total. */
    const size_t orders[][6] = {
        {0, 1, 2, 3, 4, 5}, {5, 4, 3, 2, 1, 0}, {3, 0, 5, 1, 4, 2}, {2, 5, 1, 3, 0, 4}};
    for (size_t o = 0; o < sizeof(orders) / sizeof(orders[0]); o++) {
        struct gossip_config cfg = base_cfg();
        fx_reopen(fx, &cfg);
        for (size_t k = 0; k < n; k++) {
            tmp[0] = es[orders[o][k]];
            deliver(fx, 1, PROTO_DELTA, k % 2 ? "pod-7" : "pod-8", tmp, 1);
        }
        const struct gossip_member *p1 = find(fx, "pod-1"), *p2 = find(fx, "pod-2");
        assert_int_equal(p1->n_slots, 2);
        assert_int_equal(slot_of(p1, V1), 30);
        assert_int_equal(slot_of(p1, V2), 9);
        assert_int_equal(p2->n_slots, 1);
        assert_int_equal(slot_of(p2, V3), 7);
        assert_int_equal(gossip_self_count(fx->g), 5 + 40);
        assert_int_equal(gossip_total(fx->g), 5 + 40 + 39 + 7);
        /* Idempotent: all of it again, in one datagram, changes nothing. */
        uint64_t v = gossip_table_version(fx->g);
        deliver(fx, 2, PROTO_DELTA, "pod-9", es, n);
        assert_int_equal(gossip_table_version(fx->g), v);
        assert_int_equal(gossip_total(fx->g), 5 + 40 + 39 + 7);
    }
}

static void test_merge_older_ignored(void **state)
{
    struct fixture *fx = *state;
    deliver1(fx, 10, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 7, 10, V1, 11, 0));
    deliver1(fx, 20, "pod-2", mk_entry("pod-1", "10.0.0.8:7946", 6, 9, V1, 11, PROTO_STATE_DEAD));
    deliver1(fx, 20, "pod-2", mk_entry("pod-1", "10.0.0.8:7946", 6, 99, V1, 11, PROTO_STATE_LEFT));
    deliver1(fx, 20, "pod-1", mk_entry("pod-1", "10.6.6.6:7946", 6, 500, V1, 3, 0));
    const struct gossip_member *m = find(fx, "pod-1");
    assert_int_equal(m->incarnation, 7);
    assert_int_equal(m->heartbeat, 10);
    assert_string_equal(m->addr, "10.0.0.2:7946");
    assert_int_equal(m->state, GOSSIP_ALIVE);
    assert_int_equal(m->last_seen_ms, 10);
    assert_int_equal(m->count, 11);
}

static void test_merge_third_party_claims_spread(void **state)
{
    struct fixture *fx = *state;
    deliver1(fx, 10, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 7, 10, V1, 11, 0));
    /* SWIM: pod-2 suspects pod-1 at its current incarnation; we do too. */
    deliver1(fx, 20, "pod-2",
             mk_entry("pod-1", "10.0.0.2:7946", 7, 12, V1, 11, PROTO_STATE_SUSPECT));
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_SUSPECT);
    /* A relayed newer heartbeat does not end a suspicion: only the owner's
     * own datagram or a newer incarnation (its refutation) does. */
    deliver1(fx, 21, "pod-2", mk_entry("pod-1", "10.0.0.2:7946", 7, 13, V1, 11, 0));
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_SUSPECT);
    assert_int_equal(find(fx, "pod-1")->heartbeat, 13);
    /* A death at its incarnation is taken, and not undone by a relay. */
    deliver1(fx, 22, "pod-3", mk_entry("pod-1", "10.0.0.2:7946", 7, 13, V1, 11, PROTO_STATE_DEAD));
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_DEAD);
    deliver1(fx, 23, "pod-2", mk_entry("pod-1", "10.0.0.2:7946", 7, 20, V1, 11, 0));
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_DEAD);
    /* Its refutation, relayed: alive again; older claims count no more. */
    deliver1(fx, 24, "pod-2", mk_entry("pod-1", "10.0.0.2:7946", 8, 1, V1, 11, 0));
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_ALIVE);
    deliver1(fx, 25, "pod-3", mk_entry("pod-1", "10.0.0.2:7946", 7, 30, V1, 11, PROTO_STATE_DEAD));
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_ALIVE);
    /* A relayed LEFT is never believed. */
    deliver1(fx, 26, "pod-3", mk_entry("pod-1", "10.0.0.2:7946", 8, 2, V1, 11, PROTO_STATE_LEFT));
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_ALIVE);
    assert_int_equal(gossip_total(fx->g), 5 + 11);
}

static void test_merge_new_incarnation_revives_dead(void **state)
{
    struct fixture *fx = *state;
    deliver1(fx, 0, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 7, 10, V1, 11, 0));
    uint64_t t = 0;
    for (int i = 0; i < 200 && find(fx, "pod-1")->state != GOSSIP_DEAD; i++) {
        t += 1000;
        gossip_tick(fx->g, t);
    }
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_DEAD);
    /* Restarted on a new, empty volume with a new IP: a new slot at 0, a
     * new incarnation, heartbeat back at 1. */
    deliver1(fx, t, "pod-1", mk_entry("pod-1", "10.0.0.77:7946", 1, 1, V2, 0, 0));
    const struct gossip_member *m = find(fx, "pod-1");
    assert_int_equal(m->state, GOSSIP_DEAD); /* incarnation 1 < 7: an old life, ignored */
    deliver1(fx, t, "pod-1", mk_entry("pod-1", "10.0.0.77:7946", 8, 1, V2, 0, 0));
    m = find(fx, "pod-1");
    assert_int_equal(m->state, GOSSIP_ALIVE);
    assert_string_equal(m->addr, "10.0.0.77:7946");
    assert_int_equal(m->incarnation, 8);
    assert_int_equal(m->heartbeat, 1);
    assert_int_equal(m->vol, V2);
    assert_int_equal(m->count, 11); /* its old volume's visits stay */
    assert_int_equal(slot_of(m, V1), 11);
    assert_int_equal(slot_of(m, V2), 0);
    assert_int_equal(gossip_member_count(fx->g), 2);
}

/* ---- leave: only the owner says it ---- */

static void test_relayed_left_not_believed(void **state)
{
    struct fixture *fx = *state;
    deliver1(fx, 0, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 1, 5, V1, 30, 0));
    /* A LEAVE sent by pod-2 in pod-1's name: counted as forged, not believed. */
    struct proto_entry e = mk_entry("pod-1", "10.0.0.2:7946", 1, 6, V1, 30, PROTO_STATE_LEFT);
    deliver(fx, 1, PROTO_LEAVE, "pod-2", &e, 1);
    assert_int_equal(stats(fx)->dropped[GOSSIP_DROP_FORGED], 1);
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_ALIVE);
    /* Relayed LEFT with a newer heartbeat: the heartbeat is news, the LEFT is not. */
    e.heartbeat = 7;
    deliver(fx, 2, PROTO_DELTA, "pod-2", &e, 1);
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_ALIVE);
    assert_int_equal(find(fx, "pod-1")->heartbeat, 7);
    /* The owner's own LEAVE is believed, even at the version we hold. */
    deliver(fx, 3, PROTO_LEAVE, "pod-1", &e, 1);
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_LEFT);
    /* An unknown member that the owner says left is added as LEFT; a
     * relayed LEFT adds it alive. */
    struct proto_entry f = mk_entry("pod-5", "10.0.0.5:7946", 1, 1, V2, 3, PROTO_STATE_LEFT);
    deliver(fx, 4, PROTO_LEAVE, "pod-5", &f, 1);
    assert_int_equal(find(fx, "pod-5")->state, GOSSIP_LEFT);
    f = mk_entry("pod-6", "10.0.0.6:7946", 1, 1, V3, 4, PROTO_STATE_LEFT);
    deliver(fx, 4, PROTO_DELTA, "pod-2", &f, 1);
    assert_int_equal(find(fx, "pod-6")->state, GOSSIP_ALIVE);
    assert_int_equal(gossip_total(fx->g), 5 + 30 + 3 + 4);
}

static void test_owner_only_from_its_socket(void **state)
{
    struct fixture *fx = *state;
    deliver1(fx, 0, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 1, 5, V1, 30, 0));
    /* pod-1's name as sender, pod-1's entry, but another socket: a relay. */
    struct proto_entry e = mk_entry("pod-1", "10.0.0.2:7946", 1, 6, V1, 30, PROTO_STATE_LEFT);
    struct proto_msg *m = &fx->msg;
    memset(m, 0, sizeof(*m));
    m->type = PROTO_LEAVE;
    snprintf(m->from, sizeof(m->from), "pod-1");
    m->entries[0] = e;
    m->n_entries = 1;
    uint8_t buf[PROTO_MAX_DATAGRAM];
    size_t len = encode_msg(m, buf);
    gossip_receive(fx->g, 1, "10.0.0.2:40000", buf, len);
    assert_int_equal(stats(fx)->dropped[GOSSIP_DROP_FORGED], 1);
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_ALIVE);
    /* From its own socket it is the owner. */
    gossip_receive(fx->g, 2, "10.0.0.2:7946", buf, len);
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_LEFT);
}

static void test_relay_cannot_jump_incarnation(void **state)
{
    struct fixture *fx = *state;
    deliver1(fx, 0, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 3, 5, V1, 30, 0));
    /* A relay pins pod-1 at the top incarnation: refused, counted, and the
     * slot it carries still merges. */
    struct proto_entry e = mk_entry("pod-1", "10.0.0.2:7946", PROTO_VALUE_MAX, 1, V1, 31, 0);
    deliver(fx, 1, PROTO_DELTA, "pod-2", &e, 1);
    assert_int_equal(stats(fx)->dropped[GOSSIP_DROP_FORGED], 1);
    assert_int_equal(find(fx, "pod-1")->incarnation, 3);
    assert_int_equal(find(fx, "pod-1")->count, 31);
    /* A jump within reach (a restart or two) is taken from a relay. */
    e = mk_entry("pod-1", "10.0.0.2:7946", 5, 1, V1, 31, 0);
    deliver(fx, 2, PROTO_DELTA, "pod-2", &e, 1);
    assert_int_equal(find(fx, "pod-1")->incarnation, 5);
    /* The same jump aimed at us is not refuted (no life of ours went there). */
    uint64_t inc = gossip_incarnation(fx->g);
    struct proto_entry me = mk_entry("pod-0", "10.0.0.1:7946", inc + 5000, 1, 0, 0, 3);
    deliver(fx, 3, PROTO_DELTA, "pod-2", &me, 1);
    assert_int_equal(gossip_incarnation(fx->g), inc);
}

/* A claim about a member that wins over what its owner says (another process
 * with its name left; a life of it went further by refutations) is sent to
 * the owner when it speaks, once a round, and its refutation revives it.
 * Before, nobody sent a member held as left anything and its heartbeats lost
 * to the claim: it stayed left in every view while it ran. */
static void test_owner_told_of_newer_claim(void **state)
{
    struct fixture *fx = *state;
    struct proto_msg *m = &fx->msg;
    deliver1(fx, 0, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 3, 5, V1, 30, 0));
    /* A second pod-1 (its own volume, its own address) outbids it, then leaves. */
    deliver1(fx, 0, "pod-1", mk_entry("pod-1", "10.0.0.66:7946", 4, 1, V2, 9, 0));
    struct proto_entry dup = mk_entry("pod-1", "10.0.0.66:7946", 4, 2, V2, 9, PROTO_STATE_LEFT);
    deliver(fx, 1, PROTO_LEAVE, "pod-1", &dup, 1);
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_LEFT);

    /* The real pod-1 speaks from its socket with an older version: not
     * believed, but told what we hold, at its own address. */
    size_t n0 = fx->io.n_sent;
    deliver1(fx, 2, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 3, 6, V1, 31, 0));
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_LEFT);
    assert_int_equal(fx->io.n_sent, n0 + 1);
    assert_string_equal(fx->io.sent[n0].addr, "10.0.0.2:7946");
    decode_sent(fx, n0, m);
    assert_int_equal(m->type, PROTO_DELTA);
    assert_int_equal(m->n_entries, 1);
    assert_string_equal(m->entries[0].name, "pod-1");
    assert_int_equal(m->entries[0].incarnation, 4);
    assert_int_equal(m->entries[0].state, PROTO_STATE_LEFT);
    /* Once a round, and never for a relay's stale copy. */
    deliver1(fx, 2, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 3, 7, V1, 31, 0));
    deliver1(fx, 2, "pod-2", mk_entry("pod-1", "10.0.0.2:7946", 3, 7, V1, 31, 0));
    assert_int_equal(fx->io.n_sent, n0 + 1);

    /* pod-1's own core refutes what it is told... */
    struct fake_io io1;
    fake_io_init(&io1);
    struct gossip_config cfg = base_cfg();
    cfg.name = "pod-1";
    cfg.addr = "10.0.0.2:7946";
    cfg.incarnation = 3;
    cfg.vol = V1;
    cfg.count = 31;
    struct gossip *g1 = fake_gossip_new(&io1, &cfg);
    gossip_receive(g1, 2, "10.0.0.1:7946", fx->io.sent[n0].buf, fx->io.sent[n0].len);
    assert_int_equal(gossip_incarnation(g1), 5);
    /* ...and its next heartbeat is alive again in our view, both slots counted. */
    deliver1(fx, 3, "pod-1",
             mk_entry("pod-1", "10.0.0.2:7946", gossip_incarnation(g1), 1, V1, 31, 0));
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_ALIVE);
    assert_string_equal(find(fx, "pod-1")->addr, "10.0.0.2:7946");
    assert_int_equal(find(fx, "pod-1")->count, 31 + 9);
    gossip_free(g1);
    free(io1.sent);

    /* A restart below an incarnation its last life reached: told too. */
    deliver1(fx, 4, "pod-2", mk_entry("pod-2", "10.0.0.3:7946", 9, 50, V3, 4, 0));
    n0 = fx->io.n_sent;
    deliver1(fx, 5, "pod-2", mk_entry("pod-2", "10.0.0.3:7946", 7, 1, V3, 4, 0));
    assert_int_equal(fx->io.n_sent, n0 + 1);
    assert_string_equal(fx->io.sent[n0].addr, "10.0.0.3:7946");
}

static void test_leave_marks_left_and_counts_stay(void **state)
{
    struct fixture *fx = *state;
    deliver1(fx, 0, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 1, 5, V1, 30, 0));
    deliver1(fx, 0, "pod-2", mk_entry("pod-2", "10.0.0.3:7946", 1, 5, V2, 7, 0));
    assert_int_equal(gossip_total(fx->g), 5 + 30 + 7);
    struct proto_entry e = mk_entry("pod-1", "10.0.0.2:7946", 1, 6, V1, 31, PROTO_STATE_LEFT);
    deliver(fx, 1, PROTO_LEAVE, "pod-1", &e, 1);
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_LEFT);
    assert_int_equal(gossip_total(fx->g), 5 + 31 + 7);
    /* A third party relaying a newer, alive heartbeat does not undo it... */
    deliver1(fx, 2, "pod-2", mk_entry("pod-1", "10.0.0.2:7946", 1, 7, V1, 31, 0));
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_LEFT);
    /* ...nor does time. */
    for (uint64_t t = 1000; t < 200000; t += 1000)
        gossip_tick(fx->g, t);
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_LEFT);
    assert_int_equal(gossip_total(fx->g), 5 + 31 + 7);
    /* A new incarnation (it came back) does. */
    deliver1(fx, 200000, "pod-2", mk_entry("pod-1", "10.0.0.9:7946", 2, 1, V1, 31, 0));
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_ALIVE);
    assert_int_equal(gossip_total(fx->g), 5 + 31 + 7);
}

static void test_total_sums_all_states(void **state)
{
    struct fixture *fx = *state;
    deliver1(fx, 0, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 1, 1, V1, 100, 0));
    deliver1(fx, 0, "pod-2", mk_entry("pod-2", "10.0.0.3:7946", 1, 1, V2, 20, PROTO_STATE_LEFT));
    deliver1(fx, 0, "pod-9", mk_entry("pod-3", "10.0.0.4:7946", 1, 1, V3, 3, PROTO_STATE_DEAD));
    uint64_t t = 0;
    for (int i = 0; i < 100; i++) {
        t += 1000;
        gossip_tick(fx->g, t);
        deliver1(fx, t, "pod-1",
                 mk_entry("pod-1", "10.0.0.2:7946", 1, 2 + (uint64_t)i, V1, 100, 0));
    }
    /* pod-9 sent us a datagram but never its own entry. */
    assert_null(gossip_member_find(fx->g, "pod-9"));
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_ALIVE);
    assert_int_equal(find(fx, "pod-2")->state, GOSSIP_LEFT);
    assert_int_equal(find(fx, "pod-3")->state, GOSSIP_DEAD);
    assert_int_equal(gossip_total(fx->g), 5 + 100 + 20 + 3);
}

/* ---- our own slot ---- */

static void test_own_slot_never_adopted(void **state)
{
    struct fixture *fx = *state;
    /* A peer holds 120 for our current slot, and 40 for an earlier volume. */
    struct proto_entry e = mk_entry("pod-0", "10.0.0.1:7946", 1, 900, VOL0, 120, 0);
    add_slot(&e, VOL_OLD, 40);
    deliver1(fx, 0, "pod-1", e);
    const struct gossip_member *self = self_of(fx->g);
    assert_int_equal(slot_of(self, VOL0), 5);
    assert_int_equal(slot_of(self, VOL_OLD), 40);
    assert_int_equal(gossip_self_count(fx->g), 45);
    assert_int_equal(fx->io.behind_calls, 1);
    assert_int_equal(fx->io.behind_vol, VOL0);
    assert_int_equal(fx->io.behind_ours, 5);
    assert_int_equal(fx->io.behind_theirs, 120);
    assert_int_equal(stats(fx)->slot_moves, 1);
    assert_int_equal(self->vol, VOL0);
    /* Less than ours, or equal: nothing to say. */
    e = mk_entry("pod-0", "10.0.0.1:7946", 1, 900, VOL0, 3, 0);
    deliver1(fx, 0, "pod-1", e);
    e = mk_entry("pod-0", "10.0.0.1:7946", 1, 900, VOL0, 5, 0);
    deliver1(fx, 0, "pod-1", e);
    assert_int_equal(fx->io.behind_calls, 1);
    assert_int_equal(gossip_self_count(fx->g), 45);
    /* Only our own count raises our slot, and never lowers it. */
    gossip_count_set(fx->g, 4);
    assert_int_equal(slot_of(self_of(fx->g), VOL0), 5);
    gossip_count_set(fx->g, 9);
    assert_int_equal(slot_of(self_of(fx->g), VOL0), 9);
    assert_int_equal(gossip_self_count(fx->g), 49);
}

static void test_slot_move_keeps_old_slot(void **state)
{
    struct fixture *fx = *state;
    /* As tallyd does: slot_behind moves to a new slot at once. */
    fx->io.move_to = VOL_NEW;
    uint64_t inc = gossip_incarnation(fx->g);
    deliver1(fx, 0, "pod-1", mk_entry("pod-0", "10.0.0.1:7946", 1, 900, VOL0, 120, 0));
    assert_int_equal(fx->io.behind_calls, 1);
    assert_int_equal(fx->io.move_rc, 0);
    const struct gossip_member *self = self_of(fx->g);
    assert_int_equal(self->vol, VOL_NEW);
    assert_true(gossip_incarnation(fx->g) > inc);
    /* The old slot holds what the peer holds, the new one counts from 0. */
    assert_int_equal(slot_of(self, VOL0), 120);
    assert_int_equal(slot_of(self, VOL_NEW), 0);
    assert_int_equal(gossip_self_count(fx->g), 120);
    gossip_count_set(fx->g, 3);
    assert_int_equal(slot_of(self_of(fx->g), VOL_NEW), 3);
    assert_int_equal(gossip_self_count(fx->g), 123);
    assert_int_equal(gossip_total(fx->g), 123);
    /* Hearing the old slot again is not news any more. */
    deliver1(fx, 0, "pod-1", mk_entry("pod-0", "10.0.0.1:7946", 1, 900, VOL0, 120, 0));
    assert_int_equal(fx->io.behind_calls, 1);
    assert_int_equal(fx->io.dup_calls, 0);
    /* Peers hear the move: our next heartbeat counts on the new volume. */
    deliver1(fx, 0, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 1, 1, V1, 0, 0));
    fx->io.n_sent = 0;
    gossip_tick(fx->g, 1000);
    struct proto_msg m;
    decode_sent(fx, 0, &m);
    assert_int_equal(m.type, PROTO_HEARTBEAT);
    assert_int_equal(m.entries[0].vol, VOL_NEW);
    assert_int_equal(m.entries[0].incarnation, gossip_incarnation(fx->g));
    assert_int_equal(m.entries[0].n_slots, 2);
    assert_int_equal(proto_entry_visits(&m.entries[0]), 123);
}

static void test_slot_move_errors(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(gossip_slot_move(fx->g, 0), -EINVAL);
    assert_int_equal(gossip_slot_move(fx->g, VOL0), -EINVAL);
    for (uint64_t v = 1; v < PROTO_MAX_SLOTS; v++)
        assert_int_equal(gossip_slot_move(fx->g, 0x100 + v), 0);
    assert_int_equal(self_of(fx->g)->n_slots, PROTO_MAX_SLOTS);
    assert_int_equal(gossip_slot_move(fx->g, 0x999), -ENOSPC);
    assert_int_equal(self_of(fx->g)->vol, 0x100 + PROTO_MAX_SLOTS - 1);
    assert_int_equal(gossip_self_count(fx->g), 5);
}

static void test_from_self_dropped(void **state)
{
    struct fixture *fx = *state;
    /* Our own datagram coming back (a loop or a replay). */
    deliver1(fx, 0, "pod-0", mk_entry("pod-0", "10.0.0.1:7946", 5, 99, VOL0, 77, 0));
    deliver(fx, 0, PROTO_DELTA, "pod-0", NULL, 0);
    struct proto_entry e = mk_entry("pod-1", "10.0.0.2:7946", 1, 1, V1, 77, 0);
    deliver(fx, 0, PROTO_DELTA, "pod-0", &e, 1);
    assert_int_equal(stats(fx)->dropped[GOSSIP_DROP_SELF], 3);
    assert_null(gossip_member_find(fx->g, "pod-1"));
    assert_int_equal(gossip_self_count(fx->g), 5);
    assert_int_equal(gossip_incarnation(fx->g), 5);
    assert_int_equal(fx->io.behind_calls, 0);
    assert_false(gossip_synced(fx->g, 1));
}

/* ---- refutation ---- */

static void test_refute_claims_about_us(void **state)
{
    struct fixture *fx = *state;
    struct {
        const char *why;
        struct proto_entry e;
        uint64_t want_inc; /* 0: not refuted */
    } cases[] = {
        {"suspect", mk_entry("pod-0", "10.0.0.1:7946", 5, 0, VOL0, 5, PROTO_STATE_SUSPECT), 6},
        {"dead", mk_entry("pod-0", "10.0.0.1:7946", 5, 0, VOL0, 5, PROTO_STATE_DEAD), 6},
        {"left", mk_entry("pod-0", "10.0.0.1:7946", 5, 0, VOL0, 5, PROTO_STATE_LEFT), 6},
        {"other address", mk_entry("pod-0", "10.0.0.66:7946", 5, 0, VOL0, 5, 0), 6},
        {"heartbeat we never sent", mk_entry("pod-0", "10.0.0.1:7946", 5, 50, VOL0, 5, 0), 6},
        {"higher incarnation", mk_entry("pod-0", "10.0.0.1:7946", 9, 0, VOL0, 5, 0), 10},
        {"dead, higher incarnation", mk_entry("pod-0", "10.0.0.1:7946", 12, 3, VOL0, 5, 2), 13},
        {"older incarnation, dead", mk_entry("pod-0", "10.0.0.1:7946", 4, 80, VOL0, 5, 2), 0},
        {"older incarnation, left", mk_entry("pod-0", "10.0.0.9:7946", 1, 80, VOL0, 5, 3), 0},
        {"our current entry", mk_entry("pod-0", "10.0.0.1:7946", 5, 0, VOL0, 5, 0), 0},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct gossip_config cfg = base_cfg();
        fx_reopen(fx, &cfg);
        deliver1(fx, 0, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 1, 1, V1, 0, 0));
        deliver1(fx, 0, "pod-1", cases[c].e);
        uint64_t want = cases[c].want_inc ? cases[c].want_inc : 5;
        print_message("case %s: incarnation %llu\n", cases[c].why,
                      (unsigned long long)gossip_incarnation(fx->g));
        assert_int_equal(gossip_incarnation(fx->g), want);
        assert_int_equal(stats(fx)->refutations, cases[c].want_inc ? 1 : 0);
        assert_int_equal(fx->io.dup_calls, 0);
        /* Whatever was said, we keep gossiping ourselves alive, at our
         * address, at the incarnation that wins. */
        fx->io.n_sent = 0;
        gossip_tick(fx->g, 1000);
        struct proto_msg m;
        decode_sent(fx, 0, &m);
        assert_int_equal(m.type, PROTO_HEARTBEAT);
        assert_string_equal(m.entries[0].name, "pod-0");
        assert_string_equal(m.entries[0].addr, "10.0.0.1:7946");
        assert_int_equal(m.entries[0].state, PROTO_STATE_ALIVE);
        assert_int_equal(m.entries[0].incarnation, want);
        assert_int_equal(m.entries[0].vol, VOL0);
        assert_int_equal(self_of(fx->g)->state, GOSSIP_ALIVE);
        assert_int_equal(gossip_self_count(fx->g), 5);
    }
}

/* ---- another process with our name ---- */

static void test_duplicate_name_seen_and_counted(void **state)
{
    struct fixture *fx = *state;
    /* A second process says it is pod-0, counting 17 on another volume. */
    struct proto_entry e = mk_entry("pod-0", "10.0.0.66:7946", 5, 1, VOL_DUP, 17, 0);
    deliver1(fx, 0, "pod-0", e);
    assert_int_equal(slot_of(self_of(fx->g), VOL_DUP), 17);
    assert_int_equal(gossip_self_count(fx->g), 5 + 17);
    assert_int_equal(gossip_total(fx->g), 5 + 17);
    assert_int_equal(gossip_incarnation(fx->g), 6); /* refuted once */
    assert_int_equal(fx->io.dup_calls, 0);          /* maybe just a stale entry */
    /* It refutes our refutation: it is alive. */
    e.incarnation = 7;
    e.slots[0].count = 18;
    deliver1(fx, 1, "pod-0", e);
    assert_int_equal(fx->io.dup_calls, 1);
    assert_int_equal(fx->io.dup_vol, VOL_DUP);
    assert_string_equal(fx->io.dup_addr, "10.0.0.66:7946");
    assert_int_equal(stats(fx)->duplicates, 1);
    assert_int_equal(gossip_incarnation(fx->g), 8);
    /* Both keep counting, each on its own slot. */
    gossip_count_set(fx->g, 10);
    assert_int_equal(gossip_total(fx->g), 10 + 18);
    assert_int_equal(self_of(fx->g)->vol, VOL0);
    /* It keeps coming back: warned again only after GOSSIP_DUP_ROUNDS of
     * quiet, the core stays bounded (one refutation per claim). */
    e.incarnation = 9;
    deliver1(fx, 2, "pod-0", e);
    assert_int_equal(fx->io.dup_calls, 1);
    assert_int_equal(gossip_incarnation(fx->g), 10);
}

static void test_no_false_duplicate_for_own_old_volume(void **state)
{
    struct fixture *fx = *state;
    /* Restart on a new, empty volume: incarnation starts again at 1. */
    struct gossip_config cfg = base_cfg();
    cfg.incarnation = 1;
    cfg.vol = VOL_NEW;
    cfg.count = 0;
    fx_reopen(fx, &cfg);
    /* Peers still hold our old life (old volume, incarnation 7), and relay it. */
    struct proto_entry old = mk_entry("pod-0", "10.0.0.1:7946", 7, 100, VOL_OLD, 100, 0);
    deliver1(fx, 0, "pod-1", old);
    assert_int_equal(gossip_incarnation(fx->g), 8);
    assert_int_equal(stats(fx)->refutations, 1);
    assert_int_equal(gossip_self_count(fx->g), 100); /* the old slot is still ours */
    /* Heard again from others, or our old process's own datagram replayed:
     * no more refutations, no duplicate. */
    deliver1(fx, 1, "pod-2", old);
    deliver1(fx, 2, "pod-0", old);
    old.heartbeat = 101;
    deliver1(fx, 3, "pod-3", old);
    assert_int_equal(stats(fx)->refutations, 1);
    assert_int_equal(fx->io.dup_calls, 0);
    assert_int_equal(stats(fx)->duplicates, 0);
    assert_int_equal(self_of(fx->g)->vol, VOL_NEW);
}

static void test_no_false_duplicate_from_older_lives(void **state)
{
    struct fixture *fx = *state;
    struct gossip_config cfg = base_cfg();
    cfg.incarnation = 1;
    cfg.vol = VOL_NEW;
    cfg.count = 0;
    fx_reopen(fx, &cfg);
    /* One peer remembers our old volume's life 6, another its life 7 (the
     * old process restarted once on that volume): we hear 6 first. Neither
     * answered a refutation of ours, so neither is a live duplicate. */
    deliver1(fx, 0, "pod-1", mk_entry("pod-0", "10.0.0.1:7946", 6, 40, VOL_OLD, 90, 0));
    deliver1(fx, 1, "pod-2", mk_entry("pod-0", "10.0.0.1:7946", 7, 12, VOL_OLD, 100, 0));
    assert_int_equal(fx->io.dup_calls, 0);
    assert_int_equal(stats(fx)->duplicates, 0);
    assert_true(gossip_incarnation(fx->g) > 7);
    assert_int_equal(gossip_self_count(fx->g), 100);
}

/* ---- SYNC ---- */

/* The bucket hashes of g's table, computed from what it shows. */
static void buckets_of(const struct gossip *g, uint32_t out[PROTO_BUCKETS])
{
    memset(out, 0, PROTO_BUCKETS * sizeof(out[0]));
    for (size_t i = 0; i < gossip_member_count(g); i++) {
        const struct gossip_member *m = gossip_member_at(g, i);
        for (unsigned k = 0; k < m->n_slots; k++)
            out[proto_bucket_of(m->name)] ^=
                proto_slot_share(m->name, m->slots[k].vol, m->slots[k].count);
    }
}

/* A SYNC from pod-9, which is not ready yet (reply flag): it may be answered
 * with up to 24 parts. send_repair_sync is the same from a ready pod. */
static void send_sync_as(struct fixture *fx, uint64_t nonce, const uint32_t *buckets, bool ready)
{
    struct proto_msg *m = &fx->msg;
    memset(m, 0, sizeof(*m));
    m->type = PROTO_SYNC;
    snprintf(m->from, sizeof(m->from), "pod-9");
    m->nonce = nonce;
    m->reply = !ready;
    m->n_buckets = PROTO_BUCKETS;
    memcpy(m->buckets, buckets, sizeof(m->buckets));
    uint8_t buf[PROTO_MAX_DATAGRAM];
    size_t len = encode_msg(m, buf);
    fx->io.n_sent = 0;
    gossip_receive(fx->g, 0, "10.0.0.9:7946", buf, len);
}

static void send_sync(struct fixture *fx, uint64_t nonce, const uint32_t *buckets)
{
    send_sync_as(fx, nonce, buckets, false);
}

/* Loads n members with long names (several per datagram) into g. */
static void load_members(struct gossip *g, int n, uint64_t base_count)
{
    char name[64];
    for (int i = 1; i <= n; i++) {
        snprintf(name, sizeof(name), "myapp-stateful-with-a-long-name-%04d", i);
        assert_int_equal(gossip_member_load(g, 0, name, "10.1.2.3:7946", 1, 1, GOSSIP_ALIVE), 0);
        assert_int_equal(
            gossip_slot_load(g, 0, name, 0x5000 + (uint64_t)i, base_count + (uint64_t)i), 0);
    }
}

/* ---- compact count updates (wire version 3) ---- */

/* A DELTA from pod-2 (a relay) carrying only compact updates. */
static void deliver_counts(struct fixture *fx, uint64_t now, const struct proto_count *c, size_t n)
{
    struct proto_msg *m = &fx->msg;
    memset(m, 0, sizeof(*m));
    m->type = PROTO_DELTA;
    snprintf(m->from, sizeof(m->from), "pod-2");
    memcpy(m->counts, c, n * sizeof(*c));
    m->n_counts = (uint32_t)n;
    uint8_t buf[PROTO_MAX_DATAGRAM];
    size_t len = encode_msg(m, buf);
    gossip_receive(fx->g, now, "10.0.0.3:7946", buf, len);
}

/* pod-1 and pod-2 speak for themselves; pod-2 speaks only version 2 when
 * old is set (its datagram says "v": 2, "w": [2, 2]). */
static void hello(struct fixture *fx, const char *name, const char *addr, uint64_t vol,
                  uint64_t count, bool old)
{
    struct proto_msg *m = &fx->msg;
    memset(m, 0, sizeof(*m));
    m->type = PROTO_HEARTBEAT;
    m->version = old ? 2 : 0;
    snprintf(m->from, sizeof(m->from), "%s", name);
    m->entries[0] = mk_entry(name, addr, 1, 1, vol, count, PROTO_STATE_ALIVE);
    m->n_entries = 1;
    uint8_t buf[PROTO_MAX_DATAGRAM];
    size_t len = encode_msg(m, buf);
    if (old) {
        /* Our encoder writes our own range; this peer's says [2, 2]. */
        assert_int_equal(buf[6], 0x92);
        assert_int_equal(buf[8], PROTO_VERSION_MAX);
        buf[8] = 2;
    }
    gossip_receive(fx->g, 0, addr, buf, len);
}

/* A round in which pod-1..3 answer every PING we send them, so none is
 * suspected (a state change would make its entry news, whole). */
static void tick_answered(struct fixture *fx, uint64_t now)
{
    static const char *names[] = {"pod-1", "pod-2", "pod-3"};
    static const char *addrs[] = {"10.0.0.2:7946", "10.0.0.3:7946", "10.0.0.4:7946"};
    static const uint64_t vols[] = {V1, V2, V3};
    size_t from = fx->io.n_sent;
    gossip_tick(fx->g, now);
    size_t to = fx->io.n_sent;
    for (size_t i = from; i < to; i++) {
        struct proto_msg in;
        decode_sent(fx, i, &in);
        for (int p = 0; p < 3; p++) {
            if (in.type != PROTO_PING || strcmp(fx->io.sent[i].addr, addrs[p]) != 0)
                continue;
            struct proto_msg *m = &fx->msg;
            memset(m, 0, sizeof(*m));
            m->type = PROTO_ACK;
            m->nonce = in.nonce;
            snprintf(m->from, sizeof(m->from), "%s", names[p]);
            m->entries[0] = mk_entry(names[p], addrs[p], 1, 1, vols[p], find(fx, names[p])->count,
                                     PROTO_STATE_ALIVE);
            m->n_entries = 1;
            m->version = p == 2 ? 2 : 0; /* pod-3 speaks only version 2 */
            uint8_t buf[PROTO_MAX_DATAGRAM];
            size_t len = encode_msg(m, buf);
            if (p == 2)
                buf[8] = 2; /* "w": [2, 2] */
            gossip_receive(fx->g, now + 10, addrs[p], buf, len);
        }
    }
}

/* Finds the compact update for (name, vol) in m; returns its count or -1. */
static int64_t count_in(const struct proto_msg *m, const char *name, uint64_t vol)
{
    uint64_t sid = proto_slot_id(name, vol);
    for (uint32_t k = 0; k < m->n_counts; k++)
        if (m->counts[k].sid == sid)
            return (int64_t)m->counts[k].count;
    return -1;
}

static bool entry_in(const struct proto_msg *m, const char *name)
{
    for (uint32_t k = 0; k < m->n_entries; k++)
        if (strcmp(m->entries[k].name, name) == 0)
            return true;
    return false;
}

/* A count that rose travels as (slot id, count), not as the member's whole
 * entry; a peer that speaks only version 2 gets the whole entry instead,
 * written in version 2. Membership news (a new member) goes whole. */
static void test_count_rise_goes_compact(void **state)
{
    struct fixture *fx = *state;
    hello(fx, "pod-1", "10.0.0.2:7946", V1, 3, false);
    hello(fx, "pod-2", "10.0.0.3:7946", V2, 4, false);
    hello(fx, "pod-3", "10.0.0.4:7946", V3, 4, true);
    struct proto_msg out;
    /* The three are new: whole entries, until sent their share of times. */
    fx->io.n_sent = 0;
    tick_answered(fx, 1000);
    bool whole_seen = false;
    for (size_t i = 0; i < fx->io.n_sent; i++) {
        decode_sent(fx, i, &out);
        if (out.type == PROTO_HEARTBEAT)
            whole_seen |= entry_in(&out, "pod-1") || entry_in(&out, "pod-2");
    }
    assert_true(whole_seen);
    /* 4 sends each (4 x ceil(log10(4 + 1))): done in a few rounds. */
    for (int r = 2; r < 6; r++)
        tick_answered(fx, 1000 * (uint64_t)r);

    /* pod-1's count rises (relayed by pod-2): news, compact. */
    struct proto_entry e = mk_entry("pod-1", "10.0.0.2:7946", 1, 1, V1, 10, PROTO_STATE_ALIVE);
    fx->io.n_sent = 0;
    deliver(fx, 5500, PROTO_DELTA, "pod-2", &e, 1);
    assert_int_equal(find(fx, "pod-1")->count, 10);
    tick_answered(fx, 6000);
    int compact = 0, whole_old = 0;
    for (size_t i = 0; i < fx->io.n_sent; i++) {
        decode_sent(fx, i, &out);
        if (out.type != PROTO_HEARTBEAT)
            continue;
        if (strcmp(fx->io.sent[i].addr, "10.0.0.4:7946") == 0) {
            /* pod-3 reads only version 2: the whole entry, no "c". */
            assert_int_equal(out.version, 2);
            assert_int_equal(out.n_counts, 0);
            whole_old += entry_in(&out, "pod-1");
        } else {
            assert_int_equal(out.version, PROTO_VERSION);
            assert_false(entry_in(&out, "pod-1"));
            compact += count_in(&out, "pod-1", V1) == 10;
        }
    }
    assert_true(compact + whole_old >= 1);
    /* Over the next rounds both kinds of peer hear it. */
    for (int r = 7; r < 12 && (compact == 0 || whole_old == 0); r++) {
        fx->io.n_sent = 0;
        tick_answered(fx, 1000 * (uint64_t)r);
        for (size_t i = 0; i < fx->io.n_sent; i++) {
            decode_sent(fx, i, &out);
            if (out.type != PROTO_HEARTBEAT)
                continue;
            if (strcmp(fx->io.sent[i].addr, "10.0.0.4:7946") == 0)
                whole_old += entry_in(&out, "pod-1");
            else
                compact += count_in(&out, "pod-1", V1) == 10;
        }
    }
    assert_true(compact >= 1);
    assert_true(whole_old >= 1);
}

/* An update for a slot we do not know yet is kept, not lost and not put
 * anywhere else: when the member's entry arrives (with an older count),
 * the kept count applies. Our own current slot is never taken from one. */
static void test_compact_update_waits_for_its_slot(void **state)
{
    struct fixture *fx = *state;
    uint64_t total = gossip_total(fx->g);
    struct proto_count c[2] = {{proto_slot_id("pod-7", V3), 42}, {proto_slot_id("pod-8", V1), 9}};
    deliver_counts(fx, 0, c, 2);
    assert_null(gossip_member_find(fx->g, "pod-7"));
    assert_int_equal(gossip_total(fx->g), total);
    assert_int_equal(stats(fx)->dropped[GOSSIP_DROP_DECODE], 0);

    /* pod-7's entry arrives, counting 40 on V3: the kept 42 applies. */
    deliver1(fx, 10, "pod-7", mk_entry("pod-7", "10.0.0.8:7946", 1, 1, V3, 40, PROTO_STATE_ALIVE));
    assert_int_equal(find(fx, "pod-7")->count, 42);
    /* A later update by id lands on that slot, by max. */
    struct proto_count up = {proto_slot_id("pod-7", V3), 50};
    deliver_counts(fx, 20, &up, 1);
    assert_int_equal(find(fx, "pod-7")->count, 50);
    up.count = 45;
    deliver_counts(fx, 30, &up, 1);
    assert_int_equal(find(fx, "pod-7")->count, 50);
    /* The same volume under another name is another slot: pod-8's kept
     * update does not land on pod-7, nor pod-7's on pod-8. */
    deliver1(fx, 40, "pod-8", mk_entry("pod-8", "10.0.0.9:7946", 1, 1, V3, 1, PROTO_STATE_ALIVE));
    assert_int_equal(find(fx, "pod-8")->count, 1);
    assert_int_equal(find(fx, "pod-7")->count, 50);

    /* Our own current slot: a peer ahead of it means our volume went back
     * in time (slot_behind), never a count we adopt. */
    struct proto_count own = {proto_slot_id("pod-0", VOL0), 99};
    deliver_counts(fx, 50, &own, 1);
    assert_int_equal(gossip_self_count(fx->g), 5);
    assert_int_equal(fx->io.behind_calls, 1);
    assert_int_equal(fx->io.behind_theirs, 99);
    own.count = 3;
    deliver_counts(fx, 60, &own, 1);
    assert_int_equal(fx->io.behind_calls, 1);
    assert_int_equal(gossip_self_count(fx->g), 5);
}

/* Queue bytes (entries past our own, and compact counts) in this round's
 * heartbeats. */
static size_t queue_bytes_sent(struct fixture *fx, size_t *beats)
{
    struct proto_msg out;
    size_t queue = 0;
    *beats = 0;
    for (size_t i = 0; i < fx->io.n_sent; i++) {
        decode_sent(fx, i, &out);
        if (out.type != PROTO_HEARTBEAT)
            continue;
        ++*beats;
        /* Liveness news (our unanswered probes make suspicions here)
         * goes first and outside the budget. */
        for (uint32_t k = 1; k < out.n_entries; k++)
            if (out.entries[k].state == PROTO_STATE_ALIVE)
                queue += proto_entry_size(&out.entries[k]);
        for (uint32_t k = 0; k < out.n_counts; k++)
            queue += proto_count_size(&out.counts[k]);
    }
    return queue;
}

/* 300 joins to pass on, relayed by pod-2 (as after a cold start). */
static void joins_relayed(struct fixture *fx)
{
    char name[64];
    for (int i = 1; i <= 300; i++) {
        snprintf(name, sizeof(name), "myapp-stateful-with-a-long-name-%04d", i);
        struct proto_entry e =
            mk_entry(name, "10.1.2.3:7946", 1, 1, 0x5000 + (uint64_t)i, 50, PROTO_STATE_ALIVE);
        deliver(fx, 0, PROTO_DELTA, "pod-2", &e, 1);
    }
}

/* The event queue's share of a round is bounded in bytes, however much is
 * owed (a cold start: every member a join to pass on): the round's
 * heartbeats carry at most GOSSIP_PIGGYBACK_BUDGET (2,800) bytes of it,
 * plus each heartbeat's own entry and any liveness news. */
static void test_piggyback_budget(void **state)
{
    struct fixture *fx = *state;
    joins_relayed(fx);
    for (int r = 1; r <= 5; r++) {
        fx->io.n_sent = 0;
        gossip_tick(fx->g, 1000 * (uint64_t)r);
        size_t beats;
        size_t queue = queue_bytes_sent(fx, &beats);
        assert_true(beats >= 3);
        print_message("round %d: %zu heartbeats, %zu bytes of queue\n", r, beats, queue);
        assert_true(queue <= 2800);
        assert_true(queue >= 2800 / 2); /* a long queue fills it */
    }
}

static void test_sync_answers_differing_buckets(void **state)
{
    struct fixture *fx = *state;
    load_members(fx->g, 40, 0);
    uint32_t b[PROTO_BUCKETS];
    buckets_of(fx->g, b);
    struct proto_msg out;

    /* Equal tables: one empty part says so. */
    send_sync(fx, 77, b);
    assert_int_equal(fx->io.n_sent, 1);
    assert_string_equal(fx->io.sent[0].addr, "10.0.0.9:7946");
    decode_sent(fx, 0, &out);
    assert_int_equal(out.type, PROTO_DELTA);
    assert_int_equal(out.nonce, 77);
    assert_int_equal(out.part, 1);
    assert_int_equal(out.parts, 1);
    assert_int_equal(out.whole, 1);
    assert_int_equal(out.n_entries, 0);

    /* One bucket differs: exactly its rows come back. */
    uint32_t diff = proto_bucket_of("myapp-stateful-with-a-long-name-0003");
    b[diff] ^= 1;
    send_sync(fx, 78, b);
    size_t want = 0;
    for (size_t i = 0; i < gossip_member_count(fx->g); i++)
        want += proto_bucket_of(gossip_member_at(fx->g, i)->name) == diff;
    assert_true(want >= 1);
    assert_int_equal(fx->io.n_sent, 1);
    decode_sent(fx, 0, &out);
    assert_int_equal(out.nonce, 78);
    assert_int_equal(out.parts, 1);
    assert_int_equal(out.whole, 1);
    assert_int_equal(out.n_entries, want);
    for (uint32_t k = 0; k < out.n_entries; k++) {
        assert_int_equal(proto_bucket_of(out.entries[k].name), diff);
        const struct gossip_member *m = find(fx, out.entries[k].name);
        assert_int_equal(proto_entry_visits(&out.entries[k]), m->count);
    }
}

static void test_sync_answer_in_numbered_parts(void **state)
{
    struct fixture *fx = *state;
    /* 70 rows of ~64 bytes: more than a datagram, less than the round's
     * budget for an asker that is not ready. */
    load_members(fx->g, 70, 1000);
    uint32_t zero[PROTO_BUCKETS] = {0}; /* an asker that holds nothing */
    send_sync(fx, 5, zero);
    size_t parts = fx->io.n_sent;
    assert_true(parts >= 2);
    char *seen = calloc(71, 1);
    assert_non_null(seen);
    struct proto_msg out;
    size_t rows = 0;
    for (size_t p = 0; p < parts; p++) {
        assert_true(fx->io.sent[p].len <= PROTO_MAX_DATAGRAM);
        decode_sent(fx, p, &out);
        assert_int_equal(out.type, PROTO_DELTA);
        assert_int_equal(out.nonce, 5);
        assert_int_equal(out.part, p + 1);
        assert_int_equal(out.parts, parts);
        assert_int_equal(out.whole, 1);
        for (uint32_t k = 0; k < out.n_entries; k++, rows++) {
            const char *dash = strrchr(out.entries[k].name, '-');
            long idx = dash ? strtol(dash + 1, NULL, 10) : 0;
            if (strcmp(out.entries[k].name, "pod-0") == 0)
                continue;
            assert_in_range(idx, 1, 70);
            assert_false(seen[idx]);
            seen[idx] = 1;
        }
    }
    assert_int_equal(rows, 71); /* every row once, ours included */
    free(seen);
}

static size_t sent_bytes(const struct fake_io *io)
{
    size_t n = 0;
    for (size_t i = 0; i < io->n_sent; i++)
        n += io->sent[i].len;
    return n;
}

static void test_sync_answer_cut_is_not_whole(void **state)
{
    struct fixture *fx = *state;
    load_members(fx->g, 600, 7); /* ~38 KB of rows: far more than a round's budget */
    uint32_t zero[PROTO_BUCKETS] = {0};
    send_sync(fx, 9, zero);
    /* An asker that is not ready gets whole entries, as many datagrams as
     * the round's SYNC budget holds (24), each part numbered, none whole. */
    assert_int_equal(fx->io.n_sent, 24);
    assert_true(sent_bytes(&fx->io) <= 24 * PROTO_MAX_DATAGRAM);
    struct proto_msg out;
    for (size_t p = 0; p < fx->io.n_sent; p++) {
        decode_sent(fx, p, &out);
        assert_int_equal(out.part, p + 1);
        assert_int_equal(out.parts, fx->io.n_sent);
        assert_int_equal(out.whole, 0);
        assert_true(out.n_entries > 0);
        assert_int_equal(out.n_counts, 0);
    }
    /* The budget is the round's, whoever asks: a second SYNC in the same
     * round gets at most what is left of it (the asker asks again next
     * round). */
    size_t first = sent_bytes(&fx->io);
    send_sync(fx, 10, zero);
    assert_true(first + sent_bytes(&fx->io) <= 24 * PROTO_MAX_DATAGRAM);
    assert_true(fx->io.n_sent <= 1);

    /* An asker that merged this answer asks again, a round later, and
     * converges: each answer makes the buckets it covered equal, until an
     * answer is whole. */
    struct fake_io aio;
    fake_io_init(&aio);
    struct gossip_config cfg = base_cfg();
    cfg.name = "pod-2";
    cfg.vol = V2;
    struct gossip *asker = fake_gossip_new(&aio, &cfg);
    int asks = 0;
    bool whole = false;
    while (!whole && asks < 40) {
        asks++;
        gossip_tick(fx->g, 1000 * (uint64_t)asks); /* a new round, a new budget */
        uint32_t b[PROTO_BUCKETS];
        buckets_of(asker, b);
        send_sync(fx, 100 + (uint64_t)asks, b);
        assert_true(fx->io.n_sent >= 1);
        assert_true(sent_bytes(&fx->io) <= 24 * PROTO_MAX_DATAGRAM);
        for (size_t p = 0; p < fx->io.n_sent; p++) {
            gossip_receive(asker, 0, "10.0.0.1:7946", fx->io.sent[p].buf, fx->io.sent[p].len);
            decode_sent(fx, p, &out);
            whole = out.whole;
        }
    }
    print_message("whole after %d SYNCs\n", asks);
    assert_true(whole);
    assert_true(asks >= 2);
    /* It holds all of ours, plus its own slot. */
    assert_int_equal(gossip_total(asker), gossip_total(fx->g) + 5);

    /* A ready pod repairing the same difference gets compact counts (slot
     * id, count), within the smaller repair budget, cut short: not whole. */
    gossip_tick(fx->g, 100000);
    send_sync_as(fx, 300, zero, true);
    assert_true(fx->io.n_sent >= 1);
    assert_true(sent_bytes(&fx->io) <= PROTO_MAX_DATAGRAM); /* GOSSIP_SYNC_REPAIR_BUDGET */
    size_t counts = 0;
    for (size_t p = 0; p < fx->io.n_sent; p++) {
        decode_sent(fx, p, &out);
        assert_int_equal(out.whole, 0);
        assert_int_equal(out.n_entries, 0);
        counts += out.n_counts;
    }
    /* ~10 bytes an update against ~64 an entry: about six times the rows
     * (a whole-entry datagram holds ~20 of these). */
    assert_true(counts >= 90);

    /* Repair end to end: counts rise on our side; the ready asker's SYNC
     * gets compact updates of the differing buckets, and merges them. */
    char name[64];
    for (int i = 1; i <= 600; i += 37) {
        snprintf(name, sizeof(name), "myapp-stateful-with-a-long-name-%04d", i);
        assert_int_equal(gossip_slot_load(fx->g, 0, name, 0x5000 + (uint64_t)i, 1000 + i), 0);
    }
    /* One repair datagram a round: the asker converges over a few rounds,
     * each answer leaving the buckets it covered equal. */
    whole = false;
    for (int r = 0; r < 10 && !whole; r++) {
        gossip_tick(fx->g, 200000 + 1000 * (uint64_t)r);
        uint32_t b[PROTO_BUCKETS];
        buckets_of(asker, b);
        send_sync_as(fx, 301 + (uint64_t)r, b, true);
        assert_true(fx->io.n_sent >= 1);
        for (size_t p = 0; p < fx->io.n_sent; p++) {
            decode_sent(fx, p, &out);
            assert_int_equal(out.n_entries, 0);
            whole = out.whole;
            gossip_receive(asker, 0, "10.0.0.1:7946", fx->io.sent[p].buf, fx->io.sent[p].len);
        }
    }
    assert_true(whole);
    assert_int_equal(gossip_total(asker), gossip_total(fx->g) + 5);
    gossip_free(asker);
    free(aio.sent);
}

/* A second core, pod-1 at 10.0.0.2:7946, holding n loaded members. */
struct peer {
    struct fake_io io;
    struct gossip *g;
};

static void peer_open(struct peer *p, int n)
{
    fake_io_init(&p->io);
    struct gossip_config cfg = base_cfg();
    cfg.name = "pod-1";
    cfg.addr = "10.0.0.2:7946";
    cfg.vol = V1;
    cfg.count = 33;
    cfg.seed = 7;
    p->g = fake_gossip_new(&p->io, &cfg);
    load_members(p->g, n, 10);
}

static void peer_close(struct peer *p)
{
    gossip_free(p->g);
    free(p->io.sent);
}

/* The SYNC fx sent last, handed to the peer: its answer lands in p->io. */
static uint64_t sync_to_peer(struct fixture *fx, struct peer *p)
{
    struct proto_msg m;
    uint64_t nonce = 0;
    size_t at = SIZE_MAX;
    for (size_t i = 0; i < fx->io.n_sent; i++) {
        decode_sent(fx, i, &m);
        if (m.type == PROTO_SYNC) {
            nonce = m.nonce;
            at = i;
        }
    }
    assert_true(at != SIZE_MAX);
    assert_string_equal(fx->io.sent[at].addr, "10.0.0.2:7946");
    p->io.n_sent = 0;
    gossip_receive(p->g, 0, "10.0.0.1:7946", fx->io.sent[at].buf, fx->io.sent[at].len);
    return nonce;
}

static void test_synced_after_whole_answer_to_our_nonce(void **state)
{
    struct fixture *fx = *state;
    struct peer p;
    peer_open(&p, 70);
    gossip_greet(fx->g, 0, "10.0.0.2:7946");
    uint64_t nonce = sync_to_peer(fx, &p);
    size_t parts = p.io.n_sent;
    assert_true(parts >= 2);
    struct sent *answer = calloc(parts, sizeof(*answer));
    assert_non_null(answer);
    memcpy(answer, p.io.sent, parts * sizeof(*answer));
    struct proto_msg m;
    decode_sent_io(&p.io, 0, &m);
    assert_int_equal(m.nonce, nonce);

    /* Parts out of order and repeated: not synced until the last one. */
    for (size_t k = parts; k-- > 1;) {
        gossip_receive(fx->g, 10, "10.0.0.2:7946", answer[k].buf, answer[k].len);
        gossip_receive(fx->g, 10, "10.0.0.2:7946", answer[k].buf, answer[k].len);
        assert_false(gossip_synced(fx->g, 10));
    }
    gossip_receive(fx->g, 10, "10.0.0.2:7946", answer[0].buf, answer[0].len);
    assert_true(gossip_synced(fx->g, 10));
    assert_int_equal(stats(fx)->syncs, 1);
    /* Whole: everything the peer held is ours now (it had not heard of us). */
    assert_int_equal(gossip_total(fx->g), gossip_total(p.g) + 5);
    assert_int_equal(gossip_member_count(fx->g), gossip_member_count(p.g) + 1);

    /* A restart (a new seed, as tallyd draws one) sends a new SYNC; the old
     * answer replayed to it does not make it whole. */
    struct gossip_config cfg = base_cfg();
    cfg.seed = 4242;
    cfg.incarnation = 6;
    fx_reopen(fx, &cfg);
    gossip_greet(fx->g, 0, "10.0.0.2:7946");
    for (size_t k = 0; k < parts; k++)
        gossip_receive(fx->g, 10, "10.0.0.2:7946", answer[k].buf, answer[k].len);
    assert_false(gossip_synced(fx->g, 10));
    assert_int_equal(stats(fx)->syncs, 0);
    /* The answer to the SYNC it did send does (a round later: the peer's
     * SYNC budget for the first round went to the first answer). */
    gossip_tick(p.g, 1000);
    sync_to_peer(fx, &p);
    assert_true(p.io.n_sent >= 1);
    for (size_t k = 0; k < p.io.n_sent; k++)
        gossip_receive(fx->g, 20, "10.0.0.2:7946", p.io.sent[k].buf, p.io.sent[k].len);
    assert_true(gossip_synced(fx->g, 20));
    assert_int_equal(gossip_total(fx->g), gossip_total(p.g) + 5);
    free(answer);
    peer_close(&p);
}

/* The SYNC fx sent in its latest round, if any: its reply flag (whole
 * entries asked for), or -1. */
static int last_sync_reply(struct fixture *fx)
{
    struct proto_msg m;
    int reply = -1;
    for (size_t i = 0; i < fx->io.n_sent; i++) {
        decode_sent(fx, i, &m);
        if (m.type == PROTO_SYNC)
            reply = m.reply;
    }
    return reply;
}

/* A ready node repairs with compact updates; one that holds updates for a
 * slot it does not know asks for whole entries instead, since compact
 * updates could never bring it the member's name. */
static void test_repair_asks_whole_for_unknown_slots(void **state)
{
    struct fixture *fx = *state;
    struct peer p;
    peer_open(&p, 10);
    gossip_greet(fx->g, 0, "10.0.0.2:7946");
    sync_to_peer(fx, &p);
    for (size_t k = 0; k < p.io.n_sent; k++)
        gossip_receive(fx->g, 10, "10.0.0.2:7946", p.io.sent[k].buf, p.io.sent[k].len);
    assert_true(gossip_synced(fx->g, 10));
    /* Ready: the repair SYNCs (every pushpull_every rounds) ask for compact. */
    int reply = -1;
    uint64_t t = 1000;
    for (; t <= 6000 && reply < 0; t += 1000) {
        fx->io.n_sent = 0;
        gossip_tick(fx->g, t);
        reply = last_sync_reply(fx);
    }
    assert_int_equal(reply, 0);
    /* An update for a slot nobody told us about: the next repair asks for
     * whole entries. */
    struct proto_count c = {proto_slot_id("pod-7", V3), 42};
    deliver_counts(fx, t, &c, 1);
    reply = -1;
    for (uint64_t end = t + 6000; t <= end && reply < 0; t += 1000) {
        fx->io.n_sent = 0;
        gossip_tick(fx->g, t);
        reply = last_sync_reply(fx);
    }
    assert_int_equal(reply, 1);
    peer_close(&p);
}

/* A DELTA from pod-1 carrying e as part part of parts of nonce's answer. */
static void send_part(struct fixture *fx, uint64_t nonce, uint16_t part, uint16_t parts,
                      uint8_t whole, const struct proto_entry *e)
{
    struct proto_msg *m = &fx->msg;
    memset(m, 0, sizeof(*m));
    m->type = PROTO_DELTA;
    snprintf(m->from, sizeof(m->from), "pod-1");
    m->nonce = nonce;
    m->part = part;
    m->parts = parts;
    m->whole = whole;
    m->entries[0] = *e;
    m->n_entries = 1;
    uint8_t buf[PROTO_MAX_DATAGRAM];
    size_t len = encode_msg(m, buf);
    gossip_receive(fx->g, 10, "10.0.0.2:7946", buf, len);
}

static void test_synced_needs_whole_flag(void **state)
{
    struct fixture *fx = *state;
    gossip_greet(fx->g, 0, "10.0.0.2:7946");
    struct proto_msg m;
    decode_sent(fx, 1, &m);
    assert_int_equal(m.type, PROTO_SYNC);
    uint64_t nonce = m.nonce;
    struct proto_entry e = mk_entry("pod-1", "10.0.0.2:7946", 1, 1, V1, 3, 0);
    /* Every part of an answer that says it is not whole (it was cut). */
    send_part(fx, nonce, 1, 1, 0, &e);
    assert_false(gossip_synced(fx->g, 10));
    assert_int_equal(find(fx, "pod-1")->count, 3); /* merged all the same */
    /* Another nonce, whole: not ours. */
    send_part(fx, nonce + 1, 1, 1, 1, &e);
    assert_false(gossip_synced(fx->g, 10));
    /* Part 1 of 2 of ours: not all of it. */
    send_part(fx, nonce, 1, 2, 1, &e);
    assert_false(gossip_synced(fx->g, 10));
    /* A DELTA that answers no SYNC (no parts): not an answer. */
    deliver1(fx, 10, "pod-1", e);
    assert_false(gossip_synced(fx->g, 10));
    /* Ours, whole, every part: synced. */
    send_part(fx, nonce, 1, 1, 1, &e);
    assert_true(gossip_synced(fx->g, 10));
    assert_int_equal(stats(fx)->syncs, 1);
}

static void test_synced_after_recovery_ms(void **state)
{
    struct fixture *fx = *state;
    assert_false(gossip_synced(fx->g, 0));
    assert_false(gossip_synced(fx->g, 4999));
    assert_true(gossip_synced(fx->g, 5000));
    /* Heartbeats naming us, digests and deltas do not end the wait. */
    struct proto_entry es[] = {mk_entry("pod-1", "10.0.0.2:7946", 1, 2, V1, 0, 0),
                               mk_entry("pod-0", "10.0.0.1:7946", 1, 1, VOL0, 5, 0)};
    deliver(fx, 12, PROTO_HEARTBEAT, "pod-1", es, 2);
    deliver(fx, 12, PROTO_DELTA, "pod-2", es, 2);
    assert_false(gossip_synced(fx->g, 13));
    /* No wait configured (a first pod): ready at once. */
    struct gossip_config cfg = base_cfg();
    cfg.recovery_ms = 0;
    fx_reopen(fx, &cfg);
    assert_true(gossip_synced(fx->g, 0));
}

/* ---- bounds ---- */

static void test_member_cap(void **state)
{
    struct fixture *fx = *state;
    struct gossip_config cfg = base_cfg();
    cfg.max_members = 10;
    fx_reopen(fx, &cfg);
    char name[32];
    uint64_t total = 5;
    for (int i = 1; i <= 20; i++) {
        snprintf(name, sizeof(name), "fake-%d", i);
        deliver1(fx, 0, "pod-9",
                 mk_entry(name, "10.7.0.1:7946", 1, 1, 0x700 + (uint64_t)i, 100, 0));
        if (i < 10)
            total += 100;
    }
    assert_int_equal(gossip_member_count(fx->g), 10);
    assert_int_equal(stats(fx)->dropped[GOSSIP_DROP_MEMBERS], 11);
    assert_string_equal(gossip_drop_str(GOSSIP_DROP_MEMBERS), "members_full");
    assert_null(gossip_member_find(fx->g, "fake-10"));
    assert_int_equal(gossip_total(fx->g), total);
    /* Members already known still merge. */
    deliver1(fx, 1, "pod-9", mk_entry("fake-1", "10.7.0.1:7946", 1, 2, 0x701, 150, 0));
    assert_int_equal(gossip_total(fx->g), total + 50);
    /* Loading past the cap says so. */
    assert_int_equal(gossip_member_load(fx->g, 0, "x", "10.7.0.2:7946", 1, 1, GOSSIP_ALIVE),
                     -ENOSPC);
    assert_int_equal(gossip_slot_load(fx->g, 0, "y", 0x800, 1), -ENOSPC);
    assert_int_equal(gossip_member_count(fx->g), 10);
}

static void test_member_and_slot_load(void **state)
{
    struct fixture *fx = *state;
    uint64_t v = gossip_table_version(fx->g);
    assert_int_equal(gossip_member_load(fx->g, 0, "pod-1", "10.0.0.2:7946", 3, 9, GOSSIP_ALIVE), 0);
    assert_int_equal(gossip_member_load(fx->g, 0, "pod-2", "10.0.0.3:7946", 2, 4, GOSSIP_LEFT), 0);
    assert_int_equal(gossip_slot_load(fx->g, 0, "pod-1", V1, 50), 0);
    assert_int_equal(gossip_slot_load(fx->g, 0, "pod-1", V1, 20), 0); /* max-merged */
    assert_int_equal(gossip_slot_load(fx->g, 0, "pod-2", V2, 7), 0);
    assert_int_equal(gossip_slot_load(fx->g, 0, "pod-3", V3, 4), 0); /* slot only */
    assert_true(gossip_table_version(fx->g) > v);
    /* Not heard in this life yet: suspect, unless it left. */
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_SUSPECT);
    assert_int_equal(find(fx, "pod-1")->incarnation, 3);
    assert_int_equal(find(fx, "pod-2")->state, GOSSIP_LEFT);
    assert_int_equal(find(fx, "pod-3")->state, GOSSIP_SUSPECT);
    assert_int_equal(find(fx, "pod-1")->count, 50);
    /* Our own current slot comes from the count file, never from a copy;
     * an earlier volume of ours does load. */
    assert_int_equal(gossip_slot_load(fx->g, 0, "pod-0", VOL0, 999), 0);
    assert_int_equal(gossip_self_count(fx->g), 5);
    assert_int_equal(gossip_slot_load(fx->g, 0, "pod-0", VOL_OLD, 30), 0);
    assert_int_equal(gossip_self_count(fx->g), 35);
    assert_int_equal(gossip_total(fx->g), 35 + 50 + 7 + 4);
    /* Our last life as saved: our incarnation moves past it. */
    assert_int_equal(gossip_member_load(fx->g, 0, "pod-0", "10.0.0.1:7946", 9, 3, GOSSIP_ALIVE), 0);
    assert_int_equal(gossip_incarnation(fx->g), 10);
    assert_int_equal(gossip_member_load(fx->g, 0, "pod-0", "10.0.0.1:7946", 2, 3, GOSSIP_ALIVE), 0);
    assert_int_equal(gossip_incarnation(fx->g), 10);
    assert_int_equal(self_of(fx->g)->state, GOSSIP_ALIVE);
    /* An older copy does not roll a member back. */
    assert_int_equal(gossip_member_load(fx->g, 0, "pod-1", "10.0.0.8:7946", 2, 99, GOSSIP_ALIVE),
                     0);
    assert_int_equal(find(fx, "pod-1")->incarnation, 3);
    assert_string_equal(find(fx, "pod-1")->addr, "10.0.0.2:7946");
    /* Heard live: alive again. */
    deliver1(fx, 1, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 3, 10, V1, 50, 0));
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_ALIVE);
    /* Bad input is refused, nothing changes. */
    char longname[PROTO_NAME_MAX + 2];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_int_equal(gossip_slot_load(fx->g, 0, "pod-1", 0, 1), -EINVAL);
    assert_int_equal(gossip_slot_load(fx->g, 0, "pod-1", V2, PROTO_VALUE_MAX + 1), -EINVAL);
    assert_int_equal(gossip_slot_load(fx->g, 0, longname, V2, 1), -EINVAL);
    assert_int_equal(gossip_slot_load(fx->g, 0, "", V2, 1), -EINVAL);
    assert_int_equal(gossip_member_load(fx->g, 0, longname, "a:1", 1, 1, GOSSIP_ALIVE), -EINVAL);
    assert_int_equal(gossip_member_load(fx->g, 0, "pod-4", "a:1", PROTO_VALUE_MAX + 1, 1, 0),
                     -EINVAL);
    assert_int_equal(gossip_member_load(fx->g, 0, "pod-4", "a:1", 1, 1, (enum gossip_state)7),
                     -EINVAL);
    assert_null(gossip_member_find(fx->g, "pod-4"));
    assert_int_equal(gossip_total(fx->g), 35 + 50 + 7 + 4);
}

static void test_count_set_saturates(void **state)
{
    struct fixture *fx = *state;
    gossip_count_set(fx->g, UINT64_MAX);
    assert_int_equal(gossip_self_count(fx->g), PROTO_VALUE_MAX);
    gossip_count_set(fx->g, PROTO_VALUE_MAX + 7);
    assert_int_equal(gossip_self_count(fx->g), PROTO_VALUE_MAX);
    /* What we send stays within what a peer accepts. */
    deliver1(fx, 0, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 1, 1, V1, 0, 0));
    fx->io.n_sent = 0;
    gossip_tick(fx->g, 1000);
    assert_true(fx->io.n_sent >= 1);
    struct proto_msg m;
    decode_sent(fx, 0, &m);
    assert_int_equal(proto_entry_visits(&m.entries[0]), PROTO_VALUE_MAX);
}

static void test_total_saturates(void **state)
{
    struct fixture *fx = *state;
    char name[32];
    /* 2^64 / (16 slots * 2^53) = 128 members full to the brim. */
    for (int i = 1; i <= 130; i++) {
        snprintf(name, sizeof(name), "pod-%d", i);
        for (uint64_t k = 1; k <= PROTO_MAX_SLOTS; k++)
            assert_int_equal(gossip_slot_load(fx->g, 0, name, k, PROTO_VALUE_MAX), 0);
        assert_int_equal(find(fx, name)->count, PROTO_MAX_SLOTS * PROTO_VALUE_MAX);
    }
    assert_int_equal(gossip_total(fx->g), UINT64_MAX);
    /* A seventeenth slot for one name is dropped and counted. */
    assert_int_equal(gossip_slot_load(fx->g, 0, "pod-1", 999, 1), -ENOSPC);
    assert_int_equal(stats(fx)->dropped[GOSSIP_DROP_SLOTS], 1);
}

static void test_table_version_moves(void **state)
{
    struct fixture *fx = *state;
    uint64_t v = gossip_table_version(fx->g);
#define MOVED()                                                                                    \
    do {                                                                                           \
        assert_true(gossip_table_version(fx->g) > v);                                              \
        v = gossip_table_version(fx->g);                                                           \
    } while (0)
#define STILL() assert_int_equal(gossip_table_version(fx->g), v)
    deliver1(fx, 0, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 1, 1, V1, 10, 0));
    MOVED(); /* a new member */
    deliver1(fx, 0, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 1, 1, V1, 10, 0));
    STILL(); /* nothing new */
    deliver1(fx, 0, "pod-2", mk_entry("pod-1", "10.0.0.2:7946", 1, 1, V1, 11, 0));
    MOVED(); /* a slot rose */
    deliver1(fx, 0, "pod-2", mk_entry("pod-1", "10.0.0.2:7946", 1, 1, V2, 1, 0));
    MOVED(); /* a new slot */
    gossip_count_set(fx->g, 6);
    MOVED();
    gossip_count_set(fx->g, 6);
    STILL();
    /* Failure detection: probes unanswered -> suspect -> dead. */
    uint64_t t = 0;
    for (int i = 0; i < 10 && find(fx, "pod-1")->state == GOSSIP_ALIVE; i++) {
        t += 1000;
        gossip_tick(fx->g, t);
    }
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_SUSPECT);
    MOVED();
    t += gossip_dead_ms(fx->g) + 1;
    gossip_tick(fx->g, t);
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_DEAD);
    MOVED();
    deliver1(fx, t, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 2, 1, V1, 11, 0));
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_ALIVE);
    MOVED();
    struct proto_entry e = mk_entry("pod-1", "10.0.0.2:7946", 2, 2, V1, 11, PROTO_STATE_LEFT);
    deliver(fx, t, PROTO_LEAVE, "pod-1", &e, 1);
    MOVED();
    assert_int_equal(gossip_slot_move(fx->g, VOL_NEW), 0);
    MOVED();
    gossip_leave(fx->g, t);
    MOVED();
#undef MOVED
#undef STILL
}

/* ---- failure detection ---- */

/* The probe timeout at 1 s rounds: a seventh of the round (gossip_int.h's
 * GOSSIP_PROBE_PHASES). */
#define PT 142

/* The nonce of the PING fx sent to addr since n_sent was reset (0: none),
 * and how many there were. */
static uint64_t ping_to(struct fixture *fx, const char *addr, int *count)
{
    struct proto_msg m;
    uint64_t nonce = 0;
    *count = 0;
    for (size_t i = 0; i < fx->io.n_sent; i++) {
        decode_sent(fx, i, &m);
        if (m.type == PROTO_PING && strcmp(fx->io.sent[i].addr, addr) == 0) {
            nonce = m.nonce;
            ++*count;
        }
    }
    return nonce;
}

/* pod-1 answers a PING: an ACK with the nonce and its own entry. */
static void ack_from_pod1(struct fixture *fx, uint64_t now, uint64_t nonce, uint64_t hb)
{
    struct proto_msg *m = &fx->msg;
    memset(m, 0, sizeof(*m));
    m->type = PROTO_ACK;
    snprintf(m->from, sizeof(m->from), "pod-1");
    m->nonce = nonce;
    m->entries[0] = mk_entry("pod-1", "10.0.0.2:7946", 1, hb, V1, 0, 0);
    m->n_entries = 1;
    uint8_t buf[PROTO_MAX_DATAGRAM];
    size_t len = encode_msg(m, buf);
    gossip_receive(fx->g, now, "10.0.0.2:7946", buf, len);
}

/* Ticks at every moment the core asks for (gossip_next_ms) up to and
 * including until. */
static void tick_until(struct fixture *fx, uint64_t until)
{
    for (int guard = 0; guard < 10000; guard++) {
        uint64_t next = gossip_next_ms(fx->g);
        if (next > until)
            return;
        gossip_tick(fx->g, next);
    }
    fail_msg("gossip_next_ms() does not move");
}

/* memberlist's timing inside one probe interval: PING, then every probe
 * timeout (a seventh of a round, PT) the PING again (and PING_REQs when there are
 * helpers), SUSPECT a round after it began; a probe starts every half
 * round. */
static void test_detection_timeline(void **state)
{
    struct fixture *fx = *state;
    deliver1(fx, 0, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 1, 1, V1, 0, 0));
    uint64_t lo = gossip_suspect_ms(fx->g), hi = gossip_dead_ms(fx->g);
    assert_int_equal(lo, 4000); /* 4 rounds x max(1, log10 N) */
    assert_int_equal(hi, 6 * lo);
    /* A member that answers its probe stays alive. */
    int n;
    fx->io.n_sent = 0;
    gossip_tick(fx->g, 1000);
    uint64_t nonce = ping_to(fx, "10.0.0.2:7946", &n);
    assert_int_equal(n, 1);
    assert_int_equal(gossip_next_ms(fx->g), 1000 + PT); /* the probe timeout */
    ack_from_pod1(fx, 1100, nonce, 2);
    /* Nothing until the second probe of the round, half a round in. */
    fx->io.n_sent = 0;
    tick_until(fx, 1499);
    assert_int_equal(ping_to(fx, "10.0.0.2:7946", &n), 0);
    /* That one goes unanswered: the PING again every probe timeout (with
     * PING_REQs when there are helpers), SUSPECT a round after it began. */
    gossip_tick(fx->g, 1500);
    uint64_t nonce2 = ping_to(fx, "10.0.0.2:7946", &n);
    assert_int_equal(n, 1);
    assert_true(nonce2 != nonce);
    for (uint64_t due = 1500 + PT; due <= 1500 + 6 * PT; due += PT) {
        fx->io.n_sent = 0;
        tick_until(fx, due);
        assert_int_equal(ping_to(fx, "10.0.0.2:7946", &n), nonce2);
        assert_int_equal(n, 1);
        assert_int_equal(find(fx, "pod-1")->state, GOSSIP_ALIVE);
    }
    tick_until(fx, 1500 + 7 * PT - 1);
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_ALIVE);
    tick_until(fx, 1500 + 7 * PT);
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_SUSPECT);
    assert_int_equal(stats(fx)->suspicions, 1);
    /* With nobody else to confirm it (two members), the suspicion lasts the
     * minimum (memberlist: k = 0 when n - 2 < k). */
    tick_until(fx, 1500 + 7 * PT + lo);
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_SUSPECT);
    tick_until(fx, 1500 + 7 * PT + lo + 1);
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_DEAD);
    /* Its slot stays counted. */
    assert_int_equal(gossip_total(fx->g), 5);
}

/* Independent accusers shorten a suspicion (a relay of our own claim does
 * not: it names us); the same one twice counts once; with two more it lasts
 * the minimum. */
static void test_suspicion_confirmations(void **state)
{
    struct fixture *fx = *state;
    deliver1(fx, 0, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 1, 1, V1, 0, 0));
    deliver1(fx, 0, "pod-2", mk_entry("pod-2", "10.0.0.3:7946", 1, 1, V2, 0, 0));
    deliver1(fx, 0, "pod-3", mk_entry("pod-3", "10.0.0.4:7946", 1, 1, V3, 0, 0));
    uint64_t lo = gossip_suspect_ms(fx->g);
    struct proto_entry claim = mk_entry("pod-1", "10.0.0.2:7946", 1, 2, V1, 0, PROTO_STATE_SUSPECT);
    snprintf(claim.accuser, sizeof(claim.accuser), "pod-2");
    deliver1(fx, 5000, "pod-4", claim);
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_SUSPECT);
    deliver1(fx, 5100, "pod-5", claim); /* pod-2 again */
    snprintf(claim.accuser, sizeof(claim.accuser), "pod-0");
    deliver1(fx, 5100, "pod-4", claim); /* our own claim relayed: not ours to count */
    tick_until(fx, 5000 + lo + 1);
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_SUSPECT);
    snprintf(claim.accuser, sizeof(claim.accuser), "pod-3");
    deliver1(fx, 5000 + lo + 2, "pod-4", claim);
    tick_until(fx, 5000 + lo + 3);
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_DEAD);
}

/* An ACK from name at addr (its own entry first) with that nonce. */
static void ack_from(struct fixture *fx, uint64_t now, const char *name, const char *addr,
                     uint64_t nonce)
{
    struct proto_msg *m = &fx->msg;
    memset(m, 0, sizeof(*m));
    m->type = PROTO_ACK;
    snprintf(m->from, sizeof(m->from), "%s", name);
    m->nonce = nonce;
    m->entries[0] = mk_entry(name, addr, 1, 1, V1, 0, 0);
    m->n_entries = 1;
    uint8_t buf[PROTO_MAX_DATAGRAM];
    size_t len = encode_msg(m, buf);
    gossip_receive(fx->g, now, addr, buf, len);
}

static void ping_req_from_pod2(struct fixture *fx, uint64_t now, uint64_t nonce, const char *target)
{
    struct proto_msg *m = &fx->msg;
    memset(m, 0, sizeof(*m));
    m->type = PROTO_PING_REQ;
    snprintf(m->from, sizeof(m->from), "pod-2");
    m->nonce = nonce;
    snprintf(m->target, sizeof(m->target), "%s", target);
    uint8_t buf[PROTO_MAX_DATAGRAM];
    size_t len = encode_msg(m, buf);
    fx->io.n_sent = 0;
    gossip_receive(fx->g, now, "10.0.0.3:7946", buf, len);
}

/* SWIM's indirect probe, both ends: we probe for pod-2, and pod-2 probes
 * for us. */
static void test_indirect_probe(void **state)
{
    struct fixture *fx = *state;
    struct proto_msg m;
    int n;
    deliver1(fx, 0, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 1, 1, V1, 0, 0));
    deliver1(fx, 0, "pod-2", mk_entry("pod-2", "10.0.0.3:7946", 1, 1, V2, 0, 0));
    /* As the helper: PING the target, forward its ACK once, with the
     * asker's nonce. */
    ping_req_from_pod2(fx, 100, 77, "10.0.0.2:7946");
    uint64_t ours = ping_to(fx, "10.0.0.2:7946", &n);
    assert_int_equal(n, 1);
    assert_true(ours != 0 && ours != 77);
    fx->io.n_sent = 0;
    ack_from(fx, 150, "pod-1", "10.0.0.2:7946", ours);
    assert_int_equal(fx->io.n_sent, 1);
    decode_sent(fx, 0, &m);
    assert_int_equal(m.type, PROTO_ACK);
    assert_int_equal(m.nonce, 77);
    assert_string_equal(fx->io.sent[0].addr, "10.0.0.3:7946");
    fx->io.n_sent = 0;
    ack_from(fx, 160, "pod-1", "10.0.0.2:7946", ours);
    assert_int_equal(fx->io.n_sent, 0);
    /* No probing for addresses we do not know live: we are no reflector. */
    ping_req_from_pod2(fx, 200, 78, "10.9.9.9:7946");
    assert_int_equal(fx->io.n_sent, 0);
    ping_req_from_pod2(fx, 200, 79, "10.0.0.1:7946"); /* ourselves */
    assert_int_equal(fx->io.n_sent, 0);

    /* As the asker: a PING unanswered for a round, then the PING again and
     * a PING_REQ to the other member with the same nonce. The walk is
     * shuffled, so the target is whichever member the first PING went to. */
    fx->io.n_sent = 0;
    gossip_tick(fx->g, 1000);
    int n1, n2;
    uint64_t p1 = ping_to(fx, "10.0.0.2:7946", &n1);
    uint64_t p2 = ping_to(fx, "10.0.0.3:7946", &n2);
    assert_int_equal(n1 + n2, 1);
    const char *target = n1 ? "10.0.0.2:7946" : "10.0.0.3:7946";
    const char *target_name = n1 ? "pod-1" : "pod-2";
    const char *helper = n1 ? "10.0.0.3:7946" : "10.0.0.2:7946";
    const char *helper_name = n1 ? "pod-2" : "pod-1";
    uint64_t probe = n1 ? p1 : p2;
    fx->io.n_sent = 0;
    gossip_tick(fx->g, 2000);
    assert_int_equal(ping_to(fx, target, &n), probe);
    bool asked = false;
    for (size_t i = 0; i < fx->io.n_sent; i++) {
        decode_sent(fx, i, &m);
        if (m.type != PROTO_PING_REQ)
            continue;
        assert_string_equal(fx->io.sent[i].addr, helper);
        assert_string_equal(m.target, target);
        assert_int_equal(m.nonce, probe);
        asked = true;
    }
    assert_true(asked);
    /* The helper's forwarded ACK is as good as the target's own. */
    ack_from(fx, 2100, helper_name, helper, probe);
    for (uint64_t t = 3000; t <= 6000; t += 1000)
        gossip_tick(fx->g, t);
    assert_int_equal(find(fx, target_name)->state, GOSSIP_ALIVE);
}

static void test_suspicion_without_confirmation_lasts_longest(void **state)
{
    struct fixture *fx = *state;
    deliver1(fx, 0, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 1, 1, V1, 0, 0));
    deliver1(fx, 0, "pod-2", mk_entry("pod-2", "10.0.0.3:7946", 1, 1, V2, 0, 0));
    deliver1(fx, 0, "pod-3", mk_entry("pod-3", "10.0.0.4:7946", 1, 1, V3, 0, 0));
    /* pod-2 accuses pod-1; nobody confirms. */
    struct proto_entry claim = mk_entry("pod-1", "10.0.0.2:7946", 1, 2, V1, 0, PROTO_STATE_SUSPECT);
    snprintf(claim.accuser, sizeof(claim.accuser), "pod-2");
    deliver1(fx, 100, "pod-2", claim);
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_SUSPECT);
    uint64_t hi = gossip_dead_ms(fx->g);
    gossip_tick(fx->g, 100 + hi);
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_SUSPECT);
    gossip_tick(fx->g, 100 + hi + 1);
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_DEAD);
}

/* Lifeguard: a node that had to refute a suspicion about itself is likely
 * the slow one; its probe timeout and interval stretch before it accuses
 * anyone. */
static void test_lifeguard_slow_node_probes_slower(void **state)
{
    struct fixture *fx = *state;
    deliver1(fx, 0, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 1, 1, V1, 0, 0));
    /* pod-1 says we are suspect at our incarnation (5): we refute. */
    deliver1(fx, 0, "pod-1",
             mk_entry("pod-0", "10.0.0.1:7946", 5, 0, VOL0, 5, PROTO_STATE_SUSPECT));
    assert_int_equal(gossip_incarnation(fx->g), 6);
    int n;
    fx->io.n_sent = 0;
    gossip_tick(fx->g, 1000);
    uint64_t nonce = ping_to(fx, "10.0.0.2:7946", &n);
    assert_int_equal(n, 1);
    tick_until(fx, 1000 + 2 * PT - 1); /* a probe timeout of 2 x PT, and no second probe */
    assert_int_equal(ping_to(fx, "10.0.0.2:7946", &n), nonce);
    assert_int_equal(n, 1);
    tick_until(fx, 1000 + 2 * PT);
    assert_int_equal(ping_to(fx, "10.0.0.2:7946", &n), nonce);
    assert_int_equal(n, 2);
    tick_until(fx, 1000 + 14 * PT - 1);
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_ALIVE);
    tick_until(fx, 1000 + 14 * PT); /* a probe interval of 2 rounds, not 1 */
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_SUSPECT);
}

/* A helper that could not reach the member it was asked to probe says so
 * (NACK) before the asker gives up; one that reached it forwards the ACK
 * and sends no NACK. */
static void test_ping_req_nack(void **state)
{
    struct fixture *fx = *state;
    deliver1(fx, 0, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 1, 1, V1, 0, 0));
    deliver1(fx, 0, "pod-2", mk_entry("pod-2", "10.0.0.3:7946", 1, 1, V2, 0, 0));
    struct proto_msg *m = &fx->msg;
    uint8_t buf[PROTO_MAX_DATAGRAM];
    for (int answered = 0; answered < 2; answered++) {
        uint64_t t0 = 10000 * (uint64_t)(answered + 1);
        gossip_tick(fx->g, t0 - 100); /* a round: our own probe runs too */
        memset(m, 0, sizeof(*m));
        m->type = PROTO_PING_REQ;
        snprintf(m->from, sizeof(m->from), "pod-2");
        m->nonce = 900 + (uint64_t)answered;
        snprintf(m->target, sizeof(m->target), "10.0.0.2:7946");
        size_t len = encode_msg(m, buf);
        fx->io.n_sent = 0;
        gossip_receive(fx->g, t0, "10.0.0.3:7946", buf, len);
        int n;
        uint64_t ours = ping_to(fx, "10.0.0.2:7946", &n);
        assert_int_equal(n, 1);
        if (answered)
            ack_from_pod1(fx, t0 + 10, ours, 3);
        fx->io.n_sent = 0;
        /* The asker's next probe timeout ends PT after it asked: the NACK
         * is due before that. */
        tick_until(fx, t0 + PT - 1);
        int nacks = 0;
        for (size_t i = 0; i < fx->io.n_sent; i++) {
            struct proto_msg out;
            decode_sent(fx, i, &out);
            if (out.type != PROTO_NACK)
                continue;
            assert_string_equal(fx->io.sent[i].addr, "10.0.0.3:7946");
            assert_int_equal(out.nonce, 900);
            nacks++;
        }
        assert_int_equal(nacks, answered ? 0 : 1);
    }
}

static void test_suspect_timeout_grows_with_log_n(void **state)
{
    struct fixture *fx = *state;
    uint64_t small = gossip_suspect_ms(fx->g);
    char name[32];
    for (int i = 1; i < 1000; i++) {
        snprintf(name, sizeof(name), "pod-%d", i);
        deliver1(fx, 0, name, mk_entry(name, "10.1.0.1:7946", 1, 1, V1, 0, 0));
    }
    uint64_t big = gossip_suspect_ms(fx->g);
    assert_true(big > small);
    assert_true(big <= 40 * 1000); /* log-scaled, not linear */
}

/* ---- datagrams ---- */

static void test_datagrams_bounded_with_1000_members(void **state)
{
    struct fixture *fx = *state;
    char name[64], addr[64];
    struct proto_entry es[10];
    for (int i = 1; i < 1000; i += 5) {
        size_t n = 0;
        for (int j = i; j < i + 5 && j < 1000; j++) {
            /* Long names and addresses, three slots: the worst case for packing. */
            snprintf(name, sizeof(name), "myapp-stateful-with-a-rather-long-name-%04d", j);
            snprintf(addr, sizeof(addr), "[fd00:1234:5678:9abc::%x]:7946", j);
            es[n] = mk_entry(name, addr, 1700000000000ull + (uint64_t)j, 123456789,
                             0x123456789abcdef0ull + (uint64_t)j, 987654321, 0);
            add_slot(&es[n], 0x0fedcba987654321ull + (uint64_t)j, 123456789);
            add_slot(&es[n], 0x0f0f0f0f0f0f0f0full + (uint64_t)j, 1);
            n++;
        }
        deliver(fx, 0, PROTO_DELTA, "x", es, n);
    }
    assert_int_equal(gossip_member_count(fx->g), 1000);
    uint64_t t = 0;
    /* Every member must be sent at some point, and never oversize. The
     * queue gets 2,800 bytes a round (GOSSIP_PIGGYBACK_BUDGET), and every
     * target the least-sent rows: 3 heartbeats carry the same ~6 of these
     * ~142-byte entries, so 999 joins take about 170 rounds, more while
     * unanswered probes make suspicions and deaths, which go first. */
    char *seen = calloc(1000, 1);
    assert_non_null(seen);
    struct proto_msg *m = malloc(sizeof(*m));
    assert_non_null(m);
    for (int r = 0; r < 400; r++) {
        t += 1000;
        fx->io.n_sent = 0;
        gossip_tick(fx->g, t);
        for (size_t i = 0; i < fx->io.n_sent; i++) {
            assert_true(fx->io.sent[i].len <= PROTO_MAX_DATAGRAM);
            decode_sent(fx, i, m);
            for (uint32_t k = 0; k < m->n_entries; k++) {
                const char *dash = strrchr(m->entries[k].name, '-');
                int idx = (int)strtol(dash + 1, NULL, 10);
                if (idx >= 0 && idx < 1000)
                    seen[idx] = 1;
            }
        }
        /* Datagrams per round bounded independently of N: fanout
         * heartbeats, one SYNC or digest, a probe's PING and PING_REQs, one
         * dead peer and one suspect's check. */
        assert_true(fx->io.n_sent <= 3 + 1 + 4 + 1 + 1);
    }
    int missing = 0;
    for (int i = 1; i < 1000; i++)
        missing += !seen[i];
    assert_int_equal(missing, 0);
    assert_int_equal(fx->io.oversize, 0);
    free(seen);
    free(m);
}

static void test_malformed_counted(void **state)
{
    struct fixture *fx = *state;
    const uint8_t junk[] = {0x93, 0x01, 0x02};
    gossip_receive(fx->g, 0, "10.0.0.9:1", junk, sizeof(junk));
    gossip_receive(fx->g, 0, "10.0.0.9:1", junk, 0);
    uint8_t big[PROTO_MAX_DATAGRAM + 10];
    memset(big, 0xc1, sizeof(big));
    gossip_receive(fx->g, 0, "10.0.0.9:1", big, sizeof(big));
    const struct gossip_stats *st = stats(fx);
    assert_int_equal(st->dropped[GOSSIP_DROP_DECODE], 3);
    assert_int_equal(st->datagrams_in, 3);
    assert_int_equal(gossip_member_count(fx->g), 1);
    assert_false(gossip_synced(fx->g, 1));

    /* A valid datagram with another protocol version: counted apart. */
    struct proto_msg *m = &fx->msg;
    memset(m, 0, sizeof(*m));
    m->type = PROTO_DELTA;
    snprintf(m->from, sizeof(m->from), "pod-1");
    uint8_t buf[PROTO_MAX_DATAGRAM];
    size_t len = encode_msg(m, buf);
    int patched = 0;
    for (size_t i = 0; i + 2 < len; i++)
        if (buf[i] == 0xa1 && buf[i + 1] == 'v' && buf[i + 2] == PROTO_VERSION) {
            buf[i + 2] = PROTO_VERSION + 1;
            patched = 1;
            break;
        }
    assert_true(patched);
    gossip_receive(fx->g, 0, "10.0.0.9:1", buf, len);
    assert_int_equal(st->dropped[GOSSIP_DROP_VERSION], 1);
}

static void test_ping_ack(void **state)
{
    struct fixture *fx = *state;
    struct proto_msg *m = &fx->msg;
    memset(m, 0, sizeof(*m));
    m->type = PROTO_PING;
    m->nonce = 0xdeadbeef;
    snprintf(m->from, sizeof(m->from), "tallyctl");
    uint8_t buf[PROTO_MAX_DATAGRAM];
    size_t len = encode_msg(m, buf);
    gossip_receive(fx->g, 0, "127.0.0.1:5555", buf, len);
    assert_int_equal(fx->io.n_sent, 1);
    assert_string_equal(fx->io.sent[0].addr, "127.0.0.1:5555");
    struct proto_msg out;
    decode_sent(fx, 0, &out);
    assert_int_equal(out.type, PROTO_ACK);
    assert_int_equal(out.nonce, 0xdeadbeef);
    assert_string_equal(out.from, "pod-0");
    assert_int_equal(out.n_entries, 1);
    assert_string_equal(out.entries[0].name, "pod-0");
    assert_int_equal(out.entries[0].incarnation, 5);
    assert_int_equal(out.entries[0].vol, VOL0);
    assert_int_equal(proto_entry_visits(&out.entries[0]), 5);
    /* tallyctl is not a member. */
    assert_int_equal(gossip_member_count(fx->g), 1);
    assert_int_equal(out.version, PROTO_VERSION);

    /* A tallyctl that reads only version 2 ("w": [2, 2]) is answered in 2,
     * listed or not. */
    m->version = 2;
    len = encode_msg(m, buf);
    buf[8] = 2;
    fx->io.n_sent = 0;
    gossip_receive(fx->g, 0, "127.0.0.1:5556", buf, len);
    assert_int_equal(fx->io.n_sent, 1);
    decode_sent(fx, 0, &out);
    assert_int_equal(out.type, PROTO_ACK);
    assert_int_equal(out.version, 2);
    fx->io.n_sent = 0;
    gossip_receive_unlisted(fx->g, 0, "127.0.0.1:5557", buf, len);
    assert_int_equal(fx->io.n_sent, 1);
    decode_sent(fx, 0, &out);
    assert_int_equal(out.version, 2);
}

/* A PING from member "from" at addr with nonce, carrying es (a claim). */
static void ping_from(struct fixture *fx, uint64_t now, const char *from, const char *addr,
                      uint64_t nonce, const struct proto_entry *es, size_t n, uint8_t version)
{
    struct proto_msg *m = &fx->msg;
    msg_fill(m, PROTO_PING, from, es, n);
    m->version = version;
    m->nonce = nonce;
    uint8_t buf[PROTO_MAX_DATAGRAM];
    size_t len = encode_msg(m, buf);
    if (version == 3)
        buf[8] = 3; /* "w": [2, 3], a build before bare ACKs */
    gossip_receive(fx->g, now, addr, buf, len);
}

/* The one datagram sent since n_sent was zeroed, an ACK, decoded. */
static void sent_one_ack(struct fixture *fx, struct proto_msg *out)
{
    assert_int_equal(fx->io.n_sent, 1);
    decode_sent(fx, 0, out);
    assert_int_equal(out->type, PROTO_ACK);
}

/* Version 4: a probe's ACK is bare unless the PING says something about
 * us, and then it carries our refutation. Older peers and strangers always
 * get our entry. */
static void test_ack_bare_unless_claimed(void **state)
{
    struct fixture *fx = *state;
    struct proto_msg out;
    deliver1(fx, 0, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 1, 1, V1, 0, 0));

    fx->io.n_sent = 0;
    ping_from(fx, 10, "pod-1", "10.0.0.2:7946", 41, NULL, 0, 0);
    sent_one_ack(fx, &out);
    assert_int_equal(out.version, 4);
    assert_int_equal(out.nonce, 41);
    assert_int_equal(out.n_entries, 0);
    assert_true(fx->io.sent[0].len < 40);

    /* pod-1 suspects us at our incarnation: we refute, and the ACK says so. */
    struct proto_entry claim = mk_entry("pod-0", "10.0.0.1:7946", 5, 1, VOL0, 5, 1);
    snprintf(claim.accuser, sizeof(claim.accuser), "pod-1");
    fx->io.n_sent = 0;
    ping_from(fx, 20, "pod-1", "10.0.0.2:7946", 42, &claim, 1, 0);
    assert_int_equal(stats(fx)->refutations, 1);
    bool acked = false;
    for (size_t i = 0; i < fx->io.n_sent; i++) {
        decode_sent(fx, i, &out);
        if (out.type != PROTO_ACK)
            continue;
        assert_int_equal(out.nonce, 42);
        assert_int_equal(out.n_entries, 1);
        assert_string_equal(out.entries[0].name, "pod-0");
        assert_int_equal(out.entries[0].state, PROTO_STATE_ALIVE);
        assert_true(out.entries[0].incarnation > 5);
        acked = true;
    }
    assert_true(acked);

    /* A peer that reads only up to version 3 requires our entry. */
    deliver1(fx, 30, "pod-3", mk_entry("pod-3", "10.0.0.4:7946", 1, 1, V3, 0, 0));
    fx->io.n_sent = 0;
    ping_from(fx, 40, "pod-3", "10.0.0.4:7946", 43, NULL, 0, 3);
    sent_one_ack(fx, &out);
    assert_int_equal(out.version, 3);
    assert_int_equal(out.n_entries, 1);
    assert_string_equal(out.entries[0].name, "pod-0");
}

/* Every suspicious member PINGs a suspect with the claim; its worst round
 * stays bounded: GOSSIP_ACK_WHOLE_MAX ACKs carry the refutation, later
 * probes get a bare ACK (their probe must not fail), later checks none. */
static void test_whole_acks_capped(void **state)
{
    struct fixture *fx = *state;
    struct proto_msg out;
    char name[32], addr[32];
    for (int i = 1; i <= 40; i++) {
        snprintf(name, sizeof(name), "pod-%d", i);
        snprintf(addr, sizeof(addr), "10.0.1.%d:7946", i);
        deliver1(fx, 0, name, mk_entry(name, addr, 1, 1, 0x100 + (uint64_t)i, 0, 0));
    }
    struct proto_entry claim = mk_entry("pod-0", "10.0.0.1:7946", 5, 1, VOL0, 5, 1);
    snprintf(claim.accuser, sizeof(claim.accuser), "pod-1");
    size_t whole = 0, bare = 0, checks_answered = 0;
    fx->io.n_sent = 0;
    for (int i = 1; i <= 40; i++) {
        snprintf(name, sizeof(name), "pod-%d", i);
        snprintf(addr, sizeof(addr), "10.0.1.%d:7946", i);
        /* Odd members check (nonce 0), even ones probe. */
        ping_from(fx, 100, name, addr, (uint64_t)(i % 2 ? 0 : 1000 + i), &claim, 1, 0);
    }
    for (size_t i = 0; i < fx->io.n_sent; i++) {
        decode_sent(fx, i, &out);
        if (out.type != PROTO_ACK)
            continue;
        if (out.n_entries > 0)
            whole++;
        else
            bare++;
        checks_answered += out.nonce == 0;
    }
    print_message("%zu whole ACKs, %zu bare\n", whole, bare);
    assert_int_equal(whole, GOSSIP_ACK_WHOLE_MAX);
    /* Every probe was answered; of the checks, only those under the cap. */
    assert_int_equal(whole + bare, GOSSIP_ACK_WHOLE_MAX / 2 + 20);
    assert_int_equal(checks_answered, GOSSIP_ACK_WHOLE_MAX / 2);
    /* tallyctl, no member, still learns who answered. */
    fx->io.n_sent = 0;
    ping_from(fx, 200, "tallyctl", "127.0.0.1:5555", 9, NULL, 0, 0);
    sent_one_ack(fx, &out);
    assert_int_equal(out.n_entries, 1);
    /* The next round answers in whole again. */
    gossip_tick(fx->g, 1000);
    fx->io.n_sent = 0;
    ping_from(fx, 1100, "pod-1", "10.0.1.1:7946", 0, &claim, 1, 0);
    whole = 0;
    for (size_t i = 0; i < fx->io.n_sent; i++) {
        decode_sent(fx, i, &out);
        whole += out.type == PROTO_ACK && out.n_entries == 1;
    }
    assert_int_equal(whole, 1);
}

/* Our PINGs carry nothing of ours, but the target's own entry when we
 * suspect it, so it refutes in its ACK. */
static void test_ping_carries_claim(void **state)
{
    struct fixture *fx = *state;
    struct proto_msg out;
    deliver1(fx, 0, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 1, 1, V1, 0, 0));
    fx->io.n_sent = 0;
    gossip_tick(fx->g, 1000);
    int n;
    ping_to(fx, "10.0.0.2:7946", &n);
    assert_true(n >= 1);
    for (size_t i = 0; i < fx->io.n_sent; i++) {
        decode_sent(fx, i, &out);
        if (out.type == PROTO_PING)
            assert_int_equal(out.n_entries, 0);
    }
    /* Unanswered for a round: we suspect it, and say so when we PING it. */
    tick_until(fx, 2500);
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_SUSPECT);
    fx->io.n_sent = 0;
    tick_until(fx, 4500);
    size_t pings = 0;
    for (size_t i = 0; i < fx->io.n_sent; i++) {
        decode_sent(fx, i, &out);
        if (out.type != PROTO_PING || strcmp(fx->io.sent[i].addr, "10.0.0.2:7946") != 0)
            continue;
        assert_int_equal(out.n_entries, 1);
        assert_string_equal(out.entries[0].name, "pod-1");
        assert_int_equal(out.entries[0].state, PROTO_STATE_SUSPECT);
        assert_string_equal(out.entries[0].accuser, "pod-0");
        pings++;
    }
    assert_true(pings >= 1);
}

/* Heavy loss multiplies probe traffic; the piggyback gives way to it, so a
 * round's bytes stay near GOSSIP_ROUND_TARGET, and takes its share back
 * when the probes calm down. */
static void test_piggyback_gives_way_to_probes(void **state)
{
    struct fixture *fx = *state;
    joins_relayed(fx);
    deliver1(fx, 0, "pod-2", mk_entry("pod-2", "10.0.0.3:7946", 1, 1, V2, 0, 0));
    size_t queue = 0, beats;
    uint64_t t = 0;
    /* Each round pod-2 PINGs us 100 times: 100 ACKs, about 3.5 KB. */
    for (int r = 1; r <= 10; r++) {
        t += 1000;
        fx->io.n_sent = 0;
        gossip_tick(fx->g, t);
        queue = queue_bytes_sent(fx, &beats);
        for (int k = 0; k < 100; k++)
            ping_from(fx, t + 10, "pod-2", "10.0.0.3:7946", 500 + (uint64_t)k, NULL, 0, 0);
    }
    print_message("under probe load: %zu bytes of queue\n", queue);
    assert_true(queue <= GOSSIP_PIGGYBACK_MIN);
    assert_true(queue >= GOSSIP_PIGGYBACK_MIN / 2);
    for (int r = 1; r <= 10; r++) {
        t += 1000;
        fx->io.n_sent = 0;
        gossip_tick(fx->g, t);
        queue = queue_bytes_sent(fx, &beats);
    }
    print_message("after: %zu bytes of queue\n", queue);
    assert_true(queue > GOSSIP_PIGGYBACK_MIN + 600);
    assert_true(queue <= GOSSIP_PIGGYBACK_BUDGET);
}

static void test_greet_once(void **state)
{
    struct fixture *fx = *state;
    gossip_greet(fx->g, 0, "10.0.0.1:7946"); /* ourselves */
    assert_int_equal(fx->io.n_sent, 0);
    gossip_greet(fx->g, 0, "10.0.0.5:7946");
    assert_int_equal(fx->io.n_sent, 2);
    struct proto_msg out;
    decode_sent(fx, 0, &out);
    assert_int_equal(out.type, PROTO_HEARTBEAT);
    assert_string_equal(out.entries[0].name, "pod-0");
    decode_sent(fx, 1, &out);
    assert_int_equal(out.type, PROTO_SYNC);
    assert_int_equal(out.n_buckets, PROTO_BUCKETS);
    assert_true(out.nonce != 0);
    uint32_t b[PROTO_BUCKETS];
    buckets_of(fx->g, b);
    assert_memory_equal(out.buckets, b, sizeof(b));
    /* DNS re-resolves a second later: no flood. */
    gossip_greet(fx->g, 1000, "10.0.0.5:7946");
    assert_int_equal(fx->io.n_sent, 2);
    /* A known live member's address is not greeted. */
    deliver1(fx, 0, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 1, 1, V1, 0, 0));
    fx->io.n_sent = 0;
    gossip_greet(fx->g, 1000, "10.0.0.2:7946");
    assert_int_equal(fx->io.n_sent, 0);
}

/* News is not left waiting for the next round: it goes out at once, once
 * per gossip step (a fifth of a round); more news in the same step goes out
 * at the next step. */
static void test_news_flushed_at_once(void **state)
{
    struct fixture *fx = *state;
    struct proto_msg out;
    fx->io.n_sent = 0;
    deliver1(fx, 0, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 1, 1, V1, 0, 0));
    assert_int_equal(fx->io.n_sent, 1); /* a new member: pod-1 hears of us */
    decode_sent(fx, 0, &out);
    assert_int_equal(out.type, PROTO_HEARTBEAT);
    assert_string_equal(fx->io.sent[0].addr, "10.0.0.2:7946");
    gossip_tick(fx->g, 1000); /* a round */
    /* A member relayed by pod-2: pod-1 hears of it at once. */
    fx->io.n_sent = 0;
    deliver1(fx, 1002, "pod-2", mk_entry("pod-3", "", 1, 1, V3, 7, 0)); /* no address yet */
    assert_int_equal(fx->io.n_sent, 1);
    bool carried = false;
    decode_sent(fx, 0, &out);
    assert_string_equal(fx->io.sent[0].addr, "10.0.0.2:7946");
    for (uint32_t k = 0; k < out.n_entries; k++)
        carried |= strcmp(out.entries[k].name, "pod-3") == 0;
    assert_true(carried);
    /* More news in the same step waits for the next one. */
    fx->io.n_sent = 0;
    deliver1(fx, 1003, "pod-2", mk_entry("pod-4", "", 1, 1, V2, 1, 0));
    assert_int_equal(fx->io.n_sent, 0);
    tick_until(fx, 1199);
    carried = false;
    for (size_t i = 0; i < fx->io.n_sent; i++) {
        decode_sent(fx, i, &out);
        for (uint32_t k = 0; k < out.n_entries; k++)
            carried |= strcmp(out.entries[k].name, "pod-4") == 0;
    }
    assert_false(carried);
    tick_until(fx, 1200);
    assert_true(fx->io.n_sent >= 1);
    carried = false;
    for (size_t i = 0; i < fx->io.n_sent; i++) {
        decode_sent(fx, i, &out);
        for (uint32_t k = 0; k < out.n_entries; k++)
            carried |= strcmp(out.entries[k].name, "pod-4") == 0;
    }
    assert_true(carried);
    /* Our own count goes out as soon as it is durable (the next step at
     * the latest). */
    gossip_tick(fx->g, 2000);
    fx->io.n_sent = 0;
    gossip_count_set(fx->g, 6);
    assert_true(fx->io.n_sent >= 1);
    decode_sent(fx, 0, &out);
    assert_int_equal(out.type, PROTO_HEARTBEAT);
    assert_int_equal(proto_entry_visits(&out.entries[0]), 6);
}

static void test_leave_sends(void **state)
{
    struct fixture *fx = *state;
    deliver1(fx, 0, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 1, 1, V1, 0, 0));
    deliver1(fx, 0, "pod-2", mk_entry("pod-2", "10.0.0.3:7946", 1, 1, V2, 0, 0));
    fx->io.n_sent = 0;
    gossip_leave(fx->g, 10);
    assert_int_equal(fx->io.n_sent, 2);
    struct proto_msg out;
    decode_sent(fx, 0, &out);
    assert_int_equal(out.type, PROTO_LEAVE);
    assert_string_equal(out.entries[0].name, "pod-0");
    assert_int_equal(out.entries[0].state, PROTO_STATE_LEFT);
    assert_int_equal(proto_entry_visits(&out.entries[0]), 5);
    /* Having left, a claim about us is not refuted any more. */
    deliver1(fx, 20, "pod-1", mk_entry("pod-0", "10.0.0.1:7946", 5, 90, VOL0, 5, 2));
    assert_int_equal(stats(fx)->refutations, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_merge_unknown_added),
        T(test_slot_max_from_any_sender),
        T(test_slot_merge_order_free),
        T(test_merge_older_ignored),
        T(test_merge_third_party_claims_spread),
        T(test_merge_new_incarnation_revives_dead),
        T(test_relayed_left_not_believed),
        T(test_owner_only_from_its_socket),
        T(test_relay_cannot_jump_incarnation),
        T(test_owner_told_of_newer_claim),
        T(test_leave_marks_left_and_counts_stay),
        T(test_total_sums_all_states),
        T(test_own_slot_never_adopted),
        T(test_slot_move_keeps_old_slot),
        T(test_slot_move_errors),
        T(test_from_self_dropped),
        T(test_refute_claims_about_us),
        T(test_duplicate_name_seen_and_counted),
        T(test_no_false_duplicate_for_own_old_volume),
        T(test_no_false_duplicate_from_older_lives),
        T(test_count_rise_goes_compact),
        T(test_piggyback_budget),
        T(test_compact_update_waits_for_its_slot),
        T(test_sync_answers_differing_buckets),
        T(test_sync_answer_in_numbered_parts),
        T(test_sync_answer_cut_is_not_whole),
        T(test_synced_after_whole_answer_to_our_nonce),
        T(test_repair_asks_whole_for_unknown_slots),
        T(test_synced_needs_whole_flag),
        T(test_synced_after_recovery_ms),
        T(test_member_cap),
        T(test_member_and_slot_load),
        T(test_count_set_saturates),
        T(test_total_saturates),
        T(test_table_version_moves),
        T(test_detection_timeline),
        T(test_suspicion_confirmations),
        T(test_ping_req_nack),
        T(test_indirect_probe),
        T(test_suspicion_without_confirmation_lasts_longest),
        T(test_lifeguard_slow_node_probes_slower),
        T(test_suspect_timeout_grows_with_log_n),
        T(test_datagrams_bounded_with_1000_members),
        T(test_malformed_counted),
        T(test_ping_ack),
        T(test_ack_bare_unless_claimed),
        T(test_whole_acks_capped),
        T(test_ping_carries_claim),
        T(test_piggyback_gives_way_to_probes),
        T(test_greet_once),
        T(test_news_flushed_at_once),
        T(test_leave_sends),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
