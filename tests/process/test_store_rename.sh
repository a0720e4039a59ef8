# test_store_rename.sh: the count file moved away under a running pod, and a
# FIFO in its place at start.
# 1. Under load (--sync always), `mv visits.txt x`; the load goes on, then
#    tallyd is killed with SIGKILL. Restarted on the same volume it must count
#    at least every visit that was acknowledged: none went only to x, the
#    renamed file a restart never reads.
# 2. A FIFO at visits.txt is refused at start, at once (not by waiting for a
#    writer that never comes), with a message naming the file.
. "$TALLY_SRC/tests/process/lib.sh"
IP=127.0.33.1
DATA=$T_WORK/data
mkdir -p "$DATA"

# --gossip-interval 600000: the daemon's file watch (once a gossip round)
# never runs during the test, so only the write path can notice the move.
start_pod() {
    "$TALLYD" --name pod-r --bind $IP --data-dir "$DATA" --sync always --gossip-interval 600000 \
        >>"$T_WORK/tallyd.log" 2>&1 &
    pid=$!
    T_PIDS+=("$pid")
    wait_http http://$IP:8000/readyz
}

check "tallyd becomes ready" start_pod
python3 "$TALLY_SRC/tests/process/visit_load.py" --host $IP --conns 16 --seconds 20 \
    >"$T_WORK/load.json" &
load=$!
# wait for the load to have made visits (bounded), then move the file away
for _ in $(seq 100); do
    [ "$(cat "$DATA/visits.txt" 2>/dev/null || echo 0)" -gt 50 ] && break
    sleep 0.1
done
mv "$DATA/visits.txt" "$DATA/x"
moved=$(cat "$DATA/x")
# the load goes on: the pod's next write must find the name gone and write
# visits.txt again
for _ in $(seq 100); do
    [ "$(cat "$DATA/visits.txt" 2>/dev/null || echo 0)" -gt "$moved" ] && break
    sleep 0.1
done
sleep 0.5
kill -9 $pid
wait $pid 2>/dev/null
wait $load
acked=$(json_get acked <"$T_WORK/load.json")
inflight=$(json_get inflight <"$T_WORK/load.json")
x=$(cat "$DATA/x")
echo "moved at $moved (x holds $x), acked=$acked inflight=$inflight," \
    "visits.txt=$(cat "$DATA/visits.txt" 2>/dev/null || echo missing)"
check "the load made visits after the move" test "$acked" -gt "$moved"

check "tallyd restarts on the same volume" start_pod
count=$(curl -fsS http://$IP:8000/count | json_get visits)
echo "restarted pod counts $count"
check "acknowledged ($acked) <= what the restarted pod counts ($count)" test "$acked" -le "$count"
check "... <= acknowledged + in flight ($((acked + inflight)))" test "$count" -le $((acked + inflight))
check "the renamed file holds no more than the pod counts" test "$x" -le "$count"
kill -TERM $pid
wait $pid
check_eq "SIGTERM: exit status 0" "$?" 0

# 2. A FIFO where the count file should be.
FIFO_DATA=$T_WORK/fifo
mkdir -p "$FIFO_DATA"
mkfifo "$FIFO_DATA/visits.txt"
# 10 s is only a bound for a hang: the refusal needs no waiting at all
timeout 10 "$TALLYD" --name pod-f --bind $IP --data-dir "$FIFO_DATA" >"$T_WORK/fifo.log" 2>&1
rc=$?
cat "$T_WORK/fifo.log"
check "a FIFO at visits.txt: the start fails (exit $rc, 124 would be a hang)" \
    test "$rc" -ne 0 -a "$rc" -ne 124
check "the message names the file and says FIFO" \
    grep -q "$FIFO_DATA/visits.txt is not a regular file but a FIFO" "$T_WORK/fifo.log"
check "the FIFO is left as it was" test -p "$FIFO_DATA/visits.txt"
t_done
