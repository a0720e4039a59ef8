# test_single_pod.sh: one real tallyd on 127.0.3.10: what a user of one pod
# relies on: visits counted and persisted in the seed's file format, routes
# without side effects, clear refusals of a corrupt file or missing volume, a
# clean SIGTERM.
. "$TALLY_SRC/tests/process/lib.sh"
IP=127.0.3.10
DATA=$T_WORK/data
mkdir -p "$DATA"

start() { # start [ARGS...]: tallyd on $IP, PID in $PID
    "$TALLYD" --name pod-0 --bind $IP --http-port 8000 --gossip-port 7946 --data-dir "$DATA" "$@" \
        >>"$T_WORK/tallyd.log" 2>&1 &
    PID=$!
    T_PIDS+=("$PID")
}

start
check "tallyd becomes ready" wait_http http://$IP:8000/readyz
for i in 1 2 3; do curl -fsS -o /dev/null http://$IP:8000/; done
check_eq "three visits: visits.txt holds 3 and a newline" "$(od -An -c "$DATA/visits.txt" | tr -s ' ')" " 3 \n"
check_eq "/count answers the pod and its count" "$(curl -fsS http://$IP:8000/count)" '{"pod": "pod-0", "visits": 3}'
page=$(curl -fsS -D "$T_WORK/h" http://$IP:8000/)
check "GET / answers an HTML page naming the pod and its count" \
    grep -q "pod-0.*4" <<<"$page"
check "GET / says text/html" grep -qi "^content-type: text/html" "$T_WORK/h"

for path in /healthz /livez /readyz /metrics /count /cluster; do
    curl -fsS -o /dev/null http://$IP:8000$path
done
curl -fsS -o /dev/null -I http://$IP:8000/
check_eq "probes, metrics, /cluster and HEAD / count nothing" "$(cat "$DATA/visits.txt")" 4

check_eq "unknown path is 404" "$(curl -s -o /dev/null -w '%{http_code}' http://$IP:8000/nope)" 404
check_eq "POST / is 405" "$(curl -s -o /dev/null -w '%{http_code}' -X POST http://$IP:8000/)" 405
check "405 carries Allow" sh -c "curl -s -D - -o /dev/null -X DELETE http://$IP:8000/count | grep -qi '^allow: GET, HEAD'"
check_eq "a POST counts nothing" "$(cat "$DATA/visits.txt")" 4

metrics=$(curl -fsS http://$IP:8000/metrics)
check "metrics: tally_visits_total 4" grep -q '^tally_visits_total 4$' <<<"$metrics"
check "metrics: build info" grep -q '^tally_build_info{version=' <<<"$metrics"
check "metrics: requests by route and code" grep -q 'tally_http_requests_total{route="/",code="200"} 5' <<<"$metrics"
check "metrics: store write latency histogram" grep -q '^tally_store_write_seconds_bucket{le="+Inf"}' <<<"$metrics"
check "metrics: batch sizes" grep -q '^tally_store_batch_visits_count' <<<"$metrics"

kill -TERM $PID
wait $PID
check_eq "SIGTERM: exit status 0" "$?" 0
check_eq "count survives the restart" "$(cat "$DATA/visits.txt")" 4
start
wait_http http://$IP:8000/readyz
check_eq "restarted pod reports the same count" "$(curl -fsS http://$IP:8000/count | json_get visits)" 4
kill -TERM $PID
wait $PID

echo "12x" >"$DATA/visits.txt"
start
wait $PID
check_eq "corrupt count file: refuses to start (exit 1)" "$?" 1
check "corrupt count file: the log names the file and what was found" \
    grep -q "$DATA/visits.txt.*12x" "$T_WORK/tallyd.log"
check_eq "corrupt count file is left as it was, not reset" "$(cat "$DATA/visits.txt")" 12x

: >"$DATA/visits.txt"
start
wait $PID
check_eq "empty count file: refuses to start" "$?" 1

rm -rf "$DATA"
start
wait $PID
check_eq "missing volume: refuses to start" "$?" 1
check "missing volume: the log says the data dir does not exist" grep -q "$DATA.*does not exist" "$T_WORK/tallyd.log"

"$TALLYD" --http-port 99999 >"$T_WORK/bad" 2>&1
check_eq "bad flag value: exit 2" "$?" 2
check "bad flag value: message names the flag" grep -q -- "--http-port" "$T_WORK/bad"
check "--help lists --sync with its default" sh -c "'$TALLYD' --help | grep -q 'default: always'"
t_done
