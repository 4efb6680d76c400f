import type { InputDevice } from '@audex/capture';
import { describe, expect, test } from 'vitest';
import { resolveDevice } from '../src/audio-source.js';
import { captureConfig } from '../src/capture-options.js';
import type { CliError } from '../src/cli-error.js';
import { formatBytes, formatDuration, formatTable } from '../src/terminal.js';
import { parseTimeOffset } from '../src/time-value.js';

const devices: InputDevice[] = [
  { index: 0, name: 'pulse', channels: 32, defaultRate: 44100, hostApi: 'ALSA', isDefault: false },
  { index: 1, name: 'default', channels: 32, defaultRate: 44100, hostApi: 'ALSA', isDefault: true },
  { index: 4, name: 'USB Microphone', channels: 1, defaultRate: 48000, hostApi: 'ALSA', isDefault: false },
];

describe('time values', () => {
  test.each([
    ['12', 12],
    ['12.5', 12.5],
    ['12.5s', 12.5],
    ['1500ms', 1.5],
    ['1:02.5', 62.5],
    ['1:02:03', 3723],
    ['0', 0],
  ])('"%s" is %d s', (text, seconds) => {
    expect(parseTimeOffset(text, '--from')).toBe(seconds);
  });

  test.each(['', '-1', 'abc', '1e3', '1:75', '1:2:3:4', 'Infinity', '12h'])(
    '"%s" is refused naming the flag',
    (text) => {
      expect(() => parseTimeOffset(text, '--from')).toThrowError(/--from ".*" is not a time; use seconds/);
    },
  );
});

describe('device selection', () => {
  test('no --device picks the default input (null)', () => {
    expect(resolveDevice(devices, undefined)).toBeNull();
  });
  test('an index or a unique part of a name picks that device', () => {
    expect(resolveDevice(devices, '4')).toBe(4);
    expect(resolveDevice(devices, 'usb')).toBe(4);
  });
  test('an unknown index lists what exists', () => {
    expect(() => resolveDevice(devices, '7')).toThrowError(
      '--device 7 is not an input device; available: 0: pulse; 1: default; 4: USB Microphone',
    );
  });
  test('an ambiguous name asks for the index', () => {
    expect(() => resolveDevice(devices, 'ul')).toThrowError(/matches several devices .*use the index/);
  });
  test('no devices at all points to the virtual microphone', () => {
    const error = (() => {
      try {
        resolveDevice([], undefined);
      } catch (e) {
        return e as CliError;
      }
    })();
    expect(error?.code).toBe('NO_INPUT_DEVICE');
    expect(error?.message).toContain('virtual-mic.mjs start');
  });
});

describe('capture flags', () => {
  test('are merged with the defaults', () => {
    expect(captureConfig({ rate: '48000', channels: '2', sampleFormat: 'float32' }, 3)).toEqual({
      sampleFormat: 'float32',
      channels: 2,
      rate: 48000,
      chunk: 1024,
      inputDeviceIndex: 3,
    });
  });
  test.each([
    [
      { sampleFormat: 'int12' },
      /--sample-format "int12" is not a supported sample format; allowed: int8, int16/,
    ],
    [{ rate: '44.1' }, /--rate "44.1" is not a positive whole number/],
    [{ rate: '100' }, /--rate 100 is out of range; use 8000 to/],
    [{ channels: '0' }, /--channels "0" is not a positive whole number/],
    [{ channels: '65' }, /channels must be an integer from 1 to 64, got 65/],
  ])('%o is refused', (flags, message) => {
    expect(() => captureConfig(flags, null)).toThrowError(message);
  });
});

describe('terminal formatting', () => {
  test('sizes, durations and tables read naturally', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatDuration(61_250)).toBe('1:01.2');
    expect(formatDuration(3_725_000)).toBe('1:02:05.0');
    expect(formatTable(['A', 'LONG'], [['xyz', '1']])).toBe('A    LONG\nxyz  1');
  });
});
