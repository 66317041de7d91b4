#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/policy.sh -- the enterprise policy repository: a second
# TUF repository (its own root and keys) served beside the vendor's on
# 127.0.0.1, from which endpoints take their channel pointers. A pin holds
# the fleet while the vendor releases, a fleet rollback installs an older
# vendor-signed release, a pointer to a release the vendor never signed is
# refused, an expired pin and a pin below the vendor's security floor yield
# to the vendor's channel, and the policy repository's own rollback, freeze
# and impersonation attacks are refused (fail closed: never back to the
# vendor's channel).
set -u
. "$(dirname "$0")/lib.sh"
test_init policy

pol() { # pol ARGS...: zupd-mirror policy ARGS on the policy repository
    sub=$1; shift
    "$MIRROR" policy "$sub" "$@" -C "$work/policy" --keys "$work/pkeys"
}

start_repo || exit 1
for v in 1.0 2.0 3.0; do make_tree "$work/v$v" "$v" 30; done
publish product 1.0 "$work/v1.0" && promote product 1.0 stable || exit 1
publish product 2.0 "$work/v2.0" || exit 1
publish product 3.0 "$work/v3.0" || exit 1

expect_rc 0 "policy init: a repository with its own root" \
    "$MIRROR" policy init "$work/policy" --keys "$work/pkeys" --same-passphrase
cmp -s "$work/policy/metadata/1.root.json" "$work/repo/metadata/1.root.json" &&
    bad "the policy root is the vendor's" || ok "the policy root is not the vendor's"
serve_tree "$work/policy" || exit 1
PPORT=$SPORT
write_conf
cat >> "$work/zupd.conf" <<EOF2
policy = { url = "http://127.0.0.1:$PPORT/";
           trusted_root = "$work/policy/metadata/1.root.json"; };
EOF2
Z="$ZUPD --config $work/zupd.conf"
on() { tree_is "$work/v$1" && ok "$2: install path holds $1" || bad "$2: install path is not $1"; }

# no pins: the vendor's channel
expect_rc 0 "no pins: update follows the vendor" $Z update
on 1.0 "no pins"
expect_rc 0 "policy show: no pins" pol show
grep -q "no pins" "$work/out" && ok "show says so" || bad "show: $(cat "$work/out")"
expect_rc 22 "pin refused in the vendor's repository" \
    "$MIRROR" policy pin product 1.0 --channel stable -C "$work/repo" --keys "$work/keys"
expect_rc 22 "publish refused in the policy repository" \
    "$MIRROR" publish product 9.0 "$work/v1.0" -C "$work/policy" --keys "$work/pkeys"

# a note that is not UTF-8 cannot be signed as given: refused, never dropped
expect_rc 22 "pin refuses a --note that is not UTF-8" pol pin product 1.0 --channel stable \
    --note "$(printf 'INC-\377')"
grep -q -- "--note is not valid UTF-8" "$work/err" && ok "the refusal names --note" ||
    bad "the refusal names --note: $(cat "$work/err")"
# a pin holds the fleet while the vendor releases
expect_rc 0 "pin product 1.0" pol pin product 1.0 --channel stable --note "INC-1042 hold"
promote product 2.0 stable || exit 1
expect_rc 0 "update while pinned" $Z --json update
on 1.0 "pinned"
python3 - "$work/out" <<'PY' && ok "report: up to date, decided by the policy" || bad "pinned report wrong"
import json, sys
c = json.load(open(sys.argv[1]))["components"][0]
assert c["action"] == "up-to-date" and c["source"] == "policy", c
assert c["policy"]["version"] == "1.0" and c["policy"]["note"] == "INC-1042 hold", c
PY
expect_rc 0 "check while pinned" $Z --json check
python3 - "$work/out" <<'PY' && ok "check: vendor names 2.0, policy holds 1.0" || bad "check while pinned"
import json, sys
c = json.load(open(sys.argv[1]))["components"][0]
assert c["available"] == "1.0" and c["vendor_version"] == "2.0" and not c["update"], c
PY
expect_rc 0 "policy show --json" pol show --json
python3 - "$work/out" <<'PY' && ok "show lists the pin" || bad "show: pin missing"
import json, sys
p = json.load(open(sys.argv[1]))["pins"]
assert len(p) == 1 and p[0]["version"] == "1.0" and p[0]["kind"] == "pin" and not p[0]["expired"], p
PY
cp -r "$work/policy/metadata" "$work/policy-meta-pinned" # for the replay below

# release: the vendor's channel again
expect_rc 0 "release the pin" pol release product --channel stable
expect_rc 25 "release of a channel without a pin" pol release product --channel beta
expect_rc 0 "update after the release" $Z update
on 2.0 "released"

# a fleet rollback installs the older vendor-signed release
promote product 3.0 stable || exit 1
expect_rc 0 "update to the vendor's 3.0" $Z update
on 3.0 "vendor 3.0"
expect_rc 0 "policy rollback to 1.0" pol rollback product 1.0 --channel stable --note "bad 3.0"
expect_rc 16 "a lower pin without 'rollback' is refused" \
    pol pin product 0.9 --channel stable
