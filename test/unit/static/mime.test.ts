// Content-Type rules: charset on text types, octet-stream when unknown.

import { describe, expect, it } from '@jest/globals';
import { contentTypeFor, UNKNOWN_TYPE } from '../../../src/static/mime';

describe('contentTypeFor', () => {
  it.each([
    ['index.html', 'text/html; charset=utf-8'],
    ['style.css', 'text/css; charset=utf-8'],
    ['app.js', 'text/javascript; charset=utf-8'],
    ['mod.mjs', 'text/javascript; charset=utf-8'],
    ['data.json', 'application/json; charset=utf-8'],
    ['notes.txt', 'text/plain; charset=utf-8'],
    ['logo.png', 'image/png'],
    ['icon.svg', 'image/svg+xml'],
    ['font.woff2', 'font/woff2'],
    ['app.wasm', 'application/wasm'],
    ['UPPER.HTML', 'text/html; charset=utf-8'],
    ['你好.txt', 'text/plain; charset=utf-8'],
  ])('%s → %s', (name, type) => {
    expect(contentTypeFor(name)).toBe(type);
  });
  it.each(['README', 'file.unknownext', 'archive.'])('%s → application/octet-stream', (name) => {
    expect(contentTypeFor(name)).toBe(UNKNOWN_TYPE);
  });
});
