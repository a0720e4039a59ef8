/*
 * test_sim_sealed.c: the simulator with a cluster key (tally-sim --key): every
 * simulated datagram is sealed, opened and replay-checked by tallyd's own
 * datagram path (node/peer/datagram.c), so what guards production runs under
 * loss, delay and replays. What it promises: a sealed cluster converges like
 * an unsealed one, with no datagram refused; a replay of captured traffic is
 * caught by the window (never without a key) and changes no count; bytes
 * without a seal are refused as "auth" before any core reads them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "format/seal.h"
#include "tests/sim/sim_net.h"

#define NODES 20

static uint64_t dropped_sum(struct sim *s, enum gossip_drop why)
{
    uint64_t n = 0;
    for (uint32_t i = 0; i < sim_nodes(s); i++)
        if (sim_up(s, i))
            n += gossip_stats_get(sim_gossip(s, i))->dropped[why];
    return n;
}

static bool run_until_converged(struct sim *s, uint32_t max_rounds)
{
    for (uint32_t r = 0; r < max_rounds; r++) {
        sim_run_rounds(s, 1);
        if (sim_counts_converged(s) && sim_totals_converged(s) && sim_alive_converged(s))
            return true;
    }
    return false;
}

/* Converge with visits, then replay 300 captured datagrams to node 0.
 * Returns the replay drops node 0 counted. */
static uint64_t converge_and_replay(const struct seal *seal)
{
    struct sim_config cfg = {.nodes = NODES,
                             .loss = 0.1,
                             .seed = 7,
                             .delay_min_ms = 1,
                             .delay_max_ms = 20,
                             .interval_ms = 1000,
                             .fanout = 3,
                             .seal = seal};
    struct sim *s = sim_new(&cfg);
    assert_non_null(s);
    assert_int_equal(sim_capture_start(s, 300), 0);
    for (uint32_t i = 0; i < NODES; i++)
        sim_visits_add(s, i, i + 1);
    assert_true(run_until_converged(s, 200));
    assert_int_equal(dropped_sum(s, GOSSIP_DROP_AUTH), 0);
    assert_int_equal(sim_captured(s), 300);

    uint64_t before = gossip_stats_get(sim_gossip(s, 0))->dropped[GOSSIP_DROP_REPLAY];
    sim_replay(s, 0, 500);
    sim_run_rounds(s, 3);
    uint64_t replays = gossip_stats_get(sim_gossip(s, 0))->dropped[GOSSIP_DROP_REPLAY] - before;
    /* nothing a replay carries raises a count: every view still the truth */
    assert_true(sim_totals_converged(s));
    assert_int_equal(gossip_total(sim_gossip(s, 0)), sim_truth_total(s));

    /* bytes that are not sealed: refused before the core decodes them */
    uint64_t auth = dropped_sum(s, GOSSIP_DROP_AUTH);
    uint64_t decode = dropped_sum(s, GOSSIP_DROP_DECODE);
    static const uint8_t junk[] = {0x81, 0xa1, 'v', 0x02};
    sim_inject(s, 1, "10.9.9.9:7946", junk, sizeof(junk));
    sim_run_ms(s, 5);
    assert_int_equal(dropped_sum(s, GOSSIP_DROP_AUTH) - auth, seal ? 1 : 0);
    assert_int_equal(dropped_sum(s, GOSSIP_DROP_DECODE) - decode, seal ? 0 : 1);
    sim_free(s);
    return replays;
}

static void test_sealed_cluster(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_sim_sealed.XXXXXX", path[64], msg[256];
    struct seal *seal;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/key", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", f);
    fclose(f);
    chmod(path, 0600);
    assert_int_equal(seal_load(path, &seal, msg, sizeof(msg)), 0);
    unlink(path);
    rmdir(dir);

    uint64_t sealed = converge_and_replay(seal);
    uint64_t plain = converge_and_replay(NULL);
    printf("# replayed datagrams dropped by node 0: sealed %llu, unsealed %llu\n",
           (unsigned long long)sealed, (unsigned long long)plain);
    assert_true(sealed > 0);
    assert_int_equal(plain, 0);
    seal_free(seal);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sealed_cluster),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
