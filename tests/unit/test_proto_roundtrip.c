/*
 * test_proto_roundtrip.c: what the gossip core relies on from proto/ (wire
 * version 3, and version 2 for peers that speak only that): every message type survives
 * encode+decode unchanged, the bytes are pinned (golden tests, so a wire change is a deliberate
 * decision), the size helpers are exact so a sender can fill a datagram greedily, the encoder
 * refuses what the decoder would refuse, the SYNC bucket hashing is pinned,
 * msgpack-c agrees with our bytes both ways, and the fuzz seeds are valid.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <msgpack.h>

#include "proto/proto.h"

/* ---- helpers ---- */

static void entry_set(struct proto_entry *e, const char *name, const char *addr, uint64_t inc,
                      uint64_t hb, uint8_t state, uint64_t vol)
{
    memset(e, 0, sizeof(*e));
    snprintf(e->name, sizeof(e->name), "%s", name);
    snprintf(e->addr, sizeof(e->addr), "%s", addr);
    e->incarnation = inc;
    e->heartbeat = hb;
    e->state = state;
    e->vol = vol;
}

static void entry_slot(struct proto_entry *e, uint64_t vol, uint64_t count)
{
    assert_true(e->n_slots < PROTO_MAX_SLOTS);
    e->slots[e->n_slots].vol = vol;
    e->slots[e->n_slots].count = count;
    e->n_slots++;
}

static void digest_set(struct proto_digest_item *d, const char *name, uint64_t inc, uint64_t hb,
                       uint64_t count)
{
    memset(d, 0, sizeof(*d));
    snprintf(d->name, sizeof(d->name), "%s", name);
    d->incarnation = inc;
    d->heartbeat = hb;
    d->count = count;
}

/* msg is big (~40 KB): tests keep theirs static rather than on the stack. The
 * version and range are what the decoder will report for our own datagrams. */
static void msg_init(struct proto_msg *m, uint8_t type, const char *from)
{
    memset(m, 0, sizeof(*m));
    m->version = PROTO_VERSION;
    m->type = type;
    m->vmin = PROTO_VERSION_MIN;
    m->vmax = PROTO_VERSION_MAX;
    snprintf(m->from, sizeof(m->from), "%s", from);
}

static void hex_of(const uint8_t *b, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 3 <= cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%02x", b[i]);
    out[o] = '\0';
}

/* Asserts got, as decoded, equals want: the header byte for byte (the
 * decoder zeroes what it does not fill) and every array as far as its
 * count (past that the decoder leaves what was there). */
static void msg_assert_equal(const struct proto_msg *want, const struct proto_msg *got)
{
    assert_memory_equal(want, got, offsetof(struct proto_msg, buckets));
    assert_int_equal(want->n_buckets, got->n_buckets);
    assert_memory_equal(want->buckets, got->buckets, want->n_buckets * sizeof(want->buckets[0]));
    assert_int_equal(want->n_entries, got->n_entries);
    assert_memory_equal(want->entries, got->entries, want->n_entries * sizeof(want->entries[0]));
    assert_int_equal(want->n_digest, got->n_digest);
    assert_memory_equal(want->digest, got->digest, want->n_digest * sizeof(want->digest[0]));
    assert_int_equal(want->n_counts, got->n_counts);
    assert_memory_equal(want->counts, got->counts, want->n_counts * sizeof(want->counts[0]));
}

/* Encodes, decodes and asserts the decoded message equals the original.
 * Returns the size. */
static int roundtrip(const struct proto_msg *m)
{
    static struct proto_msg back;
    uint8_t buf[PROTO_MAX_DATAGRAM];
    struct proto_error err;
    int n = proto_msg_encode(m, buf, sizeof(buf));
    if (n <= 0)
        fail_msg("encode: %s", proto_err_str(n));
    int rc = proto_msg_decode(buf, (size_t)n, &back, &err);
    if (rc != PROTO_OK)
        fail_msg("decode: %s at %s", proto_err_str(rc), err.field);
    assert_int_equal(err.code, PROTO_OK);
    msg_assert_equal(m, &back);
    return n;
}

/* ---- round trips ---- */

static void test_roundtrip_every_type(void **state)
{
    static struct proto_msg m;
    (void)state;

    /* A heartbeat: the sender with two slots, a peer with none yet, a peer
     * with every slot it may have, all at the largest values allowed. */
    msg_init(&m, PROTO_HEARTBEAT, "myapp-stateful-0");
    entry_set(&m.entries[0], "myapp-stateful-0", "10.244.0.10:7946", 7, 12, 0, 0xa1);
    entry_slot(&m.entries[0], 0xa1, 5);
    entry_slot(&m.entries[0], 0xa0, 3);
    entry_set(&m.entries[1], "myapp-stateful-1", "10.244.0.11:7946", 1, 9, PROTO_STATE_SUSPECT, 0);
    entry_set(&m.entries[2], "myapp-stateful-2", "", PROTO_VALUE_MAX, PROTO_VALUE_MAX,
              PROTO_STATE_DEAD, UINT64_MAX);
    for (unsigned k = 0; k < PROTO_MAX_SLOTS; k++)
        entry_slot(&m.entries[2], UINT64_MAX - k, PROTO_VALUE_MAX - k);
    m.n_entries = 3;
    roundtrip(&m);
    /* ... with compact count updates at every width, up to a full "c". */
    static const uint64_t widths[] = {0, 200, 70000, 1ull << 33};
    for (unsigned k = 0; k < PROTO_MAX_COUNTS; k++) {
        m.counts[k].sid = k % 8 ? widths[k % 4] + k : UINT64_MAX - k;
        m.counts[k].count = k % 8 ? k : PROTO_VALUE_MAX - k;
    }
    memset(&m.entries[1], 0, 2 * sizeof(m.entries[0]));
    m.n_entries = 1;
    m.n_counts = PROTO_MAX_COUNTS;
    roundtrip(&m);
    m.n_counts = 0;

    msg_init(&m, PROTO_DIGEST, "myapp-stateful-1");
    m.nonce = 77;
    m.reply = 1;
    digest_set(&m.digest[0], "myapp-stateful-0", 7, 12, 8);
    digest_set(&m.digest[1], "myapp-stateful-1", PROTO_VALUE_MAX, PROTO_VALUE_MAX,
               PROTO_VALUE_MAX * PROTO_MAX_SLOTS);
    m.n_digest = 2;
    roundtrip(&m);

    /* A DELTA answering a digest, then one answering a SYNC. */
    msg_init(&m, PROTO_DELTA, "myapp-stateful-2");
    m.nonce = 77;
    entry_set(&m.entries[0], "myapp-stateful-9", "[fd00::1]:7946", 3, 4, PROTO_STATE_LEFT, 9);
    entry_slot(&m.entries[0], 9, 5);
    m.n_entries = 1;
    roundtrip(&m);
    m.part = 3;
    m.parts = 3;
    m.whole = 1;
    roundtrip(&m);
    m.part = 1;
    m.parts = UINT16_MAX;
    m.whole = 0;
    roundtrip(&m);
    /* A SYNC answer of compact counts (to a ready asker). */
    m.counts[0].sid = 0xfec3e5e05cca56edull;
    m.counts[0].count = 9;
    m.n_counts = 1;
    roundtrip(&m);
    m.n_counts = 0;
    memset(&m.counts[0], 0, sizeof(m.counts[0]));
    /* The answer to a SYNC where no bucket differs: nothing but "p". */
    memset(&m.entries[0], 0, sizeof(m.entries[0]));
    m.n_entries = 0;
    m.part = 1;
    m.parts = 1;
    m.whole = 1;
    roundtrip(&m);

    msg_init(&m, PROTO_LEAVE, "myapp-stateful-3");
    entry_set(&m.entries[0], "myapp-stateful-3", "10.0.0.3:7946", 3, 4, PROTO_STATE_LEFT, 1);
    entry_slot(&m.entries[0], 1, 5);
    m.n_entries = 1;
    roundtrip(&m);

    msg_init(&m, PROTO_PING, "tallyctl");
    m.nonce = UINT64_MAX;
    roundtrip(&m);

    msg_init(&m, PROTO_ACK, "myapp-stateful-0");
    m.nonce = UINT64_MAX;
    entry_set(&m.entries[0], "myapp-stateful-0", "10.244.0.10:7946", 1, 2, 0, 3);
    entry_slot(&m.entries[0], 3, 3);
    m.n_entries = 1;
    roundtrip(&m);

    /* A SYNC with every bucket width, 0 through 2^32-1. */
    msg_init(&m, PROTO_SYNC, "myapp-stateful-4");
    m.nonce = 1;
    m.n_buckets = PROTO_BUCKETS;
    for (uint32_t i = 0; i < PROTO_BUCKETS; i++)
        m.buckets[i] = i % 2 ? UINT32_MAX >> (i % 32) : i;
    roundtrip(&m);

    /* Entries and digest together, many small ones. */
    msg_init(&m, PROTO_DELTA, "a");
    for (int i = 0; i < 20; i++) {
        char name[8];
        snprintf(name, sizeof(name), "n%d", i);
        entry_set(&m.entries[i], name, "", (uint64_t)i, 1, 0, 0);
        digest_set(&m.digest[i], name, (uint64_t)i, 1, 1);
    }
    m.n_entries = 20;
    m.n_digest = 20;
    roundtrip(&m);
}

