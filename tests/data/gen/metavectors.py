#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# tests/data/gen/metavectors.py -- generate the signed TUF metadata test
# vectors: tests/data/good/meta/*.json and tests/data/bad/meta-*.json.
# Needs pyca/cryptography (Debian python3-cryptography). Keys come from fixed
# seeds and ed25519 signatures are deterministic, so a re-run writes the same
# bytes. Run once from the top of the tree; the output is committed:
#   python3 tests/data/gen/metavectors.py tests/data
# Signatures are made over canonical JSON as securesystemslib writes it (keys
# sorted, no whitespace, only '"' and '\' escaped, integers only).
import copy, hashlib, json, os, sys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

top = sys.argv[1]
good = os.path.join(top, "good", "meta")
bad = os.path.join(top, "bad")
os.makedirs(good, exist_ok=True)


def cjson(o):
    if o is True:
        return "true"
    if o is False:
        return "false"
    if o is None:
        return "null"
    if isinstance(o, int):
        return str(o)
    if isinstance(o, str):
        return '"' + o.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(o, list):
        return "[" + ",".join(cjson(x) for x in o) + "]"
    if isinstance(o, dict):
        return "{" + ",".join(cjson(k) + ":" + cjson(o[k]) for k in sorted(o)) + "}"
    raise TypeError(o)


class Key:
    def __init__(self, name):
        seed = hashlib.sha256(b"zupd-test-key-" + name.encode()).digest()
        self.sk = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
        pub = self.sk.public_key().public_bytes(serialization.Encoding.Raw,
                                                serialization.PublicFormat.Raw)
        self.obj = {"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": pub.hex()}}
        self.keyid = hashlib.sha256(cjson(self.obj).encode()).hexdigest()

    def sign(self, signed):
        return {"keyid": self.keyid, "sig": self.sk.sign(cjson(signed).encode()).hex()}


K = {n: Key(n) for n in ["root1", "root2", "root3", "timestamp", "snapshot", "targets",
                         "role1", "role2", "bins"]}
EXP = "2030-01-01T00:00:00Z"


def env(signed, *keys):
    return {"signatures": [k.sign(signed) for k in keys], "signed": signed}


def write(path, doc):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, sort_keys=True, ensure_ascii=False)
        f.write("\n")


def sha256hex(b):
    return hashlib.sha256(b).hexdigest()


def role(*names, threshold=1):
    return {"keyids": [K[n].keyid for n in names], "threshold": threshold}


# ---------------------------------------------------------------- good
root = {
    "_type": "root", "spec_version": "1.0.31", "version": 1, "expires": EXP,
    "consistent_snapshot": True,
    "keys": {K[n].keyid: K[n].obj for n in ["root1", "root2", "timestamp", "snapshot", "targets"]},
    "roles": {"root": role("root1"), "timestamp": role("timestamp"),
              "snapshot": role("snapshot"), "targets": role("targets")},
    "x-zupd-unknown": {"kept": [1, 2, 3], "verbatim": "yes"},
}
write(os.path.join(good, "root.json"), env(root, K["root1"]))

# rotation: version 2 trusts root2+root3 (threshold 2), signed by the old
# root key and both new ones
root2 = copy.deepcopy(root)
root2["version"] = 2
root2["keys"] = {K[n].keyid: K[n].obj for n in ["root2", "root3", "timestamp", "snapshot", "targets"]}
root2["roles"]["root"] = role("root2", "root3", threshold=2)
write(os.path.join(good, "2.root.json"), env(root2, K["root1"], K["root2"], K["root3"]))

f1 = b"hello zupd\n"
targets = {
    "_type": "targets", "spec_version": "1.0", "version": 3, "expires": EXP,
    "targets": {
        "files/hello.txt": {"length": len(f1), "hashes": {"sha256": sha256hex(f1),
                                                          "sha512": hashlib.sha512(f1).hexdigest()}},
        "files/\u00fcn\u00efcode \"quoted\".txt": {
            "length": 0, "hashes": {"sha256": sha256hex(b"")},
            "custom": {"note": "line\nbreak, tab\t, quote \" and back\\slash", "n": 12345678901234,
                       "nested": {"b": [True, False, None], "a": {}}}},
        "products/app/2.1.0/manifest.json": {
            "length": 1234, "hashes": {"sha256": "aa" * 32, "md5": "00" * 16},
            "x-unknown-field": "kept"},
    },
    "delegations": {
        "keys": {K[n].keyid: K[n].obj for n in ["role1", "role2"]},
        "roles": [
            {"name": "role1", "keyids": [K["role1"].keyid], "threshold": 1, "terminating": True,
             "paths": ["products/*", "products/*/*/*", "a/*/c?.tgz"]},
            {"name": "role2", "keyids": [K["role2"].keyid], "threshold": 1, "terminating": False,
             "path_hash_prefixes": ["8", "9", "a", "b"]},
        ],
    },
}
write(os.path.join(good, "targets.json"), env(targets, K["targets"]))

