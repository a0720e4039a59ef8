/*
 * sim_scenario.h: the measured scenarios tally-sim prints and the sim tests
 * assert on, each a short story told with sim_net.h.
 */
#ifndef TALLY_SIM_SCENARIO_H
#define TALLY_SIM_SCENARIO_H

#include <stdint.h>

#include "tests/sim/sim_net.h"

/* Runs rounds one at a time until pred holds; returns the rounds it took
 * (0 if it already held) or -1 after max rounds. */
int sim_rounds_until(struct sim *s, bool (*pred)(const struct sim *s, uint32_t arg), uint32_t arg,
                     uint32_t max);

struct sim_row {
    int join_rounds;   /* cold start (DNS only) until every node knows every count */
    int update_rounds; /* every node gets visits at once: until all views match */
    double bytes_mean; /* per node per round, over the steady window */
    uint64_t bytes_max;
    double false_susp_per_1000; /* suspicions per 1000 node-rounds, steady window */
    int dead_rounds;            /* one node stops: until all others mark it DEAD */
    uint64_t suspect_ms;        /* timeouts in force at that size */
};

/* The table row for n nodes at that loss (the stopped-node phase only if
 * with_dead; else dead_rounds is -1). Returns 0, or -1 if allocation
 * failed. Rounds that never converged within max_rounds are -1. */
int sim_scenario_row(const struct sim_config *cfg, uint32_t max_rounds, bool with_dead,
                     struct sim_row *out);

/* Split the converged cluster in two for split_rounds, heal, return rounds
 * until every count and every liveness has converged again (-1: never). */
int sim_scenario_partition(const struct sim_config *cfg, uint32_t split_rounds,
                           uint32_t max_rounds);

/* A converged node restarts with an empty volume and a new address: rounds
 * until its own count is back to the truth and everyone knows it (-1). */
int sim_scenario_restart(const struct sim_config *cfg, uint32_t max_rounds);

/* A node leaves (SIGTERM): rounds until every other node says LEFT (-1);
 * *total_kept is set to whether its count stayed in everyone's total. */
int sim_scenario_leave(const struct sim_config *cfg, uint32_t max_rounds, bool *total_kept);

#endif
