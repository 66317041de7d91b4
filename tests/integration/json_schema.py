#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# tests/integration/json_schema.py -- validate JSON documents against a JSON
# Schema, for the subset docs/json-envelope.schema.json uses (type, required,
# properties, additionalProperties, items, const, oneOf, minimum, maximum,
# pattern, minLength, and the false schema). No PyPI package needed.
# usage: json_schema.py SCHEMA FILE...; prints one line per failure, exit 1.
import json
import re
import sys

TYPES = {
    "object": dict, "array": list, "string": str, "boolean": bool, "null": type(None),
}


def is_type(v, t):
    if t == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    return isinstance(v, TYPES[t])


def errors(s, v, path="$"):
    if s is True:
        return []
    if s is False:
        return ["%s: not allowed" % path]
    out = []
    known = {"$schema", "$id", "title", "description", "type", "required", "properties",
             "additionalProperties", "items", "const", "oneOf", "minimum", "maximum",
             "pattern", "minLength"}
    for k in s:
        if k not in known:
            raise SystemExit("json_schema.py: keyword %r not supported" % k)
    if "type" in s:
        ts = s["type"] if isinstance(s["type"], list) else [s["type"]]
        if not any(is_type(v, t) for t in ts):
            return ["%s: %r is not of type %s" % (path, v, s["type"])]
    if "const" in s and (v != s["const"] or type(v) is not type(s["const"])):
        out.append("%s: %r is not %r" % (path, v, s["const"]))
    if isinstance(v, dict):
        for r in s.get("required", []):
            if r not in v:
                out.append("%s: %r missing" % (path, r))
        props = s.get("properties", {})
        for k, sub in props.items():
            if k in v:
                out += errors(sub, v[k], "%s.%s" % (path, k))
        if s.get("additionalProperties") is False:
            for k in v:
                if k not in props:
                    out.append("%s: unexpected %r" % (path, k))
    if isinstance(v, list) and "items" in s:
        for i, x in enumerate(v):
            out += errors(s["items"], x, "%s[%d]" % (path, i))
    if isinstance(v, str):
        if "pattern" in s and not re.search(s["pattern"], v):
            out.append("%s: %r does not match %s" % (path, v, s["pattern"]))
        if len(v) < s.get("minLength", 0):
            out.append("%s: too short" % path)
    if is_type(v, "number"):
        if "minimum" in s and v < s["minimum"]:
            out.append("%s: %r < %r" % (path, v, s["minimum"]))
        if "maximum" in s and v > s["maximum"]:
            out.append("%s: %r > %r" % (path, v, s["maximum"]))
    if "oneOf" in s:
        n = sum(1 for sub in s["oneOf"] if not errors(sub, v, path))
        if n != 1:
            out.append("%s: matches %d of oneOf, want 1" % (path, n))
    return out


def main():
    schema = json.load(open(sys.argv[1]))
    rc = 0
    for f in sys.argv[2:]:
        try:
            doc = json.load(open(f))
        except ValueError as e:
            print("%s: not one JSON document: %s" % (f, e))
            rc = 1
            continue
        for e in errors(schema, doc):
            print("%s: %s" % (f, e))
            rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
