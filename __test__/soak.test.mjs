// The soak (scripts/soak.mjs) in its short form: 50,000 mixed operations, each settled
// exactly once with the right bytes. `npm run soak` runs 10 million.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ringTest } from './helpers.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

ringTest('soak-short: 50,000 mixed operations each settle exactly once, with the right bytes', async (t) => {
  t.timeout(120_000);
  const child = spawn(process.execPath, ['--expose-gc', 'scripts/soak.mjs', '--ops', '50000', '--json'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  const status = await new Promise((resolve) => child.on('close', resolve));
  const record = JSON.parse(out);
  t.is(record.counts.settled, record.counts.issued, 'every operation settled');
  t.is(record.counts.twice, 0, 'none settled twice');
  t.is(record.counts.wrong, 0, 'no wrong byte or unexpected error');
  t.deepEqual(record.failures, []);
  t.true(record.counts.rings > 0 && record.counts.aborts > 0 && record.counts.timeouts > 0 && record.counts.aio > 0);
  t.is(status, 0, err);
});
