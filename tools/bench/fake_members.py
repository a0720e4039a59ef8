#!/usr/bin/env python3
"""fake_members.py: make one tallyd believe it has N peers, without N processes.

Sends forged but valid gossip HEARTBEAT datagrams (proto/WIRE.md, version 1,
unauthenticated) from N invented pod names to a tallyd's gossip port, so its
member table, /cluster and gossip rounds carry N extra members. Each member's
heartbeat is bumped every round, so they stay alive while this runs.

    fake_members.py --target 127.0.8.1:7946 --members 999 --rounds 1
    fake_members.py --target 127.0.8.1:7946 --members 999 --seconds 60

python3 has no msgpack module by default: the few msgpack types used (map,
array, str, positive int) are encoded by hand below.
"""
import argparse
import socket
import struct
import sys
import time


def mp_uint(x):
    if x < 0x80:
        return bytes([x])
    if x <= 0xFF:
        return b"\xcc" + bytes([x])
    if x <= 0xFFFF:
        return b"\xcd" + struct.pack(">H", x)
    if x <= 0xFFFFFFFF:
        return b"\xce" + struct.pack(">I", x)
    return b"\xcf" + struct.pack(">Q", x)


def mp_str(s):
    b = s.encode()
    if len(b) < 32:
        return bytes([0xA0 | len(b)]) + b
    return b"\xd9" + bytes([len(b)]) + b


def mp_array(n):
    return bytes([0x90 | n])


def mp_map(n):
    return bytes([0x80 | n])


def heartbeat(name, incarnation, beat, count, addr, vol):
    """HEARTBEAT (wire version 2) whose only entry is the sender's own
    (e[0].name == f): [name, incarnation, heartbeat, state, addr, vol, slots]."""
    entry = (mp_array(7) + mp_str(name) + mp_uint(incarnation) + mp_uint(beat) + mp_uint(0) +
             mp_str(addr) + mp_uint(vol) + mp_array(2) + mp_uint(vol) + mp_uint(count))
    return (mp_map(5) + mp_str("v") + mp_uint(2) + mp_str("w") + mp_array(2) + mp_uint(2) +
            mp_uint(2) + mp_str("t") + mp_uint(1) + mp_str("f") + mp_str(name) + mp_str("e") +
            mp_array(1) + entry)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--target", required=True, help="tallyd gossip IP:PORT")
    p.add_argument("--members", type=int, default=999)
    p.add_argument("--prefix", default="fake-stateful-")
    p.add_argument("--bind", default="", help="source IP (default: any)")
    p.add_argument("--addr-net", default="127.0.8",
                   help="fake members advertise NET.x:17946 (nobody listens)")
    p.add_argument("--count", type=int, default=1, help="visits each member claims")
    p.add_argument("--rounds", type=int, default=0, help="stop after this many rounds")
    p.add_argument("--seconds", type=float, default=0, help="stop after this long")
    p.add_argument("--interval-ms", type=int, default=500)
    a = p.parse_args()
    if a.members < 1 or a.members > 60000 or (a.rounds <= 0 and a.seconds <= 0):
        p.error("need 1..60000 members and --rounds or --seconds")
    host, port = a.target.rsplit(":", 1)
    dst = (host, int(port))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    s.bind((a.bind, 0))
    incarnation = 1
    names = ["%s%d" % (a.prefix, i) for i in range(a.members)]
    addrs = ["%s.%d:%d" % (a.addr_net, 2 + i % 250, 17946 + i // 250) for i in range(a.members)]
    deadline = time.monotonic() + a.seconds if a.seconds > 0 else None
    beat = 0
    sent = 0
    while True:
        beat += 1
        for i, name in enumerate(names):
            s.sendto(heartbeat(name, incarnation, beat, a.count, addrs[i], i + 1), dst)
            sent += 1
            if i % 200 == 199:
                time.sleep(0.002)  # let the receiver drain its socket buffer
        if a.rounds and beat >= a.rounds:
            break
        if deadline and time.monotonic() >= deadline:
            break
        time.sleep(a.interval_ms / 1000.0)
    print("fake_members: sent %d heartbeats from %d members in %d rounds" % (sent, a.members, beat))
    return 0


if __name__ == "__main__":
    sys.exit(main())
