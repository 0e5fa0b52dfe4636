// zstd (RFC 8878) as a content coding: precompressed `.zst` siblings on every Node version, and
// compression here where node:zlib has zstd (Node 22.15+). Bytes are checked with the `zstd`
// command, an implementation independent of Node's. On a q-value tie the order is br, zstd, gzip.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ON_THE_FLY } from '../../src/static/compress';
import { get } from '../helpers/raw';
import { startInProcess, type InProcess } from '../helpers/in-process';
import { makeSite, tempDir } from '../helpers/server';

const js = Buffer.from('export const answer = 42;\n'.repeat(300));
const css = Buffer.from('body { color: red; margin: 0 auto; }\n'.repeat(300));

/** `zstd` (the command) compresses or decompresses `input`. */
function zstdCommand(input: Buffer, decompress: boolean): Buffer {
  const dir = tempDir('pws-zstd-');
  const src = path.join(dir, decompress ? 'in.zst' : 'in');
  fs.writeFileSync(src, input);
  return execFileSync('zstd', [...(decompress ? ['-d'] : ['-19']), '-q', '-c', src]);
}

let root: string;
let server: InProcess;
beforeAll(async () => {
  root = makeSite({
    'app.js': js,
    'app.js.zst': zstdCommand(js, false),
    'app.js.gz': zlib.gzipSync(js),
    'style.css': css,
  });
  server = await startInProcess({ staticDir: root, env: { CACHE_MAX_BYTES: '0' } });
});
afterAll(async () => {
  await server.stop();
});

const fetchWith = (p: string, ae: string, ...more: string[]) => get(server.port, p, ['Host: t', `Accept-Encoding: ${ae}`, ...more]);

describe('precompressed .zst', () => {
  it('is sent to a client that takes zstd, and decodes to the file', async () => {
    const r = await fetchWith('/app.js', 'zstd');
    expect(r.status).toBe(200);
    expect(r.headers['content-encoding']).toBe('zstd');
    expect(r.headers.vary).toBe('Accept-Encoding');
    expect(Number(r.headers['content-length'])).toBe(fs.statSync(path.join(root, 'app.js.zst')).size);
    expect(zstdCommand(r.body, true).equals(js)).toBe(true);
  });

  it('is preferred to gzip on a tie, and loses to gzip by q-value', async () => {
    expect((await fetchWith('/app.js', 'gzip, zstd')).headers['content-encoding']).toBe('zstd');
    expect((await fetchWith('/app.js', 'zstd;q=0.5, gzip')).headers['content-encoding']).toBe('gzip');
  });

  it('has an ETag of its own, and revalidates with it', async () => {
    const z = await fetchWith('/app.js', 'zstd');
    const g = await fetchWith('/app.js', 'gzip');
    const plain = await get(server.port, '/app.js', ['Host: t']);
    const tags = new Set([z.headers.etag, g.headers.etag, plain.headers.etag]);
    expect(tags.size).toBe(3);
    const again = await fetchWith('/app.js', 'zstd', `If-None-Match: ${z.headers.etag ?? ''}`);
    expect(again.status).toBe(304);
  });
});

describe('zstd compressed here', () => {
  it(
    ON_THE_FLY.includes('zstd')
      ? 'compresses a text file without a sibling (this Node has zlib zstd)'
      : 'sends identity for a text file without a sibling (this Node has no zlib zstd)',
    async () => {
      const r = await fetchWith('/style.css', 'zstd');
      expect(r.status).toBe(200);
      if (ON_THE_FLY.includes('zstd')) {
        expect(r.headers['content-encoding']).toBe('zstd');
        expect(r.body.length).toBeLessThan(css.length);
        expect(zstdCommand(r.body, true).equals(css)).toBe(true);
      } else {
        expect(r.headers['content-encoding']).toBeUndefined();
        expect(r.body.equals(css)).toBe(true);
      }
    },
  );

  it('gives br the tie, as the order br, zstd, gzip says', async () => {
    expect((await fetchWith('/style.css', 'gzip, zstd, br')).headers['content-encoding']).toBe('br');
  });
});
