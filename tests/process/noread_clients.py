#!/usr/bin/env python3
"""noread_clients.py: clients that pipeline and never read, for test_http_noread.sh.

Opens --conns connections to --host:--port, sends --bytes of pipelined
`GET --path` on each (non-blocking, for at most --send-seconds), then, holding
every connection open and unread, asks GET /healthz on a fresh connection
--probes times, --probe-gap-ms apart, and samples the server's memory from
/proc/--pid/status. Prints one JSON object:
  {"conns", "sent_bytes", "healthz_ok", "healthz_ms_max", "healthz_ms_p50",
   "rss_kib_max", "hwm_kib"}
Only loopback addresses are used; every loop is bounded in count and time.
"""
import argparse
import json
import socket
import time


def status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return -1


def healthz(host, port, timeout):
    t0 = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            got = b""
            while True:
                b = s.recv(4096)
                if not b:
                    break
                got += b
        ok = got.startswith(b"HTTP/1.1 200 ")
    except OSError:
        ok = False
    return ok, (time.monotonic() - t0) * 1000.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--conns", type=int, default=300)
    ap.add_argument("--bytes", type=int, default=64 * 1024)
    ap.add_argument("--path", default="/metrics")
    ap.add_argument("--send-seconds", type=float, default=20.0)
    ap.add_argument("--probes", type=int, default=20)
    ap.add_argument("--probe-gap-ms", type=int, default=100)
    ap.add_argument("--probe-timeout", type=float, default=10.0)
    a = ap.parse_args()

    req = f"GET {a.path} HTTP/1.1\r\nHost: t\r\n\r\n".encode()
    payload = req * (a.bytes // len(req))
    socks = []
    sent = {}
    for _ in range(a.conns):
        s = socket.create_connection((a.host, a.port), timeout=5)
        s.setblocking(False)
        socks.append(s)
        sent[s] = 0
    rss_max = 0
    deadline = time.monotonic() + a.send_seconds
    # Send every connection's pipeline without reading; a connection whose
    # server stopped reading (kernel buffers full) just stays where it is.
    while time.monotonic() < deadline:
        progress = False
        for s in socks:
            if sent[s] >= len(payload):
                continue
            try:
                n = s.send(payload[sent[s]:])
                sent[s] += n
                progress = progress or n > 0
            except BlockingIOError:
                pass
        rss_max = max(rss_max, status_kib(a.pid, "VmRSS"))
        if all(sent[s] >= len(payload) for s in socks):
            break
        if not progress:
            time.sleep(0.05)
    times = []
    times_in_order = []
    ok = 0
    for _ in range(a.probes):
        good, ms = healthz(a.host, a.port, a.probe_timeout)
        ok += good
        times.append(ms)
        times_in_order.append(ms)
        rss_max = max(rss_max, status_kib(a.pid, "VmRSS"))
        time.sleep(a.probe_gap_ms / 1000.0)
    hwm = status_kib(a.pid, "VmHWM")
    for s in socks:
        s.close()
    times.sort()
    print(json.dumps({
        "conns": len(socks),
        "sent_bytes": sum(sent.values()),
        "healthz_ok": ok,
        "healthz_ms_max": round(times[-1], 1),
        "healthz_ms_p50": round(times[len(times) // 2], 1),
        "healthz_ms": [round(t, 1) for t in times_in_order],
        "rss_kib_max": rss_max,
        "hwm_kib": hwm,
    }))


if __name__ == "__main__":
    main()
