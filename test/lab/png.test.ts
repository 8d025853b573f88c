// The benchmark plots' PNG writer: a valid PNG (signature, chunk CRCs, IHDR) whose pixels,
// inflated back, are the ones drawn; and a line plot that draws its series in colour.
import { crc32, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { linePlotPng } from '../bench/scenarios/plot/line-plot.js';
import { encodePng } from '../bench/scenarios/plot/png.js';

interface Decoded {
  width: number;
  height: number;
  pixels: Uint8Array;
}

/** Reads back an 8-bit RGB, filter-0 PNG, checking every chunk's CRC. */
function decode(png: Uint8Array): Decoded {
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const v = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let at = 8;
  let width = 0;
  let height = 0;
  const idat: Uint8Array[] = [];
  const types: string[] = [];
  while (at < png.length) {
    const len = v.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    const data = png.subarray(at + 8, at + 8 + len);
    expect(v.getUint32(at + 8 + len), `${type} CRC`).toBe(crc32(png.subarray(at + 4, at + 8 + len)));
    types.push(type);
    if (type === 'IHDR') {
      width = v.getUint32(at + 8);
      height = v.getUint32(at + 12);
      expect([...data.subarray(8)]).toEqual([8, 2, 0, 0, 0]);
    }
    if (type === 'IDAT') idat.push(data);
    at += 12 + len;
  }
  expect(types[0]).toBe('IHDR');
  expect(types[types.length - 1]).toBe('IEND');
  const raw = inflateSync(Buffer.concat(idat));
  const pixels = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    expect(raw[y * (1 + width * 3)]).toBe(0);
    pixels.set(raw.subarray(y * (1 + width * 3) + 1, (y + 1) * (1 + width * 3)), y * width * 3);
  }
  return { width, height, pixels };
}

describe('PNG writer', () => {
  it('round-trips pixels', () => {
    const rgb = new Uint8Array(7 * 3 * 3);
    for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 37) & 0xff;
    const d = decode(encodePng(7, 3, rgb));
    expect(d.width).toBe(7);
    expect(d.height).toBe(3);
    expect([...d.pixels]).toEqual([...rgb]);
    expect(() => encodePng(2, 2, new Uint8Array(11))).toThrow(RangeError);
  });

  it('draws a line plot with each series in its own colour', () => {
    const d = decode(
      linePlotPng({
        title: 'throughput',
        xLabel: 'time (s)',
        yLabel: 'Mbit/s',
        width: 400,
        height: 200,
        series: [
          { name: 'wifi', points: [[0, 10], [1, 40], [2, 40]] },
          { name: 'lte', points: [[0, 5], [1, 5], [2, 20]] },
        ],
      }),
    );
    expect(d.width).toBe(400);
    const count = (r: number, g: number, b: number) => {
      let n = 0;
      for (let i = 0; i < d.pixels.length; i += 3) if (d.pixels[i] === r && d.pixels[i + 1] === g && d.pixels[i + 2] === b) n++;
      return n;
    };
    expect(count(31, 119, 180)).toBeGreaterThan(300); // first series
    expect(count(255, 127, 14)).toBeGreaterThan(300); // second series
    expect(count(0, 0, 0)).toBeGreaterThan(500); // axes and text
  });
});
