// Proactive negotiation (RFC 9110 §12.5): Accept-Encoding and "does this request accept HTML".

export type Encoding = 'br' | 'zstd' | 'gzip' | 'identity';
/** The content codings PWS can send, in its order of preference. */
export type Coding = Exclude<Encoding, 'identity'>;
export const CODINGS: readonly Coding[] = ['br', 'zstd', 'gzip'];

/**
 * Server preference when q-values tie: smaller first. Brotli first (the smallest output of the
 * three at the levels used here), zstd next (smaller than gzip), then gzip.
 */
const PREFERENCE: Record<Encoding, number> = { br: 0, zstd: 1, gzip: 2, identity: 3 };

/**
 * A qvalue (RFC 9110 §12.4.2): "0" or "1", optionally with up to three decimals ("0.5", "1.000").
 * Returns NaN for anything else — "0x1", "1e0", ".5", "2", "" — which the callers treat as 0.
 */
export function parseQ(value: string): number {
  const v = value.trim();
  if (!/^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/.test(v)) return NaN;
  return Number(v);
}

/**
 * Splits a header of the Accept family into its members: each name (lower case) with its q
 * (1 when absent, 0 when malformed). The one parser behind Accept-Encoding and Accept here.
 */
function members(header: string): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (const part of header.split(',')) {
    const [name = '', ...params] = part.split(';');
    const member = name.trim().toLowerCase();
    if (member === '') continue;
    let q = 1;
    for (const p of params) {
      const eq = p.indexOf('=');
      if (eq !== -1 && p.slice(0, eq).trim().toLowerCase() === 'q') {
        const n = parseQ(p.slice(eq + 1));
        q = Number.isNaN(n) ? 0 : n;
      }
    }
    out.push([member, q]);
  }
  return out;
}

/** Returns the q-value (0..1) a header gives each coding, '*' under the key '*'. */
function qualities(header: string): Map<string, number> {
  const q = new Map<string, number>();
  for (const [coding, value] of members(header)) q.set(coding === 'x-gzip' ? 'gzip' : coding, value);
  return q;
}

/**
 * Picks the content coding to send among `available` (identity is always available unless the
 * client refuses it). Highest q wins; ties go to br, then zstd, then gzip, then identity. A missing header
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
export function mentions(header: string, coding: Coding): boolean {
  const q = qualities(header);
  return q.has(coding) || q.has('*');
}

/** Every set of codings a file can have (precompressed siblings, compression here). */
const SUBSETS: ReadonlyArray<readonly Encoding[]> = Array.from({ length: 1 << CODINGS.length }, (_, bits) => CODINGS.filter((_c, i) => (bits >> i) & 1));

/**
 * What negotiation makes of an Accept-Encoding header, as a short string: the coding chosen for
 * each set of codings a file can have, and which siblings are looked for. Two headers with one
 * profile get the same answer for every file, so a cache may key on the profile instead of the
 * header — and there are few profiles, whatever the q-values (at most 5^8 × 8), so no client can
 * make one file into many cache entries.
 */
export function encodingProfile(header: string): string {
  const q = qualities(header);
  const star = q.has('*');
  let out = '';
  for (const coding of CODINGS) if (star || q.has(coding)) out += coding.charAt(0);
  out += ':';
  for (const available of SUBSETS) out += (chooseFrom(q, available) ?? '-').charAt(0);
  return out;
}

/** Whether an Accept header admits text/html (no header admits everything). */
export function acceptsHtml(accept: string | undefined): boolean {
  if (accept === undefined) return true;
  for (const [type, q] of members(accept)) {
    if ((type === 'text/html' || type === 'text/*' || type === '*/*') && q > 0) return true;
  }
  return false;
}
