# tests/seal.cmake: authenticated gossip. The key file and envelope of tallyd
# (test_seal) and of tallyctl (test_tallyctl_seal) against one golden vector,
# and a three-pod cluster with a key: forged and wrongly keyed datagrams
# dropped and counted, and a key rotated on the running cluster.
tally_add_test(test_seal unit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_seal.c
    LIBS tally_seal)
if(EXISTS ${PROJECT_SOURCE_DIR}/tools/tallyctl/seal_ctl.c)
    tally_add_test(test_tallyctl_seal unit
        SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_tallyctl_seal.c
            ${PROJECT_SOURCE_DIR}/tools/tallyctl/seal_ctl.c
        LIBS PkgConfig::SODIUM)
    target_include_directories(test_tallyctl_seal PRIVATE ${PROJECT_SOURCE_DIR})
endif()
tally_add_script_test(process_auth process ${CMAKE_CURRENT_SOURCE_DIR}/process/test_auth.sh)
