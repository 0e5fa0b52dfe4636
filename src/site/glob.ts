// Path globs for site options (IMMUTABLE_PATTERN, HEADERS_FILE): `*` within one segment, `**`
// across segments, `?` one character, `{a,b}` either alternative; every other character stands
// for itself (brackets, parentheses and `!` included: hashed names such as `app.[hash].js` and
// names such as `file(1).txt` are common, character classes and extglobs are not).
//
// Written here rather than taken from picomatch: picomatch implements shell globs (extglobs,
// classes, `/**/x` not matching `/x`, a lone `/` refused), which would change what existing
// rules match.

/** Something that says whether a decoded URL path ("/assets/app.js") matches: a glob, or a RegExp. */
export interface PathPattern {
  test(urlPath: string): boolean;
}

/** The RegExp source of a glob fragment without braces. */
function fragment(glob: string): string {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? '';
    if (c === '*') {
      if (glob[i + 1] === '*') {
        i++;
        if (glob[i + 1] === '/') {
          i++;
          re += '(?:.*/)?'; // "**/" matches zero or more whole segments
        } else {
          re += '.*';
        }
      } else {
        re += '[^/]*';
      }
    } else if (c === '?') {
      re += '[^/]';
    } else {
      re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  return re;
}

/**
 * Compiles a glob to an anchored pattern over decoded URL paths. A pattern without a leading "/"
 * matches at any depth ("*.html" = "/**\/*.html"). Throws on an unclosed or nested brace, with a
 * message fit for the operator.
 */
export function globPattern(glob: string): PathPattern {
  const pattern = glob.startsWith('/') ? glob : `/**/${glob}`;
  let re = '^';
  let rest = pattern;
  for (let open = rest.indexOf('{'); open !== -1; open = rest.indexOf('{')) {
    const close = rest.indexOf('}', open);
    if (close === -1 || rest.slice(open + 1, close).includes('{')) throw new Error(`"${glob}": a "{" without its "}" (braces do not nest)`);
    re += fragment(rest.slice(0, open));
    re += `(?:${rest
      .slice(open + 1, close)
      .split(',')
      .map(fragment)
      .join('|')})`;
    rest = rest.slice(close + 1);
  }
  if (rest.includes('}')) throw new Error(`"${glob}": a "}" without its "{"`);
  return new RegExp(`${re}${fragment(rest)}$`);
}
