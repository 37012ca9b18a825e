# shellcheck shell=dash
# /lib/guest-lib.sh - check helpers for the sgio-guest scenarios (busybox ash, sourced).
#
# Each check prints exactly one "@@CHECK PASS|FAIL description" line; summary prints
# "@@RESULT n passed, m failed". Every command's stdout is shown indented with "| ", its
# stderr with "! ", so the host log explains every verdict.

NPASS=0
NFAIL=0
OUT=
ERR=
RC=0

pass() {
    NPASS=$((NPASS + 1))
    echo "@@CHECK PASS $*"
}

fail() {
    NFAIL=$((NFAIL + 1))
    echo "@@CHECK FAIL $*"
}

# run CMD...: run CMD with stdin from $STDIN (empty when unset); set OUT, ERR and RC.
run() {
    echo "  \$ $*"
    printf '%s' "${STDIN:-}" | "$@" >/tmp/run.out 2>/tmp/run.err
    RC=$?
    OUT=$(cat /tmp/run.out)
    ERR=$(cat /tmp/run.err)
    [ -n "$OUT" ] && printf '%s\n' "$OUT" | sed 's/^/    | /'
    [ -n "$ERR" ] && printf '%s\n' "$ERR" | sed 's/^/    ! /'
    echo "    rc=$RC"
    return 0
}

# expect_rc WANT DESC CMD...: CMD exits with WANT ("0", "3", or a set such as "1|2").
expect_rc() {
    local want=$1 desc=$2
    shift 2
    run "$@"
    case "|$want|" in
    *"|$RC|"*) pass "$desc (rc=$RC)" ;;
    *) fail "$desc (rc=$RC, wanted $want)" ;;
    esac
}

# expect_out DESC ERE: the last command's stdout matches ERE.
expect_out() {
    if printf '%s\n' "$OUT" | grep -Eq -- "$2"; then
        pass "$1"
    else
        fail "$1 (stdout does not match /$2/)"
    fi
}

# expect_err DESC ERE: the last command's stderr matches ERE (case-insensitive).
expect_err() {
    if printf '%s\n' "$ERR" | grep -Eiq -- "$2"; then
        pass "$1"
    else
        fail "$1 (stderr does not match /$2/)"
    fi
}

# expect_true DESC SHELL-CONDITION...: the condition holds.
expect_true() {
    local desc=$1
    shift
    if "$@"; then
        pass "$desc"
    else
        fail "$desc (false: $*)"
    fi
}

# sorted_words WORD...: the words, one a line, sorted (empty output for no words).
sorted_words() {
    [ $# -gt 0 ] && printf '%s\n' "$@" | sort
}

summary() {
    echo "@@RESULT $NPASS passed, $NFAIL failed"
    [ "$NFAIL" -eq 0 ]
}