expect_rc 0 "update: the fleet rollback" $Z --json update
on 1.0 "fleet rollback"
grep -q '"kind": *"rollback"' "$work/out" && ok "report names the rollback" || bad "no rollback in the report"

# a pointer to a release the vendor never signed
expect_rc 25 "policy pin --vendor refuses an unsigned release" \
    pol pin product 9.9 --channel stable --vendor "$work/repo"
expect_rc 0 "pin to 9.9 without the check" pol pin product 9.9 --channel stable
expect_rc 25 "update refuses the unsigned release" $Z update
grep -q "never signed" "$work/err" && ok "the error says the vendor never signed 9.9" ||
    bad "error: $(cat "$work/err")"
on 1.0 "unsigned pin refused"
expect_rc 0 "release the bogus pin" pol release product --channel stable

# an expired pin yields to the vendor's channel: signed two hours ago for one hour
now=$(date +%s)
expect_rc 0 "pin 2.0 for one hour, two hours ago" \
    env ZUPD_MIRROR_NOW=$((now - 7200)) "$MIRROR" policy pin product 2.0 --channel stable \
    --for 1h -C "$work/policy" --keys "$work/pkeys"
expect_rc 0 "update with an expired pin" $Z update
on 3.0 "expired pin"
grep -q "expired" "$work/err" && ok "the lapse is reported" || bad "no word of the expired pin"

# the vendor's security floor overrides a pin below it
expect_rc 0 "pin 2.0 (until next year)" pol pin product 2.0 --channel stable --for 365d
expect_rc 0 "update: pinned to 2.0" $Z update
on 2.0 "pinned to 2.0"
expect_rc 0 "vendor floor 3.0" \
    "$MIRROR" floor product 3.0 -C "$work/repo" --keys "$work/keys"
expect_rc 25 "a floor needs a published release" \
    "$MIRROR" floor product 7.0 -C "$work/repo" --keys "$work/keys"
expect_rc 0 "update below the floor" $Z --json update
on 3.0 "floor"
python3 - "$work/out" <<'PY' && ok "report: the pin was ignored for the floor" || bad "floor report"
import json, sys
c = json.load(open(sys.argv[1]))["components"][0]
assert c["source"] == "vendor" and "floor" in c["policy"]["ignored_because"], c
PY
promote product 2.0 stable --rollback || exit 1
grep -q '"floor":"3.0"' "$work"/repo/targets/products/product/channels/*.stable.json &&
    ok "promote keeps the floor on the channel" || bad "promote dropped the floor"
expect_rc 0 "verify the vendor repository" "$MIRROR" verify "$work/repo"
expect_rc 0 "verify the policy repository" "$MIRROR" verify "$work/policy"

# the policy repository's own attacks: each refused, nothing installed, and
# never a silent fall back to the vendor's channel
expect_rc 0 "pin 3.0 (a floor-abiding pin)" pol pin product 3.0 --channel stable
expect_rc 0 "update: pinned to 3.0" $Z update
on 3.0 "pinned to 3.0"
trusted_ts=$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["signed"]["version"])' \
    "$work/state/policy/metadata/timestamp.json")
rm -rf "$work/policy-meta-now" && mv "$work/policy/metadata" "$work/policy-meta-now" &&
    cp -r "$work/policy-meta-pinned" "$work/policy/metadata"
expect_rc 16 "replayed old policy metadata (rollback attack)" $Z update
grep -q "policy repository" "$work/err" && ok "the error names the policy repository" ||
    bad "error: $(cat "$work/err")"
on 3.0 "replay refused"
now_ts=$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["signed"]["version"])' \
    "$work/state/policy/metadata/timestamp.json")
[ "$now_ts" = "$trusted_ts" ] && ok "trusted policy timestamp unchanged ($now_ts)" ||
    bad "trusted policy timestamp moved $trusted_ts -> $now_ts"
rm -rf "$work/policy/metadata" && mv "$work/policy-meta-now" "$work/policy/metadata"

expect_rc 0 "pin 3.0 signed three days ago (timestamp long expired)" \
    env ZUPD_MIRROR_NOW=$((now - 3 * 86400)) "$MIRROR" policy pin product 3.0 --channel beta \
    -C "$work/policy" --keys "$work/pkeys"
expect_rc 15 "freeze: expired policy timestamp" $Z update
grep -q "expired" "$work/err" && ok "the error says expired" || bad "error: $(cat "$work/err")"
on 3.0 "freeze refused"
expect_rc 0 "the policy re-signed now" env ZUPD_MIRROR_NOW= "$MIRROR" refresh --force \
    -C "$work/policy" --keys "$work/pkeys"
expect_rc 0 "update after the re-sign" $Z update

# the vendor's repository posing as the policy: not signed by the policy root
sed "s|http://127.0.0.1:$PPORT/\";|http://127.0.0.1:$PORT/\";|" "$work/zupd.conf" > "$work/zupd-mix.conf"
rm -rf "$work/state2" && sed -i "s|$work/state\"|$work/state2\"|" "$work/zupd-mix.conf"
expect_rc 14 "vendor metadata at the policy URL" $ZUPD --config "$work/zupd-mix.conf" update
[ ! -e "$work/opt-product2" ] && ok "nothing installed from a mixed policy" || bad "installed"

finish policy
