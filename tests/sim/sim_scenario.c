/*
 * sim_scenario.c: scenarios over the simulated cluster. Every scenario starts
 * cold: each node has a random count on its volume and knows only what DNS
 * returns; convergence means every node knows every member with its true
 * count.
 */
#include "tests/sim/sim_scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

    out->false_deaths = sim_false_deaths(s);
    out->dead_rounds = -1;
    if (with_dead) {
        uint32_t victim = (uint32_t)(scen_rand(&x) % cfg->nodes);
        sim_stop(s, victim);
        out->dead_rounds = sim_rounds_until(s, pred_dead, victim, max_rounds);
    }
    sim_free(s);
    return 0;
}

static bool pred_hold(const struct sim *s, uint32_t i)
{
    return sim_all_hold_count(s, i);
}

/* Adds the window's node-rounds and suspicions to the run's, then resets. */
static void scen_stats_take(struct sim *s, uint64_t *node_rounds, uint64_t *susp)
{
    struct sim_stats st;
    sim_stats_get(s, &st);
    *node_rounds += st.node_rounds;
    *susp += st.suspicions;
    sim_stats_reset(s);
}

/* A random node that is up (every node is, until the last phase). */
static uint32_t scen_pick(uint64_t *x, uint32_t n)
{
    return (uint32_t)(scen_rand(x) % n);
}