/* ---- golden bytes ---- */

/* Changing any of these bytes changes the wire format: bump PROTO_VERSION or
 * make the change additive (proto/WIRE.md, "Version rule"). Each is annotated
 * field by field (clang-format is off around them to keep one field a line);
 * WIRE.md's pictures describe the same bytes. */

/* The two volumes of myapp-stateful-0 in the goldens: the one it counts on
 * now, and one it lost (its visits stay counted in their own slot). */
#define VOL_NOW  0x8c3f2a9d41e07b65ull
#define VOL_LOST 0x1b2c3d4e5f607182ull

/* A heartbeat as tallyd sends it each round: its own entry first. */
/* clang-format off */
static const char golden_heartbeat[] =
    "85"                                   /* map, 5 keys */
    "a176" "04"                            /* "v": 4 */
    "a177" "92" "02" "04"                  /* "w": [2, 4] */
    "a174" "01"                            /* "t": 1 (heartbeat) */
    "a166" "b0" "6d796170702d737461746566756c2d30" /* "f": "myapp-stateful-0" */
    "a165" "91"                            /* "e": array of 1 */
    "97"                                   /* entry: array of 7 */
    "b0" "6d796170702d737461746566756c2d30" /*   name */
    "07"                                   /*   incarnation 7 */
    "cd" "03e8"                            /*   heartbeat 1000 */
    "00"                                   /*   state alive */
    "b0" "31302e3234342e302e31303a37393436" /*   addr "10.244.0.10:7946" */
    "cf" "8c3f2a9d41e07b65"                /*   vol VOL_NOW */
    "94"                                   /*   slots: array of 4 = 2 slots */
    "cf" "8c3f2a9d41e07b65" "ce" "000186a0" /*     VOL_NOW: 100000 */
    "cf" "1b2c3d4e5f607182" "2a";          /*     VOL_LOST: 42 */
/* clang-format on */

static void golden_heartbeat_msg(struct proto_msg *m)
{
    msg_init(m, PROTO_HEARTBEAT, "myapp-stateful-0");
    entry_set(&m->entries[0], "myapp-stateful-0", "10.244.0.10:7946", 7, 1000, PROTO_STATE_ALIVE,
              VOL_NOW);
    entry_slot(&m->entries[0], VOL_NOW, 100000);
    entry_slot(&m->entries[0], VOL_LOST, 42);
    m->n_entries = 1;
}

/* A digest answering another, with a request id. */
/* clang-format off */
static const char golden_digest[] =
    "87"                                   /* map, 7 keys */
    "a176" "04"                            /* "v": 4 */
    "a177" "92" "02" "04"                  /* "w": [2, 4] */
    "a174" "02"                            /* "t": 2 (digest) */
    "a166" "b0" "6d796170702d737461746566756c2d31" /* "f": "myapp-stateful-1" */
    "a16e" "2a"                            /* "n": 42 */
    "a172" "c3"                            /* "r": true */
    "a164" "92"                            /* "d": array of 2 */
    "94"                                   /* item: array of 4 */
    "b0" "6d796170702d737461746566756c2d30" /*   name */
    "07"                                   /*   incarnation 7 */
    "cd" "03e8"                            /*   heartbeat 1000 */
    "ce" "000186ca"                        /*   count 100042 (sum of slots) */
    "94"                                   /* item: array of 4 */
    "b0" "6d796170702d737461746566756c2d31" /*   name */
    "03"                                   /*   incarnation 3 */
    "07"                                   /*   heartbeat 7 */
    "00";                                  /*   count 0 */
/* clang-format on */

static void golden_digest_msg(struct proto_msg *m)
{
    msg_init(m, PROTO_DIGEST, "myapp-stateful-1");
    m->nonce = 42;
    m->reply = 1;
    digest_set(&m->digest[0], "myapp-stateful-0", 7, 1000, 100042);
    digest_set(&m->digest[1], "myapp-stateful-1", 3, 7, 0);
    m->n_digest = 2;
}

/* The slot table both golden SYNC messages are about. myapp-stateful-0 falls
 * in bucket 8, myapp-stateful-1 in 27, myapp-stateful-2 in 46 (FNV-1a 32 of
 * the name mod 64, checked in test_bucket_golden). */
static const struct {
    const char *name;
    uint64_t vol, count;
} golden_table[] = {
    {"myapp-stateful-0", VOL_NOW, 100000},
    {"myapp-stateful-0", VOL_LOST, 42},
    {"myapp-stateful-1", 0x00000000000000b1ull, 7},
    {"myapp-stateful-2", 0x00000000000000c2ull, 0},
};

static void golden_table_buckets(uint32_t buckets[PROTO_BUCKETS])
{
    memset(buckets, 0, PROTO_BUCKETS * sizeof(buckets[0]));
    for (size_t i = 0; i < sizeof(golden_table) / sizeof(golden_table[0]); i++)
        buckets[proto_bucket_of(golden_table[i].name)] ^=
            proto_slot_share(golden_table[i].name, golden_table[i].vol, golden_table[i].count);
}

/* A SYNC of that table: an empty bucket hashes to 0. */
/* clang-format off */
static const char golden_sync[] =
    "86"                                   /* map, 6 keys */
    "a176" "04"                            /* "v": 4 */
    "a177" "92" "02" "04"                  /* "w": [2, 4] */
    "a174" "07"                            /* "t": 7 (sync) */
    "a166" "b0" "6d796170702d737461746566756c2d32" /* "f": "myapp-stateful-2" */
    "a16e" "2b"                            /* "n": 43 (request id) */
    "a162" "dc" "0040"                     /* "b": array16 of 64 */
    "0000000000000000"                     /*   buckets 0..7: empty */
    "ce" "be2fb897"                        /*   8: myapp-stateful-0's two slots */
    "000000000000000000000000000000000000" /*   9..26 */
    "ce" "4f1e8bf6"                        /*   27: myapp-stateful-1 */
    "000000000000000000000000000000000000" /*   28..45 */
    "ce" "bbda6cb3"                        /*   46: myapp-stateful-2 (count 0) */
    "0000000000000000000000000000000000";  /*   47..63 */
/* clang-format on */

static void golden_sync_msg(struct proto_msg *m)
{
    msg_init(m, PROTO_SYNC, "myapp-stateful-2");
    m->nonce = 43;
    m->n_buckets = PROTO_BUCKETS;
    golden_table_buckets(m->buckets);
}

/* Its answer from a peer whose myapp-stateful-1 slot is ahead (bucket 27
 * differs): every entry of that bucket, in one part of one, whole. */
/* clang-format off */
static const char golden_sync_answer[] =
    "87"                                   /* map, 7 keys */
    "a176" "04"                            /* "v": 4 */
    "a177" "92" "02" "04"                  /* "w": [2, 4] */
    "a174" "03"                            /* "t": 3 (delta) */
    "a166" "b0" "6d796170702d737461746566756c2d30" /* "f": "myapp-stateful-0" */
    "a16e" "2b"                            /* "n": 43, the SYNC's */
    "a170" "93" "01" "01" "01"             /* "p": [part 1, of 1, whole] */
    "a165" "91"                            /* "e": array of 1 */
    "97"                                   /* entry: array of 7 */
    "b0" "6d796170702d737461746566756c2d31" /*   name */
    "03"                                   /*   incarnation 3 */
    "07"                                   /*   heartbeat 7 */
    "00"                                   /*   state alive */
    "b0" "31302e3234342e302e31313a37393436" /*   addr "10.244.0.11:7946" */
    "cc" "b1"                              /*   vol 0xb1 */
    "92" "ccb1" "09";                      /*   slots: [0xb1, 9] */
/* clang-format on */

static void golden_sync_answer_msg(struct proto_msg *m)
{
    msg_init(m, PROTO_DELTA, "myapp-stateful-0");
    m->nonce = 43;
    m->part = 1;
    m->parts = 1;
    m->whole = 1;
    entry_set(&m->entries[0], "myapp-stateful-1", "10.244.0.11:7946", 3, 7, PROTO_STATE_ALIVE,
              0xb1);
    entry_slot(&m->entries[0], 0xb1, 9);
    m->n_entries = 1;
}

/* SWIM's indirect probe: myapp-stateful-0 asks a helper to PING
 * myapp-stateful-1 for it and forward the ACK with nonce 44. */
/* clang-format off */
static const char golden_ping_req[] =
    "86"                                   /* map, 6 keys */
    "a176" "04"                            /* "v": 4 */
    "a177" "92" "02" "04"                  /* "w": [2, 4] */
    "a174" "08"                            /* "t": 8 (ping_req) */
    "a166" "b0" "6d796170702d737461746566756c2d30" /* "f": "myapp-stateful-0" */
    "a16e" "2c"                            /* "n": 44, the asker's probe */
    "a161" "b0" "31302e3234342e302e31313a37393436"; /* "a": "10.244.0.11:7946" */
/* clang-format on */

