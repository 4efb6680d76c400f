import { CodecError, type DecodedAudio, decodeAudio, encodeRange } from '@audex/codec';
import { concatBytes } from '@audex/pcm';
import type { Store } from '@audex/store';
import { HttpError } from './http-error.js';
import { storeErrorToHttp, type TimeRange } from './request-params.js';

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
 * when nothing changes, else `encodeRange` from @audex/codec (the CLI's `get` uses the same): for a
 * WAV only the header and the range's bytes are read from the store, and memory holds the clip's
 * output, not the recording.
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
  try {
    const clip = await encodeRange((byteRange) => store.download(key, { stream: true, range: byteRange }), {
      sourceFormat: storedFormat(key),
      format,
      ...(range.from === undefined ? {} : { startSeconds: range.from }),
      ...(range.to === undefined ? {} : { endSeconds: range.to }),
    });
    const parts: Uint8Array[] = [];
    for await (const chunk of clip.chunks) parts.push(chunk);
    const file = concatBytes(parts);
    // The whole file is in hand: write what the header could only learn at the end (FLAC's MD5).
    for (const patch of clip.headerPatches()) {
      if (patch.offset + patch.bytes.length <= file.length) file.set(patch.bytes, patch.offset);
    }
    return file;
  } catch (error) {
    if (error instanceof CodecError && error.code === 'OUT_OF_RANGE') {
      throw new HttpError(416, error.message.replace(/^\[audex\/codec\] /, ''), { cause: error });
    }
    if (error instanceof CodecError && error.code === 'CORRUPT_INPUT') {
      throw new HttpError(422, `recording "${key}" could not be decoded`, { cause: error });
    }
    return storeErrorToHttp(error, key);
  }
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
