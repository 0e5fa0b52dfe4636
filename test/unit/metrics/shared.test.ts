// The run folder the workers share: sums over every file, a gone worker's counts folded into
// retired.json exactly once, counters never going backwards while that happens, gauges only from
// fresh files.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { SharedMetrics, type Snapshot } from '../../../src/metrics/shared';
import { tempDir } from '../../helpers/server';

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

function snapshot(id: string, pid: number, requests: number, extra: Partial<Snapshot> = {}): Snapshot {
  return {
    v: 1,
    id,
    pid,
    beat: Date.now(),
    clean: false,
    counters: { pws_r_total: requests, pws_workers_started_total: 1 },
    gauges: { pws_connections_open: 1, 'pws_process_rss{worker="0"}': requests },
    ...extra,
  };
}

function write(dir: string, s: Snapshot): void {
  fs.writeFileSync(path.join(dir, `w-${s.id}.json`), JSON.stringify(s));
}

describe('SharedMetrics', () => {
  it('sums its own live counts with every other worker file; gauges only from running workers', () => {
    const dir = tempDir('pws-metrics-');
    write(dir, snapshot('other', process.pid, 5));
    write(dir, snapshot('stale', process.pid, 7, { beat: Date.now() - 60_000 }));
    write(dir, snapshot('finished', process.pid, 100, { clean: true }));
    const own = snapshot('me', process.pid, 1);
    const shared = new SharedMetrics(dir, () => own);
    const sums = shared.collect();
    expect(sums.get('pws_r_total')).toBe(113);
    expect(sums.get('pws_connections_open')).toBe(2);
    expect(sums.get('pws_workers_started_total')).toBe(4);
  });

  it('folds a gone worker exactly once, and the sums never go backwards', () => {
    const dir = tempDir('pws-metrics-');
    const gone = deadPid();
    write(dir, snapshot('crashed', gone, 40));
    write(dir, snapshot('drained', gone, 2, { clean: true }));
    const own = snapshot('me', process.pid, 1);
    const shared = new SharedMetrics(dir, () => own);
    const seen: number[] = [];
    for (let i = 0; i < 4; i++) seen.push(shared.collect().get('pws_r_total') ?? 0);
    expect(seen).toEqual([43, 43, 43, 43]);
    // Gone workers' gauges never counted, even before the fold.
    // Folded: the files are gone, their counts are in retired.json, one crash recorded.
    expect(fs.readdirSync(dir).sort()).toEqual(['retired.json', 'w-me.json']);
    const sums = shared.collect();
    expect(sums.get('pws_worker_crashes_total')).toBe(1);
    expect(sums.get('pws_workers_started_total')).toBe(3);
    expect(sums.get('pws_connections_open')).toBe(1); // the gone workers' gauges no longer count
  });

  it('keeps counts exact through many folds by several readers', () => {
    const dir = tempDir('pws-metrics-');
    const own = snapshot('me', process.pid, 0);
    const readers = [0, 1, 2].map(() => new SharedMetrics(dir, () => own));
    let expected = 0;
    const gone = deadPid();
    for (let round = 0; round < 30; round++) {
      write(dir, snapshot(`dead-${round}`, gone, round + 1));
      expected += round + 1;
      const sums = readers.map((r) => r.collect().get('pws_r_total') ?? 0);
      expect(sums).toEqual([expected, expected, expected]);
    }
  });

  it('refuses a folder others may write to, or a link in its place', () => {
    const open = tempDir('pws-metrics-');
    fs.chmodSync(open, 0o777);
    expect(() => new SharedMetrics(open, () => snapshot('me', process.pid, 0))).toThrow('is not a folder of this user');
    const link = path.join(tempDir('pws-metrics-'), 'link');
    fs.symlinkSync(tempDir('pws-metrics-'), link);
    expect(() => new SharedMetrics(link, () => snapshot('me', process.pid, 0))).toThrow('is not a folder of this user');
  });

  it('ignores anything in a file that is not a well-formed series of a finite number', () => {
    const dir = tempDir('pws-metrics-');
    write(dir, {
      ...snapshot('odd', process.pid, 1),
      counters: { pws_r_total: 1, 'pws_x{a="1"} 1\nfake_injected 666\n# ': 5, other_metric: 9, pws_y_total: Infinity, pws_z_total: '7' as unknown as number },
    });
    const own = snapshot('me', process.pid, 0);
    const keys = [...new SharedMetrics(dir, () => own).collect().keys()];
    expect(
      keys.filter(
        (k) => !k.startsWith('pws_r_total') && !k.startsWith('pws_workers_started') && !k.startsWith('pws_connections') && !k.startsWith('pws_process'),
      ),
    ).toEqual([]);
  });

  it('writes its own file, and marks the last one as a clean end', () => {
    const dir = tempDir('pws-metrics-');
    const own = snapshot('me', process.pid, 3);
    const shared = new SharedMetrics(dir, () => own);
    shared.start();
    const file = path.join(dir, 'w-me.json');
    expect((JSON.parse(fs.readFileSync(file, 'utf8')) as Snapshot).clean).toBe(false);
    shared.close();
    expect((JSON.parse(fs.readFileSync(file, 'utf8')) as Snapshot).clean).toBe(true);
  });
});