static void golden_ping_req_msg(struct proto_msg *m)
{
    msg_init(m, PROTO_PING_REQ, "myapp-stateful-0");
    m->nonce = 44;
    snprintf(m->target, sizeof(m->target), "10.244.0.11:7946");
}

/* A suspicion relayed by myapp-stateful-2: myapp-stateful-1 is suspect, on
 * the word of myapp-stateful-0 (element 7, the accuser). */
/* clang-format off */
static const char golden_suspicion[] =
    "85"                                   /* map, 5 keys */
    "a176" "04"                            /* "v": 4 */
    "a177" "92" "02" "04"                  /* "w": [2, 4] */
    "a174" "03"                            /* "t": 3 (delta) */
    "a166" "b0" "6d796170702d737461746566756c2d32" /* "f": "myapp-stateful-2" */
    "a165" "91"                            /* "e": array of 1 */
    "98"                                   /* entry: array of 8 */
    "b0" "6d796170702d737461746566756c2d31" /*   name */
    "03"                                   /*   incarnation 3 */
    "07"                                   /*   heartbeat 7 */
    "01"                                   /*   state suspect */
    "b0" "31302e3234342e302e31313a37393436" /*   addr "10.244.0.11:7946" */
    "cc" "b1"                              /*   vol 0xb1 */
    "92" "ccb1" "09"                       /*   slots: [0xb1, 9] */
    "b0" "6d796170702d737461746566756c2d30"; /* accuser "myapp-stateful-0" */
/* clang-format on */

static void golden_suspicion_msg(struct proto_msg *m)
{
    msg_init(m, PROTO_DELTA, "myapp-stateful-2");
    entry_set(&m->entries[0], "myapp-stateful-1", "10.244.0.11:7946", 3, 7, PROTO_STATE_SUSPECT,
              0xb1);
    entry_slot(&m->entries[0], 0xb1, 9);
    snprintf(m->entries[0].accuser, sizeof(m->entries[0].accuser), "myapp-stateful-0");
    m->n_entries = 1;
}

/* Version 3's compact count updates: myapp-stateful-2's heartbeat carries
 * its own entry, then two counts that rose, each as (slot id, count): the
 * slot id is proto_slot_id(name, vol), computed by every node alike. */
/* clang-format off */
static const char golden_compact[] =
    "86"                                   /* map, 6 keys */
    "a176" "04"                            /* "v": 4 */
    "a177" "92" "02" "04"                  /* "w": [2, 4] */
    "a174" "01"                            /* "t": 1 (heartbeat) */
    "a166" "b0" "6d796170702d737461746566756c2d32" /* "f": "myapp-stateful-2" */
    "a165" "91"                            /* "e": array of 1 */
    "97"                                   /* entry: array of 7 */
    "b0" "6d796170702d737461746566756c2d32" /*   name */
    "03"                                   /*   incarnation 3 */
    "07"                                   /*   heartbeat 7 */
    "00"                                   /*   state alive */
    "b0" "31302e3234342e302e31323a37393436" /*   addr "10.244.0.12:7946" */
    "cc" "c2"                              /*   vol 0xc2 */
    "92" "ccc2" "00"                       /*   slots: [0xc2, 0] */
    "a163" "94"                            /* "c": array of 4 = 2 updates */
    "cf" "fec3e5e05cca56ed" "09"           /*   (myapp-stateful-1, 0xb1): 9 */
    "cf" "0a692a7467347db4" "ce" "000186a0"; /* (myapp-stateful-0, VOL_NOW): 100000 */
/* clang-format on */

static void golden_compact_msg(struct proto_msg *m)
{
    msg_init(m, PROTO_HEARTBEAT, "myapp-stateful-2");
    entry_set(&m->entries[0], "myapp-stateful-2", "10.244.0.12:7946", 3, 7, PROTO_STATE_ALIVE,
              0xc2);
    entry_slot(&m->entries[0], 0xc2, 0);
    m->n_entries = 1;
    m->counts[0].sid = proto_slot_id("myapp-stateful-1", 0xb1);
    m->counts[0].count = 9;
    m->counts[1].sid = proto_slot_id("myapp-stateful-0", VOL_NOW);
    m->counts[1].count = 100000;
    m->n_counts = 2;
}

static void refused(const struct proto_msg *m, int code, const char *field);

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
    msg_assert_equal(m, &back);
}

static void test_golden_heartbeat(void **state)
{
    static struct proto_msg m;
    (void)state;
    golden_heartbeat_msg(&m);
    check_golden(&m, golden_heartbeat);
    /* WIRE.md's typical entry: 1 (array) + 17 (16-byte name) + 1 (incarnation)
     * + 3 (heartbeat) + 1 (state) + 17 (address) + 9 (vol) + 1 (slots array)
     * + 14 (vol, count 100000) + 10 (vol, count 42). */
    assert_int_equal(proto_entry_size(&m.entries[0]), 74);
    m.entries[0].n_slots = 1;
    assert_int_equal(proto_entry_size(&m.entries[0]), 64);
}

static void test_golden_digest(void **state)
{
    static struct proto_msg m;
    (void)state;
    golden_digest_msg(&m);
    check_golden(&m, golden_digest);
    assert_int_equal(proto_digest_item_size(&m.digest[0]), 27);
}

static void test_golden_sync(void **state)
{
    static struct proto_msg m;
    (void)state;
    golden_sync_msg(&m);
    check_golden(&m, golden_sync);
}

static void test_golden_sync_answer(void **state)
{
    static struct proto_msg m;
    (void)state;
    golden_sync_answer_msg(&m);
    check_golden(&m, golden_sync_answer);
}

static void test_golden_ping_req(void **state)
{
    static struct proto_msg m;
    (void)state;
    golden_ping_req_msg(&m);
    check_golden(&m, golden_ping_req);
    /* The target belongs to a PING_REQ, and a PING_REQ needs one. */
    m.type = PROTO_PING;
    refused(&m, PROTO_ERR_RANGE, "a");
    golden_ping_req_msg(&m);
    m.target[0] = '\0';
    refused(&m, PROTO_ERR_MISSING, "a");
}

static void test_golden_suspicion(void **state)
{
    static struct proto_msg m;
    (void)state;
    golden_suspicion_msg(&m);
    check_golden(&m, golden_suspicion);
    /* 44 bytes without the accuser, 17 more with it. */
    assert_int_equal(proto_entry_size(&m.entries[0]), 44 + 17);
    /* Only a suspicion names an accuser. */
    m.entries[0].state = PROTO_STATE_ALIVE;
    refused(&m, PROTO_ERR_RANGE, "e[0].accuser");
}

static void test_golden_compact(void **state)
{
    static struct proto_msg m;
    (void)state;
    golden_compact_msg(&m);
    check_golden(&m, golden_compact);
    /* WIRE.md's sizes: a 9-byte id and a 1..9-byte count. */
    assert_int_equal(proto_count_size(&m.counts[0]), 10);
    assert_int_equal(proto_count_size(&m.counts[1]), 14);
    /* Only HEARTBEAT and DELTA carry them, each slot once, counts within
     * 2^53, and only from version 3 on. */
    m.type = PROTO_ACK;
    refused(&m, PROTO_ERR_RANGE, "c");
    golden_compact_msg(&m);
    m.version = 2;
    refused(&m, PROTO_ERR_RANGE, "c");
    golden_compact_msg(&m);
    m.counts[1].sid = m.counts[0].sid;
    refused(&m, PROTO_ERR_RANGE, "c[1].sid");
    golden_compact_msg(&m);
    m.counts[0].count = PROTO_VALUE_MAX + 1;
    refused(&m, PROTO_ERR_RANGE, "c[0].count");
    golden_compact_msg(&m);
    m.version = PROTO_VERSION_MAX + 1;
    refused(&m, PROTO_ERR_RANGE, "v");
}

/* A peer that speaks only version 2 is written version 2: the same bytes
 * but "v", and our own range still says we speak 3. What a version-2
 * datagram holds under "c" is an unknown key to it, and to us when we read
 * version 2: skipped, never taken for counts. */
static void test_version_2_for_old_peers(void **state)
{
    static struct proto_msg m, back;
    uint8_t buf[PROTO_MAX_DATAGRAM];
    (void)state;
    golden_heartbeat_msg(&m);
    m.version = 2;
    int n = proto_msg_encode(&m, buf, sizeof(buf));
    assert_int_equal(n, 108);
    char hex[2 * PROTO_MAX_DATAGRAM + 1];
    hex_of(buf, 12, hex, sizeof(hex));
    assert_string_equal(hex, "85a17602a177920204a17401");
    assert_int_equal(proto_msg_decode(buf, (size_t)n, &back, NULL), PROTO_OK);
    msg_assert_equal(&m, &back);

    /* golden_compact with "v" 2: decodes, without the counts. */
    uint8_t in[PROTO_MAX_DATAGRAM];
    size_t len = unhex(golden_compact, in, sizeof(in));
    assert_int_equal(in[3], 0x04);
    in[3] = 0x02;
    assert_int_equal(proto_msg_decode(in, len, &back, NULL), PROTO_OK);
    assert_int_equal(back.version, 2);
    assert_int_equal(back.n_entries, 1);
    assert_int_equal(back.n_counts, 0);
    /* ... and the same with "c" first, before "v" is read. */
    golden_compact_msg(&m);
    n = proto_msg_encode(&m, buf, sizeof(buf));
    assert_true(n > 0);
    size_t c_at = (size_t)n - 27; /* "c" key and its 25-byte value, last */
    assert_int_equal(buf[c_at], 0xa1);
    assert_int_equal(buf[c_at + 1], 'c');
    uint8_t moved[PROTO_MAX_DATAGRAM];
    moved[0] = buf[0];
    memcpy(moved + 1, buf + c_at, 27);
    memcpy(moved + 28, buf + 1, c_at - 1);
    assert_int_equal(proto_msg_decode(moved, (size_t)n, &back, NULL), PROTO_OK);
    msg_assert_equal(&m, &back);
    assert_int_equal(moved[28], 0xa1);
    assert_int_equal(moved[29], 'v');
    moved[30] = 0x02; /* "v": 4 -> 2 */
    assert_int_equal(proto_msg_decode(moved, (size_t)n, &back, NULL), PROTO_OK);
    assert_int_equal(back.n_counts, 0);
}

