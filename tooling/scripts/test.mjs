#!/usr/bin/env node
// Runs every workspace's tests through turbo (one at a time: several suites share the virtual
// microphone) and prints, as the very last line, one summary counted over all packages.
//
// Nothing is replayed from a cache: turbo.json gives the `test` task `cache: false`. What a test
// run depends on cannot be listed as turbo inputs: besides the package's files it is
// tooling/test-utils (virtual mic, S3 servers), tooling/vitest-config, biome.json, the other
// packages' sources (read through the `@audex/source` condition), and the machine itself
// (PulseAudio, ffmpeg, sox, Ceph, the kernel), so any key would miss something and replay an old
// pass. Every `.vitest/results.json` is deleted before the run, and a results file that this run
// did not write (vitest's startTime before this run started) counts as a failure, never as a pass.
// The repository checks (lint, typecheck of every package and app, publint, attw, TypeDoc, packed
// tarballs) are tests of tooling/checks, so a type error is a failed test in the summary line.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const workspaces = ['packages', 'apps', 'tooling']
  .flatMap((group) =>
    existsSync(join(root, group)) ? readdirSync(join(root, group)).map((d) => join(root, group, d)) : [],
  )
  .filter((dir) => {
    const file = join(dir, 'package.json');
    return existsSync(file) && JSON.parse(readFileSync(file, 'utf8')).scripts?.test;
  });

for (const dir of workspaces) rmSync(join(dir, '.vitest'), { recursive: true, force: true });
const runStartedAt = Date.now();

const extra = process.argv.slice(2);
const run = spawnSync('pnpm', ['exec', 'turbo', 'run', 'test', '--concurrency=1', '--continue', ...extra], {
  cwd: root,
  stdio: 'inherit',
});

let passed = 0;
let failed = 0;
let skipped = 0;
const problems = [];
for (const dir of workspaces) {
  const name = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name;
  const file = join(dir, '.vitest', 'results.json');
  if (!existsSync(file)) {
    if (extra.some((a) => a.startsWith('--filter'))) continue;
    failed += 1;
    problems.push(`${name}: no test results (the run crashed before reporting)`);
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  // Date.now() and vitest's startTime are both wall-clock ms; a report from before this run is stale.
  if (!(report.startTime >= runStartedAt)) {
    failed += 1;
    problems.push(
      `${name}: .vitest/results.json was not written by this run (started ${new Date(report.startTime).toISOString()}); nothing of it is counted`,
    );
    continue;
  }
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
  for (const suite of report.testResults) {
    const failedInside = suite.assertionResults.some((a) => a.status === 'failed');
    if (suite.status === 'failed' && !failedInside) {
      failed += 1;
      problems.push(
        `${name}: ${suite.name.replace(root, '')} failed to run: ${suite.message?.split('\n')[0] ?? ''}`,
      );
    }
  }
  if (report.numTotalTests === 0 && report.testResults.length === 0) {
    failed += 1;
    problems.push(`${name}: ran no test`);
  }
}
for (const p of problems) console.log(`! ${p}`);
if (run.status !== 0 && failed === 0) {
  failed += 1;
  console.log(`! turbo exited with status ${run.status}`);
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
