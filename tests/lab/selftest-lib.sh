# selftest-lib.sh - what the lab's self-tests share (sourced). Set SELFTEST_NAME first.
# Exit codes of a self-test: 0 pass, 1 fail, 77 skipped (never under CI=true).

FAILED=0

say()
{
    printf '%s %s: %s\n' "$(date +%T.%3N)" "${SELFTEST_NAME:-selftest}" "$*"
}

check() # DESCRIPTION CMD...
{
    local what=$1
    shift
    if "$@"; then
        say "ok   $what"
    else
        say "FAIL $what"
        FAILED=1
    fi
}

skip_or_fail() # REASON
{
    if [[ ${CI:-} == true ]]; then
        say "FAIL $1 (CI=true: a missing prerequisite is a failure)"
        exit 1
    fi
    say "SKIP $1"
    exit 77
}

ms()
{
    local t=${EPOCHREALTIME/./}
    echo $((t / 1000))
}
