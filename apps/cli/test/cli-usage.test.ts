import { describe, expect, test } from 'vitest';
import { runCli } from './_helpers.js';

describe('audex command line without audio', () => {
  test.each(['devices', 'record', 'stream', 'ls', 'get', 'rm', 'recover', 'web'])(
    '`audex %s --help` prints usage and exits 0',
    async (command) => {
      const result = await runCli([command, '--help']);
      expect(result.code).toBe(0);
      expect(result.stdout.toString()).toContain(`Usage: audex ${command}`);
    },
  );

  test('top-level --help lists every command', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    for (const command of ['devices', 'record', 'stream', 'ls', 'get', 'rm', 'recover', 'web']) {
      expect(result.stdout.toString()).toContain(command);
    }
  });

  test('an unknown command exits 2 with a message and no colour when NO_COLOR is set', async () => {
    const result = await runCli(['bogus'], { NO_COLOR: '1' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown command 'bogus'");
    expect(result.stderr).not.toContain('\u001b[');
  });
});
