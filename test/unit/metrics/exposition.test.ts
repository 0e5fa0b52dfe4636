// The metric families' text exposition, and the Meter that counts requests.

import { describe, expect, it } from '@jest/globals';
import { FAMILIES, OPENMETRICS_TEXT, PROMETHEUS_TEXT, render, wantsOpenMetrics } from '../../../src/metrics/exposition';
import { BUCKETS, HTTP1, HTTP2, Meter } from '../../../src/metrics/meter';

const samples = new Map<string, number>([
  ['pws_http_requests_total{protocol="http/1.1",method="GET",code="2xx"}', 3],
  ['pws_connections_open', 2],
  ['pws_http_request_duration_seconds_bucket{protocol="h2",le="+Inf"}', 1],
  ['pws_http_request_duration_seconds_sum{protocol="h2"}', 0.5],
  ['pws_http_request_duration_seconds_count{protocol="h2"}', 1],
  ['not_ours', 9],
]);

describe('render', () => {
  it('writes Prometheus text 0.0.4: HELP and TYPE once per family, in the families’ order', () => {
    const text = render(samples, false);
    expect(text.split('\n')).toEqual([
      `# HELP pws_http_requests_total ${FAMILIES[0]?.help}`,
      '# TYPE pws_http_requests_total counter',
      'pws_http_requests_total{protocol="http/1.1",method="GET",code="2xx"} 3',
      expect.stringMatching(/^# HELP pws_http_request_duration_seconds /),
      '# TYPE pws_http_request_duration_seconds histogram',
      'pws_http_request_duration_seconds_bucket{protocol="h2",le="+Inf"} 1',
      'pws_http_request_duration_seconds_sum{protocol="h2"} 0.5',
      'pws_http_request_duration_seconds_count{protocol="h2"} 1',
      expect.stringMatching(/^# HELP pws_connections_open /),
      '# TYPE pws_connections_open gauge',
      'pws_connections_open 2',
      '',
    ]);
  });

  it('writes OpenMetrics: counter families named without _total, and # EOF', () => {
    const text = render(samples, true);
    expect(text).toContain('# TYPE pws_http_requests counter\npws_http_requests_total{');
    expect(text.endsWith('# EOF\n')).toBe(true);
  });

  it('is chosen by Accept', () => {
    expect(wantsOpenMetrics('application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5')).toBe(true);
    expect(wantsOpenMetrics('text/plain')).toBe(false);
    expect(wantsOpenMetrics(undefined)).toBe(false);
    expect([PROMETHEUS_TEXT, OPENMETRICS_TEXT]).toEqual([
      'text/plain; version=0.0.4; charset=utf-8',
      'application/openmetrics-text; version=1.0.0; charset=utf-8',
    ]);
  });
});

describe('Meter', () => {
  it('counts by protocol, method class and status class, and puts each duration in one bucket', () => {
    const m = new Meter();
    m.request(HTTP1, 'GET', 200, 100, 0.05); // 50 µs: the first bucket
    m.request(HTTP1, 'HEAD', 304, 0, 0.1); // exactly 100 µs: still the first (le is inclusive)
    m.request(HTTP2, 'POST', 405, 10, 20_000); // 20 s: +Inf
    m.request(HTTP1, '', 400, 5, 3); // an unparsed method: other
    expect([...m.requests].reduce((a, b) => a + b)).toBe(4);
    expect(m.requests[0 * 12 + 0 * 4 + 0]).toBe(1); // http/1.1 GET 2xx
    expect(m.requests[0 * 12 + 1 * 4 + 1]).toBe(1); // http/1.1 HEAD 3xx
    expect(m.requests[1 * 12 + 2 * 4 + 2]).toBe(1); // h2 other 4xx
    expect(m.requests[0 * 12 + 2 * 4 + 2]).toBe(1); // http/1.1 other 4xx
    expect([...m.bytes]).toEqual([105, 10]);
    expect(m.durations[0]).toBe(2);
    expect(m.durations[(BUCKETS.length + 1) * 1 + BUCKETS.length]).toBe(1);
    expect(m.durations[BUCKETS.indexOf(0.005)]).toBe(1);
    // Whole microseconds: sums over workers are exact in any order (a smaller total would be a reset).
    expect([...m.durationSumUs]).toEqual([50 + 100 + 3000, 20_000_000]);
  });
});
