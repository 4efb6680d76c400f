// `pnpm test` typechecks every app under apps/ (a type error is a failed test in the summary line).
// Published apps get it from the per-package checks (package-quality.test.ts typechecks every
// published workspace); private apps, which those checks skip, are typechecked here.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, run } from './_workspace.js';

const apps = readdirSync(join(ROOT, 'apps'))
  .map((d) => join(ROOT, 'apps', d))
  .filter((dir) => existsSync(join(dir, 'package.json')))
  .map((dir) => ({
    dir,
    manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      name: string;
      private?: boolean;
      scripts?: Record<string, string>;
    },
  }));

describe('the apps', () => {
  it('are found, and each has a typecheck script', () => {
    expect(apps.map((a) => a.manifest.name)).toEqual(expect.arrayContaining(['@audex/cli', '@audex/web']));
    for (const app of apps) {
      expect(app.manifest.scripts?.typecheck, `${app.dir}/package.json has no "typecheck" script`).toBeTypeOf(
        'string',
      );
    }
  });

  for (const app of apps.filter((a) => a.manifest.private === true)) {
    it(`${app.manifest.name} (private, so not in the per-package checks) typechecks its sources and tests (tsc strict)`, () => {
      const { status, output } = run('pnpm', ['run', 'typecheck'], app.dir);
      expect(status, output).toBe(0);
    });
  }
});
