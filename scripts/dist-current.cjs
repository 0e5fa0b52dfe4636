// Whether dist/ is current: exits 0 when dist/main.js is newer than every source it is built from
// (src/, the TypeScript configurations, package.json), 1 otherwise. `npm start` builds only then,
// so a start after an unchanged checkout costs no compile.
//   node scripts/dist-current.cjs [root]     (root: this checkout by default)

const fs = require('node:fs');
const path = require('node:path');

const root = process.argv[2] ?? path.join(__dirname, '..');

/** The newest modification time under `p` (a file or a folder), 0 when it does not exist. */
function newest(p) {
  let stat;
  try {
    stat = fs.statSync(p);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs;
  for (const name of fs.readdirSync(p)) latest = Math.max(latest, newest(path.join(p, name)));
  return latest;
}

const built = newest(path.join(root, 'dist', 'main.js'));
const sources = Math.max(...['src', 'tsconfig.json', 'tsconfig.build.json', 'package.json'].map((p) => newest(path.join(root, p))));
process.exitCode = built > 0 && built >= sources ? 0 : 1;
