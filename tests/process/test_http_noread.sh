# test_http_noread.sh: clients that pipeline and never read cannot blow up a pod.
# 300 connections each send 64 KB of pipelined GET /metrics (~1,700 requests,
# several MB of answers each if all were built) and never read. tallyd must
# stop parsing each one once it holds HTTP_MAX_CONN_OUT of answers, so its
# peak RSS stays under 32 MiB (half the manifest's 64 Mi limit) and /healthz
# keeps answering on a fresh connection meanwhile. Latency is printed, not
# asserted beyond "answers well inside its timeout" (the machine may be busy).
. "$TALLY_SRC/tests/process/lib.sh"
IP=127.0.23.1
DATA=$T_WORK/data
mkdir -p "$DATA"
RSS_MAX_KIB=$((32 * 1024))

(
    ulimit -n 4096
    exec "$TALLYD" --name pod-n --bind $IP --http-port 8000 --gossip-port 7946 --data-dir "$DATA" \
        --idle-timeout 60000 >>"$T_WORK/tallyd.log" 2>&1
) &
PID=$!
T_PIDS+=("$PID")
check "tallyd becomes ready" wait_http http://$IP:8000/readyz
metrics_len=$(curl -fsS http://$IP:8000/metrics | wc -c)
echo "one /metrics answer: $metrics_len bytes"

python3 "$TALLY_SRC/tests/process/noread_clients.py" --host $IP --pid $PID --conns 300 \
    --bytes 65536 --path /metrics >"$T_WORK/noread.json"
echo "noread clients: $(cat "$T_WORK/noread.json")"
jq_py() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

check "tallyd is still running" kill -0 $PID
check_eq "300 connections opened" "$(jq_py "$T_WORK/noread.json" 'd["conns"]')" 300
check "each sent at least 32 KB of pipelined requests" \
    test "$(jq_py "$T_WORK/noread.json" 'd["sent_bytes"]')" -ge $((300 * 32768))
check_eq "/healthz answered 200 every time while they held on" \
    "$(jq_py "$T_WORK/noread.json" 'd["healthz_ok"]')" 20
hwm=$(jq_py "$T_WORK/noread.json" 'd["hwm_kib"]')
check "peak RSS ${hwm} KiB < ${RSS_MAX_KIB} KiB" test "$hwm" -lt $RSS_MAX_KIB

metrics=$(curl -fsS --max-time 10 http://$IP:8000/metrics)
peak=$(awk '$1 == "tally_http_conn_out_bytes_peak" { print $2 }' <<<"$metrics")
cap=$((32 * 1024))
check "no connection held more than the cap plus one answer ($peak <= $cap + $metrics_len + 4096)" \
    test "${peak:-999999999}" -le $((cap + metrics_len + 4096))
check_eq "no visit was counted" "$(curl -fsS http://$IP:8000/count | json_get visits)" 0

kill -TERM $PID
wait $PID
check_eq "SIGTERM: exit status 0" "$?" 0
t_done
