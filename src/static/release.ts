// Atomic content deploys: STATIC_DIR may be a symlink that a deploy swaps to a new release folder
// (`current → releases/42`). Its real path is looked at again at most every CACHE_VALIDATE_MS;
// when it changed, or still names the same path but another folder (one replaced in place), a
// new Site is made for the new folder, with a reply cache of its own, and
// requests from then on are served from it. A request keeps the Site it started with, so one
// response never mixes two releases (its file, index, fallback, error page), and the root wall
// is the new folder's.

import fs from 'node:fs';
import type { Handler } from '../contract/request';
import { log } from '../log';
import { sameRoot } from './files';
import type { Site } from './site';

export interface Release {
  site: Site;
  handle: Handler;
}

export interface Releases {
  /** Serves each request from the release current when it arrives. */
  handle: Handler;
  /** The release requests are served from now. */
  current(): Release;
}

/**
 * Follows `staticDir` to its real path, checking again after `validateMs` (at every request when
 * 0); `open` makes the Site and handler of a release folder (a real path). `now` is the clock.
 */
export function followReleases(staticDir: string, validateMs: number, open: (rootReal: string) => Release, now: () => number = Date.now): Releases {
  let release = open(fs.realpathSync(staticDir));
  let checked = now();
  let lastError = '';
  const check = (): void => {
    let real: string;
    try {
      real = fs.realpathSync(staticDir);
    } catch (err) {
      // Mid-swap or removed: keep serving the release we have, and say so once per cause.
      const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      if (why !== lastError) log.warn(`STATIC_DIR ${staticDir} cannot be resolved (${why}); still serving ${release.site.root.real}`);
      lastError = why;
      return;
    }
    // The same path can name another folder: one replaced in place (`rm -rf www && mv new www`).
    const inPlace = real === release.site.root.real;
    if (inPlace && sameRoot(release.site.root)) {
      lastError = '';
      return;
    }
    // Only a folder can be a release (as at start-up): a link swapped to a file, say, is a
    // deploy mistake, and the site it replaced is still there to serve.
    let why: string | null = null;
    try {
      if (!fs.statSync(real).isDirectory()) why = 'not a folder';
    } catch (err) {
      why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    }
    if (why === null) {
      try {
        release = open(real);
      } catch (err) {
        why = (err as Error).message;
      }
    }
    if (why !== null) {
      if (`${real}:${why}` !== lastError) log.warn(`STATIC_DIR ${staticDir} now points to ${real}, which cannot be served (${why}); still serving ${release.site.root.real}`);
      lastError = `${real}:${why}`;
      return;
    }
    lastError = '';
    log.info(inPlace ? `STATIC_DIR ${staticDir}: ${real} was replaced; serving the new folder` : `STATIC_DIR ${staticDir} now points to ${real}: serving it`);
  };
  return {
    handle: (req) => {
      const t = now();
      if (t - checked >= validateMs) {
        checked = t;
        check();
      }
      return release.handle(req);
    },
    current: () => release,
  };
}
