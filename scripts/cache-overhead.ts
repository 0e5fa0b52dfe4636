// `npm run cache-overhead`: what one reply-cache entry really costs beyond its body, against what
// the cache charges for it (ENTRY_OVERHEAD_BYTES and the rest of its accounting). Fills a cache
// with 20,000 replies shaped like those of 8 KiB files, head prebuilt, all sharing one body, and
// divides the growth of the V8 heap and of array buffers by the count.

import type { Reply } from '../src/contract/reply';
import { replyHead } from '../src/net/writer';
import { ReplyCache } from '../src/static/reply-cache';

const N = 20_000;
const gc = (globalThis as { gc?: () => void }).gc;

function main(): void {
  if (gc === undefined) {
    process.stderr.write('cache-overhead: run with node --expose-gc\n');
    process.exitCode = 1;
    return;
  }
  const cache = new ReplyCache({ maxBytes: 2 ** 40, maxFileBytes: 2 ** 30, validateMs: 1000 });
  const body = Buffer.alloc(8192, 1);
  gc();
  const before = process.memoryUsage();
  for (let i = 0; i < N; i++) {
    const mtimeMs = 1_700_000_000_000 + i;
    const etag = `"2000-${(mtimeMs * 1000).toString(16)}"`;
    const reply: Reply = {
      status: 200,
      headers: {
        contentType: 'application/octet-stream',
        lastModified: new Date(mtimeMs).toUTCString(),
        etag,
        cacheControl: 'public, max-age=0',
        acceptRanges: 'bytes',
      },
      body,
    };
    const info = { version: { path: `/srv/www/files/f${i}.bin`, dev: 2049, ino: 1000 + i, size: 8192, mtimeMs }, validators: { etag, lastModified: mtimeMs } };
    cache.set(`/files/f${i}.bin`, reply, info, 0);
    reply.wire?.set(0, 0, replyHead(reply, true, false));
  }
  gc();
  const after = process.memoryUsage();
  const real = (after.heapUsed - before.heapUsed + after.arrayBuffers - before.arrayBuffers) / N;
  const charged = cache.byteSize / N - body.length;
  process.stdout.write(`${N} entries of 8 KiB file replies: ${Math.round(real)} bytes each beyond the body in memory, ${Math.round(charged)} charged\n`);
}

main();
