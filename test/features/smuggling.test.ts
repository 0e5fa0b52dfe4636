// Request smuggling: every ambiguous framing is refused with 400 and a close, and the request
// hidden behind it is never answered as a second request.

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { exchange } from '../helpers/raw';
import { startInProcess, type InProcess } from '../helpers/in-process';
import { makeSite } from '../helpers/server';

let server: InProcess;
beforeAll(async () => {
  server = await startInProcess({ staticDir: makeSite({ 'index.html': 'home', admin: 'ADMIN' }), env: { ACCESS_LOG: 'off' } });
});
afterAll(async () => {
  await server.stop();
});

const SMUGGLED = 'GET /admin HTTP/1.1\r\nHost: t\r\n\r\n';
const framings: Array<[string, string]> = [
  ['CL then TE', 'Content-Length: 6\r\nTransfer-Encoding: chunked'],
  ['TE then CL', 'Transfer-Encoding: chunked\r\nContent-Length: 6'],
  ['two CL, different', 'Content-Length: 6\r\nContent-Length: 0'],
  ['two CL, the same', 'Content-Length: 0\r\nContent-Length: 0'],
  ['CL as a list', 'Content-Length: 0, 6'],
  ['CL with a sign', 'Content-Length: +0'],
  ['CL in hex', 'Content-Length: 0x0'],
  ['CL with trailing junk', 'Content-Length: 0abc'],
  ['CL with an inner space', 'Content-Length: 0 6'],
  ['CL with space before the colon', 'Content-Length : 6'],
  ['TE xchunked', 'Transfer-Encoding: xchunked'],
  ['TE chunked, identity', 'Transfer-Encoding: chunked, identity'],
  ['TE identity', 'Transfer-Encoding: identity'],
  ['TE upper case', 'Transfer-Encoding: CHUNKED'],
  ['TE mixed case', 'Transfer-Encoding: cHuNkEd'],
  ['TE with a vertical tab', 'Transfer-Encoding: chunked\x0b'],
  ['TE with a form feed', 'Transfer-Encoding:\x0cchunked'],
  ['TE quoted', 'Transfer-Encoding: "chunked"'],
  ['TE with a parameter', 'Transfer-Encoding: chunked;q=1'],
  ['TE with space before the colon', 'Transfer-Encoding : chunked'],
  ['TE folded', 'Transfer-Encoding:\r\n chunked'],
  ['TE twice, chunked first', 'Transfer-Encoding: chunked\r\nTransfer-Encoding: x'],
  ['TE name with a tab', 'Transfer-Encoding\t: chunked'],
  ['TE line with a bare LF', 'X: y\nTransfer-Encoding: chunked'],
  ['header line with a bare CR', 'X: y\rTransfer-Encoding: chunked'],
];

describe('ambiguous framing', () => {
  it.each(framings)('%s: one 400, closed, the hidden request never answered', async (_name, fields) => {
    const body = `0\r\n\r\n${SMUGGLED}`;
    const ex = await exchange(server.port, `GET / HTTP/1.1\r\nHost: t\r\n${fields}\r\n\r\n${body}`, { idleMs: 800 });
    expect(ex.responses.map((r) => r.statusLine)).toEqual(['HTTP/1.1 400 Bad Request']);
    expect(ex.responses[0]!.headers.connection).toBe('close');
    expect(ex.closed).toBe(true);
    expect(ex.responses.some((r) => r.body.toString() === 'ADMIN')).toBe(false);
  });

  it('refuses a Transfer-Encoding on HTTP/1.0', async () => {
    const ex = await exchange(server.port, `GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, { idleMs: 800 });
    expect(ex.responses.map((r) => r.status)).toEqual([400]);
    expect(ex.closed).toBe(true);
  });

  it('reads a well-formed chunked body exactly: the next request is the real next one', async () => {
    const ex = await exchange(server.port, `GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n${SMUGGLED}`, { responses: 2 });
    expect(ex.responses.map((r) => r.body.toString())).toEqual(['home', 'ADMIN']);
  });
});
