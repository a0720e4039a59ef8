/*
 * sim_main.c: tally-sim, the gossip simulator's command line. Runs the core
 * with a fake clock and network (tests/sim/sim_net.h) and prints how fast a
 * cluster converges, how many bytes a node sends per round, how fast a
 * stopped node is declared dead and how often a live one is wrongly
 * suspected. The seed is printed first so any run can be replayed.
 *
 *   tally-sim --nodes 100 --loss 0.2 --seed 7 --rounds 300
 *   tally-sim --table [--seed S]            N in {3,10,100,1000} x loss {0,.1,.2,.3}
 *   tally-sim --nodes 1000 --loss 0.1 --seed 42 --json   issue 12's measures, one line
 *   tally-sim --scenario partition|restart|leave --nodes 50
 *   tally-sim --scenario lost-volume|crash|replay|ready|flood|duplicate --nodes 50
 *   tally-sim --key FILE ...    every datagram sealed and checked as tallyd does
 *
 * The last six are issue 11's cases: each prints the truth (visits served)
 * and the lowest and highest total over the up nodes, which must be equal.
 */
#include "tests/sim/sim_scenario.h"

#include "format/seal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: tally-sim [--nodes N] [--loss P] [--seed S] [--rounds MAX]\n"
               "                 [--delay-min MS] [--delay-max MS] [--fanout K]\n"
               "                 [--table] [--scenario NAME] [--no-dead] [--key FILE]\n"
               "                 [--json [--trials T] [--soak R]]\n"
               "  --nodes N      cluster size (default 100)\n"
               "  --loss P       datagram loss probability 0..1 (default 0)\n"
               "  --seed S       PRNG seed (default: time); printed so a run replays\n"
               "  --rounds MAX   give up after MAX rounds per phase (default 300)\n"
               "  --delay-min/--delay-max MS  one-way delay range (default 1..20)\n"
               "  --fanout K     heartbeat targets per round (default 3)\n"
               "  --table        the table N={3,10,100,1000} x loss={0,0.1,0.2,0.3}\n"
               "  --scenario     row (default), partition, restart (new volume), leave;\n"
               "                 lost-volume (restart on an empty volume behind a partition),\n"
               "                 crash (crash before peers heard, same volume), replay\n"
               "                 (captured datagrams replayed), ready (total at the first\n"
               "                 ready moment), flood (made-up members, cap 64), duplicate\n"
               "                 (two processes, one name)\n"
               "  --no-dead      row: skip the stopped-node phase (faster)\n"
               "  --key FILE     a --key-file: every datagram goes through tallyd's datagram\n"
               "                 path (node/peer/datagram.c), sealed, opened, replay-checked\n"
               "  --json         one JSON object on one line (and nothing else on stdout):\n"
               "                 join_rounds, single_change_rounds (worst of --trials T, default\n"
               "                 8), update_rounds, bytes_per_node_round_avg/_max (datagrams,\n"
               "                 40 rounds from the update), pushpull_bytes_per_node_round_avg\n"
               "                 (TCP push-pull frames, same rounds), dead_seconds,\n"
               "                 false_deaths (whole run),\n"
               "                 false_suspicions_per_1000 (node-rounds after the join, before\n"
               "                 the stop); -1 for a phase that did not finish in --rounds.\n"
               "                 --soak R adds R rounds of light traffic before the stop\n"
               "                 (default 0), so false deaths are counted over a longer run\n");
}

/* One line per issue-11 scenario; returns its rounds, or -1 if any view's
 * total is not the truth. */
static int print_truth(const char *what, const struct sim_truth_check *t)
{
    bool ok = t->total_min == t->truth && t->total_max == t->truth && t->rounds >= 0;
    printf("%s: truth %llu, totals %llu..%llu after %d rounds: %s\n", what,
           (unsigned long long)t->truth, (unsigned long long)t->total_min,
           (unsigned long long)t->total_max, t->rounds, ok ? "every view right" : "WRONG");
    return ok ? t->rounds : -1;
}

