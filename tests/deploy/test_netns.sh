# test_netns.sh: the rendered StatefulSet replayed on a simulated cluster
# network (root only). A "node" network namespace holds a bridge, dnsmasq as
# the cluster DNS (A records per pod and for the headless service, SRV per
# named port) and an nftables NodePort 30001; each pod gets its own namespace,
# IP and the cluster's resolv.conf (search domains, ndots:5). Each pod runs the
# built tallyd with exactly the args and env of the rendered StatefulSet
# (downward API and $(VAR) resolved as the kubelet does), only the data mount
# swapped for a per-pod directory. Checked: pods resolve each other by their
# headless names; NodePort visits spread and the total is their sum; a pod
# deleted and started on a new IP keeps its count and is followed; scaling
# 3 -> 2 -> 3 keeps every visit. Nothing outside our namespaces is touched.
. "$TALLY_SRC/tests/process/lib.sh"
. "$TALLY_SRC/tests/deploy/lib.sh"

[ "$(id -u)" = 0 ] || d_skip "needs root for network namespaces"
ip netns list >/dev/null 2>&1 || d_skip "ip netns is unavailable here"
for t in kubectl node npm dnsmasq curl getent; do
    command -v $t >/dev/null || d_skip "$t not found"
done
if ! command -v nft >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nftables >/dev/null 2>&1 ||
        d_skip "nft not found and nftables could not be installed (it makes the NodePort)"
fi
[ -x "$TALLYD" ] || d_skip "$TALLYD not built"

PREFIX=tdnet$$ # unique to this run: namespaces, /etc/netns entries
NODE=$PREFIX-node
NET=10.244.0
NODE_IP=$NET.1
DNS_IP=10.96.0.10
KNS=default
STS=myapp-stateful
SVC=myapp-headless
SUB=$SVC.$KNS.svc.cluster.local
NODEPORT=30001
STATE=$T_WORK/cluster
RENDERED=$T_WORK/rendered.yaml

pod_ns() { echo "$PREFIX-pod$1"; }
pod_ip() { awk -v n="$1" '$1 == n {print $2}' "$STATE/endpoints"; }
fqdn() { echo "$STS-$1.$SUB"; }

# any_alive PID...: true while one of them runs (a zombie waiting to be reaped is done)
any_alive() {
    local pid st
    for pid; do
        st=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -c1)
        [ -n "$st" ] && [ "$st" != Z ] && return 0
    done
    return 1
}
netns_down() { # SIGTERM first so pods write their counts; SIGKILL what lingers
    local ns pids="" pid t nss
    nss=$(ip netns list 2>/dev/null | awk -v p="$PREFIX-" 'index($1, p) == 1 {print $1}')
    for ns in $nss; do pids="$pids $(ip netns pids "$ns" 2>/dev/null)"; done
    for pid in $pids; do kill -TERM "$pid" 2>/dev/null; done
    for t in $(seq 30); do any_alive $pids || break; sleep 0.1; done
    for pid in $pids; do kill -9 "$pid" 2>/dev/null; done
    wait 2>/dev/null
    for ns in $nss; do
        ip netns del "$ns" 2>/dev/null
        rm -rf "/etc/netns/$ns"
    done
    rmdir /etc/netns 2>/dev/null
    return 0
}
trap 'netns_down; t_cleanup' EXIT

# --- the cluster network --------------------------------------------------

