# test_listen.sh: where tallyd listens inside a pod (root only; network
# namespaces as in lib.sh). Three pods started as the StatefulSet starts them:
# POD_NAME and POD_IP in the environment, no --bind. kubectl port-forward
# connects to localhost inside the pod's namespace, so 127.0.0.1:8000 (and
# [::1]:8000 where the namespace has IPv6) must answer, as must the pod IP
# from outside; POD_IP is the gossip address the pod advertises, and gossip
# over the dual-stack socket still knows each peer by its IPv4 address.
# --bind still narrows: a tallyd bound to 127.0.0.1 is not reachable on the
# pod IP.
TN_PREFIX=tlst$$
TN_NET=10.245.32
. "$TALLY_SRC/tests/process/lib.sh"
. "$TALLY_SRC/tests/netns/lib.sh"

tn_skip_unless_able
trap 'tn_down; t_cleanup' EXIT
trap 'exit 1' INT TERM # so the EXIT trap cleans up
tn_up || { not_ok "could not build the namespaces"; t_done; exit 1; }

GOSSIP_MS=200
not() { ! "$@"; }
for n in $TN_PODS; do
    peers=""
    for i in $TN_PODS; do [ "$i" = "$n" ] || peers="$peers${peers:+,}$(tn_ip "$i"):7946"; done
    # ip netns exec and env both exec: $! is tallyd.
    pod_ip=$(tn_ip "$n")
    [ "$n" = 2 ] && pod_ip=""
    ip netns exec "$(tn_ns "$n")" env POD_NAME="$(tn_name "$n")" POD_IP="$pod_ip" \
        DATA_DIR="$T_WORK/data-$n" TALLY_PEERS="$peers" TALLY_GOSSIP_INTERVAL=$GOSSIP_MS \
        "$TALLYD" >>"$T_WORK/tallyd-$n.log" 2>&1 &
    TN_PIDS+=($!)
done

local_ready() { tn_in 0 curl -fsS --max-time 2 -o /dev/null http://127.0.0.1:8000/readyz 2>/dev/null; }
check "port-forward's path: 127.0.0.1:8000 inside the pod answers" tn_wait 20 local_ready
check_eq "a visit through 127.0.0.1 is counted" \
    "$(tn_in 0 curl -fsS --max-time 2 http://127.0.0.1:8000/ >/dev/null && tn_in 0 curl -fsS --max-time 2 http://127.0.0.1:8000/count)" \
    '{"pod": "myapp-stateful-0", "visits": 1}'
if tn_in 0 ip -6 addr show dev lo | grep -q '::1/128'; then
    check "IPv6 localhost [::1]:8000 answers too" \
        tn_in 0 curl -fsS --max-time 2 -o /dev/null "http://[::1]:8000/healthz"
else
    echo "# the namespace has no ::1: IPv6 localhost not checked"
fi
check "the pod IP answers from outside the pod" \
    tn_node curl -fsS --max-time 2 -o /dev/null "http://$(tn_ip 0):8000/healthz"
check_eq "POD_IP is the advertised gossip address" \
    "$(tn_in 0 curl -fsS --max-time 2 http://127.0.0.1:8000/status | json_get gossip)" "$(tn_ip 0):7946"
check "the log says where it listens and what it advertises" \
    grep -q "msg=started .*http=\[::\]:8000 gossip=$(tn_ip 0):7946" "$T_WORK/tallyd-0.log"

# Every pod sees the others alive at their pod IPs (not ::ffff:-mapped).
addrs_right() {
    tn_in 0 curl -fsS --max-time 2 http://127.0.0.1:8000/cluster 2>/dev/null | python3 -c '
import json, sys
want = {f"myapp-stateful-{i}": f"{sys.argv[1]}.{10 + i}:7946" for i in range(3)}
got = {p["name"]: p["address"] for p in json.load(sys.stdin)["pods"] if p["state"] == "alive"}
sys.exit(got != want)' "$TN_NET"
}
check "gossip over the dual-stack socket: every member alive at its IPv4 pod address" tn_wait 20 addrs_right
tn_in 0 curl -fsS --max-time 2 http://127.0.0.1:8000/cluster >"$T_WORK/cluster0.json"

# --bind narrows: only loopback.
mkdir -p "$T_WORK/data-narrow"
ip netns exec "$(tn_ns 0)" "$TALLYD" --name narrow --bind 127.0.0.1 --http-port 8001 \
    --gossip-port 7947 --data-dir "$T_WORK/data-narrow" >>"$T_WORK/tallyd-narrow.log" 2>&1 &
TN_PIDS+=($!)
narrow_up() { tn_in 0 curl -fsS --max-time 2 -o /dev/null http://127.0.0.1:8001/healthz 2>/dev/null; }
check "--bind 127.0.0.1: loopback answers" tn_wait 20 narrow_up
check "--bind 127.0.0.1: the pod IP does not" \
    not tn_in 0 curl -fsS --max-time 2 -o /dev/null "http://$(tn_ip 0):8001/healthz"
t_done
