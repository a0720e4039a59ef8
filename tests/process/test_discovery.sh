# test_discovery.sh: discovery when DNS fails (node/peer/discovery.c), on
# 127.0.45.x. (1) A DNS server that never answers (a socket on
# 127.0.45.8:5346 that reads nothing): every lookup still ends within about a
# --dns-interval, so tally_dns_failures_total rises and the failure is logged,
# once per name, however many rounds fail. (2) dnsmasq (127.0.45.9:5345)
# answers the service, while one of --peers names a host it does not know:
# that name's failure is logged once, not every round between the service's
# successes. Deadlines count DNS rounds, never this machine's speed.
. "$TALLY_SRC/tests/process/lib.sh"
. "$TALLY_SRC/tools/cluster-lib.sh"
CL_NET=127.0.45
CL_DNS_PORT=5345
CL_HTTP_PORT=8045
CL_GOSSIP_PORT=7045
DNS_MS=400
SILENT=127.0.45.8:5346
cl_init "$T_WORK" "$TALLYD"

metric() { curl -fsS --max-time 2 "$1/metrics" | awk -v k="$2" '$1 == k { print $2 }'; }
# wait_failures URL N ROUNDS: until URL's tally_dns_failures_total >= N, for at
# most ROUNDS DNS rounds.
wait_failures() {
    local t
    for t in $(seq $(($3 * DNS_MS / 100))); do
        [ "$(metric "$1" tally_dns_failures_total 2>/dev/null || echo 0)" -ge "$2" ] 2>/dev/null &&
            return 0
        sleep 0.1
    done
    return 1
}
logged() { grep -c "msg=dns_failed name=$2 " "$1" || true; }

# ---- (1) a server that never answers ------------------------------------
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
host, port = sys.argv[1].split(":")
s.bind((host, int(port)))
print("ready", flush=True)
time.sleep(120)  # bounded: the test stops it long before
' "$SILENT" >"$T_WORK/silent.out" 2>&1 &
T_PIDS+=("$!")
for t in $(seq 50); do grep -q ready "$T_WORK/silent.out" && break; sleep 0.1; done
SVC=myapp-headless.default.svc.cluster.local
mkdir -p "$T_WORK/data-q"
"$TALLYD" --name pod-q --bind $CL_NET.20 --http-port $CL_HTTP_PORT --gossip-port $CL_GOSSIP_PORT \
    --data-dir "$T_WORK/data-q" --service $SVC --dns-server $SILENT --dns-interval $DNS_MS \
    --recovery-wait 1000 >"$T_WORK/q.log" 2>&1 &
Q=$!
T_PIDS+=("$Q")
URL=http://$CL_NET.20:$CL_HTTP_PORT
wait_http "$URL/healthz" || not_ok "pod-q did not start"
# A lookup makes two tries of a quarter round and twice that: it has ended
# well inside two rounds; six rounds leave room for a busy machine.
check "a silent DNS server: lookups time out and are counted within rounds" \
    wait_failures "$URL" 1 6
# Both names (A/AAAA and SRV) fail every round from now on.
check "... and go on being counted every round" wait_failures "$URL" 8 20
lookups=$(metric "$URL" tally_dns_lookups_total)
check "... never more failures than lookups" test "$(metric "$URL" tally_dns_failures_total)" -le "$lookups"
check_eq "... the service's failure logged once over the rounds" "$(logged "$T_WORK/q.log" "$SVC.")" 1
check_eq "... so is its SRV name's" "$(logged "$T_WORK/q.log" "_gossip._udp.$SVC.")" 1
kill -TERM $Q
wait $Q
check_eq "... and the pod stops cleanly" "$?" 0

# ---- (2) one failing name among answering ones --------------------------
BAD=nowhere.$CL_DOMAIN
CL_TALLYD_ARGS="--dns-interval $DNS_MS --recovery-wait 1000 --peers $BAD:$CL_GOSSIP_PORT"
cl_dns_start 1
cl_pod_start 0
cl_wait_http 0 /healthz || not_ok "pod 0 did not start: $(cl_pod_why 0)"
URL0=$(cl_pod_url 0)
check "a name dnsmasq does not know fails every round" wait_failures "$URL0" 5 20
check_eq "... and is logged once, between the service's answers" "$(logged "$(cl_pod_log 0)" "$BAD")" 1
check_eq "... while the service itself never failed" "$(logged "$(cl_pod_log 0)" "$(cl_service)")" 0
cl_pod_stop 0
check_eq "pod 0 stops cleanly" "$CL_STATUS" 0
t_done
