/*
 * gossip.h: membership and the cluster's G-Counter, as a state machine.
 *
 * The core is driven by three inputs, each given the current time: a timer
 * tick (gossip_tick), a received datagram (gossip_receive) and a greeting of an
 * address found by discovery (gossip_greet). It hands datagrams out through
 * the send callback of struct gossip_io and never touches a socket, a clock or
 * DNS itself, so the simulator can run a thousand nodes in one process.
 *
 * Model (docs/DESIGN.md, "The counter model"): the G-Counter's key is a slot,
 * (pod name, volume id). A pod counts only on the slot of the volume it runs
 * on; a new or wiped volume is a new slot that starts at 0, and every slot
 * ever seen stays in the total, merged by max. Nothing is ever adopted from a
 * peer into our own slot. Members (liveness) are keyed by pod name and ordered
 * by (incarnation, heartbeat); the incarnation is kept on the volume by the
 * node and raised at each start, and the core raises it again to refute any
 * claim about itself (SWIM). Liveness comes from probing (SWIM with
 * Lifeguard), not from heartbeats. Only the owner's own datagrams can say it
 * left.
 */
#ifndef TALLY_GOSSIP_H
#define TALLY_GOSSIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"

enum gossip_state {
    GOSSIP_ALIVE = PROTO_STATE_ALIVE,
    GOSSIP_SUSPECT = PROTO_STATE_SUSPECT,
    GOSSIP_DEAD = PROTO_STATE_DEAD,
    GOSSIP_LEFT = PROTO_STATE_LEFT,
};

struct gossip_slot {
    uint64_t vol;   /* the volume's random id, never 0 */
    uint64_t count; /* visits counted on that volume under the member's name */
};

/* One row of the member table as the node sees it. */
struct gossip_member {
    char name[PROTO_NAME_MAX + 1];
    char addr[PROTO_ADDR_MAX + 1];
    uint64_t incarnation;
    uint64_t heartbeat;
    uint64_t vol;   /* the volume its owner counts on now, 0 if not known */
    uint64_t count; /* sum of its slots (saturating) */
    enum gossip_state state;
    uint64_t last_seen_ms; /* local time its (incarnation, heartbeat) last advanced */
    bool self;
    uint8_t n_slots;
    struct gossip_slot slots[PROTO_MAX_SLOTS]; /* sorted by vol */
};

/* Reasons a received datagram is dropped; counted, never fatal. */
enum gossip_drop {
    GOSSIP_DROP_DECODE = 0, /* malformed: see proto_error */
    GOSSIP_DROP_VERSION,    /* protocol version we do not speak */
    GOSSIP_DROP_SELF,       /* claims to be from our own name */
    GOSSIP_DROP_FORGED,     /* a LEAVE not from its owner, an incarnation jump by a relay */
    GOSSIP_DROP_AUTH,       /* failed authentication (counted by the caller that unseals) */
    GOSSIP_DROP_SOURCE,     /* from an address discovery does not list (caller) */
    GOSSIP_DROP_REPLAY,     /* a sealed datagram seen before or too old (caller) */
    GOSSIP_DROP_MEMBERS,    /* a new member past max_members */
    GOSSIP_DROP_SLOTS,      /* a new slot past PROTO_MAX_SLOTS for one name */
    GOSSIP_DROP__COUNT,
};

/* How a push-pull (full state over TCP) ended, or why a part of one was
 * dropped: counted in gossip_stats.pushpull, never fatal. The core decides
 * OK, DECODE, SEQUENCE, SELF and TOO_BIG; the node the rest. */
