// wrk, as the benchmark drives it: one run of a workload against a port, parsed into figures.

import { execFileSync, spawnSync } from 'node:child_process';
import { percentile } from './measure';

export interface Workload {
  name: string;
  target: string;
  path: string;
  connections: number;
  headers?: string[];
  script?: string;
  /** Compare throughput (bytes/s) rather than requests/s. */
  throughput?: boolean;
}

export interface Result {
  rps: number;
  p99: number;
  bytesPerSec: number;
  errors: number;
}

function parseWrk(out: string): Result {
  const num = (re: RegExp): number => Number(re.exec(out)?.[1] ?? NaN);
  const unit = (value: number, u: string): number => value * ({ us: 0.001, ms: 1, s: 1000 }[u] ?? 1);
  const p99 = /99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const transfer = /Transfer\/sec:\s+([\d.]+)(B|KB|MB|GB)/.exec(out);
  const scale: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = num(/Non-2xx or 3xx responses: (\d+)/);
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p99: p99 ? unit(Number(p99[1]), p99[2] ?? 'ms') : NaN,
    bytesPerSec: transfer ? Number(transfer[1]) * (scale[transfer[2] ?? 'B'] ?? 1) : NaN,
    errors: (socketErrors ? socketErrors.slice(1).reduce((n, v) => n + Number(v), 0) : 0) + (Number.isNaN(non2xx) ? 0 : non2xx),
  };
}

export function runWrk(port: number, w: Workload, headers: string[], seconds: number): Result {
  const args = ['-t1', `-c${w.connections}`, `-d${seconds}s`, '--latency', '--timeout', '10s'];
  for (const h of headers) args.push('-H', h);
  if (w.script) args.push('-s', w.script);
  args.push(`http://127.0.0.1:${port}${w.path}`);
  const out = execFileSync('wrk', args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  return parseWrk(out);
}

/** The median of each figure over the rounds of one cell (errors: the most any round had). */
export function medianOf(rs: Result[]): Result {
  return {
    rps: percentile(
      rs.map((r) => r.rps),
      50,
    ),
    p99: percentile(
      rs.map((r) => r.p99),
      50,
    ),
    bytesPerSec: percentile(
      rs.map((r) => r.bytesPerSec),
      50,
    ),
    errors: Math.max(...rs.map((r) => r.errors)),
  };
}

export function wrkVersion(): string {
  const r = spawnSync('wrk', ['-v'], { encoding: 'utf8' });
  return /wrk (\S+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? '?';
}
