#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/update_limits.sh -- what a signed release may ask of an
# endpoint's disk (issue 14): a release with a file over max_file_size or a
# total over max_release_size is refused before any byte of it is
# downloaded (the server's request log shows no blob asked for) and leaves
# nothing in the cache; a release that does not fit the free space is
# refused before any download with a message naming the directory, the
# bytes needed and free (as root, on a small tmpfs; SKIP-PART otherwise).
set -u
. "$(dirname "$0")/lib.sh"
need python3
test_init limits
at_exit 'umount "$work/small" 2>/dev/null'

init_repo || exit 1
start_fixture srv repo "$work" || exit 1
make_tree "$work/v1" 1.0 10
publish product 1.0 "$work/v1" && promote product 1.0 stable || exit 1

# conf NAME [SETTINGS]: $work/NAME.conf, state in $work/NAME, mirror "m"
conf() {
    cat >"$work/$1.conf" <<EOF
mirrors = [ "http://127.0.0.1:$srv_port/m/repo/" ];
trusted_root = "$work/repo/metadata/1.root.json";
state_dir = "$work/$1";
low_speed_time = 5;
${2:-}
components = ( { name = "product"; role = "products"; channel = "stable";
                 install_path = "$work/opt-$1"; } );
EOF
}
get() { python3 -c "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())" "http://127.0.0.1:$srv_port/$1"; }
reset_log() { get _reset >/dev/null; }
blob_requests() { get _log | grep -c ' repo/blobs/'; }
# nothing of the release in the cache: no blob, no partial (metadata only)
cache_clean() { [ -z "$(ls "$work/$1/cache" 2>/dev/null | grep -v '^t-')" ]; }

total=$(find "$work/v1" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
app=$(stat -c %s "$work/v1/bin/app")

# a file over max_file_size (bin/app, 200 KB, over 100 KB)
conf file "max_file_size = 100000;"
reset_log
expect_rc 12 "a file over max_file_size is refused (toobig)" $ZUPD --config "$work/file.conf" update
check "the error names the file, its size and the cap" "$(cat "$work/err")" \
    "'bin/app' is $app bytes, over max_file_size \(100000\)"
eq "no blob asked for" "$(blob_requests)" 0
cache_clean file && ok "nothing in the cache" || bad "cache: $(ls "$work/file/cache")"
[ ! -e "$work/opt-file" ] && ok "nothing installed" || bad "installed"

# a release over max_release_size, each file under max_file_size
conf release "max_release_size = $((total - 1));"
reset_log
expect_rc 12 "a release over max_release_size is refused (toobig)" \
    $ZUPD --config "$work/release.conf" update
check "the error names the size and the cap" "$(cat "$work/err")" \
    "$total bytes, over max_release_size \($((total - 1))\)"
eq "no blob asked for" "$(blob_requests)" 0
cache_clean release && ok "nothing in the cache" || bad "cache: $(ls "$work/release/cache")"

# the caps at the release's size, and the defaults: installed
conf exact "max_file_size = $app; max_release_size = $total;"
reset_log
expect_rc 0 "a release at the caps is installed" $ZUPD --config "$work/exact.conf" update
[ "$(blob_requests)" -gt 0 ] && ok "the request log sees blob downloads" || bad "no blob in the log"
conf default
expect_rc 0 "the default caps install it" $ZUPD --config "$work/default.conf" update
conf unit "max_file_size = \"100K\";"
expect_rc 12 "max_file_size as a string with a unit" $ZUPD --config "$work/unit.conf" update
check "100K is 102400 bytes" "$(cat "$work/err")" "over max_file_size \(102400\)"
conf zero "max_file_size = 0;"
expect_rc 1 "max_file_size = 0 is a configuration error" $ZUPD --config "$work/zero.conf" update
check "the error names the key" "$(cat "$work/err")" "max_file_size"

# the cache is kept under max_cache_size, oldest files first: a stale
# 300 KB leftover partial (of a release long gone) is evicted
conf cache "max_cache_size = 150000;"
mkdir -p "$work/cache/cache"
head -c 300000 /dev/urandom >"$work/cache/cache/$(printf '%064d' 0).part"
touch -d '2020-01-01' "$work/cache/cache/$(printf '%064d' 0).part"
expect_rc 0 "install with max_cache_size = 150000" $ZUPD --config "$work/cache.conf" update
[ ! -e "$work/cache/cache/$(printf '%064d' 0).part" ] && ok "the stale leftover is evicted" ||
    bad "the stale leftover is still there"
used=$(find "$work/cache/cache" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
[ "$used" -le 150000 ] && ok "cache holds $used bytes (cap 150000)" || bad "cache holds $used bytes (cap 150000)"

# free space: a release that does not fit is refused before any download.
# statvfs made to report 40 KiB (the LD_PRELOAD shim of the crash tests)
shim=$top_builddir/tests/integration/.libs/libfaultinject.so
ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0:detect_leaks=0"
export ASAN_OPTIONS
conf fake
reset_log
expect_rc 32 "statvfs says 40 KiB free: refused (nospace)" \
    env LD_PRELOAD="$shim" ZUPD_FAKE_FREE=40960 $ZUPD --config "$work/fake.conf" update
check "the error names the directory, the bytes needed and free" "$(cat "$work/err")" \
    "not enough space for .* in '$work/fake': [0-9]+ bytes needed, 40960 free"
eq "no blob asked for" "$(blob_requests)" 0
cache_clean fake && ok "nothing in the cache" || bad "cache: $(ls "$work/fake/cache")"

# a real small disk (root only: a tmpfs)
if [ "$(id -u)" = 0 ] && mkdir -p "$work/small" &&
    mount -t tmpfs -o size=600k tmpfs "$work/small" 2>/dev/null; then
    make_tree "$work/v2" 2.0 10
    head -c 2000000 /dev/urandom >"$work/v2/bin/huge"
    publish product 2.0 "$work/v2" && promote product 2.0 stable || exit 1
    conf small
    sed -i "s|state_dir = \"$work/small\"|state_dir = \"$work/small/state\"|" "$work/small.conf"
    reset_log
    expect_rc 32 "a release larger than the free space is refused (nospace)" \
        $ZUPD --config "$work/small.conf" update
    check "the error names the directory, the bytes needed and free" "$(cat "$work/err")" \
        "not enough space for .* in '$work/small/state': [0-9]+ bytes needed, [0-9]+ free"
    eq "no blob asked for" "$(blob_requests)" 0
    cache_clean small/state && ok "nothing in the cache" || bad "cache: $(ls "$work/small/state/cache")"
    # statvfs lies (10 GB free): the disk fills during the download; the
    # partial that cannot go on must not keep the state disk full
    expect_rc 32 "the disk fills during the download (nospace)" \
        env LD_PRELOAD="$shim" ZUPD_FAKE_FREE=10000000000 $ZUPD --config "$work/small.conf" update
    eq "no partial download left" "$(ls "$work/small/state/cache" | grep -c '\.part$')" 0
    umount "$work/small"
else
    skip_part small-disk "the small-disk cases run only as root, on a tmpfs they mount (uid $(id -u))"
fi
finish
