/*
 * test_proto_roundtrip.c: what the gossip core relies on from proto/: every
 * message type survives encode+decode unchanged, the bytes are pinned (golden
 * tests, so a wire change is a deliberate decision), the size helpers are exact
 * so a sender can fill a datagram greedily, the encoder refuses what the
 * decoder would refuse, and msgpack-c agrees with our bytes both ways.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <msgpack.h>

#include "proto/proto.h"

/* ---- helpers ---- */

static void entry_set(struct proto_entry *e, const char *name, const char *addr, uint64_t gen,
                      uint64_t hb, uint64_t count, uint8_t state)
{
    memset(e, 0, sizeof(*e));
    snprintf(e->name, sizeof(e->name), "%s", name);
    snprintf(e->addr, sizeof(e->addr), "%s", addr);
    e->generation = gen;
    e->heartbeat = hb;
    e->count = count;
    e->state = state;
}

static void digest_set(struct proto_digest_item *d, const char *name, uint64_t gen, uint64_t hb,
                       uint64_t count)
{
    memset(d, 0, sizeof(*d));
    snprintf(d->name, sizeof(d->name), "%s", name);
    d->generation = gen;
    d->heartbeat = hb;
    d->count = count;
}

/* msg is big (~19 KB): tests keep theirs static rather than on the stack. */
static void msg_init(struct proto_msg *m, uint8_t type, const char *from)
{
    memset(m, 0, sizeof(*m));
    m->type = type;
    snprintf(m->from, sizeof(m->from), "%s", from);
}

static void hex_of(const uint8_t *b, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 3 <= cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%02x", b[i]);
    out[o] = '\0';
}

/* Encodes, decodes and asserts the decoded message equals the original
 * (whole struct: the decoder zeroes what it does not fill). Returns the size. */
static int roundtrip(const struct proto_msg *m)
{
    static struct proto_msg back;
    uint8_t buf[PROTO_MAX_DATAGRAM];
    struct proto_error err;
    int n = proto_msg_encode(m, buf, sizeof(buf));
    assert_true(n > 0);
    int rc = proto_msg_decode(buf, (size_t)n, &back, &err);
    if (rc != PROTO_OK)
        fail_msg("decode: %s at %s", proto_err_str(rc), err.field);
    assert_int_equal(err.code, PROTO_OK);
    assert_memory_equal(m, &back, sizeof(back));
    return n;
}

/* ---- round trips ---- */

static void test_roundtrip_every_type(void **state)
{
    static struct proto_msg m;
    (void)state;

    msg_init(&m, PROTO_HEARTBEAT, "myapp-stateful-0");
    entry_set(&m.entries[0], "myapp-stateful-0", "10.244.0.10:7946", 1760000000000ULL, 12, 5, 0);
    entry_set(&m.entries[1], "myapp-stateful-1", "10.244.0.11:7946", 1760000000001ULL, 9, 7, 1);
    entry_set(&m.entries[2], "myapp-stateful-2", "", 1, 2, 3, PROTO_STATE_DEAD);
    m.n_entries = 3;
    roundtrip(&m);

    msg_init(&m, PROTO_DIGEST, "myapp-stateful-1");
    m.nonce = 77;
    m.reply = 1;
    digest_set(&m.digest[0], "myapp-stateful-0", 1760000000000ULL, 12, 5);
    digest_set(&m.digest[1], "myapp-stateful-1", 1760000000001ULL, 9, UINT64_MAX);
    m.n_digest = 2;
    roundtrip(&m);

    msg_init(&m, PROTO_DELTA, "myapp-stateful-2");
    m.nonce = 77;
    entry_set(&m.entries[0], "myapp-stateful-9", "[fd00::1]:7946", 3, 4, 5, PROTO_STATE_LEFT);
    m.n_entries = 1;
    roundtrip(&m);

    msg_init(&m, PROTO_LEAVE, "myapp-stateful-3");
    entry_set(&m.entries[0], "myapp-stateful-3", "10.0.0.3:7946", 3, 4, 5, PROTO_STATE_LEFT);
    m.n_entries = 1;
    roundtrip(&m);

    msg_init(&m, PROTO_PING, "tallyctl");
    m.nonce = UINT64_MAX;
    roundtrip(&m);

    msg_init(&m, PROTO_ACK, "myapp-stateful-0");
    m.nonce = UINT64_MAX;
    entry_set(&m.entries[0], "myapp-stateful-0", "10.244.0.10:7946", 1, 2, 3, 0);
    m.n_entries = 1;
    roundtrip(&m);

    /* Entries and digest together, at their maximum counts of small items. */
    msg_init(&m, PROTO_DELTA, "a");
    for (int i = 0; i < 20; i++) {
        char name[8];
        snprintf(name, sizeof(name), "n%d", i);
        entry_set(&m.entries[i], name, "", (uint64_t)i, 1, 1, 0);
        digest_set(&m.digest[i], name, (uint64_t)i, 1, 1);
    }
    m.n_entries = 20;
    m.n_digest = 20;
    roundtrip(&m);
}

