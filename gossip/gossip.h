/*
 * gossip.h: membership and the cluster's G-Counter, as a state machine.
 *
 * The core is driven by three inputs, each given the current time: a timer
 * tick (gossip_tick), a received datagram (gossip_receive) and a greeting of an
 * address found by discovery (gossip_greet). It hands datagrams out through
 * the send callback of struct gossip_io and never touches a socket, a clock or
 * DNS itself, so the simulator can run a thousand nodes in one process.
 *
 * Model (../shared/DESIGN.md): members keyed by pod name; (generation,
 * heartbeat) decides address and liveness; count merges by max, always; only
 * the owner raises its own entry; a node adopts the highest count any peer
 * remembers for its own name (recovery after a lost volume).
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

/* One row of the member table as the node sees it. */
struct gossip_member {
    char name[PROTO_NAME_MAX + 1];
    char addr[PROTO_ADDR_MAX + 1];
    uint64_t generation;
    uint64_t heartbeat;
    uint64_t count;
    enum gossip_state state;
    uint64_t last_seen_ms; /* local time its (generation, heartbeat) last advanced */
    bool self;
};

/* Reasons a received datagram is dropped; counted, never fatal. */
enum gossip_drop {
    GOSSIP_DROP_DECODE = 0, /* malformed: see proto_error */
    GOSSIP_DROP_VERSION,    /* protocol version we do not speak */
    GOSSIP_DROP_SELF,       /* claims to be from our own name */
    GOSSIP_DROP_FORGED,     /* tries to raise an entry it does not own beyond what its owner said */
    GOSSIP_DROP_AUTH,       /* failed authentication (counted by the caller that unseals) */
    GOSSIP_DROP__COUNT,
};

struct gossip_stats {
    uint64_t datagrams_in, datagrams_out;
    uint64_t bytes_in, bytes_out;
    uint64_t dropped[GOSSIP_DROP__COUNT];
    uint64_t suspicions; /* times any member went alive -> suspect */
};

struct gossip_io {
    void *ctx;
    /* Send one datagram (at most PROTO_MAX_DATAGRAM bytes) to "ip:port". */
    void (*send)(void *ctx, const char *addr, const uint8_t *buf, size_t len);
    /* Optional: a peer remembered a higher count for our own name than we
     * had; the node must make it durable. Called with the new count. */
    void (*self_count_raised)(void *ctx, uint64_t count);
};

struct gossip_config {
    const char *name;        /* our pod name */
    const char *addr;        /* our gossip "ip:port" as peers should reach us */
    uint64_t generation;     /* this process start, e.g. wall-clock ms */
    uint64_t count;          /* count loaded from disk */
    uint32_t interval_ms;    /* round length, default 1000 */
    uint32_t fanout;         /* peers per round, default 3 */
    uint32_t pushpull_every; /* rounds between digest exchanges, default 5 */
    uint32_t recovery_ms;    /* bounded wait for a peer before ready; 0: no wait */
    uint64_t seed;           /* PRNG seed for peer choice */
};

struct gossip;

/* Returns NULL on allocation failure. now_ms is the starting time. */
struct gossip *gossip_new(const struct gossip_config *cfg, const struct gossip_io *io,
                          uint64_t now_ms);
void gossip_free(struct gossip *g);

/* A round: bump heartbeat, send heartbeats to fanout peers, age members,
 * occasionally push-pull. Call every interval_ms. */
void gossip_tick(struct gossip *g, uint64_t now_ms);
/* A datagram arrived from "ip:port". Malformed input is dropped and counted. */
void gossip_receive(struct gossip *g, uint64_t now_ms, const char *from, const uint8_t *buf,
                    size_t len);
/* Discovery found "ip:port": if no known member has that address, say hello
 * (heartbeat + digest) so it learns of us and we of it. */
void gossip_greet(struct gossip *g, uint64_t now_ms, const char *addr);
/* The owner's count grew (visits). Never lowers it. */
void gossip_count_set(struct gossip *g, uint64_t count);
/* Announce that we leave (SIGTERM): peers mark us LEFT at once. */
void gossip_leave(struct gossip *g, uint64_t now_ms);

/* Our own count: max(disk, what peers remembered for our name, visits). */
uint64_t gossip_self_count(const struct gossip *g);
/* True once a peer has answered or recovery_ms has passed since start. */
bool gossip_recovered(const struct gossip *g, uint64_t now_ms);

size_t gossip_member_count(const struct gossip *g);
/* i in [0, gossip_member_count()); the order is stable between calls that do
 * not add members. */
const struct gossip_member *gossip_member_at(const struct gossip *g, size_t i);
/* Sum of count over every member ever seen, whatever its state. */
uint64_t gossip_total(const struct gossip *g);
const struct gossip_stats *gossip_stats_get(const struct gossip *g);
/* Count one drop decided outside the core (e.g. authentication). */
void gossip_drop_count(struct gossip *g, enum gossip_drop why);

/* Extensions (beyond the first contract). */
/* The member named name, or NULL. O(1). */
const struct gossip_member *gossip_member_find(const struct gossip *g, const char *name);
/* Current failure-detection timeouts (they grow with log2 of the table size):
 * a member is SUSPECT once its heartbeat is older than gossip_suspect_ms(),
 * DEAD after gossip_dead_ms() more. */
uint64_t gossip_suspect_ms(const struct gossip *g);
uint64_t gossip_dead_ms(const struct gossip *g);

const char *gossip_state_str(enum gossip_state s);
const char *gossip_drop_str(enum gossip_drop why);

#endif
