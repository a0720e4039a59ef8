#!/usr/bin/env python3
"""visit_load.py: closed-loop visitors for the process tests.

Each of --conns threads keeps one HTTP/1.1 connection and sends GET / one
request at a time, counting the visits acknowledged (200). When the server
dies mid-load, a request that was sent but never answered is "in flight": it
may or may not have been counted. Prints one line of JSON:
{"acked": A, "inflight": F, "errors": E}. Bounded by --seconds and --max.

With --persist a visitor does not give up after a failed connect or a lost
answer but opens a new connection and goes on until the deadline: under
packet loss a SYN or an answer can take longer than the timeout, which says
nothing about the server.
"""
import argparse
import http.client
import json
import threading
import time

def worker(host, port, deadline, budget, stats, lock, persist, timeout):
    conn = None
    while time.monotonic() < deadline:
        with lock:
            if stats["sent"] >= budget:
                return
            stats["sent"] += 1
        try:
            if conn is None:
                conn = http.client.HTTPConnection(host, port, timeout=timeout)
            conn.request("GET", "/")
        except OSError:
            # Never reached the server: not in flight.
            with lock:
                stats["errors"] += 1
                stats["sent"] -= 1
            conn = None
            if not persist:
                return
            time.sleep(0.05)
            continue
        try:
            resp = conn.getresponse()
            resp.read()
        except (OSError, http.client.HTTPException):
            with lock:
                stats["inflight"] += 1
            conn.close()
            conn = None
            if not persist:
                return
            continue
        with lock:
            if resp.status == 200:
                stats["acked"] += 1
            else:
                stats["errors"] += 1
        if resp.status != 200:
            time.sleep(0.01)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--conns", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--max", type=int, default=1000000)
    ap.add_argument("--persist", action="store_true")
    ap.add_argument("--timeout", type=float, default=5)
    a = ap.parse_args()
    stats = {"sent": 0, "acked": 0, "inflight": 0, "errors": 0}
    lock = threading.Lock()
    deadline = time.monotonic() + a.seconds
    threads = [threading.Thread(target=worker, args=(a.host, a.port, deadline, a.max, stats, lock, a.persist,
                                                  a.timeout))
               for _ in range(a.conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({k: stats[k] for k in ("acked", "inflight", "errors")}))

if __name__ == "__main__":
    main()
