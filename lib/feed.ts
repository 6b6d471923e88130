// Feed: an async iterator that values are pushed into (multishot results, messages).
// Unlike an async generator, its return() settles a pending next() at once, so
// `Promise.race([it.next(), timeout])` followed by `it.return()` never hangs.
import { invalidState } from './errors';

export interface FeedHooks {
  /** The first next(): start producing (an argument error rejects that next()). */
  start?: () => void;
  /** return() or throw(): stop producing; resolves once nothing more can arrive. */
  stop?: () => Promise<void>;
  /** Whether a next() is waiting for a value (to keep the process alive meanwhile). */
  waiting?: (waiting: boolean) => void;
  /** A value dropped unread because the consumer left (release what it holds). */
  discard?: (value: unknown) => void;
}

export class Feed<T> implements AsyncIterableIterator<T> {
  readonly #queue: T[] = [];
  readonly #hooks: FeedHooks;
  #started = false;
  #ended = false;
  #failure: { error: unknown } | undefined;
  #waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;

  constructor(hooks: FeedHooks) {
    this.#hooks = hooks;
  }

  /** Whether the consumer left or the producer ended it: pushes are dropped then. */
  get closed(): boolean {
    return this.#ended;
  }

  push(value: T): void {
    if (this.#ended) {
      this.#hooks.discard?.(value);
      return;
    }
    const waiter = this.#take();
    if (waiter !== undefined) waiter.resolve({ value, done: false });
    else this.#queue.push(value);
  }

  /** Ends the feed: queued values are still delivered, then `error` (if any) or done. */
  end(error?: { error: unknown }): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#failure = error;
    const waiter = this.#take();
    if (waiter === undefined) return;
    if (error !== undefined) {
      this.#failure = undefined;
      waiter.reject(error.error);
    } else {
      waiter.resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#queue.length > 0) return Promise.resolve({ value: this.#queue.shift()!, done: false });
    if (this.#failure !== undefined) {
      const { error } = this.#failure;
      this.#failure = undefined;
      return Promise.reject(error);
    }
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    if (this.#waiter !== undefined) return Promise.reject(invalidState('next() called while an earlier next() is pending: await each before the next'));
    const pending = new Promise<IteratorResult<T>>((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
    this.#hooks.waiting?.(true);
    if (!this.#started) {
      this.#started = true;
      try {
        this.#hooks.start?.();
      } catch (e) {
        this.end({ error: e });
      }
    }
    return pending;
  }

  async return(): Promise<IteratorResult<T>> {
    const wasEnded = this.#ended;
    this.#ended = true;
    for (const value of this.#queue.splice(0)) this.#hooks.discard?.(value);
    this.#failure = undefined;
    this.#take()?.resolve({ value: undefined, done: true });
    if (!wasEnded && this.#started) await this.#hooks.stop?.();
    return { value: undefined, done: true };
  }

  async throw(error: unknown): Promise<IteratorResult<T>> {
    await this.return();
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #take(): { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined {
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#waiter = undefined;
      this.#hooks.waiting?.(false);
    }
    return waiter;
  }
}
