# test_image.sh: deploy/Dockerfile built with podman and the image run the way
# the StatefulSet runs it: uid 10001, read-only root filesystem with /tmp
# writable (the emptyDir), no capabilities, a volume at /data, the downward
# API's env, as two pods of a simulated cluster network: each container in a
# network namespace of its own on a bridge, with dnsmasq as the cluster DNS
# and a pod's resolv.conf (search domains, ndots:5) and kubelet-like hosts.
# Checked: size and contents (tallyd, tallyctl, busybox's wget and nslookup
# and nothing else of busybox, every library found, no libmsgpackc); user,
# entrypoint, PID 1; /readyz; visits land in the mounted volume; the pods find
# each other through the headless service's short name; the StatefulSet
# guide's three checks run in pod 0 against pod 1 (nslookup prints pod 1's
# address, wget gets pod 1's visit page and pod 1 counts it, cat prints the
# count), and pod 1 deleted and started again still cats its count; SIGTERM
# under load exits 0 inside the 20 s grace period (the time is printed).
#
# Registry images cannot be pulled here, so debian:bookworm-slim is made
# locally once (debootstrap minbase, trimmed like the official slim image)
# and reused while `podman image exists` says so. The build's RUN steps reach
# the Debian mirror with --network=host: the Dockerfile installs packages
# with apt like any registry-connected build, and host networking adds no
# bridge, iptables chain or ip_forward (podman's default network would). The
# containers run with no route out of their namespaces.
. "$TALLY_SRC/tests/process/lib.sh"
. "$TALLY_SRC/tests/deploy/lib.sh"

[ "$(id -u)" = 0 ] || d_skip "needs root (podman, debootstrap, network namespaces)"
ip netns list >/dev/null 2>&1 || d_skip "ip netns is unavailable here"
need=()
for t in podman:podman debootstrap:debootstrap runc:runc dnsmasq:dnsmasq-base; do
    command -v "${t%%:*}" >/dev/null || need+=("${t#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "installing ${need[*]}"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
        install -y -qq --no-install-recommends "${need[@]}"; } >"$T_WORK/apt.log" 2>&1 ||
        { tail -5 "$T_WORK/apt.log"; d_skip "could not install ${need[*]}"; }
fi
export CONTAINERS_CONF=$DEPLOY_DIR/podman-containers.conf
podman info >"$T_WORK/podman-info" 2>&1 || d_skip "podman cannot run here: $(tail -1 "$T_WORK/podman-info")"
MIRROR=http://deb.debian.org/debian
curl -fsS -o /dev/null --max-time 10 "$MIRROR/dists/bookworm/InRelease" ||
    d_skip "the Debian mirror $MIRROR is unreachable (debootstrap and the Dockerfile's apt steps need it)"

BASE=debian:bookworm-slim
IMAGE=localhost/tally:test
PREFIX=tdimg$$ # namespaces and containers of this run
NODE=$PREFIX-node
GRACE=20           # terminationGracePeriodSeconds in deploy/base/statefulset.yaml
RECOVERY_WAIT_S=5  # tallyd's --recovery-wait default: /readyz waits at most this
DNS_INTERVAL_S=5   # tallyd's --dns-interval default: how often it looks for siblings
NET=10.244.0       # pod N is $NET.1N, as in a kubeadm cluster's pod network
DNS_IP=10.96.0.10
STS=myapp-stateful
SVC=myapp-headless
SUB=$SVC.default.svc.cluster.local
STATE=$T_WORK/cluster

pod_ns() { echo "$PREFIX-pod$1"; }
ctr() { echo "$PREFIX-$1"; }
pod_ip() { echo "$NET.1$1"; }
in_node() { ip netns exec "$NODE" "$@"; }
url() { echo "http://$(pod_ip "$1"):8000$2"; }
pod_get() { in_node curl -fsS --max-time 2 "$(url "$1" "$2")"; }
count_of() { pod_get "$1" /count | json_get visits; }
# kexec N CMD...: what `kubectl exec myapp-stateful-N -- CMD...` runs
kexec() {
    local n=$1
    shift
    podman exec "$(ctr "$n")" "$@"
}

