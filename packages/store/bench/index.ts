// Streams 200 MB (50 MB with AUDEX_BENCH_QUICK=1) up to and down from LocalStore and S3Store (s3rver
// over HTTP), side by side with a plain fs copy/read and plain SDK PutObject/GetObject of the same
// bytes. Each case runs in its own process so its peak RSS growth above idle is its own.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt, statLabel, summarize, writeBenchReport } from '@audex/test-utils/bench';
import { startS3Server } from '@audex/test-utils/s3-server';
import { benchS3Servers } from './s3-servers.js';

const quick = process.env.AUDEX_BENCH_QUICK === '1';
const MiB = 1024 * 1024;
const size = (quick ? 50 : 200) * MiB;
// 3 runs, so the figure is a median (2 would only be a best of 2).
const runs = quick ? 1 : 3;
const dir = mkdtempSync(join(tmpdir(), 'audex-store-bench-'));
const source = join(dir, 'source.bin');
const block = randomBytes(MiB);
const fd = openSync(source, 'w');
for (let i = 0; i < size / MiB; i++) writeSync(fd, block);
closeSync(fd);

const server = await startS3Server({ buckets: ['audex-bench'] });
const order = [
  'fs copy',
  'LocalStore upload',
  'LocalStore upload, fsync off',
  'fs read',
  'LocalStore download',
  'SDK PutObject',
  'SDK lib-storage Upload',
  'S3Store upload',
  'SDK GetObject',
  'S3Store download',
];
const results = new Map<string, { seconds: number[]; growth: number[] }>();
try {
  for (let r = 0; r < runs; r++) {
    for (const name of order) {
      const out = execFileSync(
        process.execPath,
        [
          '--import',
          'tsx',
          '--conditions=@audex/source',
          join(import.meta.dirname, 'case.ts'),
          JSON.stringify({ name, source, size, dir, endpoint: server.endpoint, bucket: server.bucket }),
        ],
        { encoding: 'utf8', cwd: join(import.meta.dirname, '..'), stdio: ['ignore', 'pipe', 'pipe'] }, // a failed case throws with its stderr
      );
      const { seconds, idleRssMb, peakRssMb } = JSON.parse(out) as Record<string, number>;
      const entry = results.get(name) ?? { seconds: [], growth: [] };
      entry.seconds.push(seconds!);
      entry.growth.push(peakRssMb! - idleRssMb!);
      results.set(name, entry);
      console.error(
        `${name}: ${fmt(size / MiB / seconds!)} MB/s, idle ${fmt(idleRssMb!)} MB, peak ${fmt(peakRssMb!)} MB`,
      );
    }
  }
} finally {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}

const mbps = (name: string): number => size / MiB / summarize(results.get(name)!.seconds).value;
const growth = (name: string): number => summarize(results.get(name)!.growth).value;
const baselineOf: Record<string, string> = {
  'LocalStore upload': 'fs copy',
  'LocalStore upload, fsync off': 'fs copy',
  'LocalStore download': 'fs read',
  'SDK lib-storage Upload': 'SDK PutObject',
  'S3Store upload': 'SDK lib-storage Upload',
  'S3Store download': 'SDK GetObject',
};
writeBenchReport('@audex/store', [
  {
    title: `Streamed transfer of ${size / MiB} MB (${statLabel(runs)}, each case in its own process)`,
    columns: ['case', 'MB/s', 'peak RSS growth (MB)', 'vs baseline (time ratio)', 'under 64 MB'],
    rows: order.map((name) => {
      const base = baselineOf[name];
      return [
        name,
        fmt(mbps(name)),
        fmt(growth(name)),
        base ? `${fmt(mbps(base) / mbps(name))}× ${base}` : 'baseline',
        growth(name) < 64 ? 'yes' : 'NO',
      ];
    }),
    notes:
      'S3 cases run against s3rver 3.7.1 on 127.0.0.1 (its filesystem store bounds S3 throughput here). ' +
      'LocalStore upload fsyncs file and directory (fs copy does not). S3Store and lib-storage uploads use 5 MiB parts, 2 in flight; ' +
      'S3Store copies chunks into a reused pool of 3 part buffers, sends Content-MD5 with every part and verifies part ETags, the final ETag and size ' +
      '(lib-storage, kept here as a devDependency baseline only, allocates a fresh buffer per part). "vs baseline" > 1 means slower than the plain call.',
  },
  ...(await benchS3Servers()),
]);