/* The bucket functions are part of the wire: both ends of a SYNC must agree.
 * These values were computed independently of proto/bucket.c from the
 * definitions in WIRE.md ("Buckets"). */
static void test_bucket_golden(void **state)
{
    (void)state;
    assert_int_equal(proto_bucket_of(""), 2166136261u % PROTO_BUCKETS);
    assert_int_equal(proto_bucket_of("myapp-stateful-0"), 8);
    assert_int_equal(proto_bucket_of("myapp-stateful-1"), 27);
    assert_int_equal(proto_bucket_of("myapp-stateful-2"), 46);
    assert_int_equal(proto_slot_share("myapp-stateful-0", VOL_NOW, 100000), 0xc996730bu);
    /* Slot ids (compact count updates), from the same definitions. */
    assert_true(proto_slot_id("myapp-stateful-1", 0xb1) == 0xfec3e5e05cca56edull);
    assert_true(proto_slot_id("myapp-stateful-0", VOL_NOW) == 0x0a692a7467347db4ull);
    assert_true(proto_slot_id("a", 1) == 0x0c721f29b00e97a9ull);
    assert_true(proto_slot_id("a", UINT64_MAX) == 0x82b093ccdbc35083ull);
    assert_int_equal(proto_slot_share("myapp-stateful-0", VOL_LOST, 42), 0x77b9cb9cu);
    assert_int_equal(proto_slot_share("a", 1, 0), 0x444efaffu);
    assert_int_equal(proto_slot_share("a", UINT64_MAX, PROTO_VALUE_MAX), 0x6b0d8781u);
}

/* What the XOR shape buys: a table keeps its bucket hashes with one XOR per
 * change, whatever order slots arrive in, and a slot that moves by one visit
 * shows in its bucket (and only there). */
static void test_bucket_properties(void **state)
{
    uint32_t a[PROTO_BUCKETS], b[PROTO_BUCKETS];
    (void)state;
    golden_table_buckets(a);
    memset(b, 0, sizeof(b));
    for (size_t i = sizeof(golden_table) / sizeof(golden_table[0]); i-- > 0;)
        b[proto_bucket_of(golden_table[i].name)] ^=
            proto_slot_share(golden_table[i].name, golden_table[i].vol, golden_table[i].count);
    assert_memory_equal(a, b, sizeof(a));

    /* myapp-stateful-0's slot goes from 100000 to 100001: remove the old
     * share, add the new one. */
    uint32_t bk = proto_bucket_of("myapp-stateful-0");
    b[bk] ^= proto_slot_share("myapp-stateful-0", VOL_NOW, 100000);
    b[bk] ^= proto_slot_share("myapp-stateful-0", VOL_NOW, 100001);
    for (uint32_t i = 0; i < PROTO_BUCKETS; i++)
        if (i == bk)
            assert_int_not_equal(a[i], b[i]);
        else
            assert_int_equal(a[i], b[i]);

    /* Shares differ with each of name, vol and count (a fixed sample: a
     * collision would need a 32-bit coincidence, and these are pinned). */
    for (uint64_t c = 0; c < 1000; c++) {
        uint32_t s = proto_slot_share("myapp-stateful-0", VOL_NOW, c);
        assert_int_not_equal(s, proto_slot_share("myapp-stateful-0", VOL_NOW, c + 1));
        assert_int_not_equal(s, proto_slot_share("myapp-stateful-0", VOL_NOW + 1, c));
        assert_int_not_equal(s, proto_slot_share("myapp-stateful-1", VOL_NOW, c));
    }
}

/* Encoding twice gives the same bytes (no hidden state, no uninitialised pad). */
static void test_encode_deterministic(void **state)
{
    static struct proto_msg m;
    uint8_t a[PROTO_MAX_DATAGRAM], b[PROTO_MAX_DATAGRAM];
    (void)state;
    golden_heartbeat_msg(&m);
    int na = proto_msg_encode(&m, a, sizeof(a));
    int nb = proto_msg_encode(&m, b, sizeof(b));
    assert_true(na > 0);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, (size_t)na);
}

/* The encoder writes this build's version range whatever the message holds:
 * "w" says what the sender speaks, not what it was told. */
static void test_encode_writes_own_range(void **state)
{
    static struct proto_msg m, back;
    uint8_t a[PROTO_MAX_DATAGRAM], b[PROTO_MAX_DATAGRAM];
    (void)state;
    golden_heartbeat_msg(&m);
    int na = proto_msg_encode(&m, a, sizeof(a));
    m.vmin = 0;
    m.vmax = 200;
    int nb = proto_msg_encode(&m, b, sizeof(b));
    assert_true(na > 0);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, (size_t)na);
    assert_int_equal(proto_msg_decode(b, (size_t)nb, &back, NULL), PROTO_OK);
    assert_int_equal(back.vmin, PROTO_VERSION_MIN);
    assert_int_equal(back.vmax, PROTO_VERSION_MAX);
}

/* ---- sizes ---- */

/* Every msgpack integer width, up to the largest count a datagram may carry. */
static const uint64_t size_values[] = {
    0, 1, 127, 128, 255, 256, 65535, 65536, 4294967295ULL, 4294967296ULL, PROTO_VALUE_MAX,
};
#define N_VALUES (sizeof(size_values) / sizeof(size_values[0]))
/* Volume ids are any 64-bit value but 0. */
static const uint64_t size_vols[] = {
    1, 127, 128, 255, 256, 65535, 65536, 4294967295ULL, 4294967296ULL, PROTO_VALUE_MAX, UINT64_MAX,
};
#define N_VOLS (sizeof(size_vols) / sizeof(size_vols[0]))
static const size_t size_lens[] = {1, 2, 31, 32, 63};
/* Slot counts around the fixarray/array16 boundary of the flat slot array. */
static const unsigned size_slots[] = {0, 1, 7, 8, 15, 16};

static int encoded_size(const struct proto_msg *m)
{
    uint8_t buf[PROTO_MAX_DATAGRAM];
    int n = proto_msg_encode(m, buf, sizeof(buf));
    if (n <= 0)
        fail_msg("encode: %s", proto_err_str(n));
    return n;
}

/* proto_entry_size() is exactly what one more entry adds to a datagram, at
 * every integer, string and slot-array encoding boundary. */
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
    for (size_t v = 0; v < N_VALUES; v++) {
        for (size_t l = 0; l < sizeof(size_lens) / sizeof(size_lens[0]); l++) {
            for (size_t s = 0; s < sizeof(size_slots) / sizeof(size_slots[0]); s++) {
                struct proto_entry *e = &m.entries[1];
                memset(name, 'n', size_lens[l]);
                name[size_lens[l]] = '\0';
                memset(addr, 'a', size_lens[l] - 1);
                addr[size_lens[l] - 1] = '\0'; /* addr lengths 0..62 */
                entry_set(e, name, addr, size_values[v], size_values[(v + 3) % N_VALUES],
                          (uint8_t)(v % 4), v == 0 ? 0 : size_vols[v]);
                /* Distinct vols: the boundary values, then others past them. */
                for (unsigned k = 0; k < size_slots[s]; k++)
                    entry_slot(e, k < N_VOLS ? size_vols[(v + k) % N_VOLS] : UINT64_MAX - k,
                               size_values[(v + 5 + k) % N_VALUES]);
                /* A 63-byte name with 16 maximal slots is about 330 bytes, so
                 * 1400 is never what limits this. */
                assert_int_equal(encoded_size(&m) - base, (int)proto_entry_size(e));
            }
        }
    }
}

static void test_digest_item_size_exact(void **state)
{
    static struct proto_msg m;
    char name[PROTO_NAME_MAX + 1];
    static const uint64_t sums[] = {0, 127, 128, PROTO_VALUE_MAX + 1,
                                    PROTO_VALUE_MAX * PROTO_MAX_SLOTS};
    (void)state;
    msg_init(&m, PROTO_DIGEST, "a");
    digest_set(&m.digest[0], "a", 0, 0, 0);
    m.n_digest = 1;
    int base = encoded_size(&m);
    m.n_digest = 2;
    for (size_t v = 0; v < N_VALUES; v++) {
        for (size_t l = 0; l < sizeof(size_lens) / sizeof(size_lens[0]); l++) {
            memset(name, 'n', size_lens[l]);
            name[size_lens[l]] = '\0';
            digest_set(&m.digest[1], name, size_values[v], size_values[(v + 5) % N_VALUES],
                       v < 5 ? sums[v] : size_values[(v + 7) % N_VALUES]);
            assert_int_equal(encoded_size(&m) - base, (int)proto_digest_item_size(&m.digest[1]));
        }
    }
}

