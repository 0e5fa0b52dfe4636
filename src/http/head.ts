// Serialises a response head: status line, fields, blank line.

import { reason } from './status';

export type Fields = ReadonlyArray<readonly [string, string | number]>;

/**
 * Builds the head of a response as latin1 bytes. `fields` are written in order; callers pass
 * only values free of CR/LF (every value here is made by PWS, never copied from a request).
 */
export function responseHead(status: number, fields: Fields): Buffer {
  let s = `HTTP/1.1 ${status} ${reason(status)}\r\n`;
  for (const [name, value] of fields) s += `${name}: ${value}\r\n`;
  return Buffer.from(s + '\r\n', 'latin1');
}
