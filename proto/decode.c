/*
 * decode.c: reads one gossip datagram with a small bounded msgpack reader.
 *
 * Why not msgpack_unpack(): msgpack-c's unpacker allocates an object array of
 * the *declared* size for every array and map before it has seen the elements
 * (a 3-byte array16 header asks for 65535 objects, ~1.5 MB, and a 1400-byte
 * datagram can hold hundreds of them), so a hostile datagram turns into large
 * allocations. The reader below is a cursor over (buf, len) instead: it never
 * reads past len, never allocates, compares every declared length with the
 * bytes that remain before it uses it, limits nesting to PROTO_MAX_DEPTH when
 * it skips unknown values, and writes straight into the caller's proto_msg.
 *
 * Decoding is two passes over at most PROTO_MAX_DATAGRAM bytes. The first only
 * looks for "v", so a datagram from a newer protocol is reported as
 * PROTO_ERR_VERSION rather than as whatever the newer layout breaks first. The
 * second decodes every field, naming the one that fails.
 */
#include "proto/proto.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <string.h>

/* ---- bounded msgpack reader ---- */

struct reader {
    const uint8_t *p;
    size_t len;
    size_t off;
};

static size_t reader_left(const struct reader *r)
{
    return r->len - r->off;
}

static int reader_skip(struct reader *r, uint64_t n)
{
    if (n > reader_left(r))
        return PROTO_ERR_TRUNCATED;
    r->off += (size_t)n;
    return PROTO_OK;
}

static int reader_byte(struct reader *r, uint8_t *b)
{
    if (reader_left(r) < 1)
        return PROTO_ERR_TRUNCATED;
    *b = r->p[r->off++];
    return PROTO_OK;
}

/* Reads an n-byte big-endian unsigned integer (n <= 8). */
static int reader_be(struct reader *r, size_t n, uint64_t *v)
{
    if (reader_left(r) < n)
        return PROTO_ERR_TRUNCATED;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++)
        x = (x << 8) | r->p[r->off + i];
    r->off += n;
    *v = x;
    return PROTO_OK;
}

/* A non-negative integer: positive fixint or uint8/16/32/64. Signed encodings
 * are refused even for positive values: tally's encoder never writes them. */
static int reader_uint(struct reader *r, uint64_t *v)
{
    uint8_t b;
    int rc = reader_byte(r, &b);
    if (rc != PROTO_OK)
        return rc;
    if (b <= 0x7f) {
        *v = b;
        return PROTO_OK;
    }
    switch (b) {
    case 0xcc:
        return reader_be(r, 1, v);
    case 0xcd:
        return reader_be(r, 2, v);
    case 0xce:
        return reader_be(r, 4, v);
    case 0xcf:
        return reader_be(r, 8, v);
    default:
        return PROTO_ERR_TYPE;
    }
}

/* A str of at most max bytes; *s points into the input (not NUL-terminated). */
static int reader_str(struct reader *r, uint64_t max, const uint8_t **s, size_t *n)
{
    uint8_t b;
    uint64_t len;
    int rc = reader_byte(r, &b);
    if (rc != PROTO_OK)
        return rc;
    if (b >= 0xa0 && b <= 0xbf)
        len = b & 0x1f;
    else if (b == 0xd9)
        rc = reader_be(r, 1, &len);
    else if (b == 0xda)
        rc = reader_be(r, 2, &len);
    else if (b == 0xdb)
        rc = reader_be(r, 4, &len);
    else
        return PROTO_ERR_TYPE;
    if (rc != PROTO_OK)
        return rc;
    if (len > max)
        return PROTO_ERR_RANGE;
    if (len > reader_left(r))
        return PROTO_ERR_TRUNCATED;
    *s = r->p + r->off;
    *n = (size_t)len;
    r->off += (size_t)len;
    return PROTO_OK;
}

/* An array header of at most max elements; every element takes at least one
 * byte, so a count above the bytes left is truncation, found before any use. */
