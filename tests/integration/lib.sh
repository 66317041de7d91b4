# SPDX-License-Identifier: Apache-2.0
# tests/integration/lib.sh -- the one library every integration test sources
# (after git's t/test-lib.sh; also tests/bench/*.sh). Sourcing it only sets
# variables and defines functions; a test then calls what it needs:
#
#   counting   ok MSG, bad MSG, check NAME OUTPUT PATTERN..., eq NAME GOT WANT,
#              expect_rc WANT DESC CMD..., finish [LABEL] (prints "N passed,
#              N failed" and exits 0 or 1)
#   skipping   skip REASON (exit 77), need CMD... (skip when missing),
#              skip_or_fail FLAG REASON (fail instead when $FLAG is 1: .ci/run
#              sets ZUPD_TESTS_REQUIRE_* for what scripts/deps.sh installs:
#              NGINX, BSDIFF, FAKETIME, SYSTEMD, SOFTHSM),
#              skip_part NAME REASON (a part of a test did not run: a
#              "SKIP-PART:" line that scripts/test.sh counts as a skip)
#   work dir   test_init PREFIX [BASE]: $work (= $tmp) made, and removed on
#              exit after every process given to track_pid is killed and
#              every at_exit command has run
#   servers    free_port, wait_port PORT PID, start_serve NAME DIR [OPTIONS]
#              (zupd-mirror serve), find_nginx, start_nginx_conf DIR CONF
#              PORT, start_nginx DIR [WORKERS] (packaging/nginx/zupd-mirror.conf),
#              start_fixture NAME ROLE [ARGS] (tests/integration/fixture_server.py)
#   repository make_tree, start_repo, serve_tree, publish, promote, write_conf,
#              tree_is: a vendor repository made with zupd-mirror, served on
#              127.0.0.1, and an endpoint configuration for zupd
#   TUF        tuf_setup and the case helpers of the attack tests (tuf_*.sh)
#
# Variables: top_srcdir, top_builddir (from the environment of make check,
# else from the script's place), MIRROR, ZUPD, pass, fail. No request ever
# goes through a proxy.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir/build}
MIRROR=$top_builddir/mirror/zupd-mirror
ZUPD=$top_builddir/updater/zupd
FIXTURE=$top_srcdir/tests/integration/fixture_server.py

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
no_proxy='*'
NO_PROXY='*'
export no_proxy NO_PROXY

