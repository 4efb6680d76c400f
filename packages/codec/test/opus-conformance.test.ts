import { opusCodec } from '../src/codecs/opus.js';
import { testCodec } from '../src/testing.js';

// Pages are flushed at the end of every write (live streaming), so the bytes depend on write sizes.
testCodec(opusCodec, { rate: 48_000, channels: 2, minSnrDb: 15, piecewiseIdentical: false });
