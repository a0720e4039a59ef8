#!/usr/bin/env python3
"""views.py: questions about the pods' views, asked of files the test saved.

DIR holds countN.json (GET /count) and clusterN.json (GET /cluster) of every
pod N. Commands (exit 0 = yes, 1 = no, with the reason on stdout):

  agree DIR N         every view lists the N pods, all alive, each member's
                      visits equal to that member's own /count, and every
                      total equal to the sum of the counts
  state DIR V MEMBER  print MEMBER's state in pod V's view ("" if absent)
  timeline OUT MEMBER T0
                      MEMBER's state changes in sampler output OUT from unix
                      time T0 on, as seconds after T0
  seq OUT MEMBER S... true if sampler output OUT saw MEMBER go through the
                      states S... in that order (other states may come between)
"""
import json
import os
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def agree(d, n):
    counts = {}
    for i in range(n):
        c = load(os.path.join(d, "count%d.json" % i))
        counts[c["pod"]] = c["visits"]
    want = sum(counts.values())
    for i in range(n):
        v = load(os.path.join(d, "cluster%d.json" % i))
        rows = {p["name"]: p for p in v["pods"]}
        for name, visits in counts.items():
            if name not in rows:
                return "pod %d does not list %s" % (i, name)
            if rows[name]["state"] != "alive":
                return "pod %d sees %s %s" % (i, name, rows[name]["state"])
            if rows[name]["visits"] != visits:
                return "pod %d sees %s at %d, its own count is %d" % (i, name, rows[name]["visits"], visits)
        if v["total"] != want:
            return "pod %d total %d, counts add up to %d" % (i, v["total"], want)
    return ""


def main():
    cmd = sys.argv[1]
    if cmd == "agree":
        why = agree(sys.argv[2], int(sys.argv[3]))
        print(why or "agree")
        return 1 if why else 0
    if cmd == "state":
        v = load(os.path.join(sys.argv[2], "cluster%s.json" % sys.argv[3]))
        rows = [p["state"] for p in v["pods"] if p["name"] == sys.argv[4]]
        print(rows[0] if rows else "")
        return 0
    if cmd == "seq":
        seen = load(sys.argv[2])["states"].get(sys.argv[3], [])
        it = iter(seen)
        ok = all(s in it for s in sys.argv[4:])
        print(" -> ".join(seen))
        return 0 if ok else 1
    if cmd == "timeline":
        t0 = float(sys.argv[4])
        ch = load(sys.argv[2]).get("changes", {}).get(sys.argv[3], [])
        print(", ".join("%s at %+.1f s" % (st, t - t0) for t, st in ch if t >= t0) or "no change")
        return 0
    print("views.py: unknown command " + cmd, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
