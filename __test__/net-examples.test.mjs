// The networking examples, run as a user runs them (compiled to JavaScript, the package
// under node_modules): each starts, prints its port, answers, and shuts down cleanly on
// SIGINT.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import ts from 'typescript';
import { opTest, tmpDir } from './helpers.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const needs = ['socket', 'bind', 'listen', 'acceptMultishot', 'recvMultishot', 'send', 'close'];

/** The example compiled next to a node_modules/uring-aio link, started with `args`. */
async function start(name, args = [], { fdLimit } = {}) {
  const source = fs.readFileSync(path.join(root, 'examples', `${name}.ts`), 'utf8');
  const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
  const dir = tmpDir();
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(root, path.join(dir, 'node_modules', 'uring-aio'), 'dir');
  const script = path.join(dir, `${name}.js`);
  fs.writeFileSync(script, js);
  // `ulimit -n` of the server, through the shell (Node cannot lower its own).
  const child = fdLimit === undefined
    ? spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn('/bin/sh', ['-c', `ulimit -n ${fdLimit} && exec "$0" "$@"`, process.execPath, script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => child.on('close', (status, signal) => resolve({ status, signal })));
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no port printed: ${stdout} ${stderr}`)), 10000);
    child.stdout.on('data', () => {
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(stdout);
      if (m !== null) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.on('close', () => reject(new Error(`exited before listening: ${stderr}`)));
  });
  return {
    port,
    /** SIGINT, then the exit status and what it printed. */
    async stop() {
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
      const status = await exited;
      clearTimeout(timer);
      return { ...status, stdout, stderr };
    },
  };
}

opTest(needs, 'echo-server-example: examples/echo-server.ts echoes a client and shuts down on SIGINT', async (t) => {
  const server = await start('echo-server');
  t.true(server.port > 0);
  // One connection left open at shutdown, one that talks.
  const idle = net.connect(server.port, '127.0.0.1');
  await new Promise((r) => idle.once('connect', r));
  const reply = await new Promise((resolve, reject) => {
    const socket = net.connect(server.port, '127.0.0.1', () => socket.end('hello, echo'));
    const parts = [];
    socket.on('data', (d) => parts.push(d)).on('end', () => resolve(Buffer.concat(parts).toString())).on('error', reject);
  });
  t.is(reply, 'hello, echo');
  const idleEnded = new Promise((r) => idle.on('close', r).resume());
  const { status, signal, stdout, stderr } = await server.stop();
  t.is(signal, null, stderr);
  t.is(status, 0, stderr);
  t.regex(stdout, /closed\n$/);
  t.is(stderr, '');
  await idleEnded;
  t.pass('the open connection was closed by the shutdown');
});

opTest(needs, 'http-hello-example: examples/http-hello.ts answers keep-alive requests on one connection and shuts down on SIGINT', async (t) => {
  const server = await start('http-hello', ['0']);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const get = () => new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: server.port, path: '/', agent }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d) => { body += d; }).on('end', () => resolve({ res, body }));
    }).on('error', reject);
  });
  const first = await get();
  const second = await get();
  t.is(first.res.statusCode, 200);
  t.is(first.body, 'Hello, world!\n');
  t.is(first.res.headers.connection, 'keep-alive');
  t.is(second.body, 'Hello, world!\n');
  t.is(first.res.socket, second.res.socket, 'both requests went over one connection');
  agent.destroy();
  const { status, stdout, stderr } = await server.stop();
  t.is(status, 0, stderr);
  t.regex(stdout, /closed\n$/);
  t.is(stderr, '');
});

opTest(needs, 'echo-server-example-emfile: examples/echo-server.ts survives running out of descriptors and echoes again once clients leave', async (t) => {
  const server = await start('echo-server', [], { fdLimit: 64 });
  const connect = () => new Promise((resolve) => {
    const socket = net.connect(server.port, '127.0.0.1');
    socket.on('error', () => {});
    socket.once('connect', () => resolve(socket));
  });
  // More connections than the server has descriptors for.
  const crowd = [];
  for (let i = 0; i < 100; i++) crowd.push(await connect());
  await new Promise((resolve) => setTimeout(resolve, 200));
  for (const socket of crowd) socket.destroy();
  await new Promise((resolve) => setTimeout(resolve, 200));
  const socket = await connect();
  const reply = await new Promise((resolve, reject) => {
    socket.once('data', resolve).once('error', reject);
    socket.write('still here');
  });
  t.is(reply.toString(), 'still here');
  socket.destroy();
  const { status, stdout, stderr } = await server.stop();
  t.is(status, 0, stderr);
  t.regex(stderr, /accept: EMFILE/);
  t.regex(stdout, /closed/);
});