# write_dns: records from $STATE/endpoints ("N IP published"), then restart
# dnsmasq (srv-host lines are not reread on SIGHUP) and the NodePort map.
write_dns() {
    local n ip pub port map="" i=0
    : >"$STATE/hosts"
    : >"$STATE/srv.conf"
    while read -r n ip pub; do
        [ "$pub" = 1 ] || continue
        printf '%s %s\n%s %s\n' "$ip" "$(fqdn "$n")" "$ip" "$SUB" >>"$STATE/hosts"
        for port in http:tcp:8000 gossip:udp:7946; do
            IFS=: read -r name proto num <<<"$port"
            echo "srv-host=_$name._$proto.$SUB,$(fqdn "$n"),$num,0,100" >>"$STATE/srv.conf"
        done
        map="$map${map:+, }$i : $ip"
        i=$((i + 1))
    done <"$STATE/endpoints"
    chmod 0644 "$STATE/hosts" "$STATE/srv.conf"
    if [ -s "$STATE/dnsmasq.pid" ]; then
        kill "$(cat "$STATE/dnsmasq.pid")" 2>/dev/null
        wait "$(cat "$STATE/dnsmasq.pid")" 2>/dev/null
    fi
    # kubeadm's CoreDNS: TTL 30, nothing answered outside cluster.local.
    ip netns exec "$NODE" dnsmasq -k --conf-file="$STATE/srv.conf" --listen-address=$DNS_IP \
        --bind-interfaces --no-resolv --no-hosts --no-poll --local=/cluster.local/ \
        --addn-hosts="$STATE/hosts" --local-ttl=30 --pid-file= \
        --log-facility="$STATE/dnsmasq.log" &
    echo $! >"$STATE/dnsmasq.pid"
    ip netns exec "$NODE" nft delete table ip nodeport 2>/dev/null
    # kube-proxy-like: each new connection to NODE_IP:30001 goes to a random ready pod.
    [ "$i" -gt 0 ] && ip netns exec "$NODE" nft -f - <<EOF
table ip nodeport {
  chain pre { type nat hook prerouting priority dstnat; ip daddr $NODE_IP tcp dport $NODEPORT dnat to numgen random mod $i map { $map } : 8000; }
  chain out { type nat hook output priority -100; ip daddr $NODE_IP tcp dport $NODEPORT dnat to numgen random mod $i map { $map } : 8000; }
}
EOF
    local t
    for t in $(seq 50); do
        ip netns exec "$NODE" getent hosts "$SUB" >/dev/null 2>&1 && return 0
        [ "$i" = 0 ] && return 0
        sleep 0.05
    done
    return 1
}

# pod_net N IP: pod N's eth0 gets IP; its kubelet-like /etc/hosts follows.
pod_net() {
    local p
    p=$(pod_ns "$1")
    ip -n "$p" addr flush dev eth0
    ip -n "$p" addr add "$2/24" dev eth0
    ip -n "$p" link set eth0 up
    ip -n "$p" route replace default via $NODE_IP
    printf '127.0.0.1\tlocalhost\n%s\t%s\t%s-%s\n' "$2" "$(fqdn "$1")" "$STS" "$1" >"/etc/netns/$p/hosts"
    awk -v n="$1" -v ip="$2" '$1 == n {$2 = ip} 1' "$STATE/endpoints" >"$STATE/e" &&
        mv "$STATE/e" "$STATE/endpoints"
}
set_published() {
    awk -v n="$1" -v v="$2" '$1 == n {$3 = v} 1' "$STATE/endpoints" >"$STATE/e" &&
        mv "$STATE/e" "$STATE/endpoints"
    write_dns
}

cluster_up() {
    local i p
    mkdir -p "$STATE" /etc/netns
    chmod 0755 "$STATE"
    : >"$STATE/endpoints"
    ip netns add "$NODE" || return 1
    ip -n "$NODE" link set lo up
    ip -n "$NODE" addr add $DNS_IP/32 dev lo
    ip -n "$NODE" link add br0 type bridge
    ip -n "$NODE" addr add $NODE_IP/24 dev br0
    ip -n "$NODE" link set br0 up
    for i in 0 1 2; do
        p=$(pod_ns $i)
        ip netns add "$p" || return 1
        ip -n "$p" link set lo up
        ip -n "$NODE" link add "veth$i" type veth peer name eth0 netns "$p"
        ip -n "$NODE" link set "veth$i" master br0 up
        mkdir -p "/etc/netns/$p"
        printf 'search %s.svc.cluster.local svc.cluster.local cluster.local\nnameserver %s\noptions ndots:5\n' \
            $KNS $DNS_IP >"/etc/netns/$p/resolv.conf"
        echo "$i - 1" >>"$STATE/endpoints"
        pod_net $i "$NET.$((10 + i))"
        mkdir -p "$STATE/pvc/data-$STS-$i"
    done
    cp "/etc/netns/$(pod_ns 0)/resolv.conf" "$STATE/resolv.conf"
    mkdir -p "/etc/netns/$NODE" && cp "$STATE/resolv.conf" "/etc/netns/$NODE/resolv.conf"
    write_dns
}

