#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/tlog_endpoint.sh -- the endpoint's transparency-log check
# (docs/transparency.md, "The endpoint's check"): a real zupd-mirror
# repository with its log, served by zupd-mirror serve on 127.0.0.1, and a
# real zupd with a `log` group in zupd.conf. It installs logged releases and
# switches back to an installed one (rollback, checked too); it refuses, with
# the endpoint's exit code (10 + enum zupd_err) and the version installed
# left whole, a release signed but not in the log (no index; an index whose
# entry is another), a checkpoint signed by another key, a log rolled back
# to a smaller tree, a forked log (the same log key signing another tree of
# the same size), a tampered tile, a missing checkpoint, a wrong origin,
# too few witness cosignatures (the witnesses' cosignature/v1 lines are made
# by notetool); a configuration without a log works as before.
set -u
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
test_init tlog-endpoint
NT=$top_builddir/tests/integration/notetool
[ -x "$NT" ] || skip "tests/integration/notetool is not built"
M=$MIRROR
ZUPD_KDF_COST=min ZUPD_PASSPHRASE=pw
export ZUPD_KDF_COST ZUPD_PASSPHRASE
unset ZUPD_MIRROR_NOW ZUPD_MIRROR_CRASH_AT ZUPD_MIRROR_REPO ZUPD_MIRROR_KEYS
R=$work/repo K=$work/keys W=$work/web

