# test_cluster.sh: three real tallyd pods on 127.0.4.10-12 finding each other
# through dnsmasq (the headless service's records), as the local cluster runs
# them. Totals converge; kill -9 and restart keeps a count; a pod whose volume
# was lost starts a new slot at 0 while its old slot keeps its visits in every
# view (its /count still shows its history); SIGTERM makes the others show it
# left with its visits still in the total; a DNS record moved to a new address
# is followed.
. "$TALLY_SRC/tests/process/lib.sh"
. "$TALLY_SRC/tools/cluster-lib.sh"
CL_NET=127.0.4
CL_DNS_PORT=5354
CL_TALLYD_ARGS="--gossip-interval 200 --dns-interval 500 --recovery-wait 3000 --log-level debug"
cl_init "$T_WORK" "$TALLYD"

# wait_for TRIES CMD...: retry CMD every 0.2 s.
wait_for() {
    local n=$1 t
    shift
    for t in $(seq "$n"); do "$@" && return 0; sleep 0.2; done
    return 1
}
cluster_json() { curl -fsS --max-time 2 "$(cl_pod_url "$1" /cluster)"; }
total_is() { [ "$(cluster_json "$1" | json_get total 2>/dev/null)" = "$2" ]; }
all_totals_are() { local i; for i in $PODS; do total_is "$i" "$1" || return 1; done; }
# pod_field VIEWER POD FIELD: FIELD of POD's row in VIEWER's /cluster
pod_field() {
    cluster_json "$1" | python3 -c '
import json,sys
rows=[p for p in json.load(sys.stdin)["pods"] if p["name"]==sys.argv[1]]
print(rows[0][sys.argv[2]] if rows else "")' "$(cl_pod "$2")" "$3"
}
field_is() { [ "$(pod_field "$1" "$2" "$3")" = "$4" ]; }
visit() { local k; for k in $(seq "$2"); do curl -fsS -o /dev/null "$(cl_pod_url "$1" /)"; done; }

cl_dns_start 3
for i in 0 1 2; do cl_pod_start $i; done
for i in 0 1 2; do check "pod $i ready" cl_wait_http $i /readyz 100; done
PODS="0 1 2"

visit 0 2
visit 1 3
visit 2 4
check "totals converge to 9 on every pod" wait_for 50 all_totals_are 9
check_eq "pod 0 lists three pods" "$(cluster_json 0 | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["pods"]))')" 3
check "pod 2 sees pod 1 alive with 3 visits" field_is 2 1 visits 3

cl_pod_stop 1 KILL
cl_pod_start 1
check "pod 1 back after kill -9" cl_wait_http 1 /readyz 100
check_eq "pod 1 kept its count across kill -9" "$(curl -fsS "$(cl_pod_url 1 /count)" | json_get visits)" 3
check "totals still 9" wait_for 50 all_totals_are 9

cl_pod_stop 2 KILL
rm -rf "$T_WORK/data-$(cl_pod 2)"
cl_pod_start 2
check "pod 2 back on an empty volume" cl_wait_http 2 /healthz 100
check "pod 2 ready after recovery" cl_wait_http 2 /readyz 100
check_eq "pod 2's /count still shows its history (4, on its old slot)" "$(curl -fsS "$(cl_pod_url 2 /count)" | json_get visits)" 4
check_eq "pod 2 lists two slots for itself, the old one with 4" \
    "$(cluster_json 2 | python3 -c '
import json,sys
me=[p for p in json.load(sys.stdin)["pods"] if p.get("self")][0]
print(len(me["slots"]), sorted(s["visits"] for s in me["slots"]))')" "2 [0, 4]"
visit 2 1
check_eq "the new volume counts only what it served (1)" "$(cat "$T_WORK/data-$(cl_pod 2)/visits.txt")" 1
check_eq "pod 2's /count grows from its history (5)" "$(curl -fsS "$(cl_pod_url 2 /count)" | json_get visits)" 5
check "totals converge to 10" wait_for 50 all_totals_are 10

cl_pod_stop 0 TERM
check_eq "SIGTERM: pod 0 exits 0" "$CL_STATUS" 0
PODS="1 2"
check "pod 1 shows pod 0 left" wait_for 25 field_is 1 0 state left
check "pod 2 shows pod 0 left" wait_for 25 field_is 2 0 state left
check "pod 0's 2 visits stay in the total" all_totals_are 10

new_ip=$CL_NET.21
cl_pod_stop 1 KILL
cl_dns_move 1 $new_ip
cl_pod_start 1 $new_ip
check "pod 1 up on its new address" cl_wait_http 1 /readyz 100
check "pod 2 follows pod 1 to $new_ip" wait_for 50 field_is 2 1 address "$new_ip:$CL_GOSSIP_PORT"
check "pod 2 sees pod 1 alive again" wait_for 50 field_is 2 1 state alive
visit 1 1
check "a visit on the moved pod reaches pod 2's total (11)" wait_for 50 total_is 2 11
check_eq "pod 1's count survived the move" "$(curl -fsS "$(cl_pod_url 1 /count)" | json_get visits)" 4
t_done
