# tests/hardening.cmake: process tests that no client, peer or disk fault
# takes tallyd down: hostile HTTP clients, hostile gossip datagrams, a full,
# read-only or vanished count file (root: a small tmpfs the test mounts), and
# a crash loop of 20 kill -9 under load.
set(HARD_DIR ${CMAKE_CURRENT_SOURCE_DIR}/process)
tally_add_script_test(process_hostile_http process ${HARD_DIR}/test_hostile_http.sh)
tally_add_script_test(process_http_noread process ${HARD_DIR}/test_http_noread.sh)
tally_add_script_test(process_hostile_gossip process ${HARD_DIR}/test_hostile_gossip.sh)
tally_add_script_test(process_disk_faults process ${HARD_DIR}/test_disk_faults.sh)
# The same test as process_sigkill, as a crash loop: 20 rounds, shorter ones,
# on its own address so both may run at once.
tally_add_script_test(process_crash_loop process ${HARD_DIR}/test_sigkill.sh)
set_property(TEST process_crash_loop APPEND PROPERTY ENVIRONMENT
    "ROUNDS=20;SIGKILL_IP=127.0.12.20;KILL_AFTER=0.8;LOAD_SECONDS=4")
