# test_hostile_gossip.sh: a pair of tallyds (127.0.11.1 and .2, static
# --peers, no key) while gossip_forge.py sends pod-0's gossip port random
# bytes, every truncation of a valid datagram, oversize datagrams (1401, 2000,
# 4000, 65000 bytes), nesting past the decoder's depth limit, huge declared
# lengths, a wrong protocol version, a datagram claiming to BE pod-1 from an
# older generation with count 1000000, replays of pod-1's old heartbeat, and
# one claiming to come from pod-0 itself. Asserts: pod-0 survives and keeps
# gossiping, every drop is counted by reason in tally_gossip_dropped_total,
# no stranger joins the table and the counts and total stay what the pods
# really served.
#
# What this does NOT cover, honestly: without --key-file nothing is
# authenticated, so a datagram that names a third party as its sender ("f")
# and relays an entry for pod-1 with an inflated count is merged by max
# (DESIGN: "count merges by max, always"), and a well-formed heartbeat from a
# made-up name adds a member whose count joins the total. Only the owner's
# own older generation (forged) and our own name (self) can be refused
# without a key; the cluster key (--key-file, tested elsewhere) closes the
# rest by refusing unauthenticated datagrams.
. "$TALLY_SRC/tests/process/lib.sh"
IP0=127.0.11.1
IP1=127.0.11.2
ATTACKER=127.0.11.9
FORGE="$TALLY_SRC/tests/process/gossip_forge.py"
mkdir -p "$T_WORK/d0" "$T_WORK/d1"

start() { # start N IP PEER
    "$TALLYD" --name "pod-$1" --bind "$2" --http-port 8000 --gossip-port 7946 \
        --data-dir "$T_WORK/d$1" --peers "$3:7946" --gossip-interval 200 --recovery-wait 2000 \
        >>"$T_WORK/tallyd$1.log" 2>&1 &
    T_PIDS+=("$!")
    eval "PID$1=$!"
}
start 0 $IP0 $IP1
start 1 $IP1 $IP0
check "pod-0 ready" wait_http http://$IP0:8000/readyz
check "pod-1 ready" wait_http http://$IP1:8000/readyz
for i in 1 2 3; do curl -fsS -o /dev/null http://$IP0:8000/; done
for i in 1 2 3 4 5; do curl -fsS -o /dev/null http://$IP1:8000/; done

total0() { curl -fsS --max-time 2 http://$IP0:8000/cluster | json_get total; }
wait_total() { # wait_total N: until pod-0's cluster total is N (10 s)
    local t
    for t in $(seq 100); do
        [ "$(total0 2>/dev/null)" = "$1" ] && return 0
        sleep 0.1
    done
    return 1
}
check "pod-0 learns the cluster total 8 by gossip" wait_total 8

# member FIELD: pod-1's FIELD as pod-0 sees it.
member() {
    curl -fsS http://$IP0:8000/cluster | python3 -c '
import json, sys
for p in json.load(sys.stdin)["pods"]:
    if p["name"] == sys.argv[1]:
        print(p[sys.argv[2]])' "${2:-pod-1}" "$1"
}
dropped() { # dropped REASON: pod-0's tally_gossip_dropped_total{reason=REASON}
    curl -fsS http://$IP0:8000/metrics | awk -v k="tally_gossip_dropped_total{reason=\"$1\"}" \
        '$1 == k { print $2 }'
}
gen1=$(member generation)
addr1=$(member address)
gen0=$(curl -fsS http://$IP0:8000/status | json_get generation)
echo "pod-1 generation $gen1 at $addr1; pod-0 generation $gen0"
dec0=$(dropped decode)
ver0=$(dropped version)

forge() { python3 "$FORGE" --to $IP0:7946 --from-ip $ATTACKER "$@" | json_get sent; }
malformed=0
for c in random truncated oversize nested huge_lengths; do
    n=$(forge $c)
    echo "sent $n '$c' datagrams"
    malformed=$((malformed + n))
done
nver=$(forge version)
sleep 0.5
check "pod-0 survives $malformed malformed datagrams" kill -0 "$PID0"
dec=$(($(dropped decode) - dec0))
ver=$(($(dropped version) - ver0))
echo "dropped: decode +$dec, version +$ver (sent $malformed malformed, $nver of version 2)"
# Random bytes that start like a map holding "v": 2 would count as version:
# the two reasons together must account for every datagram.
check_eq "every malformed or wrong-version datagram dropped and counted" \
    $((dec + ver)) $((malformed + nver))
check "the version-2 datagram counted as version" test "$ver" -ge "$nver"
check_eq "no stranger joined the table" "$(member name mallory)" ""

f0=$(dropped forged)
forge forged_old_generation name=pod-1 generation="$gen1" addr="$addr1" >/dev/null
sleep 0.3
check_eq "pod-1 claiming an older generation with count 1000000: dropped as forged" \
    $(($(dropped forged) - f0)) 2
check_eq "forged count not taken: pod-1 still 5 as pod-0 sees it" "$(member visits)" 5
check_eq "forged count not taken: total still 8" "$(total0)" 8
check_eq "forged generation not taken" "$(member generation)" "$gen1"

forge replay name=pod-1 generation="$gen1" count=1 addr="$addr1" >/dev/null
sleep 0.3
check_eq "replayed old heartbeats of pod-1: its count unchanged" "$(member visits)" 5
check_eq "replayed old heartbeats: total unchanged" "$(total0)" 8
check_eq "replayed old heartbeats: pod-1 still alive" "$(member state)" alive

s0=$(dropped self)
forge self name=pod-0 generation="$gen0" >/dev/null
sleep 0.3
check_eq "a datagram claiming to be pod-0 itself: dropped as self" $(($(dropped self) - s0)) 1
check_eq "pod-0's own count untouched" "$(curl -fsS http://$IP0:8000/count | json_get visits)" 3
check_eq "pod-0's count file untouched" "$(cat "$T_WORK/d0/visits.txt")" 3

check "pod-0 still running after the storm" kill -0 "$PID0"
check_eq "pod-0 still answers /healthz" "$(curl -s -o /dev/null -w '%{http_code}' http://$IP0:8000/healthz)" 200
curl -fsS -o /dev/null http://$IP1:8000/
check "gossip still works: pod-0 sees pod-1's next visit (total 9)" wait_total 9
curl -fsS http://$IP0:8000/metrics | grep '^tally_gossip_dropped_total'
kill -TERM "$PID0" "$PID1"
wait "$PID0"
check_eq "pod-0 stops cleanly (exit 0)" "$?" 0
wait "$PID1"
t_done
