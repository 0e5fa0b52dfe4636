// nginx as a test oracle: the same raw requests (methods, targets in every encoding, conditionals,
// ranges, redirects, errors, framing) go to PWS and to an nginx started here, configured to the
// closest equivalent of PWS's defaults and serving the same folder. Status, Location, Content-Range,
// Content-Length, Content-Type, validators and body bytes must agree, except for the deliberate
// differences listed in DIFFERENCES (and in docs/nginx-differences.md) with their reasons.
//
// Where nginx is not installed the suite is skipped with a notice; .ci/run installs nginx-light.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startNginx, which, type Nginx } from '../../scripts/nginx';
import { ask, type Message } from '../helpers/http-message';
import { startInProcess, type InProcess } from '../helpers/in-process';
import { makeSite } from '../helpers/server';

const NGINX = which('nginx');
if (NGINX === null) process.stderr.write('nginx-oracle.test.ts: nginx is not installed (apt-get install nginx-light); the differential suite is skipped\n');
const describeWithNginx = NGINX === null ? describe.skip : describe;

const DATA = crypto.randomBytes(100_000);
const BIG = crypto.randomBytes(2 * 1024 * 1024 + 17);
const CSS = Buffer.from('body { color: #333; margin: 0 auto; }\n'.repeat(200));

let root: string;
let pws: InProcess;
let nginx: Nginx;

/** The configuration of nginx closest to PWS's defaults. */
const NGINX_HTTP = `
  sendfile on;
  server_tokens off;
  etag on;
  if_modified_since before;
  max_ranges 16;
  absolute_redirect off;
  gzip on;
  gzip_types text/css application/javascript text/plain image/svg+xml application/json;
  gzip_min_length 1024;
  gzip_vary on;
  gzip_static on;
  client_max_body_size 1m;
  large_client_header_buffers 4 16k;`;
const NGINX_SERVER = `
    index index.html;
    error_page 404 /error.html;
    location ~ /\\.(?!well-known/) { return 404; }`;

beforeAll(async () => {
  if (NGINX === null) return;
  root = makeSite({
    'index.html': '<!doctype html><title>home</title><p>home</p>\n',
    'error.html': '<!doctype html><title>missing</title><p>not here</p>\n',
    'sub/index.html': 'sub index\n',
    'sub/page.html': 'a page\n',
    'small.txt': 'small text file\n',
    'empty.txt': '',
    'style.css': CSS,
    'app.js': 'console.log("app");\n',
    'pre.js': 'console.log("pre");\n'.repeat(100),
    'pre.js.gz': zlib.gzipSync(Buffer.from('console.log("pre");\n'.repeat(100))),
    'image.png': crypto.randomBytes(3000),
    'a b.txt': 'space in the name\n',
    'ünï.txt': 'unicode name\n',
    '%41.txt': 'percent in the name\n',
    'semi;colon.txt': 'semicolon\n',
    '.env': 'SECRET=1\n',
    '.git/config': '[core]\n',
    '.well-known/security.txt': 'Contact: mailto:security@example.com\n',
    'deep/a/b/c.txt': 'deep\n',
  });
  fs.writeFileSync(path.join(root, 'data.bin'), DATA);
  fs.writeFileSync(path.join(root, 'big.bin'), BIG);
  fs.mkdirSync(path.join(root, 'empty-dir'));
  // nginx's workers run as nobody: the fixture must be readable by everyone.
  for (let dir = root; dir !== path.dirname(dir) && dir.startsWith(path.dirname(path.dirname(root))); dir = path.dirname(dir)) fs.chmodSync(dir, 0o755);
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      fs.chmodSync(p, e.isDirectory() ? 0o755 : 0o644);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(root);
  [pws, nginx] = await Promise.all([
    startInProcess({ staticDir: root, env: { ACCESS_LOG: 'off' } }),
    startNginx(NGINX, { root, http: NGINX_HTTP, server: NGINX_SERVER }),
  ]);
});
afterAll(async () => {
  await Promise.all([pws?.stop(), nginx?.stop()]);
});

