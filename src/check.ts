// `pws --check`: what a good configuration will do, in a few lines, for an operator about to reload.
// (A bad one never gets here: loading it fails with one line and exit status 1, as at start-up.)

import type { Config } from './config';
import { loadSiteFiles } from './static/site-files';

const plural = (n: number, one: string): string => `${n} ${one}${n === 1 ? '' : 's'}`;

/** The report of `pws --check` for a configuration that loaded. */
export function checkReport(config: Config): string {
  const lines = [
    `serve ${config.staticDir}`,
    `listen on ${config.host ?? '*'}:${config.port} with ${config.workers} worker${config.workers === 1 ? '' : 's'}${config.tls === null ? '' : ` over HTTPS (${config.tls.certFile})`}`,
  ];
  if (config.httpRedirectPort !== null) lines.push(`redirect plain HTTP on port ${config.httpRedirectPort} to HTTPS`);
  if (config.headerRules.length > 0) lines.push(`add headers by ${plural(config.headerRules.length, 'rule')} of HEADERS_FILE`);
  // Loading the configuration compiled them already: a site file with a mistake never gets here.
  const site = loadSiteFiles(config.staticDir);
  if (site.redirects.rules.length > 0) lines.push(`apply ${plural(site.redirects.rules.length, 'rule')} of _redirects`);
  if (site.headers.rules.length > 0) lines.push(`add headers by ${plural(site.headers.rules.length, 'block')} of _headers`);
  if (config.runAs !== null) lines.push(`run the workers as ${config.runAs.user} (uid ${config.runAs.uid}, gid ${config.runAs.gid})`);
  if (config.healthPath !== null) lines.push(`answer the health probe at ${config.healthPath}`);
  if (config.trustedProxies !== null) {
    lines.push(`${config.proxyProtocol ? 'require a PROXY protocol header from' : 'believe X-Forwarded-For from'} ${config.trustedProxies.text}`);
  }
  if (config.lameDuckMs > 0) lines.push(`keep serving ${config.lameDuckMs} ms with the probe at 503 before draining`);
  lines.push(`access log: ${config.accessLog} (${config.logFormat})`);
  return `pws: configuration OK\n${lines.map((l) => `  ${l}`).join('\n')}`;
}