static int reader_array(struct reader *r, uint64_t max, uint32_t *n)
{
    uint8_t b;
    uint64_t cnt;
    int rc = reader_byte(r, &b);
    if (rc != PROTO_OK)
        return rc;
    if (b >= 0x90 && b <= 0x9f)
        cnt = b & 0x0f;
    else if (b == 0xdc)
        rc = reader_be(r, 2, &cnt);
    else if (b == 0xdd)
        rc = reader_be(r, 4, &cnt);
    else
        return PROTO_ERR_TYPE;
    if (rc != PROTO_OK)
        return rc;
    if (cnt > max)
        return PROTO_ERR_RANGE;
    if (cnt > reader_left(r))
        return PROTO_ERR_TRUNCATED;
    *n = (uint32_t)cnt;
    return PROTO_OK;
}

static int reader_map(struct reader *r, uint32_t *n)
{
    uint8_t b;
    uint64_t cnt;
    int rc = reader_byte(r, &b);
    if (rc != PROTO_OK)
        return rc;
    if (b >= 0x80 && b <= 0x8f)
        cnt = b & 0x0f;
    else if (b == 0xde)
        rc = reader_be(r, 2, &cnt);
    else if (b == 0xdf)
        rc = reader_be(r, 4, &cnt);
    else
        return PROTO_ERR_TYPE;
    if (rc != PROTO_OK)
        return rc;
    if (cnt * 2 > reader_left(r))
        return PROTO_ERR_TRUNCATED;
    *n = (uint32_t)cnt;
    return PROTO_OK;
}

/* The next value is a msgpack str (fixstr, str8, str16, str32). */
static bool reader_is_str(const struct reader *r)
{
    uint8_t b = r->p[r->off];
    return (b & 0xe0) == 0xa0 || b == 0xd9 || b == 0xda || b == 0xdb;
}

/* Skips one value of any type. depth is the number of containers around it;
 * a container that would be deeper than PROTO_MAX_DEPTH is refused. */
static int reader_skip_value(struct reader *r, int depth)
{
    uint8_t b;
    uint64_t n = 0, items = 0;
    int rc = reader_byte(r, &b);
    if (rc != PROTO_OK)
        return rc;
    if (b <= 0x7f || b >= 0xe0)
        return PROTO_OK; /* fixint */
    if (b >= 0xa0 && b <= 0xbf)
        return reader_skip(r, b & 0x1f);
    if (b >= 0x80 && b <= 0x8f) {
        items = (uint64_t)(b & 0x0f) * 2;
    } else if (b >= 0x90 && b <= 0x9f) {
        items = b & 0x0f;
    } else {
        switch (b) {
        case 0xc0: /* nil */
        case 0xc2: /* false */
        case 0xc3: /* true */
            return PROTO_OK;
        case 0xc4: /* bin8, bin16, bin32 */
        case 0xd9: /* str8, str16, str32 */
            rc = reader_be(r, 1, &n);
            return rc != PROTO_OK ? rc : reader_skip(r, n);
        case 0xc5:
        case 0xda:
            rc = reader_be(r, 2, &n);
            return rc != PROTO_OK ? rc : reader_skip(r, n);
        case 0xc6:
        case 0xdb:
            rc = reader_be(r, 4, &n);
            return rc != PROTO_OK ? rc : reader_skip(r, n);
        case 0xc7: /* ext8, ext16, ext32: length, type byte, data */
            rc = reader_be(r, 1, &n);
            return rc != PROTO_OK ? rc : reader_skip(r, n + 1);
        case 0xc8:
            rc = reader_be(r, 2, &n);
            return rc != PROTO_OK ? rc : reader_skip(r, n + 1);
        case 0xc9:
            rc = reader_be(r, 4, &n);
            return rc != PROTO_OK ? rc : reader_skip(r, n + 1);
        case 0xca: /* float32 */
            return reader_skip(r, 4);
        case 0xcb: /* float64 */
            return reader_skip(r, 8);
        case 0xcc: /* uint8..uint64, int8..int64 */
        case 0xd0:
            return reader_skip(r, 1);
        case 0xcd:
        case 0xd1:
            return reader_skip(r, 2);
        case 0xce:
        case 0xd2:
            return reader_skip(r, 4);
        case 0xcf:
        case 0xd3:
            return reader_skip(r, 8);
        case 0xd4: /* fixext 1..16: type byte, data */
            return reader_skip(r, 2);
        case 0xd5:
            return reader_skip(r, 3);
        case 0xd6:
            return reader_skip(r, 5);
        case 0xd7:
            return reader_skip(r, 9);
        case 0xd8:
            return reader_skip(r, 17);
        case 0xdc:
            rc = reader_be(r, 2, &items);
            break;
        case 0xdd:
            rc = reader_be(r, 4, &items);
            break;
        case 0xde:
            rc = reader_be(r, 2, &items);
            items *= 2;
            break;
        case 0xdf:
            rc = reader_be(r, 4, &items);
            items *= 2;
            break;
        default: /* 0xc1: never used */
            return PROTO_ERR_TYPE;
        }
        if (rc != PROTO_OK)
            return rc;
    }
    /* A container. */
    if (depth + 1 > PROTO_MAX_DEPTH)
        return PROTO_ERR_RANGE;
    if (items > reader_left(r))
        return PROTO_ERR_TRUNCATED;
    for (uint64_t i = 0; i < items; i++) {
        rc = reader_skip_value(r, depth + 1);
        if (rc != PROTO_OK)
            return rc;
    }
    return PROTO_OK;
}

