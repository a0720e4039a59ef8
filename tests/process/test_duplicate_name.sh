# test_duplicate_name.sh: issue 11, case 8 (two live processes with one
# name). Pods 0 and 1 on 127.0.34.10-11 and a second tallyd also named
# myapp-stateful-0 on 127.0.34.13 with a volume of its own (dnsmasq on
# 127.0.34.9:5345 lists all three, gossip port 7345): a misconfiguration, or
# a pod and its stuck predecessor. Both log the duplicate_name warning, both
# show tally_duplicate_name 1 and /status "duplicate_name": true, and both
# slots are counted: every view's total is every acknowledged visit, and pod
# 1 shows myapp-stateful-0 with two slots. When the second one stops
# (SIGTERM), its visits stay counted and pod 0 is seen alive. (0.1.0 shut one
# out silently and its visits vanished from the total.)
. "$TALLY_SRC/tests/process/lib.sh"
. "$TALLY_SRC/tools/cluster-lib.sh"
. "$TALLY_SRC/tests/process/truth_lib.sh"
CL_NET=127.0.34
CL_DNS_PORT=5345
CL_HTTP_PORT=8345
CL_GOSSIP_PORT=7345
GOSSIP_MS=200
CL_TALLYD_ARGS="--gossip-interval $GOSSIP_MS --dns-interval 500 --recovery-wait 3000 --log-level debug"
CONVERGE_TRIES=$((100 * GOSSIP_MS / 200))
# The warning needs a few refutation exchanges; wait up to 50 rounds.
DUP_TRIES=$((250 * GOSSIP_MS / 200))
DUP=3 # the second process's index: its address, files and PID
cl_init "$T_WORK" "$TALLYD"
NAME0=$(cl_pod 0)

# dup_start: a second tallyd named like pod 0, on pod 3's address and volume.
# Its files are named as cl_pod_start names pod 3's, so cl_wait_http works.
dup_start() {
    local ip log
    ip=$(cl_ip $DUP)
    log=$CL_WORK/$(cl_pod $DUP).log
    mkdir -p "$T_WORK/data-dup"
    stat -c %s "$log" 2>/dev/null >"$CL_WORK/pod-$DUP.logoff" || echo 0 >"$CL_WORK/pod-$DUP.logoff"
    # shellcheck disable=SC2086
    "$TALLYD" --name "$NAME0" --bind "$ip" --http-port $CL_HTTP_PORT \
        --gossip-port $CL_GOSSIP_PORT --data-dir "$T_WORK/data-dup" \
        --service "$(cl_service)" --dns-server "$CL_NET.9:$CL_DNS_PORT" $CL_TALLYD_ARGS \
        >>"$log" 2>&1 &
    echo $! >"$CL_WORK/pod-$DUP.pid"
    echo "$DUP $ip" >"$CL_WORK/pod-$DUP.ip"
    cl_track $!
}
logged() { grep -q "duplicate_name name=$NAME0" "$1"; }
status_dup() { [ "$(tr_status "$1" duplicate_name)" = True ]; }
metric_dup() { [ "$(tr_metric "$1" tally_duplicate_name)" = 1 ]; }

cl_dns_start 2
echo "$DUP $(cl_ip $DUP)" >>"$CL_WORK/endpoints"
cl_dns_write
cl_pod_start 0
cl_pod_start 1
dup_start
for i in 0 1 $DUP; do check "process $i ready" cl_wait_http $i /readyz 100; done
check "pod 0 acknowledges 20 visits" tr_visit 0 20
check "the second $NAME0 acknowledges 30 visits" tr_visit $DUP 30
check "pod 1 acknowledges 10 visits" tr_visit 1 10

check "pod 0 logs the duplicate_name warning" tr_wait $DUP_TRIES logged "$CL_WORK/$NAME0.log"
check "the second $NAME0 logs it too" tr_wait $DUP_TRIES logged "$CL_WORK/$(cl_pod $DUP).log"
for i in 0 $DUP; do
    check "process $i: metric tally_duplicate_name is 1" tr_wait $DUP_TRIES metric_dup $i
    check "process $i: /status says duplicate_name true" status_dup $i
done
check_eq "pod 1 itself has no duplicate" "$(tr_metric 1 tally_duplicate_name)" 0
tr_check_truth "two processes named $NAME0" $CONVERGE_TRIES 0 1 $DUP
check "pod 1 shows $NAME0 with both slots, 20 and 30" \
    tr_wait $CONVERGE_TRIES tr_row_is 1 "$NAME0" visits 50
check_eq "... as two slots" "$(tr_row_field 1 "$NAME0" slots | tr , '\n' | sed 's/.*://' | sort -n | tr '\n' ' ')" "20 30 "
check_eq "pod 0's /count is both slots of its name" "$(tr_count 0)" 50

check "pod 0 acknowledges 4 more visits" tr_visit 0 4
check "the second $NAME0 acknowledges 6 more" tr_visit $DUP 6
tr_check_truth "more visits on both" $CONVERGE_TRIES 0 1 $DUP

# ---- the second one stops: its visits stay, pod 0 is alive ---------------------
cl_pod_stop $DUP TERM
check_eq "the second $NAME0 exits 0 on SIGTERM" "$CL_STATUS" 0
awk -v d=$DUP '$1 != d' "$CL_WORK/endpoints" >"$CL_WORK/e" && mv "$CL_WORK/e" "$CL_WORK/endpoints"
cl_dns_write
check "pod 1 sees $NAME0 alive (pod 0 refutes the other's leave)" \
    tr_wait $CONVERGE_TRIES tr_row_is 1 "$NAME0" state alive
check "pod 0 acknowledges 3 more visits" tr_visit 0 3
tr_check_truth "the second one gone" $CONVERGE_TRIES 0 1
sleep $((10 * GOSSIP_MS / 1000))
check_eq "pod 1 still sees $NAME0 alive" "$(tr_row_field 1 "$NAME0" state)" alive
t_done
