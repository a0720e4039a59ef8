#!/usr/bin/env bash
# local-cluster.sh: build tally and run a local three-pod StatefulSet: dnsmasq
# serving the headless service's records and three real tallyd processes on
# 127.0.0.10-12, data dirs under build/local-cluster/. Prints the commands to
# try, then waits; Ctrl-C stops everything it started.
#
# If an address or port it needs is taken (another local cluster?), or
# anything it started does not come up, it says which and why, stops what it
# started and exits 1: it never reports pods it does not run.
#
# Usage: tools/local-cluster.sh [REPLICAS]
# Environment (README.md, "The local cluster"): CL_NET, CL_DNS_PORT,
# CL_HTTP_PORT, CL_GOSSIP_PORT, CL_TALLYD_ARGS, CL_WORKDIR, TALLY_BUILD.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
replicas=${1:-3}

if [ -n "${TALLY_BUILD:-}" ]; then
    build=$TALLY_BUILD # binaries already built there: use them as they are
    [ -x "$build/node/tallyd" ] || { echo "no tallyd in TALLY_BUILD=$build" >&2; exit 1; }
else
    build=$root/build
    bash "$root/tools/install-deps.sh"
    mkdir -p "$build"
    { cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
        cmake --build "$build" -j"$(nproc)" --target tallyd tallyctl; } >"$build/build.log" 2>&1 ||
        { tail -30 "$build/build.log"; echo "build failed: see build/build.log" >&2; exit 1; }
fi

# shellcheck source=tools/cluster-lib.sh
. "$root/tools/cluster-lib.sh"
work=${CL_WORKDIR:-$build/local-cluster}
cl_init "$work" "$build/node/tallyd"
nap=""
# Stop the pods, dnsmasq and our own sleep (an orphaned sleep would keep
# whatever descriptors we inherited open, such as a test's lock).
stop() {
    cl_down
    [ -n "$nap" ] && kill "$nap" 2>/dev/null
    return 0
}
trap 'echo; echo "stopping..."; stop; exit 0' INT TERM
trap stop EXIT

cl_ports_check "$replicas"
cl_dns_start "$replicas"
for ((i = 0; i < replicas; i++)); do cl_pod_start "$i"; done
for ((i = 0; i < replicas; i++)); do
    cl_wait_http "$i" /healthz ||
        cl_die "pod $i ($(cl_pod "$i")) did not come up on $(cl_ip "$i"); it said:" \
            $'\n'"$(cl_pod_why "$i")"$'\n'"  (whole log: $work/$(cl_pod "$i").log)"
done
for ((i = 0; i < replicas; i++)); do cl_wait_http "$i" /readyz 100 || true; done

curl -fsS "$(cl_url 0 /)" >/dev/null
curl -fsS "$(cl_url 1 /)" >/dev/null
curl -fsS "$(cl_url 1 /)" >/dev/null
sleep 2 # a gossip round or two, so every pod has heard the others' counts

cat <<EOF2

tally: $replicas pods running (3 visits made: 1 on pod 0, 2 on pod 1)
  DNS    dnsmasq at $CL_NET.9:$CL_DNS_PORT serves $(cl_service)
  data   $work/data-$(cl_pod 0)/visits.txt ...
  logs   $work/*.log

Try:
  curl $(cl_url 0 /)                 # count a visit on pod 0
  curl $(cl_url 0 /count)            # pod 0's own count
  curl $(cl_url 2 /cluster)          # the whole StatefulSet, as pod 2 sees it
  open $(cl_url 0 /cluster) in a browser: the same, live
  curl $(cl_url 1 /metrics)          # Prometheus metrics
  cat $work/data-$(cl_pod 1)/visits.txt
  $build/tools/tallyctl --url $(cl_url 0 "") status
  $build/tools/tallyctl --url $(cl_url 0 "") peers
  $build/tools/tallyctl --url $(cl_url 0 "") cluster --watch
  $build/tools/tallyctl --dns-server $CL_NET.9:$CL_DNS_PORT dns $(cl_service)

Cluster as pod 2 sees it now:
EOF2
curl -fsS "$(cl_url 2 /cluster)"
echo
echo "Ctrl-C stops the pods and dnsmasq."
# Wait in the background so a signal runs the trap at once (bash defers traps
# until a foreground command ends).
while :; do
    sleep 3600 &
    nap=$!
    wait $nap || true
done
