import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeWithFfmpeg, probeSeconds, toneShare } from '@audex/test-utils/audio-file-checks';
import { startVirtualMic, type VirtualMic } from '@audex/test-utils/virtual-mic';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishedPackages, run } from './_workspace.js';

// A user on linux-x64 without a compiler: every published package is packed, the tarballs are
// npm-installed into an empty project outside the repository with a PATH that holds node and npm
// but no cc/c++/g++/make, and that project records 3 s from the (virtual) microphone through
// @audex/recorder + LocalStore while a tone plays.
const packages = publishedPackages();
let project: string;
let bin: string;
let install: { status: number | null; output: string };
let mic: VirtualMic;

// What libasound, libjack, PulseAudio and PortAudio print when nobody silences them.
const NATIVE_NOISE =
  /ALSA lib|jack|Jack|JACK|PulseAudio|pulse|PortAudio|Expression '|pa_linux_alsa|Cannot connect/;

const RECORD = `
import { writeFileSync } from 'node:fs';
import { AudioRecorder } from '@audex/recorder';
import { LocalStore } from '@audex/store';
const store = new LocalStore({ root: './recordings' });
const recorder = new AudioRecorder(store, { sampleFormat: 'int16', channels: 1, rate: 16000 }, { spoolDir: './spool' });
await recorder.init();
const startCalled = Date.now();
const key = await recorder.start('standalone');
const started = Date.now();
await new Promise((r) => setTimeout(r, 3000));
const stopCalled = Date.now();
const saved = await recorder.stop({ frames: false });
await recorder.close();
writeFileSync('./recorded.wav', await store.download(saved.key));
process.stdout.write(JSON.stringify({ key, savedKey: saved.key, durationMs: saved.durationMs, startCalled, started, stopCalled }));
`;

beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), 'audex-standalone-'));
  const tarballs = join(project, 'tarballs');
  mkdirSync(tarballs);
  for (const pkg of packages) {
    const packed = run('pnpm', ['pack', '--pack-destination', tarballs], pkg.dir);
    if (packed.status !== 0) throw new Error(`pnpm pack failed for ${pkg.name}:\n${packed.output}`);
  }
  // node, npm and sh (npm runs install scripts with it) only: no C/C++ compiler, no make
  bin = join(project, 'bin');
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, 'node'));
  symlinkSync('/bin/sh', join(bin, 'sh'));
  const npm = spawnSync('/bin/sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim();
  symlinkSync(realpathSync(npm), join(bin, 'npm'));
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'standalone', private: true, type: 'module' }),
  );
  writeFileSync(join(project, 'record.mjs'), RECORD);
  const files = readdirSync(tarballs).map((f) => `./tarballs/${f}`);
  install = run(
    join(bin, 'npm'),
    ['install', '--no-fund', '--no-audit', '--foreground-scripts', ...files],
    project,
    {
      PATH: bin,
    },
  );
  mic = await startVirtualMic();
}, 600_000);

afterAll(async () => {
  await mic?.stop();
  if (project) rmSync(project, { recursive: true, force: true });
});

describe('capture installed from the tarballs, without a compiler', () => {
  it('the install PATH reaches node, npm and sh but no cc, c++, g++, gcc or make', () => {
    for (const tool of ['cc', 'c++', 'g++', 'gcc', 'make']) {
      expect(
        spawnSync('/bin/sh', ['-c', `command -v ${tool}`], { env: { PATH: bin } }).status,
        tool,
      ).not.toBe(0);
    }
    expect(spawnSync('/bin/sh', ['-c', 'command -v npm'], { env: { PATH: bin } }).status).toBe(0);
  });

  it('npm installs every tarball using the prebuilt native binary (no node-gyp build ran)', () => {
    expect(install.status, install.output).toBe(0);
    const native = join(project, 'node_modules', '@audex', 'naudiodon');
    expect(existsSync(join(native, 'prebuilds', 'linux-x64', 'node.napi.glibc.node'))).toBe(true);
    expect(existsSync(join(native, 'prebuilds', 'linux-x64', 'libportaudio.so.2'))).toBe(true);
    expect(existsSync(join(native, 'build')), 'a node-gyp build directory').toBe(false);
    expect(install.output).not.toMatch(/gyp (info|ERR)|node-gyp rebuild|make: /);
  });

  it('records 3 s from the microphone through @audex/recorder + LocalStore while a tone plays: a 3 s WAV holding the tone, nothing from ALSA/JACK/PulseAudio on stderr', async () => {
    const playback = await mic.playBackground({ frequencies: [1000], toneSeconds: 8 });
    let result: ReturnType<typeof spawnSync>;
    try {
      result = spawnSync(join(bin, 'node'), ['record.mjs'], {
        cwd: project,
        encoding: 'utf8',
        timeout: 60_000,
        env: { PATH: bin, HOME: project, ...mic.env },
      });
    } finally {
      await playback.stop();
    }
    const stderr = String(result.stderr);
    expect(result.status, `${result.stdout}\n${stderr}`).toBe(0);
    expect(stderr).not.toMatch(NATIVE_NOISE);
    const report = JSON.parse(String(result.stdout)) as {
      key: string;
      durationMs: number;
      startCalled: number;
      started: number;
      stopCalled: number;
    };
    expect(report.key).toMatch(/^audex\/standalone\/.+\.wav$/);
    const wav = join(project, 'recorded.wav');
    const seconds = await probeSeconds(wav);
    // 3 s: the child stops 3000 ms after recorder.start() returned, by a timer that a loaded
    // machine fires late; the recording can hold no more than from start() called to stop() called
    // (seen: 2.88 s and 3.057 s on a machine under load)
    expect(seconds).toBeLessThan((report.stopCalled - report.startCalled) / 1000 + 0.03);
    expect(Math.abs(seconds - 3)).toBeLessThan(0.15);
    const samples = await decodeWithFfmpeg(wav, 16_000);
    // the tone fills the recording (it started before and ends after): most of its power is 1 kHz
    expect(toneShare(samples.subarray(8000), 16_000, 1000)).toBeGreaterThan(0.8);
  }, 120_000);
});
