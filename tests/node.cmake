# tests/node.cmake: tests of tallyd's own wiring: configuration, and the
# process-level tests that run real tallyd processes on loopback.
tally_add_test(test_config unit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_config.c
    LIBS tally_util)
tally_add_script_test(process_single_pod process ${CMAKE_CURRENT_SOURCE_DIR}/process/test_single_pod.sh)
tally_add_script_test(process_sigkill process ${CMAKE_CURRENT_SOURCE_DIR}/process/test_sigkill.sh)
tally_add_script_test(process_cluster process ${CMAKE_CURRENT_SOURCE_DIR}/process/test_cluster.sh)
tally_add_test(test_log unit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_log.c LIBS tally_util)
tally_add_script_test(process_metrics_logs process ${CMAKE_CURRENT_SOURCE_DIR}/process/test_metrics_logs.sh)
tally_add_test(test_buf unit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_buf.c LIBS tally_util)
tally_add_script_test(process_local_cluster process ${CMAKE_CURRENT_SOURCE_DIR}/process/test_local_cluster.sh)
# The wiring below the process level: routes and metrics over a daemon
# built by hand (tests/unit/fake_daemon.c), no sockets.
foreach(t routes metrics)
    tally_add_test(test_${t} unit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_${t}.c
        ${CMAKE_CURRENT_SOURCE_DIR}/unit/fake_daemon.c LIBS tally_node)
endforeach()
