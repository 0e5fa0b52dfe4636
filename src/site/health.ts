// HEALTH_PATH: the load balancer's probe, answered before anything else — 200 while serving,
// 503 once the worker retires (its lame duck, then its drain), so that traffic moves away before
// it stops. METRICS_PATH is answered the same way, before the site.

import type { Reply } from '../contract/reply';
import type { Handler, Request } from '../contract/request';

const OK: Reply = { status: 200, headers: { contentType: 'text/plain; charset=utf-8', cacheControl: 'no-store' }, body: Buffer.from('ok\n') };
const RETIRING: Reply = { status: 503, headers: { contentType: 'text/plain; charset=utf-8', cacheControl: 'no-store' }, body: Buffer.from('retiring\n') };

/** The path of an origin-form target, without its query. */
function targetPath(target: string): string {
  const q = target.indexOf('?');
  return q === -1 ? target : target.slice(0, q);
}

/** `next`, except for GET/HEAD of `path` (null: no health path). */
export function withHealth(path: string | null, isRetiring: () => boolean, next: Handler): Handler {
  return withPath(path, () => (isRetiring() ? RETIRING : OK), next);
}

/** `next`, except for GET/HEAD of `path` (null: none), answered by `answer`: the metrics scrape. */
export function withPath(path: string | null, answer: (req: Request) => Reply, next: Handler): Handler {
  if (path === null) return next;
  return (req) => ((req.method === 'GET' || req.method === 'HEAD') && targetPath(req.target) === path ? answer(req) : next(req));
}
