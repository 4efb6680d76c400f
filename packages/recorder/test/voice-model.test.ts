import { createVoiceDetector } from '@audex/analysis';
import { createSileroModel, SILERO_MODELS } from '@audex/vad-silero';
import { describe, expect, it } from 'vitest';
import { RecorderError } from '../src/index.js';
import { loadVoiceModel, resolveVad, SILERO_MODEL_NAMES, VAD_PACKAGE } from '../src/voice-model.js';
import { rigsPerTest, waitForFrames } from './helpers.js';

const rigs = rigsPerTest();

describe('the vad option and its model', () => {
  it('names the Silero versions @audex/vad-silero runs', () => {
    expect([...SILERO_MODEL_NAMES]).toEqual([...SILERO_MODELS]);
    expect(VAD_PACKAGE).toBe('@audex/vad-silero');
  });

  it('a Silero name loads the model from @audex/vad-silero; a VoiceModel given is used as it is', async () => {
    const named = await loadVoiceModel(resolveVad({ model: 'silero-v6' })!);
    expect([named.name, named.windowSamples]).toEqual(['silero-v6', 512]);
    const own = createSileroModel();
    expect(await loadVoiceModel(resolveVad({ model: own })!)).toBe(own);
  });

  it('rejects a model that is neither, naming vad.model', () => {
    for (const model of ['silero-v7', {}, 7]) {
      const error = (() => {
        try {
          rigs.make({ recorder: { vad: { model: model as never } } });
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(RecorderError);
      expect(error).toMatchObject({ code: 'INVALID_OPTIONS', field: 'vad.model' });
    }
    expect(() => rigs.make({ recorder: { vad: 'yes' as never } })).toThrow(
      /vad must be true, false or VAD settings, got "yes"/,
    );
  });

  it('@audex/vad-silero not installed: MISSING_DEPENDENCY naming the package and how to install it', async () => {
    // What Node throws when the dynamic import finds no package (fault injection: in this
    // workspace it is installed; tooling/checks installs the recorder without it for real).
    const notFound = Object.assign(
      new Error(
        `Cannot find package '${VAD_PACKAGE}' imported from /prefix/lib/node_modules/@audex/recorder/dist/index.js`,
      ),
      { code: 'ERR_MODULE_NOT_FOUND' },
    );
    const error = await loadVoiceModel(resolveVad(true)!, () => Promise.reject(notFound)).catch((e) => e);
    expect(error).toBeInstanceOf(RecorderError);
    expect(error).toMatchObject({ code: 'MISSING_DEPENDENCY', field: 'vad', cause: notFound });
    expect(error.message).toBe(
      '[audex/recorder] voice activity detection (option vad) runs Silero VAD from @audex/vad-silero, an optional peer dependency of @audex/recorder that is not installed: run npm install @audex/vad-silero (or pass vad: { model } with a VoiceModel of your own)',
    );
    // Another module missing inside it is not "install @audex/vad-silero".
    const inner = await loadVoiceModel(
      resolveVad(true)!,
      () => import('@audex/no-such-package' as string),
    ).catch((e) => e);
    expect(inner).toMatchObject({ code: 'ANALYSIS_FAILED' });
    expect(inner.message).toContain(
      "could not load @audex/vad-silero: Cannot find package '@audex/no-such-package'",
    );
  });

  it('records with a VoiceModel passed in (the CLI and the web demo pass theirs)', async () => {
    const model = createSileroModel({ model: 'silero-v5' });
    const rig = rigs.make({
      config: { rate: 16_000, chunk: 320 },
      source: { durationMs: 1000 },
      recorder: { vad: { model } },
    });
    await rig.recorder.init();
    const key = await rig.recorder.start('vad-model');
    await waitForFrames(rig.recorder, 16_000);
    await rig.recorder.stop({ frames: false });
    // The synthetic tone is not speech.
    expect(await rig.store.getMetadata(key)).toMatchObject({ speech: [], speech_count: 0 });
    // The detector ran the same model type.
    const detector = await createVoiceDetector({ rate: 16_000, channels: 1, sampleFormat: 'int16' }, model);
    expect(detector.model).toBe('silero-v5');
  });
});
