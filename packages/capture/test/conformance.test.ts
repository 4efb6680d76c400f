import { SyntheticSource } from '../src/index.js';
import { testAudioSource } from '../src/testing.js';

testAudioSource('SyntheticSource', () => new SyntheticSource(), { captureMs: 200 });
