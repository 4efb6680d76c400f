import { concatBytes, fromFloat32, SAMPLE_FORMATS } from '@audex/pcm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import '../src/builtins.js';
import { decodeMp3 } from '../src/codecs/mp3.js';
import { createWavEncoder, decodeWav } from '../src/codecs/wav.js';
import { createWavDecoder } from '../src/codecs/wav-decoder.js';
import { encodeRange, transcode } from '../src/transcode.js';
import { rms, tone } from './lossy-helpers.js';

function wavFile(
  pcm: Uint8Array,
  rate: number,
  channels: number,
  sampleFormat: 'int16' | 'int24' | 'float32' | 'int8' | 'int32',
  known = true,
): Uint8Array {
  const frames =
    pcm.length /
    ((sampleFormat === 'int8' ? 1 : sampleFormat === 'int16' ? 2 : sampleFormat === 'int24' ? 3 : 4) *
      channels);
  const enc = createWavEncoder({ rate, channels, sampleFormat, ...(known ? { totalFrames: frames } : {}) });
  return concatBytes([enc.write(pcm), enc.end()]);
}

/** A reader over bytes that records every range asked and every byte handed out. */
function rangeReader(file: Uint8Array, chunkBytes = 65_536) {
  const log = { ranges: [] as { start: number; end?: number }[], bytesRead: 0 };
  const read = (range: { start: number; end?: number }) => {
    log.ranges.push(range);
    return (async function* () {
      const end = range.end ?? file.length;
      if (end > file.length) throw new Error(`range end ${end} past ${file.length}`);
      for (let at = range.start; at < end; at += chunkBytes) {
        const piece = file.subarray(at, Math.min(end, at + chunkBytes));
        log.bytesRead += piece.length;
        yield piece;
      }
    })();
  };
  return { read, log };
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of chunks) parts.push(c);
  return concatBytes(parts);
}

/** 60 s of 16 kHz mono int16: silence, with a 1 kHz tone from 20.0 s to 40.0 s. */
function toneAt20s(): { pcm: Uint8Array; file: Uint8Array } {
  const rate = 16_000;
  const x = new Float32Array(60 * rate);
  const t = tone(rate, 1, 20 * rate, [1_000]);
  x.set(t, 20 * rate);
  const pcm = fromFloat32(x, 'int16');
  return { pcm, file: wavFile(pcm, rate, 1, 'int16') };
}

describe('streaming WAV decoder', () => {
  it.each(SAMPLE_FORMATS)('gives the same PCM as decodeWav for %s, fed in any pieces', (sampleFormat) => {
    const pcm = fromFloat32(tone(8_000, 3, 1_001, [440, 660, 880]), sampleFormat);
    const file = wavFile(pcm, 8_000, 3, sampleFormat);
    const whole = decodeWav(file);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 20 }), (sizes) => {
        const decoder = createWavDecoder();
        const parts: Uint8Array[] = [];
        let at = 0;
        for (let i = 0; at < file.length; i++) {
          const n = sizes[i % sizes.length]!;
          parts.push(decoder.write(file.subarray(at, at + n)));
          at += n;
        }
        parts.push(decoder.end());
        expect(decoder.info).toEqual({
          shape: { rate: 8_000, channels: 3, sampleFormat },
          frames: 1_001,
        });
        expect(Buffer.from(concatBytes(parts)).equals(Buffer.from(whole.data))).toBe(true);
      }),
      { numRuns: 30 },
    );
  });

  it('reports a file cut inside the data as truncated, and a file without a header', () => {
    const { file } = toneAt20s();
    const decoder = createWavDecoder();
    decoder.write(file.subarray(0, 5_000));
    expect(() => decoder.end()).toThrow(
      expect.objectContaining({ code: 'CORRUPT_INPUT', message: expect.stringMatching(/truncated/) }),
    );
    const empty = createWavDecoder();
    empty.write(new Uint8Array([0x52, 0x49]));
    expect(() => empty.end()).toThrow(expect.objectContaining({ code: 'CORRUPT_INPUT' }));
  });
});

