/*
 * test_gossip_core.c: unit tests of the gossip core (gossip/gossip.h) with a
 * fake io that records every datagram sent and a clock passed by hand: merge
 * rules, self-count recovery, drops, failure detection timeline, leave,
 * totals, datagram size bound, push-pull and ping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gossip/gossip.h"

#define SENT_MAX 4096

struct sent {
    char addr[PROTO_ADDR_MAX + 1];
    uint8_t buf[PROTO_MAX_DATAGRAM];
    size_t len;
};

struct fake_io {
    struct sent *sent;
    size_t n_sent;
    size_t oversize;
    uint64_t raised_to;
    int raised_calls;
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

static void fake_raised(void *ctx, uint64_t count)
{
    struct fake_io *f = ctx;
    f->raised_to = count;
    f->raised_calls++;
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
    fx->io.sent = calloc(SENT_MAX, sizeof(struct sent));
    assert_non_null(fx->io.sent);
    struct gossip_config cfg = {
        .name = "pod-0",
        .addr = "10.0.0.1:7946",
        .generation = 1000,
        .count = 5,
        .interval_ms = 1000,
        .fanout = 3,
        .pushpull_every = 5,
        .recovery_ms = 5000,
        .seed = 42,
    };
    struct gossip_io io = {.ctx = &fx->io, .send = fake_send, .self_count_raised = fake_raised};
    fx->g = gossip_new(&cfg, &io, 0);
    assert_non_null(fx->g);
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

static struct proto_entry mk_entry(const char *name, const char *addr, uint64_t gen, uint64_t hb,
                                   uint64_t count, uint8_t st)
{
    struct proto_entry e;
    memset(&e, 0, sizeof(e));
    snprintf(e.name, sizeof(e.name), "%s", name);
    snprintf(e.addr, sizeof(e.addr), "%s", addr);
    e.generation = gen;
    e.heartbeat = hb;
    e.count = count;
    e.state = st;
    return e;
}

/* Sends g a datagram of type from "from" carrying the given entries. */
static void deliver(struct fixture *fx, uint64_t now, uint8_t type, const char *from,
                    const struct proto_entry *es, size_t n)
{
    struct proto_msg *m = &fx->msg;
    memset(m, 0, sizeof(*m));
    m->type = type;
    snprintf(m->from, sizeof(m->from), "%s", from);
    for (size_t i = 0; i < n; i++)
        m->entries[i] = es[i];
    m->n_entries = (uint32_t)n;
    uint8_t buf[PROTO_MAX_DATAGRAM];
    int len = proto_msg_encode(m, buf, sizeof(buf));
    assert_true(len > 0);
    gossip_receive(fx->g, now, "10.9.9.9:7946", buf, (size_t)len);
}

static void deliver1(struct fixture *fx, uint64_t now, const char *from, struct proto_entry e)
{
    /* A heartbeat's first entry is its sender's own (proto/check.c): relayed
     * entries travel in a DELTA. */
    deliver(fx, now, strcmp(e.name, from) == 0 ? PROTO_HEARTBEAT : PROTO_DELTA, from, &e, 1);
}

static const struct gossip_member *find(struct fixture *fx, const char *name)
{
    const struct gossip_member *m = gossip_member_find(fx->g, name);
    assert_non_null(m);
    return m;
}

static void decode_sent(struct fixture *fx, size_t i, struct proto_msg *m)
{
    assert_true(i < fx->io.n_sent);
    assert_int_equal(proto_msg_decode(fx->io.sent[i].buf, fx->io.sent[i].len, m, NULL), PROTO_OK);
}

/* ---- merge rules ---- */

static void test_merge_unknown_added(void **state)
{
    struct fixture *fx = *state;
    deliver1(fx, 10, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 7, 3, 11, PROTO_STATE_ALIVE));
    const struct gossip_member *m = find(fx, "pod-1");
    assert_string_equal(m->addr, "10.0.0.2:7946");
    assert_int_equal(m->generation, 7);
    assert_int_equal(m->heartbeat, 3);
    assert_int_equal(m->count, 11);
    assert_int_equal(m->state, GOSSIP_ALIVE);
    assert_int_equal(m->last_seen_ms, 10);
    assert_false(m->self);
    assert_int_equal(gossip_member_count(fx->g), 2);
}