interface Case {
  name: string;
  /** The raw request; `{etag:/path}` and `{lm:/path}` stand for each server's own validators. */
  raw: string;
  head?: boolean;
}

const H = 'Host: localhost\r\n';
const C = 'Connection: close\r\n';
const get = (target: string, fields = '', method = 'GET'): string => `${method} ${target} HTTP/1.1\r\n${H}${fields}${C}\r\n`;

/** The request corpus: well over 300 requests. */
function corpus(): Case[] {
  const cases: Case[] = [];
  const add = (name: string, raw: string, head = false): void => {
    cases.push({ name, raw, head });
  };

  // Targets in every encoding, with GET and HEAD.
  const targets = [
    '/',
    '/index.html',
    '/sub',
    '/sub/',
    '/sub/index.html',
    '/sub/page.html',
    '/sub/page.html/',
    '/nope',
    '/nope/',
    '/sub/nope.html',
    '/small.txt',
    '/empty.txt',
    '/style.css',
    '/app.js',
    '/image.png',
    '/data.bin',
    '/big.bin',
    '/deep/a/b/c.txt',
    '/deep',
    '/deep/a/',
    '/a%20b.txt',
    '/%C3%BCn%C3%AF.txt',
    '/%c3%bcn%c3%af.txt',
    '/%2541.txt',
    '/%41.txt',
    '/semi;colon.txt',
    '/semi%3Bcolon.txt',
    '/%69ndex.html',
    '/%2e/index.html',
    '/./index.html',
    '/sub/../index.html',
    '/sub/./page.html',
    '//index.html',
    '///sub//page.html',
    '/sub/%2e%2e/index.html',
    '/index.html?x=1',
    '/index.html?',
    '/sub?x=1&y=2',
    '/sub?',
    '/empty-dir',
    '/empty-dir/',
    '/deep/a',
    '/.env',
    '/.git/config',
    '/.git/',
    '/sub/.hidden',
    '/.well-known/security.txt',
    '/.well-known/',
    '/error.html',
    '/../index.html',
    '/%2e%2e/index.html',
    '/sub/../../index.html',
    '/%00',
    '/index.html%00',
    '/%zz',
    '/%',
    '/%C0%AE%C0%AE/index.html',
    '/a\\b',
    '/sub%2fpage.html',
    '/sub%2Fpage.html',
    '/index.html/',
    '/index.html/.',
    '/INDEX.HTML',
    '/pre.js',
    '/pre.js.gz',
    'http://localhost/index.html',
    'http://localhost/sub',
    'http://other.example/small.txt',
    'HTTP://localhost/small.txt',
    'http://localhost',
    '*',
    'localhost:80',
    '/sub/page.html?a=%zz',
    '/index.html#frag',
    '/sub#frag',
    // Directory redirects from hostile targets: both must answer a same-site Location.
    '//evil.example/..%2fsub',
    '///evil.example/../sub',
    '//evil.example/%2e%2e/sub',
    'http://x//evil.example/../sub',
    '/deep/a/b',
    '/sub?next=//evil.example',
    '/sub?a=1&b=%2F',
    '/deep//a',
    '/%64eep',
  ];
  for (const t of targets) {
    add(`GET ${t}`, get(t));
    add(`HEAD ${t}`, get(t, '', 'HEAD'), true);
  }

  // Methods.
  for (const m of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'CONNECT', 'PROPFIND', 'FOO', 'get', 'G@T']) {
    add(`${m} /index.html`, get('/index.html', '', m));
    add(`${m} /nope`, get('/nope', '', m));
  }
  add('POST with a body', `POST /index.html HTTP/1.1\r\n${H}Content-Length: 5\r\n${C}\r\nhello`);
  add('GET with a body', `GET /small.txt HTTP/1.1\r\n${H}Content-Length: 5\r\n${C}\r\nhello`);
  add('GET with a chunked body', `GET /small.txt HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n${C}\r\n5\r\nhello\r\n0\r\n\r\n`);

  // Conditionals, on a cached-size file, a streamed one, and a compressible one.
  for (const p of ['/small.txt', '/data.bin', '/big.bin', '/index.html', '/sub/']) {
    const e = `{etag:${p}}`;
    const lm = `{lm:${p}}`;
    add(`INM own ${p}`, get(p, `If-None-Match: ${e}\r\n`));
    add(`INM own HEAD ${p}`, get(p, `If-None-Match: ${e}\r\n`, 'HEAD'), true);
    add(`INM weak own ${p}`, get(p, `If-None-Match: W/${e}\r\n`));
    add(`INM list ${p}`, get(p, `If-None-Match: "x", ${e}, "y"\r\n`));
    add(`INM other ${p}`, get(p, 'If-None-Match: "other"\r\n'));
    add(`INM star ${p}`, get(p, 'If-None-Match: *\r\n'));
    add(`INM malformed ${p}`, get(p, 'If-None-Match: nonsense\r\n'));
    add(`IMS equal ${p}`, get(p, `If-Modified-Since: ${lm}\r\n`));
    add(`IMS old ${p}`, get(p, 'If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT\r\n'));
    add(`IMS garbage ${p}`, get(p, 'If-Modified-Since: yesterday\r\n'));
    add(`IMS rfc850 ${p}`, get(p, 'If-Modified-Since: Sunday, 06-Nov-94 08:49:37 GMT\r\n'));
    add(`INM other and IMS equal ${p}`, get(p, `If-None-Match: "other"\r\nIf-Modified-Since: ${lm}\r\n`));
    add(`IM own ${p}`, get(p, `If-Match: ${e}\r\n`));
    add(`IM other ${p}`, get(p, 'If-Match: "other"\r\n'));
    add(`IM star ${p}`, get(p, 'If-Match: *\r\n'));
    add(`IUS old ${p}`, get(p, 'If-Unmodified-Since: Thu, 01 Jan 1970 00:00:00 GMT\r\n'));
    add(`IUS equal ${p}`, get(p, `If-Unmodified-Since: ${lm}\r\n`));
  }

  // Ranges.
  const ranges = [
    'bytes=0-99',
    'bytes=100-',
    'bytes=-100',
    'bytes=0-0',
    'bytes=99999-',
    'bytes=99990-200000',
    'bytes=-200000',
    'bytes=100000-',
    'bytes=200000-300000',
    'bytes=5-1',
    'bytes=abc',
    'items=0-1',
    'bytes=0-9,20-29',
    'bytes=0-9,20-29,40-49',
    'bytes=0-50,25-75',
    'bytes=0-9,10-19',
    'bytes= 0-9',
    'bytes=0-9 ',
    'bytes=-0',
    'bytes=0--1',
    'bytes=1-2,',
    'bytes=,1-2',
    'BYTES=0-9',
    'bytes=00-09',
    `bytes=${Array.from({ length: 20 }, (_, i) => `${i * 10}-${i * 10 + 4}`).join(',')}`,
  ];
  for (const r of ranges) add(`Range ${r} /data.bin`, get('/data.bin', `Range: ${r}\r\n`));
  for (const r of ['bytes=0-99', 'bytes=-100', 'bytes=1000000-', 'bytes=0-9,2097152-2097162']) add(`Range ${r} /big.bin`, get('/big.bin', `Range: ${r}\r\n`));
  for (const r of ['bytes=0-4', 'bytes=-3', 'bytes=100-']) add(`Range ${r} /small.txt`, get('/small.txt', `Range: ${r}\r\n`));
  add('Range bytes=0-0 /empty.txt', get('/empty.txt', 'Range: bytes=0-0\r\n'));
  add('Range bytes=-1 /empty.txt', get('/empty.txt', 'Range: bytes=-1\r\n'));
  add('Range HEAD /data.bin', get('/data.bin', 'Range: bytes=0-99\r\n', 'HEAD'), true);
  add('Range on a 404', get('/nope', 'Range: bytes=0-9\r\n'));
  add('If-Range own etag', get('/data.bin', 'Range: bytes=0-9\r\nIf-Range: {etag:/data.bin}\r\n'));
  add('If-Range other etag', get('/data.bin', 'Range: bytes=0-9\r\nIf-Range: "other"\r\n'));
  add('If-Range own date', get('/data.bin', 'Range: bytes=0-9\r\nIf-Range: {lm:/data.bin}\r\n'));
  add('If-Range old date', get('/data.bin', 'Range: bytes=0-9\r\nIf-Range: Thu, 01 Jan 1970 00:00:00 GMT\r\n'));
  add('Range and INM own', get('/data.bin', 'Range: bytes=0-9\r\nIf-None-Match: {etag:/data.bin}\r\n'));

  // Compression (gzip only: nginx-light has no brotli).
  for (const p of ['/style.css', '/app.js', '/pre.js', '/image.png', '/small.txt']) {
    add(`gzip ${p}`, get(p, 'Accept-Encoding: gzip\r\n'));
    add(`gzip;q=0 ${p}`, get(p, 'Accept-Encoding: gzip;q=0\r\n'));
    add(`identity ${p}`, get(p, 'Accept-Encoding: identity\r\n'));
  }

  // Framing, versions and limits.
  const framing: Array<[string, string]> = [
    ['HTTP/1.0 without Host', 'GET /small.txt HTTP/1.0\r\n\r\n'],
    ['HTTP/1.0 keep-alive', 'GET /small.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'],
    ['HTTP/1.1 without Host', `GET /small.txt HTTP/1.1\r\n${C}\r\n`],
    ['two Host fields', `GET /small.txt HTTP/1.1\r\n${H}${H}${C}\r\n`],
    ['Host with a slash', `GET /small.txt HTTP/1.1\r\nHost: a/b\r\n${C}\r\n`],
    ['HTTP/2.0', `GET /small.txt HTTP/2.0\r\n${H}${C}\r\n`],
    ['HTTP/1.2', `GET /small.txt HTTP/1.2\r\n${H}${C}\r\n`],
    ['HTTP/3.0', `GET /small.txt HTTP/3.0\r\n${H}${C}\r\n`],
    ['lower-case version', `GET /small.txt http/1.1\r\n${H}${C}\r\n`],
    ['no version', 'GET /small.txt\r\n\r\n'],
    ['CL and TE', `POST /small.txt HTTP/1.1\r\n${H}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n${C}\r\n0\r\n\r\n`],
    ['two CLs', `POST /small.txt HTTP/1.1\r\n${H}Content-Length: 1\r\nContent-Length: 2\r\n${C}\r\nab`],
    ['CL not a number', `POST /small.txt HTTP/1.1\r\n${H}Content-Length: x\r\n${C}\r\n`],
    ['negative CL', `POST /small.txt HTTP/1.1\r\n${H}Content-Length: -1\r\n${C}\r\n`],
    ['TE gzip, chunked', `POST /small.txt HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n${C}\r\n0\r\n\r\n`],
    ['TE identity', `POST /small.txt HTTP/1.1\r\n${H}Transfer-Encoding: identity\r\n${C}\r\n`],
    ['bad chunk size', `POST /small.txt HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n${C}\r\nzz\r\n`],
    ['body over the limit', `POST /small.txt HTTP/1.1\r\n${H}Content-Length: 2000000\r\n${C}\r\n`],
    ['URI over 8 KiB', get(`/${'a'.repeat(9000)}`)],
    ['header field of 20 KB', get('/small.txt', `X-Big: ${'b'.repeat(20_000)}\r\n`)],
    ['space before colon', get('/small.txt', 'X-A : 1\r\n')],
    ['obs-fold', get('/small.txt', 'X-A: 1\r\n  2\r\n')],
    ['bare LF line endings', 'GET /small.txt HTTP/1.1\nHost: localhost\nConnection: close\n\n'],
    ['NUL in a field value', get('/small.txt', 'X-A: a\x00b\r\n')],
    ['leading empty line', `\r\n${get('/small.txt')}`],
    ['tab in request line', `GET\t/small.txt HTTP/1.1\r\n${H}${C}\r\n`],
    ['two spaces in request line', `GET  /small.txt HTTP/1.1\r\n${H}${C}\r\n`],
    ['raw space in target', `GET /a b.txt HTTP/1.1\r\n${H}${C}\r\n`],
    ['raw UTF-8 in target', `GET /\xc3\xbcn\xc3\xaf.txt HTTP/1.1\r\n${H}${C}\r\n`],
    ['Expect 100-continue', `POST /small.txt HTTP/1.1\r\n${H}Content-Length: 2\r\nExpect: 100-continue\r\n${C}\r\nok`],
    ['empty field value', get('/small.txt', 'X-Empty:\r\n')],
    ['pipelined pair', `GET /small.txt HTTP/1.1\r\n${H}\r\nGET /index.html HTTP/1.1\r\n${H}${C}\r\n`],
  ];
  for (const [name, raw] of framing) add(name, raw);
  return cases;
}

