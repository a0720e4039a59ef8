/*
 * test_gossip_sim.c: the simulator's promises, asserted (label sim). Bounds
 * come from tally-sim measurements (gossip/README.md) with margin; a failure
 * prints the seed-determined figures so it can be replayed with tally-sim.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "tests/sim/sim_scenario.h"

static struct sim_config cfg_for(uint32_t n, double loss, uint64_t seed)
{
    struct sim_config c = {
        .nodes = n,
        .loss = loss,
        .seed = seed,
        .delay_min_ms = 1,
        .delay_max_ms = 20,
        .interval_ms = 1000,
        .fanout = 3,
        .dns_every = 5,
    };
    return c;
}

static void check_row(uint32_t n, double loss, uint64_t seed)
{
    struct sim_config c = cfg_for(n, loss, seed);
    struct sim_row r;
    assert_int_equal(sim_scenario_row(&c, 300, true, &r), 0);
    double lg = log2((double)n);
    /* Counts after a burst of visits: 2 log2 N + 10 rounds without loss,
     * with 5 more rounds of margin per 10% of loss. */
    int update_bound = (int)(2 * lg + 10 + 50 * loss);
    int join_bound = (int)(2 * lg + 15 + 50 * loss);
    /* Stopped node: probed within a few rounds, suspected after the probe's
     * phases, dead after a suspicion timeout (at least gossip_suspect_ms,
     * more while accusers are few), then the DEAD claim spreads. */
    int dead_bound = (int)(2 * r.suspect_ms / 1000 + 2 * lg + 10);
    printf("# n=%u loss=%.2f seed=%llu join=%d (<=%d) update=%d (<=%d) dead=%d (<=%d) "
           "falsesusp/1000=%.3f falsedeaths=%llu bytes avg=%.0f max=%llu\n",
           n, loss, (unsigned long long)seed, r.join_rounds, join_bound, r.update_rounds,
           update_bound, r.dead_rounds, dead_bound, r.false_susp_per_1000,
           (unsigned long long)r.false_deaths, r.bytes_mean, (unsigned long long)r.bytes_max);
    assert_in_range(r.join_rounds, 0, join_bound);
    assert_in_range(r.update_rounds, 0, update_bound);
    assert_in_range(r.dead_rounds, 0, dead_bound);
    /* SWIM under loss: a probe whose PINGs and indirect PINGs are all lost
     * accuses a live member, every node takes the suspicion (so one
     * accusation counts up to N - 1 times here) and the member refutes it
     * before any timer runs out. Never a death; no suspicion without loss. */
    assert_int_equal(r.false_deaths, 0);
    if (loss == 0)
        assert_true(r.false_susp_per_1000 == 0);
    else
        assert_true(r.false_susp_per_1000 < 100.0);
    /* Bounded bytes: fanout heartbeats, one digest, its replies, probes,
     * answers to others' digests: a handful of datagrams, whatever N. */
    assert_true(r.bytes_mean <= 8 * PROTO_MAX_DATAGRAM);
}

static void test_3_nodes(void **state)
{
    (void)state;
    check_row(3, 0, 1);
    check_row(3, 0.2, 2);
}

static void test_50_nodes(void **state)
{
    (void)state;
    check_row(50, 0, 3);
    check_row(50, 0.2, 4);
}

static void test_partition_heals(void **state)
{
    (void)state;
    struct sim_config c = cfg_for(50, 0, 5);
    /* 60 rounds split: each side declares the other dead; after healing the
     * dead-peer probes and DNS greetings reconnect them. */
    int r = sim_scenario_partition(&c, 60, 300);
    printf("# partition healed after %d rounds\n", r);
    assert_in_range(r, 0, 40);
    c = cfg_for(50, 0.2, 6);
    r = sim_scenario_partition(&c, 60, 300);
    printf("# partition (20%% loss) healed after %d rounds\n", r);
    assert_in_range(r, 0, 60);
}

static void test_restart_on_new_volume_converges(void **state)
{
    (void)state;
    struct sim_config c = cfg_for(50, 0, 7);
    int r = sim_scenario_restart(&c, 300);
    printf("# restarted node on a new volume: every view whole after %d rounds\n", r);
    assert_in_range(r, 0, 20);
    c = cfg_for(50, 0.2, 8);
    r = sim_scenario_restart(&c, 300);
    printf("# (20%% loss) every view whole after %d rounds\n", r);
    assert_in_range(r, 0, 30);
}

static void test_leave_is_seen_and_counted(void **state)
{
    (void)state;
    struct sim_config c = cfg_for(50, 0, 9);
    bool kept = false;
    int r = sim_scenario_leave(&c, 300, &kept);
    printf("# leave seen by all after %d rounds\n", r);
    assert_in_range(r, 0, 15);
    assert_true(kept);
}

/* ---- issue 11: every up view's total equals the visits served ---- */

static void check_truth(const char *what, uint64_t seed, const struct sim_truth_check *t,
                        int max_rounds)
{
    printf("# %s seed=%llu truth=%llu totals=[%llu..%llu] rounds=%d (<=%d)\n", what,
           (unsigned long long)seed, (unsigned long long)t->truth, (unsigned long long)t->total_min,
           (unsigned long long)t->total_max, t->rounds, max_rounds);
    assert_int_equal(t->total_min, t->truth);
    assert_int_equal(t->total_max, t->truth);
    assert_in_range(t->rounds, 0, max_rounds);
}

