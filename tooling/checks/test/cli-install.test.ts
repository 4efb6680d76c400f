// The published `audex` command installed as a user would: `npm install -g --prefix <tmp>` of the CLI
// tarball and its dependencies' tarballs, outside the repository, with no C/C++ compiler or make on
// PATH; then the installed command lists devices, records from the virtual microphone while a tone
// plays, saves to an S3 server, and serves the web demo.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { decodeWithFfmpeg, probeSeconds, toneShare } from '@audex/test-utils/audio-file-checks';
import { startS3Server } from '@audex/test-utils/s3-server';
import { type Playback, startVirtualMic, type VirtualMic } from '@audex/test-utils/virtual-mic';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { packTarballs, publishedPackages, ROOT, type Workspace } from './_workspace.js';

const TONE_HZ = 1000;
/** What a C/C++ build needs; none of it may be reachable while installing or running. */
const BUILD_TOOLS = ['cc', 'gcc', 'c++', 'g++', 'clang', 'make'];
/** Lines the native audio stack prints when it is not silenced. */
const AUDIO_STACK_NOISE = /ALSA lib|jack server|Cannot connect to server|JackShm|PulseAudio: Unable/i;

const packages = publishedPackages();
const cliPackage = packages.find((p) => p.name === '@audex/cli');

/** The CLI and every workspace package it depends on, directly or not. */
function withWorkspaceDependencies(root: Workspace): Workspace[] {
  const byName = new Map(packages.map((p) => [p.name, p]));
  const found = new Map<string, Workspace>();
  const visit = (pkg: Workspace) => {
    if (found.has(pkg.name)) return;
    found.set(pkg.name, pkg);
    for (const [name, range] of Object.entries(pkg.manifest.dependencies ?? {})) {
      if (!range.startsWith('workspace:')) continue;
      const dep = byName.get(name);
      if (!dep) throw new Error(`${pkg.name} depends on ${name}, which is not a published package`);
      visit(dep);
    }
  };
  visit(root);
  return [...found.values()];
}

let base: string;
let prefix: string;
let audex: string;
let installOutput: string;
/** This process's environment minus pnpm's npm_* settings, with a PATH holding only node, npm and sh. */
let userEnv: NodeJS.ProcessEnv;
let mic: VirtualMic;
let tone: Playback | undefined;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

beforeAll(async () => {
  if (!cliPackage) throw new Error('@audex/cli is not a published package (is it private?)');
  base = mkdtempSync(join(tmpdir(), 'audex-cli-install-'));
  const tarballs = join(base, 'tarballs');
  mkdirSync(tarballs);
  const files = packTarballs(withWorkspaceDependencies(cliPackage), tarballs);

  // a PATH a machine without build tools would have: node, npm and a shell, nothing else
  const pathDir = join(base, 'path');
  mkdirSync(pathDir);
  const npmCli = spawnSync('sh', ['-c', 'readlink -f "$(command -v npm)"'], {
    encoding: 'utf8',
  }).stdout.trim();
  symlinkSync(process.execPath, join(pathDir, 'node'));
  symlinkSync(npmCli, join(pathDir, 'npm'));
  symlinkSync('/bin/sh', join(pathDir, 'sh'));
  userEnv = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(npm_|pnpm_|PNPM_|INIT_CWD$)/i.test(name)),
  );
  userEnv.PATH = pathDir;
  userEnv.NO_COLOR = '1';

  prefix = join(base, 'prefix');
  const install = spawnSync(
    'npm',
    ['install', '-g', '--prefix', prefix, '--no-fund', '--no-audit', '--foreground-scripts', ...files],
    { cwd: base, env: userEnv, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  installOutput = `${install.stdout ?? ''}${install.stderr ?? ''}`;
  if (install.status !== 0) throw new Error(`npm install -g of the CLI tarballs failed:\n${installOutput}`);
  audex = join(prefix, 'bin', 'audex');
  mic = await startVirtualMic();
}, 600_000);

afterEach(async () => {
  await tone?.stop();
  tone = undefined;
});

afterAll(async () => {
  await mic?.stop();
  if (base) rmSync(base, { recursive: true, force: true });
});

