// Hosting conventions over sockets: `_redirects`, `_headers`, clean URLs, the trailing-slash form,
// the site's 404 pages and the built-in pages. Every question is asked twice: the second answer
// comes from the reply cache and must be the same.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../src/config';
import { get, type Response } from '../helpers/raw';
import { startInProcess, type InProcess } from '../helpers/in-process';
import { makeSite, tempDir } from '../helpers/server';

const redirects = `# moved pages
/home            /                      301
/old/*           /new/:splat            302
/news/:year/*    /blog/:year/:splat     308
/docs-old/*      https://docs.example/:splat   301
/app/*           /app/index.html        200
/en/*            /en/404.html           404
/shadowed        /elsewhere             301
/forced          /about.html            200!
/gone-folder/*   /                      307
/first           /one                   302
/first           /two                   302
`;

const headers = `/*
  X-Frame-Options: DENY
  Link: </style.css>; rel=preload; as=style
/assets/*
  Cache-Control: public, max-age=31536000, immutable
  X-Content-Type-Options: nosniff
/blog/:slug
  Link: </blog.css>; rel=preload; as=style
`;

const site = {
  _redirects: redirects,
  _headers: headers,
  'index.html': '<h1>home</h1>',
  '404.html': '<h1>site 404</h1>',
  'error.html': '<h1>error page</h1>',
  'about.html': '<h1>about</h1>',
  'shadowed.html': 'shadowed page',
  shadowed: 'a file named shadowed',
  forced: 'a file named forced',
  'app/index.html': '<h1>app</h1>',
  'en/404.html': '<h1>en 404</h1>',
  'docs/index.html': '<h1>docs</h1>',
  'docs/guide.html': '<h1>guide</h1>',
  'assets/app.js': 'console.log(1);',
  'blog/post.html': '<h1>post</h1>',
  'gone-folder/.keep': '',
};

/** GETs `target` twice (the second from the reply cache) and checks both answers agree. */
async function twice(port: number, target: string, fields?: string[]): Promise<Response> {
  const a = await get(port, target, fields);
  const b = await get(port, target, fields);
  expect([b.status, b.headers.location, b.body.toString()]).toEqual([a.status, a.headers.location, a.body.toString()]);
  return a;
}

let plain: InProcess;
let clean: InProcess;
let always: InProcess;
let never: InProcess;
beforeAll(async () => {
  const root = makeSite(site);
  const configured = path.join(tempDir('pws-headers-'), 'headers.json');
  fs.writeFileSync(configured, JSON.stringify({ '/blog/**': { 'X-Frame-Options': 'SAMEORIGIN' } }));
  plain = await startInProcess({ staticDir: root, env: { HEADERS_FILE: configured } });
  clean = await startInProcess({ staticDir: root, env: { CLEAN_URLS: 'on' } });
  always = await startInProcess({ staticDir: root, env: { CLEAN_URLS: 'on', TRAILING_SLASH: 'always' } });
  never = await startInProcess({ staticDir: root, env: { CLEAN_URLS: 'on', TRAILING_SLASH: 'never' } });
});
afterAll(async () => {
  await Promise.all([plain, clean, always, never].map((s) => s.stop()));
});

