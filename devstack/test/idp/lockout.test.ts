// The lockout's counting and its bound, with an injected clock.
import { describe, expect, it } from 'vitest';
import { createLockout } from '../../src/idp/lockout';

describe('createLockout', () => {
  it('locks an account after maxFailures, whatever case the username was typed in, until the lock expires', () => {
    let t = 0;
    const lockout = createLockout({ maxFailures: 3, windowMs: 1_000, lockMs: 5_000, now: () => t });
    expect(lockout.fail('Dave')).toBe(false);
    expect(lockout.fail(' dave')).toBe(false);
    expect(lockout.fail('DAVE')).toBe(true);
    expect(lockout.isLocked('dave')).toBe(true);
    lockout.succeed('dave'); // a right password does not lift a lock
    t = 4_999;
    expect(lockout.isLocked('dave')).toBe(true);
    t = 5_000;
    expect(lockout.isLocked('dave')).toBe(false);
    expect(lockout.size).toBe(0);
  });

  it('forgets failures older than the window, and a success clears them', () => {
    let t = 0;
    const lockout = createLockout({ maxFailures: 2, windowMs: 1_000, now: () => t });
    lockout.fail('a');
    t = 1_000;
    expect(lockout.fail('a')).toBe(false);
    lockout.succeed('a');
    expect(lockout.fail('a')).toBe(false);
    expect(lockout.fail('a')).toBe(true);
  });

  it('never tracks more than maxTracked accounts, evicting unlocked ones before any lock', () => {
    const lockout = createLockout({ maxFailures: 2, maxTracked: 10 });
    lockout.fail('victim');
    lockout.fail('victim');
    for (let i = 0; i < 10_000; i++) {
      lockout.fail(`nobody-${i}`);
      expect(lockout.size).toBeLessThanOrEqual(10);
    }
    expect(lockout.isLocked('victim')).toBe(true);
  });
});