/* Bytes the "e", "c" and "d" keys take in a message that carries n items
 * (for "c", 2n elements); the overhead counts each as 2 (key) + 3 (array16
 * header) whatever n is. */
static size_t array_key_size(uint32_t n)
{
    return n == 0 ? 0 : 2 + (n < 16 ? 1 : 3);
}

/* The overhead is the empty message plus room for the three array keys with
 * 3-byte headers, whatever nonce, reply flag, parts, buckets and sender name
 * it carries. */
static void test_overhead(void **state)
{
    static struct proto_msg m;
    static const uint16_t parts[] = {1, 127, 128, 255, 256, 65535};
    (void)state;
    for (size_t v = 0; v < N_VALUES; v++) {
        msg_init(&m, PROTO_DIGEST, "myapp-stateful-12");
        m.nonce = v == N_VALUES - 1 ? UINT64_MAX : size_values[v];
        m.reply = (uint8_t)(v % 2);
        assert_int_equal(proto_msg_overhead(&m), (size_t)encoded_size(&m) + 3 * (2 + 3));

        msg_init(&m, PROTO_DELTA, "myapp-stateful-12");
        m.nonce = size_values[v];
        m.parts = parts[v % 6];
        m.part = parts[(v / 2) % 6] <= m.parts ? parts[(v / 2) % 6] : m.parts;
        m.whole = (uint8_t)(v % 2);
        assert_int_equal(proto_msg_overhead(&m), (size_t)encoded_size(&m) + 3 * (2 + 3));

        msg_init(&m, PROTO_SYNC, "myapp-stateful-12");
        m.nonce = size_values[v];
        m.n_buckets = PROTO_BUCKETS;
        for (uint32_t i = 0; i < PROTO_BUCKETS; i++)
            m.buckets[i] = (uint32_t)(size_values[(v + i) % N_VALUES] & UINT32_MAX);
        assert_int_equal(proto_msg_overhead(&m), (size_t)encoded_size(&m) + 3 * (2 + 3));
    }
}

/* A tiny deterministic generator so a failure can be replayed from its seed. */
static uint64_t rng_next(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 17;
}

/* Any width up to `bits` bits, not only huge values. */
static uint64_t rng_bits(uint64_t *s, unsigned bits)
{
    unsigned b = (unsigned)(rng_next(s) % (bits + 1));
    return b == 0 ? 0 : (rng_next(s) << 17 ^ rng_next(s)) >> (64 - b);
}

/* A count, incarnation or heartbeat: 0..PROTO_VALUE_MAX, the limit itself
 * now and then. */
static uint64_t rng_value(uint64_t *s)
{
    return rng_next(s) % 16 == 0 ? PROTO_VALUE_MAX : rng_bits(s, 53);
}

static void rng_str(uint64_t *s, char *out, size_t min, size_t max)
{
    size_t n = min + (size_t)(rng_next(s) % (max - min + 1));
    for (size_t i = 0; i < n; i++)
        out[i] = (char)('a' + rng_next(s) % 26);
    out[n] = '\0';
}

static void rng_entry(uint64_t *s, struct proto_entry *e)
{
    memset(e, 0, sizeof(*e));
    rng_str(s, e->name, 1, PROTO_NAME_MAX);
    rng_str(s, e->addr, 0, PROTO_ADDR_MAX);
    e->incarnation = rng_value(s);
    e->heartbeat = rng_value(s);
    e->state = (uint8_t)(rng_next(s) % 4);
    unsigned n = (unsigned)(rng_next(s) % (PROTO_MAX_SLOTS + 1));
    for (unsigned k = 0; k < n; k++) {
        /* Distinct by construction: the low bits hold the index. */
        uint64_t vol = (rng_bits(s, 64) & ~(uint64_t)0x1f) | (k + 1);
        entry_slot(e, vol, rng_value(s));
    }
    e->vol = n > 0 && rng_next(s) % 4 ? e->slots[n - 1].vol : rng_bits(s, 64);
}

/* Random fills: a message is exactly overhead + the sizes of what it holds
 * (less the array headers it does not need), and filling a datagram greedily
 * with overhead + sizes <= 1400 always encodes and decodes back unchanged. */
static void test_greedy_packing(void **state)
{
    static struct proto_msg m;
    static const uint8_t types[] = {PROTO_DELTA, PROTO_DIGEST, PROTO_HEARTBEAT, PROTO_SYNC};
    (void)state;
    for (uint64_t seed = 1; seed <= 400; seed++) {
        uint64_t s = seed;
        msg_init(&m, types[seed % 4], "x");
        rng_str(&s, m.from, 1, PROTO_NAME_MAX);
        m.nonce = rng_bits(&s, 64);
        m.reply = (uint8_t)(rng_next(&s) % 2);
        if (m.type == PROTO_DELTA && rng_next(&s) % 2) {
            m.parts = (uint16_t)(1 + rng_bits(&s, 16) % UINT16_MAX);
            m.part = (uint16_t)(1 + rng_next(&s) % m.parts);
            m.whole = (uint8_t)(rng_next(&s) % 2);
        }
        if (m.type == PROTO_SYNC) {
            m.n_buckets = PROTO_BUCKETS;
            for (uint32_t i = 0; i < PROTO_BUCKETS; i++)
                m.buckets[i] = (uint32_t)rng_bits(&s, 32);
        }
        size_t used = proto_msg_overhead(&m);
        size_t sum = 0;
        for (;;) {
            struct proto_entry e;
            struct proto_digest_item d;
            rng_entry(&s, &e);
            memset(&d, 0, sizeof(d));
            memcpy(d.name, e.name, sizeof(d.name));
            d.incarnation = e.incarnation;
            d.heartbeat = e.heartbeat;
            for (unsigned k = 0; k < e.n_slots; k++)
                d.count += e.slots[k].count;
            /* The first entry of a heartbeat is its sender's. */
            if (m.type == PROTO_HEARTBEAT && m.n_entries == 0)
                memcpy(e.name, m.from, sizeof(e.name));
            /* DELTA and HEARTBEAT carry entries and compact counts, DIGEST
             * (and, as the format allows, SYNC) entries or items, so every
             * array gets exercised. */
            bool counts = m.type == PROTO_DELTA || m.type == PROTO_HEARTBEAT;
            if (counts && m.n_entries > 0 && rng_next(&s) % 3 == 0) {
                struct proto_count c = {.sid = rng_bits(&s, 64), .count = rng_value(&s)};
                bool again = false;
                for (uint32_t k = 0; k < m.n_counts; k++)
                    again |= m.counts[k].sid == c.sid; /* each slot once */
                if (again)
                    continue;
                size_t cs = proto_count_size(&c);
                if (m.n_counts == PROTO_MAX_COUNTS || used + cs > PROTO_MAX_DATAGRAM)
                    break;
                used += cs;
                sum += cs;
                m.counts[m.n_counts++] = c;
            } else if (counts || rng_next(&s) % 2) {
                size_t es = proto_entry_size(&e);
                if (m.n_entries == PROTO_MAX_ENTRIES || used + es > PROTO_MAX_DATAGRAM)
                    break;
                used += es;
                sum += es;
                m.entries[m.n_entries++] = e;
            } else {
                size_t ds = proto_digest_item_size(&d);
                if (m.n_digest == PROTO_MAX_DIGEST || used + ds > PROTO_MAX_DATAGRAM)
                    break;
                used += ds;
                sum += ds;
                m.digest[m.n_digest++] = d;
            }
        }
        if (m.type == PROTO_HEARTBEAT && m.n_entries == 0)
            continue; /* the sender's own entry did not fit: nothing to send */
        int n = roundtrip(&m);
        size_t exact = proto_msg_overhead(&m) - 3 * (2 + 3) + array_key_size(m.n_entries) +
                       array_key_size(2 * m.n_counts) + array_key_size(m.n_digest) + sum;
        if ((size_t)n != exact || (size_t)n > used)
            fail_msg("seed %llu: encoded %d, predicted %zu (at most %zu)", (unsigned long long)seed,
                     n, exact, used);
    }
}

