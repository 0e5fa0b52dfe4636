// `npm run idle-memory`: what one idle keep-alive connection costs a worker. Starts PWS with one
// worker, opens N connections (default 10,000) that each complete one request and then stay
// idle, and divides the worker's memory growth by N.

import net from 'node:net';
import { children, memory, sleep, startPws } from './measure';

async function openIdle(port: number, count: number): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  const batch = 500;
  for (let i = 0; i < count; i += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, count - i) }, () =>
        new Promise<void>((resolve, reject) => {
          const s = net.connect(port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n'));
          s.once('data', () => resolve());
          s.once('error', reject);
          sockets.push(s);
        }),
      ),
    );
  }
  return sockets;
}

/** Measures and returns bytes per idle connection (RSS and private dirty growth). */
export async function measureIdle(count: number): Promise<{ rssPerConn: number; privatePerConn: number; count: number }> {
  const pws = await startPws({ WORKERS: '1', KEEP_ALIVE_TIMEOUT_MS: '600000', MAX_CONNECTIONS: String(count + 100) });
  try {
    const [worker] = children(pws.proc.pid ?? -1);
    // Warm up: code paths compiled, buffers allocated, then let the heap settle.
    (await openIdle(pws.port, 200)).forEach((s) => s.destroy());
    await sleep(1500);
    const before = memory(worker);
    const sockets = await openIdle(pws.port, count);
    await sleep(1500);
    const after = memory(worker);
    sockets.forEach((s) => s.destroy());
    return { rssPerConn: (after.rss - before.rss) / count, privatePerConn: (after.privateDirty - before.privateDirty) / count, count };
  } finally {
    await pws.stop();
  }
}

if (require.main === module) {
  const count = Number(process.argv[2] ?? 10_000);
  measureIdle(count).then(
    (r) => process.stdout.write(`${r.count} idle keep-alive connections: ${Math.round(r.rssPerConn)} bytes RSS, ${Math.round(r.privatePerConn)} bytes private dirty per connection\n`),
    (err: unknown) => {
      process.stderr.write(`idle-memory: ${(err as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
