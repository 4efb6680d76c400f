// Benchmarks of the recording that keeps going (issue 14), all on the PulseAudio virtual microphone:
// 1. start latency: how long start() takes to resolve and where the recording's first sample lies
//    relative to the call (positive: after it, audio lost; negative: before it, pre-roll), with and
//    without preRollMs;
// 2. device return → audio flowing: from the audio server back (restart() after a kill, the source
//    module loaded again after an unload, the source resumed after a suspend: a stall) to the
//    recorder's deviceRestored event, which fires with the first chunk after the outage;
// 3. CPU of an idle pre-roll ring: process CPU time while initialised with preRollMs and not
//    recording, against the same process idle with the input closed, scaled to an hour.
// Part of `pnpm bench` (bench/index.ts); run alone with
// `tsx --conditions=@audex/source bench/continuous.ts` (AUDEX_BENCH_QUICK=1: fewer runs, shorter CPU windows).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PortAudioSource } from '@audex/capture';
import { resolveAudioConfig } from '@audex/pcm';
import { MemoryStore } from '@audex/store';
import { type BenchSection, fmt, percentile, summarize, writeBenchReport } from '@audex/test-utils/bench';
import { startVirtualMic, type VirtualMic } from '@audex/test-utils/virtual-mic';
import { AudioRecorder, type DeviceRestoredEvent } from '../src/index.js';

const QUICK = process.env.AUDEX_BENCH_QUICK === '1';
const CONFIG = { rate: 48_000, channels: 2, sampleFormat: 'int16' } as const;
const PRE_ROLL_MS = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.timeOrigin + performance.now();

async function until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`[audex/bench] timed out waiting for ${what}`);
    await sleep(5);
  }
}

function withRecorder<T>(
  options: { preRollMs?: number },
  run: (recorder: AudioRecorder, store: MemoryStore) => Promise<T>,
): Promise<T> {
  const spool = mkdtempSync(join(tmpdir(), 'audex-bench-continuous-'));
  const store = new MemoryStore();
  const recorder = new AudioRecorder(store, CONFIG, { spoolDir: spool, ...options });
  return run(recorder, store).finally(async () => {
    await recorder.close().catch(() => {});
    rmSync(spool, { recursive: true, force: true });
  });
}

/** One start: how long start() took, and the recording's first frame relative to the call (ms). */
interface StartRun {
  resolveMs: number;
  firstSampleMs: number;
}

async function startLatency(runs: number): Promise<BenchSection> {
  const cold: StartRun[] = [];
  await withRecorder({}, async (recorder) => {
    await recorder.init();
    for (let i = 0; i < runs; i++) {
      const calledAt = now();
      await recorder.start('bench-start');
      const resolveMs = now() - calledAt;
      await sleep(300);
      const saved = await recorder.stop({ returnPcm: false });
      cold.push({ resolveMs, firstSampleMs: saved.startedAt.getTime() - calledAt });
      await sleep(200);
    }
  });
  const warm: StartRun[] = [];
  await withRecorder({ preRollMs: PRE_ROLL_MS }, async (recorder, store) => {
    await recorder.init();
    for (let i = 0; i < runs; i++) {
      // The ring refills (a recording never reaches back before the previous one's end).
      await sleep(PRE_ROLL_MS + 300);
      const calledAt = now();
      const key = await recorder.start('bench-start');
      const resolveMs = now() - calledAt;
      await sleep(300);
      const saved = await recorder.stop({ returnPcm: false });
      const metadata = await store.getMetadata(key);
      if (!((metadata.pre_roll_ms as number) >= PRE_ROLL_MS - 50)) {
        throw new Error(
          `[audex/bench] pre_roll_ms ${String(metadata.pre_roll_ms)}, expected about ${PRE_ROLL_MS}`,
        );
      }
      warm.push({ resolveMs, firstSampleMs: saved.startedAt.getTime() - calledAt });
    }
  });
  const row = (label: string, list: StartRun[]) => {
    const resolve = summarize(list.map((r) => r.resolveMs));
    const first = summarize(list.map((r) => r.firstSampleMs));
    return [
      label,
      `${fmt(resolve.value)} ms (max ${fmt(Math.max(...list.map((r) => r.resolveMs)))})`,
      `${fmt(first.value)} ms (${fmt(Math.min(...list.map((r) => r.firstSampleMs)))} … ${fmt(Math.max(...list.map((r) => r.firstSampleMs)))})`,
    ];
  };
  return {
    title: `Start latency on the virtual mic (PortAudio, 48 kHz stereo int16): start() call → resolved, and the recording's first stored sample relative to the call (${summarize(cold.map((r) => r.resolveMs)).label} starts each; range in brackets)`,
    columns: ['recorder', 'start() resolves after', 'first stored sample vs the call (− = before it)'],
    rows: [
      row('preRollMs 0 (the input opens at start())', cold),
      row(`preRollMs ${PRE_ROLL_MS} (input open since init())`, warm),
    ],
    notes:
      'First stored sample = the stored recording’s startedAt (the capture time of its first frame). Without pre-roll it lies after the call: audio said at the call is lost; the virtual mic’s null sink renders in 2 s cycles, so this varies 0–2 s run to run (real devices start faster). ' +
      'With pre-roll start() opens nothing and the recording begins preRollMs before the call. Each start is followed by 300 ms of recording and stop().',
  };
}

