// A Map kept within a byte budget and an entry cap, least recent first out: the eviction both of
// PWS's caches use (replies, compressed results).

/** What an entry must say of itself: its key, and the bytes it is charged (which may change). */
export interface Charged {
  readonly key: string;
  held: number;
}

export class BudgetMap<V extends Charged> {
  private readonly entries = new Map<string, V>();
  private charged = 0;

  /**
   * `retain(value, release)`: called when `value` is evicted; returning true keeps its bytes
   * charged until it calls `release` (a result a socket is still sending). By default, none is.
   */
  constructor(
    private readonly maxBytes: number,
    private readonly maxEntries: number,
    private readonly retain: (value: V, release: () => void) => boolean = () => false,
  ) {}

  /** Bytes charged: the entries', and those of evicted ones not yet released. */
  get bytes(): number {
    return this.charged;
  }

  get count(): number {
    return this.entries.size;
  }

  get(key: string): V | undefined {
    return this.entries.get(key);
  }

  /** Makes `value` (under its key) the most recent: the last to be evicted. */
  touch(value: V): void {
    this.entries.delete(value.key);
    this.entries.set(value.key, value);
  }

  /**
   * Adds `value` as the most recent entry, replacing any under its key, then evicts from the least
   * recent until the bytes and the count are within bounds. Returns whether `value` is still in.
   */
  add(value: V): boolean {
    if (value.held > this.maxBytes) return false;
    const old = this.entries.get(value.key);
    if (old !== undefined) this.remove(old);
    this.entries.set(value.key, value);
    this.charged += value.held;
    this.evict(value);
    return this.entries.get(value.key) === value;
  }

  /** Removes `value` if it is the entry under its key; its bytes go, or stay while retained. */
  remove(value: V): void {
    if (this.entries.get(value.key) !== value) return;
    this.entries.delete(value.key);
    if (!this.retain(value, () => (this.charged -= value.held))) this.charged -= value.held;
  }

  /**
   * Changes what `value` is charged; counted only while it is in the map. A charge that takes
   * the map past its budget evicts from the least recent, `value` last.
   */
  charge(value: V, delta: number): void {
    value.held += delta;
    if (this.entries.get(value.key) !== value) return;
    this.charged += delta;
    // An entry that alone is over the budget goes, and nothing else for it.
    if (value.held > this.maxBytes) this.remove(value);
    else this.evict(value);
  }

  /** Evicts from the least recent, `last` last, until the bytes and the count are within bounds. */
  private evict(last: V): void {
    const within = (): boolean => this.charged <= this.maxBytes && this.entries.size <= this.maxEntries;
    for (const e of this.entries.values()) {
      if (within()) return;
      if (e !== last) this.remove(e);
    }
    if (!within()) this.remove(last);
  }
}