/** Each server's own ETag and Last-Modified of the paths the corpus names in placeholders. */
async function validators(port: number, paths: string[]): Promise<Map<string, { etag: string; lm: string }>> {
  const out = new Map<string, { etag: string; lm: string }>();
  for (const p of paths) {
    const m = await ask(port, get(p));
    out.set(p, { etag: m?.headers.etag ?? '"none"', lm: m?.headers['last-modified'] ?? 'none' });
  }
  return out;
}

function fill(raw: string, v: Map<string, { etag: string; lm: string }>): string {
  return raw.replace(/\{(etag|lm):([^}]+)\}/g, (_m, kind: string, p: string) => {
    const entry = v.get(p);
    if (entry === undefined) throw new Error(`no validators for ${p}`);
    return kind === 'etag' ? entry.etag : entry.lm;
  });
}

/** The body as the client sees it: gzip undone. */
function decoded(m: Message): Buffer {
  return m.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(m.body) : m.body;
}

/** The parts of a multipart/byteranges body: each Content-Range and its bytes. */
function parts(m: Message): Array<[string, string]> {
  const boundary = /boundary=([^;\s]+)/.exec(m.headers['content-type'] ?? '')?.[1];
  if (boundary === undefined) return [];
  const out: Array<[string, string]> = [];
  const text = m.body.toString('latin1');
  for (const chunk of text.split(`--${boundary}`).slice(1, -1)) {
    const sep = chunk.indexOf('\r\n\r\n');
    const range = /content-range: *([^\r\n]+)/i.exec(chunk.slice(0, sep))?.[1] ?? '';
    const bytes = chunk.slice(sep + 4, chunk.endsWith('\r\n') ? -2 : undefined);
    out.push([range, crypto.createHash('sha1').update(Buffer.from(bytes, 'latin1')).digest('hex')]);
  }
  return out;
}

