// Starts PWS's app and HTTP/1.1 transport inside the test process on a free port: the whole
// request path (parser, connection, handler, caches, writer) without a cluster to spawn. Process-
// level behaviour (workers, signals, pm2, the CLI) is tested with startServer instead.

import type net from 'node:net';
import { createPwsServer, type PwsServer } from '../../src/app';
import { loadConfig } from '../../src/config';
import { tempDir } from './server';

export interface InProcess {
  port: number;
  pws: PwsServer;
  stop(): Promise<void>;
}

export interface InProcessOptions {
  staticDir: string;
  /** Variables as in the environment (ACCESS_LOG defaults to off here). */
  env?: Record<string, string>;
  /** Working directory for relative paths and .env; a fresh empty one by default. */
  cwd?: string;
}

/** A server answering like one PWS worker with these settings, listening on 127.0.0.1:0. */
export async function startInProcess(opts: InProcessOptions): Promise<InProcess> {
  const cwd = opts.cwd ?? tempDir('pws-cwd-');
  const config = loadConfig({ STATIC_DIR: opts.staticDir, ACCESS_LOG: 'off', HOST: '127.0.0.1', PORT: '0', ...opts.env }, cwd);
  // A run folder of its own: servers of one test process must not sum each other's metrics.
  const pws = createPwsServer(config, tempDir('pws-metrics-'));
  pws.metrics?.start();
  await new Promise<void>((resolve) => pws.server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (pws.server.address() as net.AddressInfo).port,
    pws,
    stop: async () => {
      pws.metrics?.close();
      pws.destroyAll();
      await new Promise((resolve) => pws.server.close(resolve));
    },
  };
}