/* ---- errors ---- */

static int decode_fail(struct proto_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int decode_fail(struct proto_error *err, int code, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        err->code = code;
        va_start(ap, fmt);
        vsnprintf(err->field, sizeof(err->field), fmt, ap);
        va_end(ap);
    }
    return code;
}

/* ---- fields ---- */

/* Copies a name or address (at most max bytes, no NUL inside) into dst. */
static int decode_name(struct reader *r, size_t max, size_t min, char *dst)
{
    const uint8_t *s;
    size_t n;
    int rc = reader_str(r, max, &s, &n);
    if (rc != PROTO_OK)
        return rc;
    if (n < min || memchr(s, '\0', n) != NULL)
        return PROTO_ERR_RANGE;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return PROTO_OK;
}

/* Skips the elements a newer protocol appended to an entry or digest item. */
static int decode_skip_extra(struct reader *r, uint32_t extra)
{
    for (uint32_t i = 0; i < extra; i++) {
        int rc = reader_skip_value(r, 3); /* inside top map, "e"/"d" array, item */
        if (rc != PROTO_OK)
            return rc;
    }
    return PROTO_OK;
}

/* The reply flag: a bool, or for lenient peers a uint 0 or 1. */
static int decode_flag(struct reader *r, uint8_t *flag)
{
    uint64_t v;
    if (reader_left(r) >= 1 && (r->p[r->off] == 0xc2 || r->p[r->off] == 0xc3)) {
        *flag = r->p[r->off++] == 0xc3;
        return PROTO_OK;
    }
    int rc = reader_uint(r, &v);
    if (rc != PROTO_OK)
        return rc;
    if (v > 1)
        return PROTO_ERR_RANGE;
    *flag = (uint8_t)v;
    return PROTO_OK;
}

/* A uint of at most PROTO_VALUE_MAX. */
static int reader_value(struct reader *r, uint64_t *v)
{
    int rc = reader_uint(r, v);
    if (rc == PROTO_OK && *v > PROTO_VALUE_MAX)
        return PROTO_ERR_RANGE;
    return rc;
}

/* The flat [vol, count, vol, count, ...] array of an entry. */
static int decode_slots(struct reader *r, uint32_t i, struct proto_entry *e,
                        struct proto_error *err)
{
    uint32_t n;
    int rc = reader_array(r, 2u * PROTO_MAX_SLOTS, &n);
    if (rc != PROTO_OK)
        return decode_fail(err, rc, "e[%u].slots", i);
    if (n % 2)
        return decode_fail(err, PROTO_ERR_RANGE, "e[%u].slots", i);
    for (uint32_t k = 0; k < n / 2; k++) {
        if ((rc = reader_uint(r, &e->slots[k].vol)) != PROTO_OK)
            return decode_fail(err, rc, "e[%u].slots[%u].vol", i, k);
        if ((rc = reader_value(r, &e->slots[k].count)) != PROTO_OK)
            return decode_fail(err, rc, "e[%u].slots[%u].count", i, k);
    }
    e->n_slots = (uint8_t)(n / 2);
    return PROTO_OK;
}

