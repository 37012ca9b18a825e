# tests/bench/lib.sh - shared by drover's benchmarks (sourced, bash): helper builds and
# statistics. Benchmarks report numbers; they assert nothing about speed.

DR_SOURCE_DIR=${DR_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
DR_BUILD_DIR=${DR_BUILD_DIR:-$DR_SOURCE_DIR/build-bench}
# Raw samples (one file per series, milliseconds, one a line) and the tables go here.
DR_BENCH_RESULTS=${DR_BENCH_RESULTS:-$DR_BUILD_DIR/bench-results}
B_CFLAGS="-std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Wshadow -Wstrict-prototypes
    -Wmissing-prototypes -Wold-style-definition -Wformat=2 -Werror"

b_log() { printf '[%s] %s\n' "$(date +%T.%3N)" "$*" >&2; }

# b_build_helpers DIR [vmgone]: drbench_time (static, so the SG_IO guest can run it too) and,
# with "vmgone", drbench_vmgone (needs libvirt-dev).
b_build_helpers()
{
    local d=$1 src
    src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    mkdir -p "$d" || return 1
    # shellcheck disable=SC2086 # B_CFLAGS is a word list
    gcc $B_CFLAGS -static -o "$d/drbench_time" "$src/drbench_time.c" || return 1
    if [[ ${2:-} == vmgone ]]; then
        # shellcheck disable=SC2086
        gcc $B_CFLAGS -o "$d/drbench_vmgone" "$src/drbench_vmgone.c" -lvirt || return 1
    fi
}

# b_ns_to_ms: "RC START END ELAPSED" lines (drbench_time) on stdin -> elapsed ms, one a line
b_ns_to_ms() { awk '{ printf "%.2f\n", $4 / 1e6 }'; }

# b_stats FILE: "n median p10 p90 min max" of the numbers in FILE (nearest-rank percentiles,
# the median of an even count is the mean of the middle two); "0 - - - - -" when empty.
b_stats()
{
    sort -g "$1" | awk '
        { v[++n] = $1 }
        function rank(p,  r) { r = int(p * n + 0.999999); if (r < 1) r = 1; return v[r] }
        END {
            if (n == 0) { print "0 - - - - -"; exit }
            med = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
            printf "%d %.1f %.1f %.1f %.1f %.1f\n", n, med, rank(0.10), rank(0.90), v[1], v[n]
        }'
}

# b_row LABEL FILE: one markdown table row "| LABEL | N | median | p10 | p90 | min | max |"
b_row()
{
    local n med p10 p90 min max
    read -r n med p10 p90 min max < <(b_stats "$2")
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$n" "$med" "$p10" "$p90" "$min" "$max"
}

b_table_head()
{
    printf '| %s | N | median ms | p10 | p90 | min | max |\n' "$1"
    printf '|---|---|---|---|---|---|---|\n'
}

# b_median FILE: the median alone
b_median() { b_stats "$1" | awk '{ print $2 }'; }
