// The messages between a worker and its primary (ours, or pm2's daemon), typed and checked.

/** What a worker tells its primary. */
export type WorkerMessage =
  /** Its main server listens, on this port. */
  | { type: 'pws:listening'; port: number }
  /** It cannot listen; the primary prints `message` and exits with it. */
  | { type: 'pws:listen-error'; message: string };

/** Message a primary sends a worker (pm2 sends the same string) to start a graceful stop. */
export const SHUTDOWN = 'shutdown';

/**
 * What PWS's own primary sends an old worker in a rolling restart instead of SHUTDOWN: drain at
 * once, without the lame duck, since its replacement already listens and the host stays in its
 * load balancer's rotation (a rolling restart loses no request without one: `npm run fleet-check`).
 */
export const DRAIN = 'pws:drain';

/** The WorkerMessage `msg` is, or null for anything else (pm2's own messages, say). */
export function workerMessage(msg: unknown): WorkerMessage | null {
  if (typeof msg !== 'object' || msg === null) return null;
  const m = msg as Record<string, unknown>;
  if (m.type === 'pws:listening' && typeof m.port === 'number') return { type: m.type, port: m.port };
  if (m.type === 'pws:listen-error' && typeof m.message === 'string') return { type: m.type, message: m.message };
  return null;
}

/** Sends `msg` to the primary, if there is one; `done` runs once it is sent (or at once without one). */
export function tellPrimary(msg: WorkerMessage, done?: () => void): void {
  if (process.send) process.send(msg, () => done?.());
  else done?.();
}
