# tests/counter.cmake: process tests of the counter model (no acknowledged
# visit is ever lost, none counted twice): real tallyd pods on 127.0.34.0/24
# with dnsmasq, each asserting that every pod's /cluster total equals the
# visits acknowledged (200 answers to GET /). Each test has its own ports (DNS 5341-5345, HTTP 8341-8345, gossip
# 7341-7345), so none collides with another's. A test that needs root
# (nftables, packet capture) prints "1 skipped" without it, which ctest shows
# as skipped, not passed.
set(COUNTER_DIR ${CMAKE_CURRENT_SOURCE_DIR}/process)
foreach(t partition_lost_volume sealed_replay restart_all incarnation duplicate_name)
    tally_add_script_test(process_${t} process ${COUNTER_DIR}/test_${t}.sh)
    set_tests_properties(process_${t} PROPERTIES
        SKIP_REGULAR_EXPRESSION "[0-9]+ skipped" TIMEOUT 180)
endforeach()
