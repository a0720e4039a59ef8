# tests/seal.cmake: authenticated gossip. The key file and envelope
# (format/seal.c, which tallyd and tallyctl both use) against a golden vector,
# and a three-pod cluster with a key: forged, wrongly keyed and replayed
# datagrams dropped and counted, and a key rotated on the running cluster.
tally_add_test(test_seal unit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_seal.c
    LIBS tally_seal)
tally_add_test(test_replay unit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_replay.c
    LIBS tally_datagram)
tally_add_script_test(process_auth process ${CMAKE_CURRENT_SOURCE_DIR}/process/test_auth.sh)
