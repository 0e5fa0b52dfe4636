// A worker leaving service, as a client meets it: the lame duck (health 503, still serving, every
// response closing its connection) and the drain (no new connections; idle kept-alive ones closed
// at once; a connection that has not sent its request yet gets FIRST_REQUEST_GRACE_MS to send it).

import net from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../src/config';
import { FIRST_REQUEST_GRACE_MS, sweep } from '../../src/net/server';
import { startInProcess, type InProcess } from '../helpers/in-process';
import { parseResponses, type Response } from '../helpers/raw';
import { makeSite, waitFor } from '../helpers/server';

const root = makeSite({ 'index.html': 'home', 'a.txt': 'AAA' });
let server: InProcess | null = null;
afterEach(async () => {
  await server?.stop();
  server = null;
});

const start = async (): Promise<InProcess> => (server = await startInProcess({ staticDir: root, env: { HEALTH_PATH: '/healthz' } }));
const GET = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`;

/** A connection whose received bytes and end are observable. */
class Client {
  readonly socket: net.Socket;
  private received = Buffer.alloc(0);
  ended = false;
  readonly connected: Promise<void>;

  constructor(port: number) {
    this.socket = net.connect({ host: '127.0.0.1', port });
    this.connected = new Promise((resolve) => this.socket.once('connect', () => resolve()));
    this.socket.on('data', (d: Buffer) => (this.received = Buffer.concat([this.received, d])));
    this.socket.on('end', () => (this.ended = true));
    this.socket.on('close', () => (this.ended = true));
    this.socket.on('error', () => undefined);
  }

  get responses(): Response[] {
    return parseResponses(this.received).responses;
  }

  get bytes(): number {
    return this.received.length;
  }

  async request(path: string): Promise<Response> {
    const before = this.responses.length;
    this.socket.write(GET(path));
    await waitFor(`the response to ${path}`, () => this.responses.length > before);
    return this.responses[before]!;
  }
}

/** Whether a server is still accepting: a new connection gets an answer. */
async function fetchNew(port: number, path: string): Promise<Response> {
  const c = new Client(port);
  await c.connected;
  const r = await c.request(path);
  c.socket.destroy();
  return r;
}

describe('lame duck (retire)', () => {
  it('turns the health probe to 503 but keeps serving, new connections included', async () => {
    const s = await start();
    expect((await fetchNew(s.port, '/healthz')).status).toBe(200);
    s.pws.retire();
    const probe = await fetchNew(s.port, '/healthz');
    expect(probe.status).toBe(503);
    expect(probe.headers['cache-control']).toBe('no-store');
    const page = await fetchNew(s.port, '/a.txt');
    expect(page.status).toBe(200);
    expect(page.body.toString()).toBe('AAA');
  });

  it('answers a kept-alive connection with Connection: close, then closes it', async () => {
    const s = await start();
    const c = new Client(s.port);
    await c.connected;
    expect((await c.request('/a.txt')).headers.connection).toBeUndefined();
    s.pws.retire();
    const last = await c.request('/a.txt');
    expect(last.status).toBe(200);
    expect(last.headers.connection).toBe('close');
    await waitFor('the server to close the connection', () => c.ended);
  });
});

describe('drain', () => {
  it('answers a connection that had sent nothing yet when the drain began, with Connection: close', async () => {
    const s = await start();
    const c = new Client(s.port);
    await c.connected;
    await waitFor('the server to accept it', () => s.pws.ctx.connections.size === 1);
    s.pws.drain();
    const r = await c.request('/a.txt');
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('AAA');
    expect(r.headers.connection).toBe('close');
    await waitFor('the server to close it', () => c.ended);
  });

  it('closes an idle kept-alive connection at once, without a byte', async () => {
    const s = await start();
    const c = new Client(s.port);
    await c.connected;
    await c.request('/a.txt');
    const bytes = c.bytes;
    s.pws.drain();
    await waitFor('the server to close it', () => c.ended);
    expect(c.bytes).toBe(bytes);
  });

  it('lets a response in progress finish', async () => {
    const s = await start();
    const c = new Client(s.port);
    await c.connected;
    // Half a request: the head has started, so the connection is not idle.
    c.socket.write('GET /a.txt HTTP/1.1\r\n');
    await waitFor('the head to start', () => [...s.pws.ctx.connections].some((conn) => conn.headStarted));
    s.pws.drain();
    c.socket.write('Host: t\r\n\r\n');
    await waitFor('the response', () => c.responses.length === 1);
    expect(c.responses[0]!.status).toBe(200);
    expect(c.responses[0]!.headers.connection).toBe('close');
  });

  it('stops accepting new connections', async () => {
    const s = await start();
    s.pws.drain();
    const refused = await new Promise<boolean>((resolve) => {
      const c = net.connect({ host: '127.0.0.1', port: s.port });
      c.on('error', () => resolve(true));
      c.on('connect', () => {
        c.destroy();
        resolve(false);
      });
    });
    expect(refused).toBe(true);
  });

  it('closes a connection that stays silent once its grace has passed, not before', async () => {
    const s = await start();
    const c = new Client(s.port);
    await c.connected;
    await waitFor('the server to accept it', () => s.pws.ctx.connections.size === 1);
    s.pws.drain();
    const config = loadConfig({ STATIC_DIR: root, KEEP_ALIVE_TIMEOUT_MS: '60000' });
    // The sweep, run by hand at chosen instants: no timing of the test machine is involved.
    const drainAt = s.pws.ctx.drainingSince;
    sweep(s.pws.ctx, config, drainAt + FIRST_REQUEST_GRACE_MS - 100);
    expect(s.pws.ctx.connections.size).toBe(1);
    sweep(s.pws.ctx, config, drainAt + FIRST_REQUEST_GRACE_MS + 100);
    await waitFor('the server to close it', () => c.ended);
    expect(c.bytes).toBe(0);
  });
});
