import { ringTest, runChild, tmpFile, pattern } from './helpers.mjs';

ringTest('leak: RSS stays flat over 1.75 million operations and 3500 rings', (t) => {
  const file = tmpFile(pattern(1 << 20));
  const r = runChild(`
    import fs from 'node:fs';
    import { Ring, alignedBuffer } from DIST;
    const ring = new Ring({ entries: 64 });
    const fd = fs.openSync(${JSON.stringify(file)}, 'r');
    const aligned = Array.from({ length: 64 }, () => alignedBuffer(4096));
    async function ops(n) {
      for (let done = 0; done < n; done += 64) {
        await Promise.all(Array.from({ length: 64 }, (_, i) => {
          const pos = ((done + i) * 4096) % (1 << 20);
          if (i % 4 === 0) return ring.nop();
          if (i % 4 === 1) return ring.read(fd, aligned[i], pos);
          return ring.read(fd, Buffer.alloc(4096), pos);
        }));
      }
      for (let i = 0; i < 500; i++) await new Ring({ entries: 4 }).destroy();
    }
    // Collect, and let deferred finalizers run between collections.
    async function rss() {
      for (let i = 0; i < 3; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 10)); }
      return process.memoryUsage().rss / 2 ** 20;
    }
    // The young generation starts at full size (--min-semi-space-size), so V8's one-off
    // heap growth does not land inside the measurement.
    await ops(250_000);
    const samples = [];
    for (let i = 0; i < 6; i++) { await ops(250_000); samples.push(await rss()); }
    console.log(JSON.stringify(samples));
  `, { args: ['--expose-gc', '--min-semi-space-size=16'], timeout: 150000 });
  t.is(r.status, 0, r.stderr);
  const samples = JSON.parse(r.stdout);
  const growth = samples[5] - samples[0];
  t.log(`RSS after each further 250k operations (MiB): ${samples.map((s) => s.toFixed(1)).join(', ')}`);
  t.true(growth < 8, `RSS grew ${growth.toFixed(1)} MiB over 1.25M operations`);
});
