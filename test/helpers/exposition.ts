// Reading a metrics exposition in tests: its samples by series key.

/** The samples of a Prometheus or OpenMetrics exposition, by series key (`name{labels}`). */
export function parseExposition(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

/** The sum of every pws_http_requests_total series. */
export function requestTotal(samples: ReadonlyMap<string, number>): number {
  let n = 0;
  for (const [k, v] of samples) if (k.startsWith('pws_http_requests_total{')) n += v;
  return n;
}
