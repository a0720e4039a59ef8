/*
 * test_proto_malformed.c: the decoder against datagrams that are not what
 * tally sends. Each row of a table is one way to break a message, with the
 * error and the field the decoder must name (so a counted drop is explained);
 * a few rows are odd-but-valid msgpack that must be accepted. Every input is
 * copied into a heap buffer of exactly its length, so AddressSanitizer catches
 * any read past the end. Then: every strict prefix of valid messages fails,
 * size limits, and real arrays one element over their limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/proto.h"

/* ---- hex with repeats: "61*64" is 64 bytes of 0x61; spaces are ignored ---- */

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    const char *p = hex;
    while (*p != '\0') {
        if (*p == ' ') {
            p++;
            continue;
        }
        /* One token: hex bytes, optionally "*count" repeating all of them. */
        const char *start = p;
        while (*p != '\0' && *p != ' ' && *p != '*')
            p++;
        size_t tok_len = (size_t)(p - start);
        unsigned long repeat = 1;
        if (*p == '*') {
            char *end;
            repeat = strtoul(p + 1, &end, 10);
            p = end;
        }
        assert_true(tok_len % 2 == 0);
        for (unsigned long r = 0; r < repeat; r++) {
            for (size_t i = 0; i < tok_len; i += 2) {
                char two[3] = {start[i], start[i + 1], '\0'};
                assert_true(n < cap);
                out[n++] = (uint8_t)strtoul(two, NULL, 16);
            }
        }
    }
    return n;
}

/* Decodes exactly buf[0..len) from its own heap block. */
static int decode_exact(const uint8_t *buf, size_t len, struct proto_msg *m,
                        struct proto_error *err)
{
    uint8_t *copy = malloc(len == 0 ? 1 : len);
    assert_non_null(copy);
    if (len > 0)
        memcpy(copy, buf, len);
    int rc = proto_msg_decode(len == 0 ? copy + 1 : copy, len, m, err);
    free(copy);
    return rc;
}

/* ---- building blocks of the table ---- */

#define V1        "a1 76 01 "
#define F_A       "a1 66 a1 61 "             /* "f": "a" */
#define PING3     "83 " V1 "a1 74 05 " F_A   /* a valid PING from "a" */
#define PING4     "84 " V1 "a1 74 05 " F_A   /* same, room for one more key */
#define DELTA4    "84 " V1 "a1 74 03 " F_A   /* a DELTA from "a", one more key */
#define HB4       "84 " V1 "a1 74 01 " F_A   /* a HEARTBEAT from "a", one more key */
#define ENTRY_A   "96 a1 61 01 02 03 00 a0 " /* ["a", 1, 2, 3, alive, ""] */
#define ENTRY_B   "96 a1 62 01 02 03 00 a0 "
#define E1(entry) "a1 65 91 " entry /* "e": [entry] */
#define D1(item)  "a1 64 91 " item  /* "d": [item] */

struct row {
    const char *what;
    const char *hex;
    int code;
    const char *field; /* NULL when code is PROTO_OK */
};

