#!/bin/bash
# Pacemaker accepts fence_drover's metadata: stonith_admin reads it as it reads any fence agent
# from /usr/sbin. The agent is shown to stonith_admin through an overlay on /usr/sbin inside a
# private mount namespace, so the host's /usr/sbin is never touched.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
t_require stonith_admin xmllint unshare

W=$(mktemp -d /tmp/drmeta.XXXXXX)
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/upper" "$W/work"

in_sbin() # CMD...: run CMD with fence_drover installed in /usr/sbin (private overlay)
{
    unshare --mount --propagation private sh -c '
        mount -t overlay overlay -o "lowerdir=/usr/sbin,upperdir=$1,workdir=$2" /usr/sbin &&
        cp "$3" /usr/sbin/fence_drover && shift 3 && exec "$@"' \
        sh "$W/upper" "$W/work" "$FENCE" "$@"
}

t_expect_out 0 'fence_drover' "stonith_admin lists fence_drover among installed agents" \
    in_sbin stonith_admin --list-installed
t_expect_rc 0 "stonith_admin --metadata --agent fence_drover" in_sbin stonith_admin --metadata --agent fence_drover
META=$T_OUT
grep -q '<action name="on" on_target="1" automatic="1"' <<<"$META" &&
    t_pass "metadata declares unfencing: on with on_target and automatic" ||
    t_fail "no on_target/automatic on action"
for p in devices plug nodename local_node cluster_name initiators reservation_type timeout_ms; do
    grep -q "<parameter name=\"$p\"" <<<"$META" && t_pass "parameter $p is declared" ||
        t_fail "parameter $p missing"
done
printf '%s\n' "$META" >"$W/meta.xml"
t_expect_rc 0 "the metadata is well-formed XML" xmllint --noout "$W/meta.xml"
t_expect_rc 0 "fence_drover -o metadata exits 0" "$FENCE" -o metadata
t_expect_rc 0 "metadata also through stdin" sh -c "echo action=metadata | $FENCE"
t_summary
