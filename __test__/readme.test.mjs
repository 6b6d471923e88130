// The documentation as a tested artifact: every TypeScript block of README.md and of the
// pages under docs/ runs as a user would run it (scripts/run-snippets.mjs; lint
// type-checks the same blocks with TypeScript 5.0 and 5.9).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ringTest } from './helpers.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

ringTest('doc-snippets-run: every TypeScript block of the README and of docs/*.md runs to the end', async (t) => {
  t.timeout(300_000);
  const child = spawn(process.execPath, ['scripts/run-snippets.mjs'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const status = await new Promise((resolve) => child.on('close', resolve));
  t.regex(out, /(\d+) of \1 documentation TypeScript blocks ran/, out);
  t.regex(out, /^ok {3}docs\/ring\.md:/m, 'the pages under docs/ are run too');
  t.is(status, 0, out);
});
