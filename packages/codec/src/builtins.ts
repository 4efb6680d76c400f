/**
 * Registers the built-in codecs. Imported for its side effect by `index.ts`, so
 * `getCodec('wav')` works after `import '@audex/codec'`; listed in package.json `sideEffects`.
 * A user may replace any of them with `registerCodec()`.
 */
import { flacCodec } from './codecs/flac.js';
import { mp3Codec } from './codecs/mp3.js';
import { opusCodec } from './codecs/opus.js';
import { pcmCodec } from './codecs/pcm.js';
import { wavCodec } from './codecs/wav.js';
import { registerCodec } from './registry.js';

registerCodec(pcmCodec);
registerCodec(wavCodec);
registerCodec(mp3Codec);
registerCodec(opusCodec);
registerCodec(flacCodec);
