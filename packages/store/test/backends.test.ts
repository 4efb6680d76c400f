import { readdirSync, readFileSync } from 'node:fs';
import * as entry from '@audex/store';
import { describe, expect, it } from 'vitest';

const testDir = new URL('.', import.meta.url);
const testFiles = readdirSync(testDir)
  .filter((f) => f.endsWith('.test.ts'))
  .map((f) => readFileSync(new URL(f, testDir), 'utf8'));

// Every class the main entry exports whose instances are Stores.
const backends = Object.entries(entry)
  .filter(([name, value]) => typeof value === 'function' && name.endsWith('Store') && 'prototype' in value)
  .filter(
    ([, value]) => typeof (value as { prototype: { upload?: unknown } }).prototype.upload === 'function',
  )
  .map(([name]) => name);

describe('conformance coverage', () => {
  it('finds the exported backends', () => {
    expect(backends.sort()).toEqual(['LocalStore', 'MemoryStore', 'S3Store']);
  });

  it.each(backends)('runs testStore on %s', (name) => {
    const calling = testFiles.filter((src) => src.includes('testStore(') && src.includes(`new ${name}(`));
    expect(calling.length, `no test file calls testStore with a ${name}`).toBeGreaterThan(0);
  });
});
