// The IPC handler table without a session: validation, typed errors, no stack traces.
// The keychain here is in memory (the OS edge); signed-in flows are in electron/test.
import { afterEach, describe, expect, it } from 'vitest';
import { CHANNEL_NAMES, channels } from '../../shared/ipc';
import { Policy } from '../../shared/config';
import { MESSAGES } from './errors';
import { createHandlers, type CimsCore } from './handlers';

const policy = Policy.parse({ issuer: 'http://127.0.0.1:9', clientId: 'cims-console', apiBaseUrl: 'http://127.0.0.1:9', apiAudience: 'urn:cims:api' });
let core: CimsCore;
afterEach(() => core?.dispose());

let fetches: string[] = [];

function make() {
  const entries = new Map<string, string>();
  fetches = [];
  core = createHandlers({
    policy,
    fetch: (input) => {
      fetches.push(String(input));
      return Promise.reject(new TypeError('fetch failed'));
    },
    openExternal: async () => {},
    secrets: { get: async (a) => entries.get(a) ?? null, set: async (a, v) => void entries.set(a, v), delete: async (a) => entries.delete(a) },
    chooseSavePath: async () => null,
  });
  return core;
}

describe('createHandlers', () => {
  it('answers every channel of the contract as its input and the signed-out state say', async () => {
    const c = make();
    for (const channel of CHANNEL_NAMES) {
      const result = await c.invokeUnknown(channel, {});
      // A missing handler would surface as `internal`; every channel here has a definite answer.
      if (!channels[channel].input.safeParse({}).success) {
        expect(result, channel).toMatchObject({ ok: false, error: { code: 'validation' } });
      } else if (channel.startsWith('session:') || channel === 'diagnostics:exportLogs') {
        expect(result.ok, channel).toBe(true);
      } else {
        expect(result, channel).toMatchObject({ ok: false, error: { code: 'unauthenticated', message: MESSAGES.unauthenticated } });
      }
    }
  });

  it('starts signed out when the keychain holds nothing', async () => {
    const c = make();
    await c.start();
    const state = await c.invoke('session:get', {});
    expect(state).toEqual({
      ok: true,
      data: { status: 'signedOut', issuer: policy.issuer, user: null, message: null, signInUrl: null, signInDeadline: null },
    });
  });

  it('refuses bad input with code validation and field errors before the session or the network is asked', async () => {
    const c = make();
    // Signed out, a valid request would be `unauthenticated`: validation comes first.
    const r = await c.invokeUnknown('customers:get', { orgId: "ORG-1' OR 1=1" });
    expect(r).toEqual({ ok: false, error: { code: 'validation', message: MESSAGES.validation, fieldErrors: [{ path: 'orgId', message: expect.any(String) }] } });
    const stale = await c.invokeUnknown('customers:update', { orgId: 'ORG-000001', version: 0, changes: { userCount: 3 }, reason: 'More seats' });
    expect(stale).toMatchObject({ ok: false, error: { code: 'validation', fieldErrors: [{ path: 'version' }] } });
    const extra = await c.invokeUnknown('session:get', { sneaky: true });
    expect(extra).toMatchObject({ ok: false, error: { code: 'validation' } });
    expect(fetches).toEqual([]);
  });

  it('refuses unknown channels, including prototype names', async () => {
    const c = make();
    for (const name of ['shell:exec', '__proto__', 'constructor', 42]) {
      expect(await c.invokeUnknown(name, {})).toMatchObject({ ok: false, error: { code: 'internal' } });
    }
  });

  it('answers API channels with unauthenticated while signed out', async () => {
    const c = make();
    expect(await c.invoke('customers:list', {})).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
    expect(await c.invoke('audit:exportCsv', {})).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
  });

  it('reports an unreachable identity provider when sign-in cannot start', async () => {
    const c = make();
    const r = await c.invoke('session:signIn', {});
    expect(r).toMatchObject({ ok: true, data: { status: 'signedOut', message: expect.stringMatching(/cannot be reached/) } });
  });
});

describe('diagnostics:exportLogs', () => {
  it('writes the rotating log to the chosen path, with no token in it, or nothing when cancelled', async () => {
    const { mkdtempSync, readFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { createRotatingLog } = await import('./log');
    const dir = mkdtempSync(join(tmpdir(), 'cims-diag-'));
    const log = createRotatingLog({ dir: join(dir, 'logs') });
    log.write('info', 'token.refreshed', { refreshToken: 'should-never-appear', note: 'Bearer eyJabcdefgh.eyJabcdefgh.sig' });
    let target: string | null = join(dir, 'export.log');
    core = createHandlers({
      policy,
      fetch: () => Promise.reject(new TypeError('fetch failed')),
      openExternal: async () => {},
      secrets: { get: async () => null, set: async () => {}, delete: async () => false },
      chooseSavePath: async () => target,
      log,
    });
    expect(await core.invoke('diagnostics:exportLogs', {})).toEqual({ ok: true, data: { path: target } });
    const text = readFileSync(target, 'utf8');
    expect(text).toContain('token.refreshed');
    expect(text).not.toContain('should-never-appear');
    expect(text).not.toContain('eyJabcdefgh');
    target = null;
    expect(await core.invoke('diagnostics:exportLogs', {})).toEqual({ ok: true, data: { path: null } });
  });
});
