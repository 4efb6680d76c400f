#!/usr/bin/env node
// Runs every workspace's `bench` script one after another (they share two cores), each writing a
// JSON section file, then joins them into one report: bench/results/report.{md,json}.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const outDir = join(root, 'bench', 'results');
mkdirSync(outDir, { recursive: true });
const only = process.argv.slice(2);

const workspaces = ['packages', 'apps']
  .flatMap((group) =>
    existsSync(join(root, group)) ? readdirSync(join(root, group)).map((d) => join(root, group, d)) : [],
  )
  .map((dir) => ({
    dir,
    pkg: existsSync(join(dir, 'package.json'))
      ? JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
      : null,
  }))
  .filter(({ pkg }) => pkg?.scripts?.bench && (only.length === 0 || only.some((o) => pkg.name.includes(o))));

let status = 0;
for (const { dir, pkg } of workspaces) {
  const file = join(outDir, `${pkg.name.replace('@audex/', '')}.json`);
  console.log(`\n=== ${pkg.name}: bench`);
  const run = spawnSync('pnpm', ['run', 'bench'], {
    cwd: dir,
    stdio: 'inherit',
    env: { ...process.env, AUDEX_BENCH_OUT: file },
  });
  if (run.status !== 0) {
    status = 1;
    console.error(`! ${pkg.name} bench exited with ${run.status}`);
  }
}

// The report covers every package: those not run this time (`pnpm bench store`) keep their last results.
const reports = readdirSync(outDir)
  .filter((f) => f.endsWith('.json') && f !== 'report.json')
  .sort()
  .map((f) => JSON.parse(readFileSync(join(outDir, f), 'utf8')));

const when = new Date().toISOString();
const lines = [
  `# audex benchmarks`,
  '',
  `${when} · Node ${process.version} · ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'} · ${Math.round(totalmem() / 2 ** 30)} GiB`,
  '',
];
for (const report of reports) {
  lines.push(`## ${report.package}`, '');
  for (const section of report.sections) {
    lines.push(`### ${section.title}`, '');
    lines.push(`| ${section.columns.join(' | ')} |`, `| ${section.columns.map(() => '---').join(' | ')} |`);
    for (const row of section.rows) lines.push(`| ${row.join(' | ')} |`);
    if (section.notes) lines.push('', section.notes);
    lines.push('');
  }
}
writeFileSync(join(outDir, 'report.md'), lines.join('\n'));
writeFileSync(join(outDir, 'report.json'), JSON.stringify({ when, node: process.version, reports }, null, 2));
console.log(`\n${lines.join('\n')}\nwritten: bench/results/report.md, bench/results/report.json`);
process.exit(status);
