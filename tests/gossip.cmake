# tests/gossip.cmake: the gossip core's unit tests (label unit) and the
# deterministic simulator tally-sim with its assertions (label sim).
tally_add_test(test_gossip_core unit
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/unit/test_gossip_core.c
    LIBS tally_gossip)
# The member table's keyed index against names chosen to collide.
tally_add_test(test_member_table unit
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/unit/test_member_table.c
    LIBS tally_gossip)

# The simulator: fake network + scenarios as a library, shared by tally-sim
# and the sim tests.
add_library(tally_sim STATIC ${CMAKE_CURRENT_LIST_DIR}/sim/sim_net.c
    ${CMAKE_CURRENT_LIST_DIR}/sim/sim_scenario.c)
target_link_libraries(tally_sim PUBLIC tally_gossip tally_datagram PRIVATE tally_flags)
add_executable(tally-sim ${CMAKE_CURRENT_LIST_DIR}/sim/sim_main.c)
target_link_libraries(tally-sim PRIVATE tally_sim tally_flags m)
tally_add_test(test_gossip_sim sim
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/sim/test_gossip_sim.c
    LIBS tally_sim m)
tally_add_test(test_gossip_sim_1000 sim
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/sim/test_gossip_sim_1000.c
    LIBS tally_sim m)
