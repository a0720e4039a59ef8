# tests/netns/lib.sh: a small three-pod network for fault tests (sourced after
# tests/process/lib.sh; root only). A "node" namespace holds a bridge; each pod
# namespace has eth0 on it with its own IP in $TN_NET.0/24 and runs the built
# tallyd bound to that IP, with the other pods as --peers. Faults: random loss
# on a pod's egress (tc netem, or an nftables bridge rule dropping the same
# share of the frames the pod sends when the kernel has no netem) and a
# partition (the pod's bridge port down). Everything is named $TN_PREFIX-*, so
# nothing outside our namespaces is touched; tn_down removes it all and stops
# only the processes we started, by PID.

TN_PREFIX=${TN_PREFIX:-tflt$$}
TN_NET=${TN_NET:-10.245.0}
TN_NODE=$TN_PREFIX-node
TN_STS=myapp-stateful
TN_DIR=$TALLY_SRC/tests/netns
TN_PODS="0 1 2"
TN_PIDS=() # tallyd and helpers we started, stopped by tn_down
TN_LOSS_KIND=""

tn_ns() { echo "$TN_PREFIX-pod$1"; }
tn_ip() { echo "$TN_NET.$((10 + $1))"; }
tn_name() { echo "$TN_STS-$1"; }
# tn_in N CMD...: run CMD in pod N's namespace
tn_in() {
    local n=$1
    shift
    ip netns exec "$(tn_ns "$n")" "$@"
}
tn_node() { ip netns exec "$TN_NODE" "$@"; }

# tn_skip_unless_able: skip (exit 0, "1 skipped") when this machine cannot run us.
tn_skip_unless_able() {
    local t
    [ "$(id -u)" = 0 ] || tn_skip "needs root for network namespaces"
    ip netns list >/dev/null 2>&1 || tn_skip "ip netns is unavailable here"
    for t in tc curl python3; do command -v $t >/dev/null || tn_skip "$t not found"; done
    [ -x "$TALLYD" ] || tn_skip "$TALLYD not built"
}
tn_skip() {
    echo "SKIP: $*"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
}

# tn_pick_loss: netem if the kernel has it, else an nftables bridge rule.
tn_pick_loss() {
    local probe=$TN_PREFIX-probe
    ip netns add "$probe" || return 1
    if ip netns exec "$probe" tc qdisc add dev lo root netem loss 1% 2>/dev/null; then
        TN_LOSS_KIND=netem
    elif command -v nft >/dev/null &&
        ip netns exec "$probe" nft 'add table bridge t; add chain bridge t c { type filter hook prerouting priority 0; }; add rule bridge t c numgen random mod 100 < 1 drop' 2>/dev/null; then
        TN_LOSS_KIND=nft
    fi
    ip netns del "$probe"
    [ -n "$TN_LOSS_KIND" ]
}

tn_up() {
    local i p
    ip netns add "$TN_NODE" || return 1
    tn_node ip link set lo up
    tn_node ip link add br0 type bridge
    tn_node ip addr add "$TN_NET.1/24" dev br0
    tn_node ip link set br0 up
    for i in $TN_PODS; do
        p=$(tn_ns "$i")
        ip netns add "$p" || return 1
        ip -n "$p" link set lo up
        ip -n "$TN_NODE" link add "veth$i" type veth peer name eth0 netns "$p" || return 1
        ip -n "$TN_NODE" link set "veth$i" master br0 up
        ip -n "$p" addr add "$(tn_ip "$i")/24" dev eth0
        ip -n "$p" link set eth0 up
        mkdir -p "$T_WORK/data-$i"
    done
}

# tn_start N ARGS...: tallyd in pod N, the other pods as static peers.
tn_start() {
    local n=$1 i peers=""
    shift
    for i in $TN_PODS; do
        [ "$i" = "$n" ] || peers="$peers${peers:+,}$(tn_ip "$i"):7946"
    done
    # ip netns exec directly, not through tn_in: a backgrounded function is a
    # subshell and $! would name it rather than tallyd.
    ip netns exec "$(tn_ns "$n")" "$TALLYD" --name "$(tn_name "$n")" --bind "$(tn_ip "$n")" \
        --data-dir "$T_WORK/data-$n" --peers "$peers" "$@" >>"$T_WORK/tallyd-$n.log" 2>&1 &
    TN_PIDS+=($!)
    echo $! >"$T_WORK/pid-$n"
}

# tn_alive PID...: true while one of them runs (a zombie waiting to be reaped is done)
tn_alive() {
    local pid st
    for pid; do
        st=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -c1)
        [ -n "$st" ] && [ "$st" != Z ] && return 0
    done
    return 1
}

