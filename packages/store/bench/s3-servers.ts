// The S3-servers benchmark: 200 MB (50 MB with AUDEX_BENCH_QUICK=1) streamed up to and down from
// s3rver and Ceph RGW (startS3Server), S3Store side by side with the SDK's PutObject/GetObject and
// lib-storage's Upload; then an upload killed (SIGKILL) at 50 % of its source and finished by
// resumeUpload from its journaled checkpoint, bytes sent counted at a proxy, beside uploading it all
// again. Runs are interleaved (run 1 of every case, then run 2, …) so machine noise
// spreads over all cases; each case runs in its own process so its peak RSS growth is its own.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { UploadCheckpoint } from '@audex/store/s3';
import { type BenchSection, fmt, median } from '@audex/test-utils/bench';
import { type ProxiedRequest, startS3FaultProxy } from '@audex/test-utils/s3-fault-proxy';
import { type S3Server, type S3ServerKind, startS3Server } from '@audex/test-utils/s3-server';
import { DeleteObjectsCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3CaseArgs } from './s3-servers-case.js';

const MiB = 1024 * 1024;
const KINDS: readonly S3ServerKind[] = ['s3rver', 'rgw'];
const TRANSFERS = [
  'SDK PutObject',
  'SDK lib-storage Upload',
  'S3Store upload',
  'SDK GetObject',
  'S3Store download',
] as const;
const BASELINE: Record<string, string> = {
  'S3Store upload': 'SDK PutObject',
  'SDK lib-storage Upload': 'SDK PutObject',
  'S3Store download': 'SDK GetObject',
};

interface Measure {
  seconds: number;
  idleRssMb: number;
  peakRssMb: number;
  bytes: number;
}

/** Request bodies that carry object bytes. */
const payload = (r: ProxiedRequest): boolean => r.kind === 'UploadPart' || r.kind === 'PutObject';

/** Runs the crash case, which must end by SIGKILL. */
async function runCrash(args: S3CaseArgs): Promise<void> {
  const error = await runCase(args).then(
    () => undefined,
    (e: unknown) => e as { signal?: string },
  );
  if (error?.signal !== 'SIGKILL') throw error ?? new Error(`${args.name}: the process was not killed`);
}

/** Runs one case in a child process (asynchronously: the counting proxy lives in this process). */
function runCase(args: S3CaseArgs): Promise<Measure> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=@audex/source',
        join(import.meta.dirname, 's3-servers-case.ts'),
        JSON.stringify(args),
      ],
      { encoding: 'utf8', cwd: join(import.meta.dirname, '..') },
      (error, stdout) => {
        if (error) reject(error);
        else resolve(JSON.parse(stdout) as Measure);
      },
    );
    child.stderr?.pipe(process.stderr);
  });
}

