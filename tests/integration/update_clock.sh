#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/update_clock.sh -- the signed-time floor (issue 14): with
# the system clock a year back (faketime), metadata that expired months ago
# is refused because a verified timestamp vouches for a later time; the
# floor is kept in <state_dir>/time-floor, moves only with verified
# metadata, and a clock that is ahead keeps the normal expiry behaviour.
set -u
. "$(dirname "$0")/lib.sh"
test_init clock
command -v faketime >/dev/null 2>&1 ||
    skip_or_fail ZUPD_TESTS_REQUIRE_FAKETIME "faketime is not installed"
# libfaketime is an LD_PRELOAD: let a sanitizer runtime not insist on coming
# first; and keep ASan's allocator from reading the clock (it does so to
# release memory to the OS): that call, made with the allocator's lock held
# before libfaketime is set up, makes libfaketime set itself up through
# dlsym -> malloc -> the same lock, and the process hangs for good (seen:
# "libfaketime: Unexpected recursive calls to clock_gettime()", then a
# FutexWait in SizeClassAllocator64::GetFromAllocator)
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0:allocator_release_to_os_interval_ms=-1"
export TZ=UTC

day=86400
now=$(date +%s)
at() { date -u -d "@$1" '+%Y-%m-%d %H:%M:%S'; } # faketime's absolute form
# at_clock SECONDS CMD...: CMD with the clock set to SECONDS since the epoch
at_clock() {
    _t=$1
    shift
    # a bound, should a hang like the one above come back: a failed check,
    # never a test suite that waits forever
    timeout 300 faketime "$(at "$_t")" "$@"
}
faketime "$(at $((now - 365 * day)))" date +%s | {
    read -r t
    [ $((now - 365 * day - t)) -lt 600 ] && [ $((t - (now - 365 * day))) -lt 600 ]
} || skip_or_fail ZUPD_TESTS_REQUIRE_FAKETIME "faketime does not move the clock here"

# The repository: products signed 100 days ago for 30 days (expired 70 days
# ago), then an avdb release published now signs a fresh timestamp (1 day).
make_tree "$work/v1" 1.0 5
mkdir -p "$work/db" && echo db1 >"$work/db/main.db"
export ZUPD_MIRROR_NOW=$((now - 100 * day))
"$MIRROR" init "$work/repo" --keys "$work/keys" --same-passphrase --expires products=30 --expires targets=365 \
    >"$work/init.log" 2>&1 || {
    cat "$work/init.log"
    exit 1
}
publish product 1.0 "$work/v1" && promote product 1.0 stable || exit 1
unset ZUPD_MIRROR_NOW
# the timestamp is signed at the start of this publish: the reference of the
# floor below (init and the publishes before it take their time under load,
# each unlocking its keys, the log key's too)
signed=$(date +%s)
publish avdb 1 "$work/db" avdb || exit 1
serve_tree "$work/repo" || exit 1
PORT=$SPORT
write_conf
Z="$ZUPD --config $work/zupd.conf"
floor() { cat "$work/state/time-floor" 2>/dev/null || echo none; }

# 1. a fresh state, the clock a year back: without the floor every expiry
# looks fine and 1.0 was installed; the verified timestamp says it is at
# least (its expiry - 31 days), so the products role is expired
expect_rc 15 "clock a year back: the expired products role is refused" \
    at_clock $((now - 365 * day)) $Z update
check "the refusal names the expiry" "$(cat "$work/err")" "expired"
check "the warning names the clock and the signed time" "$(cat "$work/err")" \
    "clock \($(date -u -d "@$((now - 365 * day))" +%Y-%m-%d)T[0-9:]+Z\) is behind .* \($(date -u -d "@$((signed - 30 * day))" +%Y-%m-%d)"
[ ! -e "$work/opt-product" ] && ok "nothing installed" || bad "an expired release was installed"
f=$(floor)
[ "$f" != none ] && [ "$f" -ge $((signed - 30 * day - 5)) ] && [ "$f" -le $((signed - 30 * day + 60)) ] &&
    ok "time-floor is the timestamp's expiry - 31 days ($f)" || bad "time-floor is '$f'"

# 2. the floor moves only with verified metadata: a timestamp whose expiry
# was moved to 2099 without a signature is refused and changes nothing
cp "$work/repo/metadata/timestamp.json" "$work/ts.good"
python3 - "$work/repo/metadata/timestamp.json" <<'PY'
import json, sys
p = sys.argv[1]
d = json.load(open(p))
d["signed"]["expires"] = "2099-01-01T00:00:00Z"
d["signed"]["version"] += 1
json.dump(d, open(p, "w"))
PY
expect_rc 14 "a forged far-future timestamp is refused" at_clock $((now - 365 * day)) $Z update
eq "the floor did not move with unverified data" "$(floor)" "$f"
cp "$work/ts.good" "$work/repo/metadata/timestamp.json"

# 3. the clock ahead: normal expiry (the timestamp expired), no warning, and
# the floor does not follow the clock
expect_rc 15 "clock 30 days ahead: the timestamp is expired" at_clock $((now + 30 * day)) $Z update
check "it is the timestamp" "$(cat "$work/err")" "timestamp.*expired"
grep -q "is behind" "$work/err" && bad "a warning about a clock that is ahead" || ok "no clock warning"
eq "the floor does not follow the clock" "$(floor)" "$f"

# 4. the offline roles re-signed now: with the right clock it installs, as
# before the floor; with the clock a year back too (the floor is below every
# expiry of valid metadata), with the warning
"$MIRROR" refresh --offline --force -C "$work/repo" --keys "$work/keys" >"$work/refresh.log" 2>&1 ||
    cat "$work/refresh.log"
expect_rc 0 "clock a year back, valid metadata: installed" at_clock $((now - 365 * day)) $Z update
grep -q "is behind" "$work/err" && ok "with the warning" || bad "no warning: $(cat "$work/err")"
tree_is "$work/v1" && ok "1.0 installed" || bad "1.0 not installed"
rm -rf "$work/state" "$work/opt-product"
expect_rc 0 "a fresh state with the right clock installs" $Z update
grep -q "is behind" "$work/err" && bad "warning with the right clock" || ok "no warning with the right clock"
tree_is "$work/v1" && ok "1.0 installed" || bad "1.0 not installed"

# 5. the floor kept from an earlier run is used before anything is fetched:
# one 30 days ahead (as if a timestamp had vouched for it) makes today's
# timestamp expired with the right clock; a damaged floor is ignored, loudly
echo $((now + 30 * day)) >"$work/state/time-floor"
expect_rc 15 "a kept floor ahead of the timestamp's expiry: expired" $Z update
check "with the clock and floor named" "$(cat "$work/err")" "is behind the signed-time floor" \
    "timestamp.*expired"
echo 'not a time' >"$work/state/time-floor"
expect_rc 0 "a damaged floor is ignored" $Z update
check "and said so" "$(cat "$work/err")" "time-floor' is damaged"
[ "$(floor)" -le $((now + day)) ] && ok "and rewritten from the verified timestamp" ||
    bad "time-floor is '$(floor)'"
finish clock