describe('_redirects', () => {
  it('redirects with the rule’s status, splats and placeholders filled in, the query kept', async () => {
    expect([(await twice(plain.port, '/home')).status, (await twice(plain.port, '/home')).headers.location]).toEqual([301, '/']);
    const r = await twice(plain.port, '/old/a/b.html?x=1&y=2');
    expect([r.status, r.headers.location]).toEqual([302, '/new/a/b.html?x=1&y=2']);
    const n = await twice(plain.port, '/news/2024/05/hello');
    expect([n.status, n.headers.location]).toEqual([308, '/blog/2024/05/hello']);
    const ext = await twice(plain.port, '/docs-old/intro?v=2');
    expect([ext.status, ext.headers.location]).toEqual([301, 'https://docs.example/intro?v=2']);
  });

  it('sends a redirect page with the status, its reason and a link, under a CSP that allows nothing else', async () => {
    const r = await get(plain.port, '/old/x');
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.headers['content-security-policy']).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'$/);
    expect(r.body.toString()).toContain('<title>302 Found</title>');
    expect(r.body.toString()).toContain('<a href="/new/x">/new/x</a>');
  });

  it('escapes what it captured in the page and the Location', async () => {
    const r = await get(plain.port, '/old/%3Cscript%3E%22');
    expect(r.headers.location).toBe('/new/%3Cscript%3E%22');
    expect(r.body.toString()).not.toContain('<script>');
  });

  it('never turns a captured path into another host', async () => {
    for (const target of ['/old//evil.example', '/old/%2F%2Fevil.example', '/gone-folder//evil.example/x']) {
      const r = await get(plain.port, target);
      expect(r.headers.location).toMatch(/^\/(?!\/)/);
    }
  });

  it('rewrites (200) to the target under the requested URL, and 404s with a page of its own', async () => {
    const app = await twice(plain.port, '/app/some/deep/link');
    expect([app.status, app.body.toString(), app.headers.location]).toEqual([200, '<h1>app</h1>', undefined]);
    const en = await twice(plain.port, '/en/nothing-here');
    expect([en.status, en.body.toString()]).toEqual([404, '<h1>en 404</h1>']);
  });

  it('lets a file at the path win unless the rule is forced', async () => {
    expect((await twice(plain.port, '/shadowed')).body.toString()).toBe('a file named shadowed');
    expect((await twice(plain.port, '/forced')).body.toString()).toBe('<h1>about</h1>');
  });

  it('takes the first matching rule', async () => {
    expect((await twice(plain.port, '/first')).headers.location).toBe('/one');
  });

  it('never serves the site files themselves', async () => {
    for (const name of ['/_redirects', '/_headers']) {
      const r = await twice(plain.port, name);
      expect([r.status, r.body.toString()]).toEqual([404, '<h1>site 404</h1>']);
    }
  });
});

describe('_headers', () => {
  it('adds the fields of every matching block, values of one field joined', async () => {
    const r = await twice(plain.port, '/blog/post.html');
    expect(r.headers.link).toBe('</style.css>; rel=preload; as=style, </blog.css>; rel=preload; as=style');
  });

  it('gives HEADERS_FILE the last word on a field both set', async () => {
    expect((await get(plain.port, '/blog/post.html')).headers['x-frame-options']).toBe('SAMEORIGIN');
    expect((await get(plain.port, '/about.html')).headers['x-frame-options']).toBe('DENY');
  });

  it('replaces Cache-Control rather than sending two, and keeps one nosniff', async () => {
    const r = await twice(plain.port, '/assets/app.js');
    expect(r.rawHeaders.filter((h) => /^cache-control:/i.test(h))).toEqual(['Cache-Control: public, max-age=31536000, immutable']);
    expect(r.rawHeaders.filter((h) => /^x-content-type-options:/i.test(h))).toHaveLength(1);
  });

  it('applies to 404s and redirects too, by the requested path', async () => {
    expect((await get(plain.port, '/missing')).headers['x-frame-options']).toBe('DENY');
    expect((await get(plain.port, '/home')).headers['x-frame-options']).toBe('DENY');
  });
});

describe('clean URLs', () => {
  it('serve about.html at /about and send /about.html there', async () => {
    expect((await twice(clean.port, '/about')).body.toString()).toBe('<h1>about</h1>');
    const r = await twice(clean.port, '/about.html?ref=x');
    expect([r.status, r.headers.location]).toEqual([301, '/about?ref=x']);
    expect((await twice(clean.port, '/docs/guide')).body.toString()).toBe('<h1>guide</h1>');
  });

  it('send index.html to its folder, and keep folders on their index', async () => {
    expect((await twice(clean.port, '/docs/index.html')).headers.location).toBe('/docs/');
    expect((await twice(clean.port, '/index.html')).headers.location).toBe('/');
    expect((await twice(clean.port, '/docs/')).body.toString()).toBe('<h1>docs</h1>');
    expect((await twice(clean.port, '/docs')).headers.location).toBe('/docs/');
  });

  it('put a page’s trailing slash where TRAILING_SLASH says', async () => {
    expect((await twice(clean.port, '/about/')).headers.location).toBe('/about');
    expect((await twice(always.port, '/about')).headers.location).toBe('/about/');
    expect((await twice(always.port, '/about/')).body.toString()).toBe('<h1>about</h1>');
    expect((await twice(always.port, '/about.html')).headers.location).toBe('/about/');
    expect((await twice(never.port, '/about/')).headers.location).toBe('/about');
  });

  it('are off by default', async () => {
    expect((await twice(plain.port, '/about')).status).toBe(404);
    expect((await twice(plain.port, '/about.html')).status).toBe(200);
  });
});

