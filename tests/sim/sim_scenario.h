/*
 * sim_scenario.h: the measured scenarios tally-sim prints and the sim tests
 * assert on, each a short story told with sim_net.h.
 */
#ifndef TALLY_SIM_SCENARIO_H
#define TALLY_SIM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
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
    uint64_t false_deaths;      /* live members marked DEAD by anyone before the stop */
    int dead_rounds;            /* one node stops: until all others mark it DEAD */
    uint64_t suspect_ms;        /* timeouts in force at that size */
};

/* The table row for n nodes at that loss (the stopped-node phase only if
 * with_dead; else dead_rounds is -1). Returns 0, or -1 if allocation
 * failed. Rounds that never converged within max_rounds are -1. */
int sim_scenario_row(const struct sim_config *cfg, uint32_t max_rounds, bool with_dead,
                     struct sim_row *out);

/* What tally-sim --json prints: issue 12's measures of one (N, loss, seed). */
struct sim_report {
    int join_rounds;            /* cold start until every node knows every member and count */
    int single_change_rounds;   /* worst of the trials: +1 on one node until all others hold it */
    int update_rounds;          /* every node gets visits at once: until all views match */
    double bytes_avg;           /* per node per round over the 40 rounds from the update */
    uint64_t bytes_max;         /* most one node sent in one of those rounds */
    double pushpull_bytes_avg;  /* push-pull (TCP) bytes per node per round, same window */
    double dead_seconds;        /* a node stopped until every other marks it DEAD (-1: never) */
    uint64_t false_deaths;      /* live members marked DEAD by anyone, whole run */
    double false_susp_per_1000; /* suspicions per 1000 node-rounds after the join, no one down */
    uint32_t rounds;            /* rounds of fake time the run took */
};

/* The report for cfg: join, trials single changes (>= 1), the update burst
 * and its 40-round byte window, soak more rounds with a visit a round (false
 * deaths and suspicions), then one node stopped. Phases that do not finish
 * within max_rounds are -1. Returns 0, or -1 on allocation failure. */
int sim_scenario_report(const struct sim_config *cfg, uint32_t max_rounds, uint32_t trials,
                        uint32_t soak, struct sim_report *out);

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

/* ---- issue 11: counts that are never lost ----
 * Each scenario ends by comparing every up node's gossip_total() with the
 * truth, the sum of all visits served under any name on any volume. */
struct sim_truth_check {
    int rounds;                    /* until every up total equals the truth (-1: never) */
    uint64_t truth;                /* visits served */
    uint64_t total_min, total_max; /* over the up nodes, at the end */
};

/* Case 1: node 0 holds visits its peers know, restarts on an empty volume
 * while partitioned away, serves 30 visits, the partition heals, 80 more.
 * *victim_count: node 0's own count (all its slots) at the end. */
int sim_scenario_lost_volume(const struct sim_config *cfg, uint32_t max_rounds,
                             struct sim_truth_check *out, uint64_t *victim_count);
/* Case 1, second half: a node crashes right after visits its peers have
 * not heard (durable on its volume) and restarts on the same volume. */
int sim_scenario_crash_unheard(const struct sim_config *cfg, uint32_t max_rounds,
                               struct sim_truth_check *out);
/* Case 2: every datagram of a cluster's history (joins, visits, a leave and
 * a return, a lost volume) is captured, then replayed to a restarting node
 * and to every other node. *ready: the restarted node's first synced
 * moment, *ready_truth: the visits served by then. */
int sim_scenario_replay(const struct sim_config *cfg, uint32_t max_rounds,
                        struct sim_truth_check *out, struct sim_ready *ready, uint64_t *ready_truth,
                        size_t *replayed);
/* Case 4: a converged cluster, one node restarts (on its volume, or on an
 * empty one) with no visits meanwhile: *ready is its first synced moment,
 * *truth the visits served. Returns -1 on allocation failure or if it
 * never became ready within max_rounds. */
int sim_scenario_ready(const struct sim_config *cfg, bool lose_volume, uint32_t max_rounds,
                       struct sim_ready *ready, uint64_t *truth);
/* Case 7: a made-up sender floods nodes 0 and 1 with fakes members
 * (count 0) after the cluster converged; visits go on. *members_max: the
 * largest member table seen; *dropped: members_full drops over all nodes;
 * *real_ok: every view holds every real member with its true count. */
int sim_scenario_flood(const struct sim_config *cfg, uint32_t fakes, uint32_t max_rounds,
                       struct sim_truth_check *out, size_t *members_max, uint64_t *dropped,
                       bool *real_ok);
/* Case 8: the last node comes back as a second process of node 1's name
 * on its own volume; both serve visits. dup[0], dup[1]: io.duplicate calls
 * on node 1 and on the impostor. */
int sim_scenario_duplicate(const struct sim_config *cfg, uint32_t max_rounds,
                           struct sim_truth_check *out, uint32_t dup[2]);

#endif
