import { startVirtualMic, type VirtualMic } from '@audex/test-utils/virtual-mic';
import { afterAll, beforeAll } from 'vitest';
import { PortAudioSource } from '../src/index.js';
import { testAudioSource } from '../src/testing.js';

let mic: VirtualMic;
beforeAll(async () => {
  mic = await startVirtualMic();
});
afterAll(async () => {
  await mic?.stop();
});

testAudioSource('PortAudioSource', () => new PortAudioSource(), { captureMs: 300 });
