// The real console core (electron/core/handlers.ts) as the Electron shell runs
// it, with the OS pieces a test can provide: Node's fetch, an in-memory keychain
// and, for the system browser, an HTTP sign-in on the provider's own login page
// (testing/browser.ts) that ends at the core's loopback listener.
import { Policy } from '../../shared/config';
import type { SessionState, SessionStatus } from '../../shared/ipc';
import { createHandlers, type CimsCore } from '../../electron/core/handlers';
import type { SecretStore } from '../../electron/core/deps';
import { Browser, type Loopback } from '../../testing/browser';

export function memorySecrets(): SecretStore {
  const m = new Map<string, string>();
  return {
    get: async (k) => m.get(k) ?? null,
    set: async (k, v) => void m.set(k, v),
    delete: async (k) => m.delete(k),
  };
}

export interface TestConsole {
  core: CimsCore;
  /** Interactive sign-ins so far (the system browser opened on an authorization URL). */
  readonly signIns: number;
  states: SessionState[];
}

export function startConsole(opts: { issuer: string; apiBaseUrl: string; username: string; password: string }): TestConsole {
  let signIns = 0;
  const states: SessionState[] = [];
  const core = createHandlers({
    policy: Policy.parse({ issuer: opts.issuer, clientId: 'cims-console', apiBaseUrl: opts.apiBaseUrl, apiAudience: 'urn:cims:api' }),
    fetch: (input, init) => fetch(input, init),
    openExternal: async (url) => {
      const u = new URL(url);
      if (!u.pathname.endsWith('/auth')) return; // end-session pages are only opened
      signIns++;
      const redirectUri = u.searchParams.get('redirect_uri') ?? '';
      // The core's own listener receives the callback; this stand-in only tells the browser where it is.
      const loopback: Loopback = { redirectUri, nextCallback: async () => new URLSearchParams(), close: async () => undefined };
      const browser = new Browser(opts.issuer, loopback);
      void browser
        .go(url)
        .then((page) => browser.submit(page, { username: opts.username, password: opts.password }))
        .catch(() => undefined);
    },
    secrets: memorySecrets(),
    chooseSavePath: async () => null,
  });
  core.on('session:changed', (s) => states.push(s));
  return {
    core,
    get signIns() {
      return signIns;
    },
    states,
  };
}

/** Resolves once the session reaches `status`. */
export async function waitForSession(core: CimsCore, status: SessionStatus, timeoutMs = 20_000): Promise<SessionState> {
  const ends = Date.now() + timeoutMs;
  for (;;) {
    const s = await core.invoke('session:get', {});
    if (s.ok && s.data.status === status) return s.data;
    if (Date.now() > ends) throw new Error(`session not ${status} within ${timeoutMs} ms (is ${s.ok ? s.data.status : 'unknown'})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A console core started and signed in through the provider's login page. */
export async function startSignedInConsole(opts: Parameters<typeof startConsole>[0]): Promise<TestConsole> {
  const ui = startConsole(opts);
  await ui.core.start();
  await ui.core.invoke('session:signIn', {});
  await waitForSession(ui.core, 'signedIn');
  return ui;
}
