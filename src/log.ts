// Diagnostic log: one line per event, with time, level and process id. Information (start-up,
// reloads, drains) goes to stdout beside the access log; warnings and errors to stderr, so that
// pm2's error log and a shell's 2> hold only what needs a look.

type Level = 'info' | 'warn' | 'error';

function write(level: Level, message: string): void {
  const line = `${new Date().toISOString()} ${level} [${process.pid}] ${message}\n`;
  (level === 'info' ? process.stdout : process.stderr).write(line);
}

export const log = {
  info: (message: string): void => write('info', message),
  warn: (message: string): void => write('warn', message),
  error: (message: string): void => write('error', message),
};

/**
 * A condition worth a warning that can happen on every request or connection: each occurrence is
 * counted, and a line is written at most once a minute, so that a flood cannot flood the log.
 */
export class RareWarning {
  /** Occurrences so far. */
  count = 0;
  private last = -Infinity;

  /** Counts one occurrence; writes `message(count)` if no line was written in the last minute. */
  note(message: (count: number) => string): void {
    this.count++;
    const now = Date.now();
    if (now - this.last < 60_000) return;
    this.last = now;
    log.warn(message(this.count));
  }
}