describe('encodeRange: a clip of a stored WAV', () => {
  it('reads only the header and the clip bytes, and cuts sample-exactly (wav → wav)', async () => {
    const { pcm, file } = toneAt20s();
    const { read, log } = rangeReader(file, 4_096);
    const clip = await encodeRange(read, { sourceFormat: 'wav', startSeconds: 19.5, endSeconds: 20.5 });
    const out = decodeWav(await collect(clip.chunks));
    expect(out.frames).toBe(16_000);
    expect(Buffer.from(out.data).equals(Buffer.from(pcm.subarray(19.5 * 32_000, 20.5 * 32_000)))).toBe(true);
    expect(log.ranges).toEqual([{ start: 0 }, { start: 44 + 19.5 * 32_000, end: 44 + 20.5 * 32_000 }]);
    expect(log.bytesRead).toBe(4_096 + 32_000); // the header's first chunk, then the clip
    expect(clip).toMatchObject({ startFrame: 312_000, endFrame: 328_000, outputFrames: 16_000 });
  });

  it('encodes an MP3 clip whose tone starts at the clip start, exact length', async () => {
    const { file } = toneAt20s();
    const { read } = rangeReader(file);
    const clip = await encodeRange(read, {
      sourceFormat: 'wav',
      format: 'mp3',
      startSeconds: 20,
      endSeconds: 30,
    });
    expect(clip.codec.mimeType).toBe('audio/mpeg');
    const audio = await decodeMp3(await collect(clip.chunks));
    expect(audio.frames).toBe(160_000);
    expect(rms(audio.samples, 0, 800)).toBeGreaterThan(0.2); // first 50 ms: the tone, at once
  });

  it('says a clip outside the recording is OUT_OF_RANGE naming both, before any output', async () => {
    const { file } = toneAt20s();
    const { read, log } = rangeReader(file);
    await expect(
      encodeRange(read, { sourceFormat: 'wav', format: 'mp3', startSeconds: 61, endSeconds: 70 }),
    ).rejects.toThrow(
      expect.objectContaining({
        code: 'OUT_OF_RANGE',
        message: expect.stringMatching(/61–70 s is outside the recording \(0–60\.000 s\)/),
      }),
    );
    await expect(encodeRange(read, { sourceFormat: 'wav', startSeconds: 5, endSeconds: 5 })).rejects.toThrow(
      /ends .* before it starts/,
    );
    expect(log.ranges).toEqual([{ start: 0 }]);
  });

  it('reports a source shorter than its header says as CORRUPT_INPUT', async () => {
    const { file } = toneAt20s();
    const { read } = rangeReader(file.subarray(0, 44 + 10 * 32_000));
    const clip = await encodeRange(
      (range) =>
        read({
          start: range.start,
          ...(range.end === undefined ? {} : { end: Math.min(range.end, 44 + 10 * 32_000) }),
        }),
      { sourceFormat: 'wav', startSeconds: 5, endSeconds: 15 },
    );
    await expect(collect(clip.chunks)).rejects.toThrow(expect.objectContaining({ code: 'CORRUPT_INPUT' }));
  });
});

describe('transcode: a whole source stream, chunk by chunk', () => {
  it('turns a streamed WAV into an MP3 of exactly its length, and a clip of it likewise', async () => {
    const { file } = toneAt20s();
    const pieces = function* () {
      for (let at = 0; at < file.length; at += 10_000) yield file.subarray(at, at + 10_000);
    };
    const whole = await transcode(pieces(), { sourceFormat: 'wav', format: 'mp3' });
    expect(whole.outputFrames).toBe(960_000);
    const audio = await decodeMp3(await collect(whole.chunks));
    expect(audio.frames).toBe(960_000);
    const clip = await transcode(pieces(), {
      sourceFormat: 'wav',
      format: 'wav',
      startSeconds: 20,
      endSeconds: 21,
      sampleFormat: 'float32',
    });
    const out = decodeWav(await collect(clip.chunks));
    expect(out).toMatchObject({ frames: 16_000, sampleFormat: 'float32' });
  });

  it('stops reading the source once the clip is out', async () => {
    const { file } = toneAt20s();
    let handedOut = 0;
    let closed = false;
    const source = (async function* () {
      try {
        for (let at = 0; at < file.length; at += 8_000) {
          handedOut += 8_000;
          yield file.subarray(at, at + 8_000);
        }
      } finally {
        closed = true;
      }
    })();
    const clip = await transcode(source, { sourceFormat: 'wav', startSeconds: 1, endSeconds: 2 });
    await collect(clip.chunks);
    expect(handedOut).toBeLessThan(3 * 32_000);
    expect(closed).toBe(true);
  });

  it('decodes sources without a streaming decoder whole (MP3 → WAV)', async () => {
    const mp3 = await transcode([toneAt20s().file], {
      sourceFormat: 'wav',
      format: 'mp3',
      startSeconds: 20,
      endSeconds: 22,
    });
    const bytes = await collect(mp3.chunks);
    const back = await transcode([bytes], {
      sourceFormat: 'mp3',
      format: 'wav',
      startSeconds: 0.5,
      endSeconds: 1.5,
    });
    const out = decodeWav(await collect(back.chunks));
    expect(out).toMatchObject({ rate: 16_000, channels: 1, sampleFormat: 'float32', frames: 16_000 });
  });

  it('gives corrupt sources a CORRUPT_INPUT error', async () => {
    await expect(
      transcode([new TextEncoder().encode('definitely not a RIFF file at all, just words')], {
        sourceFormat: 'wav',
        format: 'mp3',
      }),
    ).rejects.toThrow(expect.objectContaining({ code: 'CORRUPT_INPUT' }));
  });
});
