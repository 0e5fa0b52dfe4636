// The HTTP/2 rows of `npm run bench`: h2load (nghttp2's load generator) with 10 sessions of 10
// concurrent streams each, against PWS over TLS, nginx (`listen … ssl http2`, same certificate)
// and a bare node:http2 server answering one prebuilt page (Node's floor). Two workloads: one
// 1 KB page, and a page's worth of assets (40 files of 2–12 KB, fetched in turn). As for wrk, all
// servers run at once and h2load visits them in turn, round by round; each cell is the median.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fmt, ratio } from './bench-report';
import { startPeer, startPws, WORKERS, type Server } from './bench-servers';
import { startNginx, which } from './nginx';
import { children, cpuSecondsOf, percentile, selfSignedCert, sleep } from './measure';

export const ASSETS = 40;
const SAME_FIELDS = 'node:http2 (PWS fields)';

interface H2Result {
  rps: number;
  failed: number;
  /** CPU time of the server's workers (user + system) per request answered, µs. */
  cpuUs: number;
}

interface H2Workload {
  name: string;
  target: string;
  paths: string[];
}

/** Writes the asset files into `dir` and a self-signed certificate into a temporary folder of its own; returns the certificate's paths. */
export function prepareH2(dir: string): { cert: string; key: string } {
  fs.mkdirSync(path.join(dir, 'assets'), { recursive: true });
  for (let i = 0; i < ASSETS; i++)
    fs.writeFileSync(path.join(dir, 'assets', `a${i}.css`), `.c${i} { color: #${String(i).padStart(6, '0')}; }\n`.repeat(60 + ((i * 37) % 250)));
  const { cert, key } = selfSignedCert(fs.mkdtempSync(path.join(os.tmpdir(), 'pws-bench-tls-')));
  return { cert, key };
}

