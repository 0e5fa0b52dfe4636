// `npm run fleet-check` (as root): three PWS hosts behind HAProxy, each in a network namespace
// (scripts/fleet.ts), under both kinds of client at once, while
//   (a) a deploy rolls host by host (SIGHUP each: the host keeps listening, so it stays in rotation),
//   (b) one host is stopped for good (SIGTERM: LAME_DUCK_MS takes it out of rotation first),
//   (c) every process of another host is SIGKILLed,
// with HAProxy's retries off for (a) and (b). Prints what the clients saw in each phase.

import { Fleet, failedBetween, fleetUnavailable, STRICT_PORT, TOLERANT_PORT, type Host } from './fleet';
import { sleep } from './measure';

export interface PhaseResult {
  keepAlive: number;
  fresh: number;
  ok: number;
  failures: string[];
}

export interface FleetReport {
  rolling: PhaseResult;
  stopped: PhaseResult;
  killed: PhaseResult & { inFlight: number };
  /** Client addresses the first host logged: the PROXY headers' (HAProxy's clients), not HAProxy's own. */
  loggedClients: string[];
}

const LAME_DUCK_MS = Number(process.env.FLEET_LAME_DUCK_MS ?? 2000);
const LANES = 4;

async function rollingRestart(fleet: Fleet, host: Host): Promise<void> {
  const before = host.stdout().split('rolling restart finished').length;
  host.proc.kill('SIGHUP');
  const until = Date.now() + 60_000;
  while (host.stdout().split('rolling restart finished').length === before) {
    if (Date.now() > until) throw new Error(`${host.name}: the rolling restart did not finish`);
    await sleep(50);
  }
  // As a deploy script would: the next host only once this one is back in rotation.
  await fleet.waitStatus('strict', host.name, 'UP', 20_000);
}

export async function fleetCheck(say: (line: string) => void = () => undefined): Promise<FleetReport> {
  const fleet = await Fleet.create({ hosts: 3, workers: 2, lameDuckMs: LAME_DUCK_MS });
  try {
    const [h1, h2, h3] = fleet.hosts as [Host, Host, Host];
    say('3 hosts UP behind HAProxy; load running (keep-alive and new-connection clients)');
    const strict = await fleet.startClients(STRICT_PORT, LANES);
    await sleep(500);

    const s0 = await strict.stats();
    for (const h of fleet.hosts) {
      await rollingRestart(fleet, h);
      say(`${h.name}: rolling restart done, back UP`);
    }
    await sleep(500);
    const s1 = await strict.stats();

    const exited = new Promise((r) => h3.proc.once('exit', r));
    h3.proc.kill('SIGTERM');
    await exited;
    await fleet.waitStatus('strict', h3.name, 'DOWN', 20_000);
    say(`${h3.name}: stopped (SIGTERM), DOWN`);
    await sleep(500);
    const s2 = await strict.stats();
    await strict.stop();

    const tolerant = await fleet.startClients(TOLERANT_PORT, LANES);
    await sleep(500);
    const s3 = await tolerant.stats();
    // "In flight at the instant of the kill", measured exactly: h2 first hangs (SIGSTOP), as a
    // failing machine does, so that requests pile up on it; then HAProxy stops giving it new ones
    // (drain), so the sessions it reports on h2 are exactly those the kill will cut. Once nothing
    // listens on h2 any more (a dying process closes its sockets last), h2 is offered requests
    // again, and those must be redispatched, not lost.
    const pids = fleet.pidsOf(h2);
    for (const pid of pids) process.kill(pid, 'SIGSTOP');
    await sleep(300);
    await fleet.setState('tolerant', h2.name, 'drain');
    const inFlight = (await fleet.state('tolerant', h2.name)).scur;
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    while (fleet.listening(h2)) await sleep(5);
    await fleet.setState('tolerant', h2.name, 'ready');
    await fleet.waitStatus('tolerant', h2.name, 'DOWN', 20_000);
    say(`${h2.name}: every process SIGKILLed with ${inFlight} request(s) in flight on it, DOWN`);
    await sleep(1000);
    const s4 = await tolerant.stop();

    // h1 stops last: its access log is then complete.
    const h1Exit = new Promise((r) => h1.proc.once('exit', r));
    h1.proc.kill('SIGTERM');
    await h1Exit;

    const killed = failedBetween(s3, s4);
    return {
      rolling: failedBetween(s0, s1),
      stopped: failedBetween(s1, s2),
      killed: { ...killed, inFlight },
      loggedClients: [...fleet.loggedClients(h1)],
    };
  } finally {
    await fleet.destroy();
  }
}

function line(name: string, r: PhaseResult): string {
  return `${name.padEnd(44)} ${String(r.ok).padStart(7)} ok ${String(r.keepAlive).padStart(4)} failed keep-alive ${String(r.fresh).padStart(4)} failed new-connection`;
}

async function main(): Promise<void> {
  const why = fleetUnavailable();
  if (why !== null) throw new Error(`cannot run: ${why}`);
  const r = await fleetCheck((l) => process.stderr.write(`  ${l}\n`));
  const phases: Array<[string, PhaseResult, string]> = [
    ['(a) rolling SIGHUP, 3 hosts (retries 0)', r.rolling, ''],
    ['(b) one host SIGTERMed (retries 0)', r.stopped, ''],
    ['(c) one host SIGKILLed (redispatch on)', r.killed, `; ${r.killed.inFlight} in flight on it`],
  ];
  for (const [name, result, extra] of phases) {
    process.stdout.write(`${line(name, result)}${extra}\n`);
    for (const f of result.failures) process.stdout.write(`  failure: ${f}\n`);
  }
  process.stdout.write(`client addresses logged by h1: ${r.loggedClients.join(', ')}\n`);
  const ok = r.rolling.keepAlive + r.rolling.fresh + r.stopped.keepAlive + r.stopped.fresh === 0 && r.killed.keepAlive + r.killed.fresh <= r.killed.inFlight;
  process.exitCode = ok ? 0 : 1;
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`fleet-check: ${(err as Error).message}\n`);
    process.exitCode = 1;
  });
}
