#!/usr/bin/env bash
# gossip-failure.sh: failure detection measured on real processes (a
# benchmark, not a ctest: run it on a quiet machine).
#
#   1. 50 tallyd pods on loopback, DNS discovery through dnsmasq
#      (tools/cluster-lib.sh); wait until every pod sees every pod alive.
#   2. SIGKILL one pod: seconds until every other pod's /cluster says dead.
#   3. SIGSTOP another pod for 400 ms of every 500 ms for 60 s: how many
#      pods ever marked it dead (Lifeguard's promise: none) and suspect.
#   4. SIGSTOP it for good: seconds until every other pod says dead.
#
# Prints one JSON object per line. Needs dnsmasq, dig, curl, python3
# (tools/install-deps.sh). Takes /tmp/tally-proc.lock itself, so only one
# real-process run is on the machine at a time. Pods bind 127.0.35.10..59
# (TALLY_BENCH_NET to change). Only processes started here are stopped, by PID.
#
#   TALLY_BUILD=$PWD/build tools/bench/gossip-failure.sh
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${TALLY_BUILD:-$ROOT/build}
PODS=${TALLY_BENCH_PODS:-50}
if [ -z "${TALLY_BENCH_LOCKED:-}" ]; then
    TALLY_BENCH_LOCKED=1 exec flock /tmp/tally-proc.lock "$0" "$@"
fi

# shellcheck disable=SC2034 # read by cluster-lib.sh
CL_NET=${TALLY_BENCH_NET:-127.0.35}
# shellcheck disable=SC2034
CL_DNS_PORT=${TALLY_BENCH_DNS_PORT:-5353}
# 1 s rounds, as shipped; pods must not wait for each other to be ready.
CL_TALLYD_ARGS=${CL_TALLYD_ARGS:-"--recovery-wait 2000"}
# shellcheck source=../cluster-lib.sh
. "$ROOT/tools/cluster-lib.sh"

TALLYD=$BUILD/node/tallyd
[ -x "$TALLYD" ] || cl_die "no $TALLYD: build first (cmake --build build)"
WORK=$(mktemp -d /tmp/tally-gossip-bench.XXXXXX)
cl_init "$WORK" "$TALLYD"
STOPPED=""
cleanup() {
    if [ -n "$STOPPED" ]; then kill -CONT "$STOPPED" 2>/dev/null || true; fi
    cl_down
}
trap cleanup EXIT

# states VICTIM [GONE]: one line "alive suspect dead other unreachable" over
# the other pods' views of pod VICTIM (their /cluster, fetched in parallel),
# leaving out pod GONE (one killed earlier).
states() {
    python3 - "$PODS" "$CL_NET" "$CL_HTTP_PORT" "$1" "$(cl_pod "$1")" "${2:--1}" <<'EOF'
import json, sys, urllib.request
from concurrent.futures import ThreadPoolExecutor
pods, net, port, victim, name = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
gone = int(sys.argv[6])
def view(i):
    try:
        with urllib.request.urlopen("http://%s.%d:%s/cluster" % (net, 10 + i, port), timeout=2) as r:
            for p in json.load(r)["pods"]:
                if p["name"] == name:
                    return p["state"]
            return "other"
    except Exception:
        return "unreachable"
with ThreadPoolExecutor(16) as ex:
    got = list(ex.map(view, [i for i in range(pods) if i not in (victim, gone)]))
print(*(got.count(s) for s in ("alive", "suspect", "dead", "other", "unreachable")))
EOF
}

# all_alive: every pod sees all PODS members alive.
all_alive() {
    python3 - "$PODS" "$CL_NET" "$CL_HTTP_PORT" <<'EOF'
import json, sys, urllib.request
pods, net, port = int(sys.argv[1]), sys.argv[2], sys.argv[3]
for i in range(pods):
    try:
        with urllib.request.urlopen("http://%s.%d:%s/cluster" % (net, 10 + i, port), timeout=2) as r:
            c = json.load(r)["pods"]
    except Exception:
        sys.exit(1)
    if sum(1 for p in c if p["state"] == "alive") < pods:
        sys.exit(1)
EOF
}

now() { date +%s.%N; }
since() { python3 -c "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$(now)"; }

# until_dead VICTIM LIMIT_S [GONE]: seconds until every other pod (but GONE)
# says dead, or -1.
until_dead() {
    local t0 s want=$((PODS - 1))
    [ -n "${3:-}" ] && want=$((PODS - 2))
    t0=$(now)
    while :; do
        read -r _ _ dead _ _ <<<"$(states "$1" "${3:-}")"
        if [ "$dead" -eq "$want" ]; then
            since "$t0"
            return
        fi
        s=$(since "$t0")
        if python3 -c "import sys; sys.exit(float(sys.argv[1]) < float(sys.argv[2]))" "$s" "$2"; then
            echo -1
            return
        fi
        sleep 0.2
    done
}

cl_dns_start "$PODS"
for ((i = 0; i < PODS; i++)); do cl_pod_start "$i"; done
for ((i = 0; i < PODS; i++)); do cl_wait_http "$i" /healthz 200 || cl_die "pod $i did not start"; done
t0=$(now)
for _ in $(seq 120); do all_alive && break; sleep 1; done
all_alive || cl_die "the $PODS pods never all saw each other alive (see $WORK)"
echo "{\"pods\":$PODS,\"phase\":\"join\",\"seconds\":$(since "$t0")}"

# ---- a killed pod -----------------------------------------------------------
KILLED=$((PODS > 8 ? 7 : 1))
kill -KILL "$(cl_pod_pid $KILLED)"
echo "{\"pods\":$PODS,\"phase\":\"sigkill\",\"dead_everywhere_seconds\":$(until_dead $KILLED 120)}"

# ---- a pod stopped 400 ms of every 500 ms for 60 s ---------------------------
PAUSED=$((PODS > 13 ? 12 : 2))
STOPPED=$(cl_pod_pid $PAUSED)
most_dead=0 most_suspect=0
end=$(($(date +%s) + 60))
while [ "$(date +%s)" -lt "$end" ]; do
    for _ in 1 2 3 4; do
        kill -STOP "$STOPPED"
        sleep 0.4
        kill -CONT "$STOPPED"
        sleep 0.1
    done
    read -r _ suspect dead _ _ <<<"$(states $PAUSED $KILLED)"
    [ "$dead" -gt "$most_dead" ] && most_dead=$dead
    [ "$suspect" -gt "$most_suspect" ] && most_suspect=$suspect
done
# A death between samples is still a death: give it a round, look again.
sleep 1
read -r _ suspect dead _ _ <<<"$(states $PAUSED $KILLED)"
[ "$dead" -gt "$most_dead" ] && most_dead=$dead
echo "{\"pods\":$PODS,\"phase\":\"sigstop_400_of_500ms_60s\",\"most_pods_saying_dead\":$most_dead,\"most_pods_saying_suspect\":$most_suspect}"

# ---- the same pod stopped for good -------------------------------------------
kill -STOP "$STOPPED"
echo "{\"pods\":$PODS,\"phase\":\"sigstop_for_good\",\"dead_everywhere_seconds\":$(until_dead $PAUSED 120 $KILLED)}"
kill -CONT "$STOPPED"
STOPPED=""