# --- pods: tallyd as the StatefulSet starts it ----------------------------

# pod_start N: run tallyd in pod N's namespace with the rendered container's
# env and args (POD_IP is the pod's current address); only the data volume's
# mount path becomes the pod's directory.
pod_start() {
    local n=$1 kind k v mount="" envs=() args=() swapped=0 data
    data=$STATE/pvc/data-$STS-$n
    while IFS=$'\t' read -r kind k v; do
        case $kind in
        mount) mount=$k ;;
        env) [ "$v" = "$mount" ] && { v=$data; swapped=1; }
            envs+=("$k=$v") ;;
        arg) if [ "$k" = "$mount" ]; then k=$data; swapped=1
            elif [ "${k%%=*}=$mount" = "$k" ]; then k=${k%%=*}=$data; swapped=1; fi
            args+=("$k") ;;
        esac
    done < <(d_manifests pod "$STS-$n" "$(pod_ip "$n")" $KNS <"$RENDERED")
    [ "$swapped" = 1 ] || { echo "pod_start: the data mount $mount is not passed to tallyd" >&2; return 1; }
    # A container sees only its own env (plus HOSTNAME and the image's PATH).
    ip netns exec "$(pod_ns "$n")" env -i PATH=/usr/bin:/bin HOSTNAME="$STS-$n" "${envs[@]}" \
        "$TALLYD" "${args[@]}" >>"$STATE/$STS-$n.log" 2>&1 &
    echo $! >"$STATE/pod$n.pid"
    T_PIDS+=($!)
}
# pod_delete N: what `kubectl delete pod` does to the process: SIGTERM, then
# wait; the exit status lands in POD_EXIT (not a subshell: only this shell
# can wait for its children).
pod_delete() {
    local pid
    pid=$(cat "$STATE/pod$1.pid")
    POD_EXIT=0
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || POD_EXIT=$?
}

in_node() { ip netns exec "$NODE" "$@"; }
pod_get() { in_node curl -fsS --max-time 2 "http://$(pod_ip "$1"):8000$2"; }
wait_for() {
    local n=$1 t
    shift
    for t in $(seq "$n"); do "$@" && return 0; sleep 0.2; done
    return 1
}
ready() { pod_get "$1" /readyz >/dev/null 2>&1; }
count_of() { pod_get "$1" /count | json_get visits; }
total_of() { pod_get "$1" /cluster | json_get total; }
all_totals_are() { local i; for i in $PODS; do [ "$(total_of "$i" 2>/dev/null)" = "$1" ] || return 1; done; }
# row VIEWER POD FIELD: FIELD of POD's row in VIEWER's /cluster
row() {
    pod_get "$1" /cluster | python3 -c '
import json,sys
rows=[p for p in json.load(sys.stdin)["pods"] if p["name"]==sys.argv[1]]
print(rows[0][sys.argv[2]] if rows else "")' "$STS-$2" "$3"
}
row_is() { [ "$(row "$1" "$2" "$3" 2>/dev/null)" = "$4" ]; }
alive_peers_of() {
    pod_get "$1" /cluster | python3 -c '
import json,sys; print(sum(p["state"]=="alive" for p in json.load(sys.stdin)["pods"]))'
}
nodeport_visits() {
    local k
    for k in $(seq "$1"); do
        in_node curl -fsS -o /dev/null --max-time 2 "http://$NODE_IP:$NODEPORT/" || return 1
    done
}
sum_counts() { local i s=0; for i in 0 1 2; do s=$((s + $(count_of $i))); done; echo $s; }

