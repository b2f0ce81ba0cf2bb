/**
 * Seeded generators of hostile JSON text. Values are built as JSON text, not as JS objects: that is how a
 * client can send what JSON.stringify never writes (1e999, duplicate keys, `__proto__` as a plain key,
 * nesting deep enough to overflow a recursive serialiser).
 */
import { hashString, mulberry32 } from "../support/emulator/random.js";

export class Rng {
  private readonly next: () => number;

  constructor(seed: number) {
    this.next = mulberry32(seed);
  }

  /** The generator of one case: the same seed and index give the same case, whatever ran before it. */
  static forCase(seed: number, index: number): Rng {
    return new Rng(hashString(`${seed}:${index}`));
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)] as T;
  }

  bytes(length: number): Buffer {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i++) out[i] = this.int(0, 255);
    return out;
  }

  /** Text drawn from `alphabet`, picked per character. */
  text(length: number, alphabet: readonly string[]): string {
    let out = "";
    for (let i = 0; i < length; i++) out += this.pick(alphabet);
    return out;
  }
}

/** Keys that would steer where xgate calls upstream, or with what credentials (refused at any depth). */
export const CREDENTIAL_KEYS = ["api_base", "base_url", "api_key", "API_KEY", "organization", "extra_headers", "aws_secret_access_key", "azure_ad_token"];
export const PROTOTYPE_KEYS = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "valueOf"];

const NUMBERS = ["0", "-0", "1", "-1", "2", "10", "11", "1.5", "-2.5", "1e308", "-1e308", "1e999", "-1e999", "9007199254740993", "123456789012345678901234567890", "1e-320", "0.1e1", "4294967296", "-2147483649"];
const ODD_STRINGS = ["", " ", "NaN", "Infinity", "-Infinity", "1e999", "0x10", " 1 ", "null", "true", "undefined", "[object Object]", "{}", "b64_json", "url", "float", "base64", "1024x1024", "64*64", "0x0", "-8x-8", "7x7", "99999x99999"];
const UNICODE = ["héllo wörld", "☃", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "\u0000", "\u202eRTL", "\ud800", "\udfff", "\ufeff", "日本語のテキスト", "🙂👍🏽‍", "\r\n\t", "\\", '"', "</script>", "' OR 1=1 --", "${jndi:ldap://x}", "../../etc/passwd"];
const ALPHABET = [..."abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789.,-_", "é", "☃", "🙂", "\u0000", "\n", '"', "\\"];

export const json = (value: unknown): string => JSON.stringify(value);

export function object(entries: readonly (readonly [string, string])[]): string {
  return `{${entries.map(([key, value]) => `${json(key)}:${value}`).join(",")}}`;
}

export function array(items: readonly string[]): string {
  return `[${items.join(",")}]`;
}

/** Objects or arrays nested `depth` deep around `inner`. */
export function nested(rng: Rng, depth: number, inner = "1"): string {
  const key = rng.pick(["a", "extra_body", "__proto__", "x"]);
  return rng.chance(0.5) ? `${`{${json(key)}:`.repeat(depth)}${inner}${"}".repeat(depth)}` : `${"[".repeat(depth)}${inner}${"]".repeat(depth)}`;
}

export function oddString(rng: Rng): string {
  switch (rng.int(0, 4)) {
    case 0:
      return rng.pick(ODD_STRINGS);
    case 1:
      return rng.pick(UNICODE);
    case 2:
      return rng.text(rng.int(1, 40), ALPHABET);
    case 3:
      return rng.pick(UNICODE).repeat(rng.int(2, 500));
    default:
      return "x".repeat(rng.pick([1_000, 10_000, 100_000, 300_000]));
  }
}

/** Any JSON value, hostile more often than not; `depth` bounds how much structure it builds. */
export function anyValue(rng: Rng, depth = 3): string {
  const kind = rng.int(0, depth > 0 ? 9 : 5);
  switch (kind) {
    case 0:
      return "null";
    case 1:
      return rng.pick(["true", "false"]);
    case 2:
      return rng.pick(NUMBERS);
    case 3:
    case 4:
      return json(oddString(rng));
    case 5:
      return rng.pick(["[]", "{}", '[""]', "[null]", '{"":""}']);
    case 6:
    case 7:
      return array(Array.from({ length: rng.int(0, 6) }, () => anyValue(rng, depth - 1)));
    case 8:
      return object(Array.from({ length: rng.int(0, 5) }, () => [key(rng), anyValue(rng, depth - 1)] as const));
    default:
      return nested(rng, rng.pick([2, 31, 32, 33, 63, 64, 65, 66, 200, 5_000]), anyValue(rng, 0));
  }
}

/** An extra key: unknown, a prototype key, a credential, or one an operation knows. */
export function key(rng: Rng): string {
  switch (rng.int(0, 5)) {
    case 0:
      return rng.pick(PROTOTYPE_KEYS);
    case 1:
      return rng.pick(CREDENTIAL_KEYS);
    case 2:
      return rng.pick(["extra_body", "metadata", "kwargs", "request_id", "stream", "seed", "n", "model", "input", "prompt"]);
    case 3:
      return rng.pick(UNICODE);
    default:
      return rng.text(rng.int(1, 12), ALPHABET);
  }
}

/** A credential key hidden `depth` levels down, under keys that look harmless. */
export function smuggled(rng: Rng): string {
  const depth = rng.int(1, 40);
  let text = object([[rng.pick(CREDENTIAL_KEYS), json("http://evil.example")]]);
  for (let i = 0; i < depth; i++) {
    text = rng.chance(0.3) ? array([anyValue(rng, 0), text]) : object([[rng.pick(["extra_body", "metadata", "a", "__proto__", "constructor"]), text]]);
  }
  return text;
}
