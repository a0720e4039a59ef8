# tests/pushpull.cmake: full state over TCP (push-pull). The core's exchange
# without sockets (label unit) and real tallyds exchanging tables under
# hostile TCP (label process; loopback 127.0.47.0/24).
tally_add_test(test_gossip_pushpull unit
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/unit/test_gossip_pushpull.c
    LIBS tally_gossip)
tally_add_script_test(process_pushpull process ${CMAKE_CURRENT_LIST_DIR}/process/test_pushpull.sh)
