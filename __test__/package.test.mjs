// The published shape: the two tarballs pack:local writes, installed into an empty
// project with no Rust toolchain on PATH, type-checked as TypeScript (module nodenext)
// and run as an ES module and as CommonJS.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { tmpDir } from './helpers.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
// Only Node's own directory and the system's: no ~/.cargo/bin.
const PATH = [path.dirname(process.execPath), '/usr/bin', '/bin'].join(':');
const env = { ...process.env, PATH, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };

let project;
function install() {
  if (project) return project;
  const packs = tmpDir();
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'pack-local.mjs'), packs, '--no-build'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`pack:local failed: ${r.stderr}`);
  const tarballs = r.stdout.trim().split('\n');
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  execFileSync('npm', ['install', '--offline', '--no-package-lock', ...tarballs], { cwd: dir, env, stdio: 'pipe' });
  const data = path.join(dir, 'data.txt');
  fs.writeFileSync(data, 'read through io_uring');
  const consumer = (kind) => `
    const ring = new Ring();
    const fd = await ring.open(${JSON.stringify(data)});
    const buffer: Buffer = Buffer.alloc(64);
    const n: number = await ring.read(fd, buffer, 0);
    await ring.close(fd);
    await ring.destroy();
    const support: Support = isSupported();
    console.log('${kind}', support.ok, buffer.subarray(0, n).toString());`;
  fs.writeFileSync(path.join(dir, 'esm.mts'), `import { Ring, isSupported, type Support } from 'uring-aio';\n${consumer('esm')}\n`);
  fs.writeFileSync(path.join(dir, 'cjs.cts'), `import { Ring, isSupported, type Support } from 'uring-aio';\nasync function main() {${consumer('cjs')}\n}\nvoid main();\n`);
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, outDir: 'out',
      types: ['node'], typeRoots: [path.join(root, 'node_modules', '@types')], skipLibCheck: false,
    },
    files: ['esm.mts', 'cjs.cts'],
  }));
  return (project = { dir, tarballs });
}

const node = (dir, args) => spawnSync(process.execPath, args, { cwd: dir, env, encoding: 'utf8' });

test.serial('package: the tarballs install with no Rust toolchain on PATH', (t) => {
  t.not(spawnSync('sh', ['-c', 'command -v cargo'], { env }).status, 0, 'cargo must not be on the consumer PATH');
  const { dir, tarballs } = install();
  t.true(tarballs[0].endsWith('uring-aio-0.1.0.tgz') || /uring-aio-\d/.test(path.basename(tarballs[0])));
  t.true(fs.existsSync(path.join(dir, 'node_modules', 'uring-aio-linux-x64-gnu', 'uring-aio.linux-x64-gnu.node')) || process.arch !== 'x64');
  const files = execFileSync('tar', ['tzf', tarballs[0]], { encoding: 'utf8' });
  t.false(/\.rs$|__test__|\.node$|Cargo/m.test(files), 'the main package ships no Rust sources, tests or binaries');
});

test.serial('package: TypeScript (module nodenext) type-checks an ESM and a CJS consumer', (t) => {
  const { dir } = install();
  const r = node(dir, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir]);
  t.is(r.status, 0, r.stdout + r.stderr);
  t.true(fs.existsSync(path.join(dir, 'out', 'esm.mjs')) && fs.existsSync(path.join(dir, 'out', 'cjs.cjs')));
});

test.serial('package: the ESM consumer reads a file through Ring', (t) => {
  const { dir } = install();
  const r = node(dir, ['out/esm.mjs']);
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.trim(), 'esm true read through io_uring');
});

test.serial('package: the CJS consumer reads a file through Ring', (t) => {
  const { dir } = install();
  const r = node(dir, ['out/cjs.cjs']);
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.trim(), 'cjs true read through io_uring');
});

test.serial('package: node --import and --require uring-aio/fs/register route an installed consumer’s fs/promises', (t) => {
  const { dir } = install();
  fs.writeFileSync(path.join(dir, 'routed.mjs'), `
    import { readFile } from 'node:fs/promises';
    import uring from 'uring-aio/fs';
    import { active, backend } from 'uring-aio/fs/register';
    console.log(active, backend, readFile === uring.readFile, await readFile('data.txt', 'utf8'));`);
  fs.writeFileSync(path.join(dir, 'routed.cjs'), `
    const register = require('uring-aio/fs/register');
    console.log(register.active, register.backend, require('fs').promises.readFile === require('uring-aio/fs').readFile);`);
  const esm = node(dir, ['--import', 'uring-aio/fs/register', 'routed.mjs']);
  t.is(esm.status, 0, esm.stderr);
  t.is(esm.stdout.trim(), 'true io_uring true read through io_uring');
  const cjs = node(dir, ['--require', 'uring-aio/fs/register', 'routed.cjs']);
  t.is(cjs.status, 0, cjs.stderr);
  t.is(cjs.stdout.trim(), 'true io_uring true');
});

const probe = `const u = require('uring-aio'); const s = u.isSupported(); let thrown; try { new u.Ring(); } catch (e) { thrown = e.code; } console.log(JSON.stringify({ ...s, thrown }));`;

test.serial('loader: on a non-Linux system import works and both isSupported and constructors explain', (t) => {
  const { dir } = install();
  const r = node(dir, ['-e', `Object.defineProperty(process, 'platform', { value: 'darwin' }); ${probe}`]);
  t.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  t.is(out.code, 'ERR_URING_AIO_UNSUPPORTED_PLATFORM');
  t.is(out.thrown, 'ERR_URING_AIO_UNSUPPORTED_PLATFORM');
  t.regex(out.reason, /needs Linux.*darwin.*node:fs\/promises/);
});

test.serial('loader: a glibc/musl mismatch names both packages and says to reinstall', (t) => {
  const { dir } = install();
  const modules = path.join(dir, 'node_modules');
  const ours = `uring-aio-linux-${process.arch}-gnu`;
  const theirs = `uring-aio-linux-${process.arch}-musl`;
  fs.renameSync(path.join(modules, ours), path.join(modules, theirs));
  try {
    const out = JSON.parse(node(dir, ['-e', probe]).stdout);
    t.is(out.code, 'ERR_URING_AIO_LIBC_MISMATCH');
    t.regex(out.reason, new RegExp(`found the musl binary \\(${theirs}\\).*glibc.*Reinstall`));
    fs.rmSync(path.join(modules, theirs), { recursive: true });
    const missing = JSON.parse(node(dir, ['-e', probe]).stdout);
    t.is(missing.code, 'ERR_URING_AIO_NO_BINARY');
    t.regex(missing.reason, new RegExp(`${ours} is not installed.*build it from source`));
  } finally {
    // Later tests (if any) get a fresh project.
    project = undefined;
  }
});

test.serial('loader: a binary that does not load is a coded error from isSupported, not a throw', (t) => {
  const { dir } = install();
  const bogus = path.join(dir, 'not-an-addon.node');
  fs.writeFileSync(bogus, 'not an ELF file');
  const r = spawnSync(process.execPath, ['-e', probe], { cwd: dir, env: { ...env, URING_AIO_NATIVE: bogus }, encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  t.is(out.code, 'ERR_URING_AIO_LOAD_FAILED');
  t.is(out.thrown, 'ERR_URING_AIO_LOAD_FAILED');
  t.regex(out.reason, /could not load it: .*not-an-addon\.node.*Reinstall/);
});
