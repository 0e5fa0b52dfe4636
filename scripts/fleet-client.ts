// The load of the fleet check, run inside the balancer's network namespace (where HAProxy listens
// on loopback): both kinds of client at once against one port, expecting the fleet's files.
//
//   node build/scripts/fleet-client.js <port> <site dir> <lanes per kind>
//
// Commands on standard input, one per line: `stats` prints the counts so far as one JSON line;
// `stop` stops sending, prints the final counts and exits.

import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { LoadClient, type Http1Kind, type LoadStats } from './load';

export type FleetStats = Record<Http1Kind, LoadStats>;

function main(): void {
  const [portArg, siteDir, lanesArg] = process.argv.slice(2);
  const port = Number(portArg);
  const lanes = Number(lanesArg);
  if (!(port > 0) || siteDir === undefined || !(lanes > 0)) {
    process.stderr.write('usage: fleet-client <port> <site dir> <lanes per kind>\n');
    process.exit(2);
  }
  const expected = new Map([
    ['/', fs.readFileSync(path.join(siteDir, 'index.html'))],
    ['/asset.bin', fs.readFileSync(path.join(siteDir, 'asset.bin'))],
  ]);
  const clients: Record<Http1Kind, LoadClient> = {
    'keep-alive': new LoadClient({ port, lanes, expected, maxMs: 600_000 }).start(),
    'new-connection': new LoadClient({ port, lanes, expected, kind: 'new-connection', maxMs: 600_000 }).start(),
  };
  const stats = (): FleetStats => ({ 'keep-alive': clients['keep-alive'].stats, 'new-connection': clients['new-connection'].stats });
  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line === 'stats') process.stdout.write(`${JSON.stringify(stats())}\n`);
    if (line === 'stop') {
      void Promise.all([clients['keep-alive'].stop(), clients['new-connection'].stop()]).then(() => {
        process.stdout.write(`${JSON.stringify(stats())}\n`);
        process.exit(0);
      });
    }
  });
  // The orchestrator gone: stop at once rather than load the namespace forever.
  lines.on('close', () => process.exit(0));
}

if (require.main === module) main();
