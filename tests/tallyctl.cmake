# tallyctl.cmake: tallyctl's tests. The unit tests compile tallyctl's own
# sources (all but main.c) straight into each test, since tools/CMakeLists.txt
# builds only the executable; the process test drives the real binary against
# a three-pod local cluster.
if(EXISTS ${PROJECT_SOURCE_DIR}/tools/tallyctl/main.c)
    file(GLOB TALLYCTL_TEST_SRC CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tools/tallyctl/*.c)
    list(REMOVE_ITEM TALLYCTL_TEST_SRC ${PROJECT_SOURCE_DIR}/tools/tallyctl/main.c)
    foreach(t args output countfile ping watch)
        tally_add_test(test_tallyctl_${t} unit
            SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_tallyctl_${t}.c ${TALLYCTL_TEST_SRC}
            LIBS tally_format tally_seal tally_proto PkgConfig::CARES PkgConfig::SODIUM)
        target_include_directories(test_tallyctl_${t} PRIVATE ${PROJECT_SOURCE_DIR})
    endforeach()
    tally_add_script_test(process_tallyctl process ${CMAKE_CURRENT_SOURCE_DIR}/process/test_tallyctl.sh)
endif()
if(EXISTS ${PROJECT_SOURCE_DIR}/tools/tallyctl/main.c)
    # Hostile and UTF-8 pod names through real gossip, shown by tallyctl.
    tally_add_script_test(process_tallyctl_hostile process
        ${CMAKE_CURRENT_SOURCE_DIR}/process/test_tallyctl_hostile.sh)
endif()
