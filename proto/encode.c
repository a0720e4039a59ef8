/*
 * encode.c: writes one gossip datagram with msgpack-c's packer.
 *
 * The packer writes through a callback into the caller's fixed buffer, so
 * encoding never allocates and fails cleanly with PROTO_ERR_NOSPACE when the
 * buffer (or PROTO_MAX_DATAGRAM) is reached. Keys are written in one fixed
 * order and msgpack-c always picks the smallest integer and string encoding,
 * so the same message always gives the same bytes (pinned by golden tests).
 * The size functions below mirror those encodings exactly; tests compare them
 * with real output.
 */
#include "proto/proto.h"

#include <msgpack.h>
#include <string.h>

/* The caller's buffer, seen by msgpack-c as an output stream. */
struct encode_sink {
    uint8_t *buf;
    size_t cap;
    size_t len;
};

static int encode_sink_write(void *data, const char *buf, size_t len)
{
    struct encode_sink *s = data;
    if (len > s->cap - s->len)
        return -1;
    memcpy(s->buf + s->len, buf, len);
    s->len += len;
    return 0;
}

/* ---- sizes: mirror msgpack-c's choice of the smallest encoding ---- */

static size_t encode_uint_size(uint64_t v)
{
    if (v < 128)
        return 1;
    if (v <= UINT8_MAX)
        return 2;
    if (v <= UINT16_MAX)
        return 3;
    if (v <= UINT32_MAX)
        return 5;
    return 9;
}

static size_t encode_str_size(size_t n)
{
    if (n < 32)
        return 1 + n;
    if (n <= UINT8_MAX)
        return 2 + n;
    if (n <= UINT16_MAX)
        return 3 + n;
    return 5 + n;
}

/* Array headers in the overhead are counted at this size whatever the count:
 * an array16 header holds any count up to PROTO_MAX_DIGEST. */
#define ENCODE_ARRAY_HDR_MAX 3

static size_t encode_array_hdr_size(size_t n)
{
    return n < 16 ? 1 : 3;
}

size_t proto_entry_size(const struct proto_entry *e)
{
    size_t n = 1 + encode_str_size(strnlen(e->name, sizeof(e->name))) +
               encode_uint_size(e->incarnation) + encode_uint_size(e->heartbeat) +
               encode_uint_size(e->state) + encode_str_size(strnlen(e->addr, sizeof(e->addr))) +
               encode_uint_size(e->vol) + encode_array_hdr_size(2u * e->n_slots);
    for (unsigned i = 0; i < e->n_slots && i < PROTO_MAX_SLOTS; i++)
        n += encode_uint_size(e->slots[i].vol) + encode_uint_size(e->slots[i].count);
    if (e->accuser[0])
        n += encode_str_size(strnlen(e->accuser, sizeof(e->accuser)));
    return n;
}

size_t proto_digest_item_size(const struct proto_digest_item *d)
{
    return 1 + encode_str_size(strnlen(d->name, sizeof(d->name))) +
           encode_uint_size(d->incarnation) + encode_uint_size(d->heartbeat) +
           encode_uint_size(d->count);
}

size_t proto_count_size(const struct proto_count *c)
{
    return encode_uint_size(c->sid) + encode_uint_size(c->count);
}

/* The version a message is written in. */
static uint64_t encode_version(const struct proto_msg *msg)
{
    return msg->version ? msg->version : PROTO_VERSION;
}

size_t proto_msg_overhead(const struct proto_msg *msg)
{
    size_t n = 1;                                   /* fixmap header, at most 12 keys */
    n += 2 + encode_uint_size(encode_version(msg)); /* "v" */
    n += 2 + 1 + encode_uint_size(PROTO_VERSION_MIN) + encode_uint_size(PROTO_VERSION_MAX);
    n += 2 + encode_uint_size(msg->type);                            /* "t" */
    n += 2 + encode_str_size(strnlen(msg->from, sizeof(msg->from))); /* "f" */
    if (msg->nonce != 0)
        n += 2 + encode_uint_size(msg->nonce); /* "n" */
    if (msg->reply != 0)
        n += 2 + 1; /* "r": true */
    if (msg->target[0])
        n += 2 + encode_str_size(strnlen(msg->target, sizeof(msg->target))); /* "a" */
    if (msg->parts != 0)
        n += 2 + 1 + encode_uint_size(msg->part) + encode_uint_size(msg->parts) + 1; /* "p" */
    if (msg->n_buckets != 0) {
        n += 2 + encode_array_hdr_size(msg->n_buckets); /* "b" */
        for (uint32_t i = 0; i < msg->n_buckets && i < PROTO_BUCKETS; i++)
            n += encode_uint_size(msg->buckets[i]);
    }
    /* "e", "c" and "d" are counted whether or not this message will carry
     * them, so a sender may add entries, counts and digest items to the
     * overhead freely. */
    n += 2 + ENCODE_ARRAY_HDR_MAX;
    n += 2 + ENCODE_ARRAY_HDR_MAX;
    n += 2 + ENCODE_ARRAY_HDR_MAX;
    return n;
}

/* ---- encoding ---- */

static int encode_key(msgpack_packer *pk, const char *key)
{
    return msgpack_pack_str_with_body(pk, key, 1);
}

