import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseWavHeader } from '@audex/codec';
import { concatBytes, fromFloat32 } from '@audex/pcm';
import { LocalStore } from '@audex/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './_helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'audex-cli-rotate-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('audex record --rotate', () => {
  it('--rotate 1s --duration 3.5 prints four keys as they are stored; the files join into the continuous tone', async () => {
    const storeDir = join(dir, 'store');
    const run = await runCli(
      [
        'record',
        '--rotate',
        '1s',
        '--duration',
        '3.5',
        '--prefix',
        'rot',
        '--store-dir',
        storeDir,
        '--spool-dir',
        join(dir, 'spool'),
      ],
      { AUDEX_SOURCE: 'synthetic' },
    );
    expect(run.code, run.stderr).toBe(0);
    const keys = run.stdout.toString().trim().split('\n');
    expect(keys).toHaveLength(4);
    const store = new LocalStore({ root: storeDir });
    const pieces: Uint8Array[] = [];
    for (const [i, key] of keys.entries()) {
      expect(key).toMatch(new RegExp(`^audex/rot/[0-9a-f-]{36}-00000${i}\\.wav$`));
      const metadata = await store.getMetadata(key);
      expect(metadata).toMatchObject({ sequence: i, previous_key: i === 0 ? null : keys[i - 1] });
      const file = await store.download(key);
      const info = parseWavHeader(file);
      pieces.push(file.subarray(info.dataOffset, info.dataOffset + info.dataBytes!));
    }
    expect(pieces.slice(0, 3).map((p) => p.byteLength)).toEqual([32_000, 32_000, 32_000]);
    // The synthetic source's 440 Hz tone at 0.5, from its first frame, without a seam.
    const all = concatBytes(pieces);
    const frames = all.byteLength / 2;
    const tone = Float32Array.from(
      { length: frames },
      (_, f) => 0.5 * Math.sin((2 * Math.PI * 440 * f) / 16_000),
    );
    expect(Buffer.from(all).equals(Buffer.from(fromFloat32(tone, 'int16')))).toBe(true);
  }, 30_000);

  it('--json lists every key; a bad --rotate is a usage error', async () => {
    const run = await runCli(
      [
        'record',
        '--rotate',
        '1500ms',
        '--duration',
        '2',
        '--json',
        '--store-dir',
        join(dir, 'store2'),
        '--spool-dir',
        join(dir, 'spool2'),
      ],
      { AUDEX_SOURCE: 'synthetic' },
    );
    expect(run.code, run.stderr).toBe(0);
    const saved = JSON.parse(run.stdout.toString()) as { key: string; keys: string[] };
    expect(saved.keys).toHaveLength(2);
    expect(saved.keys[1]).toBe(saved.key);
    for (const [value, message] of [
      ['0.5s', /--rotate "0.5s" is too short/],
      ['forever', /--rotate "forever" is not a file length; use e\.g\. 10m/],
    ] as const) {
      const bad = await runCli(['record', '--rotate', value, '--duration', '1'], {
        AUDEX_SOURCE: 'synthetic',
      });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(message);
    }
  }, 30_000);
});
