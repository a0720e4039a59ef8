# test_metrics_logs.sh: what monitoring reads from one tallyd on 127.0.32.10.
# /metrics passes `promtool check metrics` (Debian's prometheus package, from
# tools/install-deps.sh) and has the process_* metrics, a request duration
# histogram per route, the protocol range in tally_build_info and the sync
# mode on its own. Every log line parses strictly as logfmt and, with
# --log-format json, as JSON, even when a value holds spaces, quotes or a
# newline (a data dir named so, a corrupt count file).
. "$TALLY_SRC/tests/process/lib.sh"
IP=127.0.32.10
DATA="$T_WORK/data dir \"quoted\""
mkdir -p "$DATA"
PARSE="python3 $TALLY_SRC/tests/process/logparse.py"
command -v promtool >/dev/null || { not_ok "promtool not found (tools/install-deps.sh installs prometheus)"; t_done; exit 1; }

start() { # start LOG [ARGS...]
    local log=$1
    shift
    "$TALLYD" --name pod-m --bind $IP --data-dir "$DATA" "$@" >>"$log" 2>&1 &
    PID=$!
    T_PIDS+=("$PID")
}

start "$T_WORK/logfmt.log" --sync interval --log-level debug
check "tallyd becomes ready" wait_http http://$IP:8000/readyz
check "the first visit's page says 1 visit, not 1 visits" grep -q "<b>1</b> visit\.<" <(curl -fsS http://$IP:8000/)
for p in / /count /cluster /status /nope; do curl -s -o /dev/null http://$IP:8000$p; done
curl -fsS http://$IP:8000/metrics >"$T_WORK/metrics.txt"
check "promtool check metrics exits 0" promtool check metrics <"$T_WORK/metrics.txt"
m=$(cat "$T_WORK/metrics.txt")
for name in process_cpu_seconds_total process_resident_memory_bytes process_open_fds \
    process_max_fds process_start_time_seconds; do
    check "metrics: $name" grep -qE "^$name [0-9.e+]+$" <<<"$m"
done
check "metrics: start time is the process's (within a minute of now)" python3 -c '
import sys, time
v = [float(l.split()[1]) for l in sys.stdin if l.startswith("process_start_time_seconds ")][0]
sys.exit(abs(time.time() - v) > 60)' <<<"$m"
check "metrics: two visits in the / duration histogram" \
    grep -q '^tally_http_request_duration_seconds_count{route="/"} 2$' <<<"$m"
check "metrics: the 404 in route other" \
    grep -q '^tally_http_request_duration_seconds_bucket{route="other",le="+Inf"} 1$' <<<"$m"
check "metrics: build info carries the protocol range, not the sync mode" \
    grep -qE '^tally_build_info\{version="[^"]+",protocol_min="[0-9]+",protocol_max="[0-9]+"\} 1$' <<<"$m"
check "metrics: sync mode on its own" grep -q '^tally_sync_mode{mode="interval"} 1$' <<<"$m"
check "metrics: cluster visits is a gauge without _total" grep -q '^# TYPE tally_cluster_visits gauge$' <<<"$m"
kill -TERM $PID
wait $PID

check "logfmt: every line parses" $PARSE logfmt "$T_WORK/logfmt.log"
s=$($PARSE logfmt "$T_WORK/logfmt.log")
check "logfmt: the data dir with spaces and quotes is one field" grep -qF "store_loaded dir=$DATA count=0" <<<"$s"
check "logfmt: one line per event (started once, stopped once)" \
    test "$(grep -c '^started ' <<<"$s")/$(grep -c '^stopped ' <<<"$s")" = 1/1

start "$T_WORK/json.log" --log-format json
check "json: tallyd becomes ready" wait_http http://$IP:8000/readyz
kill -TERM $PID
wait $PID
printf '12\n"x"\n' >"$DATA/visits.txt" # corrupt: the error quotes what the file holds
"$TALLYD" --name pod-m --bind $IP --data-dir "$DATA" --log-format json >>"$T_WORK/json.log" 2>&1
check "json: every line parses" $PARSE json "$T_WORK/json.log"
s=$($PARSE json "$T_WORK/json.log")
check "json: the stop is logged" grep -q '^stopped count=2 durable=2$' <<<"$s"
check "json: the corrupt file's error names the file" grep -qF "store_load_failed detail=count file $DATA/visits.txt is corrupt" <<<"$s"
"$TALLYD" --name pod-m --bind $IP --data-dir "$DATA" >>"$T_WORK/logfmt2.log" 2>&1
check "logfmt: the corrupt file's error parses too" $PARSE logfmt "$T_WORK/logfmt2.log"
t_done
