#!/usr/bin/env node
// node scripts/opcodes.mjs [--check | --write]
//
// Prints, on stdout, a Markdown table of every io_uring opcode of the kernel uapi, one
// row per opcode in opcode order: which `Ring` method(s) reach it, whether `ring.chain()`
// has it, the liburing-style name, the first Linux release with it, and whether the
// running kernel supports it (IORING_REGISTER_PROBE through `ring.supports()`).
// The table in docs/opcodes.md is this script's output.
//
// The uapi list and the first releases are hard-coded below. Everything else comes from
// the project: `OPS` in lib/ops.ts (dist/ops.js) and the native opcode table
// (`opTable()`, the `ops!` entries of crates/ring-core/src/op.rs).
//
// --check: prints no table and creates no ring; exits 1 if an `OPS` entry's `op` is
// missing from the native table, or if a native entry's code is not in the uapi list
// below (then this script is out of date), or if a documentation page (README.md,
// docs/*.md) quotes other counts between its <!-- opcodes:count --> markers.
// --write: writes the table and the counts into every page that has them.
//
// Needs the built package: dist/ and the native addon (`npm run build`).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { docPages, root } from './doc-blocks.mjs';
import { Ring } from '../dist/index.js';
import { OPS } from '../dist/ops.js';
import { native } from '../dist/native.js';

/** enum io_uring_op (include/uapi/linux/io_uring.h): the name's index is its number. */
const UAPI = [
  'NOP', 'READV', 'WRITEV', 'FSYNC', 'READ_FIXED', 'WRITE_FIXED', 'POLL_ADD', 'POLL_REMOVE',
  'SYNC_FILE_RANGE', 'SENDMSG', 'RECVMSG', 'TIMEOUT', 'TIMEOUT_REMOVE', 'ACCEPT',
  'ASYNC_CANCEL', 'LINK_TIMEOUT', 'CONNECT', 'FALLOCATE', 'OPENAT', 'CLOSE', 'FILES_UPDATE',
  'STATX', 'READ', 'WRITE', 'FADVISE', 'MADVISE', 'SEND', 'RECV', 'OPENAT2', 'EPOLL_CTL',
  'SPLICE', 'PROVIDE_BUFFERS', 'REMOVE_BUFFERS', 'TEE', 'SHUTDOWN', 'RENAMEAT', 'UNLINKAT',
  'MKDIRAT', 'SYMLINKAT', 'LINKAT', 'MSG_RING', 'FSETXATTR', 'SETXATTR', 'FGETXATTR',
  'GETXATTR', 'SOCKET', 'URING_CMD', 'SEND_ZC', 'SENDMSG_ZC', 'READ_MULTISHOT', 'WAITID',
  'FUTEX_WAIT', 'FUTEX_WAKE', 'FUTEX_WAITV', 'FIXED_FD_INSTALL', 'FTRUNCATE', 'BIND',
  'LISTEN', 'RECV_ZC', 'EPOLL_WAIT', 'READV_FIXED', 'WRITEV_FIXED', 'PIPE', 'NOP128',
  'URING_CMD128',
];

/**
 * The first Linux release with each opcode (the merge window that added it).
 * - MSG_RING is 5.18 (for-5.18/io_uring), not 5.19 with the xattr and socket opcodes.
 * - SENDMSG_ZC is 6.1 (for-6.1); SEND_ZC came a release earlier, in 6.0.
 * - FIXED_FD_INSTALL is 6.8 (for-6.8/io_uring), not 6.7 with WAITID and the futex opcodes.
 * - NOP128 and URING_CMD128: the least sure row. Given as 6.18 in the request this
 *   script was written for, but they came with IORING_SETUP_SQE_MIXED, applied on
 *   2025-10-21 (after the 6.18 merge window); liburing's io_uring_enter(2) says
 *   "Available since 6.19"; and IORING_REGISTER_PROBE on Linux 6.18.44 ends at PIPE
 *   (62). So 6.19, not checked against a release tag.
 * - RECV_ZC, EPOLL_WAIT, READV_FIXED, WRITEV_FIXED (6.15) and PIPE (6.16) are recent;
 *   checked against the kernel history, not against a probe of each release.
 */
