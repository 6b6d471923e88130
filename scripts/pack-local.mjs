#!/usr/bin/env node
// npm run pack:local -- <dir> [--build | --no-build] [--readme] [--dry-run]
//
// Writes two tarballs into <dir>: the main package (uring-aio-<version>.tgz, JS and
// types only) and the host's platform package (uring-aio-linux-x64-gnu-<version>.tgz,
// the .node file). Installing both is what `npm install uring-aio` does on this
// platform once they are published.
//
// It reuses the build in the checkout when it is current: the release binary newer than
// every Rust source (src/, crates/, Cargo.toml, Cargo.lock, build.rs) and dist/ newer
// than every file of lib/. Otherwise it says which source is newer and runs
// `npm run build` first. --build always builds; --no-build never does (it fails if there
// is no binary). With --readme it also writes the three sizes into README.md (between
// <!-- sizes --> markers), so the README quotes what a real pack gave. --dry-run only
// says whether it would reuse the build or build, and why.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const dir = args.find((a) => !a.startsWith('--'));
if (dir === undefined || args.includes('--help')) {
  console.error('Usage: npm run pack:local -- <dir> [--build | --no-build] [--readme] [--dry-run]');
  process.exit(dir === undefined ? 2 : 0);
}
const out = path.resolve(dir);
fs.mkdirSync(out, { recursive: true });
const run = (cmd, argv, cwd = root) => execFileSync(cmd, argv, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });

/** The newest file under `paths` (files or directories), as [mtimeMs, path]. */
function newest(paths) {
  let best = [0, undefined];
  const visit = (p) => {
    const st = fs.statSync(p, { throwIfNoEntry: false });
    if (st === undefined) return;
    if (st.isDirectory()) {
      for (const name of fs.readdirSync(p)) if (name !== 'target' && name !== 'node_modules') visit(path.join(p, name));
    } else if (st.mtimeMs > best[0]) {
      best = [st.mtimeMs, p];
    }
  };
  for (const p of paths) visit(path.join(root, p));
  return best;
}

/** Why the build in the checkout is not current for `binary`, or undefined when it is. */
function staleBuild(binary) {
  const built = fs.statSync(binary, { throwIfNoEntry: false });
  if (built === undefined) return `there is no ${path.basename(binary)} yet`;
  const [rustTime, rustFile] = newest(['src', 'crates', 'Cargo.toml', 'Cargo.lock', 'build.rs']);
  if (rustTime > built.mtimeMs) return `${path.relative(root, rustFile)} is newer than ${path.basename(binary)}`;
  const [libTime, libFile] = newest(['lib']);
  const [distTime] = newest(['dist']);
  if (distTime === 0) return 'there is no dist/ yet';
  if (libTime > distTime) return `${path.relative(root, libFile)} is newer than dist/`;
  return undefined;
}

const { runningLibc: libcOfHost } = await import(path.join(root, 'dist', 'loader.js')).then((m) => m.default ?? m).catch(() => ({ runningLibc: () => 'gnu' }));
const hostBinary = path.join(root, `uring-aio.linux-${{ x64: 'x64', arm64: 'arm64' }[process.arch]}-${libcOfHost()}.node`);
const stale = args.includes('--build') ? '--build was given' : staleBuild(hostBinary);
if (args.includes('--dry-run')) {
  console.error(stale === undefined ? 'pack:local: would reuse the build in the checkout' : `pack:local: would build first: ${stale}`);
  process.exit(0);
} else if (args.includes('--no-build')) {
  if (stale !== undefined) console.error(`pack:local: --no-build: packing the build as it is, although ${stale}`);
} else if (stale === undefined) {
  console.error('pack:local: reusing the build in the checkout (the binary and dist/ are newer than their sources; --build rebuilds)');
} else {
  console.error(`pack:local: building the release binary and dist/ first: ${stale}`);
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 2, 'inherit'] });
}

const { platformPackage, runningLibc } = await import(path.join(root, 'dist', 'loader.js')).then((m) => m.default ?? m);
const arch = { x64: 'x64', arm64: 'arm64' }[process.arch];
if (process.platform !== 'linux' || arch === undefined) {
  console.error(`pack:local: no platform package for ${process.platform}-${process.arch}`);
  process.exit(1);
}
const target = `linux-${arch}-${runningLibc()}`;
const binary = path.join(root, `uring-aio.${target}.node`);
if (!fs.existsSync(binary)) {
  console.error(`pack:local: ${binary} is missing; run without --no-build`);
  process.exit(1);
}
const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

// The platform package: npm/<target>/package.json at this version, plus the binary.
const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'uring-aio-pack-'));
try {
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'npm', target, 'package.json'), 'utf8'));
  manifest.version = version;
  fs.writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  fs.copyFileSync(path.join(root, 'npm', target, 'README.md'), path.join(stage, 'README.md'));
  fs.copyFileSync(binary, path.join(stage, path.basename(binary)));
  const platformTgz = run('npm', ['pack', '--silent', '--pack-destination', out], stage).trim().split('\n').pop();
  const mainTgz = run('npm', ['pack', '--silent', '--pack-destination', out]).trim().split('\n').pop();
  const size = (file) => `${(fs.statSync(file).size / 1024).toFixed(0)} KiB`;
  console.error(`pack:local: ${path.basename(binary)} is ${size(binary)} (release, LTO, stripped)`);
  for (const tgz of [mainTgz, platformTgz]) console.log(path.join(out, tgz));
  console.error(`pack:local: wrote ${mainTgz} (${size(path.join(out, mainTgz))}) and ${platformTgz} (${size(path.join(out, platformTgz))}) to ${out}`);
  console.error(`pack:local: npm install ${path.join(out, mainTgz)} ${path.join(out, platformTgz)}`);
  if (args.includes('--readme')) {
    const readme = path.join(root, 'README.md');
    const sizes = `The release binary for ${target} is ${size(binary)}; the platform tarball is ${size(path.join(out, platformTgz))} and the main tarball ${size(path.join(out, mainTgz))}.`;
    fs.writeFileSync(readme, fs.readFileSync(readme, 'utf8').replace(/<!-- sizes -->[\s\S]*?<!-- \/sizes -->/, `<!-- sizes -->${sizes}<!-- /sizes -->`));
    console.error(`pack:local: README.md: ${sizes}`);
  }
  if (platformPackage(target) !== manifest.name) throw new Error(`npm/${target} is named ${manifest.name}`);
} finally {
  fs.rmSync(stage, { recursive: true, force: true });
}
