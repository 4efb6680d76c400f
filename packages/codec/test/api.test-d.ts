import {
  type Codec,
  type CodecError,
  type CodecErrorCode,
  createPcmTransform,
  createResampler,
  type DecodedAudio,
  decodeAudio,
  encodeWavHeader,
  getCodec,
  mixChannels,
  type Resampler,
  type ResamplerQuality,
  resample,
} from '@audex/codec';
import { type TestCodecOptions, testCodec } from '@audex/codec/testing';
import { describe, expectTypeOf, it } from 'vitest';

describe('public types', () => {
  it('resampler and mixer take and give interleaved Float32Array', () => {
    expectTypeOf(
      createResampler({ fromRate: 48_000, toRate: 16_000, channels: 2 }),
    ).toEqualTypeOf<Resampler>();
    expectTypeOf<Resampler['process']>().parameters.toEqualTypeOf<[Float32Array]>();
    expectTypeOf(resample).returns.toEqualTypeOf<Float32Array>();
    expectTypeOf(mixChannels).returns.toEqualTypeOf<Float32Array>();
    expectTypeOf<ResamplerQuality>().toEqualTypeOf<'low' | 'medium' | 'high' | 'best'>();
    // @ts-expect-error quality is one of the presets
    createResampler({ fromRate: 1, toRate: 2, channels: 1, quality: 'ultra' });
  });

  it('the PCM transform and WAV header work on bytes', () => {
    const t = createPcmTransform({
      from: { rate: 48_000, channels: 2, sampleFormat: 'float32' },
      to: { rate: 16_000, channels: 1, sampleFormat: 'int16' },
    });
    expectTypeOf(t.write).returns.toEqualTypeOf<Uint8Array>();
    expectTypeOf(encodeWavHeader).returns.toEqualTypeOf<Uint8Array>();
    // @ts-expect-error sample formats are the five of @audex/pcm
    encodeWavHeader({ rate: 8_000, channels: 1, sampleFormat: 'int12' });
  });

  it('codecs, registry and errors have the documented shapes', () => {
    expectTypeOf(getCodec('wav')).toEqualTypeOf<Codec>();
    expectTypeOf(decodeAudio).returns.toEqualTypeOf<Promise<DecodedAudio>>();
    expectTypeOf<CodecError['code']>().toEqualTypeOf<CodecErrorCode>();
    expectTypeOf(testCodec).parameters.toEqualTypeOf<[Codec, TestCodecOptions?]>();
  });
});
