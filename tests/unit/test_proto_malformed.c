/*
 * test_proto_malformed.c: the decoder against datagrams that are not what
 * tally sends (wire versions 2 and 3, proto/WIRE.md). Each row of a table is one way
 * to break a message, with the error and the field the decoder must name (so
 * a counted drop is explained); a few rows are odd-but-valid msgpack that
 * must be accepted. Every input is copied into a heap buffer of exactly its
 * length, so AddressSanitizer catches any read past the end. Then: every
 * strict prefix of valid messages fails, size limits, and real arrays one
 * element over their limits.
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

#define V2     "a1 76 02 "
#define W2     "a1 77 92 02 02 "         /* "w": [2, 2] */
#define F_A    "a1 66 a1 61 "            /* "f": "a" */
#define HDR    V2 W2                     /* what every datagram starts with */
#define PING4  "84 " HDR "a1 74 05 " F_A /* a valid PING from "a" */
#define PING5  "85 " HDR "a1 74 05 " F_A /* same, room for one more key */
#define DELTA5 "85 " HDR "a1 74 03 " F_A /* a DELTA from "a", one more key */
#define DELTA6 "86 " HDR "a1 74 03 " F_A /* two more keys */
#define HB5    "85 " HDR "a1 74 01 " F_A /* a HEARTBEAT from "a", one more key */
#define HB6    "86 " HDR "a1 74 01 " F_A
#define SYNC5  "85 " HDR "a1 74 07 " F_A /* a SYNC from "a", room for "b" */
#define SYNC6  "86 " HDR "a1 74 07 " F_A
/* ["a", incarnation 1, heartbeat 2, alive, "", vol 5, ...]: slots follow. */
#define ENTRY_HEAD "97 a1 61 01 02 00 a0 05 "
#define ENTRY_A    ENTRY_HEAD "92 05 03 " /* slots [vol 5: 3] */
#define ENTRY_B    "97 a1 62 01 02 00 a0 05 92 05 03 "
#define E1(entry)  "a1 65 91 " entry    /* "e": [entry] */
#define D1(item)   "a1 64 91 " item     /* "d": [item] */
#define ITEM_A     "94 a1 61 01 02 03 " /* ["a", 1, 2, count 3] */
#define B(n)       "a1 62 dc 00 " n " " /* "b": array16 of n... */
#define B64        B("40") "00*64 "     /* a SYNC's 64 buckets, all empty */
#define P(x)       "a1 70 " x " "       /* "p": x */
/* 16 and 17 slots: vols 1, 2, 3, ... each with count 7 (pairs written "0107"). */
#define SLOTS_1_16                                                                                 \
    "0107 0207 0307 0407 0507 0607 0707 0807 0907 0a07 0b07 0c07 0d07 0e07 0f07 1007 "
/* Version 3, with compact count updates "c". */
#define V3      "a1 76 03 "
#define W3      "a1 77 92 02 03 "
#define HDR3    V3 W3
#define DELTA35 "85 " HDR3 "a1 74 03 " F_A /* a version-3 DELTA, one more key */
/* Version 4: an ACK may be bare. */
#define HDR4        "a1 76 04 a1 77 92 02 04 "
#define C(x)        "a1 63 " x " " /* "c": x */
#define SLOTS16     "dc 00 20 " SLOTS_1_16
#define SLOTS17     "dc 00 22 " SLOTS_1_16 "11 07 "
#define VALUE_MAX   "cf 00 20 00*6 "    /* 2^53 = PROTO_VALUE_MAX */
#define VALUE_MAX_1 "cf 00 20 00*5 01 " /* 2^53 + 1 */
#define SUM_MAX     "cf 02 00*7 "       /* 2^57 = 16 slots of 2^53 */
#define SUM_MAX_1   "cf 02 00*6 01 "

