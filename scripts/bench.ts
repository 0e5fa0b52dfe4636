// `npm run bench`: PWS against nginx and the Node peers, same machine, same run, same files,
// same worker count, measured with wrk on loopback. Prints one table (req/s, p99, ratio), and
// writes docs/benchmarks.md and docs/benchmarks.svg.
//
//   npm run bench                      all workloads, a 1 s warm-up and 3 rounds of 3 s per server
//   BENCH_SECONDS=10 npm run bench     longer runs
//   BENCH_ROUNDS=5 npm run bench       more rounds (each cell reports the median round)
//   BENCH_ONLY=pws,nginx npm run bench only these servers
//   BENCH_BASELINE=<git ref> npm run bench
//                                      also builds PWS at that commit (a git worktree in a temporary
//                                      folder) and runs it beside the current build, with a
//                                      PWS/baseline column (the access-log and idle-memory rows are
//                                      skipped, and docs/ left as they are)
//
// All servers run at once and wrk visits them in turn, workload by workload and round by round:
// this machine's speed drifts by tens of percent over minutes, and measuring one server after
// another would turn that drift into differences between servers.

import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { children, freePort, IDLE_MEASUREMENTS, idleGrowth, MAIN, percentile, REPO, sleep } from './measure';
import { startNginx, stopProc, which } from './nginx';

const SECONDS = Number(process.env.BENCH_SECONDS) || 3;
const ROUNDS = Number(process.env.BENCH_ROUNDS) || 3;
const WORKERS = 2;
const ONLY = process.env.BENCH_ONLY?.split(',');
const BASELINE = process.env.BENCH_BASELINE?.trim() || null;

