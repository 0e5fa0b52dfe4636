// How the workers of one server share their counts, under PWS's own primary and under pm2 alike
// (where pm2's daemon is the primary and workers have no channel to each other): a run folder in
// which each worker keeps one small JSON file of its samples, rewritten (new file, then rename)
// every FLUSH_MS and once more when it finishes its drain. A scrape, answered by whichever worker
// got it, sums its own live samples with every other file.
//
// Counters never go backwards: the file of a worker that is gone stays counted. Once its process
// no longer exists, the next scrape folds it into `retired.json` under a lock — the counts added
// there and the file's id recorded in the same atomic rename, and only then the file removed — so
// a worker's counts are in exactly one place at any moment. A reader that sees `retired.json`
// change while it reads starts again. Gauges (connections, memory) count only for workers whose
// file is fresh.

import fs from 'node:fs';
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

/** How often a worker rewrites its file. */
export const FLUSH_MS = 250;
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

/** Writes `data` to `file` by a rename, so that no reader ever sees half of it. */
function writeAtomically(file: string, data: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(data));
  fs.renameSync(tmp, file);
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
  for (const [k, v] of Object.entries(from)) if (typeof v === 'number') into.set(k, (into.get(k) ?? 0) + v);
}

/**
 * Adds gauges, except a worker's own process figures (labelled by worker slot): while a
 * replacement and the worker it replaces both run under one slot (a pm2 reload), the later one's
 * figures stand for the slot rather than the sum of two processes.
 */
function addGauges(into: Map<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) {
    if (typeof v !== 'number') continue;
    into.set(k, k.includes('{worker=') ? v : (into.get(k) ?? 0) + v);
  }
}

export class SharedMetrics {
  private readonly file: string;
  private timer: NodeJS.Timeout | null = null;

  /** `take` makes this worker's snapshot (without the clean flag). */
  constructor(
    readonly dir: string,
    private readonly take: () => Omit<Snapshot, 'clean'>,
  ) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.file = path.join(dir, `w-${take().id}.json`);
  }

  /** Writes this worker's file now and then every FLUSH_MS. */
  start(): void {
    this.flush(false);
    this.timer = setInterval(() => this.flush(false), FLUSH_MS);
    this.timer.unref();
  }

  /** Writes this worker's file; `clean` when it is the last write of a finished drain. */
  flush(clean: boolean): void {
    try {
      writeAtomically(this.file, { ...this.take(), clean });
    } catch {
      // a full or vanished temp folder: the next flush tries again; the scrape still answers
    }
  }

  /** The last write: every count of this worker is in its file, marked as a clean end. */
  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.flush(true);
  }

  /**
   * Every series summed over the folder (retired workers, the other workers' files) and `own`
   * (this worker's live snapshot, fresher than its file), in a stable order: own first.
   */
  collect(own: Omit<Snapshot, 'clean'>): Map<string, number> {
    const now = Date.now();
    let others: Snapshot[] = [];
    let retired = EMPTY_RETIRED;
    let foldable = false;
    for (let attempt = 0; attempt < 5; attempt++) {
      retired = readJson<Retired>(path.join(this.dir, RETIRED)) ?? EMPTY_RETIRED;
      others = this.workerFiles(own.id, new Set(retired.folded));
      const again = readJson<Retired>(path.join(this.dir, RETIRED)) ?? EMPTY_RETIRED;
      if (again.gen === retired.gen) break;
    }
    const sums = new Map<string, number>();
    // Own series first, so that the order of the exposition is stable; own gauges last, as the freshest.
    add(sums, own.counters);
    for (const k of Object.keys(own.gauges)) sums.set(k, 0);
    add(sums, retired.counters);
    for (const s of others.sort((a, b) => a.beat - b.beat)) {
      add(sums, s.counters);
      // Gauges are of running workers only: not one that finished, is gone, or stopped writing.
      const ended = s.clean || gone(s.pid);
      if (!ended && now - s.beat <= STALE_MS) addGauges(sums, s.gauges);
      if (ended && gone(s.pid)) foldable = true;
    }
    addGauges(sums, own.gauges);
    if (foldable) this.fold();
    return sums;
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
      if (s === null || s.v !== 1 || s.id === ownId || folded.has(s.id)) continue;
      out.push(s);
    }
    return out;
  }

  /** Folds the files of workers that are gone into retired.json, under the fold lock. */
  private fold(): void {
    const lock = path.join(this.dir, LOCK);
    let fd: number;
    try {
      fd = fs.openSync(lock, 'wx');
    } catch {
      try {
        if (Date.now() - fs.statSync(lock).mtimeMs > STALE_LOCK_MS) fs.unlinkSync(lock);
      } catch {
        // taken and released meanwhile
      }
      return;
    }
    try {
      const retired = readJson<Retired>(path.join(this.dir, RETIRED)) ?? EMPTY_RETIRED;
      const folded = new Set(retired.folded);
      const dead = this.workerFiles('', folded).filter((s) => gone(s.pid));
      const present = new Set(this.workerFiles('', new Set()).map((s) => s.id));
      const sums = new Map(Object.entries(retired.counters));
      for (const s of dead) {
        add(sums, s.counters);
        if (!s.clean) sums.set('pws_worker_crashes_total', (sums.get('pws_worker_crashes_total') ?? 0) + 1);
        folded.add(s.id);
      }
      // Ids whose files are gone cannot be counted twice any more.
      const keep = [...folded].filter((id) => present.has(id));
      writeAtomically(path.join(this.dir, RETIRED), { v: 1, gen: retired.gen + 1, folded: keep, counters: Object.fromEntries(sums) } satisfies Retired);
      for (const s of dead) {
        try {
          fs.unlinkSync(path.join(this.dir, `w-${s.id}.json`));
        } catch {
          // already removed
        }
      }
    } catch {
      // the folder is unwritable now: the files stay, counted as they are
    } finally {
      fs.closeSync(fd);
      fs.rmSync(lock, { force: true });
    }
  }
}