static void test_merge_count_max_whatever_version(void **state)
{
    struct fixture *fx = *state;
    deliver1(fx, 10, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 7, 10, 11, 0));
    /* Older version, higher count (relayed by a third party): count taken,
     * address and version kept. */
    deliver1(fx, 20, "pod-2", mk_entry("pod-1", "10.0.0.99:7946", 7, 4, 50, 0));
    const struct gossip_member *m = find(fx, "pod-1");
    assert_int_equal(m->count, 50);
    assert_int_equal(m->heartbeat, 10);
    assert_string_equal(m->addr, "10.0.0.2:7946");
    assert_int_equal(m->last_seen_ms, 10);
    /* Newer version, lower count: version and address taken, count kept. */
    deliver1(fx, 30, "pod-1", mk_entry("pod-1", "10.0.0.3:7946", 7, 11, 2, 0));
    m = find(fx, "pod-1");
    assert_int_equal(m->count, 50);
    assert_int_equal(m->heartbeat, 11);
    assert_string_equal(m->addr, "10.0.0.3:7946");
    assert_int_equal(m->last_seen_ms, 30);
}

static void test_merge_older_ignored(void **state)
{
    struct fixture *fx = *state;
    deliver1(fx, 10, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 7, 10, 11, 0));
    deliver1(fx, 20, "pod-2", mk_entry("pod-1", "10.0.0.8:7946", 7, 9, 11, PROTO_STATE_DEAD));
    deliver1(fx, 20, "pod-2", mk_entry("pod-1", "10.0.0.8:7946", 6, 99, 11, PROTO_STATE_LEFT));
    const struct gossip_member *m = find(fx, "pod-1");
    assert_int_equal(m->generation, 7);
    assert_int_equal(m->heartbeat, 10);
    assert_string_equal(m->addr, "10.0.0.2:7946");
    assert_int_equal(m->state, GOSSIP_ALIVE);
    assert_int_equal(m->last_seen_ms, 10);
}

static void test_merge_third_party_dead_does_not_override(void **state)
{
    struct fixture *fx = *state;
    deliver1(fx, 10, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 7, 10, 11, 0));
    /* pod-2 thinks pod-1 is dead, with a newer heartbeat it relays: the
     * heartbeat advanced, so pod-1 is alive for us. */
    deliver1(fx, 20, "pod-2", mk_entry("pod-1", "10.0.0.2:7946", 7, 12, 11, PROTO_STATE_DEAD));
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_ALIVE);
    assert_int_equal(find(fx, "pod-1")->heartbeat, 12);
}

static void test_merge_new_generation_revives_dead(void **state)
{
    struct fixture *fx = *state;
    deliver1(fx, 0, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 7, 10, 11, 0));
    uint64_t t = 0;
    for (int i = 0; i < 200 && find(fx, "pod-1")->state != GOSSIP_DEAD; i++) {
        t += 1000;
        gossip_tick(fx->g, t);
    }
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_DEAD);
    /* Restarted with a new IP: a newer generation, heartbeat back at 1. */
    deliver1(fx, t, "pod-1", mk_entry("pod-1", "10.0.0.77:7946", 8, 1, 0, 0));
    const struct gossip_member *m = find(fx, "pod-1");
    assert_int_equal(m->state, GOSSIP_ALIVE);
    assert_string_equal(m->addr, "10.0.0.77:7946");
    assert_int_equal(m->generation, 8);
    assert_int_equal(m->heartbeat, 1);
    assert_int_equal(m->count, 11); /* its old visits stay */
    assert_int_equal(gossip_member_count(fx->g), 2);
}

static void test_forged_old_generation_from_owner(void **state)
{
    struct fixture *fx = *state;
    deliver1(fx, 0, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 8, 10, 11, 0));
    deliver1(fx, 5, "pod-1", mk_entry("pod-1", "10.6.6.6:7946", 7, 500, 900, 0));
    const struct gossip_member *m = find(fx, "pod-1");
    assert_int_equal(m->generation, 8);
    assert_int_equal(m->count, 11);
    assert_string_equal(m->addr, "10.0.0.2:7946");
    assert_int_equal(gossip_stats_get(fx->g)->dropped[GOSSIP_DROP_FORGED], 1);
}

