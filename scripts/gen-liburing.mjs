#!/usr/bin/env node
// node scripts/gen-liburing.mjs [--check]
//
// Writes lib/liburing-preps.ts: one function per liburing prep name of the opcode table
// (`entry('io_uring_prep_x', ...)` and `multishotEntry(...)` in lib/ops.ts), in table
// order, declared with liburing's parameters in liburing's order (SIGNATURES below), so
// that a wrong argument fails to compile, and documented with the `Ring` method's doc
// comment. The names and comments are read from the source (no build needed);
// __test__/liburing.test.mjs checks the names against the built OPS.
//
// --check: writes nothing; exits 1 if lib/liburing-preps.ts is not what this script
// would write, or if an entry has no signature here (`npm run lint` runs it).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const opsFile = path.join(root, 'lib', 'ops.ts');
const outFile = path.join(root, 'lib', 'liburing-preps.ts');

const PATH = 'string | Uint8Array | URL';
const VIEW = 'ArrayBufferView';
const IOVECS = 'readonly io_uring_iovec[]';
/** A slot where liburing has the kernel write a result: accepted, not used (the CQE's `value` has it). */
const OUT = 'unknown';

/**
 * liburing's parameters of each prep, after the SQE, in liburing's order (liburing.h),
 * as `[name, type]`; a `?` after the name marks one the C caller always passes and this
 * layer accepts without needing it (a default, or a length it reads from the view).
 */
