// Path globs of site options.

import { describe, expect, it } from '@jest/globals';
import { globToRegExp } from '../../../src/site/glob';

describe('globToRegExp', () => {
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
  ])('%s on %s → %s', (glob, p, matches) => expect(globToRegExp(glob).test(p)).toBe(matches));
});
