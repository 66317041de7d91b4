// SPDX-License-Identifier: Apache-2.0
// tests/interop/lib.mjs -- helpers shared by the interop scripts: keys and
// signers in the forms @tufjs/models and the TUF ecosystem expect, reading
// and writing metadata, the repository layout.
//
// Repository layout (both the tuf-js-made and the zupd-made repositories):
//   DIR/metadata/N.root.json        every root version, from 1
//   DIR/metadata/timestamp.json
//   DIR/metadata/N.snapshot.json    consistent-snapshot names
//   DIR/metadata/N.ROLE.json        targets and delegated targets roles
//   DIR/targets/PATH-DIR/HASH.NAME  each target once per hash it lists
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

import { canonicalize } from '@tufjs/canonical-json';
import { Key, Metadata, Signature } from '@tufjs/models';

export function sha256hex(data) {
    return crypto.createHash('sha256').update(data).digest('hex');
}

export function sha512hex(data) {
    return crypto.createHash('sha512').update(data).digest('hex');
}

// A new key pair. type: 'ed25519' (hex public key), 'ecdsa' (P-256, PEM
// public key, DER signatures, scheme ecdsa-sha2-nistp256) or 'rsa'
// (RSA-PSS with SHA-256 and MGF1-SHA-256, PEM). The signatures are what
// securesystemslib makes and what tuf-js verifies with crypto.verify().
// Returns { keyid, key (a @tufjs/models Key), json, signer } where signer is
// the callback Metadata.sign() takes.
export function newKey(type) {
    let keytype, scheme, pub, signFn;
    if (type === 'ed25519') {
        const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
        const der = publicKey.export({ type: 'spki', format: 'der' });
        pub = der.subarray(der.length - 32).toString('hex');
        keytype = 'ed25519';
        scheme = 'ed25519';
        signFn = (data) => crypto.sign(null, data, privateKey);
    } else if (type === 'ecdsa') {
        const { publicKey, privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
        pub = publicKey.export({ type: 'spki', format: 'pem' });
        keytype = 'ecdsa';
        scheme = 'ecdsa-sha2-nistp256';
        signFn = (data) => crypto.sign('sha256', data, { key: privateKey, dsaEncoding: 'der' });
    } else if (type === 'rsa') {
        const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
        pub = publicKey.export({ type: 'spki', format: 'pem' });
        keytype = 'rsa';
        scheme = 'rsassa-pss-sha256';
        signFn = (data) =>
            crypto.sign('sha256', data, {
                key: privateKey,
                padding: crypto.constants.RSA_PKCS1_PSS_PADDING,
                saltLength: crypto.constants.RSA_PSS_SALTLEN_MAX_SIGN,
            });
    } else {
        throw new Error(`unknown key type '${type}'`);
    }
    const json = { keytype, scheme, keyval: { public: pub } };
    const keyid = sha256hex(canonicalize(json));
    const key = Key.fromJSON(keyid, json);
    const signer = (data) => new Signature({ keyID: keyid, sig: signFn(data).toString('hex') });
    return { keyid, key, json, signer };
}

// The bytes of a metadata file as we write them: indented JSON (not the
// canonical form, so that every verifier has to canonicalize), one newline.
export function metadataBytes(md) {
    return Buffer.from(JSON.stringify(md.toJSON(), null, 2) + '\n', 'utf8');
}

export function readJSON(file) {
    const bytes = fs.readFileSync(file);
    try {
        return { bytes, json: JSON.parse(bytes.toString('utf8')) };
    } catch (e) {
        throw new Error(`${file}: not JSON: ${e.message}`);
    }
}

export function loadMetadata(kind, file) {
    const { bytes, json } = readJSON(file);
    try {
        return { bytes, md: Metadata.fromJSON(kind, json) };
    } catch (e) {
        throw new Error(`${file}: ${e.message}`);
    }
}

// Where a target's bytes live in the repository for a given hash.
export function targetFile(dir, targetPath, hash) {
    const { dir: d, base } = path.posix.parse(targetPath);
    return path.join(dir, 'targets', ...(d ? d.split('/') : []), `${hash}.${base}`);
}

export function die(prog, msg) {
    process.stderr.write(`${prog}: ${msg}\n`);
    process.exit(1);
}

// A static file server for DIR on 127.0.0.1 (port 0: an ephemeral one):
// GET only, percent-decoded paths, nothing outside DIR, 404 otherwise.
// Resolves to the listening http.Server.
export function serve(root, port = 0) {
    const top = path.resolve(root);
    const server = http.createServer((req, res) => {
        let rel;
        try {
            rel = decodeURIComponent(new URL(req.url, 'http://x').pathname);
        } catch {
            res.writeHead(400).end();
            return;
        }
        const file = path.resolve(top, '.' + rel);
        if (req.method !== 'GET' || !file.startsWith(top + path.sep) || !fs.existsSync(file) ||
            !fs.statSync(file).isFile()) {
            res.writeHead(404).end();
            return;
        }
        const data = fs.readFileSync(file);
        res.writeHead(200, { 'Content-Length': data.length }).end(data);
    });
    return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => resolve(server));
    });
}
