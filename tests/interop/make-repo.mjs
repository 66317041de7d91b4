// SPDX-License-Identifier: Apache-2.0
// tests/interop/make-repo.mjs -- build and sign a complete TUF repository with
// @tufjs/models, for libzupd to verify (and, later, for clients to serve).
//
//   node make-repo.mjs DIR [--expires RFC3339] [--utf16-trap]
//
// What it makes (see lib.mjs for the layout):
// - root v1: one ed25519 root key, threshold 1; targets signed by an ECDSA
//   P-256 key, snapshot by an RSA-PSS key, timestamp by ed25519;
//   consistent_snapshot true. Delegated roles: products ed25519, hashed
//   ECDSA, bins RSA-PSS, the bins ed25519.
// - root v2: a rotation to two root keys (ed25519 + ECDSA P-256), threshold 2,
//   signed by the old and the new root keys.
// - targets v3: targets with custom fields, unicode names (BMP and astral),
//   nested paths, sha256 and sha512; delegations to
//     products (paths patterns), hashed (path_hash_prefixes, terminating),
//     bins (paths "bins/*") which delegates succinctly to 32 hash bins
//     bin-00 .. bin-1f (bit_length 5).
// - snapshot v4 (length + hashes for targets.json, versions for the rest),
//   timestamp v5 (length + sha256 + sha512 of the snapshot).
// Versions differ on purpose, so a verifier has to follow the meta entries.
// --utf16-trap adds two top-level targets whose names sort differently by
// UTF-16 code units (how @tufjs/canonical-json sorts keys) than by code
// points (how securesystemslib, python-tuf's encoder, and libzupd sort them): U+FF46 and
// U+1F600. The targets role then verifies in tuf-js only (a known
// divergence, docs/internals/interop.md).
// Writes DIR/manifest.json: the targets by role, for the tests.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import {
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
} from '@tufjs/models';
import { Delegations } from '@tufjs/models/dist/delegations.js';
import { DelegatedRole, Role, SuccinctRoles } from '@tufjs/models/dist/role.js';

import { die, metadataBytes, newKey, sha256hex, sha512hex, targetFile } from './lib.mjs';

const PROG = 'make-repo.mjs';
const args = process.argv.slice(2);
let dir = null;
let expires = '2100-01-01T00:00:00Z';
let utf16Trap = false;
for (let i = 0; i < args.length; i++) {
    if (args[i] === '--expires') expires = args[++i];
    else if (args[i] === '--utf16-trap') utf16Trap = true;
    else if (dir === null) dir = args[i];
    else die(PROG, `unexpected argument '${args[i]}'`);
}
if (!dir) die(PROG, 'usage: make-repo.mjs DIR [--expires RFC3339] [--utf16-trap]');

const metaDir = path.join(dir, 'metadata');
fs.mkdirSync(metaDir, { recursive: true });
fs.mkdirSync(path.join(dir, 'targets'), { recursive: true });

const common = (version) => ({ version, specVersion: '1.0.31', expires });

// ---------------------------------------------------------------- keys
const keys = {
    root1: newKey('ed25519'),
    root2: newKey('ecdsa'),
    targets: newKey('ecdsa'),
    snapshot: newKey('rsa'),
    timestamp: newKey('ed25519'),
    products: newKey('ed25519'),
    hashed: newKey('ecdsa'),
    bins: newKey('rsa'),
    bin: newKey('ed25519'),
};

// ---------------------------------------------------------------- targets
const manifest = {}; // role -> [paths]
function addTarget(targets, role, tpath, content, custom, withSha512) {
    const data = Buffer.from(content);
    const hashes = { sha256: sha256hex(data) };
    if (withSha512) hashes.sha512 = sha512hex(data);
    const info = { length: data.length, hashes };
    if (custom !== undefined) info.custom = custom;
    targets.addTarget(TargetFile.fromJSON(tpath, info));
    for (const h of Object.values(hashes)) {
        const f = targetFile(dir, tpath, h);
        fs.mkdirSync(path.dirname(f), { recursive: true });
        fs.writeFileSync(f, data);
    }
    (manifest[role] ||= []).push(tpath);
}

function writeMeta(name, md) {
    const bytes = metadataBytes(md);
    fs.writeFileSync(path.join(metaDir, name), bytes);
    return bytes;
}

// delegated roles
const productsRole = new DelegatedRole({
    name: 'products',
    keyIDs: [keys.products.keyid],
    threshold: 1,
    terminating: false,
    paths: ['products/*/*/manifest.json', 'products/*/channels/*.json'],
});
const avdbPaths = ['avdb/daily.cvd', 'avdb/main.cvd'];
const prefixes = [...new Set(avdbPaths.map((p) => sha256hex(p).slice(0, 2)))].sort();
const hashedRole = new DelegatedRole({
    name: 'hashed',
    keyIDs: [keys.hashed.keyid],
    threshold: 1,
    terminating: true,
    pathHashPrefixes: prefixes,
});
const binsRole = new DelegatedRole({
    name: 'bins',
    keyIDs: [keys.bins.keyid],
    threshold: 1,
    terminating: false,
    paths: ['bins/*'],
});
const topDelegations = new Delegations({
    keys: {
        [keys.products.keyid]: keys.products.key,
        [keys.hashed.keyid]: keys.hashed.key,
        [keys.bins.keyid]: keys.bins.key,
    },
    roles: { products: productsRole, hashed: hashedRole, bins: binsRole },
});
// top-level targets
const top = new Targets({ ...common(3), delegations: topDelegations });
addTarget(top, 'targets', 'hello.txt', 'hello, world\n', {
    component: 'demo',
    version: '1.0.0',
    tags: ['greeting', 'text'],
    'zürich-key': { rotated: false, count: 3 },
});
addTarget(top, 'targets', 'docs/ünïcødé/日本語.txt', 'こんにちは\n', { lang: 'ja' }, true);
addTarget(top, 'targets', 'emoji/😀-smile.txt', '\u{1F600}\n', { 'astral-key-\u{1F680}': 'rocket' });
addTarget(top, 'targets', 'nested/a/b/c/deep.bin', crypto.randomBytes(1024), undefined, true);
addTarget(top, 'targets', 'empty.txt', '', {});
if (utf16Trap) {
    addTarget(top, 'targets', '\u{FF46}ullwidth.txt', 'fullwidth\n');
    addTarget(top, 'targets', '\u{1F600}.txt', 'astral\n');
}