static const struct row rows[] = {
    /* Not a message at all. */
    {"empty input", "", PROTO_ERR_TRUNCATED, "(top)"},
    {"not a map: array", "91 01", PROTO_ERR_TYPE, "(top)"},
    {"not a map: uint", "01", PROTO_ERR_TYPE, "(top)"},
    {"not a map: str", "a1 76", PROTO_ERR_TYPE, "(top)"},
    {"trailing byte", PING3 "00", PROTO_ERR_TRAILING, "(top)"},
    {"two maps", PING3 "80", PROTO_ERR_TRAILING, "(top)"},
    {"key not a string", "83 01 01 a1 74 05 " F_A, PROTO_ERR_TYPE, "(top)"},
    {"key nil", "83 c0 01 a1 74 05 " F_A, PROTO_ERR_TYPE, "(top)"},
    {"map32 declaring 4G keys", "df ff ff ff ff", PROTO_ERR_TRUNCATED, "(top)"},
    {"map16 declaring more keys than bytes", "de 00 10 " V1, PROTO_ERR_TRUNCATED, "(top)"},
    {"key str32 of 4 GB", "81 db ff ff ff ff", PROTO_ERR_TRUNCATED, "(top)"},
    /* Version. */
    {"version 2", "83 a1 76 02 a1 74 05 " F_A, PROTO_ERR_VERSION, "v"},
    {"version 0", "83 a1 76 00 a1 74 05 " F_A, PROTO_ERR_VERSION, "v"},
    {"version 2 after a field v1 cannot read", "83 a1 74 a1 78 a1 76 02 " F_A, PROTO_ERR_VERSION,
     "v"},
    {"version as str", "83 a1 76 a1 31 a1 74 05 " F_A, PROTO_ERR_TYPE, "v"},
    {"version negative", "83 a1 76 ff a1 74 05 " F_A, PROTO_ERR_TYPE, "v"},
    {"version float", "83 a1 76 cb 3f f0 00 00 00 00 00 00 a1 74 05 " F_A, PROTO_ERR_TYPE, "v"},
    /* Required fields. */
    {"missing v", "82 a1 74 05 " F_A, PROTO_ERR_MISSING, "v"},
    {"missing t", "82 " V1 F_A, PROTO_ERR_MISSING, "t"},
    {"missing f", "82 " V1 "a1 74 05", PROTO_ERR_MISSING, "f"},
    {"empty map", "80", PROTO_ERR_MISSING, "v"},
    /* Type. */
    {"t as str", "83 " V1 "a1 74 a1 35 " F_A, PROTO_ERR_TYPE, "t"},
    {"t nil", "83 " V1 "a1 74 c0 " F_A, PROTO_ERR_TYPE, "t"},
    {"t 0", "83 " V1 "a1 74 00 " F_A, PROTO_ERR_RANGE, "t"},
    {"t 7", "83 " V1 "a1 74 07 " F_A, PROTO_ERR_RANGE, "t"},
    {"t 2^64-1", "83 " V1 "a1 74 cf ff*8 " F_A, PROTO_ERR_RANGE, "t"},
    /* Sender. */
    {"f uint", "83 " V1 "a1 74 05 a1 66 01", PROTO_ERR_TYPE, "f"},
    {"f bin", "83 " V1 "a1 74 05 a1 66 c4 01 61", PROTO_ERR_TYPE, "f"},
    {"f empty", "83 " V1 "a1 74 05 a1 66 a0", PROTO_ERR_RANGE, "f"},
    {"f of 64 bytes", "83 " V1 "a1 74 05 a1 66 d9 40 61*64", PROTO_ERR_RANGE, "f"},
    {"f of 63 bytes", "83 " V1 "a1 74 05 a1 66 d9 3f 61*63", PROTO_OK, NULL},
    {"f with a NUL byte", "83 " V1 "a1 74 05 a1 66 a2 61 00", PROTO_ERR_RANGE, "f"},
    {"f str32 of 4 GB", "83 " V1 "a1 74 05 a1 66 db ff ff ff ff", PROTO_ERR_RANGE, "f"},
    {"f truncated", "83 " V1 "a1 74 05 a1 66 a5 61 61", PROTO_ERR_TRUNCATED, "f"},
    /* Nonce and reply flag. */
    {"n as str", PING4 "a1 6e a1 31", PROTO_ERR_TYPE, "n"},
    {"n negative fixint", PING4 "a1 6e ff", PROTO_ERR_TYPE, "n"},
    {"n int8 (signed type)", PING4 "a1 6e d0 05", PROTO_ERR_TYPE, "n"},
    {"n int64 negative", PING4 "a1 6e d3 ff*8", PROTO_ERR_TYPE, "n"},
    {"n float32", PING4 "a1 6e ca 3f 80 00 00", PROTO_ERR_TYPE, "n"},
    {"n float64", PING4 "a1 6e cb 3f f0 00 00 00 00 00 00", PROTO_ERR_TYPE, "n"},
    {"n uint64 max", PING4 "a1 6e cf ff*8", PROTO_OK, NULL},
    {"r 2", PING4 "a1 72 02", PROTO_ERR_RANGE, "r"},
    {"r nil", PING4 "a1 72 c0", PROTO_ERR_TYPE, "r"},
    {"r as uint 1", PING4 "a1 72 01", PROTO_OK, NULL},
    {"r false", PING4 "a1 72 c2", PROTO_OK, NULL},
    /* Entries array. */
    {"e uint", DELTA4 "a1 65 01", PROTO_ERR_TYPE, "e"},
    {"e map", DELTA4 "a1 65 80", PROTO_ERR_TYPE, "e"},
    {"e declaring 65 entries", DELTA4 "a1 65 dc 00 41", PROTO_ERR_RANGE, "e"},
    {"e array32 declaring 4G entries", DELTA4 "a1 65 dd ff ff ff ff", PROTO_ERR_RANGE, "e"},
    {"e declaring 64 entries, holding none", DELTA4 "a1 65 dc 00 40", PROTO_ERR_TRUNCATED, "e"},
    {"e empty array", DELTA4 "a1 65 90", PROTO_OK, NULL},
    /* One entry. */
    {"entry not an array", DELTA4 E1("01"), PROTO_ERR_TYPE, "e[0]"},
    {"entry a map", DELTA4 E1("80"), PROTO_ERR_TYPE, "e[0]"},
    {"entry of 0 elements", DELTA4 E1("90"), PROTO_ERR_RANGE, "e[0]"},
    {"entry of 5 elements", DELTA4 E1("95 a1 61 01 02 03 00"), PROTO_ERR_RANGE, "e[0]"},
    {"entry of 7 elements (forward compatible)", DELTA4 E1("97 a1 61 01 02 03 00 a0 c0"), PROTO_OK,
     NULL},
    {"entry of 8, extras nested", DELTA4 E1("98 a1 61 01 02 03 00 a0 81 a1 78 91 01 c3"), PROTO_OK,
     NULL},
    {"entry extra too deep", DELTA4 E1("97 a1 61 01 02 03 00 a0 91 91 91 91 91 91 01"),
     PROTO_ERR_RANGE, "e[0]"},
    {"entry array32 declaring 4G elements", DELTA4 E1("dd ff ff ff ff"), PROTO_ERR_TRUNCATED,
     "e[0]"},
    {"entry name of 64 bytes", DELTA4 E1("96 d9 40 61*64 01 02 03 00 a0"), PROTO_ERR_RANGE,
     "e[0].name"},
    {"entry name empty", DELTA4 E1("96 a0 01 02 03 00 a0"), PROTO_ERR_RANGE, "e[0].name"},
    {"entry name uint", DELTA4 E1("96 01 01 02 03 00 a0"), PROTO_ERR_TYPE, "e[0].name"},
    {"entry name with NUL", DELTA4 E1("96 a2 00 61 01 02 03 00 a0"), PROTO_ERR_RANGE, "e[0].name"},
    {"entry name str32 of 4 GB", DELTA4 E1("96 db ff ff ff ff 01 02 03 00 a0"), PROTO_ERR_RANGE,
     "e[0].name"},
    {"entry generation negative", DELTA4 E1("96 a1 61 ff 02 03 00 a0"), PROTO_ERR_TYPE,
     "e[0].generation"},
    {"entry heartbeat float", DELTA4 E1("96 a1 61 01 ca 3f 80 00 00 03 00 a0"), PROTO_ERR_TYPE,
     "e[0].heartbeat"},
    {"entry count str", DELTA4 E1("96 a1 61 01 02 a1 33 00 a0"), PROTO_ERR_TYPE, "e[0].count"},
    {"entry count int64", DELTA4 E1("96 a1 61 01 02 d3 00*7 03 00 a0"), PROTO_ERR_TYPE,
     "e[0].count"},
    {"entry count nil", DELTA4 E1("96 a1 61 01 02 c0 00 a0"), PROTO_ERR_TYPE, "e[0].count"},
    {"entry state 4", DELTA4 E1("96 a1 61 01 02 03 04 a0"), PROTO_ERR_RANGE, "e[0].state"},
    {"entry state uint8 255", DELTA4 E1("96 a1 61 01 02 03 cc ff a0"), PROTO_ERR_RANGE,
     "e[0].state"},
    {"entry state bool", DELTA4 E1("96 a1 61 01 02 03 c2 a0"), PROTO_ERR_TYPE, "e[0].state"},
    {"entry addr of 64 bytes", DELTA4 E1("96 a1 61 01 02 03 00 d9 40 61*64"), PROTO_ERR_RANGE,
     "e[0].addr"},
    {"entry addr of 63 bytes", DELTA4 E1("96 a1 61 01 02 03 00 d9 3f 61*63"), PROTO_OK, NULL},
    {"entry addr nil", DELTA4 E1("96 a1 61 01 02 03 00 c0"), PROTO_ERR_TYPE, "e[0].addr"},
    {"second entry bad", DELTA4 "a1 65 92 " ENTRY_A "96 a1 62 01 02 03 00 c0", PROTO_ERR_TYPE,
     "e[1].addr"},
    /* Digest. */
    {"d uint", DELTA4 "a1 64 01", PROTO_ERR_TYPE, "d"},
    {"d declaring 97 items", DELTA4 "a1 64 dc 00 61", PROTO_ERR_RANGE, "d"},
    {"digest item of 3 elements", DELTA4 D1("93 a1 61 01 02"), PROTO_ERR_RANGE, "d[0]"},
    {"digest item of 5 elements (forward compatible)", DELTA4 D1("95 a1 61 01 02 03 a0"), PROTO_OK,
     NULL},
    {"digest item name empty", DELTA4 D1("94 a0 01 02 03"), PROTO_ERR_RANGE, "d[0].name"},
    {"digest item generation str", DELTA4 D1("94 a1 61 a0 02 03"), PROTO_ERR_TYPE,
     "d[0].generation"},
    {"digest item heartbeat bool", DELTA4 D1("94 a1 61 01 c3 03"), PROTO_ERR_TYPE,
     "d[0].heartbeat"},
    {"digest item count negative", DELTA4 D1("94 a1 61 01 02 e0"), PROTO_ERR_TYPE, "d[0].count"},
    /* Unknown keys: ignored when well formed, rejected when not. */
    {"unknown key with a nested map", PING4 "a1 78 81 a1 79 92 01 82 a1 61 c0 a1 62 c3", PROTO_OK,
     NULL},
    {"unknown long key", PING4 "a5 68 65 6c 6c 6f c0", PROTO_OK, NULL},
    {"unknown key holding every msgpack type",
     PING4 "a1 78 dc 00 20 c0 c2 c3 7f e0 cc ff cd ff ff ce ff*4 cf ff*8 d0 80 d1 80 00 "
           "d2 80 00*3 d3 80 00*7 ca 00*4 cb 00*8 d9 01 61 da 00 01 61 db 00 00 00 01 61 "
           "c4 01 00 c5 00 01 00 c6 00 00 00 01 00 c7 01 05 00 c8 00 01 05 00 "
           "c9 00 00 00 01 05 00 d4 05 00 d5 05 00*2 d6 05 00*4 d7 05 00*8 d8 05 00*16 "
           "de 00 01 01 01 dd 00 00 00 01 01 df 00 00 00 01 01 01",
     PROTO_OK, NULL},
    {"unknown key nested 7 deep (the limit)", PING4 "a1 78 91*7 01", PROTO_OK, NULL},
    {"unknown key nested 8 deep", PING4 "a1 78 91*8 01", PROTO_ERR_RANGE, "(unknown key)"},
    {"unknown key nested 200 deep", PING4 "a1 78 81a161*200 01", PROTO_ERR_RANGE, "(unknown key)"},
    {"unknown key str32 of 4 GB", PING4 "a1 78 db ff ff ff ff", PROTO_ERR_TRUNCATED,
     "(unknown key)"},
    {"unknown key array32 of 4G", PING4 "a1 78 dd ff ff ff ff", PROTO_ERR_TRUNCATED,
     "(unknown key)"},
    {"unknown key map32 of 4G", PING4 "a1 78 df ff ff ff ff", PROTO_ERR_TRUNCATED, "(unknown key)"},
    {"unknown key bin32 of 4 GB", PING4 "a1 78 c6 ff ff ff ff", PROTO_ERR_TRUNCATED,
     "(unknown key)"},
    {"unknown key ext32 of 4 GB", PING4 "a1 78 c9 ff ff ff ff 01", PROTO_ERR_TRUNCATED,
     "(unknown key)"},
    {"unknown key reserved byte 0xc1", PING4 "a1 78 c1", PROTO_ERR_TYPE, "(unknown key)"},
    /* Duplicate keys would make a message mean two things. */
    {"duplicate v", "84 " V1 V1 "a1 74 05 " F_A, PROTO_ERR_RANGE, "v"},
    {"duplicate f", "84 " V1 "a1 74 05 " F_A F_A, PROTO_ERR_RANGE, "f"},
    {"duplicate e", "85 " V1 "a1 74 03 " F_A E1(ENTRY_A) E1(ENTRY_A), PROTO_ERR_RANGE, "e"},
    /* HEARTBEAT and ACK speak for their sender. */
    {"heartbeat from a", HB4 E1(ENTRY_A), PROTO_OK, NULL},
    {"heartbeat whose e[0] is not the sender", HB4 E1(ENTRY_B), PROTO_ERR_RANGE, "e[0].name"},
    {"heartbeat with the sender second", HB4 "a1 65 92 " ENTRY_B ENTRY_A, PROTO_ERR_RANGE,
     "e[0].name"},
    {"heartbeat without e", "83 " V1 "a1 74 01 " F_A, PROTO_ERR_MISSING, "e"},
    {"heartbeat with empty e", HB4 "a1 65 90", PROTO_ERR_MISSING, "e"},
    {"ack whose e[0] is not the sender", "84 " V1 "a1 74 06 " F_A E1(ENTRY_B), PROTO_ERR_RANGE,
     "e[0].name"},
    {"delta whose e[0] is not the sender", DELTA4 E1(ENTRY_B), PROTO_OK, NULL},
    /* Odd but valid msgpack: wider encodings than needed, other key order. */
    {"v as uint64", "83 a1 76 cf 00*7 01 a1 74 05 " F_A, PROTO_OK, NULL},
    {"t as uint16", "83 " V1 "a1 74 cd 00 05 " F_A, PROTO_OK, NULL},
    {"key as str8", "83 d9 01 76 01 a1 74 05 " F_A, PROTO_OK, NULL},
    {"name as str16", "83 " V1 "a1 74 05 a1 66 da 00 01 61", PROTO_OK, NULL},
    {"map16 header", "de 00 03 " V1 "a1 74 05 " F_A, PROTO_OK, NULL},
    {"map32 header", "df 00 00 00 03 " V1 "a1 74 05 " F_A, PROTO_OK, NULL},
    {"e as array32, entry as array16", DELTA4 "a1 65 dd 00 00 00 01 dc 00 06 a1 61 01 02 03 00 a0",
     PROTO_OK, NULL},
    {"keys in reverse order", "83 " F_A "a1 74 05 " V1, PROTO_OK, NULL},
};

