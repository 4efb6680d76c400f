// The web demo's page script: device picker, start/stop, live meter and scrolling waveform over the
// `/live` WebSocket, and the list of recordings with playback, downloads and range picking.
import { type AnalysisInfo, drawSpeechBand, liveLoudnessText, loudnessText, speechText } from './speech.js';

interface InputDevice {
  index: number;
  name: string;
  channels: number;
  defaultRate: number;
  hostApi: string;
  isDefault: boolean;
}

interface RecordingInfo extends AnalysisInfo {
  key: string;
  durationMs: number | null;
  startedAt: string | null;
  sampleRate: number | null;
  channels: number | null;
}

interface Peaks {
  durationMs: number;
  min: number[];
  max: number[];
}

type LiveMessage =
  | {
      type: 'state';
      recording: boolean;
      key: string | null;
      startedAt: number | null;
      device: number | null;
      input: 'closed' | 'opening' | 'open' | 'reconnecting';
      preRollMs: number;
      file: number;
      silent: boolean;
      silenceMs: number;
      lastOutageMs: number | null;
    }
  | { type: 'level'; peak: number; rms: number; lufs: number | null; elapsedMs: number }
  | { type: 'wave'; min: number[]; max: number[] }
  | { type: 'saved'; key: string; durationMs: number }
  | { type: 'error'; message: string };

function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`missing #${id}`);
  return element as T;
}

const deviceSelect = byId<HTMLSelectElement>('device');
const startButton = byId<HTMLButtonElement>('start');
const stopButton = byId<HTMLButtonElement>('stop');
const statusLine = byId<HTMLParagraphElement>('status');
const inputLine = byId<HTMLParagraphElement>('input-state');
const notice = byId<HTMLDivElement>('device-notice');
const levelMeter = byId<HTMLMeterElement>('level');
const levelRms = byId<HTMLDivElement>('level-rms');
const levelPeak = byId<HTMLDivElement>('level-peak');
const levelDb = byId<HTMLSpanElement>('level-db');
const levelLufs = byId<HTMLSpanElement>('level-lufs');
const elapsed = byId<HTMLSpanElement>('elapsed');
const liveCanvas = byId<HTMLCanvasElement>('live-wave');
const list = byId<HTMLOListElement>('recordings');
const empty = byId<HTMLParagraphElement>('empty');
const template = byId<HTMLTemplateElement>('recording-template');

const FLOOR_DB = -60;
let hasDevice = false;

function setStatus(text: string, error = false): void {
  statusLine.textContent = text;
  statusLine.classList.toggle('error', error);
}