const mediaType = (v: string | undefined): string | undefined => v?.split(';')[0]!.trim().toLowerCase();

/** What differs between the two answers, one phrase each; empty when they agree. */
function differences(a: Message | null, b: Message | null): string[] {
  if (a === null || b === null) return a === b ? [] : [`response: pws ${a === null ? 'none' : a.status}, nginx ${b === null ? 'none' : b.status}`];
  const out: string[] = [];
  const same = (what: string, x: unknown, y: unknown): void => {
    if (JSON.stringify(x) !== JSON.stringify(y)) out.push(`${what}: pws ${JSON.stringify(x)}, nginx ${JSON.stringify(y)}`);
  };
  same('status', a.status, b.status);
  if (a.status !== b.status) return out;
  same('Location', a.headers.location, b.headers.location);
  if (a.status >= 200 && a.status < 300) {
    same('Content-Type', mediaType(a.headers['content-type']), mediaType(b.headers['content-type']));
    same('Content-Encoding', a.headers['content-encoding'], b.headers['content-encoding']);
    same('Last-Modified', a.headers['last-modified'], b.headers['last-modified']);
    same('ETag present', a.headers.etag !== undefined, b.headers.etag !== undefined);
    same('Content-Range', a.headers['content-range'], b.headers['content-range']);
    if (a.status === 206 && a.headers['content-range'] === undefined) same('parts', parts(a), parts(b));
    else {
      const [x, y] = [decoded(a), decoded(b)];
      same('body length', x.length, y.length);
      if (x.length === y.length && !x.equals(y)) out.push('body bytes differ');
      if (a.headers['content-encoding'] === undefined && b.headers['content-encoding'] === undefined) {
        same('Content-Length', a.headers['content-length'], b.headers['content-length']);
      }
    }
  }
  if (a.status === 304) {
    same('ETag present', a.headers.etag !== undefined, b.headers.etag !== undefined);
    same('Last-Modified', a.headers['last-modified'], b.headers['last-modified']);
  }
  return out;
}

