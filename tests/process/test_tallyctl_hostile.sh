# test_tallyctl_hostile.sh: a pod name is network input. One tallyd on
# 127.0.32.20 hears gossip from a "peer" on 127.0.32.21:7946 (listed in
# --peers, so it is heard even where only known addresses are) whose members
# are named with terminal escape sequences and with UTF-8. tallyctl's tables
# must show the escapes as text (no ESC or BEL byte reaches the terminal),
# the UTF-8 name as itself, and /cluster must carry the UTF-8 name as one
# \u escape per character, so JSON readers get the name back.
. "$TALLY_SRC/tests/process/lib.sh"
IP=127.0.32.20
FORGER=127.0.32.21
CTL=$TALLY_BUILD/tools/tallyctl
mkdir -p "$T_WORK/data"
unset TALLYCTL_URL POD_IP TALLY_SERVICE DATA_DIR

"$TALLYD" --name pod-0 --bind $IP --data-dir "$T_WORK/data" --peers $FORGER:7946 \
    --recovery-wait 100 >>"$T_WORK/tallyd.log" 2>&1 &
T_PIDS+=($!)
check "tallyd becomes ready" wait_http http://$IP:8000/readyz

EVIL=$'\e[2J\e[31mevil\e]0;owned\a'
UTF8=$'caf\u00e9-\U0001F600'
# Heartbeats (wire version 2, proto/WIRE.md) from the forger's address, one
# per name, built with gossip_forge.py's msgpack encoder.
send() {
    python3 - "$TALLY_SRC/tests/process" "$FORGER" "$IP:7946" "$@" <<'PY'
import socket, sys, time
sys.path.insert(0, sys.argv[1])
import gossip_forge as g
src, (host, port), names = sys.argv[2], sys.argv[3].rsplit(":", 1), sys.argv[4:]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 7946))
for i, name in enumerate(names):
    vol = 0x1000 + i  # the volume this "pod" counts on: 7 visits there
    # A later send is a newer life: it refutes any suspicion since the last.
    now = int(time.time() * 1000)
    entry = [name, now, now, 0, f"{src}:7946", vol, [vol, 7]]
    m = {"v": 2, "w": [2, 2], "t": 1, "f": name, "e": [entry]}
    s.sendto(g.pack(m), (host, int(port)))
PY
}
known() { curl -fsS --max-time 2 http://$IP:8000/cluster | python3 -c '
import json, sys
names = {p["name"] for p in json.load(sys.stdin)["pods"]}
sys.exit(not set(sys.argv[1:]) <= names)' "$EVIL" "$UTF8"; }
for t in $(seq 20); do send "$EVIL" "$UTF8"; known && break; sleep 0.2; done
check "tallyd took both names (the JSON reads them back exactly)" known
check "/cluster writes the UTF-8 name one escape per character" \
    grep -qF '"caf\u00e9-\ud83d\ude00"' <(curl -fsS http://$IP:8000/cluster)

raw() { ! LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f]' "$1"; }
shows_both() { grep -qF '\x1b[2J\x1b[31mevil\x1b]0;owned\x07' "$1" && grep -qF "$UTF8" "$1"; }
for cmd in peers cluster "peers --state alive" "peers --no-headers"; do
    # The made-up members answer no probe: a probe that began before the
    # last send can still make one suspect a moment after it, and then
    # "--state alive" leaves it out. Send again until both show (or 10 tries:
    # a tallyctl that mangles the names never shows them).
    for t in $(seq 10); do
        send "$EVIL" "$UTF8"
        known
        # shellcheck disable=SC2086 # cmd is words
        "$CTL" --url http://$IP:8000 $cmd >"$T_WORK/out" 2>&1
        shows_both "$T_WORK/out" && break
        sleep 0.1
    done
    check "tallyctl $cmd: no control byte reaches the terminal" raw "$T_WORK/out"
    check "tallyctl $cmd: the escape sequence shows as text" grep -qF '\x1b[2J\x1b[31mevil\x1b]0;owned\x07' "$T_WORK/out"
    check "tallyctl $cmd: the UTF-8 name shows as itself" grep -qF "$UTF8" "$T_WORK/out"
done
"$CTL" --url http://$IP:8000 peers >"$T_WORK/peers"
# The made-up members answer no probe, so they may be suspect by now (a
# probe round is 1 s): the summary must count them all, whatever their state.
check "peers: the summary counts three members" grep -q '^3 members: ' "$T_WORK/peers"
t_done
