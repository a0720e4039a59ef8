#!/usr/bin/env bash
# bench.sh: tally's benchmarks in one command - HTTP against nginx and Redis,
# the disk's own commit rates (atomic replace, in place), /count and /cluster with 3 and 1000 members,
# the gossip simulator's table and 50 real tallyd processes on loopback.
#
#   tools/bench.sh                full run (~15 min), report in build-bench/bench/
#   tools/bench.sh --smoke        every piece once with tiny durations (ctest bench_smoke)
#   tools/bench.sh --runs 5 --duration 10 --out DIR
#
# Ends with the table of the targets in docs/BENCHMARKS.md (Redis INCR appendfsync always at
# 1, 64 and 64 x 16 pipelined connections; nginx at 64 with server CPU per
# request; 300 clients that pipeline GET /metrics and never read) and verdicts.
#
# Method (see docs/BENCHMARKS.md): each server is pinned to CPU 0 with
# taskset -c 0 and the load generator (wrk, redis-benchmark) to CPU 1; all the
# servers compared run side by side in the same run, interleaved run by run,
# 3 runs each, reported as median (min-max) and as a ratio to nginx. Server
# CPU per request is each server's own CPU time (/proc/PID/task/*/schedstat)
# divided by the requests it answered.
#
# Everything listens on 127.0.7.x / 127.0.8.x only. Every server is started
# here, from a temp dir, and stopped by the PID recorded here; every run is
# bounded by `timeout`. Missing tools are installed with apt-get (nginx-light,
# redis-server, redis-tools, wrk, gnuplot-nox); if that starts the packages'
# own system services, they are stopped again.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
HELP=$SRC/tools/bench
SMOKE=${TALLY_BENCH_SMOKE:-0} # ctest sets it: tally_add_script_test passes no arguments
RUNS=3
DUR=5
OUT=
BUILD=${TALLY_BUILD:-}
PODS=50
while [ $# -gt 0 ]; do
    case $1 in
    --smoke) SMOKE=1 ;;
    --runs) RUNS=$2; shift ;;
    --duration) DUR=$2; shift ;;
    --out) OUT=$2; shift ;;
    --build) BUILD=$2; shift ;;
    --pods) PODS=$2; shift ;;
    -h | --help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
for v in "$RUNS" "$DUR" "$PODS"; do
    [[ $v =~ ^[1-9][0-9]*$ ]] || { echo "bench: --runs, --duration and --pods take positive integers" >&2; exit 2; }
done
[ "$PODS" -le 200 ] || { echo "bench: --pods at most 200" >&2; exit 2; }
if [ "$SMOKE" = 1 ]; then RUNS=1; DUR=1; PODS=5; fi
BUILD=${BUILD:-$SRC/build-bench}
export PATH=$PATH:/usr/sbin:/sbin

PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
not_ok() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
say() { echo "bench: $*" >&2; }
die() { echo "bench: $*" >&2; exit 1; }
# figure DESC VALUE: in smoke mode a piece passes when it printed a number.
figure() {
    if [[ $2 =~ ^[0-9]+(\.[0-9]+)?$ ]]; then ok "$1: $2"; else not_ok "$1: got '$2'"; fi
}

# ---------------------------------------------------------------- processes

WORK=$(mktemp -d /tmp/tally-bench.XXXXXX)
chmod 0755 "$WORK"
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# A smoke run keeps its figures in the temp dir: it must not overwrite a full run's.
if [ "$SMOKE" = 1 ]; then OUT=${OUT:-$WORK/results}; else OUT=${OUT:-$BUILD/bench}; fi

# stop PID: TERM, then KILL after 5 s; then forget it, so the exit trap never
# signals a PID the system may since have given to someone else.
stop() {
    local p keep=()
    {
        if kill "$1"; then
            for _ in $(seq 50); do kill -0 "$1" || break; sleep 0.1; done
            kill -9 "$1" || true
        fi
        wait "$1" || true
    } 2>/dev/null # also hides bash's "Killed" notice for a pod we killed on purpose
    for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    PIDS=("${keep[@]}")
}

