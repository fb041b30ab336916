// For tests that start real processes (a server, PgBouncer, a private cluster): a port to give one,
// and a wait for what it prints or does.
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

/** A port on 127.0.0.1 that was free a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Polls `ok` every `intervalMs` until it holds; past `timeoutMs`, fails with `message()` (e.g. the process's output). */
export async function waitFor(
  ok: () => boolean | Promise<boolean>,
  message: () => string,
  { timeoutMs = 60_000, intervalMs = 50 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > until) throw new Error(message());
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
