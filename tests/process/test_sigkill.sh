# test_sigkill.sh: nothing acknowledged is lost. Closed-loop clients visit
# tallyd (--sync always) while it is killed with SIGKILL; after each kill the
# count on disk must lie between the visits acknowledged and those plus the
# ones in flight. Then it restarts on the same volume, and again.
# Parameters from the environment (tests/hardening.cmake runs it as a crash
# loop of 20 short rounds): ROUNDS, SIGKILL_IP, KILL_AFTER (seconds of load
# before the kill), LOAD_SECONDS (the load's own bound).
. "$TALLY_SRC/tests/process/lib.sh"
IP=${SIGKILL_IP:-127.0.3.20}
DATA=$T_WORK/data
ROUNDS=${ROUNDS:-5}
KILL_AFTER=${KILL_AFTER:-1.5}
LOAD_SECONDS=${LOAD_SECONDS:-6}
mkdir -p "$DATA"
acked_total=0
inflight_total=0

for round in $(seq "$ROUNDS"); do
    "$TALLYD" --name pod-k --bind $IP --data-dir "$DATA" --sync always >>"$T_WORK/tallyd.log" 2>&1 &
    pid=$!
    T_PIDS+=("$pid")
    wait_http http://$IP:8000/readyz || { not_ok "round $round: tallyd did not start"; break; }
    before=$(cat "$DATA/visits.txt" 2>/dev/null || echo 0)
    python3 "$TALLY_SRC/tests/process/visit_load.py" --host $IP --conns 32 --seconds "$LOAD_SECONDS" \
        >"$T_WORK/load.json" &
    load=$!
    sleep "$KILL_AFTER"
    kill -9 $pid
    wait $pid 2>/dev/null
    wait $load
    acked=$(json_get acked <"$T_WORK/load.json")
    inflight=$(json_get inflight <"$T_WORK/load.json")
    disk=$(cat "$DATA/visits.txt")
    acked_total=$((acked_total + acked))
    inflight_total=$((inflight_total + inflight))
    echo "round $round: before=$before acked=$acked inflight=$inflight disk=$disk"
    check "round $round: load made visits" test "$acked" -gt 0
    check "round $round: acknowledged <= on disk <= acknowledged + in flight" \
        test $((before + acked)) -le "$disk" -a "$disk" -le $((before + acked + inflight))
done
echo "total acknowledged $acked_total, in flight at the kills $inflight_total, final count $(cat "$DATA/visits.txt")"
t_done
