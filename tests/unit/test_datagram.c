/*
 * test_datagram.c: the transport seam (node/peer/datagram.c) between two real
 * gossip cores, no sockets. What it promises: a sealed datagram opens only
 * with our keys and only once (a copy is a replay); one sealed with a key we
 * do not hold, tampered with, or not sealed at all never reaches the core
 * and is counted as "auth"; unsealed, a source discovery did not list gets
 * its PING answered and everything else dropped as "source", until it is
 * listed; a datagram cut short or longer than any sender makes is dropped
 * unread; and the way out seals exactly when there is a key.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "format/seal.h"
#include "gossip/gossip.h"
#include "node/peer/addr.h"
#include "node/peer/datagram.h"

#define ADDR_A "10.0.0.1:7946"
#define ADDR_B "10.0.0.2:7946"
#define ADDR_X "10.0.0.9:7946" /* nobody listed it */

/* One simulated pod: its core, its datagram path, and the first datagram
 * its core sent since capture was set. */
struct pod {
    bool capture;
    struct gossip *g;
    struct datagram_path path;
    char to[PROTO_ADDR_MAX + 1];
    uint8_t sent[PROTO_MAX_DATAGRAM];
    size_t sent_len;
    unsigned n_sent;
};

struct fixture {
    char dir[64], key1[96], key2[96];
    struct seal *seal1, *seal2;
};

static void pod_send(void *ctx, const char *addr, const uint8_t *buf, size_t len)
{
    struct pod *p = ctx;
    p->n_sent++;
    if (!p->capture)
        return;
    p->capture = false;
    snprintf(p->to, sizeof(p->to), "%s", addr);
    memcpy(p->sent, buf, len);
    p->sent_len = len;
}

static void pod_init(struct pod *p, const char *name, const char *addr, uint64_t vol,
                     const struct seal *seal, size_t allow_cap)
{
    memset(p, 0, sizeof(*p));
    struct gossip_config gc = {
        .name = name, .addr = addr, .incarnation = 1, .vol = vol, .count = 5, .seed = vol};
    struct gossip_io io = {.ctx = p, .send = pod_send};
    p->g = gossip_new(&gc, &io, 0);
    assert_non_null(p->g);
    struct datagram_config dc = {.gossip = p->g,
                                 .seal = seal,
                                 .max_senders = 16,
                                 .allow_cap = allow_cap,
                                 .allow_keep_ms = 60000};
    assert_int_equal(datagram_path_init(&p->path, &dc), 0);
}

static void pod_free(struct pod *p)
{
    datagram_path_free(&p->path);
    datagram_path_free(&p->path); /* twice is fine */
    gossip_free(p->g);
}

/* What p's core says first to addr when it greets it: a heartbeat. */
static void pod_greet(struct pod *p, const char *addr)
{
    unsigned before = p->n_sent;
    p->capture = true;
    gossip_greet(p->g, 0, addr);
    assert_true(p->n_sent > before);
    assert_string_equal(p->to, addr);
}

static bool contains(const uint8_t *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (!memcmp(hay + i, needle, k))
            return true;
    return false;
}

static enum datagram_verdict deliver(struct pod *to, const char *from, const uint8_t *buf,
                                     size_t len, bool truncated)
{
    struct sockaddr_storage ss;
    assert_int_equal(addr_parse(from, &ss), 0);
    return datagram_in(&to->path, 1, (const struct sockaddr *)&ss, from, buf, len, truncated);
}

static uint64_t dropped(const struct pod *p, enum gossip_drop why)
{
    return gossip_stats_get(p->g)->dropped[why];
}

static void key_write(const char *path, const char *b64)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "# test key\n%s\n", b64);
    fclose(f);
    chmod(path, 0600);
}

static int setup(void **state)
{
    char msg[256];
    struct fixture *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_datagram.XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->key1, sizeof(fx->key1), "%s/key1", fx->dir);
    snprintf(fx->key2, sizeof(fx->key2), "%s/key2", fx->dir);
    key_write(fx->key1, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
    key_write(fx->key2, "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM=");
    assert_int_equal(seal_load(fx->key1, &fx->seal1, msg, sizeof(msg)), 0);
    assert_int_equal(seal_load(fx->key2, &fx->seal2, msg, sizeof(msg)), 0);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    seal_free(fx->seal1);
    seal_free(fx->seal2);
    unlink(fx->key1);
    unlink(fx->key2);
    rmdir(fx->dir);
    free(fx);
    return 0;
}