static void test_table(void **state)
{
    static struct proto_msg m;
    uint8_t buf[4096];
    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct proto_error err = {.code = 12345, .field = "untouched"};
        size_t n = unhex(rows[i].hex, buf, sizeof(buf));
        int rc = decode_exact(buf, n, &m, &err);
        if (rc != rows[i].code)
            fail_msg("row \"%s\": got %s (%s), want %s", rows[i].what, proto_err_str(rc), err.field,
                     proto_err_str(rows[i].code));
        assert_int_equal(err.code, rc);
        if (rows[i].field != NULL && strcmp(err.field, rows[i].field) != 0)
            fail_msg("row \"%s\": field \"%s\", want \"%s\"", rows[i].what, err.field,
                     rows[i].field);
        /* The caller may pass no error struct at all. */
        assert_int_equal(decode_exact(buf, n, &m, NULL), rows[i].code);
    }
}

/* Accepted rows really decoded what they carried. */
static void test_table_values(void **state)
{
    static struct proto_msg m;
    uint8_t buf[256];
    (void)state;
    size_t n = unhex(DELTA4 E1("98 a1 61 01 02 03 00 a0 81 a1 78 91 01 c3"), buf, sizeof(buf));
    assert_int_equal(decode_exact(buf, n, &m, NULL), PROTO_OK);
    assert_int_equal(m.type, PROTO_DELTA);
    assert_string_equal(m.from, "a");
    assert_int_equal(m.n_entries, 1);
    assert_string_equal(m.entries[0].name, "a");
    assert_int_equal(m.entries[0].generation, 1);
    assert_int_equal(m.entries[0].heartbeat, 2);
    assert_int_equal(m.entries[0].count, 3);
    assert_int_equal(m.entries[0].addr[0], '\0');

    n = unhex(PING4 "a1 6e cf ff*8", buf, sizeof(buf));
    assert_int_equal(decode_exact(buf, n, &m, NULL), PROTO_OK);
    assert_int_equal(m.nonce, UINT64_MAX);
    n = unhex(PING4 "a1 72 01", buf, sizeof(buf));
    assert_int_equal(decode_exact(buf, n, &m, NULL), PROTO_OK);
    assert_int_equal(m.reply, 1);
}