/* ---- golden bytes ---- */

/* A heartbeat as tallyd sends it each round. Changing these bytes changes the
 * wire format: bump PROTO_VERSION or make the change additive (proto/WIRE.md). */
static const char golden_heartbeat[] =
    "84" /* map, 4 keys */
    "a176"
    "01" /* "v": 1 */
    "a174"
    "01" /* "t": 1 (heartbeat) */
    "a166"
    "b06d796170702d73746174656675"
    "6c2d30" /* "f": "myapp-stateful-0" */
    "a165"
    "91" /* "e": array of 1 */
    "96" /* entry: array of 6 */
    "b06d796170702d73746174656675"
    "6c2d30"                              /* name */
    "cf00000199c82cc000"                  /* generation 1760000000000 */
    "cd03e8"                              /* heartbeat 1000 */
    "ce000186a0"                          /* count 100000 */
    "00"                                  /* state alive */
    "b031302e3234342e302e31303a37393436"; /* addr "10.244.0.10:7946" */

static void golden_heartbeat_msg(struct proto_msg *m)
{
    msg_init(m, PROTO_HEARTBEAT, "myapp-stateful-0");
    entry_set(&m->entries[0], "myapp-stateful-0", "10.244.0.10:7946", 1760000000000ULL, 1000,
              100000, PROTO_STATE_ALIVE);
    m->n_entries = 1;
}

/* A digest answering another, with a request id. */
static const char golden_digest[] = "86" /* map, 6 keys */
                                    "a176"
                                    "01" /* "v": 1 */
                                    "a174"
                                    "02" /* "t": 2 (digest) */
                                    "a166"
                                    "b06d796170702d73746174656675"
                                    "6c2d31" /* "f": "myapp-stateful-1" */
                                    "a16e"
                                    "2a" /* "n": 42 */
                                    "a172"
                                    "c3" /* "r": true */
                                    "a164"
                                    "92" /* "d": array of 2 */
                                    "94"
                                    "b06d796170702d73746174656675"
                                    "6c2d30" /* [name, */
                                    "cf00000199c82cc000"
                                    "cd03e8"
                                    "ce000186a0" /*  gen, hb 1000, count 100000] */
                                    "94"
                                    "b06d796170702d73746174656675"
                                    "6c2d31" /* [name, */
                                    "cf00000199c82cc07b"
                                    "07"
                                    "00"; /*  gen+123, hb 7, count 0] */

static void golden_digest_msg(struct proto_msg *m)
{
    msg_init(m, PROTO_DIGEST, "myapp-stateful-1");
    m->nonce = 42;
    m->reply = 1;
    digest_set(&m->digest[0], "myapp-stateful-0", 1760000000000ULL, 1000, 100000);
    digest_set(&m->digest[1], "myapp-stateful-1", 1760000000123ULL, 7, 0);
    m->n_digest = 2;
}

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; hex[i] != '\0' && hex[i + 1] != '\0' && n < cap; i += 2) {
        unsigned v;
        char two[3] = {hex[i], hex[i + 1], '\0'};
        assert_int_equal(sscanf(two, "%02x", &v), 1);
        out[n++] = (uint8_t)v;
    }
    return n;
}

