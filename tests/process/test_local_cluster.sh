# test_local_cluster.sh: tools/local-cluster.sh fails loudly when anything it
# starts does not come up. A first cluster runs on 127.0.32.9-12; a second one
# on the same addresses must exit 1 naming the address in use and who holds
# it, print no "pods running", and send no visit to the first; with only the
# pods' addresses taken (its DNS on a free port) it must fail the same way,
# and stop the dnsmasq it did start.
. "$TALLY_SRC/tests/process/lib.sh"
NET=127.0.32
LC=$TALLY_SRC/tools/local-cluster.sh
not() { ! "$@"; }
command -v ss >/dev/null || { not_ok "ss not found (iproute2, tools/install-deps.sh)"; t_done; exit 1; }

# cluster TAG DNS_PORT: local-cluster.sh in the background with its own work dir.
cluster() {
    CL_NET=$NET CL_DNS_PORT=$2 CL_WORKDIR=$T_WORK/$1 TALLY_BUILD=$TALLY_BUILD \
        CL_TALLYD_ARGS="--recovery-wait 100" bash "$LC" 3 >"$T_WORK/$1.out" 2>&1 &
    LC_PID=$!
    T_PIDS+=($LC_PID)
}
# finished PID SECONDS: until PID exits (its status in LC_RC), at most SECONDS.
finished() {
    local t
    for t in $(seq $(($2 * 10))); do
        kill -0 "$1" 2>/dev/null || { wait "$1"; LC_RC=$?; return 0; }
        sleep 0.1
    done
    return 1
}
running() { grep -q "pods running" "$T_WORK/a.out"; }
count() { curl -fsS --max-time 2 "http://$NET.$((10 + $1)):8000/count" | json_get visits; }

cluster a 5397
A=$LC_PID
for t in $(seq 300); do running && break; kill -0 $A 2>/dev/null || break; sleep 0.1; done
check "the first cluster comes up" running || cat "$T_WORK/a.out"
before="$(count 0) $(count 1) $(count 2)"

cluster b 5397
check "a second cluster on the same addresses exits" finished $LC_PID 30
check_eq "... with status 1" "$LC_RC" 1
check "... naming the DNS address in use and its holder" \
    grep -q "$NET.9:5397/udp (DNS) is in use by pid=[0-9]* (dnsmasq)" "$T_WORK/b.out"
for i in 0 1 2; do
    check "... naming pod $i's HTTP and gossip addresses" grep -q \
        "$NET.1$i:8000/tcp (pod $i HTTP) is in use by pid=[0-9]* (tallyd)" "$T_WORK/b.out" &&
        grep -q "$NET.1$i:7946/udp (pod $i gossip) is in use by pid=[0-9]* (tallyd)" "$T_WORK/b.out"
done
check "... suggesting another CL_NET" grep -q "CL_NET" "$T_WORK/b.out"
check "... and never saying its pods run" not grep -q "pods running" "$T_WORK/b.out"

# Only the pods' addresses taken: the check before starting catches them;
# and if it could not (no ss), the pods' own bind errors would, after start.
cluster c 5396
check "pods' addresses taken, DNS free: exits" finished $LC_PID 30
check_eq "... with status 1" "$LC_RC" 1
check "... naming pod 0's HTTP address" grep -q "$NET.10:8000/tcp (pod 0 HTTP) is in use" "$T_WORK/c.out"
check "... and not the free DNS port" not grep -q "5396" "$T_WORK/c.out"
check "... never saying its pods run" not grep -q "pods running" "$T_WORK/c.out"
check "... leaving no dnsmasq of its own behind" test -z "$(ss -H -lnu "( sport = :5396 )")"
check_eq "the first cluster got no visit from the others" "$(count 0) $(count 1) $(count 2)" "$before"

# A pod that cannot start (a corrupt count file): named with tallyd's reason.
mkdir -p "$T_WORK/d/data-myapp-stateful-1"
echo 12x >"$T_WORK/d/data-myapp-stateful-1/visits.txt"
kill -TERM $A
finished $A 20
CL_NET=$NET CL_DNS_PORT=5397 CL_WORKDIR=$T_WORK/d TALLY_BUILD=$TALLY_BUILD bash "$LC" 3 \
    >"$T_WORK/d.out" 2>&1 &
D=$!
T_PIDS+=($D)
check "a pod that does not come up: exits" finished $D 30
check_eq "... with status 1" "$LC_RC" 1
check "... naming the pod and what tallyd said" \
    grep -q "pod 1 (myapp-stateful-1) did not come up on $NET.11" "$T_WORK/d.out"
check "... with tallyd's own words" grep -q "msg=store_load_failed.*is corrupt" "$T_WORK/d.out"
check "... and stops the pods and DNS it started" test -z "$(ss -H -lnu "( sport = :5397 )")"
t_done
