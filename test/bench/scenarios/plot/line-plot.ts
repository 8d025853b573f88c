/**
 * Line plots as PNG: series of (x, y) points on shared axes, with ticks, axis titles, a title
 * and a legend, drawn into an RGB raster (Bresenham lines, 5x7 font) and encoded by png.ts.
 */
import { GLYPH_HEIGHT, GLYPH_WIDTH, glyph } from './font.js';
import { encodePng } from './png.js';

export interface Series {
  name: string;
  points: readonly (readonly [number, number])[];
}

export interface PlotSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  width?: number;
  height?: number;
}

type Rgb = readonly [number, number, number];
const COLOURS: readonly Rgb[] = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
  [148, 103, 189],
  [140, 86, 75],
];
const BLACK: Rgb = [0, 0, 0];
const GRID: Rgb = [225, 225, 225];

class Raster {
  readonly rgb: Uint8Array;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.rgb = new Uint8Array(width * height * 3).fill(255);
  }

  dot(x: number, y: number, c: Rgb): void {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = (y * this.width + x) * 3;
    this.rgb[i] = c[0];
    this.rgb[i + 1] = c[1];
    this.rgb[i + 2] = c[2];
  }

  line(x0: number, y0: number, x1: number, y1: number, c: Rgb, thick = 1): void {
    x0 = Math.round(x0);
    y0 = Math.round(y0);
    x1 = Math.round(x1);
    y1 = Math.round(y1);
    const dx = Math.abs(x1 - x0);
    const dy = -Math.abs(y1 - y0);
    const sx = x0 < x1 ? 1 : -1;
    const sy = y0 < y1 ? 1 : -1;
    let err = dx + dy;
    for (;;) {
      for (let t = 0; t < thick; t++) {
        this.dot(x0, y0 + t, c);
        this.dot(x0 + t, y0, c);
      }
      if (x0 === x1 && y0 === y1) return;
      const e2 = 2 * err;
      if (e2 >= dy) {
        err += dy;
        x0 += sx;
      }
      if (e2 <= dx) {
        err += dx;
        y0 += sy;
      }
    }
  }

  text(x: number, y: number, s: string, c: Rgb = BLACK): void {
    for (let k = 0; k < s.length; k++) {
      const rows = glyph(s[k]);
      for (let r = 0; r < GLYPH_HEIGHT; r++) for (let b = 0; b < GLYPH_WIDTH; b++) if ((rows[r] >> (GLYPH_WIDTH - 1 - b)) & 1) this.dot(x + k * (GLYPH_WIDTH + 1) + b, y + r, c);
    }
  }

  /** Text rotated 90 degrees counter-clockwise, reading upwards from (x, y). */
  textUp(x: number, y: number, s: string, c: Rgb = BLACK): void {
    for (let k = 0; k < s.length; k++) {
      const rows = glyph(s[k]);
      for (let r = 0; r < GLYPH_HEIGHT; r++) for (let b = 0; b < GLYPH_WIDTH; b++) if ((rows[r] >> (GLYPH_WIDTH - 1 - b)) & 1) this.dot(x + r, y - k * (GLYPH_WIDTH + 1) - b, c);
    }
  }
}

const textWidth = (s: string) => s.length * (GLYPH_WIDTH + 1);

/** A "nice" tick step (1, 2 or 5 times a power of ten) for about `n` ticks over `span`. */
function tickStep(span: number, n: number): number {
  const raw = span / n;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
}

function fmt(v: number, step: number): string {
  return step >= 1 ? String(Math.round(v)) : v.toFixed(Math.min(3, Math.ceil(-Math.log10(step))));
}

/** Renders the plot and returns PNG bytes. */
export function linePlotPng(spec: PlotSpec): Uint8Array {
  const W = spec.width ?? 800;
  const H = spec.height ?? 420;
  const img = new Raster(W, H);
  const left = 60;
  const right = W - 20;
  const top = 40;
  const bottom = H - 50;
  const all = spec.series.flatMap((s) => s.points);
  const xMax = Math.max(1e-9, ...all.map(([x]) => x));
  const xMin = Math.min(0, ...all.map(([x]) => x));
  const yMax = Math.max(1e-9, ...all.map(([, y]) => y)) * 1.1;
  const px = (x: number) => left + ((x - xMin) / (xMax - xMin)) * (right - left);
  const py = (y: number) => bottom - (y / yMax) * (bottom - top);
  const xs = tickStep(xMax - xMin, 8);
  for (let x = Math.ceil(xMin / xs) * xs; x <= xMax + 1e-9; x += xs) {
    img.line(px(x), top, px(x), bottom, GRID);
    const label = fmt(x, xs);
    img.text(px(x) - textWidth(label) / 2, bottom + 6, label);
  }
  const ys = tickStep(yMax, 6);
  for (let y = 0; y <= yMax + 1e-9; y += ys) {
    img.line(left, py(y), right, py(y), GRID);
    const label = fmt(y, ys);
    img.text(left - 6 - textWidth(label), py(y) - 3, label);
  }
  img.line(left, bottom, right, bottom, BLACK);
  img.line(left, top, left, bottom, BLACK);
  img.text((W - textWidth(spec.title)) / 2, 12, spec.title);
  img.text((left + right - textWidth(spec.xLabel)) / 2, H - 20, spec.xLabel);
  img.textUp(12, (top + bottom + textWidth(spec.yLabel)) / 2, spec.yLabel);
  spec.series.forEach((s, i) => {
    const c = COLOURS[i % COLOURS.length];
    for (let k = 1; k < s.points.length; k++) img.line(px(s.points[k - 1][0]), py(s.points[k - 1][1]), px(s.points[k][0]), py(s.points[k][1]), c, 2);
    const lx = right - 160;
    const ly = top + 6 + i * 12;
    img.line(lx, ly + 3, lx + 16, ly + 3, c, 2);
    img.text(lx + 22, ly, s.name);
  });
  return encodePng(W, H, img.rgb);
}
