// The app's cross-cutting behaviour: health, security headers, request ids,
// problem responses, the OpenAPI document, rate limits, what an unreachable
// database or issuer looks like from outside, and logs without secrets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/app';
import { openStore, type PgStore } from '../../src/db/pg-store';
import { seedCustomer } from '../../../testing/db';
import { startTestIssuer } from '../../../testing/issuer';
import { expectProblem, startHarness, versionOf, type Harness } from './harness';

let h: Harness;
const logLines: string[] = [];
const ORG = 'ORG-000040';

beforeAll(async () => {
  // Change streams end after a moment here, so that inject (which waits for the whole body) returns.
  h = await startHarness({ logger: { level: 'info', sink: { write: (line) => void logLines.push(line) } }, live: { maxStreamMs: 100 } });
  await seedCustomer(h.db.admin, { orgId: ORG, ownerSub: 'alice', ownerName: 'Alice Adams', contactEmail: 'sam@initrode.example' });
});
afterAll(() => h?.close());

describe('health', () => {
  it('answers liveness and readiness without a token', async () => {
    for (const url of ['/healthz', '/readyz']) {
      const res = await h.call('none', 'GET', url);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ status: 'ok' });
    }
  });
});

describe('security headers', () => {
  it.each([
    ['a success', '/healthz', 'none', 200],
    ['a refusal', '/v1/customers', 'none', 401],
    ['an unknown path', '/nothing-here', 'none', 404],
  ] as const)('are on %s', async (_what, url, who, status) => {
    const res = await h.call(who, 'GET', url);
    expect(res.statusCode).toBe(status);
    expect(res.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['cross-origin-resource-policy']).toBe('same-origin');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });
});

describe('request ids', () => {
  it('makes one when none is sent, and puts it in the problem', async () => {
    const res = await h.call('none', 'GET', '/v1/me');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(expectProblem(res, 401).requestId).toBe(res.headers['x-request-id']);
  });

  it('answers with its own id, and echoes a plain incoming one beside it, for correlation with the console', async () => {
    const res = await h.call('owner', 'GET', '/v1/me', { headers: { 'x-request-id': 'console-1234abcd' } });
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers['x-client-request-id']).toBe('console-1234abcd');
  });

  it.each([['short'], ['has spaces in it'], ['x'.repeat(65)], ['inject";drop']])('ignores %j', async (id) => {
    const res = await h.call('owner', 'GET', '/v1/me', { headers: { 'x-request-id': id } });
    expect(res.headers['x-request-id']).not.toBe(id);
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers['x-client-request-id']).toBeUndefined();
  });
});

describe('problems', () => {
  it('keeps unknown /v1 paths behind the token check, and says 404 to a signed-in caller', async () => {
    expectProblem(await h.call('none', 'GET', '/v1/admin'), 401);
    expectProblem(await h.call('owner', 'GET', '/v1/admin'), 404);
    expectProblem(await h.call('owner', 'DELETE', `/v1/customers/${ORG}`), 404);
  });

  it('says why a token was refused in WWW-Authenticate', async () => {
    const res = await h.call('expired', 'GET', '/v1/me');
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="cims", error="invalid_token", error_description="The token has expired."',
    );
    const basic = await h.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: 'Basic YWxpY2U6YWxpY2U=' } });
    expect(expectProblem(basic, 401).detail).toMatch(/Bearer/);
  });
});