function formatTime(ms: number): string {
  const tenths = Math.max(0, Math.floor(ms / 100));
  const s = Math.floor(tenths / 10);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}.${tenths % 10}`;
}

function dbfs(amplitude: number): number {
  return amplitude > 0 ? Math.max(-99, 20 * Math.log10(amplitude)) : -99;
}

function meterFraction(amplitude: number): number {
  return Math.max(0, Math.min(1, 1 - dbfs(amplitude) / FLOOR_DB));
}

async function api<T>(path: string, init?: RequestInit): Promise<T> {
  const response = await fetch(path, init);
  const body = (await response.json().catch(() => ({}))) as { error?: string };
  if (!response.ok) throw new Error(body.error ?? `${response.status} ${response.statusText}`);
  return body as T;
}

// ---- live meter and scrolling waveform -------------------------------------------------------

const liveColumns: Array<[number, number]> = [];
let liveDirty = false;

function setLevel(peak: number, rms: number): void {
  levelMeter.value = peak;
  levelRms.style.width = `${(meterFraction(rms) * 100).toFixed(1)}%`;
  levelPeak.style.left = `${(meterFraction(peak) * 100).toFixed(1)}%`;
  const db = dbfs(peak);
  levelDb.textContent = db <= -99 ? '−∞ dBFS' : `${db.toFixed(1)} dBFS`;
}

function drawLive(): void {
  if (liveDirty) {
    liveDirty = false;
    const ctx = liveCanvas.getContext('2d');
    if (ctx) {
      const { width, height } = liveCanvas;
      ctx.clearRect(0, 0, width, height);
      ctx.strokeStyle = '#2d3844';
      ctx.beginPath();
      ctx.moveTo(0, height / 2);
      ctx.lineTo(width, height / 2);
      ctx.stroke();
      ctx.fillStyle = '#58a6ff';
      const start = Math.max(0, liveColumns.length - width);
      for (let x = 0; x < liveColumns.length - start; x += 1) {
        const [lo, hi] = liveColumns[start + x]!;
        const top = ((1 - hi) / 2) * height;
        const bottom = ((1 - lo) / 2) * height;
        ctx.fillRect(width - (liveColumns.length - start) + x, top, 1, Math.max(1, bottom - top));
      }
    }
    if (liveColumns.length > liveCanvas.width * 2)
      liveColumns.splice(0, liveColumns.length - liveCanvas.width);
  }
  requestAnimationFrame(drawLive);
}
requestAnimationFrame(drawLive);

/** The input's state under the meter: pre-roll, reconnecting, the file of a rotation, a silent input. */
function showInput(state: Extract<LiveMessage, { type: 'state' }>): void {
  const parts: string[] = [];
  let warn = false;
  if (state.input === 'reconnecting') {
    parts.push('Input lost: reconnecting… (the outage is kept in the recording as silence)');
    warn = true;
  } else if (state.input === 'opening') {
    parts.push('Opening the microphone…');
  } else if (state.input === 'open' && state.preRollMs > 0) {
    parts.push(
      state.recording
        ? `Microphone open (pre-roll ${(state.preRollMs / 1000).toFixed(1)} s)`
        : `Microphone open: a recording starts at once and begins ${(state.preRollMs / 1000).toFixed(1)} s before the click`,
    );
  }
  if (state.recording && state.input === 'open' && state.lastOutageMs !== null) {
    parts.push(`input back after ${(state.lastOutageMs / 1000).toFixed(1)} s (kept as silence)`);
  }
  if (state.recording && state.file > 1) parts.push(`file ${state.file}`);
  if (state.silent) {
    parts.push(`No sound for ${Math.round(state.silenceMs / 1000)} s: is the microphone muted?`);
    warn = true;
  }
  inputLine.textContent = parts.join(' · ');
  inputLine.classList.toggle('warn', warn);
}

function setRecording(on: boolean): void {
  document.body.classList.toggle('recording-on', on);
  startButton.disabled = on || !hasDevice;
  stopButton.disabled = !on;
  deviceSelect.disabled = on;
  if (!on) setLevel(0, 0);
}

/** Key of the file being recorded (with rotation, the current file); null when not recording. */
let liveKey: string | null = null;

function connectLive(): void {
  const socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/live`);
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data)) as LiveMessage;
    switch (message.type) {
      case 'state':
        setRecording(message.recording);
        showInput(message);
        liveKey = message.recording ? message.key : null;
        if (message.recording && message.key) setStatus(`Recording to ${message.key}…`);
        break;
      case 'level':
        setLevel(message.peak, message.rms);
        levelLufs.textContent = liveLoudnessText(message.lufs);
        elapsed.textContent = formatTime(message.elapsedMs);
        break;
      case 'wave':
        for (let i = 0; i < message.min.length; i += 1) liveColumns.push([message.min[i]!, message.max[i]!]);
        liveDirty = true;
        break;
      case 'saved':
        // With rotation a file is saved while the recording goes on into the next one.
        setStatus(
          liveKey && liveKey !== message.key
            ? `Saved ${message.key} (${formatTime(message.durationMs)}); recording to ${liveKey}…`
            : `Saved ${message.key} (${formatTime(message.durationMs)}).`,
        );
        void refreshList();
        break;
      case 'error':
        setStatus(message.message, true);
        break;
    }
  });
  socket.addEventListener('close', () => setTimeout(connectLive, 1000));
}

// ---- devices and start/stop ------------------------------------------------------------------

