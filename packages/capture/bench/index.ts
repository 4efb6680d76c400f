// Capture bench: real capture through the PulseAudio virtual microphone with this checkout's
// @audex/capture (on @audex/naudiodon: the audio callback wakes JavaScript per chunk) side by side
// with main's last capture on patched naudiodon (JavaScript polling the ring), each run in a child
// process of its own, alternating; then install time of @audex/naudiodon from its tarball with the
// prebuilt binary vs a from-source build.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchSection, fmt, median, percentile, writeBenchReport } from '@audex/test-utils/bench';
import { startVirtualMic } from '@audex/test-utils/virtual-mic';

const quick = process.env.AUDEX_BENCH_QUICK === '1';
const seconds = quick ? 20 : 60;
const here = fileURLToPath(new URL('.', import.meta.url));
const repo = execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: here, encoding: 'utf8' }).trim();
const configs = [
  {
    label: '16 kHz mono int16',
    config: { sampleFormat: 'int16', channels: 1, rate: 16000, chunk: 1024 },
    blocks: 0,
  },
  {
    label: '16 kHz mono int16, 3 x 200 ms event-loop blocks',
    config: { sampleFormat: 'int16', channels: 1, rate: 16000, chunk: 1024 },
    blocks: 3,
  },
  {
    label: '48 kHz stereo float32',
    config: { sampleFormat: 'float32', channels: 2, rate: 48000, chunk: 1024 },
    blocks: 0,
  },
];

/**
 * Main's capture before @audex/naudiodon: a detached worktree of the commit before the one that
 * removed patches/naudiodon@2.3.6.patch, outside the repository, installed from the pnpm store.
 * Kept between runs (never committed).
 */
function oldCapture(): { entry: string; commit: string } | undefined {
  const removal = execFileSync('git', ['rev-list', '-1', 'HEAD', '--', 'patches/naudiodon@2.3.6.patch'], {
    cwd: repo,
    encoding: 'utf8',
  }).trim();
  if (!removal) return undefined;
  const commit = execFileSync('git', ['rev-parse', `${removal}^`], { cwd: repo, encoding: 'utf8' }).trim();
  const dir = join(tmpdir(), `audex-bench-main-${commit.slice(0, 10)}`);
  if (!existsSync(join(dir, 'node_modules', '.modules.yaml'))) {
    rmSync(dir, { recursive: true, force: true });
    spawnSync('git', ['worktree', 'prune'], { cwd: repo });
    execFileSync('git', ['worktree', 'add', '--detach', dir, commit], { cwd: repo, stdio: 'ignore' });
    const install = spawnSync('pnpm', ['install', '--frozen-lockfile', '--prefer-offline'], {
      cwd: dir,
      encoding: 'utf8',
    });
    if (install.status !== 0)
      throw new Error(`pnpm install in ${dir} failed:\n${install.stdout}${install.stderr}`);
  }
  buildCapture(dir);
  return { entry: join(dir, 'packages', 'capture', 'dist', 'index.js'), commit };
}

/** Builds @audex/capture and what it depends on (tsup), so the child runs plain JavaScript. */
function buildCapture(dir: string): void {
  const build = spawnSync('pnpm', ['exec', 'turbo', 'run', 'build', '--filter=@audex/capture'], {
    cwd: dir,
    encoding: 'utf8',
  });
  if (build.status !== 0)
    throw new Error(`building @audex/capture in ${dir} failed:\n${build.stdout}${build.stderr}`);
}

interface ChildResult {
  startMs: number;
  firstChunkMs: number;
  frames: number;
  wall: number;
  overflows: number;
  intervals: number[];
  cpuMs: number;
  /** Wall time the CPU figure covers (from 2 s after start() to stop). */
  cpuWallMs: number;
  /** Wall and CPU time of the event-loop blocks themselves (left out of the CPU figure). */
  blockedMs: number;
  blockedCpuMs: number;
  errors: string[];
}

// A capture that reports an error or delivers no audio fails the bench (exit 1), after the report.
const failures: string[] = [];

