// Real pieces for the core's integration tests: the local OpenID provider
// (the demo stack's, in-process, through testing/idp.ts), a tiny resource server that checks the
// bearer token against the provider's JWKS with jose, Debian's Chromium as the
// system browser, and the real keychain (gnome-keyring under
// scripts/with-keyring.sh) through keytar.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { SessionState, SessionStatus } from '../../shared/ipc';
import { startTestIdp, type TestIdp } from '../../testing/idp';
import type { CimsCore } from '../core/handlers';

export { launchChromium } from '../../testing/chromium';
export { signInInBrowser } from '../../testing/sign-in';

export interface TestAccount {
  username: string;
  name: string;
  roles: string[];
  password: string;
}

const account = (username: string, name: string, roles: string[]): TestAccount => ({
  username,
  name,
  roles,
  // Generated per run: no password lives in code.
  password: randomBytes(12).toString('base64url'),
});
export const ALICE = account('alice', 'Alice Test', ['crm']);
export const BOB = account('bob', 'Bob Test', ['support_lead']);

export function startIdp(accessTokenTtlSeconds = 300): Promise<TestIdp> {
  return startTestIdp([ALICE, BOB], { accessTokenTtlSeconds });
}

export interface SeenRequest {
  path: string;
  token: string;
  status: number;
  claims: JWTPayload | null;
}

/**
 * A resource server standing in for the API on one endpoint (GET /v1/audit/verify):
 * it verifies the bearer against the provider's JWKS (issuer, audience, expiry).
 * `expireSeenTokens()` makes it judge every token it has already seen as of six
 * minutes from now, so those are refused as expired by jose itself.
 */
export async function startResourceServer(issuer: string, audience: string) {
  const jwks = createRemoteJWKSet(new URL(`${issuer}/jwks`));
  const seen: SeenRequest[] = [];
  const expired = new Set<string>();
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      // The console's change stream (electron/core/live.ts) while signed in: held open and quiet, not counted in `seen`.
      if (url.pathname === '/v1/events') {
        res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' }).write(': connected\n\n');
        const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), 5_000);
        res.on('close', () => clearInterval(heartbeat));
        return;
      }
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      let claims: JWTPayload | null = null;
      let status = 200;
      try {
        const at = expired.has(token) ? new Date(Date.now() + 6 * 60_000) : new Date();
        claims = (await jwtVerify(token, jwks, { issuer, audience, currentDate: at })).payload;
      } catch (error) {
        status = error instanceof joseErrors.JOSEError || error instanceof TypeError ? 401 : 500;
      }
      if (status === 200 && url.pathname !== '/v1/audit/verify') status = 404;
      seen.push({ path: url.pathname, token, status, claims });
      if (status !== 200) {
        res.writeHead(status, { 'Content-Type': 'application/problem+json', 'WWW-Authenticate': 'Bearer error="invalid_token"' });
        res.end(JSON.stringify({ type: 'about:blank', title: 'Unauthorized', status, requestId: `r${seen.length}` }));
        return;
      }
      // A whole AuditVerifyResult as the contract declares it (no checkpoint: the console's witness has nothing to fetch).
      const result = { ok: true, checked: seen.length, accessChecked: 0, unsealed: 0, accessUnsealed: 0, checkpoint: null };
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(result));
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    expireSeenTokens: () => seen.forEach((s) => expired.add(s.token)),
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** Resolves with the session state once it reaches `status` (now or by a later session:changed). */
export async function waitFor(core: CimsCore, status: SessionStatus, timeoutMs = 20_000): Promise<SessionState> {
  const current = await core.invoke('session:get', {});
  if (current.ok && current.data.status === status) return current.data;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${status} within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = core.on('session:changed', (s) => {
      if (s.status !== status) return;
      clearTimeout(timer);
      off();
      resolve(s);
    });
  });
}
