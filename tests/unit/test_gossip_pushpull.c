/*
 * test_gossip_pushpull.c: the gossip core's full-state exchange
 * (gossip/pushpull.c, push-pull over TCP) without sockets: one core writes
 * its whole table as frames, another reads them. Pins what users rely on: a
 * table of any size arrives whole and in bounded frames, the merge is the
 * datagrams' (max per slot, LEFT only from the owner, who is told by the
 * connection's ip), only the asker of an exchange becomes ready and only
 * with its own request id, frames out of order or from another sender end
 * the exchange and are counted, and the core asks for exchanges at join,
 * again while answers teach something, then every 30 s x scale.
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
#include "tests/unit/gossip_entry.h"

#define FRAMES_MAX 512

struct frames {
    size_t n;
    size_t len[FRAMES_MAX];
    uint8_t buf[FRAMES_MAX][PROTO_MAX_DATAGRAM];
};

static int frames_emit(void *arg, const uint8_t *buf, size_t len)
{
    struct frames *f = arg;
    assert_true(len <= PROTO_MAX_DATAGRAM);
    if (f->n >= FRAMES_MAX)
        return -1;
    memcpy(f->buf[f->n], buf, len);
    f->len[f->n++] = len;
    return 0;
}

struct io_log {
    int pushpulls;
    char last[PROTO_ADDR_MAX + 1];
    uint32_t hb_entries_max; /* most entries one HEARTBEAT carried */
};

static void io_send(void *ctx, const char *addr, const uint8_t *buf, size_t len)
{
    struct io_log *l = ctx;
    (void)addr;
    static struct proto_msg m;
    if (l && proto_msg_decode(buf, len, &m, NULL) == PROTO_OK && m.type == PROTO_HEARTBEAT &&
        m.n_entries > l->hb_entries_max)
        l->hb_entries_max = m.n_entries;
}

static void io_pushpull(void *ctx, const char *addr)
{
    struct io_log *l = ctx;
    l->pushpulls++;
    snprintf(l->last, sizeof(l->last), "%s", addr);
}

static struct gossip *node_new(const char *name, const char *addr, uint64_t vol, uint64_t count,
                               struct io_log *log, uint32_t max_members)
{
    struct gossip_config cfg = {
        .name = name,
        .addr = addr,
        .incarnation = 3,
        .vol = vol,
        .count = count,
        .interval_ms = 1000,
        .recovery_ms = 60000,
        .max_members = max_members,
        .seed = 7,
    };
    struct gossip_io io = {.ctx = log, .send = io_send, .pushpull = log ? io_pushpull : NULL};
    if (log && log->pushpulls < 0) { /* asked to log sends only */
        log->pushpulls = 0;
        io.pushpull = NULL;
    }
    struct gossip *g = gossip_new(&cfg, &io, 0);
    assert_non_null(g);
    return g;
}

/* n made-up members "m-<i>" with slots, as a table loaded from a volume. */
static void members_load(struct gossip *g, size_t n)
{
    char name[32], addr[32];
    for (size_t i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "m-%zu", i);
        snprintf(addr, sizeof(addr), "10.1.%zu.%zu:7946", i / 250, i % 250);
        assert_int_equal(gossip_member_load(g, 0, name, addr, 2, 10, GOSSIP_ALIVE), 0);
        assert_int_equal(gossip_slot_load(g, 0, name, 1000 + i, i + 1), 0);
        if (i % 7 == 0) /* a lost volume: a second slot */
            assert_int_equal(gossip_slot_load(g, 0, name, 900000 + i, 3), 0);
    }
}

static int read_all(struct gossip *g, struct gossip_full_rx *rx, const struct frames *f)
{
    int rc = 0;
    for (size_t i = 0; i < f->n; i++) {
        rc = gossip_full_read(g, 1000, rx, f->buf[i], f->len[i]);
        if (rc != 0)
            return i + 1 == f->n ? rc : -1000 + rc;
    }
    return rc;
}

