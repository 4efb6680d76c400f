import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as capture from '../src/index.js';

// Every AudioSource class @audex/capture exports must run the conformance suite somewhere in test/.
describe('conformance coverage', () => {
  const sources = Object.entries(capture)
    .filter(([, value]) => typeof value === 'function' && 'prototype' in value)
    .filter(([, value]) => {
      const proto = (value as { prototype: Record<string, unknown> }).prototype;
      return ['listInputDevices', 'start', 'stop'].every((m) => typeof proto[m] === 'function');
    })
    .map(([name]) => name);
  const testDir = __dirname;
  const texts = readdirSync(testDir)
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => readFileSync(join(testDir, f), 'utf8'));

  it('finds the exported sources', () => {
    expect(sources).toEqual(expect.arrayContaining(['PortAudioSource', 'SyntheticSource']));
  });

  it.each(sources)('%s has a test file calling testAudioSource', (name) => {
    expect(texts.some((t) => new RegExp(`testAudioSource\\(\\s*'${name}'`).test(t))).toBe(true);
  });
});