/* The largest entries there are: 63-byte name and address, maximal values,
 * 16 slots. The overhead helper says how many fit; that many encode, one
 * more does not. Likewise the largest digest items. */
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
    entry_set(&e, name, addr, PROTO_VALUE_MAX, PROTO_VALUE_MAX, PROTO_STATE_LEFT, UINT64_MAX);
    for (unsigned k = 0; k < PROTO_MAX_SLOTS; k++)
        entry_slot(&e, UINT64_MAX - k, PROTO_VALUE_MAX);
    /* 1 + 65 + 9 + 9 + 1 + 65 + 9 + 3 (array16 of 32) + 16 * (9 + 9). */
    assert_int_equal(proto_entry_size(&e), 450);
    while (used + proto_entry_size(&e) <= PROTO_MAX_DATAGRAM) {
        m.entries[m.n_entries++] = e;
        used += proto_entry_size(&e);
    }
    assert_int_equal(m.n_entries, 2);
    int n = roundtrip(&m);
    assert_true((size_t)n <= used);
    /* One more entry exceeds PROTO_MAX_DATAGRAM even in a bigger buffer. */
    m.entries[m.n_entries++] = e;
    assert_int_equal(proto_msg_encode(&m, buf, sizeof(buf)), PROTO_ERR_NOSPACE);

    msg_init(&m, PROTO_DIGEST, name);
    m.nonce = UINT64_MAX;
    m.reply = 1;
    used = proto_msg_overhead(&m);
    struct proto_digest_item d;
    digest_set(&d, name, PROTO_VALUE_MAX, PROTO_VALUE_MAX, PROTO_VALUE_MAX * PROTO_MAX_SLOTS);
    assert_int_equal(proto_digest_item_size(&d), 1 + 65 + 9 + 9 + 9);
    while (used + proto_digest_item_size(&d) <= PROTO_MAX_DATAGRAM) {
        m.digest[m.n_digest++] = d;
        used += proto_digest_item_size(&d);
    }
    assert_int_equal(m.n_digest, 13);
    n = roundtrip(&m);
    assert_true((size_t)n <= used);
    /* The overhead is conservative by the absent "e" key and the 3-byte "d"
     * header: 14 items are 1398 bytes and still fit, 15 do not. */
    m.digest[m.n_digest++] = d;
    assert_int_equal(roundtrip(&m), 1398);
    m.digest[m.n_digest++] = d;
    assert_int_equal(proto_msg_encode(&m, buf, sizeof(buf)), PROTO_ERR_NOSPACE);
}

/* A buffer too small by any amount gives NOSPACE and is never overrun. */
static void test_encode_nospace(void **state)
{
    static struct proto_msg m;
    uint8_t buf[PROTO_MAX_DATAGRAM + 16];
    (void)state;
    golden_sync_msg(&m);
    int full = encoded_size(&m);
    for (int cap = 0; cap < full; cap++) {
        memset(buf, 0xAA, sizeof(buf));
        assert_int_equal(proto_msg_encode(&m, buf, (size_t)cap), PROTO_ERR_NOSPACE);
        for (size_t i = (size_t)cap; i < sizeof(buf); i++)
            assert_int_equal(buf[i], 0xAA);
    }
    assert_int_equal(proto_msg_encode(&m, buf, (size_t)full), full);
}

/* Asserts that msg is refused by the encoder and by proto_msg_check() with
 * code at field. */
static void refused(const struct proto_msg *m, int code, const char *field)
{
    uint8_t buf[PROTO_MAX_DATAGRAM];
    struct proto_error err;
    assert_int_equal(proto_msg_encode(m, buf, sizeof(buf)), code);
    assert_int_equal(proto_msg_check(m, &err), code);
    assert_int_equal(err.code, code);
    assert_string_equal(err.field, field);
}

/* The encoder refuses exactly what the decoder would refuse, naming the field. */
static void test_encode_refuses_invalid(void **state)
{
    static struct proto_msg m;
    struct proto_error err;
    (void)state;

    golden_heartbeat_msg(&m);
    assert_int_equal(proto_msg_check(&m, &err), PROTO_OK);
    assert_int_equal(err.code, PROTO_OK);
    assert_string_equal(err.field, "");

    m.type = 0;
    refused(&m, PROTO_ERR_RANGE, "t");
    m.type = PROTO_NACK + 1;
    refused(&m, PROTO_ERR_RANGE, "t");

    golden_heartbeat_msg(&m);
    m.from[0] = '\0';
    refused(&m, PROTO_ERR_RANGE, "f");
    memset(m.from, 'a', sizeof(m.from)); /* no terminator: 64 bytes */
    refused(&m, PROTO_ERR_RANGE, "f");

    golden_heartbeat_msg(&m);
    m.reply = 2;
    refused(&m, PROTO_ERR_RANGE, "r");

    golden_heartbeat_msg(&m);
    m.n_entries = PROTO_MAX_ENTRIES + 1;
    refused(&m, PROTO_ERR_RANGE, "e");

    golden_digest_msg(&m);
    m.n_digest = PROTO_MAX_DIGEST + 1;
    refused(&m, PROTO_ERR_RANGE, "d");
    golden_digest_msg(&m);
    m.digest[1].name[0] = '\0';
    refused(&m, PROTO_ERR_RANGE, "d[1].name");
    golden_digest_msg(&m);
    m.digest[1].incarnation = PROTO_VALUE_MAX + 1;
    refused(&m, PROTO_ERR_RANGE, "d[1].incarnation");
    golden_digest_msg(&m);
    m.digest[1].heartbeat = PROTO_VALUE_MAX + 1;
    refused(&m, PROTO_ERR_RANGE, "d[1].heartbeat");
    golden_digest_msg(&m);
    m.digest[1].count = PROTO_VALUE_MAX * PROTO_MAX_SLOTS + 1;
    refused(&m, PROTO_ERR_RANGE, "d[1].count");

    golden_heartbeat_msg(&m);
    m.entries[0].state = 4;
    refused(&m, PROTO_ERR_RANGE, "e[0].state");
    golden_heartbeat_msg(&m);
    memset(m.entries[0].addr, 'a', sizeof(m.entries[0].addr));
    refused(&m, PROTO_ERR_RANGE, "e[0].addr");
    golden_heartbeat_msg(&m);
    m.entries[0].incarnation = PROTO_VALUE_MAX + 1;
    refused(&m, PROTO_ERR_RANGE, "e[0].incarnation");
    golden_heartbeat_msg(&m);
    m.entries[0].heartbeat = UINT64_MAX;
    refused(&m, PROTO_ERR_RANGE, "e[0].heartbeat");

    /* Slots: at most 16, each a distinct non-zero volume, counts bounded. */
    golden_heartbeat_msg(&m);
    m.entries[0].n_slots = PROTO_MAX_SLOTS + 1;
    refused(&m, PROTO_ERR_RANGE, "e[0].slots");
    golden_heartbeat_msg(&m);
    m.entries[0].slots[1].vol = 0;
    refused(&m, PROTO_ERR_RANGE, "e[0].slots");
    golden_heartbeat_msg(&m);
    m.entries[0].slots[1].vol = m.entries[0].slots[0].vol;
    refused(&m, PROTO_ERR_RANGE, "e[0].slots");
    golden_heartbeat_msg(&m);
    m.entries[0].slots[1].count = PROTO_VALUE_MAX + 1;
    refused(&m, PROTO_ERR_RANGE, "e[0].slots");
    m.entries[0].slots[1].count = PROTO_VALUE_MAX;
    assert_int_equal(proto_msg_check(&m, &err), PROTO_OK);

    /* HEARTBEAT and ACK speak for their sender. */
    golden_heartbeat_msg(&m);
    m.entries[0].name[0] = 'X';
    refused(&m, PROTO_ERR_RANGE, "e[0].name");
    m.type = PROTO_ACK;
    refused(&m, PROTO_ERR_RANGE, "e[0].name");
    m.type = PROTO_DELTA; /* a delta may carry anyone's entry first */
    assert_int_equal(proto_msg_check(&m, &err), PROTO_OK);
    golden_heartbeat_msg(&m);
    m.n_entries = 0;
    refused(&m, PROTO_ERR_MISSING, "e");

    /* A SYNC carries all 64 buckets; nothing else carries any. */
    golden_sync_msg(&m);
    m.n_buckets = 0;
    refused(&m, PROTO_ERR_MISSING, "b");
    m.n_buckets = PROTO_BUCKETS - 1;
    refused(&m, PROTO_ERR_RANGE, "b");
    m.n_buckets = PROTO_BUCKETS + 1;
    refused(&m, PROTO_ERR_RANGE, "b");
    golden_sync_msg(&m);
    m.type = PROTO_DIGEST;
    refused(&m, PROTO_ERR_RANGE, "b");

    /* Parts: only on a DELTA, 1 <= part <= parts, whole 0 or 1. */
    golden_sync_answer_msg(&m);
    m.part = 0;
    refused(&m, PROTO_ERR_RANGE, "p");
    golden_sync_answer_msg(&m);
    m.part = 2;
    refused(&m, PROTO_ERR_RANGE, "p");
    golden_sync_answer_msg(&m);
    m.whole = 2;
    refused(&m, PROTO_ERR_RANGE, "p");
    golden_sync_answer_msg(&m);
    m.type = PROTO_DIGEST;
    refused(&m, PROTO_ERR_RANGE, "p");
    /* Without parts, a part or whole flag would be silently dropped. */
    golden_sync_answer_msg(&m);
    m.parts = 0;
    refused(&m, PROTO_ERR_RANGE, "p");
    m.part = 0;
    refused(&m, PROTO_ERR_RANGE, "p");
    m.whole = 0;
    assert_int_equal(proto_msg_check(&m, &err), PROTO_OK);
}

/* ---- msgpack-c agrees with us both ways ---- */

