# bench.cmake: the benchmark command's smoke run. `tools/bench.sh --smoke`
# starts every server the full benchmark uses (tallyd in three sync modes,
# nginx, Redis, fake gossip members, a few real pods, the simulator) for a
# second each and asserts each piece prints a figure; it skips (exit 0) when
# wrk, nginx or Redis are missing and cannot be installed. The full run is
# `tools/bench.sh` by hand, not part of the test command.
tally_add_script_test(bench_smoke process ${PROJECT_SOURCE_DIR}/tools/bench.sh)
set_property(TEST bench_smoke APPEND PROPERTY ENVIRONMENT "TALLY_BENCH_SMOKE=1")