static void check_golden(const struct proto_msg *m, const char *hex)
{
    static struct proto_msg back;
    uint8_t buf[PROTO_MAX_DATAGRAM], want[PROTO_MAX_DATAGRAM];
    char got_hex[2 * PROTO_MAX_DATAGRAM + 1];
    size_t want_n = unhex(hex, want, sizeof(want));

    int n = proto_msg_encode(m, buf, sizeof(buf));
    assert_true(n > 0);
    hex_of(buf, (size_t)n, got_hex, sizeof(got_hex));
    assert_string_equal(got_hex, hex);
    assert_int_equal((size_t)n, want_n);
    /* The pinned bytes decode to the message (the decoder reads the format,
     * not merely whatever our encoder writes). */
    assert_int_equal(proto_msg_decode(want, want_n, &back, NULL), PROTO_OK);
    assert_memory_equal(m, &back, sizeof(back));
}

static void test_golden_heartbeat(void **state)
{
    static struct proto_msg m;
    (void)state;
    golden_heartbeat_msg(&m);
    check_golden(&m, golden_heartbeat);
    /* The design budget: a typical entry is 1 (array) + 17 (16-byte name) +
     * 9 (ms generation) + 3 (hb) + 5 (count) + 1 (state) = 36 bytes, plus 17
     * for its address. */
    assert_int_equal(proto_entry_size(&m.entries[0]), 53);
}

static void test_golden_digest(void **state)
{
    static struct proto_msg m;
    (void)state;
    golden_digest_msg(&m);
    check_golden(&m, golden_digest);
}

/* Encoding twice gives the same bytes (no hidden state, no uninitialised pad). */
static void test_encode_deterministic(void **state)
{
    static struct proto_msg m;
    uint8_t a[PROTO_MAX_DATAGRAM], b[PROTO_MAX_DATAGRAM];
    (void)state;
    golden_digest_msg(&m);
    int na = proto_msg_encode(&m, a, sizeof(a));
    int nb = proto_msg_encode(&m, b, sizeof(b));
    assert_true(na > 0);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, (size_t)na);
}

/* ---- sizes ---- */

static const uint64_t size_values[] = {
    0, 1, 127, 128, 255, 256, 65535, 65536, 4294967295ULL, 4294967296ULL, UINT64_MAX,
};
static const size_t size_lens[] = {1, 2, 31, 32, 63};

static int encoded_size(const struct proto_msg *m)
{
    uint8_t buf[PROTO_MAX_DATAGRAM];
    int n = proto_msg_encode(m, buf, sizeof(buf));
    assert_true(n > 0);
    return n;
}

/* proto_entry_size() is exactly what one more entry adds to a datagram, at
 * every integer and string encoding boundary. */
static void test_entry_size_exact(void **state)
{
    static struct proto_msg m;
    char name[PROTO_NAME_MAX + 1], addr[PROTO_ADDR_MAX + 1];
    (void)state;
    msg_init(&m, PROTO_DELTA, "a");
    entry_set(&m.entries[0], "a", "", 0, 0, 0, 0);
    m.n_entries = 1;
    int base = encoded_size(&m);
    m.n_entries = 2;
    for (size_t v = 0; v < sizeof(size_values) / sizeof(size_values[0]); v++) {
        for (size_t l = 0; l < sizeof(size_lens) / sizeof(size_lens[0]); l++) {
            memset(name, 'n', size_lens[l]);
            name[size_lens[l]] = '\0';
            memset(addr, 'a', size_lens[l] - 1);
            addr[size_lens[l] - 1] = '\0'; /* addr lengths 0..62 */
            entry_set(&m.entries[1], name, addr, size_values[v], size_values[v],
                      size_values[(v + 3) % 11], (uint8_t)(v % 4));
            assert_int_equal(encoded_size(&m) - base, (int)proto_entry_size(&m.entries[1]));
        }
    }
}

