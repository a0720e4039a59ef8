#!/usr/bin/env python3
"""pushpull_hostile.py: hostile TCP clients of tallyd's push-pull port
(node/peer/tcp.h), for test_pushpull.sh.

  pushpull_hostile.py --to IP:PORT [--from-ip IP] CASE [--count N] [--hold S]

Cases (each prints one JSON line: {"case": ..., "conns": n, "closed_by_peer": k}):
  garbage     a frame of random bytes under a valid length prefix
  huge        a length prefix of 2^32-1
  slowloris   half a length prefix, then nothing for --hold seconds
  flood       --count connections opened at once, each silent, held --hold s
  wrongkey    a frame sealed (XChaCha20-Poly1305, format/seal.h's envelope)
              with a key the pod does not hold
  exchange    a well-formed push of an empty table (one DELTA, part 1 of 1,
              request id 12345, proto/WIRE.md "Full state over TCP"); prints
              the answer's frames, whether each echoes the id, and the names
              it carries (found as msgpack strings, without a decoder)

A connection the pod closes is seen as EOF or a reset; "closed_by_peer"
counts them (for the flood: closed before --hold ran out).
"""
import argparse
import ctypes
import ctypes.util
import json
import os
import re
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gossip_forge import pack  # noqa: E402

REQUEST_ID = 12345


def connect(to, from_ip):
    host, port = to.rsplit(":", 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if from_ip:
        s.bind((from_ip, 0))
    s.settimeout(10)
    s.connect((host, int(port)))
    return s


def closed_within(s, seconds):
    """True if the peer closes s within seconds (EOF or reset)."""
    s.settimeout(seconds)
    try:
        while True:
            data = s.recv(4096)
            if not data:
                return True
    except socket.timeout:
        return False
    except (ConnectionResetError, BrokenPipeError):
        return True


def send_and_wait(to, from_ip, payload, hold):
    s = connect(to, from_ip)
    try:
        s.sendall(payload)
    except (ConnectionResetError, BrokenPipeError):
        return True
    closed = closed_within(s, hold)
    s.close()
    return closed


def sealed_with_other_key(plain):
    """format/seal.h's envelope, sealed with a random key of our own."""
    lib = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
    if lib.sodium_init() < 0:
        raise RuntimeError("sodium_init failed")
    key = os.urandom(32)
    digest = ctypes.create_string_buffer(32)
    lib.crypto_generichash(digest, ctypes.c_size_t(32), key, ctypes.c_ulonglong(len(key)),
                           None, ctypes.c_size_t(0))
    header = b"\x01" + digest.raw[:4]
    nonce = os.urandom(24)
    out = ctypes.create_string_buffer(len(plain) + 16)
    out_len = ctypes.c_ulonglong(0)
    lib.crypto_aead_xchacha20poly1305_ietf_encrypt(
        out, ctypes.byref(out_len), plain, ctypes.c_ulonglong(len(plain)), header,
        ctypes.c_ulonglong(len(header)), None, nonce, key)
    return header + nonce + out.raw[:out_len.value]


def read_frames(s, seconds):
    """Length-prefixed frames until the peer closes (bounded)."""
    s.settimeout(seconds)
    data = b""
    try:
        while len(data) < 1 << 22:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    frames, off = [], 0
    while off + 4 <= len(data):
        n = struct.unpack(">I", data[off:off + 4])[0]
        frames.append(data[off + 4:off + 4 + n])
        off += 4 + n
    return frames


def exchange(to, from_ip, hold):
    push = pack({"v": 2, "w": [2, 2], "t": 3, "f": "probe-client", "n": REQUEST_ID,
                 "p": [1, 1, True]})
    s = connect(to, from_ip)
    s.sendall(struct.pack(">I", len(push)) + push)
    frames = read_frames(s, hold)
    s.close()
    nkey = b"\xa1n" + pack(REQUEST_ID)
    names = set()
    for f in frames:
        names.update(m.decode() for m in re.findall(rb"pod-[0-9]+", f))
    return {"case": "exchange", "frames": len(frames),
            "echoed": bool(frames) and all(nkey in f for f in frames),
            "names": sorted(names)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--to", required=True)
    ap.add_argument("--from-ip", default="")
    ap.add_argument("--count", type=int, default=8)
    ap.add_argument("--hold", type=float, default=10.0)
    ap.add_argument("case")
    a = ap.parse_args()
    closed = 0
    conns = 1
    if a.case == "garbage":
        body = os.urandom(200)
        closed = send_and_wait(a.to, a.from_ip, struct.pack(">I", len(body)) + body, a.hold)
    elif a.case == "huge":
        closed = send_and_wait(a.to, a.from_ip, b"\xff\xff\xff\xff" + os.urandom(64), a.hold)
    elif a.case == "slowloris":
        closed = send_and_wait(a.to, a.from_ip, b"\x00\x00", a.hold)
    elif a.case == "flood":
        socks = [connect(a.to, a.from_ip) for _ in range(a.count)]
        conns = len(socks)
        deadline = time.monotonic() + a.hold
        for s in socks:
            if closed_within(s, max(0.05, deadline - time.monotonic())):
                closed += 1
            s.close()
    elif a.case == "wrongkey":
        # a plausible plaintext: a msgpack map, sealed under a key not ours
        frame = sealed_with_other_key(b"\x84\xa1v\x02\xa1w\x92\x02\x02\xa1t\x03\xa1f\xa5pod-9")
        closed = send_and_wait(a.to, a.from_ip, struct.pack(">I", len(frame)) + frame, a.hold)
    elif a.case == "exchange":
        print(json.dumps(exchange(a.to, a.from_ip, a.hold)))
        return
    else:
        ap.error("unknown case " + a.case)
    print(json.dumps({"case": a.case, "conns": conns, "closed_by_peer": int(closed)}))


if __name__ == "__main__":
    main()
