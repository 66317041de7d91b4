// SPDX-License-Identifier: Apache-2.0
// tests/interop/canon.mjs -- the canonical JSON of JSON files, as
// @tufjs/canonical-json (the encoder @tufjs/models signs and verifies with)
// writes it:
//
//   node canon.mjs FILE             canonical form to stdout, no newline
//   node canon.mjs -o DIR FILE...   each to DIR/<basename of FILE>.canon
//
// Files are parsed with JSON.parse, so every number is an IEEE double:
// integers beyond 2^53 (9007199254740992) lose precision before the encoder
// sees them. libzupd keeps 64-bit integers; see docs/internals/interop.md.
import fs from 'node:fs';
import path from 'node:path';

import { canonicalize } from '@tufjs/canonical-json';

import { die } from './lib.mjs';

const PROG = 'canon.mjs';
const args = process.argv.slice(2);
let out = null;
if (args[0] === '-o') {
    out = args[1];
    args.splice(0, 2);
}
if (args.length === 0 || (out === null && args.length !== 1))
    die(PROG, 'usage: canon.mjs FILE | canon.mjs -o DIR FILE...');

function canon(file) {
    let value;
    try {
        value = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
        die(PROG, `${file}: ${e.message}`);
    }
    return Buffer.from(canonicalize(value), 'utf8');
}

if (out === null) {
    process.stdout.write(canon(args[0]));
} else {
    for (const f of args) fs.writeFileSync(path.join(out, `${path.basename(f)}.canon`), canon(f));
}
