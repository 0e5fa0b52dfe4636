// `_headers` parsing and matching, and how its fields merge with CORS and HEADERS_FILE.

import { describe, expect, it } from '@jest/globals';
import type { Reply } from '../../../src/contract/reply';
import { parseCors } from '../../../src/site/cors';
import { addSiteFields } from '../../../src/site/fields';
import { parseHeadersFile } from '../../../src/site/headers-file';
import { SiteFileError } from '../../../src/site/redirects';
import { parseSiteHeaders, siteHeadersFor } from '../../../src/site/site-headers';

const file = `# Netlify-style headers
/*
  X-Frame-Options: DENY
  Link: </style.css>; rel=preload; as=style

/assets/*
  Cache-Control: public, max-age=31536000, immutable
/blog/:slug
  Link: </blog.css>; rel=preload; as=style
  X-Robots-Tag: noindex
`;

describe('parseSiteHeaders', () => {
  const rules = parseSiteHeaders(file);

  it('applies every matching block; values of one field accumulate in file order', () => {
    expect(siteHeadersFor(rules, ['blog', 'post'])).toEqual([
      ['X-Frame-Options', 'DENY'],
      ['Link', '</style.css>; rel=preload; as=style, </blog.css>; rel=preload; as=style'],
      ['X-Robots-Tag', 'noindex'],
    ]);
    expect(siteHeadersFor(rules, ['assets', 'app.js'])).toContainEqual(['Cache-Control', 'public, max-age=31536000, immutable']);
    expect(siteHeadersFor(rules, [])).toEqual([
      ['X-Frame-Options', 'DENY'],
      ['Link', '</style.css>; rel=preload; as=style'],
    ]);
    expect(siteHeadersFor(rules, ['blog', 'a', 'b'])).not.toContainEqual(['X-Robots-Tag', 'noindex']);
    expect(siteHeadersFor(parseSiteHeaders(''), ['x'])).toEqual([]);
    // Blocks indexed by their first segment still apply in file order.
    expect(siteHeadersFor(parseSiteHeaders('/blog/*\n  X-A: 1\n/:any/*\n  X-A: 2\n/blog/x\n  X-A: 3\n'), ['blog', 'x'])).toEqual([['X-A', '1, 2, 3']]);
  });

  it.each([
    ['  X-A: 1', 'line 2: "X-A: 1" comes before any path line'],
    ['/a\n  X-A', 'line 3: expected "Name: value"'],
    ['/a\n  Bad Name: 1', 'line 3: "Bad Name" is not a valid header name'],
    ['/a\n  Content-Length: 1', 'line 3: Content-Length is set by PWS itself'],
    ['/a\n  ! X-A', 'line 3: removing fields'],
    ['https://example.com/*\n  X-A: 1', 'line 2: host-prefixed rules'],
    ['/*.css\n  X-A: 1', 'line 2: "/*.css": a splat (*) can only be the last segment'],
    ['/a X-A: 1', 'line 2: "/a X-A: 1": a path line holds the path only'],
    ['/a\n  X-A: bad\u0001value', 'line 3: the value of X-A must be Latin-1 text without control characters'],
    ['/a\n  X-A: \u20ac', 'line 3: the value of X-A must be Latin-1 text'],
    [`/a\n  X-A: ${'v'.repeat(8193)}`, 'line 3: the value of X-A is longer than 8192 bytes'],
  ])('refuses %j', (text, message) => {
    expect(() => parseSiteHeaders(`# first\n${text}\n`)).toThrow(SiteFileError);
    expect(() => parseSiteHeaders(`# first\n${text}\n`)).toThrow(message);
  });
});

describe('addSiteFields', () => {
  const reply = (): Reply => ({ status: 200, headers: { contentType: 'text/css', cacheControl: 'no-cache', vary: ['Accept-Encoding'] }, body: null });

  it('lets HEADERS_FILE replace a _headers field of the same name, and both replace Cache-Control', () => {
    const r = reply();
    const configured = parseHeadersFile(JSON.stringify({ '/**': { 'X-Frame-Options': 'SAMEORIGIN' } }));
    addSiteFields(r, { cors: null, headerRules: configured }, undefined, '/a.css', [
      ['X-Frame-Options', 'DENY'],
      ['Cache-Control', 'public, max-age=60'],
      ['X-Content-Type-Options', 'nosniff'],
    ]);
    expect(r.headers.cacheControl).toBe('public, max-age=60');
    expect(r.headers.extra).toEqual([['X-Frame-Options', 'SAMEORIGIN']]);
    expect(r.headers.vary).toEqual(['Accept-Encoding']);
  });

  it('keeps every Set-Cookie apart, which cannot be joined into one field', () => {
    const rules = parseSiteHeaders('/*\n  Set-Cookie: a=1\n/x\n  Set-Cookie: b=2\n  X-A: 1\n');
    expect(siteHeadersFor(rules, ['x'])).toEqual([
      ['Set-Cookie', 'a=1'],
      ['Set-Cookie', 'b=2'],
      ['X-A', '1'],
    ]);
  });

  it('lets CORS decide its own fields over _headers and HEADERS_FILE', () => {
    const r = reply();
    const configured = parseHeadersFile(JSON.stringify({ '/**': { 'Access-Control-Allow-Origin': 'https://b.example' } }));
    addSiteFields(r, { cors: parseCors('*'), headerRules: configured }, 'https://a.example', '/a.css', [['Access-Control-Allow-Origin', 'https://c.example']]);
    expect(r.headers.extra?.filter(([name]) => name === 'Access-Control-Allow-Origin')).toEqual([['Access-Control-Allow-Origin', '*']]);
  });

  it('leaves a reply alone when there is nothing to add', () => {
    const r = reply();
    const before = r.headers;
    addSiteFields(r, { cors: null, headerRules: [] }, undefined, '/a.css', []);
    expect(r.headers).toBe(before);
  });
});
