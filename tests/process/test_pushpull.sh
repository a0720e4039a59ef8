# test_pushpull.sh: full state over TCP (push-pull, node/peer/tcp.h) with real
# tallyds on 127.0.47.1-3 (no key, static --peers) and 127.0.47.5-6 (a
# cluster key). --recovery-wait is 60 s, so a pod is ready only once a peer's
# whole table has been merged (a push-pull answer or a SYNC), never by the
# timer.
#
# 1. A pod that left is restarted on its volume while the others hold more
#    than its saved table: its first ready moment (/status, one answer)
#    already shows the true total, and it made a push-pull.
# 2. Hostile TCP at pod-0's gossip port: from an unlisted ip (source), and
#    from a listed one: a garbage frame (decode), a 2^32-1 length (too_big),
#    a slowloris (timeout, closed within PEER_TCP_DEADLINE_MS), more
#    connections than PEER_TCP_INBOUND_MAX (busy, closed at once). Each is
#    closed by the pod and counted; pod-0 keeps serving and gossiping.
# 3. pod-0 still answers a push-pull after all that (one made by hand here,
#    so the test decides who asks): its whole table, under the asker's id.
# 4. With a key: a frame sealed with another key is dropped (auth) and the
#    connection closed; a restarted keyed pod is whole after a sealed
#    exchange with the other.
. "$TALLY_SRC/tests/process/lib.sh"
NET=127.0.47
HOSTILE="$TALLY_SRC/tests/process/pushpull_hostile.py"
GOSSIP_MS=200
# How long an exchange may take at most: a few rounds to ask (a retry every
# GOSSIP_PUSHPULL_RETRY_ROUNDS = 3) plus the connection's deadline (5 s).
EXCHANGE_TRIES=$(((10 * GOSSIP_MS + 5000) / 100 * 2))
PEERS="$NET.1:7946,$NET.2:7946,$NET.3:7946"
KPEERS="$NET.5:7946,$NET.6:7946"
head -c 32 /dev/urandom | base64 >"$T_WORK/key"
chmod 0600 "$T_WORK/key"