static void test_digest_item_size_exact(void **state)
{
    static struct proto_msg m;
    char name[PROTO_NAME_MAX + 1];
    (void)state;
    msg_init(&m, PROTO_DIGEST, "a");
    digest_set(&m.digest[0], "a", 0, 0, 0);
    m.n_digest = 1;
    int base = encoded_size(&m);
    m.n_digest = 2;
    for (size_t v = 0; v < sizeof(size_values) / sizeof(size_values[0]); v++) {
        for (size_t l = 0; l < sizeof(size_lens) / sizeof(size_lens[0]); l++) {
            memset(name, 'n', size_lens[l]);
            name[size_lens[l]] = '\0';
            digest_set(&m.digest[1], name, size_values[v], size_values[(v + 5) % 11],
                       size_values[(v + 7) % 11]);
            assert_int_equal(encoded_size(&m) - base, (int)proto_digest_item_size(&m.digest[1]));
        }
    }
}

/* The overhead is the empty message plus room for both array keys with
 * 3-byte headers, whatever nonce, reply flag and sender name it carries. */
static void test_overhead(void **state)
{
    static struct proto_msg m;
    (void)state;
    for (size_t v = 0; v < sizeof(size_values) / sizeof(size_values[0]); v++) {
        msg_init(&m, PROTO_DIGEST, "myapp-stateful-12");
        m.nonce = size_values[v];
        m.reply = (uint8_t)(v % 2);
        assert_int_equal(proto_msg_overhead(&m), (size_t)encoded_size(&m) + 2 * (2 + 3));
    }
}

/* A tiny deterministic generator so a failure can be replayed from its seed. */
static uint64_t rng_next(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 17;
}

static uint64_t rng_uint(uint64_t *s)
{
    /* Spread over every integer width, not only huge values. */
    unsigned bits = (unsigned)(rng_next(s) % 65);
    return bits == 0 ? 0 : (rng_next(s) << 17 ^ rng_next(s)) >> (64 - bits);
}

static void rng_str(uint64_t *s, char *out, size_t min, size_t max)
{
    size_t n = min + (size_t)(rng_next(s) % (max - min + 1));
    for (size_t i = 0; i < n; i++)
        out[i] = (char)('a' + rng_next(s) % 26);
    out[n] = '\0';
}

/* Filling a datagram greedily with overhead + sizes <= 1400 always encodes
 * within 1400 bytes and decodes back unchanged. */
static void test_greedy_packing(void **state)
{
    static struct proto_msg m;
    (void)state;
    for (uint64_t seed = 1; seed <= 300; seed++) {
        uint64_t s = seed;
        msg_init(&m, (uint8_t)(seed % 2 ? PROTO_DELTA : PROTO_DIGEST), "x");
        rng_str(&s, m.from, 1, PROTO_NAME_MAX);
        m.nonce = rng_uint(&s);
        m.reply = (uint8_t)(rng_next(&s) % 2);
        size_t used = proto_msg_overhead(&m);
        for (;;) {
            struct proto_entry e;
            struct proto_digest_item d;
            memset(&e, 0, sizeof(e));
            memset(&d, 0, sizeof(d));
            rng_str(&s, e.name, 1, PROTO_NAME_MAX);
            rng_str(&s, e.addr, 0, PROTO_ADDR_MAX);
            e.generation = rng_uint(&s);
            e.heartbeat = rng_uint(&s);
            e.count = rng_uint(&s);
            e.state = (uint8_t)(rng_next(&s) % 4);
            memcpy(d.name, e.name, sizeof(d.name));
            d.generation = e.generation;
            d.heartbeat = e.heartbeat;
            d.count = e.count;
            /* DELTA carries entries, DIGEST both, so both arrays get exercised. */
            if (m.type == PROTO_DELTA || rng_next(&s) % 2) {
                if (m.n_entries == PROTO_MAX_ENTRIES ||
                    used + proto_entry_size(&e) > PROTO_MAX_DATAGRAM)
                    break;
                used += proto_entry_size(&e);
                m.entries[m.n_entries++] = e;
            } else {
                if (m.n_digest == PROTO_MAX_DIGEST ||
                    used + proto_digest_item_size(&d) > PROTO_MAX_DATAGRAM)
                    break;
                used += proto_digest_item_size(&d);
                m.digest[m.n_digest++] = d;
            }
        }
        int n = roundtrip(&m);
        if ((size_t)n > used)
            fail_msg("seed %llu: encoded %d > predicted %zu", (unsigned long long)seed, n, used);
    }
}

