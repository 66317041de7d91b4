# SPDX-License-Identifier: Apache-2.0
# tests/integration/tuf_lib.sh -- sourced by the TUF attack tests: a hostile
# server (tuf_server.py) over a temporary directory, repositories made with
# tufrepo, one copy of a synced repository + client per case, and checks of
# the exit code and of the trusted metadata on disk.
#
# Each case: case_begin NAME (copies the base: repository in $C/r, client
# state in $C/state, config $C/zupd.conf with mirror "evil" unless `mirrors`
# says otherwise), stage the attack with tufrepo ($T) and rules, then
#   attack CODE [FILE...]   zupd check must exit CODE and leave every file of
#                           $C/state/metadata byte-for-byte unchanged except
#                           the FILEs named (genuine files the spec persists)
#   accept CODE ROLE=VERSION...   zupd check exits CODE and trusts those versions
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir/build}
T=$top_builddir/tests/integration/tufrepo
ZUPD=$top_builddir/updater/zupd
SERVER=$top_srcdir/tests/integration/tuf_server.py

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
no_proxy='*'; NO_PROXY='*'; export no_proxy NO_PROXY

command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
[ -x "$T" ] && [ -x "$ZUPD" ] || { echo "tufrepo or zupd not built"; exit 99; }
tmp=$(mktemp -d)
srv_pid=
cleanup() {
    [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

python3 "$SERVER" "$tmp" >"$tmp/srv.out" 2>"$tmp/srv.err" &
srv_pid=$!
i=0
while [ ! -s "$tmp/srv.out" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
read -r _ port <"$tmp/srv.out" || { echo "server did not start"; cat "$tmp/srv.err"; exit 1; }
u=http://127.0.0.1:$port

# every tufrepo call goes through a wrapper: a failed staging fails the script
real_T=$T
T=$tmp/tufrepo
cat >"$T" <<EOF
#!/bin/sh
"$real_T" "\$@" && exit 0
rc=\$?
echo "tufrepo \$* failed (exit \$rc)" >&2
echo "tufrepo \$*" >>"$tmp/tufrepo-failed"
exit \$rc
EOF
chmod +x "$T"

pass=0 fail=0 n=0 C= NAME= MIRRORS="evil"
results=$tmp/results

ok() { echo "ok: $NAME: $*"; pass=$((pass + 1)); }
bad() {
    echo "FAIL: $NAME: $*"
    fail=$((fail + 1))
    [ -f "$C/err" ] && sed 's/^/    stderr: /' "$C/err" | head -n 8
}

# Client config for case directory $1 with mirrors named by the rest.
write_conf() {
    d=$1
    shift
    list=
    for m in "$@"; do list="$list${list:+, }\"$u/$m/${d#"$tmp"/}/r/repo/\""; done
    cat >"$d/zupd.conf" <<EOF
mirrors = [ $list ];
trusted_root = "$d/r/repo/metadata/1.root.json";
state_dir = "$d/state";
connect_timeout = 2;
low_speed_time = 2;
low_speed_limit = 100;
components = ( { name = "product"; role = "products"; channel = "stable";
                 install_path = "$d/install/product"; } );
EOF
}

# publish_channel DIR VERSION: a signed channel pointer stable -> VERSION
publish_channel() {
    printf '{"zupd_channel":1,"component":"product","channel":"stable","version":"%s"}' "$2" \
        >"$1/pointer.json"
    "$T" add-target "$1" products products/product/channels/stable.json "$1/pointer.json" &&
        "$T" publish "$1"
}

# make_base NAME [init options]: a repository on channel 1.0 and a client in sync
make_base() {
    b=$tmp/$1
    shift
    mkdir -p "$b"
    "$T" init "$b/r" "$@" && publish_channel "$b/r" 1.0 || { echo "cannot build $b"; exit 99; }
    write_conf "$b" good
    "$ZUPD" --config "$b/zupd.conf" check >"$b/out" 2>"$b/err"
    rc=$?
    [ $rc -eq 100 ] || { echo "base $b: check exited $rc"; cat "$b/err"; exit 99; }
}

# case_begin NAME [BASE]: a fresh copy of the base for one case
case_begin() {
    NAME=$1
    n=$((n + 1))
    C=$tmp/c$n
    cp -a "$tmp/${2:-base}" "$C"
    rm -f "$C/out" "$C/err"
    # verified targets cached by the base's check would never be fetched
    # again: the hostile mirror must get its chance to serve them
    rm -f "$C"/state/cache/t-*
    MIRRORS="evil"
    write_conf "$C" evil
    RULES=
    rules_apply
}

# mirrors NAME...: the case's client uses these mirrors, in order
mirrors() { MIRRORS="$*"; write_conf "$C" "$@"; }

# rule MIRROR PATH MODE [KEY=VALUE...]: PATH relative to the case's repo/
rule() {
    m=$1 p=$2 mode=$3
    shift 3
    r="{\"mirror\":\"$m\",\"path\":\"${C#"$tmp"/}/r/repo/$p\",\"mode\":\"$mode\""
    for kv in "$@"; do r="$r,\"${kv%%=*}\":\"${kv#*=}\""; done
    RULES="$RULES${RULES:+,}$r}"
    rules_apply
}
rules_apply() {
    printf '[%s]\n' "$RULES" >"$tmp/rules.tmp"
    mv "$tmp/rules.tmp" "$tmp/rules.json"
}
norules() { RULES=; rules_apply; }

zcheck() {
    "$ZUPD" --config "$C/zupd.conf" check >"$C/out" 2>"$C/err"
}

sums() { (cd "$C/state/metadata" && sha256sum -- * 2>/dev/null); }

# version of a trusted role on disk
tv() { "$T" show "$C/state/metadata/$1.json" 2>/dev/null | cut -d' ' -f2; }

record() { printf '%s|%s|%s|%s\n' "$NAME" "$1" "$2" "$3" >>"$results"; }

attack() {
    want=$1
    shift
    sums >"$C/before"
    t0=$(date +%s%3N)
    zcheck
    rc=$?
    el=$(( $(date +%s%3N) - t0 ))
    sums >"$C/after"
    changed=$(diff "$C/before" "$C/after" | sed -n 's/^[<>] [0-9a-f]*  //p' | sort -u)
    unexpected=
    for f in $changed; do
        allowed=no
        for a in "$@"; do [ "$f" = "$a" ] && allowed=yes; done
        [ $allowed = yes ] || unexpected="$unexpected $f"
    done
    if [ "$rc" -ne "$want" ]; then
        bad "exit $rc, expected $want (${el} ms)"
        record "$want" "$rc" FAIL
    elif [ -n "$unexpected" ]; then
        bad "trusted metadata changed:$unexpected"
        record "$want" "$rc" FAIL
    else
        ok "exit $rc, trusted metadata unchanged${1:+ but for the genuine $*} (${el} ms)"
        record "$want" "$rc" ok
    fi
}

accept() {
    want=$1
    shift
    zcheck
    rc=$?
    if [ "$rc" -ne "$want" ]; then
        bad "exit $rc, expected $want"
        record "$want" "$rc" FAIL
        return 1
    fi
    for rv in "$@"; do
        got=$(tv "${rv%%=*}")
        if [ "$got" != "${rv#*=}" ]; then
            bad "trusted ${rv%%=*} is version '$got', expected ${rv#*=}"
            record "$want" "$rc" FAIL
            return 1
        fi
    done
    ok "exit $rc, trusted $*"
    record "$want" "$rc" ok
}

# channel the client sees: the version in "channel 'stable' names X"
check_names() {
    if grep -q "names $1" "$C/out"; then ok "channel names $1"; else bad "channel does not name $1: $(cat "$C/out")"; fi
}

finish() {
    if [ -s "$tmp/tufrepo-failed" ]; then
        echo "FAIL: staging: $(cat "$tmp/tufrepo-failed")"
        fail=$((fail + 1))
    fi
    echo "$pass passed, $fail failed"
    [ -n "${TUF_RESULTS:-}" ] && cat "$results" >>"$TUF_RESULTS"
    [ "$fail" -eq 0 ]
}
