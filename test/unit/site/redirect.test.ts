// The HTTPS redirect's Location: PWS's own HTTPS port for a direct client, the default port for a
// client that came through a trusted proxy (it reached the proxy's public ports).

import { describe, expect, it } from '@jest/globals';
import type { Reply } from '../../../src/contract/reply';
import type { Request } from '../../../src/contract/request';
import { redirectToHttps } from '../../../src/site/redirect';

function request(target: string, host: string, proxied: boolean): Request {
  return { method: 'GET', target, header: (name) => (name === 'host' ? host : undefined), names: ['host'], values: [host], proxied };
}

describe('redirectToHttps', () => {
  const redirect = redirectToHttps(() => 8443);
  it('names PWS’s HTTPS port for a direct client', () => {
    const r = redirect(request('/a?b=1', 'example.com:8080', false)) as Reply;
    expect(r.status).toBe(308);
    expect(r.headers.location).toBe('https://example.com:8443/a?b=1');
  });

  it('names the default port for a client behind a trusted proxy', () => {
    expect((redirect(request('/a', 'example.com', true)) as Reply).headers.location).toBe('https://example.com/a');
  });
});