# --- the test -------------------------------------------------------------

check "npm packages installed" d_npm_install
kubectl kustomize "$TALLY_SRC/deploy" >"$RENDERED" || { not_ok "kubectl kustomize deploy/"; t_done; exit 1; }
check "simulated cluster network up" cluster_up

PODS="0 1 2"
for i in $PODS; do pod_start $i; done
for i in $PODS; do check "pod $i ready (rendered args and env)" wait_for 100 ready $i; done

check_eq "pod 0 resolves $STS-1.$SVC (search domains)" \
    "$(ip netns exec "$(pod_ns 0)" getent hosts "$STS-1.$SVC" | awk '{print $1}')" "$NET.11"
check_eq "pod 2 resolves $STS-0.$SVC" \
    "$(ip netns exec "$(pod_ns 2)" getent hosts "$STS-0.$SVC" | awk '{print $1}')" "$NET.10"
check_eq "the headless service lists 3 pods" \
    "$(ip netns exec "$(pod_ns 1)" getent ahostsv4 "$SUB" | awk '{print $1}' | sort -u | wc -l)" 3
for i in $PODS; do
    check "pod $i found its 2 siblings through the headless service" \
        wait_for 50 test "$(alive_peers_of $i 2>/dev/null)" = 3
done

check "60 visits through NodePort $NODEPORT" nodeport_visits 60
for i in $PODS; do c=$(count_of $i); check "pod $i served some of them ($c)" test "${c:-0}" -gt 0; done
check_eq "the pods' counts add up to 60" "$(sum_counts)" 60
check "every pod's cluster total converges to 60" wait_for 50 all_totals_are 60

before=$(count_of 1)
pod_delete 1
check_eq "delete pod 1: exits 0 on SIGTERM" "$POD_EXIT" 0
pod_net 1 $NET.21 # rescheduled: same name and volume, new IP
write_dns
pod_start 1
check "pod 1 ready on its new IP $NET.21" wait_for 100 ready 1
check_eq "pod 1 kept its count ($before)" "$(count_of 1)" "$before"
check_eq "pod 0 resolves pod 1's new address" \
    "$(ip netns exec "$(pod_ns 0)" getent hosts "$STS-1.$SVC" | awk '{print $1}')" "$NET.21"
for i in 0 2; do
    check "pod $i follows pod 1 to $NET.21" wait_for 50 row_is $i 1 address "$NET.21:7946"
    check "pod $i sees pod 1 alive" wait_for 50 row_is $i 1 state alive
done
check "10 more visits through the NodePort" nodeport_visits 10
check "all totals converge to 70" wait_for 50 all_totals_are 70

# Scale 3 -> 2: the StatefulSet removes the highest ordinal; its PVC stays.
pod_delete 2
check_eq "scale to 2: pod 2 exits 0 on SIGTERM" "$POD_EXIT" 0
set_published 2 0
PODS="0 1"
both_see_2_left() { row_is 0 2 state left && row_is 1 2 state left; }
check "pods 0 and 1 see pod 2 left" wait_for 50 both_see_2_left
check "10 visits through the NodePort with 2 pods" nodeport_visits 10
check "pod 2's visits stay counted: totals 80 on 2 pods" wait_for 50 all_totals_are 80
c2=$(cat "$STATE/pvc/data-$STS-2/visits.txt")

# Scale 2 -> 3: pod 2 comes back on its volume.
set_published 2 1
pod_start 2
PODS="0 1 2"
check "scale to 3: pod 2 ready" wait_for 100 ready 2
check_eq "pod 2 kept its count" "$(count_of 2)" "$c2"
check "every visit is in every total (80)" wait_for 50 all_totals_are 80
check_eq "the pods' counts still add up to 80" "$(sum_counts)" 80
t_done
