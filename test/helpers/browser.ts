// Headless Chromium for the browser tests: Debian's binary (installed by .ci/run), driven by
// playwright-core, and a page that records its console errors.

import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Launches Debian's Chromium headless, without the background traffic a profile would make. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

/** A new page whose console errors and uncaught exceptions are collected in `errors`. */
export async function pageWithErrors(where: Browser | BrowserContext): Promise<{ page: Page; errors: string[] }> {
  const page = await where.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return { page, errors };
}
