// Sockets in TypeScript: socket addresses as Node writes them, checked with Node's
// codes and turned into `struct sockaddr_*` bytes by the native side (which builds
// and parses every address, ring-core's sockaddr.rs: the one place), and BufferRing,
// a provided buffer ring whose buffers a multishot receive fills.
import { fstatSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { endianness } from 'node:os';
import { badPort, fromNative, invalidArgType, invalidArgValue, invalidIpAddress, outOfRange } from './errors';
import { native } from './native';
import { IOV_MAX, iovMax } from './validate';
import type * as NativeModule from '../index';
import type { RingOpOptions } from './ops';

type NativeBufRing = NativeModule.NativeBufRing;
type NativeAddress = NativeModule.SocketAddress;

/** An IPv4 or IPv6 address and port, as `net.connect()` takes them. */
export interface InetAddress {
  /** '127.0.0.1', '::1', 'fe80::1%eth0' (an IP address, never a host name). */
  address: string;
  /** 0 to 65535 (0 when binding: the kernel picks one); a string of digits too, as `net` takes it. */
  port: number | string;
  /** 4 or 6 ('IPv4'/'IPv6' too); inferred from `address` when left out. */
  family?: 4 | 6 | 'IPv4' | 'IPv6';
  /** IPv6 flow label (default 0). */
  flowinfo?: number;
  /** IPv6 scope id (an interface index); a `%name` or `%index` suffix of `address` sets it too. */
  scopeid?: number;
}

/** A Unix domain socket address: a path, or with a leading '\0' an abstract name. */
export interface UnixAddress {
  path: string | Uint8Array;
}

/** An address a socket operation takes. */
export type SocketAddressInput = InetAddress | UnixAddress;

/** An address a socket operation gives back (a peer, a datagram's source). */
export type SocketAddress =
  | { address: string; port: number; family: 4 }
  | { address: string; port: number; family: 6; flowinfo?: number; scopeid?: number }
  | { path: string };

const UINT32_MAX = 2 ** 32 - 1;

/** The interface index of `%name` or `%index` (IPv6 zone), or undefined. */
function zoneIndex(zone: string): number | undefined {
  if (/^\d+$/.test(zone)) return Number(zone);
  if (!/^[\w.:-]+$/.test(zone)) return undefined;
  try {
    return Number(readFileSync(`/sys/class/net/${zone}/ifindex`, 'utf8').trim());
  } catch {
    return undefined;
  }
}

/**
 * A port as Node's `net` takes it: an integer from 0 to 65535, or a string of one
 * (`process.env.PORT`); anything else is ERR_SOCKET_BAD_PORT.
 */
function portOf(port: unknown): number {
  const text = typeof port === 'string' ? port.trim() : undefined;
  const n = typeof port === 'number' ? port : text !== undefined && text !== '' ? Number(text) : Number.NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw badPort('Port', port);
  return n;
}

function familyOf(family: unknown, name: string): 0 | 4 | 6 {
  if (family === undefined) return 0;
  if (family === 4 || family === 'IPv4') return 4;
  if (family === 6 || family === 'IPv6') return 6;
  throw invalidArgValue(name, family, "must be 4, 6, 'IPv4' or 'IPv6'");
}

/**
 * The `struct sockaddr_*` bytes of `value`, an address as Node writes it; throws
 * ERR_INVALID_ARG_TYPE, ERR_SOCKET_BAD_PORT, ERR_INVALID_IP_ADDRESS or
 * ERR_INVALID_ARG_VALUE (before anything reaches the kernel).
 */
export function encodeAddress(value: unknown, name = 'address'): Buffer {
  if (value === null || typeof value !== 'object') throw invalidArgType(name, 'of type object', value);
  if ('path' in value) {
    const { path } = value as UnixAddress;
    if (typeof path !== 'string' && !(path instanceof Uint8Array)) throw invalidArgType(`${name}.path`, 'of type string or an instance of Buffer or Uint8Array', path);
    const bytes = typeof path === 'string' ? Buffer.from(path) : path;
    if (bytes.byteLength === 0) throw invalidArgValue(`${name}.path`, path, 'must not be empty');
    if (bytes.byteLength > 108 || (bytes[0] !== 0 && bytes.byteLength > 107)) {
      throw invalidArgValue(`${name}.path`, path, 'must be at most 107 bytes (108 for an abstract name): the size of sun_path');
    }
    if (bytes[0] !== 0 && bytes.includes(0)) throw invalidArgValue(`${name}.path`, path, 'must be a string without null bytes');
    try {
      return native().sockaddrUnix(bytes);
    } catch (e) {
      throw fromNative(e, 'sockaddr');
    }
  }
  const { address, port, family, flowinfo = 0, scopeid } = value as InetAddress;
  if (typeof address !== 'string') throw invalidArgType(`${name}.address`, 'of type string', address);
  const portNumber = portOf(port);
  const wanted = familyOf(family, `${name}.family`);
  const kind = isIP(address);
  if (kind === 0) throw invalidIpAddress(address);
  if (wanted !== 0 && wanted !== kind) throw invalidArgValue(`${name}.family`, family, `must match the address ${address} (IPv${kind})`);
  let text = address;
  let scope = 0;
  if (kind === 6) {
    if (typeof flowinfo !== 'number' || !Number.isInteger(flowinfo) || flowinfo < 0 || flowinfo > 0xfffff) {
      throw invalidArgValue(`${name}.flowinfo`, flowinfo, 'must be an integer from 0 to 0xfffff');
    }
    const percent = address.indexOf('%');
    if (percent >= 0) {
      text = address.slice(0, percent);
      const zone = address.slice(percent + 1);
      // A scope id is 32 bits: a larger index would wrap to another interface.
      if (/^\d+$/.test(zone) && Number(zone) > UINT32_MAX) throw invalidArgValue(`${name}.address`, address, 'has a zone index above 2^32 - 1');
      const index = zoneIndex(zone);
      if (index === undefined) throw invalidIpAddress(address);
      scope = index;
    }
    if (scopeid !== undefined) {
      if (typeof scopeid !== 'number' || !Number.isInteger(scopeid) || scopeid < 0 || scopeid > UINT32_MAX) {
        throw invalidArgValue(`${name}.scopeid`, scopeid, 'must be an integer from 0 to 2^32 - 1');
      }
      scope = scopeid;
    }
  }
  try {
    return native().sockaddrInet(text, portNumber, kind, kind === 6 ? flowinfo : 0, scope);
  } catch {
    // isIP took it, std::net did not (a form only one of them reads).
    throw invalidIpAddress(address);
  }
}

/** An address from the native side, in the shape Node's `net` gives addresses. */
export function addressOf(raw: NativeAddress | null | undefined): SocketAddress | undefined {
  if (raw === null || raw === undefined) return undefined;
  if (raw.family === 0) return { path: raw.path ?? '' };
  if (raw.family === 4) return { address: raw.address!, port: raw.port!, family: 4 };
  const out: SocketAddress = { address: raw.address!, port: raw.port!, family: 6 };
  if (raw.flowinfo) out.flowinfo = raw.flowinfo;
  if (raw.scopeid) out.scopeid = raw.scopeid;
  return out;
}

/** The address in `bytes` (what the kernel wrote: the first `length` bytes are it). */
export function decodeAddress(bytes: Uint8Array): SocketAddress | undefined {
  return bytes.byteLength < 2 ? undefined : addressOf(native().sockaddrDecode(bytes));
}

/**
 * The address socket `fd` is bound to (getsockname(2), a plain system call that never
 * blocks): after binding to port 0, the port the kernel picked. Throws an IoError
 * (EBADF, ENOTSOCK).
 */
export function localAddress(fd: number): SocketAddress | undefined {
  try {
    return addressOf(native().localAddress(fd));
  } catch (e) {
    throw fromNative(e, 'getsockname');
  }
}

/** The address of the peer socket `fd` is connected to (getpeername(2)); ENOTCONN if none. */
export function peerAddress(fd: number): SocketAddress | undefined {
  try {
    return addressOf(native().peerAddress(fd));
  } catch (e) {
    throw fromNative(e, 'getpeername');
  }
}

/** SO_LINGER's value (`struct linger`): whether close waits for unsent data, and how many seconds. */
export interface Linger {
  /** Whether close waits (up to `linger` seconds) for unsent data. */
  onoff: boolean;
  /** Seconds (0 with `onoff`: close resets the connection). */
  linger: number;
}

const SOL_SOCKET = 1;
const SO_TYPE = 3;
const SOCK_DGRAM = 2;
const SOCK_SEQPACKET = 5;

/** SOL_SOCKET, IPPROTO_TCP, IPPROTO_IPV6 (levels; the same on every Linux architecture). */
/** The level of socket options (`constants.SOL_SOCKET`). */
export type SolSocket = 1;
/** The level of TCP options (`constants.IPPROTO_TCP`). */
export type IpprotoTcp = 6;
/** The level of IPv6 options (`constants.IPPROTO_IPV6`). */
export type IpprotoIpv6 = 41;

/**
 * The value of option `N` at level `L`: boolean for the on/off options (SO_REUSEADDR,
 * SO_REUSEPORT, SO_KEEPALIVE, TCP_NODELAY, IPV6_V6ONLY), a number for sizes and times
 * (SO_RCVBUF, SO_SNDBUF, TCP_KEEPIDLE), `Linger` for SO_LINGER; any other option
 * takes a number (an int), a boolean or the option's bytes, and reads back as bytes.
 */
export type SocketOptionValue<L extends number, N extends number> =
  L extends SolSocket ? (N extends 2 | 9 | 15 ? boolean : N extends 7 | 8 ? number : N extends 13 ? Linger : RawSocketOption)
    : L extends IpprotoTcp ? (N extends 1 ? boolean : N extends 4 ? number : RawSocketOption)
      : L extends IpprotoIpv6 ? (N extends 26 ? boolean : RawSocketOption)
        : RawSocketOption;

/** What `getsockopt` gives for an option it has no type for: the bytes the kernel wrote. */
export type RawSocketOption = number | boolean | ArrayBufferView;

/** What `getsockopt` resolves to: the typed value, or a Buffer of the option's bytes. */
export type SocketOptionResult<L extends number, N extends number> =
  SocketOptionValue<L, N> extends RawSocketOption ? (RawSocketOption extends SocketOptionValue<L, N> ? Buffer : SocketOptionValue<L, N>) : SocketOptionValue<L, N>;

/** `ring.setsockopt` and `ring.getsockopt`, typed by level and name. */
export interface SocketOptionMethods {
  /**
   * Sets socket option `name` at `level` on socket `fd` (IORING_OP_URING_CMD with
   * SOCKET_URING_OP_SETSOCKOPT, 6.7; setsockopt(2) on older kernels: it never
   * blocks). The common options take typed values (`SO_REUSEADDR`: boolean,
   * `SO_RCVBUF`: number, `SO_LINGER`: `{ onoff, linger }`, ...); any other takes a
   * Buffer of its bytes.
   */
  setsockopt<L extends number, N extends number>(fd: number, level: L, name: N, value: SocketOptionValue<L, N>, options?: RingOpOptions): Promise<void>;
  /**
   * Reads socket option `name` at `level` of socket `fd` (SOCKET_URING_OP_GETSOCKOPT,
   * 6.7, at SOL_SOCKET; getsockopt(2) otherwise), typed as `setsockopt` takes it.
   */
  getsockopt<L extends number, N extends number>(fd: number, level: L, name: N, options?: RingOpOptions): Promise<SocketOptionResult<L, N>>;
}

/** How each typed option's value is written: its kind and, for numbers, the range the kernel takes. */
const SOCKET_OPTIONS = new Map<string, { name: string; kind: 'boolean' | 'number' | 'linger'; min?: number; max?: number }>([
  ['1:2', { name: 'SO_REUSEADDR', kind: 'boolean' }],
  ['1:15', { name: 'SO_REUSEPORT', kind: 'boolean' }],
  ['1:9', { name: 'SO_KEEPALIVE', kind: 'boolean' }],
  ['1:8', { name: 'SO_RCVBUF', kind: 'number', min: 0, max: 2 ** 31 - 1 }],
  ['1:7', { name: 'SO_SNDBUF', kind: 'number', min: 0, max: 2 ** 31 - 1 }],
  ['1:13', { name: 'SO_LINGER', kind: 'linger' }],
  ['6:1', { name: 'TCP_NODELAY', kind: 'boolean' }],
  // MAX_TCP_KEEPIDLE.
  ['6:4', { name: 'TCP_KEEPIDLE', kind: 'number', min: 1, max: 32767 }],
  ['41:26', { name: 'IPV6_V6ONLY', kind: 'boolean' }],
]);

/** The most bytes of an option value (`SOCKOPT_MAX` in ring-core's sockaddr.rs). */
export const SOCKOPT_MAX = 256;
const INT32_MAX = 2 ** 31 - 1;

/** An int as the kernel reads it: 4 bytes in this CPU's order. */
function intBytes(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setInt32(0, n, endianness() === 'LE');
  return out;
}

function intOf(bytes: Uint8Array, at = 0): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt32(at, endianness() === 'LE');
}

