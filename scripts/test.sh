#!/bin/bash
# drover's whole test suite, as CI runs it (.ci/run calls this):
#   1. install the Debian packages it needs (scripts/deps.sh)
#   2. format and static checks (clang-format-15, cppcheck; clang-tidy after the first build)
#   3. release build with -Werror: unit, integration and lab tests (ctest)
#   4. sanitizer build (ASan + UBSan): unit and integration tests again, except the cluster_*
#      ones (they drive corosync and Pacemaker around the same binaries the other integration
#      tests already run under the sanitizers; running them twice would put CI past 30 minutes)
#   5. libFuzzer build: each fuzzer for DR_FUZZ_SECONDS (default 20)
# Each stage prints ctest's summary line; the script exits non-zero if any stage failed.
# Must run as root (namespaces, tgtd, libvirtd). Build dirs: build-ci/{release,asan,fuzz}.
set -uo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
OUT=${DR_CI_BUILD:-$SRC/build-ci}
JOBS=${DR_JOBS:-2}
export CI=${CI:-true}
failed=()
# Every lab this run's tests make is named dr<tag>..: after each test stage, one still there is
# a failure (a test's EXIT trap missed it), named with the script that made it, then removed.
LAB_RUN_TAG=$(od -An -N1 -tx1 /dev/urandom | tr -d ' \n')
export LAB_RUN_TAG

stage() { printf '\n==== %s ====\n' "$*"; }

lab_leaks() # STAGE
{
    local p n=0
    for p in $(ip netns list 2>/dev/null | sed -n "s/^\(dr$LAB_RUN_TAG[0-9a-f][0-9a-f]\)-.*/\1/p" |
        sort -u); do
        echo "lab $p left behind by $(cat "/tmp/$p/owner" 2>/dev/null || echo 'an unknown test'): removing it"
        LAB_PREFIX=$p tests/lab/lab.sh down >/dev/null 2>&1
        n=$((n + 1))
    done
    ((n == 0)) || failed+=("$1-lab-leak")
}

if [[ $(id -u) != 0 ]]; then
    echo "scripts/test.sh must run as root (network namespaces, tgtd, libvirtd)" >&2
    exit 1
fi

stage "dependencies"
scripts/deps.sh || { echo "dependency installation failed"; exit 1; }

stage "format (clang-format-15) and static analysis (cppcheck)"
mapfile -t CFILES < <(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*')
if clang-format-15 --dry-run --Werror "${CFILES[@]}"; then
    echo "format: ${#CFILES[@]} files clean"
else
    failed+=(format)
fi
if cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
    --suppress=missingIncludeSystem -D__GNUC__ -I cluster-lib/include -I cluster-lib/src \
    cluster-lib/src droverd stonith tools agents; then
    echo "cppcheck: clean"
else
    failed+=(cppcheck)
fi

build() # NAME CMAKE-ARGS...
{
    local name=$1
    shift
    cmake -S "$SRC" -B "$OUT/$name" "$@" >"$OUT/$name.configure.log" 2>&1 &&
        cmake --build "$OUT/$name" -j"$JOBS" >"$OUT/$name.build.log" 2>&1 || {
        tail -30 "$OUT/$name.configure.log" "$OUT/$name.build.log" 2>/dev/null
        return 1
    }
}

mkdir -p "$OUT"
stage "release build (-Werror): unit, integration, lab tests"
if build release -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDR_WERROR=ON; then
    if clang-tidy -p "$OUT/release" --quiet cluster-lib/src/*.c droverd/*.c stonith/*.c tools/*.c agents/*.c \
        >"$OUT/clang-tidy.log" 2>&1; then
        echo "clang-tidy: clean"
    else
        grep -E 'warning:|error:' "$OUT/clang-tidy.log"
        failed+=(clang-tidy)
    fi
    ctest --test-dir "$OUT/release" -L 'unit|integration|lab' --output-on-failure -j1 ||
        failed+=(release-tests)
    lab_leaks release
else
    failed+=(release-build)
fi

stage "sanitizer build (ASan + UBSan): unit and integration tests"
if build asan -DCMAKE_BUILD_TYPE=Debug -DDR_WERROR=ON -DDR_SANITIZE=ON; then
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
        ctest --test-dir "$OUT/asan" -L 'unit|integration' -LE cluster --output-on-failure -j1 ||
        failed+=(asan-tests)
    lab_leaks asan
else
    failed+=(asan-build)
fi

stage "fuzzers (libFuzzer, ${DR_FUZZ_SECONDS:-20} s each)"
if CC=clang build fuzz -DCMAKE_BUILD_TYPE=Debug -DDR_FUZZ=ON "-DDR_FUZZ_SECONDS=${DR_FUZZ_SECONDS:-20}"; then
    ctest --test-dir "$OUT/fuzz" -L fuzz --output-on-failure -j1 || failed+=(fuzz)
else
    failed+=(fuzz-build)
fi

stage "summary"
if ((${#failed[@]})); then
    echo "FAILED stages: ${failed[*]}"
    exit 1
fi
echo "all stages passed"