static void test_sealed_heard_once(void **state)
{
    struct fixture *fx = *state;
    struct pod a, b;
    uint8_t wire[DATAGRAM_WIRE_MAX];
    const uint8_t *out;
    pod_init(&a, "pod-a", ADDR_A, 0xA1, fx->seal1, 0);
    pod_init(&b, "pod-b", ADDR_B, 0xB1, fx->seal1, 0);
    pod_greet(&b, ADDR_A);
    int n = datagram_out(&b.path, b.sent, b.sent_len, wire, sizeof(wire), &out);
    assert_int_equal(n, (int)(b.sent_len + SEAL_OVERHEAD));
    assert_ptr_equal(out, wire);
    assert_int_equal(wire[0], SEAL_VERSION);
    /* the plaintext does not show through */
    assert_false(contains(wire, (size_t)n, "pod-b"));
    assert_true(contains(b.sent, b.sent_len, "pod-b"));

    assert_int_equal(deliver(&a, ADDR_B, wire, (size_t)n, false), DATAGRAM_HEARD);
    const struct gossip_member *m = gossip_member_find(a.g, "pod-b");
    assert_non_null(m);
    assert_int_equal(m->count, 5);

    /* the same bytes again: a replay, whoever sends them */
    assert_int_equal(deliver(&a, ADDR_X, wire, (size_t)n, false), DATAGRAM_REPLAY);
    assert_int_equal(dropped(&a, GOSSIP_DROP_REPLAY), 1);
    /* the next datagram of that sender is new */
    pod_greet(&b, "10.0.0.3:7946");
    n = datagram_out(&b.path, b.sent, b.sent_len, wire, sizeof(wire), &out);
    assert_true(n > 0);
    assert_int_equal(deliver(&a, ADDR_B, wire, (size_t)n, false), DATAGRAM_HEARD);
    assert_int_equal(dropped(&a, GOSSIP_DROP_AUTH), 0);
    pod_free(&a);
    pod_free(&b);
}

static void test_sealed_refuses_strangers(void **state)
{
    struct fixture *fx = *state;
    struct pod a, c;
    uint8_t wire[DATAGRAM_WIRE_MAX];
    const uint8_t *out;
    pod_init(&a, "pod-a", ADDR_A, 0xA1, fx->seal1, 0);
    pod_init(&c, "pod-c", ADDR_B, 0xC1, fx->seal2, 0); /* another cluster's key */
    pod_greet(&c, ADDR_A);
    int n = datagram_out(&c.path, c.sent, c.sent_len, wire, sizeof(wire), &out);
    assert_true(n > 0);
    assert_int_equal(deliver(&a, ADDR_B, wire, (size_t)n, false), DATAGRAM_UNKNOWN_KEY);
    /* not sealed at all: the plain datagram */
    assert_int_equal(deliver(&a, ADDR_B, c.sent, c.sent_len, false), DATAGRAM_BAD_SEAL);
    /* sealed with our key, then one byte of the ciphertext changed */
    datagram_path_free(&c.path);
    struct datagram_config dc = {.gossip = c.g, .seal = fx->seal1, .max_senders = 16};
    assert_int_equal(datagram_path_init(&c.path, &dc), 0);
    n = datagram_out(&c.path, c.sent, c.sent_len, wire, sizeof(wire), &out);
    assert_true(n > 0);
    wire[SEAL_HEADER_BYTES + SEAL_NONCE_BYTES + 3] ^= 1;
    assert_int_equal(deliver(&a, ADDR_B, wire, (size_t)n, false), DATAGRAM_BAD_SEAL);
    assert_int_equal(dropped(&a, GOSSIP_DROP_AUTH), 3);
    assert_null(gossip_member_find(a.g, "pod-c"));
    assert_int_equal(gossip_stats_get(a.g)->datagrams_in, 0); /* the core saw none */
    pod_free(&a);
    pod_free(&c);
}

static void test_unsealed_passes_through(void **state)
{
    (void)state;
    struct pod a, b;
    uint8_t wire[DATAGRAM_WIRE_MAX];
    const uint8_t *out = NULL;
    pod_init(&a, "pod-a", ADDR_A, 0xA1, NULL, 0);
    pod_init(&b, "pod-b", ADDR_B, 0xB1, NULL, 0);
    pod_greet(&b, ADDR_A);
    int n = datagram_out(&b.path, b.sent, b.sent_len, wire, sizeof(wire), &out);
    assert_int_equal(n, (int)b.sent_len);
    assert_ptr_equal(out, b.sent); /* no copy */
    /* no filter: any source is heard, and the same bytes twice are too */
    assert_int_equal(deliver(&a, ADDR_X, out, (size_t)n, false), DATAGRAM_HEARD);
    assert_int_equal(deliver(&a, ADDR_X, out, (size_t)n, false), DATAGRAM_HEARD);
    assert_non_null(gossip_member_find(a.g, "pod-b"));
    assert_int_equal(datagram_sources(&a.path, 1), 0);
    pod_free(&a);
    pod_free(&b);
}

