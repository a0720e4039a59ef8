#!/usr/bin/env python3
"""sampler.py: watches one pod's /cluster for counts going backwards.

Run inside the pod's own network namespace (it reaches its own IP over lo, so
neither loss nor a partition hides the view). Every --interval it reads
/cluster and checks, for every member row, that `visits` never decreases, and
that `total` never decreases (members are never forgotten). It also keeps the
sequence of states each member went through in this view (consecutive
duplicates folded) and when each change was seen, so the test can see
alive -> suspect -> dead -> alive and how long each step took.

Runs until SIGTERM or --seconds, then writes one JSON object to --out:
{"viewer": URL, "samples": S, "failed": F, "violations": [...],
 "states": {member: [state, ...]}, "changes": {member: [[t, state], ...]},
 "max": {member: visits}}
"""
import argparse
import json
import signal
import time
import urllib.request

STOP = False


def on_term(_sig, _frm):
    global STOP
    STOP = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True, help="http://IP:PORT of the pod")
    ap.add_argument("--interval", type=float, default=0.2)
    ap.add_argument("--seconds", type=float, default=300, help="upper bound on the run")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    best = {}  # member -> highest visits seen in this view
    total_best = 0
    states = {}
    changes = {}  # member -> [[unix time, state], ...] when its state changed
    violations = []
    samples = failed = 0
    deadline = time.monotonic() + a.seconds
    while not STOP and time.monotonic() < deadline:
        t0 = time.monotonic()
        try:
            with urllib.request.urlopen(a.url + "/cluster", timeout=1) as r:
                doc = json.load(r)
        except (OSError, ValueError):
            failed += 1
            doc = None
        if doc is not None:
            samples += 1
            now = round(time.time(), 3)
            for row in doc["pods"]:
                name, v = row["name"], row["visits"]
                if v < best.get(name, 0):
                    violations.append({"t": now, "member": name, "was": best[name], "now": v})
                best[name] = max(best.get(name, 0), v)
                seq = states.setdefault(name, [])
                if not seq or seq[-1] != row["state"]:
                    seq.append(row["state"])
                    changes.setdefault(name, []).append([now, row["state"]])
            if doc["total"] < total_best:
                violations.append({"t": now, "member": "(total)", "was": total_best, "now": doc["total"]})
            total_best = max(total_best, doc["total"])
        time.sleep(max(0.0, a.interval - (time.monotonic() - t0)))

    with open(a.out, "w") as f:
        json.dump({"viewer": a.url, "samples": samples, "failed": failed,
                   "violations": violations, "states": states, "changes": changes,
                   "max": best}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
