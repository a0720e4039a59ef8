#!/usr/bin/env python3
"""report.py: turn tools/bench.sh's raw figures into Markdown tables.

Reads OUT/http.tsv (one line per wrk or redis-benchmark run), OUT/facts.txt
(key=value) and OUT/convergence.dat (tally-sim rows) and prints the tables of
docs/BENCHMARKS.md: medians with min-max over the runs, ratios to nginx
measured in the same run, and each target as met or missed with its gap.

    report.py OUT > OUT/results.md
    report.py --issue13 OUT      only the table of the targets (docs/BENCHMARKS.md)
"""
import csv
import math
import os
import statistics
import sys


def load(out):
    rows = []
    with open(os.path.join(out, "http.tsv")) as f:
        for r in csv.DictReader(f, delimiter="\t"):
            rows.append(r)
    facts = {}
    with open(os.path.join(out, "facts.txt")) as f:
        for line in f:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                facts[k] = v
    sim = []
    path = os.path.join(out, "convergence.dat")
    if os.path.exists(path):
        for line in open(path):
            if line.startswith("#") or not line.strip():
                continue
            sim.append(line.split())
    path = os.path.join(out, "raw", "loadavg.txt")
    if os.path.exists(path):
        loads = [num(line.split()[1]) for line in open(path) if len(line.split()) >= 2]
        loads = [x for x in loads if not math.isnan(x)]
        if loads:
            facts["load_during"] = "%.2f-%.2f (median %.2f, %d samples 10 s apart)" % (
                min(loads), max(loads), med(loads), len(loads))
    return rows, facts, sim


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def series(rows, server, test, conns, pipe, field):
    return [num(r[field]) for r in rows
            if r["server"] == server and r["test"] == test and r["conns"] == str(conns)
            and r["pipe"] == str(pipe) and not math.isnan(num(r[field]))]


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def lat(xs):
    """Median latency; wrk reports 0 when its histogram is empty (it times
    pipelined batches, not requests, and misses some): shown as '-'."""
    xs = [x for x in xs if x > 0]
    return med(xs)


def fmt(x, digits=0):
    if isinstance(x, float) and math.isnan(x):
        return "-"
    if digits == 0:
        return "{:,.0f}".format(x)
    return "{:,.{}f}".format(x, digits)


def mmm(xs, digits=0):
    """median (min-max)"""
    if not xs:
        return "-"
    if len(xs) == 1:
        return fmt(xs[0], digits)
    return "%s (%s-%s)" % (fmt(med(xs), digits), fmt(min(xs), digits), fmt(max(xs), digits))


CONFS = [(1, 1, "1"), (64, 1, "64"), (512, 1, "512"), (64, 16, "64, pipelined x16")]
LABEL = {
    "nginx": "nginx `return 200`",
    "tally-none": "tally `--sync none`",
    "tally-interval": "tally `--sync interval`",
    "tally-always": "tally `--sync always`",
    "redis-always": "Redis INCR `appendfsync always`",
    "redis-everysec": "Redis INCR `appendfsync everysec`",
    "redis-no": "Redis INCR `appendfsync no`",
}


def http_table(rows):
    out = ["| server | connections | req/s median (min-max) | x nginx | p50 ms | p99 ms "
           "| server CPU us/req | CPU 0 us/req | visits per write | ms per write |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for conns, pipe, clabel in CONFS:
        ng = med(series(rows, "nginx", "get", conns, pipe, "rps"))
        if math.isnan(ng):
            continue
        for srv in ["nginx", "tally-none", "tally-interval", "tally-always",
                    "redis-always", "redis-everysec", "redis-no"]:
            test = "incr" if srv.startswith("redis") else "get"
            rps = series(rows, srv, test, conns, pipe, "rps")
            if not rps:
                continue
            batch = series(rows, srv, test, conns, pipe, "batch")
            wms = series(rows, srv, test, conns, pipe, "write_ms") if "write_ms" in rows[0] else []
            out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                LABEL[srv], clabel, mmm(rps), fmt(med(rps) / ng, 2),
                fmt(lat(series(rows, srv, test, conns, pipe, "p50_ms")), 3),
                fmt(lat(series(rows, srv, test, conns, pipe, "p99_ms")), 3),
                fmt(med(series(rows, srv, test, conns, pipe, "cpu_us")), 2),
                fmt(med(series(rows, srv, test, conns, pipe, "cpu0_us")), 2),
                mmm(batch, 1) if batch else "-", fmt(med(wms), 3) if wms else "-"))
    return out


