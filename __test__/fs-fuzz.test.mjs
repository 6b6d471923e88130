// The differential fuzzer of uring-aio/fs (scripts/fs-fuzz.mjs) in its short form:
// seeded random sequences of calls on node:fs/promises and on uring-aio/fs in twin
// directories, with equal results, error shapes and trees at every step.
// FS_FUZZ_SEED and FS_FUZZ_STEPS choose another run; `npm run soak` runs 1,000,000 steps.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as uringFs from 'uring-aio/fs';
import { fuzz } from '../scripts/fs-fuzz.mjs';
import { ringTest } from './helpers.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const seed = Number(process.env.FS_FUZZ_SEED ?? 1);
const steps = Number(process.env.FS_FUZZ_STEPS ?? 2000);

ringTest(`fs-fuzz: ${steps} random steps from seed ${seed} give what node:fs/promises gives`, async (t) => {
  t.timeout(120_000);
  const result = await fuzz({ ours: uringFs, seed, steps });
  t.log(`${result.steps} steps, ${result.mismatches.length} mismatches`);
  for (const m of result.mismatches) t.log(`mismatch at seed ${m.seed}, step ${m.step}: ${JSON.stringify(m)}`);
  t.is(result.steps, steps);
  t.deepEqual(result.mismatches, []);
});

ringTest('fs-fuzz: 1000 random steps on the node:fs fallback give what node:fs/promises gives', async (t) => {
  t.timeout(120_000);
  const child = spawn(process.execPath, ['scripts/fs-fuzz.mjs', '--steps', '1000', '--seed', String(seed + 5000)], {
    cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, URING_AIO_FS_BACKEND: 'node:fs' },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  const status = await new Promise((resolve) => child.on('close', resolve));
  t.log(out.split('\n')[0]);
  const summary = JSON.parse(out.split('\n')[0]);
  t.is(summary.backend, 'node:fs');
  t.is(summary.steps, 1000);
  t.is(summary.mismatches, 0, out);
  t.is(status, 0, err);
});