static int decode_entry(struct reader *r, uint32_t i, struct proto_entry *e,
                        struct proto_error *err)
{
    uint32_t n;
    uint64_t state;
    int rc = reader_array(r, UINT32_MAX, &n);
    if (rc != PROTO_OK)
        return decode_fail(err, rc, "e[%u]", i);
    if (n < 7)
        return decode_fail(err, PROTO_ERR_RANGE, "e[%u]", i);
    if ((rc = decode_name(r, PROTO_NAME_MAX, 1, e->name)) != PROTO_OK)
        return decode_fail(err, rc, "e[%u].name", i);
    if ((rc = reader_value(r, &e->incarnation)) != PROTO_OK)
        return decode_fail(err, rc, "e[%u].incarnation", i);
    if ((rc = reader_value(r, &e->heartbeat)) != PROTO_OK)
        return decode_fail(err, rc, "e[%u].heartbeat", i);
    if ((rc = reader_uint(r, &state)) != PROTO_OK)
        return decode_fail(err, rc, "e[%u].state", i);
    if (state > PROTO_STATE_LEFT)
        return decode_fail(err, PROTO_ERR_RANGE, "e[%u].state", i);
    e->state = (uint8_t)state;
    if ((rc = decode_name(r, PROTO_ADDR_MAX, 0, e->addr)) != PROTO_OK)
        return decode_fail(err, rc, "e[%u].addr", i);
    if ((rc = reader_uint(r, &e->vol)) != PROTO_OK)
        return decode_fail(err, rc, "e[%u].vol", i);
    if ((rc = decode_slots(r, i, e, err)) != PROTO_OK)
        return rc;
    /* Element 7, when it is a string, names a suspicion's accuser; any
     * other value there is a later version's and is skipped like the rest. */
    uint32_t known = 7;
    if (n >= 8 && reader_left(r) > 0 && reader_is_str(r)) {
        if ((rc = decode_name(r, PROTO_NAME_MAX, 1, e->accuser)) != PROTO_OK)
            return decode_fail(err, rc, "e[%u].accuser", i);
        known = 8;
    }
    if ((rc = decode_skip_extra(r, n - known)) != PROTO_OK)
        return decode_fail(err, rc, "e[%u]", i);
    return PROTO_OK;
}

static int decode_digest_item(struct reader *r, uint32_t i, struct proto_digest_item *d,
                              struct proto_error *err)
{
    uint32_t n;
    int rc = reader_array(r, UINT32_MAX, &n);
    if (rc != PROTO_OK)
        return decode_fail(err, rc, "d[%u]", i);
    if (n < 4)
        return decode_fail(err, PROTO_ERR_RANGE, "d[%u]", i);
    if ((rc = decode_name(r, PROTO_NAME_MAX, 1, d->name)) != PROTO_OK)
        return decode_fail(err, rc, "d[%u].name", i);
    if ((rc = reader_value(r, &d->incarnation)) != PROTO_OK)
        return decode_fail(err, rc, "d[%u].incarnation", i);
    if ((rc = reader_value(r, &d->heartbeat)) != PROTO_OK)
        return decode_fail(err, rc, "d[%u].heartbeat", i);
    if ((rc = reader_uint(r, &d->count)) != PROTO_OK)
        return decode_fail(err, rc, "d[%u].count", i);
    if (d->count > PROTO_VALUE_MAX * PROTO_MAX_SLOTS)
        return decode_fail(err, PROTO_ERR_RANGE, "d[%u].count", i);
    if ((rc = decode_skip_extra(r, n - 4)) != PROTO_OK)
        return decode_fail(err, rc, "d[%u]", i);
    return PROTO_OK;
}

/* "w": [lowest, highest] version the sender speaks. That it covers the "v"
 * the datagram is written in is checked once both are read (any key order). */
