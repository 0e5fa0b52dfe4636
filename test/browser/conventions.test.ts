/// <reference lib="dom" />
// A site as it would be deployed on Netlify (test/fixtures/netlify-site: `_redirects`, `_headers`,
// `404.html`, clean URLs, an app under /app) served by PWS and used in headless Chromium: every
// redirect followed to its final URL, rewrites rendered under the URL asked for, the site's
// headers on the responses, its CSP honoured without a console error; and PWS's own pages styled
// under their CSP.

import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { launchChromium, pageWithErrors } from '../helpers/browser';
import { makeSite, startServer, type Running } from '../helpers/server';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'netlify-site');

let site: Running;
let bare: Running;
let browser: Browser;
let base: string;

beforeAll(async () => {
  site = await startServer({ staticDir: FIXTURE, workers: 2, env: { CLEAN_URLS: 'on', ACCESS_LOG: 'off' } });
  bare = await startServer({ staticDir: makeSite({ 'index.html': 'x', 'docs/a.txt': 'a' }), workers: 1, env: { ACCESS_LOG: 'off' } });
  browser = await launchChromium();
  base = `http://127.0.0.1:${site.port}`;
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([site?.stop(), bare?.stop()]);
});

describe('a Netlify-style site in Chromium', () => {
  it('loads the home page with its assets under the site’s CSP, and the _headers fields on each response', async () => {
    const { page, errors } = await pageWithErrors(browser);
    const seen = new Map<string, Record<string, string>>();
    page.on('response', (r) => seen.set(new URL(r.url()).pathname, r.headers()));
    const response = await page.goto(`${base}/`, { waitUntil: 'load' });
    expect(response?.headers()['content-security-policy']).toBe("default-src 'self'");
    expect(response?.headers()['x-frame-options']).toBe('DENY');
    expect(response?.headers()['cache-control']).toBe('no-cache');
    await page.waitForFunction(() => document.getElementById('script')?.textContent === 'script ran');
    expect(await page.evaluate(() => getComputedStyle(document.querySelector('h1') as Element).color)).toBe('rgb(0, 85, 170)');
    expect(seen.get('/assets/site.css')?.['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(seen.get('/assets/site.js')?.['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('follows clean URLs and _redirects rules to their final URLs', async () => {
    const { page, errors } = await pageWithErrors(browser);
    const cases: Array<[string, string, string]> = [
      ['/about', '/about', 'About the fixture'],
      ['/about.html', '/about', 'About the fixture'],
      ['/old-blog/hello', '/blog/hello', 'Hello, blog'],
      ['/2023/05/hello?ref=feed', '/blog/hello?ref=feed', 'Hello, blog'],
      ['/docs', '/docs/', 'Docs'],
    ];
    for (const [asked, final, title] of cases) {
      const response = await page.goto(`${base}${asked}`, { waitUntil: 'load' });
      expect([asked, response?.status(), new URL(page.url()).pathname + new URL(page.url()).search, await page.title()]).toEqual([asked, 200, final, title]);
    }
    // A relative link in the docs index resolves to a clean URL.
    await page.click('a[href="guide"]');
    await page.waitForURL(`${base}/docs/guide`);
    expect(await page.title()).toBe('Guide');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('renders the app shell under the URL asked for (a 200 rewrite), and its router sees that URL', async () => {
    const { page, errors } = await pageWithErrors(browser);
    const response = await page.goto(`${base}/app/settings/profile`, { waitUntil: 'load' });
    expect(response?.status()).toBe(200);
    expect(page.url()).toBe(`${base}/app/settings/profile`);
    await page.waitForFunction(() => document.getElementById('route')?.textContent === 'route /app/settings/profile');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows the site’s 404.html for a missing page, and never the site files themselves', async () => {
    const { page } = await pageWithErrors(browser);
    for (const missing of ['/no/such/page', '/_redirects', '/_headers']) {
      const response = await page.goto(`${base}${missing}`, { waitUntil: 'load' });
      expect([missing, response?.status(), await page.title()]).toEqual([missing, 404, 'Fixture: page not found']);
    }
    await page.close();
  });

  it('sends an off-site rule to the host its owner wrote', async () => {
    const response = await fetch(`${base}/handbook/intro`, { redirect: 'manual' });
    expect([response.status, response.headers.get('location')]).toEqual([308, 'https://handbook.example/intro']);
  });
});

describe('pages PWS generates itself, in Chromium', () => {
  it('are styled under their CSP without a violation, and show the status with its reason', async () => {
    const { page, errors } = await pageWithErrors(browser);
    const violations: string[] = [];
    await page.exposeFunction('reportViolation', (v: string) => violations.push(v));
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) =>
        (window as unknown as { reportViolation(v: string): void }).reportViolation(e.violatedDirective),
      );
    });
    const response = await page.goto(`http://127.0.0.1:${bare.port}/missing`, { waitUntil: 'load' });
    expect(response?.status()).toBe(404);
    expect(response?.headers()['content-security-policy']).toMatch(/^default-src 'none'; style-src 'sha256-/);
    expect(await page.textContent('h1')).toBe('404 Not Found');
    // The inline style applied: its hash is what the CSP allows.
    expect(await page.evaluate(() => getComputedStyle(document.body).marginTop)).toBe('32px');
    expect(violations).toEqual([]);
    // The page is a 404 and the site has no favicon: Chromium reports those loads, nothing else.
    expect(errors.filter((e) => !e.includes('status of 404'))).toEqual([]);
    await page.close();
  });
});