/** Runs the installed `audex` with the user environment (restricted PATH, the virtual mic). */
function runAudex(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(audex, args, {
    cwd: base,
    env: { ...userEnv, ...mic.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

describe('the installed audex command (npm install -g, no compiler)', () => {
  test('installs outside the repository with no compiler or make reachable, and no native build ran', () => {
    expect(relative(ROOT, base).startsWith('..')).toBe(true);
    for (const tool of BUILD_TOOLS) {
      const found = spawnSync('sh', ['-c', `command -v ${tool}`], { env: userEnv, encoding: 'utf8' });
      expect(found.status, `${tool} is reachable at ${found.stdout.trim()}`).not.toBe(0);
    }
    expect(existsSync(audex)).toBe(true);
    expect(installOutput).not.toMatch(/gyp (info|ERR)|node-gyp rebuild|prebuild-install/);
    const installed = filesUnder(join(prefix, 'lib', 'node_modules'));
    // a node-gyp build leaves build/Makefile and build/config.gypi behind; the prebuilt binary is shipped
    expect(installed.filter((f) => /\/build\/(Makefile|config\.gypi)$/.test(f))).toEqual([]);
    expect(installed.filter((f) => f.endsWith('.node')).length).toBeGreaterThan(0);
    // the CLI resolved every @audex package to the tarballs installed beside it, none from the registry
    const cliModules = join(prefix, 'lib', 'node_modules', '@audex', 'cli', 'node_modules', '@audex');
    expect(existsSync(cliModules)).toBe(false);
  });

  test('`audex --version` prints the package version', () => {
    const version = JSON.parse(readFileSync(join(cliPackage!.dir, 'package.json'), 'utf8')).version;
    const result = runAudex(['--version']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe(version);
  });

  test('`audex devices --json` lists the virtual microphone, and the audio stack prints nothing', () => {
    const result = runAudex(['devices', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const devices = JSON.parse(result.stdout) as { index: number; name: string; channels: number }[];
    expect(devices.length).toBeGreaterThan(0);
    expect(devices.every((d) => d.channels > 0)).toBe(true);
    expect(result.stderr).not.toMatch(AUDIO_STACK_NOISE);
  });

  test('`audex record --duration 2` while a tone plays stores a WAV ffprobe reads as 2 s of the tone', async () => {
    const store = join(base, 'store');
    tone = await mic.playBackground({ frequencies: [TONE_HZ], toneSeconds: 6, amplitude: 0.5 });
    const result = runAudex([
      'record',
      '--duration',
      '2',
      '--store-dir',
      store,
      '--spool-dir',
      join(base, 'spool'),
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(AUDIO_STACK_NOISE);
    const key = result.stdout.trim();
    expect(key).toMatch(/^audex\/[\w/-]+\.wav$/);
    const name = key.split('/').pop()!;
    const stored = filesUnder(store).filter((f) => f.endsWith(`/${name}`));
    expect(stored).toHaveLength(1);
    const seconds = await probeSeconds(stored[0]!);
    // --duration counts captured frames: at least 2 s, at most one chunk more
    expect(seconds).toBeGreaterThanOrEqual(2);
    expect(seconds).toBeLessThan(2.1);
    const samples = await decodeWithFfmpeg(stored[0]!);
    const middle = samples.subarray(Math.floor(samples.length * 0.25), Math.floor(samples.length * 0.75));
    expect(toneShare(middle, 16_000, TONE_HZ)).toBeGreaterThan(0.5);
  }, 60_000);

  test('`audex record --s3-bucket` saves to an S3 server and `audex ls` lists it (the AWS SDK installed beside the CLI, as the README says)', async () => {
    await using server = await startS3Server({ kind: 's3rver', buckets: ['installed-cli'] });
    const s3Env = {
      AWS_ACCESS_KEY_ID: server.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: server.credentials.secretAccessKey,
      AWS_REGION: server.region,
    };
    const s3Flags = ['--s3-bucket', 'installed-cli', '--s3-endpoint', server.endpoint];
    const recorded = runAudex(
      ['record', '--duration', '1', '--spool-dir', join(base, 'spool-s3'), ...s3Flags],
      s3Env,
    );
    expect(recorded.code, recorded.stderr).toBe(0);
    const key = recorded.stdout.trim();
    expect(key).toMatch(/^audex\/[\w/-]+\.wav$/);
    const listed = runAudex(['ls', ...s3Flags], s3Env);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(key);
  }, 120_000);

  test('`audex web` serves the page with its two buttons and the built browser script, and records', async () => {
    const store = join(base, 'web-store');
    const child = spawn(
      audex,
      ['web', '--port', '0', '--store-dir', store, '--spool-dir', join(base, 'spool')],
      {
        cwd: base,
        env: { ...userEnv, ...mic.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      const { url, output } = await listening(child);
      const page = await fetch(url);
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toMatch(/<button id="start"[^>]*>Start recording<\/button>/);
      expect(html).toMatch(/<button id="stop"[^>]*>Stop recording<\/button>/);
      const script = await fetch(new URL('/app.js', url));
      expect(script.status).toBe(200);
      expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
      const shipped = readFileSync(
        join(prefix, 'lib', 'node_modules', '@audex', 'web', 'dist', 'client', 'app.js'),
        'utf8',
      );
      expect(await script.text()).toBe(shipped);
      expect(shipped).toContain('/api/recording/start');

      // the installed server records from the microphone: start, a second of tone, stop, listed
      tone = await mic.playBackground({ frequencies: [TONE_HZ], toneSeconds: 5, amplitude: 0.5 });
      const started = await fetch(new URL('/api/recording/start', url), { method: 'POST', body: '{}' });
      expect(started.status, await started.clone().text()).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const stopped = await fetch(new URL('/api/recording/stop', url), { method: 'POST' });
      expect(stopped.status, await stopped.clone().text()).toBe(200);
      const { key } = (await stopped.json()) as { key: string };
      const list = (await (await fetch(new URL('/api/recordings', url))).json()) as {
        recordings: { key: string; durationMs: number }[];
      };
      const saved = list.recordings.find((r) => r.key === key);
      expect(saved?.durationMs).toBeGreaterThan(500);
      expect(output()).not.toMatch(AUDIO_STACK_NOISE);
    } finally {
      if (child.exitCode === null) {
        const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        expect(await exited).toBe(0);
      }
    }
  }, 60_000);
});

/** Resolves with the URL `audex web` prints once it listens, and its output so far. */
function listening(child: ChildProcess): Promise<{ url: string; output: () => string }> {
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`audex web did not start:\n${log}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      log += d.toString();
      const match = /listening on (http:\/\/\S+)/.exec(log);
      if (match) {
        clearTimeout(timer);
        resolve({ url: match[1]!, output: () => log });
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      log += d.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`audex web exited with ${code}:\n${log}`));
    });
  });
}