/* The largest entries there are: 63-byte name and address, maximal integers.
 * The overhead helper says how many fit; that many encode, one more does not. */
static void test_max_size_datagram(void **state)
{
    static struct proto_msg m;
    char name[PROTO_NAME_MAX + 1], addr[PROTO_ADDR_MAX + 1];
    uint8_t buf[PROTO_MAX_DATAGRAM + 64];
    (void)state;
    memset(name, 'n', PROTO_NAME_MAX);
    name[PROTO_NAME_MAX] = '\0';
    memset(addr, 'a', PROTO_ADDR_MAX);
    addr[PROTO_ADDR_MAX] = '\0';
    msg_init(&m, PROTO_HEARTBEAT, name);
    m.nonce = UINT64_MAX;
    size_t used = proto_msg_overhead(&m);
    struct proto_entry e;
    entry_set(&e, name, addr, UINT64_MAX, UINT64_MAX, UINT64_MAX, PROTO_STATE_LEFT);
    assert_int_equal(proto_entry_size(&e), 159);
    while (used + proto_entry_size(&e) <= PROTO_MAX_DATAGRAM) {
        m.entries[m.n_entries++] = e;
        used += proto_entry_size(&e);
    }
    assert_int_equal(m.n_entries, 8);
    int n = roundtrip(&m);
    assert_true((size_t)n <= used);
    /* One more entry exceeds PROTO_MAX_DATAGRAM even in a bigger buffer. */
    m.entries[m.n_entries++] = e;
    assert_int_equal(proto_msg_encode(&m, buf, sizeof(buf)), PROTO_ERR_NOSPACE);
}

/* A buffer too small by any amount gives NOSPACE and is never overrun. */
static void test_encode_nospace(void **state)
{
    static struct proto_msg m;
    uint8_t buf[PROTO_MAX_DATAGRAM + 16];
    (void)state;
    golden_digest_msg(&m);
    int full = encoded_size(&m);
    for (int cap = 0; cap < full; cap++) {
        memset(buf, 0xAA, sizeof(buf));
        assert_int_equal(proto_msg_encode(&m, buf, (size_t)cap), PROTO_ERR_NOSPACE);
        for (size_t i = (size_t)cap; i < sizeof(buf); i++)
            assert_int_equal(buf[i], 0xAA);
    }
    assert_int_equal(proto_msg_encode(&m, buf, (size_t)full), full);
}

