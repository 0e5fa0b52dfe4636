// Buffers on their way to sockets, counted, so that a cache can go on charging a buffer it has
// evicted until the last socket is done with it.
//
// A cache shares one buffer with every connection sending it. Evicting the entry does not free
// the buffer while a slow client still has it queued; without this, a cache budget would bound
// only what the cache still holds, and many stalled clients could each keep an evicted result
// alive. The sender calls sending() before it writes a body and sent() from the write's
// callback (which Node calls once the bytes are handed to the kernel, or the socket is gone).

const counts = new WeakMap<Buffer, number>();
const waiters = new WeakMap<Buffer, Array<() => void>>();

/** `buf` is about to be written to a socket. */
export function sending(buf: Buffer): void {
  counts.set(buf, (counts.get(buf) ?? 0) + 1);
}

/** One write of `buf` is finished (or failed); the last one wakes whenSent's waiter. */
export function sent(buf: Buffer): void {
  const n = (counts.get(buf) ?? 1) - 1;
  if (n > 0) {
    counts.set(buf, n);
    return;
  }
  counts.delete(buf);
  const done = waiters.get(buf);
  if (done !== undefined) {
    waiters.delete(buf);
    for (const f of done) f();
  }
}

/**
 * Calls `done` once no socket is writing `buf` any more, and returns true; returns false (and
 * never calls `done`) when none is writing it now. Several caches may wait on one buffer.
 */
export function whenSent(buf: Buffer, done: () => void): boolean {
  if (!counts.has(buf)) return false;
  const list = waiters.get(buf);
  if (list === undefined) waiters.set(buf, [done]);
  else list.push(done);
  return true;
}
