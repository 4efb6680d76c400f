import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { concatBytes, fromFloat32, type SampleFormat } from '@audex/pcm';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import '../src/builtins.js';
import { createFlacDecoder, createFlacEncoder, decodeFlac, flacCodec } from '../src/codecs/flac.js';
import { applyHeaderPatches } from '../src/codecs/wav-file.js';
import { CodecError } from '../src/errors.js';
import { createEncoderPipeline } from '../src/pipeline.js';
import { transcode } from '../src/transcode.js';

const dir = mkdtempSync(join(tmpdir(), 'audex-flac-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Tones with a little noise (so every predictor order and Rice parameter gets used), full-scale peaks. */
function signal(sampleFormat: SampleFormat, channels: number, frames: number, seed = 1): Uint8Array {
  let s = seed;
  const noise = (): number => {
    s = (s * 1_103_515_245 + 12_345) >>> 0;
    return (s / 2 ** 32 - 0.5) * 0.02;
  };
  const x = new Float32Array(frames * channels);
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channels; c++)
      x[i * channels + c] = 0.6 * Math.sin((i * (c + 1) * 2 * Math.PI * 440) / 48_000) + noise();
  }
  if (x.length > 2) {
    x[0] = 1;
    x[1] = -1;
  }
  return fromFloat32(x, sampleFormat);
}

function encode(
  pcm: Uint8Array,
  options: Parameters<typeof createFlacEncoder>[0],
  piece = 10_007,
): { file: Uint8Array; chunks: Uint8Array[]; encoder: ReturnType<typeof createFlacEncoder> } {
  const encoder = createFlacEncoder(options);
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < pcm.length; i += piece) chunks.push(encoder.write(pcm.subarray(i, i + piece)));
  chunks.push(encoder.end());
  return { file: concatBytes(chunks), chunks, encoder };
}

function flacTest(path: string): { ok: boolean; log: string } {
  const r = spawnSync('flac', ['-t', path], { encoding: 'utf8' });
  return { ok: r.status === 0 && / ok\s*$/m.test(r.stderr.replaceAll('\b', ' ')), log: r.stderr };
}

const FORMATS = ['int16', 'int24'] as const;
const LAYOUTS = FORMATS.flatMap((f) => [1, 2, 6].map((c) => [f, c] as const));