static void test_whole_table_round_trip(void **state)
{
    (void)state;
    struct gossip *a = node_new("pod-a", "10.0.0.1:7946", 0xA1, 40, NULL, 0);
    struct gossip *b = node_new("pod-b", "10.0.0.2:7946", 0xB1, 2, NULL, 0);
    members_load(a, 1000);
    struct frames *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    int parts = gossip_full_write(a, 0xfeed, frames_emit, f);
    assert_true(parts >= 20); /* 1000 rows of ~40 bytes: ~30 datagrams */
    assert_int_equal((size_t)parts, f->n);
    /* every frame is a DELTA numbered k of parts under the request id */
    struct proto_msg *m = calloc(1, sizeof(*m));
    assert_non_null(m);
    size_t rows = 0;
    for (size_t i = 0; i < f->n; i++) {
        assert_int_equal(proto_msg_decode(f->buf[i], f->len[i], m, NULL), PROTO_OK);
        assert_int_equal(m->type, PROTO_DELTA);
        assert_int_equal(m->nonce, 0xfeed);
        assert_int_equal(m->part, i + 1);
        assert_int_equal(m->parts, parts);
        assert_true(m->whole);
        rows += m->n_entries;
    }
    assert_int_equal(rows, gossip_member_count(a));
    assert_int_equal(gossip_stats_get(a)->pushpull_bytes_out > 0, 1);

    struct gossip_full_rx rx;
    gossip_full_rx_init(&rx, true, 0xfeed, "10.0.0.1:7946");
    assert_false(gossip_synced(b, 1000));
    assert_int_equal(read_all(b, &rx, f), 1);
    assert_true(gossip_synced(b, 1000)); /* the asker's whole answer: ready */
    assert_int_equal(gossip_member_count(b), gossip_member_count(a) + 1);
    assert_int_equal(gossip_total(b), gossip_total(a) + 2);
    const struct gossip_member *m7 = gossip_member_find(b, "m-7");
    assert_non_null(m7);
    assert_int_equal(m7->n_slots, 2);
    assert_int_equal(m7->count, 8 + 3);
    assert_int_equal(gossip_stats_get(b)->pushpull[GOSSIP_PP_OK], 1);
    free(m);
    free(f);
    gossip_free(a);
    gossip_free(b);
}

/* The other end of an exchange merges the push but is not made ready by
 * it: a push may be a replay of an earlier life; an answer carries the
 * asker's fresh id. */
static void test_push_does_not_make_ready(void **state)
{
    (void)state;
    struct gossip *a = node_new("pod-a", "10.0.0.1:7946", 0xA1, 40, NULL, 0);
    struct gossip *b = node_new("pod-b", "10.0.0.2:7946", 0xB1, 2, NULL, 0);
    members_load(a, 10);
    struct frames *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    gossip_full_write(a, 99, frames_emit, f);
    struct gossip_full_rx rx;
    gossip_full_rx_init(&rx, false, 0, "10.0.0.1:51234");
    assert_int_equal(read_all(b, &rx, f), 1);
    assert_int_equal(rx.request_id, 99); /* the answer goes out under it */
    assert_int_equal(gossip_total(b), gossip_total(a) + 2);
    assert_false(gossip_synced(b, 1000));
    assert_int_equal(gossip_stats_get(b)->pushpull[GOSSIP_PP_SERVED], 1);
    /* an asker refuses an answer under another id, before merging a row */
    struct gossip *c = node_new("pod-c", "10.0.0.3:7946", 0xC1, 0, NULL, 0);
    gossip_full_rx_init(&rx, true, 100, "10.0.0.1:7946");
    assert_int_equal(gossip_full_read(c, 1000, &rx, f->buf[0], f->len[0]), -GOSSIP_PP_SEQUENCE);
    assert_int_equal(gossip_member_count(c), 1);
    assert_false(gossip_synced(c, 1000));
    assert_int_equal(gossip_stats_get(c)->pushpull[GOSSIP_PP_SEQUENCE], 1);
    free(f);
    gossip_free(a);
    gossip_free(b);
    gossip_free(c);
}

