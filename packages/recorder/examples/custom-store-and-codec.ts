// A Store of your own and a codec of your own, both used by the recorder as if built in.
// Run: node --conditions=@audex/source --import tsx examples/custom-store-and-codec.ts
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SyntheticSource } from '@audex/capture';
import { type Codec, registerCodec } from '@audex/codec';
import { AudioRecorder } from '@audex/recorder';
import { KeyBuilder, type Store } from '@audex/store';

// A store keeping objects in a Map (run @audex/store/testing's suite on a real one).
const objects = new Map<string, { bytes: Uint8Array; metadata: Record<string, unknown> }>();
const store: Store = {
  keyBuilder: new KeyBuilder({ prefix: 'tenant-42' }),
  async upload(data, key, metadata = {}) {
    const parts: Uint8Array[] = [];
    if (data instanceof Uint8Array) parts.push(data);
    else for await (const part of data) parts.push(part);
    objects.set(key, { bytes: Buffer.concat(parts), metadata });
    return key;
  },
  uploadMultipart(parts, key, metadata) {
    return this.upload(parts, key, metadata);
  },
  async getMetadata(key) {
    return objects.get(key)?.metadata ?? {};
  },
  download: (async (key: string) => objects.get(key)?.bytes ?? new Uint8Array(0)) as Store['download'],
  async delete(key) {
    objects.delete(key);
  },
  async *list() {
    yield [...objects.keys()].sort();
  },
  async exists(key) {
    return objects.has(key);
  },
  async clear() {
    objects.clear();
  },
  async copy(from, to) {
    const object = objects.get(from);
    if (object) objects.set(to, object);
    return to;
  },
};

// A codec that writes the peak of every 100 ms as text: a "format" any consumer could ask for.
const peaks: Codec = {
  format: 'peaks',
  mimeType: 'text/plain',
  extension: 'txt',
  createEncoder: ({ rate, sampleFormat }) => {
    if (sampleFormat !== 'int16') throw new Error('peaks: int16 only');
    let pending: number[] = [];
    const flush = (all: boolean): Uint8Array => {
      const lines: string[] = [];
      const block = rate / 10;
      while (pending.length >= block || (all && pending.length > 0)) {
        const part = pending.splice(0, block);
        lines.push((Math.max(...part.map(Math.abs)) / 32768).toFixed(3));
      }
      return new TextEncoder().encode(lines.map((l) => `${l}\n`).join(''));
    };
    return {
      write(pcm) {
        pending = pending.concat([...new Int16Array(pcm.slice().buffer)]);
        return flush(false);
      },
      end: () => flush(true),
    };
  },
};
registerCodec(peaks);

const recorder = new AudioRecorder(
  store,
  { rate: 8000 },
  {
    source: new SyntheticSource({ speed: 0, durationMs: 1000 }),
    spoolDir: process.env.AUDEX_SPOOL_DIR ?? join(tmpdir(), 'audex-example-spool'),
  },
);
await recorder.init();
const key = await recorder.start('room-1');
const levels = (async () => {
  let text = '';
  for await (const chunk of recorder.stream({ format: 'peaks' })) text += new TextDecoder().decode(chunk);
  return text.trim().split('\n');
})();
while (recorder.frameCount < 8000) await new Promise((r) => setTimeout(r, 10));
await recorder.stop({ frames: false });
console.log(JSON.stringify({ key, stored: objects.get(key)?.bytes.byteLength, peaks: await levels }));
await recorder.close();
