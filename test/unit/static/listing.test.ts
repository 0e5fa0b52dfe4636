// Directory listing pages: order, escaping, links, JSON.

import { describe, expect, it } from '@jest/globals';
import { renderHtml, renderJson, type Entry } from '../../../src/static/listing';

const entries: Entry[] = [
  { name: 'sub', directory: true, size: 0, modified: Date.UTC(2026, 0, 2) },
  { name: '<script>alert(1)</script>.txt', directory: false, size: 2048, modified: Date.UTC(2026, 0, 1) },
  { name: 'a b&c.txt', directory: false, size: 10, modified: Date.UTC(2026, 0, 1) },
];

describe('renderHtml', () => {
  const html = renderHtml('/docs/', entries);
  it('escapes names and encodes links', () => {
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;.txt');
    expect(html).toContain('href="%3Cscript%3Ealert(1)%3C%2Fscript%3E.txt"');
    expect(html).toContain('href="a%20b%26c.txt">a b&amp;c.txt</a>');
  });
  it('links folders with a slash, and the parent except at the root', () => {
    expect(html).toContain('href="sub/">sub/</a>');
    expect(html).toContain('href="../"');
    expect(renderHtml('/', entries)).not.toContain('href="../"');
  });
  it('shows sizes and times', () => {
    expect(html).toContain('2.0 KiB');
    expect(html).toContain('2026-01-01 00:00:00');
  });
});

describe('renderJson', () => {
  it('lists name, type, size and modified', () => {
    expect(JSON.parse(renderJson(entries))[0]).toEqual({ name: 'sub', type: 'directory', size: 0, modified: '2026-01-02T00:00:00.000Z' });
  });
});