/* Every strict prefix of a valid datagram is an error, never a crash. */
static void check_prefixes(const uint8_t *buf, size_t n)
{
    static struct proto_msg m;
    struct proto_error err;
    assert_int_equal(decode_exact(buf, n, &m, &err), PROTO_OK);
    for (size_t len = 0; len < n; len++) {
        int rc = decode_exact(buf, len, &m, &err);
        if (rc >= 0)
            fail_msg("prefix of %zu/%zu bytes accepted", len, n);
        assert_int_equal(err.code, rc);
    }
}

static void test_truncated_everywhere(void **state)
{
    static struct proto_msg m;
    uint8_t buf[PROTO_MAX_DATAGRAM];
    (void)state;

    /* A heartbeat with every optional field. */
    memset(&m, 0, sizeof(m));
    m.type = PROTO_HEARTBEAT;
    snprintf(m.from, sizeof(m.from), "myapp-stateful-0");
    m.nonce = 1234567;
    m.reply = 1;
    for (int i = 0; i < 5; i++) {
        struct proto_entry *e = &m.entries[i];
        snprintf(e->name, sizeof(e->name), "myapp-stateful-%d", i);
        snprintf(e->addr, sizeof(e->addr), "10.244.0.%d:7946", 10 + i);
        e->generation = 1760000000000ULL + (uint64_t)i;
        e->heartbeat = 1000 + (uint64_t)i;
        e->count = 100000ULL * (uint64_t)i;
        e->state = (uint8_t)(i % 4);
        snprintf(m.digest[i].name, sizeof(m.digest[i].name), "myapp-stateful-%d", i);
        m.digest[i].generation = e->generation;
        m.digest[i].heartbeat = e->heartbeat;
        m.digest[i].count = e->count;
    }
    m.n_entries = 5;
    m.n_digest = 5;
    int n = proto_msg_encode(&m, buf, sizeof(buf));
    assert_true(n > 0);
    check_prefixes(buf, (size_t)n);

    /* And a table row that uses the wide encodings and unknown keys. */
    size_t k = unhex(PING4 "a1 78 81 a1 79 92 01 82 a1 61 c0 a1 62 c3", buf, sizeof(buf));
    check_prefixes(buf, k);
}