describe('FLAC encoder output passes flac -t and decodes bit-exactly', () => {
  it.each(LAYOUTS)(
    '%s × %i ch: flac -t ok (MD5 checked), ffmpeg and our decoder return the input',
    async (sampleFormat, channels) => {
      const frames = 3 * 4096 + 1_001;
      const pcm = signal(sampleFormat, channels, frames);
      const { file, encoder } = encode(pcm, { rate: 48_000, channels, sampleFormat, totalFrames: frames });
      const path = join(dir, `${sampleFormat}-${channels}.flac`);
      writeFileSync(path, file);
      await applyHeaderPatches(path, encoder.headerPatches!());
      const { ok, log } = flacTest(path);
      expect(ok, log).toBe(true);
      expect(log).not.toMatch(/WARNING|MD5 signature mismatch/);
      const raw = execFileSync(
        'ffmpeg',
        ['-v', 'error', '-i', path, '-f', sampleFormat === 'int16' ? 's16le' : 's24le', '-'],
        { maxBuffer: 1 << 28 },
      );
      expect(Buffer.from(raw).equals(Buffer.from(pcm))).toBe(true);
      const decoder = createFlacDecoder();
      const ours = concatBytes([decoder.write(readFileSync(path)), decoder.end()]);
      expect(Buffer.from(ours).equals(Buffer.from(pcm))).toBe(true);
      expect(decoder.info).toEqual({ shape: { rate: 48_000, channels, sampleFormat }, frames });
    },
  );

  it.each([8_000, 11_025, 16_000, 22_050, 37_800, 44_100, 48_000, 96_000, 192_000, 384_000, 768_000])(
    'codes %i Hz so that flac -t passes and the rate reads back',
    async (rate) => {
      const pcm = signal('int16', 2, 5_000);
      const { file, encoder } = encode(pcm, { rate, channels: 2, sampleFormat: 'int16' });
      const path = join(dir, `rate-${rate}.flac`);
      writeFileSync(path, file);
      await applyHeaderPatches(path, encoder.headerPatches!());
      const { ok, log } = flacTest(path);
      expect(ok, log).toBe(true);
      const audio = await decodeFlac(readFileSync(path));
      expect(audio).toMatchObject({ rate, channels: 2, frames: 5_000 });
    },
  );

  it('writes the total frame count up front with totalFrames, and MD5 + count by headerPatches without', async () => {
    const pcm = signal('int16', 1, 10_000);
    const known = encode(pcm, { rate: 16_000, channels: 1, sampleFormat: 'int16', totalFrames: 10_000 });
    const streaming = encode(pcm, { rate: 16_000, channels: 1, sampleFormat: 'int16' });
    const total = (f: Uint8Array) =>
      (f[21]! & 0xf) * 2 ** 32 + new DataView(f.buffer, f.byteOffset).getUint32(22);
    expect(total(known.file)).toBe(10_000);
    expect(total(streaming.file)).toBe(0); // unknown: a live stream
    const path = join(dir, 'patched.flac');
    writeFileSync(path, streaming.file);
    await applyHeaderPatches(path, streaming.encoder.headerPatches!());
    const patched = readFileSync(path);
    expect(total(patched)).toBe(10_000);
    const md5 = execFileSync('metaflac', ['--show-md5sum', path], { encoding: 'utf8' }).trim();
    expect(md5).toBe(createHash('md5').update(pcm).digest('hex'));
    expect(flacTest(path).ok).toBe(true);
  });

  it('takes an MD5 known up front: STREAMINFO complete with no patch, and a mismatch refused at end()', () => {
    const pcm = signal('int24', 2, 9_000);
    const md5 = new Uint8Array(createHash('md5').update(pcm).digest());
    const { file } = encode(pcm, {
      rate: 48_000,
      channels: 2,
      sampleFormat: 'int24',
      totalFrames: 9_000,
      md5,
    });
    const path = join(dir, 'md5-up-front.flac');
    writeFileSync(path, file); // no patches applied
    const { ok, log } = flacTest(path);
    expect(ok, log).toBe(true);
    expect(log).not.toMatch(/WARNING/);
    const wrong = createFlacEncoder({
      rate: 48_000,
      channels: 2,
      sampleFormat: 'int24',
      md5: new Uint8Array(16),
    });
    wrong.write(pcm);
    expect(() => wrong.end()).toThrow(/do not match the md5/);
    expect(() =>
      createFlacEncoder({
        rate: 48_000,
        channels: 2,
        sampleFormat: 'int24',
        md5: new Uint8Array(3),
      }),
    ).toThrow(/md5 must be 16 bytes/);
  });

  it('decodes FLAC written by the flac CLI (LPC, every level) bit-exactly', () => {
    const pcm = signal('int24', 2, 20_000, 7);
    const rawPath = join(dir, 'cli.raw');
    writeFileSync(rawPath, pcm);
    for (const level of ['-0', '-5', '-8']) {
      const out = join(dir, `cli${level}.flac`);
      execFileSync('flac', [
        '-s',
        '-f',
        level,
        '--force-raw-format',
        '--endian=little',
        '--sign=signed',
        '--channels=2',
        '--bps=24',
        '--sample-rate=44100',
        '-o',
        out,
        rawPath,
      ]);
      const decoder = createFlacDecoder();
      const ours = concatBytes([decoder.write(readFileSync(out)), decoder.end()]);
      expect(Buffer.from(ours).equals(Buffer.from(pcm)), level).toBe(true);
    }
  });

  it('takes float32 and int32 as 24-bit (quantised once) through the pipeline', async () => {
    const x = new Float32Array(4_800).map((_, i) => 0.5 * Math.sin(i / 10));
    const pipeline = createEncoderPipeline({
      from: { rate: 48_000, channels: 1, sampleFormat: 'float32' },
      format: 'flac',
      totalFrames: 4_800,
    });
    expect(pipeline.shape.sampleFormat).toBe('int24');
    const file = concatBytes([pipeline.write(new Uint8Array(x.buffer)), pipeline.end()]);
    const audio = await decodeFlac(file);
    expect(audio.sampleFormat).toBe('int24');
    const maxError = audio.samples.reduce((m, v, i) => Math.max(m, Math.abs(v - x[i]!)), 0);
    expect(maxError).toBeLessThan(2 ** -23);
  });
});