function capture(entry: string, config: object, blocks: number): ChildResult {
  const child = spawnSync(
    process.execPath,
    [join(here, 'capture-child.mjs'), entry, JSON.stringify(config), String(seconds), String(blocks)],
    { cwd: here, encoding: 'utf8', timeout: (seconds + 60) * 1000 },
  );
  if (child.status !== 0) throw new Error(`capture child failed (${child.status}): ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').pop()!) as ChildResult;
}

const old = oldCapture();
buildCapture(repo);
const impls = [
  {
    name: '@audex/naudiodon (wake-up per chunk)',
    entry: join(repo, 'packages', 'capture', 'dist', 'index.js'),
  },
  ...(old
    ? [{ name: `patched naudiodon 2.3.6, JS polling (main ${old.commit.slice(0, 10)})`, entry: old.entry }]
    : []),
];

const rows: (string | number)[][] = [];
const mic = await startVirtualMic();
try {
  for (const { label, config, blocks } of configs) {
    for (const impl of impls) {
      const r = capture(impl.entry, config, blocks);
      if (r.errors.length > 0) failures.push(`${label}, ${impl.name}: ${r.errors.join('; ')}`);
      if (r.frames === 0) failures.push(`${label}, ${impl.name}: no audio captured`);
      const nominal = (config.chunk / config.rate) * 1000;
      rows.push([
        label,
        impl.name,
        fmt(r.startMs),
        fmt(r.firstChunkMs),
        r.frames,
        (r.frames / (config.rate * r.wall)).toFixed(5),
        fmt(((r.frames - config.rate * r.wall) / config.rate) * 1000),
        r.overflows,
        r.errors.length,
        fmt(nominal),
        fmt(percentile(r.intervals, 50)),
        fmt(percentile(r.intervals, 99)),
        fmt(((r.cpuMs - r.blockedCpuMs) / (r.cpuWallMs - r.blockedMs)) * 100),
      ]);
      console.log(rows.at(-1)!.join(' | '));
    }
  }
} finally {
  await mic.stop();
}

// Install time of @audex/naudiodon from its packed tarball (built by `pnpm build`): npm install
// into an empty project with the prebuilt binary, and the same with --build-from-source.
const installRows: (string | number)[][] = [];
const naudiodon = join(repo, 'packages', 'naudiodon');
if (existsSync(join(naudiodon, 'prebuilds'))) {
  const work = mkdtempSync(join(tmpdir(), 'audex-install-bench-'));
  try {
    execFileSync('pnpm', ['pack', '--pack-destination', work], { cwd: naudiodon, stdio: 'ignore' });
    const tarball = join(work, readdirSync(work).find((f) => f.endsWith('.tgz'))!);
    const runs = quick ? 3 : 5;
    for (const [label, extra] of [
      ['prebuilt binary (linux-x64)', []],
      ['from source (--build-from-source: node-gyp, g++)', ['--build-from-source']],
    ] as const) {
      const times: number[] = [];
      let built = false;
      for (let i = 0; i < runs; i++) {
        const project = join(work, `p-${label.length}-${i}`);
        mkdirSync(project);
        writeFileSync(join(project, 'package.json'), '{"name":"p","private":true}');
        const t = performance.now();
        const res = spawnSync(
          'npm',
          ['install', '--no-fund', '--no-audit', '--prefer-offline', ...extra, tarball],
          { cwd: project, encoding: 'utf8' },
        );
        times.push(performance.now() - t);
        if (res.status !== 0) throw new Error(`npm install ${extra.join(' ')} failed: ${res.stderr}`);
        built = existsSync(join(project, 'node_modules', '@audex', 'naudiodon', 'build'));
      }
      installRows.push([label, runs, fmt(median(times)), fmt(Math.min(...times)), built ? 'yes' : 'no']);
      console.log(installRows.at(-1)!.join(' | '));
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const sections: BenchSection[] = [
  {
    title: `PortAudioSource, ${seconds} s of real capture on the PulseAudio virtual microphone, new module vs main's patched naudiodon (one child process each; single run per row)`,
    columns: [
      'config',
      'native module',
      'start() ms',
      'first chunk after start ms',
      'frames captured',
      'ratio to rate x wall',
      'frames - rate x wall, ms of audio',
      'overflows',
      'errors',
      'nominal interval ms',
      'p50 interval ms',
      'p99 interval ms',
      'process CPU % of one core (blocks excluded)',
    ],
    rows,
    notes:
      (failures.length > 0 ? `FAILED: ${failures.join('; ')}. ` : '') +
      "Process CPU per second of audio from 2 s after start() resolved to stop() (the first 2 s hold V8's first compilations), the whole child process (PortAudio's audio thread and ALSA's pulse plugin included). start() ms is mostly the virtual mic: PulseAudio's null sink renders in up to 2 s blocks until a low-latency reader connects. Both run the built dist/ with plain node. The old module runs from a detached worktree of main's commit before @audex/naudiodon, in the system temp dir (not committed).",
  },
  {
    title: `@audex/naudiodon: npm install of its tarball into an empty project (npm cache warm; median of ${quick ? 3 : 5})`,
    columns: ['how', 'runs', 'median ms', 'min ms', 'node-gyp build dir'],
    rows: installRows,
    notes:
      'Both from the same tarball (pnpm build, then pnpm pack); --build-from-source makes node-gyp-build compile instead of loading prebuilds/linux-x64.',
  },
];
writeBenchReport('@audex/capture', sections);
if (failures.length > 0) console.error(`capture bench failed: ${failures.join('; ')}`);
// non-zero when any capture failed, so `pnpm bench` fails too
process.exit(failures.length > 0 ? 1 : 0);