/* The size limit applies before anything is read; exactly 1400 is fine. */
static void test_datagram_size_limit(void **state)
{
    static struct proto_msg m;
    static uint8_t buf[PROTO_MAX_DATAGRAM + 1];
    struct proto_error err;
    (void)state;
    /* A PING padded with an unknown str value to exactly the limit. */
    size_t head = unhex(PING4 "a1 78 da", buf, sizeof(buf));
    size_t pad = PROTO_MAX_DATAGRAM - head - 2;
    buf[head] = (uint8_t)(pad >> 8);
    buf[head + 1] = (uint8_t)pad;
    memset(buf + head + 2, 'p', pad);
    assert_int_equal(decode_exact(buf, PROTO_MAX_DATAGRAM, &m, &err), PROTO_OK);

    pad++;
    buf[head] = (uint8_t)(pad >> 8);
    buf[head + 1] = (uint8_t)pad;
    buf[PROTO_MAX_DATAGRAM] = 'p';
    assert_int_equal(decode_exact(buf, PROTO_MAX_DATAGRAM + 1, &m, &err), PROTO_ERR_TOO_BIG);
    assert_string_equal(err.field, "(top)");
}

/* Writes a DELTA (or DIGEST) holding `count` real, minimal items. */
static size_t build_many(uint8_t *buf, size_t cap, char key, uint32_t count)
{
    size_t n = unhex(DELTA4, buf, cap);
    buf[n++] = 0xa1;
    buf[n++] = (uint8_t)key;
    buf[n++] = 0xdc;
    buf[n++] = (uint8_t)(count >> 8);
    buf[n++] = (uint8_t)count;
    for (uint32_t i = 0; i < count; i++)
        n += unhex(key == 'e' ? ENTRY_A : "94 a1 61 01 02 03", buf + n, cap - n);
    return n;
}