start() { # start N [EXTRA ARGS...]: pod-N on $NET.(N+1)
    local n=$1
    shift
    mkdir -p "$T_WORK/d$n"
    "$TALLYD" --name "pod-$n" --bind "$NET.$((n + 1))" --http-port 8000 --gossip-port 7946 \
        --data-dir "$T_WORK/d$n" --gossip-interval $GOSSIP_MS --recovery-wait 60000 \
        --sync none --sync-interval 100 "$@" >>"$T_WORK/tallyd$n.log" 2>&1 &
    T_PIDS+=("$!")
    eval "PID$n=$!"
}
stop() { # stop N: SIGTERM (the pod tells its peers it leaves)
    local pid
    eval "pid=\$PID$1"
    kill -TERM "$pid" && wait "$pid" 2>/dev/null
}
url() { echo "http://$NET.$(($1 + 1)):8000$2"; }
visit() { # visit N COUNT
    local i
    for i in $(seq "$2"); do curl -fsS -o /dev/null --max-time 2 "$(url "$1" /)" || return 1; done
}
total() { curl -fsS --max-time 2 "$(url "$1" /cluster)" | json_get total; }
wait_total() { # wait_total N WANT
    local t
    for t in $(seq $EXCHANGE_TRIES); do
        [ "$(total "$1" 2>/dev/null)" = "$2" ] && return 0
        sleep 0.1
    done
    return 1
}
metric() { # metric N NAME{labels}
    curl -fsS --max-time 2 "$(url "$1" /metrics)" | awk -v k="$2" '$1 == k { print $2 }'
}
pp() { metric "$1" "tally_gossip_pushpull_total{result=\"$2\"}"; }
wait_pp() { # wait_pp N RESULT MIN: until pod N counts at least MIN of RESULT
    local t
    for t in $(seq $EXCHANGE_TRIES); do
        [ "$(pp "$1" "$2" 2>/dev/null)" -ge "$3" ] 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
# ready_total N: pod N's total at its first ready moment (one /status answer
# holds both), or "never".
ready_total() {
    local t s
    for t in $(seq $EXCHANGE_TRIES); do
        s=$(curl -fsS --max-time 1 "$(url "$1" /status)" 2>/dev/null) &&
            [ "$(echo "$s" | json_get ready)" = "True" ] && {
            echo "$s" | json_get total
            return 0
        }
        sleep 0.1
    done
    echo never
}
hostile() { python3 "$HOSTILE" --to "$NET.1:7946" "$@"; }
closed_by_peer() { json_get closed_by_peer; }

# ---- 1. a restarted pod is whole after one exchange ----------------------
for n in 0 1 2; do start $n --peers "$PEERS"; done
for n in 0 1 2; do check "pod-$n ready" wait_http "$(url $n /readyz)" $EXCHANGE_TRIES; done
check "visits served" visit 0 5
check "visits served" visit 1 7
check "visits served" visit 2 9
for n in 0 1 2; do check "pod-$n holds the total 21" wait_total $n 21; done
stop 2
check "visits while pod-2 is away" visit 0 10
check "visits while pod-2 is away" visit 1 20
for n in 0 1; do check "pod-$n holds the total 51" wait_total $n 51; done
start 2 --peers "$PEERS"
check_eq "restarted pod-2's total when it first says ready" "$(ready_total 2)" 51
# (it may have been ready by a SYNC answer first; the join exchange follows)
check "pod-2 merged a whole push-pull answer" wait_pp 2 ok 1

# ---- 2. hostile TCP at pod-0 -------------------------------------------------
src0=$(pp 0 source) dec0=$(pp 0 decode) big0=$(pp 0 too_big)
tmo0=$(pp 0 timeout) busy0=$(pp 0 busy)
check_eq "an unlisted source is closed" \
    "$(hostile --from-ip $NET.9 --hold 3 garbage | closed_by_peer)" 1
check_eq "a garbage frame is closed" \
    "$(hostile --from-ip $NET.2 --hold 3 garbage | closed_by_peer)" 1
check_eq "a 2^32-1 length prefix is closed" \
    "$(hostile --from-ip $NET.2 --hold 3 huge | closed_by_peer)" 1
# closed by the pod's deadline (5 s), well before our 8 s hold
check_eq "a slowloris is closed at the deadline" \
    "$(hostile --from-ip $NET.2 --hold 8 slowloris | closed_by_peer)" 1
# 8 silent connections: past the cap of 4 the pod closes them at once (they
# would otherwise stay until the 5 s deadline)
flood=$(hostile --from-ip $NET.2 --count 8 --hold 2 flood | closed_by_peer)
check "connections past the cap are closed at once ($flood of 8)" test "$flood" -ge 4
check "counted: source" test "$(pp 0 source)" -gt "$src0"
check "counted: decode" test "$(pp 0 decode)" -gt "$dec0"
check "counted: too_big" test "$(pp 0 too_big)" -gt "$big0"
check "counted: timeout" test "$(pp 0 timeout)" -gt "$tmo0"
check "counted: busy (>= 4)" test "$(pp 0 busy)" -ge $((busy0 + 4))
check "pod-0 still ready" wait_http "$(url 0 /readyz)" 10
check "pod-0 still counts" visit 0 3
for n in 0 1 2; do check "pod-$n holds the total 54 (gossip still flows)" wait_total $n 54; done

# ---- 3. pod-0 still answers push-pulls --------------------------------------
# An exchange by hand (from pod-1's ip, as a listed source): a push of an
# empty table under request id 12345 is answered with pod-0's whole table,
# every frame under that id.
served0=$(pp 0 served)
ex=$(hostile --from-ip $NET.2 --hold 5 exchange)
echo "$ex"
check "pod-0 answers a push-pull after all that" test "$(echo "$ex" | json_get frames)" -ge 1
check_eq "every answer frame carries the asker's request id" "$(echo "$ex" | json_get echoed)" True
check_eq "the answer holds the whole table" "$(echo "$ex" | json_get names)" "['pod-0', 'pod-1', 'pod-2']"
check "counted: served" test "$(pp 0 served)" -gt "$served0"

# ---- 4. with a key -------------------------------------------------------------
for n in 4 5; do start $n --peers "$KPEERS" --key-file "$T_WORK/key"; done
for n in 4 5; do check "keyed pod-$n ready" wait_http "$(url $n /readyz)" $EXCHANGE_TRIES; done
check "keyed visits" visit 4 4
check "keyed visits" visit 5 8
for n in 4 5; do check "keyed pod-$n holds 12" wait_total $n 12; done
auth0=$(pp 4 auth)
check_eq "a frame sealed with another key is closed" \
    "$(python3 "$HOSTILE" --to "$NET.5:7946" --from-ip $NET.6 --hold 3 wrongkey | closed_by_peer)" 1
check "counted: auth" test "$(pp 4 auth)" -gt "$auth0"
stop 5
check "keyed visits while pod-5 is away" visit 4 30
served4=$(pp 4 served)
start 5 --peers "$KPEERS" --key-file "$T_WORK/key"
check_eq "keyed pod-5's total when first ready" "$(ready_total 5)" 42
check "keyed pod-4 answered a sealed push-pull" wait_pp 4 served $((served4 + 1))
check "keyed pod-5 merged the answer" wait_pp 5 ok 1
grep -h "level=error" "$T_WORK"/tallyd*.log && not_ok "errors logged" || ok "no errors logged"
t_done
