# test_restart_all.sh: issue 11, case 3 (all pods restart together after one
# left). Three pods on 127.0.34.10-12 (dnsmasq on 127.0.34.9:5343, gossip port
# 7343). Pod 2 serves visits, then leaves for good: SIGTERM, and its DNS
# records go as a scale-down removes them. Pods 0 and 1 are then killed
# together (kill -9) and started together on the same volumes; later both
# stop with SIGTERM and start together again. Each time pod 2's visits are
# still in every total: nobody can tell them but DATA_DIR/cluster.table, the
# copy of the merged table each pod keeps on its volume (0.1.0 lost them: a
# departed pod's count lived only in its peers' memory).
. "$TALLY_SRC/tests/process/lib.sh"
. "$TALLY_SRC/tools/cluster-lib.sh"
. "$TALLY_SRC/tests/process/truth_lib.sh"
CL_NET=127.0.34
CL_DNS_PORT=5343
CL_HTTP_PORT=8343
CL_GOSSIP_PORT=7343
GOSSIP_MS=200
RECOVERY_MS=3000
CL_TALLYD_ARGS="--gossip-interval $GOSSIP_MS --dns-interval 500 --recovery-wait $RECOVERY_MS --log-level debug"
CONVERGE_TRIES=$((100 * GOSSIP_MS / 200))
cl_init "$T_WORK" "$TALLYD"

# table_holds N POD COUNT STATE: pod N's DATA_DIR/cluster.table has POD's row
# in STATE with COUNT visits over its slots (format/table.h). Both matter: the
# kill -9 below loses whatever the last save did not hold, and the count can
# be saved before the LEAVE is.
table_holds() {
    awk -v p="$2" '$1 == "m" && $2 == p {
        s = 0; for (i = 7; i <= NF; i++) { split($i, a, ":"); s += a[2] } print s, $6 }' \
        "$T_WORK/data-$(cl_pod "$1")/cluster.table" 2>/dev/null | grep -qx "$3 $4"
}

cl_dns_start 3
for i in 0 1 2; do cl_pod_start $i; done
for i in 0 1 2; do check "pod $i ready" cl_wait_http $i /readyz 100; done
check "pod 0 acknowledges 12 visits" tr_visit 0 12
check "pod 1 acknowledges 17 visits" tr_visit 1 17
check "pod 2 acknowledges 41 visits" tr_visit 2 41
tr_check_truth "three pods" $CONVERGE_TRIES 0 1 2

# ---- pod 2 leaves for good -------------------------------------------------
cl_pod_stop 2 TERM
check_eq "pod 2 exits 0 on SIGTERM" "$CL_STATUS" 0
awk '$1 != 2' "$CL_WORK/endpoints" >"$CL_WORK/e" && mv "$CL_WORK/e" "$CL_WORK/endpoints"
cl_dns_write
for i in 0 1; do
    check "pod $i shows pod 2 left" tr_wait $CONVERGE_TRIES tr_row_is $i "$(cl_pod 2)" state left
done
tr_check_truth "pod 2 left" $CONVERGE_TRIES 0 1
# A kill -9 loses what the pod has not saved yet; the table is saved within
# seconds of a change, so wait until each volume holds pod 2's visits.
for i in 0 1; do
    check "pod $i's cluster.table holds pod 2 left with 41 visits" \
        tr_wait $CONVERGE_TRIES table_holds $i "$(cl_pod 2)" 41 left
done

# ---- pods 0 and 1 killed and started together --------------------------------
pid0=$(cl_pod_pid 0) pid1=$(cl_pod_pid 1)
{
    kill -9 "$pid0" "$pid1"
    wait "$pid0" "$pid1"
} 2>/dev/null
cl_pod_start 0
cl_pod_start 1
for i in 0 1; do
    check "pod $i ready after both were killed" cl_wait_http $i /readyz 100
    check_eq "pod $i's first /cluster once ready holds all $TR_ACKED visits" "$(tr_total $i)" $TR_ACKED
done
tr_check_truth "both killed and restarted together" $CONVERGE_TRIES 0 1
for i in 0 1; do
    check_eq "pod $i still lists pod 2 (left) with its 41 visits" \
        "$(tr_row_field $i "$(cl_pod 2)" state) $(tr_row_field $i "$(cl_pod 2)" visits)" "left 41"
done
check "pod 0 acknowledges 3 more visits" tr_visit 0 3
check "pod 1 acknowledges 4 more visits" tr_visit 1 4
tr_check_truth "visits after the restart" $CONVERGE_TRIES 0 1

# ---- both stopped (SIGTERM) and started together ----------------------------
cl_pod_stop 0 TERM
cl_pod_stop 1 TERM
cl_pod_start 0
cl_pod_start 1
for i in 0 1; do
    check "pod $i ready after both stopped" cl_wait_http $i /readyz 100
    check_eq "pod $i's first /cluster once ready holds all $TR_ACKED visits" "$(tr_total $i)" $TR_ACKED
done
tr_check_truth "both stopped and restarted together" $CONVERGE_TRIES 0 1
for i in 0 1; do
    check_eq "pod $i's /count is what it acknowledged" "$(tr_count $i)" "${TR_ACKED_BY[$i]}"
done

# ---- pod 2 comes back on its volume: one slot, counting on ------------------
echo "2 $(cl_ip 2)" >>"$CL_WORK/endpoints"
cl_dns_write
cl_pod_start 2
check "pod 2 back and ready" cl_wait_http 2 /readyz 100
check_eq "pod 2's /count kept its 41" "$(tr_count 2)" 41
check "pod 2 acknowledges 2 more visits" tr_visit 2 2
tr_check_truth "pod 2 back" $CONVERGE_TRIES 0 1 2
check "pod 0 shows pod 2 alive again" tr_wait $CONVERGE_TRIES tr_row_is 0 "$(cl_pod 2)" state alive
t_done
