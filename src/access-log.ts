// The access log: one line per response, Combined Log Format or JSON, written without ever
// blocking a response. Lines queue in a bounded buffer that one asynchronous write at a time
// drains; when the destination cannot keep up and the buffer is full, lines are dropped and
// counted (and the count reported on stderr once a minute) instead of growing memory.

import fs from 'node:fs';
import { log } from './log';

export interface AccessEntry {
  remote: string;
  method: string;
  target: string;
  /** The request line's protocol: `HTTP/1.0`, `HTTP/1.1` or `HTTP/2.0` (as nginx logs it). */
  protocol: string;
  status: number;
  bytes: number;
  referer: string | undefined;
  userAgent: string | undefined;
  /** When the request head was complete, ms since the epoch. */
  start: number;
  /** Time to serve, ms (fractional). */
  ms: number;
  worker: number;
}

export type LogFormat = 'combined' | 'json';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

let clfSecond = -1;
let clfValue = '';

/** nginx's $time_local, in UTC: "10/Oct/2000:13:55:36 +0000" (formatted once per second). */
export function clfTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== clfSecond) {
    const d = new Date(second * 1000);
    clfSecond = second;
    clfValue = `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
  }
  return clfValue;
}

/** Escapes a field for a quoted CLF string the way nginx does: `"` `\` and non-printables as \xHH. */
function clfQuote(s: string | undefined): string {
  if (s === undefined || s === '') return '-';
  let clean = true;
  for (let i = 0; i < s.length && clean; i++) {
    const c = s.charCodeAt(i);
    clean = c >= 0x20 && c !== 0x22 && c !== 0x5c && c <= 0x7e;
  }
  if (clean) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7e ? `\\x${c.toString(16).padStart(2, '0').toUpperCase()}` : s[i];
  }
  return out;
}

/** Formats one entry as a line (with its newline). */
export function formatEntry(e: AccessEntry, format: LogFormat): string {
  if (format === 'json') {
    return `${JSON.stringify({
      time: new Date(e.start).toISOString(),
      remote: e.remote,
      method: e.method,
      target: e.target,
      protocol: e.protocol,
      status: e.status,
      bytes: e.bytes,
      referer: e.referer ?? null,
      userAgent: e.userAgent ?? null,
      ms: Math.round(e.ms * 1000) / 1000,
      worker: e.worker,
    })}\n`;
  }
  // Combined Log Format, then the request time in ms and the worker id.
  const request = clfQuote(`${e.method} ${e.target} ${e.protocol}`);
  return `${e.remote} - - [${clfTime(e.start)}] "${request}" ${e.status} ${e.bytes} "${clfQuote(e.referer)}" "${clfQuote(e.userAgent)}" ${e.ms.toFixed(3)} ${e.worker}\n`;
}

/**
 * One write is at most this big. On a pipe (stdout) that is PIPE_BUF, so lines from several
 * workers never interleave; a regular file opened for appending takes each write whole, so
 * larger writes (fewer syscalls) are safe there.
 */
const PIPE_WRITE_BYTES = 4096;
const FILE_WRITE_BYTES = 64 * 1024;
const FLUSH_MS = 1000;
const DROP_REPORT_MS = 60_000;

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // gone either way
  }
}

export class AccessLog {
  /** Full chunks of whole lines, each up to WRITE_BYTES, oldest first. */
  private queue: string[] = [];
  /** Lines not yet in a full chunk. */
  private current = '';
  private currentLines = 0;
  private queuedLines: number[] = [];
  private queued = 0;
  private writing = false;
  private dropped = 0;
  private lastDropReport = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly writeBytes: number;

  /**
   * `fd` is where lines go (1 for stdout, or an fd opened for appending); `maxBytes` bounds the
   * queue. Writes go through fs.write on the thread pool, so a full pipe blocks a pool thread,
   * never the event loop.
   */
  /** The file this log appends to (reopened by `reopen`), or null for stdout. */
  private path: string | null = null;
  /** A descriptor replaced by `reopen` while a write to it was in flight: closed when it completes. */
  private retired: number | null = null;

