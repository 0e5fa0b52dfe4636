// A fleet on one machine, from real parts: PWS hosts and an HAProxy in network namespaces of their
// own (Linux `ip netns`, as root), so that nothing is added to the machine's own network.
//
//   namespace <run>-lb    HAProxy (frontends on its loopback) and the load clients
//   namespace <run>-h1…   one PWS each (own primary, WORKERS workers) on 198.51.100.4i+2:9000,
//                         joined to the balancer by a veth pair (TEST-NET-2, RFC 5737)
//
// HAProxy health-checks HEALTH_PATH and sends PROXY protocol v2 headers. Two backends over the same
// hosts: `strict` with retries off (planned operations must not lean on the balancer retrying)
// and `tolerant`, which redispatches a request whose connection could not be made (a dead host).
// Everything is removed by destroy(), which also finds namespaces left by a run that was killed.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import type { FleetStats } from './fleet-client';
import { MAIN, REPO, sleep } from './measure';

export const STRICT_PORT = 8080;
export const TOLERANT_PORT = 8081;
const PWS_PORT = 9000;
const HEALTH_PATH = '/healthz';
/** HAProxy's check interval and the failed checks that mark a host down: it leaves within ~0.6 s. */
const CHECK_INTER_MS = 300;
const CHECK_FALL = 2;
const CHECK_RISE = 2;
const NS_PREFIX = 'pwsfleet-';

export interface FleetOptions {
  hosts: number;
  workers: number;
  /** LAME_DUCK_MS of every host: above CHECK_INTER_MS × CHECK_FALL, with a margin for a busy machine. */
  lameDuckMs: number;
  /** The Node binary for the hosts (the running one by default). */
  node?: string;
}

export interface Host {
  name: string;
  ns: string;
  address: string;
  proc: ChildProcess;
  /** What its primary printed on stdout so far (info lines). */
  stdout: () => string;
}