/* ---- our own entry ---- */

static void test_self_recovery_adopts_higher(void **state)
{
    struct fixture *fx = *state;
    deliver1(fx, 0, "pod-1", mk_entry("pod-0", "10.0.0.50:7946", 1, 900, 120, PROTO_STATE_DEAD));
    assert_int_equal(gossip_self_count(fx->g), 120);
    assert_int_equal(fx->io.raised_calls, 1);
    assert_int_equal(fx->io.raised_to, 120);
    const struct gossip_member *self = gossip_member_at(fx->g, 0);
    assert_true(self->self);
    /* Only the count: not the version, address or state. */
    assert_int_equal(self->generation, 1000);
    assert_int_equal(self->heartbeat, 0);
    assert_string_equal(self->addr, "10.0.0.1:7946");
    assert_int_equal(self->state, GOSSIP_ALIVE);
}

static void test_self_recovery_ignores_lower(void **state)
{
    struct fixture *fx = *state;
    deliver1(fx, 0, "pod-1", mk_entry("pod-0", "10.0.0.1:7946", 1, 900, 3, 0));
    assert_int_equal(gossip_self_count(fx->g), 5);
    assert_int_equal(fx->io.raised_calls, 0);
    gossip_count_set(fx->g, 4); /* never lowers */
    assert_int_equal(gossip_self_count(fx->g), 5);
    gossip_count_set(fx->g, 9);
    assert_int_equal(gossip_self_count(fx->g), 9);
}

static void test_from_self_dropped(void **state)
{
    struct fixture *fx = *state;
    deliver1(fx, 0, "pod-0", mk_entry("pod-1", "10.0.0.2:7946", 1, 1, 77, 0));
    assert_int_equal(gossip_stats_get(fx->g)->dropped[GOSSIP_DROP_SELF], 1);
    assert_null(gossip_member_find(fx->g, "pod-1"));
    assert_false(gossip_recovered(fx->g, 1));
}

/* ---- recovery gate ---- */

static void test_recovered_after_peer_or_timeout(void **state)
{
    struct fixture *fx = *state;
    assert_false(gossip_recovered(fx->g, 4999));
    assert_true(gossip_recovered(fx->g, 5000));
    /* A heartbeat that does not name us says nothing of our count. */
    deliver1(fx, 10, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 1, 1, 0, 0));
    assert_false(gossip_recovered(fx->g, 11));
    /* One that carries its memory of us does, and its count is adopted first. */
    struct proto_entry es[] = {mk_entry("pod-1", "10.0.0.2:7946", 1, 2, 0, 0),
                               mk_entry("pod-0", "10.0.0.1:7946", 1, 1, 42, 0)};
    deliver(fx, 12, PROTO_HEARTBEAT, "pod-1", es, 2);
    assert_true(gossip_recovered(fx->g, 13));
    assert_int_equal(gossip_self_count(fx->g), 42);
}

/* ---- failure detection ---- */

static void test_detection_timeline(void **state)
{
    struct fixture *fx = *state;
    deliver1(fx, 0, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 1, 1, 0, 0));
    uint64_t suspect = gossip_suspect_ms(fx->g), dead = gossip_dead_ms(fx->g);
    assert_true(suspect >= 3000);
    assert_true(dead >= suspect);
    /* Still alive exactly at the timeout, suspect just after. */
    gossip_tick(fx->g, suspect);
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_ALIVE);
    gossip_tick(fx->g, suspect + 1);
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_SUSPECT);
    assert_int_equal(gossip_stats_get(fx->g)->suspicions, 1);
    /* A fresh heartbeat revives it. */
    deliver1(fx, suspect + 2, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 1, 2, 0, 0));
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_ALIVE);
    uint64_t t0 = suspect + 2;
    gossip_tick(fx->g, t0 + suspect + 1);
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_SUSPECT);
    gossip_tick(fx->g, t0 + suspect + dead);
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_SUSPECT);
    gossip_tick(fx->g, t0 + suspect + dead + 1);
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_DEAD);
    assert_int_equal(gossip_stats_get(fx->g)->suspicions, 2);
}

