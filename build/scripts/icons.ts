// Draws the app icon with Node built-ins only and writes build/icon.png (1024×1024, Linux and the
// source for anything else), build/icon.ico (Windows, PNG-compressed entries 16–256) and
// build/icon.icns (macOS, PNG entries 16–1024). Run `npx tsx build/scripts/icons.ts` after changing
// the drawing; the files are checked in.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';

type Rgba = [number, number, number, number];

const BUILD_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The colour at (x, y) in unit coordinates (0..1, y down), or null where the icon is transparent. */
function shade(x: number, y: number): Rgba | null {
  const margin = 0.06;
  const radius = 0.2;
  // Rounded square background with a vertical gradient.
  const qx = Math.max(Math.abs(x - 0.5) - (0.5 - margin - radius), 0);
  const qy = Math.max(Math.abs(y - 0.5) - (0.5 - margin - radius), 0);
  if (Math.hypot(qx, qy) > radius) return null;
  const t = (y - margin) / (1 - 2 * margin);
  const background: Rgba = [Math.round(23 + t * 14), Math.round(49 + t * 50), Math.round(110 + t * 125), 255];

  // A "C" ring, open to the right.
  const dx = x - 0.5;
  const dy = y - 0.5;
  const r = Math.hypot(dx, dy);
  const angle = Math.abs(Math.atan2(dy, dx));
  if (r >= 0.2 && r <= 0.31 && angle > Math.PI / 4.2) return [255, 255, 255, 255];

  // Three record lines inside it, the middle one highlighted.
  const bars = [0.41, 0.5, 0.59];
  for (const [i, cy] of bars.entries()) {
    const half = 0.028;
    const x0 = 0.4;
    const x1 = i === 1 ? 0.7 : 0.6;
    const cx = Math.min(Math.max(x, x0), x1);
    if (Math.hypot(x - cx, y - cy) <= half) return i === 1 ? [94, 234, 212, 255] : [191, 219, 254, 255];
  }
  return background;
}

/** Renders the icon at `size`×`size` with 4×4 supersampling; returns RGBA rows. */
export function renderIcon(size: number): Buffer {
  const samples = 4;
  const pixels = Buffer.alloc(size * size * 4);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const c = shade((px + (sx + 0.5) / samples) / size, (py + (sy + 0.5) / samples) / size);
          if (!c) continue;
          r += c[0] * c[3]; g += c[1] * c[3]; b += c[2] * c[3]; a += c[3];
        }
      }
      const o = (py * size + px) * 4;
      const n = samples * samples;
      pixels[o] = a ? Math.round(r / a) : 0;
      pixels[o + 1] = a ? Math.round(g / a) : 0;
      pixels[o + 2] = a ? Math.round(b / a) : 0;
      pixels[o + 3] = Math.round(a / n);
    }
  }
  return pixels;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

export function encodePng(size: number, rgba: Buffer): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.writeUInt8(8, 8); // bit depth
  ihdr.writeUInt8(6, 9); // colour type RGBA
  const rows = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) rgba.copy(rows, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(rows, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

/** ICO with PNG-compressed entries (Windows Vista and later). */
export function encodeIco(pngs: ReadonlyMap<number, Buffer>): Buffer {
  const entries = [...pngs.entries()];
  const header = Buffer.alloc(6 + 16 * entries.length);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2);
  header.writeUInt16LE(entries.length, 4);
  let offset = header.length;
  entries.forEach(([size, png], i) => {
    const e = 6 + 16 * i;
    header.writeUInt8(size >= 256 ? 0 : size, e);
    header.writeUInt8(size >= 256 ? 0 : size, e + 1);
    header.writeUInt16LE(1, e + 4); // planes
    header.writeUInt16LE(32, e + 6); // bits per pixel
    header.writeUInt32LE(png.length, e + 8);
    header.writeUInt32LE(offset, e + 12);
    offset += png.length;
  });
  return Buffer.concat([header, ...entries.map(([, png]) => png)]);
}

/** ICNS element types that hold PNG data, by pixel size. */
export const ICNS_TYPES: ReadonlyArray<[string, number]> = [
  ['icp4', 16], ['icp5', 32], ['icp6', 64], ['ic07', 128], ['ic08', 256], ['ic09', 512], ['ic10', 1024],
  ['ic11', 32], ['ic12', 64], ['ic13', 256], ['ic14', 512],
];

export function encodeIcns(pngs: ReadonlyMap<number, Buffer>): Buffer {
  const elements = ICNS_TYPES.map(([type, size]) => {
    const png = pngs.get(size);
    if (!png) throw new Error(`no ${size}px image for ${type}`);
    const head = Buffer.alloc(8);
    head.write(type, 0, 'ascii');
    head.writeUInt32BE(png.length + 8, 4);
    return Buffer.concat([head, png]);
  });
  const body = Buffer.concat(elements);
  const head = Buffer.alloc(8);
  head.write('icns', 0, 'ascii');
  head.writeUInt32BE(body.length + 8, 4);
  return Buffer.concat([head, body]);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const pngs = new Map<number, Buffer>();
  for (const size of [16, 24, 32, 48, 64, 128, 256, 512, 1024]) pngs.set(size, encodePng(size, renderIcon(size)));
  const ico = new Map([16, 24, 32, 48, 64, 128, 256].map((s) => [s, pngs.get(s) as Buffer]));
  writeFileSync(join(BUILD_DIR, 'icon.png'), pngs.get(1024) as Buffer);
  writeFileSync(join(BUILD_DIR, 'icon.ico'), encodeIco(ico));
  writeFileSync(join(BUILD_DIR, 'icon.icns'), encodeIcns(pngs));
  console.log('Wrote build/icon.png, build/icon.ico, build/icon.icns');
}
