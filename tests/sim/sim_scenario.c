/*
 * sim_scenario.c: scenarios over the simulated cluster. Every scenario starts
 * cold: each node has a random count on its volume and knows only what DNS
 * returns; convergence means every node knows every member with its true
 * count.
 */
#include "tests/sim/sim_scenario.h"

#include <stdlib.h>

int sim_rounds_until(struct sim *s, bool (*pred)(const struct sim *s, uint32_t arg), uint32_t arg,
                     uint32_t max)
{
    for (uint32_t r = 0; r <= max; r++) {
        if (pred(s, arg))
            return (int)r;
        sim_run_rounds(s, 1);
    }
    return -1;
}

static bool pred_counts(const struct sim *s, uint32_t arg)
{
    (void)arg;
    return sim_counts_converged(s);
}

static bool pred_all(const struct sim *s, uint32_t arg)
{
    (void)arg;
    return sim_counts_converged(s) && sim_alive_converged(s);
}

static bool pred_dead(const struct sim *s, uint32_t i)
{
    return sim_all_see_state(s, i, GOSSIP_DEAD);
}

static bool pred_left(const struct sim *s, uint32_t i)
{
    return sim_all_see_state(s, i, GOSSIP_LEFT);
}

static uint64_t scen_rand(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* A cluster whose nodes already served visits (random counts, as loaded
 * from their volumes) and converged. Returns NULL on failure. */
static struct sim *scen_start(const struct sim_config *cfg, uint32_t max_rounds, int *join)
{
    struct sim *s = sim_new(cfg);
    if (!s)
        return NULL;
    uint64_t x = cfg->seed * 2654435761u + 1;
    for (uint32_t i = 0; i < cfg->nodes; i++)
        sim_visits_add(s, i, scen_rand(&x) % 1000);
    int r = sim_rounds_until(s, pred_all, 0, max_rounds);
    if (join)
        *join = r;
    return s;
}

int sim_scenario_row(const struct sim_config *cfg, uint32_t max_rounds, bool with_dead,
                     struct sim_row *out)
{
    struct sim *s = scen_start(cfg, max_rounds, &out->join_rounds);
    if (!s)
        return -1;
    uint64_t x = cfg->seed * 40503u + 7;
    out->suspect_ms = gossip_suspect_ms(sim_gossip(s, 0));

    /* Steady state: everyone gets visits at once, measure until all views
     * agree, then keep measuring over a fixed window. */
    enum { WINDOW = 40 };
    sim_stats_reset(s);
    for (uint32_t i = 0; i < cfg->nodes; i++)
        sim_visits_add(s, i, 1 + scen_rand(&x) % 100);
    out->update_rounds = sim_rounds_until(s, pred_counts, 0, max_rounds);
    if (out->update_rounds >= 0 && out->update_rounds < WINDOW)
        sim_run_rounds(s, WINDOW - (uint32_t)out->update_rounds);
    struct sim_stats st;
    sim_stats_get(s, &st);
    out->bytes_mean = st.node_rounds ? (double)st.bytes_out / (double)st.node_rounds : 0;
    out->bytes_max = st.bytes_round_max;
    out->false_susp_per_1000 =
        st.node_rounds ? 1000.0 * (double)st.suspicions / (double)st.node_rounds : 0;

    out->dead_rounds = -1;
    if (with_dead) {
        uint32_t victim = (uint32_t)(scen_rand(&x) % cfg->nodes);
        sim_stop(s, victim);
        out->dead_rounds = sim_rounds_until(s, pred_dead, victim, max_rounds);
    }
    sim_free(s);
    return 0;
}

int sim_scenario_partition(const struct sim_config *cfg, uint32_t split_rounds, uint32_t max_rounds)
{
    struct sim *s = scen_start(cfg, max_rounds, NULL);
    if (!s)
        return -1;
    sim_partition(s, cfg->nodes / 2);
    sim_run_rounds(s, split_rounds);
    /* Visits keep coming on both sides while split. */
    for (uint32_t i = 0; i < cfg->nodes; i++)
        sim_visits_add(s, i, 1 + i % 7);
    sim_run_rounds(s, 2);
    sim_partition(s, 0);
    int r = sim_rounds_until(s, pred_all, 0, max_rounds);
    sim_free(s);
    return r;
}

static bool pred_restarted(const struct sim *s, uint32_t i)
{
    struct sim *m = (struct sim *)s; /* sim_gossip is not const: reading only */
    return gossip_self_count(sim_gossip(m, i)) == sim_truth(s, i) && sim_counts_converged(s) &&
           sim_alive_converged(s);
}

int sim_scenario_restart(const struct sim_config *cfg, uint32_t max_rounds)
{
    struct sim *s = scen_start(cfg, max_rounds, NULL);
    if (!s)
        return -1;
    uint32_t victim = cfg->nodes / 3;
    sim_restart(s, victim, true, true);
    int r = sim_rounds_until(s, pred_restarted, victim, max_rounds);
    sim_free(s);
    return r;
}

int sim_scenario_leave(const struct sim_config *cfg, uint32_t max_rounds, bool *total_kept)
{
    struct sim *s = scen_start(cfg, max_rounds, NULL);
    if (!s)
        return -1;
    uint32_t victim = cfg->nodes - 1;
    uint64_t total = 0;
    for (uint32_t i = 0; i < cfg->nodes; i++)
        total += sim_truth(s, i);
    sim_leave(s, victim);
    int r = sim_rounds_until(s, pred_left, victim, max_rounds);
    *total_kept = true;
    for (uint32_t i = 0; i + 1 < cfg->nodes; i++)
        if (gossip_total(sim_gossip(s, i)) != total)
            *total_kept = false;
    sim_free(s);
    return r;
}
