# cluster-lib.sh: a StatefulSet's pods as local processes, for the local
# cluster command and the process-level tests (sourced, not run).
#
# Pod N is a real tallyd bound to $CL_NET.$((10+N)) (a loopback address), with
# its data dir $CL_WORK/data-myapp-stateful-N; dnsmasq on $CL_NET.9:$CL_DNS_PORT
# answers the headless service's names like cluster DNS does: one A record per
# pod, the service name resolving to every pod, SRV _gossip._udp per pod.
# Only processes started here are ever stopped, by the PIDs recorded here.

CL_NET=${CL_NET:-127.0.0}
CL_DNS_PORT=${CL_DNS_PORT:-5353}
CL_HTTP_PORT=${CL_HTTP_PORT:-8000}
CL_GOSSIP_PORT=${CL_GOSSIP_PORT:-7946}
CL_STS=${CL_STS:-myapp-stateful}
CL_SVC=${CL_SVC:-myapp-headless}
CL_DOMAIN=${CL_DOMAIN:-default.svc.cluster.local}
CL_TALLYD_ARGS=${CL_TALLYD_ARGS:-}

cl_die() { echo "cluster: $*" >&2; exit 1; }

# cl_port_holder udp|tcp IP PORT: who already listens on IP:PORT (or on the
# wildcard address at PORT, which takes IP too): "pid=N (name)", "another
# process" when ss cannot name it, "" when the port is free.
cl_port_holder() {
    local flag=-t line
    [ "$1" = udp ] && flag=-u
    command -v ss >/dev/null || return 0
    line=$(ss -H -ln $flag -p 2>/dev/null | awk -v a="$2:$3" -v p=":$3" '
        $4 == a || $4 == "0.0.0.0" p || $4 == "*" p || $4 == "[::]" p { print; exit }')
    [ -n "$line" ] || return 0
    if [[ $line =~ \(\(\"([^\"]+)\",pid=([0-9]+) ]]; then
        echo "pid=${BASH_REMATCH[2]} (${BASH_REMATCH[1]})"
    else
        echo "another process"
    fi
}

# cl_port_free udp|tcp IP PORT WHAT: die naming the holder if IP:PORT is taken,
# so we never answer with a cluster that is not ours.
cl_port_free() {
    local who
    who=$(cl_port_holder "$1" "$2" "$3")
    [ -z "$who" ] && return 0
    cl_die "$4 cannot listen on $2:$3 ($1): it is in use by $who;" \
        "another local cluster? Stop it, or run beside it with another CL_NET (e.g. CL_NET=127.0.1)"
}

# cl_ports_check REPLICAS: every address the cluster will listen on is free,
# else die listing each one taken and by whom.
cl_ports_check() {
    local i who taken=""
    who=$(cl_port_holder udp "$CL_NET.9" "$CL_DNS_PORT")
    [ -n "$who" ] && taken+=$'\n'"  $CL_NET.9:$CL_DNS_PORT/udp (DNS) is in use by $who"
    for ((i = 0; i < $1; i++)); do
        who=$(cl_port_holder tcp "$(cl_ip "$i")" "$CL_HTTP_PORT")
        [ -n "$who" ] && taken+=$'\n'"  $(cl_ip "$i"):$CL_HTTP_PORT/tcp (pod $i HTTP) is in use by $who"
        who=$(cl_port_holder udp "$(cl_ip "$i")" "$CL_GOSSIP_PORT")
        [ -n "$who" ] && taken+=$'\n'"  $(cl_ip "$i"):$CL_GOSSIP_PORT/udp (pod $i gossip) is in use by $who"
    done
    [ -z "$taken" ] && return 0
    cl_die "cannot start: addresses it needs are taken:$taken"$'\n'"Another local cluster?" \
        "Stop it, or run beside it with another CL_NET (e.g. CL_NET=127.0.1) or other ports" \
        "(CL_DNS_PORT, CL_HTTP_PORT, CL_GOSSIP_PORT)."
}

# cl_log_tail FILE [FROM]: the last lines a process wrote (after byte FROM).
cl_log_tail() { tail -c +"$((${2:-0} + 1))" "$1" 2>/dev/null | tail -3 | sed 's/^/    /'; }
cl_ip() { echo "$CL_NET.$((10 + $1))"; }
cl_pod() { echo "$CL_STS-$1"; }
cl_fqdn() { echo "$CL_STS-$1.$CL_SVC.$CL_DOMAIN"; }
cl_url() { echo "http://$(cl_ip "$1"):$CL_HTTP_PORT$2"; }
cl_service() { echo "$CL_SVC.$CL_DOMAIN"; }

# cl_init WORKDIR TALLYD: remember where state lives and which binary to run.
cl_init() {
    CL_WORK=$1
    CL_TALLYD=$2
    mkdir -p "$CL_WORK"
    chmod 0755 "$CL_WORK"
    # PIDs left by an earlier run are not ours any more: never signal them.
    rm -f "$CL_WORK"/*.pid
    : >"$CL_WORK/pids"
    : >"$CL_WORK/endpoints" # "N IP" per pod published in DNS
}

cl_track() { echo "$1" >>"$CL_WORK/pids"; }

# Write the DNS records from $CL_WORK/endpoints and make dnsmasq reread them.
cl_dns_write() {
    local n ip
    : >"$CL_WORK/hosts.new"
    while read -r n ip; do
        echo "$ip $(cl_fqdn "$n")" >>"$CL_WORK/hosts.new"
        echo "$ip $(cl_service)" >>"$CL_WORK/hosts.new"
    done <"$CL_WORK/endpoints"
    chmod 0644 "$CL_WORK/hosts.new"
    mv "$CL_WORK/hosts.new" "$CL_WORK/hosts"
    if [ -s "$CL_WORK/dnsmasq.pid" ]; then
        kill -HUP "$(cat "$CL_WORK/dnsmasq.pid")" 2>/dev/null || true
    fi
}

# cl_dns_start REPLICAS: publish pods 0..REPLICAS-1 and start dnsmasq.
cl_dns_start() {
    local i srv=()
    for ((i = 0; i < $1; i++)); do
        echo "$i $(cl_ip "$i")" >>"$CL_WORK/endpoints"
        srv+=("--srv-host=_gossip._udp.$(cl_service),$(cl_fqdn "$i"),$CL_GOSSIP_PORT,0,100")
        srv+=("--srv-host=_http._tcp.$(cl_service),$(cl_fqdn "$i"),$CL_HTTP_PORT,0,100")
    done
    cl_dns_write
    command -v dnsmasq >/dev/null || cl_die "dnsmasq not found: run tools/install-deps.sh"
    cl_port_free udp "$CL_NET.9" "$CL_DNS_PORT" "dnsmasq (the cluster's DNS)"
    # TTL 1 s so a moved record is seen quickly; --user keeps our own user so
    # the hosts file under the build folder stays readable.
    dnsmasq -k --conf-file=/dev/null --listen-address="$CL_NET.9" --port="$CL_DNS_PORT" \
        --bind-interfaces --no-resolv --no-hosts --addn-hosts="$CL_WORK/hosts" \
        --local="/${CL_DOMAIN#*.svc.}/" --local-ttl=1 --pid-file= --user="$(id -un)" \
        --log-facility="$CL_WORK/dnsmasq.log" "${srv[@]}" &
    local pid=$! t
    echo $pid >"$CL_WORK/dnsmasq.pid"
    cl_track $pid
    # An answer proves nothing alone (another dnsmasq may hold the address):
    # ours must still run, and be the one listening there.
    for t in $(seq 50); do
        kill -0 "$pid" 2>/dev/null ||
            cl_die "dnsmasq exited at once; it said:" $'\n'"$(cl_log_tail "$CL_WORK/dnsmasq.log")"
        if [ "$(cl_port_holder udp "$CL_NET.9" "$CL_DNS_PORT")" = "pid=$pid (dnsmasq)" ] &&
            dig +short +time=1 +tries=1 @"$CL_NET.9" -p "$CL_DNS_PORT" "$(cl_service)" 2>/dev/null |
            grep -q .; then
            return 0
        fi
        sleep 0.1
    done
    cl_die "dnsmasq did not answer on $CL_NET.9:$CL_DNS_PORT (see $CL_WORK/dnsmasq.log)"
}

# cl_dns_move N IP: pod N's record now points at IP (a pod rescheduled).
cl_dns_move() {
    awk -v n="$1" -v ip="$2" '$1 == n {$2 = ip} 1' "$CL_WORK/endpoints" >"$CL_WORK/e" &&
        mv "$CL_WORK/e" "$CL_WORK/endpoints"
    cl_dns_write
}

# cl_pod_start N [IP]: start pod N's tallyd in the background.
cl_pod_start() {
    local n=$1 ip=${2:-$(cl_ip "$1")} log
    log=$CL_WORK/$(cl_pod "$n").log
    mkdir -p "$CL_WORK/data-$(cl_pod "$n")"
    # Where this start's lines begin: cl_wait_http looks for its own "started".
    stat -c %s "$log" 2>/dev/null >"$CL_WORK/pod-$n.logoff" || echo 0 >"$CL_WORK/pod-$n.logoff"
    # shellcheck disable=SC2086
    "$CL_TALLYD" --name "$(cl_pod "$n")" --bind "$ip" --http-port "$CL_HTTP_PORT" \
        --gossip-port "$CL_GOSSIP_PORT" --data-dir "$CL_WORK/data-$(cl_pod "$n")" \
        --service "$(cl_service)" --dns-server "$CL_NET.9:$CL_DNS_PORT" $CL_TALLYD_ARGS \
        >>"$log" 2>&1 &
    echo $! >"$CL_WORK/pod-$n.pid"
    echo "$n $ip" >"$CL_WORK/pod-$n.ip"
    cl_track $!
}

cl_pod_pid() { cat "$CL_WORK/pod-$1.pid"; }
cl_pod_url() { echo "http://$(awk '{print $2}' "$CL_WORK/pod-$1.ip"):$CL_HTTP_PORT$2"; }

cl_pod_log() { echo "$CL_WORK/$(cl_pod "$1").log"; }
# cl_pod_started N: pod N's tallyd runs and has logged that it listens (so an
# answer on its address is its own, not another process's).
cl_pod_started() {
    kill -0 "$(cl_pod_pid "$1")" 2>/dev/null &&
        tail -c +"$(($(cat "$CL_WORK/pod-$1.logoff") + 1))" "$(cl_pod_log "$1")" 2>/dev/null |
        grep -c "msg=started " >/dev/null # not -q: an early exit would fail tail under pipefail
}

# cl_wait_http N PATH [TRIES]: until pod N answers PATH with 200; fails at
# once when pod N's tallyd has exited (cl_pod_why says why).
cl_wait_http() {
    local t
    for t in $(seq "${3:-100}"); do
        kill -0 "$(cl_pod_pid "$1")" 2>/dev/null || return 1
        cl_pod_started "$1" &&
            curl -fsS -o /dev/null --max-time 1 "$(cl_pod_url "$1" "$2")" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# cl_pod_why N: what pod N's tallyd said last, for a failure message.
cl_pod_why() { cl_log_tail "$(cl_pod_log "$1")" "$(cat "$CL_WORK/pod-$1.logoff")"; }

# cl_pod_stop N [SIGNAL]: signal pod N and wait for it to exit; its exit
# status is left in CL_STATUS (call it directly, not in $(...): a subshell
# cannot wait for its parent's children).
cl_pod_stop() {
    local pid
    pid=$(cl_pod_pid "$1")
    CL_STATUS=0
    kill -"${2:-TERM}" "$pid" 2>/dev/null || return 0
    wait "$pid" 2>/dev/null || CL_STATUS=$?
}

# cl_down: stop everything this shell started, by PID.
cl_down() {
    [ -n "${CL_WORK:-}" ] && [ -f "$CL_WORK/pids" ] || return 0
    local pid
    for pid in $(cat "$CL_WORK/pids"); do kill "$pid" 2>/dev/null || true; done
    for pid in $(cat "$CL_WORK/pids"); do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    done
    : >"$CL_WORK/pids"
}
