// Type-level checks, compiled by `npm run lint` (tsconfig.examples.json, strict): a
// TypeScript project written against node:fs/promises compiles unchanged after its
// import is swapped for uring-aio/fs.
import * as fsFromUringAio from 'uring-aio/fs';
import fsDefault from 'uring-aio/fs';

/** The whole module is assignable to node:fs/promises. */
export const asNode: typeof import('node:fs/promises') = fsFromUringAio;

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

export const checks: [
  Equal<Awaited<ReturnType<typeof fsFromUringAio.open>>, import('node:fs/promises').FileHandle>,
] = [true];

/** Code as a node:fs/promises user writes it. */
export async function usedAsNode(p: string, flag: string, data: Uint8Array): Promise<number> {
  const text = await fsFromUringAio.readFile(p, 'utf8');
  const lines: string[] = text.split('\n');
  const bytes: Buffer = await fsFromUringAio.readFile(p);
  const either: string | Buffer = await fsFromUringAio.readFile(p, { encoding: flag as BufferEncoding });
  await using handle = await fsFromUringAio.open(p, flag);
  const { bytesRead } = await handle.read(Buffer.alloc(10), 0, 10, 0);
  const { bytesWritten } = await handle.write(data, 0, 1, 0);
  const s = await fsDefault.stat(p);
  const big = await fsFromUringAio.stat(p, { bigint: true });
  const made: string | undefined = await fsFromUringAio.mkdir(p, { recursive: true });
  return lines.length + bytes.length + either.length + bytesRead + bytesWritten + s.size + Number(big.size) + (made?.length ?? 0);
}
