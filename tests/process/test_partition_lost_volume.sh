# test_partition_lost_volume.sh: issue 11, case 1 (a lost volume while the
# peers are unreachable). Three pods on 127.0.34.10-12 (dnsmasq on
# 127.0.34.9:5341, gossip port 7341). Pod 0 has 100 visits; an nftables table
# of our own drops gossip (UDP and TCP to port 7341) between pod 0's address
# and the others'; pod 0 is killed and restarts on an empty volume, is not
# ready until --recovery-wait has passed, and serves 30 visits from 0 while
# cut off. The partition heals and 80 more visits arrive: every view's total
# is every acknowledged visit (0.1.0 showed 140 of 240: max-merge swallowed
# the new count under the old one), pod 0's /count shows its history, and the
# old slot is not mistaken for a live duplicate. Root only (nftables): skipped
# otherwise.
. "$TALLY_SRC/tests/process/lib.sh"
. "$TALLY_SRC/tools/cluster-lib.sh"
. "$TALLY_SRC/tests/process/truth_lib.sh"

skip() {
    echo "SKIP: $*"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
}
[ "$(id -u)" = 0 ] || skip "needs root for nftables"
command -v nft >/dev/null || skip "nft not found: run tools/install-deps.sh"

CL_NET=127.0.34
CL_DNS_PORT=5341
CL_HTTP_PORT=8341
CL_GOSSIP_PORT=7341
GOSSIP_MS=200
RECOVERY_MS=3000
CL_TALLYD_ARGS="--gossip-interval $GOSSIP_MS --dns-interval 500 --recovery-wait $RECOVERY_MS --log-level debug"
# Rounds to wait for a change to reach every view: generous, in gossip rounds.
CONVERGE_TRIES=$((100 * GOSSIP_MS / 200))
NFT_TABLE=tally_ptest_$$
cl_init "$T_WORK" "$TALLYD"

nft_heal() { nft delete table inet "$NFT_TABLE" 2>/dev/null || true; }
t_on_exit nft_heal
# partition: drop gossip between pod 0 and pods 1-2, both ways, in our own
# table (output hook: on loopback every packet passes it once).
partition() {
    local a b c
    a=$(cl_ip 0) b=$(cl_ip 1) c=$(cl_ip 2)
    nft -f - <<EOF
table inet $NFT_TABLE {
    chain out {
        type filter hook output priority 0; policy accept;
        ip saddr $a ip daddr { $b, $c } meta l4proto { udp, tcp } th dport $CL_GOSSIP_PORT drop
        ip saddr { $b, $c } ip daddr $a meta l4proto { udp, tcp } th dport $CL_GOSSIP_PORT drop
    }
}
EOF
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
not() { ! "$@"; }

cl_dns_start 3
for i in 0 1 2; do cl_pod_start $i; done
for i in 0 1 2; do check "pod $i ready" cl_wait_http $i /readyz 100; done

check "pod 0 acknowledges 100 visits" tr_visit 0 100
check "pod 1 acknowledges 20 visits" tr_visit 1 20
check "pod 2 acknowledges 30 visits" tr_visit 2 30
tr_check_truth "before the partition" $CONVERGE_TRIES 0 1 2
old_vol=$(tr_volume_key "$T_WORK/data-$(cl_pod 0)" id)

check "nftables table $NFT_TABLE drops gossip between pod 0 and pods 1-2" partition
cl_pod_stop 0 KILL
rm -rf "$T_WORK/data-$(cl_pod 0)"
t0=$(now_ms)
cl_pod_start 0
check "pod 0 back on an empty volume (healthz)" cl_wait_http 0 /healthz 100
# (asked only while the wait surely runs: the machine may be slow to start it)
if [ $(($(now_ms) - t0)) -lt $((RECOVERY_MS - 1000)) ]; then
    check "pod 0 is not ready while no peer answered and --recovery-wait runs" \
        not curl -fsS -o /dev/null --max-time 1 "$(cl_pod_url 0 /readyz)"
fi
check "pod 0 turns ready after --recovery-wait" cl_wait_http 0 /readyz $((RECOVERY_MS / 100 + 50))
waited=$(($(now_ms) - t0))
check "... not before ${RECOVERY_MS} ms (it took $waited ms)" test "$waited" -ge "$RECOVERY_MS"
new_vol=$(tr_volume_key "$T_WORK/data-$(cl_pod 0)" id)
check "the empty volume got a new slot id ($old_vol -> $new_vol)" test "$new_vol" != "$old_vol"
check "pod 0 serves 30 visits from 0 while cut off" tr_visit 0 30
check_eq "cut off, pod 0 sees only its new slot (total 30)" "$(tr_total 0)" 30
sleep $((4 * GOSSIP_MS / 1000 + 1))
check_eq "cut off, pod 1 cannot see those 30 (total $((TR_ACKED - 30)))" \
    "$(tr_total 1)" $((TR_ACKED - 30))

nft_heal
check "pod 0 acknowledges 80 more visits after the partition heals" tr_visit 0 80
check "pod 1 acknowledges 5 more" tr_visit 1 5
tr_check_truth "after the partition healed" $CONVERGE_TRIES 0 1 2
check_eq "pod 0's /count is its whole history (100 + 30 + 80)" "$(tr_count 0)" 210
check_eq "the new volume's visits.txt counts only what it served" \
    "$(cat "$T_WORK/data-$(cl_pod 0)/visits.txt")" 110
check_eq "pod 1 shows pod 0's two slots, the old one with its 100" \
    "$(tr_row_field 1 "$(cl_pod 0)" slots | tr , '\n' | sort | tr '\n' ' ')" \
    "$(printf '%s\n' "$old_vol:100" "$new_vol:110" | sort | tr '\n' ' ')"
check "pod 1 sees pod 0 alive again" tr_wait $CONVERGE_TRIES tr_row_is 1 "$(cl_pod 0)" state alive
check_eq "the old slot is not taken for a live duplicate (tally_duplicate_name 0)" \
    "$(tr_metric 0 tally_duplicate_name)" 0
check "pod 0 logged no duplicate_name" not grep -q duplicate_name "$CL_WORK/$(cl_pod 0).log"
# A restart of everyone on their volumes keeps all of it.
for i in 0 1 2; do cl_pod_stop $i TERM; done
for i in 0 1 2; do cl_pod_start $i; done
for i in 0 1 2; do check "pod $i ready again" cl_wait_http $i /readyz 100; done
tr_check_truth "after every pod restarted" $CONVERGE_TRIES 0 1 2
t_done
