// Byte classes of RFC 9110/9112 as 256-entry lookup tables: one array index per byte checked.

function table(accept: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = accept(c) ? 1 : 0;
  return t;
}

const DIGIT = (c: number): boolean => c >= 0x30 && c <= 0x39;
const ALPHA = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

/** tchar (RFC 9110 §5.6.2): the bytes of methods and field names. */
export const TOKEN = table((c) => DIGIT(c) || ALPHA(c) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c)));

/**
 * field-vchar / obs-text plus SP and HTAB (RFC 9110 §5.5): what a field value may hold.
 * Every other control byte (NUL, bare CR, LF, DEL) makes the message invalid.
 */
export const FIELD_VALUE = table((c) => c === 0x09 || (c >= 0x20 && c !== 0x7f));

/**
 * Bytes accepted in a request-target: visible ASCII. RFC 3986 is narrower, but deployed
 * clients send `"`, `|`, `{` and the like unencoded, and every such byte is harmless here
 * because the target is percent-decoded and checked again before it names a file.
 * Controls, SP and non-ASCII bytes are rejected.
 */
export const TARGET = table((c) => c > 0x20 && c < 0x7f);

/** Host header bytes (RFC 3986 reg-name / IP-literal / port): no "/", "@", "?", "#" or space. */
export const HOST = table((c) => DIGIT(c) || ALPHA(c) || "-._~!$&'()*+,;=:[]%".includes(String.fromCharCode(c)));

/** Value of a hex digit, or -1 (indexed by a byte). */
export const HEX = new Int8Array(256).fill(-1);

/** Value of the hex digit with char code `c`, or -1 (for any c, not only bytes). */
export function hexValue(c: number): number {
  return c > 0xff ? -1 : (HEX[c] ?? -1);
}
for (let c = 0; c < 10; c++) HEX[0x30 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[0x41 + c] = 10 + c;
  HEX[0x61 + c] = 10 + c;
}

export const CR = 0x0d;
export const LF = 0x0a;
export const SP = 0x20;
export const HTAB = 0x09;
export const COLON = 0x3a;
