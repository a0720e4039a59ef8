/*
 * sim_net.h: a deterministic cluster of gossip cores in one process, for
 * tally-sim and the sim tests. A fake clock jumps from event to event (node
 * ticks at random phases, datagram deliveries); a fake network drops each
 * datagram with the configured loss probability, delays it uniformly in
 * [delay_min_ms, delay_max_ms] and can split the nodes into two partitions.
 * Nodes can be stopped, restarted (keeping their volume, or on a new empty
 * one: a new counter slot; optionally on a new address) and leave. All randomness comes from
 * the seed, so a run replays exactly.
 */
#ifndef TALLY_SIM_NET_H
#define TALLY_SIM_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "gossip/gossip.h"

struct sim_config {
    uint32_t nodes;
    double loss; /* per datagram, 0..1 */
    uint64_t seed;
    uint32_t delay_min_ms, delay_max_ms;
    uint32_t interval_ms; /* gossip round */
    uint32_t fanout;
    uint32_t dns_every;   /* rounds between DNS re-resolutions (greets) */
    uint32_t max_members; /* each core's member cap; 0: the core's default */
    /* Non-NULL: every datagram goes through tallyd's own datagram path
     * (node/peer/datagram.c), sealed with these keys on the way out, opened
     * and checked against the replay window on the way in (tally-sim --key). */
    const struct seal *seal;
};

struct sim;

/* Returns NULL on allocation failure. Nodes start at time 0 knowing nobody:
 * DNS (every up node's address, shuffled per resolution) introduces them. */
struct sim *sim_new(const struct sim_config *cfg);
void sim_free(struct sim *s);

uint32_t sim_nodes(const struct sim *s);
uint64_t sim_now(const struct sim *s);
struct gossip *sim_gossip(struct sim *s, uint32_t i);
/* Runs the cluster for that many rounds (or milliseconds) of fake time. */
void sim_run_rounds(struct sim *s, uint32_t rounds);
void sim_run_ms(struct sim *s, uint64_t ms);

/* The truth: visits served by node i (what every view must converge to). */
uint64_t sim_truth(const struct sim *s, uint32_t i);
void sim_visits_add(struct sim *s, uint32_t i, uint64_t n);

void sim_stop(struct sim *s, uint32_t i);
void sim_leave(struct sim *s, uint32_t i);
void sim_restart(struct sim *s, uint32_t i, bool lose_count, bool new_addr);
/* Node i comes back as a second process of node j's name (a misconfigured
 * pod, a stuck predecessor): its own new volume and address. Visits it
 * serves from now on are counted under j's name, on its own slot. */
void sim_restart_as(struct sim *s, uint32_t i, uint32_t j);
bool sim_up(const struct sim *s, uint32_t i);
/* Nodes [0, split) and [split, N) cannot reach each other; 0 heals. */
void sim_partition(struct sim *s, uint32_t split);

/* Keep a copy of the last max datagrams the network carries (all kinds,
 * lost ones too: a sniffer sits before the loss). Returns 0, or -1. */
int sim_capture_start(struct sim *s, size_t max);
size_t sim_captured(const struct sim *s);
/* Delivers every kept datagram to node i again, from its original sender's
 * address, spread over the next spread_ms (never lost). */
void sim_replay(struct sim *s, uint32_t i, uint32_t spread_ms);

/* A datagram from anyone (e.g. a made-up sender) reaches node i at once. */
void sim_inject(struct sim *s, uint32_t i, const char *from, const uint8_t *buf, size_t len);

/* The sum of all visits served, under any name on any volume. */
uint64_t sim_truth_total(const struct sim *s);
/* Every up node's gossip_total() equals sim_truth_total(). */
bool sim_totals_converged(const struct sim *s);

/* The first moment node i's gossip_synced() held in its current life. */
struct sim_ready {
    uint64_t total;    /* its gossip_total() then */
    uint64_t after_ms; /* since it started */
    bool by_sync;      /* a whole SYNC answer, not the bounded wait */
};
/* False while node i has not been synced in this life. */
bool sim_ready_get(const struct sim *s, uint32_t i, struct sim_ready *out);
/* Times node i's core called io.duplicate and io.slot_behind (all lives). */
void sim_callbacks_get(const struct sim *s, uint32_t i, uint32_t *dup_calls,
                       uint32_t *behind_calls);

/* Every up node knows every node with its true count. */
bool sim_counts_converged(const struct sim *s);
/* Every up node sees every other up node ALIVE. */
bool sim_alive_converged(const struct sim *s);
/* Every up node other than i sees i in state st. */
bool sim_all_see_state(const struct sim *s, uint32_t i, enum gossip_state st);
/* Every up node other than i holds i's true count. */
bool sim_all_hold_count(const struct sim *s, uint32_t i);
/* Times any node's view of a member went to DEAD while that member's node
 * was up (since sim_new): what a live pod must never suffer. */
uint64_t sim_false_deaths(const struct sim *s);

/* Measurements since the last sim_stats_reset. */
struct sim_stats {
    uint64_t node_rounds;        /* ticks counted */
    uint64_t bytes_out;          /* sum over up nodes */
    uint64_t bytes_round_max;    /* most bytes one node sent in one round */
    uint64_t suspicions;         /* alive -> suspect transitions, all nodes */
    uint64_t pushpull_bytes_out; /* push-pull frames sent over "TCP", all nodes */
};
void sim_stats_get(const struct sim *s, struct sim_stats *out);
void sim_stats_reset(struct sim *s);

#endif