def members_table(rows):
    out = ["| route | members | connections | req/s median (min-max) | p50 ms | p99 ms "
           "| server CPU us/req |", "|---|---|---|---|---|---|---|"]
    for path in ["count", "cluster"]:
        for m in [3, 1000]:
            for conns in [1, 64]:
                t = "%s-m%d" % (path, m)
                rps = series(rows, "tally-members", t, conns, 1, "rps")
                if not rps:
                    continue
                out.append("| /%s | %d | %d | %s | %s | %s | %s |" % (
                    path, m, conns, mmm(rps),
                    fmt(med(series(rows, "tally-members", t, conns, 1, "p50_ms")), 3),
                    fmt(med(series(rows, "tally-members", t, conns, 1, "p99_ms")), 3),
                    fmt(med(series(rows, "tally-members", t, conns, 1, "cpu_us")), 1)))
    return out


def sim_table(sim):
    out = ["| N | loss | rounds: all join | rounds: a count reaches all | target 2 log2 N + 5 "
           "| bytes/node/round avg (max) | rounds to mark dead | false suspicions /1000 node-rounds |",
           "|---|---|---|---|---|---|---|---|"]
    for r in sim:
        out.append("| %s | %s%% | %s | %s | %s | %s (%s) | %s | %s |" % (
            r[0], fmt(num(r[1]) * 100), r[2], r[3], r[4], fmt(num(r[5])), fmt(num(r[6])), r[7],
            r[9]))
    return out


def verdict(ok, fig, gap):
    return ("met" if ok else "**missed**"), fig, gap


def ratio_verdict(a, b, target, unit):
    """a / b against target: the row's verdict, figure and gap ("no figure"
    when a run is missing, e.g. a smoke run)."""
    r = a / b if b else float("nan")
    if math.isnan(r):
        return "no figure", "-", "-"
    return verdict(r >= target, "%sx (%s vs %s %s)" % (fmt(r, 2), fmt(a), fmt(b), unit),
                   "%+.2fx" % (r - target))


def issue13(rows, facts):
    """The targets in docs/BENCHMARKS.md (durable counting ahead of Redis,
    an HTTP server no client can blow up): ratios of medians of the same
    run."""
    def m(srv, conns, pipe, field="rps"):
        test = "incr" if srv.startswith("redis") else "get"
        return med(series(rows, srv, test, conns, pipe, field))
    t = []
    t.append(("`--sync always`, 64 connections >= 1.1x Redis `appendfsync always`",)
             + ratio_verdict(m("tally-always", 64, 1), m("redis-always", 64, 1), 1.1, "req/s"))
    t.append(("`--sync always`, 64 connections x 16 pipelined >= 1.0x Redis `appendfsync always` "
              "pipelined",)
             + ratio_verdict(m("tally-always", 64, 16), m("redis-always", 64, 16), 1.0, "req/s"))
    t.append(("`--sync always`, 1 connection >= 1.0x Redis `appendfsync always`",)
             + ratio_verdict(m("tally-always", 1, 1), m("redis-always", 1, 1), 1.0, "req/s"))
    rps = m("tally-none", 64, 1) / m("nginx", 64, 1)
    cpu = m("tally-none", 64, 1, "cpu_us") / m("nginx", 64, 1, "cpu_us")
    if math.isnan(rps) or math.isnan(cpu):
        t.append(("`--sync none`, 64 connections >= 1.0x nginx req/s and <= 1.0x nginx server "
                  "CPU per request", "no figure", "-", "-"))
    else:
        t.append(("`--sync none`, 64 connections >= 1.0x nginx req/s and <= 1.0x nginx server "
                  "CPU per request",)
                 + verdict(rps >= 1.0 and cpu <= 1.0,
                           "%sx req/s, %sx CPU (%s vs %s us/req)" % (
                               fmt(rps, 2), fmt(cpu, 2), fmt(m("tally-none", 64, 1, "cpu_us"), 2),
                               fmt(m("nginx", 64, 1, "cpu_us"), 2)),
                           "%+.2fx req/s, %+.2fx CPU" % (rps - 1.0, cpu - 1.0)))
    hwm = num(facts.get("noread_hwm_kib"))
    hz = num(facts.get("noread_healthz_ms_max"))
    n = facts.get("noread_conns", "?")
    label = ("RSS with %s connections each sending 64 KB of pipelined `GET /metrics` and never "
             "reading < 32 MiB, and `/healthz` < 100 ms meanwhile" % n)
    if math.isnan(hwm) or math.isnan(hz):
        t.append((label, "no figure", "-", "-"))
    else:
        ok = hwm < 32768 and hz < 100 and facts.get("noread_healthz_ok") == facts.get(
            "noread_probes")
        t.append((label,) + verdict(ok, "peak RSS %s MiB; /healthz max %s ms, p50 %s ms, %s/%s "
                                    "answered" % (fmt(hwm / 1024, 1), fmt(hz, 1),
                                                  fmt(num(facts.get("noread_healthz_ms_p50")), 1),
                                                  facts.get("noread_healthz_ok", "?"),
                                                  facts.get("noread_probes", "?")),
                                    "%+.1f MiB, %+.0f ms" % ((hwm - 32768) / 1024, hz - 100)))
    out = ["| measure (issue 13) | verdict | figure | gap |", "|---|---|---|---|"]
    out += ["| %s | %s | %s | %s |" % row for row in t]
    return out