/** Why the fleet cannot run here, or null when it can (root, `ip`, `haproxy`). */
export function fleetUnavailable(): string | null {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'creating network namespaces needs root';
  for (const tool of ['ip', 'haproxy']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} is not installed (apt-get install ${tool === 'ip' ? 'iproute2' : 'haproxy'})`;
    }
  }
  return null;
}

const ip = (...args: string[]): void => {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
};

/** Namespaces of earlier runs whose process is gone: removed with everything in them. */
function removeStaleNamespaces(): void {
  for (const ns of listNamespaces()) {
    const pid = Number(/^pwsfleet-(\d+)-/.exec(ns)?.[1]);
    let alive = false;
    try {
      process.kill(pid, 0);
      alive = true;
    } catch {
      // gone
    }
    if (!alive) removeNamespace(ns);
  }
}

function listNamespaces(): string[] {
  const out = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(NS_PREFIX));
}

function pidsIn(ns: string): number[] {
  try {
    return execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/** SIGKILLs every process of the namespace, then deletes it (its veths go with it). */
function removeNamespace(ns: string): void {
  for (const pid of pidsIn(ns)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  try {
    ip('netns', 'del', ns);
  } catch {
    // already gone
  }
}

/** A site every host serves: the same deployed folder. */
function makeSite(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><h1>fleet</h1>');
  fs.writeFileSync(path.join(dir, 'asset.bin'), Buffer.alloc(64 * 1024, 'f'));
}

function haproxyConfig(hosts: Host[], statsSocket: string): string {
  const servers = hosts.map((h) => `  server ${h.name} ${h.address}:${PWS_PORT}`).join('\n');
  const backend = (name: string, retries: string): string => `backend ${name}
  balance roundrobin
${retries}
  option httpchk
  http-check send meth GET uri ${HEALTH_PATH}
  http-check expect status 200
  default-server check inter ${CHECK_INTER_MS} fall ${CHECK_FALL} rise ${CHECK_RISE} send-proxy-v2
${servers}
`;
  return `global
  stats socket ${statsSocket} mode 600 level admin
  maxconn 4096

defaults
  mode http
  option http-keep-alive
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  timeout http-keep-alive 5s

frontend strict
  bind 127.0.0.1:${STRICT_PORT}
  default_backend strict

frontend tolerant
  bind 127.0.0.1:${TOLERANT_PORT}
  default_backend tolerant

${backend('strict', '  retries 0')}
${backend('tolerant', '  retries 2\n  retry-on conn-failure empty-response\n  option redispatch 1')}`;
}

export interface ServerState {
  status: string;
  /** Sessions the server has now: requests in flight on it. */
  scur: number;
}

export class Fleet {
  private constructor(
    readonly run: string,
    readonly dir: string,
    readonly site: string,
    readonly lb: string,
    readonly hosts: Host[],
    private readonly haproxy: ChildProcess,
    private readonly statsSocket: string,
  ) {}

  /** Creates the namespaces, starts every host and HAProxy, and waits until every host is UP. */
  static async create(opts: FleetOptions): Promise<Fleet> {
    removeStaleNamespaces();
    const run = `${NS_PREFIX}${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pws-fleet-'));
    const site = path.join(dir, 'site');
    makeSite(site);
    const lb = `${run}-lb`;
    const created: string[] = [];
    try {
      ip('netns', 'add', lb);
      created.push(lb);
      ip('-n', lb, 'link', 'set', 'lo', 'up');
      const hosts: Host[] = [];
      for (let i = 1; i <= opts.hosts; i++) {
        const ns = `${run}-h${i}`;
        ip('netns', 'add', ns);
        created.push(ns);
        const lbSide = `198.51.100.${4 * i + 1}`;
        const address = `198.51.100.${4 * i + 2}`;
        ip('-n', lb, 'link', 'add', `h${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
        ip('-n', lb, 'addr', 'add', `${lbSide}/30`, 'dev', `h${i}`);
        ip('-n', ns, 'addr', 'add', `${address}/30`, 'dev', 'eth0');
        ip('-n', lb, 'link', 'set', `h${i}`, 'up');
        ip('-n', ns, 'link', 'set', 'eth0', 'up');
        ip('-n', ns, 'link', 'set', 'lo', 'up');
        hosts.push(startHost(`h${i}`, ns, address, site, opts));
      }
      const statsSocket = path.join(dir, 'haproxy.sock');
      const cfg = path.join(dir, 'haproxy.cfg');
      fs.writeFileSync(cfg, haproxyConfig(hosts, statsSocket));
      const haproxy = spawn('ip', ['netns', 'exec', lb, 'haproxy', '-db', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
      let haproxyErr = '';
      haproxy.stderr?.on('data', (d: Buffer) => (haproxyErr += d.toString()));
      const fleet = new Fleet(run, dir, site, lb, hosts, haproxy, statsSocket);
      for (let i = 0; i < 200 && !fs.existsSync(statsSocket); i++) await sleep(50);
      if (!fs.existsSync(statsSocket)) throw new Error(`HAProxy did not start: ${haproxyErr}`);
      for (const h of hosts) for (const backend of ['strict', 'tolerant']) await fleet.waitStatus(backend, h.name, 'UP', 20_000);
      return fleet;
    } catch (err) {
      for (const ns of created) removeNamespace(ns);
      fs.rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** HAProxy's view of one server: its status (UP, DOWN, …) and current sessions. */
  async state(backend: string, server: string): Promise<ServerState> {
    const csv = await this.ask('show stat');
    const header = (csv.split('\n')[0] ?? '').replace(/^# /, '').split(',');
    const col = (name: string): number => header.indexOf(name);
    for (const line of csv.split('\n').slice(1)) {
      const f = line.split(',');
      if (f[col('pxname')] === backend && f[col('svname')] === server) {
        return { status: f[col('status')] ?? '?', scur: Number(f[col('scur')]) };
      }
    }
    throw new Error(`HAProxy knows no server ${backend}/${server}`);
  }

  async waitStatus(backend: string, server: string, status: 'UP' | 'DOWN', timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const now = await this.state(backend, server);
      if (now.status.startsWith(status)) return;
      if (Date.now() > until) throw new Error(`${backend}/${server} is ${now.status}, not ${status}, after ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  /** Sets a server's administrative state: `drain` (no new sessions) or `ready`. */
  async setState(backend: string, server: string, state: 'drain' | 'ready'): Promise<void> {
    const answer = await this.ask(`set server ${backend}/${server} state ${state}`);
    if (answer.trim() !== '') throw new Error(`HAProxy: set server ${backend}/${server} state ${state}: ${answer.trim()}`);
  }

  /** Sends one command to HAProxy's stats socket and returns its answer. */
  private ask(command: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const c = net.connect(this.statsSocket);
      let out = '';
      c.on('data', (d: Buffer) => (out += d.toString()));
      c.on('end', () => resolve(out));
      c.on('error', reject);
      c.end(`${command}\n`);
    });
  }

  /** Starts the load clients in the balancer's namespace against `port`. */
  async startClients(port: number, lanesPerKind: number): Promise<FleetClients> {
    const proc = spawn(
      'ip',
      ['netns', 'exec', this.lb, process.execPath, path.join(REPO, 'build', 'scripts', 'fleet-client.js'), String(port), this.site, String(lanesPerKind)],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    const clients = new FleetClients(proc);
    // Under way once both kinds have been answered.
    for (let i = 0; ; i++) {
      const s = await clients.stats();
      if (s['keep-alive'].ok > 0 && s['new-connection'].ok > 0) return clients;
      if (i > 200) throw new Error('the load clients got no answer through HAProxy');
      await sleep(50);
    }
  }

  /**
   * The client addresses in a host's access log (complete once the host has stopped), apart from
   * the balancer's own health checks (PROXY LOCAL: logged with the balancer's address).
   */
  loggedClients(host: Host): Set<string> {
    const file = path.join(this.dir, `${host.name}.access.log`);
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    return new Set(
      text
        .split('\n')
        .filter((l) => l !== '' && !l.includes(`"GET ${HEALTH_PATH} `))
        .map((l) => l.split(' ')[0] ?? ''),
    );
  }

  /** Whether anything in the host's namespace still listens on PWS's port. */
  listening(host: Host): boolean {
    const out = execFileSync('ip', ['netns', 'exec', host.ns, 'ss', '-Hltn', `sport = :${PWS_PORT}`], { encoding: 'utf8' });
    return out.trim() !== '';
  }

  /** Every process of a host's namespace, for a SIGKILL of the whole host. */
  pidsOf(host: Host): number[] {
    return pidsIn(host.ns);
  }

  async destroy(): Promise<void> {
    this.haproxy.kill('SIGKILL');
    for (const h of this.hosts) removeNamespace(h.ns);
    removeNamespace(this.lb);
    await sleep(10);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function startHost(name: string, ns: string, address: string, site: string, opts: FleetOptions): Host {
  const env = {
    ...process.env,
    PORT: String(PWS_PORT),
    HOST: address,
    WORKERS: String(opts.workers),
    STATIC_DIR: site,
    HEALTH_PATH,
    LAME_DUCK_MS: String(opts.lameDuckMs),
    // Only the balancer's side of each veth may connect, and it says who the client is.
    TRUSTED_PROXIES: '198.51.100.0/24',
    PROXY_PROTOCOL: 'on',
    // Each host logs to a file of its own, to show whom the PROXY headers named.
    ACCESS_LOG: path.join(path.dirname(site), `${name}.access.log`),
  };
  const proc = spawn('ip', ['netns', 'exec', ns, opts.node ?? process.execPath, MAIN], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  return { name, ns, address, proc, stdout: () => out };
}

/** The load clients' process: counts on demand. */
export class FleetClients {
  private readonly answers: Array<(s: FleetStats) => void> = [];

  constructor(private readonly proc: ChildProcess) {
    const lines = readline.createInterface({ input: proc.stdout! });
    lines.on('line', (line) => this.answers.shift()?.(JSON.parse(line) as FleetStats));
  }

  stats(): Promise<FleetStats> {
    return new Promise((resolve) => {
      this.answers.push(resolve);
      this.proc.stdin?.write('stats\n');
    });
  }

  /** Stops the load and returns the final counts. */
  stop(): Promise<FleetStats> {
    return new Promise((resolve) => {
      this.answers.push(resolve);
      this.proc.stdin?.write('stop\n');
    });
  }
}

/** Failed requests of each kind between two samples. */
export function failedBetween(before: FleetStats, after: FleetStats): { keepAlive: number; fresh: number; ok: number; failures: string[] } {
  return {
    keepAlive: after['keep-alive'].failed - before['keep-alive'].failed,
    fresh: after['new-connection'].failed - before['new-connection'].failed,
    ok: after['keep-alive'].ok + after['new-connection'].ok - before['keep-alive'].ok - before['new-connection'].ok,
    failures: [
      ...after['keep-alive'].failures.slice(before['keep-alive'].failures.length),
      ...after['new-connection'].failures.slice(before['new-connection'].failures.length),
    ],
  };
}
