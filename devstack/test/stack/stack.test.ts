// `npm run stack` from a clean data folder: it comes up, prints the ready line,
// a PKCE sign-in through its provider's login page gives a token the API
// accepts for GET /v1/me with the right roles, the demo data arrived through
// the real paths, and SIGTERM stops everything cleanly. Plus the refusals:
// a second stack on the same folder, and a port that is taken.
import { execSync, spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditPage, CustomerListPage, Me } from '../../../shared/api';
import { PortInUseError } from '../../src/idp/provider';
import { parseReadyLine, type ReadyInfo } from '../../src/stack/ready';
import { startStack } from '../../src/stack/stack';
import { signIn } from '../../../testing/browser';
import { dpopKey, dpopProof, type DpopKey } from '../../../testing/issuer';

const REPO_ROOT = resolve(__dirname, '..', '..', '..');

type Child = ChildProcessByStdio<null, Readable, Readable>;

function runStack(dataDir: string, extra: string[] = []): Child {
  // Detached: its own process group, so SIGTERM reaches npm, tsx and node as a terminal's would.
  return spawn('npm', ['run', '-s', 'stack', '--', '--data-dir', dataDir, ...extra], {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CIMS_IDP_PORT: '0', CIMS_API_PORT: '0', DATABASE_URL: '' },
  });
}

function waitForReady(child: Child, stderr: { text: string }): Promise<ReadyInfo> {
  return new Promise((resolvePromise, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const info = out.split('\n').map(parseReadyLine).find((i) => i !== undefined);
      if (info) resolvePromise(info);
    });
    child.on('exit', (code) => reject(new Error(`stack exited (${code}) before it was ready: ${stderr.text}`)));
  });
}

/** Resolves once npm has exited and every process holding its output (tsx, node) has too. */
const exited = (child: Child) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => {
    if (child.stdout.closed && child.stderr.closed && (child.exitCode !== null || child.signalCode !== null)) r({ code: child.exitCode, signal: child.signalCode });
    else child.once('close', (code, signal) => r({ code, signal }));
  });

/** A call as the console makes it: the stack's API requires DPoP-bound tokens of people, each call with a fresh proof. */
const api = async <T>(base: string, token: string, path: string, key: DpopKey): Promise<T> => {
  const url = `${base}${path}`;
  const proof = await dpopProof(key, { htm: 'GET', htu: url.split('?')[0]!, accessToken: token });
  const res = await fetch(url, { headers: { authorization: `DPoP ${token}`, dpop: proof } });
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
};

