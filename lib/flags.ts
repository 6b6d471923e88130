// Node's open flag strings ('r', 'w+', 'ax', ...) to O_* numbers.
import { constants } from 'node:fs';
import { invalidArgValue } from './errors';
import { validateInteger } from './validate';

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND, O_EXCL, O_SYNC } = constants;

const FLAGS = {
  r: O_RDONLY,
  rs: O_RDONLY | O_SYNC,
  sr: O_RDONLY | O_SYNC,
  'r+': O_RDWR,
  'rs+': O_RDWR | O_SYNC,
  'sr+': O_RDWR | O_SYNC,
  w: O_TRUNC | O_CREAT | O_WRONLY,
  wx: O_TRUNC | O_CREAT | O_WRONLY | O_EXCL,
  xw: O_TRUNC | O_CREAT | O_WRONLY | O_EXCL,
  'w+': O_TRUNC | O_CREAT | O_RDWR,
  'wx+': O_TRUNC | O_CREAT | O_RDWR | O_EXCL,
  'xw+': O_TRUNC | O_CREAT | O_RDWR | O_EXCL,
  a: O_APPEND | O_CREAT | O_WRONLY,
  ax: O_APPEND | O_CREAT | O_WRONLY | O_EXCL,
  xa: O_APPEND | O_CREAT | O_WRONLY | O_EXCL,
  as: O_APPEND | O_CREAT | O_WRONLY | O_SYNC,
  sa: O_APPEND | O_CREAT | O_WRONLY | O_SYNC,
  'a+': O_APPEND | O_CREAT | O_RDWR,
  'ax+': O_APPEND | O_CREAT | O_RDWR | O_EXCL,
  'xa+': O_APPEND | O_CREAT | O_RDWR | O_EXCL,
  'as+': O_APPEND | O_CREAT | O_RDWR | O_SYNC,
  'sa+': O_APPEND | O_CREAT | O_RDWR | O_SYNC,
} as const satisfies Record<string, number>;

/** The flag strings Node's fs accepts ('r', 'r+', 'w', 'wx', 'a+', ...), or O_* bits. */
export type OpenFlags = keyof typeof FLAGS | number;

/** O_CLOEXEC, which libuv adds to every open: descriptors never leak into children. */
export const O_CLOEXEC = 0o2000000;

/** Node flag string or O_* number to the flags passed to openat(2). */
export function parseOpenFlags(flags: unknown): number {
  if (flags === undefined || flags === null) return O_RDONLY | O_CLOEXEC;
  if (typeof flags === 'string') {
    const value = (FLAGS as Record<string, number>)[flags];
    if (value === undefined) throw invalidArgValue('flags', flags);
    return value | O_CLOEXEC;
  }
  if (typeof flags !== 'number') throw invalidArgValue('flags', flags);
  validateInteger(flags, 'flags', -(2 ** 31), 2 ** 31 - 1);
  return flags | O_CLOEXEC;
}
