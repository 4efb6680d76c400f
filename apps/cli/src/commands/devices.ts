// `audex devices`: the input devices as a table or JSON.
import { createAudioSource, VIRTUAL_MIC_HINT } from '../audio-source.js';
import { formatTable, paintFor } from '../terminal.js';

/** `audex devices`: lists input devices as a table, or JSON with `--json`. */
export async function devicesCommand(flags: { json?: boolean }): Promise<void> {
  const devices = await createAudioSource().listInputDevices();
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(devices, null, 2)}\n`);
    return;
  }
  if (devices.length === 0) {
    process.stderr.write(`No audio input device found: ${VIRTUAL_MIC_HINT}.\n`);
    return;
  }
  const paint = paintFor(process.stdout);
  const rows = devices.map((d) => [
    String(d.index),
    d.isDefault ? `${d.name} ${paint.green('(default)')}` : d.name,
    String(d.channels),
    `${d.defaultRate} Hz`,
    d.hostApi,
  ]);
  process.stdout.write(`${formatTable(['INDEX', 'NAME', 'CHANNELS', 'RATE', 'HOST API'], rows)}\n`);
}
