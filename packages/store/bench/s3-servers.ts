// The S3-servers benchmark: 200 MB (50 MB with AUDEX_BENCH_QUICK=1) streamed up to and down from
// s3rver and Ceph RGW (startS3Server), S3Store side by side with the SDK's PutObject/GetObject and
// lib-storage's Upload. Runs are interleaved (run 1 of every case, then run 2, …) so machine noise
// spreads over all cases; each case runs in its own process so its peak RSS growth is its own.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BenchSection, fmt, median } from '@audex/test-utils/bench';
import { type S3Server, type S3ServerKind, startS3Server } from '@audex/test-utils/s3-server';
import { DeleteObjectsCommand, S3Client } from '@aws-sdk/client-s3';
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

function runCase(args: S3CaseArgs): Measure {
  const out = execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=@audex/source',
      join(import.meta.dirname, 's3-servers-case.ts'),
      JSON.stringify(args),
    ],
    { encoding: 'utf8', cwd: join(import.meta.dirname, '..'), stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return JSON.parse(out) as Measure;
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
  try {
    for (const kind of KINDS) servers.set(kind, await startS3Server({ kind, buckets: ['audex-bench'] }));
    for (let r = 0; r < runs; r++) {
      for (const [kind, server] of servers) {
        for (const name of TRANSFERS) {
          const m = runCase({
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
        'Uploads stream a 1 MiB-chunked file read; S3Store (its default part size, 5 MiB at this size) and lib-storage (5 MiB) send 2 parts at a time; SDK PutObject streams ' +
        'one request with its Content-Length. Downloads stream in 1 MiB chunks. "vs baseline" > 1 means slower than the plain SDK call.',
    },
  ];
}