/* One frame from `from` holding the given entries, part 1 of 1. */
static size_t frame_make(uint8_t *buf, const char *from, const struct proto_entry *e, size_t n,
                         uint16_t part, uint16_t parts, uint64_t id)
{
    struct proto_msg *m = calloc(1, sizeof(*m));
    assert_non_null(m);
    m->type = PROTO_DELTA;
    snprintf(m->from, sizeof(m->from), "%s", from);
    m->nonce = id;
    m->part = part;
    m->parts = parts;
    m->whole = 1;
    memcpy(m->entries, e, n * sizeof(*e));
    m->n_entries = (uint32_t)n;
    int len = proto_msg_encode(m, buf, PROTO_MAX_DATAGRAM);
    assert_true(len > 0);
    free(m);
    return (size_t)len;
}

/* Slots merge by max; LEFT is taken only from the owner: the sender's own
 * entry, on a connection from the ip that entry gives (its source port is
 * not the gossip port). */
static void test_merge_rules(void **state)
{
    (void)state;
    uint8_t buf[PROTO_MAX_DATAGRAM];
    struct gossip *g = node_new("pod-0", "10.0.0.1:7946", 0xA1, 0, NULL, 0);
    struct gossip_full_rx rx;
    struct proto_entry e[2];
    e[0] = mk_entry("pod-1", "10.0.0.2:7946", 1, 5, 0x11, 50, GOSSIP_ALIVE);
    e[1] = mk_entry("pod-2", "10.0.0.3:7946", 1, 5, 0x22, 70, GOSSIP_ALIVE);
    size_t len = frame_make(buf, "pod-1", e, 2, 1, 1, 1);
    gossip_full_rx_init(&rx, false, 0, "10.0.0.2:40001");
    assert_int_equal(gossip_full_read(g, 1000, &rx, buf, len), 1);
    assert_int_equal(gossip_total(g), 120);

    /* lower counts from anyone change nothing */
    e[0].slots[0].count = 10;
    e[0].heartbeat = 6;
    e[1].slots[0].count = 1;
    len = frame_make(buf, "pod-1", e, 2, 1, 1, 2);
    gossip_full_rx_init(&rx, false, 0, "10.0.0.2:40002");
    assert_int_equal(gossip_full_read(g, 1000, &rx, buf, len), 1);
    assert_int_equal(gossip_total(g), 120);

    /* pod-1 says pod-2 left: a relay, not believed */
    e[1].state = GOSSIP_LEFT;
    e[1].heartbeat = 9;
    len = frame_make(buf, "pod-1", &e[1], 1, 1, 1, 3);
    gossip_full_rx_init(&rx, false, 0, "10.0.0.2:40003");
    assert_int_equal(gossip_full_read(g, 1000, &rx, buf, len), 1);
    assert_int_not_equal(gossip_member_find(g, "pod-2")->state, GOSSIP_LEFT);

    /* "pod-1" says it left, but the connection is from another ip */
    e[0].state = GOSSIP_LEFT;
    e[0].heartbeat = 20;
    len = frame_make(buf, "pod-1", e, 1, 1, 1, 4);
    gossip_full_rx_init(&rx, false, 0, "10.0.0.9:40004");
    assert_int_equal(gossip_full_read(g, 1000, &rx, buf, len), 1);
    assert_int_not_equal(gossip_member_find(g, "pod-1")->state, GOSSIP_LEFT);

    /* pod-1 itself, from its own ip: believed */
    e[0].heartbeat = 21;
    len = frame_make(buf, "pod-1", e, 1, 1, 1, 5);
    gossip_full_rx_init(&rx, false, 0, "10.0.0.2:40005");
    assert_int_equal(gossip_full_read(g, 1000, &rx, buf, len), 1);
    assert_int_equal(gossip_member_find(g, "pod-1")->state, GOSSIP_LEFT);
    assert_int_equal(gossip_total(g), 120); /* a pod that left still counts */
    gossip_free(g);
}

