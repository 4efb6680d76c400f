import { mp3Codec } from '../src/codecs/mp3.js';
import { testCodec } from '../src/testing.js';

testCodec(mp3Codec, { rate: 44_100, channels: 2, minSnrDb: 25 });
