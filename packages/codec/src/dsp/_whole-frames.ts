/**
 * Splits a byte stream cut at any offset into whole frames: the bytes of a partial frame are held
 * back and put in front of the next write. Shared by the PCM transform and the lossy encoders' input.
 */
export class WholeFrames {
  readonly #frameBytes: number;
  #pending = new Uint8Array(0);

  /** @param frameBytes - Bytes per frame (all channels), at least 1. */
  constructor(frameBytes: number) {
    this.#frameBytes = frameBytes;
  }

  /** Bytes held back: a partial frame waiting for the rest of its bytes. */
  get pendingBytes(): number {
    return this.#pending.length;
  }

  /**
   * The whole frames of the held-back bytes followed by `pcm`; the bytes after them are held back
   * (copied). The result may be a view of `pcm`: copy it if it must outlive the caller's array.
   */
  take(pcm: Uint8Array): Uint8Array {
    let data = pcm;
    if (this.#pending.length > 0) {
      data = new Uint8Array(this.#pending.length + pcm.length);
      data.set(this.#pending);
      data.set(pcm, this.#pending.length);
    }
    const whole = data.length - (data.length % this.#frameBytes);
    this.#pending = data.slice(whole);
    return data.subarray(0, whole);
  }
}
