# lib.sh: helpers for the process-level tests (sourced). Every test runs real
# binaries from $TALLY_BUILD on its own loopback addresses, keeps its files in
# one temp dir, and stops only the processes it started, by PID.

TALLY_BUILD=${TALLY_BUILD:?run through ctest (TALLY_BUILD unset)}
TALLY_SRC=${TALLY_SRC:?run through ctest (TALLY_SRC unset)}
TALLYD=$TALLY_BUILD/node/tallyd
T_PASS=0
T_FAIL=0
T_PIDS=()
T_WORK=$(mktemp -d /tmp/tally-test.XXXXXX)
chmod 0755 "$T_WORK"

T_ON_EXIT=()
# t_on_exit CMD: run CMD (a function name) at exit, after our processes are gone.
t_on_exit() { T_ON_EXIT+=("$1"); }

t_cleanup() {
    local pid f
    for pid in "${T_PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    for pid in "${T_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    type cl_down >/dev/null 2>&1 && cl_down
    for f in "${T_ON_EXIT[@]}"; do "$f" || true; done
    if [ "$T_FAIL" = 0 ]; then rm -rf "$T_WORK"; else echo "kept $T_WORK for inspection"; fi
}
trap t_cleanup EXIT

ok() { T_PASS=$((T_PASS + 1)); echo "ok - $*"; }
not_ok() { T_FAIL=$((T_FAIL + 1)); echo "not ok - $*"; }
# check DESC CMD...: one assertion
check() {
    local desc=$1
    shift
    if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}
# check_eq DESC GOT WANT
check_eq() {
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1: got '$2', want '$3'"; fi
}
t_done() {
    echo "$T_PASS passed, $T_FAIL failed"
    [ "$T_FAIL" = 0 ]
}

# wait_http URL [TRIES]: until URL answers 200 (0.1 s per try).
wait_http() {
    local t
    for t in $(seq "${2:-100}"); do
        curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# json_get FIELD: read a top-level field of the JSON on stdin.
json_get() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
