// Path globs of site options.

import { describe, expect, it } from '@jest/globals';
import { globPattern } from '../../../src/site/glob';

describe('globPattern', () => {
  it.each<[string, string, boolean]>([
    ['/assets/**', '/assets/a/b.js', true],
    ['/assets/**', '/other/a.js', false],
    ['/*.html', '/index.html', true],
    ['/*.html', '/a/index.html', false],
    ['*.html', '/a/b/index.html', true],
    ['**/*.js', '/app.js', true],
    ['/**/*.[hash].js', '/a/x.[hash].js', true],
    ['/sw.js', '/sw.js', true],
    ['/sw.js', '/swxjs', false],
    ['/a?c', '/abc', true],
    ['/a?c', '/a/c', false],
    // Alternatives: the form that used to match nothing at all.
    ['/assets/*.{js,css}', '/assets/app.js', true],
    ['/assets/*.{js,css}', '/assets/app.css', true],
    ['/assets/*.{js,css}', '/assets/app.png', false],
    ['*.{woff,woff2}', '/fonts/a.woff2', true],
    ['/.well-known/*', '/.well-known/security.txt', true],
    ['/**/*.js', '/.hidden/a.js', true],
    // What rules written before alternatives existed match, unchanged.
    ['/', '/', true],
    ['*', '/', true],
    ['/*', '/', true],
    ['/*', '/sub/', false],
    ['/sub/*', '/sub/', true],
    ['/**/*.txt', '/tiny.txt/', false],
    ['/file(1).txt', '/file(1).txt', true],
    ['/!(a).txt', '/!(a).txt', true],
    ['/!(a).txt', '/b.txt', false],
    ['/a**', '/ab/c', true],
    ['/sub/**', '/sub', false],
    ['/{a,b}/{x,y}.js', '/b/x.js', true],
    ['/{a,b}/{x,y}.js', '/c/x.js', false],
    ['/x.{}', '/x.', true],
  ])('%s on %s → %s', (glob, p, matches) => expect(globPattern(glob).test(p)).toBe(matches));
});

describe('globPattern braces', () => {
  it.each(['/a{b', '/a}b', '/{a,{b,c}}'])('refuses %s with a clear message', (glob) => {
    expect(() => globPattern(glob)).toThrow(/"\/.*": a "[{}]"/);
  });
});
