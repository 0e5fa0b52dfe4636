// HTTP/2 as other implementations speak it: Debian's curl (libcurl + nghttp2) and nghttp fetch
// from PWS's TLS port, several streams on one connection, and the bytes are the files'.

import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startInProcess, type InProcess } from '../helpers/in-process';
import { makeSite, selfSignedCert, tempDir } from '../helpers/server';

const run = promisify(execFile);
const big = crypto.randomBytes(2 * 1024 * 1024 + 3);
const files: Record<string, string | Buffer> = { 'index.html': '<p>home</p>\n', 'big.bin': big, 'error.html': 'missing\n' };
for (let i = 0; i < 10; i++) files[`assets/a${i}.css`] = `.a${i} { color: red; }\n`;

let server: InProcess;
let url: string;
beforeAll(async () => {
  const pem = selfSignedCert();
  server = await startInProcess({ staticDir: makeSite(files), env: { TLS_CERT: pem.cert, TLS_KEY: pem.key } });
  url = `https://127.0.0.1:${server.port}`;
});
afterAll(async () => {
  await server.stop();
});

describe('curl', () => {
  it('negotiates h2 and downloads a file whole', async () => {
    const out = path.join(tempDir('pws-curl-'), 'big.bin');
    const { stdout } = await run('curl', ['-sk', '--http2', '-o', out, '-w', '%{http_version} %{http_code} %{size_download}', `${url}/big.bin`]);
    expect(stdout).toBe(`2 200 ${big.length}`);
    expect(fs.readFileSync(out).equals(big)).toBe(true);
  });

  it('gets HTTP/1.1 when it asks for it', async () => {
    const { stdout } = await run('curl', ['-sk', '--http1.1', '-o', '/dev/null', '-w', '%{http_version} %{http_code}', `${url}/`]);
    expect(stdout).toBe('1.1 200');
  });

  it('gets HTTP/1.0 when it offers only that (ALPN http/1.0)', async () => {
    const { stdout } = await run('curl', ['-sk', '--http1.0', '-o', '/dev/null', '-w', '%{http_version} %{http_code}', `${url}/`]);
    // The handshake succeeds and the request is answered (a server answers with its own version, 1.1: RFC 9110 §2.5).
    expect(stdout).toBe('1.1 200');
  });

  it('sees a 404 and a HEAD over h2', async () => {
    const { stdout } = await run('curl', ['-sk', '--http2', '-w', '%{http_code} ', '-o', '/dev/null', `${url}/nope`, '-I', '-o', '/dev/null', `${url}/`]);
    expect(stdout.trim().split(/\s+/)).toEqual(['404', '200']);
  });
});

describe('nghttp', () => {
  it('fetches eleven resources as streams of one connection', async () => {
    const targets = [`${url}/`, ...Array.from({ length: 10 }, (_, i) => `${url}/assets/a${i}.css`)];
    const { stdout } = await run('nghttp', ['-nv', ...targets], { maxBuffer: 16 * 1024 * 1024 });
    // One TLS connection (one SETTINGS exchange), eleven streams answered 200.
    expect(stdout.match(/send SETTINGS frame <length=\d+, flags=0x00/g)?.length).toBe(1);
    expect(stdout.match(/:status: 200/g)?.length).toBe(11);
    const streams = new Set([...stdout.matchAll(/recv HEADERS frame <length=\d+, flags=0x0[45], stream_id=(\d+)>/g)].map((m) => m[1]));
    expect(streams.size).toBe(11);
  });
});