describe('clean URLs where names meet', () => {
  let odd: InProcess;
  let root: string;
  beforeAll(async () => {
    root = makeSite({
      feed: 'the file feed',
      'feed.html': '<h1>feed page</h1>',
      'contact.html': '<h1>contact</h1>',
      'contact/map.png': 'png',
      'x.html.html': 'double',
      'index.html': '<h1>home</h1>',
      'about.html': '<h1>about</h1>',
      'about/index.html': '<h1>about folder</h1>',
    });
    odd = await startInProcess({ staticDir: root, env: { CLEAN_URLS: 'on', CACHE_VALIDATE_MS: '0' } });
  });
  afterAll(async () => {
    await odd.stop();
  });

  it('serve a page whose folder of the same name serves nothing, at the clean URL', async () => {
    expect((await twice(odd.port, '/contact')).body.toString()).toBe('<h1>contact</h1>');
    expect((await twice(odd.port, '/contact/')).headers.location).toBe('/contact');
    expect((await twice(odd.port, '/contact.html')).headers.location).toBe('/contact');
    expect((await twice(odd.port, '/contact/map.png')).body.toString()).toBe('png');
  });

  it('leave a page alone where a file or a folder index answers at the clean URL', async () => {
    expect((await twice(odd.port, '/feed')).body.toString()).toBe('the file feed');
    expect((await twice(odd.port, '/feed.html')).body.toString()).toBe('<h1>feed page</h1>');
    expect((await twice(odd.port, '/x.html.html')).body.toString()).toBe('double');
    expect((await twice(odd.port, '/index')).headers.location).toBe('/');
  });

  it('close every file they open to find out (no descriptor per request)', async () => {
    const held = (): number =>
      fs.readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith(root);
        } catch {
          return false;
        }
      }).length;
    // A Range makes every request miss the reply cache and take the whole path.
    for (let i = 0; i < 200; i++) await get(odd.port, '/feed.html', ['Host: x', 'Range: bytes=0-0']);
    expect(held()).toBeLessThan(5);
  });

  it('notice a folder that stops answering at the clean URL', async () => {
    expect((await get(odd.port, '/about.html')).body.toString()).toBe('<h1>about</h1>');
    fs.rmSync(path.join(root, 'about'), { recursive: true });
    // CACHE_VALIDATE_MS=0: an entry is looked at again once a millisecond has passed.
    await new Promise((r) => setTimeout(r, 20));
    expect((await get(odd.port, '/about.html')).headers.location).toBe('/about');
  });
});

describe('TRAILING_SLASH for folders', () => {
  it('never: a folder serves its index without a slash, and the slash form is sent there', async () => {
    expect((await twice(never.port, '/docs')).body.toString()).toBe('<h1>docs</h1>');
    expect((await twice(never.port, '/docs/?a=1')).headers.location).toBe('/docs?a=1');
    expect((await twice(never.port, '/')).body.toString()).toBe('<h1>home</h1>');
  });

  it('auto and always: a folder is sent to its slash form', async () => {
    expect((await twice(plain.port, '/docs')).headers.location).toBe('/docs/');
    expect((await twice(always.port, '/docs')).headers.location).toBe('/docs/');
  });

  it('leaves files with an extension alone', async () => {
    expect((await twice(always.port, '/assets/app.js')).status).toBe(200);
    expect((await twice(never.port, '/assets/app.js')).status).toBe(200);
  });
});

