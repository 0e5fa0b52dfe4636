// A/B measurement that does not drift with the machine: two PWS servers (one worker each) run side
// by side, wrk visits them in alternating rounds (the order flipped every round), and each round
// also records the worker's CPU time per request from /proc, which load on the machine moves far
// less than throughput.

import { children, cpuSeconds, percentile, startPws } from './measure';
import { runWrk, type Workload } from './wrk';

export interface Side {
  label: string;
  env: Record<string, string>;
}

export interface SideResult {
  label: string;
  rps: number[];
  /** CPU time of the worker (user + system) per request, µs, each round. */
  cpuUs: number[];
}

/** Runs `rounds` alternating rounds of `seconds` of `workload` against each side, after a 1 s warm-up. */
export async function alternate(sides: readonly [Side, Side], workload: Workload, rounds: number, seconds: number): Promise<[SideResult, SideResult]> {
  const servers = await Promise.all(sides.map((s) => startPws({ WORKERS: '1', ...s.env })));
  const results: [SideResult, SideResult] = [
    { label: sides[0].label, rps: [], cpuUs: [] },
    { label: sides[1].label, rps: [], cpuUs: [] },
  ];
  try {
    const workers = servers.map((s) => children(s.proc.pid ?? -1)[0] ?? -1);
    for (const s of servers) runWrk(s.port, workload, [], 1);
    for (let round = 0; round < rounds; round++) {
      for (const i of round % 2 === 0 ? [0, 1] : [1, 0]) {
        const server = servers[i];
        const result = results[i];
        const worker = workers[i];
        if (server === undefined || result === undefined || worker === undefined) continue;
        const cpu = cpuSeconds(worker);
        const r = runWrk(server.port, workload, [], seconds);
        if (r.errors > 0) throw new Error(`${r.errors} errors in a round of ${result.label}`);
        result.rps.push(r.rps);
        result.cpuUs.push(((cpuSeconds(worker) - cpu) * 1e6) / (r.rps * seconds));
      }
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
  return results;
}

/** One line per side: median req/s and CPU µs per request, with every round. */
export function report(results: readonly SideResult[]): string {
  const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
  const width = Math.max(...results.map((r) => r.label.length));
  return results
    .map(
      (r) =>
        `  ${r.label.padEnd(width)}  ${fmt(percentile(r.rps, 50))} req/s, ${percentile(r.cpuUs, 50).toFixed(1)} µs CPU per request` +
        `   rounds: ${r.rps.map(fmt).join(', ')} req/s; ${r.cpuUs.map((c) => c.toFixed(1)).join(', ')} µs`,
    )
    .join('\n');
}
