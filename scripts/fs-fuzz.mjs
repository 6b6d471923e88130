#!/usr/bin/env node
// A stateful differential fuzzer of uring-aio/fs against node:fs/promises: seeded random
// sequences of calls (open/read/write/readv/writev/truncate/stat/rename/unlink/mkdir/
// readdir/copyFile/appendFile/readFile/writeFile/rm/close, with valid and invalid
// arguments, and several operations at once on one handle) run on both, each in a
// directory of its own (twins), and every step's result or error shape (name, code,
// errno, syscall, path, dest, message, with the directory written as <dir>) and the
// whole tree's contents afterwards must be equal.
//
//   node scripts/fs-fuzz.mjs --steps 1000000 [--seed 1] [--episode 200]
//
// Each episode (fresh directories, `--episode` steps) has its own seed, seed + n; a
// mismatch prints the episode's seed and the step, and the run exits 1.
// __test__/fs-fuzz.test.mjs runs a short one in npm test.
import fs from 'node:fs';
import * as nodeFs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const NAMES = ['a', 'b', 'c', 'd', 'd/e', 'd/f', 'g', 'g/h/i'];
const FLAGS = ['r', 'r+', 'w', 'w+', 'a', 'a+', 'wx', 'ax+', 'rs+', 'nope', 0, 2 ** 40, null, undefined];
const MODES = [undefined, 0o644, 0o600, 0o10600, '755', 'xyz', -1, 1.5];
const ENCODINGS = [undefined, 'utf8', 'latin1', 'base64', 'hex', 'buffer', 'nope', null];
const SLOTS = 4;

/** mulberry32: a small seeded generator, the same sequence for the same seed. */
function random(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n) => Math.floor(next() * n);
  const pick = (list) => list[int(list.length)];
  const chance = (p) => next() < p;
  return { next, int, pick, chance };
}

/** Bytes of `size` from the generator (decided before either implementation runs). */
function bytes(rng, size) {
  const b = Buffer.allocUnsafe(size);
  const fill = rng.int(256);
  for (let i = 0; i < size; i++) b[i] = (fill + i * 7 + (i >> 5)) & 0xff;
  return b;
}

function sizeOf(rng) {
  const r = rng.next();
  if (r < 0.15) return 0;
  if (r < 0.8) return rng.int(300);
  if (r < 0.97) return 60000 + rng.int(20000);
  return 1024 * 1024 + rng.int(300000);
}

/** A path argument: mostly a name in the tree, sometimes missing, invalid or odd. */
function pathArg(rng) {
  const r = rng.next();
  if (r < 0.85) return { rel: rng.pick(NAMES) };
  if (r < 0.9) return { rel: `${rng.pick(NAMES)}/missing` };
  if (r < 0.93) return { raw: 'x\0y' };
  if (r < 0.95) return { raw: 42 };
  if (r < 0.97) return { rel: rng.pick(NAMES), asBuffer: true };
  return { rel: rng.pick(NAMES), asUrl: true };
}

function resolvePath(p, dir) {
  if ('raw' in p) return p.raw;
  const full = path.join(dir, p.rel);
  if (p.asBuffer) return Buffer.from(full);
  if (p.asUrl) return new URL(`file://${full}`);
  return full;
}

function position(rng) {
  return rng.pick([null, undefined, 0, 0, 1, 5, 100, 65536, -1, -5, 1.5, '3', 2 ** 53, 2n, 70000]);
}

function viewFor(rng, size) {
  const kind = rng.int(6);
  if (kind === 0) return { make: () => new Uint16Array(Math.ceil(size / 2)) };
  if (kind === 1) return { make: () => new DataView(new ArrayBuffer(size + 3), 3, size) };
  if (kind === 2) return { make: () => Buffer.from('pooled-' + 'x'.repeat(size)).subarray(7) };
  return { make: () => Buffer.alloc(size) };
}

