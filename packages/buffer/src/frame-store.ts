// Where the bytes of one recording live: the most recent whole blocks in a RAM ring, everything
// in the journal's data file. It appends bytes (never waiting on disk unless the disk lags so far
// that memory would grow), and reads any frame range from RAM and/or the file. It knows nothing of
// time: the FrameBuffer places chunks on the Timeline and hands the bytes here.
import { BlockRing } from './block-ring.js';
import { type CommitDelta, Journal } from './journal.js';
import type { HeaderRecord } from './journal-format.js';

/** The frame bytes of one recording, in RAM and in the journal's data file. */
export class FrameStore {
  /** Bytes per frame. */
  readonly bytesPerFrame: number;
  /** The journal files (data + records). */
  readonly journal: Journal;
  readonly #ring: BlockRing | null;
  readonly #blockFrames: number;
  readonly #blockBytes: number;
  #frameCount: number;

  private constructor(
    journal: Journal,
    ring: BlockRing | null,
    blockFrames: number,
    bpf: number,
    frames: number,
  ) {
    this.journal = journal;
    this.#ring = ring;
    this.#blockFrames = blockFrames;
    this.bytesPerFrame = bpf;
    this.#blockBytes = blockFrames * bpf;
    this.#frameCount = frames;
  }

  /**
   * Creates the journal files of a new recording in `dir` (header durable when this resolves) and
   * a ring holding at least `memoryMs` of blocks of `blockMs`.
   * @throws {BufferError} `IO_ERROR` when the files cannot be created.
   */
  static async create(
    dir: string,
    header: HeaderRecord,
    bytesPerFrame: number,
    timing: { memoryMs: number; blockMs: number },
  ): Promise<FrameStore> {
    const blockFrames = Math.max(1, Math.round((header.rate * timing.blockMs) / 1000));
    const capacity = Math.max(2, Math.ceil(timing.memoryMs / timing.blockMs) + 1);
    const ring = new BlockRing(blockFrames * bytesPerFrame, capacity);
    let store: FrameStore | undefined;
    const journal = await Journal.create(dir, header, bytesPerFrame, blockFrames, (start, end) =>
      store!.#view(start, end),
    );
    store = new FrameStore(journal, ring, blockFrames, bytesPerFrame, 0);
    return store;
  }

  /** A read-only store over a journal opened for reading, holding `frames` frames (all on disk). */
  static reading(journal: Journal, bytesPerFrame: number, frames: number): FrameStore {
    return new FrameStore(journal, null, 1, bytesPerFrame, frames);
  }

  /** Frames stored (in RAM or on disk). */
  get frameCount(): number {
    return this.#frameCount;
  }

  /** Frames made durable by the last commit. */
  get durableFrames(): number {
    return this.journal.committed;
  }

  /** Copies `data` (or `length` zero bytes when null) to the end: whole frames, synchronously. */
  append(data: Uint8Array | null, length: number): void {
    const bpf = this.bytesPerFrame;
    let offset = 0;
    while (offset < length) {
      const blockIndex = Math.floor(this.#frameCount / this.#blockFrames);
      const within = (this.#frameCount - blockIndex * this.#blockFrames) * bpf;
      const block = this.#blockFor(blockIndex);
      const n = Math.min(length - offset, this.#blockBytes - within);
      if (data === null) block.fill(0, within, within + n);
      else block.set(data.subarray(offset, offset + n), within);
      offset += n;
      this.#frameCount += n / bpf;
      if (within + n === this.#blockBytes) this.journal.allow(this.#frameCount);
    }
  }

  #blockFor(index: number): Uint8Array {
    const ring = this.#ring!;
    if (ring.has(index)) return ring.get(index);
    if (ring.count === ring.capacity) {
      const oldest = ring.first;
      const end = (oldest + 1) * this.#blockFrames;
      if (this.journal.issued < end) this.journal.writeSyncTo(end);
      const inflight = this.journal.inflight;
      const busy = inflight !== null && inflight.start < end;
      ring.evictOldest(!busy);
    }
    return ring.push();
  }

  /** A view of frames [start, end) inside one resident block (for the journal's writer). */
  #view(start: number, end: number): Uint8Array {
    const index = Math.floor(start / this.#blockFrames);
    const base = index * this.#blockFrames;
    return this.#ring!.get(index).subarray(
      (start - base) * this.bytesPerFrame,
      (end - base) * this.bytesPerFrame,
    );
  }

  /**
   * Reads frames [startFrame, endFrame) (callers check the range) into a fresh array: the RAM part
   * synchronously (its blocks cannot be recycled under us), the older part from the data file.
   * @throws {BufferError} `IO_ERROR`, `CLOSED` from the journal.
   */
  async read(startFrame: number, endFrame: number): Promise<Uint8Array> {
    const bpf = this.bytesPerFrame;
    const out = new Uint8Array((endFrame - startFrame) * bpf);
    const ramStart = this.#ring === null ? this.#frameCount : this.#ring.first * this.#blockFrames;
    for (let f = Math.max(startFrame, ramStart); f < endFrame; ) {
      const index = Math.floor(f / this.#blockFrames);
      const base = index * this.#blockFrames;
      const stop = Math.min(endFrame, base + this.#blockFrames);
      out.set(this.#ring!.get(index).subarray((f - base) * bpf, (stop - base) * bpf), (f - startFrame) * bpf);
      f = stop;
    }
    if (startFrame < ramStart) {
      const diskEnd = Math.min(endFrame, ramStart);
      await this.journal.read(out.subarray(0, (diskEnd - startFrame) * bpf), startFrame);
    }
    return out;
  }

  /** Makes every stored frame durable with the timeline changes in `delta`. */
  commit(delta: CommitDelta): Promise<void> {
    return this.journal.commit(this.#frameCount, delta);
  }

  /** Closes the files (kept on disk) and lets go of RAM. */
  async close(): Promise<void> {
    await this.journal.close();
    this.#ring?.release();
  }

  /** Closes and deletes the files, and lets go of RAM. */
  async remove(): Promise<void> {
    await this.journal.remove();
    this.#ring?.release();
  }
}
