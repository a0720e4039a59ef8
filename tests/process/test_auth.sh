# test_auth.sh: authenticated gossip on three real tallyd pods (127.0.9.10-12,
# dnsmasq on 127.0.9.9:5359), each with its own key file as each Kubernetes
# pod has its own copy of the Secret. Pods sharing a key converge; a bad key
# file stops the start with its name and line; a pod with the wrong key never
# enters anyone's /cluster and its datagrams are counted as auth drops; a
# forged unauthenticated HEARTBEAT claiming pod 1's name with a million visits
# is dropped (and, as a control, is accepted by a pod running without a key);
# tallyctl pings only with the key; and the key is rotated on the running
# cluster in the three steps of docs/key-rotation.md, with no datagram between
# the pods dropped and a visit spreading to all at every step, after which a
# pod left with only the old key is cut off.
. "$TALLY_SRC/tests/process/lib.sh"
. "$TALLY_SRC/tools/cluster-lib.sh"
CL_NET=127.0.9
CL_DNS_PORT=5359
BASE_ARGS="--gossip-interval 200 --dns-interval 500 --recovery-wait 1000 --log-level debug"
cl_init "$T_WORK" "$TALLYD"
CTL=$TALLY_BUILD/tools/tallyctl
unset TALLY_KEY_FILE TALLYCTL_URL POD_IP TALLY_SERVICE

KEY_A=$(head -c 32 /dev/urandom | base64)
KEY_B=$(head -c 32 /dev/urandom | base64)
KEY_WRONG=$(head -c 32 /dev/urandom | base64)

wait_for() {
    local n=$1
    shift
    for _ in $(seq "$n"); do "$@" && return 0; sleep 0.2; done
    return 1
}
not() { ! "$@"; }
keyfile() { echo "$T_WORK/key-$1"; }
# put_key N LINE...: replace pod N's key file the way the kubelet updates a
# Secret volume: a new file moved over the old one.
put_key() {
    local f
    f=$(keyfile "$1")
    shift
    printf '%s\n' "$@" >"$f.new" && chmod 0600 "$f.new" && mv "$f.new" "$f"
}
pod_start() { CL_TALLYD_ARGS="$BASE_ARGS --key-file $(keyfile "$1")" cl_pod_start "$1"; }
pod_log() { cat "$CL_WORK/$(cl_pod "$1").log"; }
reloads() { pod_log "$1" | grep -c "gossip_key_reloaded" || true; }
reloads_above() { [ "$(reloads "$1")" -gt "$2" ]; }
cluster_json() { curl -fsS --max-time 2 "$(cl_pod_url "$1" /cluster)"; }
total_of() { cluster_json "$1" | json_get total 2>/dev/null; }
totals_are() {
    local i
    for i in $PODS; do [ "$(total_of "$i")" = "$1" ] || return 1; done
}
names_of() { cluster_json "$1" | python3 -c 'import json,sys; print(" ".join(sorted(p["name"] for p in json.load(sys.stdin)["pods"])))'; }
state_of() {
    cluster_json "$1" | python3 -c '
import json,sys
rows=[p for p in json.load(sys.stdin)["pods"] if p["name"]==sys.argv[1]]
print(rows[0]["state"] if rows else "")' "$(cl_pod "$2")"
}
not_alive() { [ "$(state_of "$1" "$2")" != alive ]; }
auth_drops() {
    curl -fsS --max-time 2 "$(cl_pod_url "$1" /metrics)" |
        awk '$1 == "tally_gossip_dropped_total{reason=\"auth\"}" {print $2}'
}
drops_above() { [ "$(auth_drops "$1")" -gt "$2" ]; }
visit() { local _; for _ in $(seq "$2"); do curl -fsS -o /dev/null "$(cl_pod_url "$1" /)"; done; }

# forge IP PORT NAME COUNT ADDR: send one unsealed HEARTBEAT, as proto/WIRE.md
# (version 2) spells it, from NAME at a high incarnation with COUNT visits on
# a made-up volume.
forge() {
    python3 - "$@" <<'EOF'
import socket, struct, sys, time
ip, port, name, count, addr = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
def s(v):
    b = v.encode()
    return bytes([0xa0 | len(b)]) + b  # fixstr: every string here is < 32 bytes
def u(v):
    if v < 128: return bytes([v])
    if v < 1 << 8: return b"\xcc" + bytes([v])
    if v < 1 << 16: return b"\xcd" + struct.pack(">H", v)
    if v < 1 << 32: return b"\xce" + struct.pack(">I", v)
    return b"\xcf" + struct.pack(">Q", v)
inc, vol = 1000, 0x6d616c6c6f7279  # newer than the real pod's; a volume no one has
entry = b"\x97" + s(name) + u(inc) + u(1) + u(0) + s(addr) + u(vol) + b"\x92" + u(vol) + u(count)
msg = (b"\x85" + s("v") + u(2) + s("w") + b"\x92" + u(2) + u(2) + s("t") + u(1) + s("f") + s(name)
       + s("e") + b"\x91" + entry)
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(3):
    sock.sendto(msg, (ip, port))
EOF
}