/* Frames that do not continue the exchange end it, counted by reason. */
static void test_bad_frames(void **state)
{
    (void)state;
    uint8_t buf[PROTO_MAX_DATAGRAM];
    struct gossip *g = node_new("pod-0", "10.0.0.1:7946", 0xA1, 0, NULL, 20);
    struct gossip_full_rx rx;
    struct proto_entry e = mk_entry("pod-1", "10.0.0.2:7946", 1, 5, 0x11, 50, GOSSIP_ALIVE);
    const struct gossip_stats *st = gossip_stats_get(g);

    /* garbage */
    gossip_full_rx_init(&rx, false, 0, "10.0.0.2:1");
    memset(buf, 0xc1, 64);
    assert_int_equal(gossip_full_read(g, 0, &rx, buf, 64), -GOSSIP_PP_DECODE);
    /* not a DELTA */
    struct proto_msg *m = calloc(1, sizeof(*m));
    assert_non_null(m);
    m->type = PROTO_HEARTBEAT;
    snprintf(m->from, sizeof(m->from), "pod-1");
    m->entries[0] = e;
    m->n_entries = 1;
    int len = proto_msg_encode(m, buf, sizeof(buf));
    assert_true(len > 0);
    assert_int_equal(gossip_full_read(g, 0, &rx, buf, (size_t)len), -GOSSIP_PP_DECODE);
    free(m);
    /* not numbered as a full state */
    size_t n = frame_make(buf, "pod-1", &e, 1, 1, 1, 7);
    struct proto_msg *d = calloc(1, sizeof(*d));
    assert_non_null(d);
    assert_int_equal(proto_msg_decode(buf, n, d, NULL), PROTO_OK);
    d->whole = 0;
    len = proto_msg_encode(d, buf, sizeof(buf));
    free(d);
    assert_int_equal(gossip_full_read(g, 0, &rx, buf, (size_t)len), -GOSSIP_PP_DECODE);
    assert_int_equal(st->pushpull[GOSSIP_PP_DECODE], 3);

    /* part 2 first */
    n = frame_make(buf, "pod-1", &e, 1, 2, 3, 7);
    assert_int_equal(gossip_full_read(g, 0, &rx, buf, n), -GOSSIP_PP_SEQUENCE);
    /* part 1 then part 1 again; then another sender; then another count */
    gossip_full_rx_init(&rx, false, 0, "10.0.0.2:1");
    n = frame_make(buf, "pod-1", &e, 1, 1, 3, 7);
    assert_int_equal(gossip_full_read(g, 0, &rx, buf, n), 0);
    assert_int_equal(gossip_full_read(g, 0, &rx, buf, n), -GOSSIP_PP_SEQUENCE);
    gossip_full_rx_init(&rx, false, 0, "10.0.0.2:1");
    assert_int_equal(gossip_full_read(g, 0, &rx, buf, n), 0);
    n = frame_make(buf, "pod-2", &e, 1, 2, 3, 7);
    assert_int_equal(gossip_full_read(g, 0, &rx, buf, n), -GOSSIP_PP_SEQUENCE);
    gossip_full_rx_init(&rx, false, 0, "10.0.0.2:1");
    n = frame_make(buf, "pod-1", &e, 1, 1, 3, 7);
    assert_int_equal(gossip_full_read(g, 0, &rx, buf, n), 0);
    n = frame_make(buf, "pod-1", &e, 1, 2, 4, 7);
    assert_int_equal(gossip_full_read(g, 0, &rx, buf, n), -GOSSIP_PP_SEQUENCE);
    /* another request id mid-way */
    gossip_full_rx_init(&rx, false, 0, "10.0.0.2:1");
    n = frame_make(buf, "pod-1", &e, 1, 1, 3, 7);
    assert_int_equal(gossip_full_read(g, 0, &rx, buf, n), 0);
    n = frame_make(buf, "pod-1", &e, 1, 2, 3, 8);
    assert_int_equal(gossip_full_read(g, 0, &rx, buf, n), -GOSSIP_PP_SEQUENCE);
    assert_int_equal(st->pushpull[GOSSIP_PP_SEQUENCE], 5);

    /* more parts than 20 members can take (20 / 2 + 1 = 11) */
    assert_int_equal(gossip_full_parts_max(20), 11);
    gossip_full_rx_init(&rx, false, 0, "10.0.0.2:1");
    n = frame_make(buf, "pod-1", &e, 1, 1, 12, 7);
    assert_int_equal(gossip_full_read(g, 0, &rx, buf, n), -GOSSIP_PP_TOO_BIG);
    assert_int_equal(st->pushpull[GOSSIP_PP_TOO_BIG], 1);
    assert_int_equal(gossip_full_parts_max(1000000), UINT16_MAX);

    /* our own name on the other end */
    gossip_full_rx_init(&rx, false, 0, "10.0.0.2:1");
    n = frame_make(buf, "pod-0", &e, 1, 1, 1, 7);
    assert_int_equal(gossip_full_read(g, 0, &rx, buf, n), -GOSSIP_PP_SELF);
    assert_int_equal(st->pushpull[GOSSIP_PP_SELF], 1);
    /* none of it was merged but the one row of the frames taken in order */
    assert_int_equal(gossip_member_count(g), 2);
    assert_false(gossip_synced(g, 0));
    gossip_free(g);
}

