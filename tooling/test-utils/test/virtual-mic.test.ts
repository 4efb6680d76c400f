import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { decodeWithFfmpeg, toneShare } from '../src/audio-file-checks.js';
import { startVirtualMic, type VirtualMic } from '../src/virtual-mic.js';

const run = promisify(execFile);

let mic: VirtualMic;
let dir: string;

beforeAll(async () => {
  mic = await startVirtualMic({ setEnv: false });
  dir = await mkdtemp(join(tmpdir(), 'audex-virtual-mic-test-'));
}, 60_000);

afterAll(async () => {
  await mic?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Runs one command of PulseAudio's CLI protocol (loaded on `socket`) and returns its answer. */
async function pulseCli(socket: string, command: string, until: RegExp): Promise<string> {
  const client = connect(socket);
  await once(client, 'connect');
  let text = '';
  const answered = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer to ${command}: ${text}`)), 5000);
    client.on('data', (d: Buffer) => {
      text += d.toString();
      if (until.test(text)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  client.write(`${command}\n`);
  try {
    await answered;
  } finally {
    client.destroy();
  }
  return text;
}

/** The daemon's count of memory blocks imported from clients: [in use now, over its lifetime]. */
async function importedBlocks(socket: string): Promise<[number, number]> {
  const stat = await pulseCli(socket, 'stat', /IMPORTED: \d+ allocated\/\d+ accumulated/);
  const [, now, ever] = /IMPORTED: (\d+) allocated\/(\d+) accumulated/.exec(stat)!;
  return [Number(now), Number(ever)];
}

describe('the virtual microphone', () => {
  // PulseAudio 16.1 aborts (SIGABRT in memblock_replace_import) when a client whose shared memory it
  // imported disconnects while the sink's IO thread frees one of that client's blocks; the apps/cli
  // suite lost its daemon that way ~1 run in 25. The daemon runs without shared memory, so no client
  // block is ever imported; with PulseAudio's default (sharedMemory: true) the player's blocks are.
  test.each([
    { sharedMemory: false, imports: false },
    { sharedMemory: true, imports: true },
  ])(
    "carries a player's audio to a recorder; sharedMemory: $sharedMemory imports client memory: $imports",
    async ({ sharedMemory, imports }) => {
      const own = sharedMemory ? await startVirtualMic({ setEnv: false, sharedMemory }) : mic;
      try {
        const env = { ...process.env, ...own.env };
        const cli = join(own.dir, 'cli');
        await run('pactl', ['load-module', 'module-cli-protocol-unix', `socket=${cli}`], { env });
        const tone = await own.playBackground({ frequencies: [1000], toneSeconds: 6, amplitude: 0.5 });
        const file = join(dir, `recorded-${sharedMemory}.wav`);
        const recorder = spawn(
          'parecord',
          [`--device=${own.sourceName}`, '--rate=16000', '--channels=1', file],
          {
            env,
            stdio: 'ignore',
          },
        );
        const counts: [number, number][] = [];
        try {
          // the null sink renders in 2 s cycles: sample the counts while audio flows, for 4 s
          for (let i = 0; i < 8; i++) {
            await new Promise((r) => setTimeout(r, 500));
            counts.push(await importedBlocks(cli));
          }
        } finally {
          recorder.kill('SIGINT');
          await once(recorder, 'close');
          await tone.stop();
        }
        const samples = await decodeWithFfmpeg(file);
        // 4 s of recording less the 0-2 s wait for the sink's first cycle
        expect(samples.length / 16_000).toBeGreaterThan(1.5);
        expect(toneShare(samples, 16_000, 1000)).toBeGreaterThan(0.5);
        const everImported = Math.max(...counts.map(([, ever]) => ever));
        if (imports) expect(everImported, JSON.stringify(counts)).toBeGreaterThan(0);
        else expect(counts).toEqual(counts.map(() => [0, 0]));
        // with shared memory, stopping the player above is the (rare) aborting moment itself
        if (!sharedMemory) expect(own.crash).toBeUndefined();
      } finally {
        if (own !== mic) await own.stop();
      }
    },
    30_000,
  );

  test('reports a daemon that ends by itself, with its signal; kill(), restart() and stop() are not crashes', async () => {
    const other = await startVirtualMic({ setEnv: false });
    const written: string[] = [];
    const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(chunk.toString());
      return true;
    });
    try {
      await other.kill();
      expect(other.crash).toBeUndefined();
      await other.restart();
      expect(other.crash).toBeUndefined();
      const pid = other.pid;
      process.kill(pid, 'SIGABRT');
      await vi.waitFor(() => expect(other.crash).toBeDefined(), { timeout: 5000 });
      expect(other.crash).toContain(`(pid ${pid}) ended by itself: signal SIGABRT`);
      expect(written.join('')).toContain(
        `[audex/test-utils] the virtual mic's PulseAudio daemon (pid ${pid})`,
      );
    } finally {
      write.mockRestore();
      await other.stop();
    }
    expect(other.crash).toContain('SIGABRT');
  }, 30_000);
});