interface Server {
  name: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

interface Workload {
  name: string;
  target: string;
  path: string;
  connections: number;
  headers?: string[];
  script?: string;
  /** Compare throughput (bytes/s) rather than requests/s. */
  throughput?: boolean;
}

interface Result {
  rps: number;
  p99: number;
  bytesPerSec: number;
  errors: number;
}

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

function waitListening(proc: ChildProcess, pattern: RegExp, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${out}`)), 15_000);
    const on = (d: Buffer): void => {
      out += d.toString();
      if (pattern.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout?.on('data', on);
    proc.stderr?.on('data', on);
    proc.once('exit', (code) => reject(new Error(`${what} exited with ${code}: ${out}`)));
  });
}

async function startPws(dir: string, env: Record<string, string> = {}, main = MAIN): Promise<Server> {
  const port = await freePort();
  const proc = spawn(process.execPath, [main], {
    cwd: os.tmpdir(),
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', WORKERS: String(WORKERS), STATIC_DIR: dir, ACCESS_LOG: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await waitListening(proc, /listening on port/, 'PWS');
  return { name: 'pws', port, pid: proc.pid ?? -1, stop: () => stopProc(proc) };
}

/**
 * Builds PWS as it was at git `ref` in a worktree of this repository under a temporary folder
 * (with this checkout's node_modules) and returns its entry point, and a function removing it.
 */
function buildBaseline(ref: string): { main: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pws-baseline-'));
  execFileSync('git', ['-C', REPO, 'worktree', 'add', '--detach', dir, ref], { stdio: 'ignore' });
  const remove = (): void => {
    spawnSync('git', ['-C', REPO, 'worktree', 'remove', '--force', dir], { stdio: 'ignore' });
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
    execFileSync(process.execPath, [path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: dir, stdio: 'inherit' });
  } catch (err) {
    remove();
    throw new Error(`cannot build ${ref}: ${(err as Error).message}`, { cause: err });
  }
  return { main: path.join(dir, 'dist', 'main.js'), remove };
}

async function startPeer(peer: string, dir: string, workers = WORKERS, env: Record<string, string> = {}): Promise<Server> {
  const port = await freePort();
  const proc = spawn(process.execPath, [path.join(__dirname, 'peers.js'), peer, dir, String(port), String(workers)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await waitListening(proc, /listening on port/, peer);
  return { name: peer, port, pid: proc.pid ?? -1, stop: () => stopProc(proc) };
}

async function startBenchNginx(nginx: string, dir: string): Promise<Server> {
  const server = await startNginx(nginx, {
    root: dir,
    workers: WORKERS,
    http: `sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  open_file_cache max=1000 inactive=60s;
  open_file_cache_valid 60s;`,
  });
  return { name: 'nginx', ...server };
}

/** The ETag a server gives /index.html, for the 304 workload. */
function etagOf(port: number): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const c = net.connect(port, '127.0.0.1', () => c.write('GET /index.html HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n'));
    c.on('data', (d: Buffer) => (got += d.toString('latin1')));
    c.on('close', () => resolve(/\r\netag: *([^\r\n]+)/i.exec(got)?.[1] ?? '"none"'));
    c.on('error', () => resolve('"none"'));
  });
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

function runWrk(port: number, w: Workload, headers: string[], seconds = SECONDS): Result {
  const args = ['-t1', `-c${w.connections}`, `-d${seconds}s`, '--latency', '--timeout', '10s'];
  for (const h of headers) args.push('-H', h);
  if (w.script) args.push('-s', w.script);
  args.push(`http://127.0.0.1:${port}${w.path}`);
  const out = execFileSync('wrk', args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  return parseWrk(out);
}

/** The median of each figure over the rounds of one cell (errors: the most any round had). */
function medianOf(rs: Result[]): Result {
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

/** Memory per idle keep-alive connection of a server with one worker, over 10,000 connections. */
async function idleBytes(server: Server): Promise<number> {
  const [worker] = children(server.pid);
  return (await idleGrowth(server.port, worker ?? server.pid, 10_000, '/index.html')).rss;
}

const ratio = (r: number, digits: number): string => (Number.isFinite(r) ? `${fmt(r, digits)}×` : '—');
const fmt = (n: number, digits = 0): string =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '—';

function svgChart(rows: Array<{ workload: string; values: Array<[string, number]> }>, servers: string[]): string {
  const colors = ['#2b6cb0', '#2f855a', '#c05621', '#805ad5', '#b83280', '#718096'];
  const barH = 14;
  const gap = 10;
  const left = 260;
  const width = 900;
  let y = 40;
  const parts: string[] = [];
  for (const row of rows) {
    const max = Math.max(...row.values.map(([, v]) => (Number.isFinite(v) ? v : 0)), 1);
    parts.push(`<text x="10" y="${y + barH}" font-size="13" font-weight="bold">${row.workload}</text>`);
    for (const [name, v] of row.values) {
      const w = Number.isFinite(v) ? ((width - left - 120) * v) / max : 0;
      const c = colors[servers.indexOf(name) % colors.length];
      parts.push(`<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${c}"/>`);
      parts.push(`<text x="${left - 6}" y="${y + barH - 3}" font-size="11" text-anchor="end">${name}</text>`);
      parts.push(`<text x="${left + w + 6}" y="${y + barH - 3}" font-size="11">${fmt(v)}</text>`);
      y += barH + 3;
    }
    y += gap;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 10}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="22" font-size="15" font-weight="bold">PWS benchmark: requests/s (MB/s for the 10 MiB file), higher is better</text>
${parts.join('\n')}
</svg>
`;
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
    { name: '1 KB, keep-alive, 50 conns', target: '≥ 1.0× nginx, ≥ 5× best Node peer, p99 ≤ 1.5× nginx', path: '/index.html', connections: 50 },
    { name: '100 KB, keep-alive, 50 conns', target: '≥ 1.0× nginx', path: '/100k.bin', connections: 50 },
    { name: '10 MiB, 10 conns (MB/s)', target: '≥ 0.8× nginx', path: '/10m.bin', connections: 10, throughput: true },
    { name: '1 KB, Connection: close', target: '≥ 0.7× nginx', path: '/index.html', connections: 50, headers: ['Connection: close'] },
    { name: '304 revalidation', target: '≥ 1.0× nginx', path: '/index.html', connections: 50 },
    { name: '1 KB, 1,000 conns', target: '≥ 0.9× nginx, no errors', path: '/index.html', connections: 1000 },
    { name: '10,000 files, random', target: '≥ 0.7× nginx', path: '/', connections: 50, script: lua },
  ];

  const [kilobyte] = workloads as [Workload, ...Workload[]];
  type Starter = () => Promise<Server>;
  const baseline = BASELINE === null ? null : buildBaseline(BASELINE);
  const baselineName = `pws@${BASELINE}`;
  const starters: Array<[string, Starter]> = [['pws', () => startPws(dir)]];
  if (baseline !== null) starters.push([baselineName, () => startPws(dir, {}, baseline.main)]);
  if (nginx) starters.push(['nginx', () => startBenchNginx(nginx, dir)]);
  else process.stdout.write('nginx not found: install nginx-light to compare with it\n');
  for (const peer of ['serve-static', 'sirv', 'http-server']) starters.push([peer, () => startPeer(peer, dir)]);
  starters.push(['node:net (bare)', () => startPeer('bare', dir)]);
  const chosen = starters.filter(([name]) => !ONLY || ONLY.includes(name.split(' ')[0] ?? name) || name === baselineName);

  const running: Array<{ name: string; server: Server; etag: string }> = [];
  for (const [name, start] of chosen) {
    const server = await start();
    running.push({ name, server, etag: await etagOf(server.port) });
    process.stdout.write(`${name}: port ${server.port}\n`);
  }
  const rounds = new Map<string, Map<string, Result[]>>(running.map(({ name }) => [name, new Map()]));
  for (const w of workloads) {
    process.stdout.write(`${w.name}\n`);
    // Round 0 is a one-second warm-up, not recorded: caches filled (the 10,000-file workload
    // starts cold otherwise), code compiled, for every server alike.
    for (let round = 0; round <= ROUNDS; round++) {
      for (const { name, server, etag } of running) {
        // The bare node:net server answers one prebuilt page to everything: only the 1 KB rows mean anything.
        if (name.startsWith('node:net') && !w.name.startsWith('1 KB')) continue;
        const headers = [...(w.headers ?? []), ...(w.name.startsWith('304') ? [`If-None-Match: ${etag}`] : [])];
        await sleep(300);
        if (round === 0) {
          runWrk(server.port, w, headers, 1);
          continue;
        }
        const r = runWrk(server.port, w, headers);
        const perWorkload = rounds.get(name);
        perWorkload?.set(w.name, [...(perWorkload.get(w.name) ?? []), r]);
        process.stdout.write(
          `  ${round}  ${name.padEnd(16)} ${fmt(r.rps).padStart(9)} req/s  p99 ${fmt(r.p99, 2).padStart(7)} ms${r.errors ? `  errors ${r.errors}` : ''}\n`,
        );
      }
    }
  }
  for (const { server } of running) await server.stop();
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
      off += runWrk(quiet.port, kilobyte, []).rps / 3;
      on += runWrk(logged.port, kilobyte, []).rps / 3;
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
  lines.push(`| workload | ${servers.map((s) => `${s} req/s (p99 ms)`).join(' | ')} |${versus} PWS/nginx | PWS/best Node peer | target |`);
  lines.push(`|---|${servers.map(() => '---:').join('|')}|${baseline === null ? '' : '---:|'}---:|---:|---|`);
  const chart: Array<{ workload: string; values: Array<[string, number]> }> = [];
  for (const w of workloads) {
    const cell = (s: string): string => {
      const r = results.get(s)?.get(w.name);
      if (!r) return '—';
      const main = w.throughput ? `${fmt(r.bytesPerSec / 1024 ** 2)} MB/s` : fmt(r.rps);
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
    lines.push(
      `| ${w.name} | ${servers.map(cell).join(' | ')} |${baseline === null ? '' : ` ${ratio(pws / value(baselineName), 2)} |`} ${ratio(pws / value('nginx'), 2)} | ${ratio(pws / bestPeer, 1)} | ${w.target} |`,
    );
    chart.push({ workload: w.name, values: servers.filter((s) => Number.isFinite(value(s))).map((s) => [s, value(s)]) });
  }
  const p99 = (s: string): number => results.get(s)?.get(kilobyte.name)?.p99 ?? NaN;
  if (Number.isFinite(p99('nginx')))
    extra.push(
      `| p99 latency, 1 KB keep-alive | PWS ${fmt(p99('pws'), 2)} ms, nginx ${fmt(p99('nginx'), 2)} ms | ${fmt(p99('pws') / p99('nginx'), 2)}× nginx | ≤ 1.5× |`,
    );

  const table = lines.join('\n');
  const extraTable = extra.length > 0 ? `\n| measure | value | ratio | target |\n|---|---|---|---|\n${extra.join('\n')}\n` : '';
  process.stdout.write(`\n${table}\n${extraTable}`);
  if (baseline !== null) {
    baseline.remove();
    fs.rmSync(dir, { recursive: true, force: true });
    process.stdout.write(`\n(compared with ${BASELINE}: docs/benchmarks.md left as it is)\n`);
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
${extraTable}
Commands: \`sudo apt-get install wrk nginx-light\`, then \`npm ci && npm run bench\`.

${notes}`,
  );
  fs.rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`\nwrote docs/benchmarks.md and docs/benchmarks.svg\n`);
}

function wrkVersion(): string {
  const r = spawnSync('wrk', ['-v'], { encoding: 'utf8' });
  return /wrk (\S+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? '?';
}

function nginxVersion(nginx: string): string {
  const r = spawnSync(nginx, ['-v'], { encoding: 'utf8' });
  return /nginx\/[\d.]+/.exec(`${r.stdout}${r.stderr}`)?.[0] ?? 'nginx';
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