static void test_case1_lost_volume_behind_partition(void **state)
{
    (void)state;
    const uint64_t seeds[] = {11, 12, 13};
    for (size_t k = 0; k < 3; k++) {
        struct sim_config c = cfg_for(k == 0 ? 3 : 20, k == 2 ? 0.1 : 0, seeds[k]);
        struct sim_truth_check t;
        uint64_t victim = 0;
        assert_int_equal(sim_scenario_lost_volume(&c, 300, &t, &victim), 0);
        printf("# case 1: node 0 counts %llu on its slots\n", (unsigned long long)victim);
        check_truth("case 1 lost volume behind a partition", seeds[k], &t, 60);
    }
}

static void test_case1_crash_before_peers_heard(void **state)
{
    (void)state;
    struct sim_config c = cfg_for(50, 0.1, 14);
    struct sim_truth_check t;
    assert_int_equal(sim_scenario_crash_unheard(&c, 300, &t), 0);
    check_truth("case 1 crash before peers heard, same volume", 14, &t, 40);
}

static void test_case2_replay(void **state)
{
    (void)state;
    const uint64_t seeds[] = {21, 22};
    for (size_t k = 0; k < 2; k++) {
        struct sim_config c = cfg_for(k == 0 ? 5 : 30, k == 0 ? 0 : 0.1, seeds[k]);
        struct sim_truth_check t;
        struct sim_ready ready;
        size_t replayed = 0;
        uint64_t ready_truth = 0;
        assert_int_equal(sim_scenario_replay(&c, 300, &t, &ready, &ready_truth, &replayed), 0);
        printf("# case 2: %zu datagrams replayed to each of %u nodes; restarted node ready "
               "after %llu ms (%s) with total %llu of truth %llu\n",
               replayed, c.nodes, (unsigned long long)ready.after_ms,
               ready.by_sync ? "whole answer" : "bounded wait", (unsigned long long)ready.total,
               (unsigned long long)ready_truth);
        assert_true(replayed > 20 * c.nodes);
        assert_int_equal(ready.total, ready_truth);
        check_truth("case 2 replay of captured datagrams", seeds[k], &t, 60);
    }
}

static void check_ready(uint32_t n, double loss, uint64_t seed, bool lose_volume)
{
    struct sim_config c = cfg_for(n, loss, seed);
    struct sim_ready ready;
    uint64_t truth = 0;
    assert_int_equal(sim_scenario_ready(&c, lose_volume, 300, &ready, &truth), 0);
    printf("# case 4 n=%u loss=%.2f seed=%llu %s: ready after %llu ms (%s), total %llu of "
           "truth %llu\n",
           n, loss, (unsigned long long)seed, lose_volume ? "new volume" : "same volume",
           (unsigned long long)ready.after_ms, ready.by_sync ? "whole answer" : "bounded wait",
           (unsigned long long)ready.total, (unsigned long long)truth);
    assert_true(ready.by_sync);
    assert_int_equal(ready.total, truth);
}

static void test_case4_ready_means_whole(void **state)
{
    (void)state;
    check_ready(50, 0.1, 41, false);
    check_ready(50, 0.1, 42, true);
    check_ready(50, 0, 43, false);
}

static void test_case7_member_flood(void **state)
{
    (void)state;
    struct sim_config c = cfg_for(20, 0, 71);
    c.max_members = 64;
    struct sim_truth_check t;
    size_t members_max = 0;
    uint64_t dropped = 0;
    bool real_ok = false;
    assert_int_equal(sim_scenario_flood(&c, 5000, 300, &t, &members_max, &dropped, &real_ok), 0);
    printf("# case 7: 5000 made-up members, cap 64: largest table %zu, members_full drops %llu\n",
           members_max, (unsigned long long)dropped);
    assert_true(members_max <= 64);
    assert_true(dropped >= 5000 - 64);
    assert_true(real_ok);
    check_truth("case 7 member flood", 71, &t, 40);
}

static void test_case8_duplicate_name(void **state)
{
    (void)state;
    const uint64_t seeds[] = {81, 82};
    for (size_t k = 0; k < 2; k++) {
        struct sim_config c = cfg_for(k == 0 ? 3 : 20, k == 0 ? 0 : 0.1, seeds[k]);
        struct sim_truth_check t;
        uint32_t dup[2] = {0, 0};
        assert_int_equal(sim_scenario_duplicate(&c, 300, &t, dup), 0);
        printf("# case 8: io.duplicate calls: original %u, second process %u\n", dup[0], dup[1]);
        assert_true(dup[0] > 0);
        assert_true(dup[1] > 0);
        check_truth("case 8 two processes, one name", seeds[k], &t, 60);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_3_nodes),
        cmocka_unit_test(test_50_nodes),
        cmocka_unit_test(test_partition_heals),
        cmocka_unit_test(test_restart_on_new_volume_converges),
        cmocka_unit_test(test_leave_is_seen_and_counted),
        cmocka_unit_test(test_case1_lost_volume_behind_partition),
        cmocka_unit_test(test_case1_crash_before_peers_heard),
        cmocka_unit_test(test_case2_replay),
        cmocka_unit_test(test_case4_ready_means_whole),
        cmocka_unit_test(test_case7_member_flood),
        cmocka_unit_test(test_case8_duplicate_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
