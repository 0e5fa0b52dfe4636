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
