// The doc comments reach a user's editor: hovering a `Ring` method, a `ring.chain()`
// method or an io_uring_prep_* function in code that imports the built package shows
// its documentation (TypeScript's language service, as editors run it, over dist/*.d.ts).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import ts from 'typescript';
import { OPS } from '../dist/ops.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Quick info (what an editor shows on hover) at each `needle` of `code`, a module inside the package. */
function hover(code, needles) {
  const dir = path.join(root, '.snippets');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `hover-${process.pid}.mts`);
  fs.writeFileSync(file, code);
  const options = { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, strict: true, types: ['node'], typeRoots: [path.join(root, 'node_modules/@types')] };
  const host = {
    getScriptFileNames: () => [file],
    getScriptVersion: () => '1',
    getScriptSnapshot: (f) => (fs.existsSync(f) ? ts.ScriptSnapshot.fromString(fs.readFileSync(f, 'utf8')) : undefined),
    getCurrentDirectory: () => root,
    getCompilationSettings: () => options,
    getDefaultLibFileName: ts.getDefaultLibFilePath,
    fileExists: ts.sys.fileExists,
    readFile: ts.sys.readFile,
    readDirectory: ts.sys.readDirectory,
    directoryExists: ts.sys.directoryExists,
    getDirectories: ts.sys.getDirectories,
  };
  const service = ts.createLanguageService(host);
  try {
    return needles.map((needle) => {
      const at = code.indexOf(needle);
      const info = service.getQuickInfoAtPosition(file, at + needle.length - 1);
      return { needle, signature: ts.displayPartsToString(info?.displayParts), doc: ts.displayPartsToString(info?.documentation) };
    });
  } finally {
    fs.rmSync(file, { force: true });
  }
}

test('hover-ring-methods: every Ring method shows its doc comment on hover', (t) => {
  const names = Object.keys(OPS);
  const code = `import { Ring } from 'uring-aio';\ndeclare const ring: Ring;\n${names.map((n) => `ring.${n};`).join('\n')}\n`;
  const infos = hover(code, names.map((n) => `ring.${n};`.slice(0, -1)));
  for (const { needle, signature, doc } of infos) t.true(doc.length > 0, `${needle}: no documentation (${signature})`);
  const read = infos.find((i) => i.needle === 'ring.read');
  t.regex(read.doc, /IORING_OP_READ/);
  t.regex(read.signature, /fd: number, buffer: ArrayBufferView/);
});

test('hover-chain-methods: the methods of ring.chain() show the same doc comments', (t) => {
  const code = "import { Ring } from 'uring-aio';\ndeclare const ring: Ring;\nring.chain().write;\nring.chain().fsync;\n";
  for (const { needle, doc } of hover(code, ['chain().write', 'chain().fsync'])) t.true(doc.length > 0, needle);
});

test('hover-liburing-preps: an io_uring_prep_* function shows liburing\'s signature and the operation\'s doc', (t) => {
  const code = "import { io_uring_prep_read } from 'uring-aio/liburing';\nio_uring_prep_read;\n";
  const [info] = hover(code, ['\nio_uring_prep_read']);
  t.regex(info.signature, /sqe: io_uring_sqe, fd: number, buf: ArrayBufferView, nbytes: number, offset: number \| bigint/);
  t.regex(info.doc, /io_uring_prep_read\(sqe, fd, buf, nbytes, offset\)/);
  t.regex(info.doc, /IORING_OP_READ/);
});
