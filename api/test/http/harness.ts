// One API per test file: a fresh PostgreSQL database with the real store, a
// real test issuer (discovery + JWKS over HTTP), an "evil" issuer for tokens
// the API must refuse, and a token for each kind of caller.
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { buildApp, type App, type BuildAppOptions } from '../../src/app';
import { createTestAudit, type TestAudit } from '../../../testing/audit';
import { actors, createTestDatabase, type TestDatabase } from '../../../testing/db';
import { startTestIssuer, type TestIssuer } from '../../../testing/issuer';

/** The clients the tokens are issued to, as the demo provider names them. */
export const MODEL_RUNNER_CLIENT_ID = 'cims-model-runner';
export const CONSOLE_CLIENT_ID = 'cims-console';
export const PORTAL_CLIENT_ID = 'cims-portal';
/** The organizations the two customer principals' tokens name. */
export const CUSTOMER_ORG = 'ORG-000003';
export const OTHER_CUSTOMER_ORG = 'ORG-000004';

/** Every kind of caller of the authorization matrix. */
export const PRINCIPALS = [
  'none',
  'expired',
  'wrongAudience',
  'wrongIssuer',
  'owner',
  'otherCrm',
  'lead',
  'admin',
  'service',
  'customer',
  'otherCustomer',
] as const;
export type Principal = (typeof PRINCIPALS)[number];
export type ValidPrincipal = 'owner' | 'otherCrm' | 'lead' | 'admin' | 'service' | 'customer' | 'otherCustomer';
/** Customers' contacts, through the portal's client: each reaches /v1/self for their own organization only. */
export const CUSTOMERS: readonly ValidPrincipal[] = ['customer', 'otherCustomer'];
export const HUMANS: readonly ValidPrincipal[] = ['owner', 'otherCrm', 'lead', 'admin'];

export interface Harness {
  db: TestDatabase;
  /** The app's throwaway signing key and checkpoint sink. */
  audit: TestAudit;
  app: App;
  issuer: TestIssuer;
  evil: TestIssuer;
  tokens: Record<Principal, string | null>;
  /** Signs every token again (they expire after 5 minutes), in place: `tokens` stays the same object. */
  renewTokens(): Promise<void>;
  /** Injects a request as `who`, with JSON body and extra headers. */
  call(who: Principal, method: InjectOptions['method'], url: string, opts?: CallOptions): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** Raw payload instead of JSON. */
  payload?: string | Buffer;
}

/** `dbOptions.poolSize`: the store's connections (4 unless a test drives many requests at once). */
export async function startHarness(
  appOptions: Partial<BuildAppOptions> = {},
  dbOptions: { poolSize?: number; approvalRules?: 'seeded' | 'none' } = {},
): Promise<Harness> {
  const [db, issuer, evil] = await Promise.all([createTestDatabase(dbOptions), startTestIssuer('RS256'), startTestIssuer('ES256')]);
  const audit = createTestAudit();
  const app = await buildApp({
    store: db.store,
    audit: audit.config,
    issuer: issuer.url,
    modelRunnerClientId: MODEL_RUNNER_CLIENT_ID,
    portalClientId: PORTAL_CLIENT_ID,
    logger: false,
    ...appOptions,
  });
  const person = (a: { sub: string; name: string; roles: string[] }) =>
    issuer.sign({ sub: a.sub, name: a.name, roles: a.roles, scope: 'openid profile', client_id: CONSOLE_CLIENT_ID });
  const mint = async (): Promise<Record<Principal, string | null>> => {
    const now = Math.floor(Date.now() / 1000);
    return {
      none: null,
      expired: await issuer.sign({ ...actors.alice, scope: 'openid', iat: now - 900, exp: now - 120 }),
      wrongAudience: await issuer.sign({ ...actors.alice, scope: 'openid', aud: 'urn:cims:other' }),
      wrongIssuer: await evil.sign({ ...actors.alice, scope: 'openid' }),
      owner: await person(actors.alice),
      otherCrm: await person(actors.carol),
      lead: await person(actors.bob),
      admin: await person(actors.erin),
      service: await issuer.sign({ sub: actors.modelRunner.sub, scope: 'predictions:write', client_id: MODEL_RUNNER_CLIENT_ID }),
      customer: await customerToken(issuer, CUSTOMER_ORG),
      otherCustomer: await customerToken(issuer, OTHER_CUSTOMER_ORG),
    };
  };
  const tokens = await mint();

  return {
    db,
    audit,
    app,
    issuer,
    evil,
    tokens,
    async renewTokens() {
      Object.assign(tokens, await mint());
    },
    call(who, method, url, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      const token = tokens[who];
      if (token) headers.authorization = `Bearer ${token}`;
      if (opts.body !== undefined) headers['content-type'] ??= 'application/json';
      const payload = opts.payload ?? (opts.body !== undefined ? JSON.stringify(opts.body) : undefined);
      return app.inject({ method, url, headers, ...(payload !== undefined ? { payload } : {}) });
    },
    async close() {
      await app.close();
      await Promise.all([db.drop(), issuer.close(), evil.close()]);
      audit.cleanup();
    },
  };
}