# ---- a bad key file stops the start, named with its line ------------------
printf '%s\n%s\n' "$KEY_A" "not-a-key" >"$(keyfile 9)"
out=$("$TALLYD" --name bad --bind "$CL_NET.19" --data-dir "$T_WORK" --key-file "$(keyfile 9)" 2>&1)
rc=$?
check_eq "a bad key file stops tallyd (exit 1)" "$rc" 1
check "... with the file and line named" grep -q "key file $(keyfile 9) line 2: not base64" <<<"$out"
: >"$(keyfile 8)"
out=$("$TALLYD" --name bad --bind "$CL_NET.19" --data-dir "$T_WORK" --key-file "$(keyfile 8)" 2>&1)
check "an empty key file stops tallyd" grep -q "holds no key" <<<"$out"
out=$("$TALLYD" --name bad --bind "$CL_NET.19" --data-dir "$T_WORK" --key-file "$T_WORK/none" 2>&1)
check "a missing key file stops tallyd" grep -q "key file $T_WORK/none: No such file" <<<"$out"

# ---- three pods with key A converge -----------------------------------------
cl_dns_start 3
for i in 0 1 2; do put_key $i "# cluster key" "$KEY_A"; done
chmod 0644 "$(keyfile 2)"
for i in 0 1 2; do pod_start $i; done
for i in 0 1 2; do check "pod $i ready with key A" cl_wait_http $i /readyz 100; done
PODS="0 1 2"
check "pod 2 warns that its key file is world-readable" grep -q gossip_key_file_world_readable "$CL_WORK/$(cl_pod 2).log"
check "pod 0 does not" not grep -q gossip_key_file_world_readable "$CL_WORK/$(cl_pod 0).log"
chmod 0600 "$(keyfile 2)"
visit 0 2
visit 1 3
visit 2 4
check "totals converge to 9 on every pod" wait_for 50 totals_are 9
check_eq "pods sharing the key drop nothing" "$(auth_drops 0)$(auth_drops 1)$(auth_drops 2)" 000

# ---- tallyctl ping needs the key --------------------------------------------
"$CTL" ping --count 1 --timeout 500 "$CL_NET.10" >/dev/null 2>&1
check_eq "tallyctl ping without the key gets no answer (exit 1)" "$?" 1
check "... and the unsealed PING is counted as an auth drop" drops_above 0 0
out=$(TALLY_KEY_FILE=$(keyfile 0) "$CTL" ping --count 1 "$CL_NET.10" 2>&1)
check "tallyctl ping with TALLY_KEY_FILE gets pod 0's ACK" grep -q "ACK from $(cl_pod 0)" <<<"$out"
out=$(TALLY_KEY_FILE=$(keyfile 0) "$CTL" dns --dns-server "$CL_NET.9:$CL_DNS_PORT" "$(cl_service)" 2>&1)
check "tallyctl dns with the key: all three pods answer" grep -q "3 of 3 addresses answer" <<<"$out"

# ---- a pod with the wrong key stays out -------------------------------------
put_key 3 "$KEY_WRONG"
base=$(auth_drops 0)
pod_start 3
check "pod 3 (wrong key) is up, ready after its bounded recovery wait" cl_wait_http 3 /readyz 100
visit 3 5
check "pod 0 drops pod 3's datagrams as auth failures" wait_for 50 drops_above 0 "$base"
sleep 2 # several gossip rounds and DNS greetings from pod 3
for i in 0 1 2; do
    check_eq "pod 3 is not in pod $i's /cluster" "$(names_of $i)" \
        "$(cl_pod 0) $(cl_pod 1) $(cl_pod 2)"
done
check "totals are still 9" totals_are 9
check_eq "pod 3 sees only itself" "$(names_of 3)" "$(cl_pod 3)"

