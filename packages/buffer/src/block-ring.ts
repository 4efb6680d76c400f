// The RAM ring of fixed-size blocks that holds a recording's most recent audio.
/**
 * The RAM part of a buffer: a ring of fixed-size blocks holding the most recent audio. Block
 * buffers are allocated on first use and then reused, so appending allocates nothing in steady
 * state. Blocks `[first, first + count)` are resident; older ones live only in the spool file.
 */
export class BlockRing {
  /** Bytes per block. */
  readonly blockBytes: number;
  /** Most blocks resident at once. */
  readonly capacity: number;
  readonly #slots: (Uint8Array | undefined)[];
  #first = 0;
  #count = 0;

  constructor(blockBytes: number, capacity: number) {
    this.blockBytes = blockBytes;
    this.capacity = capacity;
    this.#slots = new Array<Uint8Array | undefined>(capacity);
  }

  /** Index of the oldest resident block. */
  get first(): number {
    return this.#first;
  }

  /** Number of resident blocks. */
  get count(): number {
    return this.#count;
  }

  /** True when block `index` is resident. */
  has(index: number): boolean {
    return index >= this.#first && index < this.#first + this.#count;
  }

  /** The memory of resident block `index` (callers check {@link BlockRing.has}). */
  get(index: number): Uint8Array {
    return this.#slots[index % this.capacity]!;
  }

  /** Makes block `first + count` resident and returns its memory (contents unspecified). */
  push(): Uint8Array {
    const slot = (this.#first + this.#count) % this.capacity;
    let block = this.#slots[slot];
    if (block === undefined) {
      block = new Uint8Array(this.blockBytes);
      this.#slots[slot] = block;
    }
    this.#count++;
    return block;
  }

  /**
   * Drops the oldest block. With `reuse` false its memory is let go instead of recycled, because
   * an asynchronous write may still be reading it.
   */
  evictOldest(reuse: boolean): void {
    if (!reuse) this.#slots[this.#first % this.capacity] = undefined;
    this.#first++;
    this.#count--;
  }

  /** Lets go of every block. */
  release(): void {
    this.#slots.fill(undefined);
    this.#count = 0;
  }
}
