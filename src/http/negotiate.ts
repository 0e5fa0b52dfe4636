// Proactive negotiation (RFC 9110 §12.5): Accept-Encoding and "does this request accept HTML".

export type Encoding = 'br' | 'gzip' | 'identity';

/** Server preference when q-values tie: smaller first. */
const PREFERENCE: Record<Encoding, number> = { br: 0, gzip: 1, identity: 2 };

/** Returns the q-value (0..1) a header gives each coding, '*' under the key '*'. */
function qualities(header: string): Map<string, number> {
  const q = new Map<string, number>();
  for (const part of header.split(',')) {
    const [name, ...params] = part.split(';');
    const coding = name.trim().toLowerCase();
    if (coding === '') continue;
    let value = 1;
    for (const p of params) {
      const [k, v] = p.split('=');
      if (k.trim().toLowerCase() === 'q') {
        const n = Number(v?.trim());
        value = Number.isFinite(n) && n >= 0 && n <= 1 ? n : 0;
      }
    }
    q.set(coding === 'x-gzip' ? 'gzip' : coding, value);
  }
  return q;
}

/**
 * Picks the content coding to send among `available` (identity is always available unless the
 * client refuses it). Highest q wins; ties go to br, then gzip, then identity. A missing header
 * means identity (§12.5.3). Returns null when nothing available is acceptable (identity;q=0 and
 * no acceptable compressed form).
 */
export function chooseEncoding(header: string | undefined, available: readonly Encoding[]): Encoding | null {
  if (header === undefined) return 'identity';
  return chooseFrom(qualities(header), available);
}

function chooseFrom(q: Map<string, number>, available: readonly Encoding[]): Encoding | null {
  const star = q.get('*');
  let best: Encoding | null = null;
  let bestQ = 0;
  for (const enc of [...available, 'identity' as const]) {
    let value = q.get(enc);
    if (value === undefined) value = enc === 'identity' ? (star === 0 ? 0 : 1) : (star ?? 0);
    if (value <= 0) continue;
    if (value > bestQ || (value === bestQ && best !== null && PREFERENCE[enc] < PREFERENCE[best])) {
      best = enc;
      bestQ = value;
    }
  }
  return best;
}

/** Whether an Accept-Encoding header names `coding` (x-gzip counts as gzip) or `*`, at any q. */
export function mentions(header: string, coding: 'br' | 'gzip'): boolean {
  const q = qualities(header);
  return q.has(coding) || q.has('*');
}

const SUBSETS: ReadonlyArray<readonly Encoding[]> = [[], ['br'], ['gzip'], ['br', 'gzip']];

/**
 * What negotiation makes of an Accept-Encoding header, as a short string: the coding chosen for
 * each set of codings a file can have (none, br, gzip, both), and whether br and gzip siblings
 * are looked for. Two headers with one profile get the same answer for every file, so a cache
 * may key on the profile instead of the header — and there are few profiles, whatever the
 * q-values (at most 4^4 × 4), so no client can make one file into many cache entries.
 */
export function encodingProfile(header: string): string {
  const q = qualities(header);
  const star = q.has('*');
  let out = `${star || q.has('br') ? 'B' : ''}${star || q.has('gzip') ? 'G' : ''}:`;
  for (const available of SUBSETS) out += (chooseFrom(q, available) ?? '-').charAt(0);
  return out;
}

/** Whether an Accept header admits text/html (no header admits everything). */
export function acceptsHtml(accept: string | undefined): boolean {
  if (accept === undefined) return true;
  for (const part of accept.split(',')) {
    const [range, ...params] = part.split(';');
    const type = range.trim().toLowerCase();
    if (type !== 'text/html' && type !== 'text/*' && type !== '*/*') continue;
    const q = params.map((p) => p.split('=')).find(([k]) => k.trim().toLowerCase() === 'q');
    if (q === undefined || Number(q[1]) > 0) return true;
  }
  return false;
}
