// `pws --check`: what a good configuration will do, in a few lines, for an operator about to reload.
// (A bad one never gets here: loading it fails with one line and exit status 1, as at start-up.)

import type { Config } from './config';

/** The report of `pws --check` for a configuration that loaded. */
export function checkReport(config: Config): string {
  const lines = [
    `serve ${config.staticDir}`,
    `listen on ${config.host ?? '*'}:${config.port} with ${config.workers} worker${config.workers === 1 ? '' : 's'}${config.tls === null ? '' : ` over HTTPS (${config.tls.certFile})`}`,
  ];
  if (config.httpRedirectPort !== null) lines.push(`redirect plain HTTP on port ${config.httpRedirectPort} to HTTPS`);
  if (config.headerRules.length > 0)
    lines.push(`add headers by ${config.headerRules.length} rule${config.headerRules.length === 1 ? '' : 's'} of HEADERS_FILE`);
  if (config.healthPath !== null) lines.push(`answer the health probe at ${config.healthPath}`);
  if (config.trustedProxies !== null) {
    lines.push(`${config.proxyProtocol ? 'require a PROXY protocol header from' : 'believe X-Forwarded-For from'} ${config.trustedProxies.text}`);
  }
  if (config.lameDuckMs > 0) lines.push(`keep serving ${config.lameDuckMs} ms with the probe at 503 before draining`);
  lines.push(`access log: ${config.accessLog} (${config.logFormat})`);
  return `pws: configuration OK\n${lines.map((l) => `  ${l}`).join('\n')}`;
}