static int decode_range(struct reader *r, struct proto_msg *msg, struct proto_error *err)
{
    uint32_t n;
    uint64_t lo, hi;
    int rc = reader_array(r, UINT32_MAX, &n);
    if (rc != PROTO_OK)
        return decode_fail(err, rc, "w");
    if (n != 2)
        return decode_fail(err, PROTO_ERR_RANGE, "w");
    if ((rc = reader_uint(r, &lo)) != PROTO_OK || (rc = reader_uint(r, &hi)) != PROTO_OK)
        return decode_fail(err, rc, "w");
    if (lo > hi || hi > UINT8_MAX)
        return decode_fail(err, PROTO_ERR_RANGE, "w");
    msg->vmin = (uint8_t)lo;
    msg->vmax = (uint8_t)hi;
    return PROTO_OK;
}

/* "p": [part, parts, whole] of a SYNC answer. */
static int decode_part(struct reader *r, struct proto_msg *msg, struct proto_error *err)
{
    uint32_t n;
    uint64_t part, parts;
    int rc = reader_array(r, UINT32_MAX, &n);
    if (rc != PROTO_OK)
        return decode_fail(err, rc, "p");
    if (n != 3)
        return decode_fail(err, PROTO_ERR_RANGE, "p");
    if ((rc = reader_uint(r, &part)) != PROTO_OK || (rc = reader_uint(r, &parts)) != PROTO_OK ||
        (rc = decode_flag(r, &msg->whole)) != PROTO_OK)
        return decode_fail(err, rc, "p");
    if (parts == 0 || parts > UINT16_MAX || part == 0 || part > parts)
        return decode_fail(err, PROTO_ERR_RANGE, "p");
    msg->part = (uint16_t)part;
    msg->parts = (uint16_t)parts;
    return PROTO_OK;
}

/* "b": exactly PROTO_BUCKETS 32-bit bucket hashes. */
static int decode_buckets(struct reader *r, struct proto_msg *msg, struct proto_error *err)
{
    uint32_t n;
    uint64_t v;
    int rc = reader_array(r, PROTO_BUCKETS, &n);
    if (rc != PROTO_OK)
        return decode_fail(err, rc, "b");
    if (n != PROTO_BUCKETS)
        return decode_fail(err, PROTO_ERR_RANGE, "b");
    for (uint32_t i = 0; i < n; i++) {
        if ((rc = reader_uint(r, &v)) != PROTO_OK)
            return decode_fail(err, rc, "b[%u]", i);
        if (v > UINT32_MAX)
            return decode_fail(err, PROTO_ERR_RANGE, "b[%u]", i);
        msg->buckets[i] = (uint32_t)v;
    }
    msg->n_buckets = n;
    return PROTO_OK;
}

/* "c": the flat [sid, count, sid, count, ...] compact count updates. */
static int decode_counts(struct reader *r, struct proto_msg *msg, struct proto_error *err)
{
    uint32_t n;
    int rc = reader_array(r, 2u * PROTO_MAX_COUNTS, &n);
    if (rc != PROTO_OK)
        return decode_fail(err, rc, "c");
    if (n % 2)
        return decode_fail(err, PROTO_ERR_RANGE, "c");
    for (uint32_t k = 0; k < n / 2; k++) {
        if ((rc = reader_uint(r, &msg->counts[k].sid)) != PROTO_OK)
            return decode_fail(err, rc, "c[%u].sid", k);
        if ((rc = reader_value(r, &msg->counts[k].count)) != PROTO_OK)
            return decode_fail(err, rc, "c[%u].count", k);
    }
    msg->n_counts = n / 2;
    return PROTO_OK;
}

/* ---- pass 1: the version ---- */

/* Returns PROTO_ERR_VERSION if a readable "v" says another version, and
 * sets *version to a readable "v" in our range (else leaves it 0); any other
 * problem is left for pass 2 to report with its field. Pass 2 needs the
 * version before it meets "c", which may come first in a reordered map. */