describe('a FLAC stream cut at any chunk boundary', () => {
  it('plays up to that point in ffmpeg (every write returns whole frames)', () => {
    const frames = 10 * 4096 + 123;
    const pcm = signal('int16', 2, frames);
    const { chunks } = encode(pcm, { rate: 48_000, channels: 2, sampleFormat: 'int16' }, 4 * 3_000);
    let cut = 0;
    let framesOut = 0;
    let checked = 0;
    for (let i = 0; i < chunks.length - 1; i++) {
      cut += chunks[i]!.length;
      if (chunks[i]!.length === 0) continue;
      framesOut += chunks[i]!.length > 42 || i > 0 ? 4096 : 0;
      const prefix = concatBytes(chunks.slice(0, i + 1));
      const r = spawnSync('ffmpeg', ['-v', 'error', '-i', 'pipe:0', '-f', 's16le', 'pipe:1'], {
        input: prefix,
        maxBuffer: 1 << 28,
      });
      expect(r.status, r.stderr.toString()).toBe(0);
      expect(r.stderr.toString()).toBe('');
      const decodedFrames = r.stdout.length / 4;
      expect(decodedFrames % 4096).toBe(0);
      expect(Buffer.from(r.stdout).equals(Buffer.from(pcm.subarray(0, decodedFrames * 4)))).toBe(true);
      checked++;
    }
    expect(checked).toBeGreaterThan(5);
    expect(cut).toBeLessThan(concatBytes(chunks).length);
    expect(framesOut).toBeGreaterThan(0);
  });
});

describe('FLAC decoder on damaged input', () => {
  const frames = 3 * 4096 + 500;
  const good = encode(signal('int16', 2, frames), {
    rate: 48_000,
    channels: 2,
    sampleFormat: 'int16',
    totalFrames: frames,
  }).file;

  it('gives a typed CORRUPT_INPUT error, never another error or a hang, for flipped bytes and cuts (fuzzed)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.nat({ max: good.length - 1 }), xor: fc.integer({ min: 1, max: 255 }) }), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.option(fc.nat({ max: good.length }), { nil: undefined }),
        fc.integer({ min: 1, max: 9_000 }),
        (flips, cutAt, piece) => {
          const bad = good.slice(0, cutAt ?? good.length);
          for (const { at, xor } of flips) if (at < bad.length) bad[at]! ^= xor;
          const decoder = createFlacDecoder();
          try {
            for (let i = 0; i < bad.length; i += piece) decoder.write(bad.subarray(i, i + piece));
            decoder.end();
          } catch (error) {
            expect(error).toBeInstanceOf(CodecError);
            expect((error as CodecError).code).toBe('CORRUPT_INPUT');
            expect((error as CodecError).format).toBe('flac');
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects random bytes and a file cut short with messages naming what is wrong', async () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 2_000 }), (bytes) => {
        const decoder = createFlacDecoder();
        expect(() => {
          decoder.write(bytes);
          decoder.end();
        }).toThrow(CodecError);
      }),
      { numRuns: 200 },
    );
    await expect(decodeFlac(good.subarray(0, good.length - 10))).rejects.toThrow(/truncated/);
    await expect(decodeFlac(new TextEncoder().encode('RIFF....WAVE'))).rejects.toThrow(/not a FLAC stream/);
  });
});

describe('FLAC in transcode and the registry', () => {
  it('is registered as flac with audio/flac, and a WAV transcodes to FLAC and back losslessly', async () => {
    expect(flacCodec).toMatchObject({ format: 'flac', mimeType: 'audio/flac', extension: 'flac' });
    const pcm = signal('int24', 2, 20_000);
    const wav = concatBytes([
      ...(() => {
        const e = createEncoderPipeline({
          from: { rate: 44_100, channels: 2, sampleFormat: 'int24' },
          format: 'wav',
          totalFrames: 20_000,
        });
        return [e.write(pcm), e.end()];
      })(),
    ]);
    const toFlac = await transcode([wav], { sourceFormat: 'wav', format: 'flac' });
    const parts: Uint8Array[] = [];
    for await (const c of toFlac.chunks) parts.push(c);
    const back = await transcode([concatBytes(parts)], { sourceFormat: 'flac', format: 'wav' });
    const wavParts: Uint8Array[] = [];
    for await (const c of back.chunks) wavParts.push(c);
    expect(Buffer.from(concatBytes(wavParts)).equals(Buffer.from(wav))).toBe(true);
  });
});
