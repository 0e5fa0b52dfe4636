// How the workers of one server share their counts, under PWS's own primary and under pm2 alike
// (where pm2's daemon is the primary and workers have no channel to each other): a run folder in
// which each worker keeps one small JSON file of its samples, rewritten (new file, then rename)
// every FLUSH_MS when its counts changed (every HEARTBEAT_MS anyway), when it answers a scrape, and
// once more when it finishes its drain. A scrape, answered by whichever worker got it, sums its
// own file — written first, so that no later scrape by another worker reports less of it — with
// every other file.
//
// Counters never go backwards: the file of a worker that is gone stays counted. Once its process
// no longer exists, the next scrape folds it into `retired.json` under a lock — the counts added
// there and the file's id recorded in the same atomic rename, and only then the file removed — so
// a worker's counts are in exactly one place at any moment. A reader that sees `retired.json`
// change while it reads starts again. Gauges (connections, memory) count only for workers whose
// file is fresh.

import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** What a worker writes: its identity and samples. */
export interface Snapshot {
  v: 1;
  /** Unique among every worker that ever used the folder: pid and start time. */
  id: string;
  pid: number;
  /** When it was written (ms since the epoch). */
  beat: number;
  /** True once the worker finished its drain: it ended without losing a count. */
  clean: boolean;
  counters: Record<string, number>;
  gauges: Record<string, number>;
}

interface Retired {
  v: 1;
  /** Bumped by every fold: a reader that sees it change retries. */
  gen: number;
  /** Ids of folded worker files (kept while such a file may still exist). */
  folded: string[];
  counters: Record<string, number>;
}

/**
 * Where run folders go: TMPDIR when set, else /dev/shm where there is one (memory, so that the
 * files rewritten several times a second never reach a disk), else the system's temporary folder.
 */
export function runBase(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TMPDIR) return os.tmpdir();
  try {
    fs.accessSync('/dev/shm', fs.constants.W_OK);
    return '/dev/shm';
  } catch {
    return os.tmpdir();
  }
}

/** How often a worker rewrites its file when its counts changed. */
export const FLUSH_MS = 250;
/** How often it rewrites it anyway, to show it runs (and to refresh its process figures). */
const HEARTBEAT_MS = 2000;
/** A file not rewritten for this long is not a running worker's: its gauges are left out. */
const STALE_MS = 5000;
/** A fold lock older than this was left by a process that died holding it. */
const STALE_LOCK_MS = 10_000;
const WORKER_FILE = /^w-[\w.-]+\.json$/;
const RETIRED = 'retired.json';
const LOCK = 'fold.lock';

const EMPTY_RETIRED: Retired = { v: 1, gen: 0, folded: [], counters: {} };

function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

/**
 * Writes `data` to `file` by a rename, so that no reader ever sees half of it. The temporary file
 * has a random name and is created exclusively, never through a link someone planted, and the
 * rename replaces a link at `file` rather than following it.
 */
function writeAtomically(file: string, data: unknown): void {
  const tmp = `${file}.${crypto.randomBytes(6).toString('hex')}.tmp`;
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
  try {
    fs.writeSync(fd, JSON.stringify(data));
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/** A series key PWS writes: a pws_ name and simple labels. Anything else in a file is ignored. */
const SERIES = /^pws_[a-z0-9_]+(\{[a-z_]+="[\w.+/:-]*"(,[a-z_]+="[\w.+/:-]*")*\})?$/;

/** `from` with only well-formed series of finite values: the files are not trusted blindly. */
function checked(from: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (typeof from !== 'object' || from === null) return out;
  for (const [k, v] of Object.entries(from as Record<string, unknown>)) if (typeof v === 'number' && Number.isFinite(v) && SERIES.test(k)) out[k] = v;
  return out;
}

/** Whether process `pid` is gone (a process of another user still counts as there). */
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function add(into: Map<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(checked(from))) into.set(k, (into.get(k) ?? 0) + v);
}

/**
 * Adds gauges, except a worker's own process figures (labelled by worker slot): while a
 * replacement and the worker it replaces both run under one slot (a pm2 reload), the later one's
 * figures stand for the slot rather than the sum of two processes.
 */
function addGauges(into: Map<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(checked(from))) into.set(k, k.includes('{worker=') ? v : (into.get(k) ?? 0) + v);
}

export class SharedMetrics {
  private readonly file: string;
  private timer: NodeJS.Timeout | null = null;
  /** What this worker's file holds now: what it reports for itself, so no scrape sees less later. */
  private written: Omit<Snapshot, 'clean'> | null = null;
  /** The counters and connection gauges last written, to skip a write that would change nothing. */
  private writtenText = '';

