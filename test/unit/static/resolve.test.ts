// The root wall: containment on real paths, hidden dot-segments, and what openUnder lets out.

import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { openUnder, siteRoot, type SiteRoot } from '../../../src/static/files';
import { tempDir } from '../../helpers/server';
import { candidatePath, isHidden, isInside } from '../../../src/static/resolve';

describe('isInside', () => {
  it('accepts the root and paths below it', () => {
    expect(isInside('/srv/www', '/srv/www')).toBe(true);
    expect(isInside('/srv/www', '/srv/www/a/b')).toBe(true);
  });
  it('refuses a sibling whose name starts with the root name', () => {
    expect(isInside('/srv/www', '/srv/www-old/secret')).toBe(false);
    expect(isInside('/srv/www', '/srv/wwwx')).toBe(false);
  });
  it('refuses parents and unrelated paths', () => {
    expect(isInside('/srv/www', '/srv')).toBe(false);
    expect(isInside('/srv/www', '/etc/passwd')).toBe(false);
  });
  it('works for the file-system root', () => {
    expect(isInside('/', '/etc')).toBe(true);
  });
});

describe('isHidden', () => {
  it('hides any dot-segment but .well-known', () => {
    expect(isHidden(['.env'])).toBe(true);
    expect(isHidden(['.git', 'config'])).toBe(true);
    expect(isHidden(['a', '.hidden', 'b'])).toBe(true);
    expect(isHidden(['.well-known', 'security.txt'])).toBe(false);
    expect(isHidden(['a.b', 'c'])).toBe(false);
  });
});

describe('candidatePath', () => {
  it('joins segments under the root', () => {
    expect(candidatePath('/r', [])).toBe('/r');
    expect(candidatePath('/r', ['a', 'b c'])).toBe('/r/a/b c');
  });
});