int sim_scenario_report(const struct sim_config *cfg, uint32_t max_rounds, uint32_t trials,
                        uint32_t soak, struct sim_report *out)
{
    memset(out, 0, sizeof(*out));
    struct sim *s = scen_start(cfg, max_rounds, &out->join_rounds);
    if (!s)
        return -1;
    uint64_t x = cfg->seed * 2246822519u + 3, node_rounds = 0, susp = 0;
    sim_stats_reset(s);

    /* Single changes, one at a time: the worst trial is the figure. */
    out->single_change_rounds = 0;
    for (uint32_t t = 0; t < trials; t++) {
        uint32_t i = scen_pick(&x, cfg->nodes);
        sim_visits_add(s, i, 1);
        int r = sim_rounds_until(s, pred_hold, i, max_rounds);
        if (r < 0) {
            out->single_change_rounds = -1;
            break;
        }
        if (r > out->single_change_rounds)
            out->single_change_rounds = r;
    }
    scen_stats_take(s, &node_rounds, &susp);

    /* Everyone at once, and the byte window that starts with it. */
    enum { WINDOW = 40 };
    for (uint32_t i = 0; i < cfg->nodes; i++)
        sim_visits_add(s, i, 1 + scen_rand(&x) % 100);
    out->update_rounds = sim_rounds_until(s, pred_counts, 0, max_rounds);
    if (out->update_rounds >= 0 && out->update_rounds < WINDOW)
        sim_run_rounds(s, WINDOW - (uint32_t)out->update_rounds);
    struct sim_stats st;
    sim_stats_get(s, &st);
    out->bytes_avg = st.node_rounds ? (double)st.bytes_out / (double)st.node_rounds : 0;
    out->bytes_max = st.bytes_round_max;
    out->pushpull_bytes_avg =
        st.node_rounds ? (double)st.pushpull_bytes_out / (double)st.node_rounds : 0;
    scen_stats_take(s, &node_rounds, &susp);

    /* Soak: light traffic, nobody down; false suspicions and deaths. */
    for (uint32_t r = 0; r < soak; r++) {
        sim_visits_add(s, scen_pick(&x, cfg->nodes), 1);
        sim_run_rounds(s, 1);
    }
    scen_stats_take(s, &node_rounds, &susp);
    out->false_susp_per_1000 = node_rounds ? 1000.0 * (double)susp / (double)node_rounds : 0;

    /* One node stops: time until every other marks it DEAD, in 100 ms steps. */
    out->dead_seconds = -1;
    if (cfg->nodes > 1) {
        uint32_t victim = scen_pick(&x, cfg->nodes);
        sim_stop(s, victim);
        uint64_t step = 100, limit = (uint64_t)max_rounds * cfg->interval_ms;
        for (uint64_t t = 0; t <= limit; t += step) {
            if (sim_all_see_state(s, victim, GOSSIP_DEAD)) {
                out->dead_seconds = (double)t / 1000.0;
                break;
            }
            sim_run_ms(s, step);
        }
    }
    out->false_deaths = sim_false_deaths(s);
    out->rounds = (uint32_t)(sim_now(s) / cfg->interval_ms);
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

/* ---- issue 11: counts that are never lost ---- */

static bool pred_totals(const struct sim *s, uint32_t arg)
{
    (void)arg;
    return sim_totals_converged(s);
}

static bool pred_totals_counts(const struct sim *s, uint32_t arg)
{
    (void)arg;
    return sim_totals_converged(s) && sim_counts_converged(s);
}

static void scen_check_fill(struct sim *s, int rounds, struct sim_truth_check *out)
{
    out->rounds = rounds;
    out->truth = sim_truth_total(s);
    out->total_min = UINT64_MAX;
    out->total_max = 0;
    for (uint32_t i = 0; i < sim_nodes(s); i++) {
        if (!sim_up(s, i))
            continue;
        uint64_t t = gossip_total(sim_gossip(s, i));
        out->total_min = t < out->total_min ? t : out->total_min;
        out->total_max = t > out->total_max ? t : out->total_max;
    }
}

int sim_scenario_lost_volume(const struct sim_config *cfg, uint32_t max_rounds,
                             struct sim_truth_check *out, uint64_t *victim_count)
{
    struct sim *s = scen_start(cfg, max_rounds, NULL);
    if (!s)
        return -1;
    const uint32_t v = 0;
    sim_visits_add(s, v, 100);
    sim_rounds_until(s, pred_counts, 0, max_rounds); /* the 100 are known */
    sim_partition(s, 1);                             /* node 0 alone */
    sim_run_rounds(s, 2);
    sim_restart(s, v, true, false);
    sim_run_rounds(s, 10); /* its bounded wait runs out: ready, alone */
    sim_visits_add(s, v, 30);
    sim_run_rounds(s, 3);
    sim_partition(s, 0);
    sim_visits_add(s, v, 80);
    int r = sim_rounds_until(s, pred_totals_counts, 0, max_rounds);
    scen_check_fill(s, r, out);
    *victim_count = gossip_self_count(sim_gossip(s, v));
    sim_free(s);
    return 0;
}

int sim_scenario_crash_unheard(const struct sim_config *cfg, uint32_t max_rounds,
                               struct sim_truth_check *out)
{
    struct sim *s = scen_start(cfg, max_rounds, NULL);
    if (!s)
        return -1;
    const uint32_t v = sim_nodes(s) / 2;
    /* Durable on its volume, not yet gossiped: it crashes before its tick. */
    sim_visits_add(s, v, 25);
    sim_stop(s, v);
    sim_run_rounds(s, 3);
    sim_restart(s, v, false, true);
    int r = sim_rounds_until(s, pred_totals_counts, 0, max_rounds);
    scen_check_fill(s, r, out);
    sim_free(s);
    return 0;
}

static bool pred_ready(const struct sim *s, uint32_t i)
{
    struct sim_ready r;
    return sim_ready_get(s, i, &r);
}

int sim_scenario_replay(const struct sim_config *cfg, uint32_t max_rounds,
                        struct sim_truth_check *out, struct sim_ready *ready, uint64_t *ready_truth,
                        size_t *replayed)
{
    struct sim *s = sim_new(cfg);
    if (!s || sim_capture_start(s, 50000) != 0) {
        sim_free(s);
        return -1;
    }
    uint32_t n = sim_nodes(s);
    uint64_t x = cfg->seed * 2654435761u + 3;
    for (uint32_t i = 0; i < n; i++)
        sim_visits_add(s, i, scen_rand(&x) % 1000);
    sim_rounds_until(s, pred_all, 0, max_rounds);
    /* History worth replaying: bursts of visits, a leave and a return, a
     * lost volume, the restarts' SYNC answers. */
    const uint32_t leaver = n - 1, lost = n / 3, victim = n / 2;
    for (uint32_t i = 0; i < n; i++)
        sim_visits_add(s, i, 1 + i % 5);
    sim_run_rounds(s, 3);
    sim_leave(s, leaver);
    sim_run_rounds(s, 3);
    sim_restart(s, leaver, false, true);
    sim_restart(s, lost, true, false);
    sim_run_rounds(s, 8);
    sim_visits_add(s, victim, 40);
    sim_visits_add(s, lost, 7);
    sim_run_rounds(s, 5);
    /* Now the victim restarts on its volume, and the whole history is
     * replayed to it and to everyone else. */
    *replayed = sim_captured(s);
    sim_restart(s, victim, false, true);
    for (uint32_t i = 0; i < n; i++)
        sim_replay(s, i, 3 * cfg->interval_ms);
    /* The restarting node gets it again in every round of its start, so old
     * answers meet each SYNC it sends. */
    for (int k = 0; k < 5; k++) {
        sim_run_rounds(s, 1);
        sim_replay(s, victim, cfg->interval_ms);
    }
    int r = sim_rounds_until(s, pred_ready, victim, max_rounds);
    if (!sim_ready_get(s, victim, ready))
        memset(ready, 0, sizeof(*ready));
    *ready_truth = sim_truth_total(s);
    sim_visits_add(s, 0, 3);
    if (r >= 0)
        r = sim_rounds_until(s, pred_totals_counts, 0, max_rounds);
    /* And once more after convergence: nothing moves. */
    for (uint32_t i = 0; i < n; i++)
        sim_replay(s, i, cfg->interval_ms);
    sim_run_rounds(s, 5);
    if (!sim_totals_converged(s) || !sim_counts_converged(s))
        r = -1;
    scen_check_fill(s, r, out);
    sim_free(s);
    return 0;
}

int sim_scenario_ready(const struct sim_config *cfg, bool lose_volume, uint32_t max_rounds,
                       struct sim_ready *ready, uint64_t *truth)
{
    struct sim *s = scen_start(cfg, max_rounds, NULL);
    if (!s)
        return -1;
    const uint32_t v = sim_nodes(s) / 4;
    sim_restart(s, v, lose_volume, true);
    int r = sim_rounds_until(s, pred_ready, v, max_rounds);
    *truth = sim_truth_total(s);
    bool ok = r >= 0 && sim_ready_get(s, v, ready);
    sim_free(s);
    return ok ? 0 : -1;
}

/* Made-up members in DELTA datagrams from a sender no one knows. */
static void scen_flood(struct sim *s, uint32_t to, uint32_t first, uint32_t fakes)
{
    struct proto_msg *m = calloc(1, sizeof(*m));
    uint8_t buf[PROTO_MAX_DATAGRAM];
    if (!m)
        return;
    uint32_t k = 0;
    while (k < fakes) {
        memset(m, 0, sizeof(*m));
        m->type = PROTO_DELTA;
        snprintf(m->from, sizeof(m->from), "intruder");
        for (uint32_t j = 0; j < 20 && k < fakes; j++, k++) {
            struct proto_entry *e = &m->entries[m->n_entries++];
            snprintf(e->name, sizeof(e->name), "fake-%u", first + k);
            snprintf(e->addr, sizeof(e->addr), "10.250.%u.%u:7946", (first + k) / 256 % 256,
                     (first + k) % 256);
            e->incarnation = 1;
            e->heartbeat = 1;
        }
        int len = proto_msg_encode(m, buf, sizeof(buf));
        if (len > 0)
            sim_inject(s, to, "10.250.255.255:7946", buf, (size_t)len);
    }
    free(m);
}

/* Every up node holds every real member with its true count. */
static bool scen_real_counts(struct sim *s)
{
    char name[24];
    for (uint32_t i = 0; i < sim_nodes(s); i++) {
        if (!sim_up(s, i))
            continue;
        for (uint32_t j = 0; j < sim_nodes(s); j++) {
            snprintf(name, sizeof(name), "pod-%u", j);
            const struct gossip_member *m = gossip_member_find(sim_gossip(s, i), name);
            if (!m || m->count != sim_truth(s, j))
                return false;
        }
    }
    return true;
}

static bool pred_real(const struct sim *s, uint32_t arg)
{
    (void)arg;
    return sim_totals_converged(s) && scen_real_counts((struct sim *)s);
}

int sim_scenario_flood(const struct sim_config *cfg, uint32_t fakes, uint32_t max_rounds,
                       struct sim_truth_check *out, size_t *members_max, uint64_t *dropped,
                       bool *real_ok)
{
    struct sim *s = scen_start(cfg, max_rounds, NULL);
    if (!s)
        return -1;
    /* Half the flood at once, half over the next rounds, while visits go on. */
    scen_flood(s, 0, 0, fakes / 2);
    scen_flood(s, 1, fakes / 2, fakes / 4);
    sim_run_rounds(s, 1);
    for (uint32_t i = 0; i < sim_nodes(s); i++)
        sim_visits_add(s, i, 1 + i % 3);
    scen_flood(s, 1, fakes / 2 + fakes / 4, fakes - fakes / 2 - fakes / 4);
    sim_run_rounds(s, 5);
    sim_visits_add(s, 2, 10);
    int r = sim_rounds_until(s, pred_real, 0, max_rounds);
    sim_run_rounds(s, 10); /* the fakes spread as far as they can */
    *real_ok = r >= 0 && scen_real_counts(s);
    *members_max = 0;
    *dropped = 0;
    for (uint32_t i = 0; i < sim_nodes(s); i++) {
        size_t c = gossip_member_count(sim_gossip(s, i));
        *members_max = c > *members_max ? c : *members_max;
        *dropped += gossip_stats_get(sim_gossip(s, i))->dropped[GOSSIP_DROP_MEMBERS];
    }
    scen_check_fill(s, sim_totals_converged(s) ? r : -1, out);
    sim_free(s);
    return 0;
}

int sim_scenario_duplicate(const struct sim_config *cfg, uint32_t max_rounds,
                           struct sim_truth_check *out, uint32_t dup[2])
{
    struct sim *s = scen_start(cfg, max_rounds, NULL);
    if (!s)
        return -1;
    const uint32_t orig = 1, imp = sim_nodes(s) - 1;
    sim_restart_as(s, imp, orig);
    for (int k = 0; k < 10; k++) {
        sim_visits_add(s, orig, 3);
        sim_visits_add(s, imp, 2);
        sim_run_rounds(s, 1);
    }
    int r = sim_rounds_until(s, pred_totals, 0, max_rounds);
    /* It stays right while both keep counting. */
    for (int k = 0; k < 10; k++) {
        sim_visits_add(s, orig, 1);
        sim_visits_add(s, imp, 1);
        sim_run_rounds(s, 1);
    }
    if (sim_rounds_until(s, pred_totals, 0, max_rounds) < 0)
        r = -1;
    scen_check_fill(s, r, out);
    uint32_t behind;
    sim_callbacks_get(s, orig, &dup[0], &behind);
    sim_callbacks_get(s, imp, &dup[1], &behind);
    sim_free(s);
    return 0;
}