# ------------------------------------------------------------------ counting
pass=0
fail=0
# ok [MSG]: one check passed (silent without MSG); bad MSG: one failed.
# NAME, when set, prefixes the message (the TUF attack cases).
ok() {
    pass=$((pass + 1))
    [ $# -eq 0 ] || echo "ok: ${NAME:+$NAME: }$*"
}
bad() {
    fail=$((fail + 1))
    echo "FAIL: ${NAME:+$NAME: }$*"
    on_bad
}
on_bad() { :; } # a test may redefine it to print more after a failure

# check NAME OUTPUT PATTERN...: every extended-regex PATTERN is in OUTPUT
check() {
    _name=$1 _out=$2
    shift 2
    for _p in "$@"; do
        if ! printf '%s\n' "$_out" | grep -Eq -- "$_p"; then
            bad "$_name: '$_p' not in: $_out"
            return 1
        fi
    done
    ok "$_name"
}

# eq NAME GOT WANT
eq() {
    if [ "$2" = "$3" ]; then
        ok "$1"
    else
        bad "$1: got '$2', want '$3'"
    fi
}

# expect_rc WANT DESCRIPTION CMD...: CMD exits WANT; its output is kept in
# $work/out and $work/err
expect_rc() {
    _want=$1 _desc=$2
    shift 2
    "$@" >"$work/out" 2>"$work/err"
    _got=$?
    if [ "$_got" = "$_want" ]; then
        ok "$_desc (exit $_got)"
    else
        bad "$_desc: exit $_got, want $_want"
        sed 's/^/  | /' "$work/out" "$work/err"
    fi
}

# finish [LABEL]: the last line of every test; exit 0 when nothing failed
finish() {
    echo "${1:+$1: }$pass passed, $fail failed"
    [ "$fail" -eq 0 ] && exit 0
    exit 1
}

# ------------------------------------------------------------------ skipping
skip() {
    echo "SKIP: $*"
    exit 77
}

need() {
    for _c in "$@"; do
        command -v "$_c" >/dev/null 2>&1 || skip "$_c missing"
    done
}

# skip_or_fail FLAG REASON: skip, unless the environment variable FLAG is 1
# (CI promises the subject is there): then fail
skip_or_fail() {
    if [ "$(eval "echo \${$1:-0}")" = 1 ]; then
        echo "FAIL: $2 ($1=1: this must run here)"
        exit 1
    fi
    skip "$2"
}

# skip_part NAME REASON: a part of this test did not run; said loudly, and
# counted as a skip (of "<test>:NAME") by scripts/test.sh
skip_part() {
    _n=$1
    shift
    echo "SKIP-PART: $_n: $*"
}

# ------------------------------------------------------------------ work dir
LIB_PIDS=
LIB_AT_EXIT=
track_pid() { LIB_PIDS="$LIB_PIDS $*"; }
at_exit() { LIB_AT_EXIT="$LIB_AT_EXIT$*
"; }
lib_exit() {
    set +e # a failing cleanup command must not end the cleanup (set -e tests)
    for _p in $LIB_PIDS; do kill "$_p" 2>/dev/null; done
    wait 2>/dev/null
    eval "$LIB_AT_EXIT"
    [ -n "${work:-}" ] && rm -rf "$work"
}

# test_init PREFIX [BASE]: a fresh $work (also $tmp) under BASE (default
# $TMPDIR or /tmp), cleaned up on exit
test_init() {
    work=$(mktemp -d "${2:-${TMPDIR:-/tmp}}/zupd-$1.XXXXXX") || exit 99
    tmp=$work
    trap lib_exit EXIT
    trap 'exit 1' INT TERM
}

# ------------------------------------------------------------------ servers
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_port PORT [PID]: until 127.0.0.1:PORT accepts (10 s at most, and no
# longer than PID lives)
wait_port() {
    _i=0
    until python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 1)" 2>/dev/null; do
        _i=$((_i + 1))
        [ $_i -gt 100 ] && return 1
        [ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null && return 1
        sleep 0.1
    done
}

# make_serve_tree DIR [BIGMIB]: a repository-like tree for zupd-mirror serve:
# metadata, versioned metadata, blobs, a target with a hash prefix, a file
# a/b (for the encoded-slash test), a hidden temp file, symlinks out of the
# tree. Sets BLOB (the 300 KB blob) and MANIFEST, paths relative to DIR.
make_serve_tree() {
    _d=$1
    mkdir -p "$_d/blobs/sha256/ab" "$_d/a" "$_d/products/av/1.0" "$_d/products/av/channels"
    printf '{"signed":{"_type":"timestamp","version":1}}\n' >"$_d/timestamp.json"
    printf '{"signed":{"_type":"root","version":1}}\n' >"$_d/1.root.json"
    printf '{"signed":{"_type":"snapshot","version":3}}\n' >"$_d/3.snapshot.json"
    printf '{"version":"1.0"}\n' >"$_d/products/av/channels/stable.json"
    head -c 300000 /dev/urandom >"$_d/blobs/sha256/ab/ab00"
    BLOB=blobs/sha256/ab/ab00
    _h=$(printf 'manifest' | sha256sum | cut -d' ' -f1)
    printf '{"files":[]}\n' >"$_d/products/av/1.0/$_h.manifest.json"
    MANIFEST=products/av/1.0/$_h.manifest.json
    echo secret >"$_d/a/b"
    echo partial >"$_d/.zupd-tmp.12345678"
    ln -s /etc/passwd "$_d/passwd"
    ln -s /etc "$_d/etc"
    ln -s timestamp.json "$_d/ts-link.json"
    if [ -n "${2:-}" ]; then
        head -c $(($2 * 1048576)) /dev/urandom >"$_d/blobs/sha256/ab/big"
    fi
}

# start_serve NAME DIR [OPTIONS...]: zupd-mirror serve DIR on a free port of
# 127.0.0.1; sets NAME_pid and NAME_url (http or https); stderr in
# $tmp/NAME.err. Waits for its startup line (so no --quiet).
start_serve() {
    _name=$1 _dir=$2
    shift 2
    "$MIRROR" serve "$_dir" --listen 127.0.0.1:0 "$@" 2>"$tmp/$_name.err" &
    eval "${_name}_pid=$!"
    track_pid $!
    _i=0
    while ! grep -q 'on https*://' "$tmp/$_name.err" 2>/dev/null && [ $_i -lt 100 ]; do
        sleep 0.1
        _i=$((_i + 1))
    done
    _url=$(sed -n 's|.* on \(https*://[0-9.]*:[0-9]*\) .*|\1|p' "$tmp/$_name.err" | head -n 1)
    if [ -z "$_url" ]; then
        echo "zupd-mirror serve $_dir did not start:"
        cat "$tmp/$_name.err"
        return 1
    fi
    eval "${_name}_url=$_url"
}

# find_nginx: nginx on PATH or in /usr/sbin; sets NGINX, or returns 1
find_nginx() {
    NGINX=$(command -v nginx 2>/dev/null || true)
    [ -z "$NGINX" ] && [ -x /usr/sbin/nginx ] && NGINX=/usr/sbin/nginx
    [ -n "$NGINX" ]
}

# start_nginx_conf DIR CONF PORT: nginx (found by find_nginx) with prefix DIR
# and configuration CONF, waiting until it listens on PORT; sets nginx_pid.
# Returns 77 when nginx is not installed, 1 when it did not start (its
# errors printed).
start_nginx_conf() {
    find_nginx || return 77
    "$NGINX" -p "$1" -c "$2" -e "$1/error.log" 2>"$1/nginx.stderr" &
    nginx_pid=$!
    track_pid $nginx_pid
    if ! wait_port "$3" "$nginx_pid" || ! kill -0 "$nginx_pid" 2>/dev/null; then
        echo "nginx did not start:"
        cat "$1/nginx.stderr" "$1/error.log" 2>/dev/null
        nginx_pid=
        return 1
    fi
}

# start_nginx DIR [WORKERS]: nginx with the shipped server block
# (packaging/nginx/zupd-mirror.conf; port, root and log path replaced) as the
# current user, serving DIR; sets nginx_pid, nginx_url. Returns as
# start_nginx_conf.
start_nginx() {
    _n=$tmp/nginx
    mkdir -p "$_n"
    _port=$(free_port)
    sed -e "s|^\( *\)listen .*;|\1listen 127.0.0.1:$_port;|" \
        -e "s|^\( *\)root .*;|\1root $1;|" \
        -e "s|^\( *\)access_log .*;|\1access_log $_n/access.log;|" \
        "$top_srcdir/packaging/nginx/zupd-mirror.conf" >"$_n/site.conf"
    cat >"$_n/nginx.conf" <<EOF
user $(id -un) $(id -gn);
worker_processes ${2:-2};
daemon off;
pid $_n/nginx.pid;
error_log $_n/error.log;
events { worker_connections 4096; }
http {
    client_body_temp_path $_n/body;
    proxy_temp_path $_n/proxy;
    fastcgi_temp_path $_n/fastcgi;
    uwsgi_temp_path $_n/uwsgi;
    scgi_temp_path $_n/scgi;
    include $_n/site.conf;
}
EOF
    nginx_url=http://127.0.0.1:$_port
    start_nginx_conf "$_n" "$_n/nginx.conf" "$_port"
}

# start_fixture NAME ROLE [ARGS...]: tests/integration/fixture_server.py ROLE
# ARGS; sets NAME_pid, NAME_port and NAME_line (its first line, "PORT <port>
# ..."); output in $tmp/NAME.out and $tmp/NAME.err
start_fixture() {
    _name=$1
    shift
    python3 "$FIXTURE" "$@" >"$tmp/$_name.out" 2>"$tmp/$_name.err" &
    eval "${_name}_pid=$!"
    track_pid $!
    _i=0
    while [ ! -s "$tmp/$_name.out" ] && [ $_i -lt 300 ]; do
        sleep 0.1
        _i=$((_i + 1))
    done
    _line=$(head -n 1 "$tmp/$_name.out")
    case $_line in
    "PORT "[0-9]*) ;;
    *)
        echo "fixture server $* did not start"
        cat "$tmp/$_name.err"
        return 1
        ;;
    esac
    _port=${_line#PORT }
    eval "${_name}_line=\$_line ${_name}_port=${_port%% *}"
}

rss_kib() {
    awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"
}

# ------------------------------------------------------------------ repository
export ZUPD_PASSPHRASE=${ZUPD_PASSPHRASE:-e2e-test-passphrase}

# make_tree DIR SEED NFILES: a product tree; file contents depend on SEED
make_tree() {
    python3 - "$1" "$2" "$3" <<'PY'
import os, random, sys
d, seed, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
base = random.Random(1)            # the same "binary" in every version ...
blob = bytearray(base.randbytes(200_000))
r = random.Random(seed)            # ... with a few scattered changes per version
for _ in range(20):
    i = r.randrange(len(blob) - 8)
    blob[i:i + 8] = r.randbytes(8)
os.makedirs(os.path.join(d, "bin"), exist_ok=True)
os.makedirs(os.path.join(d, "share", "data"), exist_ok=True)
with open(os.path.join(d, "bin", "app"), "wb") as f:
    f.write(blob)
os.chmod(os.path.join(d, "bin", "app"), 0o755)
with open(os.path.join(d, "share", "VERSION"), "w") as f:
    f.write(seed + "\n")
for k in range(n):   # data files: most unchanged between versions
    v = seed if k % 7 == 0 else "stable"
    with open(os.path.join(d, "share", "data", "f%03d.txt" % k), "w") as f:
        f.write("data file %d version %s\n" % (k, v) * 20)
PY
}

# serve_tree DIR: zupd-mirror serve DIR on a free port of 127.0.0.1; sets
# SPORT (the server is killed on exit)
LIB_NSERVE=0
serve_tree() {
    LIB_NSERVE=$((LIB_NSERVE + 1))
    start_serve "srv$LIB_NSERVE" "$1" || return 1
    eval "SPORT=\${srv${LIB_NSERVE}_url##*:}"
}

# init_repo: a vendor repository in $work/repo, its keys in $work/keys
init_repo() {
    "$MIRROR" init "$work/repo" --keys "$work/keys" --same-passphrase >"$work/init.log" 2>&1 || {
        cat "$work/init.log"
        return 1
    }
}

# start_repo: init $work/repo, serve it; sets PORT
start_repo() {
    init_repo || return 1
    serve_tree "$work/repo" || return 1
    PORT=$SPORT
}

publish() { # publish COMPONENT VERSION DIR [ROLE]
    "$MIRROR" publish "$1" "$2" "$3" --role "${4:-products}" -C "$work/repo" --keys "$work/keys" \
        >"$work/publish.log" 2>&1 || {
        cat "$work/publish.log"
        return 1
    }
}

promote() { # promote COMPONENT VERSION CHANNEL [--rollback] [--role R]
    _c=$1 _v=$2 _ch=$3
    shift 3
    "$MIRROR" promote "$_c" "$_v" --channel "$_ch" "$@" -C "$work/repo" --keys "$work/keys" \
        >"$work/promote.log" 2>&1 || {
        cat "$work/promote.log"
        return 1
    }
}

# write_conf [HEALTH_CHECK]: $work/zupd.conf for the repository on PORT
write_conf() {
    _hc=""
    [ -n "${1:-}" ] && _hc="health_check = \"$1\";"
    cat >"$work/zupd.conf" <<EOF2
mirrors = [ "http://127.0.0.1:$PORT/" ];
trusted_root = "$work/repo/metadata/1.root.json";
state_dir = "$work/state";
low_speed_time = 5;
components = (
  { name = "product"; role = "products"; channel = "stable";
    install_path = "$work/opt-product"; keep = 3; $_hc }
);
EOF2
}

# tree_is VERSION_DIR: the install path holds exactly that tree
tree_is() {
    diff -r "$1" "$work/opt-product/" >/dev/null 2>&1
}

# ------------------------------------------------------------------ TUF attacks
# tuf_setup: for the TUF attack tests (tuf_*.sh): a hostile fixture server
# (role repo) over $tmp, and $T, tufrepo behind a wrapper that records every
# failed staging (tuf_finish fails the test then). Each case: case_begin NAME
# (copies the base: repository in $C/r, client state in $C/state, config
# $C/zupd.conf with mirror "evil" unless `mirrors` says otherwise), stage the
# attack with tufrepo ($T) and rules, then
#   attack CODE [FILE...]   zupd check must exit CODE and leave every file of
#                           $C/state/metadata byte-for-byte unchanged except
#                           the FILEs named (genuine files the spec persists)
#   accept CODE ROLE=VERSION...   zupd check exits CODE and trusts those versions
tuf_setup() {
    T=$top_builddir/tests/integration/tufrepo
    need python3
    [ -x "$T" ] && [ -x "$ZUPD" ] || {
        echo "tufrepo or zupd not built"
        exit 99
    }
    test_init tuf
    start_fixture srv repo "$tmp" || exit 1
    u=http://127.0.0.1:$srv_port

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
    n=0 C= NAME= MIRRORS="evil"
    results=$tmp/results
    # after a failed check of a case: the start of the client's stderr
    on_bad() {
        [ -n "$C" ] && [ -f "$C/err" ] && sed 's/^/    stderr: /' "$C/err" | head -n 8
        return 0
    }
}

# tuf_conf DIR MIRROR...: client config for case directory DIR with the mirrors named
tuf_conf() {
    _d=$1
    shift
    _list=
    for _m in "$@"; do _list="$_list${_list:+, }\"$u/$_m/${_d#"$tmp"/}/r/repo/\""; done
    cat >"$_d/zupd.conf" <<EOF
mirrors = [ $_list ];
trusted_root = "$_d/r/repo/metadata/1.root.json";
state_dir = "$_d/state";
connect_timeout = 2;
low_speed_time = 2;
low_speed_limit = 100;
components = ( { name = "product"; role = "products"; channel = "stable";
                 install_path = "$_d/install/product"; } );
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
    _b=$tmp/$1
    shift
    mkdir -p "$_b"
    "$T" init "$_b/r" "$@" && publish_channel "$_b/r" 1.0 || {
        echo "cannot build $_b"
        exit 99
    }
    tuf_conf "$_b" good
    "$ZUPD" --config "$_b/zupd.conf" check >"$_b/out" 2>"$_b/err"
    _rc=$?
    [ $_rc -eq 100 ] || {
        echo "base $_b: check exited $_rc"
        cat "$_b/err"
        exit 99
    }
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
    tuf_conf "$C" evil
    RULES=
    rules_apply
}

# mirrors NAME...: the case's client uses these mirrors, in order
mirrors() {
    MIRRORS="$*"
    tuf_conf "$C" "$@"
}

# rule MIRROR PATH MODE [KEY=VALUE...]: PATH relative to the case's repo/
rule() {
    _m=$1 _p=$2 _mode=$3
    shift 3
    _r="{\"mirror\":\"$_m\",\"path\":\"${C#"$tmp"/}/r/repo/$_p\",\"mode\":\"$_mode\""
    for _kv in "$@"; do _r="$_r,\"${_kv%%=*}\":\"${_kv#*=}\""; done
    RULES="$RULES${RULES:+,}$_r}"
    rules_apply
}
rules_apply() {
    printf '[%s]\n' "$RULES" >"$tmp/rules.tmp"
    mv "$tmp/rules.tmp" "$tmp/rules.json"
}
norules() {
    RULES=
    rules_apply
}

zcheck() {
    "$ZUPD" --config "$C/zupd.conf" check >"$C/out" 2>"$C/err"
}

sums() { (cd "$C/state/metadata" && sha256sum -- * 2>/dev/null); }

# version of a trusted role on disk
tv() { "$T" show "$C/state/metadata/$1.json" 2>/dev/null | cut -d' ' -f2; }

record() { printf '%s|%s|%s|%s\n' "$NAME" "$1" "$2" "$3" >>"$results"; }

# attack and accept leave want, rc and el (the time taken, ms) for the test
attack() {
    want=$1
    shift
    sums >"$C/before"
    t0=$(date +%s%3N)
    zcheck
    rc=$?
    el=$(($(date +%s%3N) - t0))
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

tuf_finish() {
    if [ -s "$tmp/tufrepo-failed" ]; then
        NAME= C=
        bad "staging: $(cat "$tmp/tufrepo-failed")"
    fi
    [ -n "${TUF_RESULTS:-}" ] && [ -f "$results" ] && cat "$results" >>"$TUF_RESULTS"
    finish
}
