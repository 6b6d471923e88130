// The README's AioContext example, compiled by `npm run lint` (tsconfig.examples.json)
// under strict TypeScript; keep it in step with the README.
import fs from 'node:fs';
import { AioContext, alignedBuffer, eventfd, type AioRequest } from 'uring-aio';

export async function readmeAioContextExample(): Promise<void> {
  const fd = fs.openSync('data.bin', fs.constants.O_RDONLY | fs.constants.O_DIRECT);
  const ctx = new AioContext(64);                           // io_setup(64)
  const reqs: AioRequest[] = [0, 1, 2].map((i) => ({ command: 'pread', fd, buffer: alignedBuffer(4096), offset: i * 4096, data: i }));
  ctx.submit(reqs);                                         // one io_submit for all three
  const events = await ctx.getEvents(1, 64, { timeout: 100 }); // up to 64 events once 1 is ready, or what is ready after 100 ms
  for (const e of events) console.log(e.data, e.res, e.res2, e.error?.message); // struct io_event; error: an IoError for res < 0
  const cancelled = ctx.cancel(reqs[2]);                    // io_cancel's answer: false, file reads are never cancellable
  const efd = eventfd();                                    // an eventfd of yours (close it with fs.closeSync)
  ctx.submit([{ command: 'pread', fd, buffer: alignedBuffer(4096), offset: 0, eventfd: efd, reqprio: (2 << 13) | 4 }]);
  const counter = Buffer.alloc(8);
  fs.readSync(efd, counter);                                // the kernel signalled efd (blocks until it has): counter.readBigUInt64LE() >= 1n
  await ctx.getEvents(1, 64, { sigmask: ['SIGINT'] });      // collects with io_pgetevents, SIGINT blocked during the call
  await ctx.destroy();                                      // io_destroy once everything has settled
  fs.closeSync(efd);
  console.log(cancelled);
}
