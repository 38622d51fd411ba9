/**
 * Real JPEG/PNG files of the exact requested size, deterministic for (seed, width, height, format,
 * image index), cheap enough for benchmarks.
 *
 * Encoding is the cost (jpeg-js needs ~50 ms for 1024×1024), so pixels come from one of
 * PIXEL_VARIANTS seed-derived patterns and encoded variants are cached in a small LRU; the full
 * seed and image index are then stamped into a metadata segment (JPEG COM, PNG tEXt) so every
 * seed and every image of a request still has distinct bytes, at the cost of a buffer copy.
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import type { ImageFormat } from './input-check.js';

const PIXEL_VARIANTS = 16;
const JPEG_QUALITY = 80;

export const CONTENT_TYPES: Readonly<Record<ImageFormat, string>> = { jpeg: 'image/jpeg', png: 'image/png' };

export class ImageFactory {
  private readonly cache = new Map<string, Buffer>();
  private cachedBytes = 0;

  constructor(
    private readonly maxEntries = 128,
    private readonly maxBytes = 64 * 1024 * 1024,
  ) {}

  /** The encoded image for one output slot. */
  image(seed: string, index: number, width: number, height: number, format: ImageFormat): Buffer {
    const variant = hash32(seed) % PIXEL_VARIANTS;
    const encoded = this.encoded(variant, width, height, format);
    const label = `fal-sim seed=${seed.length <= 40 ? seed : sha256(seed)} image=${index}`;
    return format === 'jpeg' ? stampJpeg(encoded, label) : stampPng(encoded, label);
  }

  private encoded(variant: number, width: number, height: number, format: ImageFormat): Buffer {
    const key = `${variant}:${width}x${height}:${format}`;
    const hit = this.cache.get(key);
    if (hit !== undefined) {
      this.cache.delete(key); // re-insert: Map order is the LRU order
      this.cache.set(key, hit);
      return hit;
    }
    const pixels = renderPattern(variant, width, height);
    const bytes = format === 'jpeg' ? jpeg.encode({ data: pixels, width, height }, JPEG_QUALITY).data : encodePng(pixels, width, height);
    this.cache.set(key, bytes);
    this.cachedBytes += bytes.length;
    for (const [oldKey, old] of this.cache) {
      if (this.cache.size <= this.maxEntries && this.cachedBytes <= this.maxBytes) break;
      if (oldKey === key) break;
      this.cache.delete(oldKey);
      this.cachedBytes -= old.length;
    }
    return bytes;
  }
}

/** RGBA pixels: a diagonal gradient between two colours plus a few solid blocks, all from the variant. */
function renderPattern(variant: number, width: number, height: number): Buffer {
  const next = mulberry32(hash32(`variant-${variant}`));
  const colour = (): [number, number, number] => [next() * 256, next() * 256, next() * 256].map(Math.floor) as [number, number, number];
  const [r0, g0, b0] = colour();
  const [r1, g1, b1] = colour();
  const data = Buffer.alloc(width * height * 4);
  const span = Math.max(1, width + height - 2);
  for (let y = 0; y < height; y++) {
    let o = y * width * 4;
    for (let x = 0; x < width; x++, o += 4) {
      const t = (x + y) / span;
      data[o] = r0 + (r1 - r0) * t;
      data[o + 1] = g0 + (g1 - g0) * t;
      data[o + 2] = b0 + (b1 - b0) * t;
      data[o + 3] = 255;
    }
  }
  for (let block = 0; block < 6; block++) {
    const x0 = Math.floor(next() * width);
    const y0 = Math.floor(next() * height);
    const x1 = Math.min(width, x0 + 1 + Math.floor(next() * width * 0.4));
    const y1 = Math.min(height, y0 + 1 + Math.floor(next() * height * 0.4));
    const [r, g, b] = colour();
    for (let y = y0; y < y1; y++) {
      for (let o = (y * width + x0) * 4, end = (y * width + x1) * 4; o < end; o += 4) {
        data[o] = r;
        data[o + 1] = g;
        data[o + 2] = b;
      }
    }
  }
  return data;
}

function encodePng(pixels: Buffer, width: number, height: number): Buffer {
  const png = new PNG({ width, height });
  png.data = pixels;
  return PNG.sync.write(png);
}

/** Inserts a COM segment after SOI and the JFIF APP0 segment (JFIF wants APP0 first). */
function stampJpeg(encoded: Buffer, label: string): Buffer {
  let at = 2;
  if (encoded[2] === 0xff && encoded[3] === 0xe0) at = 4 + encoded.readUInt16BE(4);
  const text = Buffer.from(label, 'latin1');
  const segment = Buffer.alloc(4 + text.length);
  segment.writeUInt16BE(0xfffe, 0);
  segment.writeUInt16BE(text.length + 2, 2);
  text.copy(segment, 4);
  return Buffer.concat([encoded.subarray(0, at), segment, encoded.subarray(at)]);
}

/** Inserts a tEXt chunk right after IHDR (8-byte signature + 25-byte IHDR chunk). */
function stampPng(encoded: Buffer, label: string): Buffer {
  const at = 8 + 25;
  const data = Buffer.from(`Comment\0${label}`, 'latin1');
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write('tEXt', 4, 'latin1');
  data.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  return Buffer.concat([encoded.subarray(0, at), chunk, encoded.subarray(at)]);
}

/**
 * One cache per process: encoded variants are a pure function of (variant, size, format), so sims
 * started side by side (tests, benchmarks) share the warm-up.
 */
export const sharedImages = new ImageFactory();

/** FNV-1a, 32 bits. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