/* The golden heartbeat of wire version 1 (tally 0.1.0, never released). */
#define V1_HEARTBEAT                                                                               \
    "84 a1 76 01 a1 74 01 a1 66 b0 6d796170702d737461746566756c2d30 a1 65 91 96 "                  \
    "b0 6d796170702d737461746566756c2d30 cf 00000199c82cc000 cd 03e8 ce 000186a0 00 "              \
    "b0 31302e3234342e302e31303a37393436"

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
    {"trailing byte", PING4 "00", PROTO_ERR_TRAILING, "(top)"},
    {"two maps", PING4 "80", PROTO_ERR_TRAILING, "(top)"},
    {"key not a string", "84 01 01 " W2 "a1 74 05 " F_A, PROTO_ERR_TYPE, "(top)"},
    {"key nil", "84 c0 01 " W2 "a1 74 05 " F_A, PROTO_ERR_TYPE, "(top)"},
    {"map32 declaring 4G keys", "df ff ff ff ff", PROTO_ERR_TRUNCATED, "(top)"},
    {"map16 declaring more keys than bytes", "de 00 10 " HDR, PROTO_ERR_TRUNCATED, "(top)"},
    {"key str32 of 4 GB", "81 db ff ff ff ff", PROTO_ERR_TRUNCATED, "(top)"},
    /* Version: 2, 3 and 4 are read; everything else is a counted VERSION drop. */
    {"version 1 (0.1.0's heartbeat)", V1_HEARTBEAT, PROTO_ERR_VERSION, "v"},
    {"version 1 with a w", "84 a1 76 01 a1 77 92 01 02 a1 74 05 " F_A, PROTO_ERR_VERSION, "v"},
    {"version 3 from a sender speaking 2..3", "84 " HDR3 "a1 74 05 " F_A, PROTO_OK, NULL},
    {"version 3 from a sender speaking only 2", "84 a1 76 03 " W2 "a1 74 05 " F_A, PROTO_ERR_RANGE,
     "w"},
    {"version 4 from a sender speaking 2..4", "84 " HDR4 "a1 74 05 " F_A, PROTO_OK, NULL},
    {"version 4 from a sender speaking only 2..3", "84 a1 76 04 " W3 "a1 74 05 " F_A,
     PROTO_ERR_RANGE, "w"},
    {"version 5", "84 a1 76 05 a1 77 92 02 05 a1 74 05 " F_A, PROTO_ERR_VERSION, "v"},
    {"version 0", "84 a1 76 00 " W2 "a1 74 05 " F_A, PROTO_ERR_VERSION, "v"},
    {"version 2^64-1", "84 a1 76 cf ff*8 " W2 "a1 74 05 " F_A, PROTO_ERR_VERSION, "v"},
    {"version 5 after a field 4 cannot read", "84 a1 74 a1 78 a1 76 05 " W2 F_A, PROTO_ERR_VERSION,
     "v"},
    {"version 5 in an entry layout 4 cannot read", "84 a1 76 05 " W2 "a1 74 01 a1 65 91 c0",
     PROTO_ERR_VERSION, "v"},
    {"version as str", "84 a1 76 a1 32 " W2 "a1 74 05 " F_A, PROTO_ERR_TYPE, "v"},
    {"version negative", "84 a1 76 ff " W2 "a1 74 05 " F_A, PROTO_ERR_TYPE, "v"},
    {"version float", "84 a1 76 cb 40 00 00 00 00 00 00 00 " W2 "a1 74 05 " F_A, PROTO_ERR_TYPE,
     "v"},
    /* The version range "w". */
    {"missing w", "83 " V2 "a1 74 05 " F_A, PROTO_ERR_MISSING, "w"},
    {"w uint", "84 " V2 "a1 77 02 a1 74 05 " F_A, PROTO_ERR_TYPE, "w"},
    {"w map", "84 " V2 "a1 77 80 a1 74 05 " F_A, PROTO_ERR_TYPE, "w"},
    {"w nil", "84 " V2 "a1 77 c0 a1 74 05 " F_A, PROTO_ERR_TYPE, "w"},
    {"w empty", "84 " V2 "a1 77 90 a1 74 05 " F_A, PROTO_ERR_RANGE, "w"},
    {"w of 1 element", "84 " V2 "a1 77 91 02 a1 74 05 " F_A, PROTO_ERR_RANGE, "w"},
    {"w of 3 elements", "84 " V2 "a1 77 93 02 02 02 a1 74 05 " F_A, PROTO_ERR_RANGE, "w"},
    {"w array32 declaring 4G", "84 " V2 "a1 77 dd ff ff ff ff", PROTO_ERR_TRUNCATED, "w"},
    {"w lo as str", "84 " V2 "a1 77 92 a1 32 02 a1 74 05 " F_A, PROTO_ERR_TYPE, "w"},
    {"w hi negative", "84 " V2 "a1 77 92 02 ff a1 74 05 " F_A, PROTO_ERR_TYPE, "w"},
    {"w lo > hi", "84 " V2 "a1 77 92 03 02 a1 74 05 " F_A, PROTO_ERR_RANGE, "w"},
    {"w [3, 5] not covering v 2", "84 " V2 "a1 77 92 03 05 a1 74 05 " F_A, PROTO_ERR_RANGE, "w"},
    {"w [0, 1] not covering v 2", "84 " V2 "a1 77 92 00 01 a1 74 05 " F_A, PROTO_ERR_RANGE, "w"},
    {"w [1, 1] before v 2", "84 a1 77 92 01 01 " V2 "a1 74 05 " F_A, PROTO_ERR_RANGE, "w"},
    {"w hi above 255", "84 " V2 "a1 77 92 02 cd 01 00 a1 74 05 " F_A, PROTO_ERR_RANGE, "w"},
    {"w [1, 3]: a wider sender", "84 " V2 "a1 77 92 01 03 a1 74 05 " F_A, PROTO_OK, NULL},
    {"w [2, 255]", "84 " V2 "a1 77 92 02 cc ff a1 74 05 " F_A, PROTO_OK, NULL},
    {"w as array16 of uint64", "84 " V2 "a1 77 dc 00 02 cf 00*7 02 cf 00*7 02 a1 74 05 " F_A,
     PROTO_OK, NULL},
    /* Required fields. */
    {"missing v", "83 " W2 "a1 74 05 " F_A, PROTO_ERR_MISSING, "v"},
    {"missing t", "83 " HDR F_A, PROTO_ERR_MISSING, "t"},
    {"missing f", "83 " HDR "a1 74 05", PROTO_ERR_MISSING, "f"},
    {"empty map", "80", PROTO_ERR_MISSING, "v"},
    /* Type. */
    {"t as str", "84 " HDR "a1 74 a1 35 " F_A, PROTO_ERR_TYPE, "t"},
    {"t nil", "84 " HDR "a1 74 c0 " F_A, PROTO_ERR_TYPE, "t"},
    {"t 0", "84 " HDR "a1 74 00 " F_A, PROTO_ERR_RANGE, "t"},
    {"t 10", "84 " HDR "a1 74 0a " F_A, PROTO_ERR_RANGE, "t"},
    {"t 2^64-1", "84 " HDR "a1 74 cf ff*8 " F_A, PROTO_ERR_RANGE, "t"},
    /* Sender. */
    {"f uint", "84 " HDR "a1 74 05 a1 66 01", PROTO_ERR_TYPE, "f"},
    {"f bin", "84 " HDR "a1 74 05 a1 66 c4 01 61", PROTO_ERR_TYPE, "f"},
    {"f empty", "84 " HDR "a1 74 05 a1 66 a0", PROTO_ERR_RANGE, "f"},
    {"f of 64 bytes", "84 " HDR "a1 74 05 a1 66 d9 40 61*64", PROTO_ERR_RANGE, "f"},
    {"f of 63 bytes", "84 " HDR "a1 74 05 a1 66 d9 3f 61*63", PROTO_OK, NULL},
    {"f with a NUL byte", "84 " HDR "a1 74 05 a1 66 a2 61 00", PROTO_ERR_RANGE, "f"},
    {"f str32 of 4 GB", "84 " HDR "a1 74 05 a1 66 db ff ff ff ff", PROTO_ERR_RANGE, "f"},
    {"f truncated", "84 " HDR "a1 74 05 a1 66 a5 61 61", PROTO_ERR_TRUNCATED, "f"},
    /* Nonce and reply flag. */
    {"n as str", PING5 "a1 6e a1 31", PROTO_ERR_TYPE, "n"},
    {"n negative fixint", PING5 "a1 6e ff", PROTO_ERR_TYPE, "n"},
    {"n int8 (signed type)", PING5 "a1 6e d0 05", PROTO_ERR_TYPE, "n"},
    {"n int64 negative", PING5 "a1 6e d3 ff*8", PROTO_ERR_TYPE, "n"},
    {"n float32", PING5 "a1 6e ca 3f 80 00 00", PROTO_ERR_TYPE, "n"},
    {"n float64", PING5 "a1 6e cb 3f f0 00 00 00 00 00 00", PROTO_ERR_TYPE, "n"},
    {"n uint64 max (any 64-bit nonce)", PING5 "a1 6e cf ff*8", PROTO_OK, NULL},
    {"r 2", PING5 "a1 72 02", PROTO_ERR_RANGE, "r"},
    {"r nil", PING5 "a1 72 c0", PROTO_ERR_TYPE, "r"},
    {"r as uint 1", PING5 "a1 72 01", PROTO_OK, NULL},
    {"r false", PING5 "a1 72 c2", PROTO_OK, NULL},
    /* PING_REQ's target "a": required there, refused anywhere else. */
    {"ping_req", "86 " HDR "a1 74 08 " F_A "a1 6e 07 a1 61 a1 62", PROTO_OK, NULL},
    {"ping_req without a", "85 " HDR "a1 74 08 " F_A "a1 6e 07", PROTO_ERR_MISSING, "a"},
    {"ping_req a uint", "86 " HDR "a1 74 08 " F_A "a1 6e 07 a1 61 01", PROTO_ERR_TYPE, "a"},
    {"ping_req a empty", "86 " HDR "a1 74 08 " F_A "a1 6e 07 a1 61 a0", PROTO_ERR_RANGE, "a"},
    {"ping_req a of 64 bytes", "86 " HDR "a1 74 08 " F_A "a1 6e 07 a1 61 d9 40 61*64",
     PROTO_ERR_RANGE, "a"},
    {"a on a PING", PING5 "a1 61 a1 62", PROTO_ERR_RANGE, "a"},
    {"a twice", "87 " HDR "a1 74 08 " F_A "a1 6e 07 a1 61 a1 62 a1 61 a1 62", PROTO_ERR_RANGE, "a"},
    /* Compact count updates "c" (version 3): a flat [sid, count, ...] array
     * on a HEARTBEAT or DELTA, each sid once, counts within 2^53. */
    {"c: one update", DELTA35 C("92 cf 11*8 05"), PROTO_OK, NULL},
    {"c empty", DELTA35 C("90"), PROTO_OK, NULL},
    {"c on a version-3 heartbeat", "86 " HDR3 "a1 74 01 " F_A E1(ENTRY_A) C("92 05 03"), PROTO_OK,
     NULL},
    {"c uint", DELTA35 C("05"), PROTO_ERR_TYPE, "c"},
    {"c map", DELTA35 C("81 05 03"), PROTO_ERR_TYPE, "c"},
    {"c nil", DELTA35 C("c0"), PROTO_ERR_TYPE, "c"},
    {"c of 1 element (odd)", DELTA35 C("91 05"), PROTO_ERR_RANGE, "c"},
    {"c of 3 elements (odd)", DELTA35 C("93 05 03 06"), PROTO_ERR_RANGE, "c"},
    {"c declaring 129 updates", DELTA35 C("dc 01 02"), PROTO_ERR_RANGE, "c"},
    {"c array32 declaring 4G", DELTA35 C("dd ff ff ff ff"), PROTO_ERR_RANGE, "c"},
    {"c declaring 128 updates, holding none", DELTA35 C("dc 01 00"), PROTO_ERR_TRUNCATED, "c"},
    {"c sid str", DELTA35 C("92 a1 35 03"), PROTO_ERR_TYPE, "c[0].sid"},
    {"c sid negative", DELTA35 C("92 ff 03"), PROTO_ERR_TYPE, "c[0].sid"},
    {"c sid 0 and 2^64-1 (any 64-bit id)", DELTA35 C("94 00 03 cf ff*8 04"), PROTO_OK, NULL},
    {"c count negative", DELTA35 C("92 05 ff"), PROTO_ERR_TYPE, "c[0].count"},
    {"c count float", DELTA35 C("92 05 ca 3f 80 00 00"), PROTO_ERR_TYPE, "c[0].count"},
    {"c count 2^53", DELTA35 C("92 05 " VALUE_MAX), PROTO_OK, NULL},
    {"c count 2^53+1", DELTA35 C("94 05 03 06 " VALUE_MAX_1), PROTO_ERR_RANGE, "c[1].count"},
    {"c count 2^64-1", DELTA35 C("92 05 cf ff*8"), PROTO_ERR_RANGE, "c[0].count"},
    {"c truncated in a count", DELTA35 C("92 05 cd 01"), PROTO_ERR_TRUNCATED, "c[0].count"},
    {"c sid twice", DELTA35 C("94 05 03 05 04"), PROTO_ERR_RANGE, "c[1].sid"},
    {"c sid twice, wide and narrow", DELTA35 C("94 05 03 cf 00*7 05 04"), PROTO_ERR_RANGE,
     "c[1].sid"},
    {"c twice", "86 " HDR3 "a1 74 03 " F_A C("90") C("90"), PROTO_ERR_RANGE, "c"},
    {"c on a PING", "85 " HDR3 "a1 74 05 " F_A C("92 05 03"), PROTO_ERR_RANGE, "c"},
    {"c on an ACK", "86 " HDR3 "a1 74 06 " F_A E1(ENTRY_A) C("92 05 03"), PROTO_ERR_RANGE, "c"},
    {"c on a SYNC", "86 " HDR3 "a1 74 07 " F_A B64 C("92 05 03"), PROTO_ERR_RANGE, "c"},
    {"c on a LEAVE", "85 " HDR3 "a1 74 04 " F_A C("92 05 03"), PROTO_ERR_RANGE, "c"},
    {"c before v", "85 " C("92 05 03") HDR3 "a1 74 03 " F_A, PROTO_OK, NULL},
    /* In version 2, "c" is a key it does not know: skipped if well formed,
     * whatever it holds, wherever it is. */
    {"c in version 2: skipped", DELTA5 C("92 05 03"), PROTO_OK, NULL},
    {"c in version 2, on a PING, odd: skipped", PING5 C("91 05"), PROTO_OK, NULL},
    {"c in version 2 before v: skipped", "85 " C("c3") HDR "a1 74 03 " F_A, PROTO_OK, NULL},
    {"c in version 2, malformed", DELTA5 C("c1"), PROTO_ERR_TYPE, "(unknown key)"},
    /* Entries array. */
    {"e uint", DELTA5 "a1 65 01", PROTO_ERR_TYPE, "e"},
    {"e map", DELTA5 "a1 65 80", PROTO_ERR_TYPE, "e"},
    {"e declaring 65 entries", DELTA5 "a1 65 dc 00 41", PROTO_ERR_RANGE, "e"},
    {"e array32 declaring 4G entries", DELTA5 "a1 65 dd ff ff ff ff", PROTO_ERR_RANGE, "e"},
    {"e declaring 64 entries, holding none", DELTA5 "a1 65 dc 00 40", PROTO_ERR_TRUNCATED, "e"},
    {"e empty array", DELTA5 "a1 65 90", PROTO_OK, NULL},
    /* One entry: shape. */
    {"entry not an array", DELTA5 E1("01"), PROTO_ERR_TYPE, "e[0]"},
    {"entry a map", DELTA5 E1("80"), PROTO_ERR_TYPE, "e[0]"},
    {"entry of 0 elements", DELTA5 E1("90"), PROTO_ERR_RANGE, "e[0]"},
    {"entry of 6 elements (version 1's layout)", DELTA5 E1("96 a1 61 01 02 03 00 a0"),
     PROTO_ERR_RANGE, "e[0]"},
    {"entry of 8 elements (forward compatible)", DELTA5 E1("98 a1 61 01 02 00 a0 05 92 05 03 c0"),
     PROTO_OK, NULL},
    {"entry of 9, extras nested", DELTA5 E1("99 a1 61 01 02 00 a0 05 92 05 03 81 a1 78 91 01 c3"),
     PROTO_OK, NULL},
    {"entry extra too deep", DELTA5 E1("98 a1 61 01 02 00 a0 05 92 05 03 91 91 91 91 91 91 01"),
     PROTO_ERR_RANGE, "e[0]"},
    {"entry array32 declaring 4G elements", DELTA5 E1("dd ff ff ff ff"), PROTO_ERR_TRUNCATED,
     "e[0]"},
    /* One entry: name. */
    {"entry name of 64 bytes", DELTA5 E1("97 d9 40 61*64 01 02 00 a0 05 90"), PROTO_ERR_RANGE,
     "e[0].name"},
    {"entry name empty", DELTA5 E1("97 a0 01 02 00 a0 05 90"), PROTO_ERR_RANGE, "e[0].name"},
    /* Element 7: a suspicion's accuser when it is a string. */
    {"suspect entry with accuser", DELTA5 E1("98 a1 61 01 02 01 a0 05 90 a1 62"), PROTO_OK, NULL},
    {"accuser on an alive entry", DELTA5 E1("98 a1 61 01 02 00 a0 05 90 a1 62"), PROTO_ERR_RANGE,
     "e[0].accuser"},
    {"accuser empty", DELTA5 E1("98 a1 61 01 02 01 a0 05 90 a0"), PROTO_ERR_RANGE, "e[0].accuser"},
    {"accuser of 64 bytes", DELTA5 E1("98 a1 61 01 02 01 a0 05 90 d9 40 61*64"), PROTO_ERR_RANGE,
     "e[0].accuser"},
    {"element 7 not a string: skipped", DELTA5 E1("98 a1 61 01 02 00 a0 05 90 01"), PROTO_OK, NULL},
    {"entry name uint", DELTA5 E1("97 01 01 02 00 a0 05 90"), PROTO_ERR_TYPE, "e[0].name"},
    {"entry name with NUL", DELTA5 E1("97 a2 00 61 01 02 00 a0 05 90"), PROTO_ERR_RANGE,
     "e[0].name"},
    {"entry name str32 of 4 GB", DELTA5 E1("97 db ff ff ff ff 01 02 00 a0 05 90"), PROTO_ERR_RANGE,
     "e[0].name"},
    /* One entry: incarnation and heartbeat, at most 2^53. */
    {"entry incarnation negative", DELTA5 E1("97 a1 61 ff 02 00 a0 05 90"), PROTO_ERR_TYPE,
     "e[0].incarnation"},
    {"entry incarnation 2^53", DELTA5 E1("97 a1 61 " VALUE_MAX "02 00 a0 05 90"), PROTO_OK, NULL},
    {"entry incarnation 2^53+1", DELTA5 E1("97 a1 61 " VALUE_MAX_1 "02 00 a0 05 90"),
     PROTO_ERR_RANGE, "e[0].incarnation"},
    {"entry incarnation 2^64-1", DELTA5 E1("97 a1 61 cf ff*8 02 00 a0 05 90"), PROTO_ERR_RANGE,
     "e[0].incarnation"},
    {"entry heartbeat float", DELTA5 E1("97 a1 61 01 ca 3f 80 00 00 00 a0 05 90"), PROTO_ERR_TYPE,
     "e[0].heartbeat"},
    {"entry heartbeat 2^53", DELTA5 E1("97 a1 61 01 " VALUE_MAX "00 a0 05 90"), PROTO_OK, NULL},
    {"entry heartbeat 2^53+1", DELTA5 E1("97 a1 61 01 " VALUE_MAX_1 "00 a0 05 90"), PROTO_ERR_RANGE,
     "e[0].heartbeat"},
    /* One entry: state and address. */
    {"entry state 4", DELTA5 E1("97 a1 61 01 02 04 a0 05 90"), PROTO_ERR_RANGE, "e[0].state"},
    {"entry state uint8 255", DELTA5 E1("97 a1 61 01 02 cc ff a0 05 90"), PROTO_ERR_RANGE,
     "e[0].state"},
    {"entry state bool", DELTA5 E1("97 a1 61 01 02 c2 a0 05 90"), PROTO_ERR_TYPE, "e[0].state"},
    {"entry addr of 64 bytes", DELTA5 E1("97 a1 61 01 02 00 d9 40 61*64 05 90"), PROTO_ERR_RANGE,
     "e[0].addr"},
    {"entry addr of 63 bytes", DELTA5 E1("97 a1 61 01 02 00 d9 3f 61*63 05 90"), PROTO_OK, NULL},
    {"entry addr nil", DELTA5 E1("97 a1 61 01 02 00 c0 05 90"), PROTO_ERR_TYPE, "e[0].addr"},
    /* One entry: the volume it counts on now (any 64-bit id; 0 unknown). */
    {"entry vol str", DELTA5 E1("97 a1 61 01 02 00 a0 a1 35 90"), PROTO_ERR_TYPE, "e[0].vol"},
    {"entry vol negative", DELTA5 E1("97 a1 61 01 02 00 a0 ff 90"), PROTO_ERR_TYPE, "e[0].vol"},
    {"entry vol nil", DELTA5 E1("97 a1 61 01 02 00 a0 c0 90"), PROTO_ERR_TYPE, "e[0].vol"},
    {"entry vol 0 (unknown)", DELTA5 E1("97 a1 61 01 02 00 a0 00 90"), PROTO_OK, NULL},
    {"entry vol 2^64-1", DELTA5 E1("97 a1 61 01 02 00 a0 cf ff*8 90"), PROTO_OK, NULL},
    /* One entry: slots, a flat [vol, count, ...] array of distinct vols. */
    {"slots uint", DELTA5 E1(ENTRY_HEAD "05"), PROTO_ERR_TYPE, "e[0].slots"},
    {"slots nil", DELTA5 E1(ENTRY_HEAD "c0"), PROTO_ERR_TYPE, "e[0].slots"},
    {"slots map", DELTA5 E1(ENTRY_HEAD "81 05 03"), PROTO_ERR_TYPE, "e[0].slots"},
    {"slots empty", DELTA5 E1(ENTRY_HEAD "90"), PROTO_OK, NULL},
    {"slots of 1 element (odd)", DELTA5 E1(ENTRY_HEAD "91 05"), PROTO_ERR_RANGE, "e[0].slots"},
    {"slots of 3 elements (odd)", DELTA5 E1(ENTRY_HEAD "93 05 03 06"), PROTO_ERR_RANGE,
     "e[0].slots"},
    {"slots of 16 (32 elements)", DELTA5 E1(ENTRY_HEAD SLOTS16), PROTO_OK, NULL},
    {"slots of 17 (34 elements)", DELTA5 E1(ENTRY_HEAD SLOTS17), PROTO_ERR_RANGE, "e[0].slots"},
    {"slots array32 declaring 4G", DELTA5 E1(ENTRY_HEAD "dd ff ff ff ff"), PROTO_ERR_RANGE,
     "e[0].slots"},
    {"slots declaring 32, holding none", DELTA5 E1(ENTRY_HEAD "dc 00 20"), PROTO_ERR_TRUNCATED,
     "e[0].slots"},
    {"slot vol 0", DELTA5 E1(ENTRY_HEAD "92 00 03"), PROTO_ERR_RANGE, "e[0].slots"},
    {"slot vol 0 second", DELTA5 E1(ENTRY_HEAD "94 05 03 00 03"), PROTO_ERR_RANGE, "e[0].slots"},
    {"slot vols duplicate", DELTA5 E1(ENTRY_HEAD "94 05 03 05 04"), PROTO_ERR_RANGE, "e[0].slots"},
    {"slot vols duplicate, wide and narrow", DELTA5 E1(ENTRY_HEAD "94 05 03 cf 00*7 05 04"),
     PROTO_ERR_RANGE, "e[0].slots"},
    {"slot vol str", DELTA5 E1(ENTRY_HEAD "92 a1 35 03"), PROTO_ERR_TYPE, "e[0].slots[0].vol"},
    {"slot vol 2^64-1", DELTA5 E1(ENTRY_HEAD "92 cf ff*8 03"), PROTO_OK, NULL},
    {"slot count negative", DELTA5 E1(ENTRY_HEAD "92 05 ff"), PROTO_ERR_TYPE,
     "e[0].slots[0].count"},
    {"slot count bool", DELTA5 E1(ENTRY_HEAD "92 05 c3"), PROTO_ERR_TYPE, "e[0].slots[0].count"},
    {"slot count 2^53", DELTA5 E1(ENTRY_HEAD "94 05 03 06 " VALUE_MAX), PROTO_OK, NULL},
    {"slot count 2^53+1", DELTA5 E1(ENTRY_HEAD "94 05 03 06 " VALUE_MAX_1), PROTO_ERR_RANGE,
     "e[0].slots[1].count"},
    {"slot count 2^64-1", DELTA5 E1(ENTRY_HEAD "92 05 cf ff*8"), PROTO_ERR_RANGE,
     "e[0].slots[0].count"},
    {"second entry bad", DELTA5 "a1 65 92 " ENTRY_A "97 a1 62 01 02 00 c0 05 90", PROTO_ERR_TYPE,
     "e[1].addr"},
    {"second entry's slots bad", DELTA5 "a1 65 92 " ENTRY_A ENTRY_HEAD "92 00 01", PROTO_ERR_RANGE,
     "e[1].slots"},
    /* Digest. */
    {"d uint", DELTA5 "a1 64 01", PROTO_ERR_TYPE, "d"},
    {"d declaring 97 items", DELTA5 "a1 64 dc 00 61", PROTO_ERR_RANGE, "d"},
    {"digest item of 3 elements", DELTA5 D1("93 a1 61 01 02"), PROTO_ERR_RANGE, "d[0]"},
    {"digest item of 5 elements (forward compatible)", DELTA5 D1("95 a1 61 01 02 03 a0"), PROTO_OK,
     NULL},
    {"digest item name empty", DELTA5 D1("94 a0 01 02 03"), PROTO_ERR_RANGE, "d[0].name"},
    {"digest item incarnation str", DELTA5 D1("94 a1 61 a0 02 03"), PROTO_ERR_TYPE,
     "d[0].incarnation"},
    {"digest item incarnation 2^53+1", DELTA5 D1("94 a1 61 " VALUE_MAX_1 "02 03"), PROTO_ERR_RANGE,
     "d[0].incarnation"},
    {"digest item heartbeat bool", DELTA5 D1("94 a1 61 01 c3 03"), PROTO_ERR_TYPE,
     "d[0].heartbeat"},
    {"digest item heartbeat 2^53+1", DELTA5 D1("94 a1 61 01 " VALUE_MAX_1 "03"), PROTO_ERR_RANGE,
     "d[0].heartbeat"},
    {"digest item count negative", DELTA5 D1("94 a1 61 01 02 e0"), PROTO_ERR_TYPE, "d[0].count"},
    {"digest item count 2^53+1 (a sum of slots)", DELTA5 D1("94 a1 61 01 02 " VALUE_MAX_1),
     PROTO_OK, NULL},
    {"digest item count 2^57 (16 slots of 2^53)", DELTA5 D1("94 a1 61 01 02 " SUM_MAX), PROTO_OK,
     NULL},
    {"digest item count 2^57+1", DELTA5 D1("94 a1 61 01 02 " SUM_MAX_1), PROTO_ERR_RANGE,
     "d[0].count"},
    {"digest item count 2^64-1", DELTA5 D1("94 a1 61 01 02 cf ff*8"), PROTO_ERR_RANGE,
     "d[0].count"},
    /* Parts "p": a DELTA answering a SYNC, [part, parts, whole]. */
    {"p [1, 1, 1]", DELTA5 P("93 01 01 01"), PROTO_OK, NULL},
    {"p [2, 3, false]", DELTA5 P("93 02 03 c2"), PROTO_OK, NULL},
    {"p [65535, 65535, true]", DELTA5 P("93 cd ff ff cd ff ff c3"), PROTO_OK, NULL},
    {"p uint", DELTA5 P("01"), PROTO_ERR_TYPE, "p"},
    {"p map", DELTA5 P("80"), PROTO_ERR_TYPE, "p"},
    {"p of 2 elements", DELTA5 P("92 01 01"), PROTO_ERR_RANGE, "p"},
    {"p of 4 elements", DELTA5 P("94 01 01 01 00"), PROTO_ERR_RANGE, "p"},
    {"p part 0", DELTA5 P("93 00 01 01"), PROTO_ERR_RANGE, "p"},
    {"p parts 0", DELTA5 P("93 00 00 00"), PROTO_ERR_RANGE, "p"},
    {"p part > parts", DELTA5 P("93 03 02 01"), PROTO_ERR_RANGE, "p"},
    {"p parts 65536", DELTA5 P("93 01 ce 00 01 00 00 01"), PROTO_ERR_RANGE, "p"},
    {"p part as str", DELTA5 P("93 a1 31 01 01"), PROTO_ERR_TYPE, "p"},
    {"p whole 2", DELTA5 P("93 01 01 02"), PROTO_ERR_RANGE, "p"},
    {"p whole nil", DELTA5 P("93 01 01 c0"), PROTO_ERR_TYPE, "p"},
    {"p on a heartbeat", HB6 E1(ENTRY_A) P("93 01 01 01"), PROTO_ERR_RANGE, "p"},
    {"p on a ping", PING5 P("93 01 01 01"), PROTO_ERR_RANGE, "p"},
    {"p on a digest", "85 " HDR "a1 74 02 " F_A P("93 01 01 01"), PROTO_ERR_RANGE, "p"},
    {"p on a sync", SYNC6 B64 P("93 01 01 01"), PROTO_ERR_RANGE, "p"},
    {"duplicate p", DELTA6 P("93 01 01 01") P("93 01 01 01"), PROTO_ERR_RANGE, "p"},
    /* SYNC and its buckets "b". */
    {"sync with 64 empty buckets", SYNC5 B64, PROTO_OK, NULL},
    {"sync with a bucket 2^32-1", SYNC5 B("40") "00*5 ce ff ff ff ff 00*58", PROTO_OK, NULL},
    {"sync without b", "84 " HDR "a1 74 07 " F_A, PROTO_ERR_MISSING, "b"},
    {"sync with 63 buckets", SYNC5 B("3f") "00*63", PROTO_ERR_RANGE, "b"},
    {"sync with 65 buckets", SYNC5 B("41") "00*65", PROTO_ERR_RANGE, "b"},
    {"sync with b empty", SYNC5 "a1 62 90", PROTO_ERR_RANGE, "b"},
    {"sync with b uint", SYNC5 "a1 62 00", PROTO_ERR_TYPE, "b"},
    {"sync with b array32 declaring 4G", SYNC5 "a1 62 dd ff ff ff ff", PROTO_ERR_RANGE, "b"},
    {"sync with b declaring 64, holding 63", SYNC5 B("40") "00*63", PROTO_ERR_TRUNCATED, "b"},
    {"sync with a bucket 2^32", SYNC5 B("40") "00*5 cf 00 00 00 01 00 00 00 00 00*58",
     PROTO_ERR_RANGE, "b[5]"},
    {"sync with a bucket str", SYNC5 B("40") "a1 30 00*63", PROTO_ERR_TYPE, "b[0]"},
    {"sync with a bucket negative", SYNC5 B("40") "00*63 ff", PROTO_ERR_TYPE, "b[63]"},
    {"b on a ping", PING5 B64, PROTO_ERR_RANGE, "b"},
    {"b on a delta", DELTA5 B64, PROTO_ERR_RANGE, "b"},
    {"duplicate b", "86 " HDR "a1 74 07 " F_A B64 B64, PROTO_ERR_RANGE, "b"},
    /* Unknown keys: ignored when well formed, rejected when not. */
    {"unknown key with a nested map", PING5 "a1 78 81 a1 79 92 01 82 a1 61 c0 a1 62 c3", PROTO_OK,
     NULL},
    {"unknown long key", PING5 "a5 68 65 6c 6c 6f c0", PROTO_OK, NULL},
    {"unknown key holding every msgpack type",
     PING5 "a1 78 dc 00 20 c0 c2 c3 7f e0 cc ff cd ff ff ce ff*4 cf ff*8 d0 80 d1 80 00 "
           "d2 80 00*3 d3 80 00*7 ca 00*4 cb 00*8 d9 01 61 da 00 01 61 db 00 00 00 01 61 "
           "c4 01 00 c5 00 01 00 c6 00 00 00 01 00 c7 01 05 00 c8 00 01 05 00 "
           "c9 00 00 00 01 05 00 d4 05 00 d5 05 00*2 d6 05 00*4 d7 05 00*8 d8 05 00*16 "
           "de 00 01 01 01 dd 00 00 00 01 01 df 00 00 00 01 01 01",
     PROTO_OK, NULL},
    {"unknown key nested 7 deep (the limit)", PING5 "a1 78 91*7 01", PROTO_OK, NULL},
    {"unknown key nested 8 deep", PING5 "a1 78 91*8 01", PROTO_ERR_RANGE, "(unknown key)"},
    {"unknown key nested 200 deep", PING5 "a1 78 81a161*200 01", PROTO_ERR_RANGE, "(unknown key)"},
    {"unknown key str32 of 4 GB", PING5 "a1 78 db ff ff ff ff", PROTO_ERR_TRUNCATED,
     "(unknown key)"},
    {"unknown key array32 of 4G", PING5 "a1 78 dd ff ff ff ff", PROTO_ERR_TRUNCATED,
     "(unknown key)"},
    {"unknown key map32 of 4G", PING5 "a1 78 df ff ff ff ff", PROTO_ERR_TRUNCATED, "(unknown key)"},
    {"unknown key bin32 of 4 GB", PING5 "a1 78 c6 ff ff ff ff", PROTO_ERR_TRUNCATED,
     "(unknown key)"},
    {"unknown key ext32 of 4 GB", PING5 "a1 78 c9 ff ff ff ff 01", PROTO_ERR_TRUNCATED,
     "(unknown key)"},
    {"unknown key reserved byte 0xc1", PING5 "a1 78 c1", PROTO_ERR_TYPE, "(unknown key)"},
    /* Duplicate keys would make a message mean two things. */
    {"duplicate v", "85 " V2 V2 W2 "a1 74 05 " F_A, PROTO_ERR_RANGE, "v"},
    {"duplicate w", "85 " V2 W2 W2 "a1 74 05 " F_A, PROTO_ERR_RANGE, "w"},
    {"duplicate f", "85 " HDR "a1 74 05 " F_A F_A, PROTO_ERR_RANGE, "f"},
    {"duplicate e", DELTA6 E1(ENTRY_A) E1(ENTRY_A), PROTO_ERR_RANGE, "e"},
    /* HEARTBEAT and ACK speak for their sender. */
    {"heartbeat from a", HB5 E1(ENTRY_A), PROTO_OK, NULL},
    {"heartbeat whose e[0] is not the sender", HB5 E1(ENTRY_B), PROTO_ERR_RANGE, "e[0].name"},
    {"heartbeat with the sender second", HB5 "a1 65 92 " ENTRY_B ENTRY_A, PROTO_ERR_RANGE,
     "e[0].name"},
    {"heartbeat without e", "84 " HDR "a1 74 01 " F_A, PROTO_ERR_MISSING, "e"},
    {"heartbeat with empty e", HB5 "a1 65 90", PROTO_ERR_MISSING, "e"},
    {"ack without e, version 2", "84 " HDR "a1 74 06 " F_A, PROTO_ERR_MISSING, "e"},
    {"ack without e, version 3", "84 " HDR3 "a1 74 06 " F_A, PROTO_ERR_MISSING, "e"},
    {"bare ack, version 4", "85 " HDR4 "a1 74 06 " F_A "a1 6e 07 ", PROTO_OK, NULL},
    {"ack with empty e, version 4", "85 " HDR4 "a1 74 06 " F_A "a1 65 90 ", PROTO_OK, NULL},
    {"ack whose e[0] is not the sender, version 4", "85 " HDR4 "a1 74 06 " F_A E1(ENTRY_B),
     PROTO_ERR_RANGE, "e[0].name"},
    {"heartbeat without e, version 4", "84 " HDR4 "a1 74 01 " F_A, PROTO_ERR_MISSING, "e"},
    {"ack whose e[0] is not the sender", "85 " HDR "a1 74 06 " F_A E1(ENTRY_B), PROTO_ERR_RANGE,
     "e[0].name"},
    {"delta whose e[0] is not the sender", DELTA5 E1(ENTRY_B), PROTO_OK, NULL},
    /* Odd but valid msgpack: wider encodings than needed, other key order. */
    {"v as uint64", "84 a1 76 cf 00*7 02 " W2 "a1 74 05 " F_A, PROTO_OK, NULL},
    {"t as uint16", "84 " HDR "a1 74 cd 00 05 " F_A, PROTO_OK, NULL},
    {"key as str8", "84 d9 01 76 02 " W2 "a1 74 05 " F_A, PROTO_OK, NULL},
    {"name as str16", "84 " HDR "a1 74 05 a1 66 da 00 01 61", PROTO_OK, NULL},
    {"map16 header", "de 00 04 " HDR "a1 74 05 " F_A, PROTO_OK, NULL},
    {"map32 header", "df 00 00 00 04 " HDR "a1 74 05 " F_A, PROTO_OK, NULL},
    {"e as array32, entry as array16, slots as array32",
     DELTA5 "a1 65 dd 00 00 00 01 dc 00 07 a1 61 01 02 00 a0 05 dd 00 00 00 02 05 03", PROTO_OK,
     NULL},
    {"b as array32", SYNC5 "a1 62 dd 00 00 00 40 00*64", PROTO_OK, NULL},
    {"keys in reverse order", "84 " F_A "a1 74 05 " W2 V2, PROTO_OK, NULL},
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
    size_t n = unhex(
        DELTA5 E1("99 a1 61 01 02 03 a0 cf ff*8 94 05 03 cf ff*8 " VALUE_MAX "81 a1 78 91 01 c3"),
        buf, sizeof(buf));
    assert_int_equal(decode_exact(buf, n, &m, NULL), PROTO_OK);
    assert_int_equal(m.type, PROTO_DELTA);
    assert_string_equal(m.from, "a");
    assert_int_equal(m.vmin, 2);
    assert_int_equal(m.vmax, 2);
    assert_int_equal(m.n_entries, 1);
    assert_string_equal(m.entries[0].name, "a");
    assert_int_equal(m.entries[0].incarnation, 1);
    assert_int_equal(m.entries[0].heartbeat, 2);
    assert_int_equal(m.entries[0].state, PROTO_STATE_LEFT);
    assert_int_equal(m.entries[0].addr[0], '\0');
    assert_int_equal(m.entries[0].vol, UINT64_MAX);
    assert_int_equal(m.entries[0].n_slots, 2);
    assert_int_equal(m.entries[0].slots[0].vol, 5);
    assert_int_equal(m.entries[0].slots[0].count, 3);
    assert_int_equal(m.entries[0].slots[1].vol, UINT64_MAX);
    assert_int_equal(m.entries[0].slots[1].count, PROTO_VALUE_MAX);

    n = unhex(DELTA5 E1(ENTRY_HEAD SLOTS16), buf, sizeof(buf));
    assert_int_equal(decode_exact(buf, n, &m, NULL), PROTO_OK);
    assert_int_equal(m.entries[0].n_slots, PROTO_MAX_SLOTS);
    assert_int_equal(m.entries[0].slots[15].vol, 16);
    assert_int_equal(m.entries[0].slots[15].count, 7);

    n = unhex("84 " V2 "a1 77 92 01 03 a1 74 05 " F_A, buf, sizeof(buf));
    assert_int_equal(decode_exact(buf, n, &m, NULL), PROTO_OK);
    assert_int_equal(m.vmin, 1);
    assert_int_equal(m.vmax, 3);

    n = unhex(DELTA5 P("93 02 03 c3"), buf, sizeof(buf));
    assert_int_equal(decode_exact(buf, n, &m, NULL), PROTO_OK);
    assert_int_equal(m.part, 2);
    assert_int_equal(m.parts, 3);
    assert_int_equal(m.whole, 1);

    n = unhex(SYNC5 B("40") "00*5 ce ff ff ff ff 00*58", buf, sizeof(buf));
    assert_int_equal(decode_exact(buf, n, &m, NULL), PROTO_OK);
    assert_int_equal(m.type, PROTO_SYNC);
    assert_int_equal(m.n_buckets, PROTO_BUCKETS);
    assert_int_equal(m.buckets[5], UINT32_MAX);
    assert_int_equal(m.buckets[4], 0);

    n = unhex(DELTA5 D1("94 a1 61 01 02 " SUM_MAX), buf, sizeof(buf));
    assert_int_equal(decode_exact(buf, n, &m, NULL), PROTO_OK);
    assert_int_equal(m.digest[0].count, PROTO_VALUE_MAX * PROTO_MAX_SLOTS);

    n = unhex(DELTA35 C("94 cf 0a692a7467347db4 ce 000186a0 00 " VALUE_MAX), buf, sizeof(buf));
    assert_int_equal(decode_exact(buf, n, &m, NULL), PROTO_OK);
    assert_int_equal(m.version, 3);
    assert_int_equal(m.n_counts, 2);
    assert_true(m.counts[0].sid == 0x0a692a7467347db4ull);
    assert_int_equal(m.counts[0].count, 100000);
    assert_int_equal(m.counts[1].sid, 0);
    assert_int_equal(m.counts[1].count, PROTO_VALUE_MAX);
    n = unhex(DELTA5 C("94 cf 0a692a7467347db4 ce 000186a0 00 01"), buf, sizeof(buf));
    assert_int_equal(decode_exact(buf, n, &m, NULL), PROTO_OK);
    assert_int_equal(m.version, 2);
    assert_int_equal(m.n_counts, 0);

    n = unhex(PING5 "a1 6e cf ff*8", buf, sizeof(buf));
    assert_int_equal(decode_exact(buf, n, &m, NULL), PROTO_OK);
    assert_int_equal(m.nonce, UINT64_MAX);
    n = unhex(PING5 "a1 72 01", buf, sizeof(buf));
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