def targets(rows, facts, sim):
    t = []
    ng64 = med(series(rows, "nginx", "get", 64, 1, "rps"))
    none64 = med(series(rows, "tally-none", "get", 64, 1, "rps"))
    alw64 = med(series(rows, "tally-always", "get", 64, 1, "rps"))
    red64 = med(series(rows, "redis-always", "incr", 64, 1, "rps"))
    p99 = med(series(rows, "tally-none", "get", 64, 1, "p99_ms"))
    r = none64 / ng64
    t.append(("`--sync none` >= 1.0x nginx req/s at 64 connections",)
             + verdict(r >= 1.0, "%sx (%s vs %s req/s)" % (fmt(r, 2), fmt(none64), fmt(ng64)),
                       "%+.0f%%" % ((r - 1.0) * 100)))
    r = alw64 / ng64
    t.append(("`--sync always` >= 0.5x nginx at 64 connections",)
             + verdict(r >= 0.5, "%sx (%s req/s)" % (fmt(r, 2), fmt(alw64)),
                       "%+.2fx" % (r - 0.5)))
    r = alw64 / red64 if red64 else float("nan")
    t.append(("`--sync always` above Redis INCR `appendfsync always` (64 connections)",)
             + verdict(r > 1.0, "%sx (%s vs %s)" % (fmt(r, 2), fmt(alw64), fmt(red64)),
                       "%+.0f%%" % ((r - 1.0) * 100)))
    t.append(("p99 at 64 connections < 2 ms with `--sync none`",)
             + verdict(p99 < 2.0, "%s ms" % fmt(p99, 3), "%+.3f ms" % (p99 - 2.0)))
    for k, what in [("rss_idle_kib", "idle"), ("rss_members_1000_kib", "with 1000 members"),
                    ("rss_hwm_1000_kib", "peak (VmHWM) after the 1000-member runs")]:
        kib = num(facts.get(k))
        t.append(("RSS of tallyd %s < 8 MiB" % what,)
                 + verdict(kib < 8192, "%s MiB" % fmt(kib / 1024, 1),
                           "%+.1f MiB" % ((kib - 8192) / 1024)))
    cpu = num(facts.get("round_cpu_us_1000"))
    t.append(("CPU per gossip round with 1000 members (reported, no target)", "-",
              "%s us per 1 s round (%s us with 3 members); %s bytes out per round" % (
                  fmt(cpu), fmt(num(facts.get("round_cpu_us_3"))),
                  fmt(num(facts.get("round_bytes_out_1000")))), "-"))
    for r in sim:
        n, loss = int(r[0]), num(r[1])
        if abs(loss - 0.1) < 1e-9:
            join, upd, target = num(r[2]), num(r[3]), num(r[4])
            worst = max(join, upd)
            t.append(("gossip converges within 2 log2 N + 5 rounds at 10%% loss, N = %d" % n,)
                     + verdict(worst <= target, "join %s, update %s rounds" % (r[2], r[3]),
                               "%+.1f rounds" % (worst - target)))
    fan = 3
    worst_b = max([num(r[5]) for r in sim] or [float("nan")])
    if sim:
        t.append(("bytes/node/round <= 1400 x fanout (%d) = %d, independent of N" % (fan, 1400 * fan),)
                 + verdict(worst_b <= 1400 * fan, "worst average %s bytes (N = %s)" % (
                     fmt(worst_b), max(sim, key=lambda r: num(r[5]))[0]),
                     "%+.0f bytes" % (worst_b - 1400 * fan)))
    out = ["| target | verdict | figure | gap |", "|---|---|---|---|"]
    out += ["| %s | %s | %s | %s |" % row for row in t]
    return out


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--issue13":
        rows, facts, _ = load(sys.argv[2])
        print("\n".join(issue13(rows, facts)))
        return
    out = sys.argv[1]
    rows, facts, sim = load(out)
    p = []
    p += ["## Results (%s, %s)" % (facts.get("date", "?"), facts.get("mode", "?")), ""]
    p += ["| machine | |", "|---|---|"]
    for k, what in [("nproc", "cores (nproc)"), ("cpu", "CPU"), ("kernel", "kernel"),
                    ("fs", "filesystem of the data dirs"), ("disk", "disk"),
                    ("versions", "versions"), ("load_start", "load average at start"),
                    ("load_during", "1-min load average during the run"),
                    ("load_end", "load average at end")]:
        p.append("| %s | %s |" % (what, facts.get(k, "-")))
    p += ["", "### Targets", ""] + targets(rows, facts, sim)
    p += ["", "### Targets of issue 13 (same run, ratios of medians)", ""] + issue13(rows, facts)
    p += ["", "### GET / (and Redis INCR), server on CPU 0, load generator on CPU 1", ""]
    p += http_table(rows)
    p += ["", "nginx's body: %s bytes (tally's page at a 7-digit count)." % facts.get("body_bytes", "?")]
    p += ["", "### The disk's own limit", ""]
    p += ["| commit | durable (fsync/fdatasync) /s | without the sync /s |", "|---|---|---|",
          "| in place: pwrite at offset 0 + fdatasync (`store_count_overwrite`, tallyd's "
          "every commit; tests/bench_store) | %s | %s |" % (
              fmt(num(facts.get("disk_store_inplace_s"))),
              fmt(num(facts.get("disk_store_inplace_nosync_s")))),
          "| in place, the same from Python (tools/bench/disk_inplace.py) | %s | - |" % (
              fmt(num(facts.get("disk_inplace_s")))),
          "| atomic replace: temp, fsync, rename, fsync dir (`store_count_write`, creates "
          "the file; tests/bench_store) | %s | %s |" % (
              fmt(num(facts.get("disk_commits_s"))), fmt(num(facts.get("disk_nofsync_s")))),
          "",
          "| one write, one visit at a time (tests/bench_store) | us per write | CPU us per "
          "write |", "|---|---|---|",
          "| pwrite + fdatasync, directly | %s | %s |" % (
              fmt(num(facts.get("disk_inplace_again_us")), 1),
              fmt(num(facts.get("disk_inplace_again_cpu_us")), 1)),
          "| the same through the group commit (libuv loop + thread pool, `node/store/commit.c`) "
          "| %s | %s |" % (fmt(num(facts.get("disk_commit_one_us")), 1),
                          fmt(num(facts.get("disk_commit_one_cpu_us")), 1))]
    p += ["", "### /count and /cluster with 3 and 1000 members (`--sync none`)", ""]
    p += members_table(rows)
    c3 = med(series(rows, "tally-members", "cluster-m3", 64, 1, "cpu_us"))
    c1k = med(series(rows, "tally-members", "cluster-m1000", 64, 1, "cpu_us"))
    p += ["", "/cluster body: %s bytes with 3 members, %s with 1000; cost per member: "
          "%s us of server CPU per request per member (64 connections)." % (
              facts.get("cluster_bytes_3", "?"), facts.get("cluster_bytes_1000", "?"),
              fmt((c1k - c3) / 997, 3))]
    p += ["", "| tallyd | RSS |", "|---|---|"]
    for k, what in [("rss_idle_kib", "idle, just started"),
                    ("rss_http_always_kib", "`--sync always` after the GET / runs"),
                    ("rss_members_3_kib", "3 members, after the /cluster runs"),
                    ("rss_members_1000_kib", "1000 members, after the /cluster runs"),
                    ("rss_hwm_1000_kib", "peak (VmHWM) of the 1000-member process")]:
        p.append("| %s | %s KiB |" % (what, fmt(num(facts.get(k)))))
    p += ["", "Gossip round cost, no HTTP load: %s us CPU and %s bytes out per round with 3 "
          "members; %s us and %s bytes with 1000." % (
              facts.get("round_cpu_us_3", "?"), facts.get("round_bytes_out_3", "?"),
              facts.get("round_cpu_us_1000", "?"), facts.get("round_bytes_out_1000", "?"))]
    p += ["", "### Gossip simulator (tally-sim, seed 42, fanout 3)", ""] + sim_table(sim)
    p += ["", "### Real tallyd processes on loopback", ""]
    p += ["| measure | seconds (first pod - last pod) |", "|---|---|"]
    for k, what in [("pods_join", "from start until every pod lists every pod alive"),
                    ("pods_visit", "a visit on pod 1 shows in every /cluster total"),
                    ("pods_dead", "a pod killed with -9 is marked dead by every other")]:
        p.append("| %s | %s |" % (what, facts.get(k, "-")))
    p += ["", "Steady state: %s%% of one core for all pods together (%s us CPU per pod per "
          "round); total RSS %s MiB." % (
              facts.get("pods_cpu_pct", "?"), facts.get("pods_cpu_us_round", "?"),
              fmt(num(facts.get("pods_rss_kib")) / 1024, 1))]
    print("\n".join(p))


if __name__ == "__main__":
    main()
