# test_disk_faults.sh: tallyd (127.0.12.1, --sync always) on a 64 KiB tmpfs
# that the test mounts, faults and unmounts (root only; otherwise skipped).
# Three fault episodes: the volume full (ENOSPC), remounted read-only
# (EROFS), and visits.txt removed under the running pod. While the disk
# fails: GET / is 503 with the reason, /readyz 503 with the reason, /count
# still answers, visits.txt holds the last good count, and the log says
# "store_write_failing" exactly once; when the disk is back the pod recovers
# by itself (no visit needed), logs "store_write_recovered" once and the file
# holds the count. A removed file is written again by itself. No acknowledged
# visit is ever missing from the file.
. "$TALLY_SRC/tests/process/lib.sh"
IP=127.0.12.1
VOL=$T_WORK/vol
LOG=$T_WORK/tallyd.log
URL=http://$IP:8000

skip() {
    echo "SKIP: $1"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
}
[ "$(id -u)" = 0 ] || skip "needs root to mount a small tmpfs"
mkdir -p "$VOL"
mount -t tmpfs -o size=64k,mode=0755 tmpfs "$VOL" 2>"$T_WORK/mount.err" ||
    skip "cannot mount tmpfs here: $(cat "$T_WORK/mount.err")"
# lib.sh's EXIT trap calls cl_down after killing our processes.
cl_down() {
    mountpoint -q "$VOL" && { umount "$VOL" 2>/dev/null || umount -l "$VOL"; }
}

"$TALLYD" --name pod-d --bind $IP --http-port 8000 --gossip-port 7946 --data-dir "$VOL" \
    --sync always >>"$LOG" 2>&1 &
PID=$!
T_PIDS+=("$PID")
check "tallyd becomes ready" wait_http $URL/readyz

ACKED=0   # visits answered 200: each must be in the file
REFUSED=0 # visits answered 503: each may or may not be in the file
visit() { # visit: one GET /; status in $CODE, body in $T_WORK/body
    CODE=$(curl -s -o "$T_WORK/body" -w '%{http_code}' --max-time 5 $URL/)
    case $CODE in
    200) ACKED=$((ACKED + 1)) ;;
    503) REFUSED=$((REFUSED + 1)) ;;
    esac
}
code_of() { curl -s -o "$T_WORK/body" -w '%{http_code}' --max-time 5 "$URL$1"; }
disk() { cat "$VOL/visits.txt" 2>/dev/null; }
count() { curl -fsS --max-time 5 $URL/count | json_get visits; }
healthy() { curl -fsS --max-time 5 $URL/metrics | awk '$1 == "tally_store_healthy" { print $2 }'; }
wait_log() { # wait_log PATTERN N: until the log has N lines matching (5 s)
    local t
    for t in $(seq 50); do
        [ "$(grep -c "$1" "$LOG")" -ge "$2" ] && return 0
        sleep 0.1
    done
    return 1
}

for i in 1 2 3 4 5; do visit; done
check_eq "five visits on the healthy volume" "$(disk)" 5

# fault_episode NAME N ERRTEXT BREAK_CMD REPAIR_CMD: the Nth write failure.
fault_episode() {
    local name=$1 n=$2 err=$3 break_cmd=$4 repair_cmd=$5 good before
    good=$(disk)
    eval "$break_cmd"
    visit
    check_eq "$name: the visit that meets the fault is not acknowledged (503)" "$CODE" 503
    check "$name: its answer says why ($err)" grep -q "not counted.*$err" "$T_WORK/body"
    visit
    check_eq "$name: later visits refused at once (503)" "$CODE" 503
    check "$name: ... with the reason: $(cat "$T_WORK/body")" \
        grep -q "count file cannot be written ($err)" "$T_WORK/body"
    check_eq "$name: /readyz is 503" "$(code_of /readyz)" 503
    check "$name: /readyz says why" grep -q "not ready: the count file cannot be written ($err)" \
        "$T_WORK/body"
    check_eq "$name: /count still answers" "$(code_of /count)" 200
    check_eq "$name: tally_store_healthy 0" "$(healthy)" 0
    check "$name: the log says store_write_failing" wait_log "store_write_failing" "$n"
    check "$name: ... with the error" grep -q "store_write_failing error=\"$err\"" "$LOG"
    sleep 2.5 # several retries fail meanwhile: still one line
    check_eq "$name: store_write_failing logged once" "$(grep -c store_write_failing "$LOG")" "$n"
    check_eq "$name: visits.txt keeps the last good count" "$(disk)" "$good"
    eval "$repair_cmd"
    check "$name: recovers by itself once the disk does (/readyz 200)" wait_http $URL/readyz 50
    check "$name: the log says store_write_recovered" wait_log store_write_recovered "$n"
    check_eq "$name: store_write_recovered logged once" "$(grep -c store_write_recovered "$LOG")" "$n"
    check_eq "$name: tally_store_healthy 1" "$(healthy)" 1
    check_eq "$name: the file holds the count in memory" "$(disk)" "$(count)"
    before=$(disk)
    visit
    check_eq "$name: visits acknowledged again" "$CODE" 200
    check_eq "$name: ... and durable" "$(disk)" $((before + 1))
    echo "$name: acknowledged $ACKED, refused $REFUSED, on disk $(disk)"
}

fault_episode "volume full" 1 "No space left on device" \
    'dd if=/dev/zero of="$VOL/filler" bs=4k 2>/dev/null || true' 'rm -f "$VOL/filler"'
fault_episode "read-only" 2 "Read-only file system" \
    'mount -o remount,ro "$VOL"' 'mount -o remount,rw "$VOL"'

good=$(disk)
rm "$VOL/visits.txt"
check "file removed: the log says store_file_missing" wait_log "store_file_missing" 1
check "file removed: written again by itself" wait_log "store_file_restored durable=$good" 1
check_eq "file removed: it holds the count again, with no visit" "$(disk)" "$good"
check_eq "file removed: logged once" "$(grep -c store_file_missing "$LOG")" 1
visit
check_eq "file removed: visits acknowledged" "$CODE" 200
check_eq "file removed: ... and durable" "$(disk)" $((good + 1))

kill -TERM $PID
wait $PID
check_eq "SIGTERM: exit status 0" "$?" 0
final=$(disk)
echo "faults injected: 3; acknowledged $ACKED, refused $REFUSED, on disk $final, lost $((ACKED > final ? ACKED - final : 0))"
check "no acknowledged visit lost: acknowledged <= on disk <= acknowledged + refused" \
    test "$ACKED" -le "$final" -a "$final" -le $((ACKED + REFUSED))
t_done
