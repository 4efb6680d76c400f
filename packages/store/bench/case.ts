// One benchmark case in a fresh process. Prints {"seconds","idleRssMb","peakRssMb"} as JSON.
// Peak RSS is VmHWM from /proc/self/status, reset after setup through /proc/self/clear_refs so it
// measures the transfer only (getrusage's maxRSS carries over from the parent across fork + exec).
import { createReadStream, createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LocalStore } from '@audex/store';
import { S3Store } from '@audex/store/s3';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';

interface Args {
  name: string;
  source: string;
  size: number;
  dir: string;
  endpoint: string;
  bucket: string;
}
const args = JSON.parse(process.argv[2]!) as Args;
const MiB = 1024 * 1024;

function vmHwmMb(): number {
  const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  return kb === undefined ? process.resourceUsage().maxRSS / 1024 : Number(kb) / 1024;
}

const local = new LocalStore({ root: `${args.dir}/local-store` });
const s3 = new S3Store({
  bucket: args.bucket,
  endpoint: args.endpoint,
  forcePathStyle: true,
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  partBytes: 5 * MiB,
  queueSize: 2,
});
const client = await s3.client();
// Warm the SDK and the store code paths so the idle figure includes loaded code.
await s3.exists('audex/bench/warm');
await local.exists('audex/bench/warm');

async function count(chunks: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const c of chunks) n += c.length;
  return n;
}
const read = (): Readable => createReadStream(args.source, { highWaterMark: MiB });

const cases: Record<string, () => Promise<number>> = {
  'fs copy': async () => {
    await pipeline(read(), createWriteStream(`${args.dir}/fs-copy.bin`));
    return args.size;
  },
  'fs read': () => count(read()),
  'LocalStore upload': async () => {
    await local.upload(read(), 'audex/bench/object.bin');
    return args.size;
  },
  'LocalStore upload, fsync off': async () => {
    await new LocalStore({ root: `${args.dir}/local-store-nosync`, fsync: false }).upload(
      read(),
      'audex/bench/object.bin',
    );
    return args.size;
  },
  'LocalStore download': () =>
    count(local.download('audex/bench/object.bin', { stream: true, chunkSize: MiB })),
  'SDK PutObject': async () => {
    await client.send(
      new PutObjectCommand({
        Bucket: args.bucket,
        Key: 'audex/bench/sdk.bin',
        Body: read(),
        ContentLength: args.size,
      }),
    );
    return args.size;
  },
  'SDK lib-storage Upload': async () => {
    const { Upload } = await import('@aws-sdk/lib-storage');
    const upload = new Upload({
      client,
      params: { Bucket: args.bucket, Key: 'audex/bench/lib-storage.bin', Body: read() },
      partSize: 5 * MiB,
      queueSize: 2,
    });
    await upload.done();
    return args.size;
  },
  'S3Store upload': async () => {
    await s3.uploadMultipart(read(), 'audex/bench/object.bin');
    return args.size;
  },
  'SDK GetObject': async () => {
    const out = await client.send(new GetObjectCommand({ Bucket: args.bucket, Key: 'audex/bench/sdk.bin' }));
    return count(out.Body as Readable);
  },
  'S3Store download': () => count(s3.download('audex/bench/object.bin', { stream: true, chunkSize: MiB })),
};

const run = cases[args.name];
if (!run) throw new Error(`unknown case ${args.name}`);
global.gc?.();
try {
  writeFileSync('/proc/self/clear_refs', '5');
} catch {
  // Not Linux or not permitted: VmHWM then includes setup.
}
const idleRssMb = process.memoryUsage().rss / MiB;
const t = performance.now();
const bytes = await run();
const seconds = (performance.now() - t) / 1000;
if (bytes !== args.size) throw new Error(`${args.name}: moved ${bytes} of ${args.size} bytes`);
await s3.destroy();
process.stdout.write(JSON.stringify({ seconds, idleRssMb, peakRssMb: vmHwmMb() }));