enum gossip_pushpull_result {
    GOSSIP_PP_OK = 0,   /* a whole table merged (as asker: ready) */
    GOSSIP_PP_SERVED,   /* a peer's push merged and our table sent back */
    GOSSIP_PP_DECODE,   /* a frame that is not a well-formed DELTA of ours */
    GOSSIP_PP_SEQUENCE, /* wrong request id, part out of order, sender changed */
    GOSSIP_PP_SELF,     /* the other end speaks with our own name */
    GOSSIP_PP_TOO_BIG,  /* a frame over the cap, or more parts than max_members allows */
    GOSSIP_PP_AUTH,     /* a frame that does not open with our keys (node) */
    GOSSIP_PP_SOURCE,   /* no key, and a source the UDP side would not hear (node) */
    GOSSIP_PP_TIMEOUT,  /* the connection's deadline passed (node) */
    GOSSIP_PP_BUSY,     /* past the concurrent connection cap: closed at once (node) */
    GOSSIP_PP_FAILED,   /* connect failed, or the peer closed early (node) */
    GOSSIP_PP__COUNT,
};

struct gossip_stats {
    uint64_t datagrams_in, datagrams_out;
    uint64_t bytes_in, bytes_out;
    uint64_t dropped[GOSSIP_DROP__COUNT];
    uint64_t suspicions;  /* times any member went alive -> suspect */
    uint64_t refutations; /* times we raised our incarnation to refute a claim */
    uint64_t duplicates;  /* times another live process with our name was seen */
    uint64_t slot_moves;  /* times our own slot was found behind a peer's */
    uint64_t syncs;       /* SYNC answers that left us holding a peer's whole table */
    /* Full-state exchanges over TCP (push-pull), by result; their bytes
     * (frames before sealing) are not in bytes_in/out, which count datagrams. */
    uint64_t pushpull[GOSSIP_PP__COUNT];
    uint64_t pushpull_bytes_in, pushpull_bytes_out;
};

struct gossip_io {
    void *ctx;
    /* Send one datagram (at most PROTO_MAX_DATAGRAM bytes) to "ip:port". */
    void (*send)(void *ctx, const char *addr, const uint8_t *buf, size_t len);
    /* Optional: a peer holds more for our own slot than we ever counted (a
     * volume restored from an old snapshot, or a copy of it on another pod).
     * The node must count on a new slot from now on: gossip_slot_move(). */
    void (*slot_behind)(void *ctx, uint64_t vol, uint64_t ours, uint64_t theirs);
    /* Optional: another live process speaks for our name from another volume
     * (vol, at addr). Both keep counting, each on its own slot. */
    void (*duplicate)(void *ctx, uint64_t vol, const char *addr);
    /* Optional: our view of member name went from one state to another
     * (the simulator counts live members marked dead; a node may log). */
    void (*state_changed)(void *ctx, const char *name, enum gossip_state from,
                          enum gossip_state to);
    /* Optional: exchange full state with the member at "ip:port" (push-pull
     * over TCP): the node connects, sends gossip_full_write()'s frames with
     * a fresh request id and feeds the answer's frames to gossip_full_read()
     * as the asker. Asked at join (the first live peer) and every
     * gossip_pushpull_ms(); without it the core repairs by SYNC alone. */
    void (*pushpull)(void *ctx, const char *addr);
};

struct gossip_config {
    const char *name;        /* our pod name */
    const char *addr;        /* our gossip "ip:port" as peers should reach us */
    uint64_t incarnation;    /* from the volume, raised at this start (>= 1) */
    uint64_t vol;            /* the volume we count on (never 0) */
    uint64_t count;          /* our slot's durable count, as loaded */
    uint32_t interval_ms;    /* round length, default 1000 */
    uint32_t fanout;         /* peers per round, default 3 */
    uint32_t pushpull_every; /* rounds between SYNC repairs, default 5 */
    uint32_t recovery_ms;    /* bounded wait for a peer's whole table; 0: no wait */
    uint32_t max_members;    /* member rows kept at most, default GOSSIP_MAX_MEMBERS */
    uint64_t seed;           /* PRNG seed for peer choice */
};

/* Default cap on member rows: ~0.5 KB each, so 10,000 stay ~5 MB. */
#define GOSSIP_MAX_MEMBERS 10000

