#!/usr/bin/env python3
"""gossip_forge.py: hostile gossip datagrams for test_hostile_gossip.sh.

A tiny msgpack encoder (only what proto/WIRE.md uses: maps, arrays, str,
uint, bool) builds forged and replayed messages; the rest are raw bytes.

  gossip_forge.py --to IP:PORT --from-ip IP CASE [key=value ...]

CASE is one of random, truncated, oversize, nested, huge_lengths, compact, version,
wrap_count, left_forever, inflate, members, self, stranger. Prints {"case", "sent"} as
JSON. Every case sends a bounded number of datagrams to one loopback address
(--from-port picks the source port; 0: any).
"""
import json
import random
import socket
import struct
import sys

HEARTBEAT, DIGEST, DELTA = 1, 2, 3


def pack(v):
    if isinstance(v, bool):
        return b"\xc3" if v else b"\xc2"
    if isinstance(v, int):
        if v < 0:
            raise ValueError("wire integers are unsigned")
        if v < 0x80:
            return bytes([v])
        if v <= 0xFF:
            return b"\xcc" + struct.pack(">B", v)
        if v <= 0xFFFF:
            return b"\xcd" + struct.pack(">H", v)
        if v <= 0xFFFFFFFF:
            return b"\xce" + struct.pack(">I", v)
        return b"\xcf" + struct.pack(">Q", v)
    if isinstance(v, str):
        b = v.encode()
        if len(b) < 32:
            return bytes([0xA0 | len(b)]) + b
        if len(b) <= 0xFF:
            return b"\xd9" + bytes([len(b)]) + b
        return b"\xda" + struct.pack(">H", len(b)) + b
    if isinstance(v, (list, tuple)):
        head = bytes([0x90 | len(v)]) if len(v) < 16 else b"\xdc" + struct.pack(">H", len(v))
        return head + b"".join(pack(x) for x in v)
    if isinstance(v, dict):
        head = bytes([0x80 | len(v)]) if len(v) < 16 else b"\xde" + struct.pack(">H", len(v))
        return head + b"".join(pack(k) + pack(x) for k, x in v.items())
    raise TypeError(type(v))


def msg(mtype, sender, entries, version=2):
    """A datagram; entries are [name, incarnation, heartbeat, state, addr, vol, slots]
    with slots a flat [vol, count, vol, count, ...] list (proto/WIRE.md)."""
    return pack({"v": version, "w": [version, version], "t": mtype, "f": sender, "e": entries})


def entry(name, inc=1, hb=1, state=0, addr="", vol=0x6d616c6c6f7279, count=5):
    return [name, inc, hb, state, addr, vol, [vol, count]]


def case_random(p):
    rng = random.Random(int(p.get("seed", 1)))
    n = int(p.get("n", 1000))
    return [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 1401))) for _ in range(n)]


def case_truncated(p):
    # A well-formed heartbeat from a stranger, cut at every length.
    whole = msg(HEARTBEAT, "mallory", [entry("mallory", addr="127.0.11.9:7946")])
    return [whole[:k] for k in range(1, len(whole))]


def case_oversize(p):
    # Valid up to the size cap, then padded past it: 2000 bytes is read whole
    # and refused as too big; 4000 bytes exceeds the receive buffer.
    pad = "x" * 200
    out = []
    for size in (1401, 2000, 4000, 65000):
        m = {"v": 2, "w": [2, 2], "t": HEARTBEAT, "f": "mallory",
             "e": [entry("mallory")]}
        k = 0
        while len(pack(m)) < size:
            m["z%d" % k] = pad
            k += 1
        out.append(pack(m)[:size] if len(pack(m)) > size else pack(m))
    return out


def case_nested(p):
    # An unknown key holding arrays nested 9, 100 and 600 deep (the decoder
    # skips unknown values only 8 deep), and maps nested the same way.
    out = []
    for depth in (9, 100, 600):
        head = pack({"v": 2, "w": [2, 2], "t": HEARTBEAT, "f": "mallory"})
        body = bytes([0x85]) + head[1:]  # five keys: v, w, t, f, x
        out.append(body + pack("x") + b"\x91" * depth + b"\x00")
        out.append(body + pack("x") + b"\x81\xa1k" * depth + b"\x00")
    return out


