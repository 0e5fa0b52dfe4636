// `_redirects` parsing and matching, and the route patterns it shares with `_headers`.

import { describe, expect, it } from '@jest/globals';
import { decodeTarget } from '../../../src/http/target';
import { findRule, parseRedirects, SiteFileError, withQuery } from '../../../src/site/redirects';
import { matchRoute, parseRoutePattern } from '../../../src/site/route-pattern';

/** The decoded segments of a request path, as the handler matches them. */
function segmentsOf(path: string): string[] {
  const t = decodeTarget(path);
  if (typeof t === 'number') throw new Error(`bad path ${path}`);
  return t.segments;
}

/** The target the rules give `path`, with the rule's status and force, or null. */
function route(text: string, path: string): { target: string; status: number; force: boolean } | null {
  const m = findRule(parseRedirects(text), segmentsOf(path));
  return m === null ? null : { target: m.target, status: m.rule.status, force: m.rule.force };
}

describe('route patterns', () => {
  it('match literal segments, placeholders and a final splat on decoded segments', () => {
    const p = parseRoutePattern('/blog/:year/*');
    expect(matchRoute(p, ['blog', '2024', 'a', 'b'])).toEqual({ named: new Map([['year', '2024']]), splat: ['a', 'b'] });
    expect(matchRoute(p, ['blog', '2024'])).toEqual({ named: new Map([['year', '2024']]), splat: [] });
    expect(matchRoute(p, ['blog'])).toBeNull();
    expect(matchRoute(p, ['news', '2024'])).toBeNull();
    expect(matchRoute(parseRoutePattern('/about/'), ['about'])).not.toBeNull();
    expect(matchRoute(parseRoutePattern('/about'), ['about', 'x'])).toBeNull();
    expect(matchRoute(parseRoutePattern('/*'), [])).toEqual({ named: new Map(), splat: [] });
    // Percent-encoded or UTF-8 in the file: both name the decoded segment.
    expect(matchRoute(parseRoutePattern('/caf%C3%A9'), ['café'])).not.toBeNull();
    expect(matchRoute(parseRoutePattern('/café'), ['café'])).not.toBeNull();
    // Case matters, as on the file system.
    expect(matchRoute(parseRoutePattern('/About'), ['about'])).toBeNull();
  });

  it.each([
    ['blog/*', 'must start with /'],
    ['/a//b', 'empty segment'],
    ['/*/x', 'last segment'],
    ['/a*', 'last segment'],
    ['/:1x', 'placeholder name'],
    ['/:a/:a', 'appears twice'],
    ['/%zz', 'not a valid path segment'],
    ['/a/%2F', 'not a valid path segment'],
  ])('refuse %s', (source, message) => {
    expect(() => parseRoutePattern(source)).toThrow(message);
  });
});