cleanup() {
    local i
    for i in 0 1; do podman rm -f -t 0 "$(ctr $i)" >/dev/null 2>&1; done
    [ -n "${LOAD_PID:-}" ] && kill "$LOAD_PID" 2>/dev/null
    [ -s "$STATE/dnsmasq.pid" ] && kill "$(cat "$STATE/dnsmasq.pid")" 2>/dev/null
    for i in 0 1; do ip netns del "$(pod_ns $i)" 2>/dev/null; done
    ip netns del "$NODE" 2>/dev/null
    return 0
}
trap 'cleanup; t_cleanup' EXIT

# make_base: a local debian:bookworm-slim (about 80 MB): minbase, then without
# docs, man pages and locales, and with dpkg told to keep leaving them out.
make_base() {
    local root=$T_WORK/rootfs
    echo "making $BASE with debootstrap (once)"
    debootstrap --variant=minbase bookworm "$root" "$MIRROR" >"$T_WORK/debootstrap.log" 2>&1 ||
        { tail -20 "$T_WORK/debootstrap.log"; return 1; }
    cat >"$root/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
EOF
    find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf "$root"/usr/share/{man,groff,info,locale,lintian}/* "$root"/var/cache/apt/archives/*.deb \
        "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/* "$root"/var/log/*.log "$root"/var/log/apt/*
    tar -C "$root" -c . | podman import -q - "$BASE" >/dev/null
    local rc=$?
    rm -rf "$root"
    return $rc
}
podman image exists "$BASE" || check "made $BASE locally" make_base

# The build stage is tagged too, so its toolchain layer stays cached between
# runs; the images this test tagged before and that are now untagged go.
build() {
    podman build --network=host -f "$TALLY_SRC/deploy/Dockerfile" "$@" "$TALLY_SRC" \
        >>"$T_WORK/build.log" 2>&1
}
t0=$(date +%s)
if build --target build -t localhost/tally-build:test && build -t "$IMAGE"; then
    ok "podman build -f deploy/Dockerfile ($(($(date +%s) - t0)) s)"
    podman image prune -f --filter label=io.tally.image >/dev/null 2>&1
else
    tail -30 "$T_WORK/build.log"
    not_ok "podman build -f deploy/Dockerfile"
    t_done
    exit 1
fi
grep -E "^tallyctl:" "$T_WORK/build.log"

# --- the image ------------------------------------------------------------

size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
base_size=$(podman image inspect --format '{{.Size}}' "$BASE")
echo "image size: $((size / 1000000)) MB ($size bytes; base $((base_size / 1000000)) MB," \
    "$(((size - base_size) / 1000)) kB added)"
check "image under 100 MB ($((size / 1000000)) MB)" test "$size" -lt 100000000
check "image adds under 10 MB to the base" test $((size - base_size)) -lt 10000000
check_eq "image runs as uid 10001" "$(podman image inspect --format '{{.Config.User}}' "$IMAGE")" "10001:10001"
check_eq "entrypoint is tallyd in exec form" \
    "$(podman image inspect --format '{{json .Config.Entrypoint}}' "$IMAGE")" '["/usr/local/bin/tallyd"]'
check_eq "working directory /tmp (the StatefulSet's emptyDir)" \
    "$(podman image inspect --format '{{.Config.WorkingDir}}' "$IMAGE")" /tmp
in_image() { podman run --rm --network none --entrypoint /bin/sh "$IMAGE" -c "$1"; }
check "tallyd starts in the image (--version)" podman run --rm --network none "$IMAGE" --version
check "no compiler in the runtime image" test -z "$(in_image 'command -v cc gcc clang cmake' 2>/dev/null)"
if [ -f "$TALLY_SRC/tools/tallyctl/main.c" ]; then
    check "tallyctl is in the image and runs" podman run --rm --network none \
        --entrypoint /usr/local/bin/tallyctl "$IMAGE" --help
fi
check_eq "/usr/local/bin holds nslookup, tallyctl, tallyd, wget" \
    "$(in_image 'ls /usr/local/bin' | tr '\n' ' ')" "nslookup tallyctl tallyd wget "
check_eq "wget is busybox's applet" "$(in_image 'readlink /usr/local/bin/wget')" /bin/busybox
# Only those two: no other link to busybox, and the usual commands are still coreutils'.
check_eq "busybox shadows nothing else" \
    "$(in_image 'find / -xdev \( -lname "*busybox*" -o -samefile /bin/busybox \) 2>/dev/null | sort | tr "\n" " "')" \
    "/usr/bin/busybox /usr/local/bin/wget "
check_eq "cat, ls and sh are not busybox" \
    "$(in_image 'for c in cat ls sh; do readlink -f "$(command -v $c)"; done | grep -c busybox')" 0
check_eq "tallyd and tallyctl find every shared library (ldd)" \
    "$(in_image 'ldd /usr/local/bin/tallyd /usr/local/bin/tallyctl' | grep -c 'not found')" 0
check_eq "no libmsgpackc: msgpack-c is header-only here" \
    "$(in_image 'ldd /usr/local/bin/tallyd /usr/local/bin/tallyctl; dpkg -l' | grep -c msgpack)" 0

# --- two pods on a simulated cluster network -------------------------------

# cluster_up: a "node" namespace with the bridge and dnsmasq as the cluster
# DNS (A records for each pod's headless name and for the service, SRV for the
# gossip port, NXDOMAIN for every other name as CoreDNS' upstream would say),
# and pod 0 and pod 1 in namespaces of their own, files for their
# /etc/resolv.conf and /etc/hosts, and their volumes.
cluster_up() {
    local i p
    mkdir -p "$STATE" && chmod 0755 "$STATE"
    ip netns add "$NODE" || return 1
    ip -n "$NODE" link set lo up
    ip -n "$NODE" addr add $DNS_IP/32 dev lo
    ip -n "$NODE" link add br0 type bridge
    ip -n "$NODE" addr add $NET.1/24 dev br0
    ip -n "$NODE" link set br0 up
    printf 'search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver %s\noptions ndots:5\n' \
        $DNS_IP >"$STATE/resolv.conf"
    : >"$STATE/dns-hosts"
    : >"$STATE/dns-srv.conf"
    for i in 0 1; do
        p=$(pod_ns $i)
        ip netns add "$p" || return 1
        ip -n "$p" link set lo up
        ip -n "$NODE" link add "veth$i" type veth peer name eth0 netns "$p"
        ip -n "$NODE" link set "veth$i" master br0 up
        ip -n "$p" addr add "$(pod_ip $i)/24" dev eth0
        ip -n "$p" link set eth0 up
        ip -n "$p" route add default via $NET.1
        printf '%s %s.%s\n%s %s\n' "$(pod_ip $i)" "$STS-$i" "$SUB" "$(pod_ip $i)" "$SUB" >>"$STATE/dns-hosts"
        echo "srv-host=_gossip._udp.$SUB,$STS-$i.$SUB,7946,0,50" >>"$STATE/dns-srv.conf"
        printf '127.0.0.1\tlocalhost\n%s\t%s.%s\t%s-%s\n' "$(pod_ip $i)" "$STS-$i" "$SUB" "$STS" $i \
            >"$STATE/hosts-$i"
        mkdir -p "$STATE/data-$i" && chown 10001:10001 "$STATE/data-$i" && chmod 0700 "$STATE/data-$i"
    done
    chmod 0644 "$STATE"/resolv.conf "$STATE"/hosts-* "$STATE"/dns-*
    # Not through in_node: a backgrounded function is a subshell whose PID is
    # not dnsmasq's, and killing it left dnsmasq running after the test.
    ip netns exec "$NODE" dnsmasq -k --listen-address=$DNS_IP --bind-interfaces --no-resolv --no-hosts --no-poll \
        --local=/cluster.local/ --address=/#/ --addn-hosts="$STATE/dns-hosts" \
        --conf-file="$STATE/dns-srv.conf" --local-ttl=30 --pid-file= \
        --log-facility="$STATE/dnsmasq.log" &
    echo $! >"$STATE/dnsmasq.pid"
    T_PIDS+=($!)
    for i in $(seq 50); do # until dnsmasq listens
        in_node ss -Hlun "src $DNS_IP:53" | grep -q . && return 0
        sleep 0.1
    done
    return 1
}

# pod_run N: the container as the kubelet starts pod N of the StatefulSet:
# securityContext, the downward API's env, TALLY_SERVICE, the emptyDir at
# /tmp, the volume at /data, the pod's resolv.conf and hosts.
pod_run() {
    local n=$1
    podman run -d --name "$(ctr "$n")" --hostname "$STS-$n" \
        --read-only --read-only-tmpfs=false --tmpfs /tmp:rw,size=16m,mode=1777 \
        --cap-drop=ALL --security-opt no-new-privileges --user 10001:10001 \
        --network "ns:/run/netns/$(pod_ns "$n")" \
        -v "$STATE/resolv.conf:/etc/resolv.conf:ro" -v "$STATE/hosts-$n:/etc/hosts:ro" \
        -v "$STATE/data-$n:/data" \
        -e POD_NAME="$STS-$n" -e POD_NAMESPACE=default -e POD_IP="$(pod_ip "$n")" \
        -e TALLY_SERVICE=$SVC --stop-timeout $GRACE "$IMAGE" --data-dir=/data >/dev/null
}
# ready N: /readyz answers 200 within the recovery wait, with room (3x) for a busy machine
ready() {
    local t
    for t in $(seq $((RECOVERY_WAIT_S * 30))); do
        pod_get "$1" /readyz >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}
alive_in() { # N: how many members pod N's /cluster lists alive
    pod_get "$1" /cluster | python3 -c '
import json,sys; print(sum(p["state"] == "alive" for p in json.load(sys.stdin)["pods"]))'
}
sees_both() { [ "$(alive_in 0 2>/dev/null)" = 2 ] && [ "$(alive_in 1 2>/dev/null)" = 2 ]; }
wait_for() { # SECONDS CMD...: until CMD succeeds, trying every 0.2 s
    local s=$1 t
    shift
    for t in $(seq $((s * 5))); do "$@" && return 0; sleep 0.2; done
    return 1
}

check "simulated cluster network up (bridge, cluster DNS, 2 pod namespaces)" cluster_up
for i in 0 1; do
    check "pod $i starts read-only, no capabilities, uid 10001" pod_run $i
done
for i in 0 1; do check "pod $i: /readyz answers 200" ready $i; done
check_eq "PID 1 is tallyd" "$(kexec 0 cat /proc/1/comm)" tallyd
check_eq "PID 1 runs as uid 10001" "$(kexec 0 awk '/^Uid:/ {print $2}' /proc/1/status)" 10001
check_eq "PID 1 has no capabilities" "$(kexec 0 awk '/^CapEff:/ {print $2}' /proc/1/status)" \
    0000000000000000
check "the root filesystem is read-only" sh -c "! podman exec $(ctr 0) touch /usr/local/bin/x 2>/dev/null"
check "the pods find each other through the service's short name ($SVC)" \
    wait_for $((DNS_INTERVAL_S * 3)) sees_both
for i in $(seq 25); do pod_get 0 / >/dev/null || break; done
check_eq "25 visits counted" "$(count_of 0)" 25
check_eq "the count is in the mounted volume" "$(cat "$STATE/data-0/visits.txt")" 25
check_eq "visits.txt belongs to uid 10001" "$(stat -c %u "$STATE/data-0/visits.txt")" 10001

# --- the StatefulSet guide's checks, run in pod 0 as written -----------------

out=$(kexec 0 nslookup $STS-1.$SVC 2>&1)
rc=$?
printf '$ kubectl exec %s-0 -- nslookup %s-1.%s\n%s\n' $STS $STS $SVC "$out"
check_eq "nslookup $STS-1.$SVC exits 0" $rc 0
check "nslookup prints pod 1's address ($(pod_ip 1))" grep -qx "Address: *$(pod_ip 1)" <<<"$out"
check "nslookup found it through the search list ($STS-1.$SUB)" \
    grep -qx "Name:[[:space:]]*$STS-1.$SUB" <<<"$out"

before1=$(count_of 1)
before0=$(count_of 0)
out=$(kexec 0 wget $STS-1.$SVC:8000 2>&1)
rc=$?
printf '$ kubectl exec %s-0 -- wget %s-1.%s:8000\n%s\n' $STS $STS $SVC "$out"
check_eq "wget $STS-1.$SVC:8000 exits 0 (busybox wget: a 2xx answer)" $rc 0
check "wget saved the page in the working directory" grep -q "'index.html' saved" <<<"$out"
page=$(kexec 0 cat /tmp/index.html)
check "the page is pod 1's visit page" grep -q "$STS-1" <<<"$page"
check "the page shows pod 1's count with this visit ($((before1 + 1)))" grep -qw "$((before1 + 1))" <<<"$page"
check_eq "the visit is counted on pod 1" "$(count_of 1)" $((before1 + 1))
check_eq "and not on pod 0" "$(count_of 0)" "$before0"
# Saving again would fail (busybox wget never overwrites): -qO- prints instead.
out=$(kexec 0 wget -qO- $STS-1.$SVC:8000 2>&1)
printf '$ kubectl exec %s-0 -- wget -qO- %s-1.%s:8000\n%s\n' $STS $STS $SVC "$out"
check "wget -qO- prints pod 1's page with the next visit ($((before1 + 2)))" \
    grep -qw "$((before1 + 2))" <<<"$out"
# busybox wget's exit status follows the answer's: a 404 is a failure.
check "wget of a path tallyd does not serve exits non-zero" \
    sh -c "! podman exec $(ctr 0) wget -q -O /dev/null $STS-1.$SVC:8000/nosuch"

out=$(kexec 0 cat /data/visits.txt)
printf '$ kubectl exec %s-0 -- cat /data/visits.txt\n%s\n' $STS "$out"
check_eq "cat /data/visits.txt prints pod 0's count" "$out" "$(count_of 0)"
check_eq "pod 1's file holds the visits wget made" "$(kexec 1 cat /data/visits.txt)" $((before1 + 2))

# kubectl delete pod: SIGTERM, then the same name and volume again.
c1=$(count_of 1)
check "delete pod 1: SIGTERM, exit 0" sh -c "podman stop -t $GRACE $(ctr 1) >/dev/null &&
    [ \"\$(podman inspect --format '{{.State.ExitCode}}' $(ctr 1))\" = 0 ]"
podman rm -f "$(ctr 1)" >/dev/null
check "pod 1 started again on its volume" pod_run 1
check "pod 1 ready again" ready 1
check_eq "cat /data/visits.txt in the new pod 1 prints its count" "$(kexec 1 cat /data/visits.txt)" "$c1"
echo "\$ kubectl exec $STS-0 -- tallyctl peers"
kexec 0 tallyctl peers
echo "\$ kubectl exec $STS-0 -- tallyctl dns"
check "tallyctl dns resolves TALLY_SERVICE's short name and both pods answer gossip" kexec 0 tallyctl dns
echo "\$ kubectl exec $STS-0 -- tallyctl file"
check "tallyctl file: /data/visits.txt matches tallyd" kexec 0 tallyctl file

# --- SIGTERM while connections keep counting: time to exit, and exit 0 ---------

if command -v wrk >/dev/null; then
    in_node wrk -t1 -c64 -d8s "$(url 0 /)" >"$T_WORK/wrk.log" 2>&1 &
else
    # Bounded: stops at the first refused visit (the drain) or after 5000.
    in_node sh -c "for i in \$(seq 5000); do curl -fsS -o /dev/null --max-time 1 $(url 0 /) || break; done" \
        >/dev/null 2>&1 &
fi
LOAD_PID=$!
sleep 2
before=$(count_of 0)
t0=$(date +%s%N)
podman kill --signal TERM "$(ctr 0)" >/dev/null
status=$(timeout $((GRACE + 5)) podman wait "$(ctr 0)")
ms=$((($(date +%s%N) - t0) / 1000000))
echo "SIGTERM to exit under load: $ms ms (grace period $GRACE s)"
check_eq "exit status 0 after SIGTERM under load" "$status" 0
check "exited within the grace period ($ms ms < ${GRACE}000 ms)" test "$ms" -lt $((GRACE * 1000))
wait "$LOAD_PID" 2>/dev/null
LOAD_PID=
after=$(cat "$STATE/data-0/visits.txt")
check "the final count ($after) was written and holds every visit seen before SIGTERM ($before)" \
    test "$after" -ge "$before"
podman logs "$(ctr 0)" 2>&1 | grep -E "signal|drain|stopped|exit" | tail -5
t_done