static void test_unlisted_source(void **state)
{
    (void)state;
    struct pod a, b;
    uint8_t ping[256];
    pod_init(&a, "pod-a", ADDR_A, 0xA1, NULL, 16);
    pod_init(&b, "pod-b", ADDR_X, 0xB1, NULL, 0);
    pod_greet(&b, ADDR_A);

    /* a member's news from a source nobody listed: dropped unread */
    assert_int_equal(deliver(&a, ADDR_X, b.sent, b.sent_len, false), DATAGRAM_UNLISTED);
    assert_int_equal(dropped(&a, GOSSIP_DROP_SOURCE), 1);
    assert_null(gossip_member_find(a.g, "pod-b"));

    /* a PING from there is answered (tallyctl ping from a shell) */
    struct proto_msg *m = calloc(1, sizeof(*m));
    assert_non_null(m);
    m->type = PROTO_PING;
    m->nonce = 77;
    snprintf(m->from, sizeof(m->from), "tallyctl");
    int n = proto_msg_encode(m, ping, sizeof(ping));
    free(m);
    assert_true(n > 0);
    unsigned sent = a.n_sent;
    a.capture = true;
    assert_int_equal(deliver(&a, ADDR_X, ping, (size_t)n, false), DATAGRAM_UNLISTED);
    assert_int_equal(a.n_sent, sent + 1);
    assert_string_equal(a.to, ADDR_X);
    assert_int_equal(dropped(&a, GOSSIP_DROP_SOURCE), 1);

    /* once discovery lists it (any port: the filter is by IP), it is heard */
    datagram_source_note(&a.path, "10.0.0.9:1", 1);
    assert_int_equal(datagram_sources(&a.path, 1), 1);
    assert_int_equal(deliver(&a, ADDR_X, b.sent, b.sent_len, false), DATAGRAM_HEARD);
    assert_non_null(gossip_member_find(a.g, "pod-b"));
    pod_free(&a);
    pod_free(&b);
}

static void test_truncated_and_oversize(void **state)
{
    struct fixture *fx = *state;
    struct pod a, s;
    static uint8_t big[DATAGRAM_RECV_BUF];
    uint8_t wire[DATAGRAM_WIRE_MAX];
    const uint8_t *out;
    pod_init(&a, "pod-a", ADDR_A, 0xA1, NULL, 0);
    pod_init(&s, "pod-s", ADDR_B, 0xB1, fx->seal1, 0);
    pod_greet(&a, ADDR_B);

    /* unsealed: cut short by the receive buffer, or past the largest datagram */
    assert_int_equal(deliver(&a, ADDR_B, a.sent, a.sent_len, true), DATAGRAM_TRUNCATED);
    assert_int_equal(deliver(&a, ADDR_B, big, PROTO_MAX_DATAGRAM + 1, false), DATAGRAM_TRUNCATED);
    assert_int_equal(dropped(&a, GOSSIP_DROP_DECODE), 2);
    /* sealed: counted as auth, before any work */
    assert_int_equal(deliver(&s, ADDR_A, big, DATAGRAM_WIRE_MAX + 1, false), DATAGRAM_TRUNCATED);
    assert_int_equal(deliver(&s, ADDR_A, big, sizeof(big), true), DATAGRAM_TRUNCATED);
    assert_int_equal(dropped(&s, GOSSIP_DROP_AUTH), 2);
    assert_int_equal(gossip_stats_get(s.g)->datagrams_in, 0);

    /* the way out refuses what the core never makes, and a small buffer */
    assert_int_equal(datagram_out(&a.path, big, PROTO_MAX_DATAGRAM + 1, wire, sizeof(wire), &out),
                     -EMSGSIZE);
    assert_true(datagram_out(&s.path, a.sent, a.sent_len, wire, a.sent_len, &out) < 0);
    /* a full-size datagram still fits once sealed */
    assert_int_equal(datagram_out(&s.path, big, PROTO_MAX_DATAGRAM, wire, sizeof(wire), &out),
                     DATAGRAM_WIRE_MAX);
    pod_free(&a);
    pod_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sealed_heard_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_refuses_strangers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsealed_passes_through, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unlisted_source, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_and_oversize, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