/** A view's bytes as hex (so results compare by content). */
const hex = (v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');

/**
 * One step: a description (for the report) and `run(f, dir, handles)`, which performs it
 * on implementation `f` and returns a JSON-able result.
 */
function step(rng) {
  const slot = rng.int(SLOTS);
  const kinds = [
    ['open', 10], ['close', 5], ['read', 10], ['write', 10], ['readv', 3], ['writev', 3], ['htruncate', 3], ['hstat', 3],
    ['hreadFile', 4], ['hwriteFile', 3], ['stat', 4], ['rename', 4], ['unlink', 4], ['mkdir', 4], ['readdir', 3],
    ['copyFile', 5], ['appendFile', 4], ['readFile', 8], ['writeFile', 8], ['rm', 3], ['concurrent', 6], ['closeDuringRead', 2],
    ['symlink', 2], ['link', 2], ['stream', 2],
  ];
  let r = rng.int(kinds.reduce((a, [, w]) => a + w, 0));
  let kind = kinds[0][0];
  for (const [k, w] of kinds) {
    if (r < w) { kind = k; break; }
    r -= w;
  }
  const handleOp = (run) => async (f, dir, handles) => {
    const h = handles[slot];
    if (h === undefined) return 'no handle';
    return run(h);
  };
  switch (kind) {
    case 'open': {
      const p = pathArg(rng);
      const flag = rng.pick(FLAGS);
      const mode = rng.pick(MODES);
      return {
        what: { kind, slot, p, flag, mode },
        run: async (f, dir, handles) => {
          const h = await f.open(resolvePath(p, dir), flag, mode);
          if (handles[slot] !== undefined) await handles[slot].close();
          handles[slot] = h;
          return 'opened';
        },
      };
    }
    case 'close':
      return {
        what: { kind, slot },
        run: async (f, dir, handles) => {
          const h = handles[slot];
          if (h === undefined) return 'no handle';
          await h.close();
          await h.close();
          return h.fd;
        },
      };
    case 'read': {
      const size = rng.pick([0, 1, 7, 100, 4096, 70000]);
      const view = viewFor(rng, size);
      const form = rng.int(5);
      const offset = rng.pick([undefined, null, 0, 1, 3, -1, 1.5, size, size + 1]);
      // No fractional length: Node 20 aborts the process on one (a native CHECK).
      const length = rng.pick([undefined, null, 0, 1, size, size - 1, size + 1, -1]);
      const pos = position(rng);
      return {
        what: { kind, slot, size, form, offset, length, pos: String(pos) },
        run: handleOp(async (h) => {
          const b = view.make();
          let res;
          if (form === 0) res = await h.read(b, offset, length, pos);
          else if (form === 1) res = await h.read(b, { offset, length, position: pos });
          else if (form === 2) res = await h.read({ buffer: b, offset, length, position: pos });
          else if (form === 3) res = await h.read(b);
          else res = await h.read(b, offset);
          return { n: res.bytesRead, same: res.buffer === b, bytes: hex(res.buffer) };
        }),
      };
    }
    case 'write': {
      const data = bytes(rng, rng.pick([0, 1, 10, 300, 70000]));
      const form = rng.int(4);
      const offset = rng.pick([undefined, null, 0, 2, -1, 1.5, data.length, data.length + 1, '1']);
      const length = rng.pick([undefined, null, 0, 1, data.length, data.length + 1, -1, 2.5]);
      const pos = position(rng);
      const encoding = rng.pick(ENCODINGS);
      return {
        what: { kind, slot, size: data.length, form, offset, length, pos: String(pos), encoding },
        run: handleOp(async (h) => {
          let res;
          if (form === 0) res = await h.write(Buffer.from(data), offset, length, pos);
          else if (form === 1) res = await h.write(Buffer.from(data), { offset, length, position: pos });
          else if (form === 2) res = await h.write(data.toString('latin1'), pos, encoding);
          else res = await h.write(12345);
          return res.bytesWritten;
        }),
      };
    }
    case 'readv':
    case 'writev': {
      const sizes = Array.from({ length: rng.int(4) }, () => rng.pick([0, 1, 5, 100]));
      const pos = position(rng);
      const data = sizes.map((s) => bytes(rng, s));
      return {
        what: { kind, slot, sizes, pos: String(pos) },
        run: handleOp(async (h) => {
          if (kind === 'readv') {
            const res = await h.readv(sizes.map((s) => Buffer.alloc(s)), pos);
            return { n: res.bytesRead, bytes: res.buffers.map(hex) };
          }
          return (await h.writev(data.map((d) => Buffer.from(d)), pos)).bytesWritten;
        }),
      };
    }
    case 'htruncate': {
      const len = rng.pick([undefined, 0, 1, 100, 70000, -5, 1.5, '2', null]);
      return { what: { kind, slot, len }, run: handleOp((h) => h.truncate(len)) };
    }
    case 'hstat':
      return { what: { kind, slot }, run: handleOp(async (h) => statFields(await h.stat())) };
    case 'hreadFile': {
      const encoding = rng.pick(ENCODINGS);
      // The handle's method, or the module function given the handle.
      const viaModule = rng.chance(0.3);
      return {
        what: { kind, slot, encoding, viaModule },
        run: async (f, dir, handles) => {
          const h = handles[slot];
          if (h === undefined) return 'no handle';
          const options = encoding === undefined ? undefined : { encoding };
          return shownData(await (viaModule ? f.readFile(h, options) : h.readFile(options)));
        },
      };
    }
    case 'hwriteFile': {
      const data = bytes(rng, sizeOf(rng));
      const append = rng.chance(0.5);
      const viaModule = rng.chance(0.3);
      return {
        what: { kind, slot, size: data.length, append, viaModule },
        run: async (f, dir, handles) => {
          const h = handles[slot];
          if (h === undefined) return 'no handle';
          if (viaModule) return append ? f.appendFile(h, data) : f.writeFile(h, data);
          return append ? h.appendFile(data) : h.writeFile(data);
        },
      };
    }
    case 'stat': {
      const p = pathArg(rng);
      const l = rng.chance(0.3);
      return { what: { kind, p, l }, run: async (f, dir) => statFields(await (l ? f.lstat : f.stat)(resolvePath(p, dir))) };
    }
    case 'rename':
    case 'copyFile': {
      const from = pathArg(rng);
      const to = pathArg(rng);
      const mode = rng.pick([undefined, 0, 1, 1, 8, 'x']);
      return {
        what: { kind, from, to, mode },
        run: (f, dir) => (kind === 'rename' ? f.rename(resolvePath(from, dir), resolvePath(to, dir)) : f.copyFile(resolvePath(from, dir), resolvePath(to, dir), mode)),
      };
    }
    case 'unlink':
    case 'readdir': {
      const p = pathArg(rng);
      return { what: { kind, p }, run: async (f, dir) => (kind === 'unlink' ? f.unlink(resolvePath(p, dir)) : (await f.readdir(resolvePath(p, dir))).sort()) };
    }
    case 'mkdir': {
      const p = pathArg(rng);
      const options = rng.pick([undefined, 0o755, { recursive: true }, { recursive: false, mode: 0o700 }, 'x', { recursive: 1 }]);
      return { what: { kind, p, options }, run: async (f, dir) => {
        const made = await f.mkdir(resolvePath(p, dir), options);
        return typeof made === 'string' ? made.replace(dir, '<dir>') : made;
      } };
    }
    case 'rm': {
      const p = pathArg(rng);
      const options = rng.pick([undefined, { recursive: true }, { force: true }, { recursive: true, force: true }]);
      return { what: { kind, p, options }, run: (f, dir) => f.rm(resolvePath(p, dir), options) };
    }
    case 'readFile': {
      const p = pathArg(rng);
      const options = rng.pick([undefined, 'utf8', 'hex', { encoding: 'latin1' }, { flag: 'a+' }, { flag: 'nope' }, 5, { signal: AbortSignal.abort() }, { encoding: 'nope' }]);
      return { what: { kind, p, options: String(JSON.stringify(options)) }, run: async (f, dir) => shownData(await f.readFile(resolvePath(p, dir), options)) };
    }
    case 'writeFile':
    case 'appendFile': {
      const p = pathArg(rng);
      const shape = rng.int(7);
      const payload = bytes(rng, sizeOf(rng));
      const options = rng.pick([undefined, 'latin1', { mode: 0o600 }, { flag: 'wx' }, { flag: 'a' }, { encoding: 'nope' }, { flush: true }, { flush: 1 }]);
      const data = () => [
        payload,
        payload.toString('latin1'),
        [payload.subarray(0, 10).toString('latin1'), payload.subarray(10)],
        123,
        ['ok', 5],
        (async function* () { yield payload; })(),
        new Uint32Array(payload.buffer, payload.byteOffset, Math.floor(payload.length / 4)).slice(),
      ][shape];
      return { what: { kind, p, shape, size: payload.length, options }, run: (f, dir) => f[kind](resolvePath(p, dir), data(), options) };
    }
    case 'concurrent': {
      // Several calls on one handle at once, whose outcome does not depend on their
      // order: positioned reads with a stat, or writes to disjoint ranges.
      const reads = rng.chance(0.5);
      const count = 2 + rng.int(3);
      // One payload for all: on an O_APPEND handle the writes land in any order.
      const payload = bytes(rng, 1 + rng.int(200));
      const payloads = Array.from({ length: count }, () => payload);
      return {
        what: { kind, slot, reads, count },
        run: handleOp(async (h) => {
          if (reads) {
            const all = await Promise.allSettled([...payloads.map((p, i) => h.read(Buffer.alloc(p.length), 0, p.length, i * 97).then((r) => hex(r.buffer.subarray(0, r.bytesRead)))), h.stat().then(statFields)]);
            return all.map(settled);
          }
          const all = await Promise.allSettled(payloads.map((p, i) => h.write(p, 0, p.length, i * 256).then((r) => r.bytesWritten)));
          return all.map(settled);
        }),
      };
    }
    case 'symlink':
    case 'link': {
      const target = kind === 'symlink' && rng.chance(0.7) ? { raw: rng.pick(NAMES.concat(['missing', '../outside'])) } : pathArg(rng);
      const p = pathArg(rng);
      return {
        what: { kind, target, p },
        run: (f, dir) => (kind === 'symlink' ? f.symlink(resolvePath(target, dir), resolvePath(p, dir)) : f.link(resolvePath(target, dir), resolvePath(p, dir))),
      };
    }
    case 'stream': {
      const start = rng.pick([undefined, 0, 3, 70000]);
      let end = rng.pick([undefined, 10, 100000]);
      // Not start > end: Node 20's ReadStream takes a reference on the FileHandle, then
      // throws ERR_OUT_OF_RANGE, and the handle's close() never resolves.
      if (start !== undefined && end !== undefined && start > end) end = undefined;
      return {
        what: { kind, slot, start, end },
        run: handleOp(async (h) => {
          const chunks = [];
          for await (const chunk of h.createReadStream({ start, end, autoClose: false })) chunks.push(chunk);
          return Buffer.concat(chunks).toString('hex');
        }),
      };
    }
    case 'closeDuringRead':
      return {
        what: { kind, slot },
        run: async (f, dir, handles) => {
          const h = handles[slot];
          if (h === undefined) return 'no handle';
          const reading = h.readFile().then((b) => b.length, (e) => e.code);
          const positioned = h.read(Buffer.alloc(50), 0, 50, 0).then((r) => r.bytesRead, (e) => e.code);
          await h.close();
          return [await reading, await positioned, h.fd];
        },
      };
  }
  throw new Error(`unknown step ${kind}`);
}

function settled(s) {
  return s.status === 'fulfilled' ? { ok: s.value } : { error: errorShape(s.reason) };
}

function statFields(s) {
  return { size: s.size, mode: s.mode, nlink: s.nlink, file: s.isFile(), dir: s.isDirectory(), link: s.isSymbolicLink() };
}

function shownData(d) {
  return typeof d === 'string' ? { string: d } : { hex: d.toString('hex') };
}

function errorShape(e) {
  if (!(e instanceof Error)) return { thrown: String(e) };
  return { name: e.name, code: e.code, errno: e.errno, syscall: e.syscall, path: e.path, dest: e.dest, message: e.message };
}

/** Everything in `dir`: each entry's type, mode and contents. */
function tree(dir) {
  const out = {};
  const walk = (rel) => {
    for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
      const r = path.join(rel, name);
      const st = fs.lstatSync(path.join(dir, r));
      if (st.isSymbolicLink()) {
        out[r] = { link: fs.readlinkSync(path.join(dir, r)).replaceAll(dir, '<dir>') };
      } else if (st.isDirectory()) {
        out[r] = { dir: true, mode: st.mode };
        walk(r);
      } else {
        out[r] = { mode: st.mode, size: st.size, bytes: fs.readFileSync(path.join(dir, r)).toString('base64') };
      }
    }
  };
  walk('');
  return out;
}

