// followReleases: how often the real path of STATIC_DIR is looked at, and what a swap changes.

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, jest } from '@jest/globals';
import type { Reply } from '../../../src/contract/reply';
import type { Request } from '../../../src/contract/request';
import { log } from '../../../src/log';
import { siteRoot } from '../../../src/static/files';
import { followReleases, type Release } from '../../../src/static/release';
import type { Site } from '../../../src/static/site';
import { tempDir } from '../../helpers/server';

const REQUEST = {} as Request;

/** Releases whose handler answers with the real path of the folder it was made for. */
function follow(link: string, validateMs: number, clock: { t: number }): { handle: (r: Request) => string; opened: string[] } {
  const opened: string[] = [];
  const open = (rootReal: string): Release => {
    opened.push(rootReal);
    return { site: { root: siteRoot(rootReal) } as Site, handle: () => ({ status: 200, headers: {}, body: Buffer.from(rootReal) }) };
  };
  const releases = followReleases(link, validateMs, open, () => clock.t);
  return { handle: (r) => ((releases.handle(r) as Reply).body as Buffer).toString(), opened };
}

function twoReleases(): { base: string; link: string; one: string; two: string } {
  const base = fs.realpathSync(tempDir('pws-rel-'));
  const one = path.join(base, 'one');
  const two = path.join(base, 'two');
  fs.mkdirSync(one);
  fs.mkdirSync(two);
  const link = path.join(base, 'current');
  fs.symlinkSync(one, link);
  return { base, link, one, two };
}

function repoint(link: string, to: string): void {
  fs.symlinkSync(to, `${link}.tmp`);
  fs.renameSync(`${link}.tmp`, link);
}

describe('followReleases', () => {
  it('looks at the link again only once validateMs has passed', () => {
    const { link, one, two } = twoReleases();
    const clock = { t: 1000 };
    jest.spyOn(log, 'info').mockImplementation(() => undefined);
    const r = follow(link, 500, clock);
    expect(r.handle(REQUEST)).toBe(one);
    repoint(link, two);
    clock.t = 1499;
    expect(r.handle(REQUEST)).toBe(one);
    clock.t = 1500;
    expect(r.handle(REQUEST)).toBe(two);
    expect(r.opened).toEqual([one, two]);
    jest.restoreAllMocks();
  });

  it('makes no new release while the link points where it did', () => {
    const { link, one } = twoReleases();
    const clock = { t: 0 };
    const r = follow(link, 0, clock);
    for (let i = 0; i < 5; i++) {
      clock.t += 10;
      expect(r.handle(REQUEST)).toBe(one);
    }
    expect(r.opened).toEqual([one]);
  });

  it('makes a new release when the folder is replaced in place under the same path', () => {
    const base = fs.realpathSync(tempDir('pws-rel-'));
    const www = path.join(base, 'www');
    fs.mkdirSync(www);
    const clock = { t: 0 };
    jest.spyOn(log, 'info').mockImplementation(() => undefined);
    const r = follow(www, 0, clock);
    clock.t += 10;
    expect(r.handle(REQUEST)).toBe(www);
    expect(r.opened).toEqual([www]);
    fs.renameSync(www, `${www}-old`);
    fs.mkdirSync(www);
    clock.t += 10;
    expect(r.handle(REQUEST)).toBe(www);
    expect(r.opened).toEqual([www, www]);
    clock.t += 10;
    r.handle(REQUEST);
    expect(r.opened).toEqual([www, www]);
    jest.restoreAllMocks();
  });

  it('keeps the release it has when the new folder cannot be opened', () => {
    const { link, one, two } = twoReleases();
    const clock = { t: 0 };
    const warn = jest.spyOn(log, 'warn').mockImplementation(() => undefined);
    const releases = followReleases(link, 0, (rootReal) => {
      if (rootReal === two) throw new Error('unreadable');
      return { site: { root: siteRoot(rootReal) } as Site, handle: () => ({ status: 200, headers: {}, body: Buffer.from(rootReal) }) };
    }, () => clock.t);
    repoint(link, two);
    clock.t = 1;
    expect(((releases.handle(REQUEST) as Reply).body as Buffer).toString()).toBe(one);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining(`which cannot be served (unreadable); still serving ${one}`));
    jest.restoreAllMocks();
  });

  it('keeps the release it has when the link is swapped to a file, and warns once', () => {
    const { base, link, one } = twoReleases();
    const file = path.join(base, 'big.bin');
    fs.writeFileSync(file, 'x');
    const clock = { t: 0 };
    const warn = jest.spyOn(log, 'warn').mockImplementation(() => undefined);
    const r = follow(link, 0, clock);
    repoint(link, file);
    for (let i = 0; i < 3; i++) {
      clock.t += 10;
      expect(r.handle(REQUEST)).toBe(one);
    }
    expect(r.opened).toEqual([one]);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining(`now points to ${file}, which cannot be served (not a folder)`));
    jest.restoreAllMocks();
  });
});