wait_http() {
    local _
    for _ in $(seq "${2:-100}"); do
        curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# cpu_ns PID...: CPU time used by these processes, all threads, in ns.
cpu_ns() {
    local pid f s=0 v
    for pid in "$@"; do
        for f in /proc/"$pid"/task/*/schedstat; do
            read -r v _ <"$f" 2>/dev/null || continue
            s=$((s + v))
        done
    done
    echo "$s"
}
# cpu0_us: CPU 0's busy time (all processes, softirq included) in us.
cpu0_us() {
    awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu0" {
        printf "%.0f\n", ($2 + $3 + $4 + $7 + $8 + $9) * 1e6 / hz }' /proc/stat
}
rss_kib() { awk '/^VmRSS/ {print $2}' /proc/"$1"/status; }
children() { cat /proc/"$1"/task/*/children 2>/dev/null || true; }
metric() { curl -fsS --max-time 2 "$1/metrics" | awk -v k="$2" '$1 == k {print $2}'; }

# ---------------------------------------------------------------- set-up

# Tools: install only what is missing; a smoke run that cannot get them skips.
need_tools() {
    local missing=() pkgs=() c
    declare -A pkg=([wrk]=wrk [nginx]=nginx-light [redis-server]=redis-server
        [redis-benchmark]=redis-tools [gnuplot]=gnuplot-nox [taskset]=util-linux
        [curl]=curl [python3]=python3 [cmake]=cmake)
    for c in wrk nginx redis-server redis-benchmark gnuplot taskset curl python3 cmake; do
        command -v "$c" >/dev/null || { missing+=("$c"); pkgs+=("${pkg[$c]}"); }
    done
    [ ${#missing[@]} = 0 ] && return 0
    say "installing ${pkgs[*]}"
    local sudo=
    [ "$(id -u)" = 0 ] || sudo=sudo
    if ! { timeout 300 $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
        timeout 600 $sudo apt-get install -y -qq "${pkgs[@]}"; } >"$WORK/apt.log" 2>&1; then
        tail -5 "$WORK/apt.log" >&2
        return 1
    fi
    # The packages may start their own system services: stop those only.
    case " ${pkgs[*]} " in *" nginx-light "*)
        $sudo service nginx status >/dev/null 2>&1 && $sudo service nginx stop >/dev/null 2>&1 ;; esac
    case " ${pkgs[*]} " in *" redis-server "*)
        $sudo service redis-server status >/dev/null 2>&1 && $sudo service redis-server stop >/dev/null 2>&1 ;; esac
    for c in "${missing[@]}"; do command -v "$c" >/dev/null || return 1; done
    return 0
}
if ! need_tools; then
    if [ "$SMOKE" = 1 ]; then
        echo "bench: wrk, nginx or redis missing and not installable: skipping"
        echo "0 passed, 0 failed, 1 skipped"
        exit 0
    fi
    die "could not install the tools (see above)"
fi

if [ -z "${TALLY_BUILD:-}" ] || [ ! -x "$BUILD/node/tallyd" ]; then
    say "building into $BUILD"
    cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$WORK/cmake.log" 2>&1 ||
        { tail -20 "$WORK/cmake.log" >&2; die "cmake failed"; }
    cmake --build "$BUILD" --target tallyd bench_store -j2 >>"$WORK/cmake.log" 2>&1 ||
        { tail -20 "$WORK/cmake.log" >&2; die "build failed"; }
    cmake --build "$BUILD" --target tally-sim -j2 >>"$WORK/cmake.log" 2>&1 ||
        say "tally-sim did not build: its figures will be missing"
fi
TALLYD=$BUILD/node/tallyd
SIM=$BUILD/tests/tally-sim
[ -x "$TALLYD" ] || die "no $TALLYD"
mkdir -p "$OUT/raw"
rm -f "$OUT"/raw/* "$OUT"/*.tsv "$OUT"/facts.txt
HTTP_TSV=$OUT/http.tsv
FACTS=$OUT/facts.txt
printf 'kind\tserver\ttest\tconns\tpipe\trun\trps\tp50_ms\tp99_ms\tcpu_us\tcpu0_us\tbatch\twrite_ms\n' >"$HTTP_TSV"
fact() { echo "$1=$2" >>"$FACTS"; }

# The load average every 10 s for the whole run: the report quotes its range,
# so a run disturbed by other work on the machine shows it.
(while :; do echo "$(date +%s) $(cut -d' ' -f1-3 /proc/loadavg)"; sleep 10; done) >"$OUT/raw/loadavg.txt" 2>/dev/null &
PIDS+=($!)

# ---------------------------------------------------------------- machine

fact nproc "$(nproc)"
fact cpu "$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
fact kernel "$(uname -r)"
fact fs "$(df -T "$WORK" | awk 'NR == 2 {print $2 " on " $1 " (" $7 ")"}')"
fact disk "$(lsblk -dno NAME,MODEL,ROTA,SIZE "$(df "$WORK" | awk 'NR == 2 {print $1}')" 2>/dev/null |
    tr -s ' ' | head -1)"
fact load_start "$(cut -d' ' -f1-3 /proc/loadavg)"
fact date "$(date -u +%Y-%m-%dT%H:%MZ)"
fact versions "$("$TALLYD" --version 2>&1 | head -1); $(nginx -v 2>&1); $(redis-server --version | cut -d' ' -f1-3); $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
fact mode "$([ "$SMOKE" = 1 ] && echo smoke || echo full) runs=$RUNS duration=${DUR}s"
say "work dir $WORK, results in $OUT"

# ---------------------------------------------------------------- disk

# tallyd creates the count file by atomic replace and overwrites it in place
# (pwrite at offset 0 + fdatasync) for every later commit: the second rate is
# the ceiling of --sync always before group commit multiplies it by the batch.
say "disk: durable commits per second on $(df -T "$WORK" | awk 'NR == 2 {print $2}')"
mkdir -p "$WORK/store"
timeout 120 "$BUILD/tests/bench_store" "$WORK/store" "$([ "$SMOKE" = 1 ] && echo 50 || echo 2000)" \
    >"$OUT/raw/bench_store.txt" 2>&1 || true
cat "$OUT/raw/bench_store.txt" >&2
# bs ROW FIELD: from bench_store's line starting with ROW, the number before
# "commits/s" (rate), "us each" (us) or "us" at the end (cpu).
bs() {
    awk -v row="$1" -v want="$2" 'index($0, row) == 1 {
        for (i = 1; i <= NF; i++) {
            if ($i == "commits/s," && want == "rate") print $(i - 1)
            if ($i == "each," && want == "us") print $(i - 2)
        }
        if (want == "cpu") print $(NF - 1)
    }' "$OUT/raw/bench_store.txt" | head -1
}
fact disk_commits_s "$(bs "atomic replace with fsync:" rate)"
fact disk_nofsync_s "$(bs "atomic replace without fsync:" rate)"
fact disk_store_inplace_s "$(bs "in place with fdatasync:" rate)"
fact disk_store_inplace_nosync_s "$(bs "in place without fdatasync:" rate)"
# The same in-place writes through node/store/commit.c, one visit a time: what a
# write costs beyond pwrite + fdatasync (thread hand-offs, the loop turn).
fact disk_inplace_again_us "$(bs "in place with fdatasync (again):" us)"
fact disk_inplace_again_cpu_us "$(bs "in place with fdatasync (again):" cpu)"
fact disk_commit_one_us "$(bs "group commit, one visit a time:" us)"
fact disk_commit_one_cpu_us "$(bs "group commit, one visit a time:" cpu)"
figure "disk atomic replaces/s" "$(sed -n 's/^disk_commits_s=//p' "$FACTS")"
figure "group commit of one visit (us per write)" "$(sed -n 's/^disk_commit_one_us=//p' "$FACTS")"
figure "disk in-place overwrites/s (store_count_overwrite)" "$(sed -n 's/^disk_store_inplace_s=//p' "$FACTS")"
# The same in-place commit from Python, independent of tally's code.
timeout 120 python3 "$HELP/disk_inplace.py" "$WORK/store" "$([ "$SMOKE" = 1 ] && echo 50 || echo 2000)" \
    >"$OUT/raw/disk_inplace.txt" 2>&1 || true
cat "$OUT/raw/disk_inplace.txt" >&2
fact disk_inplace_s "$(awk '/commits\/s/ {print $(NF-1)}' "$OUT/raw/disk_inplace.txt")"
figure "disk pwrite+fdatasync/s" "$(sed -n 's/^disk_inplace_s=//p' "$FACTS")"

# ---------------------------------------------------------------- HTTP

# tally_start NAME IP SYNC [ARGS...]: a pinned tallyd; PID in TALLY_PID.
tally_start() {
    local name=$1 ip=$2 sync=$3
    shift 3
    mkdir -p "$WORK/data-$name"
    taskset -c 0 "$TALLYD" --name "$name" --bind "$ip" --data-dir "$WORK/data-$name" \
        --sync "$sync" --log-level warn "$@" >>"$WORK/$name.log" 2>&1 &
    TALLY_PID=$!
    PIDS+=("$TALLY_PID")
    wait_http "http://$ip:8000/readyz" 100 || { cat "$WORK/$name.log" >&2; die "$name not ready"; }
}

declare -A URL SPID
for s in none interval always; do
    case $s in none) ip=127.0.7.10 ;; interval) ip=127.0.7.11 ;; always) ip=127.0.7.12 ;; esac
    tally_start "tally-$s" "$ip" "$s"
    URL[tally-$s]=http://$ip:8000
    SPID[tally-$s]=$TALLY_PID
done

# nginx answers with a body as long as tally's page (tally's grows by a digit
# now and then: take the page at a 7-digit count).
page=$(curl -fsS "${URL[tally-none]}/")
body_len=$((${#page} + 6))
body=$(head -c "$body_len" /dev/zero | tr '\0' 'x')
mkdir -p "$WORK/nginx"
sed -e "s|@DIR@|$WORK/nginx|g" -e "s|@ADDR@|127.0.7.2:8000|" -e "s|@BODY@|$body|" \
    -e "s|@USER@|$([ "$(id -u)" = 0 ] && echo 'user root;')|" "$HELP/nginx.conf.in" >"$WORK/nginx/nginx.conf"
taskset -c 0 nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/nginx-error.log" \
    >"$WORK/nginx/stdout" 2>&1 &
PIDS+=($!)
SPID[nginx]=$!
URL[nginx]=http://127.0.7.2:8000
wait_http "${URL[nginx]}/" 50 || { cat "$WORK/nginx/"*.log "$WORK/nginx/stdout" >&2; die "nginx did not start"; }
fact body_bytes "$body_len"

declare -A RIP=([always]=127.0.7.3 [everysec]=127.0.7.4 [no]=127.0.7.5)
for f in always everysec no; do
    mkdir -p "$WORK/redis-$f"
    sed -e "s|@DIR@|$WORK|g" -e "s|@ADDR@|${RIP[$f]}|" -e "s|@PORT@|6379|" -e "s|@FSYNC@|$f|g" \
        "$HELP/redis.conf.in" >"$WORK/redis-$f.conf"
    taskset -c 0 redis-server "$WORK/redis-$f.conf" >/dev/null 2>&1 &
    PIDS+=($!)
    SPID[redis-$f]=$!
done
for f in always everysec no; do
    for _ in $(seq 50); do
        redis-cli -h "${RIP[$f]}" ping 2>/dev/null | grep -q PONG && break
        sleep 0.1
    done
    redis-cli -h "${RIP[$f]}" ping 2>/dev/null | grep -q PONG || die "redis ($f) did not start"
done

# wrk_parse FILE: "rps p50_ms p99_ms requests" from wrk --latency output.
wrk_parse() {
    awk 'function ms(v) {
            if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0
            if (v ~ /s$/) return v * 1000; return v }
         /^ +50%/ {p50 = ms($2)} /^ +99%/ {p99 = ms($2)}
         /requests in/ {n = $1} /^Requests\/sec/ {rps = $2}
         END {printf "%s %s %s %s\n", rps, p50, p99, n}' "$1"
}

# run_wrk SERVER TEST PATH CONNS PIPE RUN: one wrk run against a pinned server.
run_wrk() {
    local srv=$1 test=$2 path=$3 conns=$4 pipe=$5 run=$6 f pids c0 u0 b0 n0 w0 script=()
    f=$OUT/raw/$srv-$test-c$conns-p$pipe-r$run.txt
    [ "$pipe" -gt 1 ] && script=(-s "$HELP/pipeline.lua" -- "$pipe")
    # nginx's worker is a child of the PID we started; tallyd has none
    read -r -a pids <<<"${SPID[$srv]} $(children "${SPID[$srv]}" | tr '\n' ' ')"
    if [[ $srv == tally-* ]]; then
        b0=$(metric "${URL[$srv]}" tally_store_batch_visits_sum)
        n0=$(metric "${URL[$srv]}" tally_store_batch_visits_count)
        w0=$(metric "${URL[$srv]}" tally_store_write_seconds_sum)
    fi
    c0=$(cpu_ns "${pids[@]}")
    u0=$(cpu0_us)
    timeout $((DUR + 30)) taskset -c 1 wrk -t1 -c "$conns" -d "${DUR}s" --timeout 5s --latency \
        "${URL[$srv]}$path" "${script[@]}" >"$f" 2>&1 || say "wrk on $srv $test failed (see $f)"
    local c1 u1 rps p50 p99 n batch=- wms=-
    c1=$(cpu_ns "${pids[@]}")
    u1=$(cpu0_us)
    read -r rps p50 p99 n < <(wrk_parse "$f")
    if [[ $srv == tally-* ]]; then
        local b1 n1
        b1=$(metric "${URL[$srv]}" tally_store_batch_visits_sum)
        n1=$(metric "${URL[$srv]}" tally_store_batch_visits_count)
        [ $((n1 - n0)) -gt 0 ] && batch=$(awk -v b=$((b1 - b0)) -v n=$((n1 - n0)) 'BEGIN {printf "%.1f", b / n}')
        # mean time of one write (one group commit), from tally_store_write_seconds
        [ $((n1 - n0)) -gt 0 ] && wms=$(awk -v w0="$w0" -v w1="$(metric "${URL[$srv]}" tally_store_write_seconds_sum)" \
            -v n=$((n1 - n0)) 'BEGIN {printf "%.3f", (w1 - w0) * 1000 / n}')
    fi
    [ -n "$n" ] && [ "$n" -gt 0 ] || { say "no requests in $f"; n=1; rps=0; }
    printf 'http\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$srv" "$test" "$conns" "$pipe" "$run" \
        "$rps" "$p50" "$p99" "$(awk -v c=$((c1 - c0)) -v n="$n" 'BEGIN {printf "%.2f", c / n / 1000}')" \
        "$(awk -v c=$((u1 - u0)) -v n="$n" 'BEGIN {printf "%.2f", c / n}')" "$batch" "$wms" >>"$HTTP_TSV"
    say "$srv $path c=$conns pipe=$pipe run $run: $rps req/s p99 ${p99}ms batch $batch"
}

# run_redis FSYNC CONNS PIPE RUN: redis-benchmark INCR for about DUR seconds
# (a short pilot sizes -n, since redis-benchmark counts requests, not time).
run_redis() {
    local fs=$1 conns=$2 pipe=$3 run=$4 f pilot n c0 c1 u0 u1
    local pid=${SPID[redis-$fs]} ip=${RIP[$fs]}
    f=$OUT/raw/redis-$fs-c$conns-p$pipe-r$run.csv
    pilot=$(timeout 60 taskset -c 1 redis-benchmark -h "$ip" -t incr -c "$conns" -P "$pipe" \
        -n $((conns * pipe * 20 + 200)) --csv 2>/dev/null | awk -F'"' 'NR == 2 {print int($4)}')
    n=$(awk -v r="${pilot:-1000}" -v d="$DUR" 'BEGIN {n = r * d; if (n < 500) n = 500; if (n > 20000000) n = 20000000; printf "%d", n}')
    c0=$(cpu_ns "$pid")
    u0=$(cpu0_us)
    timeout $((DUR * 4 + 60)) taskset -c 1 redis-benchmark -h "$ip" -t incr -c "$conns" -P "$pipe" \
        -n "$n" --csv >"$f" 2>/dev/null || say "redis-benchmark $fs failed (see $f)"
    c1=$(cpu_ns "$pid")
    u1=$(cpu0_us)
    # CSV: "test","rps","avg","min","p50","p95","p99","max"
    local rps p50 p99
    read -r rps p50 p99 < <(awk -F'"' 'NR == 2 {print $4, $10, $14}' "$f")
    printf 'redis\tredis-%s\tincr\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t-\t-\n' "$fs" "$conns" "$pipe" "$run" \
        "${rps:-0}" "${p50:-0}" "${p99:-0}" \
        "$(awk -v c=$((c1 - c0)) -v n="$n" 'BEGIN {printf "%.2f", c / n / 1000}')" \
        "$(awk -v c=$((u1 - u0)) -v n="$n" 'BEGIN {printf "%.2f", c / n}')" >>"$HTTP_TSV"
    say "redis $fs c=$conns pipe=$pipe run $run: ${rps:-0} ops/s p99 ${p99:-?}ms"
}

# The smoke run keeps every row a target reads (1, 64, 64 x 16).
if [ "$SMOKE" = 1 ]; then CONFS="1:1 64:1 64:16"; else CONFS="1:1 64:1 512:1 64:16"; fi
for run in $(seq "$RUNS"); do
    for conf in $CONFS; do
        conns=${conf%:*} pipe=${conf#*:}
        for srv in nginx tally-none tally-interval tally-always; do
            run_wrk "$srv" get / "$conns" "$pipe" "$run"
        done
        for fs in always everysec no; do run_redis "$fs" "$conns" "$pipe" "$run"; done
    done
done
fact rss_http_always_kib "$(rss_kib "${SPID[tally-always]}")"
for srv in tally-none tally-interval tally-always nginx; do stop "${SPID[$srv]}"; done
for fs in always everysec no; do stop "${SPID[redis-$fs]}"; done
figure "nginx req/s at 64 connections" "$(awk -F'\t' '$2 == "nginx" && $4 == 64 && $5 == 1 {print $7; exit}' "$HTTP_TSV")"
figure "tally --sync always req/s at 64" "$(awk -F'\t' '$2 == "tally-always" && $4 == 64 && $5 == 1 {print $7; exit}' "$HTTP_TSV")"
figure "redis INCR always ops/s at 64" "$(awk -F'\t' '$2 == "redis-always" && $4 == 64 && $5 == 1 {print int($7); exit}' "$HTTP_TSV")"

# ---------------------------------------------------------------- clients that never read

# The memory target: 300 connections each send 64 KB of pipelined
# GET /metrics and never read (tests/process/noread_clients.py, the same
# client as the process test); tallyd's peak RSS (VmHWM) must stay under
# 32 MiB and /healthz, asked on a fresh connection meanwhile, answer in
# under 100 ms. tallyd pinned to CPU 0, the clients to CPU 1.
NR_CONNS=$([ "$SMOKE" = 1 ] && echo 20 || echo 300)
NR_PROBES=$([ "$SMOKE" = 1 ] && echo 5 || echo 20)
say "noread: $NR_CONNS connections pipelining GET /metrics, never reading"
tally_start tally-noread 127.0.7.13 always --idle-timeout 120000
NPID=$TALLY_PID
timeout 300 taskset -c 1 python3 "$SRC/tests/process/noread_clients.py" --host 127.0.7.13 \
    --pid "$NPID" --conns "$NR_CONNS" --bytes 65536 --path /metrics --probes "$NR_PROBES" \
    >"$OUT/raw/noread.json" 2>"$OUT/raw/noread.err" || say "noread_clients failed (see $OUT/raw/noread.err)"
nr() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$OUT/raw/noread.json" "$1" 2>/dev/null; }
fact noread_conns "$(nr conns)"
fact noread_probes "$NR_PROBES"
fact noread_hwm_kib "$(nr hwm_kib)"
fact noread_healthz_ok "$(nr healthz_ok)"
fact noread_healthz_ms_max "$(nr healthz_ms_max)"
fact noread_healthz_ms_p50 "$(nr healthz_ms_p50)"
stop "$NPID"
figure "peak RSS with $NR_CONNS non-reading clients (KiB)" "$(sed -n 's/^noread_hwm_kib=//p' "$FACTS")"
figure "/healthz max meanwhile (ms)" "$(sed -n 's/^noread_healthz_ms_max=//p' "$FACTS")"

# ---------------------------------------------------------------- /count and /cluster

# One tallyd (--sync none) made to believe it has 2, then 999, peers by
# forged-but-valid heartbeats (tools/bench/fake_members.py).
say "members: /count and /cluster with 3 and 1000 members"
tally_start tally-members 127.0.8.1 none
MPID=$TALLY_PID
URL[tally-members]=http://127.0.8.1:8000
SPID[tally-members]=$MPID
sleep 1
fact rss_idle_kib "$(rss_kib "$MPID")"
fake() { timeout 60 python3 "$HELP/fake_members.py" --target 127.0.8.1:7946 --bind 127.0.8.2 "$@" >/dev/null; }

# gossip_round_cost MEMBERS SECONDS: tallyd's CPU and bytes out per gossip
# round over a quiet window (no HTTP load, members freshly heard from).
gossip_round_cost() {
    local m=$1 w=$2 c0 c1 o0 o1
    fake --members $((m - 1)) --rounds 1
    sleep 0.2
    c0=$(cpu_ns "$MPID")
    o0=$(metric "${URL[tally-members]}" 'tally_gossip_bytes_total{direction="out"}')
    sleep "$w"
    c1=$(cpu_ns "$MPID")
    o1=$(metric "${URL[tally-members]}" 'tally_gossip_bytes_total{direction="out"}')
    fact "round_cpu_us_$m" "$(awk -v c=$((c1 - c0)) -v w="$w" 'BEGIN {printf "%.1f", c / 1000 / w}')"
    fact "round_bytes_out_$m" "$(awk -v b=$((o1 - o0)) -v w="$w" 'BEGIN {printf "%.0f", b / w}')"
}

WINDOW=$([ "$SMOKE" = 1 ] && echo 2 || echo 10)
for m in 3 1000; do
    fake --members $((m - 1)) --rounds 2 --interval-ms 100
    got=$(curl -fsS "${URL[tally-members]}/cluster" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["pods"]))')
    [ "$got" = "$m" ] || say "expected $m members in /cluster, got $got"
    fact "members_seen_$m" "$got"
    fact "cluster_bytes_$m" "$(curl -fsS "${URL[tally-members]}/cluster" | wc -c)"
    gossip_round_cost "$m" "$WINDOW"
    for run in $(seq "$RUNS"); do
        for path in /count /cluster; do
            for conns in 1 64; do
                fake --members $((m - 1)) --rounds 1 # keep them alive
                run_wrk tally-members "${path#/}-m$m" "$path" "$conns" 1 "$run"
            done
        done
    done
    fact "rss_members_${m}_kib" "$(rss_kib "$MPID")"
done
fact rss_hwm_1000_kib "$(awk '/^VmHWM/ {print $2}' /proc/"$MPID"/status)"
stop "$MPID"
figure "/cluster req/s with 1000 members" "$(awk -F'\t' '$3 == "cluster-m1000" && $4 == 64 {print $7; exit}' "$HTTP_TSV")"
figure "CPU per gossip round with 1000 members (us)" "$(sed -n 's/^round_cpu_us_1000=//p' "$FACTS")"

# ---------------------------------------------------------------- simulator

SIM_DAT=$OUT/convergence.dat
echo "# nodes loss join_rounds update_rounds target_2log2N+5 bytes_avg bytes_max dead_rounds suspect_s falsesusp_per_1000" >"$SIM_DAT"
if [ -x "$SIM" ]; then
    if [ "$SMOKE" = 1 ]; then ROWS="10:0.1"; else
        ROWS="3:0 3:0.1 3:0.3 10:0 10:0.1 10:0.3 100:0 100:0.1 100:0.3 1000:0 1000:0.1 1000:0.3"
    fi
    for row in $ROWS; do
        say "tally-sim --nodes ${row%:*} --loss ${row#*:}"
        timeout 600 "$SIM" --nodes "${row%:*}" --loss "${row#*:}" --seed 42 >"$OUT/raw/sim-$row.txt" 2>&1 ||
            say "tally-sim row $row failed or timed out"
        # "  1000  0.10 |    96     48   24.9 |     7851    19929 |    105     34s |     0.000"
        awk -F'|' '$1 ~ /^ *[0-9]+ +[0-9.]+ *$/ {
            split($1, a, " "); split($2, b, " "); split($3, c, " "); split($4, d, " ")
            sub(/s$/, "", d[2])
            print a[1], a[2], b[1], b[2], b[3], c[1], c[2], d[1], d[2], $5 + 0 }' \
            "$OUT/raw/sim-$row.txt" >>"$SIM_DAT"
    done
    figure "simulator rounds to converge (N=10, 10% loss)" "$(awk '$1 == 10 && $2 == 0.10 {print $3}' "$SIM_DAT")"
else
    say "no $SIM: simulator figures left out"
    [ "$SMOKE" = 1 ] && not_ok "tally-sim not built"
fi
if command -v gnuplot >/dev/null && [ "$(grep -vc '^#' "$SIM_DAT")" -gt 0 ]; then
    gnuplot -e "dat='$SIM_DAT'; out='$OUT/convergence.png'" "$HELP/convergence.gp" 2>"$OUT/raw/gnuplot.txt" ||
        say "gnuplot failed (see $OUT/raw/gnuplot.txt)"
fi
[ "$SMOKE" = 1 ] && { [ -s "$OUT/convergence.png" ] && ok "convergence plot drawn" || not_ok "no convergence plot"; }

# ---------------------------------------------------------------- real pods

# PODS tallyds on 127.0.7.1..PODS, each given every other pod as a static peer
# (without a key a pod hears only the addresses DNS or --peers list, as the
# headless service lists every pod), default 1 s rounds, unpinned (they share
# both cores).
say "pods: $PODS real tallyd on 127.0.7.1-$PODS"
: >"$WORK/urls"
declare -a PPID_OF
t_start=$(date +%s.%N)
for i in $(seq "$PODS"); do
    peers=
    for j in $(seq "$PODS"); do
        [ "$j" = "$i" ] || peers+="${peers:+,}127.0.7.$j:7946"
    done
    mkdir -p "$WORK/pod-$i"
    "$TALLYD" --name "bench-pod-$i" --bind "127.0.7.$i" --data-dir "$WORK/pod-$i" --sync none \
        --peers "$peers" --recovery-wait 2000 --log-level warn >"$WORK/pod-$i.log" 2>&1 &
    PIDS+=($!)
    PPID_OF[i]=$!
    echo "http://127.0.7.$i:8000/cluster" >>"$WORK/urls"
done
poll() { timeout 300 python3 "$HELP/poll_cluster.py" --urls "$WORK/urls" "$@" || true; }
r=$(poll --members "$PODS" --since "$t_start" --timeout 120)
fact pods_join "$r"
say "every pod lists all $PODS alive: $r"
sleep 2
c0=$(cpu_ns "${PPID_OF[@]}")
sleep "$WINDOW"
c1=$(cpu_ns "${PPID_OF[@]}")
fact pods_cpu_pct "$(awk -v c=$((c1 - c0)) -v w="$WINDOW" 'BEGIN {printf "%.2f", c / 1e7 / w}')"
fact pods_cpu_us_round "$(awk -v c=$((c1 - c0)) -v w="$WINDOW" -v p="$PODS" 'BEGIN {printf "%.1f", c / 1000 / w / p}')"
rss=0
for i in $(seq "$PODS"); do rss=$((rss + $(rss_kib "${PPID_OF[i]}"))); done
fact pods_rss_kib "$rss"
t_visit=$(date +%s.%N)
curl -fsS -o /dev/null "http://127.0.7.1:8000/"
r=$(poll --total 1 --since "$t_visit" --timeout 60)
fact pods_visit "$r"
say "a visit on pod 1 in every /cluster total: $r"
figure "visit seen by all $PODS pods (s)" "$(echo "$r" | sed -n 's/.*last=\([0-9.]*\).*/\1/p')"
victim=${PPID_OF[PODS]}
sed -i '$d' "$WORK/urls"
t_kill=$(date +%s.%N)
kill -9 "$victim"
stop "$victim"
# Death takes tens of seconds by design (timeouts scale with log N): not in smoke.
if [ "$SMOKE" = 1 ]; then r=skipped; else
    r=$(poll --dead "bench-pod-$PODS" --since "$t_kill" --timeout 240)
fi
fact pods_dead "$r"
say "pod $PODS killed -9, marked dead everywhere: $r"
for i in $(seq $((PODS - 1))); do stop "${PPID_OF[i]}"; done
fact load_end "$(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------- report

python3 "$HELP/report.py" "$OUT" >"$OUT/results.md"
say "report: $OUT/results.md"
echo "Targets of issue 13 (same run, ratios of medians):"
python3 "$HELP/report.py" --issue13 "$OUT"
if [ "$SMOKE" = 1 ]; then
    grep -q 'nginx' "$OUT/results.md" && ok "report written" || not_ok "report missing figures"
    # every target row has a figure (its verdict means nothing in 1 s runs)
    rows=$(python3 "$HELP/report.py" --issue13 "$OUT" | grep -c '| \(met\|\*\*missed\*\*\) |' || true)
    [ "$rows" = 5 ] && ok "issue 13: 5 target rows with figures" || not_ok "issue 13: $rows of 5 rows with figures"
    echo "$PASS passed, $FAIL failed"
    [ "$FAIL" = 0 ]
else
    cat "$OUT/results.md"
fi