role1 = {"_type": "targets", "spec_version": "1.0.31", "version": 1, "expires": EXP,
         "targets": {"products/app/channels/stable.json": {"length": 40, "hashes": {"sha256": "bb" * 32}}}}
write(os.path.join(good, "role1.json"), env(role1, K["role1"]))

role2 = {"_type": "targets", "spec_version": "1.0.31", "version": 1, "expires": EXP, "targets": {},
         "delegations": {"keys": {K["bins"].keyid: K["bins"].obj},
                         "succinct_roles": {"keyids": [K["bins"].keyid], "threshold": 1,
                                            "bit_length": 4, "name_prefix": "bin"}}}
write(os.path.join(good, "role2.json"), env(role2, K["role2"]))

bin3 = {"_type": "targets", "spec_version": "1.0.31", "version": 1, "expires": EXP, "targets": {}}
write(os.path.join(good, "bin-3.json"), env(bin3, K["bins"]))

snapshot = {"_type": "snapshot", "spec_version": "1.0.31", "version": 5, "expires": EXP,
            "meta": {"targets.json": {"version": 3}, "role1.json": {"version": 1, "length": 300},
                     "role2.json": {"version": 1, "hashes": {"sha256": "cc" * 32}},
                     "bin-3.json": {"version": 1, "length": 10, "hashes": {"sha512": "dd" * 64}}}}
write(os.path.join(good, "snapshot.json"), env(snapshot, K["snapshot"]))

timestamp = {"_type": "timestamp", "spec_version": "1.0.31", "version": 7, "expires": EXP,
             "meta": {"snapshot.json": {"version": 5, "length": 1000,
                                        "hashes": {"sha256": "ee" * 32}}}}
write(os.path.join(good, "timestamp.json"), env(timestamp, K["timestamp"]))


# ---------------------------------------------------------------- bad
def bad_doc(name, doc):
    write(os.path.join(bad, "meta-" + name + ".json"), doc)


def bad_text(name, text):
    with open(os.path.join(bad, "meta-" + name + ".json"), "w", encoding="utf-8") as f:
        f.write(text)


def mutate(base, key, fn, *signers):
    s = copy.deepcopy(base)
    fn(s)
    return env(s, *signers)


