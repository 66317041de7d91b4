// SPDX-License-Identifier: Apache-2.0
// tests/interop/client.mjs -- the tuf-js client (Updater) refreshes from a
// repository and downloads targets, over HTTP on 127.0.0.1:
//
//   node client.mjs --repo DIR [--trusted-root FILE] TARGET...
//   node client.mjs --url BASE --trusted-root FILE TARGET...
//
// With --repo, serves DIR itself on an ephemeral loopback port (a plain
// static server: GET only, percent-decoded paths, nothing outside DIR) for
// the length of the run. With --url, uses a server that is already running
// (BASE/metadata/, BASE/targets/). The trusted root defaults to
// DIR/metadata/1.root.json, so the client walks the whole root chain.
// Every TARGET must be found through the delegations and download with
// matching length and hashes; a TARGET written as !PATH must NOT be found.
// Exits 1 on any failure.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { Updater } from 'tuf-js';

import { die, serve } from './lib.mjs';

const PROG = 'client.mjs';
const args = process.argv.slice(2);
let repo = null;
let base = null;
let trusted = null;
const wanted = [];
for (let i = 0; i < args.length; i++) {
    if (args[i] === '--repo') repo = args[++i];
    else if (args[i] === '--url') base = args[++i];
    else if (args[i] === '--trusted-root') trusted = args[++i];
    else wanted.push(args[i]);
}
if ((repo === null) === (base === null) || wanted.length === 0)
    die(PROG, 'usage: client.mjs (--repo DIR | --url BASE --trusted-root FILE) [--trusted-root FILE] TARGET...');
if (trusted === null) {
    if (repo === null) die(PROG, '--url needs --trusted-root');
    trusted = path.join(repo, 'metadata', '1.root.json');
}

async function main() {
    let server = null;
    if (repo !== null) {
        server = await serve(repo);
        base = `http://127.0.0.1:${server.address().port}`;
    }
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'zupd-tufjs-client-'));
    try {
        const metadataDir = path.join(work, 'metadata');
        const targetDir = path.join(work, 'targets');
        fs.mkdirSync(metadataDir);
        fs.mkdirSync(targetDir);
        fs.copyFileSync(trusted, path.join(metadataDir, 'root.json'));
        const updater = new Updater({
            metadataDir,
            metadataBaseUrl: `${base}/metadata`,
            targetDir,
            targetBaseUrl: `${base}/targets`,
            config: { fetchRetries: 0, fetchTimeout: 10000 },
        });
        await updater.refresh();
        for (let want of wanted) {
            const absent = want.startsWith('!');
            if (absent) want = want.slice(1);
            const info = await updater.getTargetInfo(want);
            if (absent) {
                if (info) throw new Error(`target '${want}' found, expected it absent`);
                continue;
            }
            if (!info) throw new Error(`target '${want}' not found`);
            const file = await updater.downloadTarget(info);
            const got = fs.statSync(file).size;
            if (got !== info.length) throw new Error(`target '${want}': ${got} bytes, signed ${info.length}`);
        }
        const roles = fs.readdirSync(metadataDir).length;
        process.stdout.write(`${PROG}: ${base}: refreshed (${roles} metadata files kept), ${wanted.length} targets checked\n`);
    } finally {
        fs.rmSync(work, { recursive: true, force: true });
        if (server) {
            server.close();
            server.closeAllConnections();
        }
    }
}

main().catch((e) => die(PROG, e.message || String(e)));
