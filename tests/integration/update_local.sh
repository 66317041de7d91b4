#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/update_local.sh -- the endpoint against local trouble
# (issue 14): one zupd at a time (the state directory's lock: a status during
# a slow update leaves its staging tree alone, a second update fails at once
# with exit 34 naming the holder's pid, --wait=1 gives up after 1 s and
# --wait=60 status runs once the update is done), files that are not files (a FIFO as trusted root, zupd.conf
# or key file is refused at once, never waited on), state, configuration and
# trusted root that others could have written (refused), and an install path
# that is a directory (refused before `current` moves).
set -u
. "$(dirname "$0")/lib.sh"
test_init local

start_repo || exit 1
make_tree "$work/v1" 1.0 40
make_tree "$work/v2" 2.0 40
publish product 1.0 "$work/v1" && promote product 1.0 stable || exit 1
# the fixture server over $work answers each blob after 0.15 s: an update of
# 1.0 takes several seconds, with its staging tree in place all along
printf '[{"path":"repo/blobs/*","mode":"delay","delay":0.15}]\n' >"$work/slow-rules.json"
start_fixture slow repo "$work" "$work/slow-rules.json" || exit 1
write_conf
sed -i "s|http://127.0.0.1:$PORT/|http://127.0.0.1:$slow_port/slow/repo/|" "$work/zupd.conf"
echo "parallel = 1;" >>"$work/zupd.conf"
Z="$ZUPD --config $work/zupd.conf"
staging=$work/state/components/product/versions/1.0.staging

# ---------------------------------------------------------------- the lock
$Z update >"$work/upd1.out" 2>"$work/upd1.err" &
upd=$!
track_pid $upd
i=0
while [ ! -d "$staging" ] && [ $i -lt 200 ]; do
    sleep 0.05
    i=$((i + 1))
done
[ -d "$staging" ] && ok "the update is staging 1.0" || bad "no staging tree seen"
expect_rc 34 "status during an update: the lock is held" $Z status
grep -q "lock '$work/state/lock'" "$work/err" && ok "status names the lock" \
    || { bad "status does not name the lock"; cat "$work/err"; }
[ -d "$staging" ] && ok "status left the update's staging tree alone" \
    || bad "status removed the running update's staging tree"
expect_rc 34 "a second update at once: exit 34" $Z update
grep -q "another zupd is using '$work/state' (lock '$work/state/lock' is held)" "$work/err" \
    && ok "the second update names the lock" || { bad "no lock message"; cat "$work/err"; }
expect_rc 34 "verify during an update: exit 34" $Z verify
check "a blocked run names the holder" "$(cat "$work/err")" "is held\) by pid $upd: zupd update;"
# --wait=SECONDS: waits that long, then exit 34 naming the holder
t0=$(date +%s.%N)
expect_rc 34 "--wait=1 update during an update: exit 34" $Z --wait=1 update
t1=$(date +%s.%N)
check "it waited, naming the holder" "$(cat "$work/err")" "waiting for the lock '$work/state/lock', held by pid $upd: zupd update"
check "then gave up naming it" "$(cat "$work/err")" "is held\) by pid $upd: zupd update; try again later"
awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a >= 0.9 && b - a < 5) }' \
    && ok "--wait=1 waited about 1 s" || bad "--wait=1 took $t0 -> $t1"
kill -0 $upd 2>/dev/null && ok "the update was still running during those checks" \
    || bad "the update ended too soon for the lock checks to mean anything"
# a shared run waits for the exclusive holder, and runs once it is gone
expect_rc 0 "--wait=60 status during an update waits for it" $Z --wait=60 status
check "status ran after the update: 1.0 is current" "$(cat "$work/out")" "current: +1.0"
check "status said whom it waited for" "$(cat "$work/err")" "held by pid $upd: zupd update"
expect_rc 1 "--wait=soon: a usage error" $Z --wait=soon status
check "its message" "$(cat "$work/err")" "--wait: 'soon' is not a number of seconds"
wait $upd
rc=$?
eq "the first update succeeds" "$rc" 0 || cat "$work/upd1.err"
tree_is "$work/v1" && ok "install path holds 1.0" || bad "install path is not 1.0"

# the lock is 0600: whoever could open it could hold it and stop every
# update; an unprivileged user's status reads without it
eq "the lock file's mode" "$(stat -c %a "$work/state/lock")" 600
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    chmod 711 "$work"
    expect_rc 0 "status as an unprivileged user (no lock, no recovery)" \
        setpriv --reuid=65534 --regid=65534 --clear-groups $Z status
    check "it shows the installed version" "$(cat "$work/out")" "current: +1.0"
    chmod 700 "$work"
else
    skip_part unprivileged "needs root and setpriv"
fi

# leftovers of a crash are removed by changing commands only
mkdir -p "$work/state/components/product/versions/9.9.staging/bin"
expect_rc 0 "status after the update" $Z status
[ -d "$work/state/components/product/versions/9.9.staging" ] \
    && ok "status (shared lock) leaves a staging tree alone" || bad "status removed a staging tree"
expect_rc 0 "check after the update" $Z check
[ -d "$work/state/components/product/versions/9.9.staging" ] \
    && bad "check (exclusive lock) left a crash's staging tree" \
    || ok "check (exclusive lock) removes a crash's staging tree"

# ---------------------------------------------------------------- not files
mkfifo "$work/fifo"
sed "s|trusted_root = \"[^\"]*\"|trusted_root = \"$work/fifo\"|; s|$work/state|$work/state-fifo|" \
    "$work/zupd.conf" >"$work/fifo-root.conf"
