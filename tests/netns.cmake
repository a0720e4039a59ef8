# tests/netns.cmake: network-fault tests on three tallyd pods in network
# namespaces (root): 30% loss, a partition past the dead timeout, healing.
# Without root or ip netns the test prints "1 skipped" and ctest shows it as
# skipped, not passed.
tally_add_script_test(netns_faults netns ${CMAKE_CURRENT_SOURCE_DIR}/netns/test_faults.sh)
set_tests_properties(netns_faults PROPERTIES SKIP_REGULAR_EXPRESSION "[0-9]+ skipped" TIMEOUT 300)
# Where tallyd listens in a pod: localhost (kubectl port-forward), the pod IP,
# POD_IP advertised for gossip, --bind narrowing (root).
tally_add_script_test(netns_listen netns ${CMAKE_CURRENT_SOURCE_DIR}/netns/test_listen.sh)
set_tests_properties(netns_listen PROPERTIES SKIP_REGULAR_EXPRESSION "[0-9]+ skipped" TIMEOUT 120)
