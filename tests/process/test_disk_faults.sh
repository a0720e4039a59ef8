# test_disk_faults.sh: tallyd (--sync always) on 64 KiB tmpfs volumes that
# the test mounts, faults and unmounts (root only; otherwise skipped).
#
# tallyd creates visits.txt by atomic replace and then overwrites the count in
# place on the open file, whose first block is already allocated. So:
#  - pod-d (127.0.12.1) on a volume that fills up keeps acknowledging visits,
#    durably; a visits.txt removed under it (also on the full volume, where
#    its removal frees the space to write it again) is written again by
#    itself; visits.txt replaced by another file is overwritten with the
#    count again.
#  - pod-e (127.0.12.2) on a fresh volume, where visits.txt must first be
#    created, meets the faults that stop a write: the volume remounted
#    read-only (EROFS; a remount that the open file of a created one would
#    refuse), then, in a second life on a wiped volume, the volume full
#    (ENOSPC). While the disk fails: GET / is 503 with the reason, /readyz 503
#    with the reason, /count still answers, visits.txt holds the last good
#    count, and the log says "store_write_failing" exactly once; when the
#    disk is back the pod recovers by itself (no visit needed), logs
#    "store_write_recovered" once and the file holds the count.
# No acknowledged visit is ever missing from the file.
. "$TALLY_SRC/tests/process/lib.sh"
IP=127.0.12.1
VOL=$T_WORK/vol
VOL2=$T_WORK/vol2
LOG=$T_WORK/tallyd.log
URL=http://$IP:8000

skip() {
    echo "SKIP: $1"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
}
[ "$(id -u)" = 0 ] || skip "needs root to mount a small tmpfs"
mkdir -p "$VOL" "$VOL2"
mount -t tmpfs -o size=64k,mode=0755 tmpfs "$VOL" 2>"$T_WORK/mount.err" ||
    skip "cannot mount tmpfs here: $(cat "$T_WORK/mount.err")"
mount -t tmpfs -o size=64k,mode=0755 tmpfs "$VOL2" 2>"$T_WORK/mount.err" ||
    skip "cannot mount tmpfs here: $(cat "$T_WORK/mount.err")"
MOUNTS=("$VOL" "$VOL2") # VOL is reassigned below: unmount what was mounted
unmount_volumes() {
    local v
    for v in "${MOUNTS[@]}"; do
        mountpoint -q "$v" && { umount "$v" 2>/dev/null || umount -l "$v"; }
    done
}
t_on_exit unmount_volumes

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

fill() { dd if=/dev/zero of="$VOL/filler" bs=4k 2>/dev/null || true; }

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

# Full volume: the in-place write needs no new block.
fill
check "volume full: it is full" test "$(df --output=avail -k "$VOL" | tail -1 | tr -d ' ')" -le 4
good=$(disk)
for i in 1 2 3; do
    visit
    check_eq "volume full: visit $i acknowledged" "$CODE" 200
    check_eq "volume full: ... and durable" "$(disk)" $((good + i))
done
check_eq "volume full: /readyz 200" "$(code_of /readyz)" 200
check_eq "volume full: tally_store_healthy 1" "$(healthy)" 1
# Removed on the full volume: written again in the space its removal freed
# (once tallyd lets go of the old file).
good=$(disk)
rm "$VOL/visits.txt"
check "removed on a full volume: written again by itself" wait_log "store_file_restored durable=$good" 1
check_eq "removed on a full volume: it holds the count, with no visit" "$(disk)" "$good"
visit
check_eq "removed on a full volume: visits acknowledged" "$CODE" 200
check_eq "removed on a full volume: ... and durable" "$(disk)" $((good + 1))
rm -f "$VOL/filler"
check_eq "no write failed on the full volume" "$(grep -c store_write_failing "$LOG")" 0

good=$(disk)
rm "$VOL/visits.txt"
check "file removed: the log says store_file_missing" wait_log "store_file_missing" 2
check "file removed: written again by itself" wait_log "store_file_restored durable=$good" 1
check_eq "file removed: it holds the count again, with no visit" "$(disk)" "$good"
visit
check_eq "file removed: visits acknowledged" "$CODE" 200
check_eq "file removed: ... and durable" "$(disk)" $((good + 1))

