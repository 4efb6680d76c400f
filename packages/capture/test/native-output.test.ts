import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startVirtualMic, type VirtualMic } from '@audex/test-utils/virtual-mic';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('./fixtures/scan-and-capture.ts', import.meta.url));
// What libasound and libjack print on a machine without a sound card or JACK server.
const NATIVE_LINE = /^(ALSA lib |.*jack|.*Jack)/m;

interface ChildReport {
  devices: number;
  frames: number;
  afterScan: string[];
}

let mic: VirtualMic;
beforeAll(async () => {
  mic = await startVirtualMic();
});
afterAll(async () => {
  await mic?.stop();
});

async function scanAndCapture(env: Record<string, string>): Promise<{ report: ChildReport; stderr: string }> {
  const { stdout, stderr } = await run(
    process.execPath,
    ['--conditions=@audex/source', '--import', 'tsx', CHILD],
    { env: { ...process.env, ...env }, timeout: 30_000, maxBuffer: 16 * 1024 * 1024 },
  );
  return { report: JSON.parse(stdout) as ChildReport, stderr };
}

describe('native audio library output', () => {
  it('listing devices and capturing print nothing from ALSA or JACK to stderr; the messages stay readable', async () => {
    const { report, stderr } = await scanAndCapture({ AUDEX_CAPTURE_DEBUG: '' });
    expect(report.devices).toBeGreaterThan(0);
    expect(report.frames).toBeGreaterThan(0);
    expect(stderr).not.toMatch(NATIVE_LINE);
    // the device scan's complaints were recorded instead of printed
    expect(report.afterScan.length).toBeGreaterThan(0);
    expect(report.afterScan.join('\n')).toMatch(/^(ALSA lib |JACK: )/m);
  }, 40_000);

  it('AUDEX_CAPTURE_DEBUG=1 leaves the libraries printing their diagnostics natively', async () => {
    const { report, stderr } = await scanAndCapture({ AUDEX_CAPTURE_DEBUG: '1' });
    expect(report.frames).toBeGreaterThan(0);
    expect(stderr).toMatch(/^ALSA lib /m);
    expect(report.afterScan).toEqual([]);
  }, 40_000);
});