static void test_suspect_timeout_grows_with_log_n(void **state)
{
    struct fixture *fx = *state;
    uint64_t small = gossip_suspect_ms(fx->g);
    char name[32];
    for (int i = 1; i < 1000; i++) {
        snprintf(name, sizeof(name), "pod-%d", i);
        deliver1(fx, 0, name, mk_entry(name, "10.1.0.1:7946", 1, 1, 0, 0));
    }
    uint64_t big = gossip_suspect_ms(fx->g);
    assert_true(big > small);
    assert_true(big <= 40 * 1000); /* log-scaled, not linear */
}

static void test_claimed_dead_self_keeps_gossiping(void **state)
{
    struct fixture *fx = *state;
    deliver1(fx, 0, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 1, 1, 0, 0));
    deliver1(fx, 0, "pod-1", mk_entry("pod-0", "10.0.0.1:7946", 1000, 50, 5, PROTO_STATE_DEAD));
    size_t before = fx->io.n_sent;
    gossip_tick(fx->g, 1000);
    assert_true(fx->io.n_sent > before);
    struct proto_msg m;
    decode_sent(fx, before, &m);
    assert_string_equal(m.entries[0].name, "pod-0");
    assert_int_equal(m.entries[0].state, PROTO_STATE_ALIVE);
    assert_int_equal(m.entries[0].heartbeat, 1);
    assert_int_equal(gossip_member_at(fx->g, 0)->state, GOSSIP_ALIVE);
}

/* ---- leave and totals ---- */

static void test_leave_marks_left_and_counts_stay(void **state)
{
    struct fixture *fx = *state;
    deliver1(fx, 0, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 1, 5, 30, 0));
    deliver1(fx, 0, "pod-2", mk_entry("pod-2", "10.0.0.3:7946", 1, 5, 7, 0));
    assert_int_equal(gossip_total(fx->g), 5 + 30 + 7);
    struct proto_entry e = mk_entry("pod-1", "10.0.0.2:7946", 1, 6, 31, PROTO_STATE_LEFT);
    deliver(fx, 1, PROTO_LEAVE, "pod-1", &e, 1);
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_LEFT);
    assert_int_equal(gossip_total(fx->g), 5 + 31 + 7);
    /* A third party relaying a newer, alive heartbeat does not undo it... */
    deliver1(fx, 2, "pod-2", mk_entry("pod-1", "10.0.0.2:7946", 1, 7, 31, 0));
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_LEFT);
    /* ...nor does time. */
    for (uint64_t t = 1000; t < 200000; t += 1000)
        gossip_tick(fx->g, t);
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_LEFT);
    assert_int_equal(gossip_total(fx->g), 5 + 31 + 7);
    /* A new generation (it came back) does. */
    deliver1(fx, 200000, "pod-1", mk_entry("pod-1", "10.0.0.9:7946", 2, 1, 0, 0));
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_ALIVE);
    assert_int_equal(gossip_total(fx->g), 5 + 31 + 7);
}

static void test_total_sums_all_states(void **state)
{
    struct fixture *fx = *state;
    deliver1(fx, 0, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 1, 1, 100, 0));
    deliver1(fx, 0, "pod-2", mk_entry("pod-2", "10.0.0.3:7946", 1, 1, 20, PROTO_STATE_LEFT));
    deliver1(fx, 0, "pod-9", mk_entry("pod-3", "10.0.0.4:7946", 1, 1, 3, PROTO_STATE_DEAD));
    uint64_t t = 0;
    for (int i = 0; i < 100; i++) {
        t += 1000;
        gossip_tick(fx->g, t);
        deliver1(fx, t, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 1, 2 + (uint64_t)i, 100, 0));
    }
    /* pod-9 sent us a datagram but never its own entry. */
    assert_null(gossip_member_find(fx->g, "pod-9"));
    assert_int_equal(find(fx, "pod-1")->state, GOSSIP_ALIVE);
    assert_int_equal(find(fx, "pod-2")->state, GOSSIP_LEFT);
    assert_int_equal(find(fx, "pod-3")->state, GOSSIP_DEAD);
    assert_int_equal(gossip_total(fx->g), 5 + 100 + 20 + 3);
}

/* ---- datagrams ---- */