/** A portal token for the contact of `orgId`, as the demo provider issues them. */
export function customerToken(issuer: TestIssuer, orgId: string, extra: Record<string, unknown> = {}): Promise<string> {
  const n = orgId.slice(-6);
  return issuer.sign({ sub: `contact-${n}`, name: `Contact ${n}`, roles: ['customer'], org_id: orgId, scope: 'openid', client_id: PORTAL_CLIENT_ID, ...extra });
}

/** Asserts an RFC 9457 problem response with the request id echoed; returns its body. */
export function expectProblem(res: LightMyRequestResponse, status: number): Record<string, unknown> {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.json() as Record<string, unknown>;
  expect(body).toMatchObject({ status, title: expect.any(String), type: expect.any(String) });
  expect(body.requestId).toBe(res.headers['x-request-id']);
  return body;
}

/** Everything a write could have touched, to compare before and after a refused request. */
export async function dbState(db: TestDatabase): Promise<string> {
  const { rows } = await db.admin.query(
    `SELECT (SELECT coalesce(json_agg(c ORDER BY org_id), '[]') FROM core.customers c) AS customers,
            (SELECT count(*) FROM core.predictions) AS predictions,
            (SELECT count(*) FROM core.prediction_feedback) AS feedback,
            (SELECT count(*) FROM audit.events) AS events`,
  );
  return JSON.stringify(rows[0]);
}

export async function versionOf(db: TestDatabase, orgId: string): Promise<number> {
  const { rows } = await db.admin.query<{ version: number }>('SELECT version FROM core.customers WHERE org_id = $1', [orgId]);
  return rows[0]?.version ?? 0;
}

/**
 * Seals every audit event into the hash chain; true when done. Sealing links
 * only events whose transactions are older than every write transaction still
 * running in the cluster, so on a shared server a long write in some other
 * database holds it back: then this returns false (after `timeoutMs`) and names
 * the blocker in `blockedBy`.
 */
export async function sealAll(db: TestDatabase, timeoutMs = 20_000): Promise<{ sealed: boolean; blockedBy?: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await db.store.sealAudit();
    const { rows } = await db.admin.query<{ n: string }>(
      'SELECT count(*) AS n FROM audit.events e WHERE NOT EXISTS (SELECT 1 FROM audit.chain c WHERE c.event_id = e.id)',
    );
    if (rows[0]?.n === '0') return { sealed: true };
    if (Date.now() > deadline) {
      const blockers = await db.admin.query<{ datname: string; age: string }>(
        `SELECT datname, (now() - xact_start)::text AS age FROM pg_stat_activity
          WHERE backend_xid IS NOT NULL AND datname <> current_database() AND pid <> pg_backend_pid()`,
      );
      const b = blockers.rows[0];
      if (!b) throw new Error(`${rows[0]?.n} audit events still unsealed after ${timeoutMs} ms, and nothing else is writing`);
      return { sealed: false, blockedBy: `a write transaction in database ${b.datname} open for ${b.age}` };
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
