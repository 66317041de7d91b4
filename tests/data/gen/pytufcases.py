#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# tests/data/gen/pytufcases.py -- turn the valid/invalid datasets of
# python-tuf's tests/test_metadata_serialization.py into whole metadata
# documents with python-tuf's verdict, for tests/unit/t_meta.c:
#   python3 tests/data/gen/pytufcases.py PYTHON_TUF/tests/test_metadata_serialization.py \
#       > tests/data/python-tuf-cases.json
# The datasets are read with ast (python-tuf need not be installed). Each
# component case (a key, a role, a MetaFile, ...) is placed into a minimal
# document of the type that holds it; python-tuf's expectation for the
# component is the expectation for the document.
import ast, json, sys

src = open(sys.argv[1], encoding="utf-8").read()
sets = {}
for node in ast.walk(ast.parse(src)):
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        v = ast.literal_eval(node.value)
        sets[node.target.id] = {k: (x.decode() if isinstance(x, bytes) else x) for k, x in v.items()}

COMMON = {"spec_version": "1.0.0", "version": 1, "expires": "2030-01-01T00:00:00Z"}
ROLE = {"keyids": [], "threshold": 1}


def env(signed, sigs=()):
    return {"signatures": list(sigs), "signed": signed}


def root(keys=None, role=None):
    r = role if role is not None else ROLE
    return env(dict(COMMON, _type="root", keys=keys or {},
                    roles={n: r for n in ["root", "snapshot", "targets", "timestamp"]}))


def targets(tgts=None, deleg=None):
    s = dict(COMMON, _type="targets", targets=tgts or {})
    if deleg is not None:
        s["delegations"] = deleg
    return env(s)


TS = dict(COMMON, _type="timestamp", meta={"snapshot.json": {"version": 1}})

wrap = {
    "metadata": lambda c: c,
    "signatures": lambda c: env(TS, [c]),
    "signed": lambda c: env(c),
    "keys": lambda c: root(keys={"id": c}),
    "roles": lambda c: root(role=c),
    "roots": lambda c: env(c),
    "metafiles": lambda c: env(dict(COMMON, _type="snapshot", meta={"targets.json": c})),
    "timestamps": lambda c: env(c),
    "snapshots": lambda c: env(c),
    "delegated_roles": lambda c: targets(deleg={"keys": {}, "roles": [c]}),
    "succinct_roles": lambda c: targets(deleg={"keys": {}, "succinct_roles": c}),
    "delegations": lambda c: targets(deleg=c),
    "targetfiles": lambda c: targets(tgts={"file1.txt": c}),
    "targets": lambda c: env(c),
}
# python-tuf tests the key id beside the key object; in a document the key
# id is the dictionary key, always a string: these cases do not exist there
SKIP = {("invalid_keys", "no keyid"), ("invalid_keys", "keyid wrong type")}

out = []
for setname, cases in sorted(sets.items()):
    valid = setname.startswith("valid_")
    kind = setname.split("_", 1)[1]
    for name, text in cases.items():
        if (setname, name) in SKIP:
            continue
        case = json.loads(text)
        if setname == "invalid_keys":
            case.pop("keyid", None)
        if kind == "metadata":
            doc = text  # whole envelopes: keep the bytes
        else:
            doc = json.dumps(wrap[kind](case), sort_keys=True)
        out.append({"set": setname, "name": name, "valid": valid, "doc": doc})
json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
sys.stdout.write("\n")
