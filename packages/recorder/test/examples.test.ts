import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startS3Server } from '@audex/test-utils/s3-server';
import { afterEach, expect, test } from 'vitest';
import { ffmpegDecode, tempDir } from './helpers.js';

const examples = fileURLToPath(new URL('../examples/', import.meta.url));
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** Runs an example as a user would (from sources), returning its last JSON line. */
function run(name: string, args: string[] = [], env: Record<string, string> = {}): Record<string, unknown> {
  const spool = tempDir();
  cleanups.push(spool.remove);
  env = { AUDEX_SPOOL_DIR: spool.dir, ...env };
  const result = spawnSync(
    process.execPath,
    ['--conditions=@audex/source', '--import', 'tsx', join(examples, name), ...args],
    { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 },
  );
  expect(result.status, result.stderr).toBe(0);
  const lines = result.stdout.trim().split('\n');
  return JSON.parse(lines.at(-1)!) as Record<string, unknown>;
}

test('README example: record to a LocalStore', () => {
  const root = tempDir();
  cleanups.push(root.remove);
  const out = run('local-store.ts', [root.dir]);
  expect(out.durationMs).toBe(2000);
  expect(out.metadata).toMatchObject({ content_type: 'audio/wav', frame_count: 32_000, sample_rate: 16_000 });
});

test('README example: stream Ogg Opus to a consumer while recording', () => {
  const dir = tempDir();
  cleanups.push(dir.remove);
  const file = join(dir.dir, 'live.ogg');
  const out = run('stream-to-consumer.ts', [file]);
  expect(out.chunks).toBeGreaterThan(10);
  const decoded = ffmpegDecode(readFileSync(file), 'ogg', { rate: 48_000, channels: 1 });
  expect(decoded.stderr).toBe('');
  expect(Math.abs(decoded.samples.length - 96_000)).toBeLessThan(48 * 30);
});

test('README example: segments as raw PCM (the default), WAV and MP3, a clamped range', () => {
  const out = run('segment.ts');
  expect(out.pcmBytes).toBe(32_000);
  expect(out.wavBytes).toBe(44 + 32_000);
  expect(out.mp3Bytes).toBeGreaterThan(4000);
  expect(out.clampedBytes).toBe(16_000);
});

test('README example: a custom Store and a custom codec', () => {
  const out = run('custom-store-and-codec.ts');
  expect(out.key).toMatch(/^tenant-42\/room-1\//);
  expect(out.stored).toBe(44 + 16_000);
  expect(out.peaks).toEqual(Array(10).fill('0.500'));
});

test('README example: record to S3', async () => {
  const server = await startS3Server();
  cleanups.push(() => server.close());
  const out = run('s3.ts', [], {
    AUDEX_S3_ENDPOINT: server.endpoint,
    AUDEX_S3_BUCKET: server.bucket,
    AWS_ACCESS_KEY_ID: server.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: server.credentials.secretAccessKey,
  });
  expect(out.metadata).toMatchObject({ frame_count: 16_000, content_type: 'audio/wav' });
});