/* Our bytes are one msgpack object by msgpack-c's own unpacker, with the
 * layout WIRE.md describes. */
static const msgpack_object *map_get(const msgpack_object *map, const char *key)
{
    assert_int_equal(map->type, MSGPACK_OBJECT_MAP);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object_kv *kv = &map->via.map.ptr[i];
        assert_int_equal(kv->key.type, MSGPACK_OBJECT_STR);
        if (kv->key.via.str.size == strlen(key) &&
            memcmp(kv->key.via.str.ptr, key, kv->key.via.str.size) == 0)
            return &kv->val;
    }
    fail_msg("key \"%s\" missing", key);
    return NULL;
}

static uint64_t obj_uint(const msgpack_object *o)
{
    assert_int_equal(o->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
    return o->via.u64;
}

static void obj_str_equal(const msgpack_object *o, const char *s)
{
    assert_int_equal(o->type, MSGPACK_OBJECT_STR);
    assert_int_equal(o->via.str.size, strlen(s));
    assert_memory_equal(o->via.str.ptr, s, o->via.str.size);
}

/* Unpacks our encoding of m; checks the header keys every datagram has. */
static void unpack_ours(const struct proto_msg *m, msgpack_unpacked *u, uint32_t keys)
{
    static uint8_t buf[PROTO_MAX_DATAGRAM];
    size_t off = 0;
    int n = proto_msg_encode(m, buf, sizeof(buf));
    assert_true(n > 0);
    msgpack_unpacked_init(u);
    assert_int_equal(msgpack_unpack_next(u, (const char *)buf, (size_t)n, &off),
                     MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(off, (size_t)n);
    assert_int_equal(u->data.type, MSGPACK_OBJECT_MAP);
    assert_int_equal(u->data.via.map.size, keys);
    /* Fixed key order: v w t f first. */
    obj_str_equal(&u->data.via.map.ptr[0].key, "v");
    obj_str_equal(&u->data.via.map.ptr[1].key, "w");
    obj_str_equal(&u->data.via.map.ptr[2].key, "t");
    obj_str_equal(&u->data.via.map.ptr[3].key, "f");
    assert_int_equal(obj_uint(map_get(&u->data, "v")), PROTO_VERSION);
    const msgpack_object *w = map_get(&u->data, "w");
    assert_int_equal(w->type, MSGPACK_OBJECT_ARRAY);
    assert_int_equal(w->via.array.size, 2);
    assert_int_equal(obj_uint(&w->via.array.ptr[0]), PROTO_VERSION_MIN);
    assert_int_equal(obj_uint(&w->via.array.ptr[1]), PROTO_VERSION_MAX);
    assert_int_equal(obj_uint(map_get(&u->data, "t")), m->type);
    obj_str_equal(map_get(&u->data, "f"), m->from);
}

static void test_msgpack_c_reads_ours(void **state)
{
    static struct proto_msg m;
    msgpack_unpacked u;
    (void)state;

    golden_heartbeat_msg(&m);
    unpack_ours(&m, &u, 5);
    const msgpack_object *e = map_get(&u.data, "e");
    assert_int_equal(e->via.array.size, 1);
    const msgpack_object *entry = &e->via.array.ptr[0];
    assert_int_equal(entry->type, MSGPACK_OBJECT_ARRAY);
    assert_int_equal(entry->via.array.size, 7);
    const msgpack_object *f = entry->via.array.ptr;
    obj_str_equal(&f[0], "myapp-stateful-0");
    assert_int_equal(obj_uint(&f[1]), 7);
    assert_int_equal(obj_uint(&f[2]), 1000);
    assert_int_equal(obj_uint(&f[3]), PROTO_STATE_ALIVE);
    obj_str_equal(&f[4], "10.244.0.10:7946");
    assert_int_equal(obj_uint(&f[5]), VOL_NOW);
    assert_int_equal(f[6].type, MSGPACK_OBJECT_ARRAY);
    assert_int_equal(f[6].via.array.size, 4); /* flat vol, count pairs */
    assert_int_equal(obj_uint(&f[6].via.array.ptr[0]), VOL_NOW);
    assert_int_equal(obj_uint(&f[6].via.array.ptr[1]), 100000);
    assert_int_equal(obj_uint(&f[6].via.array.ptr[2]), VOL_LOST);
    assert_int_equal(obj_uint(&f[6].via.array.ptr[3]), 42);
    msgpack_unpacked_destroy(&u);

    golden_digest_msg(&m);
    unpack_ours(&m, &u, 7);
    assert_int_equal(obj_uint(map_get(&u.data, "n")), 42);
    assert_int_equal(map_get(&u.data, "r")->type, MSGPACK_OBJECT_BOOLEAN);
    const msgpack_object *d = map_get(&u.data, "d");
    assert_int_equal(d->via.array.size, 2);
    assert_int_equal(d->via.array.ptr[0].via.array.size, 4);
    assert_int_equal(obj_uint(&d->via.array.ptr[0].via.array.ptr[3]), 100042);
    msgpack_unpacked_destroy(&u);

    golden_sync_msg(&m);
    unpack_ours(&m, &u, 6);
    const msgpack_object *b = map_get(&u.data, "b");
    assert_int_equal(b->type, MSGPACK_OBJECT_ARRAY);
    assert_int_equal(b->via.array.size, PROTO_BUCKETS);
    for (uint32_t i = 0; i < PROTO_BUCKETS; i++)
        assert_int_equal(obj_uint(&b->via.array.ptr[i]), m.buckets[i]);
    msgpack_unpacked_destroy(&u);

    golden_sync_answer_msg(&m);
    unpack_ours(&m, &u, 7);
    const msgpack_object *p = map_get(&u.data, "p");
    assert_int_equal(p->type, MSGPACK_OBJECT_ARRAY);
    assert_int_equal(p->via.array.size, 3);
    assert_int_equal(obj_uint(&p->via.array.ptr[0]), 1);
    assert_int_equal(obj_uint(&p->via.array.ptr[1]), 1);
    assert_int_equal(obj_uint(&p->via.array.ptr[2]), 1);
    msgpack_unpacked_destroy(&u);
}

/* Decodes what msgpack-c wrote and asserts it equals want. */
static void decode_sbuffer_equal(const msgpack_sbuffer *sb, const struct proto_msg *want)
{
    static struct proto_msg back;
    struct proto_error err;
    int rc = proto_msg_decode((const uint8_t *)sb->data, sb->size, &back, &err);
    if (rc != PROTO_OK)
        fail_msg("decode: %s at %s", proto_err_str(rc), err.field);
    msg_assert_equal(want, &back);
}

/* msgpack-c written in forms our encoder never uses (fixed-width integers,
 * keys in another order, unknown keys between known ones, extra entry
 * elements, a wider version range, bools for flags) is valid msgpack and
 * decodes to the same message. */
static void test_decode_msgpack_c_odd_forms(void **state)
{
    static struct proto_msg m;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    (void)state;

    /* The golden heartbeat, with a nonce, written wide and backwards. */
    golden_heartbeat_msg(&m);
    m.nonce = 5;
    m.vmin = 1; /* a sender that also speaks 1 and 9 */
    m.vmax = 9;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 8);
    msgpack_pack_str_with_body(&pk, "e", 1);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_array(&pk, 9);
    msgpack_pack_str_with_body(&pk, "myapp-stateful-0", 16);
    msgpack_pack_fix_uint64(&pk, 7);
    msgpack_pack_fix_uint32(&pk, 1000);
    msgpack_pack_fix_uint8(&pk, 0);
    msgpack_pack_str_with_body(&pk, "10.244.0.10:7946", 16);
    msgpack_pack_fix_uint64(&pk, VOL_NOW);
    msgpack_pack_array(&pk, 4);
    msgpack_pack_fix_uint64(&pk, VOL_NOW);
    msgpack_pack_fix_uint64(&pk, 100000);
    msgpack_pack_fix_uint64(&pk, VOL_LOST);
    msgpack_pack_fix_uint16(&pk, 42);
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
    msgpack_pack_str_with_body(&pk, "w", 1);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_fix_uint16(&pk, 1);
    msgpack_pack_fix_uint64(&pk, 9);
    msgpack_pack_str_with_body(&pk, "v", 1);
    msgpack_pack_fix_uint32(&pk, PROTO_VERSION);
    decode_sbuffer_equal(&sb, &m);
    msgpack_sbuffer_destroy(&sb);

    /* The golden SYNC answer: "p" with a bool, the version last. */
    golden_sync_answer_msg(&m);
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 7);
    msgpack_pack_str_with_body(&pk, "p", 1);
    msgpack_pack_array(&pk, 3);
    msgpack_pack_fix_uint16(&pk, 1);
    msgpack_pack_fix_uint32(&pk, 1);
    msgpack_pack_true(&pk);
    msgpack_pack_str_with_body(&pk, "e", 1);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_array(&pk, 7);
    msgpack_pack_str_with_body(&pk, "myapp-stateful-1", 16);
    msgpack_pack_fix_uint8(&pk, 3);
    msgpack_pack_fix_uint8(&pk, 7);
    msgpack_pack_fix_uint64(&pk, 0);
    msgpack_pack_str_with_body(&pk, "10.244.0.11:7946", 16);
    msgpack_pack_fix_uint32(&pk, 0xb1);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_fix_uint8(&pk, 0xb1);
    msgpack_pack_fix_uint64(&pk, 9);
    msgpack_pack_str_with_body(&pk, "n", 1);
    msgpack_pack_fix_uint64(&pk, 43);
    msgpack_pack_str_with_body(&pk, "t", 1);
    msgpack_pack_fix_uint8(&pk, PROTO_DELTA);
    msgpack_pack_str_with_body(&pk, "f", 1);
    msgpack_pack_str_with_body(&pk, "myapp-stateful-0", 16);
    msgpack_pack_str_with_body(&pk, "w", 1);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_uint8(&pk, PROTO_VERSION_MIN);
    msgpack_pack_uint8(&pk, PROTO_VERSION_MAX);
    msgpack_pack_str_with_body(&pk, "v", 1);
    msgpack_pack_fix_uint8(&pk, PROTO_VERSION);
    decode_sbuffer_equal(&sb, &m);
    msgpack_sbuffer_destroy(&sb);

    /* The golden SYNC: buckets all uint32, an unknown key first. */
    golden_sync_msg(&m);
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 7);
    msgpack_pack_str_with_body(&pk, "later", 5);
    msgpack_pack_map(&pk, 0);
    msgpack_pack_str_with_body(&pk, "b", 1);
    msgpack_pack_array(&pk, PROTO_BUCKETS);
    for (uint32_t i = 0; i < PROTO_BUCKETS; i++)
        msgpack_pack_fix_uint32(&pk, m.buckets[i]);
    msgpack_pack_str_with_body(&pk, "v", 1);
    msgpack_pack_uint64(&pk, PROTO_VERSION);
    msgpack_pack_str_with_body(&pk, "n", 1);
    msgpack_pack_uint64(&pk, 43);
    msgpack_pack_str_with_body(&pk, "f", 1);
    msgpack_pack_str_with_body(&pk, "myapp-stateful-2", 16);
    msgpack_pack_str_with_body(&pk, "w", 1);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_uint8(&pk, PROTO_VERSION_MIN);
    msgpack_pack_uint8(&pk, PROTO_VERSION_MAX);
    msgpack_pack_str_with_body(&pk, "t", 1);
    msgpack_pack_uint8(&pk, PROTO_SYNC);
    decode_sbuffer_equal(&sb, &m);
    msgpack_sbuffer_destroy(&sb);
}

