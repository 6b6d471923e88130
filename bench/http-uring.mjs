// The http benchmark's uring-aio server: examples/http-hello.ts itself, compiled with
// TypeScript's transpileModule (its `uring-aio` import pointed at this build's dist/) and
// run in this process, driven through the protocol of echo-server-control.mjs: its
// "listening on" line gives the port, and stopping it is its own SIGINT shutdown.
// suite.mjs runs it in a process of its own.
//
// Where io_uring or the socket opcodes are missing, it prints {"unavailable":"why"} and
// exits 0, and the suite reports its row as skipped.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ring, isSupported } from '../dist/index.js';
import { serverControl } from './echo-server-control.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const NEEDED = ['socket', 'bind', 'listen', 'acceptMultishot', 'recvMultishot', 'send', 'close'];

const unavailable = (reason) => {
  process.stdout.write(`${JSON.stringify({ unavailable: reason })}\n`);
  process.exit(0);
};
const support = isSupported();
if (!support.ok) unavailable(support.reason);
const probe = new Ring({ entries: 2 });
const missing = NEEDED.filter((name) => !probe.supports(name));
await probe.destroy();
if (missing.length > 0) unavailable(`this kernel lacks ${missing.join(', ')}`);

const ts = require('typescript');
const source = fs.readFileSync(path.join(here, '..', 'examples', 'http-hello.ts'), 'utf8');
const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } });
const compiled = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'http-hello-')), 'http-hello.cjs');
fs.writeFileSync(compiled, outputText.replace(/require\("uring-aio"\)/g, `require(${JSON.stringify(path.join(here, '..', 'dist', 'index.js'))})`));

// stdout is the control protocol: the example's lines are read, not printed.
let closed;
const done = new Promise((resolve) => { closed = resolve; });
console.log = (...args) => {
  const line = args.join(' ');
  const listening = /^listening on 127\.0\.0\.1:(\d+)$/.exec(line);
  if (listening !== null) {
    serverControl({
      port: Number(listening[1]),
      close: () => {
        process.emit('SIGINT');
        return done;
      },
    });
  } else if (line === 'closed') {
    closed();
  } else {
    console.error(line);
  }
};
require(compiled);
