import { type ChildProcess, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeWithFfmpeg, probeSeconds, toneShare } from '@audex/test-utils/audio-file-checks';
import { type Playback, startVirtualMic, type VirtualMic } from '@audex/test-utils/virtual-mic';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { finish, runCli, startCli } from './_helpers.js';

const TONE_HZ = 1000;

let mic: VirtualMic;
let dir: string;
let env: Record<string, string>;
let tone: Playback | undefined;

beforeAll(async () => {
  mic = await startVirtualMic();
  dir = await mkdtemp(join(tmpdir(), 'audex-cli-test-'));
  env = { AUDEX_STORE_DIR: join(dir, 'store'), AUDEX_SPOOL_DIR: join(dir, 'spool') };
}, 60_000);

afterEach(async () => {
  await tone?.stop();
  tone = undefined;
  // a daemon that died during the test is named here rather than as a later "no audio input device"
  expect(mic.crash).toBeUndefined();
});

afterAll(async () => {
  await mic?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function playTone(seconds: number): Promise<void> {
  tone = await mic.playBackground({ frequencies: [TONE_HZ], toneSeconds: seconds, amplitude: 0.5 });
}

/** Resolves once the CLI reports that audio is flowing (its "recording KEY" line on stderr). */
function recordingStarted(child: ChildProcess): Promise<void> {
  let text = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      if (/^recording audex\//m.test(text)) {
        child.stderr!.off('data', onData);
        resolve();
      }
    };
    child.stderr!.on('data', onData);
    child.once('exit', () => reject(new Error(`the CLI exited before recording: ${text}`)));
  });
}

function middle(samples: Float32Array): Float32Array {
  return samples.subarray(Math.floor(samples.length * 0.25), Math.floor(samples.length * 0.75));
}

