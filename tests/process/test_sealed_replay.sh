# test_sealed_replay.sh: issue 11, case 2 (replayed datagrams). Three pods
# with one cluster key on 127.0.34.10-12 (dnsmasq on 127.0.34.9:5342, gossip
# port 7342). A packet socket records the real sealed datagrams the pods send
# each other while they serve visits; after more visits, every recorded
# datagram is sent again, unchanged and from its sender's address, to every
# pod, three times: the copies a pod already took are dropped and counted as
# "replay" in tally_gossip_dropped_total, no total moves, no view disagrees.
# Then a pod restarts twice (on its volume, then on an empty one) while the
# recording is replayed at it all through its start: the first /cluster it
# answers once ready holds every acknowledged visit (0.1.0 let a replay end
# recovery with a stale count). Root only (packet capture): skipped otherwise.
. "$TALLY_SRC/tests/process/lib.sh"
. "$TALLY_SRC/tools/cluster-lib.sh"
. "$TALLY_SRC/tests/process/truth_lib.sh"

skip() {
    echo "SKIP: $*"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
}
[ "$(id -u)" = 0 ] || skip "needs root to capture datagrams (AF_PACKET)"

CL_NET=127.0.34
CL_DNS_PORT=5342
CL_HTTP_PORT=8342
CL_GOSSIP_PORT=7342
GOSSIP_MS=200
# Long, so that a restarted pod turns ready only from a peer's whole table,
# never because the wait ran out.
RECOVERY_MS=20000
KEY=$T_WORK/key
head -c 32 /dev/urandom | base64 >"$KEY"
chmod 0600 "$KEY"
CL_TALLYD_ARGS="--gossip-interval $GOSSIP_MS --dns-interval 500 --recovery-wait $RECOVERY_MS --key-file $KEY"
CONVERGE_TRIES=$((100 * GOSSIP_MS / 200))
CAP=$T_WORK/capture.jsonl
TOOL=$TALLY_SRC/tests/process/gossip_capture.py
cl_init "$T_WORK" "$TALLYD"
IPS="$(cl_ip 0),$(cl_ip 1),$(cl_ip 2)"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
replay_to() { # replay_to N ARGS...: the recording, to pod N
    python3 "$TOOL" replay --in "$CAP" --to "$(cl_ip "$1")" --port $CL_GOSSIP_PORT "${@:2}"
}
members_are() { [ "$(tr_rows "$1" | wc -l)" = "$2" ]; }
# restart_under_replay N: restart pod N while the recording is replayed at it
# from before its start until it is ready; check its first ready /cluster.
restart_under_replay() {
    local n=$1 what=$2 rp t0 first waited
    replay_to "$n" --seconds $((RECOVERY_MS / 1000)) --max-rounds 400 >"$T_WORK/replay-$n.json" &
    rp=$!
    T_PIDS+=("$rp")
    sleep 0.3 # replays already arrive when the pod opens its socket
    t0=$(now_ms)
    cl_pod_start "$n"
    first=""
    for _ in $(seq $((RECOVERY_MS / 50))); do
        if curl -fsS -o /dev/null --max-time 1 "$(cl_pod_url "$n" /readyz)" 2>/dev/null; then
            first=$(tr_total "$n")
            break
        fi
        sleep 0.05
    done
    waited=$(($(now_ms) - t0))
    check_eq "$what: pod $n's first /cluster once ready holds every acknowledged visit" \
        "$first" "$TR_ACKED"
    check "$what: ready from a peer's whole table, not the ${RECOVERY_MS} ms wait ($waited ms)" \
        test "$waited" -lt "$RECOVERY_MS"
    check "$what: pod $n drops replays of its peers' current lives" \
        tr_wait $CONVERGE_TRIES test "$(tr_dropped "$n" replay)" -gt 0
    kill "$rp" 2>/dev/null
    wait "$rp" 2>/dev/null
}

cl_dns_start 3
for i in 0 1 2; do cl_pod_start $i; done
for i in 0 1 2; do check "pod $i ready" cl_wait_http $i /readyz 100; done

# ---- record the pods' sealed gossip while they serve visits ---------------
python3 "$TOOL" capture --ips "$IPS" --port $CL_GOSSIP_PORT --out "$CAP" \
    --seconds $((20 * GOSSIP_MS / 1000)) >"$T_WORK/capture.json" &
cap_pid=$!
T_PIDS+=("$cap_pid")
tr_wait 50 test -e "$CAP.ready"
check "pod 0 acknowledges 40 visits" tr_visit 0 40
check "pod 1 acknowledges 25 visits" tr_visit 1 25
check "pod 2 acknowledges 15 visits" tr_visit 2 15
wait "$cap_pid"
tr_check_truth "while recorded" $CONVERGE_TRIES 0 1 2
ncap=$(json_get captured <"$T_WORK/capture.json")
check "recorded datagrams between the pods ($ncap)" test "$ncap" -gt 20
check_eq "every recorded datagram is sealed (envelope version 0x01)" \
    "$(python3 -c 'import json,sys; print(all(json.loads(l)["data"][:2]=="01" for l in open(sys.argv[1])))' "$CAP")" True

check "pod 0 acknowledges 10 more visits" tr_visit 0 10
check "pod 1 acknowledges 10 more visits" tr_visit 1 10
check "pod 2 acknowledges 10 more visits" tr_visit 2 10
tr_check_truth "after the recording" $CONVERGE_TRIES 0 1 2

# ---- replay everything to every pod, three times --------------------------
for i in 0 1 2; do
    before=$(tr_dropped $i replay)
    out=$(replay_to $i --rounds 3)
    own=$(json_get sent_to_dst <<<"$out")
    sent=$(json_get sent <<<"$out")
    sleep 0.3
    got=$(($(tr_dropped $i replay) - before))
    echo "pod $i: replayed $sent datagrams, $own of them first sent to it; replay drops +$got"
    check "pod $i drops as replay every copy of what it took before ($got >= $own)" \
        test "$got" -ge "$own"
    check "pod $i drops the rest or finds them harmless ($got <= $sent)" test "$got" -le "$sent"
done
for i in 0 1 2; do check_eq "pod $i still lists 3 pods" "$(tr_rows $i | wc -l)" 3; done
sleep $((5 * GOSSIP_MS / 1000 + 1))
tr_check_truth "after the replays" $CONVERGE_TRIES 0 1 2
for i in 0 1 2; do
    check_eq "pod $i's /count is what it acknowledged" "$(tr_count $i)" "${TR_ACKED_BY[$i]}"
    check_eq "pod $i's rows agree with pod 0's" "$(tr_rows $i | awk '{print $1, $4, $5}' | sort)" \
        "$(tr_rows 0 | awk '{print $1, $4, $5}' | sort)"
done

# ---- a pod restarting under replay is ready only when whole ---------------
cl_pod_stop 2 KILL
restart_under_replay 2 "restart on its volume"
cl_pod_stop 1 KILL
rm -rf "$T_WORK/data-$(cl_pod 1)"
restart_under_replay 1 "restart on an empty volume"
check_eq "pod 1's /count still shows its history on the old slot" "$(tr_count 1)" "${TR_ACKED_BY[1]}"

check "pod 1 acknowledges 5 visits on its new volume" tr_visit 1 5
check "pod 2 acknowledges 5 more" tr_visit 2 5
tr_check_truth "at the end" $CONVERGE_TRIES 0 1 2
t_done
