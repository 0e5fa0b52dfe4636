// The budget-bounded map behind both caches: least recent out, entry cap, charges that change,
// and evicted entries that stay charged until released.

import { describe, expect, it } from '@jest/globals';
import { BudgetMap } from '../../../src/static/budget-map';

const e = (key: string, held: number): { key: string; held: number } => ({ key, held });

describe('BudgetMap', () => {
  it('evicts the least recent past its bytes, and past its count', () => {
    const m = new BudgetMap(30, 10);
    const a = e('a', 10);
    m.add(a);
    m.add(e('b', 10));
    m.add(e('c', 10));
    m.touch(a);
    expect(m.add(e('d', 10))).toBe(true); // b goes
    expect(['a', 'b', 'c', 'd'].map((k) => m.get(k) !== undefined)).toEqual([true, false, true, true]);
    expect(m.bytes).toBe(30);
    const capped = new BudgetMap(1000, 2);
    for (const k of ['x', 'y', 'z']) capped.add(e(k, 1));
    expect(capped.count).toBe(2);
    expect(capped.get('x')).toBeUndefined();
  });

  it('refuses an entry larger than the budget, and replaces one under the same key', () => {
    const m = new BudgetMap(30, 10);
    m.add(e('a', 10));
    expect(m.add(e('big', 31))).toBe(false);
    expect(m.count).toBe(1);
    m.add(e('a', 20));
    expect(m.bytes).toBe(20);
  });

  it('charges changes to entries it holds, not to ones it let go', () => {
    const m = new BudgetMap(100, 10);
    const a = e('a', 10);
    m.add(a);
    m.charge(a, 5);
    expect(m.bytes).toBe(15);
    m.remove(a);
    m.charge(a, 5);
    expect(m.bytes).toBe(0);
    expect(a.held).toBe(20);
  });

  it('evicts the least recent others when a charge takes it past its budget, and the charged one last', () => {
    const m = new BudgetMap<{ key: string; held: number }>(100, 10);
    const [a, b, c] = [e('a', 30), e('b', 30), e('c', 30)];
    for (const x of [a, b, c]) m.add(x);
    m.charge(c, 25); // 115: a goes
    expect([m.get('a'), m.get('b'), m.get('c')]).toEqual([undefined, b, c]);
    expect(m.bytes).toBe(85);
    m.charge(b, -10);
    m.charge(b, 60); // 135: c goes, though more recent than b, since the charged entry goes last
    expect(m.get('c')).toBeUndefined();
    expect(m.get('b')).toBe(b);
    expect(m.bytes).toBe(80);
    m.charge(b, 30); // 110, and nothing else left: b itself goes
    expect(m.count).toBe(0);
    expect(m.bytes).toBe(0);
  });

  it('lets an entry that a charge makes larger than the whole budget go alone', () => {
    const m = new BudgetMap<{ key: string; held: number }>(1000, 10);
    const small = [1, 2, 3, 4, 5].map((i) => e(`s${i}`, 100));
    for (const x of small) m.add(x);
    const big = e('big', 400);
    m.add(big);
    m.charge(big, 700);
    expect(m.get('big')).toBeUndefined();
    expect(m.count).toBe(5);
    expect(m.bytes).toBe(500);
  });

  it('keeps an evicted entry charged while it is retained, and lets it go on release', () => {
    const releases: Array<() => void> = [];
    // a and b are "being sent"; c is not.
    const m = new BudgetMap<{ key: string; held: number }>(20, 10, (v, release) => {
      if (v.key === 'c') return false;
      releases.push(release);
      return true;
    });
    m.add(e('a', 10));
    m.add(e('b', 10));
    expect(m.add(e('c', 10))).toBe(false); // a and b stay charged: nothing fits
    expect(m.bytes).toBe(20);
    expect(m.count).toBe(0);
    releases.forEach((r) => r());
    expect(m.bytes).toBe(0);
  });
});
