// The OS capabilities the core needs, passed in by whoever runs it: the Electron
// shell (net.fetch, shell.openExternal, keytar) or a test / the e2e harness
// (Node's fetch, a Chromium stand-in for the system browser, keytar).

/** The fetch the core uses for every HTTP call, the identity provider's included. */
export type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Wall-clock time in epoch milliseconds. Refresh and lock decisions use it, not timers, because timers stall during sleep. */
export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

/** A small key/value view of the OS keychain. Every method may throw (locked keychain, no Secret Service). */
export interface SecretStore {
  get(account: string): Promise<string | null>;
  set(account: string, value: string): Promise<void>;
  delete(account: string): Promise<boolean>;
}

/** One structured diagnostics line. Fields are short facts (steps, statuses, timings), never tokens or personal data. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;
export interface LogSink {
  write(level: 'info' | 'warn' | 'error', event: string, fields: LogFields): void;
}
