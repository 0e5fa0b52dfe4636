// Incremental decoder of the chunked transfer coding (RFC 9112 §7.1), used to skip bodies exactly.
//
// PWS never uses a request body, but it must know precisely where one ends so the next request
// on the connection starts at the right byte. The decoder discards data; it only tracks framing.

import { COLON, CR, FIELD_VALUE, hexValue, LF, TOKEN } from './chars';
import { E } from './errors';

const SIZE = 0;
const EXT_NAME = 1;
const EXT_VALUE_START = 2;
const EXT_TOKEN = 3;
const EXT_QUOTED = 4;
const EXT_QUOTED_ESCAPE = 5;
const EXT_AFTER_QUOTED = 6;
const SIZE_LF = 7;
const DATA = 8;
const DATA_CR = 9;
const DATA_LF = 10;
const TRAILER_START = 11;
const TRAILER_NAME = 12;
const TRAILER_VALUE = 13;
const TRAILER_LF = 14;
const FINAL_LF = 15;
const DONE = 16;

/** 16 hex digits already exceed any body we would accept; more is an overflow attempt. */
const MAX_SIZE_DIGITS = 16;
/**
 * Longest chunk line (size and extensions, before CRLF). PWS ignores extensions, and no client
 * needs kilobytes of them; without a cap, one chunk line could be megabytes of bytes to scan.
 */
export const MAX_CHUNK_LINE_BYTES = 4096;

export class ChunkedDecoder {
  private state = SIZE;
  private size = 0;
  private digits = 0;
  private remaining = 0;
  /** Bytes of the body consumed by earlier calls: data, framing, extensions and trailers alike. */
  private consumed = 0;
  private lineBytes = 0;
  private trailerBytes = 0;

  constructor(
    private readonly maxBodyBytes: number,
    private readonly maxTrailerBytes: number,
  ) {}

  get done(): boolean {
    return this.state === DONE;
  }

  /**
   * Consumes bytes of buf[start, end). Returns how many belong to the body (all of them unless
   * the body ended inside the range, after which `done` is true), or an error code:
   * E.CHUNK_INVALID for bad syntax, E.CHUNK_LINE_TOO_LONG for a chunk line over
   * MAX_CHUNK_LINE_BYTES, E.BODY_TOO_LARGE once the body's bytes — every byte of it, framing and
   * extensions included — pass maxBodyBytes (or a chunk size says they will).
   */
  feed(buf: Buffer, start: number, end: number): number {
    let p = start;
    while (p < end && this.state !== DONE) {
      const c = buf[p]!;
      if (this.state < SIZE_LF && c !== CR && ++this.lineBytes > MAX_CHUNK_LINE_BYTES) return E.CHUNK_LINE_TOO_LONG;
      switch (this.state) {
        case SIZE: {
          const h = hexValue(c);
          if (h >= 0) {
            if (++this.digits > MAX_SIZE_DIGITS) return E.CHUNK_INVALID;
            this.size = this.size * 16 + h;
          } else if (this.digits === 0) {
            return E.CHUNK_INVALID;
          } else if (c === 0x3b) {
            this.state = EXT_NAME;
            this.digits = 0;
          } else if (c === CR) {
            this.state = SIZE_LF;
          } else {
            return E.CHUNK_INVALID;
          }
          p++;
          break;
        }
        // chunk-ext = *( ";" token [ "=" ( token / quoted-string ) ] ), no whitespace (strict).
        case EXT_NAME:
          if (TOKEN[c] === 1) this.digits++;
          else if (this.digits > 0 && c === 0x3d) this.state = EXT_VALUE_START;
          else if (this.digits > 0 && c === 0x3b) this.digits = 0;
          else if (this.digits > 0 && c === CR) this.state = SIZE_LF;
          else return E.CHUNK_INVALID;
          p++;
          break;
        case EXT_VALUE_START:
          if (c === 0x22) this.state = EXT_QUOTED;
          else if (TOKEN[c] === 1) this.state = EXT_TOKEN;
          else return E.CHUNK_INVALID;
          p++;
          break;
        case EXT_TOKEN:
          if (TOKEN[c] === 1) p++;
          else this.state = EXT_AFTER_QUOTED;
          break;
        case EXT_QUOTED:
          if (c === 0x22) this.state = EXT_AFTER_QUOTED;
          else if (c === 0x5c) this.state = EXT_QUOTED_ESCAPE;
          else if (c === CR || c === LF || FIELD_VALUE[c] !== 1) return E.CHUNK_INVALID;
          p++;
          break;
        case EXT_QUOTED_ESCAPE:
          if (FIELD_VALUE[c] !== 1) return E.CHUNK_INVALID;
          this.state = EXT_QUOTED;
          p++;
          break;
        case EXT_AFTER_QUOTED:
          if (c === 0x3b) {
            this.state = EXT_NAME;
            this.digits = 0;
          } else if (c === CR) {
            this.state = SIZE_LF;
          } else {
            return E.CHUNK_INVALID;
          }
          p++;
          break;
        case SIZE_LF:
          if (c !== LF) return E.CHUNK_INVALID;
          p++;
          this.digits = 0;
          this.lineBytes = 0;
          if (this.size === 0) {
            this.state = TRAILER_START;
          } else {
            if (this.consumed + (p - start) + this.size > this.maxBodyBytes) return E.BODY_TOO_LARGE;
            this.remaining = this.size;
            this.size = 0;
            this.state = DATA;
          }
          break;
        case DATA: {
          const take = Math.min(this.remaining, end - p);
          p += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = DATA_CR;
          break;
        }
        case DATA_CR:
          if (c !== CR) return E.CHUNK_INVALID;
          this.state = DATA_LF;
          p++;
          break;
        case DATA_LF:
          if (c !== LF) return E.CHUNK_INVALID;
          this.state = SIZE;
          p++;
          break;
        // trailer-section = *( field-line CRLF ) CRLF
        case TRAILER_START:
          if (c === CR) this.state = FINAL_LF;
          else if (TOKEN[c] === 1) this.state = TRAILER_NAME;
          else return E.CHUNK_INVALID;
          p++;
          break;
        case TRAILER_NAME:
          if (c === COLON) this.state = TRAILER_VALUE;
          else if (TOKEN[c] !== 1) return E.CHUNK_INVALID;
          p++;
          break;
        case TRAILER_VALUE:
          if (c === CR) this.state = TRAILER_LF;
          else if (FIELD_VALUE[c] !== 1) return E.CHUNK_INVALID;
          p++;
          break;
        case TRAILER_LF:
          if (c !== LF) return E.CHUNK_INVALID;
          this.state = TRAILER_START;
          p++;
          break;
        case FINAL_LF:
          if (c !== LF) return E.CHUNK_INVALID;
          this.state = DONE;
          p++;
          break;
      }
      if (this.state >= TRAILER_START && this.state !== DONE) {
        if (++this.trailerBytes > this.maxTrailerBytes) return E.HEADERS_TOO_LARGE;
      }
    }
    this.consumed += p - start;
    if (this.consumed > this.maxBodyBytes) return E.BODY_TOO_LARGE;
    return p - start;
  }
}
