import { execFileSync } from 'node:child_process';
import {
  closeSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesPerFrame, concatBytes, fromFloat32, SAMPLE_FORMATS, type SampleFormat } from '@audex/pcm';
import { afterAll, describe, expect, it } from 'vitest';
import { createWavEncoder, decodeWav } from '../src/codecs/wav.js';
import { applyHeaderPatches, finalizeWavFile } from '../src/codecs/wav-file.js';
import { parseWavHeader } from '../src/codecs/wav-header.js';
import { testTone } from '../src/testing.js';

const dir = mkdtempSync(join(tmpdir(), 'audex-wav-strict-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * libsndfile logs this for every odd-sized data chunk, its own files included (RIFF allows an odd
 * chunk size followed by a pad byte, which is what we write): it is a note about the sample
 * layout, not about the header, so it is the one line allowed, and only when the data is odd.
 */
const ODD_DATA_NOTE = "*** 'data' chunk should be an even number of bytes in length.";

type HeaderMode = 'up front (totalFrames)' | 'patched at the end (headerPatches)' | 'finalizeWavFile';
const MODES: HeaderMode[] = [
  'up front (totalFrames)',
  'patched at the end (headerPatches)',
  'finalizeWavFile',
];

const CASES = SAMPLE_FORMATS.flatMap((sampleFormat) =>
  [1, 2, 6].flatMap((channels) =>
    [1_001, 1_000].flatMap((frames) => MODES.map((mode) => [sampleFormat, channels, frames, mode] as const)),
  ),
);

async function writeWav(
  path: string,
  sampleFormat: SampleFormat,
  channels: number,
  frames: number,
  mode: HeaderMode,
): Promise<Uint8Array> {
  const pcm = fromFloat32(testTone(16_000, channels, frames), sampleFormat);
  const known = mode === 'up front (totalFrames)';
  const encoder = createWavEncoder({
    rate: 16_000,
    channels,
    sampleFormat,
    ...(known ? { totalFrames: frames } : {}),
  });
  const parts: Uint8Array[] = [];
  for (let i = 0; i < pcm.length; i += 999) parts.push(encoder.write(pcm.subarray(i, i + 999)));
  parts.push(encoder.end());
  writeFileSync(path, concatBytes(parts));
  if (mode === 'patched at the end (headerPatches)') await applyHeaderPatches(path, encoder.headerPatches!());
  if (mode === 'finalizeWavFile') {
    await finalizeWavFile(path);
    await finalizeWavFile(path); // idempotent
  }
  if (known) expect(encoder.headerPatches!()).toEqual([]);
  return pcm;
}

describe('WAV files pass a strict reader (sndfile-info) without a warning', () => {
  it.each(CASES)('%s × %i ch, %i frames, header %s', async (sampleFormat, channels, frames, mode) => {
    const path = join(dir, `${sampleFormat}-${channels}-${frames}-${MODES.indexOf(mode)}.wav`);
    const pcm = await writeWav(path, sampleFormat, channels, frames, mode);
    const file = readFileSync(path);
    const dataBytes = frames * bytesPerFrame(sampleFormat, channels);
    // The file: header + data + the pad byte of an odd data size, and the RIFF size says so.
    const riffSize = new DataView(file.buffer, file.byteOffset).getUint32(4, true);
    expect(riffSize).toBe(file.length - 8);
    expect(file.length % 2).toBe(0);
    const wav = decodeWav(file);
    expect(wav.frames).toBe(frames);
    expect(Buffer.from(wav.data).equals(Buffer.from(pcm))).toBe(true);
    const log = execFileSync('sndfile-info', [path], { encoding: 'utf8' });
    const warnings = log
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => /^\*|should|warning|weird|unknown/i.test(line))
      .filter((line) => !(dataBytes % 2 === 1 && line === ODD_DATA_NOTE));
    expect(warnings, log).toEqual([]);
    expect(log).toMatch(new RegExp(`^Frames\\s+: ${frames}$`, 'm'));
    expect(log).toMatch(new RegExp(`^data : ${dataBytes}$`, 'm'));
    if (sampleFormat === 'float32' || channels > 2 || sampleFormat === 'int24' || sampleFormat === 'int32') {
      expect(log).toMatch(/^fact : 4$/m);
      expect(log).toMatch(new RegExp(`^\\s*frames\\s+: ${frames}$`, 'm'));
    } else {
      expect(log).not.toMatch(/^fact/m);
    }
  });
});

describe('RF64 beyond 4 GiB passes the strict reader', () => {
  it.each([
    ['int16', 2],
    ['int24', 6],
    ['float32', 2],
  ] as const)(
    '%s × %i ch streamed past 4 GiB and finalised (sparse file)',
    async (sampleFormat, channels) => {
      const path = join(dir, `huge-${sampleFormat}.wav`);
      const encoder = createWavEncoder({ rate: 48_000, channels, sampleFormat });
      const header = encoder.write(new Uint8Array(0));
      const frameBytes = bytesPerFrame(sampleFormat, channels);
      const frames = Math.ceil(2 ** 32 / frameBytes) + 7;
      const fd = openSync(path, 'w');
      try {
        writeSync(fd, header);
        ftruncateSync(fd, header.length + frames * frameBytes);
      } finally {
        closeSync(fd);
      }
      await expect(finalizeWavFile(path)).resolves.toEqual({
        container: 'RF64',
        frames,
        dataBytes: frames * frameBytes,
      });
      const log = execFileSync('sndfile-info', [path], { encoding: 'utf8' });
      const warnings = log.split('\n').filter((line) => /^\s*\*|should|warning|weird|unknown/i.test(line));
      expect(warnings, log).toEqual([]);
      expect(log).toMatch(/^RF64$/m);
      expect(log).toMatch(new RegExp(`^Frames\\s+: ${frames}$`, 'm'));
      rmSync(path);
    },
  );

  it('writes RF64 up front for a known length beyond 4 GiB, without a fact chunk', () => {
    const frames = 2 ** 30 + 3;
    const encoder = createWavEncoder({
      rate: 48_000,
      channels: 2,
      sampleFormat: 'float32',
      totalFrames: frames,
    });
    const header = encoder.write(new Uint8Array(0));
    const info = parseWavHeader(header);
    expect(info).toMatchObject({ container: 'RF64', dataBytes: frames * 8, factFramesOffset: null });
    expect(new TextDecoder().decode(header.subarray(0, 4))).toBe('RF64');
  });
});
