import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SyntheticSource } from '@audex/capture';
import { concatBytes } from '@audex/pcm';
import { LocalStore } from '@audex/store';
import { afterEach, expect, test } from 'vitest';
import { AudioRecorder, type RecordingMetadata } from '../src/index.js';
import { expectedPcm, tempDir, wavData } from './helpers.js';

const child = fileURLToPath(new URL('./fixtures/rotation-child.ts', import.meta.url));
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});
const config = { rate: 16_000, channels: 1, sampleFormat: 'int16' } as const;

/** Runs the child until `killWhen` says so after one of its messages, then SIGKILLs it. */
async function recordAndKill(
  spoolDir: string,
  storeRoot: string,
  killWhen: (msg: { rotated?: number; stored?: string }) => boolean,
): Promise<{ key: string; framesAtKill: number }> {
  const proc = spawn(
    process.execPath,
    ['--conditions=@audex/source', '--import', 'tsx', child, spoolDir, storeRoot, String(Date.now())],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  cleanups.push(() => proc.kill('SIGKILL'));
  let key = '';
  let frames = 0;
  const exited = new Promise<void>((resolve, reject) => {
    proc.on('exit', () => resolve());
    proc.on('error', reject);
  });
  await new Promise<void>((resolve) => {
    createInterface({ input: proc.stdout }).on('line', (line) => {
      const msg = JSON.parse(line) as { key?: string; frames?: number; rotated?: number; stored?: string };
      if (msg.key) key = msg.key;
      if (msg.frames !== undefined) frames = msg.frames;
      if (proc.signalCode === null && killWhen(msg)) {
        proc.kill('SIGKILL');
        resolve();
      }
    });
  });
  const framesAtKill = frames;
  await exited;
  expect(proc.signalCode).toBe('SIGKILL');
  return { key, framesAtKill };
}

/** After recovery: every file once, in sequence, together the capture up to the kill (minus the journal window). */
async function checkRecovered(spoolDir: string, storeRoot: string, key: string, framesAtKill: number) {
  const store = new LocalStore({ root: storeRoot });
  const recorder = new AudioRecorder(store, {}, { source: new SyntheticSource(), spoolDir });
  const recovered = await recorder.init();
  expect(recovered.length).toBeGreaterThanOrEqual(1);
  expect(await recorder.recover()).toEqual([]);
  await recorder.close();
  const prefix = key.slice(0, -'000000.wav'.length);
  const keys: string[] = [];
  for await (const page of store.list('audex/rot')) keys.push(...page);
  expect(keys.every((k) => k.startsWith(prefix))).toBe(true);
  keys.sort();
  const pieces: Uint8Array[] = [];
  for (const [i, k] of keys.entries()) {
    expect(k).toBe(`${prefix}${String(i).padStart(6, '0')}.wav`);
    const metadata = (await store.getMetadata(k)) as RecordingMetadata;
    expect(metadata.sequence).toBe(i);
    expect(metadata.previous_key).toBe(i === 0 ? null : keys[i - 1]);
    pieces.push(wavData(await store.download(k)).data);
  }
  const all = concatBytes(pieces);
  const frames = all.byteLength / 2;
  expect(Buffer.from(all).equals(Buffer.from(expectedPcm(0, frames, config)))).toBe(true);
  // At most the journal window (100 ms) and the chunk being assembled are lost.
  expect(frames).toBeGreaterThanOrEqual(framesAtKill - 0.1 * 16_000 - 800);
  return { keys, recovered: recovered.map((r) => r.key) };
}

test('SIGKILL while a rotated file is being uploaded: recovery stores every file once, in sequence, together the whole capture but the journal window', async () => {
  const spool = tempDir();
  const storeDir = tempDir('audex-store-');
  cleanups.push(spool.remove, storeDir.remove);
  const { key, framesAtKill } = await recordAndKill(spool.dir, storeDir.dir, (msg) => msg.rotated === 2);
  const { keys, recovered } = await checkRecovered(spool.dir, storeDir.dir, key, framesAtKill);
  // File 1 was closed when file 2 opened and its upload (300 ms) was under way: recovery stored it.
  expect(keys.length).toBeGreaterThanOrEqual(2);
  expect(recovered).toContain(key.replace('000000.wav', '000001.wav'));
}, 30_000);

test('SIGKILL just after a rotated file was stored: it is not stored twice', async () => {
  const spool = tempDir();
  const storeDir = tempDir('audex-store-');
  cleanups.push(spool.remove, storeDir.remove);
  const { key, framesAtKill } = await recordAndKill(
    spool.dir,
    storeDir.dir,
    (msg) => msg.stored?.endsWith('000001.wav') === true,
  );
  const { recovered } = await checkRecovered(spool.dir, storeDir.dir, key, framesAtKill);
  expect(recovered).not.toContain(key.replace('000000.wav', '000001.wav'));
}, 30_000);
