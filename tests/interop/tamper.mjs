// SPDX-License-Identifier: Apache-2.0
// tests/interop/tamper.mjs -- damage a signed metadata file in place, for
// the negative interop checks:
//
//   node tamper.mjs byte FILE       change one byte inside "signed" (a digit
//                                   of "expires"): every signature must fail
//   node tamper.mjs unsign FILE     drop the last signature
//   node tamper.mjs dupsig FILE     replace the last signature by a copy of
//                                   the first (same key id twice): must be
//                                   refused, never count toward a threshold
//
// "byte" edits the file's bytes, not a re-serialization, so nothing else
// changes; the file stays valid JSON and valid metadata.
import fs from 'node:fs';

import { die } from './lib.mjs';

const PROG = 'tamper.mjs';
const [mode, file] = process.argv.slice(2);
if (!file) die(PROG, 'usage: tamper.mjs byte|unsign|dupsig FILE');
const text = fs.readFileSync(file, 'utf8');

if (mode === 'byte') {
    const m = /"expires"\s*:\s*"(\d{4})-/.exec(text);
    if (!m) die(PROG, `${file}: no "expires" to change`);
    const at = m.index + m[0].length - 2; // last digit of the year
    const digit = text[at] === '9' ? '8' : String(Number(text[at]) + 1);
    fs.writeFileSync(file, text.slice(0, at) + digit + text.slice(at + 1));
} else if (mode === 'unsign' || mode === 'dupsig') {
    const doc = JSON.parse(text);
    if (!Array.isArray(doc.signatures) || doc.signatures.length === 0)
        die(PROG, `${file}: no signatures`);
    if (mode === 'unsign') doc.signatures.pop();
    else {
        if (doc.signatures.length < 2) die(PROG, `${file}: fewer than 2 signatures`);
        doc.signatures[doc.signatures.length - 1] = { ...doc.signatures[0] };
    }
    fs.writeFileSync(file, JSON.stringify(doc, null, 2) + '\n');
} else {
    die(PROG, `unknown mode '${mode}'`);
}
