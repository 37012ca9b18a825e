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

# selftest_down [WHAT]: lab_down, then check that every process the lab recorded and every
# namespace with its prefix is gone. Sets DOWN_MS (how long lab_down took) and DOWN_END (ms).
selftest_down()
{
    local what=${1:-every recorded process is gone} records t0 down_rc=0 pid st left=

    lab_pids >/dev/null
    records=$(cat "$LAB_DIR"/pids/*.pid)
    trap - EXIT
    t0=$(ms)
    lab_down || down_rc=$?
    DOWN_END=$(ms)
    DOWN_MS=$((DOWN_END - t0))
    check "lab_down succeeded" test "$down_rc" = 0
    while read -r pid st; do
        lab__pid_alive "$pid" "$st" && left="$left $pid"
    done <<<"$records"
    [[ -z $left ]] || say "still running:$left"
    check "$what" test -z "$left"
    check "no namespace with prefix $LAB_PREFIX is left" test -z "$(lab__netns_list)"
}
