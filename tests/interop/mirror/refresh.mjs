// SPDX-License-Identifier: Apache-2.0
// tests/interop/mirror/refresh.mjs -- the tuf-js client (Updater) against a
// repository that zupd-mirror published, served over HTTP:
//
//   node refresh.mjs BASE_URL TRUSTED_ROOT WORKDIR TARGET...
//
// Refreshes (root chain from TRUSTED_ROOT, timestamp, snapshot, targets),
// finds every TARGET through the delegations and downloads it with its
// length and hashes checked; prints "ok TARGET LENGTH FILE" for each. A
// TARGET written !PATH must NOT be found. Exits 1 on any failure.
import fs from 'node:fs';
import path from 'node:path';

import { Updater } from 'tuf-js';

const [base, trusted, work, ...wanted] = process.argv.slice(2);
if (!base || !trusted || !work || wanted.length === 0) {
    console.error('usage: refresh.mjs BASE_URL TRUSTED_ROOT WORKDIR TARGET...');
    process.exit(1);
}

async function main() {
    const metadataDir = path.join(work, 'metadata');
    const targetDir = path.join(work, 'targets');
    fs.mkdirSync(metadataDir, { recursive: true });
    fs.mkdirSync(targetDir, { recursive: true });
    fs.copyFileSync(trusted, path.join(metadataDir, 'root.json'));
    const updater = new Updater({
        metadataDir,
        metadataBaseUrl: `${base}/metadata`,
        targetDir,
        targetBaseUrl: `${base}/targets`,
    });
    await updater.refresh();
    let failed = 0;
    for (const w of wanted) {
        const absent = w.startsWith('!');
        const name = absent ? w.slice(1) : w;
        const info = await updater.getTargetInfo(name);
        if (absent) {
            if (info) {
                console.log(`FAIL ${name}: found, should not be`);
                failed++;
            } else {
                console.log(`ok !${name}`);
            }
            continue;
        }
        if (!info) {
            console.log(`FAIL ${name}: not found`);
            failed++;
            continue;
        }
        const file = path.join(targetDir, name.replaceAll('/', '_'));
        await updater.downloadTarget(info, file);
        console.log(`ok ${name} ${info.length} ${file}`);
    }
    process.exit(failed ? 1 : 0);
}

main().catch((e) => {
    console.log(`FAIL ${e.constructor.name}: ${e.message}`);
    process.exit(1);
});
