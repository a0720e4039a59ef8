# test_faults.sh: network faults between three tallyd pods, each in its own
# network namespace (root only; see lib.sh). 1) 30% loss on every pod's
# egress while visitors load every pod; every view converges to the sum of
# the acknowledged visits while the loss is on and again once it is removed. 2) pod 2 cut off for longer
# than the dead timeout: it keeps counting its own visits, pods 0 and 1 see it
# suspect then dead and keep counting theirs; after healing pod 2 is alive
# everywhere and every total equals the sum of every acknowledged visit.
# Throughout, a sampler inside each pod checks that no count in its view ever
# goes backwards. Prints the acknowledged/in-flight figures and how long each
# convergence took.
. "$TALLY_SRC/tests/process/lib.sh"
. "$TALLY_SRC/tests/netns/lib.sh"

tn_skip_unless_able
trap 'tn_down; t_cleanup' EXIT
trap 'exit 1' INT TERM # so the EXIT trap cleans up
tn_pick_loss || tn_skip "neither tc netem nor nftables can drop packets in a namespace here"

# Short timings: suspect after 200 * (4 + 3*ceil(log2 3)) = 2 s, dead 2 s later.
GOSSIP_MS=200
DEAD_MS=$((2 * GOSSIP_MS * 10))
LOAD=$TALLY_SRC/tests/process/visit_load.py
declare -a ACK=(0 0 0) INF=(0 0 0)

# load_start TAG N WHERE: closed-loop visitors on pod N from WHERE ("node":
# across the bridge, so loss and partitions apply; "self": inside pod N).
load_start() {
    local n=$2 where=$3 out=$T_WORK/load-$1-$2.json
    local args=(python3 "$LOAD" --host "$(tn_ip "$n")" --conns 2 --seconds 5 --max 400 --persist --timeout 2)
    local ns=$TN_NODE
    [ "$where" = node ] || ns=$(tn_ns "$n")
    # ip netns exec directly: $! must be the visitors, not a subshell.
    ip netns exec "$ns" "${args[@]}" >"$out" 2>"$out.err" &
    TN_PIDS+=($!)
    LOAD_PIDS+=($!)
}
# load_collect TAG: wait for the visitors, add their figures to ACK/INF.
load_collect() {
    local pid n a f
    for pid in "${LOAD_PIDS[@]}"; do wait "$pid"; done
    LOAD_PIDS=()
    for n in $TN_PODS; do
        [ -s "$T_WORK/load-$1-$n.json" ] || { not_ok "$1: the visitors of pod $n reported nothing"; continue; }
        read -r a f < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["acked"], d["inflight"])' \
            "$T_WORK/load-$1-$n.json")
        echo "# $1: pod $n acknowledged $a visits, $f in flight"
        ACK[n]=$((ACK[n] + a))
        INF[n]=$((INF[n] + f))
    done
}
# check_accounting WHEN: every pod's count holds all it acknowledged and at
# most its in-flight visits more; every total is the sum of every pod's count.
check_accounting() {
    local n c sum=0 acked=0 inflight=0 lost=0
    for n in $TN_PODS; do
        c=$(tn_count "$n")
        check "$1: pod $n count $c holds its ${ACK[n]} acknowledged visits (+ at most ${INF[n]} in flight)" \
            test "${c:-0}" -ge "${ACK[n]}" -a "${c:-0}" -le $((ACK[n] + INF[n]))
        [ "${c:-0}" -lt "${ACK[n]}" ] && lost=$((lost + ACK[n] - ${c:-0}))
        sum=$((sum + ${c:-0}))
        acked=$((acked + ACK[n]))
        inflight=$((inflight + INF[n]))
    done
    for n in $TN_PODS; do check_eq "$1: pod $n's cluster total is the sum of the counts" "$(tn_total "$n")" "$sum"; done
    check "$1: total $sum within [$acked, $acked + $inflight in flight]" \
        test "$sum" -ge "$acked" -a "$sum" -le $((acked + inflight))
    echo "# $1: acknowledged visits per pod: ${ACK[*]}; in flight: ${INF[*]}; cluster total $sum"
    echo "# $1: acknowledged visits lost: $lost"
    check_eq "$1: acknowledged visits lost" "$lost" 0
}

check "three pod namespaces on a bridge ($TN_NET.0/24)" tn_up
for n in $TN_PODS; do
    tn_start "$n" --sync always --gossip-interval $GOSSIP_MS --dns-interval 500 --recovery-wait 1000
done
for n in $TN_PODS; do check "pod $n ready" tn_wait 20 tn_ready "$n"; done
check "every pod sees all three alive" tn_wait 15 tn_agree

# The samplers run inside each pod: loss and the partition never hide a view.
SAMPLER_PIDS=()
for n in $TN_PODS; do
    ip netns exec "$(tn_ns "$n")" python3 "$TN_DIR/sampler.py" --url "http://$(tn_ip "$n"):8000" --interval 0.2 \
        --seconds 200 --out "$T_WORK/sampler-$n.json" &
    TN_PIDS+=($!)
    SAMPLER_PIDS+=($!)
done

# --- 1. 30% loss ----------------------------------------------------------
echo "# loss by $TN_LOSS_KIND"
check "30% loss on every pod's egress ($TN_LOSS_KIND)" tn_loss_on 30
LOAD_PIDS=()
for n in $TN_PODS; do load_start loss "$n" node; done
load_collect loss
check "visitors got visits through 30% loss on every pod" \
    test "${ACK[0]}" -gt 0 -a "${ACK[1]}" -gt 0 -a "${ACK[2]}" -gt 0
