#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/update_chain.sh -- delta chains: a repository published
# with deltas from the last release only (--deltas 1); an endpoint three
# releases behind updates through a chain of deltas 1.0 -> 2.0 -> 3.0 -> 4.0
# for less than the full blobs; a bad delta in the middle of a chain falls
# back to the blob; with a direct delta no manifest in between is fetched.
set -u
. "$(dirname "$0")/lib.sh"
test_init chain

publish_k() { # publish_k K VERSION DIR
    "$MIRROR" publish product "$2" "$3" --deltas "$1" -C "$work/repo" --keys "$work/keys" \
        > "$work/publish.log" 2>&1 || { cat "$work/publish.log"; return 1; }
}
sha() { sha256sum "$1" | cut -c1-64; }
manifest_of() { ls "$work/repo/targets/products/product/$1/"*.manifest.json; }

start_repo || exit 1
for v in 1.0 2.0 3.0 4.0; do make_tree "$work/v$v" "$v" 21; done
publish_k 1 1.0 "$work/v1.0" && promote product 1.0 stable || exit 1
write_conf
Z="$ZUPD --config $work/zupd.conf"
expect_rc 0 "install 1.0" $Z update
cp -a "$work/state" "$work/state-1.0"
for v in 2.0 3.0 4.0; do publish_k 1 "$v" "$work/v$v" || exit 1; done
promote product 4.0 stable || exit 1
python3 - "$(manifest_of 4.0)" <<'PY' && ok "4.0 has deltas from 3.0 only" || bad "4.0 lists deltas from older content"
import json, sys
f = {e["path"]: e for e in json.load(open(sys.argv[1]))["files"]}
assert len(f["bin/app"]["deltas"]) == 1
PY

expect_rc 0 "update 1.0 -> 4.0 (three releases behind)" $Z --json update
tree_is "$work/v4.0" && ok "install path holds 4.0" || bad "install path is not 4.0"
python3 - "$work/out" <<'PY' && ok "1.0 -> 4.0 through delta chains, less than the blobs" || bad "no chain, or too dear"
import json, sys
c = json.load(open(sys.argv[1]))["components"][0]
print("  4.0: %(files)d files, %(unchanged)d unchanged, %(by_delta)d by delta, %(by_chain)d by "
      "chain, %(whole)d whole, %(downloaded)d of %(full_size)d bytes" % c)
assert c["action"] == "installed" and c["by_chain"] >= 1 and c["delta_failed"] == 0
assert c["downloaded"] * 5 < c["full_size"]
PY
expect_rc 0 "verify 4.0" $Z verify
[ -e "$work/state/cache/t-$(sha "$(manifest_of 2.0)")" ] && [ -e "$work/state/cache/t-$(sha "$(manifest_of 3.0)")" ] \
    && ok "the manifests of 2.0 and 3.0 were fetched for the chain" || bad "manifests in between not cached"
ls "$work/state/cache" | grep -q chain && bad "chain intermediates left in the cache" \
    || ok "no chain intermediates left in the cache"

# a bad delta in the middle of the chain: the blob instead, same result
python3 - "$(manifest_of 3.0)" "$work/repo" <<'PY' || exit 1
import json, sys
f = {e["path"]: e for e in json.load(open(sys.argv[1]))["files"]}
h = f["bin/app"]["deltas"][0]["sha256"]
p = "%s/blobs/sha256/%s/%s" % (sys.argv[2], h[:2], h)
n = len(open(p, "rb").read())
open(p, "wb").write(b"\xff" * n)
PY
rm -rf "$work/state" "$work/opt-product" && cp -a "$work/state-1.0" "$work/state" \
    && ln -s "$work/state/components/product/current" "$work/opt-product"
expect_rc 0 "update 1.0 -> 4.0 with a bad delta in the chain" $Z --json update
tree_is "$work/v4.0" && ok "4.0 whole despite the bad delta" || bad "bad delta damaged 4.0"
python3 - "$work/out" <<'PY' && ok "the failed chain fell back to the blob" || bad "no fallback counted"
import json, sys
c = json.load(open(sys.argv[1]))["components"][0]
print("  4.0: %(by_chain)d by chain, %(whole)d whole, %(delta_failed)d failed" % c)
assert c["action"] == "installed" and c["delta_failed"] >= 1 and c["whole"] >= 1
PY

# a direct delta: no manifest between is fetched. 5.0 and 6.0 change only
# bin/app; 6.0 has deltas from 5.0 and 4.0 (--deltas 2)
for v in 5.0 6.0; do
    cp -a "$work/v4.0" "$work/v$v"
    python3 - "$work/v$v/bin/app" "$v" <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read())
b[1000:1008] = sys.argv[2].encode().ljust(8, b"x")
open(p, "wb").write(b)
PY
done
publish_k 1 5.0 "$work/v5.0" && publish_k 2 6.0 "$work/v6.0" && promote product 6.0 stable || exit 1
expect_rc 0 "update 4.0 -> 6.0 by a direct delta" $Z --json update
tree_is "$work/v6.0" && ok "install path holds 6.0" || bad "install path is not 6.0"
python3 - "$work/out" <<'PY' && ok "6.0: one direct delta" || bad "6.0 not by a direct delta"
import json, sys
c = json.load(open(sys.argv[1]))["components"][0]
assert c["by_delta"] == 1 and c["by_chain"] == 0 and c["whole"] == 0
PY
[ -e "$work/state/cache/t-$(sha "$(manifest_of 5.0)")" ] && bad "the 5.0 manifest was fetched" \
    || ok "the manifest of 5.0 (in between) was not fetched"

finish update_chain
