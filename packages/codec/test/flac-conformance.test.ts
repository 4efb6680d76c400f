import { flacCodec } from '../src/codecs/flac.js';
import { testCodec } from '../src/testing.js';

// Every sample format in: int8 is stored as 8-bit, so a tone keeps ~44 dB SNR; 16/24-bit keep far more.
testCodec(flacCodec, { rate: 44_100, channels: 2, minSnrDb: 40 });
testCodec(flacCodec, {
  rate: 16_000,
  channels: 1,
  sampleFormats: ['int16', 'int24', 'float32'],
  minSnrDb: 90,
});
