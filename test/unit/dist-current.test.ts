// scripts/dist-current.cjs, which lets `npm start` skip the build when dist/ is current.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { tempDir } from '../helpers/server';

const SCRIPT = path.join(__dirname, '..', '..', 'scripts', 'dist-current.cjs');

/** A checkout-shaped folder whose files all have the time `t` (seconds). */
function checkout(t: number): string {
  const root = tempDir('pws-dist-');
  for (const [file, text] of [
    ['src/main.ts', 'x'],
    ['src/net/server.ts', 'x'],
    ['tsconfig.json', '{}'],
    ['tsconfig.build.json', '{}'],
    ['package.json', '{}'],
    ['dist/main.js', 'x'],
  ] as const) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  }
  for (const p of ['src/net/server.ts', 'src/main.ts', 'src/net', 'src', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'dist/main.js'])
    fs.utimesSync(path.join(root, p), t, t);
  return root;
}

const current = (root: string): number | null => spawnSync(process.execPath, [SCRIPT, root]).status;

describe('dist-current', () => {
  it('says current when dist/main.js is as new as every source', () => {
    expect(current(checkout(1_700_000_000))).toBe(0);
  });

  it('says stale when a source, a configuration or package.json is newer, or dist/ is missing', () => {
    for (const p of ['src/net/server.ts', 'tsconfig.build.json', 'package.json']) {
      const root = checkout(1_700_000_000);
      fs.utimesSync(path.join(root, p), 1_700_000_100, 1_700_000_100);
      expect(current(root)).toBe(1);
    }
    const root = checkout(1_700_000_000);
    fs.rmSync(path.join(root, 'dist'), { recursive: true });
    expect(current(root)).toBe(1);
  });
});