interface Difference {
  /** Short name, also the row's name in docs/nginx-differences.md. */
  id: string;
  /** The corpus cases it covers. */
  cases: RegExp;
  /** What differs, exactly as `differences` phrases it. */
  diff: RegExp;
  reason: string;
}

/** Every deliberate difference from nginx, with its reason (docs/nginx-differences.md has the same table). */
const DIFFERENCES: Difference[] = [
  {
    id: 'javascript-type',
    cases: /^(GET|HEAD|gzip|gzip;q=0|identity) \/(app|pre)\.js$/,
    diff: /^Content-Type: pws "text\/javascript", nginx "application\/javascript"$/,
    reason: 'JavaScript is text/javascript (RFC 9239, the mime-types database); Debian nginx 1.22 still says application/javascript',
  },
  {
    id: 'gzip-type',
    cases: /^(GET|HEAD) \/pre\.js\.gz$/,
    diff: /^Content-Type: pws "application\/gzip", nginx "application\/octet-stream"$/,
    reason: 'a .gz file is application/gzip (RFC 6713) in the mime-types database; nginx does not map .gz',
  },
  {
    id: 'folder-without-index',
    cases: /^(GET|HEAD) \/(empty-dir|deep\/a|\.well-known)\/$/,
    diff: /^status: pws 404, nginx 403$/,
    reason: 'with listings off, a folder without index.html is 404, so that whether a folder exists is not told',
  },
  {
    id: 'malformed-path',
    cases: /^(GET|HEAD) \/(%C0%AE%C0%AE\/index\.html|a\\b)$/,
    diff: /^status: pws 400, nginx 404$/,
    reason: 'a path that is not UTF-8 once decoded (overlong forms) or that holds a backslash is malformed: 400',
  },
  {
    id: 'method-before-path',
    cases: /^POST \/nope$/,
    diff: /^status: pws 405, nginx 404$/,
    reason: 'the method is checked before the path: POST is 405 whatever the target',
  },
  {
    id: 'unknown-method',
    cases: /^(PROPFIND|FOO) \/(index\.html|nope)$/,
    diff: /^status: pws 501, nginx 405$/,
    reason: 'RFC 9110 §15.6.2: 501 for a method the server does not recognise; nginx answers 405 to every method it does not serve',
  },
  {
    id: 'lower-case-method',
    cases: /^get \/(index\.html|nope)$/,
    diff: /^status: pws 501, nginx 400$/,
    reason: 'methods are case-sensitive tokens (RFC 9110 §9.1): `get` is well formed and unknown (501); nginx parses only upper-case methods',
  },
  {
    id: 'invalid-range',
    cases: /^Range bytes=(5-1|abc|0--1) \/data\.bin$/,
    diff: /^status: pws 200, nginx 416$/,
    reason: 'RFC 9110 §14.2 lets a server ignore an invalid Range: PWS sends the whole file, nginx answers 416',
  },
  {
    id: 'empty-range-element',
    cases: /^Range bytes=(1-2,|,1-2) \/data\.bin$/,
    diff: /^status: pws 206, nginx 416$/,
    reason: 'RFC 9110 §5.6.1.2: empty list elements are ignored, so `1-2,` is the range 1-2',
  },
  {
    id: 'coalesced-ranges',
    cases: /^Range bytes=(0-50,25-75|0-9,10-19) \/data\.bin$/,
    diff: /^Content-Type: pws "application\/octet-stream", nginx "multipart\/byteranges"; Content-Range: pws "bytes 0-\d+\/100000", nginx undefined; body length/,
    reason: 'RFC 9110 §14.3: overlapping or adjacent ranges may be coalesced; PWS sends them as one part, nginx as given',
  },
  {
    id: 'range-of-empty-file',
    cases: /^Range bytes=(0-0|-1) \/empty\.txt$/,
    diff: /^status: pws 416, nginx 200$/,
    reason: 'a zero-length file has no byte to satisfy a range: 416 with Content-Range: bytes */0; nginx ignores Range there',
  },
  {
    id: 'http-0.9',
    cases: /^no version$/,
    diff: /^response: pws 400, nginx none$/,
    reason: 'HTTP/0.9 (a request line without a version) is not served: 400; nginx answers with a bare 0.9 body',
  },
  {
    id: 'transfer-coding-not-chunked',
    cases: /^TE identity$/,
    diff: /^status: pws 400, nginx 501$/,
    reason: 'RFC 9112 §6.3: with Transfer-Encoding but not chunked last, the length is unknown: 400 and a close',
  },
  {
    id: 'body-framing-first',
    cases: /^bad chunk size$/,
    diff: /^status: pws 400, nginx 405$/,
    reason: 'PWS reads the framing of a body before answering, so a malformed one is 400; nginx answers the POST with 405 unread',
  },
  {
    id: 'uri-limit',
    cases: /^URI over 8 KiB$/,
    diff: /^status: pws 414, nginx 404$/,
    reason: 'MAX_URI_BYTES (8 KiB) limits the target apart from the header section (16 KiB); nginx has one buffer size for both',
  },
  {
    id: 'header-limit-status',
    cases: /^header field of 20 KB$/,
    diff: /^status: pws 431, nginx 400$/,
    reason: 'RFC 6585 §5: 431 Request Header Fields Too Large',
  },
  {
    id: 'strict-request-line',
    cases: /^(bare LF line endings|two spaces in request line|raw UTF-8 in target)$/,
    diff: /^status: pws 400, nginx 200$/,
    reason: 'strict framing (RFC 9112 §2.2, §3): bare LF, extra spaces and raw non-ASCII in the target are refused, not guessed at',
  },
];

