// `npm run bench`: PWS against nginx and the Node peers, same machine, same run, same files,
// same worker count, measured with wrk on loopback. Prints one table (req/s, p99, ratio), and
// writes docs/benchmarks.md and docs/benchmarks.svg.
//
//   npm run bench                      all workloads, a 1 s warm-up and 3 rounds of 3 s per server
//   BENCH_SECONDS=10 npm run bench     longer runs
//   BENCH_ROUNDS=5 npm run bench       more rounds (each cell reports the median round)
//   BENCH_ONLY=pws,nginx npm run bench only these servers (add h2 for the HTTP/2 rows)
//   BENCH_BASELINE=<git ref> npm run bench
//                                      also builds PWS at that commit (a git worktree in a temporary
//                                      folder) and runs it beside the current build, with a
//                                      PWS/baseline column (the access-log and idle-memory rows are
//                                      skipped, and docs/ left as they are)
//
// All servers run at once and wrk visits them in turn, workload by workload and round by round:
// this machine's speed drifts by tens of percent over minutes, and measuring one server after
// another would turn that drift into differences between servers.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { children, cpuSecondsOf, IDLE_MEASUREMENTS, idleGrowth, percentile, REPO, sleep } from './measure';
import { fmt, ratio, svgChart } from './bench-report';
import { benchH2, h2loadVersion } from './bench-h2';
import { buildBaseline, etagOf, ltsNode, nodeVersion, startBenchNginx, startPeer, startPws, WORKERS, type Server } from './bench-servers';
import { syscallsPerRequest } from './syscalls';
import { which } from './nginx';
import { medianOf, runWrk, wrkVersion, type Result, type Workload } from './wrk';

const SECONDS = Number(process.env.BENCH_SECONDS) || 3;
const ROUNDS = Number(process.env.BENCH_ROUNDS) || 3;
const ONLY = process.env.BENCH_ONLY?.split(',');
const BASELINE = process.env.BENCH_BASELINE?.trim() || null;

/** The files every server serves. */
function makeSite(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pws-bench-'));
  fs.chmodSync(dir, 0o755); // nginx's workers run as an unprivileged user
  const text = (n: number): string => 'PWS benchmark page. '.repeat(Math.ceil(n / 20)).slice(0, n);
  fs.writeFileSync(path.join(dir, 'index.html'), text(1024));
  fs.writeFileSync(path.join(dir, '100k.bin'), Buffer.alloc(100 * 1024, 7));
  fs.writeFileSync(path.join(dir, '10m.bin'), Buffer.alloc(10 * 1024 * 1024, 9));
  fs.mkdirSync(path.join(dir, 'files'));
  // 10,000 files of 8 KiB: 80 MiB of bodies, more than PWS's 72 MiB response cache (bodies and overhead) and nginx's
  // 1,000-entry open_file_cache.
  const block = Buffer.alloc(8192, 1);
  for (let i = 0; i < 10_000; i++) fs.writeFileSync(path.join(dir, 'files', `f${i}.bin`), block);
  return dir;
}

/** Memory per idle keep-alive connection of a server with one worker, over 10,000 connections. */
async function idleBytes(server: Server): Promise<number> {
  const [worker] = children(server.pid);
  return (await idleGrowth(server.port, worker ?? server.pid, 10_000, '/index.html')).rss;
}

