// Directory listing pages: order, escaping, links, JSON.

import { describe, expect, it } from '@jest/globals';
import { displayName, renderHtml, renderJson, type Entry } from '../../../src/static/listing';

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
  it('shows control and bidi-override characters of names as U+FFFD, never raw; links keep the real name', () => {
    const odd: Entry[] = [
      { name: 'line\nbreak\r.txt', directory: false, size: 1, modified: 0 },
      { name: 'bell\x07\x1b[31mred\x7f\x85.txt', directory: false, size: 1, modified: 0 },
      { name: 'evil\u202etxt.exe', directory: false, size: 1, modified: 0 },
    ];
    const page = renderHtml('/x/', odd);
    expect(page).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    expect(page).toContain('>line\ufffdbreak\ufffd.txt</a>');
    expect(page).toContain('>bell\ufffd\ufffd[31mred\ufffd\ufffd.txt</a>');
    expect(page).toContain('>evil\ufffdtxt.exe</a>');
    expect(page).toContain('href="line%0Abreak%0D.txt"');
    expect(displayName('plain name.txt')).toBe('plain name.txt');
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
    expect((JSON.parse(renderJson(entries)) as unknown[])[0]).toEqual({ name: 'sub', type: 'directory', size: 0, modified: '2026-01-02T00:00:00.000Z' });
  });
});