/* ---- the fuzz seeds ---- */

/* Every seed of tests/fuzz/corpus/proto is a valid version-2 datagram, so the
 * fuzzer starts from the real format; four of them are the goldens above. */
static const struct {
    const char *file, *hex;
} golden_seeds[] = {
    {"heartbeat.bin", golden_heartbeat}, {"digest.bin", golden_digest},
    {"sync.bin", golden_sync},           {"sync-answer.bin", golden_sync_answer},
    {"ping-req.bin", golden_ping_req},   {"suspicion.bin", golden_suspicion},
    {"compact.bin", golden_compact},
};

/* gossip decodes every datagram into one struct: what one datagram said
 * must not show through in the next. */
static void test_decode_reuses_struct(void **state)
{
    static struct proto_msg m;
    uint8_t buf[PROTO_MAX_DATAGRAM];
    (void)state;
    size_t n = unhex(golden_suspicion, buf, sizeof(buf));
    assert_int_equal(proto_msg_decode(buf, n, &m, NULL), PROTO_OK);
    assert_int_equal(m.n_entries, 1);
    assert_string_equal(m.entries[0].accuser, "myapp-stateful-0");
    n = unhex(golden_sync, buf, sizeof(buf));
    assert_int_equal(proto_msg_decode(buf, n, &m, NULL), PROTO_OK);
    assert_int_equal(m.type, PROTO_SYNC);
    assert_int_equal(m.n_buckets, PROTO_BUCKETS);
    assert_int_equal(m.n_entries, 0);
    n = unhex(golden_ping_req, buf, sizeof(buf));
    assert_int_equal(proto_msg_decode(buf, n, &m, NULL), PROTO_OK);
    assert_int_equal(m.n_buckets, 0);
    assert_string_equal(m.target, "10.244.0.11:7946");
    n = unhex(golden_heartbeat, buf, sizeof(buf));
    assert_int_equal(proto_msg_decode(buf, n, &m, NULL), PROTO_OK);
    assert_int_equal(m.type, PROTO_HEARTBEAT);
    assert_string_equal(m.target, "");
    assert_int_equal(m.nonce, 0);
    assert_int_equal(m.n_entries, 1);
    assert_string_equal(m.entries[0].accuser, ""); /* not the suspicion's */
    assert_int_equal(m.n_counts, 0);
}

static void test_fuzz_seeds_decode(void **state)
{
    static struct proto_msg m;
    static uint8_t buf[PROTO_MAX_DATAGRAM + 1];
    char path[4096];
    int seeds = 0, goldens = 0;
    (void)state;
    DIR *dir = opendir(TALLY_PROTO_SEEDS);
    assert_non_null(dir);
    for (struct dirent *de; (de = readdir(dir)) != NULL;) {
        size_t len = strlen(de->d_name);
        if (len < 4 || strcmp(de->d_name + len - 4, ".bin") != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", TALLY_PROTO_SEEDS, de->d_name);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        size_t n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        struct proto_error err;
        int rc = proto_msg_decode(buf, n, &m, &err);
        if (rc != PROTO_OK)
            fail_msg("seed %s: %s at %s", de->d_name, proto_err_str(rc), err.field);
        for (size_t g = 0; g < sizeof(golden_seeds) / sizeof(golden_seeds[0]); g++) {
            if (strcmp(de->d_name, golden_seeds[g].file) != 0)
                continue;
            uint8_t want[PROTO_MAX_DATAGRAM];
            size_t want_n = unhex(golden_seeds[g].hex, want, sizeof(want));
            assert_int_equal(n, want_n);
            assert_memory_equal(buf, want, n);
            goldens++;
        }
        seeds++;
    }
    closedir(dir);
    assert_int_equal(goldens, 7);
    assert_true(seeds >= 14);
}

/* ---- an entry's visits ---- */

/* A member's count is the sum of its slots; a struct holding more than the
 * wire allows (the caller's own, never a decoded one) saturates, never wraps. */
static void test_entry_visits(void **state)
{
    struct proto_entry e;
    (void)state;
    entry_set(&e, "a", "", 1, 1, 0, 0);
    assert_int_equal(proto_entry_visits(&e), 0);
    entry_slot(&e, VOL_NOW, 100000);
    entry_slot(&e, VOL_LOST, 42);
    assert_int_equal(proto_entry_visits(&e), 100042);
    entry_set(&e, "a", "", 1, 1, 0, 0);
    for (unsigned k = 0; k < PROTO_MAX_SLOTS; k++)
        entry_slot(&e, k + 1, PROTO_VALUE_MAX);
    assert_int_equal(proto_entry_visits(&e), PROTO_VALUE_MAX * PROTO_MAX_SLOTS);
    e.slots[3].count = UINT64_MAX - 5;
    assert_int_equal(proto_entry_visits(&e), UINT64_MAX);
    /* Only the first n_slots count, and never more than PROTO_MAX_SLOTS. */
    e.n_slots = 2;
    assert_int_equal(proto_entry_visits(&e), 2 * PROTO_VALUE_MAX);
    e.n_slots = 200;
    assert_int_equal(proto_entry_visits(&e), UINT64_MAX);
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
    assert_string_equal(proto_type_str(PROTO_SYNC), "sync");
    assert_string_equal(proto_type_str(0), "unknown");
    assert_string_equal(proto_type_str(PROTO_PING_REQ), "ping_req");
    assert_string_equal(proto_type_str(PROTO_NACK), "nack");
    assert_string_equal(proto_type_str(PROTO_NACK + 1), "unknown");
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
        cmocka_unit_test(test_golden_sync),
        cmocka_unit_test(test_golden_sync_answer),
        cmocka_unit_test(test_golden_ping_req),
        cmocka_unit_test(test_golden_suspicion),
        cmocka_unit_test(test_golden_compact),
        cmocka_unit_test(test_version_2_for_old_peers),
        cmocka_unit_test(test_bucket_golden),
        cmocka_unit_test(test_bucket_properties),
        cmocka_unit_test(test_encode_deterministic),
        cmocka_unit_test(test_encode_writes_own_range),
        cmocka_unit_test(test_entry_size_exact),
        cmocka_unit_test(test_digest_item_size_exact),
        cmocka_unit_test(test_overhead),
        cmocka_unit_test(test_greedy_packing),
        cmocka_unit_test(test_max_size_datagram),
        cmocka_unit_test(test_encode_nospace),
        cmocka_unit_test(test_encode_refuses_invalid),
        cmocka_unit_test(test_msgpack_c_reads_ours),
        cmocka_unit_test(test_decode_msgpack_c_odd_forms),
        cmocka_unit_test(test_decode_reuses_struct),
        cmocka_unit_test(test_fuzz_seeds_decode),
        cmocka_unit_test(test_entry_visits),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