static void test_datagrams_bounded_with_1000_members(void **state)
{
    struct fixture *fx = *state;
    char name[64], addr[64];
    struct proto_entry es[20];
    for (int i = 1; i < 1000; i += 10) {
        size_t n = 0;
        for (int j = i; j < i + 10 && j < 1000; j++) {
            /* Long names and addresses: the worst case for packing. */
            snprintf(name, sizeof(name), "myapp-stateful-with-a-rather-long-name-%04d", j);
            snprintf(addr, sizeof(addr), "[fd00:1234:5678:9abc::%x]:7946", j);
            es[n++] = mk_entry(name, addr, 1700000000000ull + (uint64_t)j, 123456789, 987654321, 0);
        }
        deliver(fx, 0, PROTO_DELTA, "x", es, n);
    }
    assert_int_equal(gossip_member_count(fx->g), 1000);
    fx->io.n_sent = 0;
    uint64_t t = 0;
    /* Every member must be sent at some point (cursor), and never oversize. */
    char *seen = calloc(1000, 1);
    assert_non_null(seen);
    struct proto_msg *m = malloc(sizeof(*m));
    assert_non_null(m);
    for (int r = 0; r < 60; r++) {
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
        /* Bytes per round bounded independently of N: fanout heartbeats,
         * one digest, a few probes and one dead peer at most. */
        assert_true(fx->io.n_sent <= 3 + 1 + 4 + 1);
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
    const struct gossip_stats *st = gossip_stats_get(fx->g);
    assert_int_equal(st->dropped[GOSSIP_DROP_DECODE], 3);
    assert_int_equal(st->datagrams_in, 3);
    assert_int_equal(gossip_member_count(fx->g), 1);
    assert_false(gossip_recovered(fx->g, 1));

    /* A valid datagram with another protocol version: counted apart. */
    struct proto_msg *m = &fx->msg;
    memset(m, 0, sizeof(*m));
    m->type = PROTO_DELTA;
    snprintf(m->from, sizeof(m->from), "pod-1");
    uint8_t buf[PROTO_MAX_DATAGRAM];
    int len = proto_msg_encode(m, buf, sizeof(buf));
    assert_true(len > 0);
    int patched = 0;
    for (int i = 0; i + 2 < len; i++)
        if (buf[i] == 0xa1 && buf[i + 1] == 'v' && buf[i + 2] == PROTO_VERSION) {
            buf[i + 2] = PROTO_VERSION + 1;
            patched = 1;
            break;
        }
    assert_true(patched);
    gossip_receive(fx->g, 0, "10.0.0.9:1", buf, (size_t)len);
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
    int len = proto_msg_encode(m, buf, sizeof(buf));
    assert_true(len > 0);
    gossip_receive(fx->g, 0, "127.0.0.1:5555", buf, (size_t)len);
    assert_int_equal(fx->io.n_sent, 1);
    assert_string_equal(fx->io.sent[0].addr, "127.0.0.1:5555");
    struct proto_msg out;
    decode_sent(fx, 0, &out);
    assert_int_equal(out.type, PROTO_ACK);
    assert_int_equal(out.nonce, 0xdeadbeef);
    assert_string_equal(out.from, "pod-0");
    assert_int_equal(out.n_entries, 1);
    assert_string_equal(out.entries[0].name, "pod-0");
    assert_int_equal(out.entries[0].count, 5);
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
    decode_sent(fx, 1, &out);
    assert_int_equal(out.type, PROTO_DIGEST);
    assert_int_equal(out.reply, 0);
    assert_string_equal(out.digest[0].name, "pod-0");
    /* DNS re-resolves a second later: no flood. */
    gossip_greet(fx->g, 1000, "10.0.0.5:7946");
    assert_int_equal(fx->io.n_sent, 2);
    /* A known live member's address is not greeted. */
    deliver1(fx, 0, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 1, 1, 0, 0));
    gossip_greet(fx->g, 1000, "10.0.0.2:7946");
    assert_int_equal(fx->io.n_sent, 2);
}

