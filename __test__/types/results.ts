// Type-level checks, compiled by `npm run lint` (tsconfig.examples.json): each Ring
// method's promise carries its real result type, not `never` or `any`.
import { Ring, Stats } from 'uring-aio';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Result<K extends keyof Ring> = Ring[K] extends (...args: never[]) => Promise<infer R> ? R : never;
type Yields<K extends keyof Ring> = Ring[K] extends (...args: never[]) => AsyncIterableIterator<infer R> ? R : never;

export const checks: [
  Equal<Result<'read'>, number>,
  Equal<Result<'stat'>, Stats>,
  Equal<Result<'pipe'>, [number, number]>,
  Equal<Result<'close'>, void>,
  Equal<Result<'getxattr'>, Buffer>,
  Equal<Yields<'pollMultishot'>, number>,
  Equal<Parameters<Ring['splice']>[0], number>,
] = [true, true, true, true, true, true, true];

/** Open flags are the strings Node accepts, or numbers: a typo is a type error. */
export async function flagsAreTyped(ring: Ring): Promise<void> {
  await ring.open('data.bin', 'r+');
  await ring.open('data.bin', 0o2);
  // @ts-expect-error 'rw' is not a flag string Node accepts
  await ring.open('data.bin', 'rw');
}