const EXPECTED_ROUTES = [
  'get /healthz',
  'get /readyz',
  'get /v1/me',
  'get /v1/openapi.json',
  'get /v1/customers',
  'post /v1/customers',
  'get /v1/customers/{orgId}',
  'patch /v1/customers/{orgId}',
  'post /v1/customers/{orgId}/archive',
  'post /v1/customers/{orgId}/unarchive',
  'get /v1/customers/{orgId}/usage',
  'get /v1/customers/{orgId}/predictions',
  'get /v1/customers/{orgId}/audit',
  'get /v1/customers/{orgId}/access',
  'get /v1/portfolio/summary',
  'get /v1/audit/events',
  'get /v1/audit/events.csv',
  'get /v1/audit/verify',
  'get /v1/audit/evidence',
  'get /v1/audit/checkpoints/{seq}',
  'get /v1/audit/access',
  'get /v1/audit/access.csv',
  'get /v1/approval-rules',
  'get /v1/change-requests',
  'get /v1/change-requests/{id}',
  'post /v1/change-requests/{id}/approve',
  'post /v1/change-requests/{id}/reject',
  'post /v1/change-requests/{id}/withdraw',
  'get /v1/self/organization',
  'patch /v1/self/organization',
  'put /v1/self/billing-method',
  'get /v1/events',
  'put /v1/predictions',
  'post /v1/customers/{orgId}/predictions/feedback',
  'get /v1/staff',
  'post /v1/assignments',
];