  /** `take` makes this worker's snapshot (without the clean flag). */
  constructor(
    readonly dir: string,
    private readonly take: () => Omit<Snapshot, 'clean'>,
  ) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    // In a shared temporary folder someone else may have made it first (or a link by its name):
    // counts are only kept in a folder of this user's that no one else can write to.
    const st = fs.lstatSync(dir);
    const uid = process.getuid?.();
    if (!st.isDirectory() || (uid !== undefined && st.uid !== uid && uid !== 0) || (st.mode & 0o022) !== 0) {
      throw Object.assign(new Error(`${dir} is not a folder of this user's that only it can write to`), { code: 'EPERM' });
    }
    this.file = path.join(dir, `w-${take().id}.json`);
  }

  /** Writes this worker's file now, then every FLUSH_MS when its counts changed (and every HEARTBEAT_MS anyway). */
  start(): void {
    this.publish(true);
    this.timer = setInterval(() => this.publish(false), FLUSH_MS);
    this.timer.unref();
  }

  /**
   * Writes this worker's file if its counts changed (or `force`, or the heartbeat is due) and
   * returns what the file holds: the new snapshot, or the last one written if writing failed.
   */
  publish(force: boolean): Omit<Snapshot, 'clean'> {
    const next = this.take();
    const text = JSON.stringify([next.counters, next.gauges.pws_connections_open, next.gauges.pws_connections_idle]);
    if (!force && text === this.writtenText && this.written !== null && next.beat - this.written.beat < HEARTBEAT_MS) return this.written;
    try {
      writeAtomically(this.file, { ...next, clean: false });
      this.written = next;
      this.writtenText = text;
    } catch {
      // a full or vanished folder: the next flush tries again, and scrapes report the file's counts
    }
    return this.written ?? next;
  }

  /** The last write: every count of this worker is in its file, marked as a clean end. */
  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    try {
      writeAtomically(this.file, { ...this.take(), clean: true });
    } catch {
      // nothing more can be done on the way out
    }
  }

  /**
   * Every series summed over the folder: retired workers, the other workers' files, and this
   * worker's own file, written first (so that what this scrape reports for it, no later scrape by
   * another worker reports less of), in a stable order: own first.
   */
  collect(): Map<string, number> {
    const own = this.publish(true);
    const now = Date.now();
    let others: Snapshot[] = [];
    let retired: Retired | null = EMPTY_RETIRED;
    for (let attempt = 0; attempt < 5; attempt++) {
      retired = this.retired();
      others = this.workerFiles(own.id, new Set(retired?.folded ?? []));
      if (this.retired()?.gen === retired?.gen) break;
    }
    const sums = new Map<string, number>();
    add(sums, own.counters);
    for (const k of Object.keys(checked(own.gauges))) sums.set(k, 0);
    add(sums, retired?.counters ?? {});
    let foldable = false;
    for (const s of others.sort((a, b) => a.beat - b.beat)) {
      add(sums, s.counters);
      // Gauges are of running workers only: not one that finished, is gone, or stopped writing.
      const dead = gone(s.pid);
      if (!dead && !s.clean && now - s.beat <= STALE_MS) addGauges(sums, s.gauges);
      if (dead) foldable = true;
    }
    addGauges(sums, own.gauges);
    // A retired.json that cannot be read is left alone: folding would start it again from nothing.
    if (foldable && retired !== null) this.fold();
    return sums;
  }

  /** retired.json; empty when there is none, null when it is there but unreadable. */
  private retired(): Retired | null {
    const file = path.join(this.dir, RETIRED);
    if (!fs.existsSync(file)) return EMPTY_RETIRED;
    const r = readJson<Retired>(file);
    return r !== null && r.v === 1 && Array.isArray(r.folded) ? r : null;
  }

  /** The snapshots of the other workers' files not yet folded. */
  private workerFiles(ownId: string, folded: ReadonlySet<string>): Snapshot[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return [];
    }
    const out: Snapshot[] = [];
    for (const name of names) {
      if (!WORKER_FILE.test(name)) continue;
      const s = readJson<Snapshot>(path.join(this.dir, name));
      if (s === null || s.v !== 1 || typeof s.pid !== 'number' || s.id === ownId || folded.has(s.id) || `w-${s.id}.json` !== name) continue;
      out.push(s);
    }
    return out;
  }

  /** Folds the files of workers that are gone into retired.json, under the fold lock. */
  private fold(): void {
    const lock = path.join(this.dir, LOCK);
    let fd: number;
    try {
      fd = fs.openSync(lock, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
    } catch {
      try {
        // Left by a process that died holding it (a clock set back counts too).
        if (Math.abs(Date.now() - fs.lstatSync(lock).mtimeMs) > STALE_LOCK_MS) fs.unlinkSync(lock);
      } catch {
        // taken and released meanwhile
      }
      return;
    }
    try {
      const retired = this.retired();
      if (retired === null) return;
      const folded = new Set(retired.folded);
      const dead = this.workerFiles('', folded).filter((s) => gone(s.pid));
      const present = new Set(this.workerFiles('', new Set()).map((s) => s.id));
      const sums = new Map(Object.entries(checked(retired.counters)));
      for (const s of dead) {
        add(sums, s.counters);
        if (!s.clean) sums.set('pws_worker_crashes_total', (sums.get('pws_worker_crashes_total') ?? 0) + 1);
        folded.add(s.id);
      }
      // Ids whose files are gone cannot be counted twice any more.
      const keep = [...folded].filter((id) => present.has(id));
      writeAtomically(path.join(this.dir, RETIRED), { v: 1, gen: retired.gen + 1, folded: keep, counters: Object.fromEntries(sums) } satisfies Retired);
      for (const s of dead) fs.rmSync(path.join(this.dir, `w-${s.id}.json`), { force: true });
    } catch {
      // the folder is unwritable now: the files stay, counted as they are
    } finally {
      fs.closeSync(fd);
      fs.rmSync(lock, { force: true });
    }
  }
}