async function main(): Promise<void> {
  if (!which('wrk')) {
    process.stderr.write('bench: wrk is not installed. On Debian/Ubuntu: sudo apt-get install wrk (and nginx-light to compare with nginx)\n');
    process.exitCode = 1;
    return;
  }
  const nginx = which('nginx');
  const dir = makeSite();
  const lua = path.join(dir, '..', `random-${process.pid}.lua`);
  fs.writeFileSync(lua, 'request = function()\n  return wrk.format("GET", "/files/f" .. math.random(0, 9999) .. ".bin")\nend\n');

  const workloads: Workload[] = [
    {
      name: '1 KB, keep-alive, 50 conns',
      target: '≥ 1.0× nginx (≥ 0.97× bare node:net where it is below nginx), ≥ 5× best Node peer, p99 ≤ 1.5× nginx',
      path: '/index.html',
      connections: 50,
    },
    { name: '100 KB, keep-alive, 50 conns', target: '≥ 1.0× nginx', path: '/100k.bin', connections: 50 },
    { name: '10 MiB, 10 conns (MiB/s)', target: '≥ 0.9× nginx', path: '/10m.bin', connections: 10, throughput: true },
    { name: '1 KB, Connection: close', target: '≥ 0.7× nginx on the LTS', path: '/index.html', connections: 50, headers: ['Connection: close'] },
    { name: '304 revalidation', target: '≥ 1.0× nginx', path: '/index.html', connections: 50 },
    { name: '1 KB, 1,000 conns', target: '≥ 0.95× nginx (≥ 0.97× bare node:net where it is below nginx), no errors', path: '/index.html', connections: 1000 },
    { name: '10,000 files, random', target: '≥ 0.8× nginx', path: '/', connections: 50, script: lua },
  ];

  const [kilobyte] = workloads as [Workload, ...Workload[]];
  type Starter = () => Promise<Server>;
  const baseline = BASELINE === null ? null : buildBaseline(BASELINE);
  const baselineName = `pws@${BASELINE}`;
  const starters: Array<[string, Starter]> = [['pws', () => startPws(dir)]];
  // PWS on the current LTS too, beside the machine's Node (BENCH_LTS=off leaves it out).
  const lts = process.env.BENCH_LTS === 'off' || BASELINE !== null ? null : ltsNode();
  const ltsName = lts === null ? null : `pws (Node ${nodeVersion(lts).replace(/^v/, '').split('.')[0]})`;
  if (lts !== null && ltsName !== null) starters.push([ltsName, () => startPws(dir, {}, undefined, lts)]);
  if (baseline !== null) starters.push([baselineName, () => startPws(dir, {}, baseline.main)]);
  if (nginx) starters.push(['nginx', () => startBenchNginx(nginx, dir)]);
  else process.stdout.write('nginx not found: install nginx-light to compare with it\n');
  for (const peer of ['serve-static', 'sirv', 'http-server']) starters.push([peer, () => startPeer(peer, dir)]);
  starters.push(['node:net (bare)', () => startPeer('bare', dir)]);
  const chosen = starters.filter(([name]) => !ONLY || ONLY.includes(name.split(' ')[0] ?? name) || name === baselineName);
  // Syscalls per 1 KB keep-alive request (strace on the workers): the column that does not drift.
  const syscalls = new Map<string, number>();

  const running: Array<{ name: string; server: Server; etag: string; processes: number[] }> = [];
  for (const [name, start] of chosen) {
    const server = await start();
    // The primary (or nginx's master) and its workers, whose CPU time each round is counted.
    running.push({ name, server, etag: await etagOf(server.port), processes: [server.pid, ...children(server.pid)] });
    process.stdout.write(`${name}: port ${server.port}\n`);
  }
  const rounds = new Map<string, Map<string, Result[]>>(running.map(({ name }) => [name, new Map()]));
  /** CPU µs per request of each server, per workload, every round. */
  const cpuRounds = new Map<string, Map<string, number[]>>(running.map(({ name }) => [name, new Map()]));
  for (const w of workloads) {
    process.stdout.write(`${w.name}\n`);
    // Round 0 is a one-second warm-up, not recorded: caches filled (the 10,000-file workload
    // starts cold otherwise), code compiled, for every server alike.
    for (let round = 0; round <= ROUNDS; round++) {
      for (const { name, server, etag, processes } of running) {
        // The bare node:net server answers one prebuilt page to everything: only the 1 KB rows mean anything.
        if (name.startsWith('node:net') && !w.name.startsWith('1 KB')) continue;
        const headers = [...(w.headers ?? []), ...(w.name.startsWith('304') ? [`If-None-Match: ${etag}`] : [])];
        await sleep(300);
        if (round === 0) {
          runWrk(server.port, w, headers, 1);
          continue;
        }
        const cpuBefore = cpuSecondsOf(processes);
        const r = runWrk(server.port, w, headers, SECONDS);
        const cpuUs = ((cpuSecondsOf(processes) - cpuBefore) * 1e6) / (r.rps * SECONDS);
        const perWorkload = rounds.get(name);
        perWorkload?.set(w.name, [...(perWorkload.get(w.name) ?? []), r]);
        const cpuPer = cpuRounds.get(name);
        cpuPer?.set(w.name, [...(cpuPer.get(w.name) ?? []), cpuUs]);
        process.stdout.write(
          `  ${round}  ${name.padEnd(16)} ${fmt(r.rps).padStart(9)} req/s  p99 ${fmt(r.p99, 2).padStart(7)} ms${r.errors ? `  errors ${r.errors}` : ''}\n`,
        );
      }
    }
  }
  if (which('strace')) {
    for (const { name, server } of running) {
      if (name.startsWith('pws') || name === 'nginx') syscalls.set(name, await syscallsPerRequest(server.pid, server.port, { ...kilobyte, connections: 10 }));
    }
  }
  for (const { server } of running) await server.stop();
  const h2Lts = lts !== null && ltsName !== null ? { name: ltsName, node: lts } : null;
  const h2Table = !ONLY || ONLY.includes('h2') ? await benchH2(dir, SECONDS, ROUNDS, (l) => process.stdout.write(`${l}\n`), h2Lts) : null;
  const results = new Map<string, Map<string, Result>>();
  for (const [name, perWorkload] of rounds) results.set(name, new Map([...perWorkload].map(([w, rs]) => [w, medianOf(rs)])));

  // Access log on vs off, and memory per idle connection (PWS, with the bare server as the floor).
  const extra: string[] = [];
  if ((!ONLY || ONLY.includes('pws')) && baseline === null) {
    // Both servers run side by side and wrk alternates between them, three rounds each, so that
    // the machine's drift over the run (large here) does not pass for the log's cost.
    const logFile = path.join(dir, '..', 'access.log');
    const quiet = await startPws(dir);
    const logged = await startPws(dir, { ACCESS_LOG: logFile });
    let on = 0;
    let off = 0;
    for (let round = 0; round < 3; round++) {
      off += runWrk(quiet.port, kilobyte, [], SECONDS).rps / 3;
      on += runWrk(logged.port, kilobyte, [], SECONDS).rps / 3;
    }
    await quiet.stop();
    await logged.stop();
    extra.push(
      `| access log on vs off (1 KB, mean of 3 alternating runs) | ${fmt(on)} vs ${fmt(off)} req/s | costs ${fmt((1 - on / off) * 100, 1)} % | ≤ 15 % |`,
    );
    for (const { label, flags } of IDLE_MEASUREMENTS) {
      const one = await startPws(dir, { WORKERS: '1', KEEP_ALIVE_TIMEOUT_MS: '600000', MAX_CONNECTIONS: '20000', NODE_OPTIONS: flags });
      const pwsIdle = await idleBytes(one);
      await one.stop();
      const bare = await startPeer('bare', dir, 1, { NODE_OPTIONS: flags });
      const bareIdle = await idleBytes(bare);
      await bare.stop();
      extra.push(
        `| memory per idle keep-alive connection (10,000 conns, ${label}) | PWS ${fmt(pwsIdle)} B, bare node:net ${fmt(bareIdle)} B | ${fmt(pwsIdle / bareIdle, 2)}× the floor | ≤ 3.5 KB |`,
      );
    }
  }

  // The table.
  const servers = [...results.keys()];
  const nodePeers = servers.filter((s) => ['serve-static', 'sirv', 'http-server'].includes(s));
  const lines: string[] = [];
  const versus = baseline === null ? '' : ' PWS/baseline |';
  const ltsColumn = ltsName !== null && servers.includes(ltsName);
  lines.push(
    `| workload | ${servers.map((s) => `${s} req/s (p99 ms)`).join(' | ')} |${versus} PWS/nginx |${ltsColumn ? ` ${ltsName}/nginx |` : ''} vs bare node:net${ltsColumn ? ' (each Node)' : ''} | PWS/best Node peer | target |`,
  );
  lines.push(`|---|${servers.map(() => '---:').join('|')}|${baseline === null ? '' : '---:|'}---:|${ltsColumn ? '---:|' : ''}---:|---:|---|`);
  const chart: Array<{ workload: string; values: Array<[string, number]> }> = [];
  for (const w of workloads) {
    const cell = (s: string): string => {
      const r = results.get(s)?.get(w.name);
      if (!r) return '—';
      const main = w.throughput ? `${fmt(r.bytesPerSec / 1024 ** 2)} MiB/s` : fmt(r.rps);
      return `${main} (${fmt(r.p99, 2)})${r.errors ? ` ⚠ ${r.errors} errors` : ''}`;
    };
    const value = (s: string): number => {
      const r = results.get(s)?.get(w.name);
      if (!r) return NaN;
      return w.throughput ? r.bytesPerSec / 1024 ** 2 : r.rps;
    };
    const pws = value('pws');
    const peerValues = nodePeers.map(value).filter(Number.isFinite);
    const bestPeer = peerValues.length > 0 ? Math.max(...peerValues) : NaN;
    // Node's floor (the bare server answers one prebuilt page: only the 1 KB rows have it).
    const bare = value('node:net (bare)');
    const floor = Number.isFinite(bare) ? [pws, ...(ltsColumn && ltsName !== null ? [value(ltsName)] : [])].map((v) => ratio(v / bare, 2)).join(' · ') : '—';
    lines.push(
      `| ${w.name} | ${servers.map(cell).join(' | ')} |${baseline === null ? '' : ` ${ratio(pws / value(baselineName), 2)} |`} ${ratio(pws / value('nginx'), 2)} |${ltsColumn && ltsName !== null ? ` ${ratio(value(ltsName) / value('nginx'), 2)} |` : ''} ${floor} | ${ratio(pws / bestPeer, 1)} | ${w.target} |`,
    );
    chart.push({ workload: w.name, values: servers.filter((s) => Number.isFinite(value(s))).map((s) => [s, value(s)]) });
  }
  for (const [name, perRequest] of syscalls) {
    extra.push(
      `| syscalls per request, 1 KB keep-alive (\`strace -c -f\` on the workers, wrk -c10) | ${name} ${fmt(perRequest, 2)} | ${fmt(perRequest / (syscalls.get('nginx') ?? NaN), 2)}× nginx | — |`,
    );
  }
  const p99 = (s: string): number => results.get(s)?.get(kilobyte.name)?.p99 ?? NaN;
  if (Number.isFinite(p99('nginx')))
    extra.push(
      `| p99 latency, 1 KB keep-alive | PWS ${fmt(p99('pws'), 2)} ms, nginx ${fmt(p99('nginx'), 2)} ms | ${fmt(p99('pws') / p99('nginx'), 2)}× nginx | ≤ 1.5× |`,
    );

  // CPU per request: it moves with the machine far less than req/s (wrk and the workers share
  // the cores, and whatever each takes, the others lack).
  const cpuServers = servers.filter((s) => s.startsWith('pws') || s === 'nginx' || s.startsWith('node:net'));
  const cpuMedian = (s: string, w: string): number => percentile(cpuRounds.get(s)?.get(w) ?? [], 50);
  lines.push(
    '',
    `CPU time per request, µs (user + system of each server's processes over a round, median round), and nginx's and the bare server's over PWS's (1.0×: as cheap):`,
    '',
    `| workload | ${cpuServers.map((s) => `${s} µs`).join(' | ')} | nginx/PWS${ltsColumn ? ` · nginx/${ltsName}` : ''} | bare/PWS${ltsColumn ? ` · bare/${ltsName}` : ''} |`,
    `|---|${cpuServers.map(() => '---:').join('|')}|---:|---:|`,
  );
  for (const w of workloads) {
    const versus = (floor: string): string =>
      ['pws', ...(ltsColumn && ltsName !== null ? [ltsName] : [])].map((s) => ratio(cpuMedian(floor, w.name) / cpuMedian(s, w.name), 2)).join(' · ');
    lines.push(`| ${w.name} | ${cpuServers.map((s) => fmt(cpuMedian(s, w.name), 1)).join(' | ')} | ${versus('nginx')} | ${versus('node:net (bare)')} |`);
  }
  const table = lines.join('\n');
  const extraTable = extra.length > 0 ? `\n| measure | value | ratio | target |\n|---|---|---|---|\n${extra.join('\n')}\n` : '';
  const h2Section =
    h2Table === null ? '' : `\nHTTP/2 over TLS (h2load ${h2loadVersion()}: \`h2load -c10 -m10 -D${SECONDS}\`, median of ${ROUNDS} rounds):\n\n${h2Table}\n`;
  process.stdout.write(`\n${table}\n${extraTable}${h2Section}`);
  if (baseline !== null || ONLY !== undefined) {
    baseline?.remove();
    fs.rmSync(dir, { recursive: true, force: true });
    process.stdout.write(`\n(${baseline !== null ? `compared with ${BASELINE}` : 'BENCH_ONLY'}: docs/benchmarks.md left as it is)\n`);
    return;
  }

  const docs = path.join(REPO, 'docs');
  fs.mkdirSync(docs, { recursive: true });
  fs.writeFileSync(path.join(docs, 'benchmarks.svg'), svgChart(chart, servers));
  const machine = `${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), ${Math.round(os.totalmem() / 1024 ** 3)} GiB, ${os.type()} ${os.release()}, Node ${process.version}, wrk ${wrkVersion()}${nginx ? `, ${nginxVersion(nginx)}` : ''}`;
  const stamp = new Date().toISOString().slice(0, 16).replace('T', ' ');
  const md = fs.existsSync(path.join(docs, 'benchmarks.md')) ? fs.readFileSync(path.join(docs, 'benchmarks.md'), 'utf8') : '';
  const notes = /<!-- notes -->[\s\S]*$/.exec(md)?.[0] ?? '<!-- notes -->\n';
  fs.writeFileSync(
    path.join(docs, 'benchmarks.md'),
    `# Benchmarks

Written by \`npm run bench\` on ${stamp} UTC. Machine: ${machine}.
Every server ran with ${WORKERS} workers on loopback, serving the same files, all of them at once;
wrk (one thread, \`wrk -t1 -cN -d${SECONDS}s --latency\`) visited them in turn, a one-second
warm-up and then ${ROUNDS} rounds per workload, and each cell is the median round. Only ratios
from the same run mean anything.

![chart](benchmarks.svg)

${table}
${extraTable}${h2Section}
Commands: \`sudo apt-get install wrk nginx-light nghttp2-client\`, then \`npm ci && npm run bench\`.

${notes}`,
  );
  fs.rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`\nwrote docs/benchmarks.md and docs/benchmarks.svg\n`);
}

function nginxVersion(nginx: string): string {
  const r = spawnSync(nginx, ['-v'], { encoding: 'utf8' });
  return /nginx\/[\d.]+/.exec(`${r.stdout}${r.stderr}`)?.[0] ?? 'nginx';
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