static int parse_u64(const char *flag, const char *v, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long x = v ? strtoull(v, &end, 10) : 0;
    if (!v || errno || end == v || *end || v[0] == '-' || x > max) {
        fprintf(stderr, "tally-sim: bad value for %s: %s\n", flag, v ? v : "(missing)");
        return -1;
    }
    *out = x;
    return 0;
}

static int parse_prob(const char *flag, const char *v, double *out)
{
    char *end;
    errno = 0;
    double x = v ? strtod(v, &end) : 0;
    if (!v || errno || end == v || *end || !(x >= 0.0 && x <= 1.0)) {
        fprintf(stderr, "tally-sim: bad value for %s: %s\n", flag, v ? v : "(missing)");
        return -1;
    }
    *out = x;
    return 0;
}

static void print_row_header(void)
{
    printf("%6s %5s | %5s %6s %6s | %8s %8s | %6s %7s | %9s %9s\n", "nodes", "loss", "join",
           "update", "target", "B/rd avg", "B/rd max", "dead", "susp_s", "falsesusp", "");
    printf("%6s %5s | %5s %6s %6s | %8s %8s | %6s %7s | %9s\n", "", "", "rnds", "rnds", "2lgN+5",
           "", "", "rnds", "timeout", "/1000n-r");
}

static void print_row(uint32_t n, double loss, const struct sim_row *r)
{
    printf("%6u %5.2f | %5d %6d %6.1f | %8.0f %8llu | %6d %6llus | %9.3f\n", n, loss,
           r->join_rounds, r->update_rounds, 2.0 * log2((double)n) + 5.0, r->bytes_mean,
           (unsigned long long)r->bytes_max, r->dead_rounds,
           (unsigned long long)(r->suspect_ms / 1000), r->false_susp_per_1000);
    fflush(stdout);
}

static struct seal *sim_seal;

static void key_free(void)
{
    seal_free(sim_seal);
}

static int key_load(const char *path, struct sim_config *cfg)
{
    char msg[512];
    if (!path || sim_seal) {
        fprintf(stderr, "tally-sim: --key needs one key file\n");
        return -1;
    }
    if (seal_load(path, &sim_seal, msg, sizeof(msg)) < 0) {
        fprintf(stderr, "tally-sim: %s\n", msg);
        return -1;
    }
    atexit(key_free);
    cfg->seal = sim_seal;
    return 0;
}