/** Runs the benchmark; resolves the report sections (one table for both servers). */
export async function benchS3Servers(): Promise<BenchSection[]> {
  const quick = process.env.AUDEX_BENCH_QUICK === '1';
  const size = (quick ? 50 : 200) * MiB;
  const runs = quick ? 1 : 3;
  const dir = mkdtempSync(join(tmpdir(), 'audex-s3-servers-bench-'));
  const source = join(dir, 'source.bin');
  const block = randomBytes(MiB);
  const fd = openSync(source, 'w');
  for (let i = 0; i < size / MiB; i++) writeSync(fd, block);
  closeSync(fd);

  const servers = new Map<S3ServerKind, S3Server>();
  const results = new Map<string, { seconds: number[]; growth: number[] }>();
  const resumes = new Map<
    S3ServerKind,
    Record<
      'before' | 'acknowledged' | 'resent' | 'restart' | 'resumeSeconds' | 'restartSeconds' | 'growth',
      number[]
    >
  >();
  try {
    for (const kind of KINDS) servers.set(kind, await startS3Server({ kind, buckets: ['audex-bench'] }));
    for (let r = 0; r < runs; r++) {
      for (const [kind, server] of servers) {
        for (const name of TRANSFERS) {
          const m = await runCase({
            name,
            source,
            size,
            endpoint: server.endpoint,
            bucket: server.bucket,
            ...server.credentials,
            checkpointFile: join(dir, 'checkpoint.json'),
          });
          const id = `${kind}\0${name}`;
          const entry = results.get(id) ?? { seconds: [], growth: [] };
          entry.seconds.push(m.seconds);
          entry.growth.push(m.peakRssMb - m.idleRssMb);
          results.set(id, entry);
          console.error(
            `${kind} ${name} (run ${r + 1}/${runs}): ${fmt(size / MiB / m.seconds)} MB/s, RSS growth ${fmt(m.peakRssMb - m.idleRssMb)} MB`,
          );
        }
        // Free the server's memory between runs (RGW keeps objects in the OSD's memory).
        const s3 = new S3Client(server.clientConfig());
        await s3.send(
          new DeleteObjectsCommand({
            Bucket: server.bucket,
            Delete: {
              Objects: ['sdk.bin', 'lib-storage.bin', 'store.bin'].map((k) => ({ Key: `audex/bench/${k}` })),
            },
          }),
        );
        s3.destroy();
      }
    }
    const sourceMd5 = createHash('md5').update(readFileSync(source)).digest('hex');
    for (let r = 0; r < runs; r++) {
      for (const [kind, server] of servers) {
        const proxy = await startS3FaultProxy(server);
        const s3 = new S3Client(server.clientConfig());
        try {
          const args = {
            source,
            size,
            endpoint: proxy.endpoint,
            bucket: server.bucket,
            ...server.credentials,
            checkpointFile: join(dir, `checkpoint-${kind}-${r}.json`),
          };
          await runCrash({ ...args, name: 'S3Store upload, crash at 50 %' });
          const before = proxy.bodyBytes(payload);
          const checkpoint = JSON.parse(readFileSync(args.checkpointFile, 'utf8')) as UploadCheckpoint;
          const acknowledged = checkpoint.parts.reduce((sum, part) => sum + part.bytes, 0);
          proxy.reset();
          const resumed = await runCase({ ...args, name: 'S3Store resumeUpload' });
          const resent = proxy.bodyBytes(payload);
          proxy.reset();
          const again = await runCase({ ...args, name: 'S3Store upload again (restart)' });
          const restartBytes = proxy.bodyBytes(payload);
          const back = await s3.send(
            new GetObjectCommand({ Bucket: server.bucket, Key: 'audex/bench/resumed.bin' }),
          );
          const md5 = createHash('md5')
            .update(await back.Body!.transformToByteArray())
            .digest('hex');
          if (md5 !== sourceMd5) throw new Error(`${kind}: the resumed object differs from the source`);
          const entry = resumes.get(kind) ?? {
            before: [],
            acknowledged: [],
            resent: [],
            restart: [],
            resumeSeconds: [],
            restartSeconds: [],
            growth: [],
          };
          entry.before.push(before / MiB);
          entry.acknowledged.push(acknowledged / MiB);
          entry.resent.push(resent / MiB);
          entry.restart.push(restartBytes / MiB);
          entry.resumeSeconds.push(resumed.seconds);
          entry.restartSeconds.push(again.seconds);
          entry.growth.push(resumed.peakRssMb - resumed.idleRssMb);
          resumes.set(kind, entry);
          console.error(
            `${kind} crash at 50 % (run ${r + 1}/${runs}): ${fmt(before / MiB)} MB sent before, ${fmt(acknowledged / MiB)} MB acknowledged, resume sent ${fmt(resent / MiB)} MB in ${fmt(resumed.seconds)} s, restart ${fmt(restartBytes / MiB)} MB in ${fmt(again.seconds)} s`,
          );
          await s3.send(
            new DeleteObjectsCommand({
              Bucket: server.bucket,
              Delete: { Objects: ['resumed.bin', 'restarted.bin'].map((k) => ({ Key: `audex/bench/${k}` })) },
            }),
          );
        } finally {
          s3.destroy();
          await proxy.close();
        }
      }
    }
  } finally {
    for (const server of servers.values()) await server.close();
    rmSync(dir, { recursive: true, force: true });
  }

  const stat = (kind: string, name: string) => {
    const entry = results.get(`${kind}\0${name}`)!;
    return { mbps: size / MiB / median(entry.seconds), growth: median(entry.growth) };
  };
  const label = runs >= 3 ? `median of ${runs} runs` : `${runs} run${runs === 1 ? '' : 's'}, not a median`;
  return [
    {
      title: `Streamed transfer of ${size / MiB} MB on s3rver and Ceph RGW (${label}, each case in its own process)`,
      columns: ['server', 'case', 'MB/s', 'peak RSS growth (MB)', 'vs baseline (time ratio)'],
      rows: KINDS.flatMap((kind) =>
        TRANSFERS.map((name) => {
          const { mbps, growth } = stat(kind, name);
          const base = BASELINE[name];
          return [
            kind,
            name,
            fmt(mbps),
            fmt(growth),
            base ? `${fmt(stat(kind, base).mbps / mbps)}× ${base}` : 'baseline',
          ];
        }),
      ),
      notes:
        'Both servers on 127.0.0.1 of the same machine: s3rver 3.7.1 (filesystem store, no signature or Content-MD5 checks) and ' +
        'Ceph RGW 16.2 (one memstore OSD, objects in memory; verifies signatures and Content-MD5). ' +
        "Uploads stream a 1 MiB-chunked file read; S3Store (default options: integrity 'auto', part size 5 MiB at this size) and lib-storage (5 MiB) send 2 parts at a time; SDK PutObject streams " +
        'one request with its Content-Length. Downloads stream in 1 MiB chunks. "vs baseline" > 1 means slower than the plain SDK call.',
    },
    {
      title: `Resume after a crash at 50 % of a ${size / MiB} MB upload (${label}, each step in its own process)`,
      columns: [
        'server',
        'sent before the crash (MB)',
        'acknowledged at the crash (MB)',
        'sent after: resumeUpload (MB)',
        'sent after: upload again (MB)',
        'resumeUpload (s)',
        'upload again (s)',
        'resumeUpload peak RSS growth (MB)',
      ],
      rows: KINDS.map((kind) => {
        const e = resumes.get(kind)!;
        return [
          kind,
          fmt(median(e.before)),
          fmt(median(e.acknowledged)),
          fmt(median(e.resent)),
          fmt(median(e.restart)),
          fmt(median(e.resumeSeconds)),
          fmt(median(e.restartSeconds)),
          fmt(median(e.growth)),
        ];
      }),
      notes:
        'A child process streams the file through S3Store.upload with onCheckpoint journaling every checkpoint to a file, and ' +
        'SIGKILLs itself as soon as a checkpoint shows half of the bytes acknowledged (the parts in flight are lost; "sent ' +
        'before" counts their bytes that reached the proxy). A fresh process then calls ' +
        'resumeUpload(source, checkpoint): ListParts, keeps the parts the checkpoint and the server agree on, reads the source ' +
        'again from its start and sends only the missing parts. "upload again" is the alternative without a journal: the whole ' +
        'upload from scratch. Bytes are UploadPart/PutObject request bodies counted at a proxy in front of the server; the ' +
        'resumed object is read back and compared with the source (MD5).',
    },
  ];
}
