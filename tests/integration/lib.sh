# tests/integration/lib.sh - shared by drover's integration tests (sourced, bash).
# Checks that count, binaries from the build tree, and droverd instances inside lab nodes,
# each stopped by its PID from the EXIT trap.

DR_SOURCE_DIR=${DR_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
DR_BUILD_DIR=${DR_BUILD_DIR:-$DR_SOURCE_DIR/build}
DROVER=$DR_BUILD_DIR/tools/drover
DROVERD=$DR_BUILD_DIR/droverd/droverd
FENCE=$DR_BUILD_DIR/stonith/fence_drover

T_PASS=0
T_FAIL=0
T_DROVERD_PIDS=()

t_log() { printf '[%s] %s\n' "$(date +%T.%3N)" "$*"; }
t_pass() { T_PASS=$((T_PASS + 1)); printf 'PASS  %s\n' "$*"; }
t_fail() { T_FAIL=$((T_FAIL + 1)); printf 'FAIL  %s\n' "$*"; }

# t_expect_rc WANT DESC CMD...: run CMD, check its exit code; output kept in T_OUT
t_expect_rc()
{
    local want=$1 desc=$2 rc=0
    shift 2
    T_OUT=$("$@" 2>&1) || rc=$?
    if [[ $rc == "$want" ]]; then
        t_pass "$desc (exit $rc)"
    else
        t_fail "$desc (exit $rc, wanted $want)"
        printf '      %s\n' "${T_OUT//$'\n'/$'\n'      }"
    fi
}

# t_expect_out WANT_RC ERE DESC CMD...: exit code and output both as wanted
t_expect_out()
{
    local want=$1 re=$2 desc=$3 rc=0
    shift 3
    T_OUT=$("$@" 2>&1) || rc=$?
    if [[ $rc == "$want" ]] && grep -Eq -- "$re" <<<"$T_OUT"; then
        t_pass "$desc (exit $rc)"
    else
        t_fail "$desc (exit $rc, wanted $want and /$re/)"
        printf '      %s\n' "${T_OUT//$'\n'/$'\n'      }"
    fi
}

t_ms() { date +%s%3N; }

# t_wait_for SECONDS CMD...: poll CMD every 20 ms until it succeeds
t_wait_for()
{
    local deadline=$(($(t_ms) + $1 * 1000))
    shift
    until "$@" >/dev/null 2>&1; do
        (($(t_ms) < deadline)) || return 1
        sleep 0.02
    done
}

# A missing tool is a failure under CI, and a visible skip elsewhere.
t_require()
{
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 && continue
        if [[ ${CI:-} == true ]]; then
            echo "FATAL: $c is not installed (CI=true: a missing tool is a failure)"
            exit 1
        fi
        echo "SKIP: $c is not installed"
        exit 77
    done
}

# t_droverd_start NODE ARGS...: droverd in NODE's namespaces; sets T_DROVERD_PID (host PID)
t_droverd_start()
{
    local node=$1 wrapper child=
    shift
    lab_exec "$node" "$DROVERD" --node "$node" --log-file "$LAB_DIR/droverd-$node.log" "$@" \
        >>"$LAB_DIR/droverd-$node.out" 2>&1 &
    wrapper=$!
    # The background job is a subshell running nsenter, which forks into the node's PID
    # namespace: droverd is a grandchild. Find it by walking down from the job's PID.
    t_wait_for 5 t_descendant "$wrapper" droverd || {
        t_fail "droverd on $node did not start"
        return 1
    }
    child=$(t_descendant "$wrapper" droverd)
    T_DROVERD_PID=$child
    T_DROVERD_PIDS+=("$child")
    eval "T_DROVERD_$node=$child"
}

t_descendant() # PID COMM: print the first descendant of PID whose command is COMM
{
    local todo=("$1") p c comm
    while ((${#todo[@]})); do
        p=${todo[0]}
        todo=("${todo[@]:1}")
        for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do
            read -r comm <"/proc/$c/comm" 2>/dev/null || continue
            if [[ $comm == "$2" ]]; then
                echo "$c"
                return 0
            fi
            todo+=("$c")
        done
    done
    return 1
}

t_stop_pid() # PID [SIGNAL]
{
    local pid=$1 sig=${2:-TERM} i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -"$sig" "$pid" 2>/dev/null || true
    for i in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
}

t_droverd_stop_all()
{
    local p
    for p in "${T_DROVERD_PIDS[@]}"; do
        t_stop_pid "$p"
    done
}

t_summary()
{
    echo "== $T_PASS passed, $T_FAIL failed"
    [[ $T_FAIL == 0 && $T_PASS -gt 0 ]]
}

t_stat() # KEY "K=V K=V ..." -> the value of KEY (a lab_guest_stats line, an agent's statistics)
{
    local kv
    for kv in $2; do
        if [[ ${kv%%=*} == "$1" ]]; then
            echo "${kv#*=}"
            return 0
        fi
    done
    return 1
}

t_cpu_ticks() # PID -> CPU ticks (user + system) the process has used so far
{
    local s
    { read -r s <"/proc/$1/stat"; } 2>/dev/null || return 1
    local -a f
    read -r -a f <<<"${s##*) }"
    echo $((f[11] + f[12]))
}
