import type { AudioConfigInput } from '@audex/pcm';
import type { Store } from '@audex/store';
import { describe, expectTypeOf, test } from 'vitest';
import type {
  AudioRecorder,
  AudioRecorderOptions,
  AudioSegment,
  DeviceLostEvent,
  DeviceRestoredEvent,
  entersState,
  InputStatus,
  LevelEvent,
  AudioRecorder as Recorder,
  RecorderError,
  RecorderStatus,
  RecoveredRecording,
  SilenceEvent,
  StopOptions,
} from '../src/index.js';

describe('AudioRecorder public types', () => {
  test('constructor and the reference-parity methods', () => {
    expectTypeOf<ConstructorParameters<typeof Recorder>[0]>().toEqualTypeOf<Store>();
    expectTypeOf<ConstructorParameters<typeof Recorder>[1]>().toEqualTypeOf<AudioConfigInput | undefined>();
    expectTypeOf<ConstructorParameters<typeof Recorder>[2]>().toEqualTypeOf<
      AudioRecorderOptions | undefined
    >();
    expectTypeOf<AudioRecorder['start']>().returns.toEqualTypeOf<Promise<string>>();
    expectTypeOf<AudioRecorder['stop']>().returns.toEqualTypeOf<Promise<AudioSegment>>();
    expectTypeOf<AudioRecorder['init']>().returns.toEqualTypeOf<Promise<RecoveredRecording[]>>();
    expectTypeOf<AudioRecorder['segment']>().parameter(0).toEqualTypeOf<Date | number>();
    expectTypeOf<AudioRecorder['segment']>().parameter(1).toEqualTypeOf<Date | number>();
    expectTypeOf<AudioRecorder['segment']>().returns.toEqualTypeOf<Promise<Uint8Array>>();
    expectTypeOf<ReturnType<AudioRecorder['stream']>>().toMatchTypeOf<AsyncIterable<Uint8Array>>();
    expectTypeOf<AudioRecorder['isRecording']>().toEqualTypeOf<boolean>();
    expectTypeOf<AudioRecorder['currentSegmentKey']>().toEqualTypeOf<string | null>();
    expectTypeOf<AudioRecorder['status']>().toEqualTypeOf<RecorderStatus>();
    expectTypeOf<AudioRecorder>().toMatchTypeOf<AsyncDisposable>();
  });

  test('the options of a recording that keeps going', () => {
    expectTypeOf<AudioRecorderOptions['reconnect']>().toEqualTypeOf<
      { giveUpAfterMs?: number; watchdogMs?: number } | false | undefined
    >();
    expectTypeOf<AudioRecorderOptions['rotate']>().toEqualTypeOf<
      { everyMs?: number; maxBytes?: number } | undefined
    >();
    expectTypeOf<AudioRecorderOptions['preRollMs']>().toEqualTypeOf<number | undefined>();
  });

  test('stop() options and the one way to wait for a status', () => {
    expectTypeOf<StopOptions>().toEqualTypeOf<{ returnPcm?: boolean; frames?: boolean }>();
    expectTypeOf<typeof entersState>().parameter(1).toEqualTypeOf<RecorderStatus>();
    expectTypeOf<typeof entersState>().returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf<AudioRecorder>().not.toHaveProperty('waitForStatus');
  });

  test('AudioSegment matches the reference fields', () => {
    expectTypeOf<AudioSegment>().toEqualTypeOf<{
      key: string;
      durationMs: number;
      startedAt: Date;
      endedAt: Date;
      frames: Uint8Array;
    }>();
  });

  test('events are typed by name', () => {
    const recorder = {} as AudioRecorder;
    recorder.on('level', (level) => expectTypeOf(level).toEqualTypeOf<LevelEvent>());
    recorder.on('error', (error) => expectTypeOf(error).toEqualTypeOf<RecorderError>());
    recorder.on('stateChange', ({ to }) => expectTypeOf(to).toEqualTypeOf<RecorderStatus>());
    recorder.on('deviceLost', (e) => expectTypeOf(e).toEqualTypeOf<DeviceLostEvent>());
    recorder.on('deviceRestored', (e) => expectTypeOf(e.gapMs).toEqualTypeOf<number>());
    expectTypeOf<DeviceRestoredEvent>().toHaveProperty('attempts');
    recorder.on('silence', (e) => expectTypeOf(e).toEqualTypeOf<SilenceEvent>());
    recorder.on('rotated', (e) => expectTypeOf(e.sequence).toEqualTypeOf<number>());
    expectTypeOf<AudioRecorder['inputStatus']>().toEqualTypeOf<InputStatus>();
    // @ts-expect-error: not an event of the recorder
    recorder.on('levels', () => {});
    // @ts-expect-error: stream() formats are strings, from is 'start' | 'now' | Date | number
    recorder.stream({ from: 'beginning' });
  });
});
