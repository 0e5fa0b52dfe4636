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
  /** 0 or 1: HTTP/1.x minor version. */
  minor: number;
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

/** nginx's $time_local, in UTC: "10/Oct/2000:13:55:36 +0000". */
export function clfTime(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

/** Escapes a field for a quoted CLF string the way nginx does: `"` `\` and non-printables as \xHH. */
function clfQuote(s: string | undefined): string {
  if (s === undefined || s === '') return '-';
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
      protocol: `HTTP/1.${e.minor}`,
      status: e.status,
      bytes: e.bytes,
      referer: e.referer ?? null,
      userAgent: e.userAgent ?? null,
      ms: Math.round(e.ms * 1000) / 1000,
      worker: e.worker,
    })}\n`;
  }
  // Combined Log Format, then the request time in ms and the worker id.
  const request = clfQuote(`${e.method} ${e.target} HTTP/1.${e.minor}`);
  return `${e.remote} - - [${clfTime(e.start)}] "${request}" ${e.status} ${e.bytes} "${clfQuote(e.referer)}" "${clfQuote(e.userAgent)}" ${e.ms.toFixed(3)} ${e.worker}\n`;
}

/** One write is at most this big: below PIPE_BUF, so lines from several workers never interleave on a pipe. */
const WRITE_BYTES = 4096;
const FLUSH_MS = 1000;
const DROP_REPORT_MS = 60_000;

export class AccessLog {
  private queue: string[] = [];
  private queued = 0;
  private writing = false;
  private dropped = 0;
  private lastDropReport = 0;
  private readonly timer: NodeJS.Timeout;

  /**
   * `fd` is where lines go (1 for stdout, or an fd opened for appending); `maxBytes` bounds the
   * queue. Writes go through fs.write on the thread pool, so a full pipe blocks a pool thread,
   * never the event loop.
   */
  constructor(
    private readonly fd: number,
    private readonly format: LogFormat,
    private readonly maxBytes: number,
  ) {
    this.timer = setInterval(() => this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  /** Opens the log named by ACCESS_LOG (`stdout` or a file path, appended to). */
  static open(destination: string, format: LogFormat, maxBytes: number): AccessLog {
    const fd = destination === 'stdout' ? 1 : fs.openSync(destination, 'a');
    return new AccessLog(fd, format, maxBytes);
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
    this.queue.push(line);
    this.queued += line.length;
    if (this.queued >= WRITE_BYTES) this.flush();
  }

  /** Starts an asynchronous write of what is queued (one write in flight at a time). */
  flush(): void {
    if (this.writing || this.queue.length === 0) return;
    const lines = this.queue.length;
    const chunk = this.take();
    const taken = lines - this.queue.length;
    this.writing = true;
    fs.write(this.fd, chunk, (err, written) => {
      this.writing = false;
      if (err?.code === 'EAGAIN') {
        // A non-blocking destination is full: keep the chunk for the next attempt (the timer's).
        this.queue.unshift(chunk.toString());
        this.queued += chunk.length;
        return;
      }
      if (err) {
        this.dropped += taken;
        log.warn(`access log write failed: ${err.message}`);
      } else if (written < chunk.length) {
        this.queue.unshift(chunk.subarray(written).toString());
        this.queued += chunk.length - written;
      }
      if (this.queued >= WRITE_BYTES) this.flush();
    });
  }

  /** Stops the flush timer and forgets what is queued (for a destination that is gone). */
  discard(): void {
    clearInterval(this.timer);
    this.queue = [];
    this.queued = 0;
  }

  /** Writes everything left, synchronously: for a worker about to exit. */
  flushSync(): void {
    clearInterval(this.timer);
    while (this.queue.length > 0) {
      const chunk = this.take();
      try {
        fs.writeSync(this.fd, chunk);
      } catch (err) {
        log.warn(`access log write failed: ${(err as Error).message}`);
        break;
      }
    }
    this.reportDrops(true);
  }

  /** Removes whole lines from the queue, up to WRITE_BYTES (or one longer line). */
  private take(): Buffer {
    let n = 0;
    let bytes = 0;
    while (n < this.queue.length && (n === 0 || bytes + this.queue[n].length <= WRITE_BYTES)) bytes += this.queue[n++].length;
    const lines = this.queue.splice(0, n);
    this.queued -= bytes;
    return Buffer.from(lines.join(''));
  }

  private reportDrops(force: boolean): void {
    const now = Date.now();
    if (this.dropped === 0 || (!force && now - this.lastDropReport < DROP_REPORT_MS)) return;
    this.lastDropReport = now;
    log.warn(`access log: ${this.dropped} line(s) dropped so far because the destination could not keep up`);
  }
}
