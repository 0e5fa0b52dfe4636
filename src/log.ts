// Diagnostic log: one line per event on stderr, with time, level and process id.

type Level = 'info' | 'warn' | 'error';

function write(level: Level, message: string): void {
  process.stderr.write(`${new Date().toISOString()} ${level} [${process.pid}] ${message}\n`);
}

export const log = {
  info: (message: string): void => write('info', message),
  warn: (message: string): void => write('warn', message),
  error: (message: string): void => write('error', message),
};
