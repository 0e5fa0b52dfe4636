// Path globs for site options (IMMUTABLE_PATTERN, HEADERS_FILE), matched by picomatch: `*` within
// one segment, `**` across segments, `?` one character, `{a,b}` alternatives.

import picomatch from 'picomatch';

/** Something that says whether a decoded URL path ("/assets/app.js") matches: a glob, or a RegExp. */
export interface PathPattern {
  test(urlPath: string): boolean;
}

/**
 * Compiles a glob over decoded URL paths. A pattern without a leading "/" matches at any depth
 * ("*.html" matches "/a/b/index.html"). Dotfiles match like any name, and brackets are literal
 * (hashed names such as `app.[hash].js` are common; character classes are not).
 */
export function globPattern(glob: string): PathPattern {
  // picomatch anchors `**` at a leading "/" differently ("/**/*.js" misses "/app.js"): match
  // paths without their leading "/" against patterns without one.
  const rooted = glob.startsWith('/');
  const pattern = rooted ? glob.slice(1) : glob.startsWith('**') ? glob : `**/${glob}`;
  const re = picomatch.makeRe(pattern, { dot: true, literalBrackets: true });
  return { test: (urlPath) => re.test(urlPath.startsWith('/') ? urlPath.slice(1) : urlPath) };
}