describe('404 pages', () => {
  it('prefer 404.html, then error.html, then the built-in page', async () => {
    expect((await twice(plain.port, '/nope')).body.toString()).toBe('<h1>site 404</h1>');
    const only = await startInProcess({ staticDir: makeSite({ 'error.html': '<h1>error page</h1>' }) });
    const none = await startInProcess({ staticDir: makeSite({ 'index.html': 'x' }) });
    try {
      expect((await get(only.port, '/nope')).body.toString()).toBe('<h1>error page</h1>');
      const builtIn = await get(none.port, '/nope');
      expect(builtIn.body.toString()).toContain('<h1>404 Not Found</h1>');
      expect(builtIn.headers['content-security-policy']).toContain("default-src 'none'");
    } finally {
      await Promise.all([only.stop(), none.stop()]);
    }
  });

  it('are the site’s own files: no CSP of PWS’s on them', async () => {
    expect((await get(plain.port, '/nope')).headers['content-security-policy']).toBeUndefined();
    expect((await get(plain.port, '/about.html')).headers['content-security-policy']).toBeUndefined();
  });
});

describe('a site file', () => {
  it('may start with a byte order mark', () => {
    const root = makeSite({ 'index.html': 'x', _headers: '\uFEFF/*\r\n  X-Frame-Options: DENY\r\n', _redirects: '\uFEFF/a /b 302\r\n' });
    expect(() => loadConfig({ STATIC_DIR: root }, tempDir('pws-cwd-'))).not.toThrow();
  });

  it('is not read through a link that leaves the site', () => {
    const outside = path.join(tempDir('pws-outside-'), 'secret');
    fs.writeFileSync(outside, '/secret\n  X-Leak: private\n');
    const root = makeSite({ 'index.html': 'x' });
    fs.symlinkSync(outside, path.join(root, '_headers'));
    expect(() => loadConfig({ STATIC_DIR: root }, tempDir('pws-cwd-'))).toThrow(`${root}/_headers points outside the site`);
  });

  it('is not listed in a listing of the root', async () => {
    const listed = await startInProcess({
      staticDir: makeSite({ 'a.txt': 'a', _redirects: '/x /a.txt\n', _headers: '/*\n  X-A: 1\n' }),
      env: { DIRECTORY_LISTING: 'on' },
    });
    try {
      const json = JSON.parse((await get(listed.port, '/?format=json')).body.toString()) as Array<{ name: string }>;
      expect(json.map((e) => e.name)).toEqual(['a.txt']);
    } finally {
      await listed.stop();
    }
  });
});

describe('a 404 page', () => {
  it('may be as large as a cached file (CACHE_MAX_FILE_BYTES), and past that the next page answers', async () => {
    const big = `<!doctype html><title>big 404</title>${'x'.repeat(100 * 1024)}`;
    const bigSite = await startInProcess({ staticDir: makeSite({ '404.html': big, 'error.html': 'small' }) });
    const tooBig = await startInProcess({ staticDir: makeSite({ '404.html': big, 'error.html': 'small' }), env: { CACHE_MAX_FILE_BYTES: '65536' } });
    try {
      expect((await get(bigSite.port, '/nope')).body.toString()).toBe(big);
      expect((await get(tooBig.port, '/nope')).body.toString()).toBe('small');
    } finally {
      await Promise.all([bigSite.stop(), tooBig.stop()]);
    }
  });
});

describe('a site file PWS cannot take', () => {
  it('stops the start with one line naming the file, the line and the problem', () => {
    const root = makeSite({ 'index.html': 'x', _redirects: '/a /b\n/c /d 410\n' });
    expect(() => loadConfig({ STATIC_DIR: root }, tempDir('pws-cwd-'))).toThrow(`${root}/_redirects line 2: status "410" is not supported`);
    const headersRoot = makeSite({ 'index.html': 'x', _headers: '  X-A: 1\n' });
    expect(() => loadConfig({ STATIC_DIR: headersRoot }, tempDir('pws-cwd-'))).toThrow(`${headersRoot}/_headers line 1:`);
  });
});
