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
  while (i <= last && fourDigitWord(words.getUint32(i, true))) i += 4;
  while (isDigit(b[i])) i++;
  return i;
}

/** Whether a word read from the bytes is four ASCII digits (see skipDigits). */
function fourDigitWord(word: number): boolean {
  return (((word - 0x30303030) | (word + 0x46464646)) & 0x80808080) === 0;
}

/**
 * The index of the `,` or `]` after a list element that ends at `i`, whitespace allowed between; -1 when
 * anything else follows. Compact JSON (the usual answer) has the comma right after the number: no call for
 * whitespace then.
 */
function separatorAfter(b: Uint8Array, i: number): number {
  let c = b[i];
  if (c !== COMMA && c !== CLOSE_BRACKET) {
    i = skipWhitespace(b, i);
    c = b[i];
  }
  return c === COMMA || c === CLOSE_BRACKET ? i : -1;
}

/** The index of the element after the comma at `i`. */
function elementAfterComma(b: Uint8Array, i: number): number {
  const c = b[i + 1];
  return c === SPACE || c === LF || c === CR || c === TAB ? skipWhitespace(b, i + 1) : i + 1;
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
    i = separatorAfter(b, i);
    if (i < 0) return undefined;
    if (b[i] === CLOSE_BRACKET) return { end: i, count };
    i = elementAfterComma(b, i);
  }
}

/** Exact powers of ten: a double holds 10^0…10^22 exactly. */
const POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));
/**
 * Digits are read into an integer while it stays exact: below these, four more digits (or one) still keep
 * it under 2^53 (≈ 9.007e15). Once past the second, the integer holds ≥ 15 significant digits and later ones
 * only move the exponent: the truncation is then < 1e-14 relative.
 */
const ROOM_FOR_FOUR = 9e11;
const ROOM_FOR_ONE = 9e14;
/**
 * Bound on the relative error of the approximation below (truncation: < 1e-14; at most two roundings:
 * 2^-52), with a wide margin.
 */
const RELATIVE_ERROR = 1e-13;

/** The exact, slower conversion: for the rare number the fast path cannot decide. */
function slowFloat32(b: Uint8Array, start: number, end: number): number {
  return Math.fround(Number(Buffer.from(b.buffer, b.byteOffset + start, end - start).toString("latin1")));
}

/** mantissa × 10^exponent, rounded at most twice, or NaN when the exponent is out of that reach. */
function scaled(mantissa: number, exponent: number): number {
  if (exponent >= 0) return exponent <= 22 ? mantissa * (POW10[exponent] as number) : NaN;
  if (exponent >= -22) return mantissa / (POW10[-exponent] as number);
  // 0.0000123… has ~22 fraction digits: common enough in embeddings to be worth a second division.
  return exponent >= -44 ? mantissa / 1e22 / (POW10[-exponent - 22] as number) : NaN;
}

/** The value of four ASCII digits in a little-endian word (first digit lowest), by pairs then by the pair of pairs. */
function fourDigits(word: number): number {
  let v = word - 0x30303030;
  v = (v * 10 + (v >>> 8)) & 0x00ff00ff;
  return (v * 100 + (v >>> 16)) & 0xffff;
}

/** Little-endian float32s appended list by list; grows by doubling. */
export class Float32Buffer {
  bytes: Buffer;
  view: DataView;
  /** Bytes written. */
  length = 0;

  constructor(capacity: number) {
    this.bytes = Buffer.allocUnsafe(Math.max(64, capacity));
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.length);
  }

  grow(): void {
    const bytes = Buffer.allocUnsafe(this.bytes.length * 2);
    this.bytes.copy(bytes, 0, 0, this.length);
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  }
}

/**
 * scanNumberList that also appends each number to `out` as a float32, exactly `Math.fround(Number(text))`
 * (what writeFloatLE of the parsed double gives): same grammar, same answer, one pass over the bytes.
 *
 * Each number's leading digits are read into an exact integer, four at a time where they run on (the word
 * test of skipDigits), and the approximation is kept only when everything within its error bound rounds to
 * the same float32; else the exact parse. A float32 printed with 17 digits almost never lands near a rounding
 * boundary, so the slow path is for crafted input. This is most of the CPU of a base64 answer: converting
 * while checking, rather than checking then converting, and four digits at a time took ~40% off it.
 */
export function scanFloat32List(b: Uint8Array, start: number, out: Float32Buffer): { end: number; count: number } | undefined {
  const words = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const lastWord = b.length - 4;
  let i = skipWhitespace(b, start);
  if (b[i] === CLOSE_BRACKET) return { end: i, count: 0 };
  let count = 0;
  for (;;) {
    const numberStart = i;
    let c = b[i];
    const negative = c === MINUS;
    if (negative) c = b[++i];
    let mantissa = 0;
    let exponent = 0;
    if (c === ZERO) c = b[++i];
    else {
      const digitsStart = i;
      while (mantissa < ROOM_FOR_FOUR && i <= lastWord) {
        const word = words.getUint32(i, true);
        if (!fourDigitWord(word)) break;
        mantissa = mantissa * 10000 + fourDigits(word);
        i += 4;
      }
      c = b[i];
      while (c !== undefined && c >= ZERO && c <= NINE) {
        if (mantissa < ROOM_FOR_ONE) mantissa = mantissa * 10 + (c - ZERO);
        else exponent++;
        c = b[++i];
      }
      if (i === digitsStart || i - digitsStart > MAX_INT_DIGITS) return undefined;
    }
    if (c === DOT) {
      const digitsStart = ++i;
      while (mantissa < ROOM_FOR_FOUR && i <= lastWord) {
        const word = words.getUint32(i, true);
        if (!fourDigitWord(word)) break;
        mantissa = mantissa * 10000 + fourDigits(word);
        exponent -= 4;
        i += 4;
      }
      c = b[i];
      while (c !== undefined && c >= ZERO && c <= NINE) {
        if (mantissa < ROOM_FOR_ONE) {
          mantissa = mantissa * 10 + (c - ZERO);
          exponent--;
        }
        c = b[++i];
      }
      if (i === digitsStart) return undefined;
    }
    if (c === LOWER_E || c === UPPER_E) {
      c = b[++i];
      const sign = c === MINUS ? -1 : 1;
      if (c === MINUS || c === PLUS) c = b[++i];
      if (!isDigit(c)) return undefined;
      let e = 0;
      while (c !== undefined && c >= ZERO && c <= NINE) {
        e = e * 10 + (c - ZERO);
        if (e > MAX_EXPONENT) return undefined;
        c = b[++i];
      }
      exponent += sign * e;
    }
    let f: number;
    if (mantissa === 0) f = negative ? -0 : 0;
    else {
      const magnitude = scaled(mantissa, exponent);
      f = Math.fround(magnitude);
      // Only the rounding boundary on the side the approximation leans to can be crossed. NaN (out of
      // reach) fails the comparison too.
      if (Math.fround(magnitude > f ? magnitude * (1 + RELATIVE_ERROR) : magnitude * (1 - RELATIVE_ERROR)) !== f) {
        f = Math.abs(slowFloat32(b, numberStart, i));
      }
      if (negative) f = -f;
    }
    if (out.length + 4 > out.bytes.length) out.grow();
    out.view.setFloat32(out.length, f, true);
    out.length += 4;
    count++;
    i = separatorAfter(b, i);
    if (i < 0) return undefined;
    if (b[i] === CLOSE_BRACKET) return { end: i, count };
    i = elementAfterComma(b, i);
  }
}
