#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# tests/data/gen/canonical.py -- write the expected canonical JSON of each
# tests/data/good/canonical/NAME.json to NAME.canon, with securesystemslib
# (Debian python3-securesystemslib), the encoder python-tuf signs with: a
# third implementation, so that libzupd and @tufjs/canonical-json are both
# compared against it. Run once; the output is committed:
#   tests/data/gen/canonical.py tests/data/good/canonical
# The NAME.tufjs.canon files of the divergent-* vectors are what
# tests/interop/canon.mjs prints (see docs/internals/interop.md).
import glob, json, os, sys
from securesystemslib.formats import encode_canonical

def no_dups(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key")
    return dict(pairs)

for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f, object_pairs_hook=no_dups)
    with open(path[:-len(".json")] + ".canon", "wb") as f:
        f.write(encode_canonical(doc).encode("utf-8"))
