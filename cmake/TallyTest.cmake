# tally_add_test(NAME LABEL SOURCES... LIBS ...): one cmocka executable per module,
# registered with ctest under a label (unit, sim, process, netns, fuzz).
function(tally_add_test name label)
    cmake_parse_arguments(T "" "" "SOURCES;LIBS" ${ARGN})
    add_executable(${name} ${T_SOURCES})
    target_link_libraries(${name} PRIVATE ${T_LIBS} PkgConfig::CMOCKA tally_flags)
    add_test(NAME ${name} COMMAND ${name})
    set_tests_properties(${name} PROPERTIES LABELS ${label} TIMEOUT 300)
endfunction()

# tally_add_script_test(NAME LABEL SCRIPT): a process-level test driven by bash;
# it gets the build directory so it runs the binaries just built.
function(tally_add_script_test name label script)
    add_test(NAME ${name} COMMAND bash ${script})
    set_tests_properties(${name} PROPERTIES LABELS ${label} TIMEOUT 600
        ENVIRONMENT "TALLY_BUILD=${CMAKE_BINARY_DIR};TALLY_SRC=${CMAKE_SOURCE_DIR}")
endfunction()
