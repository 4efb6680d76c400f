/**
 * Sample formats audex captures and encodes, named after PortAudio's `paInt8` … `paFloat32`.
 * Integer formats are signed and little-endian; `int24` is packed as 3 bytes per sample.
 */
export type SampleFormat = 'int8' | 'int16' | 'int24' | 'int32' | 'float32';

/** Every supported {@link SampleFormat}, in order of width. */
export const SAMPLE_FORMATS: readonly SampleFormat[] = Object.freeze([
  'int8',
  'int16',
  'int24',
  'int32',
  'float32',
]);

/** Bytes one sample of each {@link SampleFormat} takes (int24 is packed: 3 bytes). */
export const BYTES_PER_SAMPLE: Readonly<Record<SampleFormat, number>> = Object.freeze({
  int8: 1,
  int16: 2,
  int24: 3,
  int32: 4,
  float32: 4,
});

/**
 * Output formats of the reference system. The codec registry of `@audex/codec` may add more,
 * so APIs that take a format accept any registered string.
 */
export const AudioFormat = Object.freeze({
  /** Raw interleaved PCM samples, no header. */
  PCM: 'pcm',
  /** RIFF/WAVE (RF64 beyond 4 GiB). */
  WAV: 'wav',
  /** MPEG-1/2 Layer III. */
  MP3: 'mp3',
  /** Opus in an Ogg container. */
  OPUS: 'opus',
} as const);

/** One of the built-in {@link AudioFormat} values. */
export type AudioFormat = (typeof AudioFormat)[keyof typeof AudioFormat];

/** How audio is captured: the reference's `AudioConfig`, in TypeScript form. */
export interface AudioConfig {
  /** Sample format of captured audio. Default `'int16'`. (The reference calls it `format`.) */
  readonly sampleFormat: SampleFormat;
  /** Number of interleaved channels, at least 1. Default `1`. */
  readonly channels: number;
  /** Sample rate in Hz (frames per second). Default `16000`. */
  readonly rate: number;
  /** Frames per captured chunk (PortAudio's frames per buffer). Default `1024`. */
  readonly chunk: number;
  /** PortAudio input device index, or `null` for the default input. Default `null`. */
  readonly inputDeviceIndex: number | null;
}

/**
 * What `resolveAudioConfig` and `new AudioRecorder(store, config)` accept: any part of an
 * {@link AudioConfig}; missing fields take the defaults. `format` is the reference's name for
 * `sampleFormat` and is accepted as an alias (it must agree with `sampleFormat` when both are given).
 */
export type AudioConfigInput = Partial<AudioConfig> & {
  /** The reference's name for {@link AudioConfig.sampleFormat}. */
  readonly format?: SampleFormat;
};

/** The defaults of {@link AudioConfig}: int16, mono, 16 kHz, 1024-frame chunks, default device. */
export const DEFAULT_AUDIO_CONFIG: Readonly<AudioConfig> = Object.freeze({
  sampleFormat: 'int16',
  channels: 1,
  rate: 16_000,
  chunk: 1024,
  inputDeviceIndex: null,
});

/**
 * One block of captured audio, as an `AudioSource` delivers it.
 */
export interface CapturedChunk {
  /** Interleaved samples in the capture format; int24 is 3 bytes little-endian per sample. */
  data: Uint8Array;
  /** Sample frames (per channel) in `data`. */
  frames: number;
  /** Capture time of the first frame, in ms since the Unix epoch (fractional allowed). */
  time: number;
  /** The device reported lost input just before this chunk. */
  overflow?: boolean;
}

/** One captured chunk with its wall-clock time: the reference's `AudioFrame`. */
export interface AudioFrame {
  /** Capture time of the first sample frame. */
  timestamp: Date;
  /** Interleaved samples in the capture format. */
  data: Uint8Array;
}
