# tests/proto.cmake: tests of the gossip wire format (proto/): round trips,
# golden bytes and sizes, the malformed-input table, and the libFuzzer target.
tally_add_test(test_proto_roundtrip unit
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/unit/test_proto_roundtrip.c
    LIBS tally_proto)
# It checks that the fuzz seeds below are valid datagrams of the current version.
target_compile_definitions(test_proto_roundtrip PRIVATE
    TALLY_PROTO_SEEDS="${CMAKE_CURRENT_LIST_DIR}/fuzz/corpus/proto")
tally_add_test(test_proto_malformed unit
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/unit/test_proto_malformed.c
    LIBS tally_proto)

if(TALLY_FUZZ)
    # libFuzzer needs clang; the whole build uses it when TALLY_FUZZ is on.
    # The proto sources are compiled into the fuzzer itself so they get its
    # coverage instrumentation, while tally_proto stays a plain library for
    # every other target of the same build.
    file(GLOB FUZZ_PROTO_SRC CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/proto/*.c)
    add_executable(fuzz_proto ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_proto.c ${FUZZ_PROTO_SRC})
    target_include_directories(fuzz_proto PRIVATE ${PROJECT_SOURCE_DIR})
    target_compile_options(fuzz_proto PRIVATE -fsanitize=fuzzer,address,undefined
        -fno-sanitize-recover=undefined)
    target_link_options(fuzz_proto PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(fuzz_proto PRIVATE PkgConfig::MSGPACK tally_flags)
    # libFuzzer writes new inputs into the first corpus directory: keep that one
    # in the build tree and read the checked-in seeds from the second.
    set(FUZZ_PROTO_WORK ${CMAKE_BINARY_DIR}/fuzz_proto_corpus)
    file(MAKE_DIRECTORY ${FUZZ_PROTO_WORK})
    add_test(NAME fuzz_proto_smoke
        COMMAND fuzz_proto -max_total_time=10 -timeout=5 ${FUZZ_PROTO_WORK}
            ${CMAKE_CURRENT_LIST_DIR}/fuzz/corpus/proto)
    set_tests_properties(fuzz_proto_smoke PROPERTIES LABELS fuzz TIMEOUT 120)
endif()
