/**
 * JSON arrays of numbers read straight from the bytes of an upstream body. An embedding answer is almost
 * all floats (a 2,048 × 1,024 batch is ~43 MB of them): parsing them into JS numbers and printing them again
 * cost ~100 µs per 768-float vector each way, the largest part of the proxy's CPU per embedding request.
 */

const SPACE = 32;
const TAB = 9;
const LF = 10;
const CR = 13;
const COMMA = 44;
const MINUS = 45;
const PLUS = 43;
const DOT = 46;
const ZERO = 48;
const NINE = 57;
const LOWER_E = 101;
const UPPER_E = 69;
const CLOSE_BRACKET = 93;

/**
 * Beyond these a number might overflow or underflow a double, where JSON.parse and a client parsing the
 * copied text could disagree (Infinity, 0): such an array is left to JSON.parse.
 */
const MAX_INT_DIGITS = 20;
const MAX_EXPONENT = 280;

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= ZERO && c <= NINE;
}

export function skipWhitespace(b: Uint8Array, i: number): number {
  for (;;) {
    const c = b[i];
    if (c !== SPACE && c !== LF && c !== CR && c !== TAB) return i;
    i++;
  }
}

/**
 * Index of the first byte at or after `i` that is not a digit. Digit runs are most of an embedding's bytes
 * (17 significant digits per float), so they are checked four bytes at a time: a word is all ASCII digits
 * when no byte goes below "0" on subtracting 0x30 nor past 0x7f on adding 0x46 (0x39 + 0x46 = 0x7f). This
 * made scanNumberList ~2× faster; it was the proxy's largest function in an S2 profile (12% of its CPU).
 */
function skipDigits(b: Uint8Array, words: DataView, i: number): number {
  const last = b.length - 4;
  while (i <= last) {
    const word = words.getUint32(i, true);
    if (((word - 0x30303030) | (word + 0x46464646)) & 0x80808080) break;
    i += 4;
  }
  while (isDigit(b[i])) i++;
  return i;
}

/**
 * Checks the JSON numbers of an array whose `[` is just before `start`. Resolves with the index of its `]`
 * and how many numbers it holds, or undefined when it is anything but a well-formed list of numbers.
 */
export function scanNumberList(b: Uint8Array, start: number): { end: number; count: number } | undefined {
  const words = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let i = skipWhitespace(b, start);
  if (b[i] === CLOSE_BRACKET) return { end: i, count: 0 };
  let count = 0;
  for (;;) {
    if (b[i] === MINUS) i++;
    if (b[i] === ZERO) i++;
    else {
      const first = i;
      i = skipDigits(b, words, i);
      if (i === first || i - first > MAX_INT_DIGITS) return undefined;
    }
    if (b[i] === DOT) {
      i++;
      if (!isDigit(b[i])) return undefined;
      i = skipDigits(b, words, i);
    }
    if (b[i] === LOWER_E || b[i] === UPPER_E) {
      i++;
      if (b[i] === PLUS || b[i] === MINUS) i++;
      let exponent = 0;
      if (!isDigit(b[i])) return undefined;
      while (isDigit(b[i])) {
        exponent = exponent * 10 + ((b[i] as number) - ZERO);
        if (exponent > MAX_EXPONENT) return undefined;
        i++;
      }
    }
    count++;
    // Compact JSON (the usual answer) has the comma right after the number: no call for whitespace then.
    let c = b[i];
    if (c !== COMMA && c !== CLOSE_BRACKET) {
      i = skipWhitespace(b, i);
      c = b[i];
    }
    if (c === CLOSE_BRACKET) return { end: i, count };
    if (c !== COMMA) return undefined;
    i++;
    c = b[i];
    if (c === SPACE || c === LF || c === CR || c === TAB) i = skipWhitespace(b, i);
  }
}

/** Exact powers of ten: a double holds 10^0…10^22 exactly. */
const POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));
/** Significant digits read into an integer: 10^15 < 2^53, so the integer is exact. */
const KEPT_DIGITS = 15;
/**
 * Bound on the relative error of the approximation below (digits past the 15th: < 1e-14; one rounding:
 * 2^-53), with a wide margin.
 */
const RELATIVE_ERROR = 1e-13;

/** The exact, slower conversion: for the rare number the fast path cannot decide. */
function slowFloat32(b: Uint8Array, start: number, end: number): number {
  return Math.fround(Number(Buffer.from(b.buffer, b.byteOffset + start, end - start).toString("latin1")));
}

/**
 * Writes the numbers of a list checked by scanNumberList (b[start, end)) as little-endian float32s, each
 * exactly `Math.fround(Number(text))`, as writeFloatLE of the parsed double gave before.
 *
 * One pass: each number's first 15 significant digits are read into an integer (exact: 10^15 < 2^53) while
 * its end is found, and the approximation is kept only when everything within its error bound rounds to the
 * same float32; else the exact parse. A float32 printed with 17 digits almost never lands near a rounding
 * boundary, so the slow path is for crafted input. This is ~4× faster than finding each number's end first
 * and then parsing it, and it is most of the cost of a base64 answer.
 */
export function writeFloat32List(b: Uint8Array, start: number, end: number, out: DataView, offset: number): void {
  let i = start;
  let at = offset;
  while (i < end) {
    let c = b[i] as number;
    if (c === COMMA || c === SPACE || c === LF || c === CR || c === TAB) {
      i++;
      continue;
    }
    const numberStart = i;
    const negative = c === MINUS;
    if (negative) c = b[++i] as number;
    let mantissa = 0;
    let digits = 0;
    let exponent = 0;
    while (c >= ZERO && c <= NINE) {
      if (digits < KEPT_DIGITS) {
        mantissa = mantissa * 10 + (c - ZERO);
        if (mantissa !== 0) digits++;
      } else exponent++;
      c = b[++i] as number;
    }
    if (c === DOT) {
      c = b[++i] as number;
      while (c >= ZERO && c <= NINE) {
        if (digits < KEPT_DIGITS) {
          mantissa = mantissa * 10 + (c - ZERO);
          exponent--;
          if (mantissa !== 0) digits++;
        }
        c = b[++i] as number;
      }
    }
    if (c === LOWER_E || c === UPPER_E) {
      c = b[++i] as number;
      const sign = c === MINUS ? -1 : 1;
      if (c === MINUS || c === PLUS) c = b[++i] as number;
      let e = 0;
      while (c >= ZERO && c <= NINE) {
        e = e * 10 + (c - ZERO);
        c = b[++i] as number;
      }
      exponent += sign * e;
    }
    let f: number;
    if (mantissa === 0) f = negative ? -0 : 0;
    else if (exponent >= -22 && exponent <= 22) {
      const magnitude = exponent >= 0 ? mantissa * (POW10[exponent] as number) : mantissa / (POW10[-exponent] as number);
      const approx = negative ? -magnitude : magnitude;
      f = Math.fround(approx);
      if (Math.fround(approx * (1 + RELATIVE_ERROR)) !== f || Math.fround(approx * (1 - RELATIVE_ERROR)) !== f) {
        f = slowFloat32(b, numberStart, i);
      }
    } else f = slowFloat32(b, numberStart, i);
    out.setFloat32(at, f, true);
    at += 4;
  }
}