/** What a step gave on `f`: its value or its error shape, the directory written as <dir>. */
async function outcome(f, run, dir, handles) {
  const clean = (v) => JSON.parse(JSON.stringify(v ?? null, (_, x) => (typeof x === 'bigint' ? `${x}n` : x)).replaceAll(dir, '<dir>'));
  try {
    return { value: clean(await run(f, dir, handles)) };
  } catch (e) {
    return { error: clean(errorShape(e)) };
  }
}

/**
 * Runs `episodes` episodes of `episodeSteps` steps from seed `seed`; resolves to the
 * steps run and the mismatches (each with its seed, step and both outcomes).
 */
export async function fuzz({ ours, seed = 1, steps = 1000, episodeSteps = 200, root = os.tmpdir(), maxMismatches = 5, onProgress } = {}) {
  let run = 0;
  const mismatches = [];
  for (let episode = 0; run < steps && mismatches.length < maxMismatches; episode++) {
    const episodeSeed = seed + episode;
    const rng = random(episodeSeed);
    const base = fs.mkdtempSync(path.join(root, 'fs-fuzz-'));
    const dirs = { node: path.join(base, 'n'), ours: path.join(base, 'u') };
    fs.mkdirSync(dirs.node);
    fs.mkdirSync(dirs.ours);
    const handles = { node: [], ours: [] };
    try {
      for (let i = 0; i < episodeSteps && run < steps; i++, run++) {
        const s = step(rng);
        if (process.env.FS_FUZZ_TRACE) console.error(episodeSeed, i, JSON.stringify(s.what));
        const theirs = await outcome(nodeFs, s.run, dirs.node, handles.node);
        const mine = await outcome(ours, s.run, dirs.ours, handles.ours);
        const a = JSON.stringify(theirs);
        const b = JSON.stringify(mine);
        const ta = JSON.stringify(tree(dirs.node));
        const tb = JSON.stringify(tree(dirs.ours));
        if (a !== b || ta !== tb) {
          mismatches.push({ seed: episodeSeed, step: i, what: s.what, node: theirs, ours: mine, trees: ta === tb ? 'same' : { node: ta.slice(0, 2000), ours: tb.slice(0, 2000) } });
          break;
        }
      }
    } finally {
      for (const list of [handles.node, handles.ours]) await Promise.all(list.filter(Boolean).map((h) => h.close().catch(() => {})));
      fs.rmSync(base, { recursive: true, force: true });
    }
    onProgress?.(run, mismatches.length);
  }
  return { steps: run, mismatches };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? Number(process.argv[i + 1]) : fallback;
  };
  const ours = await import('../esm/fs.mjs');
  const steps = arg('steps', 10000);
  const started = performance.now();
  let last = started;
  const result = await fuzz({
    ours,
    seed: arg('seed', 1),
    steps,
    episodeSteps: arg('episode', 200),
    onProgress: (done, found) => {
      if (performance.now() - last > 10000) {
        last = performance.now();
        console.log(`${done} steps, ${found} mismatches, ${((performance.now() - started) / 1000).toFixed(0)} s`);
      }
    },
  });
  console.log(JSON.stringify({ steps: result.steps, mismatches: result.mismatches.length, seconds: Math.round((performance.now() - started) / 1000), backend: ours.backend }));
  for (const m of result.mismatches) console.log(JSON.stringify(m));
  process.exitCode = result.mismatches.length === 0 ? 0 : 1;
}
