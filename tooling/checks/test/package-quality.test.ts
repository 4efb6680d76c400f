// Repository-wide quality checks: lint, TypeDoc, and for every published package typecheck, publint,
// attw (libraries) and the manifest fields users rely on (exports map, or a built `bin`).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isLibrary, publishedPackages, ROOT, run } from './_workspace.js';

const packages = publishedPackages();
const libraries = packages.filter(isLibrary);
const commands = packages.filter((p) => !isLibrary(p));

describe('repository checks', () => {
  it('passes the lint and format check (biome)', () => {
    const { status, output } = run('pnpm', ['exec', 'biome', 'check', '.', '--diagnostic-level=error'], ROOT);
    expect(status, output).toBe(0);
  });

  it('builds an API reference with every export documented and no broken links (TypeDoc)', () => {
    const { status, output } = run('pnpm', ['exec', 'typedoc', '--emit', 'none'], ROOT);
    expect(status, output).toBe(0);
  });
});

describe.each(packages.map((p) => [p.name, p] as const))('%s', (_name, pkg) => {
  it('typechecks its sources, tests and benchmarks (tsc strict)', () => {
    const { status, output } = run('pnpm', ['run', 'typecheck'], pkg.dir);
    expect(status, output).toBe(0);
  });

  it('is a well-formed package (publint --strict)', () => {
    const { status, output } = run('pnpm', ['exec', 'publint', '--strict'], pkg.dir);
    expect(status, output).toBe(0);
    expect(output).not.toMatch(/Warnings?:|Errors?:/);
  });

  it('declares engines, files and a build script ending in tsup', () => {
    const m = pkg.manifest as Record<string, unknown>;
    expect(m.engines).toEqual({ node: '>=20.19' });
    expect(m.files).toContain('dist');
    // the package's own build makes what it ships (tsup for the JavaScript; a native addon adds its step)
    expect(pkg.manifest.scripts?.build).toMatch(/(^|&& )tsup$/);
  });
});

describe.each(libraries.map((p) => [p.name, p] as const))('%s (library)', (_name, pkg) => {
  it('has types that resolve for import and require (attw)', () => {
    const { status, output } = run('pnpm', ['exec', 'attw', '--pack', '.', '--profile', 'node16'], pkg.dir);
    expect(status, output).toBe(0);
  });

  it('declares sideEffects and a dual exports map', () => {
    const m = pkg.manifest as Record<string, unknown>;
    expect(m).toHaveProperty('sideEffects');
    const root = (m.exports as Record<string, Record<string, unknown>>)['.']!;
    expect(root.import).toMatchObject({ types: './dist/index.d.ts', default: './dist/index.js' });
    expect(root.require).toMatchObject({ types: './dist/index.d.cts', default: './dist/index.cjs' });
  });
});

describe.each(commands.map((p) => [p.name, p] as const))('%s (command)', (_name, pkg) => {
  it('runs as built JavaScript: its bin is in dist/, starts with a node shebang, and tsx is not a runtime dependency', () => {
    const bins = Object.values(pkg.manifest.bin ?? {});
    expect(bins.length).toBeGreaterThan(0);
    for (const bin of bins) {
      expect(bin).toMatch(/^\.\/dist\/.+\.js$/);
      expect(readFileSync(join(pkg.dir, bin), 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
    }
    expect(Object.keys(pkg.manifest.dependencies ?? {})).not.toContain('tsx');
  });
});