const SIGNATURES = {
  io_uring_prep_nop: [],
  io_uring_prep_openat: [['dfd', 'number'], ['path', PATH], ['flags', 'number'], ['mode', 'number']],
  io_uring_prep_openat2: [['dfd', 'number'], ['path', PATH], ['how', 'open_how']],
  io_uring_prep_close: [['fd', 'number']],
  io_uring_prep_read: [['fd', 'number'], ['buf', VIEW], ['nbytes', 'number'], ['offset', 'number | bigint']],
  io_uring_prep_write: [['fd', 'number'], ['buf', VIEW], ['nbytes', 'number'], ['offset', 'number | bigint']],
  io_uring_prep_read_fixed: [['fd', 'number'], ['buf', VIEW], ['nbytes', 'number'], ['offset', 'number'], ['buf_index', 'number']],
  io_uring_prep_write_fixed: [['fd', 'number'], ['buf', VIEW], ['nbytes', 'number'], ['offset', 'number'], ['buf_index', 'number']],
  io_uring_prep_readv_fixed: [['fd', 'number'], ['iovecs', IOVECS], ['nr_vecs', 'number'], ['offset', 'number'], ['flags', 'number'], ['buf_index', 'number']],
  io_uring_prep_writev_fixed: [['fd', 'number'], ['iovecs', IOVECS], ['nr_vecs', 'number'], ['offset', 'number'], ['flags', 'number'], ['buf_index', 'number']],
  io_uring_prep_readv: [['fd', 'number'], ['iovecs', IOVECS], ['nr_vecs', 'number'], ['offset', 'number | bigint']],
  io_uring_prep_writev: [['fd', 'number'], ['iovecs', IOVECS], ['nr_vecs', 'number'], ['offset', 'number | bigint']],
  io_uring_prep_fsync: [['fd', 'number'], ['fsync_flags?', 'number']],
  io_uring_prep_poll_add: [['fd', 'number'], ['poll_mask', 'number']],
  io_uring_prep_poll_multishot: [['fd', 'number'], ['poll_mask', 'number']],
  io_uring_prep_poll_remove: [['user_data', 'unknown']],
  io_uring_prep_poll_update: [['old_user_data', 'unknown'], ['new_user_data', 'unknown'], ['poll_mask', 'number'], ['flags', 'number']],
  io_uring_prep_sync_file_range: [['fd', 'number'], ['len', 'number'], ['offset', 'number'], ['flags?', 'number']],
  io_uring_prep_timeout: [['ts', '__kernel_timespec'], ['count?', 'number'], ['flags?', 'number']],
  io_uring_prep_timeout_remove: [['user_data', 'unknown'], ['flags?', 'number']],
  io_uring_prep_timeout_update: [['ts', '__kernel_timespec'], ['user_data', 'unknown'], ['flags?', 'number']],
  io_uring_prep_fallocate: [['fd', 'number'], ['mode', 'number'], ['offset', 'number'], ['len', 'number']],
  io_uring_prep_statx: [['dfd', 'number'], ['path', PATH], ['flags', 'number'], ['mask', 'number'], ['statxbuf?', OUT]],
  io_uring_prep_fadvise: [['fd', 'number'], ['offset', 'number'], ['len', 'number'], ['advice', 'number']],
  io_uring_prep_splice: [['fd_in', 'number'], ['off_in', 'number | null'], ['fd_out', 'number'], ['off_out', 'number | null'], ['nbytes', 'number'], ['splice_flags?', 'number']],
  io_uring_prep_tee: [['fd_in', 'number'], ['fd_out', 'number'], ['nbytes', 'number'], ['splice_flags?', 'number']],
  io_uring_prep_renameat: [['olddfd', 'number'], ['oldpath', PATH], ['newdfd', 'number'], ['newpath', PATH], ['flags?', 'number']],
  io_uring_prep_unlinkat: [['dfd', 'number'], ['path', PATH], ['flags?', 'number']],
  io_uring_prep_mkdirat: [['dfd', 'number'], ['path', PATH], ['mode', 'number']],
  io_uring_prep_symlinkat: [['target', PATH], ['newdirfd', 'number'], ['linkpath', PATH]],
  io_uring_prep_linkat: [['olddfd', 'number'], ['oldpath', PATH], ['newdfd', 'number'], ['newpath', PATH], ['flags?', 'number']],
  io_uring_prep_msg_ring: [['fd', 'number'], ['len', 'number'], ['data', 'number'], ['flags?', 'number']],
  io_uring_prep_epoll_ctl: [['epfd', 'number'], ['fd', 'number'], ['op', 'number'], ['ev?', 'epoll_event | null']],
  io_uring_prep_epoll_wait: [['fd', 'number'], ['events', OUT], ['maxevents', 'number'], ['flags?', 'number']],
  io_uring_prep_waitid: [['idtype', 'number'], ['id', 'number'], ['infop', OUT], ['options', 'number'], ['flags?', 'number']],
  io_uring_prep_fsetxattr: [['fd', 'number'], ['name', 'string'], ['value', VIEW], ['flags', 'number'], ['len', 'number']],
  io_uring_prep_setxattr: [['name', 'string'], ['value', VIEW], ['path', PATH], ['flags', 'number'], ['len', 'number']],
  io_uring_prep_fgetxattr: [['fd', 'number'], ['name', 'string'], ['value', OUT], ['len', 'number']],
  io_uring_prep_getxattr: [['name', 'string'], ['value', OUT], ['path', PATH], ['len', 'number']],
  io_uring_prep_cancel_fd: [['fd', 'number'], ['flags?', 'number']],
  io_uring_prep_cmd_sock: [['cmd_op', 'number'], ['fd', 'number'], ['level?', 'number'], ['optname?', 'number'], ['optval?', OUT], ['optlen?', 'number']],
  io_uring_prep_files_update: [['fds', 'readonly number[]'], ['nr_fds', 'number'], ['offset', 'number']],
  io_uring_prep_fixed_fd_install: [['fd', 'number'], ['flags?', 'number']],
  io_uring_prep_madvise: [['addr', VIEW], ['length', 'number'], ['advice', 'number']],
  io_uring_prep_futex_wait: [['futex', VIEW], ['val', 'number'], ['mask', 'number'], ['futex_flags?', 'number'], ['flags?', 'number']],
  io_uring_prep_futex_wake: [['futex', VIEW], ['val', 'number'], ['mask', 'number'], ['futex_flags?', 'number'], ['flags?', 'number']],
  io_uring_prep_futex_waitv: [['futex', 'readonly futex_waitv[]'], ['nr_futex', 'number'], ['flags?', 'number']],
  io_uring_prep_ftruncate: [['fd', 'number'], ['len', 'number | bigint']],
  io_uring_prep_pipe: [['fds', OUT], ['pipe_flags?', 'number']],
  io_uring_prep_socket: [['domain', 'number'], ['type', 'number'], ['protocol', 'number'], ['flags?', 'number']],
  io_uring_prep_bind: [['fd', 'number'], ['addr', 'SocketAddressInput'], ['addrlen?', 'number']],
  io_uring_prep_listen: [['fd', 'number'], ['backlog', 'number']],
  io_uring_prep_accept: [['fd', 'number'], ['addr', OUT], ['addrlen', OUT], ['flags?', 'number']],
  io_uring_prep_multishot_accept: [['fd', 'number'], ['addr', OUT], ['addrlen', OUT], ['flags?', 'number']],
  io_uring_prep_connect: [['fd', 'number'], ['addr', 'SocketAddressInput'], ['addrlen?', 'number']],
  io_uring_prep_send: [['sockfd', 'number'], ['buf', VIEW], ['len', 'number'], ['flags?', 'number']],
  io_uring_prep_recv: [['sockfd', 'number'], ['buf', VIEW], ['len', 'number'], ['flags?', 'number']],
  io_uring_prep_recv_multishot: [['sockfd', 'number'], ['buf', OUT], ['len', 'number'], ['flags?', 'number']],
  io_uring_prep_sendmsg: [['fd', 'number'], ['msg', 'msghdr'], ['flags?', 'number']],
  io_uring_prep_recvmsg: [['fd', 'number'], ['msg', 'msghdr'], ['flags?', 'number']],
  io_uring_prep_send_zc: [['sockfd', 'number'], ['buf', VIEW], ['len', 'number'], ['flags?', 'number'], ['zc_flags?', 'number']],
  io_uring_prep_sendmsg_zc: [['fd', 'number'], ['msg', 'msghdr'], ['flags?', 'number']],
  io_uring_prep_shutdown: [['fd', 'number'], ['how', 'number']],
};

