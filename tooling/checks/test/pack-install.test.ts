import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, test } from 'vitest';
import { isLibrary, packTarballs, publishedPackages, run } from './_workspace.js';

// Installs every packed tarball (libraries and the CLI) into an empty npm project outside the
// repository, as a user would, then loads each library with import and require and type-checks a
// consumer of each. The installed CLI itself is checked in cli-install.test.ts.
const packages = publishedPackages();
const libraries = packages.filter(isLibrary);
let project: string;

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'audex-pack-'));
  const tarballs = join(project, 'tarballs');
  mkdirSync(tarballs);
  const files = packTarballs(packages, tarballs);
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

test('every published package is packed, the web demo and the CLI among them', () => {
  const names = packages.map((p) => p.name);
  expect(names).toEqual(expect.arrayContaining(['@audex/recorder', '@audex/web', '@audex/cli']));
  expect(libraries.map((p) => p.name)).toContain('@audex/web');
});

describe.each(libraries.map((p) => [p.name] as const))('%s from its tarball', (name) => {
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
