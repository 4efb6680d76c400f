// The capture source the commands record from (the microphone, or AUDEX_SOURCE=synthetic), and
// resolving --device against the devices it lists.
import type { AudioSource, InputDevice } from '@audex/capture';
import { PortAudioSource, SyntheticSource } from '@audex/capture';
import { CliError } from './cli-error.js';

/** The virtual microphone helper, named in every "no input device" message. */
export const VIRTUAL_MIC_HINT =
  'connect a microphone; or, in a clone of the audex repository, start its PulseAudio virtual microphone with ' +
  '\'eval "$(node tooling/test-utils/bin/virtual-mic.mjs start)"\' in this shell (then "… play FILE" feeds it); ' +
  'or set AUDEX_SOURCE=synthetic for a built-in test tone';

/** The capture sources `AUDEX_SOURCE` can name. */
export type AudioSourceKind = 'portaudio' | 'synthetic';

/** The source `AUDEX_SOURCE` selects: `portaudio` (default, also when empty) or `synthetic`. */
export function audioSourceKind(): AudioSourceKind {
  const kind = process.env.AUDEX_SOURCE ?? 'portaudio';
  if (kind === 'synthetic') return 'synthetic';
  if (kind === 'portaudio' || kind === '') return 'portaudio';
  throw new CliError(
    'USAGE',
    `AUDEX_SOURCE "${kind}" is not a source; use "portaudio" (default) or "synthetic"`,
  );
}

/**
 * The capture source: PortAudio (the microphone) unless `AUDEX_SOURCE=synthetic` asks for the built-in
 * test signal, which needs no audio hardware.
 */
export function createAudioSource(): AudioSource {
  return audioSourceKind() === 'synthetic' ? new SyntheticSource() : new PortAudioSource();
}

/**
 * Resolves `--device` (an index, or part of a device name, case-insensitive) against the devices the
 * source lists. `undefined` picks the default input. Throws `BAD_DEVICE` listing what exists.
 */
export function resolveDevice(devices: readonly InputDevice[], wanted: string | undefined): number | null {
  if (devices.length === 0) {
    throw new CliError('NO_INPUT_DEVICE', `no audio input device found: ${VIRTUAL_MIC_HINT}`);
  }
  if (wanted === undefined) return null;
  const available = devices.map((d) => `${d.index}: ${d.name}`).join('; ');
  if (/^\d+$/.test(wanted)) {
    const index = Number(wanted);
    if (devices.some((d) => d.index === index)) return index;
    throw new CliError('BAD_DEVICE', `--device ${wanted} is not an input device; available: ${available}`);
  }
  const needle = wanted.toLowerCase();
  const matches = devices.filter((d) => d.name.toLowerCase().includes(needle));
  if (matches.length === 1) return matches[0]!.index;
  if (matches.length === 0) {
    throw new CliError('BAD_DEVICE', `--device "${wanted}" matches no input device; available: ${available}`);
  }
  throw new CliError(
    'BAD_DEVICE',
    `--device "${wanted}" matches several devices (${matches.map((d) => `${d.index}: ${d.name}`).join('; ')}); use the index`,
  );
}