static void check_prefixes_of(const struct proto_msg *m)
{
    uint8_t buf[PROTO_MAX_DATAGRAM];
    int n = proto_msg_encode(m, buf, sizeof(buf));
    assert_true(n > 0);
    check_prefixes(buf, (size_t)n);
}

static void test_truncated_everywhere(void **state)
{
    static struct proto_msg m;
    uint8_t buf[PROTO_MAX_DATAGRAM];
    (void)state;

    /* A DELTA answering a SYNC with every optional field it may carry:
     * entries with 0..4 slots, digest items, a nonce, a reply flag, parts. */
    memset(&m, 0, sizeof(m));
    m.type = PROTO_DELTA;
    snprintf(m.from, sizeof(m.from), "myapp-stateful-0");
    m.nonce = 1234567;
    m.reply = 1;
    m.part = 2;
    m.parts = 300;
    m.whole = 1;
    for (int i = 0; i < 5; i++) {
        struct proto_entry *e = &m.entries[i];
        snprintf(e->name, sizeof(e->name), "myapp-stateful-%d", i);
        snprintf(e->addr, sizeof(e->addr), "10.244.0.%d:7946", 10 + i);
        e->incarnation = 3 + (uint64_t)i;
        e->heartbeat = 1000 + (uint64_t)i;
        e->state = (uint8_t)(i % 4);
        e->vol = 0x8c3f2a9d41e07b65ull + (uint64_t)i;
        for (int k = 0; k < i; k++) {
            e->slots[k].vol = e->vol - (uint64_t)k;
            e->slots[k].count = 100000ULL * (uint64_t)k;
        }
        e->n_slots = (uint8_t)i;
        snprintf(m.digest[i].name, sizeof(m.digest[i].name), "myapp-stateful-%d", i);
        m.digest[i].incarnation = e->incarnation;
        m.digest[i].heartbeat = e->heartbeat;
        m.digest[i].count = 100000ULL * (uint64_t)i;
    }
    m.n_entries = 5;
    m.n_digest = 5;
    check_prefixes_of(&m);
    /* ... and version 3's compact counts on it. */
    for (uint32_t i = 0; i < 7; i++) {
        m.counts[i].sid = 0x0a692a7467347db4ull >> (9 * i);
        m.counts[i].count = 100000ULL << (5 * i);
    }
    m.n_counts = 7;
    check_prefixes_of(&m);

    /* A SYNC. */
    memset(&m, 0, sizeof(m));
    m.type = PROTO_SYNC;
    snprintf(m.from, sizeof(m.from), "myapp-stateful-1");
    m.nonce = 99;
    m.n_buckets = PROTO_BUCKETS;
    for (uint32_t i = 0; i < PROTO_BUCKETS; i++)
        m.buckets[i] = i * 0x01010101u;
    check_prefixes_of(&m);

    /* And table rows that use the wide encodings and unknown keys. */
    size_t k = unhex(PING5 "a1 78 81 a1 79 92 01 82 a1 61 c0 a1 62 c3", buf, sizeof(buf));
    check_prefixes(buf, k);
    k = unhex(DELTA5 "a1 65 dd 00 00 00 01 dc 00 07 a1 61 01 02 00 a0 05 dd 00 00 00 02 05 03", buf,
              sizeof(buf));
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
    size_t head = unhex(PING5 "a1 78 da", buf, sizeof(buf));
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
    size_t n = unhex(DELTA5, buf, cap);
    buf[n++] = 0xa1;
    buf[n++] = (uint8_t)key;
    buf[n++] = 0xdc;
    buf[n++] = (uint8_t)(count >> 8);
    buf[n++] = (uint8_t)count;
    for (uint32_t i = 0; i < count; i++)
        n += unhex(key == 'e' ? ENTRY_A : ITEM_A, buf + n, cap - n);
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
