#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/update_crash.sh -- crash safety of `zupd update`: the
# update 1.0 -> 2.0 is killed (SIGKILL, through the LD_PRELOAD shim
# libfaultinject.so) before each of its file-system changes in turn: every
# write to a file, fsync, rename, link, symlink, unlink and mkdir. After
# each kill the install path must be 1.0 or 2.0, whole, and the next
# `zupd update` must finish the job.
#   CRASH_MAX_POINTS  at most this many kill points (spread evenly; default 400)
set -u
# on tmpfs when there is one: fsync is free there, and the kills need no disk
base=/tmp
[ -d /dev/shm ] && [ -w /dev/shm ] && base=/dev/shm
. "$(dirname "$0")/lib.sh"
test_init crash "$base"
shim=$top_builddir/tests/integration/.libs/libfaultinject.so
[ -f "$shim" ] || { echo "update_crash: $shim not built"; exit 1; }
# the sanitizer runtime need not come first when the shim is preloaded
ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0:detect_leaks=0"
export ASAN_OPTIONS

start_repo || exit 1
make_tree "$work/v1" 1.0 60
make_tree "$work/v2" 2.0 60
publish product 1.0 "$work/v1" && promote product 1.0 stable || exit 1
write_conf
Z="$ZUPD --config $work/zupd.conf --quiet"
$Z update || { echo "update_crash: first install failed"; exit 1; }
tree_is "$work/v1" || { echo "update_crash: 1.0 not installed"; exit 1; }
cp -a "$work/state" "$work/pristine"
publish product 2.0 "$work/v2" && promote product 2.0 stable || exit 1

restore() { rm -rf "$work/state" && cp -a "$work/pristine" "$work/state"; }

# how many steps does a whole update take?
restore
rm -f "$work/count"
LD_PRELOAD=$shim ZUPD_FAULT_COUNT=$work/count $Z update || { echo "update_crash: update failed"; exit 1; }
total=$(tail -n 1 "$work/count")
tree_is "$work/v2" || { echo "update_crash: the uninterrupted update did not give 2.0"; exit 1; }
max=${CRASH_MAX_POINTS:-400}
step=$(( (total + max - 1) / max ))
echo "update_crash: the update makes $total file-system changes; killing before every ${step}th"

killed=0 old=0 new=0 k=1
while [ "$k" -le "$total" ]; do
    f0=$fail
    restore
    LD_PRELOAD=$shim ZUPD_FAULT_AT=$k $Z update > /dev/null 2>&1
    rc=$?
    [ "$rc" = 137 ] && killed=$((killed + 1))
    if tree_is "$work/v1"; then old=$((old + 1));
    elif tree_is "$work/v2"; then new=$((new + 1));
    else bad "killed at step $k (exit $rc): the install path is neither 1.0 nor 2.0 whole"; fi
    $Z update > "$work/out" 2> "$work/err"
    if [ $? != 0 ] || ! tree_is "$work/v2"; then
        bad "after a kill at step $k the next update did not finish the job"
        sed 's/^/  | /' "$work/err"
    fi
    [ "$fail" = "$f0" ] && ok # one check per kill point
    k=$((k + step))
done
# and the store is clean: no staging tree, nothing but whole versions
$Z verify > /dev/null 2>&1 && ok "verify after the last recovery" || bad "verify after recovery"
ls "$work/state/components/product/versions" | grep -q staging && bad "staging left" || ok "no staging left"

# a crash test that never crashes passes: the kills must have happened
[ "$killed" -gt 0 ] && ok "$killed kills ($old left 1.0, $new left 2.0)" || bad "no update was killed"
finish update_crash
