// Shared by this package's tests: capture from an open stream into one buffer, counting wake-ups.
import { type InputRead, type InputStream, type OpenInputOptions, openInput } from '../src/index.js';

export interface Recording {
  stream: InputStream;
  /** Every read the wake-ups made, in order. */
  reads: InputRead[];
  wakes: number;
  /** Resolves once `frames` frames were read (or rejects after `ms`). */
  until(frames: number, ms: number): Promise<void>;
  /** All data read so far, concatenated. */
  data(): Buffer;
  /** The newest read (counters). */
  last(): InputRead | undefined;
}

export async function record(options: OpenInputOptions, wakeFrames: number): Promise<Recording> {
  const reads: InputRead[] = [];
  let wakes = 0;
  let waiter: { frames: number; resolve: () => void } | undefined;
  let readFrames = 0;
  const frameBytes =
    options.channels * { int8: 1, int16: 2, int24: 3, int32: 4, float32: 4 }[options.sampleFormat];
  const stream: InputStream = await openInput({ ...options, wakeFrames }, () => {
    wakes++;
    const r = stream.read(wakeFrames);
    reads.push(r);
    readFrames += (r.data?.length ?? 0) / frameBytes;
    if (waiter && readFrames >= waiter.frames) waiter.resolve();
  });
  return {
    stream,
    reads,
    get wakes() {
      return wakes;
    },
    until: (frames, ms) =>
      new Promise<void>((resolve, reject) => {
        if (readFrames >= frames) return resolve();
        const timer = setTimeout(
          () => reject(new Error(`only ${readFrames} of ${frames} frames within ${ms} ms`)),
          ms,
        );
        waiter = {
          frames,
          resolve: () => {
            clearTimeout(timer);
            waiter = undefined;
            resolve();
          },
        };
      }),
    data: () => Buffer.concat(reads.flatMap((r) => (r.data ? [r.data] : []))),
    last: () => reads.at(-1),
  };
}

/** Int16 little-endian mono PCM to floats. */
export function int16ToFloat(data: Buffer): Float32Array {
  const out = new Float32Array(data.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = data.readInt16LE(i * 2) / 32768;
  return out;
}
