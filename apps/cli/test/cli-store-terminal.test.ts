import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decodeWithFfmpeg, toneShare } from '@audex/test-utils/audio-file-checks';
import { type S3Server, startS3Server } from '@audex/test-utils/s3-server';
import { startVirtualMic, type VirtualMic } from '@audex/test-utils/virtual-mic';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { BIN, runCli } from './_helpers.js';

const run = promisify(execFile);

let mic: VirtualMic;
let s3: S3Server;
let dir: string;

beforeAll(async () => {
  [mic, s3] = await Promise.all([startVirtualMic(), startS3Server()]);
  dir = await mkdtemp(join(tmpdir(), 'audex-cli-s3-'));
}, 60_000);

afterEach(() => {
  // a daemon that died during the test is named here rather than as a later "no audio input device"
  expect(mic.crash).toBeUndefined();
});

afterAll(async () => {
  await s3?.close();
  await mic?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('audex with an S3-compatible store', () => {
  test('records to a bucket chosen by flags, lists, transcodes to Opus and deletes there', async () => {
    const env = {
      AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
      AUDEX_SPOOL_DIR: join(dir, 'spool'),
    };
    const store = ['--s3-bucket', s3.bucket, '--s3-endpoint', s3.endpoint];
    const tone = await mic.playBackground({ frequencies: [660], toneSeconds: 6, amplitude: 0.5 });
    const recorded = await runCli(['record', '--duration', '1.5', '--json', ...store], env).finally(() =>
      tone.stop(),
    );
    expect(recorded.stderr).not.toContain('error');
    expect(recorded.code).toBe(0);
    const saved = JSON.parse(recorded.stdout.toString()) as {
      key: string;
      store: string;
      durationMs: number;
    };
    expect(saved.store).toBe(`s3://${s3.bucket} at ${s3.endpoint}`);

    const listed = JSON.parse((await runCli(['ls', '--json', ...store], env)).stdout.toString()) as {
      key: string;
      durationMs: number;
    }[];
    expect(listed).toEqual([expect.objectContaining({ key: saved.key, durationMs: saved.durationMs })]);

    const opus = join(dir, 'take.opus');
    const got = await runCli(['get', saved.key, '--format', 'opus', '-o', opus, ...store], env);
    expect(got.code).toBe(0);
    const samples = await decodeWithFfmpeg(opus);
    expect(Math.abs(samples.length / 16_000 - saved.durationMs / 1000)).toBeLessThan(0.03);
    expect(toneShare(samples.subarray(4000, samples.length - 4000), 16_000, 660)).toBeGreaterThan(0.5);

    expect((await runCli(['rm', saved.key, ...store], env)).code).toBe(0);
    expect(JSON.parse((await runCli(['ls', '--json', ...store], env)).stdout.toString())).toEqual([]);
  }, 60_000);
});

describe('audex when the S3 store is down', () => {
  test('`record` says where the audio is kept, and `recover` saves it once the store is back', async () => {
    const env = {
      AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
      AUDEX_SPOOL_DIR: join(dir, 'spool-down'),
      AUDEX_SOURCE: 'synthetic',
    };
    const store = ['--s3-bucket', s3.bucket, '--s3-endpoint', s3.endpoint];
    await s3.stop();
    let failed: Awaited<ReturnType<typeof runCli>>;
    try {
      failed = await runCli(['record', '--duration', '1', ...store], env);
    } finally {
      await s3.restart();
    }
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`could not save the recording to s3://${s3.bucket}`);
    expect(failed.stderr).toContain(`The audio is kept in ${join(dir, 'spool-down')}; run "audex recover"`);

    const recovered = await runCli(['recover', '--json', ...store], env);
    expect(recovered.code).toBe(0);
    const [saved] = JSON.parse(recovered.stdout.toString()) as { key: string; durationMs: number }[];
    expect(saved?.durationMs).toBeGreaterThanOrEqual(1000);
    const listed = JSON.parse((await runCli(['ls', '--json', ...store], env)).stdout.toString()) as {
      key: string;
    }[];
    expect(listed.map((r) => r.key)).toContain(saved?.key);
  }, 90_000);
});

describe('audex on a terminal', () => {
  // `script` gives the CLI a real pseudo-terminal, as a user's shell would. Its stdout is the
  // terminal's transcript: the CLI's stdout and stderr share the terminal, so both are in it.
  // Any unexpected exit fails with the exit code or signal, the time taken and the transcript.
  // AUDEX_CAPTURE_DEBUG=1 leaves libasound/libpulse/libjack printing to the terminal, so a device
  // scan that finds nothing (the one failure seen, exit 1 after 421 ms on a fresh machine: at that
  // point only the first device listing has run) shows what the audio libraries said.
  async function onTerminal(args: string, env: Record<string, string>, expectCode = 0): Promise<string> {
    const started = performance.now();
    let stdout: string;
    let stderr: string;
    let code: number | string | null = 0;
    let signal: string | null = null;
    try {
      ({ stdout, stderr } = await run('script', ['-qec', `${process.execPath} ${BIN} ${args}`, '/dev/null'], {
        env: { ...process.env, AUDEX_CAPTURE_DEBUG: '1', ...env },
        maxBuffer: 16 * 1024 * 1024,
      }));
    } catch (error) {
      const failed = error as {
        code?: number | string;
        signal?: string | null;
        stdout: string;
        stderr: string;
      };
      ({ stdout, stderr } = failed);
      code = failed.code ?? null;
      signal = failed.signal ?? null;
    }
    const ms = Math.round(performance.now() - started);
    expect(
      code,
      `audex ${args}: exit code ${code}${signal ? `, signal ${signal}` : ''} after ${ms} ms (script -e: 128+N is signal N)\n` +
        `--- terminal (the CLI's stdout and stderr) ---\n${stdout}\n--- script's own stderr ---\n${stderr}`,
    ).toBe(expectCode);
    return stdout;
  }

  test('`record` shows a live level meter with elapsed time and size, in colour, then the key', async () => {
    const tone = await mic.playBackground({ frequencies: [1000], toneSeconds: 6, amplitude: 0.5 });
    const out = await onTerminal(`record --duration 2 --store-dir ${join(dir, 'tty')}`, {
      NO_COLOR: '',
      AUDEX_SPOOL_DIR: join(dir, 'spool-tty'),
    }).finally(() => tone.stop());
    expect(out).toMatch(/REC 0:01\.\d/);
    expect(out).toMatch(/-\d+\.\d dBFS/);
    expect(out).toMatch(/\d+\.\d KiB/);
    expect(out).toContain('\u001b[32m');
    expect(out).toMatch(/^audex\/[\w-]+\.wav\r?$/m);
  }, 30_000);

  test('NO_COLOR turns colour off even on a terminal', async () => {
    const out = await onTerminal(`record --duration 1 --store-dir ${join(dir, 'tty')}`, {
      NO_COLOR: '1',
      AUDEX_SPOOL_DIR: join(dir, 'spool-tty'),
    });
    expect(out).toContain('REC');
    // line redraws (erase line) stay; colour (SGR) sequences must not appear
    expect(out.replaceAll('\u001b[2K', '')).not.toContain('\u001b[');
  }, 30_000);

  test('`get` refuses to write audio to a terminal', async () => {
    const out = await onTerminal(`get audex/x.wav --store-dir ${join(dir, 'tty')}`, {}, 1);
    expect(out).toContain('refusing to write audio to a terminal; use -o FILE or redirect stdout');
  });
});
