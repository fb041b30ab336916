// The announcer's promise: request ids queued in one turn go out in one call;
// what is queued while a call runs waits for the next; a request is sent once;
// a failed call is tried once more, then given up and reported.
import { describe, expect, it } from 'vitest';
import { ANNOUNCE_BATCH, Announcer } from '../../src/live/announcer';

function recorder(fail: (call: number) => boolean = () => false) {
  const calls: string[][] = [];
  const errors: unknown[] = [];
  const announcer = new Announcer({
    send: async (ids) => {
      calls.push(ids);
      if (fail(calls.length)) throw new Error(`call ${calls.length} failed`);
    },
    onError: (err) => errors.push(err),
  });
  return { calls, errors, announcer };
}

describe('Announcer', () => {
  it('sends what one turn queued in one call, after that turn, each request once', async () => {
    const { calls, announcer } = recorder();
    announcer.queue(['a', 'b']);
    announcer.queue(['c', 'a']);
    expect(calls).toEqual([]); // not on the writer's path
    await announcer.idle();
    expect(calls).toEqual([['a', 'b', 'c']]);
  });

  it('gathers what arrives while a call runs into the next one, and splits large queues', async () => {
    let release: () => void = () => undefined;
    const calls: string[][] = [];
    const announcer = new Announcer({
      send: (ids) => {
        calls.push(ids);
        return calls.length === 1 ? new Promise<void>((r) => (release = r)) : Promise.resolve();
      },
      onError: () => undefined,
    });
    announcer.queue(['first']);
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual([['first']]);
    const many = Array.from({ length: ANNOUNCE_BATCH + 1 }, (_v, i) => `r${i}`);
    announcer.queue(many);
    release();
    await announcer.idle();
    expect(calls.map((c) => c.length)).toEqual([1, ANNOUNCE_BATCH, 1]);
    expect(calls.slice(1).flat()).toEqual(many);
  });

  it('tries a failed call once more, then gives up and reports each failure', async () => {
    const { calls, errors, announcer } = recorder(() => true);
    announcer.queue(['x']);
    await announcer.idle();
    expect(calls).toEqual([['x'], ['x']]);
    expect(errors).toHaveLength(2);
    announcer.queue(['y']); // a new request is sent again
    await announcer.idle();
    expect(calls.at(-1)).toEqual(['y']);
  });

  it('a second try that succeeds announces once', async () => {
    const { calls, errors, announcer } = recorder((n) => n === 1);
    announcer.queue(['x']);
    await announcer.idle();
    expect(calls).toEqual([['x'], ['x']]);
    expect(errors).toHaveLength(1);
  });
});
