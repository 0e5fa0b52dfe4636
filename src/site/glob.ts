// Path globs for site options: `*` within one segment, `**` across segments, `?` one character.

/**
 * Compiles a glob to an anchored RegExp over decoded URL paths ("/assets/app.js").
 * A pattern without a leading "/" matches at any depth ("*.html" = "/**\/*.html").
 */
export function globToRegExp(glob: string): RegExp {
  const pattern = glob.startsWith('/') ? glob : `/**/${glob}`;
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        if (pattern[i + 1] === '/') {
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
  return new RegExp(`${re}$`);
}