/* The encoder refuses exactly what the decoder would refuse, naming the field. */
static void test_encode_refuses_invalid(void **state)
{
    static struct proto_msg m;
    uint8_t buf[PROTO_MAX_DATAGRAM];
    struct proto_error err;
    (void)state;

    golden_heartbeat_msg(&m);
    assert_int_equal(proto_msg_check(&m, &err), PROTO_OK);

    m.type = 0;
    assert_int_equal(proto_msg_encode(&m, buf, sizeof(buf)), PROTO_ERR_RANGE);
    assert_int_equal(proto_msg_check(&m, &err), PROTO_ERR_RANGE);
    assert_string_equal(err.field, "t");
    m.type = 7;
    assert_int_equal(proto_msg_encode(&m, buf, sizeof(buf)), PROTO_ERR_RANGE);

    golden_heartbeat_msg(&m);
    m.from[0] = '\0';
    assert_int_equal(proto_msg_check(&m, &err), PROTO_ERR_RANGE);
    assert_string_equal(err.field, "f");
    memset(m.from, 'a', sizeof(m.from)); /* no terminator: 64 bytes */
    assert_int_equal(proto_msg_encode(&m, buf, sizeof(buf)), PROTO_ERR_RANGE);

    golden_heartbeat_msg(&m);
    m.reply = 2;
    assert_int_equal(proto_msg_check(&m, &err), PROTO_ERR_RANGE);
    assert_string_equal(err.field, "r");

    golden_heartbeat_msg(&m);
    m.n_entries = PROTO_MAX_ENTRIES + 1;
    assert_int_equal(proto_msg_check(&m, &err), PROTO_ERR_RANGE);
    assert_string_equal(err.field, "e");

    golden_digest_msg(&m);
    m.n_digest = PROTO_MAX_DIGEST + 1;
    assert_int_equal(proto_msg_check(&m, &err), PROTO_ERR_RANGE);
    assert_string_equal(err.field, "d");
    m.n_digest = 2;
    m.digest[1].name[0] = '\0';
    assert_int_equal(proto_msg_check(&m, &err), PROTO_ERR_RANGE);
    assert_string_equal(err.field, "d[1].name");

    golden_heartbeat_msg(&m);
    m.entries[0].state = 4;
    assert_int_equal(proto_msg_check(&m, &err), PROTO_ERR_RANGE);
    assert_string_equal(err.field, "e[0].state");
    golden_heartbeat_msg(&m);
    memset(m.entries[0].addr, 'a', sizeof(m.entries[0].addr));
    assert_int_equal(proto_msg_check(&m, &err), PROTO_ERR_RANGE);
    assert_string_equal(err.field, "e[0].addr");

    /* HEARTBEAT and ACK speak for their sender. */
    golden_heartbeat_msg(&m);
    m.entries[0].name[0] = 'X';
    assert_int_equal(proto_msg_encode(&m, buf, sizeof(buf)), PROTO_ERR_RANGE);
    assert_int_equal(proto_msg_check(&m, &err), PROTO_ERR_RANGE);
    assert_string_equal(err.field, "e[0].name");
    m.type = PROTO_ACK;
    assert_int_equal(proto_msg_check(&m, &err), PROTO_ERR_RANGE);
    m.type = PROTO_DELTA; /* a delta may carry anyone's entry first */
    assert_int_equal(proto_msg_check(&m, &err), PROTO_OK);
    golden_heartbeat_msg(&m);
    m.n_entries = 0;
    assert_int_equal(proto_msg_check(&m, &err), PROTO_ERR_MISSING);
    assert_string_equal(err.field, "e");
}

/* ---- msgpack-c agrees with us both ways ---- */

/* Our bytes are one msgpack object by msgpack-c's own unpacker. */
static void test_msgpack_c_reads_ours(void **state)
{
    static struct proto_msg m;
    uint8_t buf[PROTO_MAX_DATAGRAM];
    msgpack_unpacked u;
    size_t off = 0;
    (void)state;
    golden_heartbeat_msg(&m);
    int n = proto_msg_encode(&m, buf, sizeof(buf));
    assert_true(n > 0);
    msgpack_unpacked_init(&u);
    assert_int_equal(msgpack_unpack_next(&u, (const char *)buf, (size_t)n, &off),
                     MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(off, (size_t)n);
    assert_int_equal(u.data.type, MSGPACK_OBJECT_MAP);
    assert_int_equal(u.data.via.map.size, 4);
    const msgpack_object_kv *kv = u.data.via.map.ptr;
    assert_int_equal(kv[0].key.type, MSGPACK_OBJECT_STR);
    assert_memory_equal(kv[0].key.via.str.ptr, "v", 1);
    assert_int_equal(kv[0].val.via.u64, PROTO_VERSION);
    const msgpack_object *entry = &kv[3].val.via.array.ptr[0];
    assert_int_equal(entry->via.array.size, 6);
    assert_int_equal(entry->via.array.ptr[1].via.u64, 1760000000000ULL);
    msgpack_unpacked_destroy(&u);
}

/* msgpack-c written in forms our encoder never uses (fixed-width integers,
 * keys in another order, unknown keys between known ones, extra entry
 * elements) is valid msgpack and decodes to the same message. */
static void test_decode_msgpack_c_odd_forms(void **state)
{
    static struct proto_msg m, back;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    (void)state;
    golden_heartbeat_msg(&m);
    m.nonce = 5;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 7);
    msgpack_pack_str_with_body(&pk, "e", 1);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_array(&pk, 8);
    msgpack_pack_str_with_body(&pk, "myapp-stateful-0", 16);
    msgpack_pack_fix_uint64(&pk, 1760000000000ULL);
    msgpack_pack_fix_uint32(&pk, 1000);
    msgpack_pack_fix_uint64(&pk, 100000);
    msgpack_pack_fix_uint8(&pk, 0);
    msgpack_pack_str_with_body(&pk, "10.244.0.10:7946", 16);
    msgpack_pack_double(&pk, 1.5); /* a future element: ignored */
    msgpack_pack_map(&pk, 1);
    msgpack_pack_nil(&pk);
    msgpack_pack_bin_with_body(&pk, "x", 1);
    msgpack_pack_str_with_body(&pk, "zz", 2); /* unknown key */
    msgpack_pack_array(&pk, 2);
    msgpack_pack_int64(&pk, -5);
    msgpack_pack_ext_with_body(&pk, "abc", 3, 7);
    msgpack_pack_str_with_body(&pk, "f", 1);
    msgpack_pack_str_with_body(&pk, "myapp-stateful-0", 16);
    msgpack_pack_str_with_body(&pk, "n", 1);
    msgpack_pack_fix_uint16(&pk, 5);
    msgpack_pack_str_with_body(&pk, "r", 1);
    msgpack_pack_false(&pk);
    msgpack_pack_str_with_body(&pk, "t", 1);
    msgpack_pack_fix_uint64(&pk, PROTO_HEARTBEAT);
    msgpack_pack_str_with_body(&pk, "v", 1);
    msgpack_pack_fix_uint32(&pk, PROTO_VERSION);
    struct proto_error err;
    int rc = proto_msg_decode((const uint8_t *)sb.data, sb.size, &back, &err);
    if (rc != PROTO_OK)
        fail_msg("decode: %s at %s", proto_err_str(rc), err.field);
    assert_memory_equal(&m, &back, sizeof(back));
    msgpack_sbuffer_destroy(&sb);
}

