// One case of the S3-servers benchmark (s3-servers.ts) in a fresh process, against the endpoint it
// is given (s3rver or Ceph RGW, directly or through the counting proxy). Prints
// {"seconds","idleRssMb","peakRssMb","bytes"} as JSON. Peak RSS is VmHWM from /proc/self/status,
// reset after setup through /proc/self/clear_refs so it measures the transfer only.
import { createReadStream, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { S3Store, type UploadCheckpoint } from '@audex/store/s3';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';

/** What s3-servers.ts passes to a case (argv[2], JSON). */
export interface S3CaseArgs {
  name: string;
  source: string;
  size: number;
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Where the crash case journals its checkpoints and the resume case reads them. */
  checkpointFile: string;
}
const args = JSON.parse(process.argv[2]!) as S3CaseArgs;
const MiB = 1024 * 1024;
// lib-storage gets 5 MiB parts, S3Store its default (5 MiB at this size): both 2 in flight.
const partBytes = 5 * MiB;

function vmHwmMb(): number {
  const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  return kb === undefined ? process.resourceUsage().maxRSS / 1024 : Number(kb) / 1024;
}

const store = new S3Store({
  bucket: args.bucket,
  endpoint: args.endpoint,
  forcePathStyle: true,
  credentials: { accessKeyId: args.accessKeyId, secretAccessKey: args.secretAccessKey },
  queueSize: 2,
});
const client = await store.client();
// Warm the SDK and the store code paths so the idle figure includes loaded code.
await store.exists('audex/bench/warm');

async function count(chunks: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const c of chunks) n += c.length;
  return n;
}
const read = (): Readable => createReadStream(args.source, { highWaterMark: MiB });

const cases: Record<string, () => Promise<number>> = {
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
      partSize: partBytes,
      queueSize: 2,
    });
    await upload.done();
    return args.size;
  },
  'S3Store upload': async () => {
    await store.upload(read(), 'audex/bench/store.bin');
    return args.size;
  },
  'SDK GetObject': async () => {
    const out = await client.send(new GetObjectCommand({ Bucket: args.bucket, Key: 'audex/bench/sdk.bin' }));
    return count(out.Body as Readable);
  },
  'S3Store download': () => count(store.download('audex/bench/store.bin', { stream: true, chunkSize: MiB })),
  // Journals every checkpoint (an atomically replaced file) and is SIGKILLed as soon as the
  // server has acknowledged half of the bytes: the parts in flight then are lost.
  'S3Store upload, crash at 50 %': async () => {
    await store.upload(read(), 'audex/bench/resumed.bin', undefined, {
      onCheckpoint(checkpoint) {
        writeFileSync(`${args.checkpointFile}.tmp`, JSON.stringify(checkpoint));
        renameSync(`${args.checkpointFile}.tmp`, args.checkpointFile);
        const acknowledged = checkpoint.parts.reduce((sum, part) => sum + part.bytes, 0);
        if (acknowledged >= args.size / 2) process.kill(process.pid, 'SIGKILL');
      },
    });
    throw new Error('the crash case did not crash');
  },
  'S3Store resumeUpload': async () => {
    const checkpoint = JSON.parse(readFileSync(args.checkpointFile, 'utf8')) as UploadCheckpoint;
    await store.resumeUpload(read(), checkpoint);
    return args.size;
  },
  'S3Store upload again (restart)': async () => {
    await store.upload(read(), 'audex/bench/restarted.bin');
    return args.size;
  },
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
await store.destroy();
process.stdout.write(JSON.stringify({ seconds, idleRssMb, peakRssMb: vmHwmMb(), bytes }));