  constructor(
    private fd: number,
    private readonly format: LogFormat,
    private readonly maxBytes: number,
    private readonly stream: NodeJS.WritableStream | null = null,
  ) {
    this.writeBytes = stream === null && fs.fstatSync(fd).isFile() ? FILE_WRITE_BYTES : PIPE_WRITE_BYTES;
    this.timer = setInterval(() => this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  /** Opens the log named by ACCESS_LOG (`stdout` or a file path, appended to). */
  static open(destination: string, format: LogFormat, maxBytes: number): AccessLog {
    // Under pm2's cluster mode, pm2 collects a worker's output from process.stdout (which it
    // replaces with a writer to its daemon), not from descriptor 1: write there, or `pm2 logs`
    // would never see a line. That writer is asynchronous, so it cannot block either.
    if (destination === 'stdout' && process.env.pm_id !== undefined) return new AccessLog(1, format, maxBytes, process.stdout);
    const fd = destination === 'stdout' ? 1 : fs.openSync(destination, 'a');
    const opened = new AccessLog(fd, format, maxBytes);
    if (destination !== 'stdout') opened.path = destination;
    return opened;
  }

  /**
   * SIGUSR1: opens the log file again by its name, so that after logrotate renamed it the lines
   * go to a new file. A chunk being written finishes in the old file and lines still queued go to
   * the new one: none is lost and none written twice. Stdout is left alone (its reader rotates).
   * If the file cannot be opened, lines keep going to the old one and the reason is logged.
   */
  reopen(): void {
    if (this.path === null) return;
    let fd: number;
    try {
      fd = fs.openSync(this.path, 'a');
    } catch (err) {
      log.warn(`access log: cannot reopen ${this.path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); still writing to the old file`);
      return;
    }
    const old = this.fd;
    this.fd = fd;
    if (this.writing) this.retired = old;
    else closeQuietly(old);
  }

  /** One write of a chunk, through the stream when there is one, else to the descriptor. */
  private writeChunk(chunk: Buffer, done: (err: NodeJS.ErrnoException | null, written: number) => void): void {
    if (this.stream === null) {
      fs.write(this.fd, chunk, (err, written) => done(err, written));
      return;
    }
    this.stream.write(chunk, (err?: NodeJS.ErrnoException | null) => done(err ?? null, chunk.length));
  }

  get droppedLines(): number {
    return this.dropped;
  }

  write(entry: AccessEntry): void {
    const line = formatEntry(entry, this.format);
    if (this.queued + line.length > this.maxBytes) {
      this.dropped++;
      this.reportDrops(false);
      return;
    }
    if (this.current.length + line.length > this.writeBytes && this.current.length > 0) this.seal();
    this.current += line;
    this.currentLines++;
    this.queued += line.length;
    if (this.queue.length > 0) this.flush();
  }

  private seal(): void {
    this.queue.push(this.current);
    this.queuedLines.push(this.currentLines);
    this.current = '';
    this.currentLines = 0;
  }

  /** Starts an asynchronous write of what is queued (one write in flight at a time). */
  flush(): void {
    if (this.writing) return;
    if (this.queue.length === 0 && this.current.length > 0) this.seal();
    if (this.queue.length === 0) return;
    const text = this.queue.shift() as string;
    const taken = this.queuedLines.shift() as number;
    this.queued -= text.length;
    const chunk = Buffer.from(text);
    this.writing = true;
    this.writeChunk(chunk, (err, written) => {
      this.writing = false;
      if (this.retired !== null) {
        closeQuietly(this.retired);
        this.retired = null;
      }
      if (err?.code === 'EAGAIN') {
        // A non-blocking destination is full: keep the chunk for the next attempt (the timer's).
        this.requeue(text, taken);
        return;
      }
      if (err) {
        this.dropped += taken;
        log.warn(`access log write failed: ${err.message}`);
      } else if (written < chunk.length) {
        this.requeue(chunk.subarray(written).toString(), taken);
        return;
      }
      if (this.queue.length > 0) this.flush();
    });
  }

  private requeue(text: string, lines: number): void {
    this.queue.unshift(text);
    this.queuedLines.unshift(lines);
    this.queued += text.length;
  }

  /** Stops the flush timer and forgets what is queued (for a destination that is gone). */
  discard(): void {
    clearInterval(this.timer);
    this.queue = [];
    this.queuedLines = [];
    this.current = '';
    this.queued = 0;
  }

  /** Writes everything left, synchronously: for a worker about to exit. */
  flushSync(): void {
    clearInterval(this.timer);
    if (this.current.length > 0) this.seal();
    while (this.queue.length > 0) {
      const chunk = Buffer.from(this.queue.shift() as string);
      this.queuedLines.shift();
      try {
        if (this.stream !== null) this.stream.write(chunk);
        else fs.writeSync(this.fd, chunk);
      } catch (err) {
        log.warn(`access log write failed: ${(err as Error).message}`);
        break;
      }
    }
    this.reportDrops(true);
  }

  private reportDrops(force: boolean): void {
    const now = Date.now();
    if (this.dropped === 0 || (!force && now - this.lastDropReport < DROP_REPORT_MS)) return;
    this.lastDropReport = now;
    log.warn(`access log: ${this.dropped} line(s) dropped so far because the destination could not keep up`);
  }
}
