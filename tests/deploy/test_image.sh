# test_image.sh: deploy/Dockerfile built with podman and the image run the way
# the StatefulSet runs it: uid 10001, read-only root filesystem, no
# capabilities, a volume at /data, inside a network namespace of its own.
# Checked: size, contents, user and entrypoint; /readyz; visits land in the
# mounted volume; SIGTERM under load exits 0 inside the 20 s grace period
# (the time is printed).
#
# Registry images cannot be pulled here, so debian:bookworm-slim is made
# locally once (debootstrap minbase, trimmed like the official slim image)
# and reused while `podman image exists` says so. The build's RUN steps reach
# the Debian mirror with --network=host: the Dockerfile installs packages
# with apt like any registry-connected build, and host networking adds no
# bridge, iptables chain or ip_forward (podman's default network would). The
# container runs without any route out (its own empty network namespace).
. "$TALLY_SRC/tests/process/lib.sh"
. "$TALLY_SRC/tests/deploy/lib.sh"

[ "$(id -u)" = 0 ] || d_skip "needs root (podman, debootstrap, network namespaces)"
ip netns list >/dev/null 2>&1 || d_skip "ip netns is unavailable here"
need=()
for t in podman:podman debootstrap:debootstrap runc:runc; do
    command -v "${t%%:*}" >/dev/null || need+=("${t#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "installing ${need[*]}"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "${need[@]}"; } >"$T_WORK/apt.log" 2>&1 ||
        { tail -5 "$T_WORK/apt.log"; d_skip "could not install ${need[*]}"; }
fi
export CONTAINERS_CONF=$DEPLOY_DIR/podman-containers.conf
podman info >"$T_WORK/podman-info" 2>&1 || d_skip "podman cannot run here: $(tail -1 "$T_WORK/podman-info")"
MIRROR=http://deb.debian.org/debian
curl -fsS -o /dev/null --max-time 10 "$MIRROR/dists/bookworm/InRelease" ||
    d_skip "the Debian mirror $MIRROR is unreachable (debootstrap and the Dockerfile's apt steps need it)"

BASE=debian:bookworm-slim
IMAGE=localhost/tally:test
PREFIX=tdimg$$
NS=$PREFIX-pod
CTR=$PREFIX
GRACE=20 # terminationGracePeriodSeconds in deploy/base/statefulset.yaml

cleanup() {
    podman rm -f -t 0 "$CTR" >/dev/null 2>&1
    ip netns del "$NS" 2>/dev/null
    [ -n "${LOAD_PID:-}" ] && kill "$LOAD_PID" 2>/dev/null
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

size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
base_size=$(podman image inspect --format '{{.Size}}' "$BASE")
echo "image size: $((size / 1000000)) MB ($size bytes; base $((base_size / 1000000)) MB)"
check "image under 100 MB ($((size / 1000000)) MB)" test "$size" -lt 100000000
check "image adds under 10 MB to the base" test $((size - base_size)) -lt 10000000
check_eq "image runs as uid 10001" "$(podman image inspect --format '{{.Config.User}}' "$IMAGE")" "10001:10001"
check_eq "entrypoint is tallyd in exec form" \
    "$(podman image inspect --format '{{json .Config.Entrypoint}}' "$IMAGE")" '["/usr/local/bin/tallyd"]'
in_image() { podman run --rm --network none --entrypoint /bin/sh "$IMAGE" -c "$1"; }
check "tallyd starts in the image (--version)" podman run --rm --network none "$IMAGE" --version
check "no compiler in the runtime image" test -z "$(in_image 'command -v cc gcc clang cmake' 2>/dev/null)"
if [ -f "$TALLY_SRC/tools/tallyctl/main.c" ]; then
    check "tallyctl is in the image and runs" podman run --rm --network none \
        --entrypoint /usr/local/bin/tallyctl "$IMAGE" --help
fi

# The pod: its own network namespace (loopback only), a volume owned by
# nobody but the container's uid, everything the manifests' securityContext says.
ip netns add "$NS" && ip -n "$NS" link set lo up
mkdir -p "$T_WORK/data"
chown 10001:10001 "$T_WORK/data"
chmod 0700 "$T_WORK/data"
check "container starts read-only, no capabilities, uid 10001" podman run -d --name "$CTR" \
    --read-only --cap-drop=ALL --security-opt no-new-privileges --user 10001:10001 \
    --network "ns:/run/netns/$NS" -v "$T_WORK/data:/data" -e POD_NAME=myapp-stateful-0 \
    -e POD_NAMESPACE=default --stop-timeout $GRACE "$IMAGE" --data-dir=/data
url() { echo "http://127.0.0.1:8000$1"; }
in_ns() { ip netns exec "$NS" "$@"; }
check "/readyz answers 200 (recovery wait over, no peers)" \
    in_ns sh -c "for i in \$(seq 150); do curl -fs -o /dev/null --max-time 1 $(url /readyz) && exit 0; sleep 0.1; done; exit 1"
check_eq "PID 1 is tallyd" "$(podman exec "$CTR" cat /proc/1/comm)" tallyd
check_eq "PID 1 runs as uid 10001" "$(podman exec "$CTR" awk '/^Uid:/ {print $2}' /proc/1/status)" 10001
check_eq "PID 1 has no capabilities" "$(podman exec "$CTR" awk '/^CapEff:/ {print $2}' /proc/1/status)" \
    0000000000000000
check "the root filesystem is read-only" sh -c "! podman exec $CTR touch /usr/local/bin/x 2>/dev/null"
for i in $(seq 25); do in_ns curl -fsS -o /dev/null "$(url /)" || break; done
check_eq "25 visits counted" "$(in_ns curl -fsS "$(url /count)" | json_get visits)" 25
check_eq "the count is in the mounted volume" "$(cat "$T_WORK/data/visits.txt")" 25
check_eq "visits.txt belongs to uid 10001" "$(stat -c %u "$T_WORK/data/visits.txt")" 10001

# SIGTERM while 64 connections keep counting: time to exit, and exit 0.
if command -v wrk >/dev/null; then
    in_ns wrk -t1 -c64 -d8s "$(url /)" >"$T_WORK/wrk.log" 2>&1 &
else
    in_ns sh -c "for i in \$(seq 20000); do curl -fsS -o /dev/null --max-time 1 $(url /) || true; done" \
        >/dev/null 2>&1 &
fi
LOAD_PID=$!
sleep 2
before=$(in_ns curl -fsS --max-time 2 "$(url /count)" | json_get visits)
t0=$(date +%s%N)
podman kill --signal TERM "$CTR" >/dev/null
status=$(timeout $((GRACE + 5)) podman wait "$CTR")
ms=$((($(date +%s%N) - t0) / 1000000))
echo "SIGTERM to exit under load: $ms ms (grace period $GRACE s)"
check_eq "exit status 0 after SIGTERM under load" "$status" 0
check "exited within the grace period ($ms ms < ${GRACE}000 ms)" test "$ms" -lt $((GRACE * 1000))
wait "$LOAD_PID" 2>/dev/null
LOAD_PID=
after=$(cat "$T_WORK/data/visits.txt")
check "the final count ($after) was written and holds every visit seen before SIGTERM ($before)" \
    test "$after" -ge "$before"
podman logs "$CTR" 2>&1 | grep -E "signal|drain|stopped|exit" | tail -5
t_done
