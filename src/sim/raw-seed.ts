/**
 * Seeds as digit strings. fal's docs show seeds like 196619188014358660 (above 2^53), which
 * JSON.parse would round; the sim echoes the caller's seed exactly, so it reads the raw text of
 * the top-level `seed` member and writes it back verbatim (docs/fal-protocol.md §1.4 "seed precision").
 */

/**
 * Raw JSON text of the top-level member `key` (the last one if repeated, as JSON.parse does),
 * or undefined. `text` must already have passed JSON.parse; this only tokenizes.
 */
export function rawTopLevelMember(text: string, key: string): string | undefined {
  let i = skipSpace(text, 0);
  if (text[i] !== '{') return undefined;
  i = skipSpace(text, i + 1);
  let found: string | undefined;
  while (i < text.length && text[i] !== '}') {
    const keyEnd = stringEnd(text, i);
    const name = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skipSpace(text, skipSpace(text, keyEnd) + 1); // past ':'
    const valueEnd = valueEndAt(text, i);
    if (name === key) found = text.slice(i, valueEnd);
    i = skipSpace(text, valueEnd);
    if (text[i] === ',') i = skipSpace(text, i + 1);
  }
  return found;
}

/** A JSON integer literal: what the sim echoes byte for byte. */
const INTEGER_LITERAL = /^-?(0|[1-9][0-9]*)$/;

export type SeedRead = { ok: true; seed: string | undefined } | { ok: false; type: 'int_type' | 'int_from_float'; msg: string };

/**
 * The seed to echo, from the parsed value and its raw text. Integer literals are kept verbatim;
 * integral numbers written with a fraction or exponent (`5.0`, `1e3`) are accepted as pydantic's
 * lax int mode does and printed as plain digits.
 */
export function readSeed(value: unknown, raw: string | undefined): SeedRead {
  if (value === undefined || value === null) return { ok: true, seed: undefined };
  if (typeof value !== 'number') return { ok: false, type: 'int_type', msg: 'Input should be a valid integer' };
  if (raw !== undefined && INTEGER_LITERAL.test(raw)) return { ok: true, seed: raw === '-0' ? '0' : raw };
  if (!Number.isInteger(value)) {
    return { ok: false, type: 'int_from_float', msg: 'Input should be a valid integer, got a number with a fractional part' };
  }
  return { ok: true, seed: BigInt(value).toString() };
}

/** A random seed in [0, 2^63), so omitted seeds regularly exceed 2^53 as fal's do. */
export function randomSeed(random: () => number): string {
  const high = BigInt(Math.floor(random() * 2 ** 31));
  const low = BigInt(Math.floor(random() * 2 ** 32));
  return ((high << 32n) | low).toString();
}

function skipSpace(text: string, from: number): number {
  let i = from;
  while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++;
  return i;
}

/** Index just past the string literal starting at `from` (which is a `"`). */
function stringEnd(text: string, from: number): number {
  let i = from + 1;
  while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
  return i + 1;
}

/** Index just past the JSON value starting at `from`. */
function valueEndAt(text: string, from: number): number {
  const first = text[from];
  if (first === '"') return stringEnd(text, from);
  if (first === '{' || first === '[') {
    let depth = 0;
    let i = from;
    while (i < text.length) {
      const c = text[i];
      if (c === '"') {
        i = stringEnd(text, i);
        continue;
      }
      if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') depth--;
      i++;
      if (depth === 0) return i;
    }
    return i;
  }
  let i = from;
  while (i < text.length && !',}] \n\r\t'.includes(text[i] ?? ',')) i++;
  return i;
}