def case_huge_lengths(p):
    top = pack({"v": 2, "w": [2, 2], "t": HEARTBEAT})[1:]  # v, w, t without a map header
    return [
        b"\xdc\xff\xff",                       # array16 of 65535, nothing follows
        b"\xdd\xff\xff\xff\xff",               # array32 of 4 G
        b"\xdf\xff\xff\xff\xff" + top,         # map32 of 4 G
        b"\x84" + top + pack("f") + b"\xdb\xff\xff\xff\xff" + b"a" * 16,  # str32 of 4 G as f
        b"\x85" + top + pack("f") + pack("m") + pack("e") + b"\xdd\xff\xff\xff\xff",
        b"\x85" + top + pack("f") + pack("m") + pack("e") + b"\x91\xdd\x7f\xff\xff\xff",
        b"\x85" + top + pack("f") + pack("m") + pack("x") + b"\xc6\xff\xff\xff\xff",  # bin32
    ]


def case_compact(p):
    # Version 3's compact count updates ("c": slot id, count), broken four
    # ways: odd length, a count past 2^53, one slot twice, "c" on a PING.
    # Each is a decode drop.
    def v3(mtype, c, e=True):
        m = {"v": 3, "w": [2, 3], "t": mtype, "f": "mallory"}
        if e:
            m["e"] = [entry("mallory")]
        m["c"] = c
        return pack(m)
    return [v3(HEARTBEAT, [0x1234, 5, 0x5678]),
            v3(HEARTBEAT, [0x1234, (1 << 53) + 1]),
            v3(HEARTBEAT, [0x1234, 5, 0x1234, 6]),
            v3(5, [0x1234, 5], e=False)]


def case_version(p):
    # 0.1.0's version 1 and a future version 5: both are VERSION drops.
    return [pack({"v": 1, "t": HEARTBEAT, "f": "mallory", "e": [["mallory", 1, 1, 5, 0, ""]]}),
            msg(HEARTBEAT, "mallory", [entry("mallory")], version=5)]


def case_wrap_count(p):
    # A slot of 2^64-1 for a real pod: would wrap every total. Refused at
    # decode (values past 2^53 are invalid), whoever sends it.
    name = p["name"]
    e = [name, 1, 1, 0, p.get("addr", ""), 7, [7, 2**64 - 1]]
    return [msg(DELTA, "mallory", [e]), msg(DELTA, name, [e])]


def case_left_forever(p):
    # Names a real pod as its sender, at the highest incarnation there is, in
    # state LEFT: 0.1.0 locked that pod out for good. Not from its address,
    # so it is not the owner speaking.
    name = p["name"]
    e = [name, 2**53, 2**53, 3, p.get("addr", ""), 9, [9, 0]]
    return [msg(4, name, [e]), msg(DELTA, name, [e])]


def case_inflate(p):
    # A made-up slot under a real pod's name with a big count.
    name = p["name"]
    return [msg(DELTA, "mallory", [[name, 1, 1, 0, "", 11, [11, 1000000]]])]


def case_members(p):
    # A flood of made-up members, 20 to a datagram.
    n = int(p.get("n", 50000))
    out = []
    for k in range(0, n, 20):
        es = [entry("fake-%d" % j, addr="127.0.11.9:%d" % (1000 + j % 60000), vol=j + 1, count=0)
              for j in range(k, min(n, k + 20))]
        out.append(msg(DELTA, "mallory", es))
    return out


def case_self(p):
    # Claims to come from the receiver's own name with an inflated count.
    name = p["name"]
    return [msg(HEARTBEAT, name, [[name, 5, 1, 0, "", 13, [13, 1000000]]])]


def case_stranger(p):
    # A made-up member announcing itself (send it --from-port its addr's port,
    # so it speaks from its own socket); any name: the browser test sends
    # markup. Without a key it is taken in like any new pod.
    name = p["name"]
    e = entry(name, addr=p.get("addr", ""), vol=int(p.get("vol", 0x5EED)),
              count=int(p.get("count", 0)))
    return [msg(HEARTBEAT, name, [e])]


CASES = {k[5:]: v for k, v in globals().items() if k.startswith("case_")}


def main():
    args = sys.argv[1:]
    to = args.pop(args.index("--to") + 1)
    args.remove("--to")
    src = args.pop(args.index("--from-ip") + 1)
    args.remove("--from-ip")
    sport = 0
    if "--from-port" in args:
        sport = int(args.pop(args.index("--from-port") + 1))
        args.remove("--from-port")
    case, params = args[0], dict(a.split("=", 1) for a in args[1:])
    host, port = to.rsplit(":", 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    s.bind((src, sport))
    sent = 0
    for i, d in enumerate(CASES[case](params)):
        s.sendto(d, (host, int(port)))
        sent += 1
        if i % 50 == 49:
            # let the receiver's socket buffer drain: this test counts drops
            # by the decoder, not by the kernel
            import time
            time.sleep(0.005)
    print(json.dumps({"case": case, "sent": sent}))


if __name__ == "__main__":
    main()