good_ts = json.dumps(env(timestamp, K["timestamp"]), indent=1, sort_keys=True)
bad_text("truncated", good_ts[: len(good_ts) // 2])
bad_text("duplicate-keys", good_ts.replace('"version": 7', '"version": 7,\n  "version": 8'))
# the same key spelled with an escape: still a duplicate once decoded
bad_text("duplicate-keys-escaped", good_ts.replace('"version": 7', '"version": 7,\n  "vers\\u0069on": 8'))
bad_text("float-version", good_ts.replace('"version": 7', '"version": 7.0'))
bad_text("huge-integer", good_ts.replace('"version": 7', '"version": 18446744073709551616'))
bad_doc("negative-version", mutate(timestamp, 0, lambda s: s.update(version=-1), K["timestamp"]))
bad_doc("zero-version", mutate(timestamp, 0, lambda s: s.update(version=0), K["timestamp"]))
bad_doc("wrong-type", mutate(timestamp, 0, lambda s: s.update(version="7"), K["timestamp"]))
bad_doc("bool-version", mutate(timestamp, 0, lambda s: s.update(version=True), K["timestamp"]))
bad_doc("unknown-type", mutate(timestamp, 0, lambda s: s.update(_type="mirrors"), K["timestamp"]))
bad_doc("bad-expires", mutate(timestamp, 0, lambda s: s.update(expires="2030-02-30T00:00:00Z"), K["timestamp"]))
bad_doc("expires-offset", mutate(timestamp, 0, lambda s: s.update(expires="2030-01-01T00:00:00+01:00"), K["timestamp"]))
bad_doc("expires-fraction", mutate(timestamp, 0, lambda s: s.update(expires="2030-01-01T00:00:00.5Z"), K["timestamp"]))
bad_doc("spec-version-2", mutate(timestamp, 0, lambda s: s.update(spec_version="2.0.0"), K["timestamp"]))
bad_doc("spec-version-garbage", mutate(timestamp, 0, lambda s: s.update(spec_version="1.0.x"), K["timestamp"]))
bad_doc("timestamp-no-snapshot", mutate(timestamp, 0, lambda s: s.update(meta={}), K["timestamp"]))
bad_doc("meta-version-0", mutate(snapshot, 0, lambda s: s["meta"]["targets.json"].update(version=0), K["snapshot"]))
bad_doc("meta-empty-hashes", mutate(snapshot, 0, lambda s: s["meta"]["role1.json"].update(hashes={}), K["snapshot"]))
bad_doc("meta-negative-length", mutate(snapshot, 0, lambda s: s["meta"]["role1.json"].update(length=-1), K["snapshot"]))
d = env(timestamp, K["timestamp"])
d["signatures"].append(dict(d["signatures"][0]))
bad_doc("duplicated-signature", d)
d = env(timestamp, K["timestamp"])
d["signatures"] = {"keyid": K["timestamp"].keyid}
bad_doc("signatures-not-list", d)
d = env(timestamp, K["timestamp"])
del d["signatures"][0]["sig"]
bad_doc("signature-no-sig", d)

bad_doc("threshold-0", mutate(root, 0, lambda s: s["roles"]["timestamp"].update(threshold=0), K["root1"]))
bad_doc("root-missing-role", mutate(root, 0, lambda s: s["roles"].pop("snapshot"), K["root1"]))
bad_doc("root-extra-role", mutate(root, 0, lambda s: s["roles"].update(mirror=role("root1")), K["root1"]))
bad_doc("root-duplicate-keyids", mutate(root, 0, lambda s: s["roles"]["root"]["keyids"].append(K["root1"].keyid), K["root1"]))
bad_doc("root-key-no-keyval", mutate(root, 0, lambda s: s["keys"][K["root2"].keyid].pop("keyval"), K["root1"]))
bad_doc("root-consistent-snapshot-string", mutate(root, 0, lambda s: s.update(consistent_snapshot="true"), K["root1"]))


def deleg(fn):
    return mutate(targets, 0, lambda s: fn(s["delegations"]), K["targets"])


bad_doc("paths-and-hash-prefixes", deleg(lambda d: d["roles"][0].update(path_hash_prefixes=["ab"])))
bad_doc("no-paths", deleg(lambda d: d["roles"][0].pop("paths")))
bad_doc("paths-not-strings", deleg(lambda d: d["roles"][0].update(paths=["a", 1])))
bad_doc("terminating-missing", deleg(lambda d: d["roles"][0].pop("terminating")))
bad_doc("delegated-top-level-name", deleg(lambda d: d["roles"][0].update(name="snapshot")))
bad_doc("delegated-empty-name", deleg(lambda d: d["roles"][0].update(name="")))
bad_doc("duplicate-delegated-role", deleg(lambda d: d["roles"].append(copy.deepcopy(d["roles"][0]))))
bad_doc("roles-and-succinct", deleg(lambda d: d.update(succinct_roles=role2["delegations"]["succinct_roles"])))
bad_doc("delegations-no-keys", deleg(lambda d: d.pop("keys")))
bad_doc("succinct-bit-length-33", mutate(role2, 0, lambda s: s["delegations"]["succinct_roles"].update(bit_length=33), K["role2"]))
bad_doc("succinct-bit-length-0", mutate(role2, 0, lambda s: s["delegations"]["succinct_roles"].update(bit_length=0), K["role2"]))
bad_doc("target-no-hashes", mutate(targets, 0, lambda s: s["targets"]["files/hello.txt"].pop("hashes"), K["targets"]))
bad_doc("target-no-length", mutate(targets, 0, lambda s: s["targets"]["files/hello.txt"].pop("length"), K["targets"]))
bad_doc("target-hash-not-string", mutate(targets, 0, lambda s: s["targets"]["files/hello.txt"]["hashes"].update(sha256=1), K["targets"]))

# these parse, and must not verify (or must verify, for the ignored extras)
unk = {"keytype": "sphincs-plus", "scheme": "sphincs-shake-256f", "keyval": {"public": "00" * 32}}
unk_id = hashlib.sha256(cjson(unk).encode()).hexdigest()


def unknown_type_root(s):
    s["keys"][unk_id] = unk
    s["roles"]["timestamp"] = {"keyids": [unk_id], "threshold": 1}


bad_doc("unknown-key-type", mutate(root, 0, unknown_type_root, K["root1"]))
d = env(timestamp, K["timestamp"], K["snapshot"])
d["signatures"].append({"keyid": "f" * 64, "sig": "00" * 64})
bad_doc("signature-by-unknown-key", d)
d = env(timestamp, K["timestamp"])
s = d["signatures"][0]["sig"]
d["signatures"][0]["sig"] = ("0" if s[0] != "0" else "1") + s[1:]
bad_doc("bad-signature", d)
d = env(timestamp, K["timestamp"])
d["signed"]["version"] = 8  # changed after signing
bad_doc("forged-version", d)
bad_doc("snapshot-signed-by-timestamp", env(snapshot, K["timestamp"]))
bad_doc("root-threshold-2-one-sig", env(root2, K["root2"]))
