// Connection behaviour: keep-alive, pipelining in order, HTTP/1.0, bodies skipped exactly, any packet split.

import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { exchange } from '../helpers/raw';
import { startInProcess, type InProcess } from '../helpers/in-process';
import { makeSite } from '../helpers/server';

let server: InProcess;
beforeAll(async () => {
  server = await startInProcess({ staticDir: makeSite({ 'index.html': 'home', 'a.txt': 'AAA', 'b.txt': 'BB' }) });
});
afterAll(async () => {
  await server.stop();
});

const GET = (path: string, ...fields: string[]): string => `GET ${path} HTTP/1.1\r\nHost: t\r\n${fields.map((f) => `${f}\r\n`).join('')}\r\n`;

describe('connections', () => {
  it('keeps an HTTP/1.1 connection open for the next request', async () => {
    const ex = await exchange(server.port, [GET('/a.txt'), GET('/b.txt')], { responses: 2, gapMs: 50 });
    expect(ex.responses.map((r) => r.body.toString())).toEqual(['AAA', 'BB']);
    expect(ex.responses[0]!.headers.connection).toBeUndefined();
    expect(ex.closed).toBe(false);
  });

  it('answers pipelined requests in order, HEAD among them', async () => {
    const batch = GET('/a.txt') + 'HEAD /b.txt HTTP/1.1\r\nHost: t\r\n\r\n' + GET('/missing') + GET('/b.txt', 'Connection: close');
    const ex = await exchange(server.port, batch, { headOnly: [1] });
    expect(ex.responses.map((r) => `${r.status} ${r.body.toString()}`)).toEqual(['200 AAA', '200 ', `404 ${ex.responses[2]!.body.toString()}`, '200 BB']);
    expect(ex.responses[1]!.headers['content-length']).toBe('2');
    expect(ex.responses[3]!.headers.connection).toBe('close');
    expect(ex.rest.length).toBe(0);
    expect(ex.closed).toBe(true);
  });

  it('closes after Connection: close', async () => {
    const ex = await exchange(server.port, GET('/a.txt', 'Connection: close') + GET('/b.txt'));
    expect(ex.responses).toHaveLength(1);
    expect(ex.responses[0]!.headers.connection).toBe('close');
    expect(ex.closed).toBe(true);
  });

  it('closes an HTTP/1.0 connection by default', async () => {
    const ex = await exchange(server.port, 'GET /a.txt HTTP/1.0\r\n\r\n');
    expect(ex.responses).toHaveLength(1);
    expect(ex.responses[0]!.statusLine).toBe('HTTP/1.1 200 OK');
    expect(ex.responses[0]!.headers.connection).toBe('close');
    expect(ex.closed).toBe(true);
  });

  it('keeps an HTTP/1.0 connection open when asked, saying so', async () => {
    const req = 'GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n';
    const ex = await exchange(server.port, [req, req], { responses: 2, gapMs: 50 });
    expect(ex.responses).toHaveLength(2);
    expect(ex.responses[0]!.headers.connection).toBe('keep-alive');
    expect(ex.closed).toBe(false);
  });

  it('serves a request sent one byte at a time', async () => {
    const bytes = [...GET('/a.txt', 'Connection: close')];
    const ex = await exchange(server.port, bytes, { gapMs: 1 });
    expect(ex.responses.map((r) => r.body.toString())).toEqual(['AAA']);
  });

  it('serves two pipelined requests split at every byte', async () => {
    const both = GET('/a.txt') + GET('/b.txt', 'Connection: close');
    for (let split = 1; split < both.length; split += 7) {
      const ex = await exchange(server.port, [both.slice(0, split), both.slice(split)], { gapMs: 5 });
      expect(ex.responses.map((r) => r.body.toString())).toEqual(['AAA', 'BB']);
    }
  });

  it('skips a Content-Length body exactly and serves the next request', async () => {
    const withBody = 'GET /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 25\r\n\r\nGET /b.txt HTTP/1.1\r\n\r\nxx';
    const ex = await exchange(server.port, withBody + GET('/b.txt', 'Connection: close'));
    expect(ex.responses.map((r) => r.body.toString())).toEqual(['AAA', 'BB']);
  });

  it('skips a chunked body exactly and serves the next request', async () => {
    const chunked = 'GET /a.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nGET /\r\n3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n';
    const ex = await exchange(server.port, [chunked.slice(0, 60), chunked.slice(60) + GET('/b.txt', 'Connection: close')], { gapMs: 20 });
    expect(ex.responses.map((r) => r.body.toString())).toEqual(['AAA', 'BB']);
  });

  it('answers 100 Continue before reading a body the client holds back', async () => {
    const head = 'GET /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n';
    const ex = await exchange(server.port, [head, 'xyz'], { responses: 1, gapMs: 200 });
    expect(ex.responses[0]!.body.toString()).toBe('AAA');
  });

  it('answers 405 with Allow for a known method, skipping its body and keeping the connection', async () => {
    const post = 'POST /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello';
    const ex = await exchange(server.port, post + GET('/b.txt'), { responses: 2 });
    expect(ex.responses[0]!.statusLine).toBe('HTTP/1.1 405 Method Not Allowed');
    expect(ex.responses[0]!.headers.allow).toBe('GET, HEAD');
    expect(ex.responses[1]!.body.toString()).toBe('BB');
  });

  it('answers 501 for an unknown method and keeps the connection', async () => {
    const ex = await exchange(server.port, 'BREW /pot HTTP/1.1\r\nHost: t\r\n\r\n' + GET('/b.txt'), { responses: 2 });
    expect(ex.responses[0]!.statusLine).toBe('HTTP/1.1 501 Not Implemented');
    expect(ex.responses[1]!.status).toBe(200);
  });

  it('closes when the client half-closes after its requests, answering them first', async () => {
    const ex = await new Promise<Buffer>((resolve) => {
      const s = net.connect(server.port, '127.0.0.1', () => s.end(GET('/a.txt') + GET('/b.txt')));
      const got: Buffer[] = [];
      s.on('error', () => undefined);
      s.on('data', (d: Buffer) => got.push(d));
      s.on('close', () => resolve(Buffer.concat(got)));
    });
    const text = ex.toString();
    expect(text.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
    expect(text.endsWith('BB')).toBe(true);
  });
});