async function loadDevices(): Promise<void> {
  const { devices, hint, store } = await api<{ devices: InputDevice[]; hint?: string; store: string | null }>(
    '/api/devices',
  );
  byId('store-label').textContent = store ?? '(custom store)';
  deviceSelect.replaceChildren(
    ...devices.map((d) => {
      const option = document.createElement('option');
      option.value = String(d.index);
      option.textContent = `${d.name}${d.isDefault ? ' (default)' : ''} — ${d.channels} ch, ${d.defaultRate} Hz`;
      option.selected = d.isDefault;
      return option;
    }),
  );
  if (devices.length === 0) {
    const none = document.createElement('option');
    none.value = '';
    none.textContent = '(no input device)';
    deviceSelect.append(none);
  }
  notice.hidden = devices.length > 0;
  if (hint) notice.textContent = hint;
  hasDevice = devices.length > 0;
  startButton.disabled = !hasDevice || document.body.classList.contains('recording-on');
}

startButton.addEventListener('click', async () => {
  startButton.disabled = true;
  liveColumns.length = 0;
  liveDirty = true;
  setStatus('Starting…');
  try {
    const device = deviceSelect.value === '' ? null : Number(deviceSelect.value);
    const { key } = await api<{ key: string }>('/api/recording/start', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ device }),
    });
    setRecording(true);
    setStatus(`Recording to ${key}…`);
  } catch (error) {
    setStatus((error as Error).message, true);
    setRecording(false);
  }
});

stopButton.addEventListener('click', async () => {
  stopButton.disabled = true;
  setStatus('Stopping and saving…');
  try {
    const { key, durationMs } = await api<{ key: string; durationMs: number }>('/api/recording/stop', {
      method: 'POST',
    });
    setRecording(false);
    setStatus(`Saved ${key} (${formatTime(durationMs)}).`);
    await refreshList();
  } catch (error) {
    setStatus((error as Error).message, true);
  }
});

// ---- recordings ----------------------------------------------------------------------------------

function audioUrl(key: string, format: string, extra: Record<string, string> = {}): string {
  return `/api/audio?${new URLSearchParams({ key, format, ...extra })}`;
}

function drawPeaks(canvas: HTMLCanvasElement, peaks: Peaks, from: number, to: number): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const { width, height } = canvas;
  const total = peaks.durationMs / 1000;
  ctx.clearRect(0, 0, width, height);
  if (to > from && total > 0) {
    ctx.fillStyle = 'rgba(88,166,255,0.18)';
    ctx.fillRect((from / total) * width, 0, ((to - from) / total) * width, height);
  }
  const n = peaks.min.length;
  const selected = to > from && total > 0 ? [(from / total) * width, (to / total) * width] : null;
  for (let x = 0; x < width; x += 1) {
    const i = Math.min(n - 1, Math.floor((x / width) * n));
    const top = ((1 - (peaks.max[i] ?? 0)) / 2) * height;
    const bottom = ((1 - (peaks.min[i] ?? 0)) / 2) * height;
    const inside = selected === null || (x >= selected[0]! && x <= selected[1]!);
    ctx.fillStyle = inside ? '#58a6ff' : '#2f4a6b';
    ctx.fillRect(x, top, 1, Math.max(1, bottom - top));
  }
}