/* A heartbeat from pod-1 (at the incarnation pod-1's core below starts
 * with) keeps it a live peer of g, whose probes of it go nowhere. */
static void hear_peer(struct gossip *g, uint64_t now)
{
    uint8_t buf[PROTO_MAX_DATAGRAM];
    struct proto_msg *m = calloc(1, sizeof(*m));
    assert_non_null(m);
    m->type = PROTO_HEARTBEAT;
    snprintf(m->from, sizeof(m->from), "pod-1");
    m->entries[0] = mk_entry("pod-1", "10.0.0.2:7946", 3, now + 1, 0x11, 1, GOSSIP_ALIVE);
    m->n_entries = 1;
    int len = proto_msg_encode(m, buf, sizeof(buf));
    assert_true(len > 0);
    gossip_receive(g, now, "10.0.0.2:7946", buf, (size_t)len);
    free(m);
}

static void test_schedule(void **state)
{
    (void)state;
    struct io_log log = {0};
    struct gossip *g = node_new("pod-0", "10.0.0.1:7946", 0xA1, 0, &log, 0);
    gossip_tick(g, 1000);
    assert_int_equal(log.pushpulls, 0); /* nobody to ask */
    hear_peer(g, 1500);
    gossip_tick(g, 2000);
    assert_int_equal(log.pushpulls, 1); /* join: the first live peer */
    assert_string_equal(log.last, "10.0.0.2:7946");
    gossip_tick(g, 3000);
    gossip_tick(g, 4000);
    assert_int_equal(log.pushpulls, 1);
    gossip_tick(g, 5000); /* not whole yet: again after 3 rounds */
    assert_int_equal(log.pushpulls, 2);

    /* an answer that teaches something: again soon */
    struct gossip *p = node_new("pod-1", "10.0.0.2:7946", 0x11, 9, NULL, 0);
    members_load(p, 5);
    struct frames *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    gossip_full_write(p, 1, frames_emit, f);
    struct gossip_full_rx rx;
    gossip_full_rx_init(&rx, true, 1, "10.0.0.2:7946");
    for (size_t i = 0; i < f->n; i++)
        gossip_full_read(g, 5100, &rx, f->buf[i], f->len[i]);
    assert_true(gossip_synced(g, 5100));
    gossip_tick(g, 6000);
    gossip_tick(g, 7000);
    assert_int_equal(log.pushpulls, 2);
    gossip_tick(g, 8100);
    assert_int_equal(log.pushpulls, 3);
    /* the same answer again teaches nothing: then 30 s (+-25%) */
    gossip_full_rx_init(&rx, true, 1, "10.0.0.2:7946");
    for (size_t i = 0; i < f->n; i++)
        gossip_full_read(g, 8200, &rx, f->buf[i], f->len[i]);
    uint64_t t = 9000;
    for (; t < 8200 + 22500; t += 1000) {
        hear_peer(g, t);
        gossip_tick(g, t);
    }
    assert_int_equal(log.pushpulls, 3);
    for (; t <= 8200 + 37500 + 1000; t += 1000) {
        hear_peer(g, t);
        gossip_tick(g, t);
    }
    assert_int_equal(log.pushpulls, 4);
    free(f);
    gossip_free(p);
    gossip_free(g);
}

