// SPDX-License-Identifier: Apache-2.0
// tests/interop/verify.mjs -- verify a whole repository (made by libzupd)
// with @tufjs/models, the way a TUF client trusts it:
//
//   node verify.mjs DIR
//
// - the root chain 1.root.json, 2.root.json, ...: each version signed by a
//   threshold of its own keys and of the previous version's, versions
//   consecutive;
// - timestamp.json by the newest root; the snapshot it names (length and
//   hashes when given) by root; every role of the snapshot's meta (length
//   and hashes when given, version) by its delegator: targets by root,
//   delegated roles (paths, path_hash_prefixes, succinct hash bins) by the
//   targets role that delegates them, found from targets down;
// - every role listed in the snapshot must be reached by a delegation;
// - no role expired (but an older root); every target's bytes in DIR/targets match its length
//   and hashes (under each hash-prefixed name).
// Metadata files are read under their consistent-snapshot names when root
// says consistent_snapshot, else under ROLE.json. Exits 1 on the first
// failure, naming the file and the reason.
import fs from 'node:fs';
import path from 'node:path';

import { MetadataKind } from '@tufjs/models';

import { die, loadMetadata, targetFile } from './lib.mjs';

const PROG = 'verify.mjs';
const dir = process.argv[2];
if (!dir || process.argv.length !== 3) die(PROG, 'usage: verify.mjs DIR');
const metaDir = path.join(dir, 'metadata');
let nroles = 0;
let ntargets = 0;

function check(cond, msg) {
    if (!cond) throw new Error(msg);
}

function checkExpiry(md, role, file) {
    check(!md.signed.isExpired(), `${file}: role '${role}' expired (${md.signed.expires})`);
}

// md is signed by a threshold of the keys delegator gives role; and not
// expired unless it is a root on the way to the newest (TUF 5.3.10)
function verifyBy(delegator, role, md, file, intermediate = false) {
    try {
        delegator.verifyDelegate(role, md);
    } catch (e) {
        throw new Error(`${file}: role '${role}': ${e.message}`);
    }
    if (!intermediate) checkExpiry(md, role, file);
    nroles++;
}

function verifyMetaFile(meta, bytes, file) {
    try {
        meta.verify(bytes);
    } catch (e) {
        throw new Error(`${file}: ${e.message}`);
    }
}

async function verifyTargetFiles(role, md) {
    for (const [tpath, info] of Object.entries(md.signed.targets)) {
        for (const h of Object.values(info.hashes)) {
            const f = targetFile(dir, tpath, h);
            check(fs.existsSync(f), `target '${tpath}' of role '${role}': missing ${f}`);
            try {
                await info.verify(fs.createReadStream(f));
            } catch (e) {
                throw new Error(`target '${tpath}' of role '${role}': ${f}: ${e.message}`);
            }
        }
        ntargets++;
    }
}

async function main() {
    // root chain
    let file = path.join(metaDir, '1.root.json');
    let { md: root } = loadMetadata(MetadataKind.Root, file);
    check(root.signed.version === 1, `${file}: version ${root.signed.version}, expected 1`);
    let rootFile = file;
    verifyBy(root, 'root', root, file, true);
    for (let v = 2; ; v++) {
        file = path.join(metaDir, `${v}.root.json`);
        if (!fs.existsSync(file)) break;
        const { md: next } = loadMetadata(MetadataKind.Root, file);
        check(next.signed.version === v, `${file}: version ${next.signed.version}, expected ${v}`);
        try {
            root.verifyDelegate('root', next);
        } catch (e) {
            throw new Error(`${file}: not signed by a threshold of root v${v - 1}: ${e.message}`);
        }
        verifyBy(next, 'root', next, file, true);
        root = next;
        rootFile = file;
    }
    checkExpiry(root, 'root', rootFile);
    const consistent = root.signed.consistentSnapshot;
    const name = (role, version) => path.join(metaDir, consistent ? `${version}.${role}.json` : `${role}.json`);

    // timestamp -> snapshot
    file = path.join(metaDir, 'timestamp.json');
    const { md: ts } = loadMetadata(MetadataKind.Timestamp, file);
    verifyBy(root, 'timestamp', ts, file);
    const snapMeta = ts.signed.snapshotMeta;
    file = name('snapshot', snapMeta.version);
    const { bytes: snapBytes, md: snap } = loadMetadata(MetadataKind.Snapshot, file);
    verifyMetaFile(snapMeta, snapBytes, file);
    verifyBy(root, 'snapshot', snap, file);
    check(snap.signed.version === snapMeta.version,
        `${file}: version ${snap.signed.version}, timestamp says ${snapMeta.version}`);

    // targets and delegated roles, from the top down
    const seen = new Set();
    const loadRole = (role) => {
        const meta = snap.signed.meta[`${role}.json`];
        check(meta, `role '${role}' is not in the snapshot`);
        const f = name(role, meta.version);
        const { bytes, md } = loadMetadata(MetadataKind.Targets, f);
        verifyMetaFile(meta, bytes, f);
        check(md.signed.version === meta.version,
            `${f}: version ${md.signed.version}, snapshot says ${meta.version}`);
        return { md, f };
    };
    const queue = [];
    {
        const { md, f } = loadRole('targets');
        verifyBy(root, 'targets', md, f);
        seen.add('targets');
        queue.push(['targets', md]);
    }
    while (queue.length > 0) {
        const [role, md] = queue.shift();
        await verifyTargetFiles(role, md);
        const d = md.signed.delegations;
        if (!d) continue;
        const children = d.roles ? Object.keys(d.roles) : [...d.succinctRoles.getRoles()];
        for (const child of children) {
            if (seen.has(child)) continue;
            const { md: cmd, f } = loadRole(child);
            verifyBy(md, child, cmd, f);
            seen.add(child);
            queue.push([child, cmd]);
        }
    }
    for (const entry of Object.keys(snap.signed.meta)) {
        const role = entry.replace(/\.json$/, '');
        check(seen.has(role), `snapshot lists '${entry}', which no role delegates`);
    }
    process.stdout.write(`${PROG}: ${dir}: OK: ${nroles} roles verified, ${ntargets} targets\n`);
}

main().catch((e) => die(PROG, e.message));