static int decode_version_scan(const uint8_t *buf, size_t len, uint64_t *version)
{
    struct reader r = {.p = buf, .len = len, .off = 0};
    uint32_t keys;
    if (reader_map(&r, &keys) != PROTO_OK)
        return PROTO_OK;
    for (uint32_t i = 0; i < keys; i++) {
        const uint8_t *k;
        size_t kn;
        uint64_t v;
        if (reader_str(&r, UINT32_MAX, &k, &kn) != PROTO_OK)
            return PROTO_OK;
        if (kn == 1 && k[0] == 'v') {
            if (reader_uint(&r, &v) != PROTO_OK)
                return PROTO_OK;
            if (v < PROTO_VERSION_MIN || v > PROTO_VERSION_MAX)
                return PROTO_ERR_VERSION;
            *version = v;
            return PROTO_OK;
        }
        if (reader_skip_value(&r, 1) != PROTO_OK)
            return PROTO_OK;
    }
    return PROTO_OK;
}

/* ---- pass 2: everything ---- */

enum decode_key {
    KEY_V = 1 << 0,
    KEY_T = 1 << 1,
    KEY_F = 1 << 2,
    KEY_N = 1 << 3,
    KEY_R = 1 << 4,
    KEY_E = 1 << 5,
    KEY_D = 1 << 6,
    KEY_W = 1 << 7,
    KEY_P = 1 << 8,
    KEY_B = 1 << 9,
    KEY_A = 1 << 10,
    KEY_C = 1 << 11,
};

/* version: the datagram's, from pass 1: "c" is a key of version 3 on; in a
 * version-2 datagram it is an unknown key, skipped as version 2 does. */
static int decode_key_bit(const uint8_t *k, size_t kn, uint64_t version)
{
    if (kn != 1)
        return 0;
    switch (k[0]) {
    case 'c':
        return version >= 3 ? KEY_C : 0;
    case 'v':
        return KEY_V;
    case 't':
        return KEY_T;
    case 'f':
        return KEY_F;
    case 'n':
        return KEY_N;
    case 'r':
        return KEY_R;
    case 'e':
        return KEY_E;
    case 'd':
        return KEY_D;
    case 'w':
        return KEY_W;
    case 'p':
        return KEY_P;
    case 'b':
        return KEY_B;
    case 'a':
        return KEY_A;
    default:
        return 0;
    }
}

/* Decodes the value of known key `key` (one character) into msg; "v" goes to
 * *version, which the message itself does not keep. */
static int decode_field(struct reader *r, char key, struct proto_msg *msg, uint64_t *version,
                        struct proto_error *err)
{
    uint64_t v;
    uint32_t n;
    int rc;
    switch (key) {
    case 'v':
        if ((rc = reader_uint(r, &v)) != PROTO_OK)
            return decode_fail(err, rc, "v");
        if (v < PROTO_VERSION_MIN || v > PROTO_VERSION_MAX)
            return decode_fail(err, PROTO_ERR_VERSION, "v");
        *version = v;
        return PROTO_OK;
    case 'w':
        return decode_range(r, msg, err);
    case 'p':
        return decode_part(r, msg, err);
    case 'b':
        return decode_buckets(r, msg, err);
    case 'c':
        return decode_counts(r, msg, err);
    case 't':
        if ((rc = reader_uint(r, &v)) != PROTO_OK)
            return decode_fail(err, rc, "t");
        if (v < PROTO_HEARTBEAT || v > PROTO_NACK)
            return decode_fail(err, PROTO_ERR_RANGE, "t");
        msg->type = (uint8_t)v;
        return PROTO_OK;
    case 'f':
        if ((rc = decode_name(r, PROTO_NAME_MAX, 1, msg->from)) != PROTO_OK)
            return decode_fail(err, rc, "f");
        return PROTO_OK;
    case 'n':
        if ((rc = reader_uint(r, &msg->nonce)) != PROTO_OK)
            return decode_fail(err, rc, "n");
        return PROTO_OK;
    case 'r':
        if ((rc = decode_flag(r, &msg->reply)) != PROTO_OK)
            return decode_fail(err, rc, "r");
        return PROTO_OK;
    case 'a':
        if ((rc = decode_name(r, PROTO_ADDR_MAX, 1, msg->target)) != PROTO_OK)
            return decode_fail(err, rc, "a");
        return PROTO_OK;
    case 'e':
        if ((rc = reader_array(r, PROTO_MAX_ENTRIES, &n)) != PROTO_OK)
            return decode_fail(err, rc, "e");
        for (uint32_t i = 0; i < n; i++) {
            memset(&msg->entries[i], 0, sizeof(msg->entries[i]));
            if ((rc = decode_entry(r, i, &msg->entries[i], err)) != PROTO_OK)
                return rc;
        }
        msg->n_entries = n;
        return PROTO_OK;
    default: /* 'd' */
        if ((rc = reader_array(r, PROTO_MAX_DIGEST, &n)) != PROTO_OK)
            return decode_fail(err, rc, "d");
        for (uint32_t i = 0; i < n; i++) {
            memset(&msg->digest[i], 0, sizeof(msg->digest[i]));
            if ((rc = decode_digest_item(r, i, &msg->digest[i], err)) != PROTO_OK)
                return rc;
        }
        msg->n_digest = n;
        return PROTO_OK;
    }
}

