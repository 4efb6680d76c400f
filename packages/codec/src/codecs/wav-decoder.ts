/**
 * Owns reading WAV/RF64 as a stream: the header from the first bytes, then the sample data piece
 * by piece in its stored format (8-bit unsigned back to signed, 64-bit float narrowed).
 */
import { concatBytes, type SampleFormat } from '@audex/pcm';
import { WholeFrames } from '../dsp/_whole-frames.js';
import { CodecError } from '../errors.js';
import type { StreamDecoder, StreamInfo } from '../types.js';
import { parseWavHeader, type WavInfo } from './wav-header.js';

/** Bytes read for the header before giving up (chunks before `data` must fit). */
export const WAV_HEADER_WINDOW = 64 * 1024;

function corrupt(message: string): CodecError {
  return new CodecError('CORRUPT_INPUT', `WAV: ${message}`, { format: 'wav' });
}

/** The sample format a WAV's data is returned in. */
export function wavOutputFormat(info: WavInfo): SampleFormat {
  return info.sampleFormat === 'float64' ? 'float32' : info.sampleFormat;
}

/**
 * Turns stored WAV sample bytes (whole frames) into PCM in {@link wavOutputFormat}: int8 flipped
 * back to signed, float64 narrowed, others copied.
 */
export function wavSamplesToPcm(info: WavInfo, raw: Uint8Array): Uint8Array {
  if (info.sampleFormat === 'int8') {
    const out = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = raw[i]! ^ 0x80;
    return out;
  }
  if (info.sampleFormat === 'float64') {
    const copy = new Uint8Array(raw);
    const doubles = new Float64Array(copy.buffer, 0, copy.length / 8);
    return new Uint8Array(Float32Array.from(doubles).buffer);
  }
  return new Uint8Array(raw);
}

class WavStreamDecoder implements StreamDecoder {
  #head: Uint8Array[] = [];
  #headBytes = 0;
  #wav: WavInfo | null = null;
  #info: StreamInfo | null = null;
  #frames: WholeFrames | null = null;
  /** Data bytes still expected (Infinity after a streaming header). */
  #remaining = 0;
  #ended = false;

  get info(): StreamInfo | null {
    return this.#info;
  }

  write(bytes: Uint8Array): Uint8Array {
    if (this.#ended)
      throw new CodecError('ENCODER_ENDED', 'WAV decoder written after end()', { format: 'wav' });
    if (this.#wav) return this.#data(bytes);
    this.#head.push(bytes.slice());
    this.#headBytes += bytes.length;
    const head = this.#joinedHead();
    let wav: WavInfo;
    try {
      wav = parseWavHeader(head);
    } catch (error) {
      // Cut short so far: wait for more bytes, up to the window.
      if (this.#headBytes < WAV_HEADER_WINDOW) return new Uint8Array(0);
      throw error;
    }
    this.#wav = wav;
    this.#head = [];
    this.#info = {
      shape: { rate: wav.rate, channels: wav.channels, sampleFormat: wavOutputFormat(wav) },
      frames: wav.dataBytes === null ? undefined : wav.dataBytes / wav.blockAlign,
    };
    if (wav.dataBytes !== null && wav.dataBytes % wav.blockAlign !== 0) {
      throw corrupt(`data size ${wav.dataBytes} is not a whole number of ${wav.blockAlign}-byte frames`);
    }
    this.#remaining = wav.dataBytes ?? Number.POSITIVE_INFINITY;
    this.#frames = new WholeFrames(wav.blockAlign);
    return this.#data(head.subarray(wav.dataOffset));
  }

  end(): Uint8Array {
    if (this.#ended) throw new CodecError('ENCODER_ENDED', 'WAV decoder ended twice', { format: 'wav' });
    this.#ended = true;
    if (!this.#wav) {
      parseWavHeader(this.#joinedHead()); // throws the reason
      throw corrupt('no header');
    }
    if (Number.isFinite(this.#remaining) && this.#remaining > 0) {
      const declared = this.#wav.dataBytes!;
      throw corrupt(
        `data chunk declares ${declared} bytes but only ${declared - this.#remaining} follow (file truncated)`,
      );
    }
    // After a streaming header a final partial frame is dropped (as decodeWav does).
    return new Uint8Array(0);
  }

  #joinedHead(): Uint8Array {
    const head = this.#head.length === 1 ? this.#head[0]! : concatBytes(this.#head);
    this.#head = [head];
    return head;
  }

  #data(bytes: Uint8Array): Uint8Array {
    const take = Math.min(bytes.length, this.#remaining);
    if (take <= 0) return new Uint8Array(0); // trailing chunks after data
    this.#remaining -= take;
    const whole = this.#frames!.take(bytes.subarray(0, take));
    return whole.length === 0 ? new Uint8Array(0) : wavSamplesToPcm(this.#wav!, whole);
  }
}

/**
 * Creates a streaming WAV/RF64 decoder: PCM in the stored sample format (see {@link decodeWav}),
 * chunk by chunk, holding at most the header and one partial frame.
 */
export function createWavDecoder(): StreamDecoder {
  return new WavStreamDecoder();
}
