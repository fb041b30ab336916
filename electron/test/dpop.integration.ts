// DPoP end to end on the desktop side: the real local provider (oidc-provider's
// DPoP feature), the real API with IT's requireDpop on, the
// real keychain, a CRM signing in through Chromium. The fetch given to the
// core is Node's own, wrapped only to record what went over the wire (the OS
// edge), so the test can then play an attacker who copied a token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Policy } from '../../shared/config';
import type { Clock } from '../core/deps';
import { decodeJwtPayload } from '../core/oidc';
import { createHandlers, type CimsCore } from '../core/handlers';
import { ChunkedSecret, keytarSecretStore, refreshTokenAccount } from '../core/secret-store';
import { startTestApi, type TestApi } from '../../testing/api';
import { ALICE, launchChromium, signInInBrowser, startIdp, waitFor } from './harness';
import type { Browser } from '@playwright/test';

const KEYCHAIN_READY = Boolean(process.env.CIMS_KEYRING_READY);
const SERVICE = `CIMS Console dpop test ${process.pid}`;

interface Sent {
  url: string;
  method: string;
  authorization: string | null;
  dpop: string | null;
  status: number;
  wwwAuthenticate: string | null;
}

let idp: Awaited<ReturnType<typeof startIdp>>;
let api: TestApi;
let browser: Browser;

class ManualClock implements Clock {
  private offset = 0;
  now = () => Date.now() + this.offset;
  advance(ms: number) {
    this.offset += ms;
  }
}

describe.skipIf(!KEYCHAIN_READY)('DPoP: the console, the provider and the API (run under scripts/with-keyring.sh)', () => {
  beforeAll(async () => {
    idp = await startIdp();
    api = await startTestApi(idp.issuer, { dpop: { required: true } });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await new ChunkedSecret(keytarSecretStore(SERVICE), refreshTokenAccount(idp.issuer, 'cims-console')).clear().catch(() => undefined);
    await browser?.close();
    await api?.close();
    await idp?.close();
  });

  it('signs in, calls the API, refreshes and calls again with bound tokens; a copied token is refused everywhere else', async () => {
    const sent: Sent[] = [];
    const clock = new ManualClock();
    const recordingFetch = async (input: string | URL | Request, init?: RequestInit) => {
      const url = input instanceof Request ? input.url : String(input);
      const headers = new Headers(init?.headers);
      const response = await fetch(input, init);
      sent.push({
        url,
        method: init?.method ?? 'GET',
        authorization: headers.get('authorization'),
        dpop: headers.get('dpop'),
        status: response.status,
        wwwAuthenticate: response.headers.get('www-authenticate'),
      });
      return response;
    };
    const core: CimsCore = createHandlers({
      policy: Policy.parse({ issuer: idp.issuer, clientId: 'cims-console', apiBaseUrl: api.url, apiAudience: 'urn:cims:api' }),
      fetch: recordingFetch,
      openExternal: async (url) => {
        if (new URL(url).pathname.endsWith('/auth')) void signInInBrowser(browser, url, ALICE).catch(() => undefined);
      },
      secrets: keytarSecretStore(SERVICE),
      chooseSavePath: async () => null,
      clock,
    });
    try {
      await core.start();
      await core.invoke('session:signIn', {});
      await waitFor(core, 'signedIn');

      // The code exchange carried a proof, and the provider bound the token to its key.
      const exchange = sent.find((s) => s.url.endsWith('/token'));
      expect(exchange?.dpop).toEqual(expect.any(String));
      const first = await core.invoke('customers:list', { q: 'nothing-matches-this' });
      expect(first, JSON.stringify(first)).toMatchObject({ ok: true });
      const calls = () => sent.filter((s) => s.url.startsWith(`${api.url}/v1/customers`));
      expect(calls().map((c) => c.status)).toEqual([200]);
      const captured = calls().at(-1)!;
      expect(captured.authorization).toMatch(/^DPoP /);
      const token = captured.authorization!.slice('DPoP '.length);
      const jkt = (decodeJwtPayload(token).cnf as { jkt?: string } | undefined)?.jkt;
      expect(jkt).toMatch(/^[A-Za-z0-9_-]{43}$/);

      // An attacker with the token (and even the proof it was sent with) but not the key.
      const replay = async (headers: Record<string, string>, url = captured.url, method = 'GET') => {
        const res = await fetch(url, { method, headers });
        await res.arrayBuffer(); // read to the end, so the connection is idle and the API can close
        return { status: res.status, challenge: res.headers.get('www-authenticate') ?? '' };
      };
      for (const attempt of [
        await replay({ authorization: `Bearer ${token}` }),
        await replay({ authorization: `DPoP ${token}` }),
        await replay({ authorization: `DPoP ${token}`, dpop: captured.dpop! }),
        await replay({ authorization: `DPoP ${token}`, dpop: captured.dpop! }, `${api.url}/v1/portfolio/summary`),
        await replay({ authorization: `DPoP ${token}`, dpop: captured.dpop!, 'content-type': 'application/json' }, captured.url, 'POST'),
      ]) {
        expect(attempt.status).toBe(401);
        expect(attempt.challenge).toMatch(/^DPoP .*error="(invalid_token|invalid_dpop_proof)"/);
      }

      // The refresh token in the keychain is bound too: without the key (or with another) the provider refuses it.
      const saved = await new ChunkedSecret(keytarSecretStore(SERVICE), refreshTokenAccount(idp.issuer, 'cims-console')).read();
      expect(saved).toEqual(expect.any(String));
      const stolenRefresh = await fetch(`${idp.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: saved!, client_id: 'cims-console' }),
      });
      expect(stolenRefresh.status).toBe(400);
      expect(((await stolenRefresh.json()) as { error: string }).error).toMatch(/^invalid_(grant|dpop_proof)$/);

      // Five minutes later the access token is due: the refresh is signed by the same key, and the new token works.
      clock.advance(5 * 60_000);
      const before = sent.length;
      const second = await core.invoke('customers:list', { q: 'nothing-matches-this' });
      expect(second, JSON.stringify(second)).toMatchObject({ ok: true });
      const refresh = sent.slice(before).find((s) => s.url.endsWith('/token'));
      expect(refresh?.dpop).toEqual(expect.any(String));
      const after = sent.slice(before).filter((s) => s.url.startsWith(`${api.url}/v1/customers`) && s.status === 200).at(-1)!;
      const renewed = after.authorization!.slice('DPoP '.length);
      expect(renewed).not.toBe(token);
      expect((decodeJwtPayload(renewed).cnf as { jkt?: string }).jkt).toBe(jkt);
      await core.invoke('session:signOut', {});
    } finally {
      core.dispose();
    }
  });
});