const products = new Targets(common(2));
addTarget(products, 'products', 'products/widget/1.0.0/manifest.json',
    JSON.stringify({ component: 'widget', version: '1.0.0', files: [] }) + '\n',
    { channel: 'stable', provenance: { revision: 'abc123', builder: 'ci@zurich' } }, true);
addTarget(products, 'products', 'products/widget/channels/stable.json',
    JSON.stringify({ version: '1.0.0' }) + '\n', { pointer: true });

const hashed = new Targets(common(1));
for (const p of avdbPaths) addTarget(hashed, 'hashed', p, crypto.randomBytes(300), { db: path.basename(p) });

// succinct hash-bin delegation below "bins"
const succinct = new SuccinctRoles({
    keyIDs: [keys.bin.keyid],
    threshold: 1,
    bitLength: 5,
    namePrefix: 'bin',
});
const bins = new Targets({
    ...common(1),
    delegations: new Delegations({
        keys: { [keys.bin.keyid]: keys.bin.key },
        succinctRoles: succinct,
    }),
});
const binTargets = {};
for (const name of succinct.getRoles()) binTargets[name] = new Targets(common(1));
for (let i = 0; i < 64; i++) {
    const p = `bins/file-${String(i).padStart(3, '0')}.dat`;
    const role = succinct.getRoleForTarget(p);
    addTarget(binTargets[role], role, p, `bin file ${i}\n`, { index: i });
}

// sign and write the targets roles
const snapMeta = {};
function publishTargets(name, targets, key) {
    const md = new Metadata(targets);
    md.sign(key.signer);
    const bytes = writeMeta(`${targets.version}.${name}.json`, md);
    snapMeta[`${name}.json`] = new MetaFile({ version: targets.version });
    return bytes;
}
const topBytes = publishTargets('targets', top, keys.targets);
snapMeta['targets.json'] = new MetaFile({
    version: 3,
    length: topBytes.length,
    hashes: { sha256: sha256hex(topBytes) },
});
publishTargets('products', products, keys.products);
publishTargets('hashed', hashed, keys.hashed);
publishTargets('bins', bins, keys.bins);
for (const [name, t] of Object.entries(binTargets)) publishTargets(name, t, keys.bin);

// snapshot and timestamp
const snapshot = new Metadata(new Snapshot({ ...common(4), meta: snapMeta }));
snapshot.sign(keys.snapshot.signer);
const snapBytes = writeMeta('4.snapshot.json', snapshot);
const timestamp = new Metadata(new Timestamp({
    ...common(5),
    snapshotMeta: new MetaFile({
        version: 4,
        length: snapBytes.length,
        hashes: { sha256: sha256hex(snapBytes), sha512: sha512hex(snapBytes) },
    }),
}));
timestamp.sign(keys.timestamp.signer);
writeMeta('timestamp.json', timestamp);

// root v1 and v2
function rootRoles(rootKeys, threshold) {
    return {
        root: new Role({ keyIDs: rootKeys.map((k) => k.keyid), threshold }),
        targets: new Role({ keyIDs: [keys.targets.keyid], threshold: 1 }),
        snapshot: new Role({ keyIDs: [keys.snapshot.keyid], threshold: 1 }),
        timestamp: new Role({ keyIDs: [keys.timestamp.keyid], threshold: 1 }),
    };
}
function rootKeys(list) {
    const out = {};
    for (const k of [...list, keys.targets, keys.snapshot, keys.timestamp]) out[k.keyid] = k.key;
    return out;
}
const root1 = new Metadata(new Root({
    ...common(1),
    keys: rootKeys([keys.root1]),
    roles: rootRoles([keys.root1], 1),
    consistentSnapshot: true,
}));
root1.sign(keys.root1.signer);
writeMeta('1.root.json', root1);
const root2 = new Metadata(new Root({
    ...common(2),
    keys: rootKeys([keys.root1, keys.root2]),
    roles: rootRoles([keys.root1, keys.root2], 2),
    consistentSnapshot: true,
}));
root2.sign(keys.root1.signer);
root2.sign(keys.root2.signer);
writeMeta('2.root.json', root2);

fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
const n = Object.values(manifest).reduce((a, l) => a + l.length, 0);
process.stdout.write(`${PROG}: ${dir}: 2 root versions, ${Object.keys(snapMeta).length} targets roles, ${n} targets\n`);
