#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/mirror_crash.sh -- kill `zupd-mirror publish` (SIGKILL,
# through the library's ZUPD_MIRROR_CRASH_AT hook) before each of its file
# steps in turn: write, fsync, rename, directory fsync. After every crash the
# tree must verify as a client sees it and serve either the previous release
# or (once the timestamp is renamed) the new one, whole; publishing again
# must then succeed. The same for promote.
# The transparency log (docs/transparency.md) is part of the same commit:
# its tiles, then its checkpoint, before any TUF metadata; so after every
# crash `log verify` passes (nothing reachable is unlogged), the log's size
# is the old one until the checkpoint's rename and the new one after it,
# and running the command again leaves a log that still verifies.
set -u
. "$(dirname "$0")/lib.sh"
test_init mirror-crash
M=$MIRROR
ZUPD_KDF_COST=min ZUPD_PASSPHRASE=pw
export ZUPD_KDF_COST ZUPD_PASSPHRASE
unset ZUPD_MIRROR_NOW ZUPD_MIRROR_CRASH_AT ZUPD_MIRROR_CRASH_TRACE ZUPD_MIRROR_REPO ZUPD_MIRROR_KEYS

# ok without a message counts silently: thousands of checks

mkdir -p "$tmp/in/d"
for i in 1 2 3 4 5 6; do head -c 2000 /dev/urandom | od -An -x >"$tmp/in/d/f$i"; done
mkdir -p "$tmp/base"
"$M" init "$tmp/base/repo" --same-passphrase >/dev/null || { echo "init failed"; exit 1; }
"$M" publish app 1.0 "$tmp/in" -C "$tmp/base/repo" >/dev/null || { echo "publish failed"; exit 1; }
"$M" promote app 1.0 --channel stable -C "$tmp/base/repo" >/dev/null || exit 1
echo new >"$tmp/in/d/f2"
echo new2 >"$tmp/in/d/f5"
head -c 3000 /dev/urandom | od -An -x >"$tmp/in/d/f7"

# crash_each NAME CMD...: run CMD (which changes the repository) killed at
# each of its steps in a fresh copy of the base tree
crash_each() {
    name=$1
    shift
    rm -rf "$tmp/w"
    cp -a "$tmp/base" "$tmp/w"
    old=$("$M" verify "$tmp/w/repo" | sed 's/ blobs.*//')
    ZUPD_MIRROR_CRASH_TRACE=1 "$@" -C "$tmp/w/repo" 2>"$tmp/trace" >/dev/null || bad "$name: traced run failed"
    new=$("$M" verify "$tmp/w/repo" | sed 's/ blobs.*//')
    steps=$(grep -c ': step ' "$tmp/trace")
    # the instant the new release is served: the timestamp's rename
    flip=$(sed -n "s/^zupd-mirror: step \([0-9]*\): rename 'metadata\/timestamp.json'$/\1/p" "$tmp/trace")
    [ "$steps" -gt 5 ] && [ -n "$flip" ] && [ "$old" != "$new" ] && ok ||
        bad "$name: $steps steps traced, timestamp renamed at step '$flip'"
    # the instant the log grows: its checkpoint's rename, before the
    # first TUF metadata file is renamed
    ckpt=$(sed -n "s/^zupd-mirror: step \([0-9]*\): rename 'log\/checkpoint'$/\1/p" "$tmp/trace")
    meta1=$(sed -n "s/^zupd-mirror: step \([0-9]*\): rename 'metadata\/.*/\1/p" "$tmp/trace" | head -n 1)
    [ -n "$ckpt" ] && [ -n "$meta1" ] && [ "$ckpt" -lt "$meta1" ] && ok ||
        bad "$name: the log's checkpoint renamed at step '$ckpt', the first metadata at '$meta1'"
    log_old=$(sed -n 2p "$tmp/base/repo/log/checkpoint")
    log_new=$(sed -n 2p "$tmp/w/repo/log/checkpoint")
    [ "$log_new" -gt "$log_old" ] && ok || bad "$name: the log did not grow ($log_old -> $log_new)"
    n=1
    while [ "$n" -le "$steps" ]; do
        rm -rf "$tmp/w"
        cp -a "$tmp/base" "$tmp/w"
        ZUPD_MIRROR_CRASH_AT=$n "$@" -C "$tmp/w/repo" >/dev/null 2>&1
        rc=$?
        [ "$rc" = 137 ] && ok || bad "$name: step $n: not killed (exit $rc)"
        out=$("$M" verify "$tmp/w/repo" 2>&1)
        if [ $? != 0 ]; then
            bad "$name: killed at step $n: verify refused: $out"
        else
            now=$(printf '%s\n' "$out" | sed 's/ blobs.*//')
            if [ "$n" -le "$flip" ]; then want=$old; else want=$new; fi
            [ "$now" = "$want" ] && ok || bad "$name: killed at step $n: serves '$now', not '$want'"
        fi
        out=$("$M" log verify "$tmp/w/repo" 2>&1) && ok ||
            bad "$name: killed at step $n: log verify refused: $out"
        size=$(sed -n 2p "$tmp/w/repo/log/checkpoint")
        if [ "$n" -le "$ckpt" ]; then want=$log_old; else want=$log_new; fi
        [ "$size" = "$want" ] && ok || bad "$name: killed at step $n: log of $size entries, not $want"
        # run it again: completes what was cut short (or finds it done)
        "$@" -C "$tmp/w/repo" >"$tmp/again" 2>&1
        rc=$?
        if [ "$rc" = 0 ] || { [ "$n" -gt "$flip" ] && [ "$rc" = 31 ]; }; then ok; else
            bad "$name: killed at step $n: run again: exit $rc: $(cat "$tmp/again")"; fi
        now=$("$M" verify "$tmp/w/repo" 2>&1 | sed 's/ blobs.*//')
        [ "$now" = "$new" ] && ok || bad "$name: killed at step $n, run again: serves '$now', not '$new'"
        out=$("$M" log verify "$tmp/w/repo" 2>&1) && ok ||
            bad "$name: killed at step $n, run again: log verify refused: $out"
        n=$((n + 1))
    done
    echo "ok: $name: killed at each of $steps steps (new release served from step $((flip + 1)))"
}

crash_each "publish" "$M" publish app 1.1 "$tmp/in"
crash_each "promote" "$M" promote app 1.0 --channel beta
finish