describe('GET /v1/openapi.json', () => {
  type Op = {
    security: unknown[];
    parameters?: { name: string; in: string; required: boolean }[];
    requestBody?: { content: Record<string, { schema: { additionalProperties?: boolean; properties?: Record<string, unknown> } }> };
    responses: Record<string, { content: Record<string, unknown> }>;
  };
  let doc: { openapi: string; paths: Record<string, Record<string, Op>> };

  beforeAll(async () => {
    const res = await h.call('none', 'GET', '/v1/openapi.json');
    expect(res.statusCode).toBe(200);
    doc = res.json();
  });

  it('lists every route of the API, and only those', () => {
    const listed = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
    expect(doc.openapi).toBe('3.1.0');
    expect(listed.sort()).toEqual([...EXPECTED_ROUTES].sort());
  });

  it('lists only routes that exist', async () => {
    for (const route of EXPECTED_ROUTES) {
      const [method, path] = route.split(' ') as [string, string];
      const res = await h.call('lead', method.toUpperCase() as 'GET', path.replace('{orgId}', ORG), {
        ...(method === 'get' ? {} : { body: {} }),
      });
      expect(res.statusCode, route).not.toBe(404);
    }
  });

  it('describes auth, parameters, strict bodies and the problems of each operation', () => {
    const patch = doc.paths['/v1/customers/{orgId}']!.patch!;
    expect(patch.security).toEqual([{ bearer: [] }]);
    expect(patch.parameters?.map((p) => `${p.in}:${p.name}:${p.required}`)).toEqual(['path:orgId:true', 'header:If-Match:true']);
    const body = patch.requestBody!.content['application/json']!.schema;
    expect(body.additionalProperties).toBe(false);
    // revertOf: the history event an edit reverts ("Revert this change").
    expect(Object.keys(body.properties ?? {})).toEqual(['changes', 'reason', 'revertOf']);
    expect(Object.keys(patch.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403', '404', '412', '428']));
    expect(Object.keys(patch.responses['412']!.content)).toEqual(['application/problem+json']);

    const list = doc.paths['/v1/customers']!.get!;
    expect(list.parameters?.map((p) => p.name)).toEqual(
      expect.arrayContaining(['q', 'owner', 'renewalWithinDays', 'minChurnRisk', 'sort', 'cursor', 'limit']),
    );
    expect(doc.paths['/healthz']!.get!.security).toEqual([]);
    expect(Object.keys(doc.paths['/v1/audit/events.csv']!.get!.responses['200']!.content)).toEqual(['text/csv']);
    expect(Object.keys(doc.paths['/v1/audit/evidence']!.get!.responses['200']!.content)).toEqual(['application/x-ndjson']);
  });
});

describe('logs', () => {
  it('record requests by path and id, but no token, email or search term', async () => {
    const before = logLines.length;
    await h.call('owner', 'GET', `/v1/customers?q=${encodeURIComponent('sam@initrode.example')}`);
    await h.call('owner', 'GET', `/v1/customers/${ORG}`);
    await h.call('owner', 'PATCH', `/v1/customers/${ORG}`, {
      body: { changes: { contactEmail: 'new.contact@initrode.example' }, reason: 'Contact 4111 1111 1111 1111 moved' },
      headers: { 'if-match': `"${await versionOf(h.db, ORG)}"` },
    });
    await h.call('expired', 'GET', '/v1/me');
    const lines = logLines.slice(before);
    // One line per request, written when it completes.
    expect(lines.map((l) => JSON.parse(l) as { msg: string; res?: { statusCode: number } }).map((l) => [l.msg, l.res?.statusCode])).toEqual([
      ['request completed', 200],
      ['request completed', 200],
      // The reason holds a card number: refused (plugins/pan-guard.ts), and logged by path alone like the rest.
      ['request completed', 400],
      ['request completed', 401],
    ]);
    const logged = lines.join('');
    expect(logged).toContain(`/v1/customers/${ORG}`);
    expect(logged).toContain('"statusCode":401');
    expect(logged).not.toMatch(/eyJ[A-Za-z0-9_-]+\./);
    expect(logged).not.toMatch(/bearer/i);
    expect(logged).not.toContain('@');
    expect(logged).not.toContain('initrode');
    expect(logged).not.toContain('4111');
  });
});

describe('rate limit', () => {
  let limited: App;
  beforeAll(async () => {
    limited = await buildApp({ store: h.db.store, audit: h.audit.config, issuer: h.issuer.url, logger: false, rateLimit: { max: 3, timeWindowMs: 60_000 } });
  });
  afterAll(() => limited?.close());
  const get = (token: string | null) =>
    limited.inject({ method: 'GET', url: '/v1/me', headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('counts per verified subject and answers 429 as a problem', async () => {
    for (let i = 0; i < 3; i++) expect((await get(h.tokens.owner)).statusCode).toBe(200);
    const over = await get(h.tokens.owner);
    expectProblem(over, 429);
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    expect((await get(h.tokens.lead)).statusCode).toBe(200);
  });

  it('counts callers without a valid token by address', async () => {
    for (let i = 0; i < 3; i++) expectProblem(await get(null), 401);
    expectProblem(await get(null), 429);
    expectProblem(await get(h.tokens.expired), 429);
  });
});

describe('when a dependency is down', () => {
  let broken: PgStore;
  let noDb: App;
  beforeAll(async () => {
    const url = new URL(h.db.apiUrl);
    url.pathname = '/cims_test_does_not_exist';
    broken = await openStore({ databaseUrl: url.toString(), sealIntervalMs: 0, poolSize: 1 });
    noDb = await buildApp({ store: broken, audit: h.audit.config, issuer: h.issuer.url, logger: false });
  });
  afterAll(async () => {
    await noDb?.close();
    await broken?.close();
  });

  it('readiness says 503 and liveness still 200', async () => {
    expect((await noDb.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expectProblem(await noDb.inject({ method: 'GET', url: '/readyz' }), 503);
  });

  it('a failing database is a 500 that tells nothing about it', async () => {
    const res = await noDb.inject({ method: 'GET', url: '/v1/customers', headers: { authorization: `Bearer ${h.tokens.owner}` } });
    const problem = expectProblem(res, 500);
    expect(problem.detail).toBe('Something went wrong on our side. Quote the request id when reporting it.');
    expect(res.body).not.toMatch(/database|postgres|cims_|does not exist|stack|at /i);
  });

  it('an unreachable issuer is a 503, not a 401', async () => {
    const gone = await startTestIssuer();
    const token = await gone.sign({ sub: 'alice', roles: ['crm'] });
    await gone.close();
    const app = await buildApp({ store: h.db.store, audit: h.audit.config, issuer: gone.url, logger: false });
    try {
      const res = await app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${token}` } });
      expectProblem(res, 503);
      expect(res.headers['retry-after']).toBe('5');
    } finally {
      await app.close();
    }
  });
});
