// Imported first by both entry points (bin.ts, main.ts): from the moment PWS's own code runs, a
// SIGUSR1 has a listener, so Node never opens its inspector on it. The primary and the workers add
// what the signal means to them (reopening the access log).

process.on('SIGUSR1', () => undefined);
