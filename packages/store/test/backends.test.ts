import { readdirSync, readFileSync } from 'node:fs';
import * as main from '@audex/store';
import * as s3 from '@audex/store/s3';
import { describe, expect, it } from 'vitest';

const testDir = new URL('.', import.meta.url);
const testFiles = readdirSync(testDir)
  .filter((f) => f.endsWith('.test.ts'))
  .map((f) => readFileSync(new URL(f, testDir), 'utf8'));

// Every class the main and S3 entries export whose instances are Stores.
const backends = Object.entries({ ...main, ...s3 })
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