/**
 * The bytes of socket option `name` at `level` set to `value`, checked with Node's
 * codes (ERR_INVALID_ARG_TYPE, ERR_OUT_OF_RANGE) before anything reaches the kernel.
 */
export function encodeSocketOption(level: number, name: number, value: unknown): Uint8Array {
  const known = SOCKET_OPTIONS.get(`${level}:${name}`);
  const label = known?.name ?? 'value';
  switch (known?.kind) {
    case 'boolean':
      if (typeof value !== 'boolean') throw invalidArgType(label, 'of type boolean', value);
      return intBytes(value ? 1 : 0);
    case 'number':
      if (typeof value !== 'number') throw invalidArgType(label, 'of type number', value);
      if (!Number.isInteger(value) || value < known.min! || value > known.max!) throw outOfRange(label, `an integer >= ${known.min} and <= ${known.max}`, value);
      return intBytes(value);
    case 'linger': {
      if (value === null || typeof value !== 'object') throw invalidArgType(label, 'of type object', value);
      const { onoff, linger } = value as Linger;
      if (typeof onoff !== 'boolean') throw invalidArgType(`${label}.onoff`, 'of type boolean', onoff);
      if (typeof linger !== 'number') throw invalidArgType(`${label}.linger`, 'of type number', linger);
      if (!Number.isInteger(linger) || linger < 0 || linger > INT32_MAX) throw outOfRange(`${label}.linger`, `an integer >= 0 and <= ${INT32_MAX}`, linger);
      const out = new Uint8Array(8);
      out.set(intBytes(onoff ? 1 : 0), 0);
      out.set(intBytes(linger), 4);
      return out;
    }
    default:
      if (typeof value === 'boolean') return intBytes(value ? 1 : 0);
      if (typeof value === 'number') {
        if (!Number.isInteger(value) || value < -(2 ** 31) || value > INT32_MAX) throw outOfRange(label, 'a 32-bit integer', value);
        return intBytes(value);
      }
      if (!ArrayBuffer.isView(value)) throw invalidArgType(label, 'of type number or boolean or an instance of Buffer, TypedArray, or DataView', value);
      if (value.byteLength > SOCKOPT_MAX) throw outOfRange(`${label}.byteLength`, `<= ${SOCKOPT_MAX}`, value.byteLength);
      return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
}

/** How many bytes option `name` at `level` reads back into (its own size if typed). */
export function socketOptionSize(level: number, name: number): number {
  const kind = SOCKET_OPTIONS.get(`${level}:${name}`)?.kind;
  return kind === undefined ? SOCKOPT_MAX : kind === 'linger' ? 8 : 4;
}

/** The value of option `name` at `level` from the `bytes` the kernel wrote. */
export function decodeSocketOption(level: number, name: number, bytes: Uint8Array): unknown {
  switch (SOCKET_OPTIONS.get(`${level}:${name}`)?.kind) {
    case 'boolean':
      return intOf(bytes) !== 0;
    case 'number':
      return intOf(bytes);
    case 'linger':
      return { onoff: intOf(bytes) !== 0, linger: intOf(bytes, 4) };
    default:
      return Buffer.from(bytes);
  }
}

/** Whether `fd` is a datagram socket (SOCK_DGRAM or SOCK_SEQPACKET: each read or write is one message). */
function isMessageSocket(fd: number): boolean {
  try {
    if (!fstatSync(fd).isSocket()) return false;
    const type = native().getsockoptNow(fd, SOL_SOCKET, SO_TYPE);
    const kind = type.byteLength >= 4 ? intOf(type) : 0;
    return kind === SOCK_DGRAM || kind === SOCK_SEQPACKET;
  } catch {
    // A bad fd: the kernel reports it.
    return false;
  }
}

/**
 * The views a readv/writev of `fd` hands the kernel. Past IOV_MAX (1024) a file or a
 * stream socket takes the first 1024, and the result is a short count (as node:fs's
 * readv/writev report it); a datagram socket would silently lose the message's tail,
 * so there every view goes down and the kernel refuses them (EINVAL). Looked up only
 * past IOV_MAX.
 */
export function vectorsFor(fd: number, views: readonly ArrayBufferView[]): ArrayBufferView[] {
  return views.length > IOV_MAX && isMessageSocket(fd) ? (views as ArrayBufferView[]) : iovMax(views);
}

/** A chunk `recvMultishot` yields: a Buffer over a buffer ring's slot, or a copy of a small one. */
export interface RingChunk extends Buffer {
  /**
   * Gives the slot back to the kernel (as `bufferRing.release(chunk)`): the chunk,
   * and every view of its memory, becomes empty (its ArrayBuffer is detached).
   * Returns false if it was given back already, or if the chunk is a copy (at most
   * `copyUpTo` bytes: its slot went back when it was copied, and the copy stays yours).
   */
  release(): boolean;
}

/** Options of `ring.bufferRing()`. */
export interface BufferRingOptions {
  /** How many buffers: a power of two, 1 to 32768. */
  count: number;
  /** Bytes per buffer: the most one chunk holds. */
  size: number;
  /**
   * Chunks of at most this many bytes are copied into a Buffer of their own as they
   * are received, and their buffer goes straight back to the kernel (default 4096,
   * capped at `size`; 0: every chunk is a zero-copy view that holds its buffer).
   */
  copyUpTo?: number;
}

/** `copyUpTo` when left out: a copy this small comes from Node's Buffer pool and costs less than a held view. */
export const DEFAULT_COPY_UP_TO = 4096;

/** A row's extra field at or above this carries a copied chunk's place in the arena (see `BufferRing.copied`). */
export const COPIED_CHUNK = 2 ** 32;

/** How soon, and at most how seldom, a dry buffer ring looks for buffers collected chunks gave back. */
const COLLECTED_FIRST_MS = 5;
const COLLECTED_LAST_MS = 1000;

/** The ring and taking of each live chunk. */
const chunks = new WeakMap<Buffer, { ring: BufferRing; bid: number; generation: number }>();

const chunkPrototype: object = Object.create(Buffer.prototype, {
  release: {
    value(this: Buffer): boolean {
      const found = chunks.get(this);
      return found !== undefined && found.ring.release(this);
    },
  },
});

/** A copied chunk's: nothing to give back. */
const copiedChunkPrototype: object = Object.create(Buffer.prototype, {
  release: {
    value(): boolean {
      return false;
    },
  },
});

/**
 * A provided buffer ring (IORING_REGISTER_PBUF_RING, kernel 5.19), made by
 * `ring.bufferRing({ count, size })`: `count` buffers of `size` bytes, library-owned
 * memory registered with the ring under a buffer group id. `ring.recvMultishot(fd,
 * { bufferRing })` receives into them: the kernel picks a free buffer for each chunk
 * of data and hands it over; the chunk is yielded as a Buffer over that memory
 * (zero-copy), and the buffer goes back to the kernel only when JS gives it back:
 * `bufferRing.release(chunk)` (or `chunk.release()`), or, as a safety net, when the
 * chunk is garbage-collected. Until then the kernel never writes there. The memory
 * lives until the ring is closed and every chunk is gone. One buffer ring can serve
 * many sockets; when all of its buffers are held a receive waits (the kernel's
 * ENOBUFS) and starts again by itself once one is released: no data is lost.
 */
export class BufferRing {
  readonly #native: NativeBufRing;
  readonly #waiters: (() => void)[] = [];
  /** The ring's chunk arena (see `copied`), if chunks are copied. */
  readonly #arena: Buffer | undefined;
  readonly #count: number;

  /** @internal Made by `ring.bufferRing()`. */
  constructor(nativeRing: NativeBufRing, arena?: Buffer) {
    this.#native = nativeRing;
    this.#arena = arena;
    this.#count = nativeRing.count;
  }

  /** The largest chunk copied into a Buffer of its own (0: none; see `ring.bufferRing`'s `copyUpTo`). */
  get copyUpTo(): number {
    return this.#arena === undefined ? 0 : this.#native.copyUpTo;
  }

  /**
   * @internal A chunk of `length` bytes the native side copied into the arena at `at`
   * while writing the row being handled (its buffer went back then): copied out now,
   * before any other row can overwrite it.
   */
  copied(at: number, length: number): RingChunk {
    const chunk = Buffer.allocUnsafe(length);
    this.#arena!.copy(chunk, 0, at, at + length);
    Object.setPrototypeOf(chunk, copiedChunkPrototype);
    return chunk as RingChunk;
  }

  /** @internal */
  get native(): NativeBufRing {
    return this.#native;
  }

  /** How many buffers (a power of two). */
  get count(): number {
    return this.#count;
  }

  /** Bytes per buffer: the most one chunk holds. */
  get size(): number {
    return this.#native.size;
  }

  /** The buffer group id the kernel knows it by (IOSQE_BUFFER_SELECT). */
  get groupId(): number {
    return this.#native.bgid;
  }

  /** Buffers the kernel may fill now (not held by a chunk). */
  get available(): number {
    return this.count - this.#native.held;
  }

  /**
   * Gives `chunk`'s buffer back to the kernel. The chunk, and every view of its
   * memory, becomes empty (its ArrayBuffer is detached), so nothing reads memory the
   * kernel may be filling again. Returns false if `chunk` is not a live chunk of this
   * ring (given back already, or never one).
   */
  release(chunk: Buffer): boolean {
    const found = chunks.get(chunk);
    if (found === undefined || found.ring !== this) return false;
    chunks.delete(chunk);
    this.#native.detach(chunk);
    const given = this.#native.giveBack(found.bid, found.generation);
    if (given) this.#wake();
    return given;
  }

  /** @internal A chunk of `length` bytes over buffer `bid`, which a completion handed over. */
  chunk(bid: number, length: number): RingChunk {
    const generation = this.#native.take(bid);
    if (generation < 0) throw new Error(`buffer ${bid} of group ${this.groupId} is not the kernel's to hand over`);
    const view = this.#native.view(bid, generation, length) as Buffer;
    Object.setPrototypeOf(view, chunkPrototype);
    chunks.set(view, { ring: this, bid, generation });
    return view as RingChunk;
  }

  /** @internal Gives buffer `bid` straight back (a completion handed it over with nothing to show). */
  giveBack(bid: number): void {
    const generation = this.#native.take(bid);
    if (generation >= 0 && this.#native.giveBack(bid, generation)) this.#wake();
  }

  /**
   * @internal Resolves once a buffer may be free for a receive the kernel stopped
   * (ENOBUFS): at the next turn if one is, else when one is given back. Waiters are
   * woken oldest first, one per free buffer (not all at each release: the rest would
   * only run dry again). A chunk the garbage collector gave back tells no one, so
   * while waiters wait with nothing free a single timer of the ring looks at the count
   * (no system call), after 5 ms, then less and less often (up to once a second).
   */
  whenAvailable(): Promise<void> {
    if (this.available > this.#waiters.length) return new Promise((resolve) => setImmediate(resolve));
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
      this.#watchCollected(COLLECTED_FIRST_MS);
    });
  }

  /** Wakes the oldest waiters, one per free buffer. */
  #wake(): void {
    for (let free = this.available; free > 0 && this.#waiters.length > 0; free--) this.#waiters.shift()!();
  }

  #collectedTimer: ReturnType<typeof setTimeout> | undefined;

  #watchCollected(ms: number): void {
    if (this.#collectedTimer !== undefined) return;
    this.#collectedTimer = setTimeout(() => {
      this.#collectedTimer = undefined;
      if (this.#waiters.length === 0) return;
      const free = this.available > 0;
      this.#wake();
      if (this.#waiters.length > 0) this.#watchCollected(free ? COLLECTED_FIRST_MS : Math.min(ms * 2, COLLECTED_LAST_MS));
    }, ms);
  }
}
