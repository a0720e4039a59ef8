#!/usr/bin/env bash
# test.sh: the whole test suite, from a fresh Debian 12 machine.
#   1. install what is missing (tools/install-deps.sh);
#   2. plain build (-Werror): unit and simulator tests, then the process-level,
#      deployment, network-namespace and image tests one at a time;
#   3. AddressSanitizer + UndefinedBehaviorSanitizer build: unit and simulator;
#   4. valgrind over the unit tests of the plain build: no leaks, no errors;
#   5. clang + libFuzzer build: each fuzz target for a few seconds;
#   6. clang-format check of every C file.
# Ends with "N passed, N failed" and exits non-zero if anything failed.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc)
pass=0
fail=0
failed=()

step() { # step NAME CMD...: run one stage, count it
    local name=$1
    shift
    echo "=== $name"
    if "$@"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        failed+=("$name")
        echo "=== FAILED: $name"
    fi
}

build() { # build DIR CMAKE-ARGS...
    local dir=$1
    shift
    cmake -S "$root" -B "$dir" "$@" >"$dir.cmake.log" 2>&1 || { cat "$dir.cmake.log"; return 1; }
    cmake --build "$dir" -j"$jobs" 2>&1 | grep -E "error|warning|Error" ; return "${PIPESTATUS[0]}"
}

bash "$root/tools/install-deps.sh" || exit 1

step "build (plain, -Werror)" build "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
step "tests: unit, sim (plain build)" \
    ctest --test-dir "$root/build" --output-on-failure -j"$jobs" -L 'unit|sim'
# One at a time: these run real processes with real timers (gossip rounds,
# idle timeouts, latency under attack) and must not compete for the 2 cores.
step "tests: process, deploy, netns, image (plain build, serial)" \
    ctest --test-dir "$root/build" --output-on-failure -LE 'unit|sim|fuzz'

step "build (ASan+UBSan)" build "$root/build-asan" -DCMAKE_BUILD_TYPE=Debug \
    "-DTALLY_SANITIZE=address;undefined"
step "tests: unit, sim (ASan+UBSan)" \
    env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir "$root/build-asan" --output-on-failure -j"$jobs" -L 'unit|sim' -E '_big$'

valgrind_units() { # every unit test executable of the plain build under valgrind
    local exe rc=0
    for exe in $(ctest --test-dir "$root/build" -L unit --show-only=json-v1 |
        python3 -c 'import json,sys; print("\n".join(t["command"][0] for t in json.load(sys.stdin)["tests"]))'); do
        if ! valgrind -q --leak-check=full --errors-for-leak-kinds=definite,possible \
            --error-exitcode=1 "$exe" >"$exe.valgrind.log" 2>&1; then
            echo "valgrind: $exe failed:"; tail -40 "$exe.valgrind.log"; rc=1
        else
            echo "valgrind: $(basename "$exe") clean"
        fi
    done
    return $rc
}
step "tests: unit (valgrind)" valgrind_units

step "build (clang, libFuzzer)" build "$root/build-fuzz" -DCMAKE_C_COMPILER=clang -DTALLY_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo
step "fuzz smoke (a few seconds each)" ctest --test-dir "$root/build-fuzz" --output-on-failure -L fuzz

fmt_check() {
    local bad
    bad=$(cd "$root" && git ls-files '*.c' '*.h' | xargs clang-format --dry-run --Werror 2>&1 | grep -c "error:")
    [ "$bad" = 0 ] || { (cd "$root" && git ls-files '*.c' '*.h' | xargs clang-format --dry-run --Werror); return 1; }
}
step "clang-format" fmt_check

echo
[ ${#failed[@]} -gt 0 ] && printf 'failed stage: %s\n' "${failed[@]}"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