int main(int argc, char **argv)
{
    struct sim_config cfg = {
        .nodes = 100,
        .loss = 0,
        .seed = (uint64_t)time(NULL),
        .delay_min_ms = 1,
        .delay_max_ms = 20,
        .interval_ms = 1000,
        .fanout = 3,
        .dns_every = 5,
    };
    uint64_t max_rounds = 300, v;
    uint64_t trials = 8, soak = 0;
    bool table = false, with_dead = true, json = false;
    const char *scenario = "row";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0;
        if (strcmp(a, "--nodes") == 0) {
            rc = parse_u64(a, val, 65536, &v);
            cfg.nodes = (uint32_t)v;
            i++;
        } else if (strcmp(a, "--loss") == 0) {
            rc = parse_prob(a, val, &cfg.loss);
            i++;
        } else if (strcmp(a, "--seed") == 0) {
            rc = parse_u64(a, val, UINT64_MAX, &cfg.seed);
            i++;
        } else if (strcmp(a, "--rounds") == 0) {
            rc = parse_u64(a, val, 1000000, &max_rounds);
            i++;
        } else if (strcmp(a, "--delay-min") == 0) {
            rc = parse_u64(a, val, 60000, &v);
            cfg.delay_min_ms = (uint32_t)v;
            i++;
        } else if (strcmp(a, "--delay-max") == 0) {
            rc = parse_u64(a, val, 60000, &v);
            cfg.delay_max_ms = (uint32_t)v;
            i++;
        } else if (strcmp(a, "--fanout") == 0) {
            rc = parse_u64(a, val, 64, &v);
            cfg.fanout = (uint32_t)v;
            i++;
        } else if (strcmp(a, "--trials") == 0) {
            rc = parse_u64(a, val, 1000, &trials);
            if (rc == 0 && trials == 0) {
                fprintf(stderr, "tally-sim: --trials must be at least 1\n");
                rc = -1;
            }
            i++;
        } else if (strcmp(a, "--soak") == 0) {
            rc = parse_u64(a, val, 1000000, &soak);
            i++;
        } else if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (strcmp(a, "--no-dead") == 0) {
            with_dead = false;
        } else if (strcmp(a, "--table") == 0) {
            table = true;
        } else if (strcmp(a, "--key") == 0) {
            rc = key_load(val, &cfg);
            i++;
        } else if (strcmp(a, "--scenario") == 0) {
            scenario = val ? val : "";
            i++;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "tally-sim: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
        if (rc)
            return 2;
    }
    if (cfg.nodes == 0 || cfg.delay_max_ms < cfg.delay_min_ms || cfg.fanout == 0) {
        fprintf(stderr, "tally-sim: need --nodes >= 1, --fanout >= 1, delay-min <= delay-max\n");
        return 2;
    }
    if (json) {
        struct sim_report r;
        if (sim_scenario_report(&cfg, (uint32_t)max_rounds, (uint32_t)trials, (uint32_t)soak, &r) !=
            0) {
            fprintf(stderr, "tally-sim: out of memory\n");
            return 1;
        }
        printf("{\"nodes\":%u,\"loss\":%.3g,\"seed\":%llu,\"fanout\":%u,\"trials\":%llu,"
               "\"join_rounds\":%d,\"single_change_rounds\":%d,\"update_rounds\":%d,"
               "\"bytes_per_node_round_avg\":%.0f,\"bytes_per_node_round_max\":%llu,"
               "\"pushpull_bytes_per_node_round_avg\":%.0f,"
               "\"dead_seconds\":%.1f,\"false_deaths\":%llu,"
               "\"false_suspicions_per_1000\":%.3f,\"rounds\":%u}\n",
               cfg.nodes, cfg.loss, (unsigned long long)cfg.seed, cfg.fanout,
               (unsigned long long)trials, r.join_rounds, r.single_change_rounds, r.update_rounds,
               r.bytes_avg, (unsigned long long)r.bytes_max, r.pushpull_bytes_avg, r.dead_seconds,
               (unsigned long long)r.false_deaths, r.false_susp_per_1000, r.rounds);
        return 0;
    }
    printf("tally-sim seed=%llu delay=%u..%ums fanout=%u interval=%ums max_rounds=%llu\n",
           (unsigned long long)cfg.seed, cfg.delay_min_ms, cfg.delay_max_ms, cfg.fanout,
           cfg.interval_ms, (unsigned long long)max_rounds);

    if (table) {
        static const uint32_t sizes[] = {3, 10, 100, 1000};
        static const double losses[] = {0, 0.1, 0.2, 0.3};
        print_row_header();
        for (size_t a = 0; a < sizeof(sizes) / sizeof(sizes[0]); a++)
            for (size_t b = 0; b < sizeof(losses) / sizeof(losses[0]); b++) {
                struct sim_config c = cfg;
                c.nodes = sizes[a];
                c.loss = losses[b];
                struct sim_row r;
                if (sim_scenario_row(&c, (uint32_t)max_rounds, true, &r) != 0) {
                    fprintf(stderr, "tally-sim: out of memory\n");
                    return 1;
                }
                print_row(c.nodes, c.loss, &r);
            }
        return 0;
    }
    if (strcmp(scenario, "row") == 0) {
        struct sim_row r;
        if (sim_scenario_row(&cfg, (uint32_t)max_rounds, with_dead, &r) != 0)
            return 1;
        print_row_header();
        print_row(cfg.nodes, cfg.loss, &r);
        return r.join_rounds < 0 || r.update_rounds < 0 || (with_dead && r.dead_rounds < 0);
    }
    int r;
    if (strcmp(scenario, "partition") == 0) {
        r = sim_scenario_partition(&cfg, 60, (uint32_t)max_rounds);
        printf("partition 60 rounds, healed: converged after %d rounds\n", r);
    } else if (strcmp(scenario, "restart") == 0) {
        r = sim_scenario_restart(&cfg, (uint32_t)max_rounds);
        printf("restart on a new volume and address (a new slot at 0, the old one kept): "
               "every view whole after %d rounds\n",
               r);
    } else if (strcmp(scenario, "leave") == 0) {
        bool kept;
        r = sim_scenario_leave(&cfg, (uint32_t)max_rounds, &kept);
        printf("leave: all see LEFT after %d rounds; count kept in totals: %s\n", r,
               kept ? "yes" : "no");
        if (!kept)
            r = -1;
    } else if (strcmp(scenario, "lost-volume") == 0) {
        struct sim_truth_check t;
        uint64_t own = 0;
        if (sim_scenario_lost_volume(&cfg, (uint32_t)max_rounds, &t, &own) != 0)
            return 1;
        r = print_truth("lost volume behind a partition, +30 alone, healed, +80", &t);
        printf("  node 0 counts %llu on its slots (old volume + new)\n", (unsigned long long)own);
    } else if (strcmp(scenario, "crash") == 0) {
        struct sim_truth_check t;
        if (sim_scenario_crash_unheard(&cfg, (uint32_t)max_rounds, &t) != 0)
            return 1;
        r = print_truth("crash before peers heard 25 visits, same volume", &t);
    } else if (strcmp(scenario, "replay") == 0) {
        struct sim_truth_check t;
        struct sim_ready rd;
        uint64_t rt = 0;
        size_t n = 0;
        if (sim_scenario_replay(&cfg, (uint32_t)max_rounds, &t, &rd, &rt, &n) != 0)
            return 1;
        r = print_truth("captured datagrams replayed to a restarting node and to all", &t);
        printf("  %zu datagrams replayed; restarted node ready after %llu ms (%s) with total "
               "%llu of %llu\n",
               n, (unsigned long long)rd.after_ms, rd.by_sync ? "whole answer" : "bounded wait",
               (unsigned long long)rd.total, (unsigned long long)rt);
        if (rd.total != rt)
            r = -1;
    } else if (strcmp(scenario, "ready") == 0) {
        struct sim_ready rd;
        uint64_t truth = 0;
        r = sim_scenario_ready(&cfg, false, (uint32_t)max_rounds, &rd, &truth);
        if (r == 0) {
            printf("restart on its volume: ready after %llu ms (%s) with total %llu of truth "
                   "%llu: %s\n",
                   (unsigned long long)rd.after_ms, rd.by_sync ? "whole answer" : "bounded wait",
                   (unsigned long long)rd.total, (unsigned long long)truth,
                   rd.total == truth ? "whole" : "PARTIAL");
            if (rd.total != truth)
                r = -1;
        } else {
            printf("restart on its volume: never ready within %llu rounds\n",
                   (unsigned long long)max_rounds);
        }
    } else if (strcmp(scenario, "flood") == 0) {
        struct sim_truth_check t;
        size_t most = 0;
        uint64_t dropped = 0;
        bool real_ok = false;
        cfg.max_members = cfg.nodes + 64;
        if (sim_scenario_flood(&cfg, 5000, (uint32_t)max_rounds, &t, &most, &dropped, &real_ok) !=
            0)
            return 1;
        r = print_truth("5000 made-up members", &t);
        printf("  cap %u: largest table %zu, members_full drops %llu, real members' counts "
               "%s\n",
               cfg.max_members, most, (unsigned long long)dropped, real_ok ? "true" : "WRONG");
        if (!real_ok || most > cfg.max_members)
            r = -1;
    } else if (strcmp(scenario, "duplicate") == 0) {
        struct sim_truth_check t;
        uint32_t dup[2];
        if (sim_scenario_duplicate(&cfg, (uint32_t)max_rounds, &t, dup) != 0)
            return 1;
        r = print_truth("two processes, one name, each on its own volume", &t);
        printf("  io.duplicate calls: original %u, second process %u\n", dup[0], dup[1]);
        if (!dup[0] || !dup[1])
            r = -1;
    } else {
        fprintf(stderr, "tally-sim: unknown scenario %s\n", scenario);
        return 2;
    }
    return r < 0;
}
