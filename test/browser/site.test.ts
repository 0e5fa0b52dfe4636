/// <reference lib="dom" />
// End to end in a real browser: headless Chromium (Debian's, driven by playwright-core) loads the
// demo site from a running PWS: CSS, an ES module (strict MIME check), an image, a font, a media
// element that seeks (range requests), the directory listing (screenshot saved as a test
// artifact) and the 404 page, with no console errors. jest.config.js runs this file only where
// /usr/bin/chromium exists; .ci/run installs it, so CI always does.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, pageWithErrors } from '../helpers/browser';
import { makeSite, selfSignedCert, startServer, type Running } from '../helpers/server';

const REPO = path.join(__dirname, '..', '..');
const ARTIFACTS = path.join(REPO, 'test-artifacts');
const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';

/** A mono 16-bit PCM WAV of `seconds` of a quiet tone: real media a <video> element can seek in. */
function wav(seconds: number): Buffer {
  const rate = 8000;
  const samples = rate * seconds;
  const b = Buffer.alloc(44 + samples * 2);
  b.write('RIFF', 0);
  b.writeUInt32LE(36 + samples * 2, 4);
  b.write('WAVEfmt ', 8);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(rate, 24);
  b.writeUInt32LE(rate * 2, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36);
  b.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++) b.writeInt16LE(Math.round(800 * Math.sin((2 * Math.PI * 440 * i) / rate)), 44 + i * 2);
  return b;
}

const TEST_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>browser test</title>
<link rel="stylesheet" href="/style.css">
<link rel="icon" href="/logo.svg">
<style>@font-face { font-family: "Test Sans"; src: url("/fonts/DejaVuSans.ttf") format("truetype"); } .f { font-family: "Test Sans"; }</style>
<script type="module" src="/app.mjs"></script>
</head><body>
<h1><img id="logo" src="/logo.svg" width="32" height="32" alt=""> test</h1>
<p class="f" id="text">The quick brown fox</p>
<p id="status"></p>
<video id="media" src="/media/tone.wav" preload="auto"></video>
</body></html>
`;

let server: Running & { siteDir: string };
let browser: Browser;
const requests: Array<{ url: string; status: number; range: string | undefined }> = [];

beforeAll(async () => {
  const files: Record<string, string | Buffer> = { 'test.html': TEST_PAGE, 'fonts/DejaVuSans.ttf': fs.readFileSync(FONT), 'media/tone.wav': wav(60) };
  for (const name of fs.readdirSync(path.join(REPO, 'static'))) files[name] = fs.readFileSync(path.join(REPO, 'static', name));
  files['files/readme.txt'] = 'a file';
  files['files/<b>odd & "name"<b>.txt'] = 'odd';
  files['files/sub/x.txt'] = 'x';
  const siteDir = makeSite(files);
  server = { ...(await startServer({ staticDir: siteDir, workers: 2, env: { DIRECTORY_LISTING: 'on', ACCESS_LOG: 'off' } })), siteDir };
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

async function open(url: string): Promise<{ page: Page; errors: string[] }> {
  const { page, errors } = await pageWithErrors(browser);
  page.on('response', (r) => requests.push({ url: r.url(), status: r.status(), range: r.request().headers().range }));
  await page.goto(url, { waitUntil: 'load' });
  return { page, errors };
}

describe('the demo site in Chromium', () => {
  it('loads the home page with its CSS, module and image, without console errors', async () => {
    const { page, errors } = await open(`http://127.0.0.1:${server.port}/`);
    expect(await page.title()).toContain('PWS');
    await page.waitForFunction(() => document.documentElement.dataset.module === 'ran');
    expect(await page.textContent('#status')).toContain('Served by');
    const maxWidth = await page.evaluate(() => getComputedStyle(document.body).maxWidth);
    expect(maxWidth).not.toBe('none'); // style.css applied
    expect(await page.evaluate(() => (document.querySelector('h1 img') as HTMLImageElement).naturalWidth)).toBe(32);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'home.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('loads a web font and seeks in a media element with range requests', async () => {
    const { page, errors } = await open(`http://127.0.0.1:${server.port}/test.html`);
    await page.evaluate(() => document.fonts.load('16px "Test Sans"'));
    expect(await page.evaluate(() => document.fonts.check('16px "Test Sans"'))).toBe(true);
    const seeked = await page.evaluate(
      () =>
        new Promise<number>((resolve, reject) => {
          const v = document.querySelector('#media') as HTMLVideoElement;
          const go = (): void => {
            v.addEventListener('seeked', () => resolve(v.currentTime), { once: true });
            v.currentTime = 45;
          };
          v.addEventListener('error', () => reject(new Error(`media error ${v.error?.code}`)));
          if (v.readyState >= 1) go();
          else v.addEventListener('loadedmetadata', go, { once: true });
        }),
    );
    expect(seeked).toBeCloseTo(45, 0);
    const media = requests.filter((r) => r.url.endsWith('/media/tone.wav'));
    expect(media.some((r) => r.status === 206 && r.range !== undefined)).toBe(true);
    expect(requests.some((r) => r.url.endsWith('/fonts/DejaVuSans.ttf') && r.status === 200)).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('renders the directory listing (screenshot saved) and the 404 page', async () => {
    const { page, errors } = await open(`http://127.0.0.1:${server.port}/files/`);
    expect(await page.textContent('h1')).toBe('Index of /files/');
    const links = await page.$$eval('a', (as) => as.map((a) => [a.textContent, a.getAttribute('href')]));
    expect(links).toEqual([
      ['../', '../'],
      ['sub/', 'sub/'],
      ['<b>odd & "name"<b>.txt', '%3Cb%3Eodd%20%26%20%22name%22%3Cb%3E.txt'],
      ['readme.txt', 'readme.txt'],
    ]);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'listing.png') });
    expect(fs.statSync(path.join(ARTIFACTS, 'listing.png')).size).toBeGreaterThan(1000);
    expect(errors).toEqual([]);
    const response = await page.goto(`http://127.0.0.1:${server.port}/no/such/page`);
    expect(response?.status()).toBe(404);
    expect(await page.title()).toBe('404 — Not Found');
    await page.close();
  });

  it('loads the page over HTTPS with every resource on HTTP/2', async () => {
    const pem = selfSignedCert();
    const secure = await startServer({
      staticDir: server.siteDir,
      workers: 2,
      env: { DIRECTORY_LISTING: 'on', ACCESS_LOG: 'off', TLS_CERT: pem.cert, TLS_KEY: pem.key },
    });
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    try {
      const { page, errors } = await pageWithErrors(context);
      await page.goto(`https://localhost:${secure.port}/test.html`, { waitUntil: 'load' });
      await page.waitForFunction(() => document.documentElement.dataset.module === 'ran');
      await page.evaluate(() => document.fonts.load('16px "Test Sans"'));
      const protocols = await page.evaluate(() =>
        [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')].map((e) => [
          e.name.replace(/^https:\/\/[^/]+/, ''),
          (e as PerformanceResourceTiming).nextHopProtocol,
        ]),
      );
      // The page, its stylesheet, module, image and font (the media element may not have loaded yet).
      for (const p of ['/test.html', '/style.css', '/app.mjs', '/logo.svg', '/fonts/DejaVuSans.ttf']) expect(protocols.map(([n]) => n)).toContain(p);
      expect(protocols.filter(([, proto]) => proto !== 'h2')).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
      await secure.stop();
    }
  });
});
