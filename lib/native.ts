// The native addon (src/, built by napi-rs), loaded on first use by ./loader.
import type * as NativeModule from '../index';
import { loadAddon } from './loader';

export type NativeRing = NativeModule.NativeRing;
export type NativeMemory = NativeModule.NativeMemory;
export type NativeAio = NativeModule.NativeAio;

let addon: typeof NativeModule | undefined;

/** The addon; throws the loader's coded error where there is none for this system. */
export function native(): typeof NativeModule {
  return (addon ??= loadAddon<typeof NativeModule>());
}
