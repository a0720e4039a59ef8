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
    uint32_t dns_every; /* rounds between DNS re-resolutions (greets) */
};

struct sim;

/* Returns NULL on allocation failure. Nodes start at time 0 knowing nobody:
 * DNS (every up node's address, shuffled per resolution) introduces them. */
struct sim *sim_new(const struct sim_config *cfg);
void sim_free(struct sim *s);

uint32_t sim_nodes(const struct sim *s);
uint64_t sim_now(const struct sim *s);
struct gossip *sim_gossip(struct sim *s, uint32_t i);
/* Runs the cluster for that many rounds of fake time. */
void sim_run_rounds(struct sim *s, uint32_t rounds);

/* The truth: visits served by node i (what every view must converge to). */
uint64_t sim_truth(const struct sim *s, uint32_t i);
void sim_visits_add(struct sim *s, uint32_t i, uint64_t n);

void sim_stop(struct sim *s, uint32_t i);
void sim_leave(struct sim *s, uint32_t i);
void sim_restart(struct sim *s, uint32_t i, bool lose_count, bool new_addr);
/* Nodes [0, split) and [split, N) cannot reach each other; 0 heals. */
void sim_partition(struct sim *s, uint32_t split);

/* Every up node knows every node with its true count. */
bool sim_counts_converged(const struct sim *s);
/* Every up node sees every other up node ALIVE. */
bool sim_alive_converged(const struct sim *s);
/* Every up node other than i sees i in state st. */
bool sim_all_see_state(const struct sim *s, uint32_t i, enum gossip_state st);

/* Measurements since the last sim_stats_reset. */
struct sim_stats {
    uint64_t node_rounds;     /* ticks counted */
    uint64_t bytes_out;       /* sum over up nodes */
    uint64_t bytes_round_max; /* most bytes one node sent in one round */
    uint64_t suspicions;      /* alive -> suspect transitions, all nodes */
};
void sim_stats_get(const struct sim *s, struct sim_stats *out);
void sim_stats_reset(struct sim *s);

#endif
