import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeWav } from '@audex/codec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './_helpers.js';

let dir: string;
let storeDir: string;
let key: string;
/** The stored file, fetched unchanged with `audex get KEY -o`. */
let storedPath: string;

/** `flac -t` on a file, and its samples as raw s16le from `flac -d`. */
function flacTool(path: string): { ok: boolean; log: string; pcm: Buffer } {
  const test = spawnSync('flac', ['-t', path], { encoding: 'utf8' });
  const decoded = spawnSync(
    'flac',
    ['-d', '-s', '-c', '--force-raw-format', '--endian=little', '--sign=signed', path],
    {
      maxBuffer: 1 << 28,
    },
  );
  return {
    ok:
      test.status === 0 && / ok\s*$/m.test(test.stderr.replaceAll('\b', ' ')) && !/WARNING/.test(test.stderr),
    log: test.stderr,
    pcm: decoded.stdout,
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'audex-cli-store-format-'));
  storeDir = join(dir, 'store');
  const run = await runCli(
    [
      'record',
      '--duration',
      '2',
      '--store-format',
      'flac',
      '--channels',
      '2',
      '--store-dir',
      storeDir,
      '--spool-dir',
      join(dir, 'spool'),
    ],
    { AUDEX_SOURCE: 'synthetic' },
  );
  if (run.code !== 0) throw new Error(`audex record failed: ${run.stderr}`);
  key = run.stdout.toString().trim();
  storedPath = join(dir, 'stored.flac');
  const got = await runCli(['get', key, '-o', storedPath, '--store-dir', storeDir]);
  if (got.code !== 0) throw new Error(`audex get failed: ${got.stderr}`);
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('audex record --store-format flac', () => {
  it('stores a FLAC under a .flac key that flac -t accepts; ls lists it', async () => {
    expect(key).toMatch(/^audex\/[\w-]+\.flac$/);
    const stored = flacTool(storedPath);
    expect(stored.ok, stored.log).toBe(true);
    // --duration counts captured frames: 2 s of 16 kHz stereo int16, at most one chunk more.
    expect(stored.pcm.byteLength).toBeGreaterThanOrEqual(2 * 16_000 * 4);
    expect(stored.pcm.byteLength).toBeLessThan(2.1 * 16_000 * 4);
    const listed = await runCli(['ls', '--json', '--store-dir', storeDir]);
    expect(listed.code, listed.stderr).toBe(0);
    const [item] = JSON.parse(listed.stdout.toString()) as { key: string; loudnessLufs: number | null }[];
    expect(item!.key).toBe(key);
    expect(item!.loudnessLufs).toBeGreaterThan(-30);
  });

  it('get -f wav decodes the stored FLAC to the same samples; get --from/--to cuts it sample-accurately', async () => {
    const whole = flacTool(storedPath).pcm;
    const out = join(dir, 'whole.wav');
    const got = await runCli(['get', key, '-f', 'wav', '-o', out, '--store-dir', storeDir]);
    expect(got.code, got.stderr).toBe(0);
    const wav = decodeWav(readFileSync(out));
    expect([wav.rate, wav.channels]).toEqual([16_000, 2]);
    expect(Buffer.from(wav.data).equals(whole)).toBe(true);

    const clip = join(dir, 'clip.flac');
    const cut = await runCli([
      'get',
      key,
      '--from',
      '0.5',
      '--to',
      '1.25',
      '-o',
      clip,
      '--store-dir',
      storeDir,
    ]);
    expect(cut.code, cut.stderr).toBe(0);
    const part = flacTool(clip);
    expect(part.ok, part.log).toBe(true);
    expect(part.pcm.equals(whole.subarray(0.5 * 16_000 * 4, 1.25 * 16_000 * 4))).toBe(true);
  });

  it('rejects a format that is not stored losslessly, and FLAC of a float32 capture (usage, exit 2)', async () => {
    const mp3 = await runCli(['record', '--store-format', 'mp3', '--store-dir', storeDir], {
      AUDEX_SOURCE: 'synthetic',
    });
    expect(mp3.code).toBe(2);
    expect(mp3.stderr).toMatch(
      /--store-format "mp3" is not a format recordings are stored in; use wav or flac/,
    );
    const float = await runCli(
      ['record', '--store-format', 'flac', '--sample-format', 'float32', '--store-dir', storeDir],
      { AUDEX_SOURCE: 'synthetic' },
    );
    expect(float.code).toBe(2);
    expect(float.stderr).toMatch(/--store-format flac stores int8, int16 and int24 captures bit for bit/);
    expect(float.stderr).toMatch(/capture with --sample-format int24 or use --store-format wav/);
  });
});
