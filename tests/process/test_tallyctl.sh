# test_tallyctl.sh: tallyctl against three real tallyd pods on 127.0.6.10-12
# with their DNS (dnsmasq on 127.0.6.9:5356), as an operator would use it with
# kubectl exec: every command's table and --json output carry the right pods
# and counts, and every failure (tallyd down, a name that does not resolve, an
# address nobody answers on, a corrupt or impossible count file, bad usage)
# exits with the documented code and a plain message.
. "$TALLY_SRC/tests/process/lib.sh"
. "$TALLY_SRC/tools/cluster-lib.sh"
CL_NET=127.0.6
CL_DNS_PORT=5356
# Static --peers beside DNS so membership does not depend on discovery timing:
# this test is about tallyctl; DNS is still what `tallyctl dns` checks.
CL_TALLYD_ARGS="--gossip-interval 200 --dns-interval 500 --recovery-wait 1000 \
--peers $CL_NET.10:7946,$CL_NET.11:7946,$CL_NET.12:7946"
cl_init "$T_WORK" "$TALLYD"
CTL=$TALLY_BUILD/tools/tallyctl
URL0=http://$CL_NET.10:8000
SVC=$(cl_service)
DNS=$CL_NET.9:$CL_DNS_PORT
unset TALLYCTL_URL POD_IP TALLY_SERVICE DATA_DIR

# run ARGS...: tallyctl with pod 0's URL; sets OUT, ERR, RC.
run() {
    OUT=$("$CTL" --url "$URL0" "$@" 2>"$T_WORK/err")
    RC=$?
    ERR=$(cat "$T_WORK/err")
}
has() { case "$1" in *"$2"*) return 0 ;; *) return 1 ;; esac; }
# py EXPR: evaluate EXPR with j = the JSON in $OUT.
py() { printf '%s' "$OUT" | python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }
wait_for() {
    local n=$1 t
    shift
    for t in $(seq "$n"); do "$@" && return 0; sleep 0.2; done
    return 1
}
total_is() { [ "$(curl -fsS --max-time 2 "$(cl_pod_url "$1" /cluster)" | json_get total 2>/dev/null)" = "$2" ]; }
visit() { local k; for k in $(seq "$2"); do curl -fsS -o /dev/null "$(cl_pod_url "$1" /)"; done; }

cl_dns_start 3
for i in 0 1 2; do cl_pod_start $i; done
for i in 0 1 2; do check "pod $i ready" cl_wait_http $i /readyz 100; done
visit 0 2
visit 1 3
visit 2 4
check "pod 0 sees the total of 9" wait_for 50 total_is 0 9

# ---- success paths -----------------------------------------------------
run status
check_eq "status exits 0 on a ready pod" "$RC" 0
check "status names the pod and says ready" has "$OUT" "ready       yes"
check "status shows the count" has "$OUT" "visits      2 (all durable)"
check "status shows the total" has "$OUT" "total       9"
check "status shows 2 alive peers" has "$OUT" "peers       2 alive, 0 suspect, 0 dead, 0 left"
run status --json
check_eq "status --json: pod" "$(py 'j["pod"]')" myapp-stateful-0
check_eq "status --json: visits, durable, ready" "$(py 'j["visits"], j["durable"], j["ready"]')" "2 2 True"

run peers
check_eq "peers exits 0" "$RC" 0
for i in 0 1 2; do check "peers lists pod $i with its address" has "$OUT" "$(cl_pod $i)  $CL_NET.1$i:7946  alive"; done
check "peers marks itself" has "$OUT" "(self)"
check "peers sums up" has "$OUT" "3 members: 3 alive, 0 suspect, 0 dead, 0 left; total 9 visits"
run peers --json
check_eq "peers --json: names and visits" \
    "$(py '" ".join("%s=%d" % (p["name"], p["visits"]) for p in sorted(j["pods"], key=lambda p: p["name"]))')" \
    "myapp-stateful-0=2 myapp-stateful-1=3 myapp-stateful-2=4"

run count
check_eq "count prints this pod's count" "$OUT" "myapp-stateful-0: 2 visits"
run count --json
check_eq "count --json" "$(py 'j["pod"], j["visits"]')" "myapp-stateful-0 2"

run cluster
check_eq "cluster exits 0" "$RC" 0
check "cluster has a row per pod" has "$OUT" "myapp-stateful-2  alive       4"
check "cluster shows the total" has "$OUT" "TOTAL                         9"
run cluster --json
check_eq "cluster --json total" "$(py 'j["total"]')" 9

