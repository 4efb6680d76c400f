// The apps (apps/cli, apps/web) are private workspaces, so the per-package checks skip them; they ship
// to users all the same, so `pnpm test` typechecks them here (a type error is a failed test).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, run } from './_workspace.js';

const apps = readdirSync(join(ROOT, 'apps'))
  .map((d) => join(ROOT, 'apps', d))
  .filter((dir) => existsSync(join(dir, 'package.json')))
  .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }));

describe('the apps', () => {
  it('are found (apps/cli and apps/web)', () => {
    expect(apps.map((a) => a.manifest.name as string).sort()).toEqual(
      expect.arrayContaining(['@audex/cli', '@audex/web']),
    );
  });

  describe.each(apps.map((a) => [a.manifest.name as string, a] as const))('%s', (_name, app) => {
    it('has a typecheck script and typechecks its sources and tests (tsc strict)', () => {
      expect(app.manifest.scripts?.typecheck, `${app.dir}/package.json has no "typecheck" script`).toBeTypeOf(
        'string',
      );
      const { status, output } = run('pnpm', ['run', 'typecheck'], app.dir);
      expect(status, output).toBe(0);
    });
  });
});