// Each prep name in table order, with the doc comment of the `Ring` method it stands
// for (the entry whose method is named like its native op, as lib/liburing-sqe.ts picks).
const source = ts.createSourceFile(opsFile, fs.readFileSync(opsFile, 'utf8'), ts.ScriptTarget.Latest, true);
const preps = new Map();
function visit(node) {
  // `name: entry(...)`, or `name: { ...entry(...), more }`.
  const init = ts.isPropertyAssignment(node) ? node.initializer : undefined;
  const call = init && ts.isObjectLiteralExpression(init) && init.properties[0] && ts.isSpreadAssignment(init.properties[0])
    ? init.properties[0].expression : init;
  if (call && ts.isCallExpression(call)) {
    const callee = call.expression.getText();
    const [liburing, op] = call.arguments;
    if ((callee === 'entry' || callee === 'multishotEntry') && liburing && ts.isStringLiteral(liburing) && op && ts.isStringLiteral(op)) {
      const method = node.name.getText();
      const doc = ts.getJSDocCommentsAndTags(node).map((d) => d.getText()).join('\n');
      const known = preps.get(liburing.text);
      if (known === undefined || method === op.text) preps.set(liburing.text, { method, doc: known?.doc && method !== op.text ? known.doc : doc, methods: [...(known?.methods ?? []), method] });
      else known.methods.push(method);
    }
  }
  ts.forEachChild(node, visit);
}
visit(source);
if (preps.size === 0) {
  console.error('gen-liburing: no entry(\'io_uring_prep_...\') found in lib/ops.ts');
  process.exit(1);
}
const unsigned = [...preps.keys()].filter((name) => SIGNATURES[name] === undefined);
const stale = Object.keys(SIGNATURES).filter((name) => !preps.has(name));
if (unsigned.length > 0 || stale.length > 0) {
  for (const name of unsigned) console.error(`gen-liburing: ${name} has no liburing signature in scripts/gen-liburing.mjs`);
  for (const name of stale) console.error(`gen-liburing: ${name} has a signature but no entry in lib/ops.ts`);
  process.exit(1);
}

/** A doc comment's text lines, without the comment markers. */
function docLines(doc) {
  return doc.replace(/^\/\*\*\s?|\s*\*\/$/g, '').split('\n').map((l) => l.replace(/^\s*\* ?/, '').trimEnd()).filter((l, i, all) => l !== '' || (i > 0 && i < all.length - 1));
}

const functions = [...preps].map(([name, { method, methods, doc }]) => {
  const params = SIGNATURES[name].map(([p, type]) => `${p}: ${type}`);
  const cNames = SIGNATURES[name].map(([p]) => p.replace('?', ''));
  const lines = [
    `liburing's \`${name}(${['sqe', ...cNames].join(', ')})\`: prepares \`sqe\` for what \`ring.${method}()\` does${methods.length > 1 ? ` (also \`${methods.filter((m) => m !== method).map((m) => `ring.${m}()`).join('`, `')}\`)` : ''}.`,
    '',
    ...docLines(doc),
  ];
  return [
    '/**',
    ...lines.map((l) => (l === '' ? ' *' : ` * ${l}`)),
    ' */',
    `export function ${name}(${['sqe: io_uring_sqe', ...params].join(', ')}): void {`,
    `  callPrep('${name}', arguments);`,
    '}',
  ].join('\n');
});

const text = [
  '// Generated by `node scripts/gen-liburing.mjs` from the liburing names of the opcode',
  '// table (OPS in lib/ops.ts) and liburing\'s signatures: do not edit. `npm run lint`',
  '// fails when it is stale.',
  "import type { SocketAddressInput } from './net';",
  "import { callPrep, type __kernel_timespec, type epoll_event, type futex_waitv, type io_uring_iovec, type io_uring_sqe, type msghdr, type open_how } from './liburing-sqe';",
  '',
  functions.join('\n\n'),
  '',
].join('\n');

const current = fs.existsSync(outFile) ? fs.readFileSync(outFile, 'utf8') : undefined;
if (process.argv.slice(2).includes('--check')) {
  if (current !== text) {
    console.error('gen-liburing: lib/liburing-preps.ts is stale: run `node scripts/gen-liburing.mjs`');
    process.exit(1);
  }
  console.log(`gen-liburing: lib/liburing-preps.ts is current (${preps.size} preps)`);
} else if (current !== text) {
  fs.writeFileSync(outFile, text);
  console.log(`gen-liburing: wrote lib/liburing-preps.ts (${preps.size} preps)`);
} else {
  console.log(`gen-liburing: lib/liburing-preps.ts is current (${preps.size} preps)`);
}
