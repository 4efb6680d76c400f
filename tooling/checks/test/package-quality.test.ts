import { describe, expect, it } from 'vitest';
import { publishedPackages, ROOT, run } from './_workspace.js';

const packages = publishedPackages();

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

  it('has types that resolve for import and require (attw)', () => {
    const { status, output } = run('pnpm', ['exec', 'attw', '--pack', '.', '--profile', 'node16'], pkg.dir);
    expect(status, output).toBe(0);
  });

  it('declares engines, files, sideEffects and a dual exports map', () => {
    const m = pkg.manifest as Record<string, unknown>;
    expect(m.engines).toEqual({ node: '>=20.19' });
    expect(m.files).toContain('dist');
    expect(m).toHaveProperty('sideEffects');
    const root = (m.exports as Record<string, Record<string, unknown>>)['.']!;
    expect(root.import).toMatchObject({ types: './dist/index.d.ts', default: './dist/index.js' });
    expect(root.require).toMatchObject({ types: './dist/index.d.cts', default: './dist/index.cjs' });
  });
});