describe('openUnder', () => {
  let base: string;
  let root: string;
  let wall: SiteRoot;
  beforeAll(() => {
    base = fs.realpathSync(tempDir('pws-resolve-'));
    root = path.join(base, 'www');
    fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(root, 'a.txt'), 'A');
    fs.writeFileSync(path.join(base, 'secret.txt'), 'SECRET');
    fs.mkdirSync(path.join(base, 'www-old'));
    fs.writeFileSync(path.join(base, 'www-old', 'x.txt'), 'OLD');
    fs.symlinkSync(path.join(base, 'secret.txt'), path.join(root, 'out.txt'));
    fs.symlinkSync(path.join(base, 'www-old'), path.join(root, 'old'));
    fs.symlinkSync(path.join(root, 'a.txt'), path.join(root, 'in.txt'));
    fs.symlinkSync('loop', path.join(root, 'loop'));
    fs.writeFileSync(path.join(root, 'sub', 'deep.txt'), 'DEEP');
    fs.symlinkSync(path.join(root, 'sub'), path.join(root, 'alias'));
    fs.symlinkSync(path.join(base, 'www-old'), path.join(root, 'sub', 'old'));
    fs.symlinkSync(path.join(root, 'a.txt'), path.join(root, 'sub', 'up.txt'));
    execFileSync('mkfifo', [path.join(root, 'fifo')]);
    wall = siteRoot(root);
  });
  afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

  it('opens a file inside the root', () => {
    const o = openUnder(wall, ['a.txt']);
    expect(o.kind).toBe('file');
    if (o.kind === 'file') {
      expect(o.size).toBe(1);
      o.handle.close();
    }
  });
  it('follows a symlink that stays inside', () => {
    const o = openUnder(wall, ['in.txt']);
    expect(o.kind).toBe('file');
    if (o.kind === 'file') o.handle.close();
  });
  it('finds directories', () => {
    expect(openUnder(wall, ['sub'])).toMatchObject({ kind: 'directory' });
    expect(openUnder(wall, [])).toMatchObject({ kind: 'directory', realPath: root });
  });
  it('opens a plain path without realpath(3), its own path being the real one', () => {
    const realpath = jest.spyOn(fs.realpathSync, 'native');
    try {
      const o = openUnder(wall, ['sub', 'deep.txt']);
      expect(o).toMatchObject({ kind: 'file', realPath: path.join(root, 'sub', 'deep.txt') });
      if (o.kind === 'file') o.handle.close();
      expect(openUnder(wall, ['sub'])).toEqual({ kind: 'directory', realPath: path.join(root, 'sub') });
      expect(realpath).not.toHaveBeenCalled();
    } finally {
      realpath.mockRestore();
    }
  });
  it.each([
    ['the root folder', (live: string) => live],
    ['a folder above the root', (live: string) => path.dirname(live)],
  ])('refuses every path once %s is swapped for a symlink to another folder', (_name, swapped) => {
    const top = fs.mkdtempSync(path.join(base, 'swap-'));
    const live = path.join(top, 'releases', 'live');
    const other = path.join(top, 'private');
    for (const dir of [live, other]) {
      fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'index.html'), 'x');
      fs.writeFileSync(path.join(dir, 'sub', 'key'), 'x');
    }
    fs.mkdirSync(path.join(other, 'live', 'sub'), { recursive: true });
    fs.writeFileSync(path.join(other, 'live', 'index.html'), 'x');
    fs.writeFileSync(path.join(other, 'live', 'sub', 'key'), 'x');
    const r = siteRoot(live);
    const before = openUnder(r, ['sub', 'key']);
    expect(before.kind).toBe('file');
    if (before.kind === 'file') before.handle.close();
    const target = swapped(live);
    fs.renameSync(target, `${target}-old`);
    fs.symlinkSync(other, target);
    for (const segments of [['index.html'], ['sub', 'key'], []]) expect(openUnder(r, segments)).toEqual({ kind: 'missing' });
  });
  it('refuses every path once the root folder is moved away and a symlink to it put in its place', () => {
    const top = fs.mkdtempSync(path.join(base, 'moved-'));
    const live = path.join(top, 'live');
    fs.mkdirSync(path.join(live, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(live, 'sub', 'key'), 'x');
    const r = siteRoot(live);
    fs.mkdirSync(path.join(top, 'elsewhere'));
    fs.renameSync(live, path.join(top, 'elsewhere', 'live'));
    fs.symlinkSync(path.join(top, 'elsewhere', 'live'), live);
    for (const segments of [['sub', 'key'], []]) expect(openUnder(r, segments)).toEqual({ kind: 'missing' });
  });
  it('resolves a folder or a file that is a symlink inside the root to its real path', () => {
    const viaFolder = openUnder(wall, ['alias', 'deep.txt']);
    expect(viaFolder).toMatchObject({ kind: 'file', realPath: path.join(root, 'sub', 'deep.txt') });
    if (viaFolder.kind === 'file') viaFolder.handle.close();
    const viaFile = openUnder(wall, ['sub', 'up.txt']);
    expect(viaFile).toMatchObject({ kind: 'file', realPath: path.join(root, 'a.txt') });
    if (viaFile.kind === 'file') viaFile.handle.close();
  });
  it.each([
    ['a symlinked folder deeper down that leads outside', ['sub', 'old', 'x.txt']],
    ['a symlinked folder that leads outside, named through a symlinked folder', ['alias', 'old', 'x.txt']],
    ['a file used as a folder deeper down', ['sub', 'deep.txt', 'x', 'y']],
    ['a missing folder', ['none', 'a.txt']],
    ['segments that climb out (never made by the parser)', ['sub', '..', '..', 'secret.txt']],
    ['a segment holding a separator (never made by the parser)', ['sub/../../secret.txt']],
  ])('treats %s as missing', (_name, segments) => {
    expect(openUnder(wall, segments)).toEqual({ kind: 'missing' });
  });
  it.each([
    ['a symlink to a file outside', ['out.txt']],
    ['a symlink to a sibling folder', ['old', 'x.txt']],
    ['a symlink loop', ['loop']],
    ['a FIFO (never opened for reading)', ['fifo']],
    ['a missing file', ['nope']],
    ['a file used as a folder', ['a.txt', 'x']],
    ['a name too long for the file system', ['n'.repeat(300)]],
  ])('treats %s as missing', (_name, segments) => {
    expect(openUnder(wall, segments)).toEqual({ kind: 'missing' });
  });
});