# Gossip is built to ride out this much loss (gossip/README.md): the views
# must agree while it is still on, not only once it is gone.
check "under 30% loss every view converges within 15 s" tn_wait 15 tn_agree
[ "$TN_WAITED" -lt 0 ] && echo "# last disagreement: $(cat "$T_WORK/agree.why")"
echo "# time to converge under 30% loss, once the visitors stopped: $TN_WAITED ms"
check "loss removed" tn_loss_off
check "after the loss every view converges within 15 s" tn_wait 15 tn_agree
[ "$TN_WAITED" -lt 0 ] && echo "# last disagreement: $(cat "$T_WORK/agree.why")"
echo "# time to converge after removing the loss: $TN_WAITED ms"
check_accounting "after loss"

# --- 2. pod 2 partitioned past the dead timeout ----------------------------
declare -a BEFORE=("$(tn_count 0)" "$(tn_count 1)" "$(tn_count 2)")
check "pod 2 cut off (its bridge port down)" tn_isolate 2
t_cut=$(date +%s%N)
cut_at=$(date +%s.%N)
check "pod 0 can no longer reach pod 2" \
    sh -c "! ip netns exec $(tn_ns 0) curl -fsS -o /dev/null --max-time 1 http://$(tn_ip 2):8000/healthz 2>/dev/null"
code=$(tn_in 2 curl -sS -o /dev/null -w '%{http_code}' --max-time 2 "http://$(tn_ip 2):8000/")
check_eq "cut off, pod 2 answers a visit from inside its namespace" "$code" 200
[ "$code" = 200 ] && ACK[2]=$((ACK[2] + 1))
for n in 0 1; do load_start cut "$n" node; done
load_start cut 2 self
load_collect cut
both_see_2() { tn_state_is 0 2 "$1" && tn_state_is 1 2 "$1"; }
sees_0_1() { tn_state_is 2 0 "$1" && tn_state_is 2 1 "$1"; }
check "pods 0 and 1 see pod 2 dead" tn_wait 15 both_see_2 dead
check "pod 2 sees pods 0 and 1 dead" tn_wait 15 sees_0_1 dead
# Cut off for longer than suspicion + dead timeouts, whatever the load took.
left=$((DEAD_MS + 1000 - ($(date +%s%N) - t_cut) / 1000000))
[ "$left" -gt 0 ] && sleep "$(printf '%d.%03d' $((left / 1000)) $((left % 1000)))"
n2=$(tn_count 2)
check "cut off, pod 2 kept counting its own visits (${BEFORE[2]} -> $n2)" test "$n2" -gt "${BEFORE[2]}"
for n in 0 1; do
    now=$(tn_count "$n")
    check "pods 0 and 1 kept counting: pod $n ${BEFORE[n]} -> $now" test "$now" -gt "${BEFORE[n]}"
done
check "pod 0's total still holds pod 2's visits from before the cut" test "$(tn_total 0)" -ge $((BEFORE[0] + BEFORE[1] + BEFORE[2]))
check "healed" tn_heal 2
cut_ms=$((($(date +%s%N) - t_cut) / 1000000))
heal_at=$(date +%s.%N)
echo "# pod 2 was cut off for $cut_ms ms (suspect + dead timeouts: $DEAD_MS ms)"
check "after healing every view converges, pod 2 alive everywhere, within 20 s" tn_wait 20 tn_agree
[ "$TN_WAITED" -lt 0 ] && echo "# last disagreement: $(cat "$T_WORK/agree.why")"
echo "# time to converge after healing: $TN_WAITED ms"
check_accounting "after healing"

# --- no count went backwards anywhere --------------------------------------
for pid in "${SAMPLER_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
for pid in "${SAMPLER_PIDS[@]}"; do wait "$pid"; done
for n in $TN_PODS; do
    out=$T_WORK/sampler-$n.json
    [ -s "$out" ] || { not_ok "sampler in pod $n wrote nothing"; continue; }
    read -r s v < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["samples"], len(d["violations"]))' "$out")
    check "pod $n's view sampled every ~200 ms ($s samples)" test "$s" -ge 50
    check_eq "no count ever went backwards in pod $n's view" "$v" 0
    [ "$v" = 0 ] || python3 -c 'import json,sys; print("#", json.load(open(sys.argv[1]))["violations"][:5])' "$out"
done
# saw_states VIEWER MEMBER: VIEWER's sampler saw MEMBER alive, suspect, dead,
# alive again, in that order; the states it saw are in $SEEN.
saw_states() {
    SEEN=$(python3 "$TN_DIR/views.py" seq "$T_WORK/sampler-$1.json" "$(tn_name "$2")" alive suspect dead alive)
}
# The cut pair, both ways: "VIEWER:MEMBER".
CUT_PAIRS="0:2 1:2 2:0 2:1"
healed_after=$(python3 -c 'import sys; print("%.1f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$cut_at" "$heal_at")
for pair in $CUT_PAIRS; do
    IFS=: read -r v m <<<"$pair"
    echo "# pod $v's view of pod $m after the cut: $(python3 "$TN_DIR/views.py" timeline \
        "$T_WORK/sampler-$v.json" "$(tn_name "$m")" "$cut_at") (healed at +$healed_after s)"
done
for pair in $CUT_PAIRS; do
    IFS=: read -r v m <<<"$pair"
    saw_states "$v" "$m"
    check "pod $v saw pod $m go alive, suspect, dead, alive ($SEEN)" saw_states "$v" "$m"
done
t_done