run dns "$SVC" --dns-server "$DNS"
check_eq "dns exits 0" "$RC" 0
check "dns shows the SRV record" has "$OUT" "_gossip._udp.$SVC"
check "dns: every address answers" has "$OUT" "3 of 3 addresses answer gossip PINGs"
run dns --dns-server "$DNS" --json # NAME from tallyd's /status
check_eq "dns without NAME asks tallyd for the service" "$(py 'j["name"]')" "$SVC"
check_eq "dns --json: the pods behind the addresses" \
    "$(py '" ".join(sorted("%s=%s" % (a["address"], a["pod"]) for a in j["addresses"] if a["answers"]))')" \
    "$CL_NET.10:7946=myapp-stateful-0 $CL_NET.11:7946=myapp-stateful-1 $CL_NET.12:7946=myapp-stateful-2"
check_eq "dns --json: 3 answering" "$(py 'j["answering"]')" 3
OUT=$(TALLY_SERVICE=$SVC "$CTL" --url http://127.0.6.99:1 dns --dns-server "$DNS" --json 2>/dev/null)
check_eq "dns takes NAME from TALLY_SERVICE, without tallyd" "$(py 'j["answering"]')" 3

run ping myapp-stateful-1 --count 2
check_eq "ping by pod name exits 0" "$RC" 0
check "ping found the pod through /cluster" has "$OUT" "(127.0.6.11:7946, found by cluster)"
check "ping shows the ACK's entry" has "$OUT" "ACK from myapp-stateful-1:"
check "ping sums up" has "$OUT" "--- 2 sent, 2 answered, 0 lost"
run ping "$CL_NET.12" --json
check_eq "ping ADDR --json: who answered, with what" \
    "$(py 'j["answered"], j["replies"][0]["pod"], j["replies"][0]["visits"], j["replies"][0]["state"]')" \
    "3 myapp-stateful-2 4 alive"
OUT=$("$CTL" --url http://127.0.6.99:1 ping "$(cl_fqdn 2)" --dns-server "$DNS" --count 1 --json 2>/dev/null)
check_eq "ping by DNS name without tallyd" "$(py 'j["found_by"], j["replies"][0]["pod"]')" "dns myapp-stateful-2"

run file "$T_WORK/data-myapp-stateful-0"
check_eq "file exits 0 on a good file" "$RC" 0
check "file: count and verdict" has "$OUT" "verdict   matches"
run file --json
OUT=$(DATA_DIR=$T_WORK/data-myapp-stateful-0 "$CTL" --url "$URL0" file --json)
check_eq "file --json (DIR from DATA_DIR)" "$(py 'j["state"], j["count"], j["verdict"], j["tallyd"]["durable"]')" \
    "ok 2 matches 2"

# ---- failure paths -----------------------------------------------------
run ping "$CL_NET.50:7946" --timeout 300 --count 2
check_eq "ping of an address nobody listens on exits 1" "$RC" 1
check "it says no answer" has "$ERR" "did not answer any gossip PING"
run dns "nosuch.$SVC" --dns-server "$DNS" --timeout 500
check_eq "dns of a name that does not exist exits 1" "$RC" 1
check "it says it does not resolve" has "$ERR" "does not resolve to any address"

mkdir -p "$T_WORK/corrupt" && printf '12a\n' >"$T_WORK/corrupt/visits.txt"
run file "$T_WORK/corrupt"
check_eq "file on a corrupt file exits 1" "$RC" 1
check "it quotes the bytes and the fault" has "$OUT" 'CORRUPT: found "12a\n" (byte 3 is not a digit)'
mkdir -p "$T_WORK/fresh"
run file "$T_WORK/fresh"
check_eq "file on a fresh volume exits 0" "$RC" 0
check "it says fresh volume" has "$OUT" "a fresh volume"
run file "$T_WORK/not-mounted"
check_eq "file on a missing data dir exits 1" "$RC" 1
# Pod 2 gets no visits here, so nothing rewrites its file while we look.
printf '999\n' >"$T_WORK/data-myapp-stateful-2/visits.txt"
OUT=$("$CTL" --url "$(cl_pod_url 2)" file "$T_WORK/data-myapp-stateful-2")
RC=$?
check_eq "file AHEAD of tallyd exits 1" "$RC" 1
check "it says so" has "$OUT" "file AHEAD of tallyd: unexpected"
printf '4\n' >"$T_WORK/data-myapp-stateful-2/visits.txt"

run stauts
check_eq "bad usage exits 2" "$RC" 2
check "it names the mistake" has "$ERR" "unknown command 'stauts'"
run ping
check_eq "ping without a target exits 2" "$RC" 2
run status --timeout abc
check_eq "bad --timeout exits 2" "$RC" 2

cl_pod_stop 0 TERM
check_eq "pod 0 stops with SIGTERM, exit 0" "$CL_STATUS" 0
run status
check_eq "status with tallyd stopped exits 1" "$RC" 1
check_eq "it says so plainly" "$ERR" \
    "tallyctl: tallyd is not answering on $URL0 (connection refused): is the pod running?"
run file "$T_WORK/data-myapp-stateful-0"
check_eq "file still works with tallyd stopped" "$RC" 0
check "it says the comparison was skipped" has "$OUT" "not compared: tallyd is not answering"
t_done
