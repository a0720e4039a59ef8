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

/* The highest version this build writes, and the range it reads and writes.
 * Every datagram carries its sender's range ("w"), so a later version can
 * roll out without a split: a node writes the highest version both ends
 * speak (proto_msg.version). Version 3 added compact count updates ("c"),
 * which a version-2 node would skip, so they are a new version, not an
 * optional key; version 4, the bare ACK (no "e"), which a version-3 node
 * drops as MISSING. */
#define PROTO_VERSION     4
#define PROTO_VERSION_MIN 2
#define PROTO_VERSION_MAX 4
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
/* Counter slots one member carries: one per volume its name has counted on
 * (a lost volume, a snapshot restored, a duplicate name each add one). */
#define PROTO_MAX_SLOTS 16
/* Counts, incarnations and heartbeats above this are refused as invalid: it
 * is what a JSON client holds exactly (2^53), and a sum of 16 slots of such
 * values still fits 64 bits. */
#define PROTO_VALUE_MAX (1ull << 53)
/* SYNC: the slot table is split into this many buckets by name; a SYNC
 * carries one hash per bucket and is answered with the differing buckets. */
#define PROTO_BUCKETS 64
/* Compact count updates one datagram may carry (version 3, key "c"); at
 * 10-14 bytes each, about 100 fill a datagram. */
#define PROTO_MAX_COUNTS 128

enum proto_type {
    PROTO_HEARTBEAT = 1, /* sender's entry + piggybacked entries */
    PROTO_DIGEST = 2,    /* push-pull: "here is what I know"; reply with newer entries */
    PROTO_DELTA = 3,     /* entries newer than a received digest (may span datagrams) */
    PROTO_LEAVE = 4,     /* sender is leaving for good (SIGTERM) */
    PROTO_PING = 5,      /* tallyctl ping / probe: answer with ACK */
    PROTO_ACK = 6,       /* answer to PING: responder's own entry, same nonce */
    PROTO_SYNC = 7,      /* bucket hashes of the slot table: answer with DELTA of what differs */
    PROTO_PING_REQ = 8,  /* SWIM indirect probe: PING "a" for me, ACK me with my nonce */
    PROTO_NACK = 9,      /* Lifeguard: the PING a PING_REQ asked for went unanswered */
};

/* Liveness as the sender sees it. */
enum proto_state {
    PROTO_STATE_ALIVE = 0,
    PROTO_STATE_SUSPECT = 1,
    PROTO_STATE_DEAD = 2,
    PROTO_STATE_LEFT = 3,
};

/* One G-Counter slot: the visits counted on one volume (vol: its random id,
 * never 0) under the member's name. */
struct proto_slot {
    uint64_t vol;
    uint64_t count;
};

/* A compact count update (version 3): the slot's id, proto_slot_id(name,
 * vol), and its count. The receiver finds the slot by its id; one it does
 * not know yet waits for the member's entry (or SYNC). */
struct proto_count {
    uint64_t sid;
    uint64_t count;
};

struct proto_entry {
    char name[PROTO_NAME_MAX + 1]; /* pod name, NUL-terminated, non-empty */
    char addr[PROTO_ADDR_MAX + 1]; /* "ip:port" of its gossip socket, may be empty */
    uint64_t incarnation;          /* owner's, raised at each start and to refute */
    uint64_t heartbeat;            /* bumped by the owner each round */
    uint64_t vol;                  /* the volume the owner counts on now; 0 unknown */
    uint8_t state;                 /* enum proto_state */
    uint8_t n_slots;
    struct proto_slot slots[PROTO_MAX_SLOTS]; /* distinct vols; merge by max */
    /* SUSPECT only: the member whose failed probe started this claim (SWIM's
     * "from" of a suspect message), so receivers count independent
     * accusers, not relays; "" when not given. */
    char accuser[PROTO_NAME_MAX + 1];
};

struct proto_digest_item {
    char name[PROTO_NAME_MAX + 1];
    uint64_t incarnation;
    uint64_t heartbeat;
    uint64_t count; /* sum of the member's slots */
};

