#!/usr/bin/env python3
"""poll_cluster.py: how long until every pod's /cluster view shows something.

Polls GET /cluster on every URL given (one per line in --urls) until each
satisfies the condition, and prints when the first and the last one did, in
seconds since this started (or since --since, a CLOCK_REALTIME epoch time).

    --members N      the pod lists N members, all alive
    --total N        the pod's cluster total is at least N
    --dead NAME      the pod shows member NAME as dead (first "suspect" too)

Bounded by --timeout; exits 1 if some pod never got there.
"""
import argparse
import json
import sys
import time
import urllib.request


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            return json.load(r)
    except Exception:  # a pod restarting or slow: try again next sweep
        return None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--urls", required=True)
    p.add_argument("--members", type=int)
    p.add_argument("--total", type=int)
    p.add_argument("--dead")
    p.add_argument("--since", type=float, default=0)
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--interval", type=float, default=0.05)
    a = p.parse_args()
    urls = [u.strip() for u in open(a.urls) if u.strip()]
    t0 = a.since or time.time()
    done = {}
    first_suspect = None
    end = time.monotonic() + a.timeout
    while len(done) < len(urls) and time.monotonic() < end:
        for u in urls:
            if u in done:
                continue
            d = fetch(u)
            if d is None:
                continue
            pods = d.get("pods", [])
            ok = False
            if a.members is not None:
                ok = len(pods) >= a.members and all(m["state"] == "alive" for m in pods)
            elif a.total is not None:
                ok = d.get("total", 0) >= a.total
            elif a.dead is not None:
                st = [m["state"] for m in pods if m["name"] == a.dead]
                if st and st[0] in ("suspect", "dead") and first_suspect is None:
                    first_suspect = time.time() - t0
                ok = bool(st) and st[0] == "dead"
            if ok:
                done[u] = time.time() - t0
        time.sleep(a.interval)
    if len(done) < len(urls):
        print("poll_cluster: %d of %d pods got there within %.0f s" %
              (len(done), len(urls), a.timeout), file=sys.stderr)
        print("first=%.2f last=nan pods=%d/%d" % (min(done.values()) if done else float("nan"),
                                                 len(done), len(urls)))
        return 1
    extra = " first_suspect=%.2f" % first_suspect if first_suspect is not None else ""
    print("first=%.2f last=%.2f pods=%d/%d%s" % (min(done.values()), max(done.values()),
                                                len(done), len(urls), extra))
    return 0


if __name__ == "__main__":
    sys.exit(main())