describeWithNginx('PWS and nginx, the same requests', () => {
  it('agree on every request of the corpus, but for the deliberate differences', async () => {
    const cases = corpus();
    expect(cases.length).toBeGreaterThanOrEqual(300);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
    const named = [...new Set(cases.flatMap((c) => [...c.raw.matchAll(/\{(?:etag|lm):([^}]+)\}/g)].map((m) => m[1] ?? '')))];
    const [vp, vn] = await Promise.all([validators(pws.port, named), validators(nginx.port, named)]);
    const unexplained: string[] = [];
    const used = new Set<string>();
    for (const c of cases) {
      const [a, b] = await Promise.all([ask(pws.port, fill(c.raw, vp), c.head), ask(nginx.port, fill(c.raw, vn), c.head)]);
      const diff = differences(a, b).join('; ');
      if (diff === '') continue;
      const known = DIFFERENCES.find((d) => d.cases.test(c.name) && d.diff.test(diff));
      if (known === undefined) unexplained.push(`${c.name}: ${diff}`);
      else used.add(known.id);
    }
    expect(unexplained).toEqual([]);
    // A listed difference that no longer occurs is a stale row.
    expect(DIFFERENCES.map((d) => d.id).filter((id) => !used.has(id))).toEqual([]);
  });

  it('lists every deliberate difference in docs/nginx-differences.md', () => {
    const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'nginx-differences.md'), 'utf8');
    for (const d of DIFFERENCES) expect(doc).toContain(`| \`${d.id}\` |`);
  });
});