describe('audex with the virtual microphone', () => {
  test('`record --duration 3` while a tone plays stores a WAV that ffmpeg decodes to about 3 s of the tone', async () => {
    await playTone(8);
    const result = await runCli(['record', '--duration', '3', '--prefix', 'cli-test'], env);
    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);
    const key = result.stdout.toString().trim();
    expect(key).toMatch(/^audex\/cli-test\/[\w-]+\.wav$/);

    const out = join(dir, 'record.wav');
    const get = await runCli(['get', key, '-o', out], env);
    expect(get.code).toBe(0);
    const seconds = await probeSeconds(out);
    // --duration counts captured frames: at least 3 s, at most one 64 ms chunk more
    expect(seconds).toBeGreaterThanOrEqual(3);
    expect(seconds).toBeLessThan(3.1);
    const samples = await decodeWithFfmpeg(out);
    expect(toneShare(middle(samples), 16_000, TONE_HZ)).toBeGreaterThan(0.5);

    // listed, cut and transcoded, then removed
    const ls = await runCli(['ls', '--json'], env);
    const listed = JSON.parse(ls.stdout.toString()) as { key: string; durationMs: number }[];
    expect(listed.map((r) => r.key)).toContain(key);
    const cut = join(dir, 'cut.mp3');
    const get2 = await runCli(['get', key, '--format', 'mp3', '--from', '0.5', '--to', '2', '-o', cut], env);
    expect(get2.code).toBe(0);
    expect((await decodeWithFfmpeg(cut)).length).toBe(24_000);
    const removed = await runCli(['rm', key], env);
    expect(removed.code).toBe(0);
    const again = await runCli(['get', key, '-o', out], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/not found|no object|does not exist/i);
  }, 60_000);

  test('`stream --format mp3` for 3 s writes one MP3 stream that ffmpeg decodes, with the tone', async () => {
    await playTone(8);
    const result = await runCli(['stream', '--format', 'mp3', '--duration', '3'], env);
    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);
    const file = join(dir, 'stream.mp3');
    await writeFile(file, result.stdout);
    const samples = await decodeWithFfmpeg(file);
    expect(samples.length / 16_000).toBeGreaterThan(2.8);
    expect(samples.length / 16_000).toBeLessThan(3.4);
    expect(toneShare(middle(samples), 16_000, TONE_HZ)).toBeGreaterThan(0.5);
  }, 60_000);

  test('`stream --format wav` for 2 s is one WAV file (streaming header) of 2 s', async () => {
    const result = await runCli(['stream', '--format', 'wav', '--duration', '2'], env);
    expect(result.code).toBe(0);
    expect(result.stdout.subarray(0, 4).toString()).toBe('RIFF');
    expect(result.stdout.indexOf('RIFF', 4)).toBe(-1);
    const file = join(dir, 'stream.wav');
    await writeFile(file, result.stdout);
    const seconds = (await decodeWithFfmpeg(file)).length / 16_000;
    expect(seconds).toBeGreaterThanOrEqual(2);
    expect(seconds).toBeLessThan(2.1);
  }, 30_000);

  test('`stream --format flac` for 2 s is one FLAC stream that flac -t accepts, with the tone', async () => {
    await playTone(6);
    const result = await runCli(['stream', '--format', 'flac', '--duration', '2'], env);
    expect(result.code).toBe(0);
    expect(result.stdout.subarray(0, 4).toString()).toBe('fLaC');
    const file = join(dir, 'stream.flac');
    await writeFile(file, result.stdout);
    const check = spawnSync('flac', ['-t', file], { encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
    const samples = await decodeWithFfmpeg(file);
    expect(samples.length / 16_000).toBeGreaterThanOrEqual(2);
    expect(samples.length / 16_000).toBeLessThan(2.1);
    expect(toneShare(middle(samples), 16_000, TONE_HZ)).toBeGreaterThan(0.5);
  }, 30_000);

  test('`stream` ends quietly with status 0 when the reader closes the pipe', async () => {
    const child = startCli(['stream', '--format', 'wav'], env);
    const done = finish(child);
    await once(child.stdout!, 'data');
    child.stdout!.destroy();
    const result = await done;
    expect(result.stderr).not.toMatch(/EPIPE|error/i);
    expect(result.code).toBe(0);
  }, 30_000);

  test('Ctrl-C stops `record` cleanly and saves what was captured', async () => {
    const child = startCli(['record', '--json'], env);
    const done = finish(child);
    await recordingStarted(child);
    await new Promise((r) => setTimeout(r, 2000));
    child.kill('SIGINT');
    const result = await done;
    expect(result.code).toBe(0);
    const saved = JSON.parse(result.stdout.toString()) as { key: string; durationMs: number };
    expect(saved.durationMs).toBeGreaterThan(500);
    const out = join(dir, 'interrupted.wav');
    expect((await runCli(['get', saved.key, '-o', out], env)).code).toBe(0);
    expect(Math.abs((await probeSeconds(out)) - saved.durationMs / 1000)).toBeLessThan(0.01);
  }, 30_000);

  test('`recover` saves a recording left behind by a killed `record`', async () => {
    const spool = join(dir, 'crash-spool');
    const crashEnv = { ...env, AUDEX_SPOOL_DIR: spool };
    const child = startCli(['record'], crashEnv);
    const done = finish(child);
    await recordingStarted(child);
    await new Promise((r) => setTimeout(r, 2000));
    child.kill('SIGKILL');
    await done;
    expect((await readdir(spool)).length).toBeGreaterThan(0);
    const result = await runCli(['recover', '--json'], crashEnv);
    expect(result.code).toBe(0);
    const recovered = JSON.parse(result.stdout.toString()) as { key: string; durationMs: number }[];
    expect(recovered).toHaveLength(1);
    expect(recovered[0]!.durationMs).toBeGreaterThan(500);
    const ls = JSON.parse((await runCli(['ls', '--json'], env)).stdout.toString()) as { key: string }[];
    expect(ls.map((r) => r.key)).toContain(recovered[0]!.key);
    const again = JSON.parse((await runCli(['recover', '--json'], crashEnv)).stdout.toString()) as unknown[];
    expect(again).toHaveLength(0);
  }, 40_000);

  test.each([
    ['record --device 999 --duration 1', /--device 999 is not an input device; available: /],
    ['record --device no-such-mic --duration 1', /--device "no-such-mic" matches no input device/],
    [
      'record --sample-format int12 --duration 1',
      /--sample-format "int12" is not a supported sample format; allowed: int8/,
    ],
    ['stream --format aac --duration 1', /--format "aac" is not available; use one of .*flac.*mp3/],
    ['record --rate fast', /--rate "fast" is not a positive whole number/],
    ['record --duration forever', /--duration "forever" is not a time/],
    ['get ../../etc/passwd -o /dev/null', /\.\./],
    ['get audex/x.wav --from 2 --to 1 -o /dev/null', /--to 1 must be after --from 2/],
  ])('`audex %s` exits non-zero with a clear message', async (args: string, message: RegExp) => {
    const result = await runCli(args.split(' '), env);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/^audex: error: /m);
    expect(result.stderr).toMatch(message);
  });
});
