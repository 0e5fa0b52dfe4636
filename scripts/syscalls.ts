// Syscalls per request: a figure that does not drift with the machine. strace counts every system
// call the server's worker processes make while wrk sends a fixed workload; the total divided by
// the requests wrk completed is what one request costs the kernel interface.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { children, sleep } from './measure';
import { runWrk, type Workload } from './wrk';

/** The total of the "calls" column of `strace -c`'s summary. */
function totalCalls(summary: string): number {
  const line = summary.split('\n').find((l) => /\btotal$/.test(l.trim()));
  const fields = line?.trim().split(/\s+/) ?? [];
  // % time, seconds, usecs/call, calls, [errors,] total
  return Number(fields[3] ?? NaN);
}

/**
 * System calls per request of the server whose primary (or master) is `pid`, over `seconds` of
 * `workload` with strace attached to every one of its worker processes (which slows them: only the
 * count is meaningful). NaN when strace is missing or attaching fails.
 */
export async function syscallsPerRequest(pid: number, port: number, workload: Workload, seconds = 2): Promise<number> {
  const workers = children(pid);
  if (workers.length === 0) return NaN;
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pws-strace-')), 'summary.txt');
  const strace = spawn('strace', ['-c', '-f', '-q', '-o', out, ...workers.flatMap((w) => ['-p', String(w)])], { stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => {
    strace.once('exit', (code) => resolve(code));
    strace.once('error', () => resolve(-1));
  });
  await sleep(500); // attached
  const r = runWrk(port, workload, [], seconds);
  strace.kill('SIGINT');
  await exited;
  let summary: string;
  try {
    summary = fs.readFileSync(out, 'utf8');
  } catch {
    return NaN;
  } finally {
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  }
  const requests = r.rps * seconds;
  return requests > 0 ? totalCalls(summary) / requests : NaN;
}