struct proto_msg {
    /* The version it is written in ("v"): encode: 0 means PROTO_VERSION, or
     * any version in our range (the highest the peer speaks); decode: the
     * datagram's. */
    uint8_t version;
    uint8_t type;                  /* enum proto_type */
    char from[PROTO_NAME_MAX + 1]; /* sender's pod name */
    uint8_t vmin, vmax;            /* "w": versions the sender speaks (encode: ours) */
    uint64_t nonce;                /* PING/ACK correlation; DIGEST and SYNC request id */
    uint8_t reply;                 /* DIGEST: 1 if this digest answers one (do not answer again) */
    char target[PROTO_ADDR_MAX + 1]; /* "a": PING_REQ's member to probe, "ip:port"; else "" */
    /* "p": a DELTA answering a SYNC is datagram part of parts (1-based);
     * whole: those parts hold every entry of every bucket that differed.
     * parts 0: not a SYNC answer (and part, whole 0 too). */
    uint16_t part, parts;
    uint8_t whole;
    uint32_t n_buckets; /* SYNC: PROTO_BUCKETS, else 0 */
    uint32_t buckets[PROTO_BUCKETS];
    uint32_t n_entries;
    struct proto_entry entries[PROTO_MAX_ENTRIES];
    uint32_t n_digest;
    struct proto_digest_item digest[PROTO_MAX_DIGEST];
    /* "c" (version 3, HEARTBEAT and DELTA only): compact count updates,
     * distinct sids. */
    uint32_t n_counts;
    struct proto_count counts[PROTO_MAX_COUNTS];
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
 * more than a bounded amount, never crashes on any input. Buckets, entries,
 * digest items and counts past n_buckets, n_entries, n_digest and n_counts
 * are left as they were; everything else is as if *msg had been zeroed. */
int proto_msg_decode(const uint8_t *buf, size_t len, struct proto_msg *msg,
                     struct proto_error *err);

/* Bytes one entry takes on the wire, so a sender can pack a datagram greedily. */
size_t proto_entry_size(const struct proto_entry *e);
/* Bytes a message takes with no entries or digest items (header + array headers). */
size_t proto_msg_overhead(const struct proto_msg *msg);

/* Bytes one digest item takes on the wire (same use as proto_entry_size). */
size_t proto_digest_item_size(const struct proto_digest_item *d);
/* Bytes one compact count update takes in "c" (same use). */
size_t proto_count_size(const struct proto_count *c);

/* Deepest container nesting the decoder walks (the top-level map counts as 1);
 * deeper values, even under unknown keys, are rejected with PROTO_ERR_RANGE. */
#define PROTO_MAX_DEPTH 8

/* Checks the rules a decoded message obeys (type, names, states, counts, the
 * HEARTBEAT/ACK sender entry). proto_msg_encode() runs it first so it never
 * produces a datagram the decoder would refuse; proto_msg_decode() runs it
 * last. Returns PROTO_OK or a negative enum proto_err and fills err if given. */
int proto_msg_check(const struct proto_msg *msg, struct proto_error *err);

/* Bucket of a name in a SYNC (0..PROTO_BUCKETS-1), and one slot's share of
 * its bucket's hash: a bucket hashes to the XOR of its slots' shares, so a
 * table keeps its hashes up to date with one XOR per change. */
uint32_t proto_bucket_of(const char *name);
uint32_t proto_slot_share(const char *name, uint64_t vol, uint64_t count);
/* The 64-bit id of slot (name, vol) in a compact count update: every node
 * computes the same one, and two slots share it with probability 2^-64. */
uint64_t proto_slot_id(const char *name, uint64_t vol);

/* The visits an entry carries: the sum of its slots (saturating). */
uint64_t proto_entry_visits(const struct proto_entry *e);

const char *proto_err_str(int code);
const char *proto_type_str(int type);
const char *proto_state_str(int state);

#endif
