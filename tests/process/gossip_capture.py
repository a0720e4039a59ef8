#!/usr/bin/env python3
"""gossip_capture.py: capture real gossip datagrams on loopback, and replay them.

  gossip_capture.py capture --ips A,B,C --port P --out FILE --seconds S [--max N]
      Records every UDP datagram to port P between the listed addresses, as the
      receiving side of the loopback interface sees it (a packet socket: root
      only), for S seconds or N datagrams. One JSON object per line:
      {"src", "sport", "dst", "dport", "data" (hex)}. Touches "FILE.ready"
      once the socket is open, so a test can start traffic after it.

  gossip_capture.py replay --in FILE --to IP --port P [--rounds K] [--seconds S]
      Sends every captured datagram, unchanged, to IP:P, each from its
      original source address (any port), K times over (or round after round
      for S seconds), paced so the receiver's socket buffer keeps up. Prints
      {"sent", "sent_to_dst", "rounds"}: sent_to_dst counts those first
      addressed to IP itself.

Both are bounded in count and time and touch only loopback.
"""
import argparse
import json
import os
import socket
import struct
import time

ETH_P_IP = 0x0800
PACKET_OUTGOING = 4


def capture(a):
    ips = set(a.ips.split(","))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
    s.bind(("lo", ETH_P_IP))
    s.settimeout(0.2)
    open(a.out + ".ready", "w").close()
    deadline = time.monotonic() + a.seconds
    n = 0
    with open(a.out, "w") as f:
        while time.monotonic() < deadline and n < a.max:
            try:
                pkt, addr = s.recvfrom(65536)
            except socket.timeout:
                continue
            # Loopback shows each packet twice: leaving and arriving.
            if addr[2] == PACKET_OUTGOING or len(pkt) < 28 or pkt[9] != 17:
                continue
            ihl = (pkt[0] & 0x0F) * 4
            src, dst = socket.inet_ntoa(pkt[12:16]), socket.inet_ntoa(pkt[16:20])
            sport, dport, ulen = struct.unpack(">HHH", pkt[ihl:ihl + 6])
            if dport != a.port or src not in ips or dst not in ips:
                continue
            data = pkt[ihl + 8:ihl + ulen]
            f.write(json.dumps({"src": src, "sport": sport, "dst": dst, "dport": dport,
                                "data": data.hex()}) + "\n")
            n += 1
    print(json.dumps({"captured": n}))


def replay(a):
    with open(a.inp) as f:
        grams = [json.loads(line) for line in f if line.strip()]
    socks = {}
    for g in grams:
        if g["src"] not in socks:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((g["src"], 0))
            socks[g["src"]] = s
    sent = to_dst = rounds = 0
    deadline = time.monotonic() + a.seconds if a.seconds else None
    while rounds < a.rounds or (deadline and time.monotonic() < deadline):
        for i, g in enumerate(grams):
            try:
                socks[g["src"]].sendto(bytes.fromhex(g["data"]), (a.to, a.port))
            except OSError:
                continue  # nobody listening yet (a pod restarting)
            sent += 1
            to_dst += g["dst"] == a.to
            if i % 20 == 19:
                time.sleep(0.002)
        rounds += 1
        if deadline:
            if rounds >= a.max_rounds:
                break
            time.sleep(0.05)
    print(json.dumps({"sent": sent, "sent_to_dst": to_dst, "rounds": rounds}))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("capture")
    c.add_argument("--ips", required=True)
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--out", required=True)
    c.add_argument("--seconds", type=float, default=5)
    c.add_argument("--max", type=int, default=20000)
    r = sub.add_parser("replay")
    r.add_argument("--in", dest="inp", required=True)
    r.add_argument("--to", required=True)
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--rounds", type=int, default=1)
    r.add_argument("--seconds", type=float, default=0)
    r.add_argument("--max-rounds", type=int, default=1000)
    a = ap.parse_args()
    capture(a) if a.cmd == "capture" else replay(a)


if __name__ == "__main__":
    os.umask(0o022)
    main()