/* Real arrays one element over the limit, not merely a declared count. */
static void test_array_limits(void **state)
{
    static struct proto_msg m;
    uint8_t buf[PROTO_MAX_DATAGRAM];
    struct proto_error err;
    (void)state;
    size_t n = build_many(buf, sizeof(buf), 'e', PROTO_MAX_ENTRIES);
    assert_int_equal(decode_exact(buf, n, &m, &err), PROTO_OK);
    assert_int_equal(m.n_entries, PROTO_MAX_ENTRIES);
    n = build_many(buf, sizeof(buf), 'e', PROTO_MAX_ENTRIES + 1);
    assert_int_equal(decode_exact(buf, n, &m, &err), PROTO_ERR_RANGE);
    assert_string_equal(err.field, "e");

    n = build_many(buf, sizeof(buf), 'd', PROTO_MAX_DIGEST);
    assert_int_equal(decode_exact(buf, n, &m, &err), PROTO_OK);
    assert_int_equal(m.n_digest, PROTO_MAX_DIGEST);
    n = build_many(buf, sizeof(buf), 'd', PROTO_MAX_DIGEST + 1);
    assert_int_equal(decode_exact(buf, n, &m, &err), PROTO_ERR_RANGE);
    assert_string_equal(err.field, "d");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_table_values),
        cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_datagram_size_limit),
        cmocka_unit_test(test_array_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