function renderRecording(info: RecordingInfo): HTMLLIElement {
  const item = (template.content.firstElementChild as HTMLLIElement).cloneNode(true) as HTMLLIElement;
  const q = <T extends Element>(selector: string) => item.querySelector(selector) as T;
  const name = info.key.split('/').pop() ?? info.key;
  item.dataset.key = info.key;
  q<HTMLHeadingElement>('.rec-key').textContent = info.key;
  const started = info.startedAt ? new Date(info.startedAt).toLocaleString() : '';
  q<HTMLSpanElement>('.rec-meta').textContent = [
    info.durationMs === null ? '' : formatTime(info.durationMs),
    info.sampleRate ? `${info.sampleRate} Hz` : '',
    info.channels ? `${info.channels} ch` : '',
    loudnessText(info),
    started,
  ]
    .filter(Boolean)
    .join(' · ');
  const audio = q<HTMLAudioElement>('audio');
  audio.src = audioUrl(info.key, 'wav');
  audio.setAttribute('aria-label', `Play ${name}`);
  for (const format of ['wav', 'flac', 'mp3', 'opus']) {
    const link = q<HTMLAnchorElement>(`.dl-${format}`);
    link.href = audioUrl(info.key, format, { download: '1' });
    link.setAttribute(
      'aria-label',
      `Download ${name} as ${format === 'opus' ? 'Opus' : format.toUpperCase()}`,
    );
  }
  q<HTMLParagraphElement>('.rec-speech').textContent = speechText(info);
  const canvas = q<HTMLCanvasElement>('canvas');
  canvas.setAttribute('aria-label', `Waveform of ${name}: drag to pick a range`);
  const fromInput = q<HTMLInputElement>('.range-from');
  const toInput = q<HTMLInputElement>('.range-to');
  const formatSelect = q<HTMLSelectElement>('.range-format');
  const rangeLink = q<HTMLAnchorElement>('.range-download');
  fromInput.setAttribute('aria-label', `Range start in seconds for ${name}`);
  toInput.setAttribute('aria-label', `Range end in seconds for ${name}`);
  let peaks: Peaks | undefined;

  const update = () => {
    const from = Number(fromInput.value);
    const to = Number(toInput.value);
    const valid = fromInput.value !== '' && toInput.value !== '' && to > from;
    rangeLink.toggleAttribute('aria-disabled', !valid);
    rangeLink.href = valid
      ? audioUrl(info.key, formatSelect.value, { from: from.toFixed(3), to: to.toFixed(3), download: '1' })
      : '#';
    if (peaks) {
      drawPeaks(canvas, peaks, valid ? from : 0, valid ? to : 0);
      if (info.speech) drawSpeechBand(canvas, info.speech, peaks.durationMs);
    }
  };
  fromInput.addEventListener('input', update);
  toInput.addEventListener('input', update);
  formatSelect.addEventListener('change', update);
  rangeLink.addEventListener('click', (event) => {
    if (rangeLink.hasAttribute('aria-disabled')) {
      event.preventDefault();
      setStatus('Pick a range on the waveform (or type start and end) first.', true);
    }
  });

  let dragFrom: number | null = null;
  const secondsAt = (event: PointerEvent) => {
    const rect = canvas.getBoundingClientRect();
    const fraction = Math.max(0, Math.min(1, (event.clientX - rect.left) / rect.width));
    return fraction * ((peaks?.durationMs ?? info.durationMs ?? 0) / 1000);
  };
  canvas.addEventListener('pointerdown', (event) => {
    dragFrom = secondsAt(event);
    canvas.setPointerCapture(event.pointerId);
  });
  canvas.addEventListener('pointermove', (event) => {
    if (dragFrom === null) return;
    const at = secondsAt(event);
    fromInput.value = Math.min(dragFrom, at).toFixed(2);
    toInput.value = Math.max(dragFrom, at).toFixed(2);
    update();
  });
  canvas.addEventListener('pointerup', () => {
    dragFrom = null;
  });

  q<HTMLButtonElement>('.delete').setAttribute('aria-label', `Delete ${name}`);
  q<HTMLButtonElement>('.delete').addEventListener('click', async () => {
    if (!confirm(`Delete ${info.key}?`)) return;
    try {
      await api(`/api/recordings?${new URLSearchParams({ key: info.key })}`, { method: 'DELETE' });
      item.remove();
      empty.hidden = list.children.length > 0;
    } catch (error) {
      setStatus((error as Error).message, true);
    }
  });

  void api<Peaks>(`/api/peaks?${new URLSearchParams({ key: info.key, columns: String(canvas.width) })}`).then(
    (p) => {
      peaks = p;
      item.dataset.durationMs = String(p.durationMs);
      update();
    },
    () => {},
  );
  update();
  return item;
}

async function refreshList(): Promise<void> {
  try {
    const { recordings } = await api<{ recordings: RecordingInfo[] }>('/api/recordings');
    list.replaceChildren(...recordings.map(renderRecording));
    empty.hidden = recordings.length > 0;
  } catch (error) {
    setStatus(`Could not list recordings: ${(error as Error).message}`, true);
  }
}

byId<HTMLButtonElement>('refresh').addEventListener('click', () => void refreshList());

setRecording(false);
connectLive();
void loadDevices().catch((error: Error) => setStatus(`Could not list devices: ${error.message}`, true));
void refreshList();
