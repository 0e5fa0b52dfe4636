// Several hosts behind a real load balancer (scripts/fleet.ts): three PWS hosts in network
// namespaces behind HAProxy, under keep-alive and new-connection clients at once. A rolling
// deploy and a host stopped for good lose no request with HAProxy's retries off; a host whose
// every process is SIGKILLed loses at most the requests in flight on it; each host logs the
// clients its PROXY headers name, not the balancer.
//
// It needs root, `ip` and `haproxy`. Elsewhere it is skipped with a notice, unless
// PWS_REQUIRE_FLEET=1 (set by .ci/run, which installs HAProxy and runs as root) makes that an error.

import { describe, expect, it } from '@jest/globals';
import { fleetUnavailable } from '../../scripts/fleet';
import { fleetCheck } from '../../scripts/fleet-check';

const why = fleetUnavailable();
if (why !== null && process.env.PWS_REQUIRE_FLEET === '1') throw new Error(`fleet.test.ts cannot run (${why}) but PWS_REQUIRE_FLEET=1`);
if (why !== null) process.stderr.write(`fleet.test.ts: ${why}; the fleet test is skipped\n`);
const describeFleet = why === null ? describe : describe.skip;

describeFleet('a fleet behind HAProxy', () => {
  it('rolls a deploy and stops a host with zero failed requests (retries off), and loses at most the in-flight requests of a killed host', async () => {
    const r = await fleetCheck();
    process.stderr.write(
      `fleet: rolling ${r.rolling.ok} ok ${r.rolling.keepAlive}+${r.rolling.fresh} failed; stop ${r.stopped.ok} ok ${r.stopped.keepAlive}+${r.stopped.fresh} failed; ` +
        `kill ${r.killed.ok} ok ${r.killed.keepAlive + r.killed.fresh} failed of ${r.killed.inFlight} in flight\n`,
    );
    expect(r.rolling.failures).toEqual([]);
    expect(r.rolling.keepAlive + r.rolling.fresh).toBe(0);
    expect(r.rolling.ok).toBeGreaterThan(500);
    expect(r.stopped.failures).toEqual([]);
    expect(r.stopped.keepAlive + r.stopped.fresh).toBe(0);
    expect(r.stopped.ok).toBeGreaterThan(100);
    expect(r.killed.keepAlive + r.killed.fresh).toBeLessThanOrEqual(r.killed.inFlight);
    expect(r.killed.ok).toBeGreaterThan(100);
    // HAProxy's clients are on its loopback: every request line names 127.0.0.1, never the balancer.
    expect(r.loggedClients).toEqual(['127.0.0.1']);
  }, 240_000);
});