/* ---- names ---- */

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(proto_err_str(PROTO_OK), "ok");
    assert_string_equal(proto_err_str(PROTO_ERR_TRUNCATED), "truncated");
    assert_string_equal(proto_err_str(PROTO_ERR_TRAILING), "trailing bytes");
    assert_string_equal(proto_err_str(PROTO_ERR_TYPE), "wrong type");
    assert_string_equal(proto_err_str(PROTO_ERR_RANGE), "out of range");
    assert_string_equal(proto_err_str(PROTO_ERR_MISSING), "missing field");
    assert_string_equal(proto_err_str(PROTO_ERR_VERSION), "unsupported version");
    assert_string_equal(proto_err_str(PROTO_ERR_TOO_BIG), "datagram too big");
    assert_string_equal(proto_err_str(PROTO_ERR_NOSPACE), "no space");
    assert_string_equal(proto_err_str(-99), "unknown error");
    assert_string_equal(proto_type_str(PROTO_HEARTBEAT), "heartbeat");
    assert_string_equal(proto_type_str(PROTO_DIGEST), "digest");
    assert_string_equal(proto_type_str(PROTO_DELTA), "delta");
    assert_string_equal(proto_type_str(PROTO_LEAVE), "leave");
    assert_string_equal(proto_type_str(PROTO_PING), "ping");
    assert_string_equal(proto_type_str(PROTO_ACK), "ack");
    assert_string_equal(proto_type_str(0), "unknown");
    assert_string_equal(proto_state_str(PROTO_STATE_ALIVE), "alive");
    assert_string_equal(proto_state_str(PROTO_STATE_SUSPECT), "suspect");
    assert_string_equal(proto_state_str(PROTO_STATE_DEAD), "dead");
    assert_string_equal(proto_state_str(PROTO_STATE_LEFT), "left");
    assert_string_equal(proto_state_str(4), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_every_type),
        cmocka_unit_test(test_golden_heartbeat),
        cmocka_unit_test(test_golden_digest),
        cmocka_unit_test(test_encode_deterministic),
        cmocka_unit_test(test_entry_size_exact),
        cmocka_unit_test(test_digest_item_size_exact),
        cmocka_unit_test(test_overhead),
        cmocka_unit_test(test_greedy_packing),
        cmocka_unit_test(test_max_size_datagram),
        cmocka_unit_test(test_encode_nospace),
        cmocka_unit_test(test_encode_refuses_invalid),
        cmocka_unit_test(test_msgpack_c_reads_ours),
        cmocka_unit_test(test_decode_msgpack_c_odd_forms),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
