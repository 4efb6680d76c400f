// Child of the capture bench: captures from the default input with the PortAudioSource of the
// built @audex/capture given as argv[2] (this checkout's dist, or main's before @audex/naudiodon in
// a temporary worktree) and prints one JSON line of measurements. Plain JavaScript run by plain
// node, in a process of its own, so its process CPU is the capture's alone (no tsx loader).
import { pathToFileURL } from 'node:url';

const [entry, configJson, secondsArg, blocksArg] = process.argv.slice(2);
const config = JSON.parse(configJson);
const seconds = Number(secondsArg);
const blocks = Number(blocksArg ?? 0);
const CPU_SETTLE_MS = 2000;
const { PortAudioSource } = await import(pathToFileURL(entry).href);

const source = new PortAudioSource();
const arrivals = [];
let frames = 0;
const errors = [];
const t0 = performance.now();
await source.start(
  config,
  (c) => {
    arrivals.push(performance.now());
    frames += c.frames;
  },
  (e) => errors.push(e.message),
);
const resolved = performance.now();
const end = resolved + seconds * 1000;
// CPU is counted from 2 s after start() resolved: V8's first compilations of the
// capture path run before that (measured here: ~0.4 % of a core over a 10 s window without it).
await new Promise((r) => setTimeout(r, CPU_SETTLE_MS));
const cpuFrom = performance.now();
const cpu0 = process.cpuUsage();
// blocks: synchronous 200 ms stalls of the event loop spread over the run
let blockedMs = 0;
let blockedCpuMs = 0;
for (let b = 0; b < blocks; b++) {
  await new Promise((r) => setTimeout(r, (seconds * 1000 - CPU_SETTLE_MS) / (blocks + 1)));
  const c = process.cpuUsage();
  const t = performance.now();
  while (performance.now() - t < 200) {
    // busy
  }
  blockedMs += performance.now() - t;
  const used = process.cpuUsage(c);
  blockedCpuMs += (used.user + used.system) / 1000;
}
await new Promise((r) => setTimeout(r, Math.max(0, end - performance.now())));
const cpu = process.cpuUsage(cpu0);
const stopAt = performance.now();
await source.stop();
const wall = (stopAt - resolved) / 1000;
process.stdout.write(
  `${JSON.stringify({
    startMs: resolved - t0,
    firstChunkMs: (arrivals[0] ?? Number.NaN) - resolved,
    frames,
    wall,
    overflows: source.overflowCount,
    intervals: arrivals.slice(1).map((t, i) => t - arrivals[i]),
    cpuMs: (cpu.user + cpu.system) / 1000,
    cpuWallMs: stopAt - cpuFrom,
    blockedMs,
    blockedCpuMs,
    errors,
  })}\n`,
);
process.exit(0);
