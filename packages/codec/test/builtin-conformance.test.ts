import { getCodec } from '@audex/codec';
import { testCodec } from '@audex/codec/testing';

// The conformance suite from `@audex/codec/testing` on the lossless built-ins; the lossy ones
// (mp3, opus) run it in their own test files.
testCodec(getCodec('wav'), { rate: 16_000, channels: 2, minSnrDb: 40 });
testCodec(getCodec('wav'), { rate: 44_100, channels: 6, sampleFormats: ['int16', 'float32'] });
testCodec(getCodec('pcm'), {
  rate: 16_000,
  channels: 2,
  ffmpegInputArgs: (o) => [
    '-f',
    { int8: 's8', int16: 's16le', int24: 's24le', int32: 's32le', float32: 'f32le' }[o.sampleFormat],
    '-ar',
    String(o.rate),
    '-ac',
    String(o.channels),
  ],
  decodeOptions: (o) => ({ rate: o.rate, channels: o.channels, sampleFormat: o.sampleFormat }),
});