struct gossip;

/* Returns NULL on allocation failure. now_ms is the starting time. */
struct gossip *gossip_new(const struct gossip_config *cfg, const struct gossip_io *io,
                          uint64_t now_ms);
void gossip_free(struct gossip *g);

/* Does what is due by now_ms: a probe's next phase or verdict (SWIM's ack
 * timeout is half a round), a NACK for a member we probe for another, the
 * end of a suspicion, a gossip step (news goes out every fifth of a round),
 * and every interval_ms a round: bump heartbeat, heartbeats to fanout peers,
 * repair with one peer, a new probe. The first call is a round. Call it at
 * gossip_next_ms() (and after gossip_receive(), which may bring that
 * closer); calling it only every interval_ms still works, with every probe
 * phase then taking a round. */
void gossip_tick(struct gossip *g, uint64_t now_ms);
/* When gossip_tick() next has something to do (never later than the next
 * round), on the clock of the now_ms given to the core. */
uint64_t gossip_next_ms(const struct gossip *g);
/* A datagram arrived from "ip:port". Malformed input is dropped and counted. */
void gossip_receive(struct gossip *g, uint64_t now_ms, const char *from, const uint8_t *buf,
                    size_t len);
/* A datagram from an address discovery does not list (no cluster key): a
 * PING is answered, anything else is dropped as GOSSIP_DROP_SOURCE unread. */
void gossip_receive_unlisted(struct gossip *g, uint64_t now_ms, const char *from,
                             const uint8_t *buf, size_t len);
/* Discovery found "ip:port": if no known member has that address, say hello
 * (heartbeat + digest) so it learns of us and we of it. */
void gossip_greet(struct gossip *g, uint64_t now_ms, const char *addr);
/* Our slot's durable count grew (the node calls this once per durable
 * write). Never lowers it; values past PROTO_VALUE_MAX saturate. */
void gossip_count_set(struct gossip *g, uint64_t count);
/* Count on a new volume slot from now on (starting at 0); the old one keeps
 * its value in every view. vol must be new and non-zero. Returns 0, or
 * -ENOSPC when our name already has PROTO_MAX_SLOTS slots. */
int gossip_slot_move(struct gossip *g, uint64_t vol);
/* Announce that we leave (SIGTERM): peers mark us LEFT at once. */
void gossip_leave(struct gossip *g, uint64_t now_ms);

/* At start, before any datagram: what the volume's copy of the table held.
 * A member is added (suspect until heard, unless it had left) and its slot
 * max-merged. Returns 0 or -ENOSPC (member cap) / -EINVAL. */
int gossip_member_load(struct gossip *g, uint64_t now_ms, const char *name, const char *addr,
                       uint64_t incarnation, uint64_t heartbeat, enum gossip_state state);
int gossip_slot_load(struct gossip *g, uint64_t now_ms, const char *name, uint64_t vol,
                     uint64_t count);

/* Our name's visits: the sum of its slots (ours and any earlier volume's). */
uint64_t gossip_self_count(const struct gossip *g);
/* Our current incarnation (it rises when we refute a claim about us). */
uint64_t gossip_incarnation(const struct gossip *g);
/* True once a peer's whole table has been merged (a SYNC answered in full),
 * or recovery_ms has passed since start without one. */
bool gossip_synced(const struct gossip *g, uint64_t now_ms);
/* Grows whenever a slot or a member's state changes: the node saves the
 * table when it moved. */
uint64_t gossip_table_version(const struct gossip *g);

size_t gossip_member_count(const struct gossip *g);
/* i in [0, gossip_member_count()); the order is stable between calls that do
 * not add members. */
const struct gossip_member *gossip_member_at(const struct gossip *g, size_t i);
/* Sum of every slot ever seen, whatever its member's state (saturating). */
uint64_t gossip_total(const struct gossip *g);
const struct gossip_stats *gossip_stats_get(const struct gossip *g);
/* Count one drop decided outside the core (e.g. authentication). */
void gossip_drop_count(struct gossip *g, enum gossip_drop why);

