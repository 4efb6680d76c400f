import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishedPackages, run } from './_workspace.js';

// Installs every packed tarball into an empty npm project outside the repository, as a user would,
// then loads each package with import and require and type-checks a consumer of each.
const packages = publishedPackages();
let project: string;

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'audex-pack-'));
  const tarballs = join(project, 'tarballs');
  mkdirSync(tarballs);
  for (const pkg of packages) {
    const { status, output } = run('pnpm', ['pack', '--pack-destination', tarballs], pkg.dir);
    if (status !== 0) throw new Error(`pnpm pack failed for ${pkg.name}:\n${output}`);
  }
  const files = readdirSync(tarballs).map((f) => `./tarballs/${f}`);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: {} }),
  );
  const install = run(
    'npm',
    [
      'install',
      '--no-fund',
      '--no-audit',
      '--foreground-scripts',
      ...files,
      'typescript@5.9.3',
      '@types/node@20',
    ],
    project,
  );
  if (install.status !== 0) throw new Error(`npm install of the tarballs failed:\n${install.output}`);
}, 600_000);

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

describe.each(packages.map((p) => [p.name] as const))('%s from its tarball', (name) => {
  it('loads with import', () => {
    const { status, output } = run(
      'node',
      [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(name)}); console.log(Object.keys(m).length)`,
      ],
      project,
    );
    expect(status, output).toBe(0);
    expect(Number(output.trim().split('\n').pop())).toBeGreaterThan(0);
  });

  it('loads with require', () => {
    const { status, output } = run(
      'node',
      ['-e', `const m = require(${JSON.stringify(name)}); console.log(Object.keys(m).length)`],
      project,
    );
    expect(status, output).toBe(0);
    expect(Number(output.trim().split('\n').pop())).toBeGreaterThan(0);
  });

  it('resolves its types for ESM and CJS consumers', () => {
    const file = name.replace(/\W+/g, '_');
    writeFileSync(
      join(project, `${file}.mts`),
      `import * as m from '${name}';\nexport const keys: string[] = Object.keys(m);\n`,
    );
    writeFileSync(
      join(project, `${file}.cts`),
      `import m = require('${name}');\nexport const keys: string[] = Object.keys(m);\n`,
    );
    const { status, output } = run(
      'npx',
      [
        'tsc',
        '--noEmit',
        '--strict',
        '--module',
        'node16',
        '--moduleResolution',
        'node16',
        '--types',
        'node',
        `${file}.mts`,
        `${file}.cts`,
      ],
      project,
    );
    expect(status, output).toBe(0);
  });
});