/** Device return → deviceRestored (the first chunk after the outage), for one kind of outage. */
async function returnToAudio(
  runs: number,
  outage: () => Promise<void>,
  restore: () => Promise<void>,
): Promise<{ times: number[]; notLost: number; gaps: number[] }> {
  const times: number[] = [];
  const gaps: number[] = [];
  let notLost = 0;
  await withRecorder({}, async (recorder) => {
    const lost: number[] = [];
    const restored: { at: number; event: DeviceRestoredEvent }[] = [];
    recorder.on('deviceLost', () => lost.push(now()));
    recorder.on('deviceRestored', (event) => restored.push({ at: now(), event }));
    recorder.on('error', () => {});
    await recorder.init();
    await recorder.start('bench-return');
    await until(() => recorder.inputStatus === 'open', 10_000, 'the input to open');
    await sleep(1500);
    for (let i = 0; i < runs; i++) {
      const lostBefore = lost.length;
      await outage();
      await sleep(1500);
      await restore();
      const backAt = now();
      if (lost.length === lostBefore) {
        // PulseAudio moved the stream to another source: nothing was lost.
        await sleep(2000);
        if (lost.length === lostBefore) {
          notLost++;
          continue;
        }
      }
      await until(() => restored.length === lost.length, 20_000, 'deviceRestored');
      const last = restored.at(-1)!;
      times.push(last.at - backAt);
      gaps.push(last.event.gapMs);
      await sleep(1500);
    }
    await recorder.stop({ returnPcm: false });
  });
  return { times, notLost, gaps };
}

async function deviceReturn(mic: VirtualMic, runs: number): Promise<BenchSection> {
  const killed = await returnToAudio(
    runs,
    () => mic.kill(),
    () => mic.restart(),
  );
  const unplugged = await returnToAudio(
    runs,
    () => mic.unloadSource(),
    () => mic.loadSource(),
  );
  const stalled = await returnToAudio(
    runs,
    () => mic.setSuspended(true),
    () => mic.setSuspended(false),
  );
  const row = (label: string, r: { times: number[]; notLost: number; gaps: number[] }) => {
    if (r.times.length === 0) {
      return [
        label,
        `not lost in ${r.notLost} of ${runs} (PulseAudio moved the stream to another source)`,
        '–',
        '–',
      ];
    }
    const s = summarize(r.times);
    return [
      label,
      `${fmt(s.value)} ms (${s.label}${r.notLost > 0 ? `; ${r.notLost} of ${runs} not lost` : ''})`,
      `${fmt(Math.max(...r.times))} ms`,
      `${fmt(percentile(r.gaps, 50))} ms`,
    ];
  };
  return {
    title:
      'Device return → audio flowing again (virtual mic, PortAudio, 48 kHz stereo int16, reconnect on by default): from the device back to deviceRestored',
    columns: ['outage (1.5 s)', 'device back → audio flowing', 'max', 'gap in the recording (middle run)'],
    rows: [
      row('audio server SIGKILLed, restarted on the same socket', killed),
      row('virtual mic module unloaded, loaded again', unplugged),
      row('virtual mic suspended (a stall: no audio, no error), resumed', stalled),
    ],
    notes:
      '"Device back" = restart() / loadSource() / setSuspended(false) resolved (the daemon answers, the source exists or runs again); deviceRestored fires with the first chunk captured after the outage. ' +
      'A stall is noticed by the watchdog (default 1 s past the next chunk), so its gap includes that second. ' +
      'The recorder re-opens with back-off (250 ms doubling to 1 s), so up to about 1 s of this can be waiting for the next attempt; the rest is opening the stream and the null sink’s first render, which takes about 2 s for any new stream here (the start latency without pre-roll above), the floor of this figure on this machine. ' +
      'An unloaded source may not be lost at all: PulseAudio moves its streams to the fallback source (the sink’s monitor).',
  };
}

