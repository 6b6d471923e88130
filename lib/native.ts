// The generated napi-rs loader (index.js at the package root). Loading it runs no
// io_uring or AIO syscall: rings are made only by `new Ring()`.
import type * as NativeModule from '../index';

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const native: typeof NativeModule = require('../index.js');
export type NativeRing = NativeModule.NativeRing;
export type NativeMemory = NativeModule.NativeMemory;
export type NativeAio = NativeModule.NativeAio;