# ---- a forged unauthenticated HEARTBEAT never reaches /cluster --------------
base=$(auth_drops 0)
forge "$CL_NET.10" "$CL_GOSSIP_PORT" "$(cl_pod 1)" 1000000 "$CL_NET.11:$CL_GOSSIP_PORT"
check "the forged HEARTBEAT is counted as an auth drop" wait_for 25 drops_above 0 "$base"
sleep 1
check_eq "pod 0's total is unchanged (9)" "$(total_of 0)" 9
check "all totals still 9" totals_are 9
# Control: the very same datagram, to a tallyd without a key and without
# discovery (so no source list either), is believed, so it is the key, not a
# malformed forgery, that keeps it out above.
mkdir -p "$T_WORK/data-control"
"$TALLYD" --name control --bind "$CL_NET.14" --data-dir "$T_WORK/data-control" \
    --gossip-interval 200 --recovery-wait 10 >>"$T_WORK/control.log" 2>&1 &
CONTROL=$!
T_PIDS+=("$CONTROL")
check "control pod without a key is up" wait_http "http://$CL_NET.14:8000/healthz"
forge "$CL_NET.14" "$CL_GOSSIP_PORT" "$(cl_pod 1)" 1000000 "$CL_NET.11:$CL_GOSSIP_PORT"
check "control: without a key the forgery raises the total to 1000000" \
    wait_for 25 test "$(curl -fsS "http://$CL_NET.14:8000/cluster" | json_get total)" = 1000000
kill "$CONTROL" && wait "$CONTROL" 2>/dev/null

# ---- pod 3 with key A joins; then rotate A -> B on pods 0-2, pod 3 left on A --
cl_pod_stop 3 TERM
put_key 3 "$KEY_A"
pod_start 3
check "pod 3 back, now with key A" cl_wait_http 3 /readyz 100
PODS="0 1 2 3"
check "pod 3 joins: totals converge to 14 on every pod" wait_for 50 totals_are 14
PODS="0 1 2"
sleep 1 # let the control pod's unsealed heartbeats (to pod 1) stop arriving
d0=$(auth_drops 0) d1=$(auth_drops 1) d2=$(auth_drops 2)
expect=14

# step N I: wait for pod I to pick up its new key file, then check that a
# visit on it reaches every pod.
step_check() {
    local step=$1 i=$2 before=$3
    check "step $step: pod $i reloads its key file without a restart" wait_for 25 reloads_above "$i" "$before"
    visit "$i" 1
    expect=$((expect + 1))
    check "step $step: a visit on pod $i reaches every pod ($expect)" wait_for 50 totals_are $expect
}
# Step 1: every pod accepts B (still sends with A).
for i in 0 1 2; do
    r=$(reloads $i)
    put_key $i "$KEY_A" "$KEY_B"
    step_check 1 $i "$r"
done
check "step 1: pod 0 sends with A, accepts A and B" grep -q "gossip_key_reloaded.*keys=2" "$CL_WORK/$(cl_pod 0).log"
# Step 2: one by one, B first (sends with B; A still accepted).
for i in 0 1 2; do
    r=$(reloads $i)
    put_key $i "$KEY_B" "$KEY_A"
    step_check 2 $i "$r"
done
check_eq "steps 1-2: no datagram between pods 0-2 was dropped" \
    "$(auth_drops 0) $(auth_drops 1) $(auth_drops 2)" "$d0 $d1 $d2"
out=$(TALLY_KEY_FILE=$(keyfile 3) "$CTL" ping --count 1 --timeout 500 "$CL_NET.10" 2>&1)
check "step 2: a client with only A gets no answer it can read (pod 0 seals with B now)" \
    not grep -q "ACK from" <<<"$out"
# Step 3: A removed; written in place this time (not a rename).
for i in 0 1 2; do
    r=$(reloads $i)
    printf '%s\n' "$KEY_B" >"$(keyfile $i)"
    step_check 3 $i "$r"
done
out=$(TALLY_KEY_FILE=$(keyfile 0) "$CTL" ping --count 1 "$CL_NET.11" 2>&1)
check "step 3: tallyctl with key B pings pod 1" grep -q "ACK from $(cl_pod 1)" <<<"$out"

kill -HUP "$(cl_pod_pid 0)"
check "SIGHUP makes pod 0 check its key file, and it keeps running" \
    wait_for 25 grep -q "signal name=SIGHUP action=reload_key_file" "$CL_WORK/$(cl_pod 0).log"
check "... and still serves" cl_wait_http 0 /healthz 10

# Pod 3 still has only A: cut off.
base=$(auth_drops 0)
check "after step 3, pod 0 drops pod 3's A-sealed datagrams" wait_for 50 drops_above 0 "$base"
visit 3 7
sleep 2
check_eq "pod 3's new visits never reach pod 0 (total $expect)" "$(total_of 0)" $expect
check "pod 0 stops seeing pod 3 alive" wait_for 75 not_alive 0 3
check "pods 0-2 stay converged ($expect)" totals_are $expect
t_done