# tn_down: SIGTERM what we started (tallyd writes its count), SIGKILL what
# lingers, then delete our namespaces. Processes still inside our namespaces
# can only be ours (a helper that outlived its parent): they are stopped too,
# by PID, so none outlives the test. Safe to call twice.
tn_down() {
    local pid t ns nss pids=("${TN_PIDS[@]}")
    nss=$(ip netns list 2>/dev/null | awk -v p="$TN_PREFIX-" 'index($1, p) == 1 {print $1}')
    for ns in $nss; do pids+=($(ip netns pids "$ns" 2>/dev/null)); done
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for t in $(seq 30); do tn_alive "${pids[@]}" || break; sleep 0.1; done
    for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null; done
    wait 2>/dev/null
    TN_PIDS=()
    for ns in $nss; do ip netns del "$ns" 2>/dev/null; done
    return 0
}

# --- faults ---------------------------------------------------------------

# tn_loss_on PCT: every pod loses PCT% of what it sends (so each direction of
# every pod-to-pod path, and each pod's HTTP answers, are lossy).
tn_loss_on() {
    local i rules=""
    if [ "$TN_LOSS_KIND" = netem ]; then
        for i in $TN_PODS; do tn_in "$i" tc qdisc add dev eth0 root netem loss "$1%" || return 1; done
        return 0
    fi
    # Frames a pod sends enter the bridge through its veth: dropped there, they
    # are lost on the wire, silently, as netem would lose them.
    for i in $TN_PODS; do rules="$rules iifname \"veth$i\" numgen random mod 100 < $1 drop;"; done
    tn_node nft -f - <<EOF
table bridge $TN_PREFIX {
  chain pre { type filter hook prerouting priority 0; $rules }
}
EOF
}
tn_loss_off() {
    local i
    if [ "$TN_LOSS_KIND" = netem ]; then
        for i in $TN_PODS; do tn_in "$i" tc qdisc del dev eth0 root || return 1; done
        return 0
    fi
    tn_node nft delete table bridge "$TN_PREFIX"
}
# tn_isolate N / tn_heal N: pod N's bridge port down / up (its eth0 loses carrier).
tn_isolate() { ip -n "$TN_NODE" link set "veth$1" down; }
tn_heal() { ip -n "$TN_NODE" link set "veth$1" up; }

# --- asking the pods (from inside each pod: never lossy, never cut off) ---

tn_get() { tn_in "$1" curl -fsS --max-time 2 "http://$(tn_ip "$1"):8000$2"; }
tn_ready() { tn_get "$1" /readyz >/dev/null 2>&1; }
tn_count() { tn_get "$1" /count | json_get visits; }
tn_total() { tn_get "$1" /cluster | json_get total; }
# tn_snapshot DIR: every pod's /count and /cluster into DIR for views.py
tn_snapshot() {
    local i
    mkdir -p "$1"
    for i in $TN_PODS; do
        tn_get "$i" /count >"$1/count$i.json" || return 1
        tn_get "$i" /cluster >"$1/cluster$i.json" || return 1
    done
}
# tn_agree: every view has every pod alive at its own count, totals = sum.
tn_agree() { tn_snapshot "$T_WORK/snap" && python3 "$TN_DIR/views.py" agree "$T_WORK/snap" 3 >"$T_WORK/agree.why"; }
# tn_state VIEWER MEMBER: MEMBER's state in VIEWER's /cluster
tn_state() {
    tn_get "$1" /cluster >"$T_WORK/state$1.json" 2>/dev/null || return 1
    python3 -c 'import json,sys
rows=[p["state"] for p in json.load(open(sys.argv[1]))["pods"] if p["name"]==sys.argv[2]]
print(rows[0] if rows else "")' "$T_WORK/state$1.json" "$(tn_name "$2")"
}
tn_state_is() { [ "$(tn_state "$1" "$2" 2>/dev/null)" = "$3" ]; }

# tn_wait SECONDS CMD...: until CMD succeeds (0.1 s steps); prints how long it
# took in ms into $TN_WAITED.
tn_wait() {
    local limit=$1 t0 now
    shift
    t0=$(date +%s%N)
    while :; do
        if "$@"; then
            TN_WAITED=$((($(date +%s%N) - t0) / 1000000))
            return 0
        fi
        now=$(date +%s%N)
        [ $(((now - t0) / 1000000)) -ge $((limit * 1000)) ] && { TN_WAITED=-1; return 1; }
        sleep 0.1
    done
}
