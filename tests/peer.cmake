# tests/peer.cmake: reaching the other pods (node/peer/): the datagram path
# between two real gossip cores (sealed, unsealed, replays, strangers,
# oversize), discovery's names and log-once state, both without sockets; and
# discovery against a DNS server that fails one way or another, with real
# processes.
tally_add_test(test_datagram unit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_datagram.c
    LIBS tally_datagram)
tally_add_test(test_dns_names unit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_dns_names.c
    ${PROJECT_SOURCE_DIR}/node/peer/dns_names.c LIBS tally_addr)
target_include_directories(test_dns_names PRIVATE ${PROJECT_SOURCE_DIR})
tally_add_script_test(process_discovery process ${CMAKE_CURRENT_SOURCE_DIR}/process/test_discovery.sh)
# tallyd's life cycle in one process: every part freed, signals ignored after
# close. It binds sockets on 127.0.45.30, so it runs with the process tests.
tally_add_test(test_daemon_life process
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_daemon_life.c LIBS tally_node)
# The simulator with a key: every datagram through the datagram path.
tally_add_test(test_sim_sealed sim SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/sim/test_sim_sealed.c
    LIBS tally_sim)
