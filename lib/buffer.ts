// Library-owned aligned memory: what O_DIRECT needs, and the zero-copy path of Ring.
import { fromNative, outOfRange } from './errors';
import { native, type NativeMemory } from './native';
import { validateInteger } from './validate';

/** ArrayBuffers whose memory the library owns, with the owner the kernel may pin. */
const owned = new WeakMap<ArrayBufferLike, NativeMemory>();

/**
 * Allocates `size` zeroed bytes aligned to `alignment` (a power of two, default 4096),
 * as a Buffer. O_DIRECT accepts it, and Ring operations on it are zero-copy: the
 * memory stays valid while any operation uses it, even if the Buffer is garbage
 * collected, transferred or detached meanwhile.
 */
export function alignedBuffer(size: number, alignment = 4096): Buffer {
  validateInteger(size, 'size', 0, 2 ** 32);
  validateInteger(alignment, 'alignment', 1, 2 ** 21);
  if ((alignment & (alignment - 1)) !== 0) throw outOfRange('alignment', 'a power of two', alignment);
  let memory: NativeMemory;
  try {
    memory = new (native().NativeMemory)(size, alignment);
  } catch (e) {
    throw fromNative(e, 'alignedBuffer');
  }
  const buffer = memory.buffer() as Buffer;
  owned.set(buffer.buffer, memory);
  return buffer;
}

/** The library memory behind `view`, if it is an alignedBuffer (or a view of one). */
export function ownedMemory(view: ArrayBufferView): NativeMemory | undefined {
  return owned.get(view.buffer);
}
