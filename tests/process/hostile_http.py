#!/usr/bin/env python3
"""hostile_http.py: the clients of test_hostile_http.sh.

  probe   a well-behaved client: --requests GET /count one after another on
          one keep-alive connection, --gap-ms apart; prints
          {"n", "errors", "p50_ms", "p99_ms", "max_ms"}.
  attack  everything hostile at once, each part bounded in time:
          --slow slowloris connections sending one header byte a second for
          --slow-seconds; one connection per malformed request (each must be
          answered with its status and closed); --pipeline GET / pipelined on
          one connection; then --idle connections opened and held for
          --idle-hold seconds without sending a byte. Prints one JSON object.

Only loopback addresses are used; every loop is bounded.
"""
import argparse
import json
import random
import resource
import selectors
import socket
import threading
import time

# (name, request bytes, acceptable statuses)
MALFORMED = [
    ("oversize_request_line", b"GET /" + b"a" * 10000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", {414}),
    ("oversize_header", b"GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 9000 + b"\r\n\r\n", {431}),
    ("too_many_headers", b"GET / HTTP/1.1\r\n" +
     b"".join(b"X-H%d: v\r\n" % i for i in range(100)) + b"\r\n", {431}),
    ("cl_and_te", b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", {400}),
    ("body_on_get", b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", {413}),
    ("chunked_body_on_get", b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"5\r\nhello\r\n0\r\n\r\n", {413}),
    ("garbage", bytes(random.Random(7).randrange(256) for _ in range(600)), {400}),
    ("garbage_ascii", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 hello tls\r\n\r\n", {400}),
    ("http_0_9", b"GET /\r\n", {505}),
    ("http_2_0", b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", {505}),
    ("http_1_7", b"GET / HTTP/1.7\r\nHost: x\r\n\r\n", {505}),
    ("h2_preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", {400, 505}),
]


def status_of(data):
    """The status code of the first response in data, or None."""
    if not data.startswith(b"HTTP/1.1 ") or len(data) < 12:
        return None
    try:
        return int(data[9:12])
    except ValueError:
        return None


def send_one(host, port, req, timeout=3.0):
    """Send req on a fresh connection, read until the server closes."""
    s = socket.create_connection((host, port), timeout=timeout)
    got = b""
    try:
        try:
            s.sendall(req)
        except OSError:
            pass  # the server may answer and close before taking it all
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                return got, True
            got += chunk
        return got, False
    finally:
        s.close()


def probe(a):
    import http.client
    conn = http.client.HTTPConnection(a.host, a.port, timeout=5)
    lat, errors = [], 0
    for _ in range(a.requests):
        t0 = time.monotonic()
        try:
            conn.request("GET", "/count")
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                errors += 1
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
            conn = http.client.HTTPConnection(a.host, a.port, timeout=5)
        lat.append((time.monotonic() - t0) * 1000)
        time.sleep(a.gap_ms / 1000)
    lat.sort()
    pick = lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))], 2)
    print(json.dumps({"n": len(lat), "errors": errors, "p50_ms": pick(0.5),
                      "p99_ms": pick(0.99), "max_ms": round(lat[-1], 2)}))


def slowloris(a, out):
    """--slow connections, one header byte each per second, until the server
    has closed them all or --slow-seconds are over; counts how many it
    closed."""
    line = b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"z" * 64
    socks = []
    for _ in range(a.slow):
        s = socket.create_connection((a.host, a.port), timeout=2)
        s.setblocking(False)
        socks.append(s)
    closed = set()
    end = time.monotonic() + a.slow_seconds
    i = 0
    while time.monotonic() < end and len(closed) < len(socks):
        for k, s in enumerate(socks):
            if k in closed:
                continue
            try:
                if s.recv(4096) == b"":
                    closed.add(k)
                    continue
            except BlockingIOError:
                pass
            except OSError:
                closed.add(k)
                continue
            try:
                s.send(line[i % len(line):i % len(line) + 1])
            except OSError:
                closed.add(k)
        i += 1
        time.sleep(1)
    for s in socks:
        s.close()
    out["slow_conns"] = len(socks)
    out["slow_cut_by_server"] = len(closed)


def pipeline(a, out):
    """--pipeline GET / in one write burst on one connection; all must be
    answered 200, in order, on that connection."""
    s = socket.create_connection((a.host, a.port), timeout=10)
    req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * a.pipeline
    sender = threading.Thread(target=s.sendall, args=(req,))
    sender.start()
    got = b""
    deadline = time.monotonic() + 20
    while got.count(b"HTTP/1.1 ") < a.pipeline and time.monotonic() < deadline:
        try:
            chunk = s.recv(1 << 16)
        except (OSError, socket.timeout):
            break
        if not chunk:
            break
        got += chunk
    sender.join()
    s.close()
    out["pipeline_sent"] = a.pipeline
    out["pipeline_200"] = got.count(b"HTTP/1.1 200 ")
    out["pipeline_answers"] = got.count(b"HTTP/1.1 ")


def idle_wave(a, out):
    """--idle connections that never send, held until the server has closed
    every one (refused at the cap or timed out) or --idle-hold seconds have
    passed: the server guarantees the closing, not how fast a busy machine
    gets there. Counts how many it closed."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    sel = selectors.DefaultSelector()
    socks, connect_errors = [], 0
    for _ in range(a.idle):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        rc = s.connect_ex((a.host, a.port))
        if rc not in (0, 115):  # EINPROGRESS
            connect_errors += 1
            s.close()
            continue
        socks.append(s)
        sel.register(s, selectors.EVENT_READ)
    closed = 0
    t0 = time.monotonic()
    end = t0 + a.idle_hold
    while time.monotonic() < end and closed < len(socks):
        for key, _ in sel.select(timeout=0.2):
            try:
                data = key.fileobj.recv(4096)
            except OSError:
                data = b""
            if not data:
                closed += 1
                sel.unregister(key.fileobj)
    for s in socks:
        s.close()
    sel.close()
    out["idle_opened"] = len(socks)
    out["idle_connect_errors"] = connect_errors
    out["idle_closed_by_server"] = closed
    out["idle_all_closed_after_s"] = round(time.monotonic() - t0, 2)


def attack(a):
    out = {}
    slow = threading.Thread(target=slowloris, args=(a, out))
    slow.start()
    bad = {}
    for name, req, want in MALFORMED:
        data, closed = send_one(a.host, a.port, req)
        st = status_of(data)
        bad[name] = {"status": st, "closed": closed, "ok": st in want and closed}
    out["malformed"] = bad
    pipeline(a, out)
    idle_wave(a, out)
    slow.join()
    print(json.dumps(out))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["probe", "attack"])
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--gap-ms", type=float, default=20)
    ap.add_argument("--slow", type=int, default=50)
    ap.add_argument("--slow-seconds", type=float, default=20)
    ap.add_argument("--pipeline", type=int, default=1000)
    ap.add_argument("--idle", type=int, default=10000)
    ap.add_argument("--idle-hold", type=float, default=20)
    a = ap.parse_args()
    probe(a) if a.mode == "probe" else attack(a)


if __name__ == "__main__":
    main()
