// The memory bounds: the documented table is the code's, each variable moves its row, and the
// worst case of a worker at the defaults stays under pm2's max_memory_restart.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { boundsTable, connectionBounds, perConnection, perWorker } from '../../src/bounds';
import { loadConfig, type Config } from '../../src/config';
import { selfSignedCert } from '../helpers/server';

const REPO = path.join(__dirname, '..', '..');
const config = (env: Record<string, string> = {}): Config => loadConfig({ STATIC_DIR: os.tmpdir(), ...env }, os.tmpdir());
const MIB = 1024 * 1024;

describe('memory bounds', () => {
  it('docs/memory.md holds the table of the defaults, exactly', () => {
    const doc = fs.readFileSync(path.join(REPO, 'docs', 'memory.md'), 'utf8');
    const documented = /<!-- bounds:start -->\n([\s\S]*?)\n<!-- bounds:end -->/.exec(doc)?.[1];
    expect(documented).toBe(boundsTable(config()));
  });

  it('moves with the variables that set them', () => {
    const base = config();
    expect(perConnection(config({ OUTPUT_QUEUE_BYTES: String(base.outputQueueBytes + 4096) })) - perConnection(base)).toBe(4096);
    expect(perConnection(config({ MAX_HEADER_BYTES: '32768' })) - perConnection(base)).toBe(32768 - base.maxHeaderBytes);
    expect(perWorker(config({ MAX_CONNECTIONS: '100' }))).toBeLessThan(perWorker(base));
    expect(perWorker(config({ CACHE_MAX_BYTES: '0' }))).toBe(perWorker(base) - base.cacheMaxBytes);
    expect(perWorker(config({ COMPRESSION: 'off' }))).toBeLessThan(perWorker(base));
  });

  it('never lists a client-driven allocation without a finite bound', () => {
    for (const b of connectionBounds(config())) expect(Number.isFinite(b.bytes)).toBe(true);
    expect(Number.isFinite(perWorker(config()))).toBe(true);
  });

  it('keeps the worst case of a worker at the defaults, plus the runtime, under max_memory_restart', () => {
    const ecosystem = fs.readFileSync(path.join(REPO, 'ecosystem.config.js'), 'utf8');
    const m = /max_memory_restart: '(\d+)(M|G)'/.exec(ecosystem);
    if (m === null) throw new Error('ecosystem.config.js sets no max_memory_restart');
    const restartAt = Number(m[1]) * (m[2] === 'G' ? 1024 * MIB : MIB);
    const runtime = 64 * MIB; // an idle worker's RSS is about 50 MB
    expect(perWorker(config()) + runtime).toBeLessThan(restartAt);
    // With TLS, and so HTTP/2, too.
    const pem = selfSignedCert();
    const tls = config({ TLS_CERT: pem.cert, TLS_KEY: pem.key });
    expect(tls.http2).toBe(true);
    expect(perWorker(tls)).toBeGreaterThan(perWorker(config()));
    expect(perWorker(tls) + runtime).toBeLessThan(restartAt);
  });
});
