// Real pieces for the core's integration tests: the local OpenID provider
// (started in-process from api/src/idp), a tiny resource server that checks the
// bearer token against the provider's JWKS with jose, Debian's Chromium as the
// system browser, and the real keychain (gnome-keyring under
// scripts/with-keyring.sh) through keytar.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from '@playwright/test';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { SessionState, SessionStatus } from '../../shared/ipc';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../e2e/support/chromium';
import type { CimsCore } from '../core/handlers';

export interface TestIdp {
  issuer: string;
  close(): Promise<void>;
}

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

export async function startIdp(accessTokenTtlSeconds = 300): Promise<TestIdp & { dataDir: string }> {
  const mod = await importApi<{
    startIdentityProvider(options: { port: number; dataDir: string; accounts: TestAccount[]; accessTokenTtlSeconds?: number }): Promise<TestIdp>;
  }>('idp', 'provider');
  const dataDir = mkdtempSync(join(tmpdir(), 'cims-idp-'));
  const idp = await mod.startIdentityProvider({ port: 0, dataDir, accounts: [ALICE, BOB], accessTokenTtlSeconds });
  return {
    issuer: idp.issuer,
    dataDir,
    close: async () => {
      await idp.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
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
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ ok: true, checked: seen.length }));
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

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/** The system browser stand-in: opens the URL in a fresh profile and signs in on the provider's own page. */
export async function signInInBrowser(browser: Browser, url: string, who: TestAccount): Promise<string> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(url);
    await page.fill('input[name=username]', who.username);
    await page.fill('input[name=password]', who.password);
    await Promise.all([page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/callback/), page.click('button[type=submit]')]);
    return (await page.textContent('body')) ?? '';
  } finally {
    await context.close();
  }
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

/** Imports a module of the API workspace by a computed specifier, which keeps it out of the desktop typecheck. */
export function importApi<T>(...segments: string[]): Promise<T> {
  const path = ['..', '..', 'api', 'src', ...segments].join('/');
  return import(/* @vite-ignore */ path) as Promise<T>;
}
