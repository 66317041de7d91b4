#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/units.sh -- every systemd unit of packaging/systemd:
# `systemd-analyze verify` must accept it with no message at all (systemd
# only warns, exit 0, about an unknown key or a bad value: any output fails
# here), and `systemd-analyze security --offline=yes` must rate each service
# at most the exposure recorded in docs/service.md and docs/mirror.md.
# The units name /usr/bin/zupd and /usr/bin/zupd-mirror; verify checks that
# ExecStart= programs exist, so it runs on copies pointing at this build's
# programs, and man:... Documentation= links are looked up in the tree's man
# pages (MANPATH). Runs as root or not, with or without systemd as PID 1.
# Skips without systemd-analyze, unless ZUPD_TESTS_REQUIRE_SYSTEMD=1 (CI).
set -u
. "$(dirname "$0")/lib.sh"
command -v systemd-analyze >/dev/null 2>&1 ||
    skip_or_fail ZUPD_TESTS_REQUIRE_SYSTEMD "systemd-analyze missing (Debian package systemd)"
test_init units
src=$top_srcdir/packaging/systemd

# the highest exposure each service may have (systemd-analyze security, 0-10);
# the scores measured are in docs/service.md and docs/mirror.md
max_exposure() {
    case $1 in
    zupd-update.service | zupd-update-avdb.service) echo 1.6 ;;
    zupd-mirror-serve.service) echo 1.1 ;;
    zupd-mirror-sync.service) echo 1.2 ;;
    zupd-mirror-log-monitor.service) echo 1.2 ;;
    zupd-mirror-refresh@.service) echo 0.5 ;;
    *) echo none ;;
    esac
}

# copies with this build's programs; the tree's man pages for man: links
mkdir -p "$work/units" "$work/man/man1" "$work/man/man5"
for m in zupd.1 zupd-mirror.1 zupd.conf.5; do
    ln -s "$top_srcdir/docs/$m" "$work/man/man${m##*.}/$m"
done
rewrite() { # rewrite UNIT-FILE > COPY
    sed -e "s|/usr/bin/zupd-mirror |$top_builddir/mirror/zupd-mirror |g" \
        -e "s|/usr/bin/zupd |$top_builddir/updater/zupd |g" "$1"
}
units=
for f in "$src"/*.service "$src"/*.timer; do
    [ -f "$f" ] || continue
    u=$(basename "$f")
    units="$units $u"
    rewrite "$f" >"$work/units/$u"
done
[ -n "$units" ] && ok "units:$units" || bad "no unit in $src"
for p in updater/zupd mirror/zupd-mirror; do
    [ -x "$top_builddir/$p" ] || bad "$top_builddir/$p not built"
done

# verify: exit 0 and not a word of output. With man(1) missing, the
# Documentation= links cannot be checked: --man=no then.
man=yes
command -v man >/dev/null 2>&1 || {
    man=no
    echo "note: man(1) missing: Documentation= man: links not checked"
}
verify() { # verify FILE: sets vout (output) and vrc
    vout=$(MANPATH=$work/man systemd-analyze verify --man=$man "$1" 2>&1)
    vrc=$?
}
for u in $units; do
    verify "$work/units/$u"
    if [ $vrc -eq 0 ] && [ -z "$vout" ]; then
        ok "verify $u"
    else
        bad "verify $u: exit $vrc: $vout"
    fi
done

# the check itself catches a broken unit: an unknown key (systemd: a
# warning, exit 0), a program that does not exist, a bad value
cp "$work/units/zupd-update.service" "$work/units/broken-key.service"
echo "ProtectSytem=strict" >>"$work/units/broken-key.service"
sed "s|^ExecStart=$top_builddir/updater/zupd |ExecStart=$work/nowhere/zupd |" \
    "$work/units/zupd-update.service" >"$work/units/broken-exec.service"
sed "s|^RestrictAddressFamilies=.*|RestrictAddressFamilies=AF_INET AF_BOGUS|" \
    "$work/units/zupd-update.service" >"$work/units/broken-value.service"
for b in broken-key broken-exec broken-value; do
    verify "$work/units/$b.service"
    if [ $vrc -ne 0 ] || [ -n "$vout" ]; then
        ok "verify refuses $b.service: $(echo "$vout" | head -n 1)"
    else
        bad "verify accepted $b.service"
    fi
    rm -f "$work/units/$b.service"
done

# security: the exposure of every service, at most its recorded maximum
for u in $units; do
    case $u in *.service) ;; *) continue ;; esac
    want=$(max_exposure "$u")
    out=$(systemd-analyze security --offline=yes --no-pager "$work/units/$u" 2>&1)
    got=$(echo "$out" | sed -n 's/^.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p')
    if [ -z "$got" ]; then
        bad "security $u: no score in: $(echo "$out" | tail -n 3)"
    elif [ "$want" = none ]; then
        bad "security $u: exposure $got, and no maximum recorded for it in this test"
    elif awk -v g="$got" -v w="$want" 'BEGIN { exit !(g <= w) }'; then
        ok "security $u: exposure $got (at most $want)"
    else
        bad "security $u: exposure $got, above the recorded $want"
        echo "$out" | grep '✗' | sed 's/^/  | /'
    fi
done
finish units