/* Members and counts a whole table brought are not gossiped again by us
 * (the peer's table was filled by gossip); a change of liveness is. */
static void test_whole_table_is_not_news(void **state)
{
    (void)state;
    struct io_log log = {.pushpulls = -1};
    struct gossip *g = node_new("pod-0", "10.0.0.1:7946", 0xA1, 0, &log, 0);
    struct gossip *p = node_new("pod-1", "10.0.0.2:7946", 0x11, 9, NULL, 0);
    members_load(p, 30);
    struct frames *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    gossip_full_write(p, 1, frames_emit, f);
    struct gossip_full_rx rx;
    gossip_full_rx_init(&rx, true, 1, "10.0.0.2:7946");
    for (size_t i = 0; i < f->n; i++)
        gossip_full_read(g, 100, &rx, f->buf[i], f->len[i]);
    assert_int_equal(gossip_member_count(g), 32);
    hear_peer(g, 500);
    gossip_tick(g, 1000);
    assert_true(log.hb_entries_max >= 1);
    assert_true(log.hb_entries_max <= 2); /* our entry (and pod-1's at most) */

    /* a suspicion the next table brings is news */
    uint8_t buf[PROTO_MAX_DATAGRAM];
    struct proto_entry e = mk_entry("m-3", "10.1.0.3:7946", 2, 10, 1003, 4, GOSSIP_SUSPECT);
    snprintf(e.accuser, sizeof(e.accuser), "pod-1");
    size_t n = frame_make(buf, "pod-1", &e, 1, 1, 1, 2);
    gossip_full_rx_init(&rx, true, 2, "10.0.0.2:7946");
    assert_int_equal(gossip_full_read(g, 1100, &rx, buf, n), 1);
    assert_int_equal(gossip_member_find(g, "m-3")->state, GOSSIP_SUSPECT);
    log.hb_entries_max = 0;
    hear_peer(g, 1500);
    gossip_tick(g, 2000);
    assert_true(log.hb_entries_max >= 2);
    free(f);
    gossip_free(p);
    gossip_free(g);
}

static void test_period_scales_with_log_n(void **state)
{
    (void)state;
    struct gossip *g = node_new("pod-0", "10.0.0.1:7946", 0xA1, 0, NULL, 0);
    assert_int_equal(gossip_pushpull_ms(g), 30000);
    members_load(g, 31); /* 32 members */
    assert_int_equal(gossip_pushpull_ms(g), 30000);
    members_load(g, 32); /* 33: ceil(log2 33 - 5) + 1 = 2 */
    assert_int_equal(gossip_pushpull_ms(g), 60000);
    members_load(g, 99); /* 100: ceil(6.64 - 5) + 1 = 3 */
    assert_int_equal(gossip_pushpull_ms(g), 90000);
    members_load(g, 999); /* 1000: ceil(9.97 - 5) + 1 = 6 */
    assert_int_equal(gossip_pushpull_ms(g), 180000);
    gossip_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_table_round_trip),
        cmocka_unit_test(test_push_does_not_make_ready),
        cmocka_unit_test(test_merge_rules),
        cmocka_unit_test(test_bad_frames),
        cmocka_unit_test(test_schedule),
        cmocka_unit_test(test_whole_table_is_not_news),
        cmocka_unit_test(test_period_scales_with_log_n),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
