# SPDX-License-Identifier: Apache-2.0
# tests/integration/e2e_lib.sh -- sourced by the end-to-end tests: a vendor
# repository made with zupd-mirror, served by zupd-mirror serve on 127.0.0.1,
# and an endpoint configuration for zupd. Needs $top_builddir and $work.
MIRROR=$top_builddir/mirror/zupd-mirror
ZUPD=$top_builddir/updater/zupd
export ZUPD_PASSPHRASE=e2e-test-passphrase
fails=0
checks=0

ok() { checks=$((checks + 1)); echo "ok: $*"; }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL: $*"; }
expect_rc() { # expect_rc WANT DESCRIPTION CMD...
    want=$1 desc=$2; shift 2
    "$@" > "$work/out" 2> "$work/err"; got=$?
    if [ "$got" = "$want" ]; then ok "$desc (exit $got)"; else
        bad "$desc: exit $got, want $want"; sed 's/^/  | /' "$work/out" "$work/err"; fi
}

free_port() {
    python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

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

# serve_tree DIR: zupd-mirror serve DIR on a free port of 127.0.0.1, waiting
# until it answers; sets SPORT and adds the server to SERVE_PIDS (stop_repo)
serve_tree() {
    SPORT=$(free_port)
    "$MIRROR" serve "$1" --listen "127.0.0.1:$SPORT" > "$work/serve-$SPORT.log" 2>&1 &
    SERVE_PIDS="${SERVE_PIDS:-} $!"
    for _ in $(seq 50); do
        curl -sf -o /dev/null "http://127.0.0.1:$SPORT/metadata/timestamp.json" && return 0
        sleep 0.1
    done
    echo "zupd-mirror serve $1 did not start"; cat "$work/serve-$SPORT.log"; return 1
}

# start_repo: init $work/repo, serve it; sets PORT
start_repo() {
    "$MIRROR" init "$work/repo" --keys "$work/keys" > "$work/init.log" 2>&1 || {
        cat "$work/init.log"; return 1; }
    serve_tree "$work/repo" || return 1
    PORT=$SPORT
}

stop_repo() {
    for p in ${SERVE_PIDS:-}; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
}

publish() { # publish COMPONENT VERSION DIR [ROLE]
    "$MIRROR" publish "$1" "$2" "$3" --role "${4:-products}" -C "$work/repo" --keys "$work/keys" \
        > "$work/publish.log" 2>&1 || { cat "$work/publish.log"; return 1; }
}

promote() { # promote COMPONENT VERSION CHANNEL [--rollback] [--role R]
    c=$1 v=$2 ch=$3; shift 3
    "$MIRROR" promote "$c" "$v" --channel "$ch" "$@" -C "$work/repo" --keys "$work/keys" \
        > "$work/promote.log" 2>&1 || { cat "$work/promote.log"; return 1; }
}

# write_conf [HEALTH_CHECK]
write_conf() {
    hc=""
    [ -n "${1:-}" ] && hc="health_check = \"$1\";"
    cat > "$work/zupd.conf" <<EOF2
mirrors = [ "http://127.0.0.1:$PORT/" ];
trusted_root = "$work/repo/metadata/1.root.json";
state_dir = "$work/state";
low_speed_time = 5;
components = (
  { name = "product"; role = "products"; channel = "stable";
    install_path = "$work/opt-product"; keep = 3; $hc }
);
EOF2
}

# tree_is VERSION_DIR: the install path holds exactly that tree
tree_is() {
    diff -r "$1" "$work/opt-product/" > /dev/null 2>&1
}
