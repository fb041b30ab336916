// The access-log barrier's promise: a read is released only by a flush that
// started after the read asked (so the flush's WAL position covers the read's
// commit), flushes are shared, and at most `maxInFlight` run at once.
import { describe, expect, it } from 'vitest';
import { FlushBarrier } from '../../src/db/pg-store';

function controlledFlushes() {
  const started: { slot: number; finish: (err?: Error) => void }[] = [];
  const flush = (slot: number) =>
    new Promise<void>((resolve, reject) => {
      started.push({ slot, finish: (err) => (err ? reject(err) : resolve()) });
    });
  return { started, flush };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('FlushBarrier', () => {
  it('releases a waiter only through a flush that started after it asked, sharing flushes between waiters', async () => {
    const { started, flush } = controlledFlushes();
    const barrier = new FlushBarrier(flush, 1);
    const released: string[] = [];
    void barrier.wait().then(() => released.push('a'));
    expect(started).toHaveLength(1);
    void barrier.wait().then(() => released.push('b')); // arrives while flush 1 runs
    void barrier.wait().then(() => released.push('c'));
    expect(started).toHaveLength(1); // at most one in flight
    started[0]!.finish();
    await tick();
    expect(released).toEqual(['a']); // b and c need a flush that began after them
    expect(started).toHaveLength(2);
    started[1]!.finish();
    await tick();
    expect(released).toEqual(['a', 'b', 'c']);
    expect(started).toHaveLength(2);
  });

  it('runs several flushes at once on different slots, and a failed flush fails its waiters', async () => {
    const { started, flush } = controlledFlushes();
    const barrier = new FlushBarrier(flush, 2);
    const first = barrier.wait();
    const second = barrier.wait();
    expect(started.map((s) => s.slot)).toEqual([0, 1]);
    started[0]!.finish(new Error('disk full'));
    started[1]!.finish();
    await expect(first).rejects.toThrow('disk full');
    await expect(second).resolves.toBeUndefined();
  });
});