# Replaced by another file while the old one keeps a name (a hard link, as a
# backup may leave): only the watch can tell, by the inode.
good=$(disk)
ln "$VOL/visits.txt" "$VOL/backup"
echo 1 >"$VOL/restored"
mv "$VOL/restored" "$VOL/visits.txt"
check "file replaced: the log says store_file_replaced" wait_log "store_file_replaced" 1
check "file replaced: written again by itself" wait_log "store_file_restored durable=$good" 1
check_eq "file replaced: it holds the count again, with no visit" "$(disk)" "$good"
rm -f "$VOL/backup"
visit
check_eq "file replaced: visits acknowledged" "$CODE" 200
check_eq "file replaced: ... and durable" "$(disk)" $((good + 1))

kill -TERM $PID
wait $PID
check_eq "SIGTERM: exit status 0" "$?" 0
final=$(disk)
echo "pod-d faults: 4; acknowledged $ACKED, refused $REFUSED, on disk $final, lost $((ACKED > final ? ACKED - final : 0))"
check "no acknowledged visit lost: acknowledged <= on disk <= acknowledged + refused" \
    test "$ACKED" -le "$final" -a "$final" -le $((ACKED + REFUSED))
# pod-e: a fresh volume, where the first write must create visits.txt.
pod_e() { # pod_e LOGNAME: start pod-e on $VOL2, wait until ready
    LOG=$T_WORK/$1
    "$TALLYD" --name pod-e --bind 127.0.12.2 --http-port 8000 --gossip-port 7946 \
        --data-dir "$VOL2" --sync always >>"$LOG" 2>&1 &
    PID=$!
    T_PIDS+=("$PID")
    check "pod-e ($1) becomes ready" wait_http $URL/readyz
}
pod_e_stop() { # pod_e_stop NAME: SIGTERM, then no acknowledged visit lost
    kill -TERM $PID
    wait $PID
    check_eq "$1: SIGTERM: exit status 0" "$?" 0
    final=$(disk)
    check "$1: no acknowledged visit lost" \
        test "$ACKED" -le "${final:-0}" -a "${final:-0}" -le $((ACKED + REFUSED))
}
VOL=$VOL2
URL=http://127.0.12.2:8000
ACKED=0
REFUSED=0
pod_e pod-e1.log
fault_episode "read-only fresh volume" 1 "Read-only file system" \
    'mount -o remount,ro "$VOL"' 'mount -o remount,rw "$VOL"'
pod_e_stop "read-only fresh volume"

rm -f "$VOL/visits.txt"
ACKED=0
REFUSED=0
pod_e pod-e2.log
fault_episode "full fresh volume" 1 "No space left on device" fill 'rm -f "$VOL/filler"'
pod_e_stop "full fresh volume"

# A volume that is read-only before tallyd starts: a restart fixes nothing,
# so tallyd stays up, alive but not ready, and says why (the StatefulSet's
# startup probe is /healthz, so the pod is not restarted in a loop).
rm -f "$VOL/filler"
printf '7\n' >"$VOL/visits.txt"
mount -o remount,ro "$VOL"
"$TALLYD" --name pod-f --bind 127.0.12.2 --http-port 8000 --gossip-port 7946 \
    --data-dir "$VOL" --sync always >>"$T_WORK/pod-f.log" 2>&1 &
PID=$!
T_PIDS+=("$PID")
check "read-only at start: /healthz answers 200" wait_http $URL/healthz
check_eq "read-only at start: /readyz 503" "$(code_of /readyz)" 503
check "read-only at start: /readyz says the data dir cannot be written" \
    grep -q "not ready: the data dir cannot be written" "$T_WORK/body"
check_eq "read-only at start: GET / counts nothing (503)" "$(code_of /)" 503
check "read-only at start: the log says what to do" \
    grep -q "store_read_only.*make the volume writable" "$T_WORK/pod-f.log"
sleep 1
check "read-only at start: still running" kill -0 $PID
kill -TERM $PID
wait $PID
check_eq "read-only at start: SIGTERM: exit status 0" "$?" 0
mount -o remount,rw "$VOL"
check_eq "read-only at start: the count file untouched" "$(cat "$VOL/visits.txt")" 7

t_done