int proto_msg_decode(const uint8_t *buf, size_t len, struct proto_msg *msg, struct proto_error *err)
{
    struct reader r = {.p = buf, .len = len, .off = 0};
    uint32_t keys;
    uint64_t version = 0, scanned = 0;
    unsigned seen = 0;
    int rc;

    /* The header is zeroed; the arrays only as far as this datagram fills
     * them (a whole struct is ~40 KB, and a node decodes every datagram it
     * gets: zeroing it all was a tenth of the simulator's time). */
    memset(msg, 0, offsetof(struct proto_msg, buckets));
    msg->n_buckets = msg->n_entries = msg->n_digest = msg->n_counts = 0;
    if (len > PROTO_MAX_DATAGRAM)
        return decode_fail(err, PROTO_ERR_TOO_BIG, "(top)");
    if (decode_version_scan(buf, len, &scanned) == PROTO_ERR_VERSION)
        return decode_fail(err, PROTO_ERR_VERSION, "v");
    if ((rc = reader_map(&r, &keys)) != PROTO_OK)
        return decode_fail(err, rc, "(top)");
    for (uint32_t i = 0; i < keys; i++) {
        const uint8_t *k;
        size_t kn;
        if ((rc = reader_str(&r, UINT32_MAX, &k, &kn)) != PROTO_OK)
            return decode_fail(err, rc, "(top)");
        int bit = decode_key_bit(k, kn, scanned);
        if (bit == 0) {
            /* Unknown key: a newer peer's addition, ignored but well-formed. */
            if ((rc = reader_skip_value(&r, 1)) != PROTO_OK)
                return decode_fail(err, rc, "(unknown key)");
            continue;
        }
        /* A repeated key would make the message mean two things. */
        if (seen & (unsigned)bit)
            return decode_fail(err, PROTO_ERR_RANGE, "%c", (char)k[0]);
        seen |= (unsigned)bit;
        if ((rc = decode_field(&r, (char)k[0], msg, &version, err)) != PROTO_OK)
            return rc;
    }
    if (reader_left(&r) != 0)
        return decode_fail(err, PROTO_ERR_TRAILING, "(top)");
    if (!(seen & KEY_V))
        return decode_fail(err, PROTO_ERR_MISSING, "v");
    if (!(seen & KEY_W))
        return decode_fail(err, PROTO_ERR_MISSING, "w");
    /* A sender writes a version it speaks: a range that leaves out its own
     * "v" is a broken datagram. (Measured against our PROTO_VERSION instead,
     * the check would refuse every peer of an older range the day we add a
     * version while still reading theirs.) */
    if (version < msg->vmin || version > msg->vmax)
        return decode_fail(err, PROTO_ERR_RANGE, "w");
    msg->version = (uint8_t)version;
    if (!(seen & KEY_T))
        return decode_fail(err, PROTO_ERR_MISSING, "t");
    if (!(seen & KEY_F))
        return decode_fail(err, PROTO_ERR_MISSING, "f");
    return proto_msg_check(msg, err);
}
