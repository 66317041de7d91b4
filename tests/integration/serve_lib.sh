# SPDX-License-Identifier: Apache-2.0
# tests/integration/serve_lib.sh -- shared by serve.sh, serve_load.sh and
# tests/bench/serve.sh (sourced, not run): start zupd-mirror serve and nginx
# with packaging/nginx/zupd-mirror.conf on free ports of 127.0.0.1, build a
# repository-like tree, check helpers. Needs: top_srcdir, top_builddir, tmp.

# never a proxy: every request goes to 127.0.0.1 directly
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
no_proxy='*'
NO_PROXY='*'
export no_proxy NO_PROXY

mirror=$top_builddir/mirror/zupd-mirror
nginx_conf=$top_srcdir/packaging/nginx/zupd-mirror.conf

pass=0
fail=0
# check NAME OUTPUT PATTERN...: every extended-regex PATTERN is in OUTPUT
check() {
    name=$1 out=$2
    shift 2
    for p in "$@"; do
        if ! printf '%s\n' "$out" | grep -Eq -- "$p"; then
            echo "FAIL: $name: '$p' not in: $out"
            fail=$((fail + 1))
            return 1
        fi
    done
    echo "ok: $name"
    pass=$((pass + 1))
}
# eq NAME GOT WANT
eq() {
    if [ "$2" = "$3" ]; then
        printf "ok: %s\n" "$1"
        pass=$((pass + 1))
    else
        printf "FAIL: %s: got '%s', want '%s'\n" "$1" "$2" "$3"
        fail=$((fail + 1))
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# make_tree DIR [BIGMIB]: metadata, versioned metadata, blobs, a target with
# a hash prefix, a file a/b (for the encoded-slash test), a hidden temp file,
# symlinks out of the tree. BLOB is the path of the 300 KB blob.
make_tree() {
    d=$1
    mkdir -p "$d/blobs/sha256/ab" "$d/a" "$d/products/av/1.0" "$d/products/av/channels"
    printf '{"signed":{"_type":"timestamp","version":1}}\n' >"$d/timestamp.json"
    printf '{"signed":{"_type":"root","version":1}}\n' >"$d/1.root.json"
    printf '{"signed":{"_type":"snapshot","version":3}}\n' >"$d/3.snapshot.json"
    printf '{"version":"1.0"}\n' >"$d/products/av/channels/stable.json"
    head -c 300000 /dev/urandom >"$d/blobs/sha256/ab/ab00"
    BLOB=blobs/sha256/ab/ab00
    h=$(printf 'manifest' | sha256sum | cut -d' ' -f1)
    printf '{"files":[]}\n' >"$d/products/av/1.0/$h.manifest.json"
    MANIFEST=products/av/1.0/$h.manifest.json
    echo secret >"$d/a/b"
    echo partial >"$d/.zupd-tmp.12345678"
    ln -s /etc/passwd "$d/passwd"
    ln -s /etc "$d/etc"
    ln -s timestamp.json "$d/ts-link.json"
    if [ -n "${2:-}" ]; then
        head -c $(($2 * 1048576)) /dev/urandom >"$d/blobs/sha256/ab/big"
    fi
}

# start_mirror NAME DIR [OPTIONS...]: sets NAME_pid, NAME_url; output in $tmp/NAME.err
start_mirror() {
    name=$1 dir=$2
    shift 2
    "$mirror" serve "$dir" --listen 127.0.0.1:0 "$@" 2>"$tmp/$name.err" &
    eval "${name}_pid=$!"
    i=0
    while ! grep -q 'on https*://' "$tmp/$name.err" 2>/dev/null && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    _url=$(sed -n 's|.* on \(https*://[0-9.]*:[0-9]*\) .*|\1|p' "$tmp/$name.err" | head -n 1)
    if [ -z "$_url" ]; then
        echo "zupd-mirror serve did not start:"
        cat "$tmp/$name.err"
        return 1
    fi
    eval "${name}_url=$_url"
}

# start_nginx DIR [WORKERS]: nginx with the shipped server block (port, root
# and log path replaced) as the current user; sets nginx_pid, nginx_url.
start_nginx() {
    dir=$1 workers=${2:-2}
    command -v nginx >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
    command -v nginx >/dev/null 2>&1 || return 77
    n=$tmp/nginx
    mkdir -p "$n"
    port=$(free_port)
    sed -e "s|^\( *\)listen .*;|\1listen 127.0.0.1:$port;|" \
        -e "s|^\( *\)root .*;|\1root $dir;|" \
        -e "s|^\( *\)access_log .*;|\1access_log $n/access.log;|" \
        "$nginx_conf" >"$n/site.conf"
    cat >"$n/nginx.conf" <<EOF
user $(id -un) $(id -gn);
worker_processes $workers;
daemon off;
pid $n/nginx.pid;
error_log $n/error.log;
events { worker_connections 4096; }
http {
    client_body_temp_path $n/body;
    proxy_temp_path $n/proxy;
    fastcgi_temp_path $n/fastcgi;
    uwsgi_temp_path $n/uwsgi;
    scgi_temp_path $n/scgi;
    include $n/site.conf;
}
EOF
    nginx -p "$n" -c "$n/nginx.conf" -e "$n/error.log" 2>"$n/stderr" &
    nginx_pid=$!
    nginx_url=http://127.0.0.1:$port
    i=0
    while ! curl -s -o /dev/null "$nginx_url/" && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    if ! kill -0 "$nginx_pid" 2>/dev/null; then
        echo "nginx did not start:"
        cat "$n/stderr" "$n/error.log"
        nginx_pid=
        return 1
    fi
}

rss_kib() {
    awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"
}
