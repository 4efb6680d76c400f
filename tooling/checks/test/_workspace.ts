// Shared by the repository checks: the workspace's published packages, packing them, running commands.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = new URL('../../..', import.meta.url).pathname.replace(/\/$/, '');

export interface Workspace {
  name: string;
  dir: string;
  manifest: {
    name: string;
    private?: boolean;
    scripts?: Record<string, string>;
    dependencies?: Record<string, string>;
    bin?: Record<string, string>;
    exports?: Record<string, unknown>;
  };
}

/** The publishable (not private) packages under packages/ and apps/. */
export function publishedPackages(): Workspace[] {
  return ['packages', 'apps']
    .flatMap((group) => readdirSync(join(ROOT, group)).map((d) => join(ROOT, group, d)))
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      return { name: manifest.name, dir, manifest };
    })
    .filter((w) => !w.manifest.private);
}

/** True for a package with a root export to import (a library), false for a command-only package. */
export function isLibrary(pkg: Workspace): boolean {
  return pkg.manifest.exports?.['.'] !== undefined;
}

/** Packs `packages` with `pnpm pack` (which rewrites `workspace:` ranges) into `dir`; returns the tarball paths. */
export function packTarballs(packages: readonly Workspace[], dir: string): string[] {
  const before = new Set(readdirSync(dir));
  for (const pkg of packages) {
    const { status, output } = run('pnpm', ['pack', '--pack-destination', dir], pkg.dir);
    if (status !== 0) throw new Error(`pnpm pack failed for ${pkg.name}:\n${output}`);
  }
  const made = readdirSync(dir).filter((f) => f.endsWith('.tgz') && !before.has(f));
  if (made.length !== packages.length) {
    throw new Error(
      `expected ${packages.length} tarballs in ${dir}, found ${made.length}: ${made.join(', ')}`,
    );
  }
  return made.map((f) => join(dir, f));
}

/** Runs a command, returning status and combined output. */
export function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}
