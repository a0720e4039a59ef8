# truth_lib.sh: the truth the counter tests check every view against (sourced
# after lib.sh and tools/cluster-lib.sh). A visit is counted only when tallyd
# acknowledged it (a 200 answer to GET /); every pod's /cluster total must end
# equal to the sum of those, whatever happened in between.

TR_ACKED=0 # acknowledged visits, all pods, the whole test
declare -A TR_ACKED_BY

# tr_visit N COUNT: COUNT visits to pod N over 4 keep-alive connections; adds
# what was acknowledged to the truth. Fails when not all were acknowledged
# (the truth still holds the acknowledged ones).
tr_visit() {
    local n=$1 want=$2 ip port out acked
    ip=$(awk '{print $2}' "$CL_WORK/pod-$n.ip")
    port=${TR_HTTP_PORT:-$CL_HTTP_PORT}
    out=$(python3 "$TALLY_SRC/tests/process/visit_load.py" --host "$ip" --port "$port" \
        --conns 4 --max "$want" --seconds 30)
    acked=$(json_get acked <<<"$out")
    TR_ACKED=$((TR_ACKED + acked))
    TR_ACKED_BY[$n]=$((${TR_ACKED_BY[$n]:-0} + acked))
    [ "$acked" = "$want" ] || { echo "pod $n acknowledged $acked of $want visits ($out)"; return 1; }
}

tr_get() { curl -fsS --max-time 2 "$(cl_pod_url "$1" "$2")"; }
tr_total() { tr_get "$1" /cluster | json_get total 2>/dev/null; }
tr_status() { tr_get "$1" /status | json_get "$2" 2>/dev/null; }
tr_count() { tr_get "$1" /count | json_get visits 2>/dev/null; }
# tr_metric N NAME: a sample's value in pod N's /metrics (NAME with its labels)
tr_metric() { tr_get "$1" /metrics | awk -v k="$2" '$1 == k {print $2}'; }
tr_dropped() { tr_metric "$1" "tally_gossip_dropped_total{reason=\"$2\"}"; }

# tr_totals_are SUM PODS...: every listed pod's /cluster total is SUM.
tr_totals_are() {
    local sum=$1 i
    shift
    for i in "$@"; do [ "$(tr_total "$i")" = "$sum" ] || return 1; done
}
# tr_wait TRIES CMD...: retry CMD every 0.2 s.
tr_wait() {
    local n=$1
    shift
    for _ in $(seq "$n"); do "$@" && return 0; sleep 0.2; done
    return 1
}
# tr_check_truth WHEN TRIES PODS...: every pod's total reaches the acknowledged
# sum within TRIES x 0.2 s; prints each view when it does not.
tr_check_truth() {
    local when=$1 tries=$2 i views=""
    shift 2
    if tr_wait "$tries" tr_totals_are "$TR_ACKED" "$@"; then
        ok "$when: every view's total is the $TR_ACKED acknowledged visits (pods $*)"
        return 0
    fi
    for i in "$@"; do views="$views pod$i=$(tr_total "$i")"; done
    not_ok "$when: totals should all be $TR_ACKED, got$views"
}
# tr_rows N: pod N's /cluster rows, one per line: name state incarnation
# visits vol:count,...
tr_rows() {
    tr_get "$1" /cluster | python3 -c '
import json, sys
for p in json.load(sys.stdin)["pods"]:
    slots = ",".join("%s:%d" % (s["volume"], s["visits"]) for s in p["slots"])
    print(p["name"], p["state"], p["incarnation"], p["visits"], slots)'
}
# tr_row_field VIEWER NAME FIELD: FIELD (state, incarnation, visits, slots)
# of NAME's row as VIEWER sees it.
tr_row_field() {
    local col
    case $3 in state) col=2 ;; incarnation) col=3 ;; visits) col=4 ;; slots) col=5 ;; esac
    tr_rows "$1" | awk -v n="$2" -v c="$col" '$1 == n {print $c}'
}
tr_row_is() { [ "$(tr_row_field "$1" "$2" "$3")" = "$4" ]; }
# tr_volume_key DIR KEY: a key of DIR/volume (format/volume.h)
tr_volume_key() { sed -n "s/^$2=//p" "$1/volume"; }