/** One h2load run against `port`, with the CPU time the processes `workers` spent on it. */
function h2load(port: number, paths: string[], seconds: number, workers: readonly number[]): H2Result {
  const urls = paths.map((p) => `https://127.0.0.1:${port}${p}`);
  const before = cpuSecondsOf(workers);
  const r = spawnSync('h2load', ['-c10', '-m10', `-D${seconds}`, '--warm-up-time=0', ...urls], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  const used = cpuSecondsOf(workers) - before;
  const out = `${r.stdout}${r.stderr}`;
  const done = /finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(out);
  const counts = /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed/.exec(out);
  const succeeded = counts ? Number(counts[1]) : 0;
  return { rps: done ? Number(done[1]) : 0, failed: counts ? Number(counts[2]) : -1, cpuUs: succeeded > 0 ? (used * 1e6) / succeeded : NaN };
}

export function h2loadVersion(): string {
  const r = spawnSync('h2load', ['--version'], { encoding: 'utf8' });
  return /nghttp2\/[\d.]+/.exec(r.stdout)?.[0] ?? 'h2load';
}

/** Runs the HTTP/2 rows; returns a Markdown table, or null when h2load is missing. */
export async function benchH2(
  dir: string,
  seconds: number,
  rounds: number,
  log: (line: string) => void,
  lts: { name: string; node: string } | null = null,
): Promise<string | null> {
  if (!which('h2load')) {
    log('h2load not found: install nghttp2-client for the HTTP/2 rows');
    return null;
  }
  const { cert, key } = prepareH2(dir);
  const nginx = which('nginx');
  const servers: Array<[string, () => Promise<Server>]> = [['pws', () => startPws(dir, { TLS_CERT: cert, TLS_KEY: key })]];
  if (lts !== null) servers.push([lts.name, () => startPws(dir, { TLS_CERT: cert, TLS_KEY: key }, undefined, lts.node)]);
  if (nginx) {
    servers.push([
      'nginx',
      async () => ({
        name: 'nginx',
        ...(await startNginx(nginx, {
          root: dir,
          workers: WORKERS,
          listen: 'ssl http2',
          http: 'sendfile on;\n  keepalive_requests 1000000;\n  open_file_cache max=1000 inactive=60s;',
          server: `ssl_certificate ${cert};\n    ssl_certificate_key ${key};`,
        })),
      }),
    ]);
  }
  servers.push(['node:http2 (bare)', () => startPeer('bare-h2', dir, WORKERS, { BENCH_CERT: cert, BENCH_KEY: key })]);
  // The same floor sending the fields PWS sends (ten, where the bare server sends four).
  servers.push([SAME_FIELDS, () => startPeer('bare-h2', dir, WORKERS, { BENCH_CERT: cert, BENCH_KEY: key, BENCH_FIELDS: 'pws' })]);
  const workloads: H2Workload[] = [
    { name: 'HTTP/2 1 KB, h2load -c10 -m10', target: '≥ 1.0× nginx, or ≥ 0.95× bare node:http2', paths: ['/index.html'] },
    {
      name: `HTTP/2 ${ASSETS}-asset page, h2load -c10 -m10`,
      target: '≥ 1.0× nginx, or ≥ 0.95× bare node:http2',
      paths: Array.from({ length: ASSETS }, (_, i) => `/assets/a${i}.css`),
    },
  ];
  const running: Array<{ name: string; server: Server; processes: number[] }> = [];
  try {
    for (const [name, start] of servers) {
      const server = await start();
      // The primary (or nginx's master) and its workers: a round-robin primary accepts for them.
      running.push({ name, server, processes: [server.pid, ...children(server.pid)] });
    }
    const results = new Map<string, Map<string, H2Result[]>>(running.map(({ name }) => [name, new Map()]));
    for (const w of workloads) {
      log(w.name);
      for (let round = 0; round <= rounds; round++) {
        for (const { name, server, processes } of running) {
          // The bare server answers one page to everything: only the 1 KB row means anything.
          if (name.startsWith('node:http2') && w.paths.length > 1) continue;
          await sleep(300);
          const r = h2load(server.port, w.paths, round === 0 ? 1 : seconds, processes);
          if (round === 0) continue;
          const per = results.get(name);
          per?.set(w.name, [...(per.get(w.name) ?? []), r]);
          log(
            `  ${round}  ${name.padEnd(18)} ${fmt(r.rps).padStart(9)} req/s  ${fmt(r.cpuUs, 1).padStart(6)} µs CPU/req${r.failed !== 0 ? `  failed ${r.failed}` : ''}`,
          );
        }
      }
    }
    const median = (rs: H2Result[]): H2Result => [...rs].sort((a, b) => a.rps - b.rps)[Math.floor(rs.length / 2)] ?? { rps: NaN, failed: 0, cpuUs: NaN };
    /** The median of a workload's rounds of CPU per request: unlike req/s, it does not depend on how h2load's ten connections fall on the workers. */
    const cpuMedian = (name: string, w: string): number =>
      percentile(
        (results.get(name)?.get(w) ?? []).map((r) => r.cpuUs),
        50,
      );
    const value = (name: string, w: string): H2Result | undefined => {
      const rs = results.get(name)?.get(w);
      return rs === undefined || rs.length === 0 ? undefined : median(rs);
    };
    const names = running.map(({ name }) => name);
    const lines = [
      `| workload | ${names.map((n) => `${n} req/s`).join(' | ')} | PWS/nginx | PWS/bare node:http2 (in brackets: with PWS fields) |${lts === null ? '' : ` ${lts.name}/nginx | ${lts.name}/bare node:http2 (in brackets: with PWS fields) |`} target |`,
      `|---|${names.map(() => '---:').join('|')}|---:|---:|${lts === null ? '' : '---:|---:|'}---|`,
    ];
    for (const w of workloads) {
      const cell = (n: string): string => {
        const r = value(n, w.name);
        return r === undefined ? '—' : `${fmt(r.rps)}${r.failed !== 0 ? ` ⚠ ${r.failed} failed` : ''}`;
      };
      const versus = (server: string): string => {
        const rps = value(server, w.name)?.rps ?? NaN;
        const bare = (name: string): string => ratio(rps / (value(name, w.name)?.rps ?? NaN), 2);
        return `${ratio(rps / (value('nginx', w.name)?.rps ?? NaN), 2)} | ${bare('node:http2 (bare)')} (${bare(SAME_FIELDS)}) |`;
      };
      lines.push(`| ${w.name} | ${names.map(cell).join(' | ')} | ${versus('pws')}${lts === null ? '' : ` ${versus(lts.name)}`} ${w.target} |`);
    }
    lines.push(
      '',
      "CPU time per request, µs (user + system of the server's processes over each round, median round), and the floor's over PWS's (1.0×: as cheap as the floor):",
      '',
      `| workload | ${names.map((n) => `${n} µs`).join(' | ')} | floor (PWS fields)/PWS |${lts === null ? '' : ` floor (PWS fields)/${lts.name} |`}`,
      `|---|${names.map(() => '---:').join('|')}|---:|${lts === null ? '' : '---:|'}`,
    );
    for (const w of workloads) {
      const floor = (server: string): string => ratio(cpuMedian(SAME_FIELDS, w.name) / cpuMedian(server, w.name), 2);
      lines.push(
        `| ${w.name} | ${names.map((n) => fmt(cpuMedian(n, w.name), 1)).join(' | ')} | ${floor('pws')} |${lts === null ? '' : ` ${floor(lts.name)} |`}`,
      );
    }
    return lines.join('\n');
  } finally {
    for (const { server } of running) await server.stop();
    fs.rmSync(path.dirname(cert), { recursive: true, force: true });
  }
}
