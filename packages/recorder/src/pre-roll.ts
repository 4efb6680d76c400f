// The recorder's pre-roll room: every chunk from the input passes through the Feed on its way to the
// recording. With pre-roll the input stays open between recordings and the Feed keeps the last
// `preRollMs` of audio in a ring; a recording attached at start() first gets the ring's audio from
// `preRollMs` before the call (never from before the previous recording's end), then the live
// chunks; detaching at stop() cuts at the frame captured at the stop instant and leaves the rest
// for the next recording. Cuts fall on exact frames, so consecutive recordings neither share nor
// miss one. Without pre-roll the Feed only forwards.
import type { CapturedChunk } from '@audex/pcm';

/** Where the Feed delivers: the running recording. */
export interface ChunkSink {
  write(chunk: CapturedChunk): void;
}

interface Held {
  /** Feed position of the chunk's first frame (frames received before it). */
  position: number;
  chunk: CapturedChunk;
}

/** Frames `[from, to)` of a chunk as a chunk of its own (the overflow flag stays with the first frames). */
function sliceChunk(
  chunk: CapturedChunk,
  from: number,
  to: number,
  rate: number,
  frameBytes: number,
): CapturedChunk {
  if (from === 0 && to === chunk.frames) return chunk;
  const out: CapturedChunk = {
    data: chunk.data.subarray(from * frameBytes, to * frameBytes),
    frames: to - from,
    time: chunk.time + (from / rate) * 1000,
  };
  if (chunk.overflow && from === 0) out.overflow = true;
  return out;
}

/** Frames of `chunk` captured before `time` (ms epoch), by its timestamp. */
function framesBefore(chunk: CapturedChunk, time: number, rate: number): number {
  return Math.min(chunk.frames, Math.max(0, Math.ceil(((time - chunk.time) * rate) / 1000 - 1e-9)));
}

/** Routes the input's chunks to the running recording, with a pre-roll ring and exact cuts. */
export class Feed {
  readonly #rate: number;
  readonly #frameBytes: number;
  readonly #keepMs: number;
  /** The ring: chunks of the last `keepMs` (a deque: live entries from #head). */
  #ring: Held[] = [];
  #head = 0;
  /** Frames received so far. */
  #position = 0;
  /** Where the last recording ended: the next one never begins before it. */
  #cut = 0;
  #sink: ChunkSink | undefined;
  /** A pending detach: frames captured before `at` still go to the sink. */
  #stop: { at: number; done: () => void } | undefined;

  /**
   * @param shape - capture rate and bytes per frame.
   * @param keepMs - pre-roll to keep, in ms (0: no ring, only forwarding).
   */
  constructor(shape: { rate: number; frameBytes: number }, keepMs: number) {
    this.#rate = shape.rate;
    this.#frameBytes = shape.frameBytes;
    this.#keepMs = keepMs;
  }

  /** Frames held in the ring now. */
  get heldFrames(): number {
    let n = 0;
    for (let i = this.#head; i < this.#ring.length; i++) n += this.#ring[i]!.chunk.frames;
    return n;
  }

  /** Takes one chunk from the input. */
  push(chunk: CapturedChunk): void {
    const position = this.#position;
    this.#position += chunk.frames;
    if (this.#keepMs > 0) this.#hold(position, chunk);
    const sink = this.#sink;
    if (!sink) return;
    const stop = this.#stop;
    if (!stop) {
      sink.write(chunk);
      return;
    }
    const before = framesBefore(chunk, stop.at, this.#rate);
    if (before > 0) sink.write(sliceChunk(chunk, 0, before, this.#rate, this.#frameBytes));
    if (before < chunk.frames) this.#finish(position + before);
  }

  /**
   * Attaches the recording: it first gets the ring's audio captured from `fromTime` on (never from
   * before the previous recording's end), then every chunk as it comes.
   * @returns the capture time of the first frame given from the ring, or `null` when none was.
   */
  attach(sink: ChunkSink, fromTime: number): number | null {
    this.#sink = sink;
    let first: number | null = null;
    for (let i = this.#head; i < this.#ring.length; i++) {
      const { position, chunk } = this.#ring[i]!;
      const from = Math.max(this.#cut - position, framesBefore(chunk, fromTime, this.#rate));
      if (from >= chunk.frames) continue;
      const piece = sliceChunk(chunk, Math.max(0, from), chunk.frames, this.#rate, this.#frameBytes);
      first ??= piece.time;
      sink.write(piece);
    }
    return first;
  }

  /**
   * Detaches the recording at `stopAt` (ms epoch): it still gets the frames captured before then,
   * waiting for them at most `maxWaitMs` (the input latency; less if the input is gone), and the
   * frames after stay for the next recording. Without pre-roll it detaches at once (the input was
   * closed first, which delivered everything up to the stop).
   */
  async detach(stopAt: number, maxWaitMs: number): Promise<void> {
    if (!this.#sink) return;
    if (this.#keepMs === 0) {
      this.#finish(this.#position);
      return;
    }
    const last = this.#ring[this.#ring.length - 1];
    const receivedUntil = last ? last.chunk.time + (last.chunk.frames / this.#rate) * 1000 : -Infinity;
    if (receivedUntil >= stopAt) {
      // Every frame up to the stop is here already (a chunk straddling it was given whole).
      this.#finish(this.#position);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.#stop = { at: stopAt, done: resolve };
      timer = setTimeout(() => this.#finish(this.#position), maxWaitMs);
    });
    clearTimeout(timer);
  }

  /** Drops the ring (the input closed: what it held is no longer just before "now"). */
  reset(): void {
    this.#ring = [];
    this.#head = 0;
    this.#cut = this.#position;
  }

  #finish(cut: number): void {
    this.#sink = undefined;
    this.#cut = Math.max(this.#cut, cut);
    const stop = this.#stop;
    this.#stop = undefined;
    stop?.done();
  }

  #hold(position: number, chunk: CapturedChunk): void {
    // A copy: the source may reuse its buffers, and the ring outlives this callback.
    this.#ring.push({ position, chunk: { ...chunk, data: chunk.data.slice() } });
    const newestEnd = chunk.time + (chunk.frames / this.#rate) * 1000;
    const ring = this.#ring;
    // Keep every chunk that ends within keepMs of the newest.
    while (this.#head < ring.length - 1) {
      const { chunk: old } = ring[this.#head]!;
      if (old.time + (old.frames / this.#rate) * 1000 >= newestEnd - this.#keepMs) break;
      this.#head++;
    }
    if (this.#head > 64 && this.#head * 2 > ring.length) {
      this.#ring = ring.slice(this.#head);
      this.#head = 0;
    }
  }
}
