// `npm run rules-cost`: what a site's `_redirects` and `_headers` cost on requests no rule
// matches. The same 2,000 files served twice by one worker — once bare, once beside a
// `_redirects` of 1,000 rules and a `_headers` of 100 blocks, none of which matches — with the
// reply cache off (CACHE_MAX_BYTES=0), so every request goes through the rules: the worst case,
// since with the cache on a hit never looks at them. Rounds alternate between the two servers
// (scripts/alternate.ts); it prints the median req/s and CPU per request of each, their ratio,
// and the time one lookup through the 1,000 rules takes in-process.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findRule, parseRedirects } from '../src/site/redirects';
import { parseSiteHeaders, siteHeadersFor } from '../src/site/site-headers';
import { alternate, report } from './alternate';
import { percentile } from './measure';

const FILES = 2000;
const ROUNDS = Number(process.env.ROUNDS ?? 6);
const SECONDS = Number(process.env.SECONDS ?? 4);

/** 1,000 rules of the usual shapes (a page moved, a folder moved, placeholders), none under /files/. */
function redirectsText(): string {
  const lines: string[] = [];
  for (let i = 0; i < 1000; i++) {
    if (i % 3 === 0) lines.push(`/old-page-${i}    /new-page-${i}    301`);
    else if (i % 3 === 1) lines.push(`/section-${i}/*    /moved-${i}/:splat    302`);
    else lines.push(`/archive-${i}/:year/:slug    /blog/:year/:slug    301`);
  }
  return `${lines.join('\n')}\n`;
}

function headersText(): string {
  const blocks: string[] = [];
  for (let i = 0; i < 100; i++) blocks.push(`/area-${i}/*\n  X-Area: ${i}\n`);
  return blocks.join('');
}

function site(withRules: boolean): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pws-rules-'));
  fs.mkdirSync(path.join(root, 'files'));
  const body = Buffer.alloc(1024, 'x');
  for (let i = 0; i < FILES; i++) fs.writeFileSync(path.join(root, 'files', `f${i}.txt`), body);
  if (withRules) {
    fs.writeFileSync(path.join(root, '_redirects'), redirectsText());
    fs.writeFileSync(path.join(root, '_headers'), headersText());
  }
  return root;
}

/** Nanoseconds per lookup of a path no rule matches, through the 1,000 rules and 100 blocks. */
function lookupNs(): number {
  const rules = parseRedirects(redirectsText());
  const blocks = parseSiteHeaders(headersText());
  const segments = ['files', 'f1234.txt'];
  const n = 200_000;
  let found = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    if (findRule(rules, segments) !== null) found++;
    found += siteHeadersFor(blocks, segments).length;
  }
  const ns = Number(process.hrtime.bigint() - start) / n;
  if (found !== 0) throw new Error('a rule matched a path it should not');
  return ns;
}

async function main(): Promise<void> {
  const roots = [site(false), site(true)];
  const lua = path.join(roots[0] ?? os.tmpdir(), '..', `rules-cost-${process.pid}.lua`);
  fs.writeFileSync(lua, `request = function()\n  return wrk.format("GET", "/files/f" .. math.random(0, ${FILES - 1}) .. ".txt")\nend\n`);
  try {
    const env = { CACHE_MAX_BYTES: '0', COMPRESSION: 'off' };
    const results = await alternate(
      [
        { label: 'no site files', env: { ...env, STATIC_DIR: roots[0] ?? '' } },
        { label: '1,000 _redirects rules + 100 _headers blocks', env: { ...env, STATIC_DIR: roots[1] ?? '' } },
      ],
      { name: 'random files', target: '', path: '/', connections: 20, script: lua },
      ROUNDS,
      SECONDS,
    );
    const [bare, ruled] = results.map((r) => percentile(r.rps, 50)) as [number, number];
    process.stdout.write(
      `${FILES} files at random, one worker, reply cache off, ${ROUNDS} alternating rounds of ${SECONDS} s:\n${report(results)}\n` +
        `  ratio ${(ruled / bare).toFixed(3)}; one lookup through all the rules and blocks in-process: ${Math.round(lookupNs())} ns\n`,
    );
  } finally {
    for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(lua, { force: true });
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  });
}
