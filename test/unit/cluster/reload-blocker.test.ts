// What a reload may not change: where the primary's socket listens.

import { describe, expect, it } from '@jest/globals';
import { reloadBlocker } from '../../../src/cluster/primary';
import { loadConfig } from '../../../src/config';
import { makeSite, tempDir } from '../../helpers/server';

const site = makeSite({ 'index.html': 'x' });
const config = (env: Record<string, string>) => loadConfig({ STATIC_DIR: site, PORT: '9000', ...env }, tempDir('pws-cwd-'));

describe('reloadBlocker', () => {
  it('lets every other setting through', () => {
    expect(reloadBlocker(config({}), config({ WORKERS: '3', SHUTDOWN_TIMEOUT_MS: '30000', CACHE_CONTROL: 'no-store' }))).toBeNull();
  });
  it('names a changed PORT, HOST or REUSE_PORT and says to restart', () => {
    expect(reloadBlocker(config({}), config({ PORT: '9001' }))).toBe(
      'PORT changed (9000 → 9001); a reload keeps the listening socket: restart PWS to change it',
    );
    expect(reloadBlocker(config({}), config({ HOST: '127.0.0.1' }))).toMatch(/^HOST changed \( → 127\.0\.0\.1\)/);
    const base = config({});
    expect(reloadBlocker({ ...base, reusePort: false }, { ...base, reusePort: true })).toMatch(/^REUSE_PORT changed \(false → true\)/);
  });
});
