// Owns the memory of streamed uploads: at most `capacity` part buffers, allocated on demand and
// reused, replaced by bigger ones when parts grow.

/** A bounded pool of part buffers. */
export class PartPool {
  readonly #capacity: number;
  readonly #free: Buffer[] = [];
  #allocated = 0;

  /** @param capacity - most buffers alive at once (`queueSize + 1`). */
  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /**
   * A buffer of `bytes` bytes (a reused one when a free buffer is exactly that size), or
   * `undefined` when all `capacity` buffers are taken: wait for one to be released.
   */
  take(bytes: number): Buffer | undefined {
    const index = this.#free.findIndex((b) => b.length === bytes);
    if (index !== -1) return this.#free.splice(index, 1)[0];
    // Parts grew: a free buffer of another size is dropped to make room for one of the new size.
    if (this.#allocated >= this.#capacity && this.#free.length > 0) {
      this.#free.pop();
      this.#allocated--;
    }
    if (this.#allocated >= this.#capacity) return undefined;
    this.#allocated++;
    return Buffer.allocUnsafeSlow(bytes);
  }

  /** Gives a buffer back once nothing reads it any more. */
  release(buffer: Buffer): void {
    this.#free.push(buffer);
  }
}
