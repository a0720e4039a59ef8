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
    /* Stopped node: suspicion + death timeouts, plus the time its last
     * heartbeat keeps circulating (it refreshes last_seen where it lands). */
    int dead_bound = (int)(2 * r.suspect_ms / 1000 + 2 * lg + 10);
    printf("# n=%u loss=%.2f seed=%llu join=%d (<=%d) update=%d (<=%d) dead=%d (<=%d) "
           "falsesusp/1000=%.3f bytes avg=%.0f max=%llu\n",
           n, loss, (unsigned long long)seed, r.join_rounds, join_bound, r.update_rounds,
           update_bound, r.dead_rounds, dead_bound, r.false_susp_per_1000, r.bytes_mean,
           (unsigned long long)r.bytes_max);
    assert_in_range(r.join_rounds, 0, join_bound);
    assert_in_range(r.update_rounds, 0, update_bound);
    assert_in_range(r.dead_rounds, 0, dead_bound);
    if (loss == 0)
        assert_true(r.false_susp_per_1000 == 0);
    else
        assert_true(r.false_susp_per_1000 < 1.0);
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

static void test_restart_recovers_lost_count(void **state)
{
    (void)state;
    struct sim_config c = cfg_for(50, 0, 7);
    int r = sim_scenario_restart(&c, 300);
    printf("# restarted node with lost volume recovered after %d rounds\n", r);
    assert_in_range(r, 0, 20);
    c = cfg_for(50, 0.2, 8);
    r = sim_scenario_restart(&c, 300);
    printf("# (20%% loss) recovered after %d rounds\n", r);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_3_nodes),
        cmocka_unit_test(test_50_nodes),
        cmocka_unit_test(test_partition_heals),
        cmocka_unit_test(test_restart_recovers_lost_count),
        cmocka_unit_test(test_leave_is_seen_and_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