describe('parseRedirects', () => {
  const file = `
# Netlify-style rules
/home              /                 301
/old/*             /new/:splat       302
/news/:year/:month/*  /blog/:year/:splat
/app/*             /app/index.html   200
/en/*              /en/404.html      404
/ext               https://example.com/docs?ref=pws   308
/shadow            /elsewhere        301!
/search            /find?q=x         307   # trailing comment
`;

  it('reads from, to, status and force; 301 by default; comments and blank lines skipped', () => {
    const rules = parseRedirects(file);
    expect(rules.rules.map((r) => [r.line, r.status, r.force])).toEqual([
      [3, 301, false],
      [4, 302, false],
      [5, 301, false],
      [6, 200, false],
      [7, 404, false],
      [8, 308, false],
      [9, 301, true],
      [10, 307, false],
    ]);
  });

  it('first match wins, with splats and placeholders substituted', () => {
    expect(route(file, '/home')).toEqual({ target: '/', status: 301, force: false });
    expect(route(file, '/old/a/b.html')).toEqual({ target: '/new/a/b.html', status: 302, force: false });
    expect(route(file, '/news/2024/05/x/y')).toEqual({ target: '/blog/2024/x/y', status: 301, force: false });
    expect(route(file, '/app/deep/link')?.target).toBe('/app/index.html');
    expect(route(file, '/en/missing')?.status).toBe(404);
    expect(route(file, '/ext')?.target).toBe('https://example.com/docs?ref=pws');
    expect(route(file, '/shadow')?.force).toBe(true);
    expect(route(file, '/nothing')).toBeNull();
  });

  it('keeps file order across rules indexed by their first segment and rules that start with a placeholder', () => {
    expect(route('/:x /any 200\n/blog /blog-rule 200', '/blog')?.target).toBe('/any');
    expect(route('/blog /blog-rule 200\n/:x /any 200', '/blog')?.target).toBe('/blog-rule');
    expect(route('/blog/a /one 200\n/* /all 200\n/blog/* /two 200', '/blog/b')?.target).toBe('/all');
    expect(route('/blog/a /one 200\n/other /x 200\n/blog/* /two 200', '/blog/b')?.target).toBe('/two');
    expect(route('/ /root 200\n/* /all 200', '/')?.target).toBe('/root');
  });

  it('re-encodes what it captured, one segment per capture', () => {
    expect(route('/old/* /new/:splat', '/old/a%20b/%3Cx%3E')?.target).toBe('/new/a%20b/%3Cx%3E');
    expect(route('/u/:name /people/:name.html', '/u/%E2%82%AC')?.target).toBe('/people/%E2%82%AC.html');
    // A question mark captured inside a segment stays inside it (a %2F is a separator once decoded).
    expect(route('/u/:name /people/:name', '/u/a%3Fb')?.target).toBe('/people/a%3Fb');
    expect(route('/u/:name /people/:name', '/u/a%2Fb')).toBeNull();
  });

  it('never produces a path that starts with // (another host, to a browser)', () => {
    expect(route('/x/* /:splat/y', '/x')?.target).toBe('/y');
    expect(route('/x/* /:splat', '/x//evil.example')?.target).toBe('/evil.example');
    expect(route('/x/* /:splat', '/x/%2F%2Fevil.example')?.target).toBe('/evil.example');
    // The parser refuses a backslash in a path; were one captured, it would go out encoded.
    expect(findRule(parseRedirects('/x/* /:splat'), ['x', '\\evil.example'])?.target).toBe('/%5Cevil.example');
    // An absolute target keeps the host its owner wrote, whatever was captured.
    expect(route('/go/* https://docs.example/:splat', '/go/@evil.example')?.target).toBe('https://docs.example/@evil.example');
    expect(route('/go/* https://docs.example/:splat', '/go')?.target).toBe('https://docs.example/');
  });

  it.each([
    ['/a', 'expected "from to [status]"'],
    ['/a /b 410', 'status "410" is not supported'],
    ['/a /b 30', 'status "30" is not supported'],
    ['/a /b 301 extra', 'unexpected "extra"'],
    ['/store id=:id /blog/:id 301', 'query-parameter matching'],
    ['/ /anz 302 Country=au,nz', 'conditions such as "Country=au,nz"'],
    ['/admin/* /admin/:splat 200! Role=admin', 'conditions such as "Role=admin"'],
    ['/blog/* https://blog.example/:splat 200', 'proxying to another host'],
    ['/blog/* https://blog.example/:splat 404', 'proxying to another host'],
    ['https://old.example/* https://new.example/:splat 301', 'host-prefixed rules'],
    ['/a?x=1 /b', 'query strings in the from path'],
    ['/a b', '"b" must be a path starting with /'],
    ['/a //evil.example', '"//evil.example" would send browsers to another host'],
    ['/a/:x /b/:y', '"/b/:y" uses :y, which "/a/:x" does not capture'],
    ['/a /b/:splat', '"/b/:splat" uses :splat'],
    ['/a https://:host/x', '"https://:host/x" is not a URL with a fixed host'],
    ['/*/b /c', '"/*/b": a splat (*) can only be the last segment'],
    ['/go/* /\\:splat 302', '"/\\:splat" has a backslash'],
    ['/a https://evil.example\\@good.example/ 302', '"https://evil.example\\@good.example/" has a backslash'],
    ['/about/ /about 301!', '"/about" matches "/about/" itself'],
    ['/docs /docs/ 301', '"/docs/" matches "/docs" itself'],
    ['/a/* /a/b?x=1 302', '"/a/b?x=1" matches "/a/*" itself'],
  ])('refuses %s', (line, message) => {
    expect(() => parseRedirects(`# first\n${line}\n`)).toThrow(SiteFileError);
    expect(() => parseRedirects(`# first\n${line}\n`)).toThrow(`line 2: ${message}`);
  });

  it('lets a rewrite or a 404 page name a path its own rule matches (no loop: nothing is redirected)', () => {
    expect(route('/app/* /app/index.html 200', '/app/x')?.target).toBe('/app/index.html');
    expect(route('/en/* /en/404.html 404', '/en/x')?.target).toBe('/en/404.html');
  });

  it('keeps the query on redirects, after the target’s own', () => {
    expect(withQuery('/new', '?a=1')).toBe('/new?a=1');
    expect(withQuery('/find?q=x', '?a=1')).toBe('/find?q=x&a=1');
    expect(withQuery('/doc#top', '?a=1')).toBe('/doc?a=1#top');
    expect(withQuery('/new', '')).toBe('/new');
  });

  it('takes Windows line ends and UTF-8 in the target', () => {
    expect(route('/a /b\r\n/c /d 302\r\n', '/c')).toEqual({ target: '/d', status: 302, force: false });
    expect(route('/menu /café', '/menu')?.target).toBe('/caf%C3%A9');
  });
});
