// SPDX-License-Identifier: Apache-2.0
// tests/interop/serve.mjs -- serve a repository directory over HTTP on
// 127.0.0.1 until killed (SIGTERM/SIGINT), for client tests that bring
// their own client (the zupd client of issue 3):
//
//   node serve.mjs DIR [--port-file FILE]
//
// Listens on an ephemeral port; prints "http://127.0.0.1:PORT" on stdout and,
// with --port-file, writes the port number to FILE (atomically) once it
// listens. Only GET of regular files inside DIR; everything else is 404.
import fs from 'node:fs';

import { die, serve } from './lib.mjs';

const PROG = 'serve.mjs';
const args = process.argv.slice(2);
let dir = null;
let portFile = null;
for (let i = 0; i < args.length; i++) {
    if (args[i] === '--port-file') portFile = args[++i];
    else if (dir === null) dir = args[i];
    else die(PROG, `unexpected argument '${args[i]}'`);
}
if (!dir || !fs.existsSync(dir)) die(PROG, 'usage: serve.mjs DIR [--port-file FILE]');

const server = await serve(dir).catch((e) => die(PROG, e.message));
const port = server.address().port;
if (portFile) {
    fs.writeFileSync(`${portFile}.tmp`, `${port}\n`);
    fs.renameSync(`${portFile}.tmp`, portFile);
}
process.stdout.write(`http://127.0.0.1:${port}\n`);
const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
