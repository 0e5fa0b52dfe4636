// `npm run idle-memory`: what one idle keep-alive connection costs a worker. Starts PWS with one
// worker, opens N connections (default 10,000) that each complete one request and then stay
// idle, and divides the worker's memory growth by N. It measures twice: with Node's default
// flags (the growth then includes the requests' garbage not yet collected) and with a small
// young generation (garbage collected as it goes: what the connections themselves hold).

import { children, IDLE_MEASUREMENTS, idleGrowth, startPws } from './measure';

/** Bytes per idle connection of a one-worker PWS started with `nodeOptions`. */
export async function measureIdle(count: number, nodeOptions = ''): Promise<{ rss: number; privateDirty: number }> {
  const pws = await startPws({ WORKERS: '1', KEEP_ALIVE_TIMEOUT_MS: '600000', MAX_CONNECTIONS: String(count + 300), NODE_OPTIONS: nodeOptions });
  try {
    const [worker = -1] = children(pws.proc.pid ?? -1);
    return await idleGrowth(pws.port, worker, count);
  } finally {
    await pws.stop();
  }
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 10_000);
  for (const { label, flags } of IDLE_MEASUREMENTS) {
    const r = await measureIdle(count, flags);
    process.stdout.write(
      `${count} idle keep-alive connections (${label}): ${Math.round(r.rss)} bytes RSS, ${Math.round(r.privateDirty)} bytes private dirty per connection\n`,
    );
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`idle-memory: ${(err as Error).message}\n`);
    process.exitCode = 1;
  });
}