/* Some member other than us has this gossip "ip:port" (any state): the node
 * hears it even if discovery does not list it, since only heard sources can
 * have introduced it. O(1). */
bool gossip_addr_known(const struct gossip *g, const char *addr);
/* The member named name, or NULL. O(1). */
const struct gossip_member *gossip_member_find(const struct gossip *g, const char *name);
/* Current suspicion timeouts (SWIM with Lifeguard, gossip/detect.c; they
 * grow with log10 of the table size): a member our probes could not reach
 * is SUSPECT, then DEAD after gossip_suspect_ms() once enough independent
 * accusers confirm it, gossip_dead_ms() at most with none. */
uint64_t gossip_suspect_ms(const struct gossip *g);
uint64_t gossip_dead_ms(const struct gossip *g);

/* ---- full state (push-pull, gossip/pushpull.c) ----------------------------
 * The whole member table as a sequence of DELTA messages (proto/WIRE.md,
 * "Full state over TCP"): every row with all its slots, numbered part 1..parts
 * with the exchange's request id, each at most PROTO_MAX_DATAGRAM bytes. The
 * asker pushes its table, the other end merges it and answers with its own
 * under the same request id; both merge by the rules datagrams follow. Only
 * the asker's merge of a whole answer makes it ready (a pushed table could be
 * a replay of an earlier life; an answer carries the asker's fresh id). */

/* Base period of the periodic push-pull, scaled by gossip_pushpull_ms(). */
#define GOSSIP_PUSHPULL_BASE_MS 30000

/* Calls emit(arg, frame, len) for each message of our full state in order;
 * stops at emit's first negative return and returns it. Returns the number
 * of parts (>= 1: an empty table still sends our own row), or -ENOMEM. */
int gossip_full_write(struct gossip *g, uint64_t request_id,
                      int (*emit)(void *arg, const uint8_t *buf, size_t len), void *arg);

/* One direction of one exchange, as its reader keeps it. */
struct gossip_full_rx {
    uint64_t request_id; /* asker: the id we sent; other end: taken from part 1 */
    bool asker;
    uint16_t next;  /* the part expected next (1-based), 0 before the first */
    uint16_t parts; /* as part 1 announced */
    bool learned;   /* a merged frame changed our table */
    char from[PROTO_NAME_MAX + 1];
    /* The connection's other end: "ip:port" (its source port when it
     * connected to us). Its entry speaks as the owner only from that ip. */
    char peer[PROTO_ADDR_MAX + 1];
};

void gossip_full_rx_init(struct gossip_full_rx *rx, bool asker, uint64_t request_id,
                         const char *peer);
/* Merges one frame of the other end's full state. Returns 0 (more to come),
 * 1 (the last part: the table is whole; as asker we are now synced), or a
 * negative enum gossip_pushpull_result (already counted): the node closes the
 * connection. */
int gossip_full_read(struct gossip *g, uint64_t now_ms, struct gossip_full_rx *rx,
                     const uint8_t *buf, size_t len);
/* Parts a full state may take at most with this member cap: the reader's
 * bound, and with PROTO_MAX_DATAGRAM the node's byte bound per exchange. */
uint32_t gossip_full_parts_max(uint32_t max_members);
/* The period of the push-pull at this table size: 30 s, times
 * ceil(log2 N - log2 32) + 1 above 32 members (memberlist's pushPullScale). */
uint64_t gossip_pushpull_ms(const struct gossip *g);
/* Count a push-pull result decided outside the core (node). */
void gossip_pushpull_count(struct gossip *g, enum gossip_pushpull_result r);

const char *gossip_state_str(enum gossip_state s);
const char *gossip_drop_str(enum gossip_drop why);
const char *gossip_pushpull_str(enum gossip_pushpull_result r);

#endif
