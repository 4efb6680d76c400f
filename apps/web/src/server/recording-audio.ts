import { type DecodedAudio, decodeAudio, getCodec } from '@audex/codec';
import { concatBytes } from '@audex/pcm';
import type { Store } from '@audex/store';
import { HttpError } from './http-error.js';
import { rangeToFrames, storeErrorToHttp, type TimeRange } from './request-params.js';

/** The format a key is stored in, from its extension (recordings are WAV). */
export function storedFormat(key: string): string {
  const dot = key.lastIndexOf('.');
  return dot === -1 ? 'wav' : key.slice(dot + 1).toLowerCase();
}

/** Downloads a stored recording; 404 when missing. */
export async function downloadRecording(store: Store, key: string): Promise<Uint8Array> {
  try {
    return await store.download(key);
  } catch (error) {
    return storeErrorToHttp(error, key);
  }
}

/** Decodes a stored recording; a file that does not decode is a 422, not a crash. */
export async function decodeRecording(store: Store, key: string): Promise<DecodedAudio> {
  const bytes = await downloadRecording(store, key);
  try {
    return await decodeAudio(bytes, storedFormat(key));
  } catch (error) {
    throw new HttpError(422, `recording "${key}" could not be decoded`, { cause: error });
  }
}

/**
 * A stored recording as a file in `format`, optionally cut to `range`: the stored bytes as they are
 * when nothing changes, else decoded, sliced sample-accurately and encoded.
 */
export async function exportRecording(
  store: Store,
  key: string,
  format: string,
  range: TimeRange,
): Promise<Uint8Array> {
  if (format === storedFormat(key) && range.from === undefined && range.to === undefined) {
    return downloadRecording(store, key);
  }
  const audio = await decodeRecording(store, key);
  const { start, end } = rangeToFrames(range, audio.frames, audio.rate);
  const samples = audio.samples.subarray(start * audio.channels, end * audio.channels);
  const encoder = getCodec(format).createEncoder({
    rate: audio.rate,
    channels: audio.channels,
    sampleFormat: 'float32',
    totalFrames: end - start,
  });
  return concatBytes([
    encoder.write(new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength)),
    encoder.end(),
  ]);
}

/** Min/max envelope of a recording (channels mixed by taking extremes), `columns` buckets wide. */
export interface Peaks {
  /** Length of the recording in ms, from its sample count. */
  durationMs: number;
  /** Sample rate in Hz. */
  rate: number;
  /** Per bucket minimum, in [-1, 1]. */
  min: number[];
  /** Per bucket maximum, in [-1, 1]. */
  max: number[];
}

/** Computes the waveform envelope the page draws for range picking. */
export function computePeaks(audio: DecodedAudio, columns: number): Peaks {
  const count = Math.max(1, Math.min(columns, audio.frames));
  const min = new Array<number>(count).fill(0);
  const max = new Array<number>(count).fill(0);
  const { samples, channels, frames } = audio;
  for (let c = 0; c < count; c += 1) {
    const from = Math.floor((c * frames) / count) * channels;
    const to = Math.floor(((c + 1) * frames) / count) * channels;
    let lo = 0;
    let hi = 0;
    for (let i = from; i < to; i += 1) {
      const v = samples[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    min[c] = Math.round(lo * 1000) / 1000;
    max[c] = Math.round(hi * 1000) / 1000;
  }
  return { durationMs: (frames / audio.rate) * 1000, rate: audio.rate, min, max };
}