const FIRST_RELEASE = {
  '5.1': ['NOP', 'READV', 'WRITEV', 'FSYNC', 'READ_FIXED', 'WRITE_FIXED', 'POLL_ADD', 'POLL_REMOVE'],
  '5.2': ['SYNC_FILE_RANGE'],
  '5.3': ['SENDMSG', 'RECVMSG'],
  '5.4': ['TIMEOUT'],
  '5.5': ['TIMEOUT_REMOVE', 'ACCEPT', 'ASYNC_CANCEL', 'LINK_TIMEOUT', 'CONNECT'],
  '5.6': ['FALLOCATE', 'OPENAT', 'CLOSE', 'FILES_UPDATE', 'STATX', 'READ', 'WRITE', 'FADVISE',
    'MADVISE', 'SEND', 'RECV', 'OPENAT2', 'EPOLL_CTL'],
  '5.7': ['SPLICE', 'PROVIDE_BUFFERS', 'REMOVE_BUFFERS'],
  '5.8': ['TEE'],
  '5.11': ['SHUTDOWN', 'RENAMEAT', 'UNLINKAT'],
  '5.15': ['MKDIRAT', 'SYMLINKAT', 'LINKAT'],
  '5.18': ['MSG_RING'],
  '5.19': ['FSETXATTR', 'SETXATTR', 'FGETXATTR', 'GETXATTR', 'SOCKET', 'URING_CMD'],
  '6.0': ['SEND_ZC'],
  '6.1': ['SENDMSG_ZC'],
  '6.7': ['READ_MULTISHOT', 'WAITID', 'FUTEX_WAIT', 'FUTEX_WAKE', 'FUTEX_WAITV'],
  '6.8': ['FIXED_FD_INSTALL'],
  '6.9': ['FTRUNCATE'],
  '6.11': ['BIND', 'LISTEN'],
  '6.15': ['RECV_ZC', 'EPOLL_WAIT', 'READV_FIXED', 'WRITEV_FIXED'],
  '6.16': ['PIPE'],
  '6.19': ['NOP128', 'URING_CMD128'],
};

const since = new Map();
for (const [release, names] of Object.entries(FIRST_RELEASE)) {
  for (const name of names) since.set(name, release);
}
if (UAPI.length !== 65 || UAPI.some((name) => !since.has(name)) || since.size !== UAPI.length) {
  throw new Error('scripts/opcodes.mjs: UAPI and FIRST_RELEASE disagree');
}

/** Where the library issues an opcode itself, not (only) through a `Ring` method. */
const INTERNAL = {
  NOP: '`ring.batch()` entries (`BatchOp.NOP`)',
  FSYNC: '`ring.batch()` entries (`BatchOp.FSYNC`)',
  READ_FIXED: '`ring.batch()` entries (`BatchOp.READ_FIXED`)',
  WRITE_FIXED: '`ring.batch()` entries (`BatchOp.WRITE_FIXED`)',
  ASYNC_CANCEL: '`{ signal }` aborts, `destroy()`, `chain().submit({ timeout })`',
  LINK_TIMEOUT: 'the `{ timeout }` option of every method; `ring.batch()` entries (`batch.linkTimeout(ms)`, `BatchOp.LINK_TIMEOUT`)',
};

/** What the methods of an opcode leave out. */
const LIMITS = {
  URING_CMD: 'socket commands (`uringCmd`: `SOCKET_URING_OP_SIOCINQ`/`SIOCOUTQ`; `setsockopt`/`getsockopt`: `SETSOCKOPT`/`GETSOCKOPT`, the system call before 6.7 and for `getsockopt` below `SOL_SOCKET`); not NVMe passthrough on `/dev/ngXnY` (which needs `IORING_SETUP_SQE128` and `IORING_SETUP_CQE32`) or ublk',
};

/** Opcodes with no method that need more than a plain ring to be usable. */
const NEEDS = {
  URING_CMD: 'not yet: a command for a file whose driver implements `uring_cmd` (NVMe passthrough on `/dev/ngXnY`, which also needs `IORING_SETUP_SQE128` and `IORING_SETUP_CQE32`; ublk; socket commands)',
  RECV_ZC: 'not yet: a NIC with header/data split and a zero-copy receive queue registered with `IORING_REGISTER_ZCRX_IFQ`',
  NOP128: 'not yet: a ring with 128-byte SQEs (`IORING_SETUP_SQE128` or `IORING_SETUP_SQE_MIXED`); the pinned `io-uring` 0.7.15 crate cannot build it',
  URING_CMD128: 'not yet: a ring with 128-byte SQEs (`IORING_SETUP_SQE128` or `IORING_SETUP_SQE_MIXED`) and a `uring_cmd` driver, as for `URING_CMD`; the pinned `io-uring` 0.7.15 crate cannot build it',
};

const check = process.argv.slice(2).includes('--check');
const write = process.argv.slice(2).includes('--write');

