#!/usr/bin/env node
// `pnpm bench [name…]`: runs the `bench` script of every workspace (or of those whose name contains
// one of the arguments) one after another (they share two cores), and writes the report of this one
// run to bench/results/report.{md,json}. A report is exactly one run: its own timestamp, commit and
// machine load; the packages it covers and those it did not run are named; nothing from an earlier
// run is mixed in (each bench writes its sections to a fresh directory, tagged with this run's id,
// and a file without that tag is refused). Exits non-zero when any bench fails (non-zero exit, or
// no sections written); a failed package is named at the top of the report.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const outDir = join(root, 'bench', 'results');
mkdirSync(outDir, { recursive: true });
const only = process.argv.slice(2);

const all = ['packages', 'apps']
  .flatMap((group) =>
    existsSync(join(root, group)) ? readdirSync(join(root, group)).map((d) => join(root, group, d)) : [],
  )
  .map((dir) => ({
    dir,
    pkg: existsSync(join(dir, 'package.json'))
      ? JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
      : null,
  }))
  .filter(({ pkg }) => pkg?.scripts?.bench)
  .sort((a, b) => a.pkg.name.localeCompare(b.pkg.name));
const workspaces = all.filter(({ pkg }) => only.length === 0 || only.some((o) => pkg.name.includes(o)));
if (workspaces.length === 0) {
  console.error(
    `pnpm bench ${only.join(' ')}: no workspace with a bench script matches; available: ${all.map((w) => w.pkg.name).join(', ')}`,
  );
  process.exit(2);
}

// Benches read TypeScript sources (@audex/source), but native code (@audex/naudiodon's addon) must be
// built from this tree: build first (turbo-cached, so cheap when nothing changed), or a bench could
// measure, or fail on, a stale binary.
const build = spawnSync('pnpm', ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only'], {
  cwd: root,
  stdio: 'inherit',
});
if (build.status !== 0) {
  console.error(`pnpm bench: the build failed (exit ${build.status ?? build.signal}); no bench was run`);
  process.exit(1);
}

const git = (...args) => spawnSync('git', args, { cwd: root, encoding: 'utf8' }).stdout?.trim() ?? '';
const commit = git('rev-parse', 'HEAD') || 'unknown';
const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
const startedAt = new Date().toISOString();
const run = `${startedAt}@${commit.slice(0, 12)}`;
const loadAtStart = loadavg()[0];
const sectionsDir = mkdtempSync(join(tmpdir(), 'audex-bench-run-'));

const results = [];
for (const { dir, pkg } of workspaces) {
  const file = join(sectionsDir, `${pkg.name.replace('@audex/', '')}.json`);
  console.log(`\n=== ${pkg.name}: bench`);
  const t0 = performance.now();
  const child = spawnSync('pnpm', ['run', 'bench'], {
    cwd: dir,
    stdio: 'inherit',
    env: { ...process.env, AUDEX_BENCH_OUT: file, AUDEX_BENCH_RUN: run },
  });
  const seconds = (performance.now() - t0) / 1000;
  const report = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null;
  const problems = [];
  if (child.status !== 0) problems.push(`exited with ${child.status ?? child.signal}`);
  if (report === null) problems.push('wrote no results');
  else if (report.run !== run) problems.push(`its results are tagged with run ${report.run}, not this run`);
  if (problems.length > 0) console.error(`! ${pkg.name} bench failed: ${problems.join('; ')}`);
  results.push({
    package: pkg.name,
    seconds,
    failed: problems.length > 0 ? problems.join('; ') : null,
    sections: report?.run === run ? report.sections : [],
  });
}
rmSync(sectionsDir, { recursive: true, force: true });

const finishedAt = new Date().toISOString();
const loadAtEnd = loadavg()[0];
const ran = results.map((r) => r.package);
const notRun = all.map((w) => w.pkg.name).filter((n) => !ran.includes(n));
const failed = results.filter((r) => r.failed);
const machine = `Node ${process.version} · ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'} · ${Math.round(totalmem() / 2 ** 30)} GiB`;

const lines = [
  '# audex benchmarks',
  '',
  `One run of \`pnpm bench${only.length ? ` ${only.join(' ')}` : ''}\`: ${startedAt} → ${finishedAt} · commit ${commit.slice(0, 12)}${dirty ? ' with uncommitted changes' : ''}`,
  '',
  `${machine} · load average (1 min) ${loadAtStart.toFixed(2)} at start, ${loadAtEnd.toFixed(2)} at end`,
  '',
  notRun.length === 0
    ? `Covers every package with a bench: ${ran.join(', ')}.`
    : `Partial run: covers ${ran.join(', ')} only. Not run, so not in this report: ${notRun.join(', ')}.`,
  '',
];
if (failed.length > 0) {
  lines.push(`**FAILED:** ${failed.map((r) => `${r.package} (${r.failed})`).join('; ')}.`, '');
}
for (const r of results) {
  lines.push(`## ${r.package}`, '');
  if (r.failed)
    lines.push(`**This bench failed: ${r.failed}.** Whatever it reported before failing follows.`, '');
  for (const section of r.sections) {
    lines.push(`### ${section.title}`, '');
    lines.push(`| ${section.columns.join(' | ')} |`, `| ${section.columns.map(() => '---').join(' | ')} |`);
    for (const row of section.rows) lines.push(`| ${row.join(' | ')} |`);
    if (section.notes) lines.push('', section.notes);
    lines.push('');
  }
}
writeFileSync(join(outDir, 'report.md'), lines.join('\n'));
writeFileSync(
  join(outDir, 'report.json'),
  JSON.stringify(
    {
      run,
      startedAt,
      finishedAt,
      commit,
      dirty,
      node: process.version,
      machine,
      loadAverage: { start: loadAtStart, end: loadAtEnd },
      packagesRun: ran,
      packagesNotRun: notRun,
      failed: failed.map((r) => ({ package: r.package, why: r.failed })),
      reports: results,
    },
    null,
    2,
  ),
);
console.log(`\n${lines.join('\n')}\nwritten: bench/results/report.md, bench/results/report.json`);
process.exit(failed.length > 0 ? 1 : 0);