expect_rc 19 "a FIFO as trusted root: refused at once" timeout 10 $ZUPD --config "$work/fifo-root.conf" check
check "the FIFO root message" "$(cat "$work/err")" "trusted root: '$work/fifo' is not a regular file"
expect_rc 1 "a FIFO as zupd.conf: refused at once" timeout 10 $ZUPD --config "$work/fifo" status
check "the FIFO config message" "$(cat "$work/err")" "'$work/fifo' is not a regular file"
cp -a "$work/keys" "$work/keys-fifo"
for k in "$work/keys-fifo"/* "$work/keys-fifo"/online/* "$work/keys-fifo"/offline/*; do
    [ -f "$k" ] || continue
    rm -f "$k" && mkfifo -m 600 "$k"
done
expect_rc_any() { # expect_rc_any DESC CMD...: any failure but 124 (timeout)
    _d=$1
    shift
    "$@" >"$work/out" 2>"$work/err"
    _rc=$?
    if [ $_rc -ne 0 ] && [ $_rc -ne 124 ]; then ok "$_d (exit $_rc)"; else
        bad "$_d: exit $_rc"
        cat "$work/err"
    fi
}
expect_rc_any "zupd-mirror with FIFO key files: refused at once" \
    timeout 10 "$MIRROR" publish product 3.0 "$work/v2" -C "$work/repo" --keys "$work/keys-fifo"
cat "$work/err" | head -3

# ---------------------------------------------------------------- others' writes
# the state directory
chmod g+w "$work/state"
expect_rc 27 "a group-writable state directory is refused" $Z status
check "its message" "$(cat "$work/err")" "'$work/state' is writable by group or others \(mode 0775\): refused"
chmod g-w,o+w "$work/state"
expect_rc 27 "a world-writable state directory is refused" $Z update
chmod o-w "$work/state"
expect_rc 0 "the state directory as it was: accepted" $Z status
mv "$work/state" "$work/state-real" && ln -s "$work/state-real" "$work/state"
expect_rc 27 "a symlinked state directory is refused" $Z status
check "its message" "$(cat "$work/err")" "state directory '$work/state' is a symbolic link: refused"
rm "$work/state" && mv "$work/state-real" "$work/state"
if [ "$(id -u)" = 0 ]; then
    chown nobody "$work/state"
    expect_rc 27 "a state directory owned by another user is refused" $Z status
    check "its message" "$(cat "$work/err")" "owned by uid [0-9]+ \(neither root nor this user\)"
    chown root "$work/state"
else
    skip_part owner "chown needs root"
fi
# the configuration
chmod o+w "$work/zupd.conf"
expect_rc 1 "a world-writable zupd.conf is refused" $Z status
check "its message" "$(cat "$work/err")" "'$work/zupd.conf' is writable by group or others"
chmod o-w "$work/zupd.conf"
ln -s "$work/zupd.conf" "$work/link.conf"
expect_rc 1 "a symlinked zupd.conf is refused" $ZUPD --config "$work/link.conf" status
check "its message" "$(cat "$work/err")" "'$work/link.conf' is a symbolic link: refused"
# the trusted root (read on the first run of a state directory)
cp "$work/repo/metadata/1.root.json" "$work/root.json"
chmod 664 "$work/root.json"
sed "s|trusted_root = \"[^\"]*\"|trusted_root = \"$work/root.json\"|; s|$work/state|$work/state-root|" \
    "$work/zupd.conf" >"$work/root.conf"
expect_rc 27 "a group-writable trusted root is refused" $ZUPD --config "$work/root.conf" check
check "its message" "$(cat "$work/err")" "trusted root: '$work/root.json' is writable by group or others"
chmod 644 "$work/root.json"
ln -s "$work/root.json" "$work/root-link.json"
sed -i "s|$work/root.json|$work/root-link.json|" "$work/root.conf"
expect_rc 27 "a symlinked trusted root is refused" $ZUPD --config "$work/root.conf" check
sed -i "s|$work/root-link.json|$work/root.json|" "$work/root.conf"
expect_rc 100 "the trusted root as it should be: accepted" $ZUPD --config "$work/root.conf" check

# ---------------------------------------------------------------- install path
# an install path that is a directory: refused before `current` moves, and
# refused again on the next run (not "up to date")
sed "s|$work/opt-product|$work/opt-dir|; s|$work/state|$work/state-dir|" "$work/zupd.conf" |
    sed "s|http://127.0.0.1:$slow_port/slow/repo/|http://127.0.0.1:$PORT/|" >"$work/dir.conf"
mkdir -p "$work/opt-dir/old"
expect_rc 31 "an install path that is a directory: the update fails" $ZUPD --config "$work/dir.conf" update
check "its message" "$(cat "$work/err")" "install_path '$work/opt-dir' exists and is not a symlink"
[ -e "$work/state-dir/components/product/current" ] \
    && bad "current moved although the install path could not" \
    || ok "current did not move"
expect_rc 31 "the next run fails the same way (not up to date)" $ZUPD --config "$work/dir.conf" update
[ -d "$work/opt-dir/old" ] && ok "the directory is untouched" || bad "the directory was changed"
rm -r "$work/opt-dir"
expect_rc 0 "with the directory gone the update succeeds" $ZUPD --config "$work/dir.conf" update
diff -r "$work/v1" "$work/opt-dir/" >/dev/null && ok "install path holds 1.0" \
    || bad "install path is not 1.0"

finish