// The native table: one row per `ops!` entry, `name` being the entry's JS name (`op`).
const nativeRows = native().opTable();
const rowByName = new Map(nativeRows.map((row) => [row.name, row]));

/** Opcode number -> the methods that reach it: { method, liburing, kernel }. */
const methodsByCode = new Map();
const missing = [];
for (const [method, entry] of Object.entries(OPS)) {
  const row = rowByName.get(entry.op);
  if (row === undefined) {
    missing.push(`${method} (op '${entry.op}')`);
    continue;
  }
  if (!methodsByCode.has(row.code)) methodsByCode.set(row.code, []);
  methodsByCode.get(row.code).push({ method, liburing: entry.liburing, kernel: row.kernel });
}
const unknownCodes = nativeRows.filter((row) => UAPI[row.code] === undefined);

// The counts the pages quote, between <!-- opcodes:count --> markers.
const countText = `${Object.keys(OPS).length} methods over ${methodsByCode.size} of io_uring's ${UAPI.length} opcodes`;
const COUNT = /<!-- opcodes:count -->[\s\S]*?<!-- \/opcodes:count -->/g;
const docs = [...docPages(), 'docs/ARCHITECTURE.md'].map((f) => path.join(root, f));

if (check) {
  for (const m of missing) console.error(`opcodes: OPS.${m} is not in the native table (opTable())`);
  for (const row of unknownCodes) console.error(`opcodes: native entry '${row.name}' has code ${row.code}, which is not in this script's uapi list`);
  const stale = docs.filter((f) => [...fs.readFileSync(f, 'utf8').matchAll(COUNT)].some((m) => !m[0].includes(`-->${countText}<!--`)));
  for (const f of stale) console.error(`opcodes: ${f} quotes other counts than "${countText}" (run node scripts/opcodes.mjs --write)`);
  if (missing.length > 0 || unknownCodes.length > 0 || stale.length > 0) process.exit(1);
  console.log(`opcodes: all ${Object.keys(OPS).length} OPS entries are in the native table (${nativeRows.length} entries)`);
  process.exit(0);
}

let ring;
try {
  ring = new Ring({ entries: 4 });
} catch (e) {
  console.error(`opcodes: no ring here (${e.code ?? e.message}): the "this kernel" column says n/a`);
}

const code = (text) => `\`${text}\``;

const lines = [
  `| \`IORING_OP_*\` | \`Ring\` method(s) | chain | liburing-style name | minimum kernel | this kernel (Linux ${os.release()}) |`,
  '|---|---|---|---|---|---|',
];
UAPI.forEach((name, number) => {
  const methods = methodsByCode.get(number) ?? [];
  let how = methods.map((m) => code(m.method)).join(', ');
  if (LIMITS[name] !== undefined && how !== '') how = `${how}: ${LIMITS[name]}`;
  if (INTERNAL[name] !== undefined) how = how === '' ? `internal: ${INTERNAL[name]}` : `${how}; also ${INTERNAL[name]}`;
  if (how === '') how = NEEDS[name] ?? 'not yet';

  let chain = methods.length > 0 ? 'yes' : 'no';
  if (name === 'LINK_TIMEOUT') chain = '`{ timeout }` on a member';

  const liburing = [...new Set(methods.map((m) => m.liburing))].map(code).join(', ') || '—';

  // A method that needs more than the opcode (cancelFd: IORING_ASYNC_CANCEL_FD, 5.19).
  const later = methods.filter((m) => m.kernel !== since.get(name)).map((m) => `${code(m.method)}: ${m.kernel}`);
  const kernel = later.length > 0 ? `${since.get(name)} (${later.join(', ')})` : since.get(name);

  let here = 'n/a';
  if (ring !== undefined && methods.length > 0) here = ring.supports(methods[0].method) ? 'yes' : 'no';

  lines.push(`| \`IORING_OP_${name}\` (${number}) | ${how} | ${chain} | ${liburing} | ${kernel} | ${here} |`);
});
if (write) {
  // The table and the counts, in place, in every page that has them.
  for (const f of docs) {
    const text = fs.readFileSync(f, 'utf8');
    const out = text
      .replace(COUNT, `<!-- opcodes:count -->${countText}<!-- /opcodes:count -->`)
      .replace(/^\| `IORING_OP_\*` \|.*\n\|---.*\n(?:\| `IORING_OP_.*\n)+/m, `${lines.join('\n')}\n`);
    if (out === text) continue;
    fs.writeFileSync(f, out);
    console.log(`opcodes: wrote the table and counts into ${path.relative(root, f)}`);
  }
} else {
  console.log(lines.join('\n'));
}

await ring?.destroy();