/** CPU time (user + system, ms) of the whole process and of the PulseAudio daemon. */
function cpuNow(daemonPid: number): { self: number; daemon: number } {
  const u = process.cpuUsage();
  const fields = readFileSync(`/proc/${daemonPid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of /proc/PID/stat (11 and 12 after the command), in ticks (100 Hz on Linux).
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { self: (u.user + u.system) / 1000, daemon: ticks * 10 };
}

async function idleCpu(mic: VirtualMic, windowMs: number, runs: number): Promise<BenchSection> {
  const measure = async (): Promise<{ self: number; daemon: number }> => {
    const a = cpuNow(mic.pid);
    const t = now();
    await sleep(windowMs);
    const b = cpuNow(mic.pid);
    const perHour = 3_600_000 / (now() - t);
    return { self: (b.self - a.self) * perHour, daemon: (b.daemon - a.daemon) * perHour };
  };
  const closed: { self: number; daemon: number }[] = [];
  const ring: { self: number; daemon: number }[] = [];
  await withRecorder({}, async (recorder) => {
    await recorder.init();
    for (let i = 0; i < runs; i++) closed.push(await measure());
  });
  const capture: { self: number; daemon: number }[] = [];
  const source = new PortAudioSource();
  await source.start(
    resolveAudioConfig(CONFIG),
    () => {},
    () => {},
  );
  try {
    await sleep(1000);
    for (let i = 0; i < runs; i++) capture.push(await measure());
  } finally {
    await source.stop();
  }
  await withRecorder({ preRollMs: 5000 }, async (recorder) => {
    await recorder.init();
    await sleep(6000); // the ring is full: it now drops as much as it takes in
    for (let i = 0; i < runs; i++) ring.push(await measure());
  });
  const s = (list: { self: number; daemon: number }[], k: 'self' | 'daemon') =>
    summarize(list.map((x) => x[k]));
  const cpu = (ms: number) => `${fmt(ms / 1000)} s/h (${fmt((100 * ms) / 3_600_000)} % of a core)`;
  const label = s(ring, 'self').label;
  return {
    title: `CPU of an idle pre-roll ring (virtual mic, PortAudio, 48 kHz stereo int16, preRollMs 5000, initialised and not recording): CPU time scaled to an hour (${label} windows of ${windowMs / 1000} s)`,
    columns: ['state', 'this process', 'PulseAudio daemon'],
    rows: [
      [
        'recorder initialised, no pre-roll (input closed)',
        cpu(s(closed, 'self').value),
        cpu(s(closed, 'daemon').value),
      ],
      [
        'PortAudioSource alone, capturing (chunks dropped)',
        cpu(s(capture, 'self').value),
        cpu(s(capture, 'daemon').value),
      ],
      [
        'recorder initialised with pre-roll (input open, ring full)',
        cpu(s(ring, 'self').value),
        cpu(s(ring, 'daemon').value),
      ],
      [
        'pre-roll vs closed (capture + ring)',
        cpu(s(ring, 'self').value - s(closed, 'self').value),
        cpu(s(ring, 'daemon').value - s(closed, 'daemon').value),
      ],
    ],
    notes:
      'process.cpuUsage() of the bench process (Node, PortAudio’s callback thread included) and utime+stime of the virtual mic’s PulseAudio daemon from /proc, over each window, times 3600 s / window. ' +
      'The first row is the baseline (Node idle, the recorder initialised, nothing open); the second is what capturing costs without the recorder, so the recorder’s own share of the pre-roll is the third row minus the second.',
  };
}

/** The sections of this benchmark, each on its own virtual microphone. */
export async function continuousBench(): Promise<BenchSection[]> {
  const runs = QUICK ? 3 : 7;
  const sections: BenchSection[] = [];
  for (const part of [
    (_mic: VirtualMic) => startLatency(runs),
    (mic: VirtualMic) => deviceReturn(mic, runs),
    (mic: VirtualMic) => idleCpu(mic, QUICK ? 10_000 : 60_000, 3),
  ]) {
    const mic = await startVirtualMic();
    try {
      sections.push(await part(mic));
    } finally {
      await mic.stop();
    }
  }
  return sections;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeBenchReport('@audex/recorder', await continuousBench(), 'bench-audex-recorder-continuous.json');
}
