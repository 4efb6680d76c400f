import { fromFloat32, type SampleFormat } from '@audex/pcm';
import { type BenchSection, fmt, statLabel, summarize, timeRuns } from '@audex/test-utils/bench';
import wavefile from 'wavefile';
import { createWavEncoder, decodeWav } from '../src/codecs/wav.js';

const QUICK = process.env.AUDEX_BENCH_QUICK === '1';
const RUNS = QUICK ? 3 : 5;
/** wavefile is slow (seconds per 60 s of float32): fewer runs. */
const WF_RUNS = QUICK ? 1 : 2;
const SECONDS = 60;

function speechLike(rate: number, channels: number): Float32Array {
  const frames = rate * SECONDS;
  const x = new Float32Array(frames * channels);
  for (let i = 0; i < frames; i++) {
    const t = i / rate;
    // A 150 Hz voice with formant-ish partials, syllable-rate amplitude modulation.
    const env = 0.5 + 0.5 * Math.sin(2 * Math.PI * 4 * t);
    const v = env * (0.3 * Math.sin(2 * Math.PI * 150 * t) + 0.15 * Math.sin(2 * Math.PI * 700 * t));
    for (let c = 0; c < channels; c++) x[i * channels + c] = v;
  }
  return x;
}

/** WAV write (ours streamed vs wavefile in one go) and read throughput. */
export async function wavBench(): Promise<BenchSection[]> {
  const rows: (string | number)[][] = [];
  const cases: [string, number, number, SampleFormat][] = [
    ['16 kHz mono int16', 16_000, 1, 'int16'],
    ['48 kHz stereo int16', 48_000, 2, 'int16'],
    ['48 kHz stereo float32', 48_000, 2, 'float32'],
    ['48 kHz stereo int24', 48_000, 2, 'int24'],
  ];
  for (const [label, rate, channels, format] of cases) {
    const pcm = fromFloat32(speechLike(rate, channels), format);
    const oursMs = summarize(
      await timeRuns(
        () => {
          const enc = createWavEncoder({ rate, channels, sampleFormat: format, totalFrames: rate * SECONDS });
          const step = rate * (pcm.length / (rate * SECONDS));
          for (let i = 0; i < pcm.length; i += step) enc.write(pcm.subarray(i, i + step));
          enc.end();
        },
        RUNS,
        1,
      ),
    ).value;
    const bitDepth = { int8: '8', int16: '16', int24: '24', int32: '32', float32: '32f' }[format];
    // wavefile wants samples as numbers: give it the typed view it accepts for this depth.
    const samples =
      format === 'int16'
        ? new Int16Array(pcm.buffer)
        : format === 'float32'
          ? new Float32Array(pcm.buffer)
          : Int32Array.from(
              { length: pcm.length / 3 },
              (_, i) => ((pcm[3 * i]! | (pcm[3 * i + 1]! << 8) | (pcm[3 * i + 2]! << 16)) << 8) >> 8,
            );
    const wfMs = summarize(
      await timeRuns(
        () => {
          const wf = new wavefile.WaveFile();
          wf.fromScratch(channels, rate, bitDepth, samples);
          wf.toBuffer();
        },
        WF_RUNS,
        0,
      ),
    ).value;
    const file = (() => {
      const enc = createWavEncoder({ rate, channels, sampleFormat: format, totalFrames: rate * SECONDS });
      const a = enc.write(pcm);
      const b = enc.end();
      const out = new Uint8Array(a.length + b.length);
      out.set(a);
      out.set(b, a.length);
      return out;
    })();
    const readMs = summarize(await timeRuns(() => decodeWav(file), RUNS, 1)).value;
    const wfReadMs = summarize(
      await timeRuns(
        () => {
          const wf = new wavefile.WaveFile(file);
          wf.getSamples(true);
        },
        WF_RUNS,
        0,
      ),
    ).value;
    const mb = pcm.length / 1e6;
    rows.push([
      label,
      fmt(oursMs),
      fmt(mb / (oursMs / 1000)),
      fmt(wfMs),
      fmt(wfMs / oursMs),
      fmt(readMs),
      fmt(wfReadMs),
      fmt(wfReadMs / readMs),
    ]);
  }
  return [
    {
      title: `WAV throughput, ${SECONDS} s inputs (ours: streamed encoder fed 1 s writes; wavefile 11: fromScratch + toBuffer)`,
      columns: [
        'input',
        `ours write ms (${statLabel(RUNS)})`,
        'ours write MB/s',
        `wavefile write ms (${statLabel(WF_RUNS)})`,
        'write speed-up',
        `ours read ms (${statLabel(RUNS)})`,
        `wavefile read ms (${statLabel(WF_RUNS)})`,
        'read speed-up',
      ],
      rows,
      notes:
        'Read: ours decodeWav (bytes kept in their format); wavefile: constructor + getSamples(interleaved).',
    },
  ];
}
