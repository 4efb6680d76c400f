import { type AudioConfig, type AudioConfigInput, PcmError, resolveAudioConfig } from '@audex/pcm';
import { CaptureError } from './errors.js';
import type { InputDevice } from './types.js';

/**
 * Validates a (partial) config once at the edge and checks its device against `devices`.
 * Returns the normalised config and the device it opens.
 *
 * @throws {CaptureError} `INVALID_CONFIG` or `DEVICE_NOT_FOUND`, naming the value and what is allowed.
 */
export function resolveCaptureConfig(
  partial: AudioConfigInput,
  devices: readonly InputDevice[],
): { config: Readonly<AudioConfig>; device: InputDevice } {
  let config: Readonly<AudioConfig>;
  try {
    config = resolveAudioConfig(partial);
  } catch (error) {
    if (error instanceof PcmError) {
      throw new CaptureError('INVALID_CONFIG', error.message.replace(/^\[audex\/pcm\] /, ''), {
        field: error.field,
        cause: error,
      });
    }
    throw error;
  }
  const device =
    config.inputDeviceIndex === null
      ? (devices.find((d) => d.isDefault) ?? devices[0])
      : devices.find((d) => d.index === config.inputDeviceIndex);
  if (device === undefined) {
    throw new CaptureError(
      'DEVICE_NOT_FOUND',
      config.inputDeviceIndex === null
        ? 'no input device is available'
        : `inputDeviceIndex ${config.inputDeviceIndex} is not an input device; available inputs: ${describeDevices(devices)}`,
      { field: 'inputDeviceIndex', deviceIndex: config.inputDeviceIndex },
    );
  }
  if (config.channels > device.channels) {
    throw new CaptureError(
      'INVALID_CONFIG',
      `channels ${config.channels} is more than device ${device.index} ("${device.name}") has; allowed: 1 to ${device.channels}`,
      { field: 'channels', deviceIndex: device.index },
    );
  }
  return { config, device };
}

/** `0 "name" (2 ch, 44100 Hz, default), …`, or `none` when the list is empty. */
export function describeDevices(devices: readonly InputDevice[]): string {
  if (devices.length === 0) return 'none';
  return devices
    .map(
      (d) =>
        `${d.index} "${d.name}" (${d.channels} ch, ${d.defaultRate} Hz${d.isDefault ? ', default' : ''})`,
    )
    .join(', ');
}
