// The batcher's promise: an item starts a batch at once when a slot is free;
// items that arrive while batches run share the next one; each item gets its
// own outcome; a failed batch fails only its own items.
import { describe, expect, it } from 'vitest';
import { Batcher, type Outcome } from '../../src/db/batcher';

function controlledBatches() {
  const started: { items: number[]; finish: (outcomes: Outcome<string>[] | Error) => void }[] = [];
  const run = (items: number[]) =>
    new Promise<Outcome<string>[]>((resolve, reject) => {
      started.push({ items, finish: (o) => (o instanceof Error ? reject(o) : resolve(o)) });
    });
  return { started, run };
}

const tick = () => new Promise((r) => setTimeout(r, 0));
const values = (items: number[]): Outcome<string>[] => items.map((i) => ({ value: `v${i}` }));

describe('Batcher', () => {
  it('starts a batch at once when idle, and gathers what arrives meanwhile into the next one', async () => {
    const { started, run } = controlledBatches();
    const batcher = new Batcher(run, { maxInFlight: 1, maxBatch: 10 });
    const results: string[] = [];
    void batcher.submit(1).then((v) => results.push(v));
    expect(started.map((b) => b.items)).toEqual([[1]]);
    void batcher.submit(2).then((v) => results.push(v));
    void batcher.submit(3).then((v) => results.push(v));
    expect(started).toHaveLength(1); // one in flight at most
    started[0]!.finish(values([1]));
    await tick();
    expect(results).toEqual(['v1']);
    expect(started.map((b) => b.items)).toEqual([[1], [2, 3]]);
    started[1]!.finish(values([2, 3]));
    await tick();
    expect(results).toEqual(['v1', 'v2', 'v3']);
  });

  it('gives each item its own outcome, and a failed batch fails only its own items', async () => {
    const { started, run } = controlledBatches();
    const batcher = new Batcher(run, { maxInFlight: 2, maxBatch: 10 });
    const first = batcher.submit(1);
    const second = batcher.submit(2);
    expect(started.map((b) => b.items)).toEqual([[1], [2]]); // two in flight
    const third = batcher.submit(3);
    const fourth = batcher.submit(4);
    started[0]!.finish(new Error('connection lost'));
    await expect(first).rejects.toThrow('connection lost');
    expect(started[2]?.items).toEqual([3, 4]);
    started[2]!.finish([{ value: 'v3' }, { error: new Error('not found') }]);
    await expect(third).resolves.toBe('v3');
    await expect(fourth).rejects.toThrow('not found');
    started[1]!.finish(values([2]));
    await expect(second).resolves.toBe('v2');
  });

  it('caps a batch at maxBatch items, and fails a batch whose outcomes do not match its items', async () => {
    const { started, run } = controlledBatches();
    const batcher = new Batcher(run, { maxInFlight: 1, maxBatch: 2 });
    const pending = [1, 2, 3, 4, 5].map((i) => batcher.submit(i));
    started[0]!.finish(values([1]));
    await tick();
    expect(started[1]?.items).toEqual([2, 3]);
    started[1]!.finish(values([2])); // one outcome for two items: a bug, never a guess
    await expect(pending[1]).rejects.toThrow('a batch of 2 returned 1 outcomes');
    await expect(pending[2]).rejects.toThrow('a batch of 2 returned 1 outcomes');
    expect(started[2]?.items).toEqual([4, 5]);
    started[2]!.finish(values([4, 5]));
    await expect(Promise.all([pending[0], pending[3], pending[4]])).resolves.toEqual(['v1', 'v4', 'v5']);
  });
});