mkdir -p "$work/in" "$W"
pub() { # pub REPO COMPONENT VERSION CONTENT: publish and promote to stable
    echo "$4" >"$work/in/a"
    "$M" publish "$2" "$3" "$work/in" -C "$1" --keys "$K" >"$work/pub.log" 2>&1 &&
        "$M" promote "$2" "$3" --channel stable -C "$1" --keys "$K" >>"$work/pub.log" 2>&1 ||
        { bad "publish $2 $3 in $1" && cat "$work/pub.log"; }
}
size() { sed -n 2p "$1/log/checkpoint"; }
put() { # put REPO: the served tree becomes a copy of REPO
    rm -rf "${W:?}"/* && cp -a "$1"/. "$W"/
}
state() { # state NAME: the endpoint's state becomes the saved one
    rm -rf "$work/state" && cp -a "$work/saved-$1" "$work/state"
}
save() { rm -rf "$work/saved-$1" && cp -a "$work/state" "$work/saved-$1"; }
on() { # on CONTENT: the installed tree is that release's, whole
    [ "$(cat "$work/opt/a" 2>/dev/null)" = "$1" ] && ok "installed tree is still '$1'" ||
        bad "installed tree is '$(cat "$work/opt/a" 2>/dev/null)', want '$1'"
}
flip() { # flip FILE OFFSET
    python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[int(sys.argv[2])]^=1; open(p,"wb").write(b)' "$1" "$2"
}
conf() { # conf [LOG SETTINGS]: zupd.conf with a log group ("-" for none)
    if [ "${1:-}" = - ]; then _log=""; else _log="log = { key = \"$(cat "$R/log/vkey")\"; ${1:-} };"; fi
    cat >"$work/zupd.conf" <<EOF
mirrors = [ "http://127.0.0.1:$SPORT/" ];
trusted_root = "$R/metadata/1.root.json";
state_dir = "$work/state";
low_speed_time = 5;
log_syslog = false;
components = (
  { name = "app"; role = "products"; channel = "stable"; install_path = "$work/opt"; keep = 5; }
);
$_log
EOF
}
Z() { "$ZUPD" --config "$work/zupd.conf" "$@"; }

# ---------------------------------------------------------------- the repositories
"$M" init "$R" --keys "$K" --same-passphrase >"$work/init.log" 2>&1 || { cat "$work/init.log"; exit 1; }
ORIGIN=$(cut -d+ -f1 "$R/log/vkey")
pub "$R" app 1.0 one
cp -a "$R" "$work/r1"
pub "$R" app 2.0 two
cp -a "$R" "$work/r2"
cat "$R"/metadata/*.products.json | grep -q '"custom":{"zupd_log":{"index":3}}' &&
    ok "publisher: the target of 2.0 carries its log index, signed" ||
    bad "publisher: no zupd_log index in products.json"
pub "$R" app 3.0 three
cp -a "$R" "$work/r3"
pub "$R" app 4.0 four
cp -a "$R" "$work/r4"
eq "log size after 4 releases" "$(size "$R")" 9
# a release the vendor signed with the log out of the way: no index
cp -a "$work/r2" "$work/nolog"
mv "$work/nolog/log" "$work/log-aside" && mv "$K/online/log.key" "$work/log.key-aside"
pub "$work/nolog" app 3.0 three-unlogged
mv "$work/log-aside" "$work/nolog/log" && mv "$work/log.key-aside" "$K/online/log.key"
# a release logged, then the log reset under it: its index names another entry
cp -a "$work/r2" "$work/reset"
cp -a "$work/reset/log" "$work/log5"
pub "$work/reset" app 3.0 three-reset
rm -rf "$work/reset/log" && cp -a "$work/log5" "$work/reset/log"
pub "$work/reset" tool 1.0 tool
# the vendor's rollback of stable to 2.0: logged, and signed but not logged
cp -a "$work/r3" "$work/vroll"
"$M" promote app 2.0 --channel stable --rollback -C "$work/vroll" --keys "$K" >/dev/null 2>&1 || bad "promote --rollback"
cp -a "$work/r3" "$work/sroll"
mv "$work/sroll/log" "$work/log-aside" && mv "$K/online/log.key" "$work/log.key-aside"
"$M" promote app 2.0 --channel stable --rollback -C "$work/sroll" --keys "$K" >/dev/null 2>&1 || bad "promote --rollback"
mv "$work/log-aside" "$work/sroll/log" && mv "$work/log.key-aside" "$K/online/log.key"
# the same log key, another history after size 5: a fork at size 7
cp -a "$work/r2" "$work/fork"
pub "$work/fork" app 4.0 four-fork
cp -a "$work/fork/log" "$work/fork-log7"
# versions of its metadata above r3's (a new root version: logged, size 8), so that TUF takes them (no log entry)
"$M" refresh --force --offline -C "$work/fork" --keys "$K" >/dev/null 2>&1 || bad "refresh fork"
eq "the fork had the size of r3" "$(sed -n 2p "$work/fork-log7/checkpoint")" "$(size "$work/r3")"
[ "$(sed -n 3p "$work/fork-log7/checkpoint")" != "$(sed -n 3p "$work/r3/log/checkpoint")" ] &&
    ok "the fork has another root" || bad "the fork has the same root"

serve_tree "$W" || exit 1

# ---------------------------------------------------------------- no log configured
put "$work/r1"
conf -
expect_rc 0 "no log configured: installs 1.0 as before" Z update
on one
[ ! -e "$work/state/log" ] && ok "no log: nothing of the log in the state" || bad "no log: state/log made"
rm -rf "$work/state" "$work/opt"

# ---------------------------------------------------------------- logged releases install
conf
expect_rc 0 "install 1.0, logged" Z update
on one
eq "stored checkpoint: the mirror's" "$(cat "$work/state/log/checkpoint")" "$(cat "$work/r1/log/checkpoint")"
expect_rc 0 "status" Z status
check "status shows the trusted checkpoint" "$(cat "$work/out")" "log: $ORIGIN, checkpoint size 3, root [A-Za-z0-9+/=]+, cosigned by 0 of quorum 0"
expect_rc 0 "status --json" Z status --json
check "status --json: log" "$(tr -d ' \n' <"$work/out")" "\"log\":\\{\"origin\":\"$ORIGIN\",\"size\":3,\"root\":\"[A-Za-z0-9+/=]+\",\"cosigners\":\\[\\],\"quorum\":0\\}"
put "$work/r2"
expect_rc 0 "update to 2.0, logged and consistent" Z update
on two
eq "stored checkpoint moved to size 5" "$(sed -n 2p "$work/state/log/checkpoint")" 5
ls "$work/state/log/tiles" >"$work/tiles"
eq "tile cache: the partial tile of width 5 only (width 3 pruned)" "$(cat "$work/tiles")" "tile-0-000.p-5"
save s2
flip "$work/state/log/tiles/tile-0-000.p-5" 3
expect_rc 0 "rollback to the installed 1.0: checked, in the log (a damaged cached tile fetched again)" \
    Z rollback app --to 1.0
on one
cmp -s "$work/state/log/tiles/tile-0-000.p-5" "$W/log/tile/0/000.p/5" && ok "the cached tile repaired" ||
    bad "the damaged cached tile is still there"
expect_rc 0 "release the hold" Z release app
expect_rc 0 "update: back to the installed 2.0 (a switch, checked)" Z update
on two

# ---------------------------------------------------------------- refusals
state s2
put "$work/nolog"
expect_rc 25 "a release signed without a log index" Z update
check "names the log and the release" "$(cat "$work/err")" "log '$ORIGIN'.*products/app/3.0/manifest.json.*without a log index"
on two

state s2
put "$work/reset"
expect_rc 25 "a release signed but not in the log (its index is another entry)" Z update
check "says it is not in the log" "$(cat "$work/err")" "log '$ORIGIN': entry 5 of the checkpoint of size 7 is not release 'products/app/3.0/manifest.json'.*not in the log"
on two
cmp -s "$work/state/log/checkpoint" "$work/saved-s2/log/checkpoint" && ok "refused: stored checkpoint unchanged" ||
    bad "refused, yet the stored checkpoint changed"

state s2
put "$work/r3"
"$NT" resign "$ORIGIN" not-the-log-key "$W/log/checkpoint" || bad "notetool resign"
expect_rc 13 "a checkpoint signed by another key of the same name" Z update
check "not signed by the log key" "$(cat "$work/err")" "log '$ORIGIN' is not signed by key '$ORIGIN'"
on two

state s2
put "$work/r3"
rm "$W/log/checkpoint"
expect_rc 25 "no checkpoint on the mirror" Z update
check "names the checkpoint" "$(cat "$work/err")" "log '$ORIGIN': cannot fetch its checkpoint 'log/checkpoint'"
on two
expect_rc 25 "rollback to 1.0 without a checkpoint: refused too" Z rollback app --to 1.0
on two

state s2
put "$work/r3"
conf 'origin = "updates.example.com/zupd/log";'
expect_rc 29 "a wrong origin" Z update
check "names the origin" "$(cat "$work/err")" "checkpoint of log 'updates.example.com/zupd/log' names origin '$ORIGIN'"
on two
conf

state s2
put "$work/r3"
expect_rc 0 "update to 3.0" Z update
on three
save s3

state s3
put "$work/sroll"
expect_rc 25 "a channel pointer signed but not logged (a targeted rollback to a logged release)" Z update
check "names the pointer" "$(cat "$work/err")" "log '$ORIGIN': 'products/app/channels/stable.json' is signed without a log index"
on three
state s3
put "$work/vroll"
expect_rc 0 "the vendor's logged rollback: release and pointer proven, switched to 2.0" Z update
on two

state s3
put "$work/r4"
cp "$work/r1/log/checkpoint" "$W/log/checkpoint"
expect_rc 16 "a log rolled back to a smaller tree" Z update
check "says rolled back" "$(cat "$work/err")" "log '$ORIGIN': the mirror's checkpoint \\(size 3\\) is older than the one this endpoint trusts \\(size 7\\)"
on three

state s3
put "$work/fork"
expect_rc 16 "a forked log: the same key, a longer tree not consistent with the stored one" Z update
check "says fork" "$(cat "$work/err")" "log '$ORIGIN': the checkpoint of size 8 is not consistent with the one this endpoint trusts \\(size 7\\): a fork"
on three
state s3
put "$work/r3"
rm -rf "$W/log" && cp -a "$work/fork-log7" "$W/log"
expect_rc 16 "a forked log, the same size, another root: an admin rollback is refused" Z rollback app --to 2.0
check "says fork" "$(cat "$work/err")" "log '$ORIGIN'.*size 7 has another root.*fork"
on three

state s2
put "$work/fork"
expect_rc 0 "the fork's branch alone is consistent with what a 2.0 endpoint saw" Z update
on four-fork
put "$work/r4"
state s3
flip "$W/log/tile/0/000.p/9" 5
expect_rc 17 "a tampered tile" Z update
check "says bad tile" "$(cat "$work/err")" "log '$ORIGIN'.*bad tile"
on three

# ---------------------------------------------------------------- witnesses
W1=$("$NT" vkey witness witness-one.example w1) W2=$("$NT" vkey witness witness-two.example w2)
conf "witnesses = [ \"$W1\", \"$W2\" ]; quorum = 2;"
state s3
put "$work/r4"
"$NT" cosign witness-one.example w1 1767225600 "$W/log/checkpoint" || bad "notetool cosign"
expect_rc 14 "one witness of a quorum of 2" Z update
check "says n of quorum" "$(cat "$work/err")" "checkpoint of log '$ORIGIN' \\(size 9\\) has 1 of 2 witness cosignatures"
on three
"$NT" cosign witness-two.example w2 1767225601 "$W/log/checkpoint" || bad "notetool cosign"
python3 - "$W/log/checkpoint" <<'PY'
import sys
p = sys.argv[1]
lines = open(p, encoding="utf-8").read().split("\n")
last = lines[-2]
lines[-2] = last[:-10] + ("A" if last[-10] != "A" else "B") + last[-9:]
open(p, "w", encoding="utf-8").write("\n".join(lines))
PY
expect_rc 13 "a bad cosignature of a known witness" Z update
put "$work/r4"
"$NT" cosign witness-one.example w1 1767225600 "$W/log/checkpoint" &&
    "$NT" cosign witness-two.example w2 1767225601 "$W/log/checkpoint" || bad "notetool cosign"
expect_rc 0 "quorum met: installs 4.0" Z update
on four
expect_rc 0 "status" Z status
check "status names the cosigners" "$(cat "$work/out")" "checkpoint size 9, .*cosigned by 2 of quorum 2: witness-one.example,witness-two.example"
expect_rc 1 "a quorum above the witnesses is a configuration error" sh -c "
    sed 's/quorum = 2/quorum = 3/' '$work/zupd.conf' >'$work/bad.conf' && '$ZUPD' --config '$work/bad.conf' status"
check "names the setting" "$(cat "$work/err")" "log.quorum"
finish tlog_endpoint
