# test_incarnation.sh: issue 11, case 5 (liveness without the wall clock).
# Two pods on 127.0.34.10-11 (dnsmasq on 127.0.34.9:5344, gossip port 7344).
# Pod 0 restarts four times (SIGTERM, kill -9, with its wall clock a year
# ahead, then a year behind): each start raises the incarnation in
# DATA_DIR/volume by exactly one, /status shows it, and pod 1 sees pod 0
# alive at that incarnation at once (well inside the suspicion timeout),
# with no visit lost. The wall clock is skewed with libfaketime (Debian's
# libfaketime, installed by tools/install-deps.sh; the monotonic clock stays
# true, as on a node whose clock is wrong); without it those two restarts
# are plain ones and the test says so. 0.1.0 took a wall-clock generation: a
# pod whose clock was behind was locked out by its peers as "forged".
. "$TALLY_SRC/tests/process/lib.sh"
. "$TALLY_SRC/tools/cluster-lib.sh"
. "$TALLY_SRC/tests/process/truth_lib.sh"
CL_NET=127.0.34
CL_DNS_PORT=5344
CL_HTTP_PORT=8344
CL_GOSSIP_PORT=7344
GOSSIP_MS=200
CL_TALLYD_ARGS="--gossip-interval $GOSSIP_MS --dns-interval 500 --recovery-wait 3000 --log-level debug"
CONVERGE_TRIES=$((100 * GOSSIP_MS / 200))
# "At once": before pod 1 could even suspect the old life (the suspicion
# timeout for two members is (4 + 3 * 1) rounds; gossip/gossip_int.h).
AT_ONCE_TRIES=$((7 * GOSSIP_MS / 200))
cl_init "$T_WORK" "$TALLYD"
VOL0=$T_WORK/data-$(cl_pod 0)

FAKETIME_LIB=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -n 1)
# start0 [SKEW]: start pod 0, its wall clock shifted by SKEW (e.g. -365d).
start0() {
    if [ -n "${1:-}" ] && [ -n "$FAKETIME_LIB" ]; then
        LD_PRELOAD=$FAKETIME_LIB FAKETIME="$1" FAKETIME_DONT_FAKE_MONOTONIC=1 \
            FAKETIME_NO_CACHE=1 cl_pod_start 0
    else
        cl_pod_start 0
    fi
}
# restart0 SIGNAL [SKEW]: stop pod 0 with SIGNAL, start it again; check the
# incarnation on its volume, in /status and in pod 1's view.
restart0() {
    local sig=$1 skew=${2:-} want what prev inc
    want=$(($(tr_volume_key "$VOL0" incarnation) + 1))
    prev=$(tr_status 0 incarnation)
    what="after $sig${skew:+ and a clock at $skew}"
    cl_pod_stop 0 "$sig"
    start0 "$skew"
    check "pod 0 ready $what" cl_wait_http 0 /readyz 100
    check_eq "$what: DATA_DIR/volume's incarnation rose by one" \
        "$(tr_volume_key "$VOL0" incarnation)" "$want"
    # /status shows the volume's, or more when the last life refuted a
    # suspicion past it (its saved table says so): above the last life's.
    inc=$(tr_status 0 incarnation)
    check "$what: /status shows incarnation $inc: the volume's $want or more, above the last life's $prev" \
        test "$inc" -ge "$want" -a "$inc" -gt "$prev"
    check "$what: pod 1 sees pod 0 alive at incarnation $inc at once" \
        tr_wait $AT_ONCE_TRIES alive_at 1 0 "$inc"
    check "pod 0 acknowledges 5 visits $what" tr_visit 0 5
    tr_check_truth "$what" $CONVERGE_TRIES 0 1
}
alive_at() { # alive_at VIEWER POD INC
    [ "$(tr_row_field "$1" "$(cl_pod "$2")" state) $(tr_row_field "$1" "$(cl_pod "$2")" incarnation)" = "alive $3" ]
}

cl_dns_start 2
start0
cl_pod_start 1
for i in 0 1; do check "pod $i ready" cl_wait_http $i /readyz 100; done
check_eq "a new volume starts at incarnation 1" "$(tr_volume_key "$VOL0" incarnation)" 1
check_eq "/status shows incarnation 1" "$(tr_status 0 incarnation)" 1
check "pod 0 acknowledges 10 visits" tr_visit 0 10
check "pod 1 acknowledges 7 visits" tr_visit 1 7
tr_check_truth "first start" $CONVERGE_TRIES 0 1

restart0 TERM
restart0 KILL
if [ -n "$FAKETIME_LIB" ]; then
    restart0 TERM +365d
    year=$(($(date -u +%Y) + 1))
    check "pod 0's clock really was a year ahead (its log says $year)" \
        grep -q "$year-[0-9-]*T.*started name=$(cl_pod 0)" "$CL_WORK/$(cl_pod 0).log"
    restart0 KILL -365d
    year=$(($(date -u +%Y) - 1))
    check "pod 0's clock really was a year behind (its log says $year)" \
        grep -q "$year-[0-9-]*T.*started name=$(cl_pod 0)" "$CL_WORK/$(cl_pod 0).log"
else
    echo "# libfaketime not installed: the clock-skew restarts run with the true clock"
    restart0 TERM
    restart0 KILL
fi
check_eq "pod 0's /count is what it acknowledged" "$(tr_count 0)" "${TR_ACKED_BY[0]}"
check_eq "pod 0 counts on one slot all along" \
    "$(tr_row_field 1 "$(cl_pod 0)" slots | tr , '\n' | wc -l)" 1
t_done