static int encode_str(msgpack_packer *pk, const char *s, size_t cap)
{
    return msgpack_pack_str_with_body(pk, s, strnlen(s, cap));
}

static int encode_entry(msgpack_packer *pk, const struct proto_entry *e)
{
    if (msgpack_pack_array(pk, e->accuser[0] ? 8 : 7) || encode_str(pk, e->name, sizeof(e->name)) ||
        msgpack_pack_uint64(pk, e->incarnation) || msgpack_pack_uint64(pk, e->heartbeat) ||
        msgpack_pack_uint64(pk, e->state) || encode_str(pk, e->addr, sizeof(e->addr)) ||
        msgpack_pack_uint64(pk, e->vol) || msgpack_pack_array(pk, 2u * e->n_slots))
        return -1;
    for (unsigned i = 0; i < e->n_slots; i++)
        if (msgpack_pack_uint64(pk, e->slots[i].vol) || msgpack_pack_uint64(pk, e->slots[i].count))
            return -1;
    if (e->accuser[0] && encode_str(pk, e->accuser, sizeof(e->accuser)))
        return -1;
    return 0;
}

static int encode_digest_item(msgpack_packer *pk, const struct proto_digest_item *d)
{
    if (msgpack_pack_array(pk, 4) || encode_str(pk, d->name, sizeof(d->name)) ||
        msgpack_pack_uint64(pk, d->incarnation) || msgpack_pack_uint64(pk, d->heartbeat) ||
        msgpack_pack_uint64(pk, d->count))
        return -1;
    return 0;
}

/* Writes the whole map; any non-zero return means the sink is full. */
static int encode_msg(msgpack_packer *pk, const struct proto_msg *msg)
{
    size_t keys = 4 + (msg->nonce != 0) + (msg->reply != 0) + (msg->target[0] != 0) +
                  (msg->parts != 0) + (msg->n_buckets != 0) + (msg->n_entries != 0) +
                  (msg->n_digest != 0) + (msg->n_counts != 0);
    if (msgpack_pack_map(pk, keys) || encode_key(pk, "v") ||
        msgpack_pack_uint64(pk, encode_version(msg)) || encode_key(pk, "w") ||
        msgpack_pack_array(pk, 2) || msgpack_pack_uint64(pk, PROTO_VERSION_MIN) ||
        msgpack_pack_uint64(pk, PROTO_VERSION_MAX) || encode_key(pk, "t") ||
        msgpack_pack_uint64(pk, msg->type) || encode_key(pk, "f") ||
        encode_str(pk, msg->from, sizeof(msg->from)))
        return -1;
    if (msg->nonce != 0 && (encode_key(pk, "n") || msgpack_pack_uint64(pk, msg->nonce)))
        return -1;
    if (msg->reply != 0 && (encode_key(pk, "r") || msgpack_pack_true(pk)))
        return -1;
    if (msg->target[0] && (encode_key(pk, "a") || encode_str(pk, msg->target, sizeof(msg->target))))
        return -1;
    if (msg->parts != 0 &&
        (encode_key(pk, "p") || msgpack_pack_array(pk, 3) || msgpack_pack_uint64(pk, msg->part) ||
         msgpack_pack_uint64(pk, msg->parts) || msgpack_pack_uint64(pk, msg->whole)))
        return -1;
    if (msg->n_buckets != 0) {
        if (encode_key(pk, "b") || msgpack_pack_array(pk, msg->n_buckets))
            return -1;
        for (uint32_t i = 0; i < msg->n_buckets; i++)
            if (msgpack_pack_uint64(pk, msg->buckets[i]))
                return -1;
    }
    if (msg->n_entries != 0) {
        if (encode_key(pk, "e") || msgpack_pack_array(pk, msg->n_entries))
            return -1;
        for (uint32_t i = 0; i < msg->n_entries; i++)
            if (encode_entry(pk, &msg->entries[i]))
                return -1;
    }
    if (msg->n_counts != 0) {
        if (encode_key(pk, "c") || msgpack_pack_array(pk, 2u * msg->n_counts))
            return -1;
        for (uint32_t i = 0; i < msg->n_counts; i++)
            if (msgpack_pack_uint64(pk, msg->counts[i].sid) ||
                msgpack_pack_uint64(pk, msg->counts[i].count))
                return -1;
    }
    if (msg->n_digest != 0) {
        if (encode_key(pk, "d") || msgpack_pack_array(pk, msg->n_digest))
            return -1;
        for (uint32_t i = 0; i < msg->n_digest; i++)
            if (encode_digest_item(pk, &msg->digest[i]))
                return -1;
    }
    return 0;
}

int proto_msg_encode(const struct proto_msg *msg, uint8_t *buf, size_t cap)
{
    int rc = proto_msg_check(msg, NULL);
    if (rc != PROTO_OK)
        return rc;
    /* Never write a datagram a peer would refuse as too big. */
    struct encode_sink sink = {
        .buf = buf, .cap = cap < PROTO_MAX_DATAGRAM ? cap : PROTO_MAX_DATAGRAM, .len = 0};
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sink, encode_sink_write);
    if (encode_msg(&pk, msg) != 0)
        return PROTO_ERR_NOSPACE;
    return (int)sink.len;
}
