// Failed-password counting for the login page and the demo password grant, per
// account (the username as typed, case-folded), across sign-in attempts: a new
// attempt does not reset the count. Unknown usernames are counted like known
// ones, so the answers do not reveal which accounts exist. The map is bounded
// and its entries expire, so a flood of made-up usernames cannot grow memory.

export interface LockoutOptions {
  /** Failures within `windowMs` that lock the account. Default 10. */
  maxFailures?: number;
  /** Failures older than this are forgotten. Default 15 minutes. */
  windowMs?: number;
  /** How long a locked account stays locked. Default 15 minutes. */
  lockMs?: number;
  /** Most accounts tracked at once. Default 10,000. */
  maxTracked?: number;
  now?: () => number;
}

export interface Lockout {
  isLocked(username: string): boolean;
  /** Records a failed password; true when the account is now locked. */
  fail(username: string): boolean;
  /** A correct password on an unlocked account clears its failures. */
  succeed(username: string): void;
  /** Accounts tracked now (for the bound's test). */
  readonly size: number;
}

interface Entry {
  failures: number;
  /** When the failures (or the lock) are forgotten. */
  expiresAt: number;
  locked: boolean;
}

export function createLockout(options: LockoutOptions = {}): Lockout {
  const maxFailures = options.maxFailures ?? 10;
  const windowMs = options.windowMs ?? 15 * 60_000;
  const lockMs = options.lockMs ?? 15 * 60_000;
  const maxTracked = options.maxTracked ?? 10_000;
  const now = options.now ?? Date.now;
  // Insertion order is recency order: every update re-inserts its key.
  const entries = new Map<string, Entry>();
  const keyOf = (username: string) => username.trim().toLowerCase();

  const current = (key: string): Entry | undefined => {
    const entry = entries.get(key);
    if (entry && entry.expiresAt <= now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };

  const makeRoom = () => {
    const t = now();
    for (const [key, entry] of entries) if (entry.expiresAt <= t) entries.delete(key);
    if (entries.size < maxTracked) return;
    // Evict the least recently failed account that is not locked, so a flood of new names cannot unlock one;
    // only when every tracked account is locked does the oldest lock go.
    let victim: string | undefined;
    for (const [key, entry] of entries) {
      if (!entry.locked) {
        victim = key;
        break;
      }
    }
    victim ??= entries.keys().next().value;
    if (victim !== undefined) entries.delete(victim);
  };

  return {
    get size() {
      return entries.size;
    },
    isLocked: (username) => current(keyOf(username))?.locked ?? false,
    fail(username) {
      const key = keyOf(username);
      const entry = current(key);
      if (entry?.locked) return true;
      if (!entry && entries.size >= maxTracked) makeRoom();
      const failures = (entry?.failures ?? 0) + 1;
      const locked = failures >= maxFailures;
      entries.delete(key);
      entries.set(key, { failures, locked, expiresAt: now() + (locked ? lockMs : windowMs) });
      return locked;
    },
    succeed(username) {
      const key = keyOf(username);
      if (!current(key)?.locked) entries.delete(key);
    },
  };
}