describe('npm run stack', () => {
  let dataDir: string;
  let child: Child;
  const stderr = { text: '' };
  let ready: ReadyInfo;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cims-stack-'));
    // 200: the model job needs renewal decisions of both outcomes, in training and held out, to train
    // at all (24 customers give 2 decisions, and the stack then rightly runs without scores).
    child = runStack(dataDir, ['--customers', '200']);
    child.stderr.on('data', (d: Buffer) => (stderr.text += d.toString()));
    ready = await waitForReady(child, stderr);
  }, 240_000);

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      process.kill(-child.pid!, 'SIGKILL');
      await exited(child);
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints the ready line with everything a client needs', () => {
    expect(ready).toMatchObject({ clientId: 'cims-console', audience: 'urn:cims:api', scope: 'openid profile offline_access api', dataDir: resolve(dataDir), database: 'pglite' });
    expect(ready.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(ready.api).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(ready.demoAccounts.map((a) => [a.username, a.roles])).toEqual([
      ['alice', ['crm']],
      ['carol', ['crm']],
      ['bob', ['support_lead']],
      ['erin', ['admin']],
    ]);
    expect(ready.demoAccounts.every((a) => a.password.length >= 8)).toBe(true);
  });

  it('signs alice in with PKCE through the login page; the API answers /v1/me with her roles and shows her customers with predictions', async () => {
    const alice = ready.demoAccounts.find((a) => a.username === 'alice')!;
    const key = await dpopKey();
    const { tokens } = await signIn(ready.issuer, alice.username, alice.password, { scope: ready.scope, dpop: key });
    // A bearer token of a person is refused: IT's requireDpop is on in the stack.
    const bearer = await fetch(`${ready.api}/v1/me`, { headers: { authorization: `Bearer ${tokens.access_token!}` } });
    expect([bearer.status, bearer.headers.get('www-authenticate')]).toEqual([401, expect.stringMatching(/^DPoP .*error="invalid_token"/)]);
    await bearer.arrayBuffer();
    const me = await api<Me>(ready.api, tokens.access_token!, '/v1/me', key);
    expect(me).toMatchObject({ sub: 'alice', roles: ['crm'] });

    const mine = await api<CustomerListPage>(ready.api, tokens.access_token!, '/v1/customers?owner=me&limit=50', key);
    expect(mine.items.length).toBeGreaterThan(0);
    expect(mine.items.every((c) => c.ownerSub === 'alice')).toBe(true);
    // Predictions were pushed through PUT /v1/predictions by the model runner.
    expect(mine.items.some((c) => c.churnRisk !== null)).toBe(true);
  });

  it('has an audit history made through the API, visible to the support lead', async () => {
    const bob = ready.demoAccounts.find((a) => a.username === 'bob')!;
    const key = await dpopKey();
    const { tokens } = await signIn(ready.issuer, bob.username, bob.password, { dpop: key });
    expect((await api<Me>(ready.api, tokens.access_token!, '/v1/me', key)).roles).toEqual(['support_lead']);
    const audit = await api<AuditPage>(ready.api, tokens.access_token!, '/v1/audit/events?limit=100', key);
    const actions = new Set(audit.items.map((e) => `${e.actorSub} ${e.action}`));
    expect(actions).toContain('alice customer.update');
    // Four eyes: bob approved alice's seats (the applied change is his event) and asked for an archive.
    expect(actions).toContain('bob customer.update');
    expect(actions).toContain('alice change.requested');
    expect(actions).toContain('bob change.requested');
    expect([...actions].some((a) => a.endsWith('predictions.ingest'))).toBe(true);
  });

  it('refuses a second stack on the same data folder with a message that says what to do', async () => {
    const second = runStack(dataDir);
    let err = '';
    second.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const { code } = await exited(second);
    expect(code).toBe(1);
    expect(err).toMatch(/Another CIMS stack \(process \d+\) is using the data folder/);
  }, 60_000);

  it('stops cleanly on SIGTERM: every process gone, ports closed, lock released', async () => {
    process.kill(-child.pid!, 'SIGTERM');
    const { code, signal } = await exited(child);
    // npm itself re-raises the signal it got; the stack process reports how it stopped.
    expect(code === 0 || signal === 'SIGTERM').toBe(true);
    expect(stderr.text).toContain('cims stack: stopped cleanly');
    expect(stderr.text).not.toContain('stopped with an error');
    const groupAlive = () => {
      try {
        process.kill(-child.pid!, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 50 && groupAlive(); i++) await new Promise((r) => setTimeout(r, 100));
    if (groupAlive()) console.log(execSync(`ps -o pid,stat,cmd -g ${child.pid}`).toString());
    expect(groupAlive()).toBe(false);
    await expect(fetch(`${ready.issuer}/.well-known/openid-configuration`)).rejects.toThrow();
    await expect(fetch(`${ready.api}/healthz`)).rejects.toThrow();
    expect(existsSync(join(dataDir, 'stack.lock'))).toBe(false);
    expect(stderr.text).toContain('SIGTERM: stopping');
  }, 30_000);
});

describe('startStack', () => {
  it('reports a taken port before starting anything, and leaves nothing behind', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cims-stack-port-'));
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const attempt = startStack({ dataDir, idpPort: 0, apiPort: port, customers: 0 });
      await expect(attempt).rejects.toThrow(PortInUseError);
      await expect(attempt).rejects.toThrow(/CIMS_API_PORT/);
      expect(existsSync(join(dataDir, 'stack.lock'))).toBe(false);
      expect(existsSync(join(dataDir, 'pgdata'))).toBe(false);
    } finally {
      blocker.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
