# tests/http.cmake: tests of the HTTP server (node/http/*.c): the unit tests
# over loopback sockets and sink connections, and the libFuzzer target.
tally_add_test(test_http_server unit SOURCES ${CMAKE_CURRENT_LIST_DIR}/unit/test_http_server.c
    LIBS tally_http)
tally_add_test(test_cluster_page unit SOURCES ${CMAKE_CURRENT_LIST_DIR}/unit/test_cluster_page.c
    LIBS tally_page)
tally_add_test(test_http_accept unit SOURCES ${CMAKE_CURRENT_LIST_DIR}/unit/test_http_accept.c
    LIBS tally_http)
# Refusing a connection (over the cap, or no memory) never loses the
# listener: malloc and calloc are wrapped so the test can fail them all.
tally_add_test(test_http_reject unit SOURCES ${CMAKE_CURRENT_LIST_DIR}/unit/test_http_reject.c
    LIBS tally_http)
target_link_options(test_http_reject PRIVATE -Wl,--wrap=malloc,--wrap=calloc)

if(TALLY_FUZZ)
    # The server and llhttp are compiled again with coverage instrumentation so
    # the fuzzer sees inside them; the production libraries stay untouched.
    set(HTTP_FUZZ_FLAGS -fsanitize=fuzzer-no-link,address,undefined
        -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
    add_library(llhttp_fuzz STATIC ${LLHTTP_SRC_DIR}/llhttp.c ${LLHTTP_SRC_DIR}/api.c
        ${LLHTTP_SRC_DIR}/http.c)
    target_include_directories(llhttp_fuzz SYSTEM PUBLIC ${LLHTTP_INC_DIR})
    target_compile_options(llhttp_fuzz PRIVATE ${HTTP_FUZZ_FLAGS})

    add_executable(fuzz_http ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_http.c
        ${PROJECT_SOURCE_DIR}/node/http/server.c ${PROJECT_SOURCE_DIR}/node/http/conn.c
        ${PROJECT_SOURCE_DIR}/node/http/response.c)
    target_include_directories(fuzz_http PRIVATE ${PROJECT_SOURCE_DIR})
    target_compile_options(fuzz_http PRIVATE ${HTTP_FUZZ_FLAGS})
    target_link_options(fuzz_http PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(fuzz_http PRIVATE llhttp_fuzz PkgConfig::LIBUV tally_flags)
    # Runs on a copy so the smoke test never writes into the source tree.
    add_test(NAME fuzz_http_smoke COMMAND sh -c
        "rm -rf fuzz_http_corpus && cp -r '${CMAKE_CURRENT_LIST_DIR}/fuzz/corpus/http' fuzz_http_corpus && '$<TARGET_FILE:fuzz_http>' -max_total_time=10 fuzz_http_corpus")
    set_tests_properties(fuzz_http_smoke PROPERTIES LABELS fuzz TIMEOUT 120)
endif()
