#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/update_health.sh -- the health check hook (issue 15): its
# output goes to stderr, never into stdout (--json stays valid JSON); past
# health_check_timeout it is killed and the release is unhealthy (switched
# back, marked bad); what it leaves running in its process group is killed.
set -u
. "$(dirname "$0")/lib.sh"
test_init health

start_repo || exit 1
make_tree "$work/v1" 1.0 10
make_tree "$work/v2" 2.0 10
make_tree "$work/v3" 3.0 10
publish product 1.0 "$work/v1" && promote product 1.0 stable || exit 1
write_conf
Z="$ZUPD --config $work/zupd.conf"
expect_rc 0 "first install (no health check)" $Z update

# gone PIDFILE: the process it names is gone within 5 s (not even a zombie:
# it was reparented, then reaped)
gone() {
    _p=$(cat "$1" 2>/dev/null) || return 1
    [ -n "$_p" ] || return 1
    _i=0
    while kill -0 "$_p" 2>/dev/null && [ $_i -lt 50 ]; do
        sleep 0.1
        _i=$((_i + 1))
    done
    ! kill -0 "$_p" 2>/dev/null
}

# (1) a chatty health check and post_switch hook: stdout stays zupd's JSON;
# what they print is in stderr, prefixed; a child left behind is killed
cat >"$work/health.sh" <<EOS
#!/bin/sh
echo "hc-out \$ZUPD_VERSION"
echo "hc-err" >&2
sleep 100 &
echo \$! >"$work/left.pid"
(trap "" TERM; exec sleep 100) &
echo \$! >"$work/stubborn.pid"
exit 0
EOS
write_conf "sh $work/health.sh"
sed -i 's|keep = 3;|keep = 3; post_switch = "echo post-out";|' "$work/zupd.conf"
publish product 2.0 "$work/v2" && promote product 2.0 stable || exit 1
expect_rc 0 "update to 2.0 with a chatty health check" $Z --json update
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["components"][0]["action"] == "installed", d' \
    "$work/out" && ok "--json stdout is valid JSON" || bad "--json stdout broken: $(head -c 300 "$work/out")"
grep -q "hc-\|post-out" "$work/out" && bad "hook output in stdout" || ok "no hook output in stdout"
grep -qx "zupd: product health_check: hc-out 2.0" "$work/err" &&
    grep -qx "zupd: product health_check: hc-err" "$work/err" &&
    ok "the health check's stdout and stderr are in zupd's stderr" || bad "hook lines missing: $(cat "$work/err")"
grep -qx "zupd: product post_switch: post-out" "$work/err" &&
    ok "post_switch's output too" || bad "post_switch line missing: $(cat "$work/err")"
tree_is "$work/v2" && ok "on 2.0" || bad "not on 2.0"
gone "$work/left.pid" && ok "the child the health check left behind is killed" ||
    bad "the health check's child is still running"
gone "$work/stubborn.pid" && ok "a child that ignores SIGTERM gets SIGKILL" ||
    bad "the stubborn child is still running"

# (2) a health check that hangs: killed after health_check_timeout, the
# release is unhealthy (back on 2.0, 3.0 marked bad), and quickly
cat >"$work/health.sh" <<EOS
#!/bin/sh
sleep 100 &
echo \$! >"$work/left.pid"
echo "hanging"
sleep 20
EOS
write_conf "sh $work/health.sh"
sed -i 's|keep = 3;|keep = 3; health_check_timeout = 2;|' "$work/zupd.conf"
publish product 3.0 "$work/v3" && promote product 3.0 stable || exit 1
t0=$(date +%s)
expect_rc 101 "a health check past its 2 s timeout is unhealthy" $Z --json update
t=$(($(date +%s) - t0))
[ "$t" -lt 10 ] && ok "the run took ${t} s" || bad "the run took ${t} s (timeout 2 s)"
grep -q "health_check of 'product' timed out after 2 s" "$work/err" &&
    ok "stderr says it timed out" || bad "no timeout message: $(cat "$work/err")"
grep -q "health check timed out on 3.0: back on 2.0, 3.0 marked bad" "$work/err" "$work/out" &&
    ok "the failure names the timeout" || bad "no report of the unhealthy release"
python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$work/out" &&
    ok "--json stdout still valid" || bad "--json stdout broken"
tree_is "$work/v2" && ok "back on the previous version (2.0)" || bad "not back on 2.0"
gone "$work/left.pid" && ok "the hung check's process group is killed" ||
    bad "the hung check's child is still running"
expect_rc 0 "the timed-out release is not retried" $Z update
grep -q "product: bad" "$work/out" && ok "update says 3.0 is bad" || bad "3.0 retried?"

# the global default applies to components without their own
write_conf "sleep 20"
sed -i 's|^low_speed_time|health_check_timeout = 1;\nlow_speed_time|' "$work/zupd.conf"
make_tree "$work/v4" 4.0 10
publish product 4.0 "$work/v4" && promote product 4.0 stable || exit 1
expect_rc 101 "the global health_check_timeout applies" $Z update
grep -q "timed out after 1 s" "$work/err" && ok "timed out after the global 1 s" ||
    bad "global timeout not used: $(cat "$work/err")"

# (3) pre_switch and post_switch run under hook_timeout: a pre_switch that
# hangs is killed and the switch does not happen
write_conf
sed -i 's|keep = 3;|keep = 3; pre_switch = "sleep 30"; hook_timeout = 1;|' "$work/zupd.conf"
make_tree "$work/v5" 5.0 10
publish product 5.0 "$work/v5" && promote product 5.0 stable || exit 1
t0=$(date +%s)
$Z update >"$work/out" 2>"$work/err"
rc=$?
t=$(($(date +%s) - t0))
[ "$rc" != 0 ] && ok "a pre_switch past hook_timeout fails the update (exit $rc)" ||
    bad "the update succeeded"
[ "$t" -lt 10 ] && ok "the run took ${t} s (hook_timeout 1 s)" || bad "the run took ${t} s"
grep -q "pre_switch of 'product' timed out after 1 s" "$work/err" &&
    ok "stderr says the hook timed out" || bad "no timeout message: $(cat "$work/err")"
grep -q "pre_switch hook timed out: not switching to 5.0" "$work/err" &&
    ok "the failure names it" || bad "no failure message: $(cat "$work/err")"
tree_is "$work/v5" && bad "switched to 5.0 all the same" || ok "not switched to 5.0"
# a post_switch that hangs is killed; the switch stands, with a warning
write_conf
sed -i 's|^low_speed_time|hook_timeout = 1;\nlow_speed_time|' "$work/zupd.conf"
sed -i 's|keep = 3;|keep = 3; post_switch = "sleep 30";|' "$work/zupd.conf"
t0=$(date +%s)
expect_rc 0 "a post_switch past the global hook_timeout: the update stands" $Z update
t=$(($(date +%s) - t0))
[ "$t" -lt 10 ] && ok "the run took ${t} s" || bad "the run took ${t} s"
grep -q "post_switch of 'product' timed out after 1 s" "$work/err" &&
    ok "stderr says post_switch timed out" || bad "no timeout message: $(cat "$work/err")"
tree_is "$work/v5" && ok "on 5.0" || bad "not on 5.0"

finish update_health
