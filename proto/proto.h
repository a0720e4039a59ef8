/*
 * proto.h: tally's gossip wire format. Pure msgpack encode/decode of one
 * datagram; no I/O, no clock, no allocation visible to the caller.
 *
 * Every datagram is one msgpack map carrying a protocol version and a message
 * type; the layout, limits and version rule are specified in proto/WIRE.md and
 * pinned by golden-bytes tests. The decoder accepts unknown map keys (forward
 * compatibility) and rejects everything else that is not exactly well formed:
 * wrong types, oversize strings or arrays, truncation, trailing bytes. Its error
 * names the field so a counted drop can be explained.
 */
#ifndef TALLY_PROTO_H
#define TALLY_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define PROTO_VERSION 1
/* One datagram stays below a 1500-byte Ethernet MTU after IP/UDP headers and
 * the optional AEAD envelope, so it is never fragmented. */
#define PROTO_MAX_DATAGRAM 1400
/* Kubernetes pod names used as hostnames are DNS labels: at most 63 bytes. */
#define PROTO_NAME_MAX 63
/* "[v6 address]:port" is at most 47 bytes; room to spare for a DNS name. */
#define PROTO_ADDR_MAX 63
/* Upper bounds on what one decoded datagram can hold; a 1400-byte datagram
 * cannot carry more than this many of even the smallest entries. */
#define PROTO_MAX_ENTRIES 64
#define PROTO_MAX_DIGEST  96

enum proto_type {
    PROTO_HEARTBEAT = 1, /* sender's entry + piggybacked entries */
    PROTO_DIGEST = 2,    /* push-pull: "here is what I know"; reply with newer entries */
    PROTO_DELTA = 3,     /* entries newer than a received digest (may span datagrams) */
    PROTO_LEAVE = 4,     /* sender is leaving for good (SIGTERM) */
    PROTO_PING = 5,      /* tallyctl ping / probe: answer with ACK */
    PROTO_ACK = 6,       /* answer to PING: responder's own entry, same nonce */
};

/* Liveness as the sender sees it. */
enum proto_state {
    PROTO_STATE_ALIVE = 0,
    PROTO_STATE_SUSPECT = 1,
    PROTO_STATE_DEAD = 2,
    PROTO_STATE_LEFT = 3,
};

struct proto_entry {
    char name[PROTO_NAME_MAX + 1]; /* pod name, NUL-terminated, non-empty */
    char addr[PROTO_ADDR_MAX + 1]; /* "ip:port" of its gossip socket, may be empty */
    uint64_t generation;           /* set at each process start (ms since epoch) */
    uint64_t heartbeat;            /* bumped by the owner each round */
    uint64_t count;                /* owner's visits; merges by max */
    uint8_t state;                 /* enum proto_state */
};

struct proto_digest_item {
    char name[PROTO_NAME_MAX + 1];
    uint64_t generation;
    uint64_t heartbeat;
    uint64_t count;
};

struct proto_msg {
    uint8_t type;                  /* enum proto_type */
    char from[PROTO_NAME_MAX + 1]; /* sender's pod name */
    uint64_t nonce;                /* PING/ACK correlation; DIGEST request id */
    uint8_t reply;                 /* DIGEST: 1 if this digest answers one (do not answer again) */
    uint32_t n_entries;
    struct proto_entry entries[PROTO_MAX_ENTRIES];
    uint32_t n_digest;
    struct proto_digest_item digest[PROTO_MAX_DIGEST];
};

/* Decode errors, negative; proto_err_field() names the field that failed. */
enum proto_err {
    PROTO_OK = 0,
    PROTO_ERR_TRUNCATED = -1, /* input ends inside an object */
    PROTO_ERR_TRAILING = -2,  /* bytes after the top-level map */
    PROTO_ERR_TYPE = -3,      /* a field has the wrong msgpack type */
    PROTO_ERR_RANGE = -4,     /* a value or length is out of its limit */
    PROTO_ERR_MISSING = -5,   /* a required field is absent */
    PROTO_ERR_VERSION = -6,   /* protocol version not understood */
    PROTO_ERR_TOO_BIG = -7,   /* datagram larger than PROTO_MAX_DATAGRAM */
    PROTO_ERR_NOSPACE = -8,   /* encode: output buffer too small */
};

/* Result of a decode: which field failed, for logs and drop counters. */
struct proto_error {
    int code;       /* enum proto_err */
    char field[32]; /* e.g. "e[3].count", "v", "(top)" */
};

/* Encode msg into buf (at most cap bytes). Returns bytes written or a negative
 * enum proto_err (PROTO_ERR_NOSPACE when it does not fit). */
int proto_msg_encode(const struct proto_msg *msg, uint8_t *buf, size_t cap);

/* Decode one datagram into *msg. Returns PROTO_OK or a negative enum proto_err
 * and, when err is not NULL, fills it. Never reads past len, never allocates
 * more than a bounded amount, never crashes on any input. */
int proto_msg_decode(const uint8_t *buf, size_t len, struct proto_msg *msg,
                     struct proto_error *err);

/* Bytes one entry takes on the wire, so a sender can pack a datagram greedily. */
size_t proto_entry_size(const struct proto_entry *e);
/* Bytes a message takes with no entries or digest items (header + array headers). */
size_t proto_msg_overhead(const struct proto_msg *msg);

/* Bytes one digest item takes on the wire (same use as proto_entry_size). */
size_t proto_digest_item_size(const struct proto_digest_item *d);

/* Deepest container nesting the decoder walks (the top-level map counts as 1);
 * deeper values, even under unknown keys, are rejected with PROTO_ERR_RANGE. */
#define PROTO_MAX_DEPTH 8

/* Checks the rules a decoded message obeys (type, names, states, counts, the
 * HEARTBEAT/ACK sender entry). proto_msg_encode() runs it first so it never
 * produces a datagram the decoder would refuse; proto_msg_decode() runs it
 * last. Returns PROTO_OK or a negative enum proto_err and fills err if given. */
int proto_msg_check(const struct proto_msg *msg, struct proto_error *err);

const char *proto_err_str(int code);
const char *proto_type_str(int type);
const char *proto_state_str(int state);

#endif
