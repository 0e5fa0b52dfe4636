// Entry point: the node:cluster primary forks workers; a worker (ours or pm2's) serves.

import cluster from 'node:cluster';
import { ConfigError, loadConfig, type Config } from './config';
import { runPrimary } from './cluster/primary';
import { runWorker } from './cluster/worker';

function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`pws: ${err.message}\n`);
    process.exit(1);
  }
}

const config = configOrExit();
if (cluster.isPrimary) runPrimary(config);
else runWorker(config);