static void test_digest_exchange(void **state)
{
    struct fixture *fx = *state;
    deliver1(fx, 0, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 1, 9, 40, 0));
    deliver1(fx, 0, "pod-2", mk_entry("pod-2", "10.0.0.3:7946", 1, 3, 5, 0));
    fx->io.n_sent = 0;
    struct proto_msg *m = &fx->msg;
    memset(m, 0, sizeof(*m));
    m->type = PROTO_DIGEST;
    m->nonce = 77;
    snprintf(m->from, sizeof(m->from), "pod-3");
    struct proto_digest_item items[] = {
        {.name = "pod-1", .generation = 1, .heartbeat = 2, .count = 40}, /* we are newer */
        {.name = "pod-2", .generation = 1, .heartbeat = 8, .count = 5},  /* we are older */
        {.name = "pod-7", .generation = 1, .heartbeat = 1, .count = 1},  /* we lack it */
        {.name = "pod-0", .generation = 1, .heartbeat = 1, .count = 99}, /* remembers us higher */
    };
    memcpy(m->digest, items, sizeof(items));
    m->n_digest = 4;
    uint8_t buf[PROTO_MAX_DATAGRAM];
    int len = proto_msg_encode(m, buf, sizeof(buf));
    assert_true(len > 0);
    gossip_receive(fx->g, 0, "10.0.0.4:7946", buf, (size_t)len);
    assert_int_equal(fx->io.n_sent, 2);
    struct proto_msg out;
    decode_sent(fx, 0, &out);
    assert_int_equal(out.type, PROTO_DELTA);
    assert_int_equal(out.nonce, 77);
    assert_int_equal(out.n_entries, 2); /* pod-1 (newer) and pod-0 (we are newer) */
    assert_string_equal(out.entries[0].name, "pod-1");
    assert_int_equal(out.entries[0].heartbeat, 9);
    decode_sent(fx, 1, &out);
    assert_int_equal(out.type, PROTO_DIGEST);
    assert_int_equal(out.reply, 1);
    /* pod-0's higher count in the digest was adopted at once (recovery), so
     * only pod-2 and pod-7 are asked for. */
    assert_int_equal(gossip_self_count(fx->g), 99);
    assert_int_equal(out.n_digest, 2);
    assert_string_equal(out.digest[0].name, "pod-2");
    assert_int_equal(out.digest[0].heartbeat, 3);
    assert_string_equal(out.digest[1].name, "pod-7");
    assert_int_equal(out.digest[1].generation, 0);
    /* A reply digest is answered with a delta only. */
    fx->io.n_sent = 0;
    m->reply = 1;
    len = proto_msg_encode(m, buf, sizeof(buf));
    gossip_receive(fx->g, 0, "10.0.0.4:7946", buf, (size_t)len);
    assert_int_equal(fx->io.n_sent, 1);
    decode_sent(fx, 0, &out);
    assert_int_equal(out.type, PROTO_DELTA);
}

static void test_leave_sends(void **state)
{
    struct fixture *fx = *state;
    deliver1(fx, 0, "pod-1", mk_entry("pod-1", "10.0.0.2:7946", 1, 1, 0, 0));
    deliver1(fx, 0, "pod-2", mk_entry("pod-2", "10.0.0.3:7946", 1, 1, 0, 0));
    fx->io.n_sent = 0;
    gossip_leave(fx->g, 10);
    assert_int_equal(fx->io.n_sent, 2);
    struct proto_msg out;
    decode_sent(fx, 0, &out);
    assert_int_equal(out.type, PROTO_LEAVE);
    assert_string_equal(out.entries[0].name, "pod-0");
    assert_int_equal(out.entries[0].state, PROTO_STATE_LEFT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_merge_unknown_added, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_count_max_whatever_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_older_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_third_party_dead_does_not_override, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_merge_new_generation_revives_dead, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forged_old_generation_from_owner, setup, teardown),
        cmocka_unit_test_setup_teardown(test_self_recovery_adopts_higher, setup, teardown),
        cmocka_unit_test_setup_teardown(test_self_recovery_ignores_lower, setup, teardown),
        cmocka_unit_test_setup_teardown(test_from_self_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recovered_after_peer_or_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detection_timeline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_suspect_timeout_grows_with_log_n, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claimed_dead_self_keeps_gossiping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leave_marks_left_and_counts_stay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_total_sums_all_states, setup, teardown),
        cmocka_unit_test_setup_teardown(test_datagrams_bounded_with_1000_members, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ping_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_greet_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_digest_exchange, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leave_sends, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
