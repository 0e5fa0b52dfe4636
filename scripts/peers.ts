// The Node peers PWS is benchmarked against, each run the way its documentation shows, under
// node:cluster with the same worker count as PWS (SCHED_NONE, as PWS uses):
//   node build/scripts/peers.js <serve-static|sirv|http-server|bare|bare-h2> <dir> <port> <workers>
// (bare-h2 reads its certificate and key from BENCH_CERT and BENCH_KEY)
// Benchmark-only: the peers are devDependencies.

import cluster from 'node:cluster';
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import path from 'node:path';
import serveStatic from 'serve-static';
import sirv from 'sirv';
import { httpDate } from '../src/http/date';
import { etagFor, lastModifiedFor } from '../src/static/validators';
import { REPO } from './measure';

type Listener = (req: http.IncomingMessage, res: http.ServerResponse) => void;

function handlerFor(peer: string, dir: string): Listener {
  switch (peer) {
    case 'serve-static': {
      const serve = serveStatic(dir);
      return (req, res) => {
        serve(req, res, () => {
          res.statusCode = 404;
          res.end('Not Found');
        });
      };
    }
    case 'sirv': {
      const handler = sirv(dir, { etag: true });
      return (req, res) => handler(req, res);
    }
    case 'http-server': {
      // http-server ships no types; its createServer returns an object whose `server` is a node:http server.
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- http-server has no type declarations to import
      const httpServer = require('http-server') as { createServer(o: object): { server: http.Server } };
      const inner = httpServer.createServer({ root: dir, cache: 3600, showDir: false, silent: true });
      return (req, res) => inner.server.emit('request', req, res);
    }
    default:
      throw new Error(`unknown peer ${peer}`);
  }
}

const [peer = '', dir = '.', port = '0', workers = '1'] = process.argv.slice(2);
if (cluster.isPrimary) {
  if (process.env.NODE_CLUSTER_SCHED_POLICY === undefined) cluster.schedulingPolicy = cluster.SCHED_NONE;
  const n = Number(workers) || 1;
  for (let i = 0; i < n; i++) cluster.fork();
  let up = 0;
  cluster.on('listening', () => {
    if (++up === n) process.stdout.write(`${peer} listening on port ${port}\n`);
  });
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill();
    process.exit(0);
  });
} else if (peer === 'bare') {
  // The floor: a node:net server that answers every request head with one prebuilt response.
  const page = fs.readFileSync(path.join(dir, 'index.html'));
  const response = Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: ${page.length}\r\n\r\n`), page]);
  net
    .createServer((socket) => {
      socket.on('error', () => socket.destroy());
      socket.on('data', (chunk: Buffer) => {
        for (let i = chunk.indexOf('\r\n\r\n'); i !== -1; i = chunk.indexOf('\r\n\r\n', i + 4)) socket.write(response);
        if (chunk.includes('Connection: close')) socket.end();
      });
    })
    .listen(Number(port), '127.0.0.1');
} else if (peer === 'bare-h2') {
  // The HTTP/2 floor: node:http2 over TLS answering every stream with one prebuilt 1 KB page.
  const page = fs.readFileSync(path.join(dir, 'index.html'));
  const server = http2.createSecureServer({ cert: fs.readFileSync(process.env.BENCH_CERT ?? ''), key: fs.readFileSync(process.env.BENCH_KEY ?? '') });
  // BENCH_FIELDS=pws: the same response fields PWS sends for the page (their HPACK and header-object
  // costs are Node's too), Date made once a second as PWS makes it.
  const st = fs.statSync(path.join(dir, 'index.html'));
  const pwsFields = {
    // As PWS sends it (src/version.ts reads the same file, from dist/).
    server: `PWS/${(JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version}`,
    'content-type': 'text/html; charset=utf-8',
    'last-modified': lastModifiedFor(st.mtimeMs),
    etag: etagFor(page.length, st.mtimeMs),
    'cache-control': 'no-cache',
    'accept-ranges': 'bytes',
    vary: 'Accept-Encoding',
    'x-content-type-options': 'nosniff',
  };
  const same = process.env.BENCH_FIELDS === 'pws';
  let second = -1;
  let headers: http2.OutgoingHttpHeaders = {};
  server.on('stream', (stream) => {
    stream.on('error', () => undefined);
    if (!same) {
      stream.respond({ ':status': 200, 'content-type': 'text/html', 'content-length': page.length });
    } else {
      const now = Math.floor(Date.now() / 1000);
      if (now !== second) {
        second = now;
        headers = { ':status': 200, ...pwsFields, date: httpDate(), 'content-length': page.length };
      }
      stream.respond(headers);
    }
    stream.end(page);
  });
  server.listen(Number(port), '127.0.0.1');
} else {
  const server = http.createServer(handlerFor(peer, dir));
  server.keepAliveTimeout = 60_000;
  server.listen(Number(port), '127.0.0.1');
}
