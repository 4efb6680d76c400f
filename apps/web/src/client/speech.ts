// What the page shows of each recording's analysis: its loudness (EBU R128, from the stored
// metadata), its speech regions as a band under the waveform and as text, and the live momentary
// loudness next to the level meter.

/** A speech region as stored in metadata, ms from the recording's start. */
export interface SpeechRegionInfo {
  start_ms: number;
  end_ms: number;
}

/** The analysis fields `/api/recordings` returns for a recording. */
export interface AnalysisInfo {
  loudnessLufs?: number | null;
  truePeakDbtp?: number | null;
  speech?: SpeechRegionInfo[] | null;
  speechCount?: number | null;
}

/** Height of the speech band at the bottom of a waveform, px. */
const BAND = 8;

/** Marks the speech regions as a band along the bottom of a waveform canvas. */
export function drawSpeechBand(
  canvas: HTMLCanvasElement,
  speech: readonly SpeechRegionInfo[],
  durationMs: number,
): void {
  const ctx = canvas.getContext('2d');
  if (!ctx || durationMs <= 0) return;
  const { width, height } = canvas;
  ctx.fillStyle = '#3fb950';
  for (const r of speech) {
    const x0 = Math.floor((r.start_ms / durationMs) * width);
    const x1 = Math.ceil((r.end_ms / durationMs) * width);
    ctx.fillRect(x0, height - BAND, Math.max(1, x1 - x0), BAND);
  }
}

/** `-18.3 LUFS · peak -1.2 dBTP`, or '' when the recording was not measured. */
export function loudnessText(info: AnalysisInfo): string {
  if (info.loudnessLufs === undefined) return '';
  const lufs = info.loudnessLufs === null ? 'silent' : `${info.loudnessLufs.toFixed(1)} LUFS`;
  const peak = typeof info.truePeakDbtp === 'number' ? ` · peak ${info.truePeakDbtp.toFixed(1)} dBTP` : '';
  return `${lufs}${peak}`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** `Speech: 1.0 s–4.4 s, 6.7 s–10.3 s`, or 'No speech found.', or '' without voice activity data. */
export function speechText(info: AnalysisInfo): string {
  if (!info.speech || typeof info.speechCount !== 'number') return '';
  if (info.speechCount === 0) return 'No speech found.';
  const listed = info.speech.map((r) => `${seconds(r.start_ms)}–${seconds(r.end_ms)}`).join(', ');
  const more =
    info.speechCount > info.speech.length ? ` and ${info.speechCount - info.speech.length} more` : '';
  return `Speech (${info.speechCount}): ${listed}${more}`;
}

/** `-20.1 LUFS` for the live meter (momentary loudness), `−∞ LUFS` in silence. */
export function liveLoudnessText(lufs: number | null): string {
  return lufs === null ? '−∞ LUFS' : `${lufs.toFixed(1)} LUFS`;
}
