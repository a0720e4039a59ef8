# store.cmake: tests and tools for the durable store and group commit
# (node/store/count_file.c, node/store/commit.c): unit tests, the count-file fuzz target and a
# small fsync benchmark.

# Every system-call step of store_count_write() and store_count_overwrite() is
# intercepted at link time so the test can fail or "crash" after any of them
# (--wrap only redirects calls between object files, which is the case:
# store.c calls libc).
tally_add_test(test_store unit SOURCES unit/test_store.c LIBS tally_store)
target_link_options(test_store PRIVATE
    -Wl,--wrap=open,--wrap=write,--wrap=pwrite,--wrap=fsync,--wrap=fdatasync
    -Wl,--wrap=close,--wrap=rename,--wrap=unlink)

# fsync and fdatasync are wrapped to count calls, so the test can tell atomic
# replace (fsync file and directory) from an in-place write (fdatasync) and
# INTERVAL from NONE; pwrite and fdatasync can also be made to fail once, to
# drive the fallback to atomic replace.
tally_add_test(test_commit unit SOURCES unit/test_commit.c LIBS tally_store)
target_link_options(test_commit PRIVATE -Wl,--wrap=fsync,--wrap=fdatasync,--wrap=pwrite)

# bench_store DIR [N]: commits per second on DIR's filesystem, by atomic
# replace and by overwriting in place.
add_executable(bench_store bench_store.c)
target_link_libraries(bench_store PRIVATE tally_store tally_flags)

if(TALLY_FUZZ)
    # format/count.c is compiled into the fuzzer itself so it gets coverage
    # instrumentation; it needs nothing but libc.
    add_executable(fuzz_count_file fuzz/fuzz_count_file.c ${PROJECT_SOURCE_DIR}/format/count.c)
    target_include_directories(fuzz_count_file PRIVATE ${PROJECT_SOURCE_DIR})
    target_compile_options(fuzz_count_file PRIVATE -fsanitize=fuzzer)
    target_link_options(fuzz_count_file PRIVATE -fsanitize=fuzzer)
    target_link_libraries(fuzz_count_file PRIVATE tally_flags)
    # New inputs go to a build-tree corpus; the seeds in the source tree are
    # only read.
    set(_count_corpus ${CMAKE_CURRENT_BINARY_DIR}/corpus-run/count)
    file(MAKE_DIRECTORY ${_count_corpus})
    add_test(NAME fuzz_count_file_smoke
        COMMAND fuzz_count_file -max_total_time=5 ${_count_corpus}
            ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/count)
    set_tests_properties(fuzz_count_file_smoke PROPERTIES LABELS fuzz TIMEOUT 120)

    # The volume file and the cluster table readers (format/), with format/
    # compiled in for coverage.
    add_executable(fuzz_format fuzz/fuzz_format.c ${PROJECT_SOURCE_DIR}/format/volume.c
        ${PROJECT_SOURCE_DIR}/format/table.c)
    target_include_directories(fuzz_format PRIVATE ${PROJECT_SOURCE_DIR})
    target_compile_options(fuzz_format PRIVATE -fsanitize=fuzzer)
    target_link_options(fuzz_format PRIVATE -fsanitize=fuzzer)
    target_link_libraries(fuzz_format PRIVATE tally_proto tally_flags)
    set(_format_corpus ${CMAKE_CURRENT_BINARY_DIR}/corpus-run/format)
    file(MAKE_DIRECTORY ${_format_corpus})
    add_test(NAME fuzz_format_smoke
        COMMAND fuzz_format -max_total_time=5 ${_format_corpus}
            ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/format)
    set_tests_properties(fuzz_format_smoke PROPERTIES LABELS fuzz TIMEOUT 120)
endif()

# The volume file and the saved cluster table (format/): round trips and
# every way a file can be wrong.
tally_add_test(test_format unit SOURCES unit/test_format.c LIBS tally_format)

# The count file renamed away under load with kill -9 (acknowledged <= what
# the restarted pod counts), and a FIFO at visits.txt refused at start.
tally_add_script_test(process_store_rename process ${CMAKE_CURRENT_SOURCE_DIR}/process/test_store_rename.sh)
