// The recorder's voice-model room: the `vad` option checked into settings (the region settings of
// @audex/analysis plus the model: a Silero version name, or any VoiceModel), and loading the model
// at start(). A name loads @audex/vad-silero with a dynamic import: an optional peer dependency, so
// its 159 MB runtime is installed only by those who use voice activity; when it is missing that is
// MISSING_DEPENDENCY naming the package to install.
import {
  AnalysisError,
  checkVoiceModel,
  type ResolvedVadOptions,
  resolveVadOptions,
  type VoiceModel,
} from '@audex/analysis';
import { describeValue, RecorderError } from './errors.js';
import type { VoiceActivityOptions } from './types.js';

/** The package that runs the named Silero models (an optional peer dependency of this one). */
export const VAD_PACKAGE = '@audex/vad-silero';

/** The Silero versions `vad.model` may name (those @audex/vad-silero loads). */
export const SILERO_MODEL_NAMES = ['silero-v5', 'silero-v6'] as const;

/** The `vad` option, checked: region settings and the model (a Silero name, or a VoiceModel). */
export interface VadSettings extends ResolvedVadOptions {
  readonly model: (typeof SILERO_MODEL_NAMES)[number] | VoiceModel;
}

/**
 * Checks the `vad` option: `false`/`undefined` (off), `true` (defaults, Silero v5) or settings.
 * @throws {RecorderError} `INVALID_OPTIONS` naming the field (`vad`, `vad.<field>`).
 */
export function resolveVad(option: boolean | VoiceActivityOptions | undefined): VadSettings | undefined {
  const value = option ?? false;
  if (value === false) return undefined;
  if (value !== true && (value === null || typeof value !== 'object')) {
    throw new RecorderError(
      'INVALID_OPTIONS',
      `vad must be true, false or VAD settings, got ${describeValue(value)}`,
      { field: 'vad' },
    );
  }
  const given: VoiceActivityOptions = value === true ? {} : value;
  let regions: ResolvedVadOptions;
  let model: VadSettings['model'];
  try {
    regions = resolveVadOptions(given);
    model = given.model ?? 'silero-v5';
    if (typeof model === 'string') {
      if (!(SILERO_MODEL_NAMES as readonly string[]).includes(model)) {
        throw new AnalysisError(
          'INVALID_OPTIONS',
          `model must be ${SILERO_MODEL_NAMES.map((m) => `'${m}'`).join(' or ')} (run by ${VAD_PACKAGE}) or a VoiceModel, got ${describeValue(model)}`,
          { field: 'model' },
        );
      }
    } else model = checkVoiceModel(model);
  } catch (error) {
    if (!(error instanceof AnalysisError)) throw error;
    throw new RecorderError(
      'INVALID_OPTIONS',
      `vad must be true, false or VAD settings: ${error.message.replace(/^\[audex\/analysis\] /, '')}`,
      { field: error.field ? `vad.${error.field}` : 'vad', cause: error },
    );
  }
  return Object.freeze({ ...regions, model });
}

/** What the recorder uses of @audex/vad-silero. */
interface SileroPackage {
  createSileroModel(options: { model: string }): VoiceModel;
}

/**
 * The voice model of `vad`: the one given, or the named Silero model from @audex/vad-silero.
 *
 * @param load - imports the package (a parameter so a test can name one that is not installed).
 * @throws {RecorderError} `MISSING_DEPENDENCY` when @audex/vad-silero is not installed;
 *   `ANALYSIS_FAILED` when it cannot be loaded otherwise.
 */
export async function loadVoiceModel(
  vad: VadSettings,
  load: () => Promise<unknown> = () => import('@audex/vad-silero'),
): Promise<VoiceModel> {
  if (typeof vad.model !== 'string') return vad.model;
  let silero: SileroPackage;
  try {
    silero = (await load()) as SileroPackage;
  } catch (cause) {
    const code = (cause as { code?: unknown } | null)?.code;
    const message = String((cause as Error | null)?.message);
    // Node names the package it could not find in quotes ("Cannot find package '…' imported from …").
    const missing = message.includes(`'${VAD_PACKAGE}'`) || message.includes(`"${VAD_PACKAGE}"`);
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && missing) {
      throw new RecorderError(
        'MISSING_DEPENDENCY',
        `voice activity detection (option vad) runs Silero VAD from ${VAD_PACKAGE}, an optional peer dependency of @audex/recorder that is not installed: run npm install ${VAD_PACKAGE} (or pass vad: { model } with a VoiceModel of your own)`,
        { field: 'vad', cause },
      );
    }
    throw new RecorderError('ANALYSIS_FAILED', `could not load ${VAD_PACKAGE}: ${message}`, {
      field: 'vad',
      cause,
    });
  }
  return silero.createSileroModel({ model: vad.model });
}
